"""Small barter recordings that ship with the package, for examples and first tries.

They are synthetic (made for the tests, not recorded) and cover both of barter's file shapes and
every kind of event; they are the source checkout's ``fixtures/``, installed as
``barter_ffi/fixtures``.
"""

from __future__ import annotations

from pathlib import Path

from ._paths import package_data_dir

__all__ = ["sample_path"]


def sample_path(name: str) -> Path:
    """The path of the bundled sample ``name``, in an installed package or a source checkout
    alike, so an example runs from any directory:

    >>> from barter_ffi import MarketDataInMemory, sample_path
    >>> with MarketDataInMemory.from_json_file(sample_path("all_kinds.jsonl")) as md:
    ...     len(md), md.stats.reconnects
    (11, 2)

    The samples: ``all_kinds.jsonl`` (JSON Lines: every kind of event, 11 market events and 2
    reconnect markers), ``all_kinds_results.json`` (a JSON array of ``MarketStreamResult``: 6
    market events, 2 reconnects, 3 ``Err`` items), ``candles.jsonl`` (JSON Lines: 4 candles and
    a reconnect marker) and ``trades.json`` (a JSON array: 5 trades and a reconnect marker).

    Raises ``FileNotFoundError`` naming the samples for any other name.
    """
    directory = package_data_dir("fixtures")
    samples = sorted(path.name for path in directory.iterdir() if path.suffix in (".json", ".jsonl"))
    if name not in samples:
        raise FileNotFoundError(f"no bundled sample {name!r}: the samples are {', '.join(samples)}")
    return directory / name
