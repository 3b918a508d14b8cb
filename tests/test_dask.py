"""barter_ffi.dask on a real scheduler: a LocalCluster of two worker processes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pandas = pytest.importorskip("pandas")

import dask  # noqa: E402
from dask.dataframe.utils import pyarrow_strings_enabled  # noqa: E402

from barter_ffi import MarketDataError, MarketDataInMemory  # noqa: E402
from barter_ffi.arrow import TABLES  # noqa: E402
from barter_ffi.dask import read_events, read_market_data  # noqa: E402
from conftest import FIXTURES, ROOT, decimal_books  # noqa: E402

SOURCES = ["all_kinds.jsonl", "trades.json", "all_kinds_results.json", "candles.jsonl"]
COMPRESSIONS = ["zstd", "gzip", "bz2", None]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The fixtures as compressed recordings, several of each, named as a recorder names them."""
    directory = tmp_path_factory.mktemp("recordings")
    paths = []
    for copy in range(2):
        for index, (name, compression) in enumerate(zip(SOURCES, COMPRESSIONS)):
            path = directory / f"day{copy}{index}.jsonl{'.' + compression if compression else ''}"
            MarketDataInMemory.from_json_file(FIXTURES / name).to_json_file(path, compression=compression)
            paths.append(path)
    return sorted(paths)


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def in_process(paths: list[Path], table: str, **selection: object) -> object:
    frames = []
    for path in paths:
        with MarketDataInMemory.from_json_file(path, **selection) as data:  # type: ignore[arg-type]
            frames.append(data.to_pandas(table, decimals="float64"))  # type: ignore[arg-type]
    return pandas.concat(frames, ignore_index=True)


def comparable(frame: object) -> object:
    frame = frame.reset_index(drop=True)  # type: ignore[attr-defined]
    for column in frame.columns:  # Dask may turn text and categories into its string dtype
        dtype = frame[column].dtype
        if isinstance(dtype, (pandas.CategoricalDtype, pandas.StringDtype)) or dtype == object:
            frame[column] = frame[column].astype(str).astype(object)
    return frame


@pytest.mark.parametrize("table", ["trades", "l1", "l2", "reconnects"])
def test_tables_equal_reading_the_files_in_process(client: object, recordings: list[Path], table: str) -> None:
    frame = read_market_data(recordings, table, decimals="float64")  # type: ignore[arg-type]
    assert frame.npartitions == len(recordings)
    expected = in_process(recordings, table)
    pandas.testing.assert_frame_equal(comparable(frame.compute()), comparable(expected))


def test_two_worker_processes_do_the_work(client: object, recordings: list[Path]) -> None:
    frame = read_market_data(str(recordings[0].parent / "*"), "trades", decimals="float64")
    pids = frame.map_partitions(lambda part: part.assign(pid=os.getpid())).compute()["pid"]
    assert len(set(pids)) == 2 and os.getpid() not in set(pids), set(pids)


def test_projection_filters_and_meta_without_reading_a_file(client: object, recordings: list[Path],
                                                           tmp_path: Path) -> None:
    prices = read_market_data(recordings, "trades", columns=["price"], exchanges=["okx"], decimals="float64")
    assert list(prices.columns) == ["price"]
    expected = in_process(recordings, "trades", exchanges=["okx"])[["price"]]
    pandas.testing.assert_frame_equal(comparable(prices.compute()), comparable(expected))
    (tmp_path / "empty.jsonl").write_text("")  # exists, but is no recording: not read to build the graph
    unread = read_market_data([tmp_path / "empty.jsonl"], "l2")
    assert list(unread.columns)[:2] == ["event_index", "time_exchange"]  # the schema, with no file read
    with pytest.raises(MarketDataError, match="empty"):
        unread.compute()


def test_a_missing_file_or_unknown_column_is_an_error_when_the_graph_is_built(recordings: list[Path],
                                                                              tmp_path: Path) -> None:
    """Not at compute(), in a worker's traceback: the files are checked to exist (never read),
    as Dask's own readers check theirs, and columns against the table's schema."""
    missing = tmp_path / "not_there.jsonl"
    for read in (lambda paths: read_market_data(paths, "trades"), read_events):
        with pytest.raises(FileNotFoundError) as raised:
            read([recordings[0], missing])
        assert raised.value.filename == str(missing)
        with pytest.raises(IsADirectoryError):
            read([recordings[0], tmp_path])
    with pytest.raises(ValueError, match=r"^unknown trades column 'prize': did you mean 'price'\? Use one of 'event_index', "):
        read_market_data(recordings, "trades", columns=["time_exchange", "prize"])
    with pytest.raises(ValueError, match=r"^unknown l1 column 'bid': did you mean 'bid_price' or 'bid_amount'\?"):
        read_market_data(recordings, "l1", columns="bid")


def test_read_events_is_a_bag_of_every_files_events(client: object, recordings: list[Path]) -> None:
    bag = read_events(recordings, kinds=["public_trade", "l1"])
    expected = []
    for path in recordings:
        expected += MarketDataInMemory.from_json_file(path, kinds=["public_trade", "l1"]).events()
    assert bag.compute() == expected


def test_the_vwap_example_runs_on_a_local_cluster(recordings: list[Path]) -> None:
    # The example imports barter_ffi as any user script does: from the installed package.
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "vwap.py"), str(recordings[0].parent / "*")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    vwap = pandas.read_csv(io.StringIO(result.stdout))
    trades = in_process(recordings, "trades")
    trades["minute"] = trades["time_exchange"].dt.floor("1min").astype(str)
    trades["exchange"] = trades["exchange"].astype(str)
    trades["notional"] = trades["price"] * trades["amount"]
    grouped = trades.groupby(["exchange", "minute"])
    expected = (grouped["notional"].sum() / grouped["amount"].sum()).rename("vwap").reset_index()
    expected["trades"] = grouped.size().values
    assert len(vwap) == len(expected) > 1
    assert list(vwap["trades"]) == list(expected["trades"])
    assert vwap["vwap"].tolist() == pytest.approx(expected["vwap"].tolist(), rel=1e-12)


@pytest.fixture(scope="module")
def book_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """L1 and L2 events whose decimals sort differently as text, over two files."""
    directory = tmp_path_factory.mktemp("books")
    events = decimal_books()
    paths = [directory / "books0.jsonl", directory / "books1.jsonl.zst"]
    for path, part in zip(paths, (events[:3], events[3:])):
        MarketDataInMemory.from_events(part).to_json_file(path)
    return paths


@pytest.mark.parametrize("convert_string", ["dask's default", False])
def test_decimals_stay_numbers_whatever_dasks_string_setting(client: object, book_files: list[Path],
                                                            convert_string: object) -> None:
    settings = {} if convert_string == "dask's default" else {"dataframe.convert-string": convert_string}
    with dask.config.set(settings):
        assert pyarrow_strings_enabled() == (convert_string == "dask's default")
        l1, l2 = read_market_data(book_files, "l1"), read_market_data(book_files, "l2")
        assert l1["bid_price"].max().compute() == 100.0  # not "9.50", the largest text
        assert (l2["price"] * l2["amount"]).sum().compute() == pytest.approx(9.5 * 2 + 9.25 + 10.25 * 0.5 + 0.1)
        decimals = ["bid_price", "bid_amount", "ask_price", "ask_amount"]
        assert set(decimals) == set(l1[decimals].describe().compute().columns)  # the README's recipe
        text = read_market_data(book_files, "l1", decimals="text")["bid_price"].compute()
        assert text.tolist() == ["9.50", "10.25", "100.00"]


def test_reductions_stay_exact_with_partitions_without_rows(client: object) -> None:
    """candles.jsonl has no trade: its partition is empty. Dask's max of a plain uint64 column
    then turned float64 (2**64 - 1 read 1.8446744073709552e+19); the nullable UInt64 stays exact."""
    files = [FIXTURES / name for name in ("trades.json", "candles.jsonl", "all_kinds.jsonl", "candles.jsonl")]
    trades = read_market_data(files, "trades")
    expected = in_process(files, "trades")
    instrument = trades["instrument"]
    for reduction in ("max", "min", "sum", "nunique"):
        got = getattr(instrument, reduction)().compute()
        assert got == getattr(expected["instrument"], reduction)() and not isinstance(got, float), (reduction, got)
    assert instrument.max().compute() == 2**64 - 1
    assert trades["event_index"].max().compute() == expected["event_index"].max()
    by_exchange = trades.groupby("exchange")["instrument"].max().compute().to_dict()
    assert by_exchange == expected.astype({"exchange": str}).groupby("exchange")["instrument"].max().to_dict()
    assert by_exchange["coinbase"] == 2**64 - 1
    sizes = trades.groupby("instrument").size().compute().to_dict()
    assert sizes == expected.groupby("instrument").size().to_dict() and 2**64 - 1 in sizes
    assert trades["side"].cat.known and list(trades["side"].cat.categories) == ["Buy", "Sell"]
    assert list(trades["side"].compute().cat.categories) == ["Buy", "Sell"]
    assert read_market_data(files[1], "l2")["side"].cat.categories.tolist() == ["bid", "ask"], "from the meta"


def test_exact_decimal128_is_refused_with_what_to_use_instead(book_files: list[Path]) -> None:
    with pytest.raises(ValueError, match=r"decimals='decimal128'.*scale.*'float64'.*'text'"):
        read_market_data(book_files, "l2", decimals="decimal128")


@pytest.mark.parametrize("table", list(TABLES))
def test_dtypes_are_to_pandas_dtypes_before_and_after_compute(client: object, recordings: list[Path],
                                                              book_files: list[Path], table: str) -> None:
    """What Dask says a column is (its meta) is what the partitions hold, and what to_pandas
    gives; only text columns may take Dask's own string dtype."""
    frame = read_market_data([*recordings, *book_files], table)  # type: ignore[arg-type]
    computed = frame.compute()
    with MarketDataInMemory.from_json_file(book_files[1]) as data:
        expected = data.to_pandas(table)  # type: ignore[arg-type]
    strings = {column for column, dtype in expected.dtypes.items() if pandas.api.types.is_string_dtype(dtype)
               and not isinstance(dtype, pandas.CategoricalDtype)}
    for column, dtype in expected.dtypes.items():
        if column in strings or column == "exchange":  # exchange: text, not categories (see barter_ffi.dask)
            assert pandas.api.types.is_string_dtype(frame.dtypes[column]), column
            assert str(frame.dtypes[column]) == str(computed.dtypes[column]), column
            continue
        assert str(frame.dtypes[column]) == str(computed.dtypes[column]) == str(dtype), column
    if "side" in frame:
        assert frame["side"].cat.known  # the same two in every partition


def test_exchange_counts_and_categories_are_the_exchanges_present(client: object, recordings: list[Path],
                                                                   book_files: list[Path]) -> None:
    """Files without an L1 row make empty partitions, where Dask's categoricals of unknown
    categories used to count an ``__UNKNOWN_CATEGORIES__`` row; and more partitions than Dask
    shuffles in one piece, where their ``.cat.as_known()`` failed."""
    l1 = read_market_data([*recordings, *book_files], "l1")
    expected = in_process([*recordings, *book_files], "l1")["exchange"].astype(str).value_counts()
    assert l1["exchange"].value_counts().compute().to_dict() == expected.to_dict()
    assert l1.groupby("exchange").size().compute().to_dict() == expected.to_dict()
    known = l1.categorize(columns=["exchange"])
    assert known["exchange"].cat.known and set(known["exchange"].cat.categories) == set(expected.index)
    # The README's recipes around Dask's categorize bug: a persisted frame counts right, and
    # pivot_table (what categorize is for) works on the lazy one.
    persisted = known.persist()["exchange"].value_counts().compute()
    assert persisted[persisted > 0].to_dict() == expected.to_dict()
    means = known.pivot_table(index="instrument", columns="exchange", values="bid_price", aggfunc="mean").compute()
    frame = in_process([*recordings, *book_files], "l1").astype({"exchange": str})
    assert means.stack().dropna().to_dict() == frame.groupby(["instrument", "exchange"])["bid_price"].mean().dropna().to_dict()
