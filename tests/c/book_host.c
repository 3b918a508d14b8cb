/*
 * A C host reading the top of barter's replayed order books through the Arrow C Stream
 * interface, with only the structs barter_ffi.h declares.
 *
 *   book_host FILE [INTERVAL_NS]
 *
 * Replays FILE's books (depth 1, decimal128, every event; or on a grid of INTERVAL_NS) from a
 * loaded data set, then again from a file stream, which must give the same rows, and prints:
 *   scales PRICE_SCALE AMOUNT_SCALE
 *   row TIME_NS EVENT_INDEX BID_PRICE BID_AMOUNT ASK_PRICE ASK_AMOUNT SYNCED
 * each decimal as its unscaled integer, "-" for null. Exits 0 only if every call behaved as
 * documented: bad options refused with their status, streams outliving their handles, every
 * struct released.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barter_ffi.h"

static int fail(const char *what, BarterFfiError *error) {
    fprintf(stderr, "%s failed: status %d: %s\n", what, (int)error->status,
            error->message ? error->message : "(no message)");
    barter_ffi_error_free(error);
    return 1;
}

enum { TIME, EVENT_INDEX, BID_PRICE, BID_AMOUNT, ASK_PRICE, ASK_AMOUNT, SYNCED, COLUMNS };
static const char *const NAMES[COLUMNS] = {"time",         "event_index", "bid_price_0", "bid_amount_0",
                                           "ask_price_0",  "ask_amount_0", "synced"};
static const char *const FORMATS[COLUMNS] = {"tsn:UTC", "L", "d:38,", "d:38,", "d:38,", "d:38,", "b"};

/* One row's top of book; `present` has a bit per decimal column that is not null. */
typedef struct {
    int64_t time, event_index, values[4];
    int present, synced;
} Row;

typedef struct {
    Row *rows;
    size_t len, capacity;
    int scales[2];
} Rows;

static int is_valid(const struct ArrowArray *array, int64_t row) {
    const uint8_t *bitmap = (const uint8_t *)array->buffers[0];
    int64_t bit = array->offset + row;
    return bitmap == NULL || (bitmap[bit / 8] >> (bit % 8)) & 1;
}

/* decimal128 is 16 bytes, little-endian two's complement: these values fit the low half. */
static int64_t decimal_low(const struct ArrowArray *array, int64_t row) {
    int64_t value;
    memcpy(&value, (const uint8_t *)array->buffers[1] + 16 * (array->offset + row), sizeof value);
    return value;
}

/* Finds the columns by name and format; the decimal columns' scales go to `scales`. */
static int find_columns(struct ArrowArrayStream *stream, int64_t index[COLUMNS], int scales[2]) {
    struct ArrowSchema schema;
    if (stream->get_schema(stream, &schema) != 0) return 1;
    int found = 0;
    for (int c = 0; c < COLUMNS; c++) {
        index[c] = -1;
        for (int64_t i = 0; i < schema.n_children; i++) {
            const struct ArrowSchema *child = schema.children[i];
            if (strcmp(child->name, NAMES[c]) == 0 && strncmp(child->format, FORMATS[c], strlen(FORMATS[c])) == 0) {
                index[c] = i;
                found++;
                if (c == BID_PRICE || c == BID_AMOUNT) scales[c - BID_PRICE] = atoi(strrchr(child->format, ',') + 1);
            }
        }
    }
    schema.release(&schema);
    if (found != COLUMNS) fprintf(stderr, "the schema lacks a column\n");
    return found != COLUMNS;
}

/* Reads every batch of `stream` into `out`, then releases the stream. */
static int read_rows(struct ArrowArrayStream *stream, Rows *out) {
    int64_t index[COLUMNS];
    int status = find_columns(stream, index, out->scales);
    while (status == 0) {
        struct ArrowArray batch;
        if (stream->get_next(stream, &batch) != 0) {
            fprintf(stderr, "get_next: %s\n", stream->get_last_error(stream));
            status = 1;
            break;
        }
        if (batch.release == NULL) break; /* the end */
        for (int64_t row = 0; row < batch.length; row++) {
            if (out->len == out->capacity) {
                out->capacity = out->capacity ? 2 * out->capacity : 64;
                Row *grown = realloc(out->rows, out->capacity * sizeof *grown);
                if (grown == NULL) return 1;
                out->rows = grown;
            }
            Row *r = &out->rows[out->len++];
            const struct ArrowArray *const *columns = (const struct ArrowArray *const *)batch.children;
            const struct ArrowArray *time = columns[index[TIME]], *event = columns[index[EVENT_INDEX]];
            r->time = ((const int64_t *)time->buffers[1])[time->offset + row];
            r->event_index = (int64_t)((const uint64_t *)event->buffers[1])[event->offset + row];
            r->present = 0;
            for (int d = 0; d < 4; d++) {
                const struct ArrowArray *column = columns[index[BID_PRICE + d]];
                r->values[d] = is_valid(column, row) ? decimal_low(column, row) : 0;
                r->present |= is_valid(column, row) << d;
            }
            const struct ArrowArray *synced = columns[index[SYNCED]];
            int64_t bit = synced->offset + row;
            r->synced = (((const uint8_t *)synced->buffers[1])[bit / 8] >> (bit % 8)) & 1;
        }
        batch.release(&batch);
    }
    stream->release(stream);
    return status;
}

static BarterFfiBookReplayOptions options_for(int64_t interval_ns) {
    BarterFfiBookReplayOptions options;
    memset(&options, 0, sizeof options); /* zeros are the defaults */
    options.struct_size = sizeof options;
    options.depth = 1;
    if (interval_ns > 0) {
        options.every = BARTER_FFI_BOOK_EVERY_INTERVAL;
        options.interval_ns = interval_ns;
    }
    return options;
}

static int from_data_set(const char *path, int64_t interval_ns, Rows *out) {
    BarterFfiError error = {BARTER_FFI_STATUS_OK, 0, NULL};
    BarterFfiMarketData *md = NULL;
    if (barter_ffi_market_data_load_file(path, &md, &error) != BARTER_FFI_STATUS_OK) return fail("load", &error);
    BarterFfiBookReplayOptions options = options_for(interval_ns);
    struct ArrowArrayStream stream;
    stream.release = NULL;
    options.struct_size = 8; /* as if from a header that knew no such options */
    if (barter_ffi_market_data_book_replay(md, &options, &stream, &error) != BARTER_FFI_STATUS_INVALID_ARGUMENT ||
        stream.release != NULL) {
        fprintf(stderr, "a short struct_size was not refused, or the stream was written\n");
        return 1;
    }
    options = options_for(interval_ns);
    options.layout = 7;
    if (barter_ffi_market_data_book_replay(md, &options, &stream, &error) != BARTER_FFI_STATUS_INVALID_ARGUMENT) {
        fprintf(stderr, "an unknown layout was not refused\n");
        return 1;
    }
    if (barter_ffi_market_data_book_replay(md, NULL, &stream, &error) != BARTER_FFI_STATUS_NULL_ARGUMENT) {
        fprintf(stderr, "NULL options were not refused\n");
        return 1;
    }
    options = options_for(interval_ns);
    if (barter_ffi_market_data_book_replay(md, &options, &stream, &error) != BARTER_FFI_STATUS_OK)
        return fail("book_replay", &error);
    barter_ffi_market_data_free(md); /* the stream holds its own reference */
    barter_ffi_error_free(&error);
    return read_rows(&stream, out);
}

static int from_file_stream(const char *path, int64_t interval_ns, Rows *out) {
    BarterFfiError error = {BARTER_FFI_STATUS_OK, 0, NULL};
    BarterFfiFileStream *file = NULL;
    if (barter_ffi_file_stream_open(path, NULL, &file, &error) != BARTER_FFI_STATUS_OK) return fail("open", &error);
    BarterFfiBookReplayOptions options = options_for(interval_ns);
    struct ArrowArrayStream stream;
    if (barter_ffi_file_stream_book_replay(file, &options, &stream, &error) != BARTER_FFI_STATUS_OK)
        return fail("file_stream_book_replay", &error);
    barter_ffi_file_stream_free(file); /* the replay took the rest of the file */
    return read_rows(&stream, out);
}

static void print_decimal(const Row *row, int d) {
    if (row->present >> d & 1)
        printf(" %" PRId64, row->values[d]);
    else
        printf(" -");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [INTERVAL_NS]\n", argv[0]);
        return 2;
    }
    int64_t interval_ns = argc > 2 ? strtoll(argv[2], NULL, 10) : 0;
    Rows loaded = {NULL, 0, 0, {0, 0}}, streamed = {NULL, 0, 0, {0, 0}};
    int status = from_data_set(argv[1], interval_ns, &loaded) || from_file_stream(argv[1], interval_ns, &streamed);
    if (status == 0 && (loaded.len != streamed.len ||
                        (loaded.len && memcmp(loaded.rows, streamed.rows, loaded.len * sizeof(Row)) != 0))) {
        fprintf(stderr, "the file stream's rows differ from the data set's\n");
        status = 1;
    }
    if (status == 0) {
        printf("scales %d %d\n", loaded.scales[0], loaded.scales[1]);
        for (size_t i = 0; i < loaded.len; i++) {
            const Row *row = &loaded.rows[i];
            printf("row %" PRId64 " %" PRId64, row->time, row->event_index);
            for (int d = 0; d < 4; d++) print_decimal(row, d);
            printf(" %d\n", row->synced);
        }
    }
    free(loaded.rows);
    free(streamed.rows);
    return status;
}
