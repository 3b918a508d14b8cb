"""File → typed trades DataFrame, every way a user would write it, side by side in one process.

    python benchmarks/bench_arrow.py [ROUNDS] [FILE.jsonl ...]

The job: the trades of a barter JSON Lines file as a polars DataFrame with ``time_exchange``
and ``time_received`` as ``datetime[ns, UTC]`` (not strings), ``exchange``, ``instrument``,
``id``, ``price``, ``amount``, ``side``, trade rows only. Every way's result is checked equal,
value by value, to barter-ffi's before any timing. Rounds alternate between the ways; the table
gives each way's median (min..max) and its ratio to barter-ffi's median. Peak memory is each
way's peak RSS in a fresh process, above what its imports hold (Linux: VmHWM after a reset). Then, on the largest file: ``to_arrow`` of every table
against the load time, loads that keep one kind (``kinds=``) against the whole load, and
Parquet's size and reload time next to the JSON's.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import duckdb
import msgspec
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from barter_ffi import MarketDataInMemory, PublicTrade

COLUMNS = ["time_exchange", "time_received", "exchange", "instrument", "id", "price", "amount", "side"]
UTC_NS = pl.Datetime("ns", "UTC")
RFC3339 = "%Y-%m-%dT%H:%M:%S%.fZ"


def barter_ffi_polars(path: Path) -> pl.DataFrame:
    with MarketDataInMemory.from_json_file(path) as md:
        return md.to_polars("trades").select(COLUMNS)


def barter_ffi_trades_only(path: Path) -> pl.DataFrame:
    with MarketDataInMemory.from_json_file(path, kinds=["public_trade"]) as md:
        return md.to_polars("trades").select(COLUMNS)


def barter_ffi_pyarrow(path: Path) -> pl.DataFrame:
    with MarketDataInMemory.from_json_file(path) as md:
        return pl.from_arrow(md.to_pyarrow("trades").select(COLUMNS))  # type: ignore[return-value]


TRADE = pl.Struct({"id": pl.String, "price": pl.Float64, "amount": pl.Float64, "side": pl.String})
ITEM = pl.Struct({
    "time_exchange": pl.String, "time_received": pl.String, "exchange": pl.String, "instrument": pl.UInt64,
    "kind": pl.Struct({"Trade": TRADE}),
})


def polars_ndjson(path: Path) -> pl.DataFrame:
    return (
        pl.scan_ndjson(path, schema={"Item": ITEM})
        .filter(pl.col("Item").struct.field("kind").struct.field("Trade").is_not_null())
        .select(
            pl.col("Item").struct.field("time_exchange").str.to_datetime(RFC3339, time_unit="ns", time_zone="UTC"),
            pl.col("Item").struct.field("time_received").str.to_datetime(RFC3339, time_unit="ns", time_zone="UTC"),
            pl.col("Item").struct.field("exchange"),
            pl.col("Item").struct.field("instrument"),
            pl.col("Item").struct.field("kind").struct.field("Trade").struct.unnest(),
        )
        .collect()
    )


def pyarrow_json(path: Path) -> pl.DataFrame:
    trade = pa.struct([("id", pa.string()), ("price", pa.float64()), ("amount", pa.float64()), ("side", pa.string())])
    item = pa.struct([
        ("time_exchange", pa.timestamp("ns", "UTC")), ("time_received", pa.timestamp("ns", "UTC")),
        ("exchange", pa.string()), ("instrument", pa.uint64()), ("kind", pa.struct([("Trade", trade)])),
    ])
    options = pajson.ParseOptions(explicit_schema=pa.schema([("Item", item)]), unexpected_field_behavior="ignore")
    table = pajson.read_json(path, parse_options=options).flatten().flatten()
    table = table.filter(pc.is_valid(table.column("Item.kind.Trade"))).flatten()
    names = {f"Item.{name}": name for name in COLUMNS[:4]}
    names.update({f"Item.kind.Trade.{name}": name for name in COLUMNS[4:]})
    return pl.from_arrow(table.select(list(names)).rename_columns(list(names.values())))  # type: ignore[return-value]


def duckdb_json(path: Path) -> pl.DataFrame:
    trade = "STRUCT(id VARCHAR, price DOUBLE, amount DOUBLE, side VARCHAR)"
    item = (f"STRUCT(time_exchange VARCHAR, time_received VARCHAR, exchange VARCHAR, instrument UBIGINT, "
            f"kind STRUCT(Trade {trade}))")
    query = f"""
        select Item.time_exchange::TIMESTAMP_NS as time_exchange, Item.time_received::TIMESTAMP_NS as time_received,
               Item.exchange as exchange, Item.instrument as instrument, t.id as id, t.price as price,
               t.amount as amount, t.side as side
        from (select Item, Item.kind.Trade as t
              from read_json('{path}', format='newline_delimited', columns={{Item: '{item}'}}))
        where t is not null
    """
    frame = duckdb.connect().sql(query).pl()
    return frame.with_columns(pl.col("time_exchange", "time_received").dt.replace_time_zone("UTC"))


class Trade(msgspec.Struct):
    id: str
    price: float
    amount: float
    side: str


class Kind(msgspec.Struct):
    Trade: Optional[Trade] = None


class Item(msgspec.Struct):
    time_exchange: str
    time_received: str
    exchange: str
    instrument: int
    kind: Kind


class Line(msgspec.Struct):
    Item: Optional[Item] = None


def msgspec_structs(path: Path) -> pl.DataFrame:
    decode = msgspec.json.Decoder(Line).decode
    trades = [item for item in (decode(line).Item for line in path.read_bytes().splitlines()) if item and item.kind.Trade]
    frame = pl.DataFrame({
        "time_exchange": [item.time_exchange for item in trades],
        "time_received": [item.time_received for item in trades],
        "exchange": [item.exchange for item in trades],
        "instrument": pl.Series([item.instrument for item in trades], dtype=pl.UInt64),
        "id": [item.kind.Trade.id for item in trades],  # type: ignore[union-attr]
        "price": [item.kind.Trade.price for item in trades],  # type: ignore[union-attr]
        "amount": [item.kind.Trade.amount for item in trades],  # type: ignore[union-attr]
        "side": [item.kind.Trade.side for item in trades],  # type: ignore[union-attr]
    })
    return frame.with_columns(pl.col("time_exchange", "time_received").str.to_datetime(RFC3339, time_unit="ns", time_zone="UTC"))


def barter_ffi_events(path: Path) -> pl.DataFrame:
    with MarketDataInMemory.from_json_file(path) as md:
        trades = [event for event in md.events() if isinstance(event.kind, PublicTrade)]
    return pl.DataFrame({
        "time_exchange": pl.Series([event.time_exchange_ns for event in trades], dtype=pl.Int64).cast(UTC_NS),
        "time_received": pl.Series([event.time_received_ns for event in trades], dtype=pl.Int64).cast(UTC_NS),
        "exchange": [event.exchange.value for event in trades],
        "instrument": pl.Series([event.instrument for event in trades], dtype=pl.UInt64),
        "id": [event.kind.id for event in trades],
        "price": [event.kind.price for event in trades],
        "amount": [event.kind.amount for event in trades],
        "side": [event.kind.side.value for event in trades],
    })


WAYS: dict[str, Callable[[Path], pl.DataFrame]] = {
    "barter-ffi load + to_polars": barter_ffi_polars,
    "barter-ffi load + to_pyarrow": barter_ffi_pyarrow,
    "barter-ffi load(kinds=[\"public_trade\"]) + to_polars": barter_ffi_trades_only,
    "polars scan_ndjson + unnest + filter": polars_ndjson,
    "pyarrow.json.read_json + flatten + filter": pyarrow_json,
    "DuckDB read_json + SQL casts": duckdb_json,
    "msgspec Structs → columns": msgspec_structs,
    "barter-ffi events() → columns": barter_ffi_events,
}


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(COLUMNS).with_columns(pl.col("exchange", "side").cast(pl.String))


PEAK_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
import bench_arrow
from pathlib import Path

def status(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field))

open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current RSS
base = status("VmRSS:")
bench_arrow.WAYS[sys.argv[2]](Path(sys.argv[3]))
print(status("VmHWM:") - base)
"""


def peak_rss_mb(way: str, path: Path) -> float:
    """The way's peak RSS in a fresh process, above what the process held after its imports."""
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(Path(__file__).parent), way, str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(out) / 1024


def bench_file(path: Path, rounds: int) -> None:
    expected = comparable(barter_ffi_polars(path))
    for name, way in WAYS.items():
        got = comparable(way(path))
        assert got.equals(expected), f"{name} made another table:\n{got.head()}\n{expected.head()}"
    times: dict[str, list[float]] = {name: [] for name in WAYS}
    for _ in range(rounds):
        for name, way in WAYS.items():
            start = time.perf_counter()
            way(path)
            times[name].append(time.perf_counter() - start)
    ours = statistics.median(times["barter-ffi load + to_polars"])
    print(f"\n{path.name}: {path.stat().st_size / 1e6:.0f} MB, {len(expected)} trades, {rounds} alternating rounds\n")
    print("| way | median s (min..max) | barter-ffi's speedup | peak RSS MB above imports |")
    print("|---|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"| {name} | {median:.3f} ({min(samples):.3f}..{max(samples):.3f}) | {median / ours:.2f}x | "
              f"{peak_rss_mb(name, path):.0f} |")


def bench_tables_and_parquet(path: Path, rounds: int) -> None:
    loads, exports, selective = [], [], {kind: [] for kind in ("public_trade", "l1", "l2", "candle")}
    for _ in range(rounds):
        start = time.perf_counter()
        md = MarketDataInMemory.from_json_file(path)
        loaded = time.perf_counter()
        tables = {name: pa.table(export) for name, export in md.tables().items()}
        exports.append(time.perf_counter() - loaded)
        loads.append(loaded - start)
        rows, table_count = sum(table.num_rows for table in tables.values()), len(tables)
        # Each round starts with the last one's tables and data set freed, as a fresh job would.
        del tables
        md.close()
        for kind, samples in selective.items():
            start = time.perf_counter()
            MarketDataInMemory.from_json_file(path, kinds=[kind]).close()
            samples.append(time.perf_counter() - start)
    load, export = statistics.median(loads), statistics.median(exports)
    print(f"\n{path.name}: load {load:.3f} s ({min(loads):.3f}..{max(loads):.3f}), every table to pyarrow "
          f"{export:.3f} s ({export / load:.0%} of the load), {rows} rows in {table_count} tables")
    for kind, samples in selective.items():
        median = statistics.median(samples)
        print(f"from_json_file(kinds=[{kind!r}]): {median:.3f} s ({min(samples):.3f}..{max(samples):.3f}), "
              f"{median / load:.0%} of the whole load")
    with tempfile.TemporaryDirectory() as scratch:
        with MarketDataInMemory.from_json_file(path) as md:
            md.to_parquet(scratch)
        size = sum(file.stat().st_size for file in Path(scratch).iterdir())
        reloads = []
        for _ in range(rounds):
            start = time.perf_counter()
            MarketDataInMemory.from_parquet(scratch).close()
            reloads.append(time.perf_counter() - start)
    print(f"Parquet (decimal128, pyarrow defaults): {size / 1e6:.1f} MB vs JSON {path.stat().st_size / 1e6:.1f} MB; "
          f"from_parquet {statistics.median(reloads):.3f} s vs from_json_file {load:.3f} s")


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    data = Path(__file__).parent / "data"
    files = [Path(arg) for arg in sys.argv[2:]] or [data / "trades_200000.jsonl", data / "mixed_100000.jsonl"]
    for file in files:
        bench_file(file, rounds)
    bench_tables_and_parquet(data / "mixed_1000000.jsonl", rounds)
