/*
 * The soak's ways in and out (benchmarks/soak.py) through the C ABI, for valgrind: threads that
 * each work on their own clone of one data set, some ways stopped midway, every call's result
 * checked, and at the end nothing the library handed out still live.
 *
 *   soak_host FILE CYCLES THREADS
 *
 * A cycle runs every way in `ways` once; each stops midway at random (a load cancelled by its
 * progress callback, a cursor or a file stream freed after its first batch, an Arrow stream (a
 * table, a book replay, engine prices) released after its first batch, a from_arrow failing on
 * its second stream, a clone freed unused, a JSON file's write cancelled). Prints "ways RUN MIDWAY" and "live MARKET_DATA
 * CURSORS BUFFERS", and exits 0 only if every call behaved as documented.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "barter_ffi.h"
#include "batch_count.h"

typedef struct {
    BarterFfiMarketData *data; /* this thread's own clone */
    const char *path;
    uint64_t events;
    uint64_t trades;
    uint64_t l2;           /* snapshots and updates: a book replay's rows after each */
    uint64_t trades_and_l1; /* an engine price's rows */
    unsigned random_state;
    int cycles;
    long ways_run, midway;
    int failed;
} Worker;

static int fail(const char *what, BarterFfiError *error) {
    fprintf(stderr, "%s failed: status %d: %s\n", what, (int)error->status,
            error->message ? error->message : "(no message)");
    barter_ffi_error_free(error);
    return 1;
}

static int wrong(const char *what) {
    fprintf(stderr, "%s\n", what);
    return 1;
}

static unsigned below(Worker *worker, unsigned bound) {
    worker->random_state = worker->random_state * 1103515245u + 12345u;
    return (worker->random_state >> 8) % bound;
}

static BarterFfiFilter kinds_filter(uint32_t kinds) {
    BarterFfiFilter filter;
    memset(&filter, 0, sizeof filter);
    filter.struct_size = sizeof filter;
    filter.kinds = kinds;
    return filter;
}

static BarterFfiFilter trades_filter(void) { return kinds_filter(1u << BARTER_FFI_TAG_TRADE); }

/* How many events of `kinds` the data set holds. */
static BarterFfiStatus count_kinds(const BarterFfiMarketData *data, uint32_t kinds, uint64_t *count,
                                   BarterFfiError *error) {
    BarterFfiFilter filter = kinds_filter(kinds);
    BarterFfiMarketData *selected = NULL;
    BarterFfiStatus status = barter_ffi_market_data_filter(data, &filter, &selected, error);
    if (status == BARTER_FFI_STATUS_OK) status = barter_ffi_market_data_len(selected, count, error);
    barter_ffi_market_data_free(selected);
    return status;
}

static int32_t cancel(void *context, uint64_t done, uint64_t total) {
    (void)context, (void)done, (void)total;
    return 1;
}

static int load(Worker *worker, int midway) {
    BarterFfiError error = {0};
    BarterFfiMarketData *loaded = NULL;
    BarterFfiFilter trades = trades_filter();
    int only_trades = (int)below(worker, 2);
    BarterFfiStatus status = barter_ffi_market_data_load_file_filtered(
        worker->path, only_trades ? &trades : NULL, midway ? cancel : NULL, NULL, &loaded, &error);
    if (midway) {
        int cancelled = status == BARTER_FFI_STATUS_CANCELLED && loaded == NULL;
        barter_ffi_error_free(&error);
        return cancelled ? 0 : wrong("a load its progress callback cancelled was not cancelled");
    }
    if (status != BARTER_FFI_STATUS_OK) return fail("load_file_filtered", &error);
    uint64_t events = 0;
    status = barter_ffi_market_data_len(loaded, &events, &error);
    barter_ffi_market_data_free(loaded);
    if (status != BARTER_FFI_STATUS_OK) return fail("len", &error);
    return events == (only_trades ? worker->trades : worker->events) ? 0 : wrong("a load's length is wrong");
}

/* Batches of a cursor, in either layout: all of them (the events counted), or the first only. */
static int cursor(Worker *worker, int midway) {
    BarterFfiError error = {0};
    BarterFfiCursor *opened = NULL;
    if (barter_ffi_cursor_open(worker->data, &opened, &error) != BARTER_FFI_STATUS_OK) return fail("cursor_open", &error);
    int items = (int)below(worker, 2);
    uint64_t events = 0;
    for (;;) {
        BarterFfiBuffer batch = {0};
        BarterFfiStatus status = items ? barter_ffi_cursor_next_items(opened, 1 + below(worker, 3000), &batch, &error)
                                       : barter_ffi_cursor_next_batch(opened, 1 + below(worker, 3000), &batch, &error);
        if (status != BARTER_FFI_STATUS_OK) {
            barter_ffi_cursor_free(opened);
            return fail("cursor_next", &error);
        }
        /* The items layout's end is [[], []] (rust_core/src/output/wire.rs). */
        static const uint8_t items_end[] = {0x92, 0x90, 0x90};
        int64_t count = !items ? array_length(&batch)
                               : !(batch.len == sizeof items_end && memcmp(batch.data, items_end, sizeof items_end) == 0);
        barter_ffi_buffer_free(&batch);
        if (count <= 0 || midway) break;
        events += (uint64_t)count;
    }
    barter_ffi_cursor_free(opened);
    return midway || items || events == worker->events ? 0 : wrong("a cursor's batches hold the wrong count");
}

static int file_stream(Worker *worker, int midway) {
    BarterFfiError error = {0};
    BarterFfiFileStream *stream = NULL;
    BarterFfiFilter trades = trades_filter();
    int only_trades = (int)below(worker, 2);
    if (barter_ffi_file_stream_open(worker->path, only_trades ? &trades : NULL, &stream, &error) != BARTER_FFI_STATUS_OK)
        return fail("file_stream_open", &error);
    uint64_t events = 0;
    for (;;) {
        BarterFfiBuffer batch = {0};
        if (barter_ffi_file_stream_next_batch(stream, 4096, &batch, &error) != BARTER_FFI_STATUS_OK) {
            barter_ffi_file_stream_free(stream);
            return fail("file_stream_next_batch", &error);
        }
        int64_t count = array_length(&batch);
        barter_ffi_buffer_free(&batch);
        if (count <= 0 || midway) break;
        events += (uint64_t)count;
    }
    barter_ffi_file_stream_free(stream);
    uint64_t expected = only_trades ? worker->trades : worker->events;
    return midway || events == expected ? 0 : wrong("a file stream's batches hold the wrong count");
}

/* Reads an Arrow stream's schema and batches (only the first batch midway), counting its rows,
 * and releases it. */
static int read_stream(struct ArrowArrayStream *stream, int midway, uint64_t *rows) {
    struct ArrowSchema schema;
    int result = 0;
    *rows = 0;
    if (stream->get_schema(stream, &schema) != 0) {
        result = wrong(stream->get_last_error(stream));
    } else {
        schema.release(&schema);
        for (;;) {
            struct ArrowArray batch;
            if (stream->get_next(stream, &batch) != 0) {
                result = wrong(stream->get_last_error(stream));
                break;
            }
            if (batch.release == NULL) break;
            *rows += (uint64_t)batch.length;
            batch.release(&batch);
            if (midway) break;
        }
    }
    stream->release(stream);
    return result;
}

static int arrow(Worker *worker, int midway) {
    BarterFfiError error = {0};
    uint32_t table = below(worker, 6), decimals = below(worker, 3);
    uint64_t rows = 0, read = 0;
    struct ArrowArrayStream stream;
    if (barter_ffi_market_data_arrow_rows(worker->data, table, &rows, &error) != BARTER_FFI_STATUS_OK)
        return fail("arrow_rows", &error);
    if (barter_ffi_market_data_arrow_stream(worker->data, table, decimals, &stream, &error) != BARTER_FFI_STATUS_OK)
        return fail("arrow_stream", &error);
    if (read_stream(&stream, midway, &read)) return 1;
    return midway || read == rows ? 0 : wrong("an Arrow stream's batches hold the wrong count");
}

/* Order books replayed (after every L2 event, on a change of the top levels, or every second,
 * any depth and decimals), or barter's engine prices; midway, released after the first batch. */
static int books(Worker *worker, int midway) {
    BarterFfiError error = {0};
    struct ArrowArrayStream stream;
    unsigned which = below(worker, 4);
    uint64_t rows = 0;
    if (which == 3) {
        if (barter_ffi_market_data_engine_prices(worker->data, below(worker, 3), &stream, &error) != BARTER_FFI_STATUS_OK)
            return fail("engine_prices", &error);
        if (read_stream(&stream, midway, &rows)) return 1;
        return midway || rows == worker->trades_and_l1 ? 0 : wrong("engine prices hold the wrong count");
    }
    BarterFfiBookReplayOptions options;
    memset(&options, 0, sizeof options);
    options.struct_size = sizeof options;
    options.depth = 1 + below(worker, 10);
    options.decimals = below(worker, 3);
    options.every = which == 0 ? BARTER_FFI_BOOK_EVERY_EVENT
                    : which == 1 ? BARTER_FFI_BOOK_EVERY_CHANGE
                                 : BARTER_FFI_BOOK_EVERY_INTERVAL;
    options.interval_ns = which == 2 ? 1000000000 : 0;
    if (barter_ffi_market_data_book_replay(worker->data, &options, &stream, &error) != BARTER_FFI_STATUS_OK)
        return fail("book_replay", &error);
    if (read_stream(&stream, midway, &rows)) return 1;
    if (midway || which == 2) return 0;
    if (which == 0 ? rows == worker->l2 : rows > 0 && rows <= worker->l2) return 0;
    return wrong("a book replay holds the wrong count");
}

/* The trades and candles back through Arrow; midway, the trades' stream again under the candles'
 * name, which fails, and both streams must have been released all the same. */
static int from_arrow(Worker *worker, int midway) {
    BarterFfiError error = {0};
    uint32_t tables[] = {BARTER_FFI_ARROW_TABLE_TRADES, BARTER_FFI_ARROW_TABLE_CANDLES};
    struct ArrowArrayStream trades, candles;
    if (barter_ffi_market_data_arrow_stream(worker->data, tables[0], 0, &trades, &error) != BARTER_FFI_STATUS_OK ||
        barter_ffi_market_data_arrow_stream(worker->data, midway ? tables[0] : tables[1], 0, &candles, &error) !=
            BARTER_FFI_STATUS_OK)
        return fail("arrow_stream", &error);
    struct ArrowArrayStream *streams[] = {&trades, &candles};
    BarterFfiMarketData *back = NULL;
    BarterFfiStatus status = barter_ffi_market_data_from_arrow(tables, streams, 2, &back, &error);
    if (trades.release != NULL || candles.release != NULL) return wrong("from_arrow left a stream unreleased");
    if (midway) {
        barter_ffi_error_free(&error);
        return status != BARTER_FFI_STATUS_OK && back == NULL ? 0 : wrong("from_arrow took trades as candles");
    }
    if (status != BARTER_FFI_STATUS_OK) return fail("from_arrow", &error);
    barter_ffi_market_data_free(back);
    return 0;
}

/* A new data set made of the thread's clone, its length checked unless the way stops midway. */
static int derived(Worker *worker, int midway, int which) {
    BarterFfiError error = {0};
    BarterFfiMarketData *made = NULL;
    uint64_t expected = 0, start = below(worker, (unsigned)worker->events), step = 1 + below(worker, 4);
    BarterFfiStatus status;
    if (which == 0) {
        status = barter_ffi_market_data_slice(worker->data, start, worker->events, step, &made, &error);
        expected = (worker->events - start + step - 1) / step;
    } else if (which == 1) {
        const BarterFfiMarketData *both[] = {worker->data, worker->data};
        status = barter_ffi_market_data_merge(both, 2, &made, &error);
        expected = 2 * worker->events;
    } else if (which == 2) {
        BarterFfiFilter trades = trades_filter();
        status = barter_ffi_market_data_filter(worker->data, &trades, &made, &error);
        expected = worker->trades;
    } else {
        status = barter_ffi_market_data_clone(worker->data, &made, &error);
        expected = worker->events;
    }
    if (status != BARTER_FFI_STATUS_OK) return fail("a data set from another", &error);
    uint64_t events = 0;
    if (!midway && barter_ffi_market_data_len(made, &events, &error) != BARTER_FFI_STATUS_OK) {
        barter_ffi_market_data_free(made);
        return fail("len", &error);
    }
    barter_ffi_market_data_free(made);
    return midway || events == expected ? 0 : wrong("a derived data set's length is wrong");
}

static int slice(Worker *worker, int midway) { return derived(worker, midway, 0); }
static int merge(Worker *worker, int midway) { return derived(worker, midway, 1); }
static int filter(Worker *worker, int midway) { return derived(worker, midway, 2); }
static int clone(Worker *worker, int midway) { return derived(worker, midway, 3); }

/* barter JSON and the summary out, and the JSON back in; midway, the buffer is freed unread. */
static int json(Worker *worker, int midway) {
    BarterFfiError error = {0};
    BarterFfiBuffer text = {0}, summary = {0};
    if (barter_ffi_market_data_to_json(worker->data, below(worker, 2), &text, &error) != BARTER_FFI_STATUS_OK)
        return fail("to_json", &error);
    if (barter_ffi_market_data_summary(worker->data, &summary, &error) != BARTER_FFI_STATUS_OK) {
        barter_ffi_buffer_free(&text);
        return fail("summary", &error);
    }
    barter_ffi_buffer_free(&summary);
    BarterFfiMarketData *back = NULL;
    uint64_t events = 0;
    int result = 0;
    if (!midway) {
        if (barter_ffi_market_data_load_bytes(text.data, text.len, "soak", &back, &error) != BARTER_FFI_STATUS_OK ||
            barter_ffi_market_data_len(back, &events, &error) != BARTER_FFI_STATUS_OK)
            result = fail("load_bytes", &error);
        else if (events != worker->events)
            result = wrong("barter JSON read back has the wrong length");
        barter_ffi_market_data_free(back);
    }
    barter_ffi_buffer_free(&text);
    return result;
}

/* barter JSON written to a file beside the recording and loaded back; midway, the write is
 * cancelled by its progress callback, and no file is left. */
static int json_file(Worker *worker, int midway) {
    char target[4096];
    snprintf(target, sizeof target, "%s.%p.jsonl", worker->path, (void *)worker);
    BarterFfiError error = {0};
    BarterFfiStatus status = barter_ffi_market_data_write_json_file_with_progress(
        worker->data, target, below(worker, 2), below(worker, 2) ? BARTER_FFI_COMPRESSION_GZIP : BARTER_FFI_COMPRESSION_NONE,
        midway ? cancel : NULL, NULL, &error);
    if (midway) {
        int cancelled = status == BARTER_FFI_STATUS_CANCELLED && access(target, F_OK) != 0;
        barter_ffi_error_free(&error);
        return cancelled ? 0 : wrong("a JSON write its progress callback cancelled left a file or went on");
    }
    if (status != BARTER_FFI_STATUS_OK) return fail("write_json_file_with_progress", &error);
    BarterFfiMarketData *back = NULL;
    uint64_t events = 0;
    int result = 0;
    if (barter_ffi_market_data_load_file(target, &back, &error) != BARTER_FFI_STATUS_OK ||
        barter_ffi_market_data_len(back, &events, &error) != BARTER_FFI_STATUS_OK)
        result = fail("load_file of the written JSON", &error);
    else if (events != worker->events)
        result = wrong("a JSON file read back has the wrong length");
    barter_ffi_market_data_free(back);
    unlink(target);
    return result;
}

/* Every way in and out, one entry each. */
static int (*const ways[])(Worker *, int) = {load, cursor, file_stream, arrow, from_arrow, books, slice, merge,
                                              filter, clone, json, json_file};
enum { WAY_COUNT = sizeof ways / sizeof ways[0] };

static void *run(void *argument) {
    Worker *worker = argument;
    for (int cycle = 0; cycle < worker->cycles && !worker->failed; cycle++) {
        for (int way = 0; way < WAY_COUNT && !worker->failed; way++) {
            int midway = below(worker, 3) == 0;
            worker->midway += midway;
            worker->ways_run++;
            worker->failed = ways[(way + cycle) % WAY_COUNT](worker, midway);
        }
    }
    barter_ffi_market_data_free(worker->data);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: soak_host FILE CYCLES THREADS\n");
        return 2;
    }
    int cycles = atoi(argv[2]), threads = atoi(argv[3]);
    if (threads < 1 || threads > 64) return wrong("THREADS is 1 to 64");
    BarterFfiError error = {0};
    BarterFfiMarketData *data = NULL;
    uint64_t events = 0, trade_count = 0, l2 = 0, trades_and_l1 = 0;
    if (barter_ffi_market_data_load_file(argv[1], &data, &error) != BARTER_FFI_STATUS_OK ||
        barter_ffi_market_data_len(data, &events, &error) != BARTER_FFI_STATUS_OK ||
        count_kinds(data, 1u << BARTER_FFI_TAG_TRADE, &trade_count, &error) != BARTER_FFI_STATUS_OK ||
        count_kinds(data, 1u << BARTER_FFI_TAG_ORDER_BOOK_SNAPSHOT | 1u << BARTER_FFI_TAG_ORDER_BOOK_UPDATE, &l2,
                    &error) != BARTER_FFI_STATUS_OK ||
        count_kinds(data, 1u << BARTER_FFI_TAG_TRADE | 1u << BARTER_FFI_TAG_ORDER_BOOK_L1, &trades_and_l1, &error) !=
            BARTER_FFI_STATUS_OK)
        return fail("load", &error);
    if (l2 == 0) return wrong("the recording holds no L2 event: the book replay would check nothing");
    Worker workers[64];
    pthread_t running[64];
    for (int number = 0; number < threads; number++) {
        Worker *worker = &workers[number];
        memset(worker, 0, sizeof *worker);
        if (barter_ffi_market_data_clone(data, &worker->data, &error) != BARTER_FFI_STATUS_OK) return fail("clone", &error);
        worker->path = argv[1];
        worker->events = events;
        worker->trades = trade_count;
        worker->l2 = l2;
        worker->trades_and_l1 = trades_and_l1;
        worker->random_state = 17u + (unsigned)number;
        worker->cycles = cycles;
        if (pthread_create(&running[number], NULL, run, worker) != 0) return wrong("pthread_create");
    }
    barter_ffi_market_data_free(data); /* the clones keep the events alive */
    long ways_run = 0, midway = 0;
    int failed = 0;
    for (int number = 0; number < threads; number++) {
        pthread_join(running[number], NULL);
        ways_run += workers[number].ways_run;
        midway += workers[number].midway;
        failed |= workers[number].failed;
    }
    BarterFfiLiveObjects live = {0};
    if (barter_ffi_live_objects(&live, &error) != BARTER_FFI_STATUS_OK) return fail("live_objects", &error);
    printf("ways %ld %ld\nlive %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", ways_run, midway, live.market_data, live.cursors,
           live.buffers);
    return failed || live.market_data || live.cursors || live.buffers;
}
