"""An independent book replay in Python with exact decimals, for the tests to hold the library to.

Written from barter-data 0.13.0's ``src/books/mod.rs`` (``OrderBook::update``,
``OrderBookSide::upsert_single``, ``mid_price``, ``volume_weighed_mid_price``), tardis-node's
``src/orderbook.ts`` (``removeCrossedLevels``) and the definitions of the flags, repairs and
samples in ``rust_core/src/output/book_replay/mod.rs``'s documentation, not from the library's
code. Sides are plain lists searched by price; a side out of barter's order (where barter's binary
search gives unspecified answers) is outside this reference's domain and raises
``OutsideTheReference``.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Iterator, Optional, Union

from barter_ffi import MarketEvent, OrderBookEvent, OrderBookSnapshot, Reconnecting

Level = tuple[Decimal, Decimal]


class OutsideTheReference(Exception):
    """The input holds what this reference does not model (an unsorted side, a repeated price)."""


def _find(levels: list[Level], price: Decimal, falling: bool) -> tuple[bool, int]:
    """(found, index): where ``price`` is in a side kept best first, or where it would go."""
    low, high = 0, len(levels)
    while low < high:
        middle = (low + high) // 2
        other = levels[middle][0]
        if other == price:
            return True, middle
        if (other > price) == falling:
            low = middle + 1
        else:
            high = middle
    return False, low


def _check_order(levels: list[Level], falling: bool) -> None:
    for (first, _), (second, _) in zip(levels, levels[1:]):
        if first == second or (first < second) == falling:
            raise OutsideTheReference("a side out of barter's order or holding a price twice")


@dataclasses.dataclass
class Book:
    exchange: str
    instrument: int
    sequence: int = 0
    time_engine: Optional[int] = None
    bids: list[Level] = dataclasses.field(default_factory=list)
    asks: list[Level] = dataclasses.field(default_factory=list)
    last_event_index: int = 0
    reconnects_at_snapshot: Optional[int] = None
    sequence_regressed: bool = False
    unknown_deletes: int = 0
    updates_since_snapshot: int = 0
    skipped_updates: int = 0
    awaiting_snapshot: bool = False
    trimmed: list[tuple[str, Decimal]] = dataclasses.field(default_factory=list)
    last_shown: Optional[tuple] = None

    def apply(self, event: OrderBookEvent, index: int, reconnects: int, trim: bool) -> None:
        self.last_event_index = index
        bids = [(level.price, level.amount) for level in event.bids]
        asks = [(level.price, level.amount) for level in event.asks]
        if isinstance(event, OrderBookSnapshot):
            _check_order(bids, falling=True)
            _check_order(asks, falling=False)
            self.sequence, self.time_engine, self.bids, self.asks = event.sequence, event.time_engine_ns, bids, asks
            self.reconnects_at_snapshot = reconnects
            self.sequence_regressed, self.unknown_deletes, self.updates_since_snapshot = False, 0, 0
            self.skipped_updates, self.awaiting_snapshot, self.trimmed = 0, False, []
        elif self.awaiting_snapshot:
            self.skipped_updates += 1
            return
        else:
            for levels in (bids, asks):
                if len({price for price, _ in levels}) != len(levels):
                    raise OutsideTheReference("an update naming a price twice")
            self.sequence_regressed |= event.sequence < self.sequence
            self.sequence, self.time_engine = event.sequence, event.time_engine_ns
            for price, amount in bids:
                self._upsert(self.bids, price, amount, falling=True)
            for price, amount in asks:
                self._upsert(self.asks, price, amount, falling=False)
            self.updates_since_snapshot += 1
            touched = {("bid", price) for price, _ in bids} | {("ask", price) for price, _ in asks}
            self.trimmed = [level for level in self.trimmed if level not in touched]
        if trim:
            self._trim({price for price, _ in asks})

    def _upsert(self, levels: list[Level], price: Decimal, amount: Decimal, falling: bool) -> None:
        found, index = _find(levels, price, falling)
        if found and amount == 0:
            del levels[index]
        elif found:
            levels[index] = (levels[index][0], amount)
        elif amount == 0:
            self.unknown_deletes += 1  # barter: "received upsert Level with zero amount ... not found"
        else:
            levels.insert(index, (price, amount))

    def reset(self) -> None:
        self.bids, self.asks, self.sequence, self.time_engine = [], [], 0, None
        self.awaiting_snapshot, self.trimmed = True, []

    def _trim(self, change_asks: set[Decimal]) -> None:
        """tardis' removeCrossedLevels on the shown levels."""
        drop_bids = None
        while True:
            bids, asks = self.shown("bid"), self.shown("ask")
            if not bids or not asks or bids[0][0] < asks[0][0]:
                return
            if drop_bids is None:
                drop_bids = asks[0][0] in change_asks
            self.trimmed.append(("bid", bids[0][0]) if drop_bids else ("ask", asks[0][0]))

    def shown(self, side: str) -> list[Level]:
        levels = self.bids if side == "bid" else self.asks
        return [level for level in levels if (side, level[0]) not in self.trimmed]

    def row(self, time: int, depth: int, reconnects: int) -> dict[str, Any]:
        bids, asks = self.shown("bid"), self.shown("ask")
        best_bid, best_ask = (bids[0] if bids else None), (asks[0] if asks else None)
        row: dict[str, Any] = {
            "time": time, "event_index": self.last_event_index, "exchange": self.exchange,
            "instrument": self.instrument, "sequence": self.sequence, "time_engine": self.time_engine,
        }
        for side, levels in (("bid", bids), ("ask", asks)):
            for position in range(depth):
                level = levels[position] if position < len(levels) else (None, None)
                row[f"{side}_price_{position}"], row[f"{side}_amount_{position}"] = level
        row.update(
            bid_levels=len(bids), ask_levels=len(asks), **prices(best_bid, best_ask),
            synced=self.reconnects_at_snapshot == reconnects,
            after_reconnect=reconnects > (self.reconnects_at_snapshot or 0),
            crossed=bool(self.bids and self.asks and self.bids[0][0] >= self.asks[0][0]),
            sequence_regressed=self.sequence_regressed, unknown_deletes=self.unknown_deletes,
            updates_since_snapshot=self.updates_since_snapshot, skipped_updates=self.skipped_updates,
            trimmed_levels=len(self.bids) + len(self.asks) - len(bids) - len(asks),
        )
        return row


def prices(bid: Optional[Level], ask: Optional[Level]) -> dict[str, Any]:
    """barter's mid_price and volume_weighed_mid_price (one side's best when the other is empty),
    the microprice as an exact fraction (barter's rust_decimal rounds it; the tests allow for
    that), None where barter divides by zero; and the spread."""
    if bid is None or ask is None:
        only = bid or ask
        value = None if only is None else only[0]
        return {"mid_price": value, "microprice": None if value is None else Fraction(value), "spread": None}
    weight = bid[1] + ask[1]
    microprice = None if weight == 0 else (Fraction(bid[0]) * Fraction(ask[1]) + Fraction(ask[0]) * Fraction(bid[1])) / Fraction(weight)
    return {"mid_price": (bid[0] + ask[0]) / 2, "microprice": microprice, "spread": ask[0] - bid[0]}


def replay(
    items: Iterable[Union[MarketEvent, Reconnecting]],
    depth: int = 10,
    every: Union[str, int] = "event",
    at: Optional[list[int]] = None,
    clock: str = "exchange",
    exchanges: Optional[set[str]] = None,
    instruments: Optional[set[int]] = None,
    emit_from: Optional[int] = None,
    emit_until: Optional[int] = None,
    reconnect: str = "keep",
    crossed: str = "keep",
) -> Iterator[dict[str, Any]]:
    """The rows of a replay of ``items`` (``md.items()``), as the library documents them."""
    books: dict[tuple[str, int], Book] = {}
    reconnect_counts: dict[str, int] = {}
    moments: list[int] = sorted(at) if at is not None else []
    next_moment: Optional[int] = None if at is None else 0
    grid = every if isinstance(every, int) else None
    latest: Optional[int] = None

    def in_window(time: int) -> bool:
        return (emit_from is None or time >= emit_from) and (emit_until is None or time < emit_until)

    def sample(moment: int) -> Iterator[dict[str, Any]]:
        if in_window(moment):
            for book in books.values():
                yield book.row(moment, depth, reconnect_counts.get(book.exchange, 0))

    def moment_due() -> Optional[int]:
        if at is not None:
            return moments[next_moment] if next_moment < len(moments) else None
        return next_moment

    event_index = -1
    for item in items:
        if isinstance(item, Reconnecting):
            name = item.exchange.value
            if exchanges is None or name in exchanges:
                reconnect_counts[name] = reconnect_counts.get(name, 0) + 1
                if reconnect == "reset":
                    for book in books.values():
                        if book.exchange == name:
                            book.reset()
            continue
        event_index += 1
        if not isinstance(item.kind, OrderBookEvent):
            continue
        name = item.exchange.value
        if (exchanges is not None and name not in exchanges) or (instruments is not None and item.instrument not in instruments):
            continue
        time = item.time_exchange_ns if clock == "exchange" else item.time_received_ns
        if grid is not None and latest is None:
            start = time if emit_from is None else max(time, emit_from)
            next_moment = -(-start // grid) * grid
        while (due := moment_due()) is not None and due < time:
            yield from sample(due)
            next_moment = next_moment + (1 if at is not None else grid)
        latest = time if latest is None else max(latest, time)
        key = (name, item.instrument)
        if key not in books:
            books[key] = Book(name, item.instrument)
            books[key].awaiting_snapshot = reconnect == "reset" and reconnect_counts.get(name, 0) > 0
        book = books[key]
        reconnects = reconnect_counts.get(name, 0)
        book.apply(item.kind, event_index, reconnects, crossed == "trim")
        if every in ("event", "change") and at is None:
            shown = (book.shown("bid")[:depth], book.shown("ask")[:depth])
            changed, book.last_shown = shown != book.last_shown, shown
            if (every == "event" or changed) and in_window(time):
                yield book.row(time, depth, reconnects)
    while (due := moment_due()) is not None and (at is not None or (latest is not None and due <= latest)):
        if emit_until is not None and due >= emit_until:
            break
        yield from sample(due)
        next_moment = next_moment + (1 if at is not None else grid)
