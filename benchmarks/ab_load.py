"""A/B of two builds of the library: each loads the same file, in alternating rounds, in one
process (through ctypes and the C ABI's `barter_ffi_market_data_load_file`, which every version
has).

    python benchmarks/ab_load.py OLD/libbarter_ffi.so NEW/libbarter_ffi.so FILE [ROUNDS]
"""

from __future__ import annotations

import ctypes
import statistics
import sys
import time


def main() -> None:
    old, new, path = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 9
    libraries = {"old": ctypes.CDLL(old), "new": ctypes.CDLL(new)}
    times: dict[str, list[float]] = {name: [] for name in libraries}
    for _ in range(rounds):
        for name, library in libraries.items():
            handle = ctypes.c_void_p()
            start = time.perf_counter()
            status = library.barter_ffi_market_data_load_file(path, ctypes.byref(handle), None)
            times[name].append(time.perf_counter() - start)
            if status != 0:
                sys.exit(f"{name}: load failed with status {status}")
            library.barter_ffi_market_data_free(handle)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values) * 1000:.1f} ms ({min(values) * 1000:.1f}..{max(values) * 1000:.1f})")


if __name__ == "__main__":
    main()
