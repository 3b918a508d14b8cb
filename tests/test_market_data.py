"""MarketDataInMemory as a Python object: lifetime, threads, errors, async, no leaks."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from pathlib import Path

import pytest

from barter_ffi import MarketDataError, MarketDataInMemory, OwnedByAnotherThreadError, iter_json_file
from barter_ffi._ffi import live_objects
from conftest import FIXTURES, run_in_thread, thread_holding


def md_of_trades() -> MarketDataInMemory:
    return MarketDataInMemory.from_json_file(FIXTURES / "trades.json")

TRADES = FIXTURES / "trades.json"


def test_paths_may_be_str_bytes_or_pathlike() -> None:
    for path in (str(TRADES), os.fsencode(TRADES), TRADES):
        assert len(MarketDataInMemory.from_json_file(path)) == 5


def test_it_is_not_built_directly() -> None:
    with pytest.raises(TypeError, match="from_json_file"):
        MarketDataInMemory()


def test_use_from_another_thread_is_refused() -> None:
    md = MarketDataInMemory.from_json_file(TRADES)
    md.events()  # used here: this thread owns it
    outcome = run_in_thread(md.events)
    error = outcome["error"]
    assert isinstance(error, OwnedByAnotherThreadError)
    assert "MarketDataInMemory is owned by another thread ('MainThread'" in str(error)
    assert len(md) == 5, "the owner still can"


def test_a_clone_works_in_another_thread() -> None:
    md = MarketDataInMemory.from_json_file(TRADES)
    clone = md.clone()
    with thread_holding(clone.events) as outcome:
        assert outcome["value"] == md.events()
        with pytest.raises(OwnedByAnotherThreadError):
            clone.events()  # the clone belongs to the thread that used it first, while it runs
    assert clone.events() == md.events(), "that thread has ended: the clone is free again"


def test_close_and_with() -> None:
    with MarketDataInMemory.from_json_file(TRADES) as md:
        assert not md.closed
    assert md.closed
    md.close()  # twice is fine
    for use in (len, lambda m: m.events(), lambda m: m.clone(), lambda m: m.time_first_event(), iter):
        with pytest.raises(ValueError, match="MarketDataInMemory is closed"):
            use(md)
    assert repr(md) == "<MarketDataInMemory closed>"


def test_an_iteration_keeps_the_data_alive_after_close() -> None:
    md = MarketDataInMemory.from_json_file(TRADES)
    iterator = iter(md)
    first = next(iterator)
    md.close()
    assert [first, *iterator] == MarketDataInMemory.from_json_file(TRADES).events()


def test_stream_yields_every_event_and_lets_others_run() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")

    async def collect() -> list:
        return [event async for event in md.stream()]

    assert asyncio.run(collect()) == md.events()


def test_repr_is_readable() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds_results.json")
    assert repr(md) == (
        "<MarketDataInMemory 6 events, first 2024-12-20T19:05:18.175000000Z, "
        "2 reconnects, 3 errors skipped>"
    )
    one_trade = (
        '{"Item":{"time_exchange":"2024-12-20T19:05:18Z","time_received":"2024-12-20T19:05:18Z",'
        '"exchange":"okx","instrument":0,"kind":{"Trade":{"id":"1","price":1.0,"amount":1.0,"side":"Buy"}}}}'
    )
    single = MarketDataInMemory.from_json_bytes(one_trade)
    assert repr(single).startswith("<MarketDataInMemory 1 event, first ")
    assert repr(single).endswith(", 0 reconnects, 0 errors skipped>")


def test_nothing_stays_live_after_close_and_collection() -> None:
    gc.collect()
    baseline = live_objects()
    md = MarketDataInMemory.from_json_file(TRADES)
    clones = [md.clone() for _ in range(3)]
    iterator = iter(clones[0])
    next(iterator)
    assert live_objects()[0] == baseline[0] + 4 and live_objects()[1] == baseline[1] + 1
    md.close()
    del clones, iterator
    gc.collect()
    assert live_objects() == baseline


class TestErrors:
    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError) as raised:
            MarketDataInMemory.from_json_file(tmp_path / "missing.json")
        assert raised.value.filename == str(tmp_path / "missing.json")

    def test_directory(self, tmp_path: Path) -> None:
        with pytest.raises(IsADirectoryError) as raised:
            MarketDataInMemory.from_json_file(tmp_path)
        assert raised.value.filename == str(tmp_path)

    @pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
    def test_unreadable(self, tmp_path: Path) -> None:
        path = tmp_path / "locked.json"
        path.write_text("[]")
        path.chmod(0)
        with pytest.raises(PermissionError):
            MarketDataInMemory.from_json_file(path)

    def test_content_errors_carry_source_line_and_column(self, tmp_path: Path) -> None:
        good = (FIXTURES / "candles.jsonl").read_text().splitlines()
        path = tmp_path / "bad.jsonl"
        path.write_text("\n".join([good[0], good[1].replace("binance_spot", "nyse"), good[2]]))
        with pytest.raises(MarketDataError) as raised:
            MarketDataInMemory.from_json_file(path)
        message = str(raised.value)
        assert message.startswith(f"{path}: line 2 column ")
        assert "unknown variant `nyse`" in message
        assert isinstance(raised.value, ValueError)

    def test_no_market_event(self, tmp_path: Path) -> None:
        path = tmp_path / "reconnects.json"
        path.write_text('[{"Reconnecting":"okx"}]')
        with pytest.raises(MarketDataError, match="no market event"):
            MarketDataInMemory.from_json_file(path)

    def test_path_types(self) -> None:
        with pytest.raises(TypeError):
            MarketDataInMemory.from_json_file(42)  # type: ignore[arg-type]
        for read in (MarketDataInMemory.from_json_file, MarketDataInMemory.from_json_files, iter_json_file,
                     MarketDataInMemory.from_parquet):  # from_json_files said FileNotFoundError
            with pytest.raises(ValueError, match="embedded null byte"):
                read("fixtures/\0trades.json")
        for empty in (MarketDataInMemory.from_parquet, md_of_trades().to_parquet, md_of_trades().to_json_file,
                      lambda path: md_of_trades().book_replay(depth=1).to_parquet(path)):
            with pytest.raises(ValueError, match="^path is empty$"):  # to_parquet("") wrote into "."
                empty("")


def test_from_json_bytes_takes_every_buffer_type() -> None:
    raw = TRADES.read_bytes()
    expected = MarketDataInMemory.from_json_file(TRADES).events()
    for data in (raw, bytearray(raw), memoryview(raw), raw.decode()):
        assert MarketDataInMemory.from_json_bytes(data).events() == expected
    with pytest.raises(MarketDataError, match=r"^recording: line 1 column 2: expected value"):
        MarketDataInMemory.from_json_bytes(b"[}", source="recording")
    with pytest.raises(TypeError):
        MarketDataInMemory.from_json_bytes(42)  # type: ignore[arg-type]


def test_many_threads_load_and_iterate_at_once_with_identical_results(tmp_path: Path) -> None:
    """Large enough (6 MB, ~19k events) that each load takes the parallel parser and each
    iteration the cursor's read-ahead, with 16 threads contending for both."""
    text = (FIXTURES / "all_kinds_results.json").read_text()
    items = text.strip()[1:-1].strip()
    path = tmp_path / "large.json"
    path.write_text("[" + ",\n".join([items] * 3000) + "]")
    assert path.stat().st_size > 4 << 20, "past the size at which loads parse in parallel"
    shared = MarketDataInMemory.from_json_file(path)
    expected = shared.events()
    assert len(expected) == 6 * 3000
    results: list = [None] * 16
    clones = [shared.clone() for _ in range(8)]

    def work(slot: int) -> None:
        if slot < 8:
            results[slot] = [event for event in clones[slot]]
        else:
            results[slot] = MarketDataInMemory.from_json_file(path).events()

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results)


def test_resident_memory_stays_flat_over_a_thousand_load_free_cycles() -> None:
    def rss_kb() -> int:
        status = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))

    # ~150 KB of input a cycle: a leak of one data set a cycle would be ~100 MB over the run.
    data = (FIXTURES / "all_kinds.jsonl").read_bytes() * 50

    def cycle() -> None:
        with MarketDataInMemory.from_json_bytes(data) as md:
            md.clone().events()
            next(iter(md))

    for _ in range(100):
        cycle()
    gc.collect()
    before = rss_kb()
    for _ in range(1000):
        cycle()
    gc.collect()
    assert rss_kb() - before < 2048, f"resident memory grew by {rss_kb() - before} KiB"
