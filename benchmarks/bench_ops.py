"""Costs of building data sets from others (merge, filter, slices, pickle, from_events) and of
reading one event by index, at the start, middle and end of the data set.

    python benchmarks/generate.py 1000000
    python benchmarks/bench_ops.py benchmarks/data/mixed_1000000.jsonl [--rounds 5]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import time
from pathlib import Path
from typing import Callable

from barter_ffi import MarketDataInMemory, merge


def median_seconds(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    md = MarketDataInMemory.from_json_file(args.file)
    events = len(md)
    half_a, half_b = md.filter(instruments=range(0, 8, 2)), md.filter(instruments=range(1, 8, 2))
    pickled = pickle.dumps(md)
    python_events = md.events()
    rows = [
        ("merge of two halves", lambda: merge(half_a, half_b)),
        ("filter: trades on 2 of 5 exchanges", lambda: md.filter(kinds=["public_trade"], exchanges=["okx", "kraken"])),
        ("filter: a time window", lambda: md.filter(start=python_events[events // 4].time_exchange_ns, end=python_events[events // 2].time_exchange_ns)),
        ("pickle.dumps", lambda: pickle.dumps(md)),
        ("pickle.loads", lambda: pickle.loads(pickled)),
        ("from_events(md.events())", lambda: MarketDataInMemory.from_events(python_events)),
    ]
    print(f"{args.file.name}: {events} market events; {args.rounds} rounds, medians")
    print(f"pickle size: {len(pickled) / 1e6:.1f} MB ({len(pickled) / events:.0f} bytes an event)\n")
    rows += [
        ("slice md[n//4 : n//2]", lambda: md[events // 4 : events // 2]),
        ("slice md[::10]", lambda: md[::10]),
    ]
    print("| operation | seconds | events/s |")
    print("|---|---|---|")
    for name, action in rows:
        seconds = median_seconds(action, args.rounds)
        print(f"| {name} | {seconds:.3f} | {events / seconds:,.0f} |")
    print("\n| md[i] (10,000 reads of one index) | µs a read |")
    print("|---|---|")
    for name, index in (("md[0]", 0), ("md[n // 2]", events // 2), ("md[-1]", -1)):
        seconds = median_seconds(lambda: [md[index] for _ in range(10_000)], args.rounds)
        print(f"| {name} | {seconds / 10_000 * 1e6:.2f} |")


if __name__ == "__main__":
    main()
