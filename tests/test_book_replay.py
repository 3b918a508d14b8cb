"""md.book_replay against an independent replay written from barter's source (book_reference.py),
on generated recordings (book_recordings.py), as pyarrow, pandas and polars users see it."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow
import pytest

import book_reference
from barter_ffi import MarketDataError, MarketDataInMemory, iter_json_file
from book_recordings import START_NS, recording

DEPTH = 5


@pytest.fixture(scope="module")
def md() -> MarketDataInMemory:
    return MarketDataInMemory.from_records(recording(seed=7, events=3000))


@pytest.fixture(scope="module")
def deep() -> MarketDataInMemory:
    return MarketDataInMemory.from_records(recording(seed=11, events=800, snapshot_levels=1000))


def library_rows(md: MarketDataInMemory, **options: Any) -> list[dict[str, Any]]:
    """The replay's rows with decimals as exact ``Decimal``s (from the text form)."""
    table = md.book_replay(decimals="text", **options).to_pyarrow()
    rows = table.cast(pyarrow.schema([field.with_type(_plain(field.type)) for field in table.schema])).to_pylist()
    for row in rows:
        for name, value in row.items():
            if isinstance(value, str) and name != "exchange":
                row[name] = Decimal(value)
    return rows


def _plain(data_type: pyarrow.DataType) -> pyarrow.DataType:
    """Timestamps as int nanoseconds and dictionaries as their values, to compare as plain data."""
    if pyarrow.types.is_timestamp(data_type):
        return pyarrow.int64()
    if pyarrow.types.is_dictionary(data_type):
        return data_type.value_type
    return data_type


def assert_rows_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(actual) == len(expected)
    for number, (row, reference) in enumerate(zip(actual, expected)):
        microprice, got = reference.pop("microprice"), row.pop("microprice")
        assert set(row) == set(reference)
        assert row == reference, f"row {number}"
        if microprice is None:
            assert got is None, f"row {number}"
        else:
            # rust_decimal rounds the quotient to its last place: at most one unit away.
            exponent = got.as_tuple().exponent
            assert abs(Fraction(got) - microprice) <= Fraction(1, 10 ** -exponent), f"row {number}: {got} vs {microprice}"


@pytest.mark.parametrize("depth", [1, DEPTH, 40])
def test_every_event_row_is_the_reference_book(md: MarketDataInMemory, depth: int) -> None:
    expected = list(book_reference.replay(md.items(), depth=depth))
    assert_rows_match(library_rows(md, depth=depth), expected)
    flags = {name: sum(bool(row[name]) for row in expected) for name in
             ("synced", "after_reconnect", "crossed", "sequence_regressed", "unknown_deletes")}
    assert all(count > 0 for count in flags.values()), f"the recording exercises every flag: {flags}"


def test_snapshots_of_a_thousand_levels_a_side(deep: MarketDataInMemory) -> None:
    expected = list(book_reference.replay(deep.items(), depth=DEPTH))
    assert_rows_match(library_rows(deep, depth=DEPTH), expected)
    assert max(row["bid_levels"] for row in expected) >= 1000


@pytest.mark.parametrize(
    "options",
    [
        {"every": "change"},
        {"every": 250_000_000},
        {"every": 1_000_000_000, "clock": "received"},
        {"reconnect": "reset"},
        {"crossed": "trim"},
        {"reconnect": "reset", "crossed": "trim", "every": "change"},
        {"exchanges": {"okx", "binance_spot"}, "instruments": {0}},
        {"emit_from": START_NS + 20_000_000_000, "emit_until": START_NS + 40_000_000_000},
        {"every": 100_000_000, "emit_from": START_NS + 20_000_000_000, "emit_until": START_NS + 21_000_000_000},
    ],
    ids=lambda options: ",".join(f"{key}={value}" for key, value in options.items()),
)
def test_samples_selections_and_repairs_match_the_reference(md: MarketDataInMemory, options: dict[str, Any]) -> None:
    expected = list(book_reference.replay(md.items(), depth=DEPTH, **options))
    assert expected, "the options leave rows to compare"
    assert_rows_match(library_rows(md, depth=DEPTH, **options), expected)


def test_as_of_rows_at_each_trades_received_time(md: MarketDataInMemory) -> None:
    trades = md.to_pyarrow("trades")["time_received"]
    expected = list(book_reference.replay(md.items(), depth=DEPTH, at=trades.cast(pyarrow.int64()).to_pylist()))
    assert_rows_match(library_rows(md, depth=DEPTH, at=trades), expected)
    assert len(expected) > len(trades)  # a row per book seen so far, per trade


def test_the_forms_hold_the_same_values(md: MarketDataInMemory) -> None:
    text = md.book_replay(depth=3, decimals="text").to_pyarrow()
    exact = md.book_replay(depth=3, decimals="decimal128").to_pyarrow()
    floats = md.book_replay(depth=3, decimals="float64").to_pyarrow()
    lists = md.book_replay(depth=3, decimals="float64", layout="lists").to_pyarrow()
    assert exact.schema.field("bid_price_0").type == pyarrow.decimal128(38, 2)  # the L2 table's price scale
    for name in ("bid_price_0", "ask_amount_2", "mid_price", "microprice", "spread"):
        for words, value, number in zip(text[name].to_pylist(), exact[name].to_pylist(), floats[name].to_pylist()):
            assert (words is None) == (value is None) == (number is None)
            if words is not None:
                assert Decimal(words) == value, name
                assert math.isclose(float(Decimal(words)), number, rel_tol=2**-52), name
    for index, level in enumerate(lists["ask_price"].to_pylist()):
        assert level == [floats[f"ask_price_{position}"][index].as_py() for position in range(3)]
    # The levels' floats are the L2 table's, bit for bit.
    l2 = md.to_pyarrow("l2", decimals="float64")
    assert set(floats["bid_price_0"].drop_null().to_pylist()) <= set(l2["price"].to_pylist())


def test_pandas_and_polars_users_get_typed_columns(md: MarketDataInMemory) -> None:
    polars = pytest.importorskip("polars")
    replay = md.book_replay(depth=2, every="1s", decimals="float64")
    frame = replay.to_pandas()
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert frame["exchange"].dtype == "category" and set(frame["exchange"]) == {"binance_spot", "okx", "bybit_spot"}
    assert frame["bid_price_0"].dtype == "float64" and frame["synced"].dtype == "bool"
    assert (frame["time"].dt.microsecond == 0).all() and frame["time"].is_monotonic_increasing
    spread = frame["ask_price_0"] - frame["bid_price_0"]
    both = frame["bid_price_0"].notna() & frame["ask_price_0"].notna()
    assert (spread[both] == frame["spread"][both]).all()
    by_polars = replay.to_polars()
    assert by_polars.height == len(frame) and by_polars["time"].dtype == polars.Datetime("ns", "UTC")
    assert pyarrow.table(replay).num_rows == len(frame)  # the PyCapsule protocol, read again
    assert b"volume_weighed_mid_price" in pyarrow.schema(replay).field("microprice").metadata[b"description"]


def test_the_replay_outlives_its_data_set() -> None:
    md = MarketDataInMemory.from_records(recording(seed=3, events=200))
    replay = md.book_replay(depth=1)
    rows = replay.to_pyarrow().num_rows
    md.close()
    assert replay.to_pyarrow().num_rows == rows > 0
    assert "BookReplay depth=1 every='event'" in repr(replay)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"depth": -1}, ValueError, "depth must lie between 0 and 5000"),
        ({"depth": 2.5}, TypeError, "depth must be an int"),
        ({"every": "sometimes"}, ValueError, "unknown every 'sometimes': use one of 'event' or 'change', or an interval such as '100ms'"),
        ({"every": "changes"}, ValueError, "unknown every 'changes': did you mean 'change'?"),
        ({"every": 0}, ValueError, "at least 1 ns"),
        ({"every": 1.5}, TypeError, "not float"),
        ({"every": "1s", "at": [START_NS]}, ValueError, "either every= or at="),
        ({"at": 5}, TypeError, "iterable of times"),
        ({"clock": "wall"}, ValueError, "unknown clock 'wall': use one of 'exchange' or 'received'"),
        ({"clock": 1}, TypeError, "clock takes one of 'exchange', 'received' (str), not int"),
        ({"decimals": "float"}, ValueError, "unknown decimals 'float': did you mean 'float64'?"),
        ({"layout": "list"}, ValueError, "unknown layout 'list': did you mean 'lists'?"),
        ({"reconnect": "drop"}, ValueError, "unknown reconnect 'drop': use one of 'keep' or 'reset'"),
        ({"crossed": "fix"}, ValueError, "unknown crossed 'fix': use one of 'keep' or 'trim'"),
        ({"exchanges": ["binance"]}, ValueError, "did you mean"),
        ({"instruments": [-1]}, ValueError, "is not from 0 to 2\\*\\*64 - 1"),
        ({"emit_from": dt.datetime(2024, 1, 1)}, ValueError, "naive datetime"),
        ({"emit_from": START_NS, "emit_until": START_NS}, ValueError, "emit_from must lie before emit_until"),
    ],
)
def test_bad_arguments_are_clear_errors(md: MarketDataInMemory, options: dict[str, Any], error: type,
                                        message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        md.book_replay(**options)


@pytest.mark.parametrize(("every", "nanoseconds"), [
    ("100ms", 100_000_000), ("1s", 10**9), ("5m", 300 * 10**9), ("2min", 120 * 10**9), ("1h", 3600 * 10**9),
    ("250us", 250_000), (7, 7), (dt.timedelta(milliseconds=1500), 1_500_000_000),
])
def test_intervals_are_read_as_written(every: Any, nanoseconds: int) -> None:
    from barter_ffi.book_replay import interval_ns

    assert interval_ns(every) == nanoseconds


def test_a_file_replayed_in_pieces_is_the_whole_file_replayed(tmp_path: Path) -> None:
    md = MarketDataInMemory.from_records(recording(seed=5, events=2500))
    path = tmp_path / "books.jsonl"
    md.to_json_file(path)
    # About 20 MB: three of the stream's 8 MiB pieces, a book's state carried across each cut.
    path.write_bytes(path.read_bytes() * 10)
    whole = MarketDataInMemory.from_json_file(path)
    for options in ({"every": "event"}, {"every": "500ms", "decimals": "float64", "crossed": "trim"}):
        expected = whole.book_replay(depth=3, **options).to_pyarrow()
        with iter_json_file(path) as stream:
            replay = stream.book_replay(depth=3, **options)
            assert replay.to_pyarrow().equals(expected)
            with pytest.raises(ValueError, match="read once"):
                replay.to_pyarrow()
        assert expected.num_rows > 300


def test_a_bad_line_in_a_streamed_file_is_a_market_data_error(tmp_path: Path) -> None:
    md = MarketDataInMemory.from_records(recording(seed=5, events=500))
    path = tmp_path / "bad.jsonl"
    md.to_json_file(path)
    path.write_bytes(path.read_bytes() * 40 + b'{"Item":oops}\n')
    with pytest.raises(MarketDataError) as whole_load:
        MarketDataInMemory.from_json_file(path)
    with iter_json_file(path) as stream:
        replay = stream.book_replay(depth=1)
        with pytest.raises(MarketDataError) as streamed:
            replay.to_pyarrow()
    assert str(whole_load.value) in str(streamed.value)


def test_engine_prices_follow_barters_default_instrument_data(md: MarketDataInMemory) -> None:
    prices = md.engine_prices(decimals="text").to_pyarrow().to_pylist()
    indexed = [(index, event) for index, event in enumerate(md) if event.kind.kind_name() in ("public_trade", "l1")]
    assert [row["event_index"] for row in prices] == [index for index, _ in indexed]
    events = [event for _, event in indexed]
    held: dict[tuple[str, int], dict[str, Any]] = {}
    for row, event in zip(prices, events):
        state = held.setdefault((event.exchange.value, event.instrument), {"trade": None, "l1": None, "l1_time": 0})
        if event.kind.kind_name() == "public_trade":
            taken = state["trade"] is None or state["trade"][1] < event.time_exchange_ns
            if taken:
                state["trade"] = (Decimal(row["last_trade_price"]), event.time_exchange_ns)
                assert float(Decimal(row["last_trade_price"])) == event.kind.price
        else:
            taken = state["l1_time"] < event.time_exchange_ns
            if taken:
                state["l1"], state["l1_time"] = event.kind, event.kind.last_update_time_ns
        assert row["changed"] == taken
        l1 = state["l1"]
        if l1 is not None and l1.best_bid and l1.best_ask:
            bid, ask = l1.best_bid, l1.best_ask
            weight = bid.amount + ask.amount
            expected = (Fraction(bid.price) * Fraction(ask.amount) + Fraction(ask.price) * Fraction(bid.amount)) / Fraction(weight)
            assert abs(Fraction(row["price"]) - expected) < Fraction(1, 10**20)
        elif state["trade"] is not None:
            assert Decimal(row["price"]) == state["trade"][0]
        else:
            assert row["price"] is None
