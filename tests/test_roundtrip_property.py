"""Property: any valid events of every kind, written as barter JSON in either shape, load back
equal to what was generated, field by field."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barter_ffi import (
    Candle,
    ExchangeId,
    Level,
    Liquidation,
    MarketDataInMemory,
    MarketEvent,
    OrderBookL1,
    OrderBookSnapshot,
    OrderBookUpdate,
    PublicTrade,
    Side,
)

I64 = 2**63 - 1
U64 = 2**64 - 1

nanoseconds = st.integers(-I64, I64)
# barter reads f64 with serde_json's default best-effort precision. It is exact when the digits,
# point left out, are at most 2**53 and at most 22 lie after the point (README, "Numbers", pinned
# by test_floats_read_as_pythons_json_within_the_documented_bounds below); other numbers can land
# a bit away from Python's json, and barter-ffi shows what barter read. Python's repr of these
# floats keeps to the bounds: at most 14 digits, the last at most 22 places after the point.
finite = st.builds(
    lambda mantissa, exponent: float(f"{mantissa}e{exponent}"),
    st.integers(-(10**14 - 1), 10**14 - 1),
    st.integers(-22, 0),
)
# rust_decimal holds 96-bit mantissas with a scale up to 28; its Display keeps every digit.
decimal_text = st.builds(
    lambda mantissa, scale: _decimal_text(mantissa, scale),
    st.integers(-(10**27), 10**27).filter(lambda m: m != 0) | st.just(0),
    st.integers(0, 28),
)


def _decimal_text(mantissa: int, scale: int) -> str:
    sign, digits = ("-" if mantissa < 0 else ""), str(abs(mantissa)).rjust(scale + 1, "0")
    if mantissa == 0:
        sign = ""
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}" if scale else f"{sign}{digits}"


levels = st.builds(Level, decimal_text, decimal_text)
sides = st.sampled_from(Side)
kinds = st.one_of(
    st.builds(PublicTrade, st.text(), finite, finite, sides),
    st.builds(OrderBookL1, nanoseconds, st.none() | levels, st.none() | levels),
    st.builds(OrderBookSnapshot, st.integers(0, U64), st.none() | nanoseconds, st.lists(levels, max_size=4), st.lists(levels, max_size=4)),
    st.builds(OrderBookUpdate, st.integers(0, U64), st.none() | nanoseconds, st.lists(levels, max_size=4), st.lists(levels, max_size=4)),
    st.builds(Candle, nanoseconds, finite, finite, finite, finite, finite, st.integers(0, U64)),
    st.builds(Liquidation, sides, finite, finite, nanoseconds),
)
events = st.builds(MarketEvent, nanoseconds, nanoseconds, st.sampled_from(ExchangeId), st.integers(0, U64), kinds)


def rfc3339(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    when = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


def level_json(level: Level | None) -> dict | None:
    return None if level is None else {"price": level.price_text, "amount": level.amount_text}


def kind_json(kind) -> dict:
    if isinstance(kind, PublicTrade):
        return {"Trade": {"id": kind.id, "price": kind.price, "amount": kind.amount, "side": kind.side.value}}
    if isinstance(kind, OrderBookL1):
        return {"OrderBookL1": {"last_update_time": rfc3339(kind.last_update_time_ns), "best_bid": level_json(kind.best_bid), "best_ask": level_json(kind.best_ask)}}
    if isinstance(kind, (OrderBookSnapshot, OrderBookUpdate)):
        book = {
            "sequence": kind.sequence,
            "time_engine": None if kind.time_engine_ns is None else rfc3339(kind.time_engine_ns),
            "bids": {"side": None, "levels": [level_json(level) for level in kind.bids]},
            "asks": {"side": None, "levels": [level_json(level) for level in kind.asks]},
        }
        return {"OrderBook": {"Snapshot" if kind.is_snapshot else "Update": book}}
    if isinstance(kind, Candle):
        return {"Candle": {"close_time": rfc3339(kind.close_time_ns), "open": kind.open, "high": kind.high, "low": kind.low, "close": kind.close, "volume": kind.volume, "trade_count": kind.trade_count}}
    return {"Liquidation": {"side": kind.side.value, "price": kind.price, "quantity": kind.quantity, "time": rfc3339(kind.time_ns)}}


def event_json(event: MarketEvent) -> dict:
    return {
        "time_exchange": rfc3339(event.time_exchange_ns),
        "time_received": rfc3339(event.time_received_ns),
        "exchange": event.exchange.value,
        "instrument": event.instrument,
        "kind": kind_json(event.kind),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, min_size=1, max_size=12), st.lists(st.booleans(), max_size=12))
def test_generated_events_load_back_equal_in_both_shapes(generated: list, reconnect_after: list) -> None:
    lines, items = [], []
    for index, event in enumerate(generated):
        lines.append(json.dumps({"Item": event_json(event)}))
        items.append({"Item": {"Ok": event_json(event)}})
        if index < len(reconnect_after) and reconnect_after[index]:
            lines.append(json.dumps({"Reconnecting": event.exchange.value}))
            items.append({"Item": {"Err": {"Socket": "dropped"}}})
    for text in ("\n".join(lines), json.dumps(items, indent=1)):
        md = MarketDataInMemory.from_json_bytes(text)
        assert md.events() == generated
        assert md.time_first_event_ns() == generated[0].time_exchange_ns


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, max_size=12), st.lists(st.integers(0, 12), max_size=4))
def test_generated_events_survive_arrow_tables_exactly(generated: list, marker_positions: list) -> None:
    from barter_ffi import Reconnecting

    items: list = list(generated)
    for position in sorted(marker_positions, reverse=True):
        items.insert(min(position, len(items)), Reconnecting(ExchangeId.OKX))
    md = MarketDataInMemory.from_events(items)
    back = MarketDataInMemory.from_arrow(md.tables(decimals="text"))
    assert list(back.items()) == list(md.items())


_TRADE_LINE = ('{"Item":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z",'
               '"exchange":"okx","instrument":0,"kind":{"Trade":{"id":"1","price":%s,"amount":1.0,"side":"Buy"}}}}')


def _prices_read(texts: list) -> list:
    return [event.kind.price for event in MarketDataInMemory.from_json_bytes("\n".join(_TRADE_LINE % text for text in texts))]


def test_floats_read_as_pythons_json_within_the_documented_bounds() -> None:
    """README, "Numbers": digits (point left out) at most 2**53, at most 22 after the point,
    whether written plainly or with an exponent; beyond that, barter's reading, one bit off."""
    import random

    rng = random.Random(20_000)
    texts = []
    for _ in range(20_000):
        digits, places = rng.randint(1, 2**53), rng.randint(0, 22)
        padded = str(digits).rjust(places + 1, "0")
        plain = f"{padded[:-places]}.{padded[-places:]}" if places else padded
        mantissa = str(digits)
        texts.append(rng.choice([plain, f"{digits}e-{places}",
                                 f"{mantissa[0]}.{mantissa[1:] or '0'}e{len(mantissa) - 1 - places}"]))
    assert _prices_read(texts) == [float(text) for text in texts]
    beyond = ["4.927130712e-14", "0.00000000000004927130712"]
    assert _prices_read(beyond) == [4.9271307120000006e-14] * 2 != [float(text) for text in beyond]
