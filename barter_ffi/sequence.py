"""Sequence behaviour of ``MarketDataInMemory``: market events by index, slices, and search.

``md[i]`` asks the library for that one event (the library finds it without a walk, whatever
``i``), ``md[a:b:step]`` makes a new data set in Rust, and ``reversed``, ``in``, ``index`` and
``count`` read the events in library-encoded windows rather than one call per event.

A reconnect marker belongs to the market event after it (it says "reset before this event"),
so ``md[a:b]`` keeps the markers just before event ``a``, not those just before event ``b``, and
the markers after the last event when ``b`` reaches the end: ``md[:]`` holds everything ``md``
holds, and ``md[a:b]`` then ``md[b:c]`` hold what ``md[a:c]`` holds.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union, overload

from ._ffi import call, call_returning, ffi, lib, read_buffer
from .data import MarketEvent, decode_events
from .notebook import counted

if TYPE_CHECKING:
    from .market_data import MarketDataInMemory

__all__ = ["EventSequence", "events_between"]

_WINDOW = 16_384
"""Events per library call when reading a range: the cursor's steady batch size."""


def events_between(handle: Any, start: int, stop: int) -> list[MarketEvent]:
    """Market events ``start..stop`` of ``handle`` (a ``BarterFfiMarketData *``), decoded."""
    buffer = ffi.new("BarterFfiBuffer *")
    call(lib.barter_ffi_market_data_encode_events, handle, start, stop, buffer)
    return read_buffer(buffer, lambda view: decode_events(view, start))


class EventSequence:
    """The ``collections.abc.Sequence`` methods, each done in as few library calls as it can."""

    __slots__ = ()

    if TYPE_CHECKING:

        def _checked_handle(self) -> Any: ...

        @classmethod
        def _owned(cls, handle: Any) -> "MarketDataInMemory": ...

        def __len__(self) -> int: ...

    @overload
    def __getitem__(self, key: int) -> MarketEvent: ...

    @overload
    def __getitem__(self, key: slice) -> "MarketDataInMemory": ...

    def __getitem__(self, key: Union[int, slice]) -> Union[MarketEvent, "MarketDataInMemory"]:
        """``md[i]`` is the ``i``-th market event (negative from the end); ``md[a:b:step]`` is a
        new data set of those events with the reconnect markers that belong to them.

        A slice without a market event is an empty data set, as an empty ``filter`` is; a
        negative step raises ``ValueError`` (a replay runs forward: use ``reversed(md)``).
        """
        if isinstance(key, slice):
            return self._slice(key)
        length = len(self)
        index = operator.index(key)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            raise IndexError(f"market event index {index} is out of range for {counted(length, 'event')}")
        return self._events_between(position, position + 1)[0]

    def _slice(self, key: slice) -> "MarketDataInMemory":
        start, stop, step = key.indices(len(self))
        if step < 0:
            raise ValueError("a MarketDataInMemory keeps replay order: slice with a positive step, iterate reversed(md)")
        handle = call_returning(
            "BarterFfiMarketData *", lib.barter_ffi_market_data_slice, self._checked_handle(), start, max(start, stop), step
        )
        return self._owned(handle)

    def _events_between(self, start: int, stop: int) -> list[MarketEvent]:
        return events_between(self._checked_handle(), start, stop)

    def _windows(self, start: int, stop: int) -> Iterator[tuple[int, list[MarketEvent]]]:
        """``(offset, events)`` covering ``start..stop`` in order, a window per library call."""
        for offset in range(start, stop, _WINDOW):
            yield offset, self._events_between(offset, min(offset + _WINDOW, stop))

    def __reversed__(self) -> Iterator[MarketEvent]:
        stop = len(self)
        while stop > 0:
            start = max(0, stop - _WINDOW)
            yield from reversed(self._events_between(start, stop))
            stop = start

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, MarketEvent):
            return False
        return any(value in events for _, events in self._windows(0, len(self)))

    def index(self, value: Any, start: int = 0, stop: Optional[int] = None) -> int:
        """The first index of ``value`` in ``start..stop`` (as ``list.index``), else ``ValueError``."""
        start, stop, _ = slice(start, stop).indices(len(self))
        if isinstance(value, MarketEvent):
            for offset, events in self._windows(start, stop):
                if value in events:
                    return offset + events.index(value)
        raise ValueError(f"{value!r} is not in the data set")

    def count(self, value: Any) -> int:
        """How many market events equal ``value``."""
        if not isinstance(value, MarketEvent):
            return 0
        return sum(events.count(value) for _, events in self._windows(0, len(self)))
