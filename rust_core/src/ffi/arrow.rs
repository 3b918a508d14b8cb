//! A data set's tables through the Arrow C Data and C Stream interfaces, both ways, and the
//! destructors of the PyCapsules Python's Arrow protocol wraps them in.

use super::{call, check_out, market_data::BarterFfiMarketData, required, write_out, BarterFfiError};
use crate::{
    base::error::{BarterFfiStatus, Error},
    data_set::market_data::MarketData,
    output::arrow::{export, import, Decimals, Table},
};
use arrow_array::{
    ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader},
    RecordBatchReader,
};
use arrow_schema::ffi::FFI_ArrowSchema;
use std::{
    ffi::{c_char, c_void, CStr},
    panic::catch_unwind,
    sync::OnceLock,
};

fn table(value: u32) -> Result<Table, Error> {
    Table::from_u32(value).ok_or_else(|| {
        Error::new(BarterFfiStatus::InvalidArgument, format!("table {value} is not a BarterFfiArrowTable"))
    })
}

fn decimals(value: u32) -> Result<Decimals, Error> {
    Decimals::from_u32(value).ok_or_else(|| {
        Error::new(BarterFfiStatus::InvalidArgument, format!("decimals {value} is not a BarterFfiArrowDecimals"))
    })
}

/// A fresh stream of `table`'s record batches (`table` a `BarterFfiArrowTable`, `decimals` a
/// `BarterFfiArrowDecimals`), written into the caller's `*out_stream`, which the caller
/// releases with `out_stream->release(out_stream)`. The stream holds its own reference to the
/// data: it stays valid after the handle is freed. Batches hold at most 65536 rows each (an L2
/// event's levels are never split). From the first read, worker threads (one per core, up to
/// 4) build them in order, each at most one batch ahead of the reader; releasing the stream
/// stops and joins them. A decimal128 export fails up front
/// (BARTER_FFI_STATUS_INVALID_DATA) when a value would need more than 38 digits at its
/// column's scale.
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
        write_out(out_stream, "out_stream", FFI_ArrowArrayStream::new(Box::new(batches)))
    })
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
/// in the tables' order). The tables are read on up to one thread per core, so each stream must
/// allow its calls from another thread than the caller's (one at a time, as the Arrow C stream
/// interface allows; pyarrow's and arrow-rs's do). Takes the
/// streams: each non-NULL, unreleased `streams[i]` has been released when this returns,
/// whatever the status (unless `tables` or `streams` itself is NULL).
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
        // Take every stream first, so that each is released whatever fails below.
        let readers: Vec<Option<RecordBatchStreamReader>> = streams
            .iter()
            .map(|stream| {
                // SAFETY: a non-NULL stream is a caller's valid ArrowArrayStream, by contract;
                // `from_raw` moves it out and leaves it released.
                (!stream.is_null()).then(|| unsafe { RecordBatchStreamReader::from_raw(*stream) }).transpose()
            })
            .collect::<Result<_, _>>()
            .map_err(|error| Error::invalid_data(format!("reading an Arrow stream's schema: {error}")))?;
        check_out(out, "out")?;
        let mut inputs = Vec::with_capacity(count);
        for (index, (table, reader)) in tables.iter().zip(readers).enumerate() {
            let reader = reader.ok_or_else(|| Error::null_argument(&format!("streams[{index}]")))?;
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

/// The destructor of a PyCapsule named "arrow_array_stream" whose pointer is a malloc'd
/// `struct ArrowArrayStream`: releases the stream unless a consumer took it, then frees the
/// struct. For Python's Arrow PyCapsule protocol; it needs the Python C API in the process.
#[no_mangle]
pub extern "C" fn barter_ffi_arrow_stream_capsule_destructor(capsule: *mut c_void) {
    // SAFETY: this function's contract.
    unsafe { free_capsule_struct::<FFI_ArrowArrayStream>(capsule) }
}

/// As `barter_ffi_arrow_stream_capsule_destructor`, for a capsule named "arrow_schema" holding
/// a malloc'd `struct ArrowSchema`.
#[no_mangle]
pub extern "C" fn barter_ffi_arrow_schema_capsule_destructor(capsule: *mut c_void) {
    // SAFETY: this function's contract.
    unsafe { free_capsule_struct::<FFI_ArrowSchema>(capsule) }
}

/// Drops the Arrow struct a capsule holds (arrow-rs's Drop calls its release callback when it
/// is still set), then frees its memory.
///
/// # Safety
/// `capsule` is a live PyCapsule holding a malloc'd `T`, called once, with the GIL held (as
/// Python calls capsule destructors).
unsafe fn free_capsule_struct<T>(capsule: *mut c_void) {
    let _ = catch_unwind(|| {
        if let Some(value) = capsule_pointer(capsule).cast::<T>().as_mut() {
            std::ptr::drop_in_place(value);
            libc::free((value as *mut T).cast());
        }
    });
}

type CapsuleGetName = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type CapsuleGetPointer = unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void;

/// A capsule's pointer, through the Python C API found in the running process: this library
/// does not link to Python, so that C hosts load it without one. Asking with the capsule's own
/// name pointer makes Python compare pointers, never reading the name, which may already be
/// gone when a capsule outlives its creator at interpreter shutdown.
///
/// # Safety
/// `capsule` is a live PyCapsule and the caller holds the GIL.
unsafe fn capsule_pointer(capsule: *mut c_void) -> *mut c_void {
    static API: OnceLock<Option<(CapsuleGetName, CapsuleGetPointer)>> = OnceLock::new();
    let api = API.get_or_init(|| {
        let symbol = |name: &CStr| libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
        let (get_name, get_pointer) = (symbol(c"PyCapsule_GetName"), symbol(c"PyCapsule_GetPointer"));
        (!get_name.is_null() && !get_pointer.is_null()).then(|| {
            (
                std::mem::transmute::<*mut c_void, CapsuleGetName>(get_name),
                std::mem::transmute::<*mut c_void, CapsuleGetPointer>(get_pointer),
            )
        })
    });
    match api {
        Some((get_name, get_pointer)) if !capsule.is_null() => get_pointer(capsule, get_name(capsule)),
        _ => std::ptr::null_mut(),
    }
}
