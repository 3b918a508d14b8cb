"""What Python sees equals what Rust parsed, field by field."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barter_ffi import (
    Candle,
    ExchangeId,
    Liquidation,
    MarketDataInMemory,
    OrderBookL1,
    OrderBookSnapshot,
    OrderBookUpdate,
    PublicTrade,
    Side,
)
from conftest import ALL_FIXTURES, FIXTURES, SHARED_RECORDING, events_from_debug_export, rfc3339_ns


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_events_equal_rusts_parse_field_by_field(name: str) -> None:
    with MarketDataInMemory.from_json_file(FIXTURES / name) as md:
        expected = events_from_debug_export(md.debug_json_lines())
        assert md.events() == expected
        assert list(md) == expected
        assert len(md) == len(expected)


@pytest.mark.skipif(not SHARED_RECORDING.exists(), reason="barter's recording is not beside this checkout")
def test_barters_own_recording() -> None:
    with MarketDataInMemory.from_json_file(SHARED_RECORDING) as md:
        events = md.events()
        assert events == events_from_debug_export(md.debug_json_lines())
        assert md.stats == (21, 3, 0)
        assert {event.instrument for event in events} == {0, 2}
        assert all(isinstance(event.kind, PublicTrade) for event in events)


def test_all_kinds_in_both_shapes() -> None:
    lines = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events()
    results = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds_results.json").events()
    kinds = {PublicTrade, OrderBookL1, OrderBookSnapshot, OrderBookUpdate, Candle, Liquidation}
    assert {type(event.kind) for event in lines} == kinds
    assert {type(event.kind) for event in results} == kinds


def test_first_timestamp_and_counts() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds_results.json")
    assert md.time_first_event() == datetime(2024, 12, 20, 19, 5, 18, 175000, tzinfo=timezone.utc)
    assert md.time_first_event_ns() == rfc3339_ns("2024-12-20T19:05:18.175Z")
    assert md.stats == (6, 2, 3)
    assert md.stats.errors_skipped == 3


def test_events_come_in_file_order() -> None:
    trades = MarketDataInMemory.from_json_file(FIXTURES / "trades.json").events()
    assert [t.kind.id for t in trades] == ["4314349047", "4314349048", "1870251001", "4314349049", "1870251002"]
    candles = MarketDataInMemory.from_json_file(FIXTURES / "candles.jsonl").events()
    assert [(c.instrument, c.kind.close_time.minute) for c in candles] == [(0, 1), (0, 2), (1, 2), (0, 3)]
    assert [c.kind.trade_count for c in candles] == [912, 1034, 2210, 0]


def test_nanoseconds_and_decimal_scale_survive() -> None:
    events = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events()
    assert events[0].time_received_ns == 1734721518319581890
    assert events[0].time_received == datetime(2024, 12, 20, 19, 5, 18, 319581, tzinfo=timezone.utc)
    assert events[9].time_exchange_ns == rfc3339_ns("2024-12-20T19:06:01.000000500Z"), "+02:00 converted"
    assert events[9].kind.time_ns == events[9].time_exchange_ns
    bid = events[2].kind.best_bid
    assert str(bid.price) == "96962.50000000" and bid.price.as_tuple().exponent == -8
    assert str(events[4].kind.best_ask.amount) == "0.000100"
    assert events[4].kind.best_bid.amount == Decimal(3)


def test_aliases_are_normalised_as_barter_does() -> None:
    events = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events()
    assert events[1].exchange is ExchangeId.HTX
    assert events[1].kind.side is Side.SELL
    assert events[10].kind.side is Side.BUY


def test_optional_fields() -> None:
    events = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events()
    assert (events[3].kind.best_bid, events[3].kind.best_ask) == (None, None)
    update = events[6].kind
    assert update.time_engine_ns is None and update.time_engine is None and not update.is_snapshot
    snapshot = events[5].kind
    assert snapshot.is_snapshot and snapshot.time_engine == datetime(2024, 12, 20, 19, 5, 18, 190000, tzinfo=timezone.utc)
    assert [str(level.price) for level in snapshot.bids] == ["96962.50", "96962.00"]


def test_kind_names_match_barter() -> None:
    events = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events()
    assert [e.kind.kind_name() for e in events] == [
        "public_trade", "public_trade", "l1", "l1", "l1", "l2", "l2", "l2", "candle", "liquidation", "public_trade",
    ]


def test_events_compare_by_value_and_read_well() -> None:
    first = MarketDataInMemory.from_json_file(FIXTURES / "trades.json").events()
    second = MarketDataInMemory.from_json_file(FIXTURES / "trades.json").events()
    assert first == second and first[0] is not second[0]
    assert first[0] != first[1]
    assert repr(first[0]) == (
        "MarketEvent(time_exchange=2024-12-20T19:05:18.175000000Z, "
        "time_received=2024-12-20T19:05:18.319581890Z, exchange=binance_spot, instrument=0, "
        "kind=PublicTrade(id='4314349047', price=96962.51, amount=6e-05, side=<Side.BUY: 'Buy'>))"
    )


def test_every_python_exchange_id_is_one_rust_accepts(tmp_path) -> None:
    template = (
        '{"Item":{"time_exchange":"2024-01-01T00:00:00Z","time_received":"2024-01-01T00:00:00Z",'
        '"exchange":"%s","instrument":0,"kind":{"Trade":{"id":"1","price":1.0,"amount":1.0,"side":"Buy"}}}}'
    )
    path = tmp_path / "exchanges.jsonl"
    path.write_text("\n".join(template % exchange.value for exchange in ExchangeId))
    events = MarketDataInMemory.from_json_file(path).events()
    assert [event.exchange for event in events] == list(ExchangeId)
    assert len(ExchangeId) == 42


def test_every_exchange_barter_reads_is_in_exchange_id_and_the_reverse() -> None:
    from barter_ffi._ffi import exchange_names

    library = exchange_names()
    assert [exchange.value for exchange in ExchangeId] == library, "same names, in barter's order"


def test_an_event_python_cannot_read_is_a_market_data_error_naming_it() -> None:
    """What a newer barter-instrument with an exchange unknown to ExchangeId would send."""
    import msgspec

    from barter_ffi import MarketDataError
    from barter_ffi.data import decode_events, encode_events

    events = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events()
    raw = msgspec.msgpack.decode(encode_events(events))
    raw[4][2] = "new_exchange"
    with pytest.raises(MarketDataError, match=r"^event 104: .*new_exchange|^event 104: .*exchange"):
        decode_events(msgspec.msgpack.encode(raw), first_index=100)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
@settings(max_examples=2000)
def test_datetime_properties_are_the_nanoseconds_truncated_to_microseconds(nanoseconds: int) -> None:
    from datetime import timedelta

    from barter_ffi.timestamps import EPOCH, utc_datetime

    expected = EPOCH + timedelta(microseconds=nanoseconds // 1000)
    for _ in range(2):  # computed, then from the cache of seconds
        moment = utc_datetime(nanoseconds)
        assert moment == expected and moment.tzinfo is timezone.utc and moment.utcoffset() == timedelta(0)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
@settings(max_examples=500)
def test_every_datetime_property_reads_its_own_field(nanoseconds: int) -> None:
    from datetime import timedelta

    from barter_ffi import Candle, ExchangeId, Liquidation, MarketEvent, OrderBookL1, OrderBookSnapshot, Side
    from barter_ffi.timestamps import EPOCH

    def at(ns: int) -> datetime:
        return EPOCH + timedelta(microseconds=ns // 1000)

    other = nanoseconds - 10**9 if nanoseconds > 0 else nanoseconds + 10**9  # a property reading the wrong field shows
    kinds = [
        (OrderBookL1(nanoseconds, None, None), "last_update_time"),
        (OrderBookSnapshot(1, nanoseconds, (), ()), "time_engine"),
        (Candle(nanoseconds, 1.0, 1.0, 1.0, 1.0, 1.0, 1), "close_time"),
        (Liquidation(Side.BUY, 1.0, 1.0, nanoseconds), "time"),
    ]
    for kind, name in kinds:
        assert getattr(kind, name) == at(nanoseconds)
        event = MarketEvent(nanoseconds, other, ExchangeId.BINANCE_SPOT, 0, kind)
        assert (event.time_exchange, event.time_received) == (at(nanoseconds), at(other))
    assert OrderBookSnapshot(1, None, (), ()).time_engine is None
