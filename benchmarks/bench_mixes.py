"""Speed on every mix of kinds, both file shapes: one table per mix, then where the time goes.

    python benchmarks/bench_mixes.py [--count 100000] [--rounds 5] [--mixes mixed,trades,...]

Files come from ``generate.py`` (made if missing, in ``benchmarks/data``). For each mix and
shape, in one process with rounds alternating, the same events are made three ways:

- ``stdlib``: ``json`` + plain classes + ``datetime.fromisoformat`` (``pure_python.load_stdlib``);
- ``msgspec``: msgspec decoding the JSON into typed Structs, JSON Lines in one ``decode_lines``
  call (``pure_python.load_msgspec``): the fastest typed loader we know how to write;
- ``barter-ffi``: ``MarketDataInMemory.from_json_file(path).events()``.

Both pure-Python loaders do barter-ffi's work: datetimes, and book levels kept as decimal text.
Then, per mix (JSON Lines): iteration (``events()`` of a loaded data set) against msgspec's own
ceiling for the same Structs (``msgspec.msgpack.Decoder(list[MarketEvent])`` over the same batch
bytes already in memory), the cost of reading ``event.time_exchange``, and ``events()`` split into
the load, decoding, freeing and closing, against the msgspec way. Medians (min..max).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import msgspec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from pure_python import load_msgspec, load_stdlib  # noqa: E402

from barter_ffi import MarketDataInMemory  # noqa: E402
from barter_ffi._ffi import call, call_returning, ffi, lib, read_buffer  # noqa: E402
from barter_ffi.data import MarketEvent  # noqa: E402

MIXES = ("mixed", "trades", "l1", "nobooks", "bookheavy")


def barter_ffi_events(path: str) -> int:
    with MarketDataInMemory.from_json_file(path) as data:
        return len(data.events())


WAYS: dict[str, Callable[[str], int]] = {
    "stdlib": lambda path: len(load_stdlib(path)),
    "msgspec": lambda path: len(load_msgspec(path)),
    "barter-ffi": barter_ffi_events,
}


def spread(times: list[float]) -> str:
    return f"{statistics.median(times) * 1e3:.0f} ms ({min(times) * 1e3:.0f}..{max(times) * 1e3:.0f})"


def ratio_spread(numerators: list[float], denominators: list[float]) -> str:
    ratios = [n / d for n, d in zip(numerators, denominators)]
    return f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}..{max(ratios):.2f})"


def file_for(mix: str, count: int, suffix: str) -> Path:
    stem = HERE / "data" / f"{mix}_{count}"
    if not stem.with_suffix(suffix).exists():
        generate.write(count, stem, mix)
    return stem.with_suffix(suffix)


def mix_table(mix: str, count: int, rounds: int) -> None:
    print(f"\n### {mix}, {count:,} events\n")
    print("| shape | way | median (min..max) | events/s | barter-ffi is faster by |")
    print("|---|---|---|---|---|")
    for suffix, shape in ((".jsonl", "JSON Lines"), (".json", "JSON array")):
        path = str(file_for(mix, count, suffix))
        times: dict[str, list[float]] = {way: [] for way in WAYS}
        events = 0
        for round_ in range(rounds):
            # Each round starts with another way, so that none always runs in the heap another
            # way has just left; and no way pays for the garbage of the one before.
            order = list(WAYS.items())
            for way, load in order[round_ % len(order):] + order[:round_ % len(order)]:
                gc.collect()
                started = time.perf_counter()
                events = load(path)
                times[way].append(time.perf_counter() - started)
        for way, runs in times.items():
            faster = "" if way == "barter-ffi" else ratio_spread(runs, times["barter-ffi"])
            rate = events / statistics.median(runs)
            print(f"| {shape} | {way} | {spread(runs)} | {rate / 1e6:.2f} M | {faster} |")


def batches_of(data: MarketDataInMemory, size: int = 16_384) -> list[bytes]:
    """The cursor's batches as bytes, as the iteration receives them."""
    cursor = call_returning("BarterFfiCursor *", lib.barter_ffi_cursor_open, data._checked_handle())
    found = []
    try:
        while True:
            buffer = ffi.new("BarterFfiBuffer *")
            call(lib.barter_ffi_cursor_next_batch, cursor, size, buffer)
            batch = read_buffer(buffer, bytes)
            if batch == b"\x90":
                return found
            found.append(batch)
    finally:
        lib.barter_ffi_cursor_free(cursor)


def iteration_and_datetimes(mix: str, count: int, rounds: int) -> str:
    path = file_for(mix, count, ".jsonl")
    ceiling_decoder = msgspec.msgpack.Decoder(list[MarketEvent])
    with MarketDataInMemory.from_json_file(path) as data:
        batches = batches_of(data)
        iterate, ceiling, reads, loop = [], [], [], []
        for _ in range(rounds):
            # Both keep what they decode, and what a round kept is freed outside the timings:
            # decoding into memory just freed (in cache, on the allocator's free lists) would
            # flatter either side.
            started = time.perf_counter()
            events = data.events()
            iterate.append(time.perf_counter() - started)
            started = time.perf_counter()
            decoded = [ceiling_decoder.decode(batch) for batch in batches]
            ceiling.append(time.perf_counter() - started)
            del decoded
            started = time.perf_counter()
            for event in events:
                event.time_exchange
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            for event in events:
                event.time_exchange_ns
            loop.append(time.perf_counter() - started)
            n = len(events)
            del events
    share = [c / i for c, i in zip(ceiling, iterate)]
    per_read = [(r - plain) / n * 1e6 for r, plain in zip(reads, loop)]
    return (
        f"| {mix} | {n / statistics.median(iterate) / 1e6:.2f} M/s | {n / statistics.median(ceiling) / 1e6:.2f} M/s "
        f"| {statistics.median(share):.0%} ({min(share):.0%}..{max(share):.0%}) "
        f"| {statistics.median(per_read):.2f} µs ({min(per_read):.2f}..{max(per_read):.2f}) |"
    )


def where_the_time_goes(mix: str, count: int, rounds: int) -> str:
    """``from_json_file(p).events()`` split into its steps, against the msgspec way, rounds
    alternating: what the load costs, and what building and freeing the Python objects costs,
    which no load can remove."""
    path = str(file_for(mix, count, ".jsonl"))
    steps: dict[str, list[float]] = {step: [] for step in ("load", "events", "free", "close", "msgspec")}
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        data = MarketDataInMemory.from_json_file(path)
        loaded = time.perf_counter()
        events = data.events()
        decoded = time.perf_counter()
        del events
        freed = time.perf_counter()
        data.close()
        closed = time.perf_counter()
        gc.collect()
        msgspec_started = time.perf_counter()
        len(load_msgspec(path))
        msgspec_done = time.perf_counter()
        for step, seconds in zip(steps, (loaded - started, decoded - loaded, freed - decoded, closed - freed,
                                         msgspec_done - msgspec_started)):
            steps[step].append(seconds)
    median = {step: statistics.median(times) * 1e3 for step, times in steps.items()}
    python_objects = median["events"] + median["free"] + median["close"]
    return (
        f"| {mix} | {median['load']:.0f} ms | {median['events']:.0f} ms | {median['free']:.0f} ms "
        f"| {median['close']:.0f} ms | {median['msgspec']:.0f} ms "
        f"| {median['msgspec'] / (median['load'] + python_objects):.2f}× | {median['msgspec'] / python_objects:.2f}× |"
    )


def per_mix_table(title: str, columns: list[str], row: Callable[[str, int, int], str], mixes: list[str], count: int,
                  rounds: int) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for mix in mixes:
        print(row(mix, count, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mixes", default=",".join(MIXES))
    args = parser.parse_args()
    mixes = args.mixes.split(",")
    for mix in mixes:
        mix_table(mix, args.count, args.rounds)
    per_mix_table("Iteration against msgspec's ceiling, and reading a datetime (JSON Lines)",
                  ["mix", "iteration (`events()` of a loaded set)", "msgspec decoding the same batches",
                   "iteration's share of the ceiling", "`event.time_exchange`, per read"],
                  iteration_and_datetimes, mixes, args.count, args.rounds)
    per_mix_table("Where `from_json_file(p).events()` spends its time (JSON Lines, medians)",
                  ["mix", "load", "`events()`", "freeing the events", "`close()`", "msgspec way",
                   "barter-ffi is faster by", "faster by, were the load free"],
                  where_the_time_goes, mixes, args.count, args.rounds)


if __name__ == "__main__":
    main()
