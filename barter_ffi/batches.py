"""Decoded batches pulled from a library cursor: shared by data sets and file streams."""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator

from ._ffi import call, ffi, lib, read_buffer
from .data import decode_events, decode_items

__all__ = ["decoded_batches"]

BATCH_SIZES = (256, 2048, 16_384)
"""Events per cursor batch: a small first batch so the first event comes at once, then batches
large enough to amortise a call and small enough to stay in cache (the last size repeats).
The library encodes each next batch while Python decodes the current one."""


def decoded_batches(
    cursor: Any, with_reconnects: bool, next_batch: Callable[..., int], next_items: Callable[..., int],
    before_each: Callable[[], None],
) -> Iterator[list[Any]]:
    """Decoded batches from ``cursor`` until the end of data (``before_each`` runs before each
    call: the owner check); market events only, or with reconnect markers too."""
    sizes = itertools.chain(BATCH_SIZES, itertools.repeat(BATCH_SIZES[-1]))
    pull = next_items if with_reconnects else next_batch
    decode = decode_items if with_reconnects else decode_events
    position = 0
    for size in sizes:
        before_each()
        buffer = ffi.new("BarterFfiBuffer *")
        call(pull, cursor, size, buffer)
        batch = read_buffer(buffer, lambda view: decode(view, position))
        if not batch:
            return
        position += len(batch)
        yield batch


def cursor_batches(cursor: Any, with_reconnects: bool, before_each: Callable[[], None]) -> Iterator[list[Any]]:
    """``decoded_batches`` of a data set's cursor."""
    return decoded_batches(cursor, with_reconnects, lib.barter_ffi_cursor_next_batch, lib.barter_ffi_cursor_next_items,
                           before_each)
