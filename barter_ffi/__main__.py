"""``python -m barter_ffi [FILE]``: summarise a barter market-data file.

With no FILE, summarises a small fixture bundled with the package.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

from .data import _iso
from .errors import MarketDataError
from .market_data import MarketDataInMemory

BUNDLED_FIXTURE = "all_kinds.jsonl"


def bundled_fixture() -> Path:
    """The sample file installed as ``barter_ffi.fixtures`` (the project's ``fixtures/``)."""
    try:
        with resources.as_file(resources.files("barter_ffi.fixtures") / BUNDLED_FIXTURE) as path:
            return path
    except ModuleNotFoundError:
        # Imported from a source checkout rather than an installation: fixtures/ is beside us.
        return Path(__file__).resolve().parent.parent / "fixtures" / BUNDLED_FIXTURE


def summarise(data: MarketDataInMemory) -> str:
    """A plain-text summary: counts by kind, exchange and instrument, time span, skips."""
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
    lines = [
        f"market events:        {stats.market_events}",
        f"reconnects skipped:   {stats.reconnects}",
        f"Err items skipped:    {stats.errors_skipped}",
        f"time_first_event:     {_iso(data.time_first_event_ns())}",
        f"time_exchange range:  {_iso(earliest)} .. {_iso(latest)}",
    ]
    for title, counts in (("by kind", kinds), ("by exchange", exchanges), ("by instrument", instruments)):
        lines.append(f"{title}:")
        lines.extend(f"  {name!s:<24} {count}" for name, count in sorted(counts.items()))
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


def load(path: Path) -> MarketDataInMemory:
    """Loads ``path``, with a progress bar when it is large and stderr is a terminal."""
    large = path.is_file() and path.stat().st_size >= PROGRESS_BAR_BYTES
    if large and sys.stderr.isatty():
        return MarketDataInMemory.from_json_file(path, progress=progress_bar)
    return MarketDataInMemory.from_json_file(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m barter_ffi", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, help="a barter market-data JSON or JSON Lines file")
    args = parser.parse_args(argv)
    try:
        path = bundled_fixture() if args.file is None else args.file
        with load(path) as data:
            print(path)
            print(summarise(data))
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as the Python docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (OSError, MarketDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
