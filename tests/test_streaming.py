"""iter_json_file: files read in bounded pieces, holding what from_json_file holds."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import barter_ffi
from barter_ffi import DecimalScaleError, MarketDataError, MarketDataInMemory, OwnedByAnotherThreadError, iter_json_file
from conftest import FIXTURES

KINDS = FIXTURES / "all_kinds.jsonl"
FILTERS = [{}, {"kinds": ["public_trade"]}, {"exchanges": ["okx"]}, {"kinds": ["l1", "candle"]},
           {"start": 1_734_721_518_176_000_000, "end": 1_734_721_550_000_000_000}]


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 35 MB of JSON Lines (several 8 MiB pieces), every kind and reconnect markers."""
    path = tmp_path_factory.mktemp("streaming") / "large.jsonl"
    path.write_bytes(KINDS.read_bytes() * 11_000)
    return path


@pytest.mark.parametrize("name", ["all_kinds.jsonl", "all_kinds_results.json", "candles.jsonl", "trades.json"])
@pytest.mark.parametrize("compression", [None, "zstd", "gzip"])
def test_streams_what_the_whole_load_holds(tmp_path: Path, name: str, compression: str) -> None:
    path = tmp_path / name
    shape = "array" if name.endswith(".json") else "lines"
    MarketDataInMemory.from_json_file(FIXTURES / name).to_json_file(path, shape=shape, compression=compression)
    for selection in FILTERS:
        whole = MarketDataInMemory.from_json_file(path, **selection)  # type: ignore[arg-type]
        assert list(iter_json_file(path, **selection)) == whole.events(), selection  # type: ignore[arg-type]
        items = list(iter_json_file(path, include_reconnects=True, **selection))  # type: ignore[arg-type]
        assert items == list(whole.items()), selection


def test_a_file_of_many_pieces_streams_whole_and_in_order(large: Path) -> None:
    whole = MarketDataInMemory.from_json_file(large)
    stream = iter_json_file(large, include_reconnects=True)
    assert list(stream) == list(whole.items())
    assert stream.progress == (large.stat().st_size, large.stat().st_size)
    pieces = list(iter_json_file(large).pieces())
    assert len(pieces) >= 4 and sum(len(piece) for piece in pieces) == len(whole)
    trades = MarketDataInMemory.from_json_file(large, kinds=["public_trade"]).events()
    assert list(iter_json_file(large, kinds=["public_trade"])) == trades


def test_errors_are_the_whole_loads_raised_where_the_stream_reaches_them(tmp_path: Path, large: Path) -> None:
    text = large.read_bytes()
    late = text.rindex(b"\n", 0, len(text) * 3 // 4) + 1
    cases = {
        "late.jsonl": text[:late] + b'{"Item":oops}\n' + text[late:],
        "variant.json": (FIXTURES / "all_kinds_results.json").read_bytes().replace(b'"Buy"', b'"Bought"'),
        "empty.jsonl": b"\n  \n",
        "markers_only.jsonl": b'{"Reconnecting":"okx"}\n',
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(MarketDataError) as whole:
            MarketDataInMemory.from_json_file(path)
        read = []
        with pytest.raises(MarketDataError) as streamed:
            for event in iter_json_file(path):
                read.append(event)
        assert str(streamed.value) == str(whole.value), name
    assert len(read) == 0
    with pytest.raises(FileNotFoundError):
        iter_json_file(tmp_path / "missing.jsonl")


def test_a_selective_stream_reports_the_files_first_error_not_the_first_one_it_reads(tmp_path: Path) -> None:
    """The L1 on line 2 holds a bad price, which a stream keeping only trades does not build; the
    syntax error on line 4 stops it. The error is the file's first, on line 2, as the selective
    load's is: the stream reads the file again with barter's types to find it."""
    lines = KINDS.read_text().splitlines()
    trade = next(line for line in lines if '"Trade"' in line)
    bad_l1 = next(line for line in lines if '"OrderBookL1"' in line).replace('"96962.50000000"', '"abc"', 1)
    assert '"abc"' in bad_l1
    path = tmp_path / "two_errors.jsonl"
    path.write_text("\n".join([trade, bad_l1, trade, "{not json", trade]) + "\n")
    with pytest.raises(MarketDataError, match="line 2 ") as whole:
        MarketDataInMemory.from_json_file(path, kinds=["public_trade"])
    with pytest.raises(MarketDataError) as streamed:
        list(iter_json_file(path, kinds=["public_trade"]))
    assert str(streamed.value) == str(whole.value)


def test_closing_mid_file_stops_and_the_stream_belongs_to_its_thread(large: Path) -> None:
    with iter_json_file(large) as stream:
        events = iter(stream)
        assert next(events).time_exchange_ns > 0
        assert repr(stream).endswith("open>")
        with iter_json_file(large) as other:
            raised: list[BaseException] = []

            def read_elsewhere() -> None:
                try:
                    next(iter(other))
                except OwnedByAnotherThreadError as error:
                    raised.append(error)

            thread = threading.Thread(target=read_elsewhere)
            thread.start()
            thread.join()
            assert raised, "another thread may not read the stream"
        with pytest.raises(RuntimeError, match="read once"):
            list(stream.pieces())
    assert stream.closed and repr(stream).endswith("closed>")
    with pytest.raises(ValueError, match="closed"):  # at the end of the batch already decoded
        for _ in events:
            pass


def test_record_batches_and_parquet_count_event_index_over_the_whole_file(large: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    whole = MarketDataInMemory.from_json_file(large)
    for table in ["trades", "l2", "reconnects"]:
        streamed = iter_json_file(large).record_batches(table, decimals="text").read_all()  # type: ignore[arg-type]
        assert streamed.equals(whole.to_pyarrow(table, decimals="text")), table  # type: ignore[arg-type]
    iter_json_file(large).to_parquet(tmp_path / "tables", decimals="text")
    assert MarketDataInMemory.from_parquet(tmp_path / "tables").events() == whole.events()
    nothing = iter_json_file(KINDS, kinds=["candle"]).record_batches("trades").read_all()
    assert nothing.num_rows == 0 and nothing.schema.names[0] == "event_index"


@pytest.mark.parametrize("decimals", ["decimal128", "float64", "text"])
def test_a_table_the_stream_has_no_rows_of_comes_in_an_empty_data_sets_schema(decimals: str) -> None:
    pytest.importorskip("pyarrow")
    with MarketDataInMemory.from_events([]) as empty:
        for table in ["trades", "l1", "l2", "candles", "liquidations"]:
            stream = iter_json_file(KINDS, instruments=[1_000_000])
            streamed = stream.record_batches(table, decimals=decimals).read_all()  # type: ignore[arg-type]
            expected = empty.to_pyarrow(table, decimals=decimals).schema  # type: ignore[arg-type]
            assert streamed.num_rows == 0 and streamed.schema.equals(expected, check_metadata=True), table


def test_a_later_piece_needing_more_decimal_scale_is_cast_or_refused(tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    lines = KINDS.read_text().splitlines(keepends=True)
    l1 = next(line for line in lines if "OrderBookL1" in line)
    def finer_price(match: re.Match) -> str:
        digits = match.group(1)
        return f'"price":"{digits}{"" if "." in digits else "."}00000000001"'

    finer = re.sub(r'"price":"([0-9.]+)"', finer_price, l1, count=1)
    assert finer != l1
    path = tmp_path / "scales.jsonl"
    path.write_text(l1 * 200_000 + finer)
    with pytest.raises(DecimalScaleError, match=r"^l1 bid_price: a later piece of the file has values of scale 19, "
                                                r"beyond the scale 8 its first piece fixed for the stream: write "
                                                r"decimals='text' .* or decimals='float64'$"):
        iter_json_file(path).record_batches("l1").read_all()
    exact = iter_json_file(path).record_batches("l1", decimals="text").read_all()
    assert exact.num_rows == 200_001 and pyarrow.types.is_string(exact.schema.field("bid_price").type)


# Streams a file in a process of its own and prints what it yielded (a count, or the error) and
# its peak memory above the imports: VmHWM, the peak of this process's own memory (ru_maxrss
# would carry over the forked parent's peak through exec on Linux).
PEAK_SCRIPT = """
import re, sys, barter_ffi
def peak(): return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))
before = peak()
try:
    print(sum(1 for _ in barter_ffi.iter_json_file(sys.argv[1])))
except barter_ffi.MarketDataError as error:
    print(error)
print((peak() - before) // 1024)
"""


def streamed_with_peak_mb(path: Path) -> tuple[str, int]:
    """What streaming ``path`` yielded (the count of events, or the error), and the peak memory."""
    if not Path("/proc/self/status").exists():
        pytest.skip("peak RSS is read from /proc (Linux)")
    result = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    outcome, peak_mb = result.stdout.splitlines()
    return outcome, int(peak_mb)


def test_streaming_memory_is_bounded_whatever_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(KINDS.read_bytes() * 50_000)  # about 160 MB
    count, peak_mb = streamed_with_peak_mb(path)
    assert count == "550000"
    assert peak_mb < 110, f"{peak_mb} MB above the imports while streaming a {path.stat().st_size >> 20} MB file"


def test_one_endless_line_is_refused_at_the_cap_naming_it_in_bounded_memory(tmp_path: Path) -> None:
    """A line longer than 64 MiB is an error as soon as the stream holds that much of it: not
    a buffer grown to the line's length and searched again with every read."""
    path = tmp_path / "one_line.jsonl"
    path.write_bytes(b"{" + b" " * (100 << 20))
    message, peak_mb = streamed_with_peak_mb(path)
    assert message == (
        f"{path}: line 1 is longer than 64 MiB, the most a stream holds of one line or array item "
        "(a line of barter's JSON holds one event); load the file whole to read it"
    )
    assert peak_mb < 100, f"{peak_mb} MB above the imports for a 100 MB line"


def test_blank_lines_before_the_first_event_are_streamed_in_bounded_memory(tmp_path: Path) -> None:
    """Blank lines before the first item are counted, not held, however many there are."""
    path = tmp_path / "blank_start.jsonl"
    with path.open("wb") as file:
        for _ in range(4):
            file.write(b" \t\r\n\n" * (10 << 20))  # 200 MB of blank lines in all
        file.write(KINDS.read_bytes().splitlines(keepends=True)[0])
    count, peak_mb = streamed_with_peak_mb(path)
    assert count == "1"
    assert peak_mb < 100, f"{peak_mb} MB above the imports for 200 MB of blank lines"


def test_cli_convert_streams_json_to_parquet(large: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    compressed = tmp_path / "large.jsonl.zst"
    MarketDataInMemory.from_json_file(large).to_json_file(compressed)
    result = subprocess.run([sys.executable, "-m", "barter_ffi", "convert", str(compressed), str(tmp_path / "out"),
                             "--decimals", "text"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert MarketDataInMemory.from_parquet(tmp_path / "out").events() == MarketDataInMemory.from_json_file(large).events()
    assert barter_ffi.JsonFileStream.__name__ in dir(barter_ffi)


FORKED_STREAM = """
import multiprocessing, sys, warnings
from barter_ffi import iter_json_file
warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork of a process with threads
stream = iter_json_file(sys.argv[1])
events = iter(stream)
next(events)

def read_in_child(outcome):
    try:
        for _ in events:
            pass
        outcome.put("read to the end")
    except Exception as error:
        outcome.put(f"{type(error).__name__}: {error}")

context = multiprocessing.get_context("fork")
outcome = context.Queue()
child = context.Process(target=read_in_child, args=(outcome,))
child.start()
child.join(timeout=60)
print(child.exitcode, outcome.get(timeout=5))
print(sum(1 for _ in events) > 0)  # the parent reads on
"""


def test_a_stream_is_not_pickled_and_a_forked_child_gets_an_error_not_a_hang(large: Path) -> None:
    import os
    import pickle

    with iter_json_file(large) as stream, pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(stream)
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    result = subprocess.run([sys.executable, "-c", FORKED_STREAM, str(large)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    child, parent = result.stdout.splitlines()
    assert child.startswith("0 ValueError") and "forked child" in child, child
    assert parent == "True"


@pytest.mark.parametrize("selection", [{"start": "2030-01-01T00:00:00Z"}, {"kinds": "candle", "exchanges": "okx"},
                                       {"instruments": 12345}])
def test_a_summary_of_a_selection_that_keeps_no_event_is_the_whole_loads(selection: dict) -> None:
    """No piece comes of a selection that keeps nothing: the summary of nothing, not a
    TypeError; markers a selection keeps without an event are counted."""
    streamed = iter_json_file(KINDS, **selection).summary()
    assert streamed == MarketDataInMemory.from_json_file(KINDS, **selection).summary()
    assert streamed.market_events == 0
