/*
 * A C host of barter_ffi: load a market-data file, read the first timestamp and the counts,
 * drain the cursor, and free everything, in ROUNDS rounds (a load/iterate/clone/free loop for
 * valgrind). Exits 0 only if every step of every round behaved as documented.
 *
 *   market_data_host FILE EXPECTED_EVENTS [ROUNDS]
 *
 * Batches are MessagePack; this host reads only each batch's array header (enough to count
 * events) so that it needs no MessagePack library.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "barter_ffi.h"

static int fail(const char *what, BarterFfiError *error) {
    fprintf(stderr, "%s failed: status %d: %s\n", what, (int)error->status,
            error->message ? error->message : "(no message)");
    barter_ffi_error_free(error);
    return 1;
}

/* The element count of the MessagePack array that starts a batch. */
static int batch_length(const BarterFfiBuffer *batch, uint64_t *count) {
    if (batch->len == 0) return -1;
    uint8_t marker = batch->data[0];
    if ((marker & 0xF0) == 0x90) { *count = marker & 0x0F; return 0; }
    if (marker == 0xDC && batch->len >= 3) {
        *count = ((uint64_t)batch->data[1] << 8) | batch->data[2];
        return 0;
    }
    if (marker == 0xDD && batch->len >= 5) {
        *count = ((uint64_t)batch->data[1] << 24) | ((uint64_t)batch->data[2] << 16) |
                 ((uint64_t)batch->data[3] << 8) | batch->data[4];
        return 0;
    }
    return -1;
}

static int run_once(const char *path, uint64_t expected) {
    BarterFfiError error = {BARTER_FFI_STATUS_OK, 0, NULL};

    uint32_t abi = 0;
    if (barter_ffi_abi_version(&abi, &error) != BARTER_FFI_STATUS_OK) return fail("abi_version", &error);
    if (abi != BARTER_FFI_ABI_VERSION) {
        fprintf(stderr, "library speaks C ABI %" PRIu32 ", this host was built for %d\n", abi, BARTER_FFI_ABI_VERSION);
        return 1;
    }
    const char *version = NULL;
    if (barter_ffi_version(&version, &error) != BARTER_FFI_STATUS_OK) return fail("version", &error);

    BarterFfiMarketData *data = NULL;
    if (barter_ffi_market_data_load_file(path, &data, &error) != BARTER_FFI_STATUS_OK)
        return fail("load_file", &error);

    int64_t first_ns = 0;
    BarterFfiLoadStats stats = {0};
    uint64_t len = 0;
    if (barter_ffi_market_data_time_first_event_ns(data, &first_ns, &error) != BARTER_FFI_STATUS_OK)
        return fail("time_first_event_ns", &error);
    if (barter_ffi_market_data_stats(data, &stats, &error) != BARTER_FFI_STATUS_OK)
        return fail("stats", &error);
    if (barter_ffi_market_data_len(data, &len, &error) != BARTER_FFI_STATUS_OK)
        return fail("len", &error);

    /* A clone shares the data; the cursor keeps it alive after both handles are freed. */
    BarterFfiMarketData *clone = NULL;
    if (barter_ffi_market_data_clone(data, &clone, &error) != BARTER_FFI_STATUS_OK)
        return fail("clone", &error);
    BarterFfiCursor *cursor = NULL;
    if (barter_ffi_cursor_open(clone, &cursor, &error) != BARTER_FFI_STATUS_OK)
        return fail("cursor_open", &error);
    barter_ffi_market_data_free(clone);
    barter_ffi_market_data_free(data);

    uint64_t drained = 0, batches = 0, count = 0;
    do {
        BarterFfiBuffer batch = {0};
        if (barter_ffi_cursor_next_batch(cursor, 4, &batch, &error) != BARTER_FFI_STATUS_OK)
            return fail("cursor_next_batch", &error);
        int malformed = batch_length(&batch, &count);
        barter_ffi_buffer_free(&batch);
        if (malformed) { fprintf(stderr, "batch does not start with an array\n"); return 1; }
        drained += count;
        batches += count > 0;
    } while (count > 0);
    barter_ffi_cursor_free(cursor);

    /* Errors are reported, not crashed on, and one error struct serves many calls. */
    BarterFfiMarketData *missing = NULL;
    BarterFfiStatus status = barter_ffi_market_data_load_file("/nonexistent/barter.json", &missing, &error);
    status = barter_ffi_market_data_load_file(NULL, &missing, &error);
    int errors_ok = status == BARTER_FFI_STATUS_NULL_ARGUMENT && missing == NULL && error.message != NULL;
    barter_ffi_error_free(&error);
    barter_ffi_market_data_free(NULL);

    BarterFfiLiveObjects live = {0};
    if (barter_ffi_live_objects(&live, &error) != BARTER_FFI_STATUS_OK) return fail("live_objects", &error);

    printf("barter_ffi %s\n", version);
    printf("time_first_event_ns %" PRId64 "\n", first_ns);
    printf("market_events %" PRIu64 " reconnects %" PRIu64 " errors_skipped %" PRIu64 "\n",
           stats.market_events, stats.reconnects, stats.errors_skipped);
    printf("drained %" PRIu64 " events in %" PRIu64 " batches\n", drained, batches);
    printf("live %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", live.market_data, live.cursors, live.buffers);

    int ok = len == expected && stats.market_events == expected && drained == expected && errors_ok &&
             live.market_data == 0 && live.cursors == 0 && live.buffers == 0;
    if (!ok) fprintf(stderr, "unexpected results\n");
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s FILE EXPECTED_EVENTS [ROUNDS]\n", argv[0]);
        return 2;
    }
    uint64_t expected = strtoull(argv[2], NULL, 10);
    long rounds = argc == 4 ? strtol(argv[3], NULL, 10) : 1;
    for (long round = 0; round < rounds; round++) {
        int failed = run_once(argv[1], expected);
        if (failed) return failed;
    }
    return 0;
}
