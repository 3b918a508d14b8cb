"""The Python Structs and rust_core/src/output/wire.rs describe the same bytes."""

from __future__ import annotations

import msgspec
import pytest

from barter_ffi import MarketDataInMemory, MarketEvent
from barter_ffi._ffi import call, ffi, lib, read_buffer
from conftest import ALL_FIXTURES, FIXTURES


def raw_batches(md: MarketDataInMemory, batch_size: int) -> list[bytes]:
    cursor_out = ffi.new("BarterFfiCursor **")
    call(lib.barter_ffi_cursor_open, md._checked_handle(), cursor_out)
    cursor = ffi.gc(cursor_out[0], lib.barter_ffi_cursor_free)
    batches = []
    while True:
        buffer = ffi.new("BarterFfiBuffer *")
        call(lib.barter_ffi_cursor_next_batch, cursor, batch_size, buffer)
        raw = read_buffer(buffer, bytes)
        if raw == b"\x90":  # an empty array: the end
            return batches
        batches.append(raw)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_python_encodes_exactly_the_bytes_rust_sent(name: str) -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / name)
    for raw in raw_batches(md, 3):
        decoded = msgspec.msgpack.decode(raw, type=list[MarketEvent])
        assert 1 <= len(decoded) <= 3
        assert msgspec.msgpack.encode(decoded) == raw


def test_batches_partition_the_events_in_order() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
    batches = [msgspec.msgpack.decode(raw, type=list[MarketEvent]) for raw in raw_batches(md, 4)]
    assert [len(batch) for batch in batches] == [4, 4, 3]
    assert [event for batch in batches for event in batch] == md.events()
