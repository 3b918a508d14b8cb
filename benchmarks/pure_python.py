"""The two pure-Python ways to load a barter file, as a Python user would write them today.

- ``load_stdlib``: ``json`` plus plain classes, timestamps through ``datetime.fromisoformat``.
- ``load_msgspec``: msgspec decoding the JSON straight into typed Structs (the fastest way).

Both read either shape (JSON Lines of ``MarketStreamEvent``, or a JSON array of
``MarketStreamResult``) and produce one object per market event, skipping reconnect markers and
``Err`` items, as ``MarketDataInMemory.events()`` does. Both do the work barter-ffi's events do:
timestamps become datetimes, book levels stay decimal text (``Level`` parses it when read).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Optional

import msgspec

# --- (a) stdlib -------------------------------------------------------------------------------


def _time(text: str) -> datetime:
    # fromisoformat keeps at most microseconds: cut barter's nanoseconds down first.
    head, _, fraction = text[:-1].partition(".")
    return datetime.fromisoformat(f"{head}.{fraction[:6].ljust(6, '0')}+00:00")


class Event:
    __slots__ = ("time_exchange", "time_received", "exchange", "instrument", "kind")

    def __init__(self, raw: dict) -> None:
        self.time_exchange = _time(raw["time_exchange"])
        self.time_received = _time(raw["time_received"])
        self.exchange = raw["exchange"]
        self.instrument = raw["instrument"]
        self.kind = _kind(raw["kind"])


class Record:
    def __init__(self, name: str, fields: dict) -> None:
        self.name = name
        self.__dict__.update(fields)


def _level(raw: Optional[dict]) -> Optional[tuple]:
    # The decimal text, as barter-ffi's Level keeps it until read: the same work both ways.
    return None if raw is None else (raw["price"], raw["amount"])


def _kind(raw: dict) -> Record:
    (name, body), = raw.items()
    if name == "OrderBook":
        (variant, book), = body.items()
        return Record(variant, {
            "sequence": book["sequence"],
            "time_engine": book.get("time_engine") and _time(book["time_engine"]),
            "bids": [_level(level) for level in book["bids"]["levels"]],
            "asks": [_level(level) for level in book["asks"]["levels"]],
        })
    fields = dict(body)
    for key in ("last_update_time", "close_time", "time"):
        if key in fields:
            fields[key] = _time(fields[key])
    for key in ("best_bid", "best_ask"):
        if key in fields:
            fields[key] = _level(fields[key])
    return Record(name, fields)


def _is_array(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4096).lstrip()[:1] == b"["


def load_stdlib(path: str) -> list:
    if _is_array(path):
        with open(path, encoding="utf-8") as file:
            return [Event(item["Item"]["Ok"]) for item in json.load(file) if "Ok" in item.get("Item", {})]
    with open(path, encoding="utf-8") as lines:
        return [Event(item["Item"]) for line in lines if line.strip() and "Item" in (item := json.loads(line))]


# --- (b) msgspec into Structs -----------------------------------------------------------------


class Level(msgspec.Struct, gc=False):
    # The decimal text, as barter-ffi's Level keeps it until read: the same work both ways.
    price: str
    amount: str


class Trade(msgspec.Struct, gc=False):
    id: str
    price: float
    amount: float
    side: str


class L1(msgspec.Struct, gc=False):
    last_update_time: datetime
    best_bid: Optional[Level] = None
    best_ask: Optional[Level] = None


class BookSide(msgspec.Struct, gc=False):
    levels: list[Level]


class Book(msgspec.Struct, gc=False):
    sequence: int
    bids: BookSide
    asks: BookSide
    time_engine: Optional[datetime] = None


class BookEvent(msgspec.Struct, gc=False):
    Snapshot: Optional[Book] = None
    Update: Optional[Book] = None


class Candle(msgspec.Struct, gc=False):
    close_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int


class Liquidation(msgspec.Struct, gc=False):
    side: str
    price: float
    quantity: float
    time: datetime


class Kind(msgspec.Struct, gc=False):
    Trade: Optional[Trade] = None
    OrderBookL1: Optional[L1] = None
    OrderBook: Optional[BookEvent] = None
    Candle: Optional[Candle] = None
    Liquidation: Optional[Liquidation] = None


class MarketEvent(msgspec.Struct, gc=False):
    time_exchange: datetime
    time_received: datetime
    exchange: str
    instrument: int
    kind: Kind


class StreamEvent(msgspec.Struct, gc=False):
    Item: Optional[MarketEvent] = None
    Reconnecting: Optional[str] = None


class Outcome(msgspec.Struct, gc=False):
    Ok: Optional[MarketEvent] = None
    Err: Any = None  # barter drops Err items; their content does not matter here


class StreamResult(msgspec.Struct, gc=False):
    Item: Optional[Outcome] = None
    Reconnecting: Optional[str] = None


_decode_lines = msgspec.json.Decoder(StreamEvent).decode_lines
_decode_array = msgspec.json.Decoder(list[StreamResult]).decode


def load_msgspec(path: str) -> list:
    if _is_array(path):
        with open(path, "rb") as file:
            return [item.Item.Ok for item in _decode_array(file.read()) if item.Item and item.Item.Ok]
    # The fastest way msgspec offers for JSON Lines: one call over the whole file.
    with open(path, "rb") as file:
        return [item.Item for item in _decode_lines(file.read()) if item.Item is not None]

