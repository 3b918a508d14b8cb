"""barter-ffi (or python -m barter_ffi): look at a barter market-data file.

    barter-ffi [summary] [FILE] [--json]   counts by kind, exchange and instrument; time span
    barter-ffi head FILE [-n N]            the first N market events, one a line
    barter-ffi tail FILE [-n N]            the last N market events
                                           (all three read the file in pieces of about 8 MiB,
                                           in bounded memory whatever its size; head reads
                                           only the pieces that hold its events)
    barter-ffi convert IN OUT [--decimals D]
                                           JSON or JSON Lines to Parquet (a directory of one
                                           file per table, OUT ending in .parquet or with no
                                           suffix) and back: OUT ending in .json is a JSON
                                           array, in .jsonl JSON Lines, either compressed by a
                                           .gz, .zst or .bz2 suffix; needs pyarrow
    barter-ffi books FILE -o OUT.parquet [--depth N] [--every E] [...]
                                           the order books barter would hold, replayed through
                                           barter's own OrderBook: the top N levels, mid price,
                                           microprice, spread and quality flags, after every
                                           L2 event, when the top changes, or on a time grid
                                           (--every 1s), into one Parquet file; a JSON file is
                                           read in pieces, in bounded memory; needs pyarrow
    barter-ffi config --cflags --libs      flags to build a C host against the installed library

FILE is barter's JSON or JSON Lines (compressed or not), a Parquet directory that convert
wrote, or one table file of it (needs pyarrow). With no FILE, ``summary`` reads a small fixture
bundled with the package. An error in a JSON file is reported as a full load reports it (its
first one); ``head`` stops at its last event, so an error further on is not reached.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, cast

from . import linking
from ._ffi import library_version
from .compression import without_compression_suffix
from .book_replay import GRID_ROWS_ADVICE, MAX_DEPTH, interval_ns
from .data import ExchangeId, MarketEvent
from .errors import DecimalScaleError
from .timestamps import iso, nanoseconds
from .market_data import MarketDataInMemory
from .parquet import starts_as_parquet
from .samples import sample_path
from .streaming import JsonFileStream, iter_json_file
from .summary import Summary, event_line

BUNDLED_FIXTURE = "all_kinds.jsonl"


def bundled_fixture() -> Path:
    """The sample file ``summary`` reads when given none."""
    return sample_path(BUNDLED_FIXTURE)


def summary(facts: Summary) -> dict[str, Any]:
    """Counts by kind, exchange and instrument, the time span and the skips, as plain data."""
    return {
        "market_events": facts.market_events,
        "reconnects": facts.reconnects,
        "errors_skipped": facts.errors_skipped,
        "time_first_event_ns": facts.time_first_event_ns,
        "time_exchange_min_ns": facts.time_exchange_min_ns,
        "time_exchange_max_ns": facts.time_exchange_max_ns,
        "by_kind": facts.by_kind,
        "by_exchange": facts.by_exchange,
        "by_instrument": {str(index): count for index, count in facts.by_instrument.items()},
        "reconnects_by_exchange": facts.reconnects_by_exchange,
    }


def summary_text(facts: dict[str, Any]) -> str:
    if facts["market_events"]:
        first = iso(facts["time_first_event_ns"])
        span = f"{iso(facts['time_exchange_min_ns'])} .. {iso(facts['time_exchange_max_ns'])}"
    else:
        first = span = "none (no market event)"
    lines = [
        f"market events:        {facts['market_events']}",
        f"reconnects kept:      {facts['reconnects']}",
        f"Err items skipped:    {facts['errors_skipped']}",
        f"time_first_event:     {first}",
        f"time_exchange range:  {span}",
    ]
    sections = (("by kind", "by_kind"), ("by exchange", "by_exchange"), ("by instrument", "by_instrument"),
                ("reconnects by exchange", "reconnects_by_exchange"))
    for title, key in sections:
        lines.append(f"{title}:")
        lines.extend(f"  {name!s:<24} {count}" for name, count in facts[key].items())
    return "\n".join(lines)


PROGRESS_BAR_BYTES = 64 << 20
"""Files at least this large show a progress bar while loading (on a terminal)."""


def progress_bar(done: int, total: int) -> None:
    """Draws ``[#####.....]  45%  720/1600 MB`` on stderr, ending the line when done."""
    fraction = done / total if total else 1.0
    filled = int(fraction * 30)
    bar = "#" * filled + "." * (30 - filled)
    end = "\n" if done >= total else ""
    print(f"\r[{bar}] {fraction:4.0%}  {done / 1e6:.0f}/{total / 1e6:.0f} MB", end=end, file=sys.stderr, flush=True)


def progress_reporter(path: Path, stream: JsonFileStream) -> Optional[Callable[[], None]]:
    """Draws ``stream``'s progress bar (call it after each piece) when ``path`` is large and
    stderr is a terminal; None otherwise."""
    if sys.stderr.isatty() and path.is_file() and path.stat().st_size >= PROGRESS_BAR_BYTES:
        return lambda: progress_bar(*stream.progress)
    return None


def is_parquet(path: Path) -> bool:
    """A Parquet directory (``to_parquet``'s), or one table file of one: a regular file by its
    first bytes, so barter's JSON named ``.parquet`` is read as JSON (and a table file by any
    name as Parquet); anything else (missing, a pipe, unreadable) by its name, unread."""
    if path.is_dir():
        return True
    if path.is_file():
        with contextlib.suppress(OSError):
            return starts_as_parquet(path)
    return path.suffix.lower() == ".parquet"


def load(path: Path) -> MarketDataInMemory:
    """Loads ``path``, JSON with a progress bar when it is large and stderr is a terminal."""
    if is_parquet(path):
        return MarketDataInMemory.from_parquet(path)
    large = path.is_file() and path.stat().st_size >= PROGRESS_BAR_BYTES
    if large and sys.stderr.isatty():
        return MarketDataInMemory.from_json_file(path, progress=progress_bar)
    return MarketDataInMemory.from_json_file(path)


COMMANDS = ("summary", "head", "tail", "convert", "books", "config")
FILE_HELP = "a barter JSON or JSON Lines file, or a Parquet directory that convert wrote, or one table file of it"
JSON_SHAPES = {".json": "array", ".jsonl": "lines"}


def summarise(path: Path) -> Summary:
    """``path``'s summary, read in pieces: bounded memory whatever the file's size, and the
    whole file's first error, as a full load reports it."""
    if is_parquet(path):
        with load(path) as data:
            return data.summary()
    with iter_json_file(path) as stream:
        return stream.summary(after_each_piece=progress_reporter(path, stream))


def head(path: Path, count: int) -> list[MarketEvent]:
    """The first ``count`` market events, reading only as far into the file as they lie (at
    least its first piece, about 8 MiB): an error further on is not reached, and not reported."""
    if is_parquet(path):
        with load(path) as data:
            return list(itertools.islice(data, count))
    with iter_json_file(path) as stream:
        events = cast("Iterator[MarketEvent]", iter(stream))  # no markers: not asked for
        return list(itertools.islice(events, max(count, 1)))[:count]


def tail(path: Path, count: int) -> list[MarketEvent]:
    """The last ``count`` market events: the whole file is read, a piece at a time, keeping only
    the last ``count`` events seen (and reporting the whole file's first error)."""
    if is_parquet(path):
        with load(path) as data, data[max(0, len(data) - count):] as data_end:
            return list(data_end)
    last: collections.deque[MarketEvent] = collections.deque(maxlen=count)
    with iter_json_file(path) as stream:
        report = progress_reporter(path, stream)
        for piece in stream.pieces():
            with piece, piece[max(0, len(piece) - count):] as piece_end:
                last.extend(piece_end)
            if report is not None:
                report()
    return list(last)


def target_shape(target: Path) -> Optional[str]:
    """The JSON shape ``target`` names (``.json``, ``.jsonl``, either with ``.gz``, ``.zst`` or
    ``.bz2``), or None for a Parquet directory (``.parquet``, no suffix, or an existing
    directory); ``ValueError`` for any other name, which convert would not write as named."""
    shape = JSON_SHAPES.get(without_compression_suffix(target).suffix.lower())
    if shape is not None:
        return shape
    if target.suffix.lower() in ("", ".parquet") or target.is_dir():
        return None
    raise ValueError(
        f"convert writes JSON to a name ending in .json or .jsonl (then optionally .gz, .zst or .bz2), and "
        f"Parquet to a directory whose name ends in .parquet or has no suffix, not to {target}"
    )


def convert(source: Path, target: Path, decimals: str) -> None:
    """JSON (either shape, compressed or not) to a Parquet directory, a Parquet directory (or
    table file) to JSON or Parquet, by ``target``'s name (``target_shape``). JSON is streamed to
    Parquet in bounded memory."""
    shape = target_shape(target)
    if shape is None and not is_parquet(source):
        with iter_json_file(source) as stream:
            report = progress_reporter(source, stream)
            stream.to_parquet(target, decimals=decimals, after_each_piece=report)  # type: ignore[arg-type]
            if report is not None:
                report()
        return
    with load(source) as data:
        if shape is None:
            data.to_parquet(target, decimals=decimals)  # type: ignore[arg-type]
        else:
            data.to_json_file(target, shape=shape)  # type: ignore[arg-type]


def books(args: argparse.Namespace) -> int:
    """Replays the order books of ``args.file`` into the Parquet file ``args.output`` (streamed
    in bounded memory from JSON, with a progress bar for a large file on a terminal); returns the
    rows written."""
    if args.output.suffix.lower() != ".parquet":
        raise ValueError(f"books writes one Parquet file: name it with .parquet, not {args.output}")
    if args.emit_from is not None and args.emit_until is not None and args.emit_from >= args.emit_until:
        raise ValueError("--from must lie before --until")
    options = dict(
        depth=args.depth, every=args.every, clock=args.clock, decimals=args.decimals, layout=args.layout,
        exchanges=args.exchanges, instruments=args.instruments, emit_from=args.emit_from, emit_until=args.emit_until,
        reconnect=args.reconnect, crossed=args.crossed,
    )
    try:
        return _replay_books(args, options)
    except ValueError as error:
        if GRID_ROWS_ADVICE not in str(error):
            raise
        raise ValueError(str(error).replace(GRID_ROWS_ADVICE, "choose a longer --every, or narrow the rows with "
                                            "--from/--until")) from None


def _replay_books(args: argparse.Namespace, options: dict[str, Any]) -> int:
    if is_parquet(args.file):
        with load(args.file) as data:
            return data.book_replay(**options).to_parquet(args.output)
    with iter_json_file(args.file) as stream:
        report = progress_reporter(args.file, stream)
        rows = stream.book_replay(**options).to_parquet(args.output, after_each_batch=report)
        if report is not None:
            report()
        return rows


CONFIG_ANSWERS: dict[str, Callable[[], list[str]]] = {
    "cflags": linking.cflags,
    "libs": linking.libs,
    "include": lambda: [linking.get_include()],
    "library": lambda: [linking.get_library()],
    "pkgconfigdir": lambda: [linking.get_pkgconfig_dir()],
}


def _count(text: str) -> int:
    """``-n``: a whole number from 0, or argparse's usage error."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {count}")
    return count


def _flag_value(read: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` reading a flag's text with the library's own ``read``: its error is
    argparse's usage error, which names the flag (``argument --from: ...``), not the Python
    argument behind it."""
    def value(text: str) -> Any:
        try:
            return read(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return value


def _time_flag(text: str) -> int:
    try:
        return nanoseconds(text, "TIME")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("TIME: ").removeprefix("TIME ")) from None


def _depth(text: str) -> int:
    depth = _count(text)
    if depth > MAX_DEPTH:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_DEPTH} levels a side, not {depth}")
    return depth


def _every(text: str) -> Any:
    if text in ("event", "change"):
        return text
    return interval_ns(int(text) if text.isdigit() else text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="barter-ffi", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--version", action="version", version=f"barter-ffi {library_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    summary_command = commands.add_parser("summary", help="counts, time span and skips (the default)")
    summary_command.add_argument("file", nargs="?", type=Path, help=FILE_HELP)
    summary_command.add_argument("--json", action="store_true", help="print the summary as JSON, for scripts")
    for name, which in (("head", "first"), ("tail", "last")):
        command = commands.add_parser(name, help=f"print the {which} market events, one a line")
        command.add_argument("file", type=Path, help=FILE_HELP)
        command.add_argument("-n", "--lines", type=_count, default=10, metavar="N", help="how many (default 10)")
    convert_command = commands.add_parser("convert", help="JSON or JSON Lines to Parquet, and back")
    convert_command.add_argument("source", type=Path, help="a barter JSON or JSON Lines file, or a Parquet directory")
    convert_command.add_argument("target", type=Path,
                                 help="a Parquet directory (.parquet or no suffix), or a .json or .jsonl file")
    convert_command.add_argument(
        "--decimals", choices=("decimal128", "float64", "text"), default="decimal128",
        help="how L1 and L2 prices and amounts are written to Parquet (default decimal128)",
    )
    books_command = commands.add_parser(
        "books", help="replay the order books through barter's OrderBook into a Parquet file",
        description="The order books barter would hold, replayed through barter's own OrderBook (one book per "
                    "exchange and instrument, each L2 event applied in stored order), one row per book per sample: "
                    "the API reference's book_replay table.",
    )
    books_command.add_argument("file", type=Path, help=FILE_HELP)
    books_command.add_argument("-o", "--output", type=Path, required=True, help="the Parquet file to write (.parquet)")
    books_command.add_argument("--depth", type=_depth, default=10, help="levels a side in each row (default 10)")
    books_command.add_argument(
        "--every", type=_flag_value(_every), default="event", metavar="E",
        help="event (a row after each L2 event, the default), change (when the top levels change), or an "
             "interval: 100ms, 1s, 5m, or nanoseconds",
    )
    books_command.add_argument("--clock", choices=("exchange", "received"), default="exchange",
                               help="which time places events and samples (default exchange)")
    books_command.add_argument("--decimals", choices=("decimal128", "float64", "text"), default="decimal128",
                               help="how prices and amounts are written (default decimal128, exact)")
    books_command.add_argument("--layout", choices=("wide", "lists"), default="wide",
                               help="a column per level (bid_price_0, …) or fixed-size lists (default wide)")
    books_command.add_argument("--exchanges", nargs="+", metavar="NAME", type=_flag_value(lambda name: ExchangeId(name).value), help="keep only these exchanges' books' rows (the samples are cut by every book's events, as "
                                      "without it)")
    books_command.add_argument("--instruments", nargs="+", type=_count, metavar="INDEX",
                               help="keep only these instruments' books' rows")
    books_command.add_argument("--from", dest="emit_from", metavar="TIME", type=_time_flag,
                               help="write rows from this RFC 3339 time on (the books are built from the start)")
    books_command.add_argument("--until", dest="emit_until", metavar="TIME", type=_time_flag,
                               help="write rows before this time")
    books_command.add_argument("--reconnect", choices=("keep", "reset"), default="keep",
                               help="reset: a reconnect empties its exchange's books until their next snapshot "
                                    "(default keep, as barter)")
    books_command.add_argument("--crossed", choices=("keep", "trim"), default="keep",
                               help="trim: leave out a crossed book's stale levels as tardis does (default keep)")
    config = commands.add_parser("config", help="paths and flags for C hosts of the installed library")
    for answer in CONFIG_ANSWERS:
        config.add_argument(f"--{answer}", action="store_true", help=f"print the {answer}")
    return parser


def _run(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    if args.command == "config":
        asked = [answer for answer in CONFIG_ANSWERS if getattr(args, answer)]
        if not asked:
            raise ValueError("config: ask for at least one of " + ", ".join(f"--{answer}" for answer in CONFIG_ANSWERS))
        out(" ".join(flag for answer in asked for flag in CONFIG_ANSWERS[answer]()))
        return
    if args.command == "summary":
        path = bundled_fixture() if args.file is None else args.file
        facts = summary(summarise(path))
        if args.json:
            out(json.dumps({"file": str(path), **facts}, indent=2))
        else:
            out(f"{path}\n{summary_text(facts)}")
        return
    if args.command == "convert":
        convert(args.source, args.target, args.decimals)
        return
    if args.command == "books":
        out(f"{args.output}: {books(args):,} rows")
        return
    for event in (head if args.command == "head" else tail)(args.file, args.lines):
        out(event_line(event))


def _is_a_file_argument(argument: str) -> bool:
    """Whether ``barter-ffi ARGUMENT …`` means the summary of a file: an option of ``summary``,
    an existing path, or a name that looks like a path. Any other word is a command, so that a
    mistyped one is named as one ("invalid choice"), not taken for a missing file."""
    if argument.startswith("-"):
        return argument not in ("-h", "--help", "--version")
    return os.path.exists(argument) or any(mark in argument for mark in ("/", ".", os.sep))


def _ctrl_c_ends_at_once_for_a_pipe(path: Optional[Path]) -> None:
    """A FIFO or pipe (``<(…)``, ``/dev/stdin``) is read in calls that wait for its writer, where
    no KeyboardInterrupt can be raised (Ctrl-C did nothing until the writer came or wrote): for
    one, Ctrl-C ends the process at once, as it ends ``cat``. A write it cuts short leaves its
    files under hidden names only, never read as output."""
    if path is None or os.name != "posix":
        return
    with contextlib.suppress(OSError):  # a missing file is reported by the command itself
        if stat.S_ISFIFO(os.stat(path).st_mode):
            signal.signal(signal.SIGINT, signal.SIG_DFL)


INTERRUPTED = 130
"""What ``main`` returns after Ctrl-C: the status a shell shows for a command ended by SIGINT."""
READER_LEFT = 141
"""What ``main`` returns when stdout's reader went away (``| head``): a shell's status for SIGPIPE."""
_ENDING_SIGNALS = {INTERRUPTED: "SIGINT", READER_LEFT: "SIGPIPE"}


def main(argv: Optional[Sequence[str]] = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in COMMANDS and _is_a_file_argument(arguments[0])):
        arguments.insert(0, "summary")  # `barter-ffi FILE` stays the summary it always was
    args = _parser().parse_args(arguments)
    _ctrl_c_ends_at_once_for_a_pipe(getattr(args, "file", None) or getattr(args, "source", None))
    try:
        _run(args, print)
    except BrokenPipeError as error:
        if error.filename is not None:  # the reader of a file being written (a FIFO), not of stdout
            print(f"error: {error}", file=sys.stderr)
            return 1
        # The reader went away (`| head`): stop quietly, as the Python docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return READER_LEFT
    except KeyboardInterrupt:  # Ctrl-C: what was being written is removed by the writer
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "pyarrow":
            raise
        print(f"error: {args.command} needs pyarrow for Parquet, an optional dependency: pip install "
              "'barter-ffi[arrow]'", file=sys.stderr)
        return 1
    except DecimalScaleError as error:  # decimal128: the hint in the command line's words
        print(f"error: {error.problem}: rerun with --decimals text (exact, each value as written) or --decimals "
              "float64", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:  # MarketDataError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def entry_point() -> None:
    """The ``barter-ffi`` command. After Ctrl-C, or when stdout's reader went away, the process
    ends by that signal (SIGINT, SIGPIPE), as Python ends on an uncaught Ctrl-C and ``cat`` in a
    pipe, so a calling shell loop or ``make`` sees what happened. Exiting 130 after Ctrl-C was not
    even reliable: CPython ends a ``python -m`` run by SIGINT anyway whenever the
    KeyboardInterrupt was raised inside code run from a string (``exec``, as namedtuple and
    dataclass creation do), however it was caught afterwards."""
    status = main()
    if status in _ENDING_SIGNALS and os.name == "posix":
        with contextlib.suppress(OSError):  # a reader that went away has nothing to be sent
            sys.stdout.flush()
            sys.stderr.flush()
        ending = getattr(signal, _ENDING_SIGNALS[status])
        signal.signal(ending, signal.SIG_DFL)
        os.kill(os.getpid(), ending)
    sys.exit(status)


if __name__ == "__main__":
    entry_point()
