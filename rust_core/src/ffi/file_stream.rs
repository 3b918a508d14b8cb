//! `BarterFfiFileStream`: a cursor over a file larger than memory, read in bounded pieces.

use super::{
    call, check_out,
    market_data::{optional_filter, path_from_c, BarterFfiFilter, BarterFfiMarketData},
    required, write_out, BarterFfiBuffer, BarterFfiError, LIVE_CURSORS,
};
use crate::{
    base::{
        error::{BarterFfiStatus, Error},
        process::MadeIn,
    },
    data_set::market_data::MarketData,
    output::{
        read_ahead::ReadAheadCursor,
        stream::FileStream,
        wire::{self, BatchLayout},
    },
};
use std::{
    ffi::c_char,
    sync::{atomic::Ordering, Mutex, MutexGuard, PoisonError, TryLockError},
};

/// Opaque cursor over a barter market-data file (either shape, compressed or not) that never
/// holds the whole file: a background thread reads and parses it in pieces of about 8 MiB of
/// JSON, one piece ahead of the caller, so memory stays bounded whatever the file's size.
/// Release with `barter_ffi_file_stream_free`, at the end or mid-file.
pub struct BarterFfiFileStream {
    /// Checked before the lock: in a fork's child, a thread of the parent that held the lock at
    /// the fork is not there to release it.
    made_in: MadeIn,
    reader: Mutex<Reader>,
}

struct Reader {
    stream: FileStream,
    /// The piece the batches are being read from.
    current: Option<ReadAheadCursor>,
    /// What the stream has given out, if anything: a book replay needs the file from its start
    /// (the books are built from every L2 event), and once it took the rest nothing is left.
    given_out: Option<&'static str>,
}

impl Drop for BarterFfiFileStream {
    fn drop(&mut self) {
        LIVE_CURSORS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl BarterFfiFileStream {
    /// The reader, or in a fork's child an error (the reading thread stayed in the parent).
    fn reader(&self) -> Result<MutexGuard<'_, Reader>, Error> {
        if self.made_in.is_forked_child() {
            return Err(FileStream::forked_child_error());
        }
        Ok(self.reader.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether a thread held the lock when this process was forked from the one that opened
    /// the stream: what it was changing may be half-changed, so it is left untouched.
    fn held_at_fork(&self) -> bool {
        self.made_in.is_forked_child() && matches!(self.reader.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// The whole stream, taken away before anything was read from it: the stream is left at its
    /// end (its progress still counts what the taker reads), and any later read of it fails.
    /// A stream that has handed out events or pieces, or was taken, fails with
    /// `InvalidArgument`: a replay of its rest would miss the books' earlier events.
    pub(crate) fn take_whole(&self) -> Result<FileStream, Error> {
        let mut reader = self.reader()?;
        if let Some(given_out) = reader.given_out {
            return Err(Error::new(
                BarterFfiStatus::InvalidArgument,
                format!(
                    "a book replay reads a file stream from its start, and this one {given_out}: open the file again \
                     for the replay"
                ),
            ));
        }
        reader.given_out = Some("was taken by a book replay");
        Ok(reader.stream.take_rest())
    }

    /// The reader, for a read that hands something out: an error once a replay took the stream.
    fn reader_to_read(&self) -> Result<MutexGuard<'_, Reader>, Error> {
        let mut reader = self.reader()?;
        if reader.given_out == Some("was taken by a book replay") {
            return Err(Error::new(
                BarterFfiStatus::InvalidArgument,
                "this file stream was taken by a book replay, which reads it to its end: open the file again to read it",
            ));
        }
        reader.given_out = Some("has handed out events or pieces");
        Ok(reader)
    }
}

/// Opens `path` (NUL-terminated, as for loading) and starts reading it, keeping what `filter`
/// keeps (NULL keeps everything). A missing or unreadable file fails here; bad content fails
/// the call that reaches it. What the stream yields, in order, is what
/// `barter_ffi_market_data_load_file_filtered` loads, and its first error is that load's error,
/// an invalid UTF-8 byte's too. It is reported when the stream reaches the piece (about 8 MiB)
/// that holds it: after the events of the pieces before it, not those of its own lines before
/// the error, as a piece is parsed whole or not at all.
#[no_mangle]
pub extern "C" fn barter_ffi_file_stream_open(
    path: *const c_char,
    filter: *const BarterFfiFilter,
    out: *mut *mut BarterFfiFileStream,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let path = path_from_c(path)?;
        let selection = optional_filter(filter)?;
        check_out(out, "out")?;
        let stream = FileStream::open(&path, selection)?;
        LIVE_CURSORS.fetch_add(1, Ordering::Relaxed);
        let handle = BarterFfiFileStream {
            made_in: stream.made_in(),
            reader: Mutex::new(Reader { stream, current: None, given_out: None }),
        };
        write_out(out, "out", Box::into_raw(Box::new(handle)))
    })
}

/// As `barter_ffi_cursor_next_batch`: the next batch of at most `max_events` market events of
/// the file, as MessagePack (the header's batch layout); zero events means the end. After
/// an error the stream is at its end. Release the buffer with `barter_ffi_buffer_free`.
#[no_mangle]
pub extern "C" fn barter_ffi_file_stream_next_batch(
    stream: *const BarterFfiFileStream,
    max_events: usize,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || next_batch(stream, max_events, BatchLayout::Events, out))
}

/// `barter_ffi_file_stream_next_batch` in the items layout, reconnect markers included, as
/// `barter_ffi_cursor_next_items`.
#[no_mangle]
pub extern "C" fn barter_ffi_file_stream_next_items(
    stream: *const BarterFfiFileStream,
    max_events: usize,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || next_batch(stream, max_events, BatchLayout::Items, out))
}

fn next_batch(
    stream: *const BarterFfiFileStream,
    max_events: usize,
    layout: BatchLayout,
    out: *mut BarterFfiBuffer,
) -> Result<(), Error> {
    let stream = required(stream, "stream")?;
    check_out(out, "out")?;
    if max_events == 0 {
        return Err(Error::new(BarterFfiStatus::InvalidArgument, "max_events must be at least 1"));
    }
    let mut reader = stream.reader_to_read()?;
    loop {
        if let Some(cursor) = reader.current.as_mut() {
            let bytes = cursor.next_batch(max_events, layout)?;
            if !wire::is_end(&bytes, layout) {
                return write_out(out, "out", BarterFfiBuffer::from_vec(bytes));
            }
        }
        // This piece is done (or held only markers, in the events layout): on to the next.
        match reader.stream.next_piece()? {
            Some(piece) => reader.current = Some(ReadAheadCursor::new(&piece)),
            None => {
                reader.current = None;
                return write_out(out, "out", BarterFfiBuffer::from_vec(wire::end_of_data(layout).to_vec()));
            }
        }
    }
}

/// The next piece of the file not yet handed out, as a data set of its own (at least one item:
/// market events, or reconnect markers of the stream's data set; or none in a last piece whose
/// stats count the `Err` items after the file's last item), or NULL at the end. The pieces'
/// `errors_skipped` add up to the file's count. Each piece is a data set like any other (export
/// it through Arrow, encode it, merge it). Mixing this with `_next_batch` on one stream hands
/// out the piece after the one the batches read. Release a piece with
/// `barter_ffi_market_data_free`.
#[no_mangle]
pub extern "C" fn barter_ffi_file_stream_next_market_data(
    stream: *const BarterFfiFileStream,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let stream = required(stream, "stream")?;
        check_out(out, "out")?;
        let piece: Option<MarketData> = stream.reader_to_read()?.stream.next_piece()?;
        write_out(out, "out", piece.map_or(std::ptr::null_mut(), BarterFfiMarketData::into_raw))
    })
}

/// How far the stream has read: bytes of the file read from disk (compressed bytes, for a
/// compressed file; the reader runs up to one piece ahead of what was handed out) and the
/// file's size on disk.
#[no_mangle]
pub extern "C" fn barter_ffi_file_stream_progress(
    stream: *const BarterFfiFileStream,
    bytes_read: *mut u64,
    bytes_total: *mut u64,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let stream = required(stream, "stream")?;
        check_out(bytes_read, "bytes_read")?;
        check_out(bytes_total, "bytes_total")?;
        let (read, total) = stream.reader()?.stream.progress();
        write_out(bytes_read, "bytes_read", read)?;
        write_out(bytes_total, "bytes_total", total)
    })
}

/// Releases a stream, at its end or mid-file: the reading thread stops after the piece it is
/// on. NULL is a no-op. In a child of fork() the stream is released without its thread (which
/// stayed in the parent); if another thread was using it at the fork, it is left unreleased.
#[no_mangle]
pub extern "C" fn barter_ffi_file_stream_free(stream: *mut BarterFfiFileStream) {
    let _ = call(std::ptr::null_mut(), || {
        if !stream.is_null() {
            // SAFETY: a non-NULL stream came from `barter_ffi_file_stream_open`, freed once by contract.
            let stream = unsafe { Box::from_raw(stream) };
            if stream.held_at_fork() {
                std::mem::forget(stream);
            }
        }
        Ok(())
    });
}
