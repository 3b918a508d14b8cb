"""iter_json_file: a barter recording larger than memory, read in bounded pieces."""

from __future__ import annotations

import functools
import itertools
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Union, cast

from ._ffi import call, call_returning, encode_path, ffi, lib
from .batches import decoded_batches
from .data import MarketEvent, MarketStreamItem
from .errors import OwnedByAnotherThreadError
from .market_data import MarketDataInMemory, PathLike
from .notebook import SHOWN_EVENTS, file_stream_html, notice_html, size_text
from .selection import Exchanges, Instruments, Kinds, Selection
from .summary import Summary
from .timestamps import Moment

if TYPE_CHECKING:
    from .arrow import Decimals, Table
    from .book_replay import BookReplay, Clock, Every, Layout, OnCrossed, OnReconnect

__all__ = ["JsonFileStream", "iter_json_file"]


def _summary_then_close(piece: MarketDataInMemory) -> Summary:
    with piece:
        return piece.summary()


def iter_json_file(
    path: PathLike,
    *,
    kinds: Optional[Kinds] = None,
    exchanges: Optional[Exchanges] = None,
    instruments: Optional[Instruments] = None,
    start: Optional[Moment] = None,
    end: Optional[Moment] = None,
    include_reconnects: bool = False,
) -> "JsonFileStream":
    """Market events of a barter file of any size, in file order, without holding the file::

        for event in barter_ffi.iter_json_file("2024-12.jsonl.zst", kinds=["public_trade"]):
            ...

    The library reads and parses the file (either shape, compressed or not) in pieces of about
    8 MiB of JSON on a background thread, one piece ahead, so memory stays bounded whatever the
    file's size. The events, their order and the selection arguments are those of
    ``MarketDataInMemory.from_json_file(path, ...)``; ``include_reconnects=True`` yields the
    ``Reconnecting`` markers too, in their places, as ``items()`` does.

    Errors are ``from_json_file``'s, with the same message, line and column, raised when the
    stream reaches the piece that holds them: after the events of the pieces before it, not those
    of its own lines before the error (a piece is parsed whole or not at all). A missing file
    raises at once. One
    thing the stream refuses that ``from_json_file`` reads: a line (or an array item) longer
    than 64 MiB is a ``MarketDataError`` naming its line, so that one endless line cannot take
    the memory a whole file would (a line of barter's JSON holds one event: a trade about
    200 bytes, a 1000-level book about 100 KB).
    """
    return JsonFileStream(path, Selection(kinds, exchanges, instruments, start, end), include_reconnects)


class JsonFileStream:
    """A file being read in pieces (see ``iter_json_file``): iterate it once, for events, or
    call ``pieces()`` for data sets of bounded size, ``summary()`` for the file's counts, or
    ``record_batches()`` / ``to_parquet()`` for Arrow. Used by the thread that opened it.
    ``close()`` (or leaving ``with``) stops the reading thread mid-file."""

    __slots__ = ("_handle", "_path", "_selection", "_include_reconnects", "_owner", "_started")

    def __init__(self, path: PathLike, selection: Selection, include_reconnects: bool = False) -> None:
        encoded = encode_path(path)
        self._path = os.fsdecode(encoded)
        self._selection = selection
        spec = selection.spec_or_null()
        handle = call_returning("BarterFfiFileStream *", lib.barter_ffi_file_stream_open, encoded, spec,
                                path=self._path)
        self._handle: Any = ffi.gc(handle, lib.barter_ffi_file_stream_free)
        self._include_reconnects = include_reconnects
        self._owner = threading.get_ident()
        self._started = False

    def __iter__(self) -> Iterator[MarketStreamItem]:
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[Any]]:
        self._start()
        handle = self._handle
        yield from decoded_batches(handle, self._include_reconnects, lib.barter_ffi_file_stream_next_batch,
                                   lib.barter_ffi_file_stream_next_items, self._checked)

    def pieces(self) -> Iterator[MarketDataInMemory]:
        """The file as consecutive data sets of about 8 MiB of JSON each: what to export through
        Arrow, or to process one piece at a time. Together they hold what ``from_json_file``
        holds, and their ``stats.errors_skipped`` add up to its count; a piece may hold only
        reconnect markers that belong between its neighbours, and the last one nothing but the
        count of the ``Err`` items after the file's last item."""
        self._start()
        while True:
            self._checked()
            handle = call_returning("BarterFfiMarketData *", lib.barter_ffi_file_stream_next_market_data, self._handle)
            if handle == ffi.NULL:
                return
            yield MarketDataInMemory._owned(handle)

    def summary(self, *, after_each_piece: Optional[Callable[[], object]] = None) -> Summary:
        """The whole file's ``Summary`` (what ``from_json_file(path, ...).summary()`` gives),
        counted piece by piece in bounded memory, without decoding an event in Python (what
        ``barter-ffi summary`` prints). Reads the stream; errors are ``from_json_file``'s."""
        # A selection may keep nothing, and then no piece comes: the summary of no data.
        nothing = Summary(0, 0, 0, None, (), {})
        return functools.reduce(Summary.followed_by, map(_summary_then_close, self._pieces_then(after_each_piece)),
                                nothing)

    def record_batches(self, table: "Table", *, decimals: "Decimals" = "decimal128") -> Any:
        """One table of the file as a ``pyarrow.RecordBatchReader`` (needs pyarrow): Arrow
        record batches, piece by piece, in bounded memory. See ``barter_ffi.arrow``.

        A reader's schema is fixed before the file is read: a decimal128 column takes the first
        piece's scale, and a later piece that needs a larger one raises ``DecimalScaleError``
        naming the column. ``decimals="text"`` or ``"float64"`` read any file;
        ``to_parquet`` and ``MarketDataInMemory.to_arrow`` find each column's scale first."""
        from .arrow import record_batch_reader

        return record_batch_reader(self.pieces(), table, decimals)

    def book_replay(
        self,
        depth: int = 10,
        every: "Every" = "event",
        *,
        at: Optional[Iterable[Moment]] = None,
        clock: "Clock" = "exchange",
        decimals: "Decimals" = "decimal128",
        layout: "Layout" = "wide",
        exchanges: Optional[Exchanges] = None,
        instruments: Optional[Instruments] = None,
        emit_from: Optional[Moment] = None,
        emit_until: Optional[Moment] = None,
        reconnect: "OnReconnect" = "keep",
        crossed: "OnCrossed" = "keep",
    ) -> "BookReplay":
        """``MarketDataInMemory.book_replay`` over the whole file, in bounded memory: the books
        are carried from piece to piece, so the rows are those of the whole file loaded at once.
        The replay takes the stream, which must be unread: on a stream that has handed out events
        or pieces, or was replayed already, it raises ``RuntimeError`` (the books need every L2
        event from the file's start; open the file again). After it, the stream is read only by
        the replay (``progress`` follows it), and the replay is read once. It reads the first
        piece that holds L2 events now: decimal128 columns take that piece's scales, and a later
        value that needs a larger one raises ``DecimalScaleError`` naming the book and event where
        the read reaches it (``decimals="text"`` and ``"float64"`` never do). A grid (``every``
        an interval) that has made more than 1,000,000 rows, or 10 per L2 event read so far if
        that is more, raises ``ValueError`` there."""
        from .book_replay import book_replay

        if self._started:
            raise RuntimeError(
                "a book replay reads a JsonFileStream from the file's start, and this one has been read (or replayed) "
                "already: call iter_json_file again for the replay"
            )
        replay = book_replay(self._checked(), lib.barter_ffi_file_stream_book_replay, True, depth, every, at, clock,
                             decimals, layout, exchanges, instruments, emit_from, emit_until, reconnect, crossed)
        self._started = True
        return replay

    def to_parquet(self, path: Union[str, "os.PathLike[str]"], *, decimals: "Decimals" = "decimal128",
                   after_each_piece: Optional[Callable[[], object]] = None) -> None:
        """Writes the directory ``MarketDataInMemory.to_parquet`` writes (one Parquet file per
        non-empty table and a manifest; see ``barter_ffi.parquet``), one piece at a time: bounded
        memory whatever the file's size (needs pyarrow). A decimal128 column takes its largest
        scale in the file, as ``MarketDataInMemory.to_parquet`` gives it: when a later piece needs
        a larger scale than the pieces before, the table's file so far is rewritten at it (a
        column's scale only grows, to 28 at most, so that happens a few times at most). A value
        that fits no ``decimal128(38, scale)`` at its column's scale (more than 38 digits) is a
        ``DecimalScaleError`` naming the column (``decimals="text"`` or ``"float64"`` write any
        value). If the file has an error, nothing is left written. ``after_each_piece()`` is
        called as pieces are written."""
        from .parquet import write_parquet_pieces

        write_parquet_pieces(self._pieces_then(after_each_piece), path, decimals)

    def _pieces_then(self, after_each: Optional[Callable[[], object]]) -> Iterator[MarketDataInMemory]:
        for piece in self.pieces():
            yield piece
            if after_each is not None:
                after_each()

    @property
    def progress(self) -> tuple[int, int]:
        """(bytes read from disk, the file's size on disk); compressed bytes for a compressed file."""
        done, total = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        call(lib.barter_ffi_file_stream_progress, self._checked(), done, total)
        return int(done[0]), int(total[0])

    def _start(self) -> None:
        self._checked()
        if self._started:
            raise RuntimeError("a JsonFileStream is read once: call iter_json_file again to read the file again")
        self._started = True

    def _checked(self) -> Any:
        if self._handle is None:
            raise ValueError("the JsonFileStream is closed")
        if threading.get_ident() != self._owner:
            raise OwnedByAnotherThreadError(
                "a JsonFileStream is read by the thread that opened it: call iter_json_file on the thread that "
                "reads the file (or read it whole with MarketDataInMemory.from_json_file and hand that over)"
            )
        return self._handle

    def close(self) -> None:
        """Stops reading (the library's thread ends after the piece it is on) and frees the stream.
        An iteration in progress raises ``ValueError`` once the batch it holds is used up."""
        if self._handle is not None:
            self._checked()
            handle, self._handle = self._handle, None
            ffi.release(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __reduce__(self) -> tuple:
        raise TypeError(
            "a JsonFileStream is a position in a file being read by this process and cannot be pickled: "
            "send the path (and the selection) and call iter_json_file where the file is read"
        )

    def __enter__(self) -> "JsonFileStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "open"
        return f"<JsonFileStream {self._path!r} {state}>"

    def _repr_html_(self) -> str:
        """The notebook display: the file, its size and how far this stream has read it, the
        selection, and the first events the file yields (read by a stream of its own, so this
        one's position is untouched: its first two or three pieces are parsed, 0.2-0.5 s on a
        200 MB file). Never raises for a file that
        fails to read: the display says why. Only the owner thread sees this stream's progress."""
        if self._handle is None:
            return notice_html("JsonFileStream", self._path, "closed")
        facts = []
        try:
            facts.append(f"{size_text(os.stat(self._path).st_size)} on disk")
        except OSError as error:
            facts.append(f"cannot stat: {error.strerror}")
        if threading.get_ident() != self._owner:
            facts.append("owned by another thread")
        elif not self._started:
            facts.append("not read yet")
        else:
            done, total = self.progress
            facts.append(f"reading: {size_text(done)} of {size_text(total)} read from disk")
        first_events, problem = self._first_events()
        return file_stream_html(self._path, facts, self._selection.description(), first_events, problem)

    def _first_events(self) -> tuple[Optional[list[MarketEvent]], Optional[str]]:
        """The file's first events as this stream yields them, or why they cannot be read. Only
        a regular file is read again: a pipe's data would be taken from this stream."""
        if not os.path.isfile(self._path):
            return None, None
        try:
            with JsonFileStream(self._path, self._selection) as peek:
                events = cast("Iterator[MarketEvent]", iter(peek))  # no markers: not asked for
                return list(itertools.islice(events, SHOWN_EVENTS)), None
        except (OSError, ValueError) as error:  # MarketDataError is a ValueError
            return None, str(error)
