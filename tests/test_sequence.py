"""MarketDataInMemory as a Sequence: indexing, slices across reconnect markers, search."""

from __future__ import annotations

import collections.abc
import json
from pathlib import Path

import pytest

from barter_ffi import MarketDataError, MarketDataInMemory, PublicTrade
from conftest import FIXTURES

ALL_KINDS = FIXTURES / "all_kinds.jsonl"  # 11 events; markers before event 2 and after the last


def items(md: MarketDataInMemory) -> list:
    """Market events and reconnect markers in order, as barter's serde writes them."""
    return [json.loads(line) for line in md.debug_json_lines().splitlines()]


@pytest.fixture
def md() -> MarketDataInMemory:
    return MarketDataInMemory.from_json_file(ALL_KINDS)


def test_each_index_and_negative_index_is_that_event(md: MarketDataInMemory) -> None:
    events = md.events()
    assert len(events) == 11
    for index, event in enumerate(events):
        assert md[index] == event
        assert md[index - len(events)] == event
    assert md[-1] == events[-1] and md[0] == events[0]


@pytest.mark.parametrize("index", [11, -12, 10**20, -(10**20)])
def test_an_index_out_of_range_is_an_index_error(md: MarketDataInMemory, index: int) -> None:
    with pytest.raises(IndexError, match="out of range"):
        md[index]


def test_counts_in_messages_agree_with_their_nouns(md: MarketDataInMemory, tmp_path: Path) -> None:
    """"1 event", "1 reconnect marker": never "1 events"."""
    with pytest.raises(IndexError, match=r"out of range for 1 event$"):
        md[:1][1]
    with pytest.raises(IndexError, match=r"out of range for 11 events$"):
        md[11]
    one_marker = MarketDataInMemory.from_json_file(FIXTURES / "trades.json").filter(instruments=[12345])
    assert one_marker.stats.reconnects == 1
    with pytest.raises(MarketDataError, match=r"the data set has no market event \(1 reconnect marker\)"):
        one_marker.to_json_file(tmp_path / "none.jsonl")


def test_an_index_must_be_an_integer(md: MarketDataInMemory) -> None:
    with pytest.raises(TypeError):
        md["0"]  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        md[1.0]  # type: ignore[call-overload]


def test_slices_are_data_sets_of_those_events(md: MarketDataInMemory) -> None:
    events = md.events()
    for key in (slice(2, 7), slice(None, 3), slice(-4, None), slice(1, 10, 3), slice(0, 100), slice(-100, 2)):
        part = md[key]
        assert isinstance(part, MarketDataInMemory)
        assert part.events() == events[key], key
        assert len(part) == len(events[key])
        assert part.time_first_event_ns() == events[key][0].time_exchange_ns


def test_slices_keep_the_reconnect_markers_of_their_events_in_place(md: MarketDataInMemory) -> None:
    whole = items(md)
    assert [list(item)[0] for item in whole].count("Reconnecting") == 2
    assert whole[2] == {"Reconnecting": "binance_spot"} and whole[-1] == {"Reconnecting": "okx"}
    # The marker between events 1 and 2 belongs to event 2.
    assert items(md[2:5]) == whole[2:6]
    assert items(md[1:2]) == whole[1:2]
    assert md[2:5].stats.reconnects == 1 and md[1:2].stats.reconnects == 0
    # The marker after the last event goes with the slices that reach the end.
    assert items(md[9:]) == whole[10:]
    assert items(md[:]) == whole
    # Consecutive slices hold exactly what the whole range holds.
    assert items(md[:2]) + items(md[2:7]) + items(md[7:]) == whole


def test_a_step_keeps_the_markers_of_the_skipped_events_too(md: MarketDataInMemory) -> None:
    stepped = items(md[1::2])
    assert stepped[0] == items(md)[1] and stepped[1] == {"Reconnecting": "binance_spot"}
    assert md[1::2].events() == md.events()[1::2]


def test_an_empty_slice_holds_no_marker(md: MarketDataInMemory) -> None:
    """Markers belong to events: a slice without an event holds none, not even ``md[len(md):]``,
    whose markers (after the last event) belong to the last event, in ``md[:len(md)]``."""
    for empty in (md[3:3], md[5:2], md[100:], md[len(md):]):
        assert len(empty) == 0 and empty.events() == [] and empty.stats.reconnects == 0
    assert md[:len(md)].stats == md.stats


def test_a_negative_step_is_refused(md: MarketDataInMemory) -> None:
    with pytest.raises(ValueError, match="reversed"):
        md[::-1]


def test_it_is_a_sequence_with_efficient_reversed_in_index_and_count(md: MarketDataInMemory) -> None:
    events = md.events()
    assert isinstance(md, collections.abc.Sequence)
    assert list(reversed(md)) == events[::-1]
    assert events[4] in md and "not an event" not in md
    assert md.index(events[4]) == 4
    assert md.index(events[4], 2, 5) == 4
    with pytest.raises(ValueError, match="not in the data set"):
        md.index(events[4], 5)
    assert md.count(events[4]) == 1
    doubled = MarketDataInMemory.from_events(events + events)
    assert doubled.count(events[0]) == 2
    assert doubled.index(events[0], 1) == 11
    absent = events[0].__class__(0, 0, events[0].exchange, 0, PublicTrade("x", 1.0, 1.0, events[0].kind.side))
    assert absent not in md and md.count(absent) == 0


def test_reading_across_many_windows(tmp_path) -> None:
    """Ranges longer than one library call: reversed and index cross window edges."""
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    big = MarketDataInMemory.from_events(md.events() * 4000)  # 44,000 events: three windows
    events = big.events()
    assert list(reversed(big)) == events[::-1]
    assert big[40_000:40_005].events() == events[40_000:40_005]
    assert big[-1] == events[-1] and big[16_384] == events[16_384]
    assert big.index(events[5], 30_000) == 30_000 + (5 - 30_000 % 11) % 11
