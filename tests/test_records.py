"""from_records / to_records: barter-shaped dicts in both envelopes, checked by barter."""

from __future__ import annotations

import json

import pytest

from barter_ffi import MarketDataError, MarketDataInMemory
from conftest import ALL_FIXTURES, FIXTURES

TRADE = {
    "time_exchange": "2024-12-20T19:05:18.175Z",
    "time_received": "2024-12-20T19:05:18.319581890Z",
    "exchange": "binance_spot",
    "instrument": 0,
    "kind": {"Trade": {"id": "1", "price": 96962.51, "amount": 0.5, "side": "Buy"}},
}


def file_records(name: str) -> list:
    text = (FIXTURES / name).read_text()
    return json.loads(text) if name.endswith(".json") else [json.loads(line) for line in text.splitlines() if line]


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_records_load_as_their_file_does(name: str) -> None:
    from_file = MarketDataInMemory.from_json_file(FIXTURES / name)
    from_records = MarketDataInMemory.from_records(file_records(name))
    assert from_records.events() == from_file.events()
    assert from_records.stats == from_file.stats
    assert from_records.debug_json_lines() == from_file.debug_json_lines()


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_to_records_round_trips(name: str) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / name)
    records = md.to_records()
    assert all(isinstance(record, dict) for record in records)
    again = MarketDataInMemory.from_records(records)
    assert again.events() == md.events()
    assert again.debug_json_lines() == md.debug_json_lines(), "reconnect markers in their places too"


def test_to_records_is_barters_serde_output() -> None:
    md = MarketDataInMemory.from_records([{"Item": TRADE}, {"Reconnecting": "okx"}])
    assert md.to_records() == [
        {"Item": {**TRADE, "time_exchange": "2024-12-20T19:05:18.175Z"}},
        {"Reconnecting": "okx"},
    ]


def test_both_envelopes_and_markers() -> None:
    lines = MarketDataInMemory.from_records([{"Reconnecting": "okx"}, {"Item": TRADE}])
    results = MarketDataInMemory.from_records(
        [{"Reconnecting": "okx"}, {"Item": {"Ok": TRADE}}, {"Item": {"Err": "SubscriptionsEmpty"}}]
    )
    assert lines.events() == results.events()
    assert lines.stats.reconnects == results.stats.reconnects == 1
    assert results.stats.errors_skipped == 1


def test_records_may_be_any_iterable() -> None:
    md = MarketDataInMemory.from_records({"Item": TRADE} for _ in range(3))
    assert len(md) == 3


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([{"Item": TRADE}, {"Item": {**TRADE, "exchange": "nasdaq"}}], r"^record 1: .*unknown variant `nasdaq`"),
        ([{"Item": TRADE}, {"Item": {k: v for k, v in TRADE.items() if k != "instrument"}}],
         r"^record 1: .*missing field `instrument`"),
        ([{"Item": TRADE}, {"Item": TRADE}, {"Item": {**TRADE, "time_received": "yesterday"}}],
         r"^record 2: .*time"),
        # The wrong envelope: a result among JSON Lines items, an item among results, a bare event.
        ([{"Item": TRADE}, {"Item": {"Ok": TRADE}}], r"^record 1: .*MarketStreamResult"),
        ([{"Item": {"Ok": TRADE}}, {"Item": TRADE}], r"^record 1: .*"),
        ([TRADE], r"^record 0: .*bare MarketEvent"),
    ],
)
def test_errors_name_the_record_and_the_field(records: list, expected: str) -> None:
    with pytest.raises(MarketDataError, match=expected):
        MarketDataInMemory.from_records(records)


def test_records_that_are_not_dicts_or_not_json_are_type_errors() -> None:
    with pytest.raises(TypeError, match="record 1: expected a dict"):
        MarketDataInMemory.from_records([{"Item": TRADE}, ["Item", TRADE]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="record 0: not JSON"):
        MarketDataInMemory.from_records([{"Item": {**TRADE, "instrument": object()}}])


def test_one_dict_is_a_type_error_saying_to_pass_a_list() -> None:
    """Iterating a dict gives its keys: from_records(record) said "record 0: expected a dict, not str"."""
    for record in ({"Item": TRADE}, {"Reconnecting": "okx"}):
        with pytest.raises(TypeError, match=r"^records takes an iterable of dicts .*not one dict: .*pass \[record\]$"):
            MarketDataInMemory.from_records(record)  # type: ignore[arg-type]
    assert len(MarketDataInMemory.from_records([{"Item": TRADE}])) == 1
    for not_records in ("records.jsonl", b"{}", 5):
        with pytest.raises(TypeError, match=r"^records takes an iterable of dicts .*, not (str|bytes|int)$"):
            MarketDataInMemory.from_records(not_records)  # type: ignore[arg-type]


def test_no_records_are_an_empty_data_set_as_no_events_are() -> None:
    """``from_records(md.to_records())`` holds what ``md`` holds, an empty ``md`` too: no record
    is an empty data set, as ``from_events([])`` is, not an error about files."""
    empty = MarketDataInMemory.from_events([])
    assert empty.to_records() == []
    for records in ([], iter(()), empty.to_records()):
        assert MarketDataInMemory.from_records(records).stats == (0, 0, 0)
    results = MarketDataInMemory.from_records([{"Item": {"Err": {"Socket": "gone"}}}, {"Reconnecting": "okx"}])
    assert results.stats == (0, 1, 1), "Err items are counted, as a file's are"


def _key_order(value: object) -> object:
    """The keys of every object, in order, nested as the value is."""
    if isinstance(value, dict):
        return [(key, _key_order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_key_order(item) for item in value]
    return None


def _without_book_sides(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_book_sides(item) for key, item in value.items()
                if not (key == "side" and item is None and "levels" in value)}
    if isinstance(value, list):
        return [_without_book_sides(item) for item in value]
    return value


def test_records_and_json_files_keep_barters_field_order(tmp_path) -> None:
    """Keys come in the order barter's serde writes them, order books too (they went through a
    sorted map: ``exchange`` before ``time_exchange``, ``asks`` before ``bids``); the
    ``"side": null`` barter's reader needs comes first, where ``OrderBookSide`` declares it."""
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    barters = [json.loads(line) for line in md.debug_json_lines().splitlines()]
    md.to_json_file(tmp_path / "out.jsonl")
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    for ours in (md.to_records(), written):
        assert [_key_order(_without_book_sides(record)) for record in ours] == [_key_order(r) for r in barters]
        books = [record["Item"]["kind"]["OrderBook"] for record in ours if "OrderBook" in record.get("Item", {}).get("kind", {})]
        sides = [side for book in books for event in book.values() for side in (event["bids"], event["asks"])]
        assert sides and all(list(side) == ["side", "levels"] for side in sides)
