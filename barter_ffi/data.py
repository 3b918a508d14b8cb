"""barter's market event types, as msgspec Structs decoded straight from the library's batches.

Field names and meanings are barter's (``barter_data::event::MarketEvent`` and its ``DataKind``
variants). Two things differ, both to keep what barter holds exactly:

- Every timestamp is stored as integer nanoseconds since the Unix epoch, UTC, under the barter
  name plus ``_ns`` (``event.time_exchange_ns``); the barter name itself is a property giving a
  tz-aware ``datetime`` (which cannot hold the last three digits).
- ``Level`` keeps barter's decimals as the exact text ``rust_decimal`` writes (``price_text``,
  ``amount_text``); ``level.price`` and ``level.amount`` are that text as ``decimal.Decimal``,
  scale included (``Decimal("2059.10000000")``). Building a ``Decimal`` only when one is read is
  what keeps decoding order books cheap.

Built by hand, each type takes its fields by position or by name, and checks them where they
are passed (``barter_ffi.construction``): a time field (``…_ns``) takes int nanoseconds, a
tz-aware ``datetime`` or ``pandas.Timestamp``, a ``numpy.datetime64`` or RFC 3339 text, kept
exactly; a decimal's text (``…_text``) a ``str``, ``Decimal`` or ``int``; an enum its member or
name. A wrong type is a ``TypeError`` naming the field. A ``repr`` is the constructor call that
builds the same value, with times as RFC 3339 text::

    MarketEvent(time_exchange_ns='2024-12-20T19:05:18.175000000Z', time_received_ns=…,
                exchange='binance_spot', instrument=0,
                kind=PublicTrade(id='4314349047', price=96962.51, amount=6e-05, side='Buy'))

>>> from barter_ffi import MarketDataInMemory, PublicTrade, sample_path
>>> with MarketDataInMemory.from_json_file(sample_path("trades.json")) as md:
...     event = md.events()[0]
>>> event.time_exchange.isoformat(), event.time_received_ns
('2024-12-20T19:05:18.175000+00:00', 1734721518319581890)
>>> isinstance(event.kind, PublicTrade), event.kind.kind_name(), event.kind.side
(True, 'public_trade', <Side.BUY: 'Buy'>)

Wire layout
-----------
These Structs *are* the Python definition of the batch format the library's cursors hand out
(written down for C hosts in the installed header, ``barter_ffi.get_include()``, as its "batch
layout"): ``array_like`` Structs encode as arrays in field order, and each kind's ``tag`` is its
first element. The crate's ``output/wire.rs`` is the Rust definition: change the two together;
``tests/test_wire.py`` and the Rust ``tests/wire.rs`` pin them. The items layout, which shows
reconnect markers, is ``_ItemsBatch``: the batch's events, and ``(before, exchange)`` for each
marker, ``before`` being the index of the event it precedes.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Optional, Union, cast

import msgspec

from .construction import CheckedConstruction, from_wire
from .errors import MarketDataError, unknown_name
from .timestamps import Moment, iso, utc_datetime_property

__all__ = [
    "Candle",
    "DataKind",
    "ExchangeId",
    "Level",
    "Liquidation",
    "MarketEvent",
    "OrderBookEvent",
    "OrderBookL1",
    "OrderBookSnapshot",
    "OrderBookUpdate",
    "PublicTrade",
    "Reconnecting",
    "Side",
]


class _ValuedStrEnum(str, Enum):
    """A str enum whose ``str()`` and ``format()`` are its value on every Python version (3.11
    changed what the mixed-in ``format`` gives, 3.12 what ``str`` gives)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)

    @classmethod
    def _named(cls, value: object, what: str, aliases: dict[str, str], all_names: str = "") -> Any:
        """``Enum._missing_``: the member an alias of barter's serde names; an unknown name's
        error names the closest names (msgspec, which calls it too, reports its own error when
        decoding)."""
        if isinstance(value, str):
            if value in aliases:
                return cls(aliases[value])
            raise unknown_name(what, value, [member.value for member in cls], all_names=all_names, aliases=aliases)
        return None


_SIDE_ALIASES = {"buy": "Buy", "BUY": "Buy", "b": "Buy", "sell": "Sell", "SELL": "Sell", "s": "Sell"}
"""The other names barter's serde reads as a side (barter-instrument's ``Side``: ``#[serde(alias = …)]``),
pinned against barter's reading by ``tests/test_events.py``."""
_EXCHANGE_ALIASES = {"huobi": "htx"}
"""The other names barter's serde reads as an exchange (barter-instrument's ``ExchangeId``), pinned
as the side aliases are."""


class Side(_ValuedStrEnum):
    """barter_instrument::Side, valued by its serde names; ``Side("buy")`` takes the other names
    barter's serde reads too (``buy``, ``BUY``, ``b``, ``sell``, ``SELL``, ``s``)."""

    BUY = "Buy"
    SELL = "Sell"

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls._named(value, "side", _SIDE_ALIASES)

    def __repr__(self) -> str:
        return f"<Side.{self.name}: {self.value!r}>"


class ExchangeId(_ValuedStrEnum):
    """barter_instrument::exchange::ExchangeId, valued by its serde (snake_case) names;
    ``ExchangeId("huobi")`` takes barter's alias too (``HTX``)."""

    OTHER = "other"
    SIMULATED = "simulated"
    MOCK = "mock"
    BINANCE_FUTURES_COIN = "binance_futures_coin"
    BINANCE_FUTURES_USD = "binance_futures_usd"
    BINANCE_OPTIONS = "binance_options"
    BINANCE_PORTFOLIO_MARGIN = "binance_portfolio_margin"
    BINANCE_SPOT = "binance_spot"
    BINANCE_US = "binance_us"
    BITAZZA = "bitazza"
    BITFINEX = "bitfinex"
    BITFLYER = "bitflyer"
    BITGET = "bitget"
    BITMART = "bitmart"
    BITMART_FUTURES_USD = "bitmart_futures_usd"
    BITMEX = "bitmex"
    BITSO = "bitso"
    BITSTAMP = "bitstamp"
    BITVAVO = "bitvavo"
    BITHUMB = "bithumb"
    BYBIT_PERPETUALS_USD = "bybit_perpetuals_usd"
    BYBIT_SPOT = "bybit_spot"
    CEXIO = "cexio"
    COINBASE = "coinbase"
    COINBASE_INTERNATIONAL = "coinbase_international"
    CRYPTOCOM = "cryptocom"
    DERIBIT = "deribit"
    GATEIO_FUTURES_BTC = "gateio_futures_btc"
    GATEIO_FUTURES_USD = "gateio_futures_usd"
    GATEIO_OPTIONS = "gateio_options"
    GATEIO_PERPETUALS_BTC = "gateio_perpetuals_btc"
    GATEIO_PERPETUALS_USD = "gateio_perpetuals_usd"
    GATEIO_SPOT = "gateio_spot"
    GEMINI = "gemini"
    HITBTC = "hitbtc"
    HTX = "htx"
    KRAKEN = "kraken"
    KUCOIN = "kucoin"
    LIQUID = "liquid"
    MEXC = "mexc"
    OKX = "okx"
    POLONIEX = "poloniex"

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls._named(value, "exchange", _EXCHANGE_ALIASES, "list(barter_ffi.ExchangeId) has all 42")


class _Record(msgspec.Struct, metaclass=CheckedConstruction, array_like=True, frozen=True, gc=False):
    """Immutable, array-encoded and untracked by the cycle collector (records hold no cycles);
    built by hand, checked field by field (``CheckedConstruction``)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={_shown(name, getattr(self, name))}" for name in self.__struct_fields__)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple:
        """Pickles as the wire layout, unpickled as batches are decoded (``from_wire``): no
        check runs again, and nested kinds and levels travel inside one bytes object."""
        return (from_wire, (type(self), encode_events(self)))

    def __replace__(self, **changes: Any) -> Any:
        """``copy.replace(event, field=…)`` (Python 3.13), checked as the constructor checks."""
        return type(self)(**{**{name: getattr(self, name) for name in self.__struct_fields__}, **changes})


def _shown(name: str, value: Any) -> str:
    """A field's value as its constructor takes it: a time as RFC 3339 text, an enum as its name."""
    if name.endswith("_ns") and isinstance(value, int):
        return repr(iso(value))
    if isinstance(value, Enum):
        return repr(value.value)
    return repr(value)


class Level(_Record, frozen=True):
    """One order-book level: ``price`` and ``amount`` as barter's exact decimals.

    Built from the decimal text (``Level("96962.50", "0.5")``), or a ``Decimal`` (its scale
    kept) or an ``int``, and kept as the text barter holds for it, rust_decimal's (``"1e3"`` is
    ``"1000"``, ``"+1.5"`` ``"1.5"``, ``"-0"`` ``"0"``), so that an event built by hand equals
    itself after ``from_events``; a value rust_decimal would round (more than 28 digits after the
    point, or more than its 96-bit mantissa holds) is a ``ValueError``. Equality compares that
    text, so like barter's output it tells ``"1.0"`` from ``"1.00"``.
    """

    price_text: str
    amount_text: str

    if TYPE_CHECKING:  # what the constructor takes (barter_ffi.construction)
        def __init__(self, price_text: Union[str, Decimal, int], amount_text: Union[str, Decimal, int]) -> None: ...

    @property
    def price(self) -> Decimal:
        return Decimal(self.price_text)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_text)


class PublicTrade(_Record, frozen=True, tag=0):
    """barter_data::subscription::trade::PublicTrade."""

    KIND_NAME: ClassVar[str] = "public_trade"

    id: str
    price: float
    amount: float
    side: Side

    if TYPE_CHECKING:
        def __init__(self, id: str, price: float, amount: float, side: Union[Side, str]) -> None: ...

    def kind_name(self) -> str:
        return self.KIND_NAME


class OrderBookL1(_Record, frozen=True, tag=1):
    """barter_data::subscription::book::OrderBookL1: the best bid and ask, either may be absent."""

    KIND_NAME: ClassVar[str] = "l1"

    last_update_time_ns: int
    best_bid: Optional[Level]
    best_ask: Optional[Level]

    if TYPE_CHECKING:
        def __init__(self, last_update_time_ns: Moment, best_bid: Optional[Level], best_ask: Optional[Level]) -> None: ...

    last_update_time = utc_datetime_property("last_update_time_ns")

    def kind_name(self) -> str:
        return self.KIND_NAME


class OrderBookEvent(_Record, frozen=True):
    """barter's OrderBookEvent: an OrderBook that is either a snapshot or an update.

    Levels are in the order barter holds them (barter does not re-sort on input).
    """

    KIND_NAME: ClassVar[str] = "l2"

    sequence: int
    time_engine_ns: Optional[int]
    bids: tuple[Level, ...]
    """Tuples keep the event immutable and hashable like every other kind; a list given to the
    constructor becomes a tuple, so events compare equal however they were built."""
    asks: tuple[Level, ...]

    if TYPE_CHECKING:
        def __init__(self, sequence: int, time_engine_ns: Optional[Moment], bids: Iterable[Level],
                     asks: Iterable[Level]) -> None: ...

    time_engine = utc_datetime_property("time_engine_ns", optional=True)

    @property
    def is_snapshot(self) -> bool:
        return isinstance(self, OrderBookSnapshot)

    def kind_name(self) -> str:
        return self.KIND_NAME


class OrderBookSnapshot(OrderBookEvent, frozen=True, tag=2):
    """``OrderBookEvent::Snapshot``: the whole book."""

    if TYPE_CHECKING:
        __init__ = OrderBookEvent.__init__


class OrderBookUpdate(OrderBookEvent, frozen=True, tag=3):
    """``OrderBookEvent::Update``: levels to upsert (an amount of zero removes a level)."""

    if TYPE_CHECKING:
        __init__ = OrderBookEvent.__init__


class Candle(_Record, frozen=True, tag=4):
    """barter_data::subscription::candle::Candle (OHLCV)."""

    KIND_NAME: ClassVar[str] = "candle"

    close_time_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int

    if TYPE_CHECKING:
        def __init__(self, close_time_ns: Moment, open: float, high: float, low: float, close: float, volume: float,
                     trade_count: int) -> None: ...

    close_time = utc_datetime_property("close_time_ns")

    def kind_name(self) -> str:
        return self.KIND_NAME


class Liquidation(_Record, frozen=True, tag=5):
    """barter_data::subscription::liquidation::Liquidation."""

    KIND_NAME: ClassVar[str] = "liquidation"

    side: Side
    price: float
    quantity: float
    time_ns: int

    if TYPE_CHECKING:
        def __init__(self, side: Union[Side, str], price: float, quantity: float, time_ns: Moment) -> None: ...

    time = utc_datetime_property("time_ns")

    def kind_name(self) -> str:
        return self.KIND_NAME


DataKind = Union[PublicTrade, OrderBookL1, OrderBookSnapshot, OrderBookUpdate, Candle, Liquidation]
"""barter_data::event::DataKind: what a MarketEvent carries."""

KIND_CLASSES = (PublicTrade, OrderBookL1, OrderBookSnapshot, OrderBookUpdate, Candle, Liquidation)
"""Every concrete kind, each with its wire tag (``__struct_config__.tag``) and ``KIND_NAME``."""


class MarketEvent(_Record, frozen=True):
    """barter_data::event::MarketEvent<InstrumentIndex, DataKind>."""

    time_exchange_ns: int
    time_received_ns: int
    exchange: ExchangeId
    instrument: int
    kind: DataKind

    if TYPE_CHECKING:
        def __init__(self, time_exchange_ns: Moment, time_received_ns: Moment, exchange: Union[ExchangeId, str],
                     instrument: int, kind: DataKind) -> None: ...

    time_exchange = utc_datetime_property("time_exchange_ns")
    time_received = utc_datetime_property("time_received_ns")


class Reconnecting(_Record, frozen=True):
    """barter's ``Reconnecting`` marker: the exchange's stream reconnected here, so state built
    from its earlier events (an order book from updates) must be reset before its next event.

    Iteration shows markers only when asked: ``md.items()``, ``md.stream(include_reconnects=True)``.
    """

    exchange: ExchangeId

    if TYPE_CHECKING:
        def __init__(self, exchange: Union[ExchangeId, str]) -> None: ...


MarketStreamItem = Union[MarketEvent, Reconnecting]
"""barter's ``MarketStreamEvent``: a market event or a reconnect marker."""


class _ItemsBatch(_Record, frozen=True):
    """The items layout: a batch's events, and each marker as (index of the event it precedes,
    exchange)."""

    events: list[MarketEvent]
    markers: list[tuple[int, ExchangeId]]


_decode_batch = msgspec.msgpack.Decoder(list[MarketEvent]).decode
_decode_items_batch = msgspec.msgpack.Decoder(_ItemsBatch).decode
_BATCH_POSITION = re.compile(r"\$(?:\.events)?\[(\d+)\]")


def _unreadable(error: msgspec.ValidationError, first_index: int) -> MarketDataError:
    position = _BATCH_POSITION.search(str(error))
    where = f"event {first_index + int(position.group(1))}" if position else "a batch"
    return MarketDataError(
        f"{where}: the library sent what this barter_ffi cannot read ({error}); is the package older "
        "than its library?"
    )


def decode_events(batch: Any, first_index: int = 0) -> list[MarketEvent]:
    """Reads one library batch (the wire layout above) into ``MarketEvent``s.

    A batch this package cannot read (say, an exchange added by a newer barter-instrument than
    ``ExchangeId`` lists) is a ``MarketDataError`` naming the event's index in the data set.
    """
    try:
        return _decode_batch(batch)
    except msgspec.ValidationError as error:
        raise _unreadable(error, first_index) from None


def decode_items(batch: Any, first_index: int = 0) -> list[MarketStreamItem]:
    """Reads one batch in the items layout: events and reconnect markers in their places."""
    try:
        decoded = _decode_items_batch(batch)
    except msgspec.ValidationError as error:
        raise _unreadable(error, first_index) from None
    if not decoded.markers:
        return cast("list[MarketStreamItem]", decoded.events)  # the decoder's new list: no copy
    items: list[MarketStreamItem] = []
    placed = 0
    for before, exchange in decoded.markers:
        items += decoded.events[placed:before]
        items.append(Reconnecting(exchange))
        placed = before
    items += decoded.events[placed:]
    return items


def encode_items(items: list[MarketStreamItem]) -> bytes:
    """Writes events and markers in the items layout, as ``barter_ffi_market_data_from_items``
    reads it."""
    events: list[MarketEvent] = []
    markers: list[tuple[int, ExchangeId]] = []
    for item in items:
        if isinstance(item, Reconnecting):
            markers.append((len(events), item.exchange))
        else:
            events.append(item)
    return encode_events(_ItemsBatch(events, markers))

encode_events = msgspec.msgpack.Encoder().encode
"""Writes ``MarketEvent``s as one batch, as ``barter_ffi_market_data_from_batch`` reads it."""
