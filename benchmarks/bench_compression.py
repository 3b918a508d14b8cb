"""Loading the same events from plain, gzip, zstd and bzip2 files, side by side.

    python benchmarks/bench_compression.py FILE.jsonl [ROUNDS]

Writes FILE's events compressed each way with ``to_json_file`` (gzip and bzip2 at their default
levels, zstd at 3), then times ``from_json_file`` on each in alternating rounds in this process,
and prints a Markdown table: size on disk, median load time (min..max), and the time relative
to the plain file.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from barter_ffi import MarketDataInMemory

FORMATS = {"plain": None, "gzip": "gzip", "zstd": "zstd", "bzip2": "bz2"}


def main() -> None:
    source = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as directory, MarketDataInMemory.from_json_file(source) as data:
        files = {}
        for name, compression in FORMATS.items():
            files[name] = Path(directory) / f"{source.stem}.{name}"
            data.to_json_file(files[name], compression=compression)  # type: ignore[arg-type]
        times: dict[str, list[float]] = {name: [] for name in files}
        for _ in range(rounds):
            for name, path in files.items():
                started = time.perf_counter()
                with MarketDataInMemory.from_json_file(path) as loaded:
                    assert len(loaded) == len(data)
                times[name].append(time.perf_counter() - started)
        plain = statistics.median(times["plain"])
        print(f"{len(data):,} events of {source.name}, {rounds} alternating rounds\n")
        print("| file | size on disk | load, median (min..max) | vs plain |")
        print("|---|---|---|---|")
        for name, path in files.items():
            runs = times[name]
            print(f"| {name} | {path.stat().st_size / 1e6:.0f} MB | {statistics.median(runs):.2f} s "
                  f"({min(runs):.2f}..{max(runs):.2f}) | {statistics.median(runs) / plain:.2f}× |")


if __name__ == "__main__":
    main()
