//! The C ABI as a C caller sees it: statuses, NULLs, ownership, cursors and live counts.

mod common;

use barter_ffi::{
    base::error::BarterFfiStatus,
    ffi::{
        barter_ffi_buffer_free, barter_ffi_error_free, barter_ffi_live_objects, barter_ffi_version, cursor::*,
        market_data::*, BarterFfiBuffer, BarterFfiError, BarterFfiLiveObjects,
    },
};
use common::fixture;
use std::{
    ffi::{CStr, CString},
    ptr,
    sync::{Mutex, MutexGuard, PoisonError},
};

/// Live counts are process-wide, so every test that allocates runs alone.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn no_error() -> BarterFfiError {
    BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() }
}

fn empty_buffer() -> BarterFfiBuffer {
    BarterFfiBuffer { data: ptr::null_mut(), len: 0, capacity: 0 }
}

fn message(error: &BarterFfiError) -> String {
    unsafe { CStr::from_ptr(error.message) }.to_string_lossy().into_owned()
}

fn live() -> BarterFfiLiveObjects {
    let mut counts = BarterFfiLiveObjects::default();
    assert_eq!(barter_ffi_live_objects(&mut counts, ptr::null_mut()), BarterFfiStatus::Ok);
    counts
}

fn load(name: &str) -> *mut BarterFfiMarketData {
    let path = CString::new(fixture(name).to_str().unwrap()).unwrap();
    let mut handle = ptr::null_mut();
    let mut error = no_error();
    assert_eq!(barter_ffi_market_data_load_file(path.as_ptr(), &mut handle, &mut error), BarterFfiStatus::Ok);
    handle
}

/// Drains a cursor, returning the event count of every batch.
fn drain(handle: *const BarterFfiMarketData, max_events: usize) -> Vec<usize> {
    let mut cursor = ptr::null_mut();
    assert_eq!(barter_ffi_cursor_open(handle, &mut cursor, ptr::null_mut()), BarterFfiStatus::Ok);
    let mut sizes = Vec::new();
    loop {
        let mut buffer = empty_buffer();
        assert_eq!(barter_ffi_cursor_next_batch(cursor, max_events, &mut buffer, ptr::null_mut()), BarterFfiStatus::Ok);
        let bytes = unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) };
        let count = rmp::decode::read_array_len(&mut &bytes[..]).unwrap() as usize;
        barter_ffi_buffer_free(&mut buffer);
        if count == 0 {
            break;
        }
        sizes.push(count);
    }
    barter_ffi_cursor_free(cursor);
    sizes
}

#[test]
fn load_read_and_free_leave_nothing_live() {
    let _serial = serial();
    let before = live();
    let handle = load("all_kinds_results.json");

    let mut stats = BarterFfiLoadStats { market_events: 0, reconnects: 0, errors_skipped: 0 };
    assert_eq!(barter_ffi_market_data_stats(handle, &mut stats, ptr::null_mut()), BarterFfiStatus::Ok);
    assert_eq!((stats.market_events, stats.reconnects, stats.errors_skipped), (6, 2, 3));
    let mut first = 0i64;
    assert_eq!(barter_ffi_market_data_time_first_event_ns(handle, &mut first, ptr::null_mut()), BarterFfiStatus::Ok);
    assert_eq!(first, 1_734_721_518_175_000_000);

    let mut clone = ptr::null_mut();
    assert_eq!(barter_ffi_market_data_clone(handle, &mut clone, ptr::null_mut()), BarterFfiStatus::Ok);
    assert_eq!(live().market_data, before.market_data + 2);
    barter_ffi_market_data_free(handle);
    assert_eq!(drain(clone, 4), [4, 2], "batches of at most 4, reconnects skipped");
    let mut len = 0u64;
    assert_eq!(barter_ffi_market_data_len(clone, &mut len, ptr::null_mut()), BarterFfiStatus::Ok);
    assert_eq!(len, 6);
    barter_ffi_market_data_free(clone);
    assert_eq!(live(), before);
}

#[test]
fn a_cursor_outlives_its_handle_and_stays_at_the_end() {
    let _serial = serial();
    let before = live();
    let handle = load("trades.json");
    let mut cursor = ptr::null_mut();
    assert_eq!(barter_ffi_cursor_open(handle, &mut cursor, ptr::null_mut()), BarterFfiStatus::Ok);
    barter_ffi_market_data_free(handle);
    let mut counts = Vec::new();
    for _ in 0..4 {
        let mut buffer = empty_buffer();
        assert_eq!(barter_ffi_cursor_next_batch(cursor, 3, &mut buffer, ptr::null_mut()), BarterFfiStatus::Ok);
        let bytes = unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) };
        counts.push(rmp::decode::read_array_len(&mut &bytes[..]).unwrap());
        barter_ffi_buffer_free(&mut buffer);
        barter_ffi_buffer_free(&mut buffer);
    }
    assert_eq!(counts, [3, 2, 0, 0]);
    barter_ffi_cursor_free(cursor);
    assert_eq!(live(), before);
}

#[test]
fn null_arguments_are_errors_and_null_frees_are_no_ops() {
    let _serial = serial();
    let mut error = no_error();
    let mut handle = ptr::null_mut();
    assert_eq!(barter_ffi_market_data_load_file(ptr::null(), &mut handle, &mut error), BarterFfiStatus::NullArgument);
    assert_eq!(message(&error), "argument `path` is NULL");
    let path = CString::new(fixture("trades.json").to_str().unwrap()).unwrap();
    assert_eq!(
        barter_ffi_market_data_load_file(path.as_ptr(), ptr::null_mut(), &mut error),
        BarterFfiStatus::NullArgument
    );
    assert_eq!(
        barter_ffi_market_data_load_bytes(ptr::null(), 5, ptr::null(), &mut handle, &mut error),
        BarterFfiStatus::NullArgument
    );
    let mut len = 0;
    assert_eq!(barter_ffi_market_data_len(ptr::null(), &mut len, &mut error), BarterFfiStatus::NullArgument);
    assert_eq!(barter_ffi_cursor_open(ptr::null(), ptr::null_mut(), &mut error), BarterFfiStatus::NullArgument);
    assert_eq!(
        barter_ffi_cursor_next_batch(ptr::null(), 1, ptr::null_mut(), ptr::null_mut()),
        BarterFfiStatus::NullArgument
    );
    assert!(handle.is_null(), "out-pointers are written only on success");
    barter_ffi_error_free(&mut error);

    barter_ffi_market_data_free(ptr::null_mut());
    barter_ffi_cursor_free(ptr::null_mut());
    barter_ffi_buffer_free(ptr::null_mut());
    barter_ffi_error_free(ptr::null_mut());
}

#[test]
fn a_zero_batch_size_is_refused() {
    let _serial = serial();
    let handle = load("trades.json");
    let mut cursor = ptr::null_mut();
    barter_ffi_cursor_open(handle, &mut cursor, ptr::null_mut());
    let mut buffer = empty_buffer();
    let mut error = no_error();
    assert_eq!(barter_ffi_cursor_next_batch(cursor, 0, &mut buffer, &mut error), BarterFfiStatus::InvalidArgument);
    assert!(buffer.data.is_null());
    barter_ffi_error_free(&mut error);
    barter_ffi_cursor_free(cursor);
    barter_ffi_market_data_free(handle);
}

#[test]
fn errors_reach_the_caller_with_status_errno_and_message() {
    let _serial = serial();
    let mut error = no_error();
    let mut handle = ptr::null_mut();
    let path = CString::new("/nonexistent/market.json").unwrap();
    assert_eq!(barter_ffi_market_data_load_file(path.as_ptr(), &mut handle, &mut error), BarterFfiStatus::FileNotFound);
    assert_eq!(error.os_errno, 2);
    assert!(message(&error).contains("/nonexistent/market.json"));

    let bytes = b"[{\"Reconnecting\":\"nasdaq\"}]";
    let name = CString::new("memory").unwrap();
    let status = barter_ffi_market_data_load_bytes(bytes.as_ptr(), bytes.len(), name.as_ptr(), &mut handle, &mut error);
    assert_eq!(status, BarterFfiStatus::InvalidData);
    assert!(message(&error).starts_with("memory: line 1 column 25: unknown variant `nasdaq`"), "{}", message(&error));
    barter_ffi_error_free(&mut error);

    let empty = CString::new("").unwrap();
    assert_eq!(
        barter_ffi_market_data_load_file(empty.as_ptr(), &mut handle, &mut error),
        BarterFfiStatus::InvalidArgument
    );
    barter_ffi_error_free(&mut error);
    assert!(handle.is_null());
}

#[test]
fn version_is_the_crate_version() {
    let mut version = ptr::null();
    assert_eq!(barter_ffi_version(&mut version, ptr::null_mut()), BarterFfiStatus::Ok);
    assert_eq!(unsafe { CStr::from_ptr(version) }.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_json_lines_export_is_one_line_per_item() {
    let _serial = serial();
    let handle = load("candles.jsonl");
    let mut buffer = empty_buffer();
    assert_eq!(barter_ffi_market_data_to_json_lines(handle, &mut buffer, ptr::null_mut()), BarterFfiStatus::Ok);
    let text = std::str::from_utf8(unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) }).unwrap().to_owned();
    barter_ffi_buffer_free(&mut buffer);
    barter_ffi_market_data_free(handle);
    assert_eq!(text.lines().count(), 5);
    assert_eq!(text.lines().nth(3), Some(r#"{"Reconnecting":"binance_spot"}"#));
}

#[test]
fn the_items_layout_shows_each_reconnect_in_its_place_and_reads_back() {
    let _serial = serial();
    let before = live();
    for name in ["all_kinds.jsonl", "all_kinds_results.json", "trades.json"] {
        let handle = load(name);
        let mut cursor = ptr::null_mut();
        assert_eq!(barter_ffi_cursor_open(handle, &mut cursor, ptr::null_mut()), BarterFfiStatus::Ok);
        let mut items = Vec::new();
        loop {
            let mut buffer = empty_buffer();
            assert_eq!(barter_ffi_cursor_next_items(cursor, 2, &mut buffer, ptr::null_mut()), BarterFfiStatus::Ok);
            let bytes = unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) }.to_vec();
            barter_ffi_buffer_free(&mut buffer);
            let batch = barter_ffi::output::wire::decode_items(&bytes).unwrap();
            if batch.is_empty() {
                assert_eq!(bytes, [0x92, 0x90, 0x90], "the end: no events, no markers");
                break;
            }
            items.extend(batch);
        }
        barter_ffi_cursor_free(cursor);
        let data = barter_ffi::data_set::market_data::MarketData::from_file(&fixture(name)).unwrap();
        assert_eq!(&items, data.stream_events().as_ref(), "{name}: every item, markers in place");
        let mut rebuilt = ptr::null_mut();
        let mut encoded = Vec::new();
        let events: Vec<_> = data.market_events().collect();
        let markers: Vec<_> = {
            let mut seen = 0;
            data.stream_events()
                .iter()
                .filter_map(|item| match item {
                    barter_data::streams::reconnect::Event::Item(_) => {
                        seen += 1;
                        None
                    }
                    barter_data::streams::reconnect::Event::Reconnecting(exchange) => Some((seen, *exchange)),
                })
                .collect()
        };
        barter_ffi::output::wire::encode_items(&events, &markers, &mut encoded).unwrap();
        let status = barter_ffi_market_data_from_items(encoded.as_ptr(), encoded.len(), &mut rebuilt, ptr::null_mut());
        assert_eq!(status, BarterFfiStatus::Ok);
        assert_eq!(json_lines(rebuilt), json_lines(handle), "{name}: read back, markers in place");
        barter_ffi_market_data_free(rebuilt);
        barter_ffi_market_data_free(handle);
    }
    assert_eq!(live(), before);
}

fn json_lines(handle: *const BarterFfiMarketData) -> Vec<u8> {
    let mut buffer = empty_buffer();
    assert_eq!(barter_ffi_market_data_to_json_lines(handle, &mut buffer, ptr::null_mut()), BarterFfiStatus::Ok);
    let bytes = unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) }.to_vec();
    barter_ffi_buffer_free(&mut buffer);
    bytes
}

/// Readers dropped: a stream's release drops its reader.
static READERS_DROPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A stream of `batches` in `schema`, counting its release in [`READERS_DROPPED`].
fn counted_stream(
    schema: arrow_schema::Schema,
    batches: Vec<Result<arrow_array::RecordBatch, arrow_schema::ArrowError>>,
) -> arrow_array::ffi_stream::FFI_ArrowArrayStream {
    struct Counted(
        arrow_array::RecordBatchIterator<
            std::vec::IntoIter<Result<arrow_array::RecordBatch, arrow_schema::ArrowError>>,
        >,
    );
    impl Iterator for Counted {
        type Item = Result<arrow_array::RecordBatch, arrow_schema::ArrowError>;
        fn next(&mut self) -> Option<Self::Item> {
            self.0.next()
        }
    }
    impl arrow_array::RecordBatchReader for Counted {
        fn schema(&self) -> arrow_schema::SchemaRef {
            arrow_array::RecordBatchReader::schema(&self.0)
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            READERS_DROPPED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let reader = arrow_array::RecordBatchIterator::new(batches.into_iter(), std::sync::Arc::new(schema));
    arrow_array::ffi_stream::FFI_ArrowArrayStream::new(Box::new(Counted(reader)))
}

#[test]
fn from_arrow_releases_every_stream_it_was_given_whatever_fails() {
    use arrow_array::ffi_stream::FFI_ArrowArrayStream;
    use barter_ffi::ffi::arrow::barter_ffi_market_data_from_arrow;
    let _serial = serial();
    let trades_schema = || {
        let handle = load("all_kinds.jsonl");
        let mut stream = FFI_ArrowArrayStream::empty();
        let status =
            barter_ffi::ffi::arrow::barter_ffi_market_data_arrow_stream(handle, 0, 1, &mut stream, ptr::null_mut());
        assert_eq!(status, BarterFfiStatus::Ok);
        barter_ffi_market_data_free(handle);
        let reader = arrow_array::ffi_stream::RecordBatchStreamReader::try_new(stream).unwrap();
        arrow_array::RecordBatchReader::schema(&reader).as_ref().clone()
    };
    let live = || counted_stream(trades_schema(), Vec::new());
    let failing = arrow_schema::ArrowError::ComputeError("a producer's failure".into());
    // (first stream, table of the first, status, message): the second is always a live one.
    let cases: [(Option<FFI_ArrowArrayStream>, u32, BarterFfiStatus, &str); 4] = [
        (Some(FFI_ArrowArrayStream::empty()), 0, BarterFfiStatus::InvalidArgument, "streams[0] is already released"),
        (None, 0, BarterFfiStatus::NullArgument, "argument `streams[0]` is NULL"),
        (Some(live()), 99, BarterFfiStatus::InvalidArgument, "table 99"),
        (
            Some(counted_stream(trades_schema(), vec![Err(failing)])),
            0,
            BarterFfiStatus::InvalidData,
            "a producer's failure",
        ),
    ];
    for (first, table, expected, words) in cases {
        let dropped_before = READERS_DROPPED.load(std::sync::atomic::Ordering::SeqCst);
        let live_before = first.as_ref().map_or(1, |stream| 1 + usize::from(stream.release().is_some()));
        let mut first = first;
        let mut second = live();
        let streams = [first.as_mut().map_or(ptr::null_mut(), |stream| stream as *mut _), &mut second as *mut _];
        let (tables, mut out, mut error) = ([table, 0], ptr::null_mut(), no_error());
        let status = barter_ffi_market_data_from_arrow(tables.as_ptr(), streams.as_ptr(), 2, &mut out, &mut error);
        assert_eq!(status, expected, "{}", message(&error));
        assert!(message(&error).contains(words), "{}", message(&error));
        assert!(second.release().is_none(), "{words}: streams[1] was taken");
        let dropped = READERS_DROPPED.load(std::sync::atomic::Ordering::SeqCst) - dropped_before;
        assert_eq!(dropped, live_before, "{words}: every live stream given was released");
        barter_ffi_error_free(&mut error);
    }
}
