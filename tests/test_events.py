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
        "MarketEvent(time_exchange_ns='2024-12-20T19:05:18.175000000Z', "
        "time_received_ns='2024-12-20T19:05:18.319581890Z', exchange='binance_spot', instrument=0, "
        "kind=PublicTrade(id='4314349047', price=96962.51, amount=6e-05, side='Buy'))"
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


# Events built by hand: the constructor takes what the repr shows, and checks it where it is passed.


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_a_repr_is_the_constructor_call_that_builds_the_same_event(name: str) -> None:
    import barter_ffi

    with MarketDataInMemory.from_json_file(FIXTURES / name) as md:
        items = list(md.items())
    for item in items:
        rebuilt = eval(repr(item), vars(barter_ffi))  # noqa: S307 - our own reprs
        assert rebuilt == item and type(rebuilt) is type(item)
        assert repr(rebuilt) == repr(item)


def test_time_fields_take_any_time_converted_exactly() -> None:
    numpy = pytest.importorskip("numpy")
    pandas = pytest.importorskip("pandas")
    from barter_ffi import Reconnecting

    exact = 1_734_721_518_175_000_500
    trade = PublicTrade("1", 96962.5, 1, "Buy")
    expected = MarketEvent(exact, exact - 500, ExchangeId.OKX, 0, trade)
    assert expected.time_exchange_ns == exact and type(expected.time_exchange_ns) is int
    for moment in (
        numpy.int64(exact),  # a pandas column of nanoseconds holds these
        numpy.uint64(exact),
        pandas.Series([exact]).iloc[0],
        pandas.Timestamp(exact, tz="UTC"),
        pandas.Timestamp(exact, tz="UTC").tz_convert("Asia/Tokyo"),
        numpy.datetime64(exact, "ns"),
        "2024-12-20T19:05:18.175000500Z",
        "2024-12-21T04:05:18.1750005+09:00",
    ):
        built = MarketEvent(time_exchange_ns=moment, time_received_ns=datetime(2024, 12, 20, 19, 5, 18, 175000,
                            tzinfo=timezone.utc), exchange="okx", instrument=0, kind=trade)
        assert built == expected, moment
        assert type(built.time_exchange_ns) is int and built.exchange is ExchangeId.OKX
    assert trade.price == 96962.5 and trade.amount == 1.0 and type(trade.amount) is float and trade.side is Side.BUY
    assert OrderBookL1("2024-12-20T19:05:18Z", None, None).last_update_time_ns == 1_734_721_518_000_000_000
    assert OrderBookSnapshot(1, None, [], []).time_engine_ns is None
    assert Level(Decimal("96962.50"), 2) == Level("96962.50", "2")
    assert Level(Decimal("1E-7"), "0.5").price_text == "0.0000001", "a Decimal's text never has an exponent"
    assert Reconnecting("okx") == Reconnecting(ExchangeId.OKX)
    for not_a_time in (numpy.timedelta64(exact, "ns"), numpy.bool_(True), numpy.float64(exact)):
        with pytest.raises(TypeError, match=f"MarketEvent.time_exchange_ns must be {TIME_TYPES}"):
            MarketEvent(not_a_time, exact, "okx", 0, trade)


def test_selections_take_numpy_integer_times() -> None:
    numpy = pytest.importorskip("numpy")
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    start, end = md[2].time_exchange_ns, md[5].time_exchange_ns
    expected = md.filter(start=start, end=end).events()
    assert md.filter(start=numpy.int64(start), end=numpy.uint64(end)).events() == expected
    assert MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl", start=numpy.int64(start),
                                             end=numpy.int64(end)).events() == expected
    with pytest.raises(TypeError, match="start must be int nanoseconds"):
        md.filter(start=numpy.timedelta64(start, "ns"))  # type: ignore[arg-type]


def test_an_event_with_a_datetime_passed_by_position_loads_and_prints() -> None:
    """The issue's case: a datetime was stored as is, then repr() and from_events failed."""
    when = datetime(2024, 12, 20, 19, 5, 18, 175000, tzinfo=timezone.utc)
    event = MarketEvent(when, when, "binance_spot", 0, PublicTrade("1", 1.5, 2.0, Side.BUY))
    assert "time_exchange_ns='2024-12-20T19:05:18.175000000Z'" in repr(event)
    assert MarketDataInMemory.from_events([event]).events() == [event]


TIME_TYPES = (r"int nanoseconds \(numpy's integers too\), a tz-aware datetime or pandas.Timestamp, a numpy.datetime64, "
              "or RFC 3339 text")


def _wrong_constructions() -> list:
    trade = PublicTrade("1", 1.5, 2.0, Side.BUY)
    return [
        (lambda: MarketEvent(datetime(2024, 12, 20).date(), 0, "okx", 0, trade), TypeError,
         f"MarketEvent.time_exchange_ns must be {TIME_TYPES}, not date"),
        (lambda: MarketEvent(0, 1.7e18, "okx", 0, trade), TypeError, "MarketEvent.time_received_ns must be int nanosec"),
        (lambda: MarketEvent(time_exchange=0, time_received_ns=0, exchange="okx", instrument=0, kind=trade), TypeError,
         r"MarketEvent has no field 'time_exchange': did you mean 'time_exchange_ns'\? \(its fields: time_exchange_ns, "
         r"time_received_ns, exchange, instrument, kind\)"),
        (lambda: MarketEvent(datetime(2024, 12, 20), 0, "okx", 0, trade), ValueError,
         "MarketEvent.time_exchange_ns is a naive datetime"),
        (lambda: MarketEvent("2024-12-20", 0, "okx", 0, trade), ValueError,
         "MarketEvent.time_exchange_ns: '2024-12-20' is not an RFC 3339 time with its UTC offset"),
        (lambda: MarketEvent(0, 0, 5, 0, trade), TypeError,
         r"MarketEvent.exchange must be ExchangeId or its value \(list\(ExchangeId\)\), not int"),
        (lambda: MarketEvent(0, 0, "Binance", 0, trade), ValueError, "unknown exchange 'Binance': did you mean"),
        (lambda: MarketEvent(0, 0, "okx", -1, trade), ValueError, r"MarketEvent.instrument: -1 is not from 0 to 2\*\*64 - 1"),
        (lambda: MarketEvent(0, 0, "okx", 1.0, trade), TypeError, "MarketEvent.instrument takes an int, not float"),
        (lambda: MarketEvent(0, 0, "okx", 0, {"Trade": {}}), TypeError,
         "MarketEvent.kind must be PublicTrade, OrderBookL1, OrderBookSnapshot, OrderBookUpdate, Candle or Liquidation, "
         "not dict"),
        (lambda: PublicTrade(1, 1.5, 2.0, "Buy"), TypeError, "PublicTrade.id must be a str, not int"),
        (lambda: PublicTrade("1", "1.5", 2.0, "Buy"), TypeError, r"PublicTrade.price must be a float \(or an int\), not str"),
        (lambda: PublicTrade("1", 1.5, Decimal(2), "Buy"), TypeError, "PublicTrade.amount must be a float"),
        (lambda: PublicTrade("1", 1.5, 2.0, "Bought"), ValueError, r"unknown side 'Bought': use one of 'Buy' or 'Sell'"),
        (lambda: PublicTrade("1", 1.5, 2.0, True), TypeError,
         r"PublicTrade.side must be Side or its value \('Buy', 'Sell'\), not bool"),
        (lambda: OrderBookL1(0, ("1.5", "2"), None), TypeError, "OrderBookL1.best_bid must be Level or None, not tuple"),
        (lambda: OrderBookSnapshot(1, None, "1.5", ()), TypeError, "OrderBookSnapshot.bids must be a sequence"),
        (lambda: OrderBookUpdate(1, None, [], [("1.5", "2")]), TypeError, r"OrderBookUpdate.asks\[0\] must be Level"),
        (lambda: OrderBookSnapshot(-1, None, [], []), ValueError, "OrderBookSnapshot.sequence: -1 is not from 0"),
        (lambda: Candle(0, 1.0, 1.0, 1.0, 1.0, 1.0, -1), ValueError, "Candle.trade_count: -1 is not from 0"),
        (lambda: Liquidation("Sell", 1.0, 1.0, 1.5), TypeError, f"Liquidation.time_ns must be {TIME_TYPES}, not float"),
        (lambda: Level(1.5, "2"), TypeError, r"Level.price_text takes a decimal's text .* not float \(a float has no"),
        (lambda: Level("1,5", "2"), ValueError, r"Level.price_text must be a decimal's text, such as '96962.50', not '1,5'"),
        (lambda: Level("1.5", Decimal("NaN")), ValueError, "Level.amount_text must be a finite decimal"),
    ]


@pytest.mark.parametrize("case", range(len(_wrong_constructions())))
def test_a_wrong_value_fails_where_it_is_passed_naming_the_field(case: int) -> None:
    construct, error, message = _wrong_constructions()[case]
    with pytest.raises(error, match=message):
        construct()


def test_replace_and_pickle_check_as_the_constructor_does() -> None:
    import pickle

    event = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events()[5]
    assert pickle.loads(pickle.dumps(event)) == event
    moved = event.__replace__(instrument=7, time_exchange_ns="2024-12-20T19:05:18Z")  # copy.replace on 3.13
    assert moved.instrument == 7 and moved.time_exchange_ns == 1_734_721_518_000_000_000 and moved.kind == event.kind
    with pytest.raises(ValueError, match="MarketEvent.instrument: -1 is not from 0"):
        event.__replace__(instrument=-1)


def test_the_typed_constructors_name_exactly_the_fields() -> None:
    """Each type's ``__init__`` for type checkers (under TYPE_CHECKING) lists its fields, in order."""
    import ast
    import inspect

    from barter_ffi import data

    stubs: dict = {}
    for node in ast.walk(ast.parse(inspect.getsource(data))):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.If) and ast.unparse(statement.test) == "TYPE_CHECKING":
                    init = statement.body[0]
                    if isinstance(init, ast.Assign):  # another type's: ``__init__ = OrderBookEvent.__init__``
                        assert ast.unparse(init.targets[0]) == "__init__"
                        stubs[node.name] = ast.unparse(init.value).removesuffix(".__init__")
                    else:
                        assert isinstance(init, ast.FunctionDef) and init.name == "__init__"
                        stubs[node.name] = tuple(argument.arg for argument in init.args.args[1:])
    built_by_hand = ["Level", "PublicTrade", "OrderBookL1", "OrderBookEvent", "OrderBookSnapshot", "OrderBookUpdate",
                     "Candle", "Liquidation", "MarketEvent", "Reconnecting"]
    assert sorted(stubs) == sorted(built_by_hand)
    for name, parameters in stubs.items():
        if isinstance(parameters, str):
            parameters = stubs[parameters]
        assert parameters == getattr(data, name).__struct_fields__, name


TYPED_CONSTRUCTION = '''
from datetime import datetime, timezone
from decimal import Decimal
from barter_ffi import Level, MarketEvent, OrderBookSnapshot, PublicTrade

when = datetime(2024, 12, 20, tzinfo=timezone.utc)
MarketEvent(when, "2024-12-20T19:05:18.175Z", "okx", 0, PublicTrade("1", 96962, 1.5, "Buy"))
OrderBookSnapshot(1, None, [Level(Decimal("1.50"), "2")], ())
MarketEvent(1.5, 0, "okx", 0, PublicTrade("1", 1.0, 1.0, "Buy"))  # line 9
Level(1.5, "2")  # line 10
PublicTrade("1", "1.5", 1.0, "Buy")  # line 11
'''


def test_mypy_accepts_exactly_the_constructions_that_run(tmp_path) -> None:
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "typed_construction.py"
    snippet.write_text(TYPED_CONSTRUCTION)
    out, err, _ = api.run([str(snippet), "--no-incremental", "--ignore-missing-imports", "--no-error-summary"])
    flagged = sorted({int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line})
    assert flagged == [9, 10, 11], out + err


def _python_calls(work):  # type: ignore[no-untyped-def]
    """What ``work()`` returns, and the Python functions it called (not C ones), by name."""
    import sys

    called: set = set()

    def profile(frame, event, arg) -> None:  # type: ignore[no-untyped-def]
        if event == "call" and frame.f_code is not work.__code__:
            called.add(getattr(frame.f_code, "co_qualname", frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        result = work()
    finally:
        sys.setprofile(None)
    return result, called


def test_decoding_runs_no_python_code_per_event() -> None:
    """The constructors' checks (and anything else in Python) stay out of decoding: msgspec
    builds every event of a batch without calling back into Python."""
    from barter_ffi.data import decode_events, encode_events

    events = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").events() * 50
    decoded, called = _python_calls(lambda: decode_events(encode_events(events)))
    assert decoded == events
    assert called == {"decode_events"}


def test_unpickling_decodes_the_wire_layout_without_the_checks() -> None:
    """Process pools and Dask unpickle events by the million: each is one bytes object in the
    wire layout, decoded as a batch is, with no check run again."""
    import pickle

    events = [item for name in ALL_FIXTURES for item in MarketDataInMemory.from_json_file(FIXTURES / name).items()]
    blob = pickle.dumps(events)
    pickle.loads(blob)  # each type's decoder is made once, then kept
    unpickled, called = _python_calls(lambda: pickle.loads(blob))
    assert unpickled == events and [type(item) for item in unpickled] == [type(item) for item in events]
    assert called == {"from_wire"}
    kinds_and_levels = [event.kind for event in events if hasattr(event, "kind")] + [Level("1.50", "2")]
    assert pickle.loads(pickle.dumps(kinds_and_levels)) == kinds_and_levels


_decimal_texts = st.builds(
    lambda sign, whole, point, fraction, exponent: f"{sign}{whole}{point}{fraction}{exponent}",
    st.sampled_from(["", "-", "+"]),
    st.from_regex(r"0{0,3}[0-9]{0,30}", fullmatch=True),
    st.sampled_from([".", ""]),
    st.from_regex(r"[0-9]{0,32}", fullmatch=True),
    st.sampled_from([""]) | st.builds(lambda e, n: f"{e}{n}", st.sampled_from(["e", "E", "e+", "e-"]),
                                      st.integers(0, 40)),
).filter(lambda text: any(character.isdigit() for character in text.split("e")[0].split("E")[0]))


@settings(max_examples=300, deadline=None)
@given(_decimal_texts)
def test_a_levels_text_is_what_barter_holds_so_a_built_event_equals_its_round_trip(text: str) -> None:
    """Built by hand, a level keeps the text rust_decimal reads and writes back ("1e3" is
    "1000", "-0" is "0", "+1.5" is "1.5"), so the event equals what from_events gives back; what
    rust_decimal would round is refused where it is passed."""
    try:
        level = Level(text, "1")
    except ValueError as error:
        assert "digits after the point" in str(error) or "more digits than" in str(error), error
        return
    assert Decimal(level.price_text) == Decimal(text), "the same value"
    event = MarketEvent(0, 0, "okx", 0, OrderBookL1(0, level, None))
    assert MarketDataInMemory.from_events([event]).events() == [event], text
    assert Level(level.price_text, "1") == level, "already barter's text: kept as it is"


def test_the_reports_non_canonical_levels() -> None:
    for given, held in (("1e3", "1000"), ("-0", "0"), ("+1.5", "1.5"), ("-0.00", "0.00"), ("1.50e1", "15.0"),
                        (Decimal("1E+3"), "1000"), (Decimal("-0.0"), "0.0"), ("0012.30", "12.30")):
        level = Level(given, given)
        assert (level.price_text, level.amount_text) == (held, held), given
        book = MarketEvent(0, 0, "okx", 0, OrderBookSnapshot(1, None, [level], []))
        assert MarketDataInMemory.from_events([book]).events() == [book], given
    with pytest.raises(ValueError, match=r"Level.price_text: '1e-29' has 29 digits after the point; barter's decimals "
                                         r"\(rust_decimal\) hold 28 at most"):
        Level("1e-29", "1")
