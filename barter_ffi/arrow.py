"""barter's events as Arrow tables, one per kind, and back again.

The tables' columns are defined once, in the library, and every exported schema says what each
column means (``description`` in its field's metadata; the API reference lists them all); this
module only names the tables. They leave the library through the Arrow C Stream interface,
wrapped in the Arrow PyCapsule protocol (``__arrow_c_stream__``), so pyarrow, polars, DuckDB and
pandas (through pyarrow) take them without a copy, and barter_ffi itself never imports any of
them. The conveniences (``to_pyarrow``, ``to_polars``, ``to_pandas``) import their library
when called: install them with the extras ``barter-ffi[arrow]``, ``[polars]``, ``[pandas]``
(from a checkout: ``pip install ".[arrow]"``). Parquet is ``barter_ffi.parquet``.
"""

from __future__ import annotations

import ctypes
import itertools
import weakref
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Literal, Mapping, Optional

from ._ffi import call, call_returning, ffi, lib
from .data import Candle, Liquidation, OrderBookEvent, OrderBookL1, PublicTrade, Side, encode_events
from .errors import DecimalScaleError, MarketDataError, unknown_name
from .notebook import SHOWN_EVENTS, arrow_table_html
from .summary import read_counts

if TYPE_CHECKING:
    from .market_data import MarketDataInMemory

__all__ = [
    "TABLES", "ArrowTable", "ArrowTables", "Decimals", "Table", "conformed", "piece_tables", "record_batch_reader",
    "table_code", "widened",
]

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

_TABLE_KINDS: dict[str, tuple[type, ...]] = {
    "trades": (PublicTrade,),
    "l1": (OrderBookL1,),
    "l2": (OrderBookEvent,),
    "candles": (Candle,),
    "liquidations": (Liquidation,),
    "reconnects": (),
}
"""The event kinds each table's rows come from (none: the reconnect markers)."""

_SIDES: dict[str, list[str]] = {
    "trades": [side.value for side in Side],
    "liquidations": [side.value for side in Side],
    "l2": ["bid", "ask"],
}
"""Each ``side`` column's values, in the library's dictionary order (``output/arrow/mod.rs``'s
``TRADE_SIDES`` and ``BOOK_SIDES``, pinned by ``tests/test_pandas.py``): a table without rows
exports no dictionary, and pandas' categories must not depend on the data."""

_ARROW_TYPES = {
    "b": "bool", "c": "int8", "C": "uint8", "s": "int16", "S": "uint16", "i": "int32", "I": "uint32",
    "l": "int64", "L": "uint64", "f": "float", "g": "double", "u": "string", "U": "large_string",
}
"""Arrow C data interface format strings, as pyarrow names the types."""


def _arrow_type(schema: Any) -> str:
    """A field's type from its ``struct ArrowSchema``, as pyarrow names it (``timestamp[ns, tz=UTC]``,
    ``decimal128(38, 8)``; a dictionary by its values alone: ``dictionary<string>``)."""
    code = ffi.string(schema.format).decode()
    if schema.dictionary != ffi.NULL:
        return f"dictionary<{_arrow_type(schema.dictionary)}>"  # the index type is the library's detail
    if code.startswith("ts") and ":" in code:
        unit, zone = code[2:].split(":", 1)
        return f"timestamp[{unit}s" + (f", tz={zone}]" if zone else "]")
    if code.startswith("d:"):
        return f"decimal128({code[2:].replace(',', ', ')})"
    return _ARROW_TYPES.get(code, code)


_DECIMALS: dict[str, int] = {
    "decimal128": lib.BARTER_FFI_ARROW_DECIMALS_DECIMAL128,
    "float64": lib.BARTER_FFI_ARROW_DECIMALS_FLOAT64,
    "text": lib.BARTER_FFI_ARROW_DECIMALS_TEXT,
}

_HANDLE = "BarterFfiMarketData *"


def table_code(table: str) -> int:
    """``table``'s ``BarterFfiArrowTable``; ``ValueError`` naming the closest tables if it is none of them."""
    return _named_code(TABLES, table, "table")


def _decimals_code(decimals: str) -> int:
    return _named_code(_DECIMALS, decimals, "decimals")


def _named_code(codes: dict[str, int], name: str, what: str) -> int:
    if not isinstance(name, str):
        raise TypeError(f"{what} is one of {', '.join(codes)} (a str), not {type(name).__name__}")
    if name not in codes:
        raise unknown_name(what, name, list(codes))
    return codes[name]


def _address(pointer: Any) -> int:
    return int(ffi.cast("uintptr_t", pointer))


# The PyCapsule protocol's capsules, made through the Python C API with ctypes. The structs are
# malloc'd, the capsules' names are the library's static strings (Python compares names by
# content whenever a consumer opens a capsule, so they must outlive every capsule), and their
# destructors are the library's own C functions (which free the structs with free()), so a
# capsule that outlives this module at interpreter shutdown reads nothing freed and runs no
# Python. The destructors read capsules with the PyCapsule_GetPointer handed to the library
# here, found where ctypes finds PyCapsule_New: the library looks up no Python symbol itself.
_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]
_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_void_p]
_STREAM_CAPSULE = _address(lib.BARTER_FFI_ARROW_STREAM_CAPSULE_NAME)
_SCHEMA_CAPSULE = _address(lib.BARTER_FFI_ARROW_SCHEMA_CAPSULE_NAME)
call(
    lib.barter_ffi_arrow_capsule_api,
    ffi.cast("BarterFfiCapsuleGetPointer", ctypes.cast(_capsule_pointer, ctypes.c_void_p).value),
)


def _exported_capsule(struct: str, name: int, destructor: Any, fill: Any) -> object:
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
        return _capsule_new(address, name, _address(destructor))
    except BaseException:
        if pointer.release != ffi.NULL:
            pointer.release(pointer)
        _libc.free(address)
        raise


class ArrowTable:
    """One of a data set's tables, for any Arrow consumer: it implements the Arrow PyCapsule
    protocol, so ``pyarrow.table(t)``, ``polars.DataFrame(t)`` and ``duckdb.sql("from t")`` read
    it without a copy. (``polars.from_arrow(t)`` makes the same ``DataFrame`` on some polars
    versions and a ``Series`` of structs on others, which ``.struct.unnest()`` turns into that
    frame: ``polars.DataFrame(t)`` is the same on all.) Each ``__arrow_c_stream__`` call makes a
    fresh stream whose record batches
    (up to 65536 rows) are built as the consumer reads them, by worker threads at most one batch
    ahead each.

    It holds its own reference to the data (no copy), so it stays valid after the data set is
    closed, and any thread may use it.
    """

    __slots__ = ("table", "decimals", "_codes", "_handle", "_release", "_rows", "__weakref__")
    table: str
    decimals: str

    def __reduce__(self) -> tuple:
        raise TypeError(
            f"an ArrowTable is a view of a data set in this process and cannot be pickled: pickle the data set, "
            f"or the table itself (md.to_pyarrow({self.table!r}) pickles)"
        )

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
        self._codes = (table_code(table), _decimals_code(decimals))
        self._handle = call_returning(_HANDLE, lib.barter_ffi_market_data_clone, handle)
        self._release = weakref.finalize(self, lib.barter_ffi_market_data_free, self._handle)
        self._rows: int = call_returning("uint64_t", lib.barter_ffi_market_data_arrow_rows, self._handle, self._codes[0])
        # The schema call checks the decimals fit decimal128 now rather than at first read: the
        # content error it can raise is that one.
        try:
            self.__arrow_c_schema__()
        except MarketDataError as error:
            raise DecimalScaleError(str(error)) from None

    @property
    def num_rows(self) -> int:
        return self._rows

    def __len__(self) -> int:
        return self._rows

    def __repr__(self) -> str:
        return f"<ArrowTable {self.table!r}: {self._rows} rows, decimals={self.decimals!r}>"

    def _repr_html_(self) -> str:
        """The notebook display: the columns and their types, the table's events by exchange
        with their time span, and its first rows (those need pyarrow to read)."""
        groups, markers = read_counts(self._handle)
        kinds = _TABLE_KINDS[self.table]
        own_groups = [group for group in groups if issubclass(group.kind, kinds)] if kinds else []
        return arrow_table_html(self.table, self._rows, self.decimals, self._columns(), own_groups,
                                markers if not kinds else {}, self._first_rows(SHOWN_EVENTS))

    def _columns(self) -> list[tuple[str, str]]:
        """Each column's name and type, from the library's schema."""
        schema = ffi.new("struct ArrowSchema *")
        call(lib.barter_ffi_market_data_arrow_schema, self._handle, *self._codes, schema)
        try:
            fields = [schema.children[index] for index in range(schema.n_children)]
            return [(ffi.string(field.name).decode(), _arrow_type(field)) for field in fields]
        finally:
            schema.release(schema)

    def _first_rows(self, count: int) -> Optional[list[list[Optional[str]]]]:
        """The first ``count`` rows as text (exact: nanoseconds and decimal scale kept), or None
        without pyarrow."""
        try:
            import pyarrow
            import pyarrow.compute
        except ImportError:
            return None
        reader = pyarrow.RecordBatchReader.from_stream(self)
        try:
            batch = next(iter(reader), None)
        finally:
            reader.close()
        if batch is None:
            return []
        columns = [pyarrow.compute.cast(column, pyarrow.string()).to_pylist() for column in batch.slice(0, count).columns]
        return [list(row) for row in zip(*columns)]

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
        codes.append(table_code(name))
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


class ArrowTables:
    """The Arrow methods of ``MarketDataInMemory``: tables out, tables in, Parquet."""

    __slots__ = ()

    if TYPE_CHECKING:

        def _checked_handle(self) -> Any: ...

        @classmethod
        def _owned(cls, handle: Any) -> "MarketDataInMemory": ...

    def to_arrow(self, table: Table, *, decimals: Decimals = "decimal128") -> ArrowTable:
        """``table`` ("trades", "l1", "l2", "candles", "liquidations" or "reconnects") as an
        Arrow PyCapsule object (columns: the reference's Arrow tables, or the schema itself, each
        field's meaning under ``description`` in its metadata). L1 and L2 prices and
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
        """``table`` as a ``polars.DataFrame`` (needs polars: ``barter-ffi[polars]``), as
        ``polars.DataFrame(md.to_arrow(table))`` makes it (``polars.from_arrow`` makes a ``Series``
        of structs on some polars versions)."""
        import polars

        return polars.DataFrame(self.to_arrow(table, decimals=decimals))

    def to_pandas(self, table: Table, *, decimals: Decimals = "float64") -> Any:
        """``table`` as a ``pandas.DataFrame`` through pyarrow (``barter-ffi[pandas]``), in the
        dtypes a pandas user expects, the same whatever the data:

        - L1 and L2 prices and amounts as ``float64`` by default (the nearest double, ``NaN``
          where barter has none): numeric, so ``describe()``, arithmetic, ``groupby`` and plots
          see them. ``decimals="decimal128"`` gives exact ``decimal.Decimal`` objects (an
          ``object`` column, which pandas' numeric methods such as ``describe()`` skip), and
          ``"text"`` each value's text with its scale.
        - timestamps as ``datetime64[ns, UTC]``, nanoseconds kept;
        - ``exchange`` as a categorical of the exchanges present (not all of barter's), so
          ``value_counts()`` and ``groupby`` list no empty exchange on any pandas version;
          ``side`` as a categorical of its two values (``Buy``/``Sell``, ``bid``/``ask``), in
          an empty table too;
        - unsigned integers as pandas' nullable ``UInt64`` (``event_index``, ``instrument``,
          ``sequence``, ``trade_count``) and ``UInt32`` (L2's ``level``, null on the row of a
          book with no level): exact to ``2**64 - 1``, and so in Dask, whose reductions over a
          partition without rows made plain ``uint64`` columns ``float64``.
        """
        return _pandas_frame(table, self.to_pyarrow(table, decimals=decimals))

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


def _pandas_frame(name: str, table: Any) -> Any:
    """The ``pyarrow.Table`` of the table ``name`` as the pandas frame ``to_pandas`` describes."""
    import pandas
    import pyarrow

    # Nullable integers: pandas makes a uint32 with a null (level) float64, and Dask makes the
    # max of a uint64 column float64 when a partition is empty, so 2**64 - 1 reads 1.8e19.
    unsigned = {pyarrow.uint32(): pandas.UInt32Dtype(), pyarrow.uint64(): pandas.UInt64Dtype()}
    frame = table.to_pandas(types_mapper=unsigned.get)
    if "exchange" in frame:
        frame["exchange"] = _present_categories(frame["exchange"])
    if "side" in frame:
        frame["side"] = frame["side"].cat.set_categories(_SIDES[name])
    return frame


def _present_categories(column: Any) -> Any:
    """A categorical column (without nulls) with only the categories it holds, in their order.
    Counting the codes keeps it linear: ``remove_unused_categories`` sorts them, five times the
    cost on millions of rows."""
    import numpy

    categories = column.cat.categories
    present = numpy.bincount(column.cat.codes.to_numpy(), minlength=len(categories)).nonzero()[0]
    return column.cat.set_categories(categories[present])


# Streamed tables: a file read in pieces (``iter_json_file(...).pieces()``), each piece exported
# as above. A decimal128 column's scale is its piece's largest, so pieces differ: a stream keeps
# its first piece's schema (``record_batch_reader``), a Parquet writer widens its file
# (``barter_ffi.parquet``); both cast with ``conformed``.


def conformed(name: str, table: Any, schema: Any) -> Any:
    """``table`` (of the table ``name``) cast to ``schema``, which differs at most in its decimal
    columns' scales: exact when the scale grows; ``DecimalScaleError`` naming the column when a
    value would lose digits (``schema``'s scale is smaller) or need more than 38."""
    import pyarrow

    if table.schema.equals(schema):
        return table
    for position, field in enumerate(schema):
        column = table.column(field.name)
        if column.type == field.type:
            continue
        try:
            table = table.set_column(position, field, column.cast(field.type))
        except pyarrow.ArrowInvalid:
            have, want = column.type.scale, field.type.scale
            if have > want:
                raise DecimalScaleError(
                    f"{name} {field.name}: a later piece of the file has values of scale {have}, beyond the scale "
                    f"{want} its first piece fixed for the stream"
                ) from None
            raise DecimalScaleError(
                f"{name} {field.name}: at scale {want} (the largest of the file's values), a value needs more "
                "than decimal128's 38 digits"
            ) from None
    return table


def widened(schema: Any, other: Any) -> Any:
    """``schema`` with each decimal128 column at the larger of its scale and ``other``'s."""
    import pyarrow

    fields = []
    for field in schema:
        theirs = other.field(field.name).type
        if pyarrow.types.is_decimal(field.type) and pyarrow.types.is_decimal(theirs) and theirs.scale > field.type.scale:
            field = field.with_type(pyarrow.decimal128(field.type.precision, theirs.scale))
        fields.append(field)
    return pyarrow.schema(fields, metadata=schema.metadata)


def piece_tables(pieces: Iterable["MarketDataInMemory"], names: Iterable[str], decimals: Decimals) -> Iterator[Any]:
    """``(name, pyarrow.Table)`` of each piece's non-empty tables among ``names``, each in its
    piece's schema (decimal scales differ), ``event_index`` counted over the whole file, one
    piece held at a time."""
    import pyarrow
    import pyarrow.compute

    names = list(names)
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
                yield name, table.set_column(position, table.schema.field(position), shifted)
            events_before += len(piece)


def record_batch_reader(pieces: Iterable["MarketDataInMemory"], table: Table, decimals: Decimals) -> Any:
    """``table`` of every piece, as one ``pyarrow.RecordBatchReader`` in the first non-empty
    piece's schema (needs pyarrow)."""
    import pyarrow

    tables = piece_tables(pieces, [table], decimals)
    first = next(tables, None)
    if first is None:
        return pyarrow.RecordBatchReader.from_batches(pyarrow.schema(_empty_table(table, decimals)), iter(()))
    schema = first[1].schema

    def batches() -> Iterator[Any]:
        for _, piece_table in itertools.chain([first], tables):
            yield from conformed(table, piece_table, schema).to_batches()

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
