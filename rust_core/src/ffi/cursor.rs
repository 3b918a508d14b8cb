//! `BarterFfiCursor`: a read position over a handle's market events, yielding encoded batches.

use super::{
    call, check_out, market_data::BarterFfiMarketData, required, write_out, BarterFfiBuffer, BarterFfiError,
    LIVE_CURSORS,
};
use crate::{
    base::{
        error::{BarterFfiStatus, Error},
        process::MadeIn,
    },
    output::{read_ahead::ReadAheadCursor, wire::BatchLayout},
};
use std::sync::{atomic::Ordering, Mutex, MutexGuard, PoisonError, TryLockError};

/// Opaque cursor. It shares the events with the handle it was opened on, so it outlives that
/// handle safely. While the caller works on one batch, it encodes the next on a background
/// thread. Release with `barter_ffi_cursor_free`.
pub struct BarterFfiCursor {
    /// Checked before the lock: in a fork's child, a thread of the parent that held the lock at
    /// the fork is not there to release it.
    made_in: MadeIn,
    cursor: Mutex<ReadAheadCursor>,
}

impl BarterFfiCursor {
    /// The cursor, locked. In a fork's child the lock is not waited for: a thread that holds it
    /// may be one of the parent's, which would never release it.
    fn cursor(&self) -> Result<MutexGuard<'_, ReadAheadCursor>, Error> {
        if !self.made_in.is_forked_child() {
            return Ok(self.cursor.lock().unwrap_or_else(PoisonError::into_inner));
        }
        match self.cursor.try_lock() {
            Ok(cursor) => Ok(cursor),
            Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => Err(MadeIn::forked_child_error(
                "a cursor that another thread is using (or was using when the process forked)",
                "use a cursor inherited through fork() from one thread at a time, or open a new one",
            )),
        }
    }
}

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
        let cursor = BarterFfiCursor {
            made_in: MadeIn::this_process(),
            cursor: Mutex::new(ReadAheadCursor::new(&market_data.0)),
        };
        write_out(out, "out", Box::into_raw(Box::new(cursor)))
    })
}

/// Fills `out` with the next batch of `max_events` market events (fewer only where fewer
/// remain), in file order, as MessagePack (the header's batch layout); reconnect
/// markers are skipped. A batch of zero events means the end; asking again returns zero events
/// again. Release the buffer with `barter_ffi_buffer_free`.
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
    let bytes = cursor.cursor()?.next_batch(max_events, layout)?;
    write_out(out, "out", BarterFfiBuffer::from_vec(bytes))
}

/// Releases a cursor; NULL is a no-op. In a child of fork(), a cursor that another thread was
/// using at the fork is left unreleased.
#[no_mangle]
pub extern "C" fn barter_ffi_cursor_free(cursor: *mut BarterFfiCursor) {
    let _ = call(std::ptr::null_mut(), || {
        if !cursor.is_null() {
            // SAFETY: a non-NULL cursor came from `barter_ffi_cursor_open`, freed once by contract.
            let cursor = unsafe { Box::from_raw(cursor) };
            if cursor.cursor().is_err() {
                // What the other thread was changing may be half-changed: leave it untouched.
                std::mem::forget(cursor);
            }
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{data_set::market_data::MarketData, ffi::BarterFfiBuffer};
    use std::{ptr, sync::mpsc::channel};

    fn next_batch(cursor: *const BarterFfiCursor) -> BarterFfiStatus {
        let mut buffer = BarterFfiBuffer { data: ptr::null_mut(), len: 0, capacity: 0 };
        let status = barter_ffi_cursor_next_batch(cursor, 2, &mut buffer, ptr::null_mut());
        crate::ffi::barter_ffi_buffer_free(&mut buffer);
        status
    }

    #[test]
    fn in_a_forked_child_a_cursor_a_thread_of_the_parent_held_is_an_error_not_a_hang() {
        let line = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z","exchange":"okx","instrument":0,"kind":{"Trade":{"id":"1","price":1.0,"amount":1.0,"side":"Buy"}}}}"#;
        let data = MarketData::from_bytes([line; 10].join("\n").as_bytes(), "trades").unwrap();
        let handle = BarterFfiMarketData::into_raw(data);
        let mut cursor = ptr::null_mut();
        assert_eq!(barter_ffi_cursor_open(handle, &mut cursor, ptr::null_mut()), BarterFfiStatus::Ok);
        assert_eq!(next_batch(cursor), BarterFfiStatus::Ok);
        // Another thread holds the cursor's lock, as one inside a call would, across the fork.
        let (locked, is_locked) = channel();
        let (release, is_released) = channel::<()>();
        let address = cursor as usize;
        let holder = std::thread::spawn(move || {
            // SAFETY: the cursor is freed only after this thread is joined.
            let cursor = unsafe { &*(address as *const BarterFfiCursor) };
            let _held = cursor.cursor.lock().unwrap();
            locked.send(()).unwrap();
            let _ = is_released.recv();
        });
        is_locked.recv().unwrap();
        // SAFETY: the child only calls the library and leaves with _exit.
        let child = unsafe { libc::fork() };
        if child == 0 {
            // SAFETY: as above; a child that hangs is ended by the alarm.
            unsafe {
                libc::alarm(30);
                let status = next_batch(cursor);
                barter_ffi_cursor_free(cursor); // left alone: a thread of the parent held it
                libc::_exit(if status == BarterFfiStatus::InvalidArgument { 0 } else { 1 });
            }
        }
        let mut status = 0;
        // SAFETY: `child` is this process's child.
        assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
        release.send(()).unwrap();
        holder.join().unwrap();
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child got another status, or hung (wait status {status})"
        );
        assert_eq!(next_batch(cursor), BarterFfiStatus::Ok, "the parent reads on");
        barter_ffi_cursor_free(cursor);
        crate::ffi::market_data::barter_ffi_market_data_free(handle);
    }
}
