"""Writes synthetic barter market-data files of N events, in both file shapes.

    python benchmarks/generate.py 100000 benchmarks/data/mixed_100k [MIX]

writes ``mixed_100k.jsonl`` (JSON Lines of MarketStreamEvent) and ``mixed_100k.json`` (a JSON
array of MarketStreamResult, one ``Err`` item per thousand), holding the same events, with one
reconnect marker per 5,000 events. Deterministic for a given N and mix. Mixes, per 100 events:

- ``mixed`` (the default): 50 trades, 25 L1, 10 book updates (3 levels a side), 1 snapshot
  (20 levels), 6 candles, 8 liquidations;
- ``trades``: trades only;
- ``l1``: top of book only;
- ``nobooks``: 60 trades, 20 L1, 10 candles, 10 liquidations;
- ``bookheavy``: 30 trades, 20 L1, 45 book updates and 5 snapshots of 0-12 levels a side;
- ``books``, ``candles``, ``liquidations``: that kind only (books as in ``bookheavy``), for the
  load's cost per kind;
- ``replay``: order books as an exchange's diff stream feeds them, for the book replay: two
  books (binance_spot and okx, instrument 0) on a 0.01 tick grid around a random-walk mid, each
  starting from a 100-level snapshot; 96 L2 updates of 1-20 levels (geometric, drawn near the
  top), about 35% of them deleting held levels (levels the mid moves past are deleted in the same
  update, so books never cross; 1% of deletes name a level not held), the rest setting amounts;
  4 trades; each reconnect marker (one per 5,000 events) followed by a fresh snapshot of its
  exchange's book. Sides are sorted and every price is written at the book's scale.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

EXCHANGES = ["binance_spot", "okx", "bybit_spot", "coinbase", "kraken"]
START_NS = 1_734_721_518_175_000_000


def timestamp(ns: int) -> str:
    import datetime as dt

    seconds, fraction = divmod(ns, 1_000_000_000)
    whole = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{fraction:09d}Z"


def level(rng: random.Random, mid: float) -> dict:
    return {"price": f"{mid + rng.uniform(-50, 50):.8f}", "amount": f"{rng.uniform(0, 5):.8f}"}


def book(rng: random.Random, sequence: int, ns: int, depth: int) -> dict:
    # Best first, as barter's own books keep their levels.
    bids = sorted((level(rng, 96_000) for _ in range(depth)), key=lambda bid: float(bid["price"]), reverse=True)
    asks = sorted((level(rng, 96_100) for _ in range(depth)), key=lambda ask: float(ask["price"]))
    return {
        "sequence": sequence,
        "time_engine": timestamp(ns) if sequence % 3 else None,
        "bids": {"side": None, "levels": bids},
        "asks": {"side": None, "levels": asks},
    }


MIXES = ("mixed", "trades", "l1", "nobooks", "bookheavy", "books", "candles", "liquidations", "replay")


def trade(rng: random.Random, index: int, price: float, side: str) -> dict:
    return {"Trade": {"id": str(4_314_349_047 + index), "price": price, "amount": round(rng.uniform(0, 2), 8), "side": side}}


def l1(rng: random.Random, ns: int) -> dict:
    return {"OrderBookL1": {"last_update_time": timestamp(ns), "best_bid": level(rng, 96_000), "best_ask": level(rng, 96_100)}}


def candle(rng: random.Random, ns: int, price: float) -> dict:
    return {"Candle": {"close_time": timestamp(ns), "open": price, "high": price + 10.5, "low": price - 9.25, "close": price + 1.0, "volume": round(rng.uniform(0, 100), 6), "trade_count": rng.randrange(5000)}}


def liquidation(rng: random.Random, ns: int, price: float, side: str) -> dict:
    return {"Liquidation": {"side": side, "price": price, "quantity": round(rng.uniform(0, 3), 6), "time": timestamp(ns)}}


def kind(rng: random.Random, index: int, ns: int, mix: str) -> dict:
    slot = index % 100
    price = round(rng.uniform(90_000, 100_000), 2)
    side = rng.choice(["Buy", "Sell"])
    if mix == "trades":
        return trade(rng, index, price, side)
    if mix == "l1":
        return l1(rng, ns)
    if mix == "candles":
        return candle(rng, ns, price)
    if mix == "liquidations":
        return liquidation(rng, ns, price, side)
    if mix == "books":
        slot = 50 + slot // 2
    if mix == "nobooks":
        if slot < 60:
            return trade(rng, index, price, side)
        if slot < 80:
            return l1(rng, ns)
        return candle(rng, ns, price) if slot < 90 else liquidation(rng, ns, price, side)
    if mix in ("bookheavy", "books"):
        if slot < 30:
            return trade(rng, index, price, side)
        if slot < 50:
            return l1(rng, ns)
        return {"OrderBook": {"Update" if slot < 95 else "Snapshot": book(rng, index, ns, rng.randrange(13))}}
    if slot < 50:
        return trade(rng, index, price, side)
    if slot < 75:
        return l1(rng, ns)
    if slot < 85:
        return {"OrderBook": {"Update": book(rng, index, ns, 3)}}
    if slot < 86:
        return {"OrderBook": {"Snapshot": book(rng, index, ns, 20)}}
    return candle(rng, ns, price) if slot < 92 else liquidation(rng, ns, price, side)


class DiffBook:
    """One exchange's book as its diff stream changes it (the ``replay`` mix): integer ticks of
    0.01 around a random-walk mid, amounts with 8 places."""

    TICK_DIGITS = 2
    SNAPSHOT_LEVELS = 100

    def __init__(self, rng: random.Random, mid_ticks: int) -> None:
        self.rng, self.mid, self.sequence = rng, mid_ticks, 0
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def amount(self) -> int:
        return self.rng.randrange(1, 500_000_000)  # in 1e-8 units: up to 5.0

    def snapshot(self) -> dict:
        self.bids = {self.mid - 1 - i: self.amount() for i in range(self.SNAPSHOT_LEVELS)}
        self.asks = {self.mid + 1 + i: self.amount() for i in range(self.SNAPSHOT_LEVELS)}
        return self.book(self.bids, self.asks)

    def update(self) -> dict:
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        step = self.rng.choice((-1, 0, 0, 0, 0, 1))
        if step:
            self.mid += step
            # Levels the mid moved past leave the book in this update, as an exchange sends them.
            for side, changes, crossed in ((self.bids, bids, lambda tick: tick >= self.mid),
                                           (self.asks, asks, lambda tick: tick <= self.mid)):
                for tick in [tick for tick in side if crossed(tick)]:
                    del side[tick]
                    changes[tick] = 0
        held_before = {id(self.bids): set(self.bids), id(self.asks): set(self.asks)}
        for _ in range(min(20, 1 + int(self.rng.expovariate(0.25)))):
            is_bid = self.rng.random() < 0.5
            side, changes = (self.bids, bids) if is_bid else (self.asks, asks)
            near = [tick for tick in side if abs(tick - self.mid) <= 30]
            roll = self.rng.random()
            if roll < 0.35 and near and roll >= 0.0035:
                tick = self.rng.choice(near)
                del side[tick]
                if tick in held_before[id(side)]:
                    changes[tick] = 0
                else:
                    del changes[tick]  # set earlier in this update: the net change is none
            elif roll < 0.35:
                # A delete of a level the book does not hold: barter ignores it.
                tick = self.mid + (300 + self.rng.randrange(50)) * (-1 if is_bid else 1)
                if tick not in side:
                    changes[tick] = 0
            else:
                distance = 1 + min(int(self.rng.expovariate(0.1)), 150)
                tick = self.mid - distance if is_bid else self.mid + distance
                side[tick] = changes[tick] = self.amount()
        return self.book(bids, asks)

    def book(self, bids: dict[int, int], asks: dict[int, int]) -> dict:
        self.sequence += 1
        def levels(ticks: dict[int, int], best_first: bool) -> list:
            return [{"price": f"{tick / 10**self.TICK_DIGITS:.{self.TICK_DIGITS}f}", "amount": f"{amount / 1e8:.8f}"}
                    for tick, amount in sorted(ticks.items(), reverse=best_first)]
        return {"sequence": self.sequence, "time_engine": None,
                "bids": {"side": None, "levels": levels(bids, True)}, "asks": {"side": None, "levels": levels(asks, False)}}


def replay_events(count: int):
    """The ``replay`` mix's items."""
    rng = random.Random(count)
    books = {"binance_spot": DiffBook(rng, 9_600_000), "okx": DiffBook(rng, 9_601_000)}
    resync = set(books)  # owed a snapshot: at the start, and after their exchange's reconnect
    ns = START_NS
    for index in range(count):
        ns += rng.randrange(1, 200_000)
        if index % 5000 == 4999:
            reconnected = rng.choice(sorted(books))
            resync.add(reconnected)
            yield {"Reconnecting": reconnected}
        exchange = rng.choice(sorted(books))
        book = books[exchange]
        if exchange in resync:
            resync.discard(exchange)
            kind: dict = {"OrderBook": {"Snapshot": book.snapshot()}}
        elif index % 100 < 4:
            kind = {"Trade": {"id": str(index), "price": book.mid / 100, "amount": 0.01, "side": "Buy"}}
        else:
            kind = {"OrderBook": {"Update": book.update()}}
        yield {"time_exchange": timestamp(ns), "time_received": timestamp(ns + rng.randrange(100_000, 2_000_000)),
               "exchange": exchange, "instrument": 0, "kind": kind}


def events(count: int, mix: str = "mixed"):
    if mix == "replay":
        yield from replay_events(count)
        return
    rng = random.Random(count)
    ns = START_NS
    for index in range(count):
        ns += rng.randrange(1, 2_000_000)
        if index % 5000 == 4999:
            yield {"Reconnecting": rng.choice(EXCHANGES)}
        yield {
            "time_exchange": timestamp(ns),
            "time_received": timestamp(ns + rng.randrange(100_000, 5_000_000)),
            "exchange": rng.choice(EXCHANGES),
            "instrument": rng.randrange(8),
            "kind": kind(rng, index, ns, mix),
        }


def write(count: int, stem: Path, mix: str = "mixed") -> tuple[Path, Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    lines_path, array_path = stem.with_suffix(".jsonl"), stem.with_suffix(".json")
    compact = {"separators": (",", ":")}
    with lines_path.open("w") as lines, array_path.open("w") as array:
        array.write("[\n")
        first = True
        for number, item in enumerate(events(count, mix)):
            market_stream_event = item if "Reconnecting" in item else {"Item": item}
            lines.write(json.dumps(market_stream_event, **compact) + "\n")
            result = item if "Reconnecting" in item else {"Item": {"Ok": item}}
            if number % 1000 == 999:
                array.write(",\n" + json.dumps({"Item": {"Err": {"Socket": "connection reset"}}}, **compact))
            array.write(("" if first else ",\n") + json.dumps(result, **compact))
            first = False
        array.write("\n]\n")
    return lines_path, array_path


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    stem = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent / "data" / f"mixed_{count}"
    mix = sys.argv[3] if len(sys.argv) > 3 else "mixed"
    if mix not in MIXES:
        raise SystemExit(f"unknown mix {mix!r}: one of {', '.join(MIXES)}")
    for path in write(count, stem, mix):
        print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
