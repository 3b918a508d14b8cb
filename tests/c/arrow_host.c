/*
 * A C host reading barter's events as values through the Arrow C Stream interface, with no
 * MessagePack and no Arrow library: only the structs barter_ffi.h declares.
 *
 *   arrow_host FILE [ROUNDS]
 *
 * Prints, for the test to compare with the events it reads itself:
 *   trades COUNT PRICE_SUM FIRST_TIME_EXCHANGE_NS LAST_TIME_EXCHANGE_NS
 *   l2 FIRST_PRICE_UNSCALED FORMAT
 *   from_arrow COUNT
 * and exits 0 only if every call behaved as documented. Each round frees the handle before
 * reading its stream: a stream holds its own reference to the data.
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

/* The index of the column called `name` whose format is `format`, or -1. */
static int64_t column(const struct ArrowSchema *schema, const char *name, const char *format) {
    for (int64_t i = 0; i < schema->n_children; i++) {
        const struct ArrowSchema *child = schema->children[i];
        if (strcmp(child->name, name) == 0 && strncmp(child->format, format, strlen(format)) == 0) return i;
    }
    fprintf(stderr, "no column %s of format %s\n", name, format);
    return -1;
}

/* Sums the trades' prices and reads the first and last exchange times, batch by batch. */
static int read_trades(struct ArrowArrayStream *stream, int print) {
    struct ArrowSchema schema;
    if (stream->get_schema(stream, &schema) != 0) return 1;
    int64_t price = column(&schema, "price", "g"), time = column(&schema, "time_exchange", "tsn:UTC");
    schema.release(&schema);
    if (price < 0 || time < 0) return 1;
    uint64_t count = 0;
    double sum = 0.0;
    int64_t first = 0, last = 0;
    for (;;) {
        struct ArrowArray batch;
        if (stream->get_next(stream, &batch) != 0) {
            fprintf(stderr, "get_next: %s\n", stream->get_last_error(stream));
            return 1;
        }
        if (batch.release == NULL) break; /* the end */
        const struct ArrowArray *prices = batch.children[price], *times = batch.children[time];
        const double *price_values = (const double *)prices->buffers[1] + prices->offset;
        const int64_t *time_values = (const int64_t *)times->buffers[1] + times->offset;
        for (int64_t row = 0; row < batch.length; row++) sum += price_values[row];
        if (batch.length > 0) {
            if (count == 0) first = time_values[0];
            last = time_values[batch.length - 1];
        }
        count += (uint64_t)batch.length;
        batch.release(&batch);
    }
    if (print) printf("trades %" PRIu64 " %.17g %" PRId64 " %" PRId64 "\n", count, sum, first, last);
    return 0;
}

/* The first L2 level's price as decimal128: its unscaled value and the column's format. */
static int read_first_level(struct ArrowArrayStream *stream, int print) {
    struct ArrowSchema schema;
    if (stream->get_schema(stream, &schema) != 0) return 1;
    int64_t price = column(&schema, "price", "d:38,");
    char format[32] = "";
    if (price >= 0) snprintf(format, sizeof format, "%s", schema.children[price]->format);
    schema.release(&schema);
    struct ArrowArray batch;
    if (price < 0 || stream->get_next(stream, &batch) != 0 || batch.release == NULL) return 1;
    const struct ArrowArray *prices = batch.children[price];
    /* decimal128: 16 bytes, two's complement, little-endian; the fixture's fits the low half. */
    const uint8_t *bytes = (const uint8_t *)prices->buffers[1] + 16 * prices->offset;
    int64_t unscaled;
    memcpy(&unscaled, bytes, sizeof unscaled);
    if (print) printf("l2 %" PRId64 " %s\n", unscaled, format);
    batch.release(&batch);
    return 0;
}

static int run_once(const char *path, int print) {
    BarterFfiError error = {BARTER_FFI_STATUS_OK, 0, NULL};
    struct BarterFfiMarketData *md = NULL;
    if (barter_ffi_market_data_load_file(path, &md, &error) != BARTER_FFI_STATUS_OK) return fail("load_file", &error);

    struct ArrowArrayStream trades, trades_again, l2;
    if (barter_ffi_market_data_arrow_stream(md, BARTER_FFI_ARROW_TABLE_TRADES, BARTER_FFI_ARROW_DECIMALS_DECIMAL128,
                                            &trades, &error) != BARTER_FFI_STATUS_OK ||
        barter_ffi_market_data_arrow_stream(md, BARTER_FFI_ARROW_TABLE_TRADES, BARTER_FFI_ARROW_DECIMALS_FLOAT64,
                                            &trades_again, &error) != BARTER_FFI_STATUS_OK ||
        barter_ffi_market_data_arrow_stream(md, BARTER_FFI_ARROW_TABLE_L2, BARTER_FFI_ARROW_DECIMALS_DECIMAL128, &l2,
                                            &error) != BARTER_FFI_STATUS_OK)
        return fail("arrow_stream", &error);
    struct ArrowArrayStream unused;
    if (barter_ffi_market_data_arrow_stream(md, 99, BARTER_FFI_ARROW_DECIMALS_TEXT, &unused, &error) !=
        BARTER_FFI_STATUS_INVALID_ARGUMENT) {
        fprintf(stderr, "an unknown table was not refused\n");
        return 1;
    }
    barter_ffi_market_data_free(md); /* the streams hold their own reference */

    if (read_trades(&trades, print) != 0 || read_first_level(&l2, print) != 0) return 1;
    trades.release(&trades);
    l2.release(&l2);

    /* Back again: barter's events from the trades table; the call takes the stream. */
    uint32_t table = BARTER_FFI_ARROW_TABLE_TRADES;
    struct ArrowArrayStream *streams[] = {&trades_again};
    struct BarterFfiMarketData *rebuilt = NULL;
    uint64_t count = 0;
    if (barter_ffi_market_data_from_arrow(&table, streams, 1, &rebuilt, &error) != BARTER_FFI_STATUS_OK)
        return fail("from_arrow", &error);
    if (trades_again.release != NULL) {
        fprintf(stderr, "from_arrow left the stream unreleased\n");
        return 1;
    }
    if (barter_ffi_market_data_len(rebuilt, &count, &error) != BARTER_FFI_STATUS_OK) return fail("len", &error);
    if (print) printf("from_arrow %" PRIu64 "\n", count);
    barter_ffi_market_data_free(rebuilt);
    barter_ffi_error_free(&error);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [ROUNDS]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    for (int round = 0; round < rounds; round++) {
        if (run_once(argv[1], round == 0) != 0) return 1;
    }
    return 0;
}
