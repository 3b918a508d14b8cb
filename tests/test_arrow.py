"""The Arrow tables: their columns and values against the events, the PyCapsule protocol with
real pyarrow, polars, DuckDB and pandas, and the way back (``from_arrow``). Parquet: test_parquet.py."""

from __future__ import annotations

import decimal
import gc
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from barter_ffi import (
    Candle,
    ExchangeId,
    Level,
    Liquidation,
    MarketDataError,
    MarketDataInMemory,
    MarketEvent,
    OrderBookL1,
    OrderBookSnapshot,
    OrderBookUpdate,
    PublicTrade,
    Reconnecting,
    Side,
)
from barter_ffi.arrow import TABLES, ArrowTable

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")
parquet = pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def md(fixtures: Path):
    with MarketDataInMemory.from_json_file(fixtures / "all_kinds.jsonl") as data:
        yield data


def shared(event: MarketEvent, index: int) -> dict:
    return {
        "event_index": index,
        "time_exchange": event.time_exchange_ns,
        "time_received": event.time_received_ns,
        "exchange": event.exchange.value,
        "instrument": event.instrument,
    }


def rows(table) -> list[dict]:
    """A pyarrow table's rows, timestamps as integer nanoseconds (pyarrow's datetimes stop at µs)."""
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        elif pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        columns[name] = column.to_pylist()
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def test_each_table_holds_its_kind_in_data_set_order_with_every_value(md) -> None:
    events = md.events()
    expected: dict[str, list[dict]] = {name: [] for name in TABLES}
    for index, event in enumerate(events):
        kind, row = event.kind, shared(event, index)
        if isinstance(kind, PublicTrade):
            expected["trades"].append({**row, "id": kind.id, "price": kind.price, "amount": kind.amount, "side": kind.side.value})
        elif isinstance(kind, OrderBookL1):
            bid, ask = kind.best_bid, kind.best_ask
            expected["l1"].append({
                **row,
                "last_update_time": kind.last_update_time_ns,
                "bid_price": bid and bid.price_text, "bid_amount": bid and bid.amount_text,
                "ask_price": ask and ask.price_text, "ask_amount": ask and ask.amount_text,
            })
        elif isinstance(kind, (OrderBookSnapshot, OrderBookUpdate)):
            book = {**row, "is_snapshot": kind.is_snapshot, "sequence": kind.sequence, "time_engine": kind.time_engine_ns}
            levels = [("bid", n, level) for n, level in enumerate(kind.bids)] + [("ask", n, level) for n, level in enumerate(kind.asks)]
            for side, position, level in levels:
                expected["l2"].append({**book, "side": side, "level": position, "price": level.price_text, "amount": level.amount_text})
            if not levels:
                expected["l2"].append({**book, "side": None, "level": None, "price": None, "amount": None})
        elif isinstance(kind, Candle):
            expected["candles"].append({**row, "close_time": kind.close_time_ns, "open": kind.open, "high": kind.high, "low": kind.low, "close": kind.close, "volume": kind.volume, "trade_count": kind.trade_count})
        elif isinstance(kind, Liquidation):
            expected["liquidations"].append({**row, "side": kind.side.value, "price": kind.price, "quantity": kind.quantity, "time": kind.time_ns})
    markers_before = 0
    for item in md.items():
        if isinstance(item, Reconnecting):
            expected["reconnects"].append({"event_index": markers_before, "exchange": item.exchange.value})
        else:
            markers_before += 1
    for name, wanted in expected.items():
        assert rows(pa.table(md.to_arrow(name, decimals="text"))) == wanted, name
        assert len(md.to_arrow(name)) == len(wanted)
    assert set(md.tables()) == {name for name, wanted in expected.items() if wanted}


def test_the_schemas_are_the_documented_ones(md) -> None:
    utc_ns = pa.timestamp("ns", tz="UTC")
    exchange = pa.dictionary(pa.int32(), pa.string())
    side = pa.dictionary(pa.int8(), pa.string())
    head = [("event_index", pa.uint64()), ("time_exchange", utc_ns), ("time_received", utc_ns), ("exchange", exchange), ("instrument", pa.uint64())]
    trades = pa.table(md.to_arrow("trades")).schema
    assert [(f.name, f.type) for f in trades] == head + [("id", pa.string()), ("price", pa.float64()), ("amount", pa.float64()), ("side", side)]
    assert not any(field.nullable for field in trades)
    l2 = pa.table(md.to_arrow("l2")).schema
    assert [(f.name, f.type) for f in l2][5:] == [
        ("is_snapshot", pa.bool_()), ("sequence", pa.uint64()), ("time_engine", utc_ns), ("side", side),
        ("level", pa.uint32()), ("price", pa.decimal128(38, 2)), ("amount", pa.decimal128(38, 2)),
    ]
    # decimal128's scale is each column's largest; the schema capsule says the same as the stream
    l1 = md.to_arrow("l1")
    assert pa.schema(l1) == pa.table(l1).schema
    assert pa.table(md.to_arrow("reconnects")).schema.names == ["event_index", "exchange"]


@pytest.mark.parametrize("decimals", ["decimal128", "float64", "text"])
def test_every_column_says_what_it_means_in_its_metadata(md, decimals: str, tmp_path: Path) -> None:
    for table in TABLES:
        schema = pa.schema(md.to_arrow(table, decimals=decimals))
        for field in schema:
            description = (field.metadata or {}).get(b"description", b"").decode()
            assert len(description) > 10 and description.endswith("."), (table, field.name, description)
    # Parquet keeps it; polars, which has no field metadata, reads the same values.
    trades = pa.table(md.to_arrow("trades", decimals=decimals))
    parquet.write_table(trades, tmp_path / "trades.parquet")
    assert parquet.read_schema(tmp_path / "trades.parquet").field("price").metadata == trades.schema.field("price").metadata
    assert pl.DataFrame(md.to_arrow("trades", decimals=decimals))["price"].to_list() == trades.column("price").to_pylist()


def test_decimal_forms_keep_the_value_the_scale_or_the_speed(md) -> None:
    books = [event.kind for event in md.events() if isinstance(event.kind, (OrderBookSnapshot, OrderBookUpdate))]
    texts = [level.price_text for book in books for level in [*book.bids, *book.asks]]
    exact = pa.table(md.to_arrow("l2")).column("price").to_pylist()
    text = pa.table(md.to_arrow("l2", decimals="text")).column("price").to_pylist()
    floats = pa.table(md.to_arrow("l2", decimals="float64")).column("price").to_pylist()
    assert text == texts
    assert exact == [decimal.Decimal(value) for value in texts]
    assert floats == [float(value) for value in texts]
    with pytest.raises(ValueError, match="unknown decimals 'float32': did you mean 'float64'"):
        md.to_arrow("l2", decimals="float32")
    with pytest.raises(ValueError, match="unknown table 'orderbooks': use one of 'trades', 'l1'"):
        md.to_arrow("orderbooks")


def test_a_decimal_too_wide_for_decimal128_is_refused_up_front_and_text_keeps_it() -> None:
    # 29 integer digits in one row, 28 decimal places in another: 57 digits at the column's scale
    wide, fine = Level("79228162514264337593543950335", "1"), Level("0.0000000000000000000000000001", "1")
    events = [MarketEvent(1, 1, ExchangeId.OKX, 0, OrderBookL1(1, level, None)) for level in (wide, fine)]
    with MarketDataInMemory.from_events(events) as md:
        with pytest.raises(MarketDataError, match=r"l1 bid_price: 79228162514264337593543950335 .* 38 digits"):
            md.to_arrow("l1")
        wide_prices = pa.table(md.to_arrow("l1", decimals="text")).column("bid_price").to_pylist()
        assert wide_prices == [wide.price_text, fine.price_text]


def test_large_tables_come_in_bounded_batches_and_fresh_streams() -> None:
    trades = [MarketEvent(n, n, ExchangeId.BINANCE_SPOT, n % 3, PublicTrade(str(n), 1.5, 2.0, Side.BUY)) for n in range(70_000)]
    with MarketDataInMemory.from_events(trades) as md:
        export = md.to_arrow("trades")
    reader = pa.RecordBatchReader.from_stream(export)
    sizes = [batch.num_rows for batch in reader]
    assert sizes == [65_536, 70_000 - 65_536]
    table = pa.table(export)  # a second, fresh stream, after the data set was closed
    assert table.column("event_index").to_pylist() == list(range(70_000))
    assert table.column("id").to_pylist()[-1] == "69999"


def test_polars_duckdb_and_pandas_take_the_capsules(md) -> None:
    trades = md.to_polars("trades")
    assert trades.schema["time_exchange"] == pl.Datetime("ns", "UTC")
    assert trades["price"].to_list() == [event.kind.price for event in md.events() if isinstance(event.kind, PublicTrade)]
    l2 = md.to_arrow("l2")
    assert duckdb.sql("select count(*), sum(price) from l2").fetchall()[0] == (
        len(l2), sum(pa.table(l2).column("price").to_pylist()),
    )
    frame = md.to_pandas("candles")
    assert str(frame["time_exchange"].dtype) == "datetime64[ns, UTC]"
    assert frame["exchange"].dtype == "category"
    assert frame["trade_count"].tolist() == [event.kind.trade_count for event in md.events() if isinstance(event.kind, Candle)]


def test_polars_from_arrow_makes_the_frame_or_a_series_of_structs_as_the_docs_say(md) -> None:
    trades = md.to_arrow("trades")
    frame = pl.DataFrame(trades)
    assert frame.height == 3 and md.to_polars("trades").equals(frame)
    made = pl.from_arrow(trades)  # which of the two depends on the polars version
    if isinstance(made, pl.Series):
        assert isinstance(made.dtype, pl.Struct)
        made = made.struct.unnest()
    assert isinstance(made, pl.DataFrame) and made.equals(frame)
    assert isinstance(pl.from_arrow(pa.table(trades)), pl.DataFrame)
    for documented in (ArrowTable.__doc__, MarketDataInMemory.to_polars.__doc__):
        assert "polars.from_arrow" in " ".join(documented.split()), documented  # type: ignore[union-attr]
    assert ".struct.unnest()" in ArrowTable.__doc__  # type: ignore[operator]


def test_from_arrow_round_trips_through_every_library(md) -> None:
    items = list(md.items())
    assert list(MarketDataInMemory.from_arrow(md.tables(decimals="text")).items()) == items
    converters = [pa.table, pl.DataFrame]
    if _duckdb_keeps_nanoseconds():
        converters.append(_through_duckdb)
    for convert in converters:
        back = MarketDataInMemory.from_arrow({name: convert(export) for name, export in md.tables().items()})
        # decimal128 keeps the values, written at their column's scale
        assert [item if isinstance(item, Reconnecting) else _decimal_values(item) for item in back.items()] == [
            item if isinstance(item, Reconnecting) else _decimal_values(item) for item in items
        ]
    one_kind = MarketDataInMemory.from_arrow({"trades": md.to_pyarrow("trades")})
    assert one_kind.events() == [event for event in md.events() if isinstance(event.kind, PublicTrade)]


def _through_duckdb(export):
    # The connection must outlive the query's result: DuckDB closes it when it is collected.
    with duckdb.connect() as connection:
        return connection.sql("from export").to_arrow_table()


def _duckdb_keeps_nanoseconds() -> bool:
    """DuckDB before 2.0 holds time-zone-aware times in microseconds, so a round trip through
    it cannot keep barter's nanoseconds."""
    probe = pa.table({"t": pa.array([1], pa.timestamp("ns", tz="UTC"))})
    return _through_duckdb(probe).schema.field("t").type.unit == "ns"


def test_from_arrow_reads_timestamps_in_any_unit(md) -> None:
    """As DuckDB before 2.0 and polars' default datetimes hand them out: microseconds."""
    trades = md.to_pyarrow("trades")
    in_microseconds = trades.cast(pa.schema([
        field.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(field.type) else field
        for field in trades.schema
    ]), safe=False)  # truncating the nanoseconds, as DuckDB does
    back = MarketDataInMemory.from_arrow({"trades": in_microseconds}).events()
    wanted = [event for event in md.events() if isinstance(event.kind, PublicTrade)]
    assert [event.time_exchange_ns for event in back] == [event.time_exchange_ns // 1000 * 1000 for event in wanted]
    assert [event.kind for event in back] == [event.kind for event in wanted]


def _decimal_values(event: MarketEvent):
    def normal(level):
        return None if level is None else (level.price, level.amount)

    kind = event.kind
    if isinstance(kind, OrderBookL1):
        return (event.time_exchange_ns, normal(kind.best_bid), normal(kind.best_ask))
    if isinstance(kind, (OrderBookSnapshot, OrderBookUpdate)):
        return (event.time_exchange_ns, kind.sequence, [normal(level) for level in [*kind.bids, *kind.asks]])
    return event


def test_from_arrow_checks_rows_as_from_events_does(md) -> None:
    trades = md.to_pyarrow("trades")
    bad_price = trades.set_column(6, "price", pa.array([1.0, math.nan, 2.0]))
    with pytest.raises(MarketDataError, match=r"trades row 1 \(event_index 1\): `price` must be a finite number"):
        MarketDataInMemory.from_arrow({"trades": bad_price})
    bad_exchange = trades.set_column(3, "exchange", pa.array(["okx", "nasdaq", "okx"]))
    with pytest.raises(MarketDataError, match=r"trades row 1 .*\"nasdaq\" is not one of barter's exchanges"):
        MarketDataInMemory.from_arrow({"trades": bad_exchange})
    with pytest.raises(MarketDataError, match="the trades table has no column `side`"):
        MarketDataInMemory.from_arrow({"trades": trades.drop_columns(["side"])})
    with pytest.raises(MarketDataError, match=r"event_index 0 names two market events: trades row 0 and candles row 0"):
        candles = md.to_pyarrow("candles").set_column(0, "event_index", pa.array([0], pa.uint64()))
        MarketDataInMemory.from_arrow({"trades": trades, "candles": candles})
    l2 = md.to_pyarrow("l2")
    with pytest.raises(MarketDataError, match=r"l2 row 1 .*`level` is Some\(0\)"):
        MarketDataInMemory.from_arrow({"l2": l2.set_column(9, "level", pa.array([0, 0, 0, 1, 0, 0], pa.uint32()))})
    with pytest.raises(ValueError, match="unknown table 'book': use one of 'trades'"):
        MarketDataInMemory.from_arrow({"book": trades})
    with pytest.raises(TypeError, match="does not implement the Arrow PyCapsule protocol"):
        MarketDataInMemory.from_arrow({"trades": [1, 2, 3]})


@pytest.mark.parametrize(
    ("column", "shown"),
    [
        (lambda n: pa.array([5] * n, pa.int64()), "Int64"),
        (lambda n: pa.array([5] * n, pa.decimal256(40, 8)), r"Decimal256\(40, 8\)"),
        (lambda n: pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int8()), pa.array([5])), r"Dictionary\(Int8, Int64\)"),
    ],
)
def test_a_decimal_column_of_another_type_is_refused_naming_every_type_it_may_have(md, column, shown) -> None:
    l1 = md.to_pyarrow("l1", decimals="text")
    bad = l1.set_column(l1.schema.get_field_index("bid_price"), "bid_price", column(len(l1)))
    expected = rf"l1 row 0 \(event_index \d+\): `bid_price` must be a decimal128, float64 or string column, not {shown}$"
    with pytest.raises(MarketDataError, match=expected):
        MarketDataInMemory.from_arrow({"l1": bad})


def test_a_table_without_rows_has_its_columns_checked_as_a_table_with_rows_would(md) -> None:
    """An empty result of a mistyped query is an error, as the same query's rows would be."""
    for empty in [pa.table({}), pa.table({"x": pa.array([], pa.int8())})]:
        with pytest.raises(MarketDataError, match=r"^trades \(no rows\): the trades table has no column `event_index`$"):
            MarketDataInMemory.from_arrow({"trades": empty})
    trades = md.to_pyarrow("trades")
    price_as_text = trades.set_column(6, "price", trades["price"].cast(pa.string()))
    with pytest.raises(MarketDataError, match=r"^trades row 0 \(event_index 0\): `price` must be a float64 column, not Utf8$"):
        MarketDataInMemory.from_arrow({"trades": price_as_text})
    with pytest.raises(MarketDataError, match=r"^trades \(no rows\): `price` must be a float64 column, not Utf8$"):
        MarketDataInMemory.from_arrow({"trades": price_as_text.slice(0, 0)})
    with pytest.raises(MarketDataError, match=r"^candles \(no rows\): the candles table has no column `instrument`$"):
        MarketDataInMemory.from_arrow({"trades": trades, "candles": pl.DataFrame(schema={"event_index": pl.UInt64, "close": pl.Float64})})
    empty_tables = {table: md.to_pyarrow(table).slice(0, 0) for table in TABLES}
    assert len(MarketDataInMemory.from_arrow(empty_tables)) == 0
    assert MarketDataInMemory.from_arrow({"trades": trades, "l1": empty_tables["l1"]}).events() == [
        event for event in md.events() if isinstance(event.kind, PublicTrade)
    ]


def test_a_polars_all_null_column_is_named_with_what_to_do(md) -> None:
    """polars hands out a Null-typed column with a buffer the C data interface does not allow
    (pola-rs/polars#22934), and every batch failed with arrow-rs's "The datatype "Null" doesn't
    expect buffer at index 0": no column named, whether the table read it or not."""
    trades = md.to_polars("trades")
    with pytest.raises(MarketDataError, match=r"^trades: `id` must be a string column, not Null$"):
        MarketDataInMemory.from_arrow({"trades": trades.with_columns(pl.lit(None).alias("id"))})
    noted = trades.with_columns(pl.lit(None).alias("note"), pl.lit(None).alias("desk"))
    with pytest.raises(MarketDataError) as raised:
        MarketDataInMemory.from_arrow({"trades": noted})
    message = str(raised.value)
    assert message.startswith("trades: ") and "Null, `note`, `desk`, come with a buffer" in message, message
    assert message.endswith("drop them, or cast them to the type they stand for, before from_arrow)"), message
    for fixed in (noted.drop("note", "desk"), noted.with_columns(pl.col("note", "desk").cast(pl.String))):
        assert MarketDataInMemory.from_arrow({"trades": fixed}).events() == md.filter(kinds=["public_trade"]).events()


def test_from_arrow_names_rows_by_their_place_in_the_table_across_batches(md) -> None:
    """A table in batches of one row: a row is named by its place in the table, not in its batch."""
    trades = md.to_pyarrow("trades")
    bad_price = trades.set_column(6, "price", pa.array([1.0, 2.0, math.nan]))
    in_batches = pa.Table.from_batches(bad_price.to_batches(max_chunksize=1))
    assert in_batches["price"].num_chunks == 3
    with pytest.raises(MarketDataError, match=r"trades row 2 \(event_index \d+\): `price` must be a finite number"):
        MarketDataInMemory.from_arrow({"trades": in_batches})
    last_index = trades["event_index"][2].as_py()
    candles = md.to_pyarrow("candles").set_column(0, "event_index", pa.array([last_index], pa.uint64()))
    with pytest.raises(MarketDataError, match=rf"event_index {last_index} names two market events: trades row 2 and candles row 0"):
        MarketDataInMemory.from_arrow({"trades": pa.Table.from_batches(trades.to_batches(max_chunksize=1)), "candles": candles})


def test_unconsumed_capsules_and_exports_free_everything(md) -> None:
    from barter_ffi._ffi import live_objects

    gc.collect()
    before = live_objects()
    export = md.to_arrow("l2")
    capsules = [export.__arrow_c_stream__(), export.__arrow_c_schema__()]
    assert live_objects()[0] == before[0] + 1  # the export's own reference to the data
    del export, capsules
    gc.collect()
    assert live_objects() == before


def test_capsule_names_live_in_the_library_which_looks_up_no_python_symbol(md) -> None:
    """Python compares a capsule's name by content whenever a consumer opens it, so the name must
    outlive every capsule: it is the library's static string, not a Python object's memory. The
    library reads capsules with the PyCapsule_GetPointer Python hands it, never looking one up."""
    import ctypes

    from barter_ffi._ffi import ffi, lib, library_path

    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_void_p, [ctypes.py_object]
    export = md.to_arrow("trades")
    for capsule, name in [
        (export.__arrow_c_stream__(), lib.BARTER_FFI_ARROW_STREAM_CAPSULE_NAME),
        (export.__arrow_c_schema__(), lib.BARTER_FFI_ARROW_SCHEMA_CAPSULE_NAME),
    ]:
        assert get_name(capsule) == int(ffi.cast("uintptr_t", name))
        assert ctypes.string_at(get_name(capsule)) in (b"arrow_array_stream", b"arrow_schema")
    assert b"PyCapsule" not in library_path().read_bytes()


SHUTDOWN_SCRIPT = """
import sys
from barter_ffi import MarketDataInMemory
md = MarketDataInMemory.from_json_file(sys.argv[1])
export = md.to_arrow("trades")
unconsumed = [md.to_arrow("l2").__arrow_c_stream__(), export.__arrow_c_schema__()]  # alive at exit
for _ in range(3):
    export.__arrow_c_stream__()  # dropped at once
print("ok")
"""


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_capsules_alive_at_interpreter_shutdown_are_released_cleanly(fixtures: Path) -> None:
    """Capsules still held when Python exits are destroyed by the library's own destructors
    during finalisation: no invalid access, and no leak with a frame of the library. (CPython,
    not built for valgrind, reports its own uninitialised reads and leaks; those do not count.)"""
    result = subprocess.run(
        [
            "valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
            f"--suppressions={fixtures.parent / 'tests' / 'c' / 'valgrind.supp'}",
            sys.executable, "-c", SHUTDOWN_SCRIPT, str(fixtures / "all_kinds.jsonl"),
        ],
        capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONMALLOC": "malloc"},
    )
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr[-4000:]
    ours = [
        line for line in result.stderr.splitlines()
        if "Invalid " in line or re.search(r"(at|by) 0x[0-9A-F]+: .*(barter_ffi::|libbarter_ffi|arrow_)", line)
    ]
    assert not ours, "\n".join(ours)[:4000]
