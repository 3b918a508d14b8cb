//! `BarterFfiMarketData`: an opaque handle owning one [`MarketData`].

use super::{
    call, check_out, host::call_into_host, required, sized, write_encoded, write_out, BarterFfiBuffer, BarterFfiError,
    LIVE_MARKET_DATA,
};
use crate::{
    base::{
        error::{BarterFfiStatus, Error},
        event::TAG_LIQUIDATION,
    },
    data_set::{
        market_data::{JsonShape, LoadStats, MarketData},
        select::{self, EventFilter},
        sequence,
    },
    output::{cursor, summary::Summary, wire::BatchLayout},
    read::compression::BarterFfiCompression,
};
use barter_instrument::exchange::ExchangeId;
use serde::{de::value::StrDeserializer, Deserialize};
use std::{
    ffi::{c_char, c_void, CStr},
    path::PathBuf,
    sync::atomic::Ordering,
};

/// Opaque handle to barter's `MarketDataInMemory<DataKind>` and its events.
/// Create with `barter_ffi_market_data_load_*` or `_clone`; release with `barter_ffi_market_data_free`.
pub struct BarterFfiMarketData(pub(crate) MarketData);

impl BarterFfiMarketData {
    pub(crate) fn into_raw(data: MarketData) -> *mut Self {
        LIVE_MARKET_DATA.fetch_add(1, Ordering::Relaxed);
        Box::into_raw(Box::new(Self(data)))
    }
}

impl Drop for BarterFfiMarketData {
    fn drop(&mut self) {
        LIVE_MARKET_DATA.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a load kept and what it skipped.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarterFfiLoadStats {
    /// Market events held (what the cursor yields and `_len` reports).
    pub market_events: u64,
    /// `Reconnecting` markers: kept for the engine, skipped by the cursor.
    pub reconnects: u64,
    /// `Err` items of the JSON-array shape, dropped as barter's historic example drops them:
    /// every one the input held, whatever the filter kept (a filtered load counts what an
    /// unfiltered one counts). A data set filtered or sliced from another counts its source's;
    /// a merge adds up its inputs'; the pieces of a file stream add up to the file's count;
    /// data sets made from events (a batch, Arrow) count none.
    pub errors_skipped: u64,
}

impl From<LoadStats> for BarterFfiLoadStats {
    fn from(stats: LoadStats) -> Self {
        Self { market_events: stats.market_events, reconnects: stats.reconnects, errors_skipped: stats.errors_skipped }
    }
}

/// Loads a barter market-data file (a JSON array of `MarketStreamResult` or JSON Lines of
/// `MarketStreamEvent`, detected from its first byte). `path` is NUL-terminated, in the OS's
/// encoding on Unix and UTF-8 elsewhere.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_load_file(
    path: *const c_char,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    barter_ffi_market_data_load_file_with_progress(path, None, std::ptr::null_mut(), out, error)
}

/// Called with the bytes of the file parsed so far and the file's size, on the thread that
/// called the load, never after it returns: first with 0, never decreasing, last with
/// `bytes_total`, and at least every 50 ms while a large file is parsed on other threads (so the
/// host can notice a Ctrl-C). Returning non-zero cancels the load: it then fails with
/// `BARTER_FFI_STATUS_CANCELLED` and keeps nothing. After `barter_ffi_host_finalizing` it is
/// never called: a report then due cancels the load as if it had returned non-zero.
pub type BarterFfiProgressCallback =
    Option<unsafe extern "C" fn(context: *mut c_void, bytes_done: u64, bytes_total: u64) -> i32>;

/// `barter_ffi_market_data_load_file`, calling `progress(context, done, total)` as parsing
/// advances (see `BarterFfiProgressCallback`). `progress` may be NULL.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_load_file_with_progress(
    path: *const c_char,
    progress: BarterFfiProgressCallback,
    context: *mut c_void,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    barter_ffi_market_data_load_file_filtered(path, std::ptr::null(), progress, context, out, error)
}

/// `barter_ffi_market_data_load_file_with_progress` keeping only what `filter` keeps (NULL keeps
/// everything): the same data set as loading the file and then `barter_ffi_market_data_filter`,
/// but the events left out are only read as far as their kind, exchange, instrument and time,
/// never built, so that the unwanted kinds cost little. Such an event is checked to be JSON, not
/// field by field: an error inside one is not reported, unless the load fails for another
/// reason, which is then reported as the whole file's first error.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_load_file_filtered(
    path: *const c_char,
    filter: *const BarterFfiFilter,
    progress: BarterFfiProgressCallback,
    context: *mut c_void,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let path = path_from_c(path)?;
        let selection = optional_filter(filter)?;
        check_out(out, "out")?;
        let total = std::fs::metadata(&path).map(|meta| meta.len()).unwrap_or(0);
        let mut report = |done: usize| match progress {
            // SAFETY: the caller supplied a callback that accepts its own context.
            Some(callback) => {
                call_into_host(|| unsafe { callback(context, (done as u64).min(total), total) == 0 }).unwrap_or(false)
            }
            None => true,
        };
        if !report(0) {
            return Err(Error::cancelled());
        }
        let data = select::load_file(&path, &selection, &mut report)?;
        write_out(out, "out", BarterFfiMarketData::into_raw(data))
    })
}

/// Loads market data from `len` bytes at `data`, which are read during the call only.
/// `source_name` (NUL-terminated UTF-8, may be NULL) names the input in error messages.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_load_bytes(
    data: *const u8,
    len: usize,
    source_name: *const c_char,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    barter_ffi_market_data_load_bytes_filtered(data, len, source_name, std::ptr::null(), out, error)
}

/// `barter_ffi_market_data_load_bytes` keeping only what `filter` keeps (NULL keeps everything),
/// as `barter_ffi_market_data_load_file_filtered` does.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_load_bytes_filtered(
    data: *const u8,
    len: usize,
    source_name: *const c_char,
    filter: *const BarterFfiFilter,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let selection = optional_filter(filter)?;
        build_from_bytes(data, len, source_name, out, |bytes, source| select::load_bytes(bytes, source, &selection))
    })
}

/// Builds market data from barter JSON that a program made rather than recorded (Python's
/// `from_records`, unpickling): `len` bytes at `data`, read during the call only, as
/// `barter_ffi_market_data_load_bytes` reads them (either shape, barter's serde types, the
/// same errors; not decompressed), except that items without a market event (none at all, or
/// only reconnect markers and `Err` items) make an empty data set, which keeps its markers,
/// rather than `BARTER_FFI_STATUS_NO_MARKET_EVENTS`. `source_name` as for `_load_bytes`.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_from_json_items(
    data: *const u8,
    len: usize,
    source_name: *const c_char,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || build_from_bytes(data, len, source_name, out, MarketData::from_json_items))
}

/// `build(bytes, source)` of the C arguments, into `out`.
fn build_from_bytes(
    data: *const u8,
    len: usize,
    source_name: *const c_char,
    out: *mut *mut BarterFfiMarketData,
    build: impl FnOnce(&[u8], &str) -> Result<MarketData, Error>,
) -> Result<(), Error> {
    let bytes = c_array(data, len, "data")?;
    let source = source_from_c(source_name);
    check_out(out, "out")?;
    write_out(out, "out", BarterFfiMarketData::into_raw(build(bytes, &source)?))
}

/// Builds market data from `len` bytes at `data` holding market events in the cursor's batch
/// format (the header's batch layout), read during the call only. Each event is checked as
/// barter's JSON reader would check it; an error names the event's position. No events is an
/// empty data set.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_from_batch(
    data: *const u8,
    len: usize,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || from_batch(data, len, BatchLayout::Events, out))
}

/// `barter_ffi_market_data_from_batch` for a batch in the items layout, reconnect markers
/// included (what `barter_ffi_cursor_next_items` hands out).
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_from_items(
    data: *const u8,
    len: usize,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || from_batch(data, len, BatchLayout::Items, out))
}

fn from_batch(
    data: *const u8,
    len: usize,
    layout: BatchLayout,
    out: *mut *mut BarterFfiMarketData,
) -> Result<(), Error> {
    // Even an empty batch has its array header, so NULL is a mistake here even with `len` 0.
    required(data, "data")?;
    let bytes = c_array(data, len, "data")?;
    check_out(out, "out")?;
    write_out(out, "out", BarterFfiMarketData::into_raw(MarketData::from_batch(bytes, layout)?))
}

/// A second handle over the same events (no copy); free each handle on its own.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_clone(
    market_data: *const BarterFfiMarketData,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        check_out(out, "out")?;
        write_out(out, "out", BarterFfiMarketData::into_raw(market_data.0.clone()))
    })
}

/// Releases a handle; NULL is a no-op. Cursors opened on it stay valid.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_free(market_data: *mut BarterFfiMarketData) {
    let _ = call(std::ptr::null_mut(), || {
        if !market_data.is_null() {
            // SAFETY: a non-NULL handle came from `into_raw` and is freed once, by contract.
            drop(unsafe { Box::from_raw(market_data) });
        }
        Ok(())
    });
}

/// The number of market events (reconnect markers and skipped errors not included).
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_len(
    market_data: *const BarterFfiMarketData,
    out: *mut u64,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || write_out(out, "out", required(market_data, "market_data")?.0.len()))
}

/// Counts of what the load kept and skipped.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_stats(
    market_data: *const BarterFfiMarketData,
    out: *mut BarterFfiLoadStats,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || write_out(out, "out", required(market_data, "market_data")?.0.stats().into()))
}

/// The data set's market events counted by kind, exchange and instrument, each group with its
/// span of `time_exchange`, and its reconnect markers by exchange: one walk over the items,
/// no event encoded. MessagePack, in the header's summary layout.
/// Release the buffer with `barter_ffi_buffer_free`.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_summary(
    market_data: *const BarterFfiMarketData,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        write_encoded(out, |bytes| Summary::of(market_data.0.stream_events()).encode(bytes))
    })
}

/// barter's `time_first_event` (the first market event's `time_exchange`, in file order; an empty
/// data set has none: `BARTER_FFI_STATUS_NO_MARKET_EVENTS`) as
/// nanoseconds since 1970-01-01T00:00:00Z.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_time_first_event_ns(
    market_data: *const BarterFfiMarketData,
    out: *mut i64,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let nanos = required(market_data, "market_data")?.0.time_first_event_ns()?;
        write_out(out, "out", nanos)
    })
}

/// Every held item (market events and reconnect markers) as barter serialises it, one
/// `MarketStreamEvent` JSON object a line: the debug view of exactly what Rust parsed.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_to_json_lines(
    market_data: *const BarterFfiMarketData,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        check_out(out, "out")?;
        write_out(out, "out", BarterFfiBuffer::from_vec(market_data.0.to_json_lines()?))
    })
}

/// The market events `start..stop` (indices among market events, from 0; reconnect markers are
/// not counted) as one batch in the cursor's format (the header's batch layout). The cost
/// is that of the events encoded, wherever they lie. `start <= stop <= len` or the status is
/// `BARTER_FFI_STATUS_INDEX_OUT_OF_RANGE`. Release the buffer with `barter_ffi_buffer_free`.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_encode_events(
    market_data: *const BarterFfiMarketData,
    start: u64,
    stop: u64,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        write_encoded(out, |bytes| cursor::encode_events(&market_data.0, start, stop, bytes))
    })
}

/// A new handle holding every `step`-th market event (`step` >= 1) of `start..stop`, as
/// `barter_ffi_market_data_encode_events` counts them, with the reconnect markers of that range in
/// their places. A marker belongs to the market event after it: `start..stop` keeps the markers
/// just before `start`, not those just before `stop`, and those after the last event when `stop`
/// is the length. A slice without a market event is an empty data set (no items at all).
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_slice(
    market_data: *const BarterFfiMarketData,
    start: u64,
    stop: u64,
    step: u64,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        check_out(out, "out")?;
        write_out(out, "out", BarterFfiMarketData::into_raw(sequence::slice(&market_data.0, start, stop, step)?))
    })
}

/// The file shapes barter reads.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiJsonShape {
    /// JSON Lines of `MarketStreamEvent` (what `MarketDataInMemory` users read).
    Lines = 0,
    /// A JSON array of `MarketStreamResult` (barter's historic-data example).
    Array = 1,
}

/// Every held item as barter JSON in `shape` (a `BarterFfiJsonShape`) that barter's own types,
/// and this library, read back equal. A data set without market events gives JSON that only
/// `barter_ffi_market_data_from_json_items` reads back (the loaders need a market event).
/// Release the buffer with `barter_ffi_buffer_free`.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_to_json(
    market_data: *const BarterFfiMarketData,
    shape: u32,
    out: *mut BarterFfiBuffer,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        let shape = json_shape(shape)?;
        check_out(out, "out")?;
        write_out(out, "out", BarterFfiBuffer::from_vec(market_data.0.to_json(shape)?))
    })
}

/// Writes what `barter_ffi_market_data_to_json` returns to the file at `path` (NUL-terminated,
/// as for loading), compressed as `compression` (a
/// `BarterFfiCompression`) says, without holding the JSON in memory. A regular file (or a new
/// one) is written whole or not at all: under a hidden name beside it (`.NAME.partial`, locked
/// with `flock` while written), renamed over it once complete, so on failure the file that was
/// there is left as it was. A file the caller may not write is refused. Through a symbolic link
/// the file it names is replaced, keeping the link and the file's mode (and owner and group
/// where the caller may set them); other hard links keep the earlier content. A second write
/// of a file while one is under way fails (`BARTER_FFI_STATUS_IO`). A FIFO, device or socket,
/// and a name for an open descriptor (`/dev/stdout`, `/dev/fd/N`, `/proc/…/fd/N`), are written
/// in place and never removed. Every loader reads the result back, detecting the compression from its content. A
/// data set without market events is refused (`BARTER_FFI_STATUS_NO_MARKET_EVENTS`, no file
/// written): neither barter nor the loaders could read the file.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_write_json_file(
    market_data: *const BarterFfiMarketData,
    path: *const c_char,
    shape: u32,
    compression: u32,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    barter_ffi_market_data_write_json_file_with_progress(
        market_data,
        path,
        shape,
        compression,
        None,
        std::ptr::null_mut(),
        error,
    )
}

/// `barter_ffi_market_data_write_json_file`, calling `progress(context, done, total)` on the
/// calling thread with the items written so far (market events and reconnect markers, not
/// bytes) of the data set's `total`: at least every 50 ms, not necessarily first with 0, and
/// last with `total`. Returning non-zero cancels the write: it then fails with
/// `BARTER_FFI_STATUS_CANCELLED` and leaves what was at `path` as it was. `progress` may be NULL.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_write_json_file_with_progress(
    market_data: *const BarterFfiMarketData,
    path: *const c_char,
    shape: u32,
    compression: u32,
    progress: BarterFfiProgressCallback,
    context: *mut c_void,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        let path = path_from_c(path)?;
        let shape = json_shape(shape)?;
        let compression = match compression {
            0 => BarterFfiCompression::None,
            1 => BarterFfiCompression::Gzip,
            2 => BarterFfiCompression::Zstd,
            3 => BarterFfiCompression::Bzip2,
            other => return Err(Error::new(BarterFfiStatus::InvalidArgument, format!("unknown compression {other}"))),
        };
        let total = market_data.0.stream_events().len() as u64;
        market_data.0.to_json_file_with_progress(&path, shape, compression, &mut |done| match progress {
            // SAFETY: the caller supplied a callback that accepts its own context.
            Some(callback) => call_into_host(|| unsafe { callback(context, done as u64, total) == 0 }).unwrap_or(false),
            None => true,
        })
    })
}

fn json_shape(shape: u32) -> Result<JsonShape, Error> {
    match shape {
        0 => Ok(JsonShape::Lines),
        1 => Ok(JsonShape::Array),
        other => Err(Error::new(BarterFfiStatus::InvalidArgument, format!("unknown JSON shape {other}"))),
    }
}

/// A new handle holding the items of `count` handles in order of `time_exchange`, as a replay
/// needs: a stable sort, so inputs need not be sorted, and ties keep argument order, then each
/// input's order. A reconnect marker moves with the market event after it in its own data set
/// (with the one before it, at the end of a data set).
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_merge(
    data_sets: *const *const BarterFfiMarketData,
    count: usize,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let handles = c_array(data_sets, count, "data_sets")?;
        let data_sets = handles
            .iter()
            .enumerate()
            .map(|(index, handle)| required(*handle, &format!("data_sets[{index}]")).map(|data| &data.0))
            .collect::<Result<Vec<_>, _>>()?;
        check_out(out, "out")?;
        write_out(out, "out", BarterFfiMarketData::into_raw(select::merge(&data_sets)?))
    })
}

/// Which events `barter_ffi_market_data_filter` keeps. Each axis left empty keeps everything.
/// Zero-initialise it and set `struct_size`; fields are only ever appended.
#[repr(C)]
pub struct BarterFfiFilter {
    /// `sizeof(BarterFfiFilter)` as the caller was compiled: the library reads no further.
    pub struct_size: usize,
    /// Bit `1 << BARTER_FFI_TAG_*` for each kind to keep (not the tag itself); 0 keeps every
    /// kind. A bit above the last tag's is `BARTER_FFI_STATUS_INVALID_ARGUMENT`.
    pub kinds: u32,
    /// barter's exchange names (NUL-terminated) to keep; NULL keeps every exchange.
    pub exchanges: *const *const c_char,
    pub exchanges_len: usize,
    /// Instrument indices to keep; NULL keeps every instrument.
    pub instruments: *const u64,
    pub instruments_len: usize,
    /// Keep events whose `time_exchange` is at or after `start_ns` (when `has_start` is not 0)
    /// and before `end_ns` (when `has_end` is not 0), in nanoseconds since the Unix epoch.
    pub has_start: u8,
    pub start_ns: i64,
    pub has_end: u8,
    pub end_ns: i64,
}

/// A new handle holding the items `filter` keeps, in order. A reconnect marker stays when its
/// exchange is kept and the market event after it (the one before it, at the end) lies in the
/// time window; kinds and instruments do not drop markers. Matching no market event gives an
/// empty data set (no items; `time_first_event_ns` is then `BARTER_FFI_STATUS_NO_MARKET_EVENTS`).
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_filter(
    market_data: *const BarterFfiMarketData,
    filter: *const BarterFfiFilter,
    out: *mut *mut BarterFfiMarketData,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let market_data = required(market_data, "market_data")?;
        let filter = event_filter(sized_filter(filter)?)?;
        check_out(out, "out")?;
        write_out(out, "out", BarterFfiMarketData::into_raw(select::filter(&market_data.0, &filter)?))
    })
}

fn sized_filter<'a>(filter: *const BarterFfiFilter) -> Result<&'a BarterFfiFilter, Error> {
    sized(filter, "filter", "BarterFfiFilter")
}

/// A filter argument that may be NULL, which keeps everything.
pub(crate) fn optional_filter(filter: *const BarterFfiFilter) -> Result<EventFilter, Error> {
    if filter.is_null() {
        Ok(EventFilter::default())
    } else {
        event_filter(sized_filter(filter)?)
    }
}

fn event_filter(filter: &BarterFfiFilter) -> Result<EventFilter, Error> {
    const EVERY_KIND: u32 = (1 << (TAG_LIQUIDATION + 1)) - 1;
    if filter.kinds & !EVERY_KIND != 0 {
        return Err(Error::new(
            BarterFfiStatus::InvalidArgument,
            format!(
                "filter.kinds {:#x} has bits that name no kind ({:#x}): set bit 1 << BARTER_FFI_TAG_* for each kind \
                 to keep (tags 0 to {TAG_LIQUIDATION}, so the bits are within {EVERY_KIND:#x})",
                filter.kinds,
                filter.kinds & !EVERY_KIND
            ),
        ));
    }
    let kinds = (filter.kinds != 0).then(|| (0..32u8).filter(|tag| filter.kinds & (1 << tag) != 0).collect());
    Ok(EventFilter {
        kinds,
        exchanges: exchanges_from_c(filter.exchanges, filter.exchanges_len)?,
        instruments: instruments_from_c(filter.instruments, filter.instruments_len)?,
        start_ns: (filter.has_start != 0).then_some(filter.start_ns),
        end_ns: (filter.has_end != 0).then_some(filter.end_ns),
    })
}

/// The exchanges an array of `len` names selects; NULL selects every exchange.
pub(crate) fn exchanges_from_c<Kept: FromIterator<ExchangeId>>(
    names: *const *const c_char,
    len: usize,
) -> Result<Option<Kept>, Error> {
    if names.is_null() {
        return Ok(None);
    }
    c_array(names, len, "exchanges")?.iter().map(|&name| exchange_from_c(name)).collect::<Result<_, _>>().map(Some)
}

/// The instruments an array of `len` indices selects; NULL selects every instrument.
pub(crate) fn instruments_from_c<Kept: FromIterator<usize>>(
    indices: *const u64,
    len: usize,
) -> Result<Option<Kept>, Error> {
    if indices.is_null() {
        return Ok(None);
    }
    Ok(Some(c_array(indices, len, "instruments")?.iter().filter_map(|&index| usize::try_from(index).ok()).collect()))
}

/// An exchange by barter's own serde name (aliases such as "huobi" included).
fn exchange_from_c(name: *const c_char) -> Result<ExchangeId, Error> {
    required(name, "exchange name")?;
    // SAFETY: a non-NULL name is NUL-terminated, by contract.
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    ExchangeId::deserialize(StrDeserializer::<serde::de::value::Error>::new(&name))
        .map_err(|error| Error::new(BarterFfiStatus::InvalidArgument, format!("exchange: {error}")))
}

/// A NUL-terminated UTF-8 name of an input (NULL: `<buffer>`), for error messages.
fn source_from_c(source_name: *const c_char) -> String {
    if source_name.is_null() {
        return "<buffer>".to_string();
    }
    // SAFETY: a non-NULL source_name is a NUL-terminated string.
    unsafe { CStr::from_ptr(source_name) }.to_string_lossy().into_owned()
}

/// Borrows `len` elements at `items`; NULL is allowed only for an empty array.
pub(crate) fn c_array<'a, T>(items: *const T, len: usize, name: &str) -> Result<&'a [T], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    required(items, name)?;
    // SAFETY: the caller guarantees `len` readable elements at a non-NULL `items`.
    Ok(unsafe { std::slice::from_raw_parts(items, len) })
}

pub(crate) fn path_from_c(path: *const c_char) -> Result<PathBuf, Error> {
    required(path, "path")?;
    // SAFETY: a non-NULL path is NUL-terminated, by contract.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    if bytes.is_empty() {
        return Err(Error::new(BarterFfiStatus::InvalidArgument, "path is empty"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| Error::new(BarterFfiStatus::InvalidArgument, "path is not valid UTF-8"))
    }
}
