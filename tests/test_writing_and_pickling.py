"""Writing barter JSON, pickling and copying: all by value, all reading back equal."""

from __future__ import annotations

import copy
import os
import tempfile
import datetime as dt
import gc
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import pytest

from barter_ffi import ExchangeId, Level, MarketDataError, MarketDataInMemory, MarketEvent, OrderBookL1, PublicTrade, Side
from barter_ffi._ffi import live_objects
from conftest import ALL_FIXTURES, FIXTURES


@pytest.mark.parametrize("name", ALL_FIXTURES)
@pytest.mark.parametrize("shape", ["lines", "array"])
def test_written_files_read_back_equal(name: str, shape: str, tmp_path: Path) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / name)
    path = tmp_path / f"out.{shape}"
    md.to_json_file(path, shape=shape)
    reread = MarketDataInMemory.from_json_file(path)
    assert reread.events() == md.events()
    assert reread.stats.reconnects == md.stats.reconnects
    assert path.read_bytes().lstrip()[:1] == (b"[" if shape == "array" else b"{")


def test_an_unknown_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown shape 'csv': use one of 'lines' or 'array'"):
        MarketDataInMemory.from_json_file(FIXTURES / "trades.json").to_json_file(tmp_path / "x", shape="csv")  # type: ignore[arg-type]


def test_a_file_that_cannot_be_written_raises_and_releases_the_json(tmp_path: Path) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "trades.json")
    gc.collect()
    baseline = live_objects()
    with pytest.raises(IsADirectoryError):
        md.to_json_file(tmp_path)
    assert live_objects() == baseline, "the library's JSON buffer was freed"
    assert list(tmp_path.iterdir()) == []


WRITE_CUT_SHORT = """
import resource, sys
from barter_ffi import MarketDataInMemory
md = MarketDataInMemory.from_json_file(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))  # Python ignores SIGXFSZ
try:
    md.to_json_file(sys.argv[2])
except OSError as error:
    print(type(error).__name__, error)
"""


def test_a_write_cut_short_leaves_the_file_that_was_there(tmp_path: Path) -> None:
    """A failed write removed the file: yesterday's output was gone, and so was a symbolic link
    (not the file it names) given as the path."""
    import os
    import subprocess
    import sys

    source = tmp_path / "big.jsonl"
    source.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() * 2_000)  # about 6 MB written back
    day = tmp_path / "day.jsonl"
    day.write_text("yesterday")
    os.symlink(day, tmp_path / "latest.jsonl")
    for path in (day, tmp_path / "latest.jsonl"):
        result = subprocess.run([sys.executable, "-c", WRITE_CUT_SHORT, str(source), str(path)], capture_output=True,
                                text=True, timeout=120)
        assert result.stdout.startswith(f"OSError [Errno 27] File too large: '{path}'"), (result.stdout, result.stderr)
        assert day.read_text() == "yesterday" and (tmp_path / "latest.jsonl").is_symlink()
        assert sorted(entry.name for entry in tmp_path.iterdir()) == ["big.jsonl", "day.jsonl", "latest.jsonl"]
    MarketDataInMemory.from_json_file(source).to_json_file(tmp_path / "latest.jsonl")
    assert (tmp_path / "latest.jsonl").is_symlink() and len(MarketDataInMemory.from_json_file(day)) == 2_000 * 11


def test_a_fifo_whose_reader_left_is_not_removed(tmp_path: Path) -> None:
    """A reader that closed early (`| head`) made the write fail, and the FIFO was unlinked."""
    import os
    import stat
    import threading

    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    source = tmp_path / "big.jsonl"
    source.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() * 2_000)
    md = MarketDataInMemory.from_json_file(source)
    first = threading.Thread(target=lambda: fifo.open("rb").read(10))  # reads a little, then closes
    first.start()
    with pytest.raises(BrokenPipeError, match=re.escape(f"Broken pipe: '{fifo}'")):
        md.to_json_file(fifo, compression=None)
    first.join()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is still there"


def test_pickle_copy_and_deepcopy_are_by_value() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    for twin in (pickle.loads(pickle.dumps(md)), copy.copy(md), copy.deepcopy(md)):
        assert twin is not md
        assert twin.events() == md.events()
        assert twin.stats.reconnects == md.stats.reconnects
        assert twin.time_first_event_ns() == md.time_first_event_ns()


def test_a_data_set_of_no_event_but_err_items_pickles_with_its_count() -> None:
    """Selected down to nothing, a data set keeps the Err items its file held; it pickles as an
    array of them alone (one separator between each, none before the first)."""
    err = b'{"Item":{"Err":"SubscriptionsEmpty"}}'
    trade = (
        b'{"Item":{"Ok":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z",'
        b'"exchange":"okx","instrument":1,"kind":{"Trade":{"id":"1","price":1.0,"amount":1.0,"side":"Buy"}}}}}'
    )
    recording = b"[" + b",".join([err, err, trade, err]) + b"]"
    nothing = MarketDataInMemory.from_json_bytes(recording).filter(kinds=["l1"])
    assert (len(nothing), nothing.stats.errors_skipped) == (0, 3)
    twin = pickle.loads(pickle.dumps(nothing))
    assert (len(twin), twin.stats) == (0, nothing.stats)


def events_in_a_worker(md: MarketDataInMemory) -> list[MarketEvent]:
    return md.events()


def test_a_process_pool_gets_equal_events() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds_results.json")
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(events_in_a_worker, [md, md.clone()]))
    assert results == [md.events(), md.events()]


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_from_events_round_trips(name: str) -> None:
    events = MarketDataInMemory.from_json_file(FIXTURES / name).events()
    rebuilt = MarketDataInMemory.from_events(events)
    assert rebuilt.events() == events
    assert rebuilt.time_first_event_ns() == events[0].time_exchange_ns


def test_from_events_takes_any_iterable_and_builds_in_python() -> None:
    events = [
        MarketEvent(1_000, 2_000, ExchangeId.OKX, 7, PublicTrade("a", 1.5, 2.0, Side.SELL)),
        MarketEvent(3_000, 4_000, ExchangeId.KRAKEN, 1, OrderBookL1(3_000, Level("1.50", "2"), None)),
    ]
    md = MarketDataInMemory.from_events(iter(events))
    assert md.events() == events
    assert md.time_first_event() == dt.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=dt.timezone.utc)


def test_from_events_names_the_event_barter_rejects() -> None:
    """The constructors refuse these values (tests/test_events.py); events changed behind their
    back (msgspec.structs.replace does not call the class) still meet barter's own checks."""
    good = MarketEvent(1, 2, ExchangeId.OKX, 0, PublicTrade("a", 1.0, 1.0, Side.BUY))
    cases = [
        ({"exchange": "nyse"}, "event 1: `exchange`: unknown variant `nyse`"),
        ({"instrument": -4}, "event 1: `instrument` must be a non-negative integer, not -4"),
        ({"time_exchange_ns": dt.datetime(2024, 1, 1)}, "event 1: `time_exchange` must be integer nanoseconds"),
    ]
    for change, message in cases:
        with pytest.raises((TypeError, ValueError), match=f"MarketEvent.{next(iter(change))}|unknown exchange"):
            good.__class__(**{**msgspec.structs.asdict(good), **change})
        with pytest.raises(MarketDataError, match=re.escape(message)):
            MarketDataInMemory.from_events([good, msgspec.structs.replace(good, **change)])
    with pytest.raises(TypeError, match="event 0: expected a MarketEvent or Reconnecting, not dict"):
        MarketDataInMemory.from_events([{}])  # type: ignore[list-item]
    assert len(MarketDataInMemory.from_events([])) == 0, "no events: an empty data set"


def test_arrow_views_say_what_to_pickle_instead() -> None:
    """Each gave ``cannot pickle '_cffi_backend._CDataBase' object``."""
    pa = pytest.importorskip("pyarrow")
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    cases = [(md.to_arrow("trades"), r"^an ArrowTable .*\(md\.to_pyarrow\('trades'\) pickles\)$"),
             (md.book_replay(depth=1), r"^BookReplay is computed by this process .*\(\.to_pyarrow\(\) pickles\)$"),
             (md.engine_prices(), r"^EnginePrices is computed by this process .*\(\.to_pyarrow\(\) pickles\)$")]
    for view, message in cases:
        with pytest.raises(TypeError, match=message):
            pickle.dumps(view)
        table = pa.table(view)
        assert table.num_rows > 0 and pickle.loads(pickle.dumps(table)).equals(table), "what the message offers pickles"


INTERRUPTED_WRITE = """
import sys
from barter_ffi import MarketDataInMemory
md = MarketDataInMemory.from_json_file(sys.argv[1])
print("writing", flush=True)
try:
    md.to_json_file(sys.argv[2])
    print("written")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_ctrl_c_stops_a_json_write_and_leaves_the_file_that_was_there(tmp_path: Path) -> None:
    """The write went on to its end (seven seconds of bz2 for 90 MB), then raised
    KeyboardInterrupt beside a whole file."""
    import signal
    import subprocess
    import sys
    import time

    from conftest import sigint_at_default

    source = tmp_path / "big.jsonl"
    source.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() * 20_000)
    target = tmp_path / "day.jsonl.bz2"
    target.write_text("yesterday")
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED_WRITE, str(source), str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_at_default)
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    while not (tmp_path / ".day.jsonl.bz2.partial").exists() and child.poll() is None:
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert out == "interrupted\n", (out, err)
    assert target.read_text() == "yesterday"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["big.jsonl", "day.jsonl.bz2"]


def test_c_a_json_write_reports_its_items_and_cancels_when_asked() -> None:
    from barter_ffi._ffi import ffi, lib

    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    items = len(md) + md.stats.reconnects
    for cancel_at in (None, items):  # items: the last report, once every item is written
        reports: list[tuple[int, int]] = []

        @ffi.callback("int32_t(void *, uint64_t, uint64_t)")
        def report(_context: Any, done: int, total: int) -> int:
            reports.append((done, total))
            return int(done == cancel_at)

        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "out.jsonl")
            error = ffi.new("BarterFfiError *")
            status = lib.barter_ffi_market_data_write_json_file_with_progress(
                md._checked_handle(), path.encode(), lib.BARTER_FFI_JSON_SHAPE_LINES, lib.BARTER_FFI_COMPRESSION_NONE,
                report, ffi.NULL, error)
            message = ffi.string(error.message).decode() if error.message else ""
            lib.barter_ffi_error_free(error)
            assert reports[-1] == (items, items), reports
            if cancel_at is None:
                assert status == lib.BARTER_FFI_STATUS_OK
                assert MarketDataInMemory.from_json_file(path).events() == md.events()
            else:
                assert status == lib.BARTER_FFI_STATUS_CANCELLED and os.listdir(directory) == []
                assert message == "the write was cancelled; the file was left as it was"  # said "the load"


def test_a_name_for_an_open_descriptor_is_written_in_place(tmp_path: Path) -> None:
    """`{ echo before; barter-ffi convert x.jsonl /dev/stdout; echo after; } > log.txt` kept the
    JSON alone: the file the shell had open was renamed over, and "before" and "after" were lost."""
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    log = tmp_path / "log.txt"
    with open(log, "wb") as shells:
        shells.write(b"before\n")
        shells.flush()
        link = tmp_path / "stdout.jsonl"
        os.symlink(f"/proc/self/fd/{shells.fileno()}", link)
        md.to_json_file(link)
        shells.seek(0, os.SEEK_END)
        shells.write(b"after\n")
    written = log.read_bytes()
    assert written.startswith(b"before\n") and written.endswith(b"after\n"), written[:100]
    assert MarketDataInMemory.from_json_bytes(written[len(b"before\n"):-len(b"after\n")]).events() == md.events()


def test_a_killed_writes_hidden_file_is_taken_over_and_a_long_name_written(tmp_path: Path) -> None:
    """A killed write left `.NAME.PID-N.partial` for good; a 250-byte name, which the file system
    takes, failed with "File name too long" for the hidden name's sake."""
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    (tmp_path / ".day.jsonl.partial").write_text("half of a killed write")
    md.to_json_file(tmp_path / "day.jsonl")
    long = tmp_path / ("a" * 244 + ".jsonl")
    md.to_json_file(long)
    md.book_replay(depth=1).to_parquet(tmp_path / ("b" * 242 + ".parquet"))
    assert sorted(entry.name for entry in tmp_path.iterdir()) == sorted(["day.jsonl", long.name, "b" * 242 + ".parquet"])
    assert MarketDataInMemory.from_json_file(long).events() == md.events()


def test_a_second_write_of_a_file_under_way_is_refused() -> None:
    from barter_ffi.whole_file import written_whole

    with tempfile.TemporaryDirectory() as directory:
        target = os.path.join(directory, "books.parquet")
        with written_whole(target) as first:
            with pytest.raises(BlockingIOError, match="another write to this file is under way"):
                with written_whole(target):
                    pass
            Path(first).write_text("first")
        assert Path(target).read_text() == "first" and os.listdir(directory) == ["books.parquet"]
