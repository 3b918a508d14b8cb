//! A data set's tables through the Arrow C Data and C Stream interfaces, both ways, and the
//! destructors of the PyCapsules Python's Arrow protocol wraps them in.
//!
//! Every callback handed out here runs behind the library's panic guard: an exported stream's
//! (arrow-rs's, whose calls into the library are guarded) and the capsule destructors.

use super::{call, check_out, market_data::BarterFfiMarketData, required, write_out, BarterFfiError, LIVE_CURSORS};
use crate::{
    base::{
        error::{BarterFfiStatus, Error},
        guard::guarded,
    },
    data_set::market_data::MarketData,
    output::arrow::{export, import, Decimals, Table},
};
use arrow_array::{
    ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader},
    RecordBatch, RecordBatchReader,
};
use arrow_schema::{ffi::FFI_ArrowSchema, ArrowError, SchemaRef};
use std::{
    ffi::{c_char, c_void},
    mem::ManuallyDrop,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};

fn table(value: u32) -> Result<Table, Error> {
    Table::from_u32(value).ok_or_else(|| {
        Error::new(BarterFfiStatus::InvalidArgument, format!("table {value} is not a BarterFfiArrowTable"))
    })
}

pub(crate) fn decimals(value: u32) -> Result<Decimals, Error> {
    Decimals::from_u32(value).ok_or_else(|| {
        Error::new(BarterFfiStatus::InvalidArgument, format!("decimals {value} is not a BarterFfiArrowDecimals"))
    })
}

/// A fresh stream of `table`'s record batches (`table` a `BarterFfiArrowTable`, `decimals` a
/// `BarterFfiArrowDecimals`), written into the caller's `*out_stream`, which the caller
/// releases with `out_stream->release(out_stream)`. The stream holds its own reference to the
/// data: it stays valid after the handle is freed. Batches hold at most 65536 rows each (an L2
/// event's levels are never split), and fewer where a text column would otherwise pass the
/// 2 GiB a utf8 column holds. From the first read, worker threads (one per core, up to
/// 4) build them in order, each at most one batch ahead of the reader; releasing the stream
/// stops and joins them. A decimal128 export fails up front
/// (BARTER_FFI_STATUS_INVALID_DATA) when a value would need more than 38 digits at its
/// column's scale. A failed `get_next` (a panic caught inside the library, or data that does
/// not fit, as one event's text beyond 2 GiB; `get_last_error` says which) leaves the stream
/// failed: every later `get_next` fails the same way, never giving the batches after it.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_arrow_stream(
    market_data: *const BarterFfiMarketData,
    table: u32,
    decimals: u32,
    out_stream: *mut FFI_ArrowArrayStream,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let data = &required(market_data, "market_data")?.0;
        check_out(out_stream, "out_stream")?;
        let batches = export::TableBatches::new(data, self::table(table)?, self::decimals(decimals)?)?;
        write_out(out_stream, "out_stream", exported_stream(batches))
    })
}

/// The stream foreign code reads: arrow-rs's, over `reader` behind the panic guard. arrow-rs's
/// callbacks are `extern "C"` without a guard of their own, so a panic must be caught inside
/// what they call: the reader's `next`, and its drop (which the release callback runs). The
/// first failure (a panic, or an error of the reader) is kept and every later read fails with
/// it: a reader that failed midway must not go on to the batches after the one it lost.
pub(crate) fn exported_stream(reader: impl RecordBatchReader + Send + 'static) -> FFI_ArrowArrayStream {
    LIVE_CURSORS.fetch_add(1, Ordering::Relaxed);
    FFI_ArrowArrayStream::new(Box::new(GuardedReader { reader: ManuallyDrop::new(reader), failed: None }))
}

struct GuardedReader<R> {
    reader: ManuallyDrop<R>,
    /// The first failure's message.
    failed: Option<String>,
}

impl<R: RecordBatchReader> Iterator for GuardedReader<R> {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(message) = &self.failed {
            return Some(Err(ArrowError::ComputeError(format!("an earlier read failed: {message}"))));
        }
        let reader = &mut self.reader;
        // arrow-rs hands a message on as a C string, and panics on a NUL byte in it.
        let read = guarded(|| Ok(reader.next()))
            .unwrap_or_else(|panic| Some(Err(ArrowError::ComputeError(panic.message.replace('\0', "\\0")))));
        if let Some(Err(error)) = &read {
            self.failed = Some(error.to_string());
        }
        read
    }
}

impl<R: RecordBatchReader> RecordBatchReader for GuardedReader<R> {
    fn schema(&self) -> SchemaRef {
        self.reader.schema()
    }
}

impl<R> Drop for GuardedReader<R> {
    fn drop(&mut self) {
        // SAFETY: the reader is dropped here only, once.
        let _ = guarded(|| {
            unsafe { ManuallyDrop::drop(&mut self.reader) };
            Ok(())
        });
        LIVE_CURSORS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The schema `barter_ffi_market_data_arrow_stream` would yield for the same arguments, written
/// into the caller's `*out_schema` (release with `out_schema->release(out_schema)`).
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_arrow_schema(
    market_data: *const BarterFfiMarketData,
    table: u32,
    decimals: u32,
    out_schema: *mut FFI_ArrowSchema,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let data = &required(market_data, "market_data")?.0;
        check_out(out_schema, "out_schema")?;
        let batches = export::TableBatches::new(data, self::table(table)?, self::decimals(decimals)?)?;
        let schema = FFI_ArrowSchema::try_from(batches.schema().as_ref())
            .map_err(|error| Error::internal(format!("exporting a schema: {error}")))?;
        write_out(out_schema, "out_schema", schema)
    })
}

/// How many rows `table` has: 0 for a kind the data set does not hold.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_arrow_rows(
    market_data: *const BarterFfiMarketData,
    table: u32,
    out_rows: *mut u64,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let data = &required(market_data, "market_data")?.0;
        write_out(out_rows, "out_rows", export::row_count(data, self::table(table)?))
    })
}

/// A data set rebuilt from `count` tables: `tables[i]` (a `BarterFfiArrowTable`) names what
/// `streams[i]` holds, in that table's schema (as `_arrow_schema` gives it); rows interleave
/// by `event_index`. Every row goes through barter's types with the checks of
/// `barter_ffi_market_data_from_batch`; a failure names the table, row and column (the first
/// in the tables' order). A stream without rows must still have every column of its table, each
/// of a type it may take (BARTER_FFI_STATUS_INVALID_DATA otherwise). The tables are read on up to one thread per core, so each stream must
/// allow its calls from another thread than the caller's (one at a time, as the Arrow C stream
/// interface allows; pyarrow's and arrow-rs's do). Takes the
/// streams: each non-NULL, unreleased `streams[i]` has been released when this returns,
/// whatever the status (unless `tables` or `streams` itself is NULL). A NULL `streams[i]`
/// (BARTER_FFI_STATUS_NULL_ARGUMENT) or an already released one (`release == NULL`, as a
/// stream already read or moved from is: BARTER_FFI_STATUS_INVALID_ARGUMENT) is an error,
/// never read as an empty table.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_from_arrow(
    tables: *const u32,
    streams: *const *mut FFI_ArrowArrayStream,
    count: usize,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        required(tables, "tables")?;
        required(streams, "streams")?;
        // SAFETY: by contract both point to `count` elements.
        let (tables, streams) =
            unsafe { (std::slice::from_raw_parts(tables, count), std::slice::from_raw_parts(streams, count)) };
        // Every stream is moved out before anything can fail: each one not yet handed to a
        // reader is released when dropped, on every way out below.
        let taken: Vec<Option<FFI_ArrowArrayStream>> = streams
            .iter()
            // SAFETY: a non-NULL stream is a caller's valid ArrowArrayStream, by contract;
            // `from_raw` moves it out and leaves it released.
            .map(|&stream| (!stream.is_null()).then(|| unsafe { FFI_ArrowArrayStream::from_raw(stream) }))
            .collect();
        check_out(out, "out")?;
        let mut inputs = Vec::with_capacity(count);
        for (index, (table, stream)) in tables.iter().zip(taken).enumerate() {
            let stream = stream.ok_or_else(|| Error::null_argument(&format!("streams[{index}]")))?;
            if stream.release().is_none() {
                return Err(Error::new(
                    BarterFfiStatus::InvalidArgument,
                    format!("streams[{index}] is already released (a stream is read once: pass a fresh one)"),
                ));
            }
            let reader = RecordBatchStreamReader::try_new(stream).map_err(|error| {
                Error::invalid_data(format!("streams[{index}]: reading an Arrow stream's schema: {error}"))
            })?;
            inputs.push((self::table(*table)?, StreamOnAnyThread(reader)));
        }
        let data = MarketData::from_items(import::items_from_tables(inputs)?);
        write_out(out, "out", BarterFfiMarketData::into_raw(data))
    })
}

/// A caller's stream, read on whichever thread reads its table. The Arrow C stream interface
/// asks only that a stream's calls are not made concurrently, and each is read by one thread
/// at a time; the batches it yields are arrow-rs's own, which are `Send`.
struct StreamOnAnyThread(RecordBatchStreamReader);

// SAFETY: see the type's doc: the stream is moved to one thread, which alone calls it.
unsafe impl Send for StreamOnAnyThread {}

impl Iterator for StreamOnAnyThread {
    type Item = <RecordBatchStreamReader as Iterator>::Item;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

impl RecordBatchReader for StreamOnAnyThread {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}

/// The name of the PyCapsules holding a `struct ArrowArrayStream` (Python's Arrow PyCapsule
/// protocol), in the library's static storage: Python compares capsule names by content, so a
/// name must outlive every capsule, including those alive at interpreter shutdown.
#[no_mangle]
pub static BARTER_FFI_ARROW_STREAM_CAPSULE_NAME: [u8; 19] = *b"arrow_array_stream\0";

/// The name of the PyCapsules holding a `struct ArrowSchema`, as above.
#[no_mangle]
pub static BARTER_FFI_ARROW_SCHEMA_CAPSULE_NAME: [u8; 13] = *b"arrow_schema\0";

/// The interpreter's `PyCapsule_GetPointer(capsule, name)`.
pub type BarterFfiCapsuleGetPointer =
    Option<unsafe extern "C" fn(capsule: *mut c_void, name: *const c_char) -> *mut c_void>;

static CAPSULE_GET_POINTER: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// For Python only, before it makes a capsule with the destructors below: the running
/// interpreter's `PyCapsule_GetPointer`, which they read capsules with. The library neither
/// links to Python nor looks up its symbols (C hosts load it without one; an embedding host
/// may hold Python's symbols out of reach): the interpreter that makes the capsules hands over
/// the one function they need.
#[no_mangle]
pub extern "C" fn barter_ffi_arrow_capsule_api(
    get_pointer: BarterFfiCapsuleGetPointer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let get_pointer = get_pointer.ok_or_else(|| Error::null_argument("get_pointer"))?;
        CAPSULE_GET_POINTER.store(get_pointer as *mut c_void, Ordering::Release);
        Ok(())
    })
}

/// The destructor of a PyCapsule named `BARTER_FFI_ARROW_STREAM_CAPSULE_NAME` (that very
/// pointer) whose pointer is a malloc'd `struct ArrowArrayStream`: releases the stream unless a
/// consumer took it, then frees the struct. For Python's Arrow PyCapsule protocol, after
/// `barter_ffi_arrow_capsule_api`.
#[no_mangle]
pub extern "C" fn barter_ffi_arrow_stream_capsule_destructor(capsule: *mut c_void) {
    // SAFETY: this function's contract.
    unsafe { free_capsule_struct::<FFI_ArrowArrayStream>(capsule, &BARTER_FFI_ARROW_STREAM_CAPSULE_NAME) }
}

/// As `barter_ffi_arrow_stream_capsule_destructor`, for a capsule named
/// `BARTER_FFI_ARROW_SCHEMA_CAPSULE_NAME` holding a malloc'd `struct ArrowSchema`.
#[no_mangle]
pub extern "C" fn barter_ffi_arrow_schema_capsule_destructor(capsule: *mut c_void) {
    // SAFETY: this function's contract.
    unsafe { free_capsule_struct::<FFI_ArrowSchema>(capsule, &BARTER_FFI_ARROW_SCHEMA_CAPSULE_NAME) }
}

/// Drops the Arrow struct a capsule holds (arrow-rs's Drop calls its release callback when it
/// is still set), then frees its memory.
///
/// # Safety
/// `capsule` is a live PyCapsule named `name` (the same pointer) holding a malloc'd `T`, called
/// once, with the GIL held (as Python calls capsule destructors).
unsafe fn free_capsule_struct<T>(capsule: *mut c_void, name: &'static [u8]) {
    let get_pointer = CAPSULE_GET_POINTER.load(Ordering::Acquire);
    if capsule.is_null() || get_pointer.is_null() {
        return;
    }
    let _ = guarded(|| {
        // SAFETY: set by `barter_ffi_arrow_capsule_api` from a `BarterFfiCapsuleGetPointer`.
        let get_pointer = std::mem::transmute::<
            *mut c_void,
            unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void,
        >(get_pointer);
        // The capsule was made with this very name pointer, so Python compares nothing freed.
        if let Some(value) = get_pointer(capsule, name.as_ptr().cast()).cast::<T>().as_mut() {
            ptr::drop_in_place(value);
            libc::free((value as *mut T).cast());
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::guard::PANIC_HERE;

    #[test]
    fn a_panic_building_a_batch_fails_the_stream_instead_of_aborting_and_the_failure_stays() {
        let trade = |id: &str| {
            format!(
                r#"{{"Item":{{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z","exchange":"okx","instrument":0,"kind":{{"Trade":{{"id":"{id}","price":1.0,"amount":1.0,"side":"Buy"}}}}}}}}"#
            )
        };
        // Two batches, so that workers build them; the first holds the panic, the second not.
        // (The id is set after the parse, which would panic on it.)
        let lines: Vec<String> = (0..70_000).map(|id| trade(&id.to_string())).collect();
        let mut items = MarketData::from_bytes(lines.join("\n").as_bytes(), "trades").unwrap().stream_events().to_vec();
        if let Some(barter_data::streams::reconnect::Event::Item(event)) = items.get_mut(1) {
            if let barter_data::event::DataKind::Trade(trade) = &mut event.kind {
                trade.id = PANIC_HERE.into();
            }
        }
        let data = MarketData::from_items(items);
        let batches = export::TableBatches::new(&data, Table::Trades, Decimals::Float64).unwrap();
        let mut stream = exported_stream(batches);
        let (get_next, get_last_error) = (stream.get_next().unwrap(), stream.get_last_error().unwrap());
        for _ in 0..2 {
            let mut array = arrow_array::ffi::FFI_ArrowArray::empty();
            // SAFETY: the stream's own callbacks, on the stream, as the C stream interface calls them.
            assert_ne!(unsafe { get_next(&mut stream, &mut array) }, 0, "the failure, again and again");
            let message = unsafe { std::ffi::CStr::from_ptr(get_last_error(&mut stream)) };
            assert!(message.to_string_lossy().contains("a test asked for a panic here"), "{message:?}");
        }
        drop(stream); // released: the reader's workers stop
    }
}
