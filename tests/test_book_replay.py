"""md.book_replay against an independent replay written from barter's source (book_reference.py),
on generated recordings (book_recordings.py), as pyarrow, pandas and polars users see it."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import book_reference
from barter_ffi import (
    ExchangeId, Level, MarketDataError, MarketDataInMemory, MarketEvent, OrderBookL1, PublicTrade, Side, iter_json_file,
)
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


def test_engine_prices_as_decimal128_keep_a_trade_price_larger_than_every_l1_price() -> None:
    """The price column's decimal128 scale leaves room for the trades' integer digits as well as
    the L1 prices': a last trade at 2.5e10 beside an L1 bid of 1.5 keeps every digit."""
    md = MarketDataInMemory.from_events([
        MarketEvent(1_000, 1_000, ExchangeId.OKX, 0, OrderBookL1(1_000, Level("1.5", "2"), None)),
        MarketEvent(2_000, 2_000, ExchangeId.OKX, 0, PublicTrade("a", 2.5e10, 1.0, Side.BUY)),
    ])
    as_text = md.engine_prices(decimals="text").to_pyarrow().column("price").to_pylist()
    as_decimal128 = md.engine_prices(decimals="decimal128").to_pyarrow().column("price").to_pylist()
    assert as_text == [None, "25000000000"]
    assert as_decimal128 == [None, Decimal(25_000_000_000)]


def _okx_then_binance_stamped_back() -> MarketDataInMemory:
    """The new user's reproduction: okx's update is stored after a binance event stamped later."""
    def book(time: str, exchange: str, kind: str, bid: str) -> dict[str, Any]:
        levels = {"bids": {"side": None, "levels": [{"price": bid, "amount": "1"}]},
                  "asks": {"side": None, "levels": [{"price": "200", "amount": "1"}]}}
        return {"Item": {"time_exchange": time, "time_received": time, "exchange": exchange, "instrument": 0,
                         "kind": {"OrderBook": {kind: {"sequence": 1, "time_engine": None, **levels}}}}}
    return MarketDataInMemory.from_records([
        book("2024-12-20T19:05:01.000Z", "okx", "Snapshot", "100"),
        book("2024-12-20T19:05:01.300Z", "binance_spot", "Snapshot", "50"),
        book("2024-12-20T19:05:01.100Z", "okx", "Update", "101"),
    ])


@pytest.mark.parametrize("sampling", [{"at": ["2024-12-20T19:05:01.200Z"]}, {"every": "100ms"}], ids=["at", "grid"])
def test_a_kept_books_samples_are_cut_by_every_l2_event_whatever_the_selection(sampling: dict[str, Any]) -> None:
    """A sample's cut (the first L2 event stamped later) was looked up among the kept books
    only: okx's row at .200 showed its .100 update (stored after binance's .300 snapshot) with
    exchanges="okx" and not without, and the okx-only grid ended at .100 instead of .300."""
    md = _okx_then_binance_stamped_back()
    full = md.book_replay(depth=1, decimals="text", **sampling).to_pyarrow()
    okx = md.book_replay(depth=1, decimals="text", exchanges="okx", **sampling).to_pyarrow()
    assert okx.to_pylist() == [row for row in full.to_pylist() if row["exchange"] == "okx"]
    at_200 = [row for row in okx.to_pylist() if row["time"].isoformat().endswith("01.200000+00:00")]
    assert [(row["event_index"], row["bid_price_0"]) for row in at_200] == [(0, "100")]
    if "every" in sampling:  # the grid runs to the latest L2 time, binance's .300
        assert okx["time"][-1].as_py().isoformat().endswith("01.300000+00:00")
    expected = list(book_reference.replay(md.items(), depth=1, exchanges={"okx"}, **(
        {"at": [START_NS_OF_REPRO + 200_000_000]} if "at" in sampling else {"every": 100_000_000})))
    assert_rows_match(library_rows(md, depth=1, exchanges="okx", **sampling), expected)


START_NS_OF_REPRO = 1_734_721_501_000_000_000  # 2024-12-20T19:05:01Z


@pytest.fixture(scope="module")
def jittered() -> MarketDataInMemory:
    return MarketDataInMemory.from_records(recording(seed=13, events=1500, jitter_ns=60_000_000))


_MODES = [{"every": "event"}, {"every": "change"}, {"every": 50_000_000}, {"every": 20_000_000, "clock": "received"},
          {"at": [START_NS + step * 37_000_000 for step in range(0, 1500, 7)]},
          {"every": 10_000_000, "emit_from": START_NS + 5 * 10**9, "emit_until": START_NS + 9 * 10**9}]


@settings(max_examples=25, deadline=None)
@given(mode=st.sampled_from(_MODES),
       exchanges=st.one_of(st.none(), st.sets(st.sampled_from(["binance_spot", "okx", "bybit_spot"]), min_size=1)),
       instruments=st.one_of(st.none(), st.sets(st.sampled_from([0, 1, 3]), min_size=1)))
def test_every_selection_is_the_full_replay_filtered_to_its_books(
        jittered: MarketDataInMemory, mode: dict[str, Any], exchanges: Any, instruments: Any) -> None:
    full = jittered.book_replay(depth=3, decimals="text", **mode).to_pyarrow().to_pylist()
    kept = jittered.book_replay(depth=3, decimals="text", exchanges=exchanges, instruments=instruments,
                                **mode).to_pyarrow().to_pylist()
    assert kept == [row for row in full if (exchanges is None or row["exchange"] in exchanges)
                    and (instruments is None or row["instrument"] in instruments)]


def test_the_jittered_recording_has_exchange_times_that_go_back(jittered: MarketDataInMemory) -> None:
    times = [event.time_exchange_ns for event in jittered]
    assert any(later < earlier for earlier, later in zip(times, times[1:]))
    expected = list(book_reference.replay(jittered.items(), depth=3, every=50_000_000, exchanges={"okx"}))
    assert_rows_match(library_rows(jittered, depth=3, every=50_000_000, exchanges="okx"), expected)


@pytest.fixture(scope="module")
def two_piece_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 12 MB of JSON Lines: two of the stream's 8 MiB pieces."""
    md = MarketDataInMemory.from_records(recording(seed=5, events=2500))
    path = tmp_path_factory.mktemp("stream") / "books.jsonl"
    md.to_json_file(path)
    path.write_bytes(path.read_bytes() * 6)
    return path


@pytest.mark.parametrize("read_first", [
    lambda stream: list(itertools.islice(stream, 100)),
    lambda stream: next(stream.pieces()).close(),
    lambda stream: stream.book_replay(depth=1).to_pyarrow(),
], ids=["events", "a_piece", "a_replay"])
def test_a_file_streams_replay_after_a_read_is_an_error_not_part_of_the_rows(two_piece_file: Path,
                                                                             read_first: Any) -> None:
    """After 100 events a replay started at the next 8 MiB piece (event_index from 0, books of
    one level for 57, synced False), under 8 MiB it gave 0 rows, and a second replay gave an
    empty table: all without an error."""
    with iter_json_file(two_piece_file) as stream:
        read_first(stream)
        with pytest.raises(RuntimeError, match="reads a JsonFileStream from the file's start"):
            stream.book_replay(depth=1)


def test_a_file_streams_replay_takes_the_stream(two_piece_file: Path) -> None:
    with iter_json_file(two_piece_file) as stream:
        with pytest.raises(ValueError, match="depth"):
            stream.book_replay(depth=-1)  # a bad argument leaves the stream unread
        rows = stream.book_replay(depth=1).to_pyarrow()
        with pytest.raises(RuntimeError, match="read once"):
            next(iter(stream))
    assert rows.num_rows == MarketDataInMemory.from_json_file(two_piece_file).book_replay(depth=1).to_pyarrow().num_rows


def test_in_c_a_read_stream_is_invalid_argument_for_a_replay_and_a_replayed_stream_for_a_read(
        two_piece_file: Path) -> None:
    from barter_ffi._ffi import ffi, lib

    def opened() -> Any:
        handle = ffi.new("BarterFfiFileStream **")
        error = ffi.new("BarterFfiError *")
        assert lib.barter_ffi_file_stream_open(str(two_piece_file).encode(), ffi.NULL, handle, error) == 0
        return ffi.gc(handle[0], lib.barter_ffi_file_stream_free)

    def replay(stream: Any) -> tuple[int, str]:
        options = ffi.new("BarterFfiBookReplayOptions *")
        options.struct_size, options.depth = ffi.sizeof("BarterFfiBookReplayOptions"), 1
        out, error = ffi.new("struct ArrowArrayStream *"), ffi.new("BarterFfiError *")
        status = lib.barter_ffi_file_stream_book_replay(stream, options, out, error)
        if status == 0:
            out.release(out)
            return status, ""
        message = ffi.string(error.message).decode()
        lib.barter_ffi_error_free(error)
        return status, message

    def next_batch(stream: Any) -> tuple[int, str]:
        buffer, error = ffi.new("BarterFfiBuffer *"), ffi.new("BarterFfiError *")
        status = lib.barter_ffi_file_stream_next_batch(stream, 100, buffer, error)
        if status == 0:
            lib.barter_ffi_buffer_free(buffer)
            return status, ""
        message = ffi.string(error.message).decode()
        lib.barter_ffi_error_free(error)
        return status, message

    read = opened()
    assert next_batch(read)[0] == 0
    status, message = replay(read)
    assert status == lib.BARTER_FFI_STATUS_INVALID_ARGUMENT and "has handed out events or pieces" in message
    replayed = opened()
    assert replay(replayed)[0] == 0
    status, message = replay(replayed)
    assert status == lib.BARTER_FFI_STATUS_INVALID_ARGUMENT and "was taken by a book replay" in message
    status, message = next_batch(replayed)
    assert status == lib.BARTER_FFI_STATUS_INVALID_ARGUMENT and "taken by a book replay" in message


def test_ctrl_c_stops_to_pyarrow_between_batches() -> None:
    """pyarrow.table(replay) read a data set's whole replay before Python's signal handlers ran:
    Ctrl-C came after the end (135 s for depth 200 on a 1.5 M event data set). The handler
    here notes how much memory the process holds when it runs: the replay's table is about
    250 MB, and only its first batches are made before the handler stops it."""
    import signal
    import threading

    if not Path("/proc/self/statm").exists():
        pytest.skip("reads the resident set from /proc")

    def resident_bytes() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

    md = MarketDataInMemory.from_records(recording(seed=5, events=20_000))
    table_bytes = len(md.book_replay(depth=0).to_pyarrow()) * 4 * 200 * 16  # depth 200, decimal128
    assert table_bytes > 200e6
    held_when_handled: list[int] = []

    def handler(_signal: int, _frame: Any) -> None:
        held_when_handled.append(resident_bytes())
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        replay = md.book_replay(depth=200)
        before = resident_bytes()
        threading.Timer(0.05, signal.raise_signal, (signal.SIGINT,)).start()
        with pytest.raises(KeyboardInterrupt):
            replay.to_pyarrow()
    finally:
        signal.signal(signal.SIGINT, previous)
    [held] = held_when_handled
    assert held - before < table_bytes / 3, "interrupted within the first batches, not after the whole table"


def test_a_grid_of_far_more_rows_than_events_is_refused_up_front(md: MarketDataInMemory) -> None:
    """every=1000 (ns) on a 90 s recording asked for hundreds of millions of rows: to_pyarrow
    grew to 18 GB and the OOM killer ended it."""
    span = max(event.time_exchange_ns for event in md) - min(event.time_exchange_ns for event in md)
    with pytest.raises(ValueError, match=r"every 1000 ns makes \d+ moments x 4 books = \d+ rows, more than the "
                                         r"1000000 a grid may make here .* or give the times themselves with at="):
        md.book_replay(every=1000)
    assert span // 1000 * 4 > 10**6 * 10
    # Within the bound: a window, a longer interval, or the times themselves.
    window = md.book_replay(depth=1, every=1000, decimals="float64", emit_from=START_NS + 10**9,
                            emit_until=START_NS + 10**9 + 200_000_000)
    assert window.to_pyarrow().num_rows == 200_000 * 4
    assert md.book_replay(depth=1, every=span // 200_000).to_pyarrow().num_rows <= 10**6


def test_a_streamed_grid_of_far_more_rows_than_events_stops_with_an_error(tmp_path: Path) -> None:
    md = MarketDataInMemory.from_records(recording(seed=5, events=500))
    path = tmp_path / "books.jsonl"
    md.to_json_file(path)
    with iter_json_file(path) as stream:
        with pytest.raises(ValueError, match=r"^the sampling grid has made \d+ rows by 2024-12-20T19:05:\S+Z, more than the 1000000"):
            stream.book_replay(depth=1, every=1000, decimals="float64").to_pyarrow()


def _trade_times_in_every_form(md: MarketDataInMemory) -> dict[str, Any]:
    import numpy
    import pandas

    received = md.to_pandas("trades")["time_received"]
    nanoseconds = md.to_pyarrow("trades")["time_received"].cast(pyarrow.int64()).to_pylist()
    return {
        "pandas_utc_series": received, "pandas_datetime_index": pandas.DatetimeIndex(received),
        "pandas_series_in_another_zone": received.dt.tz_convert("Asia/Tokyo"),
        "numpy_int64_array": numpy.array(nanoseconds), "numpy_int64_scalars": [numpy.int64(ns) for ns in nanoseconds],
        "pyarrow_int64": pyarrow.array(nanoseconds), "pandas_int64_series": pandas.Series(nanoseconds),
        "numpy_datetime64_array": numpy.array(nanoseconds, dtype="datetime64[ns]"),
    }


@pytest.mark.parametrize("form", ["pandas_utc_series", "pandas_datetime_index", "pandas_series_in_another_zone",
                                  "numpy_int64_array", "numpy_int64_scalars", "pyarrow_int64",
                                  "pandas_int64_series", "numpy_datetime64_array"])
def test_at_takes_the_times_users_hold(md: MarketDataInMemory, form: str) -> None:
    """md.to_pandas("trades")["time_received"] (datetime64[ns, UTC]) and a DatetimeIndex were a
    TypeError from numpy.isnat; numpy and pyarrow int64 nanoseconds were refused."""
    pytest.importorskip("pandas")
    times = _trade_times_in_every_form(md)[form]
    expected = md.book_replay(depth=1, at=md.to_pyarrow("trades")["time_received"]).to_pyarrow()
    assert md.book_replay(depth=1, at=times).to_pyarrow().equals(expected)


@pytest.mark.parametrize(("make", "message"), [
    (lambda pandas, received: pandas.Series([received[0], pandas.NaT]), "at holds NaT"),
    (lambda pandas, received: pandas.DatetimeIndex([received[0], pandas.NaT]), "at holds NaT"),
    (lambda pandas, received: received.dt.tz_localize(None), "at holds naive times.*tz_localize"),
    (lambda pandas, received: pyarrow.array(received.dt.tz_localize(None)), "at holds naive timestamps"),
], ids=["nat_series", "nat_index", "naive_series", "naive_pyarrow"])
def test_at_refuses_nat_and_naive_times_as_a_naive_datetime_is(md: MarketDataInMemory, make: Any,
                                                                message: str) -> None:
    """A naive Series was taken as UTC while a naive datetime is refused."""
    pandas = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match=message):
        md.book_replay(depth=1, at=make(pandas, md.to_pandas("trades")["time_received"]))
    with pytest.raises(ValueError, match="naive datetime"):
        md.book_replay(depth=1, at=[dt.datetime(2024, 12, 20, 19, 5)])


def test_every_takes_numpy_timedelta64(md: MarketDataInMemory) -> None:
    import numpy

    from barter_ffi.book_replay import interval_ns

    assert interval_ns(numpy.timedelta64(250, "ms")) == 250_000_000
    assert interval_ns(numpy.timedelta64(2, "m")) == 120 * 10**9
    assert md.book_replay(depth=1, every=numpy.timedelta64(1, "s")).to_pyarrow().equals(
        md.book_replay(depth=1, every="1s").to_pyarrow())
    with pytest.raises(ValueError, match="NaT"):
        interval_ns(numpy.timedelta64("NaT"))
    with pytest.raises(ValueError, match="no fixed length"):
        interval_ns(numpy.timedelta64(1, "M"))
