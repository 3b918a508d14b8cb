"""What a data set holds, for people: its market events counted by kind, exchange and
instrument, each group with its span of ``time_exchange``, and its reconnect markers by exchange;
and an event as one line of text.

The library counts in one walk over the data it holds, without encoding or decoding an event,
so a summary costs little beside a load and nothing in Python per event: ``md.summary()``,
``iter_json_file(path).summary()`` (a file of any size, in bounded memory), ``barter-ffi
summary`` and the notebook tables (``md._repr_html_``) all read it.

Wire layout
-----------
``_Layout`` is the Python definition of the summary layout written down at the top of the C
header (``barter_ffi.get_include()``) and in the API reference (``[groups, markers]``, each group ``[tag, exchange, instrument,
events, time_exchange_min_ns, time_exchange_max_ns]``, each marker count ``[exchange, count]``).
Change the two together; ``tests/test_summary.py`` and the Rust ``tests/summary.rs`` pin them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Optional

import msgspec

from ._ffi import call, ffi, lib, read_buffer
from .data import KIND_CLASSES, DataKind, ExchangeId, Level, MarketEvent, OrderBookEvent, OrderBookL1
from .errors import MarketDataError
from .timestamps import iso

__all__ = ["Group", "Summary", "event_line", "kind_fields", "read_counts"]

KIND_BY_TAG: dict[int, type] = {kind.__struct_config__.tag: kind for kind in KIND_CLASSES}  # type: ignore[misc]
"""Each wire tag's event kind class."""

KIND_NAMES = tuple(dict.fromkeys(kind.KIND_NAME for kind in KIND_CLASSES))  # type: ignore[attr-defined]
"""The kind names in the library's order: public_trade, l1, l2, candle, liquidation."""


@dataclasses.dataclass(frozen=True)
class Group:
    """The market events of one kind, exchange and instrument."""

    kind: type
    """The event kind's class: ``PublicTrade``, ``OrderBookL1``, ``OrderBookSnapshot``, …;
    ``kind.KIND_NAME`` is its name (``"l2"`` for both book classes)."""
    exchange: ExchangeId
    instrument: int
    events: int
    time_exchange_min_ns: int
    time_exchange_max_ns: int

    def followed_by(self, later: "Group") -> "Group":
        """This group and the same group of data that comes after it, as one."""
        return dataclasses.replace(
            self,
            events=self.events + later.events,
            time_exchange_min_ns=min(self.time_exchange_min_ns, later.time_exchange_min_ns),
            time_exchange_max_ns=max(self.time_exchange_max_ns, later.time_exchange_max_ns),
        )


@dataclasses.dataclass(frozen=True)
class Summary:
    """A data set's counts (``md.summary()``), computed by the library without decoding events.

    ``market_events``, ``reconnects`` and ``errors_skipped`` are ``md.stats``'s; ``groups`` hold
    the market events by kind, exchange and instrument (ordered so), with their time spans;
    ``reconnects_by_exchange`` the reconnect markers, which barter keeps for the engine.
    """

    market_events: int
    reconnects: int
    errors_skipped: int
    time_first_event_ns: Optional[int]
    """barter's ``time_first_event`` (the first market event's ``time_exchange`` in data-set
    order); ``None`` for an empty data set."""
    groups: tuple[Group, ...]
    reconnects_by_exchange: dict[str, int]

    @property
    def time_exchange_min_ns(self) -> Optional[int]:
        """The earliest ``time_exchange`` (recordings in arrival order need not start with it)."""
        return min((group.time_exchange_min_ns for group in self.groups), default=None)

    @property
    def time_exchange_max_ns(self) -> Optional[int]:
        return max((group.time_exchange_max_ns for group in self.groups), default=None)

    @property
    def by_kind(self) -> dict[str, int]:
        """Market events by kind name, names sorted."""
        return _tally((group.kind.KIND_NAME, group.events) for group in self.groups)  # type: ignore[attr-defined]

    @property
    def by_exchange(self) -> dict[str, int]:
        """Market events by exchange name, names sorted."""
        return _tally((group.exchange.value, group.events) for group in self.groups)

    @property
    def by_instrument(self) -> dict[int, int]:
        """Market events by instrument index, indices sorted."""
        return _tally((group.instrument, group.events) for group in self.groups)

    def followed_by(self, later: "Summary") -> "Summary":
        """The summary of this data followed by ``later``'s (consecutive pieces of a file)."""
        groups = {_group_key(group): group for group in self.groups}
        for group in later.groups:
            key = _group_key(group)
            groups[key] = groups[key].followed_by(group) if key in groups else group
        markers = dict(self.reconnects_by_exchange)
        for exchange, count in later.reconnects_by_exchange.items():
            markers[exchange] = markers.get(exchange, 0) + count
        return Summary(
            market_events=self.market_events + later.market_events,
            reconnects=self.reconnects + later.reconnects,
            errors_skipped=self.errors_skipped + later.errors_skipped,
            time_first_event_ns=later.time_first_event_ns if self.time_first_event_ns is None
            else self.time_first_event_ns,
            groups=tuple(groups[key] for key in sorted(groups)),
            reconnects_by_exchange=dict(sorted(markers.items())),
        )


def _group_key(group: Group) -> tuple[int, str, int]:
    """The layout's order: kind tag, exchange name, instrument."""
    return group.kind.__struct_config__.tag, group.exchange.value, group.instrument  # type: ignore[attr-defined]


def _tally(pairs: Iterable[tuple[Any, int]]) -> dict:
    counts: dict = {}
    for key, count in pairs:
        counts[key] = counts.get(key, 0) + count
    return dict(sorted(counts.items()))


class _GroupRecord(msgspec.Struct, array_like=True, frozen=True):
    tag: int
    exchange: ExchangeId
    instrument: int
    events: int
    time_exchange_min_ns: int
    time_exchange_max_ns: int


class _Layout(msgspec.Struct, array_like=True, frozen=True):
    groups: list[_GroupRecord]
    markers: list[tuple[ExchangeId, int]]


_decode_layout = msgspec.msgpack.Decoder(_Layout).decode


def read_counts(handle: Any) -> tuple[tuple[Group, ...], dict[str, int]]:
    """The library's counts of ``handle`` (a ``BarterFfiMarketData *``): ``Summary.groups`` and
    ``Summary.reconnects_by_exchange``."""
    buffer = ffi.new("BarterFfiBuffer *")
    call(lib.barter_ffi_market_data_summary, handle, buffer)
    try:
        layout = read_buffer(buffer, _decode_layout)
    except msgspec.ValidationError as error:
        raise MarketDataError(
            f"the library sent a summary this barter_ffi cannot read ({error}); is the package older than its library?"
        ) from None
    groups = tuple(
        Group(KIND_BY_TAG[record.tag], record.exchange, record.instrument, record.events,
              record.time_exchange_min_ns, record.time_exchange_max_ns)
        for record in layout.groups
    )
    return groups, {exchange.value: count for exchange, count in layout.markers}


def _level(level: Optional[Level]) -> str:
    return "-" if level is None else f"{level.price_text} x {level.amount_text}"


def _levels(levels: tuple[Level, ...], shown: int = 3) -> str:
    text = ", ".join(_level(level) for level in levels[:shown])
    more = f", +{len(levels) - shown} more" if len(levels) > shown else ""
    return f"[{text}{more}]"


def kind_fields(kind: DataKind) -> str:
    """An event's kind-specific fields on one line: ``bid 96962.5 x 0.5  ask -``, ``id=… price=…``."""
    if isinstance(kind, OrderBookL1):
        return f"bid {_level(kind.best_bid)}  ask {_level(kind.best_ask)}"
    if isinstance(kind, OrderBookEvent):
        variant = "snapshot" if kind.is_snapshot else "update"
        return f"{variant} sequence={kind.sequence} bids={_levels(kind.bids)} asks={_levels(kind.asks)}"
    return " ".join(
        f"{name.removesuffix('_ns')}={iso(value) if name.endswith('_ns') else getattr(value, 'value', value)}"
        for name, value in zip(kind.__struct_fields__, (getattr(kind, name) for name in kind.__struct_fields__))
    )


def event_line(event: MarketEvent) -> str:
    """One market event on one line: time, exchange, instrument, kind and its fields."""
    return (
        f"{iso(event.time_exchange_ns)}  {event.exchange.value:<14} {event.instrument:>4}  "
        f"{event.kind.kind_name():<12} {kind_fields(event.kind)}"
    )
