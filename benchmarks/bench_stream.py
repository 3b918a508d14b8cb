"""Streaming a file larger than memory: peak RSS and throughput.

    python benchmarks/bench_stream.py FILE.jsonl [COPIES]

Writes FILE repeated COPIES times (default 16) to a temporary file, then in fresh processes:
streams it with ``iter_json_file`` (iterating every event) and converts it to Parquet, each
reporting the process's whole peak RSS (interpreter and imports included). On FILE itself it compares, in one process with
alternating rounds, ``iter_json_file`` with ``from_json_file`` + iteration.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import barter_ffi

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent's memory.
PEAK = (
    "import re, sys, time, barter_ffi\n"
    "started = time.perf_counter()\n"
    "if sys.argv[2] == 'iterate':\n"
    "    count = sum(1 for _ in barter_ffi.iter_json_file(sys.argv[1]))\n"
    "else:\n"
    "    barter_ffi.iter_json_file(sys.argv[1]).to_parquet(sys.argv[3]); count = 0\n"
    "peak_kb = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
    "print(count, peak_kb / 1024, time.perf_counter() - started)\n"
)


def peak(path: Path, job: str, out: str) -> str:
    result = subprocess.run([sys.executable, "-c", PEAK, str(path), job, out], capture_output=True, text=True, check=True)
    count, megabytes, seconds = result.stdout.split()
    size = path.stat().st_size
    return (f"| {job} | {size / 1e9:.2f} GB | {int(count):,} | {float(megabytes):.0f} MB | {float(seconds):.1f} s "
            f"| {size / 1e6 / float(seconds):.0f} MB/s |")


def throughput(path: Path, rounds: int = 5) -> str:
    times: dict[str, list[float]] = {"stream": [], "whole": []}
    for _ in range(rounds):
        for way in times:
            started = time.perf_counter()
            if way == "stream":
                for _ in barter_ffi.iter_json_file(path):
                    pass
            else:
                with barter_ffi.MarketDataInMemory.from_json_file(path) as data:
                    for _ in data:
                        pass
            times[way].append(time.perf_counter() - started)
    ratios = [whole / stream for stream, whole in zip(times["stream"], times["whole"])]
    return (f"iter_json_file throughput as a share of from_json_file + iteration on {path.name}: "
            f"{statistics.median(ratios):.0%} (min {min(ratios):.0%}, max {max(ratios):.0%}; "
            f"stream {statistics.median(times['stream']):.2f} s, whole {statistics.median(times['whole']):.2f} s)")


def main() -> None:
    source = Path(sys.argv[1])
    copies = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    print(throughput(source))
    with tempfile.TemporaryDirectory() as directory:
        big = Path(directory) / f"{source.stem}_x{copies}.jsonl"
        content = source.read_bytes()
        with open(big, "wb") as file:
            for _ in range(copies):
                file.write(content)
        print("| job | file | events | peak RSS of the process | time | rate |")
        print("|---|---|---|---|---|---|")
        print(peak(big, "iterate", ""))
        print(peak(big, "parquet", str(Path(directory) / "tables")))


if __name__ == "__main__":
    main()
