"""barter-ffi (or python -m barter_ffi): look at a barter market-data file.

    barter-ffi [summary] [FILE] [--json]   counts by kind, exchange and instrument; time span
    barter-ffi head FILE [-n N]            the first N market events, one a line
    barter-ffi tail FILE [-n N]            the last N market events
    barter-ffi convert IN OUT [--decimals D]
                                           JSON or JSON Lines to Parquet (a directory of one
                                           file per table) and back: OUT ending in .json is a
                                           JSON array, in .jsonl JSON Lines, either
                                           compressed by a .gz, .zst or .bz2 suffix;
                                           needs pyarrow
    barter-ffi config --cflags --libs      flags to build a C host against the installed library

With no FILE, ``summary`` reads a small fixture bundled with the package.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import linking
from .compression import without_compression_suffix
from .data import Level, MarketEvent, OrderBookEvent, OrderBookL1
from .timestamps import iso
from .market_data import MarketDataInMemory
from .samples import sample_path
from .streaming import iter_json_file

BUNDLED_FIXTURE = "all_kinds.jsonl"


def bundled_fixture() -> Path:
    """The sample file ``summary`` reads when given none."""
    return sample_path(BUNDLED_FIXTURE)


def summary(data: MarketDataInMemory) -> dict[str, Any]:
    """Counts by kind, exchange and instrument, the time span and the skips, as plain data."""
    kinds: Counter[str] = Counter()
    exchanges: Counter[str] = Counter()
    instruments: Counter[int] = Counter()
    earliest = latest = None
    for event in data:
        kinds[event.kind.kind_name()] += 1
        exchanges[event.exchange.value] += 1
        instruments[event.instrument] += 1
        stamp = event.time_exchange_ns
        earliest = stamp if earliest is None else min(earliest, stamp)
        latest = stamp if latest is None else max(latest, stamp)
    assert earliest is not None and latest is not None, "a data set holds at least one event"
    stats = data.stats
    return {
        "market_events": stats.market_events,
        "reconnects": stats.reconnects,
        "errors_skipped": stats.errors_skipped,
        "time_first_event_ns": data.time_first_event_ns(),
        "time_exchange_min_ns": earliest,
        "time_exchange_max_ns": latest,
        "by_kind": dict(sorted(kinds.items())),
        "by_exchange": dict(sorted(exchanges.items())),
        "by_instrument": {str(index): count for index, count in sorted(instruments.items())},
    }


def summary_text(facts: dict[str, Any]) -> str:
    lines = [
        f"market events:        {facts['market_events']}",
        f"reconnects skipped:   {facts['reconnects']}",
        f"Err items skipped:    {facts['errors_skipped']}",
        f"time_first_event:     {iso(facts['time_first_event_ns'])}",
        f"time_exchange range:  {iso(facts['time_exchange_min_ns'])} .. {iso(facts['time_exchange_max_ns'])}",
    ]
    for title, key in (("by kind", "by_kind"), ("by exchange", "by_exchange"), ("by instrument", "by_instrument")):
        lines.append(f"{title}:")
        lines.extend(f"  {name!s:<24} {count}" for name, count in facts[key].items())
    return "\n".join(lines)


def _level(level: Optional[Level]) -> str:
    return "-" if level is None else f"{level.price_text} x {level.amount_text}"


def _levels(levels: tuple[Level, ...], shown: int = 3) -> str:
    text = ", ".join(_level(level) for level in levels[:shown])
    more = f", +{len(levels) - shown} more" if len(levels) > shown else ""
    return f"[{text}{more}]"


def event_line(event: MarketEvent) -> str:
    """One market event on one line: time, exchange, instrument, kind and its fields."""
    kind = event.kind
    if isinstance(kind, OrderBookL1):
        fields = f"bid {_level(kind.best_bid)}  ask {_level(kind.best_ask)}"
    elif isinstance(kind, OrderBookEvent):
        variant = "snapshot" if kind.is_snapshot else "update"
        fields = f"{variant} sequence={kind.sequence} bids={_levels(kind.bids)} asks={_levels(kind.asks)}"
    else:
        fields = " ".join(
            f"{name.removesuffix('_ns')}={iso(value) if name.endswith('_ns') else getattr(value, 'value', value)}"
            for name, value in zip(kind.__struct_fields__, (getattr(kind, name) for name in kind.__struct_fields__))
        )
    return (
        f"{iso(event.time_exchange_ns)}  {event.exchange.value:<14} {event.instrument:>4}  "
        f"{kind.kind_name():<12} {fields}"
    )


PROGRESS_BAR_BYTES = 64 << 20
"""Files at least this large show a progress bar while loading (on a terminal)."""


def progress_bar(done: int, total: int) -> None:
    """Draws ``[#####.....]  45%  720/1600 MB`` on stderr, ending the line when done."""
    fraction = done / total if total else 1.0
    filled = int(fraction * 30)
    bar = "#" * filled + "." * (30 - filled)
    end = "\n" if done >= total else ""
    print(f"\r[{bar}] {fraction:4.0%}  {done / 1e6:.0f}/{total / 1e6:.0f} MB", end=end, file=sys.stderr, flush=True)


def load(path: Path) -> MarketDataInMemory:
    """Loads ``path``, with a progress bar when it is large and stderr is a terminal."""
    large = path.is_file() and path.stat().st_size >= PROGRESS_BAR_BYTES
    if large and sys.stderr.isatty():
        return MarketDataInMemory.from_json_file(path, progress=progress_bar)
    return MarketDataInMemory.from_json_file(path)


COMMANDS = ("summary", "head", "tail", "convert", "config")
JSON_SHAPES = {".json": "array", ".jsonl": "lines"}


def convert(source: Path, target: Path, decimals: str) -> None:
    """JSON (either shape, compressed or not) to a Parquet directory, a Parquet directory to
    JSON: by ``target``'s suffix, ``.json`` and ``.jsonl`` being JSON, and a further ``.gz``,
    ``.zst`` or ``.bz2`` compressing it. JSON is streamed to Parquet in bounded memory."""
    shape = JSON_SHAPES.get(without_compression_suffix(target).suffix.lower())
    if shape is None and not source.is_dir():
        with iter_json_file(source) as stream:
            show = sys.stderr.isatty() and source.stat().st_size >= PROGRESS_BAR_BYTES

            def report() -> None:
                if show:
                    progress_bar(*stream.progress)

            stream.to_parquet(target, decimals=decimals, after_each_piece=report)  # type: ignore[arg-type]
            report()
        return
    with MarketDataInMemory.from_parquet(source) if source.is_dir() else load(source) as data:
        if shape is None:
            data.to_parquet(target, decimals=decimals)  # type: ignore[arg-type]
        else:
            data.to_json_file(target, shape=shape)  # type: ignore[arg-type]


CONFIG_ANSWERS: dict[str, Callable[[], list[str]]] = {
    "cflags": linking.cflags,
    "libs": linking.libs,
    "include": lambda: [linking.get_include()],
    "library": lambda: [linking.get_library()],
    "pkgconfigdir": lambda: [linking.get_pkgconfig_dir()],
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="barter-ffi", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    summary_command = commands.add_parser("summary", help="counts, time span and skips (the default)")
    summary_command.add_argument("file", nargs="?", type=Path, help="a barter JSON or JSON Lines file")
    summary_command.add_argument("--json", action="store_true", help="print the summary as JSON, for scripts")
    for name, which in (("head", "first"), ("tail", "last")):
        command = commands.add_parser(name, help=f"print the {which} market events, one a line")
        command.add_argument("file", type=Path, help="a barter JSON or JSON Lines file")
        command.add_argument("-n", "--lines", type=int, default=10, metavar="N", help="how many (default 10)")
    convert_command = commands.add_parser("convert", help="JSON or JSON Lines to Parquet, and back")
    convert_command.add_argument("source", type=Path, help="a barter JSON or JSON Lines file, or a Parquet directory")
    convert_command.add_argument("target", type=Path, help="a Parquet directory, or a .json or .jsonl file")
    convert_command.add_argument(
        "--decimals", choices=("decimal128", "float64", "text"), default="decimal128",
        help="how L1 and L2 prices and amounts are written to Parquet (default decimal128)",
    )
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
        with load(path) as data:
            facts = summary(data)
        if args.json:
            out(json.dumps({"file": str(path), **facts}, indent=2))
        else:
            out(f"{path}\n{summary_text(facts)}")
        return
    if args.command == "convert":
        convert(args.source, args.target, args.decimals)
        return
    if args.lines < 0:
        raise ValueError(f"-n must be at least 0, not {args.lines}")
    with load(args.file) as data:
        count = min(args.lines, len(data))
        if count == 0:
            return
        with data[:count] if args.command == "head" else data[-count:] as shown:
            for event in shown:
                out(event_line(event))


def main(argv: Optional[Sequence[str]] = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in COMMANDS and arguments[0] not in ("-h", "--help")):
        arguments.insert(0, "summary")  # `barter-ffi FILE` stays the summary it always was
    args = _parser().parse_args(arguments)
    try:
        _run(args, print)
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as the Python docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (OSError, ValueError) as error:  # MarketDataError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
