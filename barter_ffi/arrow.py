"""barter's events as Arrow tables, one per kind, and back again.

The tables' columns are defined once, in ``rust_core/src/output/arrow/mod.rs``; this module only names
them. They leave the library through the Arrow C Stream interface, wrapped in the Arrow PyCapsule
protocol (``__arrow_c_stream__``), so pyarrow, polars, DuckDB and pandas (through pyarrow) take
them without a copy, and barter_ffi itself never imports any of them. The conveniences
(``to_pyarrow``, ``to_polars``, ``to_pandas``, Parquet) import their library when called: install
them with the extras ``barter-ffi[arrow]``, ``[polars]``, ``[pandas]``.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Literal, Mapping, Optional, Union

from ._ffi import call, call_returning, ffi, lib
from .data import encode_events
from .errors import MarketDataError

if TYPE_CHECKING:
    from .market_data import MarketDataInMemory

__all__ = ["TABLES", "ArrowTable", "ArrowTables", "Decimals", "Table", "record_batch_reader", "write_parquet_pieces"]

Table = Literal["trades", "l1", "l2", "candles", "liquidations", "reconnects"]
Decimals = Literal["decimal128", "float64", "text"]

TABLES: dict[str, int] = {
    "trades": lib.BARTER_FFI_ARROW_TABLE_TRADES,
    "l1": lib.BARTER_FFI_ARROW_TABLE_L1,
    "l2": lib.BARTER_FFI_ARROW_TABLE_L2,
    "candles": lib.BARTER_FFI_ARROW_TABLE_CANDLES,
    "liquidations": lib.BARTER_FFI_ARROW_TABLE_LIQUIDATIONS,
    "reconnects": lib.BARTER_FFI_ARROW_TABLE_RECONNECTS,
}
"""Each table's name and its ``BarterFfiArrowTable``, in the library's order."""

_DECIMALS: dict[str, int] = {
    "decimal128": lib.BARTER_FFI_ARROW_DECIMALS_DECIMAL128,
    "float64": lib.BARTER_FFI_ARROW_DECIMALS_FLOAT64,
    "text": lib.BARTER_FFI_ARROW_DECIMALS_TEXT,
}

_HANDLE = "BarterFfiMarketData *"


def _table_code(table: str) -> int:
    try:
        return TABLES[table]
    except (KeyError, TypeError):
        raise ValueError(f"table must be one of {', '.join(TABLES)}, not {table!r}") from None


def _decimals_code(decimals: str) -> int:
    try:
        return _DECIMALS[decimals]
    except (KeyError, TypeError):
        raise ValueError(f"decimals must be one of {', '.join(_DECIMALS)}, not {decimals!r}") from None


# The PyCapsule protocol's capsules, made through the Python C API with ctypes. The structs are
# malloc'd and the capsules' destructors are the library's own C functions (which free them
# with free()), so a capsule that outlives this module at interpreter shutdown runs no Python.
_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]
_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_STREAM_CAPSULE = b"arrow_array_stream"
_SCHEMA_CAPSULE = b"arrow_schema"


def _function_address(function: Any) -> int:
    return int(ffi.cast("uintptr_t", function))


def _exported_capsule(struct: str, name: bytes, destructor: Any, fill: Any) -> object:
    """A capsule holding a fresh malloc'd ``struct`` that ``fill(pointer)`` writes."""
    address = _libc.malloc(ffi.sizeof(struct))
    if not address:
        raise MemoryError(f"no memory for a {struct}")
    try:
        pointer = ffi.cast(f"{struct} *", address)
        pointer.release = ffi.NULL  # a released struct, until the library fills it
        fill(pointer)
    except BaseException:
        _libc.free(address)
        raise
    try:
        return _capsule_new(address, name, _function_address(destructor))
    except BaseException:
        if pointer.release != ffi.NULL:
            pointer.release(pointer)
        _libc.free(address)
        raise


class ArrowTable:
    """One of a data set's tables, for any Arrow consumer: it implements the Arrow PyCapsule
    protocol, so ``pyarrow.table(t)``, ``polars.DataFrame(t)`` and ``duckdb.sql("from t")`` read
    it without a copy. Each ``__arrow_c_stream__`` call makes a fresh stream whose record batches
    (up to 65536 rows) are built as the consumer reads them, by worker threads at most one batch
    ahead each.

    It holds its own reference to the data (no copy), so it stays valid after the data set is
    closed, and any thread may use it.
    """

    __slots__ = ("table", "decimals", "_codes", "_handle", "_release", "_rows", "__weakref__")
    table: str
    decimals: str

    def __init__(self, data: "MarketDataInMemory", table: Table, decimals: Decimals = "decimal128") -> None:
        self._share(data._checked_handle(), table, decimals)

    @classmethod
    def _of_handle(cls, handle: Any, table: Table, decimals: Decimals) -> "ArrowTable":
        """The table of the data set behind a library handle, which the caller keeps and frees."""
        self = object.__new__(cls)
        self._share(handle, table, decimals)
        return self

    def _share(self, handle: Any, table: Table, decimals: Decimals) -> None:
        self.table = table
        self.decimals = decimals
        self._codes = (_table_code(table), _decimals_code(decimals))
        self._handle = call_returning(_HANDLE, lib.barter_ffi_market_data_clone, handle)
        self._release = weakref.finalize(self, lib.barter_ffi_market_data_free, self._handle)
        self._rows: int = call_returning("uint64_t", lib.barter_ffi_market_data_arrow_rows, self._handle, self._codes[0])
        # The schema call checks the decimals fit decimal128 now rather than at first read.
        self.__arrow_c_schema__()

    @property
    def num_rows(self) -> int:
        return self._rows

    def __len__(self) -> int:
        return self._rows

    def __repr__(self) -> str:
        return f"<ArrowTable {self.table!r}: {self._rows} rows, decimals={self.decimals!r}>"

    def __arrow_c_schema__(self) -> object:
        def fill(schema: Any) -> None:
            call(lib.barter_ffi_market_data_arrow_schema, self._handle, *self._codes, schema)

        return _exported_capsule(
            "struct ArrowSchema", _SCHEMA_CAPSULE, lib.barter_ffi_arrow_schema_capsule_destructor, fill
        )

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object:
        """A fresh stream of the table. ``requested_schema`` is accepted and not applied, as the
        protocol allows: the consumer casts if it wants other types."""

        def fill(stream: Any) -> None:
            call(lib.barter_ffi_market_data_arrow_stream, self._handle, *self._codes, stream)

        return _exported_capsule(
            "struct ArrowArrayStream", _STREAM_CAPSULE, lib.barter_ffi_arrow_stream_capsule_destructor, fill
        )


def _import_handle(tables: Mapping[str, Any]) -> Any:
    """A new data set handle from ``{table name: object with __arrow_c_stream__}``."""
    if not isinstance(tables, Mapping):
        raise TypeError(f"from_arrow takes a mapping of table name to Arrow data, not {type(tables).__name__}")
    codes, capsules = [], []
    for name, source in tables.items():
        codes.append(_table_code(name))
        export = getattr(source, "__arrow_c_stream__", None)
        if export is None:
            raise TypeError(
                f"table {name!r}: {type(source).__name__} does not implement the Arrow PyCapsule protocol "
                "(__arrow_c_stream__): pass a pyarrow Table or RecordBatchReader, a polars DataFrame, or an ArrowTable"
            )
        capsules.append(export())
    # The capsules stay referenced until the call returns; the library moves each stream out.
    streams = [ffi.cast("struct ArrowArrayStream *", _capsule_pointer(capsule, _STREAM_CAPSULE)) for capsule in capsules]
    return call_returning(
        _HANDLE,
        lib.barter_ffi_market_data_from_arrow,
        ffi.new("uint32_t[]", codes),
        ffi.new("struct ArrowArrayStream *[]", streams),
        len(streams),
    )


def _parquet_files(directory: Path) -> dict[str, Path]:
    files = sorted(directory.glob("*.parquet"))
    unknown = [file.name for file in files if file.stem not in TABLES]
    if unknown:
        raise ValueError(
            f"{directory}: {', '.join(unknown)} is not one of barter-ffi's tables "
            f"({', '.join(name + '.parquet' for name in TABLES)})"
        )
    if not files:
        raise FileNotFoundError(f"{directory}: no table (trades.parquet, l1.parquet, …) to read")
    return {file.stem: file for file in files}


class ArrowTables:
    """The Arrow methods of ``MarketDataInMemory``: tables out, tables in, Parquet."""

    __slots__ = ()

    if TYPE_CHECKING:

        def _checked_handle(self) -> Any: ...

        @classmethod
        def _owned(cls, handle: Any) -> "MarketDataInMemory": ...

    def to_arrow(self, table: Table, *, decimals: Decimals = "decimal128") -> ArrowTable:
        """``table`` ("trades", "l1", "l2", "candles", "liquidations" or "reconnects") as an
        Arrow PyCapsule object; columns in ``rust_core/src/output/arrow/mod.rs``. L1 and L2 prices and
        amounts are ``decimal128(38, s)`` (``s`` the column's largest scale) by default,
        ``"float64"`` for speed, or ``"text"`` to keep each value's own scale."""
        return ArrowTable(self, table, decimals)  # type: ignore[arg-type]

    def tables(self, *, decimals: Decimals = "decimal128") -> dict[str, ArrowTable]:
        """Every non-empty table, by name, in the library's order."""
        exports = {name: self.to_arrow(name, decimals=decimals) for name in TABLES}  # type: ignore[arg-type]
        return {name: export for name, export in exports.items() if export.num_rows}

    def to_pyarrow(self, table: Table, *, decimals: Decimals = "decimal128") -> Any:
        """``table`` as a ``pyarrow.Table`` (needs pyarrow: ``barter-ffi[arrow]``)."""
        import pyarrow

        return pyarrow.table(self.to_arrow(table, decimals=decimals))

    def to_polars(self, table: Table, *, decimals: Decimals = "decimal128") -> Any:
        """``table`` as a ``polars.DataFrame`` (needs polars: ``barter-ffi[polars]``)."""
        import polars

        return polars.DataFrame(self.to_arrow(table, decimals=decimals))

    def to_pandas(self, table: Table, *, decimals: Decimals = "decimal128") -> Any:
        """``table`` as a ``pandas.DataFrame`` through pyarrow (``barter-ffi[pandas]``):
        timestamps as ``datetime64[ns, UTC]``, exchanges and sides as categoricals, decimal128
        as ``decimal.Decimal`` objects."""
        return self.to_pyarrow(table, decimals=decimals).to_pandas()

    @classmethod
    def from_arrow(cls, tables: Mapping[str, Any]) -> "MarketDataInMemory":
        """Rebuilds barter's events from tables in ``to_arrow``'s schemas, given as
        ``{table name: Arrow data}`` (anything with ``__arrow_c_stream__``: ``md.tables()``,
        pyarrow tables, polars frames). Rows interleave by ``event_index``; reconnect markers
        return to their places. Every row goes through barter's types with ``from_events``'
        checks; ``MarketDataError`` names the table, row and column.
        ``from_arrow(md.tables(decimals="text")).events() == md.events()``, exactly; with
        decimal128 the decimals are equal in value, written at their column's scale.
        """
        return cls._owned(_import_handle(tables))

    def to_parquet(self, path: Union[str, "os.PathLike[str]"], *, decimals: Decimals = "decimal128") -> None:
        """Writes each non-empty table to ``path/<table>.parquet`` (the directory is made if
        missing), a record batch at a time (needs pyarrow: ``barter-ffi[arrow]``)."""
        import pyarrow
        import pyarrow.parquet as parquet

        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        for name, export in self.tables(decimals=decimals).items():
            reader = pyarrow.RecordBatchReader.from_stream(export)
            with parquet.ParquetWriter(directory / f"{name}.parquet", reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)

    @classmethod
    def from_parquet(cls, path: Union[str, "os.PathLike[str]"]) -> "MarketDataInMemory":
        """Reads a directory ``to_parquet`` wrote (``from_arrow``'s checks apply; needs pyarrow:
        ``barter-ffi[arrow]``). Each file is read whole by pyarrow's multithreaded reader, and
        the tables go to the library as they are, with no Python per batch."""
        import pyarrow.parquet as parquet

        return cls.from_arrow({name: parquet.read_table(file) for name, file in _parquet_files(Path(path)).items()})



# Streamed tables: a file read in pieces (``iter_json_file(...).pieces()``), each piece exported
# as above. A decimal128 column's scale is its piece's largest, so later pieces are cast to the
# first piece's schema: exact when the scale grows, refused when a digit would be lost.


def _conformed(table: Any, schema: Any) -> Any:
    """``table`` in ``schema``; ``MarketDataError`` if a value needs a larger decimal scale."""
    import pyarrow

    if table.schema.equals(schema):
        return table
    try:
        return table.cast(schema)
    except pyarrow.ArrowInvalid as error:
        raise MarketDataError(
            f"a later piece of the file has decimals of a larger scale than the first piece's schema {schema} "
            f"allows ({error}); stream with decimals='text' (exact, as written) or 'float64'"
        ) from error


def _piece_tables(pieces: Iterable["MarketDataInMemory"], names: Iterable[str], decimals: Decimals) -> Iterator[Any]:
    """``(name, pyarrow.Table)`` of each piece's non-empty tables among ``names``: each in the
    schema its table first had, ``event_index`` counted over the whole file, one piece held at
    a time."""
    import pyarrow
    import pyarrow.compute

    names = list(names)
    schemas: dict[str, Any] = {}
    events_before = 0
    for piece in pieces:
        with piece:
            for name in names:
                export = piece.to_arrow(name, decimals=decimals)  # type: ignore[arg-type]
                if not export.num_rows:
                    continue
                table = pyarrow.table(export)
                position = table.schema.get_field_index("event_index")
                shifted = pyarrow.compute.add(table.column(position), pyarrow.scalar(events_before, pyarrow.uint64()))
                table = table.set_column(position, table.schema.field(position), shifted)
                yield name, _conformed(table, schemas.setdefault(name, table.schema))
            events_before += len(piece)


def record_batch_reader(pieces: Iterable["MarketDataInMemory"], table: Table, decimals: Decimals) -> Any:
    """``table`` of every piece, as one ``pyarrow.RecordBatchReader`` in the first non-empty
    piece's schema (needs pyarrow)."""
    import pyarrow

    tables = _piece_tables(pieces, [table], decimals)
    first = next(tables, None)
    if first is None:
        return pyarrow.RecordBatchReader.from_batches(pyarrow.schema(_empty_table(table, decimals)), iter(()))
    schema = first[1].schema

    def batches() -> Iterator[Any]:
        for _, piece_table in itertools.chain([first], tables):
            yield from piece_table.to_batches()

    return pyarrow.RecordBatchReader.from_batches(schema, batches())


def _empty_table(table: Table, decimals: Decimals) -> ArrowTable:
    """``table`` of an empty data set (``MarketDataInMemory.from_events([])``, made here from the
    library, as this module sits below ``market_data``): the schema of a stream without its rows."""
    batch = encode_events([])
    handle = call_returning(_HANDLE, lib.barter_ffi_market_data_from_batch, batch, len(batch))
    try:
        return ArrowTable._of_handle(handle, table, decimals)
    finally:
        lib.barter_ffi_market_data_free(handle)


def write_parquet_pieces(pieces: Iterable["MarketDataInMemory"], path: Union[str, "os.PathLike[str]"],
                         decimals: Decimals) -> None:
    """Every non-empty table of every piece to ``path/<table>.parquet``, as ``to_parquet``
    writes it, holding one piece at a time (needs pyarrow)."""
    import pyarrow.parquet as parquet

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Any] = {}
    try:
        for name, table in _piece_tables(pieces, TABLES, decimals):
            if name not in writers:
                writers[name] = parquet.ParquetWriter(directory / f"{name}.parquet", table.schema)
            writers[name].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
