"""Reconnect markers, seen where a book rebuilder needs them: items(), stream(), from_events."""

from __future__ import annotations

import asyncio
import json
import pickle

import pytest

from barter_ffi import ExchangeId, MarketDataError, MarketDataInMemory, MarketEvent, Reconnecting, merge
from barter_ffi.data import decode_items, encode_items
from conftest import FIXTURES, SHARED_RECORDING

ALL_KINDS = FIXTURES / "all_kinds.jsonl"  # markers before event 2 (binance_spot) and at the end (okx)


def rust_items(md: MarketDataInMemory) -> list:
    """Rust's own items, read from barter's serde JSON: markers as exchanges, events as None."""
    lines = [json.loads(line) for line in md.debug_json_lines().splitlines()]
    return [line.get("Reconnecting") for line in lines]


def shape(items: list) -> list:
    return [item.exchange.value if isinstance(item, Reconnecting) else None for item in items]


@pytest.mark.parametrize("name", ["all_kinds.jsonl", "all_kinds_results.json", "trades.json"])
def test_items_show_every_marker_in_its_place(name: str) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / name)
    items = list(md.items())
    assert shape(items) == rust_items(md)
    assert [item for item in items if isinstance(item, MarketEvent)] == md.events()
    assert sum(isinstance(item, Reconnecting) for item in items) == md.stats.reconnects


def test_markers_survive_batch_edges() -> None:
    """Many batches (256, 2048, then 16,384 events each), markers everywhere, also at edges."""
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    base = list(md.items())
    many = MarketDataInMemory.from_events(base * 3000)  # 33,000 events, 6,000 markers
    items = list(many.items())
    assert shape(items) == shape(base * 3000) == rust_items(many)


def test_iteration_and_events_still_skip_markers() -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    assert all(isinstance(event, MarketEvent) for event in md)
    assert len(md.events()) == 11 == len(md)


def test_stream_can_include_reconnects() -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)

    async def collect(include: bool) -> list:
        return [item async for item in md.stream(include_reconnects=include)]

    assert asyncio.run(collect(True)) == list(md.items())
    assert asyncio.run(collect(False)) == md.events()


def test_from_events_keeps_markers_and_round_trips_items() -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    rebuilt = MarketDataInMemory.from_events(list(md.items()))
    assert rebuilt.debug_json_lines() == md.debug_json_lines()
    assert rebuilt.stats.reconnects == 2
    only_markers_and_one = MarketDataInMemory.from_events(
        [Reconnecting(ExchangeId.OKX), md[0], Reconnecting(ExchangeId.KRAKEN)]
    )
    assert shape(list(only_markers_and_one.items())) == ["okx", None, "kraken"]


def test_the_items_layout_round_trips_and_names_bad_markers() -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    items = list(md.items())
    assert decode_items(encode_items(items)) == items
    import msgspec

    bad = msgspec.msgpack.encode([[], [[5, "okx"]]])  # a marker before event 5 of none
    with pytest.raises(MarketDataError, match="marker 0: `before` is 5"):
        MarketDataInMemory._owned(_from_items(bad))
    unknown = msgspec.msgpack.encode([[], [[0, "nasdaq"]]])
    with pytest.raises(MarketDataError, match="marker 0: `exchange`: unknown variant `nasdaq`"):
        MarketDataInMemory._owned(_from_items(unknown))


def _from_items(payload: bytes):
    from barter_ffi._ffi import call_returning, lib

    return call_returning("BarterFfiMarketData *", lib.barter_ffi_market_data_from_items, payload, len(payload))


def test_pickling_keeps_errors_skipped_and_markers(tmp_path) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds_results.json")
    assert md.stats.errors_skipped == 3
    again = pickle.loads(pickle.dumps(md))
    assert again.stats == md.stats
    assert list(again.items()) == list(md.items())
    md.to_json_file(tmp_path / "array.json", shape="array")
    assert MarketDataInMemory.from_json_file(tmp_path / "array.json").stats == md.stats


@pytest.mark.skipif(not SHARED_RECORDING.exists(), reason="barter's recording is not beside the project")
def test_barters_own_recording_shows_its_disconnects() -> None:
    md = MarketDataInMemory.from_json_file(SHARED_RECORDING)
    items = list(md.items())
    assert shape(items) == rust_items(md)
    assert md.stats.reconnects > 0


def test_markers_without_market_events_are_kept_on_every_path(tmp_path) -> None:
    """A data set of markers alone (a Parquet directory's reconnects table, markers made in
    Python, a selection that matches no event) holds its markers: dropping them gave
    ``reconnects=0`` without an error, a wrong count."""
    import pyarrow.parquet

    if not SHARED_RECORDING.exists():
        pytest.skip("the shared recording is not on this machine")
    recording = MarketDataInMemory.from_json_file(SHARED_RECORDING)
    recording.to_parquet(tmp_path / "day")
    markers = recording.stats.reconnects
    assert markers == 3
    from_table_file = MarketDataInMemory.from_parquet(tmp_path / "day" / "reconnects.parquet")
    from_directory = MarketDataInMemory.from_parquet(tmp_path / "day", table="reconnects")
    from_arrow = MarketDataInMemory.from_arrow({"reconnects": pyarrow.parquet.read_table(tmp_path / "day" / "reconnects.parquet")})
    from_table = MarketDataInMemory.from_arrow({"reconnects": recording.to_arrow("reconnects")})
    for data in (from_table_file, from_directory, from_arrow, from_table):
        assert data.stats == (0, markers, 0), data
        assert [item.exchange for item in data.items()] == [ExchangeId.BINANCE_SPOT] * markers
    made = MarketDataInMemory.from_events([Reconnecting("okx"), Reconnecting("kraken")])
    assert made.stats == (0, 2, 0) and repr(made) == "<MarketDataInMemory empty, 2 reconnects>"
    assert MarketDataInMemory.from_events(Reconnecting("okx")).stats == (0, 1, 0), "one item"
    records = MarketDataInMemory.from_records([{"Reconnecting": "okx"}, {"Reconnecting": "huobi"}])
    assert list(records.items()) == [Reconnecting("okx"), Reconnecting("htx")]
    assert made[:].stats == made[0:0].stats == (0, 2, 0), "its one slice is all of it"
    assert made.filter(exchanges="okx").stats == (0, 1, 0)
    assert made.filter(end=2**62).stats == (0, 0, 0), "markers without an event have no time: in no window"
    assert merge(made, made).stats == (0, 4, 0)
    assert pickle.loads(pickle.dumps(made)).stats == (0, 2, 0)
    assert made.summary().reconnects_by_exchange == {"okx": 1, "kraken": 1}
    made.to_parquet(tmp_path / "markers")
    assert MarketDataInMemory.from_parquet(tmp_path / "markers").stats == (0, 2, 0), "and the manifest agrees"
    no_candle = recording.filter(kinds="candle")
    assert no_candle.stats == (0, markers, 0), "a filter keeps a kept exchange's markers whatever the kinds"
    assert MarketDataInMemory.from_json_file(SHARED_RECORDING, kinds="candle").stats == no_candle.stats


def test_a_data_set_without_market_events_is_not_written_as_a_json_file(tmp_path) -> None:
    """barter's MarketDataInMemory cannot be loaded from a file without a market event (nor can
    from_json_file read one), so to_json_file refuses rather than write a file that reads back
    as an error."""
    for data in (MarketDataInMemory.from_events([]), MarketDataInMemory.from_events([Reconnecting("okx")])):
        for name in ("empty.jsonl", "empty.json.zst"):
            with pytest.raises(MarketDataError, match="no market event.*none is written"):
                data.to_json_file(tmp_path / name)
            assert not (tmp_path / name).exists()
        assert MarketDataInMemory.from_records(data.to_records()).stats == data.stats, "records hold it"
