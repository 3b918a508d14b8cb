"""Order books replayed through barter's own ``OrderBook``, and the prices barter's engine marks
positions at, as Arrow data.

``md.book_replay(...)`` keeps one ``barter_data::books::OrderBook::default()`` per (exchange,
instrument) and applies each L2 event with barter's ``OrderBook::update``, in stored order, in the
Rust library: the book barter's ``OrderBookL2Manager`` (or a strategy's ``InstrumentDataState``)
holds, by construction. The rows are built as they are read, in bounded record batches, and leave
through the Arrow PyCapsule protocol like ``to_arrow``'s tables. Every column describes itself in
its field's metadata (``description``), which the API reference lists (its Arrow tables page).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Optional, TypeVar, Union

from ._ffi import call, call_returning, ffi, lib
from .arrow import Decimals, _decimals_code, _exported_capsule, _STREAM_CAPSULE, _SCHEMA_CAPSULE
from .errors import DecimalScaleError, MarketDataError, unknown_name
from .selection import Exchanges, Instruments, selection_arguments
from .timestamps import Moment, nanoseconds
from .whole_file import written_whole

if TYPE_CHECKING:
    from numpy import timedelta64

    from .market_data import MarketDataInMemory

__all__ = ["ArrowStreamResult", "BookReplay", "BookReplays", "EnginePrices", "Every", "book_replay", "interval_ns"]

Every = Union[Literal["event", "change"], str, int, _dt.timedelta, "timedelta64"]
"""``"event"``, ``"change"``, an interval as text (``"100ms"``, ``"1s"``, ``"5m"``: a number and
one of ns, us, ms, s, m or min, h, d), int nanoseconds, a ``timedelta`` (``pandas.Timedelta``
too), or a ``numpy.timedelta64``."""
Clock = Literal["exchange", "received"]
Layout = Literal["wide", "lists"]
OnReconnect = Literal["keep", "reset"]
OnCrossed = Literal["keep", "trim"]

_EVERY = {"event": lib.BARTER_FFI_BOOK_EVERY_EVENT, "change": lib.BARTER_FFI_BOOK_EVERY_CHANGE}
_CLOCKS = {"exchange": lib.BARTER_FFI_BOOK_CLOCK_EXCHANGE, "received": lib.BARTER_FFI_BOOK_CLOCK_RECEIVED}
_LAYOUTS = {"wide": lib.BARTER_FFI_BOOK_LAYOUT_WIDE, "lists": lib.BARTER_FFI_BOOK_LAYOUT_LISTS}
_RECONNECTS = {"keep": lib.BARTER_FFI_BOOK_RECONNECT_KEEP, "reset": lib.BARTER_FFI_BOOK_RECONNECT_RESET}
_CROSSED = {"keep": lib.BARTER_FFI_BOOK_CROSSED_KEEP, "trim": lib.BARTER_FFI_BOOK_CROSSED_TRIM}
MAX_DEPTH: int = lib.BARTER_FFI_BOOK_MAX_DEPTH
"""The most levels a side a row can show."""

_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "min": 60 * 10**9,
            "h": 3600 * 10**9, "d": 86_400 * 10**9}
_INTERVAL = re.compile(r"\s*(\d+)\s*(ns|us|µs|ms|s|min|m|h|d)\s*")


def _choice(value: object, choices: dict[str, int], name: str) -> int:
    if not isinstance(value, str):
        raise TypeError(f"{name} takes one of {', '.join(map(repr, choices))} (str), not {type(value).__name__}")
    if value not in choices:
        raise unknown_name(name, value, list(choices))
    return choices[value]


def interval_ns(every: Union[str, int, _dt.timedelta, "timedelta64"]) -> int:
    """An interval (``"100ms"``, ``"1s"``, int nanoseconds, a ``timedelta``, a
    ``numpy.timedelta64``) in nanoseconds, at least 1."""
    if isinstance(every, bool):
        raise TypeError("every must be 'event', 'change', an interval such as '100ms', int nanoseconds or a timedelta")
    if _is_numpy_timedelta(every):
        result = _numpy_timedelta_ns(every)
    elif isinstance(every, int):
        result = every
    elif isinstance(every, _dt.timedelta):
        exact = getattr(every, "value", None)  # pandas.Timedelta keeps nanoseconds
        result = exact if isinstance(exact, int) else every // _dt.timedelta(microseconds=1) * 1000
    elif isinstance(every, str):
        match = _INTERVAL.fullmatch(every)
        if match is None:
            raise unknown_name("every", every, list(_EVERY), or_else=(
                ", or an interval such as '100ms', '1s', '5m' (a number and one of ns, us, ms, s, m, min, h, d)"
            ))
        result = int(match.group(1)) * _UNIT_NS[match.group(2)]
    else:
        raise TypeError(
            f"every must be 'event', 'change', an interval such as '100ms', int nanoseconds or a timedelta, "
            f"not {type(every).__name__}"
        )
    if not 1 <= result < 2**63:
        raise ValueError(f"the sampling interval must be at least 1 ns (and fit i64 nanoseconds), not {result} ns")
    return result


def _is_numpy_timedelta(value: object) -> bool:
    return type(value).__name__ == "timedelta64" and type(value).__module__ == "numpy"


def _numpy_timedelta_ns(every: Any) -> int:
    import numpy  # present: `every` is one of its scalars

    if numpy.isnat(every):
        raise ValueError("every is NaT (not an interval)")
    unit, _ = numpy.datetime_data(every.dtype)
    if unit in ("Y", "M"):
        raise ValueError(f"every: a numpy.timedelta64 in {unit!r} units has no fixed length; give days or finer")
    return int(every.astype("timedelta64[ns]").astype("int64"))


def _times_ns(at: Any) -> list[int]:
    """``at`` as nanoseconds, read as ``timestamps.nanoseconds`` reads one time: an iterable of
    ``Moment``s, or an array of times. Arrays: numpy ``datetime64`` (read as UTC, as a numpy
    scalar is) or integers (nanoseconds); pyarrow timestamps with a timezone, or integers; a
    pandas Series or index of tz-aware times, or of integers. Naive pandas or pyarrow times are
    refused, as a naive ``datetime`` is; NaT and nulls are refused."""
    if isinstance(at, (str, bytes)) or not hasattr(at, "__iter__"):
        raise TypeError(f"at must be an iterable of times (an array, a Series, a list), not {type(at).__name__}")
    if type(at).__module__.startswith("pyarrow"):
        return _arrow_times_ns(at)
    dtype = getattr(at, "dtype", None)
    kind = getattr(dtype, "kind", None)
    if kind == "M" and type(at).__module__.startswith("pandas"):
        return _pandas_times_ns(at)
    if kind in ("M", "i", "u"):
        import numpy

        values = numpy.asarray(at)
        if kind == "M":
            if numpy.isnat(values).any():
                raise ValueError("at holds NaT (not a time): give times only")
            values = values.astype("datetime64[ns]").view("int64")
        return [nanoseconds(int(value), "at") for value in values]
    return [nanoseconds(moment, "at") for moment in at]


def _arrow_times_ns(at: Any) -> list[int]:
    import pyarrow

    if at.null_count:
        raise ValueError("at holds nulls: give times only")
    if pyarrow.types.is_integer(at.type):
        return [nanoseconds(value, "at") for value in at.to_pylist()]
    if not pyarrow.types.is_timestamp(at.type):
        raise TypeError(f"at must hold timestamps or int nanoseconds, not {at.type}")
    if at.type.tz is None:
        raise ValueError("at holds naive timestamps (no timezone): give them one, e.g. .cast(pyarrow.timestamp('ns', "
                         "'UTC')) (barter's times are UTC)")
    return [int(value) for value in at.cast(pyarrow.timestamp("ns", at.type.tz)).cast(pyarrow.int64()).to_pylist()]


def _pandas_times_ns(at: Any) -> list[int]:
    import pandas

    times = pandas.DatetimeIndex(at)
    if times.tz is None:
        raise ValueError("at holds naive times (no timezone): give them one, e.g. series.dt.tz_localize('UTC') "
                         "(barter's times are UTC)")
    if times.isna().any():
        raise ValueError("at holds NaT (not a time): give times only")
    return [int(value) for value in times.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[ns]")
            .view("int64")]


def replay_options(
    depth: int, every: Every, at: Optional[Iterable[Moment]], clock: str, decimals: str, layout: str,
    exchanges: Optional[Exchanges], instruments: Optional[Instruments],
    emit_from: Optional[Moment], emit_until: Optional[Moment], reconnect: str, crossed: str,
) -> tuple[Any, list[Any]]:
    """The ``BarterFfiBookReplayOptions`` for these arguments, checked, and the memory its
    pointers point into (keep it alive while the options are used)."""
    owners: list[Any] = []
    options = ffi.new("BarterFfiBookReplayOptions *")
    options.struct_size = ffi.sizeof("BarterFfiBookReplayOptions")
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"depth must be an int, not {type(depth).__name__}")
    if not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must lie between 0 and {MAX_DEPTH} levels a side, not {depth}")
    options.depth = depth
    if at is not None:
        if every != "event":
            raise ValueError("give either every= or at=, not both: at= takes rows at the given times")
        times = _times_ns(at)
        owners.append(ffi.new("int64_t[]", times or [0]))
        options.every, options.at_ns, options.at_len = lib.BARTER_FFI_BOOK_EVERY_AT, owners[-1], len(times)
    elif isinstance(every, str) and every in _EVERY:
        options.every = _EVERY[every]
    else:
        options.every, options.interval_ns = lib.BARTER_FFI_BOOK_EVERY_INTERVAL, interval_ns(every)
    options.clock = _choice(clock, _CLOCKS, "clock")
    options.decimals = _decimals_code(decimals)
    options.layout = _choice(layout, _LAYOUTS, "layout")
    options.reconnect = _choice(reconnect, _RECONNECTS, "reconnect")
    options.crossed = _choice(crossed, _CROSSED, "crossed")
    books = selection_arguments(exchanges=exchanges, instruments=instruments)
    if books["exchanges"] is not None:
        names = [ffi.new("char[]", name.encode()) for name in books["exchanges"]]
        owners += [names, ffi.new("char *[]", names)]
        options.exchanges, options.exchanges_len = owners[-1], len(names)
    if books["instruments"] is not None:
        indices = books["instruments"]
        owners.append(ffi.new("uint64_t[]", indices or [0]))  # non-NULL even when empty: NULL keeps all
        options.instruments, options.instruments_len = owners[-1], len(indices)
    if emit_from is not None:
        options.has_emit_from, options.emit_from_ns = 1, nanoseconds(emit_from, "emit_from")
    if emit_until is not None:
        options.has_emit_until, options.emit_until_ns = 1, nanoseconds(emit_until, "emit_until")
    if emit_from is not None and emit_until is not None and options.emit_from_ns >= options.emit_until_ns:
        raise ValueError("emit_from must lie before emit_until")
    return options, owners


@contextlib.contextmanager
def _data_errors() -> Iterator[None]:
    """An error the library's stream reports while pyarrow reads it (a streamed file's bad
    line, a value too wide for its column) raised as the ``MarketDataError`` it is."""
    import pyarrow

    try:
        yield
    except (pyarrow.ArrowInvalid, pyarrow.ArrowIOError) as error:
        message = str(error).removeprefix("External error: ")  # pyarrow's wrapping of the library's own
        problem, hint, _ = message.partition(_DECIMAL128_HINT)
        if hint:  # a streamed replay's later, finer level: the hint in the caller's words
            raise DecimalScaleError(problem) from error
        raise MarketDataError(message) from error


GRID_ROWS_ADVICE = ("choose a longer interval, narrow the rows with emit_from/emit_until, or give the times themselves "
                    "with at=")
"""How the library's message for a grid of too many rows ends (``too_many_grid_rows`` in the Rust
replay): the way out in Python's words, which the command line words in its flags."""

_DECIMAL128_HINT = '; replay with decimals "text"'
"""Where the library's message for a level its decimal128 column cannot hold turns from the
problem (which book, after which event) to the way out (``row_error`` in the Rust replay)."""


def _release_stream(stream: Any) -> None:
    if stream.release != ffi.NULL:
        stream.release(stream)


class ArrowStreamResult:
    """Arrow data the library computes as it is read: it implements the Arrow PyCapsule protocol
    (``pyarrow.table(x)``, ``polars.DataFrame(x)``, ``duckdb.sql("from x")``), and converts with
    ``to_pyarrow()``, ``to_polars()``, ``to_pandas()``.

    Over a data set, each read computes afresh (the object holds its own reference to the data,
    so it outlives ``md.close()``). Over a file stream it can be read once.
    """

    __slots__ = ("_fill", "_pending", "_release_pending", "__weakref__")

    def __reduce__(self) -> tuple:
        raise TypeError(
            f"{type(self).__name__} is computed by this process as it is read and cannot be pickled: pickle the "
            "data set and ask for it again, or its result (.to_pyarrow() pickles)"
        )

    def __init__(self, fill: Callable[[Any], None], once: bool) -> None:
        self._fill = None if once else fill
        # The first stream is made now, so that bad arguments and data fail here, not at a read.
        # The finalizer holds the struct until it has released what the struct still holds.
        self._pending: Any = ffi.new("struct ArrowArrayStream *")
        fill(self._pending)
        self._release_pending = weakref.finalize(self, _release_stream, self._pending)

    def _take_stream(self, stream: Any) -> None:
        """Fills ``stream`` with the stream made first (moved) or a fresh one."""
        if self._pending is not None:
            ffi.memmove(stream, self._pending, ffi.sizeof("struct ArrowArrayStream"))
            self._pending.release = ffi.NULL
            self._release_pending.detach()
            self._pending = None
        elif self._fill is not None:
            self._fill(stream)
        else:
            raise ValueError(
                "a replay of a file stream is read once: call iter_json_file(...).book_replay(...) again to read the "
                "file again"
            )

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object:
        """A stream of record batches. ``requested_schema`` is accepted and not applied, as the
        protocol allows: the consumer casts if it wants other types."""
        return _exported_capsule(
            "struct ArrowArrayStream", _STREAM_CAPSULE, lib.barter_ffi_arrow_stream_capsule_destructor,
            self._take_stream,
        )

    def __arrow_c_schema__(self) -> object:
        """The schema, every field with its ``description`` metadata."""
        if self._pending is not None:
            source = self._pending
        elif self._fill is not None:
            source = ffi.new("struct ArrowArrayStream *")
            self._fill(source)
        else:
            raise ValueError("a replay of a file stream is read once: its schema is its table's")

        def fill(schema: Any) -> None:
            try:
                if source.get_schema(source, schema) != 0:
                    raise MarketDataError(ffi.string(source.get_last_error(source)).decode("utf-8", "replace"))
            finally:
                if source is not self._pending:
                    _release_stream(source)

        return _exported_capsule(
            "struct ArrowSchema", _SCHEMA_CAPSULE, lib.barter_ffi_arrow_schema_capsule_destructor, fill
        )

    def to_pyarrow(self) -> Any:
        """A ``pyarrow.Table`` (needs pyarrow: ``barter-ffi[arrow]``); an error in the data (a
        streamed file's bad line) is a ``MarketDataError``. Ctrl-C stops it between record
        batches (each a few milliseconds of work), as it stops a load."""
        import pyarrow

        with _data_errors():
            reader = self.record_batches()
            batches = []
            # A loop in Python, not pyarrow.table(self): pyarrow reads a whole stream without
            # running Python's signal handlers, so Ctrl-C waited for the end of the replay.
            for batch in reader:
                batches.append(batch)
            return pyarrow.Table.from_batches(batches, reader.schema)

    def to_parquet(self, path: Union[str, "os.PathLike[str]"], *,
                   after_each_batch: Optional[Callable[[], object]] = None) -> int:
        """Writes the rows to one Parquet file at ``path``, a record batch at a time, as they are
        computed (needs pyarrow), and returns how many there were; ``after_each_batch()`` is
        called after each. An error in the data is a ``MarketDataError``. The file is written
        whole or not at all (``whole_file.written_whole``): a write that fails or is interrupted
        leaves the file that was at ``path`` as it was, and no part of the rows to read as all of
        them."""
        import pyarrow.parquet as parquet

        rows = 0
        with _data_errors():
            reader = self.record_batches()
            with written_whole(path) as written, parquet.ParquetWriter(written, reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    rows += batch.num_rows
                    if after_each_batch is not None:
                        after_each_batch()
        return rows

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` (needs polars: ``barter-ffi[polars]``)."""
        import polars

        return polars.DataFrame(self.to_pyarrow())

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` through pyarrow (``barter-ffi[pandas]``): timestamps as
        ``datetime64[ns, UTC]``, the exchange as a categorical, decimal128 as ``decimal.Decimal``
        objects (ask for ``decimals="float64"`` for float columns)."""
        return self.to_pyarrow().to_pandas()

    def record_batches(self) -> Any:
        """A ``pyarrow.RecordBatchReader`` over the batches as they are computed (needs pyarrow)."""
        import pyarrow

        return pyarrow.RecordBatchReader.from_stream(self)


class _StreamCall:
    """Fills an Arrow stream by calling ``function(handle, *arguments, stream)``; holds the
    handle (and what the arguments point into) alive as long as it may be called."""

    __slots__ = ("function", "handle", "arguments", "owners")

    def __init__(self, function: Any, handle: Any, arguments: tuple, owners: Iterable[Any] = ()) -> None:
        self.function, self.handle, self.arguments, self.owners = function, handle, arguments, list(owners)

    def __call__(self, stream: Any) -> None:
        call(self.function, self.handle, *self.arguments, stream)


class BookReplay(ArrowStreamResult):
    """Order books replayed through barter's ``OrderBook`` (``MarketDataInMemory.book_replay``,
    ``JsonFileStream.book_replay``): Arrow data computed as it is read."""

    __slots__ = ("_options",)

    def __init__(self, fill: Callable[[Any], None], once: bool, options: str) -> None:
        super().__init__(fill, once)
        self._options = options

    def __repr__(self) -> str:
        return f"<BookReplay {self._options}>"


class EnginePrices(ArrowStreamResult):
    """barter's engine mark prices (``MarketDataInMemory.engine_prices``): Arrow data computed
    as it is read."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<EnginePrices: barter's DefaultInstrumentMarketData after each trade and L1 event>"


Result = TypeVar("Result", bound=ArrowStreamResult)


def _over_data_set(handle: Any, make: Callable[[Any], Result]) -> Result:
    """``make(clone)`` of a clone of a data set's ``handle`` that lives as long as the result: it
    outlives the data set it was made from, as ``to_arrow``'s tables do."""
    clone = call_returning("BarterFfiMarketData *", lib.barter_ffi_market_data_clone, handle)
    try:
        result = make(clone)
    except BaseException:
        lib.barter_ffi_market_data_free(clone)
        raise
    weakref.finalize(result, lib.barter_ffi_market_data_free, clone)
    return result


def book_replay(
    handle: Any, function: Any, once: bool, depth: int, every: Every, at: Optional[Iterable[Moment]], clock: Clock,
    decimals: Decimals, layout: Layout, exchanges: Optional[Exchanges],
    instruments: Optional[Instruments], emit_from: Optional[Moment], emit_until: Optional[Moment],
    reconnect: OnReconnect, crossed: OnCrossed,
) -> BookReplay:
    """A ``BookReplay`` of the library ``handle`` (a data set's, which must outlive the result,
    or a file stream's, read ``once``) through the library's ``function``."""
    options, owners = replay_options(depth, every, at, clock, decimals, layout, exchanges, instruments, emit_from,
                                     emit_until, reconnect, crossed)
    sampling = f"at {options.at_len} times" if at is not None else f"every={every!r}"
    description = f"depth={depth} {sampling} clock={clock!r} decimals={decimals!r} layout={layout!r}"
    return BookReplay(_StreamCall(function, handle, (options,), owners), once, description)


class BookReplays:
    """The book replay methods of ``MarketDataInMemory``."""

    __slots__ = ()

    if TYPE_CHECKING:

        def _checked_handle(self) -> Any: ...

    def book_replay(
        self,
        depth: int = 10,
        every: Every = "event",
        *,
        at: Optional[Iterable[Moment]] = None,
        clock: Clock = "exchange",
        decimals: Decimals = "decimal128",
        layout: Layout = "wide",
        exchanges: Optional[Exchanges] = None,
        instruments: Optional[Instruments] = None,
        emit_from: Optional[Moment] = None,
        emit_until: Optional[Moment] = None,
        reconnect: OnReconnect = "keep",
        crossed: OnCrossed = "keep",
    ) -> BookReplay:
        """The order books of this data set replayed through barter's own ``OrderBook``, as Arrow data::

            books = md.book_replay(depth=5, every="1s", decimals="float64").to_pandas()

        One ``OrderBook::default()`` per (exchange, instrument); each L2 event applied with barter's
        ``OrderBook::update`` in stored order, so the rows show exactly the book barter holds: no
        sequence check, no crossed check, ``Reconnecting`` ignored, updates before a snapshot applied
        to an empty book, a zero amount at an unknown price ignored.

        Columns (each field's ``description`` metadata says the same): ``time``, ``event_index``,
        ``exchange``, ``instrument``, ``sequence``, ``time_engine``; the top ``depth`` levels a side
        (``layout="wide"``: ``bid_price_0`` … ``bid_price_{depth-1}``, then ``bid_amount_*``,
        ``ask_price_*``, ``ask_amount_*``, null beyond a side's levels; ``layout="lists"``: four
        fixed-size-list columns); ``bid_levels``, ``ask_levels`` (full counts); ``mid_price``,
        ``microprice``, ``spread`` (null where undefined; the microprice also where barter's
        division would panic, both best amounts zero); the flags ``synced`` (a snapshot came since
        the start or the exchange's last reconnect), ``after_reconnect``, ``crossed`` (best bid at
        or above best ask), ``sequence_regressed`` (since the last snapshot); the counts
        ``unknown_deletes`` (zero amounts at prices the book did not hold, since the last snapshot),
        ``updates_since_snapshot``, ``skipped_updates`` and ``trimmed_levels`` (the repairs below).

        - ``every``: ``"event"`` (a row after each L2 event, for its book), ``"change"`` (only when
          the book's top ``depth`` levels changed, in price or amount), or an interval
          (``"100ms"``, ``"1s"``, int nanoseconds, a ``timedelta``): a row per book at every
          multiple of the interval since the epoch, from the first L2 event's time to the last,
          quiet moments included (forward fill).
        - ``at``: rows per book at the given times instead (any order; rows come sorted), for
          example each trade's ``time_received`` for the book a trade met.
        - A sample on the clock shows each book after every L2 event stored before the first L2
          event stamped later than the sample's time: stored order is not clock order, and this is
          what a replay in stored order holds at that time (the as-of book whenever times never go
          back). The L2 events of every book of the data set cut, whichever books ``exchanges`` and
          ``instruments`` keep; other kinds do not. Books appear from their first L2 event.
        - ``clock``: ``"exchange"`` (``time_exchange``) or ``"received"`` (``time_received``).
        - ``decimals``: ``"decimal128"`` (exact), ``"float64"`` or ``"text"``, as ``to_arrow``.
        - ``exchanges``, ``instruments``: which books' rows to keep (default all). They pick rows
          only: a kept book's rows are those of the full replay, samples on the clock included
          (to cut samples on some books' events only, replay ``md.filter(exchanges=...)``).
        - ``emit_from``, ``emit_until``: keep rows with ``emit_from <= time < emit_until``; the
          books are still built from the start, so the first row in the window has its book.
        - ``reconnect="reset"``: a ``Reconnecting`` marker empties its exchange's books, and their
          updates are skipped (counted in ``skipped_updates``) until their next snapshot.
        - ``crossed="trim"``: tardis' rule, in the rows only: a crossed book's stale side (the
          side the last event did not move at the best ask) loses its best levels until the book
          is not crossed (counted in ``trimmed_levels``). barter's book is not changed.

        The defaults are barter's behaviour exactly. The rows are computed as they are read, a
        bounded record batch at a time; the object holds its own reference to the data.
        """
        return _over_data_set(self._checked_handle(), lambda handle: book_replay(
            handle, lib.barter_ffi_market_data_book_replay, False, depth, every, at, clock, decimals, layout, exchanges,
            instruments, emit_from, emit_until, reconnect, crossed,
        ))

    def engine_prices(self, *, decimals: Decimals = "decimal128") -> EnginePrices:
        """The price barter's default engine marks positions at (unrealised PnL), after every trade
        and L1 event: barter's ``DefaultInstrumentMarketData`` per (exchange, instrument), fed each
        event with its own ``process``. It takes a trade only if its ``time_exchange`` is later
        than the last trade's, an L1 only if later than the held L1's ``last_update_time`` (so an
        event stamped like the one before is dropped: ``changed`` is then false); ``price`` is
        the L1 microprice (both sides needed), else the last trade price, null where barter's
        division would panic. Columns: ``event_index``, ``time_exchange``, ``time_received``,
        ``exchange``, ``instrument``, ``kind``, ``changed``, ``l1_time``, ``bid_price``,
        ``bid_amount``, ``ask_price``, ``ask_amount``, ``last_trade_price``, ``last_trade_time``,
        ``price`` (each described in its field's metadata)."""
        code = _decimals_code(decimals)
        return _over_data_set(self._checked_handle(), lambda handle: EnginePrices(
            _StreamCall(lib.barter_ffi_market_data_engine_prices, handle, (code,)), once=False,
        ))
