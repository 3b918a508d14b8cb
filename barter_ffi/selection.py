"""Which events to keep, as the library's ``BarterFfiFilter``: shared by ``md.filter(...)`` and
the loaders' ``kinds=``, ``exchanges=``, ``instruments=``, ``start=``, ``end=`` arguments, so
that both select exactly alike."""

from __future__ import annotations

from typing import Any, Iterable, Optional, Union, cast

from ._ffi import ffi
from .data import KIND_CLASSES, ExchangeId, OrderBookEvent
from .timestamps import Moment, iso, nanoseconds

__all__ = ["Selection"]


def _kind_tag_table() -> dict[Union[str, type], frozenset[int]]:
    """Kind names and classes (``OrderBookEvent`` too) to the wire tags they stand for."""
    table: dict[Union[str, type], frozenset[int]] = {}
    for kind in KIND_CLASSES:
        keys = [kind, kind.KIND_NAME] + ([OrderBookEvent] if issubclass(kind, OrderBookEvent) else [])
        for key in keys:
            table[key] = table.get(key, frozenset()) | {cast(int, kind.__struct_config__.tag)}
    return table


_KIND_TAGS = _kind_tag_table()


def _kind_bits(kinds: Iterable[Union[str, type]]) -> int:
    bits = 0
    for kind in kinds:
        if kind not in _KIND_TAGS:
            raise ValueError(
                f"unknown kind {kind!r}: use one of 'public_trade', 'l1', 'l2', 'candle', 'liquidation' "
                "or an event class"
            )
        for tag in _KIND_TAGS[kind]:
            bits |= 1 << tag
    return bits


class Selection:
    """A ``BarterFfiFilter`` and the memory it points to, which lives as long as this object.

    ``kinds``: kind names (``"public_trade"``, ``"l1"``, ``"l2"``, ``"candle"``,
    ``"liquidation"``) or classes (``PublicTrade``, ``OrderBookSnapshot``, ...). ``start``
    (inclusive) and ``end`` (exclusive) bound ``time_exchange``: int nanoseconds, tz-aware
    ``datetime`` or ``pandas.Timestamp`` (nanoseconds kept), or ``numpy.datetime64`` (any unit,
    read as UTC); anything else is a ``TypeError``. ``None`` keeps everything on that axis.
    """

    __slots__ = ("spec", "keeps_everything", "_owners")

    def __init__(
        self,
        kinds: Optional[Iterable[Union[str, type]]] = None,
        exchanges: Optional[Iterable[Union[ExchangeId, str]]] = None,
        instruments: Optional[Iterable[int]] = None,
        start: Optional[Moment] = None,
        end: Optional[Moment] = None,
    ) -> None:
        self.spec: Any = ffi.new("BarterFfiFilter *")
        self.spec.struct_size = ffi.sizeof("BarterFfiFilter")
        self.keeps_everything = all(axis is None for axis in (kinds, exchanges, instruments, start, end))
        self._owners: list = []  # cffi frees memory with its last owning reference
        if instruments is not None:
            self._keep_instruments(list(instruments))
        if kinds is not None:
            self.spec.kinds = _kind_bits(kinds)
            if self.spec.kinds == 0:
                # No kind at all, which the library's 0 (every kind) cannot say: no instrument
                # either then, so that nothing matches.
                self._keep_instruments([])
        if exchanges is not None:
            names = [ffi.new("char[]", ExchangeId(exchange).value.encode()) for exchange in exchanges]
            name_array = ffi.new("char *[]", names)
            self._owners += [names, name_array]
            self.spec.exchanges, self.spec.exchanges_len = name_array, len(names)
        if start is not None:
            self.spec.has_start, self.spec.start_ns = 1, nanoseconds(start, "start")
        if end is not None:
            self.spec.has_end, self.spec.end_ns = 1, nanoseconds(end, "end")

    def _keep_instruments(self, indices: list[int]) -> None:
        if any(index < 0 for index in indices):
            raise ValueError("instruments are non-negative indices")
        # A non-NULL array even when empty: NULL would keep every instrument.
        index_array = ffi.new("uint64_t[]", indices or [0])
        self._owners.append(index_array)
        self.spec.instruments, self.spec.instruments_len = index_array, len(indices)

    def description(self) -> list[tuple[str, str]]:
        """What is kept, axis by axis, for people (``[("kinds", "public_trade, l1"), …]``),
        read back from the spec; the axes that keep everything are left out."""
        spec = self.spec
        axes: list[tuple[str, str]] = []
        if spec.kinds:
            chosen = [kind for kind in KIND_CLASSES if spec.kinds >> cast(int, kind.__struct_config__.tag) & 1]
            books = [kind for kind in chosen if issubclass(kind, OrderBookEvent)]
            names = [kind.KIND_NAME if len(books) != 1 or kind not in books else kind.__name__  # type: ignore[attr-defined]
                     for kind in chosen]
            axes.append(("kinds", ", ".join(dict.fromkeys(names))))
        if spec.exchanges != ffi.NULL:
            axes.append(("exchanges", ", ".join(ffi.string(spec.exchanges[index]).decode()
                                                for index in range(spec.exchanges_len)) or "none"))
        if spec.instruments != ffi.NULL:
            axes.append(("instruments", ", ".join(str(spec.instruments[index])
                                                  for index in range(spec.instruments_len)) or "none"))
        if spec.has_start:
            axes.append(("start", f"{iso(spec.start_ns)} (inclusive)"))
        if spec.has_end:
            axes.append(("end", f"{iso(spec.end_ns)} (exclusive)"))
        return axes

    def spec_or_null(self) -> Any:
        """The spec, or NULL when it keeps everything (a plain load)."""
        return ffi.NULL if self.keeps_everything else self.spec
