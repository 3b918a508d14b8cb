//! `BarterFfiCursor`: a read position over a handle's market events, yielding encoded batches.

use super::{
    call, check_out, market_data::BarterFfiMarketData, required, write_out, BarterFfiBuffer, BarterFfiError,
    LIVE_CURSORS,
};
use crate::{
    base::error::{BarterFfiStatus, Error},
    output::{read_ahead::ReadAheadCursor, wire::BatchLayout},
};
use std::sync::{atomic::Ordering, Mutex, PoisonError};

/// Opaque cursor. It shares the events with the handle it was opened on, so it outlives that
/// handle safely. While the caller works on one batch, it encodes the next on a background
/// thread. Release with `barter_ffi_cursor_free`.
pub struct BarterFfiCursor(Mutex<ReadAheadCursor>);

impl Drop for BarterFfiCursor {
    fn drop(&mut self) {
        LIVE_CURSORS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Opens a cursor at the first market event of `market_data`.
#[no_mangle]
pub extern "C" fn barter_ffi_cursor_open(
    market_data: *const BarterFfiMarketData,
    out: *mut *mut BarterFfiCursor,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        check_out(out, "out")?;
        LIVE_CURSORS.fetch_add(1, Ordering::Relaxed);
        let cursor = BarterFfiCursor(Mutex::new(ReadAheadCursor::new(&market_data.0)));
        write_out(out, "out", Box::into_raw(Box::new(cursor)))
    })
}

/// Fills `out` with the next batch of at most `max_events` market events, in file order, as
/// MessagePack (the header's batch layout); reconnect markers are skipped. A batch of zero events
/// means the end; asking again returns zero events again. Release the buffer with
/// `barter_ffi_buffer_free`.
#[no_mangle]
pub extern "C" fn barter_ffi_cursor_next_batch(
    cursor: *const BarterFfiCursor,
    max_events: usize,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || next_batch(cursor, max_events, BatchLayout::Events, out))
}

/// `barter_ffi_cursor_next_batch` in the items layout (the header's batch layout): the
/// market events and, beside them, the reconnect markers among them with their places, for hosts
/// that rebuild order books and must reset at a reconnect. The end is a batch with neither.
#[no_mangle]
pub extern "C" fn barter_ffi_cursor_next_items(
    cursor: *const BarterFfiCursor,
    max_events: usize,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || next_batch(cursor, max_events, BatchLayout::Items, out))
}

fn next_batch(
    cursor: *const BarterFfiCursor,
    max_events: usize,
    layout: BatchLayout,
    out: *mut BarterFfiBuffer,
) -> Result<(), Error> {
    let cursor = required(cursor, "cursor")?;
    check_out(out, "out")?;
    if max_events == 0 {
        return Err(Error::new(BarterFfiStatus::InvalidArgument, "max_events must be at least 1"));
    }
    let bytes = cursor.0.lock().unwrap_or_else(PoisonError::into_inner).next_batch(max_events, layout)?;
    write_out(out, "out", BarterFfiBuffer::from_vec(bytes))
}

/// Releases a cursor; NULL is a no-op.
#[no_mangle]
pub extern "C" fn barter_ffi_cursor_free(cursor: *mut BarterFfiCursor) {
    let _ = call(std::ptr::null_mut(), || {
        if !cursor.is_null() {
            // SAFETY: a non-NULL cursor came from `barter_ffi_cursor_open`, freed once by contract.
            drop(unsafe { Box::from_raw(cursor) });
        }
        Ok(())
    });
}
