"""Generated L2 recordings with what order books meet in the wild, as barter-shaped records.

Each recording interleaves several exchanges' and instruments' books on one clock, with:
updates before the first snapshot; snapshots of ``snapshot_levels`` levels a side (100 or
1,000), some with zero amounts; updates of 1-20 levels drawn near the top, about 35% of them
deletes; deletes of levels the book does not hold; prices written at other scales than the book
holds them (``"100.5"`` against ``"100.50"``); reconnect markers followed, a few events later,
by fresh snapshots; dropped deletes that leave a book crossed; and now and then a trade, an L1
and a sequence that goes back. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

START_NS = 1_734_721_518_000_000_000
BOOKS = [("binance_spot", 0), ("binance_spot", 1), ("okx", 0), ("bybit_spot", 3)]
TICK = Decimal("0.5")


def _time(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def _text(value: Decimal, rng: random.Random) -> str:
    """``value`` as text, now and then at another scale (one more trailing zero)."""
    text = f"{value:f}"
    if rng.random() < 0.15:
        text += "0" if "." in text else ".0"
    return text


class _Book:
    def __init__(self, rng: random.Random, mid: Decimal) -> None:
        self.rng, self.mid, self.sequence = rng, mid, 0
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def amount(self) -> Decimal:
        return Decimal(self.rng.randrange(1, 5000)) / 1000

    def snapshot(self, levels: int) -> dict[str, Any]:
        self.mid += TICK * self.rng.randint(-4, 4)
        self.bids = {self.mid - TICK * (1 + i): self.amount() for i in range(levels)}
        self.asks = {self.mid + TICK * (1 + i): self.amount() for i in range(levels)}
        for side in (self.bids, self.asks):
            for price in self.rng.sample(sorted(side), k=min(3, len(side))):
                if self.rng.random() < 0.3:
                    side[price] = Decimal(0)  # zero amounts in a snapshot: barter keeps them
        return self._book(sorted(self.bids.items(), reverse=True), sorted(self.asks.items()))

    def update(self) -> dict[str, Any]:
        self.mid += TICK * self.rng.choice([-1, 0, 0, 1])
        changes: dict[str, dict[Decimal, Decimal]] = {"bids": {}, "asks": {}}
        for _ in range(self.rng.randint(1, 20)):
            side = self.rng.choice(["bids", "asks"])
            held = self.bids if side == "bids" else self.asks
            away = min(int(self.rng.expovariate(0.35)), 60)  # near the top, now and then deeper
            price = self.mid - TICK * (1 + away) if side == "bids" else self.mid + TICK * (1 + away)
            roll = self.rng.random()
            if roll < 0.35 and held:
                price = self.rng.choice(sorted(held, key=lambda p: abs(p - self.mid))[:10])
                amount = Decimal(0)
            elif roll < 0.40:
                price, amount = price + TICK * 200 * (1 if side == "asks" else -1), Decimal(0)  # an unknown level
            else:
                amount = self.amount()
            changes[side][price] = amount
        for side, held in (("bids", self.bids), ("asks", self.asks)):
            for price, amount in changes[side].items():
                if amount == 0:
                    held.pop(price, None)
                else:
                    held[price] = amount
        if self.rng.random() < 0.02 and self.asks and self.bids:
            # A dropped delete: the exchange's best ask moves below the bid barter still holds.
            best_bid = max(self.bids)
            changes["asks"][best_bid - TICK] = self.amount()
            self.asks[best_bid - TICK] = changes["asks"][best_bid - TICK]
        return self._book(sorted(changes["bids"].items(), reverse=True), sorted(changes["asks"].items()))

    def _book(self, bids: list, asks: list) -> dict[str, Any]:
        self.sequence += 1 if self.rng.random() > 0.01 else -3  # now and then a sequence goes back
        levels = lambda side: [{"price": _text(p, self.rng), "amount": _text(a, self.rng)} for p, a in side]  # noqa: E731
        return {
            "sequence": max(self.sequence, 0), "time_engine": None,
            "bids": {"side": None, "levels": levels(bids)}, "asks": {"side": None, "levels": levels(asks)},
        }


def recording(seed: int, events: int, snapshot_levels: int = 100) -> list[dict[str, Any]]:
    """``events`` market events (and reconnect markers) as records for ``from_records``."""
    rng = random.Random(seed)
    books = {key: _Book(rng, Decimal(1000 + 500 * index)) for index, key in enumerate(BOOKS)}
    resync: set[tuple[str, int]] = set()
    records: list[dict[str, Any]] = []
    ns = START_NS
    for index in range(events):
        ns += rng.randrange(1, 40_000_000)
        exchange, instrument = key = rng.choice(BOOKS)
        book = books[key]
        roll = rng.random()
        if roll < 0.004:
            records.append({"Reconnecting": exchange})
            resync |= {other for other in BOOKS if other[0] == exchange}
        if index < 6 or roll > 0.97 or (key in resync and rng.random() < 0.3):
            kind: dict[str, Any] = {"OrderBook": {"Snapshot": book.snapshot(snapshot_levels)}} if index >= 6 else \
                {"OrderBook": {"Update": book.update()}}  # the first events come before any snapshot
            resync.discard(key)
        elif roll < 0.03:
            price = float(book.mid)
            kind = {"Trade": {"id": str(index), "price": price, "amount": 0.5, "side": "Buy"}}
        elif roll < 0.05:
            level = {"price": f"{book.mid - TICK:f}", "amount": "1.5"}
            kind = {"OrderBookL1": {"last_update_time": _time(ns), "best_bid": level, "best_ask": {"price": f"{book.mid + TICK:f}", "amount": "2"}}}
        else:
            kind = {"OrderBook": {"Update": book.update()}}
        received = ns + rng.randrange(100_000, 5_000_000)
        records.append({"Item": {"time_exchange": _time(ns), "time_received": _time(received), "exchange": exchange,
                                 "instrument": instrument, "kind": kind}})
    return records
