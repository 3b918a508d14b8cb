/*
 * A C program embedding CPython, as an application with a scripting console does. It runs a
 * script that leaves barter_ffi's Arrow capsules alive, finalizes the interpreter (which destroys
 * them, some after barter_ffi's modules are gone), then asks the library, which this program
 * links too, what is still live: nothing must be, and nothing may crash on the way.
 *
 *   embedded_python_host LIBPYTHON CODE
 *
 * Prints "script STATUS, finalized STATUS" and "live MARKET_DATA CURSORS BUFFERS".
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>

#include "barter_ffi.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: embedded_python_host LIBPYTHON CODE\n");
        return 2;
    }
    /* Global, as an embedding host must load it: the interpreter's own extension modules
     * (ctypes, cffi's backend) find its symbols only so. */
    void *python = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    void (*initialize)(void);
    int (*run)(const char *);
    int (*finalize)(void);
    /* POSIX's way to take a function from dlsym (ISO C has no object-to-function cast). */
    *(void **)&initialize = python ? dlsym(python, "Py_Initialize") : NULL;
    *(void **)&run = python ? dlsym(python, "PyRun_SimpleString") : NULL;
    *(void **)&finalize = python ? dlsym(python, "Py_FinalizeEx") : NULL;
    if (!initialize || !run || !finalize) {
        fprintf(stderr, "embedded_python_host: %s\n", dlerror());
        return 2;
    }
    initialize();
    int script = run(argv[2]);
    int finalized = finalize();
    BarterFfiLiveObjects live = {0, 0, 0};
    BarterFfiError error = {BARTER_FFI_STATUS_OK, 0, NULL};
    if (barter_ffi_live_objects(&live, &error) != BARTER_FFI_STATUS_OK) return 2;
    printf("script %d, finalized %d\nlive %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", script, finalized, live.market_data,
           live.cursors, live.buffers);
    return 0;
}
