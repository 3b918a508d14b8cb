"""python -m barter_ffi: the summary (the package's main job), --json, head and tail."""

from __future__ import annotations

import json
import subprocess
import sys

from barter_ffi import MarketDataInMemory
from conftest import FIXTURES


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "barter_ffi", *args], capture_output=True, text=True, timeout=60)


def test_summarises_a_file() -> None:
    result = run(str(FIXTURES / "all_kinds_results.json"))
    assert result.returncode == 0, result.stderr
    for line in (
        "market events:        6",
        "reconnects skipped:   2",
        "Err items skipped:    3",
        "time_first_event:     2024-12-20T19:05:18.175000000Z",
        "time_exchange range:  2024-12-20T19:05:18.175000000Z .. 2024-12-20T19:06:01.000000500Z",
        "  l2                       2",
        "  bitmex                   1",
    ):
        assert line in result.stdout, result.stdout


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
    assert run("head", str(FIXTURES / "trades.json"), "-n", "-1").returncode == 1
