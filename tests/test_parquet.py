"""The Parquet layout that ``to_parquet`` and ``barter-ffi convert`` write: one file per table
beside a manifest. Each table file reads right in pandas, polars, pyarrow and DuckDB as their
users call them; the directory, which holds several tables, makes each of them fail loudly
instead of mixing tables; ``from_parquet`` refuses a partial or mixed directory."""

from __future__ import annotations

import decimal
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from barter_ffi import DecimalScaleError, MarketDataError, MarketDataInMemory, PublicTrade, iter_json_file
from conftest import FIXTURES, SHARED_RECORDING, decimal_books

pa = pytest.importorskip("pyarrow")
parquet = pytest.importorskip("pyarrow.parquet")
compute = pytest.importorskip("pyarrow.compute")
dataset = pytest.importorskip("pyarrow.dataset")
pandas = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")

MANIFEST = "barter_ffi.json"
GUARD = "barter_ffi_not_a_table.parquet"


def all_kinds() -> MarketDataInMemory:
    return MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")


def trades_and_reconnects() -> MarketDataInMemory:
    """What a trade recorder writes, and the case where DuckDB used to read a directory as one
    table without an error: reconnects' columns are a subset of trades'."""
    if SHARED_RECORDING.exists():
        return MarketDataInMemory.from_json_file(SHARED_RECORDING)
    return all_kinds().filter(kinds=["public_trade"])


def books() -> MarketDataInMemory:
    return MarketDataInMemory.from_events(decimal_books())


DATA_SETS = {"all_kinds": all_kinds, "trades_and_reconnects": trades_and_reconnects, "books": books}


@pytest.fixture(params=list(DATA_SETS))
def written(request: pytest.FixtureRequest, tmp_path: Path):
    """(data set, the directory to_parquet wrote it to)."""
    md = DATA_SETS[request.param]()
    directory = tmp_path / "day.parquet"  # the name users give it, and the most tempting one to misread
    md.to_parquet(directory)
    yield md, directory
    md.close()


def cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "barter_ffi", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def test_the_directory_holds_one_file_per_table_and_a_manifest(written) -> None:
    md, directory = written
    assert sorted(path.name for path in directory.iterdir()) == sorted(
        [MANIFEST, GUARD, *(f"{name}.parquet" for name in md.tables())]
    )
    manifest = json.loads((directory / MANIFEST).read_text())
    assert manifest["format"] == "barter-ffi tables" and manifest["format_version"] == 1
    assert (manifest["market_events"], manifest["reconnects"]) == (len(md), md.stats.reconnects)
    assert manifest["decimals"] == "decimal128"
    for name, export in md.tables().items():
        entry = manifest["tables"][name]
        assert entry["file"] == f"{name}.parquet" and entry["rows"] == len(export)
        assert entry["columns"] == {field.name: str(field.type) for field in pa.schema(export)}
        footer = (directory / entry["file"]).read_bytes()[:-8]
        footer = footer[len(footer) - int.from_bytes((directory / entry["file"]).read_bytes()[-8:-4], "little"):]
        assert entry["footer_sha256"] == hashlib.sha256(footer).hexdigest()


def test_pandas_pyarrow_dask_polars_and_duckdb_refuse_the_directory_as_one_table(written) -> None:
    md, directory = written
    with pytest.raises(pa.ArrowInvalid, match="barter_ffi"):
        pandas.read_parquet(directory)
    with pytest.raises(pa.ArrowInvalid, match="barter_ffi"):
        parquet.read_table(directory)
    with pytest.raises(pa.ArrowInvalid, match="barter_ffi"):
        dataset.dataset(directory).to_table()
    for read in (lambda: pl.read_parquet(directory), lambda: pl.scan_parquet(directory).collect(),
                 lambda: pl.read_parquet(f"{directory}/*.parquet")):
        with pytest.raises(pl.exceptions.PolarsError):
            read()
    for source in (f"read_parquet('{directory}')", f"'{directory}/*.parquet'", f"'{directory}'"):
        for query in (f"select count(*) from {source}", f"select * from {source}",
                      f"select exchange, count(*) from {source} group by exchange"):
            with pytest.raises(duckdb.Error, match=GUARD):
                duckdb.sql(query).fetchall()
    dask_dataframe = pytest.importorskip("dask.dataframe")
    with pytest.raises(pa.ArrowInvalid, match="barter_ffi"):
        dask_dataframe.read_parquet(directory).compute()


def normal(frame) -> dict:
    """A pandas frame's values as plain objects, missing values as None, whatever the dtypes."""
    return frame.astype(object).where(frame.notna(), None).to_dict("list")


def strings_for_dictionaries(table):
    return table.cast(pa.schema([
        field.with_type(pa.string()) if pa.types.is_dictionary(field.type) else field for field in table.schema
    ]))


def test_each_table_file_reads_right_in_pandas_pyarrow_polars_and_duckdb(written) -> None:
    md, directory = written
    for name in md.tables():
        file = directory / f"{name}.parquet"
        exact = md.to_pyarrow(name)  # type: ignore[arg-type]
        assert strings_for_dictionaries(parquet.read_table(file)).equals(strings_for_dictionaries(exact)), name
        frame = pandas.read_parquet(file)
        assert normal(frame) == normal(md.to_pandas(name, decimals="decimal128")), name  # type: ignore[arg-type]
        assert str(frame["exchange"].dtype) == "category"
        assert sorted(frame["exchange"].cat.categories) == sorted(set(exact.column("exchange").to_pylist()))
        if "time_exchange" in frame:
            assert str(frame["time_exchange"].dtype) == "datetime64[ns, UTC]"
        polars_frame = pl.read_parquet(file)
        ours = md.to_polars(name)  # type: ignore[arg-type]
        assert polars_frame.schema == ours.schema, name
        assert polars_frame.cast({"exchange": pl.String}).equals(ours.cast({"exchange": pl.String})), name
        rows = duckdb.sql(f"select event_index, exchange from '{file}' order by all").fetchall()
        assert rows == sorted(zip(exact.column("event_index").to_pylist(),
                                  exact.column("exchange").cast(pa.string()).to_pylist())), name


def test_duckdb_reads_the_timestamps_of_a_table_file_at_its_own_precision(written) -> None:
    """DuckDB from 2.0 keeps nanoseconds; before, it holds zoned times in microseconds, and the
    README's recipe (a zone-less ``timestamp[ns]``, UTC by convention) keeps them there too."""
    md, directory = written
    wanted = [event.time_exchange_ns for event in md if event.kind.kind_name() == "public_trade"]
    if not wanted:
        pytest.skip("no trades")
    zoned = duckdb.sql(f"select epoch_ns(time_exchange) from '{directory}/trades.parquet'").fetchall()
    keeps_ns = tuple(int(part) for part in duckdb.__version__.split(".")[:1]) >= (2,)
    assert [value for (value,) in zoned] == (wanted if keeps_ns else [ns // 1000 * 1000 for ns in wanted])
    trades = md.to_pyarrow("trades")
    trades = trades.set_column(1, "time_exchange", trades.column("time_exchange").cast(pa.timestamp("ns")))
    assert [value for (value,) in duckdb.sql("select epoch_ns(time_exchange) from trades").fetchall()] == wanted


def test_from_parquet_reads_back_the_directory_or_one_table_file(written) -> None:
    md, directory = written
    with MarketDataInMemory.from_parquet(directory) as back:
        assert len(back) == len(md) and back.stats.reconnects == md.stats.reconnects
    for name in md.tables():
        if name == "reconnects":
            continue
        with MarketDataInMemory.from_parquet(directory / f"{name}.parquet") as one, \
                MarketDataInMemory.from_arrow({name: md.to_arrow(name)}) as expected:  # type: ignore[arg-type]
            assert one.events() == expected.events()
        renamed = directory.parent / f"my_{name}.parquet"
        shutil.copy(directory / f"{name}.parquet", renamed)
        with pytest.raises(MarketDataError, match=r"which table .*table='trades'"):
            MarketDataInMemory.from_parquet(renamed)
        with MarketDataInMemory.from_parquet(renamed, table=name) as one:  # type: ignore[arg-type]
            assert len(one) == len(set(md.to_pyarrow(name).column("event_index").to_pylist()))  # type: ignore[arg-type]
        with MarketDataInMemory.from_parquet(directory, table=name) as one:  # type: ignore[arg-type]
            assert len(one) == len(set(md.to_pyarrow(name).column("event_index").to_pylist()))  # type: ignore[arg-type]


def test_from_parquet_says_a_file_that_is_not_parquet_is_not_parquet(fixtures: Path, tmp_path: Path) -> None:
    """A barter JSON file given by mistake is named for what it is, not asked which table it is."""
    for file in [fixtures / "all_kinds.jsonl", tmp_path / "trades.parquet", tmp_path / "empty"]:
        if not file.exists():
            file.write_bytes(b"" if file.name == "empty" else b'{"Item":{}}\n')
        for table in [None, "trades"]:
            with pytest.raises(MarketDataError, match=rf"^{re.escape(str(file))}: not a Parquet file .* use from_json_file$"):
                MarketDataInMemory.from_parquet(file, table=table)  # type: ignore[arg-type]


def test_exact_round_trips_keep_every_decimal_and_timestamp(tmp_path: Path) -> None:
    for make in DATA_SETS.values():
        with make() as md:
            md.to_parquet(tmp_path / "text", decimals="text")
            with MarketDataInMemory.from_parquet(tmp_path / "text") as back:
                assert list(back.items()) == list(md.items())
            md.to_parquet(tmp_path / "exact")
            with MarketDataInMemory.from_parquet(tmp_path / "exact") as back:
                assert [(e.time_exchange_ns, e.time_received_ns) for e in back] == [
                    (e.time_exchange_ns, e.time_received_ns) for e in md
                ]
                assert back.to_pyarrow("l2").equals(md.to_pyarrow("l2"))  # decimal128 at the column's scale


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    with all_kinds() as md:
        md.to_parquet(tmp_path / "day")
    return tmp_path / "day"


def test_from_parquet_refuses_a_partial_directory(directory: Path) -> None:
    (directory / "l2.parquet").unlink()
    with pytest.raises(MarketDataError, match=r"l2\.parquet is missing .* incomplete"):
        MarketDataInMemory.from_parquet(directory)


def test_from_parquet_refuses_a_truncated_table_file(directory: Path) -> None:
    content = (directory / "trades.parquet").read_bytes()
    (directory / "trades.parquet").write_bytes(content[: len(content) // 2])
    with pytest.raises(MarketDataError, match=r"trades\.parquet: .*(Parquet|magic)"):
        MarketDataInMemory.from_parquet(directory)


def test_from_parquet_refuses_a_table_file_from_another_data_set(directory: Path, tmp_path: Path) -> None:
    with books() as other:
        other.to_parquet(tmp_path / "other")
    shutil.copy(tmp_path / "other" / "l2.parquet", directory / "l2.parquet")
    with pytest.raises(MarketDataError, match=r"l2\.parquet holds 5 rows, .* says 6\b.*replaced"):
        MarketDataInMemory.from_parquet(directory)


def test_a_table_file_changed_on_purpose_is_refused_naming_a_recipe_that_reads_it(tmp_path: Path) -> None:
    """As a user filters a table with polars and writes it back in place: the manifest's guard
    stays, and its error names Python that reads the file(s) all the same, which runs as shown."""
    directory = tmp_path / "day"
    with all_kinds() as md:
        md.to_parquet(directory, decimals="text")  # exact to the decimal scale, for the events to compare
        everything = md.events()
    trades = directory / "trades.parquet"
    pl.read_parquet(trades).head(2).write_parquet(trades)
    wanted = MarketDataInMemory.from_arrow({"trades": parquet.read_table(trades)}).events()
    assert wanted == [event for event in everything if isinstance(event.kind, PublicTrade)][:2]
    for path, table, expected in [(trades, None, wanted), (directory, "trades", wanted), (directory, None, None)]:
        with pytest.raises(MarketDataError, match=r"trades\.parquet holds 2 rows, barter_ffi\.json says 3: .*on purpose") as error:
            MarketDataInMemory.from_parquet(path, table=table)  # type: ignore[arg-type]
        recipe = str(error.value).split("without the manifest's check: ", 1)[1]
        with eval(recipe, {"MarketDataInMemory": MarketDataInMemory, "pyarrow": pa}) as read:
            events = read.events()
        if expected is None:  # every table of the directory, the trades cut to two
            expected = [event for event in everything if not isinstance(event.kind, PublicTrade) or event in wanted]
            assert len(expected) == len(everything) - 1
        assert events == expected


def test_a_table_file_rewritten_with_other_values_is_refused(directory: Path) -> None:
    """Same rows, same columns, every price doubled: it loaded, twice the recorded prices."""
    trades = directory / "trades.parquet"
    table = parquet.read_table(trades)
    position = table.schema.get_field_index("price")
    doubled = table.set_column(position, table.schema.field(position), compute.multiply(table["price"], 2))
    parquet.write_table(doubled, trades)
    with pytest.raises(MarketDataError, match=r"trades\.parquet holds other values than were written .* rewritten"):
        MarketDataInMemory.from_parquet(directory)
    unchecked = MarketDataInMemory.from_arrow({"trades": parquet.read_table(trades)})
    assert [event.kind.price for event in unchecked.events()] == [price * 2 for price in table["price"].to_pylist()]
    manifest = json.loads((directory / MANIFEST).read_text())
    for entry in manifest["tables"].values():
        del entry["footer_sha256"]  # as barter-ffi wrote it before the digest
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with MarketDataInMemory.from_parquet(directory) as unguarded:  # what such a manifest can tell
        assert [event.kind.price for event in unguarded.events() if isinstance(event.kind, PublicTrade)] == \
            [price * 2 for price in table["price"].to_pylist()]


def test_from_parquet_refuses_a_table_file_the_manifest_does_not_list(directory: Path, tmp_path: Path) -> None:
    with books() as other:
        other.filter(kinds=["l1"]).to_parquet(tmp_path / "other")
    (directory / "l1.parquet").unlink()
    manifest = json.loads((directory / MANIFEST).read_text())
    del manifest["tables"]["l1"]
    (directory / MANIFEST).write_text(json.dumps(manifest))
    shutil.copy(tmp_path / "other" / "l1.parquet", directory / "l1.parquet")
    with pytest.raises(MarketDataError, match=r"l1\.parquet is not one of the tables .*lists"):
        MarketDataInMemory.from_parquet(directory)


def test_from_parquet_refuses_a_directory_without_a_manifest(directory: Path) -> None:
    (directory / MANIFEST).unlink()
    with pytest.raises(MarketDataError, match=r"no barter_ffi\.json.*from_arrow"):
        MarketDataInMemory.from_parquet(directory)
    (directory / MANIFEST).write_text('{"format": "barter-ffi tables", "format_version": 99}')
    with pytest.raises(MarketDataError, match="format_version 99"):
        MarketDataInMemory.from_parquet(directory)
    with pytest.raises(FileNotFoundError):
        MarketDataInMemory.from_parquet(directory / "missing")


def test_from_parquet_refuses_a_data_set_that_lost_events(directory: Path) -> None:
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["market_events"] += 1
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(MarketDataError, match="holds 11 market events, .* 12"):
        MarketDataInMemory.from_parquet(directory)


def test_to_parquet_replaces_its_own_output_and_nothing_else(directory: Path, tmp_path: Path) -> None:
    with all_kinds() as md, md.filter(kinds=["public_trade"]) as trades:
        trades.to_parquet(directory)  # an earlier, larger output: none of its tables may stay
        assert sorted(path.name for path in directory.iterdir()) == sorted([MANIFEST, GUARD, "trades.parquet",
                                                                           "reconnects.parquet"])
        with MarketDataInMemory.from_parquet(directory) as back:
            assert back.events() == trades.events()
        notes = tmp_path / "notes"
        notes.mkdir()
        (notes / "todo.txt").write_text("keep me")
        with pytest.raises(FileExistsError, match="todo.txt"):
            md.to_parquet(notes)
        assert [path.name for path in notes.iterdir()] == ["todo.txt"]
        with pytest.raises(FileExistsError, match="not a directory"):
            md.to_parquet(notes / "todo.txt")
        empty = tmp_path / "empty"
        empty.mkdir()
        md.to_parquet(empty)
        assert (empty / MANIFEST).exists()


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good_line = (FIXTURES / "all_kinds.jsonl").read_text().splitlines()[0]
    bad.write_text(good_line + "\n" + good_line.replace('"price":', '"price":"x",') + "\n")
    with pytest.raises(MarketDataError):
        iter_json_file(bad).to_parquet(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    result = cli("convert", bad, tmp_path / "out")
    assert result.returncode == 1 and result.stderr.startswith("error:")
    assert not (tmp_path / "out").exists()


def test_a_failed_replace_leaves_the_earlier_output_whole(tmp_path: Path) -> None:
    """The earlier output was removed before the input was read: a bad input (or Ctrl-C, or a
    DecimalScaleError) left an empty directory where yesterday's complete output was."""
    bad = tmp_path / "bad.jsonl"
    good_line = (FIXTURES / "all_kinds.jsonl").read_text().splitlines()[0]
    bad.write_text(good_line + "\n" + good_line.replace('"price":', '"price":"x",') + "\n")
    day = tmp_path / "day"
    with all_kinds() as md:
        md.to_parquet(day, decimals="text")
        written = sorted(path.name for path in day.iterdir())
        for replace in (lambda: iter_json_file(bad).to_parquet(day),
                        lambda: MarketDataInMemory.from_json_file(bad).to_parquet(day),
                        lambda: cli("convert", bad, day).check_returncode()):
            with pytest.raises((MarketDataError, subprocess.CalledProcessError)):
                replace()
            assert sorted(path.name for path in day.iterdir()) == written, "nothing of the failed write is left"
            with MarketDataInMemory.from_parquet(day) as back:
                assert back.events() == md.events()
        with md.filter(kinds=["public_trade"]) as trades:
            trades.to_parquet(day, decimals="text")
            with MarketDataInMemory.from_parquet(day) as back:
                assert back.events() == trades.events()


def test_a_write_cut_short_by_a_crash_leaves_hidden_files_the_next_write_clears(tmp_path: Path) -> None:
    """What a killed process leaves is hidden, never read as output, and not taken for a file
    of someone else's by the next write."""
    day = tmp_path / "day"
    with all_kinds() as md:
        md.to_parquet(day, decimals="text")
        (day / ".trades.parquet.partial").write_bytes(b"PAR1 cut short")
        (day / ".barter_ffi.json.partial").write_text("{")
        with MarketDataInMemory.from_parquet(day) as back:
            assert back.events() == md.events()
        md.to_parquet(day)
        assert not [path.name for path in day.iterdir() if path.name.startswith(".")]


def test_cli_convert_refuses_a_target_it_would_not_write_as_named(tmp_path: Path) -> None:
    for name in ("out.csv", "out.txt.gz", "out.gz", "out.parquet.zst"):
        result = cli("convert", FIXTURES / "all_kinds.jsonl", tmp_path / name)
        assert result.returncode != 0, name
        assert "error:" in result.stderr and ".json" in result.stderr and ".parquet" in result.stderr, result.stderr
        assert not (tmp_path / name).exists(), name
    for name in ("day", "day.parquet"):
        assert cli("convert", FIXTURES / "all_kinds.jsonl", tmp_path / name).returncode == 0
        assert (tmp_path / name / MANIFEST).exists()


def test_cli_reads_what_convert_and_to_parquet_wrote(tmp_path: Path) -> None:
    source = FIXTURES / "all_kinds.jsonl"
    assert cli("convert", source, tmp_path / "day.parquet", "--decimals", "text").returncode == 0
    for args in (["summary", "--json"], ["head", "-n", "3"], ["tail", "-n", "2"]):
        from_json, from_parquet = cli(args[0], source, *args[1:]), cli(args[0], tmp_path / "day.parquet", *args[1:])
        assert from_parquet.returncode == 0, from_parquet.stderr
        if args[0] == "summary":
            facts, back = json.loads(from_json.stdout), json.loads(from_parquet.stdout)
            del facts["file"], back["file"]
            assert back == facts
        else:
            assert from_parquet.stdout == from_json.stdout
    plain = cli(tmp_path / "day.parquet")
    assert plain.returncode == 0 and "market events:        11" in plain.stdout
    one = cli("summary", tmp_path / "day.parquet" / "trades.parquet", "--json")
    assert one.returncode == 0 and json.loads(one.stdout)["by_kind"] == {"public_trade": 3}
    back = tmp_path / "back.jsonl"
    assert cli("convert", tmp_path / "day.parquet", back).returncode == 0
    assert MarketDataInMemory.from_json_file(back).events() == MarketDataInMemory.from_json_file(source).events()


def test_from_parquet_refuses_a_malformed_manifest(directory: Path) -> None:
    manifest = json.loads((directory / MANIFEST).read_text())
    for broken in ({**manifest, "market_events": "11"}, {**manifest, "tables": {"book": manifest["tables"]["l2"]}},
                   {**manifest, "tables": {"l2": {"file": "l2.parquet"}}}, {**manifest, "tables": []}):
        (directory / MANIFEST).write_text(json.dumps(broken))
        with pytest.raises(MarketDataError, match="not a barter-ffi manifest"):
            MarketDataInMemory.from_parquet(directory)
    (directory / MANIFEST).write_text("{")
    with pytest.raises(MarketDataError, match="not a barter-ffi manifest"):
        MarketDataInMemory.from_parquet(directory)


def _l1_line(price: str) -> str:
    line = next(line for line in (FIXTURES / "all_kinds.jsonl").read_text().splitlines() if "OrderBookL1" in line)
    return re.sub(r'"best_bid":\{"price":"[0-9.]+"', f'"best_bid":{{"price":"{price}"', line, count=1) + "\n"


@pytest.fixture(scope="module")
def finer_later(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording of several 8 MiB pieces whose best bids have 2 decimal places but for one
    near the end with 8: ordinary (all_kinds.jsonl has 96962.51 and 96001.000 in one column)."""
    path = tmp_path_factory.mktemp("scales") / "finer_later.jsonl"
    path.write_text(_l1_line("96962.50") * 60_000 + _l1_line("96962.12345678") + _l1_line("96962.5") * 10)
    return path


def test_convert_keeps_every_decimal_when_a_later_piece_has_a_larger_scale(finer_later: Path, tmp_path: Path) -> None:
    """The first piece's decimal128 scale was the file's: a later, finer price failed the whole
    convert. The table's file so far is rewritten at the larger scale, so the directory holds
    what to_parquet of the whole file holds."""
    whole = MarketDataInMemory.from_json_file(finer_later)
    assert len(list(iter_json_file(finer_later).pieces())) >= 2
    result = cli("convert", finer_later, tmp_path / "cli")
    assert result.returncode == 0, result.stderr
    iter_json_file(finer_later).to_parquet(tmp_path / "python")
    whole.to_parquet(tmp_path / "whole")
    from_whole = MarketDataInMemory.from_parquet(tmp_path / "whole").events()
    for directory in (tmp_path / "cli", tmp_path / "python"):
        written = parquet.read_table(directory / "l1.parquet")
        assert written.schema.field("bid_price").type == pa.decimal128(38, 8)
        expected = whole.to_pyarrow("l1")
        assert expected.schema.field("bid_price").type == written.schema.field("bid_price").type
        for column in written.column_names:
            assert written.column(column).to_pylist() == expected.column(column).to_pylist(), column
        assert written.column("bid_price").to_pylist()[-11:] == [decimal.Decimal("96962.12345678")] + [
            decimal.Decimal("96962.5")] * 10
        manifest = json.loads((directory / MANIFEST).read_text())
        assert manifest["tables"]["l1"]["columns"]["bid_price"] == "decimal128(38, 8)"
        assert MarketDataInMemory.from_parquet(directory).events() == from_whole
        assert sorted(file.name for file in directory.iterdir()) == sorted(
            ["l1.parquet", MANIFEST, "barter_ffi_not_a_table.parquet"]), "no stand-in left"


def test_a_decimal_that_fits_no_decimal128_is_a_short_error_naming_the_column(tmp_path: Path) -> None:
    """28 integer digits early, 11 decimal places in a later piece: 39 digits, more than
    decimal128's 38. The error names the table, column and scale, and the way out in the
    caller's words; nothing is left behind."""
    path = tmp_path / "too_wide.jsonl"
    path.write_text(_l1_line("7922816251426433759354395033") * 30_000 + _l1_line("1.5") * 30_000
                    + _l1_line("0.00000000001"))
    with pytest.raises(DecimalScaleError) as raised:
        iter_json_file(path).to_parquet(tmp_path / "python")
    assert str(raised.value) == (
        "l1 bid_price: at scale 11 (the largest of the file's values), a value needs more than decimal128's 38 "
        "digits: write decimals='text' (exact, each value as written) or decimals='float64'")
    assert raised.value.problem == str(raised.value).split(": write ")[0]
    with pytest.raises(DecimalScaleError, match=r"^l1 bid_price: 7922816251426433759354395033 at scale 11 .*38 digits: "
                                                r"write decimals='text'"):
        MarketDataInMemory.from_json_file(path).to_parquet(tmp_path / "whole")
    result = cli("convert", path, tmp_path / "cli")
    assert result.returncode == 1
    assert result.stderr == ("error: l1 bid_price: at scale 11 (the largest of the file's values), a value needs more "
                             "than decimal128's 38 digits: rerun with --decimals text (exact, each value as written) "
                             "or --decimals float64\n")
    for name in ("python", "whole", "cli"):
        assert not (tmp_path / name).exists()
    assert cli("convert", path, tmp_path / "text", "--decimals", "text").returncode == 0
