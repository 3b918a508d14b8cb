"""Writing barter JSON, pickling and copying: all by value, all reading back equal."""

from __future__ import annotations

import copy
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from barter_ffi import MarketDataInMemory, MarketEvent
from conftest import ALL_FIXTURES, FIXTURES


@pytest.mark.parametrize("name", ALL_FIXTURES)
@pytest.mark.parametrize("shape", ["lines", "array"])
def test_written_files_read_back_equal(name: str, shape: str, tmp_path: Path) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / name)
    path = tmp_path / f"out.{shape}"
    md.to_json_file(path, shape=shape)
    reread = MarketDataInMemory.from_json_file(path)
    assert reread.events() == md.events()
    assert reread.stats.reconnects == md.stats.reconnects
    assert path.read_bytes().lstrip()[:1] == (b"[" if shape == "array" else b"{")


def test_an_unknown_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shape must be 'lines' or 'array'"):
        MarketDataInMemory.from_json_file(FIXTURES / "trades.json").to_json_file(tmp_path / "x", shape="csv")  # type: ignore[arg-type]


def test_pickle_copy_and_deepcopy_are_by_value() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    for twin in (pickle.loads(pickle.dumps(md)), copy.copy(md), copy.deepcopy(md)):
        assert twin is not md
        assert twin.events() == md.events()
        assert twin.stats.reconnects == md.stats.reconnects
        assert twin.time_first_event_ns() == md.time_first_event_ns()


def events_in_a_worker(md: MarketDataInMemory) -> list[MarketEvent]:
    return md.events()


def test_a_process_pool_gets_equal_events() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds_results.json")
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(events_in_a_worker, [md, md.clone()]))
    assert results == [md.events(), md.events()]
