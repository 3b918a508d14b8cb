/*
 * A C host reading a barter file larger than it wants to hold, through the file stream: the
 * same batch shape as the cursor, with the library's bounded read-ahead.
 *
 *   stream_host FILE [trades] [STOP_AFTER_BATCHES]
 *
 * Prints "events COUNT" (market events read, every batch decoded only as far as its MessagePack
 * array header) and "bytes READ TOTAL" (the stream's progress), then exits 0 only if every call
 * behaved as documented. "trades" keeps only trades; STOP_AFTER_BATCHES closes the stream
 * mid-file. A failure prints the library's message and its status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barter_ffi.h"
#include "batch_count.h"

static int fail(const char *what, BarterFfiError *error) {
    fprintf(stderr, "%s failed: status %d: %s\n", what, (int)error->status,
            error->message ? error->message : "(no message)");
    barter_ffi_error_free(error);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: stream_host FILE [trades] [STOP_AFTER_BATCHES]\n");
        return 2;
    }
    int trades_only = argc > 2 && strcmp(argv[2], "trades") == 0;
    long stop_after = argc > 2 + trades_only ? strtol(argv[2 + trades_only], NULL, 10) : -1;
    BarterFfiFilter filter;
    memset(&filter, 0, sizeof filter);
    filter.struct_size = sizeof filter;
    filter.kinds = 1u << BARTER_FFI_TAG_TRADE;

    BarterFfiError error = {0};
    BarterFfiFileStream *stream = NULL;
    if (barter_ffi_file_stream_open(argv[1], trades_only ? &filter : NULL, &stream, &error) != BARTER_FFI_STATUS_OK)
        return fail("barter_ffi_file_stream_open", &error);

    int64_t events = 0;
    long batches = 0;
    for (;;) {
        if (stop_after >= 0 && batches == stop_after) break;
        BarterFfiBuffer batch = {0};
        if (barter_ffi_file_stream_next_batch(stream, 4096, &batch, &error) != BARTER_FFI_STATUS_OK) {
            barter_ffi_file_stream_free(stream);
            return fail("barter_ffi_file_stream_next_batch", &error);
        }
        int64_t count = array_length(&batch);
        barter_ffi_buffer_free(&batch);
        if (count < 0) {
            fprintf(stderr, "a batch that is not a MessagePack array\n");
            barter_ffi_file_stream_free(stream);
            return 1;
        }
        if (count == 0) break;
        events += count;
        batches++;
    }
    uint64_t read = 0, total = 0;
    if (barter_ffi_file_stream_progress(stream, &read, &total, &error) != BARTER_FFI_STATUS_OK) {
        barter_ffi_file_stream_free(stream);
        return fail("barter_ffi_file_stream_progress", &error);
    }
    barter_ffi_file_stream_free(stream); /* mid-file too: the reading thread stops */
    printf("events %" PRId64 "\nbytes %" PRIu64 " %" PRIu64 "\n", events, read, total);
    return 0;
}
