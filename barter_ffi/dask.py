"""Many recordings on many machines: barter files as Dask collections (``barter-ffi[dask]``).

Each file is one partition. A task carries only its path and the options, never a library
object: the worker that runs it opens the file itself, so the same code runs on a
``LocalCluster`` or on workers across machines that see the same paths (a shared file system)::

    from distributed import Client
    from barter_ffi.dask import read_market_data

    client = Client("tcp://scheduler:8786")           # or LocalCluster() on one machine
    trades = read_market_data("/data/2024-12-*.jsonl.zst", table="trades")
    trades.groupby("exchange", observed=True)["amount"].sum().compute()
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

import dask.bag
import dask.dataframe

from .arrow import Decimals, Table
from .data import MarketEvent
from .market_data import MarketDataInMemory
from .selection import Exchanges, Instruments, Kinds, Paths, paths_to_read, selection_arguments
from .timestamps import Moment

__all__ = ["read_events", "read_market_data"]


def _files(paths: Paths) -> list[Union[str, bytes]]:
    """The files to read (see ``paths_to_read``), as plain paths a task can carry."""
    return [os.fspath(path) for path in paths_to_read(paths)]


def _read_table(path: str, table: str, decimals: str, selection: dict[str, Any],
                columns: Optional[Sequence[str]] = None) -> Any:
    """One file's ``table`` as a pandas DataFrame: what each partition's task runs. Dask passes
    fewer ``columns`` when a computation needs fewer (column projection)."""
    with MarketDataInMemory.from_json_file(path, **selection) as data:
        frame = data.to_pandas(table, decimals=decimals)  # type: ignore[arg-type]
    return frame if columns is None else frame[list(columns)]


def _empty_table(table: str, decimals: str, columns: Optional[Sequence[str]]) -> Any:
    """The table's frame with no row, from its Arrow schema: no file is read for it."""
    with MarketDataInMemory.from_events([]) as data:
        frame = data.to_pandas(table, decimals=decimals)  # type: ignore[arg-type]
    return frame if columns is None else frame[list(columns)]


def read_market_data(
    paths: Paths,
    table: Table = "trades",
    *,
    columns: Union[str, Sequence[str], None] = None,
    decimals: Decimals = "decimal128",
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
    schema without reading any file. ``columns`` (one name or several) keeps only those; Dask
    also narrows them itself when a computation needs fewer. The selection arguments are
    ``from_json_file``'s, checked here rather than in the tasks (``event_index`` counts the
    events each file's selection keeps, as in ``to_arrow``).
    """
    files = _files(paths)
    selection = selection_arguments(kinds, exchanges, instruments, start, end)
    if isinstance(columns, str):
        columns = [columns]
    meta = dask.dataframe.utils.clear_known_categories(_empty_table(table, decimals, columns))
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
