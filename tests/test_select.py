"""merge, filter and from_json_files: new data sets selected in Rust."""

from __future__ import annotations

import datetime as dt
import gc
import pickle
import threading
from pathlib import Path

import pytest

from barter_ffi import (
    Candle,
    ExchangeId,
    MarketDataError,
    MarketDataInMemory,
    OrderBookEvent,
    OrderBookSnapshot,
    PublicTrade,
    iter_json_file,
    merge,
)
from barter_ffi._ffi import live_objects
from conftest import FIXTURES

KINDS = FIXTURES / "all_kinds.jsonl"


def test_merge_orders_by_exchange_time_stably() -> None:
    trades = MarketDataInMemory.from_json_file(FIXTURES / "trades.json")
    kinds = MarketDataInMemory.from_json_file(KINDS)
    merged = merge(trades, kinds).events()
    assert [e.time_exchange_ns for e in merged] == sorted(e.time_exchange_ns for e in merged)
    assert sorted(map(repr, merged)) == sorted(map(repr, trades.events() + kinds.events()))
    assert [e.kind.id for e in merged[:3]] == ["4314349047", "4314349048", "4314349047"]


def test_from_json_files_loads_in_parallel_and_merges() -> None:
    paths = [FIXTURES / "trades.json", KINDS, FIXTURES / "candles.jsonl"]
    combined = MarketDataInMemory.from_json_files(paths)
    separately = merge(*(MarketDataInMemory.from_json_file(path) for path in paths))
    assert combined.events() == separately.events()
    assert combined.stats.reconnects == 4
    with pytest.raises(FileNotFoundError):
        MarketDataInMemory.from_json_files([KINDS, FIXTURES / "absent.json"])


def test_from_json_files_releases_the_loaded_files_when_one_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text(KINDS.read_text().replace('"Item"', '"Itme"', 1))
    gc.collect()  # earlier tests' data sets are released now, not during the call below
    baseline = live_objects()
    with pytest.raises(MarketDataError, match=r"broken\.jsonl: line 1"):
        MarketDataInMemory.from_json_files([KINDS, broken, FIXTURES / "trades.json"])
    assert live_objects() == baseline, "the files that loaded were released, not left to leak"


def test_filter_by_kind_names_and_classes() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    assert {type(e.kind).__name__ for e in md.filter(kinds=["l2"])} == {"OrderBookSnapshot", "OrderBookUpdate"}
    assert md.filter(kinds=[OrderBookEvent]).events() == md.filter(kinds=["l2"]).events()
    assert len(md.filter(kinds=[OrderBookSnapshot])) == 1
    assert {type(e.kind) for e in md.filter(kinds=[PublicTrade, "candle"])} == {PublicTrade, Candle}
    with pytest.raises(ValueError, match="unknown kind 'trades'"):
        md.filter(kinds=["trades"])


def test_filter_by_exchange_instrument_and_time() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    events = md.events()
    kept = md.filter(exchanges=[ExchangeId.OKX, "bybit_spot"])
    assert {e.exchange for e in kept} == {ExchangeId.OKX, ExchangeId.BYBIT_SPOT}
    assert kept.stats.reconnects == 1
    assert len(md.filter(exchanges=list(ExchangeId))) == len(events), "every one of the 42 names"
    assert [e.instrument for e in md.filter(instruments=[3, 4])] == [3, 4]
    start, end = events[2].time_exchange_ns, events[5].time_exchange_ns
    assert md.filter(start=start, end=end).events() == events[2:5]
    aware = dt.datetime(2024, 12, 20, 19, 6, tzinfo=dt.timezone.utc)
    assert md.filter(start=aware).events() == [e for e in events if e.time_exchange >= aware]
    with pytest.raises(ValueError, match="naive datetime"):
        md.filter(end=dt.datetime(2024, 12, 20))
    assert md.filter(start=start, end=end).stats.reconnects == 1, "the marker before event 2 is in the window"
    assert md.filter(start=events[3].time_exchange_ns).stats.reconnects == 1, "only the last one now"
    with pytest.raises(ValueError):
        md.filter(exchanges=["nasdaq"])


def test_the_time_window_keeps_start_and_leaves_out_end_and_filters_help_says_so() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    events = md.events()
    at = events[4].time_exchange_ns
    assert all(e.time_exchange_ns >= at for e in md.filter(start=at)) and events[4] in md.filter(start=at)
    assert events[4] not in md.filter(end=at) and all(e.time_exchange_ns < at for e in md.filter(end=at))
    assert len(md.filter(end=at)) + len(md.filter(start=at)) == len(md), "consecutive windows do not overlap"
    help_text = " ".join(MarketDataInMemory.filter.__doc__.split())  # type: ignore[union-attr]
    assert "``start`` is inclusive, ``end`` exclusive" in help_text


def test_progress_is_reported_up_to_the_file_size(tmp_path) -> None:
    path = tmp_path / "large.jsonl"
    path.write_bytes(KINDS.read_bytes() * 3000)  # ~10 MB: parsed in pieces
    calls: list[tuple[int, int]] = []
    md = MarketDataInMemory.from_json_file(path, progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert calls[0] == (0, size) and calls[-1] == (size, size)
    assert len(calls) > 2
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(md) == 11 * 3000


def test_an_exception_in_the_progress_callback_is_raised(tmp_path) -> None:
    def fail(done: int, total: int) -> None:
        raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt, match="stop"):
        MarketDataInMemory.from_json_file(KINDS, progress=fail)


def test_progress_runs_on_the_loading_thread_and_an_exception_cancels_the_load(tmp_path) -> None:
    path = tmp_path / "large.jsonl"
    path.write_bytes(KINDS.read_bytes() * 6000)  # ~20 MB: parsed in pieces on other threads
    gc.collect()
    threads, live_before = set(), live_objects()

    def stop_halfway(done: int, total: int) -> None:
        threads.add(threading.get_ident())
        if done > 0:
            raise ValueError("enough")

    with pytest.raises(ValueError, match="enough"):
        MarketDataInMemory.from_json_file(path, progress=stop_halfway)
    assert threads == {threading.get_ident()}
    assert live_objects() == live_before, "a cancelled load keeps nothing"


def test_a_filter_that_matches_nothing_is_an_empty_data_set() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    instruments = {event.instrument for event in md} | {12345}
    counts = {instrument: len(md.filter(instruments=[instrument])) for instrument in instruments}
    assert sum(counts.values()) == len(md), "a loop over instruments needs no try/except"
    empty = md.filter(instruments=[12345])
    assert len(empty) == 0 and not empty and empty.events() == [] and list(empty) == []
    assert empty.stats == (0, 0, 0), "markers go too: they belong to events"
    assert repr(empty) == "<MarketDataInMemory empty>"
    with pytest.raises(MarketDataError, match="empty"):
        empty.time_first_event()
    assert len(md.filter(kinds=[])) == 0
    assert pickle.loads(pickle.dumps(empty)).stats == (0, 0, 0)
    assert merge(empty, md).events() == md.events()
    assert len(MarketDataInMemory.from_events([])) == 0


def test_merge_sorts_recordings_written_out_of_exchange_order(tmp_path: Path) -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    shuffled = tmp_path / "arrival_order.jsonl"
    lines = [line for line in (KINDS.read_text().splitlines()) if line.strip()]
    shuffled.write_text("\n".join(reversed(lines)))
    merged = merge(MarketDataInMemory.from_json_file(shuffled))
    times = [event.time_exchange_ns for event in merged]
    assert times == sorted(times) and len(merged) == len(md)
    assert sorted(merged.events(), key=lambda e: e.time_exchange_ns) == merged.events()


SELECTIONS = [
    {"kinds": ["public_trade"]},
    {"kinds": [OrderBookSnapshot, Candle]},
    {"kinds": ["l2"], "exchanges": ["bybit_spot"]},
    {"exchanges": [ExchangeId.OKX, "binance_spot"]},
    {"instruments": [0]},
    {"kinds": []},
    {"start": 1734721518181000000},
    {"end": 1734721518190000000, "kinds": ["l1", "public_trade"]},
    {"start": dt.datetime(2024, 12, 20, 19, 5, 18, 180123, tzinfo=dt.timezone.utc), "end": 1734721562123456789},
]


@pytest.mark.parametrize("name", ["all_kinds.jsonl", "all_kinds_results.json", "trades.json", "candles.jsonl"])
@pytest.mark.parametrize("selection", SELECTIONS, ids=repr)
def test_loading_a_selection_equals_loading_then_filtering(name: str, selection: dict) -> None:
    path = FIXTURES / name
    expected = MarketDataInMemory.from_json_file(path).filter(**selection)
    for loaded in (
        MarketDataInMemory.from_json_file(path, **selection),
        MarketDataInMemory.from_json_bytes(path.read_bytes(), **selection),
        MarketDataInMemory.from_json_files([path], **selection),
    ):
        assert list(loaded.items()) == list(expected.items())
        assert loaded.stats == expected.stats


def test_a_selective_load_never_builds_what_it_leaves_out() -> None:
    """What barter would refuse inside a left-out event goes unseen; the same error in a kept one
    is barter's error, with its line."""
    good = KINDS.read_text().splitlines()
    broken_candle = next(line for line in good if '"Candle"' in line).replace('"trade_count":', '"trade_count":-')
    text = "\n".join([*good, broken_candle])
    with pytest.raises(MarketDataError, match=f"line {len(good) + 1}"):
        MarketDataInMemory.from_json_bytes(text)
    trades = MarketDataInMemory.from_json_bytes(text, kinds=["public_trade"])
    assert trades.events() == MarketDataInMemory.from_json_file(KINDS, kinds=["public_trade"]).events()
    with pytest.raises(MarketDataError, match=f"line {len(good) + 1}"):
        MarketDataInMemory.from_json_bytes(text, kinds=["candle"])
    with pytest.raises(ValueError, match="unknown kind 'trades'"):
        MarketDataInMemory.from_json_file(KINDS, kinds=["trades"])


RESULTS = FIXTURES / "all_kinds_results.json"
ERR_ITEM = '{"Item":{"Err":"SubscriptionsEmpty"}}'
ALL_KINDS = ["public_trade", "l1", "l2", "candle", "liquidation"]


def _result_array(items: list[str]) -> str:
    return "[\n" + ",\n".join(items) + "\n]\n"


TRADE_ITEM = (
    '{"Item":{"Ok":{"time_exchange":"2024-12-20T19:05:18.175195893Z","time_received":"2024-12-20T19:05:18.179371794Z",'
    '"exchange":"binance_spot","instrument":6,"kind":{"Trade":{"id":"1","price":99175.52,"amount":1.5,"side":"Sell"}}}}}'
)


def test_every_load_counts_every_err_item_the_input_held_whatever_it_keeps(tmp_path: Path) -> None:
    """errors_skipped answers "how many Err items did the file hold": a selective load drops
    them as a whole load does, so it counts them too (it used to count 0 with any selection)."""
    text = _result_array([ERR_ITEM, TRADE_ITEM])
    path = tmp_path / "one_err.json"
    path.write_text(text)
    assert MarketDataInMemory.from_json_bytes(text).stats.errors_skipped == 1
    for selection in ({"kinds": ALL_KINDS}, {"kinds": ["public_trade"]}, {"kinds": ["candle"]},
                      {"instruments": [12345]}, {"start": 0}):
        assert MarketDataInMemory.from_json_bytes(text, **selection).stats.errors_skipped == 1, selection
        assert MarketDataInMemory.from_json_file(path, **selection).stats.errors_skipped == 1, selection
        assert MarketDataInMemory.from_json_files([path, path], **selection).stats.errors_skipped == 2, selection
        assert iter_json_file(path, **selection).summary().errors_skipped == 1, selection
    whole = MarketDataInMemory.from_json_file(RESULTS)
    assert whole.stats.errors_skipped == 3
    trades = MarketDataInMemory.from_json_file(RESULTS, kinds=["public_trade"])
    assert trades.stats == whole.filter(kinds=["public_trade"]).stats and trades.stats.errors_skipped == 3


def test_selections_and_merges_count_their_sources_err_items() -> None:
    whole = MarketDataInMemory.from_json_file(RESULTS)
    assert whole.stats.errors_skipped == 3
    assert whole.filter(kinds=["public_trade"]).stats.errors_skipped == 3
    assert whole[1:3].stats.errors_skipped == 3 and whole[::2].stats.errors_skipped == 3
    assert merge(whole, whole).stats.errors_skipped == 6
    assert merge(whole, MarketDataInMemory.from_json_file(KINDS)).stats.errors_skipped == 3
    assert MarketDataInMemory.from_events(whole.events()).stats.errors_skipped == 0
    empty = whole.filter(instruments=[12345])
    assert empty.stats == (0, 0, 3)
    assert pickle.loads(pickle.dumps(empty)).stats == (0, 0, 3), "pickling keeps the count of an empty set too"
    assert pickle.loads(pickle.dumps(whole[1:2])).stats == whole[1:2].stats


def test_a_streams_pieces_count_err_items_after_its_last_event(tmp_path: Path) -> None:
    """More Err items than one array piece holds (32,768 items) after the last event: the last
    piece handed out holds no item then, only their count."""
    path = tmp_path / "errors_at_the_end.json"
    path.write_text(_result_array([TRADE_ITEM] + [ERR_ITEM] * 40_000))
    assert MarketDataInMemory.from_json_file(path).stats.errors_skipped == 40_000
    assert iter_json_file(path).summary().errors_skipped == 40_000
    assert iter_json_file(path, kinds=["public_trade"]).summary().errors_skipped == 40_000
    with iter_json_file(path) as stream:
        pieces = [(len(piece), piece.stats.errors_skipped) for piece in stream.pieces()]
    assert sum(errors for _, errors in pieces) == 40_000 and sum(events for events, _ in pieces) == 1
    assert list(iter_json_file(path)) == MarketDataInMemory.from_json_file(path).events()
