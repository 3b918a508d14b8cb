"""Which files and which events to read: the one place that reads the paths of
``from_json_files`` and Dask's readers, and the selection arguments (``kinds``, ``exchanges``,
``instruments``, ``start``, ``end``) of ``filter``, the loaders, ``iter_json_file`` and Dask, so
that every function taking them reads them alike.

Each selection argument takes one value or an iterable of values: ``kinds="l1"`` is
``kinds=["l1"]``, and a ``str`` is always one name, never its characters. ``None`` keeps
everything on that axis; an empty iterable keeps nothing.
"""

from __future__ import annotations

import collections.abc
import errno
import glob
import operator
import os
from typing import Any, Callable, Iterable, Literal, Optional, SupportsIndex, Union, cast

from ._ffi import PathLike, encode_path, ffi
from .construction import unsigned
from .data import KIND_CLASSES, Candle, ExchangeId, Liquidation, OrderBookEvent, OrderBookL1, PublicTrade
from .errors import unknown_name
from .timestamps import Moment, iso, nanoseconds

__all__ = [
    "Exchanges", "KindName", "Kinds", "Instruments", "Paths", "Selection", "paths_to_read", "selection_arguments",
]

KindName = Literal["public_trade", "l1", "l2", "candle", "liquidation"]
"""The kinds' names (each kind class's ``KIND_NAME``; ``"l2"`` is both book kinds)."""
KindClass = Union[type[PublicTrade], type[OrderBookL1], type[OrderBookEvent], type[Candle], type[Liquidation]]
Kind = Union[KindName, KindClass]
Kinds = Union[Kind, Iterable[Kind]]
"""A kind (a name or an event class, ``OrderBookEvent`` for both book kinds), or several."""
Exchanges = Union[ExchangeId, str, Iterable[Union[ExchangeId, str]]]
"""An exchange (an ``ExchangeId`` or its barter name, ``"binance_spot"``), or several."""
Instruments = Union[SupportsIndex, Iterable[SupportsIndex]]
"""An instrument index (an ``int``, numpy's integers too), or several."""
Paths = Union[PathLike, Iterable[PathLike]]
"""One path, a glob (``"rec/*.jsonl.zst"``), or an iterable of paths."""


def _kind_tag_table() -> dict[Union[str, type], frozenset[int]]:
    """Kind names and classes (``OrderBookEvent`` too) to the wire tags they stand for."""
    table: dict[Union[str, type], frozenset[int]] = {}
    for kind in KIND_CLASSES:
        keys = [kind, kind.KIND_NAME] + ([OrderBookEvent] if issubclass(kind, OrderBookEvent) else [])
        for key in keys:
            table[key] = table.get(key, frozenset()) | {cast(int, kind.__struct_config__.tag)}
    return table


_KIND_TAGS = _kind_tag_table()
_KIND_NAMES = [key for key in _KIND_TAGS if isinstance(key, str)]


def _listed(value: Any, argument: str, expected: str, is_one: Callable[[Any], bool]) -> list[Any]:
    """``value`` as a list: ``[value]`` when ``is_one(value)``, else the items it iterates."""
    if is_one(value):
        return [value]
    if not isinstance(value, collections.abc.Iterable):
        raise TypeError(f"{argument} takes {expected}, or an iterable of them, not {type(value).__name__}")
    return list(value)


def _kind(kind: Any) -> Union[str, type]:
    if isinstance(kind, (str, type)) and kind in _KIND_TAGS:
        return kind
    if isinstance(kind, str):
        raise unknown_name("kind", kind, _KIND_NAMES, or_else=", or an event class such as PublicTrade")
    if isinstance(kind, type):
        raise ValueError(f"kinds: {kind.__name__} is not an event kind (PublicTrade, OrderBookL1, OrderBookEvent, …)")
    raise TypeError(f"kinds takes kind names (str) or event classes, not {type(kind).__name__}")


def _exchange(exchange: Any) -> ExchangeId:
    if isinstance(exchange, str):
        return ExchangeId(exchange)  # an unknown name's error names the closest (ExchangeId._missing_)
    raise TypeError(f"exchanges takes exchange names (str) or ExchangeId, not {type(exchange).__name__}")


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, bytes))


def _is_kind(value: Any) -> bool:
    """One kind: a name or an event class. (For exchanges a class is not one item: iterating
    ``ExchangeId`` gives every exchange.)"""
    return isinstance(value, (str, bytes, type))


def _is_index(value: Any) -> bool:
    """An int, or anything taken as one (numpy's integers, a 0-d integer array)."""
    if _is_text(value):
        return True
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def selection_arguments(
    kinds: Optional[Kinds] = None,
    exchanges: Optional[Exchanges] = None,
    instruments: Optional[Instruments] = None,
    start: Optional[Moment] = None,
    end: Optional[Moment] = None,
) -> dict[str, Any]:
    """The selection arguments checked and spelled out, as plain values a Dask task can carry:
    lists of kind names or classes, exchange names and instrument indices, and times as int
    nanoseconds (``None`` where not given). ``TypeError`` for a value of the wrong type,
    ``ValueError`` (naming the closest names) for an unknown kind or exchange."""
    return {
        "kinds": None if kinds is None else [
            _kind(kind) for kind in _listed(kinds, "kinds", "a kind name or event class", _is_kind)
        ],
        "exchanges": None if exchanges is None else [
            _exchange(exchange).value
            for exchange in _listed(exchanges, "exchanges", "an exchange name or ExchangeId", _is_text)
        ],
        "instruments": None if instruments is None else [
            unsigned(index, "instruments", "instrument indices (int)")
            for index in _listed(instruments, "instruments", "an instrument index (int)", _is_index)
        ],
        "start": None if start is None else nanoseconds(start, "start"),
        "end": None if end is None else nanoseconds(end, "end"),
    }


class Selection:
    """A ``BarterFfiFilter`` and the memory it points to, which lives as long as this object.

    ``kinds``: kind names (``"public_trade"``, ``"l1"``, ``"l2"``, ``"candle"``,
    ``"liquidation"``) or classes (``PublicTrade``, ``OrderBookSnapshot``, ...). ``exchanges``:
    ``ExchangeId`` members or their names. ``instruments``: indices. Each takes one value or an
    iterable of them. ``start`` (inclusive) and ``end`` (exclusive) bound ``time_exchange``:
    int nanoseconds, tz-aware ``datetime`` or ``pandas.Timestamp`` (nanoseconds kept),
    ``numpy.datetime64`` (any unit, read as UTC) or RFC 3339 text with its offset; any other type
    is a ``TypeError``. ``None`` keeps everything on that axis.
    """

    __slots__ = ("spec", "keeps_everything", "_owners")

    def __init__(
        self,
        kinds: Optional[Kinds] = None,
        exchanges: Optional[Exchanges] = None,
        instruments: Optional[Instruments] = None,
        start: Optional[Moment] = None,
        end: Optional[Moment] = None,
    ) -> None:
        selected = selection_arguments(kinds, exchanges, instruments, start, end)
        self.spec: Any = ffi.new("BarterFfiFilter *")
        self.spec.struct_size = ffi.sizeof("BarterFfiFilter")
        self.keeps_everything = all(axis is None for axis in selected.values())
        self._owners: list = []  # cffi frees memory with its last owning reference
        if selected["instruments"] is not None:
            self._keep_instruments(selected["instruments"])
        if selected["kinds"] is not None:
            self.spec.kinds = _kind_bits(selected["kinds"])
            if self.spec.kinds == 0:
                # No kind at all, which the library's 0 (every kind) cannot say: no instrument
                # either then, so that nothing matches.
                self._keep_instruments([])
        if selected["exchanges"] is not None:
            names = [ffi.new("char[]", name.encode()) for name in selected["exchanges"]]
            name_array = ffi.new("char *[]", names)
            self._owners += [names, name_array]
            self.spec.exchanges, self.spec.exchanges_len = name_array, len(names)
        if selected["start"] is not None:
            self.spec.has_start, self.spec.start_ns = 1, selected["start"]
        if selected["end"] is not None:
            self.spec.has_end, self.spec.end_ns = 1, selected["end"]

    def _keep_instruments(self, indices: list[int]) -> None:
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


def _kind_bits(kinds: Iterable[Union[str, type]]) -> int:
    bits = 0
    for kind in kinds:
        for tag in _KIND_TAGS[kind]:
            bits |= 1 << tag
    return bits


def paths_to_read(paths: Paths) -> list[PathLike]:
    """The files ``paths`` names: one path, a glob (``*``, ``?``, ``[``; expanded, sorted), or an
    iterable of paths, each taken as written. An existing file is itself even if its name looks
    like a glob. Each is checked now (not read), so that a bad one fails before any is read (and
    before a Dask graph is built): ``FileNotFoundError`` for a missing file or a glob matching
    nothing, ``IsADirectoryError`` for a directory (name its files with a glob), ``ValueError``
    for no path."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        path = os.fsdecode(paths)
        if not os.path.exists(path) and glob.has_magic(path):
            found: list[Any] = sorted(glob.glob(path))
            if not found:
                raise FileNotFoundError(errno.ENOENT, "no file matches this glob", path)
            return found
        listed = [paths]
    else:
        listed = _listed(paths, "paths", "a path or glob (str, bytes, os.PathLike)", lambda value: False)
    if not listed:
        raise ValueError("no path to read")
    for file in map(os.fsdecode, listed):
        encode_path(file)  # a NUL byte is refused as every reader refuses it (exists() says False)
        if os.path.isdir(file):
            raise IsADirectoryError(errno.EISDIR, "a directory: name its files, with a glob such as 'dir/*.jsonl'", file)
        if not os.path.exists(file):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), file)
    return listed
