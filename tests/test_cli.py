"""python -m barter_ffi: the summary (the package's main job), --json, head and tail."""

from __future__ import annotations

import decimal
import json
import signal
import subprocess
import sys
import sysconfig
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest

import barter_ffi
from barter_ffi import MarketDataInMemory, Reconnecting
from barter_ffi.summary import event_line
from conftest import FIXTURES, sigint_at_default

KINDS = FIXTURES / "all_kinds.jsonl"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "barter_ffi", *args], capture_output=True, text=True, timeout=60)


def test_summarises_a_file() -> None:
    result = run(str(FIXTURES / "all_kinds_results.json"))
    assert result.returncode == 0, result.stderr
    for line in (
        "market events:        6",
        "reconnects kept:      2",
        "Err items skipped:    3",
        "time_first_event:     2024-12-20T19:05:18.175000000Z",
        "time_exchange range:  2024-12-20T19:05:18.175000000Z .. 2024-12-20T19:06:01.000000500Z",
        "  l2                       2",
        "  bitmex                   1",
    ):
        assert line in result.stdout, result.stdout
    assert "reconnects skipped" not in result.stdout  # barter keeps them for the engine, as the README says


def test_without_a_file_it_summarises_the_bundled_fixture() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert "all_kinds.jsonl" in result.stdout and "market events:        11" in result.stdout


def test_errors_go_to_stderr_with_a_failing_status() -> None:
    result = run(str(FIXTURES / "missing.json"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: [Errno 2] No such file or directory")


def test_summary_as_json_for_scripts() -> None:
    result = run("summary", str(FIXTURES / "all_kinds_results.json"), "--json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["file"].endswith("all_kinds_results.json")
    assert (facts["market_events"], facts["reconnects"], facts["errors_skipped"]) == (6, 2, 3)
    assert facts["time_first_event_ns"] == 1_734_721_518_175_000_000
    assert facts["time_exchange_max_ns"] == 1_734_721_561_000_000_500
    assert facts["by_kind"] == {"candle": 1, "l1": 1, "l2": 2, "liquidation": 1, "public_trade": 1}
    assert sum(facts["by_exchange"].values()) == 6
    assert run(str(FIXTURES / "all_kinds_results.json"), "--json").stdout == result.stdout


@pytest.mark.parametrize("markers", [[], ["okx", "kraken"]])
def test_summary_of_a_data_set_without_market_events(tmp_path: Path, markers: list) -> None:
    """An empty data set (or one of reconnect markers alone, as a reconnects table file is) has
    no time span: the summary says so, rather than failing on the missing times."""
    from barter_ffi import Reconnecting

    MarketDataInMemory.from_events([Reconnecting(name) for name in markers]).to_parquet(tmp_path / "day")
    for path in (tmp_path / "day", *(tmp_path / "day").glob("reconnects.parquet")):
        result = run(str(path))
        assert result.returncode == 0, result.stderr
        assert "market events:        0" in result.stdout
        assert f"reconnects kept:      {len(markers)}" in result.stdout
        assert "time_first_event:     none (no market event)" in result.stdout
        assert all(f"  {name:<24} 1" in result.stdout for name in markers), result.stdout
        facts = json.loads(run("summary", str(path), "--json").stdout)
        assert facts["time_first_event_ns"] is None and facts["reconnects_by_exchange"] == dict.fromkeys(markers, 1)


def test_head_and_tail_print_one_event_a_line() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    events = md.events()
    head = run("head", str(FIXTURES / "all_kinds.jsonl"), "-n", "3")
    assert head.returncode == 0, head.stderr
    lines = head.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2024-12-20T19:05:18.175000000Z  binance_spot")
    assert "public_trade" in lines[0] and f"id={events[0].kind.id}" in lines[0] and "side=Buy" in lines[0]
    tail = run("tail", str(FIXTURES / "all_kinds.jsonl"), "-n", "2").stdout.splitlines()
    assert [line.split()[0] for line in tail] == ["2024-12-20T19:06:01.000000500Z", "2024-12-20T19:06:02.123456789Z"]
    assert len(run("head", str(FIXTURES / "all_kinds.jsonl")).stdout.splitlines()) == 10
    assert len(run("tail", str(FIXTURES / "all_kinds.jsonl"), "-n", "50").stdout.splitlines()) == 11
    assert run("head", str(FIXTURES / "all_kinds.jsonl"), "-n", "0").stdout == ""


def test_head_shows_books_and_top_of_book_readably() -> None:
    out = run("head", str(FIXTURES / "all_kinds_results.json"), "-n", "4").stdout.splitlines()
    assert "l1" in out[1] and "bid 96962.50000000 x 0.51200000  ask -" in out[1]
    assert "snapshot sequence=7 bids=[96962.50 x 0.5] asks=[96963.00 x 0.75, 96964.10 x 2]" in out[2]


def test_head_of_a_bad_file_is_an_error() -> None:
    result = run("head", str(FIXTURES / "missing.json"))
    assert result.returncode == 1 and result.stderr.startswith("error:")


@pytest.mark.parametrize("count", ["-2", "two", "1.5"])
def test_a_bad_count_is_a_usage_error(count: str) -> None:
    """argparse's usage error (status 2, the usage line), as for any other bad argument."""
    for command in ("head", "tail"):
        result = run(command, str(FIXTURES / "trades.json"), "-n", count)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("usage: barter-ffi") and f"-n/--lines: " in result.stderr, result.stderr
        assert result.stdout == ""


def test_an_unknown_command_is_named_as_one() -> None:
    """The first word is a file to summarise only when it can be one: a word that names no file
    (and looks like no path) is an unknown command, listed with the commands."""
    result = run("frobnicate", str(FIXTURES / "trades.json"))
    assert result.returncode == 2
    assert "argument command: invalid choice: 'frobnicate'" in result.stderr, result.stderr
    assert "summary" in result.stderr.split("choose from")[1], "the commands are listed"
    assert "unrecognized arguments" not in result.stderr
    assert run("sumary").returncode == 2
    missing = run(str(FIXTURES / "missing.json"), "--json")
    assert missing.returncode == 1 and "No such file or directory" in missing.stderr, "a path is still a file"
    assert run("--json", str(FIXTURES / "trades.json")).returncode == 0


def test_a_directory_that_is_no_parquet_output_gets_a_short_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run(str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (f"error: {tmp_path}: a directory, and not one that to_parquet or barter-ffi convert "
                             "wrote (it holds no barter_ffi.json and no .parquet file): give a barter JSON file, or "
                             "such a directory\n")


def test_convert_into_a_fifo_whose_reader_left_says_so_and_keeps_the_fifo(tmp_path: Path) -> None:
    """It exited 1 without a word (taken for stdout's reader leaving) and unlinked the FIFO."""
    import os
    import stat
    import threading

    source = tmp_path / "big.jsonl"
    source.write_bytes(KINDS.read_bytes() * 2_000)
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    reader = threading.Thread(target=lambda: fifo.open("rb").read(10))  # reads a little, then closes
    reader.start()
    result = run("convert", str(source), str(fifo))
    reader.join()
    assert (result.returncode, result.stderr) == (1, f"error: [Errno 32] Broken pipe: '{fifo}'\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_ctrl_c_ends_a_command_waiting_for_a_fifos_writer_at_once(tmp_path: Path) -> None:
    """It waited, Ctrl-C or not, until a writer opened the FIFO (kill -9 was the way out)."""
    import os
    import time

    fifo = tmp_path / "live.jsonl"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "barter_ffi", "summary", str(fifo)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=sigint_at_default)
    wchan = Path(f"/proc/{process.pid}/wchan")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if wchan.exists() and wchan.read_text() in ("wait_for_partner", "fifo_open"):
            break  # in open(2), waiting for a writer
        time.sleep(0.02)
    else:
        time.sleep(2)  # no wchan to read here: long enough to be in open(2)
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("Ctrl-C did not end the command waiting for the FIFO's writer")
    assert process.returncode == -signal.SIGINT


@pytest.mark.parametrize("command", ["head", "tail"])
def test_a_reader_that_goes_away_ends_the_command_by_sigpipe_as_it_ends_cat(tmp_path: Path, command: str) -> None:
    """`barter-ffi head big.jsonl -n 100000 | head -1` exited 1 without a word: a status that
    says the command failed, where `cat big.jsonl | head -1` ends by SIGPIPE (a shell shows 141)."""
    big = tmp_path / "big.jsonl"
    big.write_bytes(KINDS.read_bytes() * 10_000)
    process = subprocess.Popen([sys.executable, "-m", "barter_ffi", command, str(big), "-n", "100000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=120) == -signal.SIGPIPE
    assert process.stderr is not None and process.stderr.read() == b""


@pytest.mark.parametrize("command", ["convert", "books"])
def test_parquet_without_pyarrow_is_one_line_naming_the_extra(tmp_path: Path, command: str) -> None:
    """pyarrow is an optional dependency: without it, `convert` to Parquet printed a 15-line
    ModuleNotFoundError traceback."""
    args = ["convert", str(KINDS), str(tmp_path / "day")] if command == "convert" else \
        ["books", str(KINDS), "-o", str(tmp_path / "books.parquet")]
    without_pyarrow = "import sys; sys.modules['pyarrow'] = None; from barter_ffi.__main__ import entry_point; entry_point()"
    result = subprocess.run([sys.executable, "-c", without_pyarrow, *args], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {command} needs pyarrow for Parquet, an optional dependency: pip install " \
                            "'barter-ffi[arrow]'\n"
    assert list(tmp_path.iterdir()) == []


def test_a_file_is_json_or_parquet_by_its_first_bytes_not_its_name(tmp_path: Path) -> None:
    """barter's JSON named ``.parquet`` was refused as "not a Parquet file" with advice in Python's
    words (use from_json_file); a Parquet table file named otherwise was parsed as JSON."""
    pytest.importorskip("pyarrow")
    misnamed = tmp_path / "day.parquet"
    misnamed.write_bytes(KINDS.read_bytes())
    assert run(str(misnamed)).stdout == run(str(KINDS)).stdout.replace(str(KINDS), str(misnamed))
    assert run("head", str(misnamed), "-n", "2").stdout == run("head", str(KINDS), "-n", "2").stdout
    converted = tmp_path / "converted"
    assert run("convert", str(misnamed), str(converted), "--decimals", "text").returncode == 0
    assert MarketDataInMemory.from_parquet(converted).events() == MarketDataInMemory.from_json_file(KINDS).events()
    table_file = tmp_path / "trades.data"
    table_file.write_bytes((converted / "trades.parquet").read_bytes())
    summary = run(str(table_file), "--json")
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)["market_events"] == len(MarketDataInMemory.from_json_file(KINDS, kinds=["public_trade"]))


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"barter-ffi {barter_ffi.__version__}\n"


@pytest.fixture(scope="module")
def pieces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 14 MB of JSON Lines: a file the CLI reads in two pieces and more."""
    path = tmp_path_factory.mktemp("cli") / "pieces.jsonl"
    path.write_bytes(KINDS.read_bytes() * 4_500)
    return path


def full_load_summary(path: Path) -> dict:
    """The summary as the CLI made it before it streamed: a walk over the whole load's events."""
    md = MarketDataInMemory.from_json_file(path)
    events = md.events()
    return {
        "file": str(path),
        "market_events": md.stats.market_events,
        "reconnects": md.stats.reconnects,
        "errors_skipped": md.stats.errors_skipped,
        "time_first_event_ns": md.time_first_event_ns(),
        "time_exchange_min_ns": min(event.time_exchange_ns for event in events),
        "time_exchange_max_ns": max(event.time_exchange_ns for event in events),
        "by_kind": dict(sorted(Counter(event.kind.kind_name() for event in events).items())),
        "by_exchange": dict(sorted(Counter(event.exchange.value for event in events).items())),
        "by_instrument": {str(index): count for index, count in
                          sorted(Counter(event.instrument for event in events).items())},
        "reconnects_by_exchange": dict(sorted(Counter(item.exchange.value for item in md.items()
                                                      if isinstance(item, Reconnecting)).items())),
    }


@pytest.mark.parametrize("shape", ["lines", "array"])
def test_a_file_of_many_pieces_gives_what_a_full_load_gives(pieces: Path, tmp_path: Path, shape: str) -> None:
    path = pieces
    if shape == "array":
        path = tmp_path / "pieces.json"
        MarketDataInMemory.from_json_file(pieces).to_json_file(path, shape="array")
    summary = run("summary", str(path), "--json")
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout) == full_load_summary(path)
    events = MarketDataInMemory.from_json_file(path).events()
    for command, count, expected in [("head", "3000", events[:3000]), ("tail", "3000", events[-3000:]),
                                     ("tail", "7", events[-7:]), ("head", "0", []), ("tail", "0", [])]:
        result = run(command, str(path), "-n", count)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [event_line(event) for event in expected], (command, count)


def test_errors_are_reported_as_a_full_load_reports_them_and_head_stops_before_later_ones(
        pieces: Path, tmp_path: Path) -> None:
    text = pieces.read_bytes()
    late = text.rindex(b"\n", 0, len(text) * 3 // 4) + 1
    early = text.index(b"\n") + 1
    for name, content in [("late.jsonl", text[:late] + b'{"Item":oops}\n' + text[late:]),
                          ("early.jsonl", text[:early] + b'{"Item":oops}\n' + text[early:])]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(barter_ffi.MarketDataError) as whole:
            MarketDataInMemory.from_json_file(path)
        for command in (["summary"], ["summary", "--json"], ["tail", "-n", "2"]):
            result = run(command[0], str(path), *command[1:])
            assert (result.returncode, result.stdout, result.stderr) == (1, "", f"error: {whole.value}\n"), command
        head = run("head", str(path), "-n", "1")
        if name == "early.jsonl":  # within the first piece, which head reads whatever -n is
            assert (head.returncode, head.stderr) == (1, f"error: {whole.value}\n")
        else:  # documented: head reads only as far as its events lie
            assert head.returncode == 0 and head.stdout == event_line(MarketDataInMemory.from_json_file(KINDS)[0]) + "\n"


PEAK_MEMORY = """
import contextlib, io, re, sys
import barter_ffi
from barter_ffi.__main__ import main

def peak_kib():  # VmHWM: this process's own peak (ru_maxrss carries the parent's over exec)
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))

before = peak_kib()
if sys.argv[1] == "load":
    barter_ffi.MarketDataInMemory.from_json_file(sys.argv[2])
else:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(sys.argv[1:]) == 0
print((peak_kib() - before) // 1024)
"""


def test_head_tail_and_summary_stay_within_the_streaming_memory_bound(tmp_path: Path) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("peak RSS is read from /proc (Linux)")
    path = tmp_path / "big.jsonl"
    path.write_bytes(KINDS.read_bytes() * 30_000)  # 95 MB
    size_mb = path.stat().st_size >> 20

    def peak_mb(*args: str) -> int:
        result = subprocess.run([sys.executable, "-c", PEAK_MEMORY, *args], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr
        return int(result.stdout)

    full_load = peak_mb("load", str(path))
    assert full_load > size_mb  # what holding the whole file takes: the bound below must be well under it
    for command in (["head", str(path), "-n", "1"], ["tail", str(path), "-n", "5"], ["summary", str(path)]):
        peak = peak_mb(*command)
        assert peak < size_mb / 2 and peak < full_load / 3, f"{command[0]}: {peak} MB (full load {full_load} MB)"


@pytest.fixture(scope="module")
def book_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from book_recordings import recording

    path = tmp_path_factory.mktemp("books") / "books.jsonl"
    MarketDataInMemory.from_records(recording(seed=9, events=1200)).to_json_file(path)
    return path


def test_books_writes_the_replay_to_parquet(book_file: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as parquet

    target = tmp_path / "books.parquet"
    result = run("books", str(book_file), "--depth", "5", "--every", "1s", "-o", str(target))
    assert result.returncode == 0, result.stderr
    with MarketDataInMemory.from_json_file(book_file) as md:
        expected = md.book_replay(depth=5, every="1s").to_pyarrow()
    written = parquet.read_table(target)
    assert written.num_rows == expected.num_rows > 0 and result.stdout.strip() == f"{target}: {expected.num_rows:,} rows"
    assert written.equals(expected.cast(written.schema))
    assert written.schema.field("bid_price_4").type == expected.schema.field("bid_price_4").type


def test_books_takes_the_replays_options(book_file: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as parquet

    target = tmp_path / "okx.parquet"
    result = run("books", str(book_file), "-o", str(target), "--depth", "2", "--every", "change", "--exchanges", "okx",
                 "--decimals", "float64", "--layout", "lists", "--crossed", "trim", "--reconnect", "reset",
                 "--clock", "received", "--from", "2024-12-20T19:05:30Z", "--until", "2024-12-20T19:06:00Z")
    assert result.returncode == 0, result.stderr
    with MarketDataInMemory.from_json_file(book_file) as md:
        expected = md.book_replay(2, "change", exchanges="okx", decimals="float64", layout="lists", crossed="trim",
                                  reconnect="reset", clock="received", emit_from="2024-12-20T19:05:30Z",
                                  emit_until="2024-12-20T19:06:00Z").to_pyarrow()
    written = parquet.read_table(target)
    assert written.num_rows == expected.num_rows > 0
    assert written["ask_price"].to_pylist() == expected["ask_price"].to_pylist()
    assert set(written["exchange"].to_pylist()) == {"okx"}


@pytest.mark.parametrize(("arguments", "message", "code"), [
    (["-o", "books.csv"], "books writes one Parquet file: name it with .parquet", 1),
    (["-o", "b.parquet", "--every", "often"], "argument --every: unknown every 'often'", 2),  # argparse's usage error
    (["-o", "b.parquet", "--depth", "-3"], "argument --depth: must be at least 0, not -3", 2),
])
def test_books_refuses_what_it_cannot_do_with_a_clear_message(book_file: Path, tmp_path: Path, arguments: list[str],
                                                             message: str, code: int) -> None:
    result = subprocess.run([sys.executable, "-m", "barter_ffi", "books", str(book_file), *arguments],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == code and message in result.stderr, result.stderr


def test_books_streams_a_large_file_within_the_streaming_memory_bound(book_file: Path, tmp_path: Path) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("peak RSS is read from /proc (Linux)")
    path = tmp_path / "big.jsonl"
    path.write_bytes(book_file.read_bytes() * 250)  # about 100 MB, L2 events nearly all
    size_mb = path.stat().st_size >> 20

    def peak_mb(*args: str) -> int:
        # pyarrow, which writing Parquet needs, is imported first: its own size is not the replay's.
        script = "import pyarrow.parquet\n" + PEAK_MEMORY
        result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return int(result.stdout)

    full_load = peak_mb("load", str(path))
    peak = peak_mb("books", str(path), "-o", str(tmp_path / "books.parquet"), "--decimals", "float64")
    assert peak < size_mb / 2 and peak < full_load / 3, f"books: {peak} MB (full load {full_load} MB)"


def _l2_update(sequence: int, bid: str) -> str:
    time = f"2024-12-20T19:05:18.{sequence:09d}Z"
    book = {"sequence": sequence, "time_engine": time,
            "bids": {"side": None, "levels": [{"price": bid, "amount": "0.5"}]},
            "asks": {"side": None, "levels": [{"price": "96963.00", "amount": "0.75"}]}}
    kind = "Snapshot" if sequence == 1 else "Update"
    item = {"time_exchange": time, "time_received": time, "exchange": "bybit_spot", "instrument": 0,
            "kind": {"OrderBook": {kind: book}}}
    return json.dumps({"Item": item}, separators=(",", ":")) + "\n"


def test_books_of_a_later_finer_price_is_one_clear_error_and_no_file(tmp_path: Path) -> None:
    """A streamed replay's decimal128 columns take the first piece's scales: a level with more
    decimal places in a later 8 MiB piece failed with "Compute error: a decimal does not fit its
    Arrow column" and left the rows before it as a Parquet file that read as the whole replay."""
    import pyarrow.parquet as parquet

    path = tmp_path / "finer_later.jsonl"
    path.write_text("".join(_l2_update(sequence, "96962.12345678" if sequence == 59_000 else "96962.50")
                            for sequence in range(1, 60_001)))
    target = tmp_path / "books.parquet"
    result = run("books", str(path), "-o", str(target), "--depth", "2")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "rerun with --decimals text" in result.stderr and "first piece with L2 events" in result.stderr, \
        result.stderr
    assert "the book of bybit_spot instrument 0 after market event 58999 (its event_index)" in result.stderr, "which book, where (sequence 59000)"
    assert not target.exists(), "no part of the rows is left to read as all of them"
    assert run("books", str(path), "-o", str(target), "--depth", "2", "--decimals", "text").returncode == 0
    with MarketDataInMemory.from_json_file(path) as md:
        expected = md.book_replay(depth=2, decimals="text").to_pyarrow()
        exact = md.book_replay(depth=2).to_pyarrow()["bid_price_1"]
        assert exact[58_999].as_py() == decimal.Decimal("96962.12345678"), "the loaded data set's scale is the file's"
    assert parquet.read_table(target)["bid_price_1"].to_pylist() == expected["bid_price_1"].to_pylist()
    again = run("books", str(path), "-o", str(target), "--depth", "2")
    assert again.returncode == 1 and "rerun with --decimals text" in again.stderr, again.stderr
    assert parquet.read_table(target)["bid_price_1"].to_pylist() == expected["bid_price_1"].to_pylist(), \
        "the earlier file is kept whole (it was truncated, then removed)"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["books.parquet", "finer_later.jsonl"]


@pytest.mark.parametrize(("flags", "message"), [
    (["--from", "yesterday"], "argument --from: 'yesterday' is not an RFC 3339 time"),
    (["--until", "2024-12-20T19:05:18"], "argument --until: '2024-12-20T19:05:18' is not an RFC 3339 time"),
    (["--every", "1sec"], "argument --every: unknown every '1sec'"),
    (["--every", "0"], "argument --every: the sampling interval must be at least 1 ns"),
    (["--depth", "9999"], "argument --depth: must be at most 5000"),
    (["--exchanges", "binanse"], "argument --exchanges: unknown exchange 'binanse'"),
    (["--instruments", "-1"], "argument --instruments: must be at least 0"),
    (["--from", "2024-12-20T19:05:19Z", "--until", "2024-12-20T19:05:18Z"], "--from must lie before --until"),
])
def test_books_errors_name_the_flags(book_file: Path, tmp_path: Path, flags: list[str], message: str) -> None:
    """They named the Python arguments: `--from yesterday` said "emit_from: 'yesterday' is not ..."."""
    result = run("books", str(book_file), "-o", str(tmp_path / "books.parquet"), *flags)
    assert result.returncode in (1, 2) and message in result.stderr, result.stderr
    assert "emit_" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("source", ["json", "parquet"])
def test_books_grid_of_too_many_rows_names_the_flags(book_file: Path, tmp_path: Path, source: str) -> None:
    """The library's message named emit_from/emit_until and at=, which the command line does not take
    (streamed from JSON: found on the way; from Parquet: refused up front)."""
    if source == "parquet":
        with MarketDataInMemory.from_json_file(book_file) as md:
            md.to_parquet(tmp_path / "day.parquet")
    target = tmp_path / "books.parquet"
    result = run("books", str(book_file if source == "json" else tmp_path / "day.parquet"), "-o", str(target),
                 "--every", "1000")
    assert result.returncode == 1 and result.stderr.startswith("error: "), result.stderr
    assert "more than the 1000000 a grid may make here" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("choose a longer --every, or narrow the rows with --from/--until"), \
        result.stderr
    assert "emit_" not in result.stderr and "at=" not in result.stderr and not target.exists()


def _interrupted(launcher: list[str], args: list[str], writing: Callable[[], bool]) -> subprocess.CompletedProcess:
    """Runs the CLI and sends it SIGINT (Ctrl-C) once ``writing()`` says it is writing."""
    import time

    process = subprocess.Popen([*launcher, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=sigint_at_default)
    while not writing() and process.poll() is None:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


INSTALLED_COMMAND = [str(Path(sysconfig.get_path("scripts")) / "barter-ffi")]


@pytest.mark.parametrize(("output", "launcher"), [("books.parquet", [sys.executable, "-m", "barter_ffi"]),
                                                  ("converted", INSTALLED_COMMAND),
                                                  ("converted.jsonl.bz2", INSTALLED_COMMAND)],
                         ids=["books", "convert", "convert-json"])
def test_ctrl_c_is_one_line_and_death_by_sigint_and_no_partial_output(tmp_path: Path, output: str,
                                                                      launcher: list[str]) -> None:
    """Ctrl-C printed a traceback and left a truncated books.parquet that read cleanly. Then the
    CLI exited 130 or ended by SIGINT by chance (CPython ends a ``-m`` run by SIGINT when the
    KeyboardInterrupt was raised in string-``exec``ed code, such as a namedtuple's creation):
    now it always ends by SIGINT, as Python does on an uncaught Ctrl-C (a shell shows 130). A
    JSON write went on to its end, then the command said "interrupted" beside a whole file."""
    path = tmp_path / "long.jsonl"
    path.write_text("".join(_l2_update(sequence, "96962.50") for sequence in range(1, 300_001)))
    target = tmp_path / output
    args = ["books", str(path), "-o", str(target), "--depth", "50"] if output == "books.parquet" else \
        ["convert", str(path), str(target)]
    result = _interrupted(launcher, args, lambda: len(list(tmp_path.iterdir())) > 1)  # the output or its hidden name
    assert result.returncode == -signal.SIGINT, result.stderr
    assert result.stderr == "interrupted\n" and result.stdout == ""
    assert [entry.name for entry in tmp_path.iterdir()] == ["long.jsonl"], "no part of the output is left"


@pytest.mark.parametrize("raised_in", ["code", "exec"])
def test_ctrl_c_ends_by_sigint_wherever_the_keyboard_interrupt_was_raised(tmp_path: Path, raised_in: str) -> None:
    """One Ctrl-C exited 130 and the next ended by SIGINT, by where the signal landed: CPython's
    ``python -m`` ends by SIGINT after a KeyboardInterrupt raised in string-``exec``ed code,
    even one caught. A module run with ``-m`` stands in for the CLI's work raising it."""
    raising = "raise KeyboardInterrupt" if raised_in == "code" else "exec('raise KeyboardInterrupt')"
    (tmp_path / "interrupted_cli.py").write_text(
        "import barter_ffi.__main__ as cli\n"
        f"def interrupted(args, out):\n    {raising}\n"
        "cli._run = interrupted\n"
        "cli.entry_point()\n")
    result = subprocess.run([sys.executable, "-m", "interrupted_cli", "head", str(KINDS)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr, result.stdout) == (-signal.SIGINT, "interrupted\n", "")
