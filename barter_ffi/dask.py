"""Many recordings on many machines: barter files as Dask collections (``barter-ffi[dask]``).

Each file is one partition. A task carries only its path and the options, never a library
object: the worker that runs it opens the file itself, so the same code runs on a
``LocalCluster`` or on workers across machines that see the same paths (a shared file system)::

    from distributed import Client
    from barter_ffi.dask import read_market_data

    client = Client("tcp://scheduler:8786")           # or Client() on one machine (a script
                                                      # then needs `if __name__ == "__main__":`)
    trades = read_market_data("/data/2024-12-*.jsonl.zst", table="trades")
    trades.groupby("exchange", observed=True)["amount"].sum().compute()

Partitions are ``MarketDataInMemory.to_pandas`` frames, in its dtypes, which Dask's settings do
not change: L1 and L2 prices and amounts are ``float64`` (or text, on request), never Python
objects that Dask's ``dataframe.convert-string`` would turn into strings. One column differs:
``exchange`` is text (Dask's string dtype), not a categorical. Its categories would be each
file's exchanges, which Dask knows only once it has read every file, and Dask's categoricals of
unknown categories count wrong (``value_counts()`` adds an ``__UNKNOWN_CATEGORIES__`` row when a
file has no row of the table, and ``.cat.as_known()`` fails on a distributed cluster);
``frame.categorize(columns=["exchange"])`` makes it a categorical of known categories, for
``pivot_table`` and the like; count with ``frame["exchange"].value_counts()`` on the text (a
categorized column's ``value_counts()`` raises ``KeyError`` in Dask 2026.8 unless the frame is
``.persist()``-ed first). ``side`` is a categorical of its two values, known.

Unsigned integers (``event_index``, ``instrument``, ``sequence``, ``trade_count``) are pandas'
nullable ``UInt64``, so a reduction stays exact when a file has no row of the table (a plain
``uint64`` column's ``max()`` became ``float64`` there). Dask's ``describe()`` and
``quantile()`` fail on nullable integers (dask/dask#8530): describe the columns you mean,
``trades[["price", "amount"]].describe()`` or ``frame.select_dtypes("float").describe()``.
"""

from __future__ import annotations

import os
from typing import Any, Literal, Optional, Sequence, Union

import dask.bag
import dask.dataframe

from .arrow import Table
from .data import MarketEvent
from .errors import unknown_name
from .market_data import MarketDataInMemory
from .selection import Exchanges, Instruments, Kinds, Paths, paths_to_read, selection_arguments
from .timestamps import Moment

__all__ = ["read_events", "read_market_data"]

FrameDecimals = Literal["float64", "text"]
"""The decimal forms a Dask frame can hold in every partition alike (not decimal128, whose scale is each file's)."""


def _files(paths: Paths) -> list[Union[str, bytes]]:
    """The files to read, checked to exist now (see ``paths_to_read``: a missing file is an error
    when the graph is built, not in a worker at ``compute()``), as plain paths a task can carry."""
    return [os.fspath(path) for path in paths_to_read(paths)]


def _read_table(path: str, table: str, decimals: str, selection: dict[str, Any],
                columns: Optional[Sequence[str]] = None) -> Any:
    """One file's ``table`` as a pandas DataFrame: what each partition's task runs. Dask passes
    fewer ``columns`` when a computation needs fewer (column projection)."""
    with MarketDataInMemory.from_json_file(path, **selection) as data:
        return _partition(data, table, decimals, columns)


def _meta(table: str, decimals: str) -> Any:
    """The table's frame with no row, from its Arrow schema: no file is read for it."""
    with MarketDataInMemory.from_events([]) as data:
        return _partition(data, table, decimals, None)


def _partition(data: MarketDataInMemory, table: str, decimals: str, columns: Optional[Sequence[str]]) -> Any:
    """``data``'s ``table`` as ``to_pandas`` gives it, ``exchange`` as text (see the module's
    documentation), only ``columns`` if given."""
    frame = data.to_pandas(table, decimals=decimals)  # type: ignore[arg-type]
    if "exchange" in frame:
        frame["exchange"] = frame["exchange"].astype(str)
    return frame if columns is None else frame[list(columns)]


def _checked_decimals(decimals: str) -> FrameDecimals:
    if decimals == "decimal128":
        raise ValueError(
            "read_market_data cannot give decimals='decimal128': Dask needs one dtype per column before it reads "
            "any file, and a decimal column's scale is each file's own (its largest). Use decimals='float64' (the "
            "default, numeric) or 'text' (each value exactly as written, scale kept)"
        )
    if decimals not in ("float64", "text"):
        raise ValueError(f"decimals must be 'float64' or 'text', not {decimals!r}")
    return decimals  # type: ignore[return-value]


def read_market_data(
    paths: Paths,
    table: Table = "trades",
    *,
    columns: Union[str, Sequence[str], None] = None,
    decimals: FrameDecimals = "float64",
    kinds: Optional[Kinds] = None,
    exchanges: Optional[Exchanges] = None,
    instruments: Optional[Instruments] = None,
    start: Optional[Moment] = None,
    end: Optional[Moment] = None,
) -> Any:
    """``table`` of every file (a glob, a path, or paths, as ``from_json_files`` takes them; any
    shape, compressed or not) as a ``dask.dataframe.DataFrame``, one partition per file, in the
    order given (a glob sorted).

    Columns and dtypes are ``MarketDataInMemory.to_pandas``'s, taken from the table's Arrow
    schema without reading any file, whatever Dask's settings: L1 and L2 decimals are
    ``float64`` (the default) or, with ``decimals="text"``, strings (Dask's string dtype when
    its ``dataframe.convert-string`` is on); ``"decimal128"`` is a ``ValueError``, as each file
    has its own decimal scale. ``exchange`` is text (see the module's documentation); ``side``
    a categorical of known categories. ``columns`` (one name or several) keeps only those (an
    unknown name is a ``ValueError`` naming the closest); Dask also narrows them itself when a
    computation needs fewer. Each file is checked to exist here (it is not read: a missing one
    is a ``FileNotFoundError`` now, not in a worker at ``compute()``). The selection arguments are
    ``from_json_file``'s, checked here rather than in the tasks (``event_index`` counts the
    events each file's selection keeps, as in ``to_arrow``).
    """
    decimals = _checked_decimals(decimals)
    files = _files(paths)
    selection = selection_arguments(kinds, exchanges, instruments, start, end)
    if isinstance(columns, str):
        columns = [columns]
    meta = _meta(table, decimals)
    for column in columns or []:
        if column not in meta.columns:
            raise unknown_name(f"{table} column", column, list(meta.columns))
    meta = meta if columns is None else meta[list(columns)]
    return dask.dataframe.from_map(_read_table, files, table=table, decimals=decimals, selection=selection,
                                   columns=columns, meta=meta, label=f"barter-ffi-{table}", enforce_metadata=False)


def _file_events(path: str, selection: dict[str, Any]) -> list[MarketEvent]:
    with MarketDataInMemory.from_json_file(path, **selection) as data:
        return data.events()


def read_events(
    paths: Paths,
    *,
    kinds: Optional[Kinds] = None,
    exchanges: Optional[Exchanges] = None,
    instruments: Optional[Instruments] = None,
    start: Optional[Moment] = None,
    end: Optional[Moment] = None,
) -> Any:
    """Every file's ``MarketEvent``s as a ``dask.bag.Bag``, one partition per file, each in
    file order: for code that wants objects rather than tables. ``paths`` and the selection
    arguments are ``read_market_data``'s."""
    files = _files(paths)
    selection = selection_arguments(kinds, exchanges, instruments, start, end)
    return dask.bag.from_sequence(files, npartitions=len(files)).map(_file_events, selection).flatten()
