"""merge, filter and from_json_files: new data sets selected in Rust."""

from __future__ import annotations

import datetime as dt
import gc
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from barter_ffi import (
    Candle,
    ExchangeId,
    Liquidation,
    MarketDataError,
    MarketDataInMemory,
    OrderBookEvent,
    OrderBookSnapshot,
    PublicTrade,
    Reconnecting,
    Side,
    iter_json_file,
    merge,
)
from barter_ffi import data as data_module
from barter_ffi._ffi import live_objects
from barter_ffi.selection import selection_arguments
from conftest import FIXTURES, sigint_at_default

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


INTERRUPTED_FILES = """
import os, signal, sys, threading, time
from barter_ffi import MarketDataInMemory
from barter_ffi._ffi import live_objects

def interrupt_once_the_small_file_is_loaded():
    while live_objects()[0] == 0:
        time.sleep(0.001)
    os.kill(os.getpid(), signal.SIGINT)

threading.Thread(target=interrupt_once_the_small_file_is_loaded, daemon=True).start()
try:
    MarketDataInMemory.from_json_files(sys.argv[1:])
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted", *live_objects())
while any(thread.name.startswith("barter_ffi-load") for thread in threading.enumerate()):
    time.sleep(0.01)  # loads still running, if any, end before the last count
print("after every load", *live_objects())
"""


def test_ctrl_c_during_from_json_files_stops_every_load_and_frees_every_handle(tmp_path: Path) -> None:
    """A small file loads first; Ctrl-C comes while two large ones still load on the pool's
    threads. Nothing any of them made may stay in the library, then or after."""
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_bytes(KINDS.read_bytes())
    large.write_bytes(KINDS.read_bytes() * 20_000)  # about 60 MB: long after the small one
    result = subprocess.run([sys.executable, "-c", INTERRUPTED_FILES, str(small), str(large), str(large)],
                            capture_output=True, text=True, timeout=300, preexec_fn=sigint_at_default)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == ["interrupted 0 0 0", "after every load 0 0 0"], result.stderr[-3000:]


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
    assert len(md.filter(exchanges=ExchangeId)) == len(events), "the enum iterates its members"
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
    assert empty.stats == (0, 2, 0), "the markers stay, as in any filter: an instrument is no marker's axis"
    assert repr(empty) == "<MarketDataInMemory empty, 2 reconnects>"
    with pytest.raises(MarketDataError, match="empty"):
        empty.time_first_event()
    assert len(md.filter(kinds=[])) == 0
    assert pickle.loads(pickle.dumps(empty)).stats == (0, 2, 0)
    assert merge(empty, md).events() == md.events()
    nothing = md.filter(start=md[-1].time_exchange_ns + 1)
    assert nothing.stats == (0, 0, 0), "no marker's event lies in the window"
    assert repr(nothing) == "<MarketDataInMemory empty>"
    assert pickle.loads(pickle.dumps(nothing)).stats == (0, 0, 0)
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
    empty = whole.filter(instruments=[12345])  # no market event; the reconnect markers stay
    assert (empty.stats.market_events, empty.stats.errors_skipped) == (0, 3)
    assert pickle.loads(pickle.dumps(empty)).stats == empty.stats, "pickling keeps the count of an empty set too"
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


# One value where a list belongs: taken as one item by every function with these arguments.

SINGLE_VALUES = [
    ({"kinds": "l1"}, {"kinds": ["l1"]}),
    ({"kinds": OrderBookEvent}, {"kinds": [OrderBookEvent]}),
    ({"exchanges": "okx"}, {"exchanges": ["okx"]}),
    ({"exchanges": ExchangeId.BYBIT_SPOT}, {"exchanges": [ExchangeId.BYBIT_SPOT]}),
    ({"instruments": 0}, {"instruments": [0]}),
]


@pytest.mark.parametrize("single, listed", SINGLE_VALUES, ids=repr)
def test_a_single_value_is_one_item_wherever_a_selection_is_taken(single: dict, listed: dict) -> None:
    whole = MarketDataInMemory.from_json_file(KINDS)
    expected = whole.filter(**listed)
    assert 0 < len(expected) < len(whole), "a selection that tells a single value from its characters"
    for selected in (
        whole.filter(**single),
        MarketDataInMemory.from_json_file(KINDS, **single),
        MarketDataInMemory.from_json_bytes(KINDS.read_bytes(), **single),
        MarketDataInMemory.from_json_files([KINDS], **single),
    ):
        assert list(selected.items()) == list(expected.items())
    assert list(iter_json_file(KINDS, include_reconnects=True, **single)) == list(expected.items())


def test_a_single_value_is_one_item_on_dask() -> None:
    pytest.importorskip("dask.dataframe")
    pytest.importorskip("pandas")
    from barter_ffi.dask import read_events, read_market_data

    expected = MarketDataInMemory.from_json_file(KINDS, kinds=["l1"], exchanges=["okx"], instruments=[0])
    bag = read_events(str(KINDS), kinds="l1", exchanges="okx", instruments=0)
    assert bag.compute(scheduler="sync") == expected.events()
    frame = read_market_data(KINDS, table="l1", exchanges="okx", instruments=0, columns="bid_price")
    assert list(frame.columns) == ["bid_price"]
    computed = frame.compute(scheduler="sync")
    assert list(computed["bid_price"]) == list(expected.to_pandas("l1")["bid_price"])


def test_numpy_integers_are_instrument_indices() -> None:
    numpy = pytest.importorskip("numpy")
    md = MarketDataInMemory.from_json_file(KINDS)
    assert md.filter(instruments=numpy.int64(3)).events() == md.filter(instruments=[3]).events()
    assert md.filter(instruments=numpy.array([3, 4], dtype="uint64")).events() == md.filter(instruments=[3, 4]).events()


@pytest.mark.parametrize("arguments, error, message", [
    ({"kinds": 5}, TypeError, "kinds takes a kind name or event class, or an iterable of them, not int"),
    ({"kinds": [b"l1"]}, TypeError, "kinds takes kind names .str. or event classes, not bytes"),
    ({"kinds": [int]}, ValueError, "kinds: int is not an event kind"),
    ({"exchanges": 5}, TypeError, "exchanges takes an exchange name or ExchangeId, or an iterable of them, not int"),
    ({"exchanges": [None]}, TypeError, "exchanges takes exchange names .str. or ExchangeId, not NoneType"),
    ({"instruments": "0"}, TypeError, r"instruments takes instrument indices \(int\), not str"),
    ({"instruments": 1.0}, TypeError, "instruments takes an instrument index .int., or an iterable of them, not float"),
    ({"instruments": [True]}, TypeError, r"instruments takes instrument indices \(int\), not bool"),
    ({"instruments": -1}, ValueError, "instruments: -1 is not from 0 to 2\\*\\*64 - 1"),
])
def test_a_value_of_the_wrong_type_is_an_error_naming_the_argument(arguments: dict, error: type, message: str) -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    for select in (md.filter, lambda **selection: MarketDataInMemory.from_json_file(KINDS, **selection),
                   lambda **selection: iter_json_file(KINDS, **selection)):
        with pytest.raises(error, match=message):
            select(**arguments)


def test_from_json_files_takes_one_path_or_a_glob_as_dask_does(tmp_path: Path) -> None:
    names = ["trades.json", "all_kinds.jsonl", "candles.jsonl"]
    for index, name in enumerate(names):
        (tmp_path / f"day{index}.json").write_bytes((FIXTURES / name).read_bytes())
    separately = merge(*(MarketDataInMemory.from_json_file(FIXTURES / name) for name in names))
    assert MarketDataInMemory.from_json_files(str(tmp_path / "day*.json")).events() == separately.events()
    assert MarketDataInMemory.from_json_files(tmp_path / "day?.json").events() == separately.events()
    for one in (str(KINDS), KINDS, bytes(KINDS)):
        assert MarketDataInMemory.from_json_files(one).events() == MarketDataInMemory.from_json_file(KINDS).events()
    literal = tmp_path / "day[1].json"  # an existing file is itself, whatever its name looks like
    literal.write_bytes(KINDS.read_bytes())
    assert MarketDataInMemory.from_json_files(str(literal)).events() == MarketDataInMemory.from_json_file(KINDS).events()
    with pytest.raises(FileNotFoundError, match="no file matches") as missing:
        MarketDataInMemory.from_json_files(str(tmp_path / "*.jsonl"))
    assert missing.value.filename == str(tmp_path / "*.jsonl")
    with pytest.raises(IsADirectoryError, match="glob"):
        MarketDataInMemory.from_json_files(tmp_path)
    with pytest.raises(TypeError, match="paths takes a path or glob"):
        MarketDataInMemory.from_json_files(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no path"):
        MarketDataInMemory.from_json_files([])


TYPED_USE = '''
from barter_ffi import ExchangeId, MarketDataInMemory, OrderBookEvent, PublicTrade, iter_json_file, merge

md = MarketDataInMemory.from_json_file("day.jsonl", kinds="l1")
md.filter(kinds=["l1", "public_trade"], exchanges="okx", instruments=0)
md.filter(kinds=PublicTrade, exchanges=[ExchangeId.OKX, "bybit_spot"], instruments=[0, 1])
md.filter(kinds=[OrderBookEvent])
iter_json_file("day.jsonl", kinds="candle")
MarketDataInMemory.from_json_files("recordings/*.jsonl")
MarketDataInMemory.from_json_files(["a.jsonl", "b.jsonl"], kinds="l2")
merge([md, md])
merge(md, md)
md.filter(kinds="trades")  # line 13: not a kind
md.filter(kinds=["l1", "trades"])  # line 14
MarketDataInMemory.from_json_file("day.jsonl", kinds="L1")  # line 15
md.filter(kinds=int)  # line 16
md.filter(instruments="0")  # line 17
merge([md, 1])  # line 18
'''


def test_the_kind_names_for_type_checkers_are_the_kinds_names() -> None:
    from typing import get_args

    from barter_ffi.data import KIND_CLASSES
    from barter_ffi.selection import KindName

    assert set(get_args(KindName)) == {kind.KIND_NAME for kind in KIND_CLASSES}


def test_mypy_accepts_exactly_the_selections_that_run(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "typed_use.py"
    snippet.write_text(TYPED_USE)
    out, err, _ = api.run([str(snippet), "--no-incremental", "--ignore-missing-imports", "--no-error-summary"])
    flagged = sorted({int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line})
    assert flagged == [13, 14, 15, 16, 17, 18], out + err


# merge takes a list, as from_json_files does.


def test_merge_takes_data_sets_or_iterables_of_them() -> None:
    trades = MarketDataInMemory.from_json_file(FIXTURES / "trades.json")
    kinds = MarketDataInMemory.from_json_file(KINDS)
    candles = MarketDataInMemory.from_json_file(FIXTURES / "candles.jsonl")
    expected = merge(trades, kinds, candles).events()
    assert merge([trades, kinds, candles]).events() == expected
    assert merge(data for data in (trades, kinds, candles)).events() == expected
    assert merge(trades, [kinds, candles]).events() == expected, "argument order, then each list's order"
    assert merge([kinds]).events() == merge(kinds).events()
    with pytest.raises(TypeError, match="merge takes MarketDataInMemory objects, or iterables of them: argument 0 item 1 is a str"):
        merge([trades, "okx.jsonl"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="argument 1 is a int"):
        merge(trades, 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        merge([])


# An unknown name: the error names the closest ones.


def test_an_unknown_name_is_an_error_naming_the_closest_ones(tmp_path: Path) -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    cases = [
        (lambda: md.filter(exchanges=["Binance"]), r"unknown exchange 'Binance': did you mean 'binance_futures_coin'.*"
         r"'binance_spot' or 'binance_us'\? \(list\(barter_ffi.ExchangeId\) has all 42\)"),
        (lambda: md.filter(exchanges="OKX"), r"did you mean 'okx'\?"),
        (lambda: ExchangeId("krakn"), r"unknown exchange 'krakn': did you mean 'kraken'\?"),
        (lambda: md.filter(exchanges="nasdaq"), r"unknown exchange 'nasdaq': use one of 'other', .* 'okx' or 'poloniex'$"),
        (lambda: md.filter(kinds="trades"), r"unknown kind 'trades': did you mean 'public_trade'\? Use one of "
         r"'public_trade', 'l1', 'l2', 'candle' or 'liquidation', or an event class such as PublicTrade"),
        (lambda: Side("Buyer"), r"unknown side 'Buyer': did you mean 'Buy' \(or its alias '(buy|BUY)'\)\?"),
        (lambda: md.filter(exchanges="Huobi"), r"unknown exchange 'Huobi': did you mean 'htx' \(or its alias 'huobi'\)\?"),
        (lambda: md.to_arrow("trade"), r"unknown table 'trade': did you mean 'trades'\?"),
        (lambda: md.to_arrow("l1", decimals="float"), r"unknown decimals 'float': did you mean 'float64'\?"),
        (lambda: md.to_json_file(tmp_path / "out.jsonl", compression="zst"),  # type: ignore[arg-type]
         r"unknown compression 'zst': did you mean 'zstd'\?"),
        (lambda: md.to_json_file(tmp_path / "out.jsonl", shape="line"),  # type: ignore[arg-type]
         r"unknown shape 'line': did you mean 'lines'\?"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=message):
            make()


def test_barters_aliases_are_names_wherever_names_are_taken() -> None:
    """barter's serde reads "huobi" as htx and "buy", "BUY", "b" (and the like for sell) as
    sides, so files hold them (all_kinds.jsonl does); every place that takes a name takes them."""
    md = MarketDataInMemory.from_json_file(KINDS)
    assert md.filter(exchanges="huobi").events() == md.filter(exchanges="htx").events() != []
    assert MarketDataInMemory.from_json_file(KINDS, exchanges=["huobi"]).events() == md.filter(exchanges="htx").events()
    assert selection_arguments(exchanges="huobi")["exchanges"] == ["htx"]
    assert ExchangeId("huobi") is ExchangeId.HTX and Reconnecting("huobi").exchange is ExchangeId.HTX
    for alias, side in (("buy", Side.BUY), ("BUY", Side.BUY), ("b", Side.BUY), ("sell", Side.SELL),
                        ("SELL", Side.SELL), ("s", Side.SELL)):
        assert Side(alias) is side and PublicTrade("1", 1.5, 2.0, alias).side is side
        assert Liquidation(alias, 1.0, 1.0, 0).side is side


@pytest.mark.parametrize(("alias", "name"), [*data_module._SIDE_ALIASES.items(), *data_module._EXCHANGE_ALIASES.items()])
def test_each_alias_is_one_barters_serde_reads_as_that_name(alias: str, name: str) -> None:
    """The aliases are written down in Python too: each must be what barter itself reads."""
    trade = {"time_exchange": "2024-12-20T19:05:18.175Z", "time_received": "2024-12-20T19:05:18.175Z",
             "exchange": "okx", "instrument": 0, "kind": {"Trade": {"id": "1", "price": 1.5, "amount": 2.0, "side": "Buy"}}}
    if name in ("Buy", "Sell"):
        trade["kind"]["Trade"]["side"] = alias
        assert MarketDataInMemory.from_records([{"Item": trade}])[0].kind.side.value == name
    else:
        trade["exchange"] = alias
        assert MarketDataInMemory.from_records([{"Item": trade}])[0].exchange.value == name


@pytest.mark.parametrize("not_a_name", ["Huobi", "HTX", "B", "Bought", "sells"])
def test_a_name_barter_refuses_is_refused_here_too(not_a_name: str) -> None:
    with pytest.raises(MarketDataError):
        MarketDataInMemory.from_records([{"Reconnecting": not_a_name}])
    with pytest.raises(ValueError):
        ExchangeId(not_a_name)
    with pytest.raises(ValueError):
        Side(not_a_name)
