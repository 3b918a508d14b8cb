"""Order-book replay: barter-ffi's ``md.book_replay`` against the ways a Python user rebuilds books.

    pip install -r benchmarks/requirements-books.txt      # the other ways (not barter-ffi's extras)
    python benchmarks/bench_books.py [EVENTS] [--rounds N] [--memory-copies K]

Replays the ``replay`` mix of ``generate.py`` (EVENTS market events, default 1,000,000: two books
on a 0.01 tick grid around a random-walk mid, updates of 1-20 levels near the top, ~35% deletes,
reconnects with fresh snapshots), producing after every L2 event the top 10 levels a side as
floats, every way:

- barter-ffi: ``md.book_replay(depth=10, decimals="float64").to_pyarrow()`` from the loaded data
  set (and ``decimals="decimal128"``, exact);
- pure Python with ``sortedcontainers.SortedDict`` per side, as an expert writes it: ``Decimal``
  keys (exact, barter's semantics) and a ``float`` variant;
- ``order-book`` (bmoscon's C SortedDict, what cryptofeed uses), float keys;
- nautilus_trader's Rust ``OrderBook`` through pyo3 (``nautilus_pyo3.OrderBook``, L2_MBP);
- not hftbacktest (it installs here, 2.4.4): its books take the event arrays of its own
  converters and a numba loop per feed, not yet written for this benchmark.

Each way is first checked to give the same top 10 as barter-ffi on every event of the first
CHECK_EVENTS. The input each way needs (Python objects decoded from the data set, nautilus'
orders) is prepared once and timed apart; then the ways run in alternating rounds in this one
process and the median is reported, as L2 events per second. Last, the peak memory of a replay
streamed from a file (``iter_json_file(...).book_replay(...)``) read batch by batch, in a child
process, beyond the same process after its imports.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).parent))
import generate  # noqa: E402

from barter_ffi import MarketDataInMemory, OrderBookEvent, OrderBookSnapshot  # noqa: E402

DEPTH = 10
CHECK_EVENTS = 20_000

Change = tuple[int, bool, list, list]
"""(book number, is a snapshot, bids [(price, amount)], asks [(price, amount)])."""


def changes(md: MarketDataInMemory, number: Callable[[str], Any]) -> list[Change]:
    """The L2 events as plain Python data: what a Python way reads (prices through ``number``)."""
    keys: dict[tuple, int] = {}
    out = []
    for event in md:
        kind = event.kind
        if isinstance(kind, OrderBookEvent):
            book = keys.setdefault((event.exchange, event.instrument), len(keys))
            out.append((book, isinstance(kind, OrderBookSnapshot),
                        [(number(level.price_text), number(level.amount_text)) for level in kind.bids],
                        [(number(level.price_text), number(level.amount_text)) for level in kind.asks]))
    return out


def sorted_dicts(events: list[Change], zero: Any) -> list[tuple]:
    """The expert's pure-Python book: a SortedDict per side (bids keyed by falling price)."""
    from sortedcontainers import SortedDict

    books: dict[int, tuple] = {}
    rows = []
    for book, is_snapshot, bids, asks in events:
        sides = books.get(book)
        if sides is None:
            sides = books[book] = (SortedDict(lambda price: -price), SortedDict())
        if is_snapshot:
            sides[0].clear()
            sides[1].clear()
        for side, levels in zip(sides, (bids, asks)):
            for price, amount in levels:
                if amount == zero:
                    side.pop(price, None)
                else:
                    side[price] = amount
        rows.append((sides[0].items()[:DEPTH], sides[1].items()[:DEPTH]))
    return rows


def order_book(events: list[Change]) -> list[tuple]:
    """bmoscon's order-book: a C SortedDict per side, float keys."""
    from order_book import OrderBook

    books: dict[int, Any] = {}
    rows = []
    for book, is_snapshot, bids, asks in events:
        ob = books.get(book)
        if ob is None or is_snapshot:
            ob = books[book] = OrderBook()
        for side, levels in ((ob.bids, bids), (ob.asks, asks)):
            for price, amount in levels:
                if amount == 0.0:
                    if price in side:
                        del side[price]
                else:
                    side[price] = amount
        bid_side, ask_side = ob.bids, ob.asks
        rows.append(([bid_side.index(i) for i in range(min(DEPTH, len(bid_side)))],
                     [ask_side.index(i) for i in range(min(DEPTH, len(ask_side)))]))
    return rows


def nautilus_input(events: list[Change]) -> list[tuple]:
    """Each event as nautilus' orders: (book, is a snapshot, [(is a delete, BookOrder)])."""
    from nautilus_trader.core import nautilus_pyo3 as n

    def orders(levels: list, side: Any) -> list:
        return [(amount == "0" or Decimal(amount) == 0,
                 n.BookOrder(side, n.Price.from_str(price), n.Quantity.from_str(amount), 0)) for price, amount in levels]

    return [(book, is_snapshot, orders(bids, n.OrderSide.BUY) + orders(asks, n.OrderSide.SELL))
            for book, is_snapshot, bids, asks in events]


def nautilus(events: list[tuple]) -> list[tuple]:
    """nautilus_trader's Rust OrderBook (L2 by price) through pyo3."""
    from nautilus_trader.core import nautilus_pyo3 as n

    books: dict[int, Any] = {}
    rows = []
    for sequence, (book, is_snapshot, orders) in enumerate(events):
        ob = books.get(book)
        if ob is None:
            ob = books[book] = n.OrderBook(n.InstrumentId.from_str(f"B{book}-USDT.BINANCE"), n.BookType.L2_MBP)
        if is_snapshot:
            ob.clear(sequence, 0)
        for is_delete, order in orders:
            if is_delete:
                ob.delete(order, 0, sequence, 0)
            else:
                ob.update(order, 0, sequence, 0)
        rows.append(([(level.price.as_double(), level.size()) for level in ob.bids(DEPTH)],
                     [(level.price.as_double(), level.size()) for level in ob.asks(DEPTH)]))
    return rows


def barter_ffi_rows(md: MarketDataInMemory, decimals: str) -> Any:
    return md.book_replay(depth=DEPTH, decimals=decimals).to_pyarrow()


def top_from_table(table: Any) -> list[tuple]:
    """barter-ffi's rows as (bids, asks) of (price, amount) floats, to compare with the others."""
    columns = {name: table[name].to_pylist() for name in table.column_names if name.startswith(("bid_", "ask_"))}
    rows = []
    for row in range(table.num_rows):
        sides = []
        for side in ("bid", "ask"):
            levels = []
            for level in range(DEPTH):
                price = columns[f"{side}_price_{level}"][row]
                if price is None:
                    break
                levels.append((price, columns[f"{side}_amount_{level}"][row]))
            sides.append(levels)
        rows.append(tuple(sides))
    return rows


def as_floats(rows: list[tuple]) -> list[tuple]:
    """Rows with every value a float rounded to 10 places: the recording's prices have 2, its
    amounts 8, so ways that read the same value agree (a float parsed from text and
    rust_decimal's ``to_f64`` may differ in the last bit)."""
    return [tuple([(round(float(price), 10), round(float(amount), 10)) for price, amount in side] for side in row)
            for row in rows]


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def peak_memory_script() -> str:
    return """
import re, sys
import pyarrow, pyarrow.parquet
import barter_ffi
def peak_kib():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
before = peak_kib()
rows = 0
with barter_ffi.iter_json_file(sys.argv[1]) as stream:
    for batch in stream.book_replay(depth=10, decimals=sys.argv[2]).record_batches():
        rows += batch.num_rows
print(rows, (peak_kib() - before) / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-copies", type=int, default=4,
                        help="the streamed file is the recording this many times over (default 4)")
    args = parser.parse_args()
    stem = Path(__file__).parent / "data" / f"replay_{args.events}"
    path = stem.with_suffix(".jsonl")
    if not path.exists():
        generate.write(args.events, stem, "replay")
    started = time.perf_counter()
    md = MarketDataInMemory.from_json_file(path)
    load = time.perf_counter() - started
    l2_events = len(md.filter(kinds="l2"))
    print(f"{path.name}: {len(md):,} market events, {l2_events:,} L2, {path.stat().st_size / 1e6:.0f} MB; "
          f"load {load:.2f} s")

    prepare: dict[str, float] = {}
    started = time.perf_counter()
    exact = changes(md, Decimal)
    prepare["pure Python, Decimal"] = time.perf_counter() - started
    started = time.perf_counter()
    floats = changes(md, float)
    prepare["pure Python, float"] = prepare["order-book (C)"] = time.perf_counter() - started
    ways: dict[str, Callable[[int], Any]] = {
        "barter-ffi, float64": lambda limit: barter_ffi_rows(md if limit >= l2_events else md_check, "float64"),
        "barter-ffi, decimal128": lambda limit: barter_ffi_rows(md if limit >= l2_events else md_check, "decimal128"),
        "pure Python, Decimal": lambda limit: sorted_dicts(exact[:limit], Decimal(0)),
        "pure Python, float": lambda limit: sorted_dicts(floats[:limit], 0.0),
        "order-book (C)": lambda limit: order_book(floats[:limit]),
    }
    prepare["barter-ffi, float64"] = prepare["barter-ffi, decimal128"] = 0.0
    try:
        started = time.perf_counter()
        nautilus_events = nautilus_input(changes(md, str))
        prepare["nautilus_trader (pyo3)"] = time.perf_counter() - started
        ways["nautilus_trader (pyo3)"] = lambda limit: nautilus(nautilus_events[:limit])
    except ImportError as error:
        print(f"nautilus_trader: not compared ({error})")

    # The check: every way's top 10 on the first CHECK_EVENTS L2 events.
    l2_positions = [index for index, event in enumerate(md) if isinstance(event.kind, OrderBookEvent)]
    md_check = md[: l2_positions[CHECK_EVENTS - 1] + 1] if len(l2_positions) > CHECK_EVENTS else md
    checked = min(CHECK_EVENTS, l2_events)
    expected = as_floats(top_from_table(barter_ffi_rows(md_check, "float64")))
    for name, way in ways.items():
        result = way(checked)
        got = as_floats(top_from_table(result) if hasattr(result, "column_names") else result)
        if got != expected:
            bad = next(index for index, (a, b) in enumerate(zip(got, expected)) if a != b)
            raise SystemExit(f"{name} differs from barter-ffi at L2 event {bad}: {got[bad]} vs {expected[bad]}")
    print(f"checked: every way gives barter-ffi's top {DEPTH} a side after each of the first {checked:,} L2 events")

    seconds: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            seconds[name].append(timed(lambda: way(l2_events)))
    fastest = statistics.median(seconds["barter-ffi, float64"])
    print(f"\n{'way':<26} {'prepare s':>10} {'replay s (min..max)':>24} {'L2 events/s':>13} {'barter-ffi is':>14}")
    for name in ways:
        median = statistics.median(seconds[name])
        spread = f"{median:.3f} ({min(seconds[name]):.3f}..{max(seconds[name]):.3f})"
        print(f"{name:<26} {prepare[name]:>10.2f} {spread:>24} {l2_events / median:>13,.0f} "
              f"{median / fastest:>13.1f}x")

    big = path.with_name(f"replay_{args.events}_x{args.memory_copies}.jsonl")
    if not big.exists():
        with big.open("wb") as out:
            for _ in range(args.memory_copies):
                out.write(path.read_bytes())
    print(f"\nstreamed replay of {big.name} ({big.stat().st_size / 1e9:.1f} GB), read batch by batch:")
    for decimals in ("float64", "decimal128"):
        result = subprocess.run([sys.executable, "-c", peak_memory_script(), str(big), decimals], capture_output=True,
                                text=True, check=True)
        rows, peak = result.stdout.split()
        print(f"  decimals={decimals}: {int(rows):,} rows, peak memory {float(peak):.0f} MiB beyond the imports")


if __name__ == "__main__":
    main()
