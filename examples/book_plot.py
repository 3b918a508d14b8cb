"""Mid price and spread of a book replayed through barter's OrderBook, with the quality flags shaded.

    pip install "barter-ffi[plot]"
    python examples/book_plot.py [RECORDING] [--out docs/book_replay.png] [--exchange E] [--instrument I]

Replays RECORDING's books with ``md.book_replay(depth=1, every="250ms")`` and draws, for one
book, the mid price and the spread on that grid, shading where the book is not ``synced`` (no
snapshot since the last reconnect: barter keeps applying updates to a stale book) and where it
is ``crossed``. Without RECORDING it makes a two-minute demo recording of one book on a
random walk (the diff stream of ``benchmarks/generate.py``'s ``replay`` mix) with the two faults
barter's books meet: a reconnect whose fresh snapshot comes 25 seconds late, and a delete the
exchange never sent, which leaves the book crossed until the next snapshot. The README's plot is
this script's output.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from barter_ffi import MarketDataInMemory  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def demo_recording(path: Path) -> None:
    """Two minutes of one book's diff stream, every 50 ms, with a late resync and a dropped delete."""
    import random

    from generate import DiffBook, timestamp

    rng = random.Random(3)
    book = DiffBook(rng, 9_600_000)
    start = 1_734_721_500_000_000_000
    items: list[dict] = []
    for step in range(2400):
        ns = start + step * 50_000_000
        if step == 700:
            items.append({"Reconnecting": "binance_spot"})
        if step in (0, 1200, 2000):  # the snapshot after the reconnect comes at step 1200, 25 s late
            kind = {"Snapshot": book.snapshot()}
        else:
            update = book.update()
            if step == 1500:
                # A bid above the asks whose delete the exchange never sent: it stays in the book,
                # crossed, until the next snapshot.
                stale = f"{(min(book.asks) + 30) / 100:.2f}"
                update["bids"]["levels"].insert(0, {"price": stale, "amount": "1.00000000"})
            kind = {"Update": update}
        items.append({"Item": {"time_exchange": timestamp(ns), "time_received": timestamp(ns + 2_000_000),
                               "exchange": "binance_spot", "instrument": 0, "kind": {"OrderBook": kind}}})
    MarketDataInMemory.from_records(items).to_json_file(path)


def shade(axis: plt.Axes, times, flags, color: str, label: str) -> None:
    axis.fill_between(times, 0, 1, where=flags, transform=axis.get_xaxis_transform(), color=color, alpha=0.25,
                      step="post", linewidth=0, label=label)


def plot(recording: Path, out: Path, exchange: str, instrument: int) -> None:
    with MarketDataInMemory.from_json_file(recording) as md:
        books = md.book_replay(depth=1, every="250ms", decimals="float64", exchanges=exchange,
                               instruments=instrument).to_pandas()
    times = books["time"].dt.tz_convert(None)
    figure, (price, spread) = plt.subplots(2, 1, sharex=True, figsize=(10, 5.5), height_ratios=(2, 1))
    price.plot(times, books["mid_price"], color="black", linewidth=0.9, label="mid price")
    price.plot(times, books["microprice"], color="tab:blue", linewidth=0.6, alpha=0.7, label="microprice")
    spread.plot(times, books["spread"], color="black", linewidth=0.9, label="spread")
    for axis in (price, spread):
        shade(axis, times, ~books["synced"], "tab:orange", "not synced (no snapshot since the reconnect)")
        shade(axis, times, books["crossed"], "tab:red", "crossed (best bid ≥ best ask)")
    price.set_ylabel("price")
    spread.set_ylabel("spread")
    price.legend(loc="upper left", fontsize=8)
    price.set_title(f"{exchange} instrument {instrument}: barter's OrderBook, replayed every 250 ms", fontsize=10)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    print(f"{out}: {len(books)} rows, {int((~books['synced']).sum())} not synced, {int(books['crossed'].sum())} crossed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", nargs="?", type=Path, help="a barter recording with L2 events (default: a demo)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "book_replay.png")
    parser.add_argument("--exchange", default="binance_spot")
    parser.add_argument("--instrument", type=int, default=0)
    args = parser.parse_args()
    if args.recording is not None:
        plot(args.recording, args.out, args.exchange, args.instrument)
        return
    with tempfile.TemporaryDirectory() as scratch:
        recording = Path(scratch) / "demo.jsonl"
        demo_recording(recording)
        plot(recording, args.out, args.exchange, args.instrument)


if __name__ == "__main__":
    main()
