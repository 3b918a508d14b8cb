"""Loads one barter file five ways, in alternating rounds, and prints a table.

    python benchmarks/generate.py 100000                  # makes benchmarks/data/mixed_100000.*
    python benchmarks/bench_load.py benchmarks/data/mixed_100000.jsonl [--rounds 7]

Ways (all on the same file, in one process, rounds alternating so machine noise hits all alike):
  a  stdlib: json + plain classes + datetime.fromisoformat      (benchmarks/pure_python.py)
  b  msgspec decoding the JSON straight into typed Structs      (benchmarks/pure_python.py)
  c  MarketDataInMemory.from_json_file(path).events()
  d  iterating MarketDataInMemory without keeping the events
  e  load only, against barter's own serde_json loader          (rust_core/examples/load_bench.rs)
Peak resident memory is measured per way in a fresh child process. Medians are reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pure_python import load_msgspec, load_stdlib  # noqa: E402

from barter_ffi import MarketDataInMemory  # noqa: E402


def way_c(path: str) -> int:
    return len(MarketDataInMemory.from_json_file(path).events())


def way_d(path: str) -> int:
    count = 0
    for _ in MarketDataInMemory.from_json_file(path):
        count += 1
    return count


def way_load_only(path: str) -> int:
    return len(MarketDataInMemory.from_json_file(path))


WAYS: dict[str, tuple[str, Callable[[str], int]]] = {
    "a": ("stdlib json + classes", lambda path: len(load_stdlib(path))),
    "b": ("msgspec JSON -> Structs", lambda path: len(load_msgspec(path))),
    "c": ("barter-ffi .events()", way_c),
    "d": ("barter-ffi iterate", way_d),
    "load": ("barter-ffi load only", way_load_only),
}


def time_rounds(path: str, rounds: int, ways: list[str]) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way in ways:
            start = time.perf_counter()
            WAYS[way][1](path)
            seconds[way].append(time.perf_counter() - start)
    return seconds


def peak_rss_mb(way: str, path: str) -> float:
    """Peak resident memory of a fresh interpreter that runs one way once.

    Read from the child's own VmHWM: rusage's maxrss would include the parent's size at fork.
    """
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_load; "
        f"bench_load.WAYS[{way!r}][1]({path!r}); print(bench_load.peak_rss_kb())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out) / 1024


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM), in KiB."""
    return _status_kb("VmHWM:")


def reset_peak_rss_kb() -> int:
    """Resets the peak to the current resident memory (Linux clear_refs), and returns it."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS:")


def _status_kb(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(field)))


def iteration_profile(path: str) -> tuple[float, float]:
    """(ms from load end to first event, MB of peak RSS that iterating adds over loaded data)."""
    code = f"""
import sys, time
sys.path.insert(0, {str(HERE)!r})
from bench_load import peak_rss_kb, reset_peak_rss_kb
from barter_ffi import MarketDataInMemory
md = MarketDataInMemory.from_json_file({path!r})
loaded = reset_peak_rss_kb()
start = time.perf_counter()
iterator = iter(md)
next(iterator)
first = time.perf_counter() - start
for _ in iterator:
    pass
print(first * 1e3, (peak_rss_kb() - loaded) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    first_ms, added_mb = map(float, out.split())
    return first_ms, added_mb


def rust_bench(path: str, rounds: int) -> str:
    if shutil.which("cargo") is None:
        return "  (e) skipped: cargo not found"
    manifest = HERE.parent / "rust_core" / "Cargo.toml"
    result = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "load_bench", "--manifest-path", str(manifest), "--", path, str(rounds)],
        capture_output=True, text=True,
    )
    return result.stdout.rstrip() if result.returncode == 0 else f"  (e) failed: {result.stderr[-500:]}"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--skip", default="", help="ways to leave out, e.g. 'a' (slow on big files)")
    args = parser.parse_args()
    path = str(args.file)
    ways = [way for way in WAYS if way not in args.skip]
    events = WAYS["c"][1](path)
    megabytes = args.file.stat().st_size / 1e6

    seconds = time_rounds(path, args.rounds, ways)
    median = {way: statistics.median(times) for way, times in seconds.items()}
    print(f"{args.file.name}: {events} market events, {megabytes:.1f} MB; {machine()}")
    print(f"{args.rounds} alternating rounds, median (min..max) seconds\n")
    print(f"| way | what | seconds | events/s | MB/s | peak RSS MB |")
    print(f"|---|---|---|---|---|---|")
    for way in ways:
        low, high = min(seconds[way]), max(seconds[way])
        print(
            f"| {way} | {WAYS[way][0]} | {median[way]:.3f} ({low:.3f}..{high:.3f}) "
            f"| {events / median[way]:,.0f} | {megabytes / median[way]:.0f} | {peak_rss_mb(way, path):.0f} |"
        )
    print()
    if {"b", "c"} <= set(ways):
        print(f"c vs b (msgspec): {median['b'] / median['c']:.2f}x faster")
    if {"a", "c"} <= set(ways):
        print(f"c vs a (stdlib):  {median['a'] / median['c']:.2f}x faster")
    first_ms, added_mb = iteration_profile(path)
    print(f"d: first event {first_ms:.2f} ms after the load; iterating adds {added_mb:.1f} MB peak RSS over the loaded data")
    print("\n(e) load only, Rust side:")
    print(rust_bench(path, args.rounds))


if __name__ == "__main__":
    main()
