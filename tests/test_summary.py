"""md.summary() and iter_json_file(...).summary(): the library's counts, against a walk in Python."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from barter_ffi import MarketDataError, MarketDataInMemory, Reconnecting, iter_json_file
from barter_ffi.summary import Summary
from conftest import FIXTURES

NAMES = ["all_kinds.jsonl", "all_kinds_results.json", "candles.jsonl", "trades.json"]


def walked(md: MarketDataInMemory) -> tuple[dict, dict]:
    """(kind class, exchange, instrument) -> (events, min, max), and markers by exchange name."""
    groups: dict = {}
    for event in md:
        key = (type(event.kind), event.exchange, event.instrument)
        count, low, high = groups.get(key, (0, event.time_exchange_ns, event.time_exchange_ns))
        groups[key] = (count + 1, min(low, event.time_exchange_ns), max(high, event.time_exchange_ns))
    markers = Counter(item.exchange.value for item in md.items() if isinstance(item, Reconnecting))
    return groups, dict(markers)


def as_walked(summary: Summary) -> tuple[dict, dict]:
    groups = {(group.kind, group.exchange, group.instrument):
              (group.events, group.time_exchange_min_ns, group.time_exchange_max_ns) for group in summary.groups}
    return groups, summary.reconnects_by_exchange


@pytest.mark.parametrize("name", NAMES)
def test_the_librarys_counts_are_a_walk_over_the_events(name: str) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / name)
    summary = md.summary()
    assert as_walked(summary) == walked(md)
    events = md.events()
    assert (summary.market_events, summary.reconnects, summary.errors_skipped) == tuple(md.stats)
    assert summary.time_first_event_ns == md.time_first_event_ns()
    assert summary.time_exchange_min_ns == min(event.time_exchange_ns for event in events)
    assert summary.time_exchange_max_ns == max(event.time_exchange_ns for event in events)
    assert summary.by_kind == dict(sorted(Counter(event.kind.kind_name() for event in events).items()))
    assert summary.by_exchange == dict(sorted(Counter(event.exchange.value for event in events).items()))
    assert summary.by_instrument == dict(sorted(Counter(event.instrument for event in events).items()))


def test_selections_and_empty_data_sets_summarise_too() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    okx = md.filter(exchanges=["okx"])
    assert as_walked(okx.summary()) == walked(okx) and okx.summary().by_exchange == {"okx": len(okx)}
    empty = md.filter(kinds=[])
    summary = empty.summary()
    assert (summary.market_events, summary.groups, summary.time_first_event_ns) == (0, (), None)
    assert summary.time_exchange_min_ns is None and summary.by_kind == {}


def test_summary_claims_nothing_as_stats_does() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    clone = md.clone()
    seen: list = []
    worker = threading.Thread(target=lambda: seen.append(clone.summary()))
    worker.start()
    worker.join()
    assert seen == [md.summary()]
    assert clone.events() == md.events()  # still unclaimed by the worker: this thread may use it


def test_a_stream_summarises_the_whole_file_piece_by_piece(tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl"
    path.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() * 4_000)  # two pieces and more
    whole = MarketDataInMemory.from_json_file(path)
    with iter_json_file(path) as stream:
        pieces = sum(1 for _ in stream.pieces())
    assert pieces >= 2
    assert iter_json_file(path).summary() == whole.summary()
    trades = iter_json_file(path, kinds=["public_trade"]).summary()
    assert trades == MarketDataInMemory.from_json_file(path, kinds=["public_trade"]).summary()
    array = tmp_path / "large.json"  # Err items in every piece: each piece counts its own
    array.write_text(json.dumps(json.loads((FIXTURES / "all_kinds_results.json").read_text()) * 4_000))
    whole_array = MarketDataInMemory.from_json_file(array).summary()
    assert whole_array.errors_skipped == 12_000 and iter_json_file(array).summary() == whole_array


def test_a_stream_summary_raises_the_whole_loads_error(tmp_path: Path) -> None:
    text = (FIXTURES / "all_kinds.jsonl").read_bytes() * 4_000
    late = text.rindex(b"\n", 0, len(text) * 3 // 4) + 1
    cases = {"late.jsonl": text[:late] + b'{"Item":oops}\n' + text[late:],
             "markers_only.jsonl": b'{"Reconnecting":"okx"}\n' * 3}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(MarketDataError) as whole:
            MarketDataInMemory.from_json_file(path)
        with pytest.raises(MarketDataError) as streamed:
            iter_json_file(path).summary()
        assert str(streamed.value) == str(whole.value), name


def test_consecutive_summaries_add_up() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    for cut in range(len(md) + 1):
        assert md[:cut].summary().followed_by(md[cut:].summary()) == md.summary(), cut
