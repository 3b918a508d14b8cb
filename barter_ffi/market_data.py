"""MarketDataInMemory: barter's in-memory backtest data, held by the Rust library."""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import datetime as _dt
import itertools
import os
import queue
import threading
import weakref
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Literal, Mapping, NamedTuple, Optional, Union

from ._ffi import PathLike, call, call_returning, encode_path, ffi, lib, read_buffer
from .data import (
    MarketEvent,
    MarketStreamItem,
    Reconnecting,
    encode_events,
    encode_items,
)
from .errors import MarketDataError, OwnedByAnotherThreadError, unknown_name
from .arrow import ArrowTables
from .batches import cursor_batches
from .book_replay import BookReplays
from .compression import Compression, compression_code
from .parquet import ParquetFiles
from .records import RECORDS_SOURCE, position_as_record, records_from_json_lines, records_json
from .selection import Exchanges, Instruments, Kinds, Paths, Selection, paths_to_read
from .notebook import SHOWN_EVENTS, counted, market_data_html, notice_html
from .sequence import EventSequence, events_between
from .summary import Summary, read_counts
from .timestamps import Moment, iso, utc_datetime

__all__ = ["LoadStats", "MarketDataInMemory", "PathLike", "merge"]

_HANDLE = "BarterFfiMarketData *"


def _load_file_handle(
    path: PathLike,
    progress: Optional[Callable[[int, int], object]] = None,
    selection: Optional[Selection] = None,
    cancel: Optional[threading.Event] = None,
) -> Any:
    """Loads ``path`` with a progress callback in any case: the library calls it on this thread
    at least every 50 ms, which lets Python run its signal handlers, so Ctrl-C (or an exception
    from ``progress``) cancels the load. So does ``cancel`` once set, from any thread (a load on
    a thread other than the main one never sees Ctrl-C itself). The parsing threads then finish
    the chunk (up to 16 MiB) each holds: ``KeyboardInterrupt`` comes typically within about
    100 ms (README: measured)."""
    callback, raised = _cancelling_callback(progress, cancel)
    encoded = encode_path(path)
    load = lib.barter_ffi_market_data_load_file_filtered
    spec = ffi.NULL if selection is None else selection.spec_or_null()
    try:
        handle = call_returning(_HANDLE, load, encoded, spec, callback, ffi.NULL, path=os.fsdecode(encoded))
    except Exception:
        if raised:  # the load stopped because the callback raised: that is the error
            raise raised[0] from None
        raise
    if raised:  # the library cancels at the last report too; this holds should a way in not
        lib.barter_ffi_market_data_free(handle)
        raise raised[0]
    return handle


def _cancelling_callback(
    progress: Optional[Callable[[int, int], object]] = None, cancel: Optional[threading.Event] = None
) -> tuple[Any, list[BaseException]]:
    """A ``BarterFfiProgressCallback`` that calls ``progress(done, total)`` and cancels the call
    once ``cancel`` is set or it raised (Ctrl-C's ``KeyboardInterrupt`` too: Python runs its
    signal handlers while the library calls it), and the list that then holds what it raised."""
    raised: list[BaseException] = []

    def report(_context: Any, done: int, total: int) -> int:
        if progress is not None:
            progress(done, total)
        return int(cancel is not None and cancel.is_set())

    def keep_and_cancel(_type: Any, error: BaseException, _traceback: Any) -> None:
        raised.append(error)

    return ffi.callback("int32_t(void *, uint64_t, uint64_t)", report, error=1, onerror=keep_and_cancel), raised


def _wait_for_loads(ended: list[threading.Event], cancel: threading.Event) -> None:
    """Waits until every load thread has said it ended. A Ctrl-C meanwhile cancels the loads (at
    their next progress report) and is raised once they have all ended; another one waits on.
    (Not ``Thread.join``: on CPython 3.11, a join that Ctrl-C interrupts marks the thread as
    ended while it still runs, and the interpreter would then exit under its callback.)"""
    interrupted: Optional[BaseException] = None
    for thread_ended in ended:
        while True:
            try:
                thread_ended.wait()
                break
            except BaseException as error:  # noqa: B036 - raised below, once the loads have ended
                interrupted = interrupted or error
                cancel.set()
    if interrupted is not None:
        raise interrupted


def merge(*data_sets: Union["MarketDataInMemory", Iterable["MarketDataInMemory"]]) -> "MarketDataInMemory":
    """One data set of all the events of ``data_sets``, ordered by ``time_exchange``, as a
    replay across exchanges needs. Each argument is a ``MarketDataInMemory`` or an iterable of
    them (a list, as ``from_json_files`` takes). It is a stable sort, so inputs need not be
    sorted (recordings are written in arrival order): ties keep argument order, then each input's
    order. A reconnect marker moves with the event after it in its own data set (the one before
    it, at the end)::

        replay = merge(binance, okx, kraken)
        replay = merge([binance, okx, kraken])
    """
    inputs = _data_sets(data_sets)
    if not inputs:
        raise ValueError("merge needs at least one MarketDataInMemory")
    handles = ffi.new("BarterFfiMarketData *[]", [data._checked_handle() for data in inputs])
    return MarketDataInMemory._owned(call_returning(_HANDLE, lib.barter_ffi_market_data_merge, handles, len(inputs)))


def _data_sets(arguments: Iterable[Any]) -> list["MarketDataInMemory"]:
    """``merge``'s arguments, each a data set or an iterable of them, as one list."""
    found: list[MarketDataInMemory] = []
    for position, argument in enumerate(arguments):
        if isinstance(argument, MarketDataInMemory):
            found.append(argument)
            continue
        if not isinstance(argument, collections.abc.Iterable) or isinstance(argument, (str, bytes)):
            raise TypeError(f"merge takes MarketDataInMemory objects, or iterables of them: argument {position} "
                            f"is a {type(argument).__name__}")
        for item_position, item in enumerate(argument):
            if not isinstance(item, MarketDataInMemory):
                raise TypeError(f"merge takes MarketDataInMemory objects, or iterables of them: argument {position} "
                                f"item {item_position} is a {type(item).__name__}")
            found.append(item)
    return found


class LoadStats(NamedTuple):
    """What a load kept and what it skipped."""

    market_events: int
    reconnects: int
    """``Reconnecting`` markers: held for the engine, not yielded as events."""
    errors_skipped: int
    """``Err`` items of the JSON-array shape, dropped as barter's historic example drops them:
    every one the input held, whatever ``kinds``, ``exchanges``, ``instruments``, ``start`` or
    ``end`` kept, so a selective load counts what a whole load counts. ``filter`` and slices
    count their source's, ``merge`` and ``from_json_files`` add up their inputs', the pieces of
    ``iter_json_file`` add up to the file's (``summary()`` gives it), and ``from_events``,
    ``from_arrow`` and ``from_parquet`` count none (Arrow and Parquet tables hold no count)."""


class MarketDataInMemory(EventSequence, ArrowTables, ParquetFiles, BookReplays):
    """barter's ``MarketDataInMemory<DataKind>``, parsed by barter's own Rust types.

    Load a file in either of barter's shapes (a JSON array of ``MarketStreamResult``, or JSON
    Lines of ``MarketStreamEvent``; detected from the content)::

        from barter_ffi import MarketDataInMemory, sample_path

        with MarketDataInMemory.from_json_file(sample_path("all_kinds.jsonl")) as md:  # or your file
            md.time_first_event()     # datetime, UTC: the engine's clock start
            len(md)                   # market events (reconnect markers not counted)
            for event in md:          # MarketEvent, in file order, pulled in batches
                ...
            md[-1], md[2:5]           # a Sequence: events by index, slices as new data sets

    Threads: an instance belongs to the first thread that uses it, until that thread hands it
    over (``md.hand_over()``) or ends; another thread gets ``OwnedByAnotherThreadError``. Give
    each thread its own ``md.clone()`` instead: it shares the events (no copy), and ``clone()``
    works from any thread, so a web server's request handler or a pool's task can start with
    ``with shared.clone() as md:``. The reads that make nothing new, ``len``, ``bool``,
    ``stats``, ``summary()``, ``time_first_event()``, ``repr`` and the notebook display, and
    ``clone()``, pickling and ``copy``, claim nothing and work from any thread, whoever owns the
    instance (process pools pickle on a helper thread); they hold the instance's lock, so a
    ``close()`` waits for them.
    ``close()`` (or leaving ``with``) releases the Rust handle at once; otherwise it is released
    when the object is collected.
    """

    __slots__ = ("_handle", "_release", "_owner", "_lifetime", "__weakref__")
    _handle: Any
    """The Rust handle (``BarterFfiMarketData *``), or None once closed."""
    _release: weakref.finalize
    _owner: Optional[threading.Thread]
    """The owning thread, or None until a thread uses this instance (or after a hand-over)."""
    _lifetime: "threading.RLock"

    def __init__(self) -> None:
        raise TypeError("use MarketDataInMemory.from_json_file(path) to load market data")

    @classmethod
    def _owned(cls, handle: Any) -> "MarketDataInMemory":
        """A new instance owning ``handle`` (it frees it), not yet claimed by any thread."""
        self = object.__new__(cls)
        self._handle = handle
        self._release = weakref.finalize(self, lib.barter_ffi_market_data_free, handle)
        self._owner = None
        # Held to claim an instance, to hand it over, to close it, and by the reads any thread
        # may make without claiming it (repr, len, stats, clone, pickling), so none of them can
        # see the handle freed.
        self._lifetime = threading.RLock()
        return self

    @classmethod
    def from_json_file(
        cls,
        path: PathLike,
        *,
        progress: Optional[Callable[[int, int], object]] = None,
        kinds: Optional[Kinds] = None,
        exchanges: Optional[Exchanges] = None,
        instruments: Optional[Instruments] = None,
        start: Optional[Moment] = None,
        end: Optional[Moment] = None,
    ) -> "MarketDataInMemory":
        """Loads a barter market-data file, parsed entirely by barter's Rust types.

        ``progress(bytes_done, bytes_total)``, if given, is called as parsing advances, on this
        thread (first with 0, last with the file's size). An exception it raises cancels the
        load and is raised here; so does Ctrl-C, typically within about 100 ms (the parsing
        threads finish the chunk they hold first).

        ``kinds``, ``exchanges``, ``instruments``, ``start`` and ``end`` keep only the matching
        events, as ``filter`` does (each takes one value or several), and give the same data set
        as ``from_json_file(path).filter(...)``; but the events left out are read only as far as
        their kind, exchange, instrument and time, never built, so unwanted kinds cost less than
        building them (how much less: ``benchmarks/README.md``)::

            trades = MarketDataInMemory.from_json_file(path, kinds=["public_trade"])

        An event left out is checked to be JSON, not field by field: a broken value inside one
        is not reported (unless the load fails anyway: then the file's first error is).

        Raises ``FileNotFoundError``, ``IsADirectoryError`` or ``PermissionError`` (with the
        path) for file problems, ``MarketDataError`` (a ``ValueError``, with line and column)
        for content that is not barter market data, and ``TypeError`` for a path that is not
        a str, bytes or ``os.PathLike``.
        """
        if isinstance(path, (list, tuple)):
            raise TypeError(f"expected str, bytes or os.PathLike object, not {type(path).__name__}: from_json_file "
                            "takes one path, from_json_files several")
        selection = Selection(kinds, exchanges, instruments, start, end)
        return cls._owned(_load_file_handle(path, progress, selection))

    @classmethod
    def from_json_files(
        cls,
        paths: Paths,
        *,
        kinds: Optional[Kinds] = None,
        exchanges: Optional[Exchanges] = None,
        instruments: Optional[Instruments] = None,
        start: Optional[Moment] = None,
        end: Optional[Moment] = None,
    ) -> "MarketDataInMemory":
        """Loads several files at once and merges them by ``time_exchange`` (see ``merge``),
        each keeping only the events selected as in ``from_json_file``.

        ``paths`` is a list (any iterable) of paths, or one path or glob, as Dask's
        ``read_market_data`` takes them: ``"recordings/*.jsonl.zst"`` reads every matching file
        (sorted by name; an existing file is read as itself, whatever its name looks like). A glob
        matching nothing is a ``FileNotFoundError``, a directory an ``IsADirectoryError``.

        Files load on parallel threads (the library releases the GIL), each parsed on all cores.
        The first file that fails raises, as ``from_json_file`` would. Ctrl-C stops every load
        (typically within about 100 ms) and raises ``KeyboardInterrupt`` once none is left
        running; no handle is left behind.
        """
        selection = Selection(kinds, exchanges, instruments, start, end)
        files = paths_to_read(paths)
        # Each handle is owned (freed when collected) by the thread that loaded it from the moment
        # it exists, and every way out of here closes them all. Ctrl-C, or any exception here,
        # cancels the loads: those running at their next progress report (every 50 ms), those
        # not begun at once.
        cancel = threading.Event()
        queued: "queue.SimpleQueue[tuple[int, PathLike]]" = queue.SimpleQueue()
        for item in enumerate(files):
            queued.put(item)
        loaded: dict[int, MarketDataInMemory] = {}
        failures: dict[int, BaseException] = {}

        def load_queued(ended: threading.Event) -> None:
            try:
                while not cancel.is_set():
                    try:
                        index, path = queued.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        loaded[index] = cls._owned(_load_file_handle(path, None, selection, cancel))
                    except BaseException as failure:  # noqa: B036 - raised by the calling thread
                        failures[index] = failure
            finally:
                ended.set()

        # A thread whose start() Ctrl-C interrupts is not waited for here (its load is
        # cancelled, and the interpreter joins it before exiting); every other one is.
        started: list[threading.Event] = []
        try:
            try:
                for _ in range(min(len(files), os.cpu_count() or 1)):
                    ended = threading.Event()
                    threading.Thread(target=load_queued, args=(ended,), name="barter_ffi-load").start()
                    started.append(ended)
            except BaseException:
                cancel.set()
                raise
            finally:
                _wait_for_loads(started, cancel)
            if failures:
                raise failures[min(failures)]  # the first file that failed, in argument order
            return merge(*(loaded[index] for index in range(len(files))))
        finally:
            for data in list(loaded.values()):
                data.close()

    @classmethod
    def from_json_bytes(
        cls,
        data: Union[bytes, bytearray, memoryview, str],
        *,
        source: str = "<bytes>",
        kinds: Optional[Kinds] = None,
        exchanges: Optional[Exchanges] = None,
        instruments: Optional[Instruments] = None,
        start: Optional[Moment] = None,
        end: Optional[Moment] = None,
    ) -> "MarketDataInMemory":
        """Loads market data held in memory, with the same shapes and errors as a file, and the
        same selection arguments as ``from_json_file``.

        ``source`` names the data in error messages. ``bytes`` and ``str`` are read in place;
        a ``bytearray`` or ``memoryview`` is copied first, since other threads could change it
        while the library reads.
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif isinstance(data, (bytearray, memoryview)):
            # The library reads without the GIL: memory another thread may write to meanwhile is
            # copied first, as the library checks UTF-8 once and then trusts it.
            data = memoryview(data).tobytes()
        elif not isinstance(data, bytes):
            raise TypeError(f"from_json_bytes takes bytes, bytearray, memoryview or str, not {type(data).__name__}")
        source_name = source.encode("utf-8", "replace").replace(b"\0", b"?")
        selection = Selection(kinds, exchanges, instruments, start, end)
        load = lib.barter_ffi_market_data_load_bytes_filtered
        handle = call_returning(_HANDLE, load, ffi.from_buffer(data), len(data), source_name, selection.spec_or_null())
        return cls._owned(handle)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> "MarketDataInMemory":
        """Builds a data set from barter-shaped dicts, as ``json.loads`` reads barter's items::

            md = MarketDataInMemory.from_records([
                {"Item": {"time_exchange": "2024-12-20T19:05:18.175Z", ..., "kind": {"Trade": {...}}}},
                {"Reconnecting": "binance_spot"},
            ])

        ``records`` is an iterable of dicts (one dict alone is a ``TypeError``: pass
        ``[record]``; anything else not an iterable of dicts is one too). Records take either
        envelope, as barter's files do, chosen by the first ``Item``: ``{"Item": {"Ok": {…}}}``
        (``Err`` items dropped and counted, as in barter's JSON arrays) or ``{"Item": {…}}`` (as
        in JSON Lines). barter's serde types check every record exactly as they check a file;
        ``MarketDataError`` names the record's position (from 0) and the field. Records without
        a market event (none, or only ``Reconnecting`` markers) are an empty data set holding the
        markers, as ``from_events`` makes it. ``from_records(md.to_records())`` holds what ``md``
        holds.
        """
        try:
            return cls._from_json_items(records_json(records), RECORDS_SOURCE)
        except MarketDataError as error:
            raise position_as_record(error) from None

    @classmethod
    def _from_json_items(cls, data: bytes, source: str = "<pickle>") -> "MarketDataInMemory":
        """barter JSON made by a program (records, a pickle): read as ``from_json_bytes`` reads
        it, except that no market event makes an empty data set (with its markers)."""
        handle = call_returning(_HANDLE, lib.barter_ffi_market_data_from_json_items, data, len(data), source.encode())
        return cls._owned(handle)

    def to_records(self) -> list[dict[str, Any]]:
        """Every item (market events and reconnect markers) as barter's serde writes it, in the
        JSON Lines envelope ``{"Item": {…}}``: timestamps as RFC 3339 text, decimals as text.

        Keys come in barter's order. Order books carry ``"side": None`` on both sides (first,
        where barter declares it), which barter omits when writing but requires when reading, so
        that ``from_records`` (and barter) read the records back.
        """
        return read_buffer(self._json_buffer("lines", self._checked_handle()), records_from_json_lines)

    @classmethod
    def from_events(cls, events: Union[MarketStreamItem, Iterable[MarketStreamItem]]) -> "MarketDataInMemory":
        """Builds barter's ``MarketDataInMemory`` from ``MarketEvent`` objects made in Python,
        and ``Reconnecting`` markers in their places, if any (an iterable of them, or one).

        Each event's fields were checked when it was built (see ``barter_ffi.data``); then the
        events travel to Rust in the cursor's wire format and become barter's own types, checked
        as barter's JSON reader checks them: a NaN price or decimal text barter cannot read
        raises ``MarketDataError`` naming the event's position (among the market events).
        ``from_events(md.events()).events() == md.events()``, and
        ``from_events(list(md.items()))`` keeps the markers too. No market event gives an empty
        data set, which keeps the markers given.
        """
        batch = [events] if isinstance(events, (MarketEvent, Reconnecting)) else list(events)
        for position, event in enumerate(batch):
            if not isinstance(event, (MarketEvent, Reconnecting)):
                raise TypeError(
                    f"event {position}: expected a MarketEvent or Reconnecting, not {type(event).__name__}"
                )
        if any(isinstance(item, Reconnecting) for item in batch):
            payload, build = encode_items(batch), lib.barter_ffi_market_data_from_items
        else:
            payload, build = encode_events(batch), lib.barter_ffi_market_data_from_batch
        return cls._owned(call_returning(_HANDLE, build, payload, len(payload)))

    def _checked_handle(self) -> Any:
        """The handle for real use: claims an unclaimed instance for this thread, refuses others."""
        me = threading.current_thread()
        if self._owner is not me:
            with self._lifetime:  # a claim must not race a close() or another claim
                self._check_usable_by(me)
                self._owner = me
        # Only the owner may close, and the owner is here: the handle stays valid for this call.
        if self._handle is None:
            raise ValueError("MarketDataInMemory is closed")
        return self._handle

    def _other_owner(self, thread: threading.Thread) -> Optional[threading.Thread]:
        """The owner, if it is another thread still running (an ended thread runs no call on
        this instance, so what it owned is free again)."""
        owner = self._owner
        return owner if owner is not None and owner is not thread and owner.is_alive() else None

    def _check_usable_by(self, thread: threading.Thread) -> None:
        """Refuses a closed instance, and one another running thread owns."""
        if self._handle is None:
            raise ValueError("MarketDataInMemory is closed")
        owner = self._other_owner(thread)
        if owner is not None:
            raise OwnedByAnotherThreadError(
                f"MarketDataInMemory is owned by another thread ({owner.name!r}; this is {thread.name!r}): give "
                "each thread its own md.clone() (clone() works from any thread and copies no event), or have "
                "the owner call md.hand_over() to pass md to the next thread that uses it"
            )

    @contextlib.contextmanager
    def _peeked_handle(self) -> Iterator[Any]:
        """The handle for a read that does not claim the instance, from any thread (``len``,
        ``bool``, ``stats``, ``summary()``, ``time_first_event``, ``repr``, ``clone``): printing
        or counting a data set, or cloning it for another thread, must not make it ours. The
        data is immutable, and holding the lifetime lock keeps ``close()`` from freeing the
        handle under the read."""
        with self._lifetime:
            if self._handle is None:
                raise ValueError("MarketDataInMemory is closed")
            yield self._handle

    def clone(self) -> "MarketDataInMemory":
        """A new handle over the same Rust data (no event is copied), owned by the first thread
        that uses it. Any thread may clone, owner or not: this is how a data set is shared::

            def handle_request(...):                  # on any thread of a server or a pool
                with shared.clone() as md:
                    ...
        """
        with self._peeked_handle() as handle:
            return MarketDataInMemory._owned(call_returning(_HANDLE, lib.barter_ffi_market_data_clone, handle))

    def hand_over(self) -> "MarketDataInMemory":
        """Gives this data set up: the next thread that uses it owns it. Returns it, to be
        passed on::

            future = pool.submit(analyse, md.hand_over())   # the worker owns md while it runs
            # ... and analyse() ends with md.hand_over() if md is to come back

        Only the owner may hand over (or any thread, while no thread owns it); another gets
        ``OwnedByAnotherThreadError``. An iteration this thread started raises that error at its
        next batch once another thread has taken the data set. Threads that only read a shared
        data set need no hand-over: give each a ``clone()``.
        """
        with self._lifetime:
            self._check_usable_by(threading.current_thread())
            self._owner = None
        return self

    def filter(
        self,
        kinds: Optional[Kinds] = None,
        exchanges: Optional[Exchanges] = None,
        instruments: Optional[Instruments] = None,
        start: Optional[Moment] = None,
        end: Optional[Moment] = None,
    ) -> "MarketDataInMemory":
        """A new data set of the matching events, selected in Rust.

        ``kinds``: kind names (``"public_trade"``, ``"l1"``, ``"l2"``, ``"candle"``,
        ``"liquidation"``) or event classes (``PublicTrade``, ``OrderBookEvent`` for both book
        kinds, ``OrderBookSnapshot``, ...). ``exchanges``: ``ExchangeId`` members or their barter
        names (``"binance_spot"``). ``instruments``: indices. Each takes one value (``kinds="l1"``)
        or an iterable of values; ``None`` keeps everything on that axis, an empty list nothing.
        ``start`` and ``end`` bound ``time_exchange`` as ``start <= time_exchange < end``:
        ``start`` is inclusive, ``end`` exclusive, so consecutive windows split the data without
        overlap. Times are int nanoseconds (numpy's integers too), a tz-aware ``datetime`` or ``pandas.Timestamp``, a
        ``numpy.datetime64``, or RFC 3339 text with its offset (``"2024-12-20T19:06:00Z"``). A value of the wrong type is a
        ``TypeError`` naming the argument; an unknown kind or exchange a ``ValueError`` naming
        the closest names.

        A reconnect marker stays when its exchange is kept and the event after it (the one before
        it, at the end) lies in the time window. No match gives an empty data set, so a loop over
        instruments needs no ``try``::

            trades = md.filter(kinds=["public_trade"], exchanges=["binance_spot"], instruments=[0])
        """
        selection = Selection(kinds, exchanges, instruments, start, end)
        handle = call_returning(_HANDLE, lib.barter_ffi_market_data_filter, self._checked_handle(), selection.spec)
        return MarketDataInMemory._owned(handle)

    def __len__(self) -> int:
        with self._peeked_handle() as handle:
            return int(call_returning("uint64_t", lib.barter_ffi_market_data_len, handle))

    @property
    def stats(self) -> LoadStats:
        """Counts of market events held, reconnect markers and ``Err`` items skipped."""
        with self._peeked_handle() as handle:
            return _stats(handle)

    def summary(self) -> Summary:
        """Counts of the market events by kind, exchange and instrument, with their time spans,
        and of the reconnect markers by exchange, made by the library in one walk over the data
        without decoding an event (what ``barter-ffi summary`` prints). Claims nothing, as
        ``stats`` does::

            md.summary().by_exchange          # {'binance_spot': 5, 'okx': 3, …}
        """
        with self._peeked_handle() as handle:
            return _summary(handle)

    def time_first_event_ns(self) -> int:
        """barter's ``time_first_event`` as exact nanoseconds since the Unix epoch (UTC)."""
        with self._peeked_handle() as handle:
            return int(call_returning("int64_t", lib.barter_ffi_market_data_time_first_event_ns, handle))

    def time_first_event(self) -> _dt.datetime:
        """barter's ``time_first_event``: the first market event's ``time_exchange``, UTC."""
        return utc_datetime(self.time_first_event_ns())

    def events(self) -> list[MarketEvent]:
        """Every market event, in file order (reconnect markers and ``Err`` items skipped)."""
        events: list[MarketEvent] = []
        for batch in self._batches(self._open_cursor()):
            events += batch
        return events

    def __iter__(self) -> Iterator[MarketEvent]:
        """Yields market events in file order, decoding one cursor batch at a time.

        The cursor shares the Rust data, so an iteration in progress survives ``close()``.
        """
        return itertools.chain.from_iterable(self._batches(self._open_cursor()))

    def items(self) -> Iterator[MarketStreamItem]:
        """Yields market events and ``Reconnecting`` markers, each in its place in the replay:
        what a book rebuilder needs, as it must reset at a reconnect. As ``MarketDataInMemory``
        otherwise: ``from_events(list(md.items()))`` holds what ``md`` holds."""
        return itertools.chain.from_iterable(self._batches(self._open_cursor(), with_reconnects=True))

    def _open_cursor(self) -> Any:
        cursor = call_returning("BarterFfiCursor *", lib.barter_ffi_cursor_open, self._checked_handle())
        return ffi.gc(cursor, lib.barter_ffi_cursor_free)

    def _batches(self, cursor: Any, with_reconnects: bool = False) -> Iterator[list[Any]]:
        def check_thread() -> None:
            if self._handle is not None:
                self._checked_handle()  # the thread check; a closed handle does not stop the cursor

        try:
            yield from cursor_batches(cursor, with_reconnects, check_thread)
        finally:
            ffi.release(cursor)

    async def stream(self, include_reconnects: bool = False) -> AsyncIterator[MarketStreamItem]:
        """Yields market events for an asyncio backtest loop, giving way between batches;
        ``Reconnecting`` markers too, in their places, with ``include_reconnects=True``."""
        for batch in self._batches(self._open_cursor(), with_reconnects=include_reconnects):
            for event in batch:
                yield event
            await asyncio.sleep(0)

    def to_json_file(
        self,
        path: PathLike,
        shape: Literal["lines", "array"] = "lines",
        *,
        compression: Union[Compression, Literal["infer"], None] = "infer",
    ) -> None:
        """Writes barter JSON that barter's own loaders, and ``from_json_file``, read back equal.

        ``shape="lines"``: JSON Lines of ``MarketStreamEvent`` (what ``MarketDataInMemory`` users
        and barter's backtest bench read); ``shape="array"``: a JSON array of
        ``MarketStreamResult`` (barter's historic example). Reconnect markers are written. ``Err``
        items were dropped when loading: the array shape writes a stand-in for each at its end,
        so ``errors_skipped`` reads back the same; JSON Lines cannot hold them.

        ``compression``: ``"zstd"``, ``"gzip"``, ``"bz2"`` or ``None``; by default inferred from
        the file name (``.zst``, ``.gz``, ``.bz2``). The JSON is streamed to the file, never held
        whole in memory. A file is written whole or not at all: under a hidden name beside it
        (``.NAME.partial``), renamed over it once complete, so a write that fails or is
        interrupted (Ctrl-C stops it within about 50 ms) leaves the file that was there as it was.
        A file this process may not write is refused (``PermissionError``), and a second write of
        one file while one is under way (``OSError``: "another write to this file is under way"). A symbolic link is kept and the
        file it names replaced, with its mode; other hard links keep the earlier content. A FIFO
        or device is written in place and never removed, and ``/dev/stdout`` (or ``/dev/fd/N``)
        through that descriptor, after what was written to it before.

        A data set without a market event (empty, or reconnect markers alone) is refused with
        ``MarketDataError`` and nothing is written: barter's ``MarketDataInMemory`` cannot be
        loaded from such a file, nor can ``from_json_file`` read it. ``to_parquet``,
        ``to_records`` and pickling keep such a data set.
        """
        code = compression_code(os.fsdecode(path), compression)
        shape_code = self._json_shape_code(shape)
        encoded = encode_path(path)
        callback, raised = _cancelling_callback()
        try:
            call(lib.barter_ffi_market_data_write_json_file_with_progress, self._checked_handle(), encoded, shape_code,
                 code, callback, ffi.NULL, path=os.fsdecode(encoded))
        except Exception:
            if raised:  # the write stopped because Ctrl-C (KeyboardInterrupt) came meanwhile
                raise raised[0] from None
            raise

    @staticmethod
    def _json_shape_code(shape: str) -> int:
        shapes = {"lines": lib.BARTER_FFI_JSON_SHAPE_LINES, "array": lib.BARTER_FFI_JSON_SHAPE_ARRAY}
        if not isinstance(shape, str):
            raise TypeError(f"shape is 'lines' or 'array', not {type(shape).__name__}")
        if shape not in shapes:
            raise unknown_name("shape", shape, list(shapes))
        return int(shapes[shape])

    def _json_buffer(self, shape: str, handle: Any) -> Any:
        buffer = ffi.new("BarterFfiBuffer *")
        call(lib.barter_ffi_market_data_to_json, handle, self._json_shape_code(shape), buffer)
        return buffer

    def __reduce__(self) -> tuple:
        """Pickles by value, as barter JSON (events, reconnect markers and the count of skipped
        ``Err`` items).

        Allowed from any thread, without claiming ownership, because process pools pickle their
        arguments on a helper thread; the Rust data is immutable, and the lock keeps ``close()``
        from freeing it mid-way.
        """
        with self._lifetime:
            if self._handle is None:
                raise ValueError("MarketDataInMemory is closed")
            # The array shape keeps the count of Err items skipped at load; JSON Lines cannot.
            shape = "array" if _stats(self._handle).errors_skipped else "lines"
            json = read_buffer(self._json_buffer(shape, self._handle), bytes)
            # Read as items, not as a recording: a data set without market events (markers
            # alone, or nothing) comes back as it was.
            return (MarketDataInMemory._from_json_items, (json,))

    def __copy__(self) -> "MarketDataInMemory":
        return self.clone()

    def __deepcopy__(self, memo: dict) -> "MarketDataInMemory":
        # The Rust data is immutable, so sharing it is indistinguishable from copying it.
        return self.clone()

    def debug_json_lines(self) -> bytes:
        """What Rust holds, as barter's own serde JSON: one ``MarketStreamEvent`` a line,
        reconnect markers included. For checking what Python decodes against what Rust parsed.
        """
        buffer = ffi.new("BarterFfiBuffer *")
        call(lib.barter_ffi_market_data_to_json_lines, self._checked_handle(), buffer)
        return read_buffer(buffer, bytes)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Releases the Rust handle now. Closing twice is allowed; any other use then raises.

        Only the owning thread (or any thread, while no running thread owns the instance) may
        close it; another thread gets ``OwnedByAnotherThreadError``, so a handle is never freed
        under a call that is still running on it.
        """
        with self._lifetime:
            if self._handle is None:
                return
            self._check_usable_by(threading.current_thread())
            self._handle = None
            self._release()

    def __enter__(self) -> "MarketDataInMemory":
        self._checked_handle()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        with self._lifetime:
            if self._handle is None:
                return "<MarketDataInMemory closed>"
            stats = self.stats
            if stats.market_events == 0:
                markers = f", {counted(stats.reconnects, 'reconnect')}" if stats.reconnects else ""
                return f"<MarketDataInMemory empty{markers}>"
            first = self.time_first_event_ns()
        return (
            f"<MarketDataInMemory {counted(stats.market_events, 'event')}, "
            f"first {iso(first)}, {counted(stats.reconnects, 'reconnect')}, "
            f"{counted(stats.errors_skipped, 'error')} skipped>"
        )

    def _repr_html_(self) -> str:
        """The notebook display: counts by exchange and kind, the time span, the skips and the
        first events, from the library's counts (no walk in Python). Claims nothing and works
        from any thread, as ``repr`` does; a closed data set says so."""
        with self._lifetime:
            if self._handle is None:
                return notice_html("MarketDataInMemory", "closed")
            summary = _summary(self._handle)
            first_events = events_between(self._handle, 0, min(SHOWN_EVENTS, summary.market_events))
        return market_data_html(summary, first_events)


collections.abc.Sequence.register(MarketDataInMemory)


def _stats(handle: Any) -> LoadStats:
    out = ffi.new("BarterFfiLoadStats *")
    call(lib.barter_ffi_market_data_stats, handle, out)
    return LoadStats(int(out.market_events), int(out.reconnects), int(out.errors_skipped))


def _summary(handle: Any) -> Summary:
    stats = _stats(handle)
    first = None
    if stats.market_events:
        first = int(call_returning("int64_t", lib.barter_ffi_market_data_time_first_event_ns, handle))
    return Summary(*stats, first, *read_counts(handle))

