"""Soak: every way into and out of the library, cycled on threads that each work on their own
clones, with a random subset stopped midway, while resident memory and the library's live
objects are watched.

    python benchmarks/soak.py [--cycles 2000] [--threads 4] [--events 5000] [--seed 1]

A cycle runs every way in ``WAYS`` once, in a random order, and stops about a third of them
midway: a load cancelled by its progress callback, an iteration abandoned, an Arrow stream
released after its first batch, a file stream closed mid-file, a book replay read for one batch
or dropped unread, a from_arrow that fails on its second table, a clone closed unused. Each way
checks what it read against the data set it came from, so a wrong value fails the soak as a leak
does. At the end it prints the slope of resident memory against cycles after the warm-up (a
fifth of the run), and the library's live objects, which must be back to zero.
``tests/test_soak.py`` runs a short soak in CI; the C ABI's ways run
under valgrind in ``tests/c/soak_host.c``.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import pickle
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pyarrow as pa

from barter_ffi import MarketDataError, MarketDataInMemory, iter_json_file, merge
from barter_ffi._ffi import live_objects
from barter_ffi.arrow import TABLES

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402  (benchmarks/generate.py, beside this file)


class _Stop(Exception):
    """Raised by a progress callback to cancel a load midway."""


@dataclass
class Files:
    """The soak's inputs: one recording in both shapes, and a larger file of several 8 MiB
    stream pieces, for streams closed while their reading thread is mid-file."""

    lines: Path
    array: Path
    large: Path

    @classmethod
    def write(cls, directory: Path, events: int) -> "Files":
        lines, array = generate.write(events, directory / "soak")
        large = directory / "large.jsonl"
        text = lines.read_bytes()
        large.write_bytes(text * (1 + (20 << 20) // len(text)))
        return cls(lines, array, large)


@dataclass
class Worker:
    """One thread's state: its own clone of the data set, and what each way checks against."""

    md: MarketDataInMemory
    files: Files
    rng: random.Random
    length: int
    rows: dict[str, int]
    trades: int
    replay_rows: list[int]
    engine_price_rows: int
    first_events: list = field(default_factory=list)


Way = Callable[[Worker, bool], None]


def load(worker: Worker, midway: bool) -> None:
    path = worker.rng.choice([worker.files.lines, worker.files.array])
    kinds = worker.rng.choice([None, ["public_trade"]])
    if midway:
        def cancel(done: int, total: int) -> None:
            raise _Stop

        try:
            MarketDataInMemory.from_json_file(path, kinds=kinds, progress=cancel)
        except _Stop:
            return
        raise AssertionError("a load whose progress callback raised was not cancelled")
    if worker.rng.random() < 0.5:
        loaded = MarketDataInMemory.from_json_file(path, kinds=kinds)
    else:
        loaded = MarketDataInMemory.from_json_bytes(path.read_bytes(), kinds=kinds)
    with loaded:
        assert len(loaded) == (worker.trades if kinds else worker.length)


def events(worker: Worker, midway: bool) -> None:
    if midway:
        wanted, taken = worker.rng.randint(1, len(worker.first_events)), []
        for event in worker.md:
            taken.append(event)
            if len(taken) == wanted:
                break
        assert taken == worker.first_events[:wanted]
        return
    assert len(worker.md.events()) == worker.length


def to_arrow(worker: Worker, midway: bool) -> None:
    table = worker.rng.choice(list(TABLES))
    decimals = worker.rng.choice(["decimal128", "float64", "text"])
    reader = pa.RecordBatchReader.from_stream(worker.md.to_arrow(table, decimals=decimals))
    if midway:
        if worker.rows[table]:
            assert reader.read_next_batch().num_rows > 0
        reader.close()
        return
    assert reader.read_all().num_rows == worker.rows[table]


def from_arrow(worker: Worker, midway: bool) -> None:
    tables = worker.md.tables(decimals=worker.rng.choice(["decimal128", "text"]))
    if midway:
        # The second table is the trades' again under the candles' name: the import fails on it.
        try:
            MarketDataInMemory.from_arrow({"trades": tables["trades"], "candles": worker.md.to_arrow("trades")})
        except MarketDataError:
            return
        raise AssertionError("from_arrow took a trades table as candles")
    with MarketDataInMemory.from_arrow(tables) as back:
        assert len(back) == worker.length


def stream(worker: Worker, midway: bool) -> None:
    if midway:
        path = worker.rng.choice([worker.files.lines, worker.files.large])
        with iter_json_file(path) as opened:
            events = iter(opened)
            for _ in range(worker.rng.randint(1, min(1000, worker.length))):
                next(events)
        return
    kinds = worker.rng.choice([None, ["public_trade"]])
    count = sum(1 for _ in iter_json_file(worker.rng.choice([worker.files.lines, worker.files.array]), kinds=kinds))
    assert count == (worker.trades if kinds else worker.length)


def slices(worker: Worker, midway: bool) -> None:
    start, stop = sorted(worker.rng.randrange(worker.length + 1) for _ in range(2))
    step = worker.rng.randint(1, 5)
    with worker.md[start:stop:step] as part:
        if midway:
            return
        assert len(part) == len(range(start, stop, step))
        if len(part):
            assert part[0] == worker.md[start] and part[-1] == worker.md[range(start, stop, step)[-1]]


def merged(worker: Worker, midway: bool) -> None:
    with worker.md[::2] as half, merge(worker.md, half) as both:
        expected = worker.length + (worker.length + 1) // 2
        if midway:
            assert next(iter(both)).time_exchange_ns > 0
            return
        assert len(both.events()) == expected


def clone(worker: Worker, midway: bool) -> None:
    with worker.md.clone() as copy:
        if midway:
            return
        index = worker.rng.randrange(worker.length)
        assert copy[index] == worker.md[index] and copy.summary() == worker.md.summary()


def pickled(worker: Worker, midway: bool) -> None:
    start = worker.rng.randrange(worker.length)
    with worker.md[start : start + 500] as part:
        if midway:
            return
        with pickle.loads(pickle.dumps(part)) as back:
            assert back.events() == part.events() and back.stats == part.stats


# The book replays the soak runs: every L2 event, on a change, on a time grid; each layout and
# decimal form.
BOOK_REPLAYS = [
    {"depth": 10},
    {"depth": 3, "every": "change", "decimals": "float64", "layout": "lists"},
    {"depth": 5, "every": "100ms", "decimals": "float64", "clock": "received"},
]


def book_replay(worker: Worker, midway: bool) -> None:
    """A book replay of the thread's clone or of the recording's file stream (read once), or
    barter's engine prices; midway, released after its first batch, or dropped unread."""
    choice = worker.rng.randrange(len(BOOK_REPLAYS) + 1)
    with iter_json_file(worker.files.lines) as opened:
        if choice == len(BOOK_REPLAYS):
            result, rows = worker.md.engine_prices(decimals=worker.rng.choice(["decimal128", "float64"])), \
                worker.engine_price_rows
        elif worker.rng.random() < 0.5:
            result, rows = worker.md.book_replay(**BOOK_REPLAYS[choice]), worker.replay_rows[choice]
        else:
            result, rows = opened.book_replay(**BOOK_REPLAYS[choice]), worker.replay_rows[choice]
        if midway:
            if worker.rng.random() < 0.5:
                reader = result.record_batches()
                assert reader.read_next_batch().num_rows > 0
                reader.close()
            return
        assert result.to_pyarrow().num_rows == rows


# Every way in and out, one entry each.
WAYS: list[Way] = [load, events, to_arrow, from_arrow, stream, book_replay, slices, merged, clone, pickled]


def _slope(points: list[tuple[int, int]]) -> float:
    """The least-squares slope of y against x."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _settled_resident_bytes() -> int:
    """Resident memory once freed memory is handed back: Python's garbage collected, glibc's
    free pages trimmed and pyarrow's pool emptied of what it keeps for reuse. What is left is what
    is held: a leak stays in it, the allocators' caches do not."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
    return resident_bytes()


@dataclass
class Checkpoint:
    """Every thread paused after the same cycle."""

    cycle: int
    resident: int
    live: tuple[int, int, int]


@dataclass
class Report:
    cycles: int
    threads: int
    seconds: float
    checkpoints: list[Checkpoint]
    warm_up: int
    live_at_end: tuple[int, int, int]
    midway: int
    ways_run: int
    ways: list[str]

    @property
    def measured(self) -> list[Checkpoint]:
        return [point for point in self.checkpoints if point.cycle >= self.warm_up]

    @property
    def slope(self) -> float:
        """Resident bytes per cycle after the warm-up, by least squares over the checkpoints."""
        return _slope([(point.cycle, point.resident) for point in self.measured])

    @property
    def growth(self) -> float:
        """What the slope adds over the measured cycles, in bytes."""
        return self.slope * (self.cycles - self.warm_up)

    @property
    def late_slope(self) -> float:
        """The least-squares slope over the last half of the measured cycles: zero once the
        allocators have settled, while a leak keeps its slope to the end."""
        middle = (self.warm_up + self.cycles) / 2
        return _slope([(point.cycle, point.resident) for point in self.measured if point.cycle >= middle])

    @property
    def median_slope(self) -> float:
        """The median of the slopes between consecutive checkpoints after the warm-up. A leak
        raises every interval; an allocator taking one more block now and then (a step, then
        flat again) raises few, so it does not move the median as it moves the least squares."""
        points = self.measured
        steps = [(later.resident - earlier.resident) / (later.cycle - earlier.cycle)
                 for earlier, later in zip(points, points[1:])]
        return statistics.median(steps) if steps else 0.0

    def figures(self) -> dict:
        """The figures, for a program to read (``--json``)."""
        return {
            "cycles": self.cycles, "threads": self.threads, "ways": self.ways, "ways_run": self.ways_run,
            "midway": self.midway,
            "seconds": self.seconds, "warm_up": self.warm_up, "slope_bytes_per_cycle": self.slope,
            "growth_bytes": self.growth, "median_slope_bytes_per_cycle": self.median_slope,
            "late_slope_bytes_per_cycle": self.late_slope,
            "live_at_end": list(self.live_at_end),
            "checkpoints": [[point.cycle, point.resident, list(point.live)] for point in self.checkpoints],
        }

    def __str__(self) -> str:
        resident = [point.resident for point in self.measured]
        mib = 1 << 20
        return "\n".join([
            f"{self.cycles} cycles x {self.threads} threads x {self.ways_run // self.cycles // self.threads} ways "
            f"= {self.ways_run} ways run "
            f"({self.midway} stopped midway) in {self.seconds:.0f} s",
            f"settled resident memory at {len(self.checkpoints)} checkpoints: "
            + " ".join(f"{point.resident / mib:.1f}" for point in self.checkpoints) + " MiB",
            f"after the warm-up ({self.warm_up} cycles): {min(resident) / mib:.1f}-{max(resident) / mib:.1f} MiB, "
            f"slope {self.slope / 1024:+.3f} KiB per cycle ({self.growth / mib:+.2f} MiB over "
            f"{self.cycles - self.warm_up} cycles); over the last half {self.late_slope / 1024:+.3f} KiB per "
            f"cycle; median of the slopes between checkpoints {self.median_slope / 1024:+.3f} KiB per cycle",
            "live objects (market data, cursors, buffers) at each checkpoint: "
            + ", ".join(sorted({str(point.live) for point in self.checkpoints})) + f"; at the end: {self.live_at_end}",
        ])


def leak_way(size: int) -> Way:
    """A way that keeps ``size`` bytes each time it runs: what ``--leak`` adds, so that a run
    shows what the soak reports when something leaks."""
    kept = []

    def leak(worker: Worker, midway: bool) -> None:
        kept.append(bytearray(size))

    return leak


def soak(files: Files, cycles: int, threads: int = 4, seed: int = 1, checkpoint_every: int = 25,
         ways: Optional[list[Way]] = None) -> Report:
    """Runs the soak and returns its figures; raises the first failure of any thread.

    Every ``checkpoint_every`` cycles the threads wait for each other, and memory and the
    library's live objects are read while nothing runs (each thread holds its clone then)."""
    base = MarketDataInMemory.from_json_file(files.lines)
    length, trades = len(base), len(base.filter(kinds=["public_trade"]))
    rows = {table: base.to_arrow(table).num_rows for table in TABLES}
    first_events = base[:300].events()
    replay_rows = [base.book_replay(**options).to_pyarrow().num_rows for options in BOOK_REPLAYS]
    engine_price_rows = base.engine_prices().to_pyarrow().num_rows
    assert min(replay_rows) > 0 and engine_price_rows > 0, "a recording with books and prices to replay"
    workers = [
        Worker(base.clone(), files, random.Random(seed * 1000 + number), length, rows, trades, replay_rows,
               engine_price_rows, first_events)
        for number in range(threads)
    ]
    ways = WAYS if ways is None else ways
    midway = [0] * threads
    failures: list[BaseException] = []
    # All threads and this one meet twice a checkpoint: once to stop, once to go on.
    meeting = threading.Barrier(threads + 1)

    def run(number: int) -> None:
        worker = workers[number]
        try:
            for cycle in range(1, cycles + 1):
                for way in worker.rng.sample(ways, len(ways)):
                    stop = worker.rng.random() < 1 / 3
                    midway[number] += stop
                    way(worker, stop)
                if cycle % checkpoint_every == 0:
                    meeting.wait()
                    meeting.wait()
        except threading.BrokenBarrierError:
            pass
        except BaseException as failure:  # reported by the main thread
            failures.append(failure)
            meeting.abort()
        finally:
            worker.md.close()

    started = time.perf_counter()
    running = [threading.Thread(target=run, args=(number,), name=f"soak-{number}") for number in range(threads)]
    for thread in running:
        thread.start()
    checkpoints = []
    try:
        for cycle in range(checkpoint_every, cycles + 1, checkpoint_every):
            meeting.wait()
            checkpoints.append(Checkpoint(cycle, _settled_resident_bytes(), live_objects()))
            meeting.wait()
    except threading.BrokenBarrierError:
        pass
    for thread in running:
        thread.join()
    seconds = time.perf_counter() - started
    base.close()
    del workers, first_events
    gc.collect()
    if failures:
        raise failures[0]
    warm_up = checkpoints[len(checkpoints) // 5].cycle if checkpoints else 0
    return Report(cycles, threads, seconds, checkpoints, warm_up, live_objects(), sum(midway),
                  cycles * threads * len(ways), [way.__name__ for way in ways])


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--events", type=int, default=5000, help="market events in the recording")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checkpoint-every", type=int, default=25, metavar="CYCLES",
                        help="pause the threads and read memory every CYCLES cycles")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    parser.add_argument("--leak", type=int, default=0, metavar="BYTES",
                        help="keep BYTES more each cycle on each thread: what a leak looks like")
    arguments = parser.parse_args(argv)
    ways = WAYS + [leak_way(arguments.leak)] if arguments.leak else WAYS
    with tempfile.TemporaryDirectory(prefix="barter_ffi_soak_") as directory:
        files = Files.write(Path(directory), arguments.events)
        report = soak(files, arguments.cycles, arguments.threads, arguments.seed, arguments.checkpoint_every, ways)
    print(json.dumps(report.figures()) if arguments.json else report)
    if report.live_at_end != (0, 0, 0):
        raise SystemExit(f"the library still holds {report.live_at_end}")


if __name__ == "__main__":
    main()
