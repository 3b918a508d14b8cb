/*
 * A C host that leaks on purpose: it loads FILE and exits without freeing the data set. Under
 * valgrind the leak must be reported whole, the data set's large blocks included (its event
 * vector, which outside valgrind is mapped pages of its own), or valgrind's leak checks would
 * vouch for nothing large. Prints the events loaded.
 *
 *   leaking_host FILE
 */
#include <inttypes.h>
#include <stdio.h>

#include "barter_ffi.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    BarterFfiError error = {BARTER_FFI_STATUS_OK, 0, NULL};
    BarterFfiMarketData *data = NULL;
    uint64_t len = 0;
    if (barter_ffi_market_data_load_file(argv[1], &data, &error) != BARTER_FFI_STATUS_OK ||
        barter_ffi_market_data_len(data, &len, &error) != BARTER_FFI_STATUS_OK) {
        fprintf(stderr, "failed: status %d: %s\n", (int)error.status, error.message ? error.message : "");
        barter_ffi_error_free(&error);
        return 1;
    }
    printf("loaded %" PRIu64 " events, not freed\n", len);
    return 0;
}
