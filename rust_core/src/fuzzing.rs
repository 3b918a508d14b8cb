//! The properties the fuzz targets check, one function per target, shared by `cargo fuzz`
//! (`rust_core/fuzz/`) and by the corpus replay that CI runs under valgrind
//! (`examples/replay_corpus.rs`), since stable Rust has no AddressSanitizer here. Built only with
//! the `fuzzing` feature. Each function panics when its property fails.

use crate::{
    base::{error::BarterFfiStatus, event::StreamEvent},
    data_set::{
        market_data::MarketData,
        select::{self, filter, EventFilter},
    },
    ffi::{
        barter_ffi_buffer_free, barter_ffi_error_free,
        cursor::{barter_ffi_cursor_free, barter_ffi_cursor_next_batch, barter_ffi_cursor_open},
        market_data::{
            barter_ffi_market_data_free, barter_ffi_market_data_from_batch, barter_ffi_market_data_load_bytes,
            BarterFfiMarketData,
        },
        BarterFfiBuffer, BarterFfiError,
    },
    output::{
        cursor::Cursor,
        stream::{FileStream, PieceSize},
        wire::{self, BatchLayout},
    },
    parse::{canonical, load::parse_in_chunks, selective, skim},
};
use barter_data::{event::DataKind, streams::consumer::MarketStreamResult};
use barter_instrument::instrument::InstrumentIndex;
use std::ptr;

fn new_error() -> BarterFfiError {
    BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() }
}

/// Any bytes through the byte-buffer loader and the cursor: an error is fine, a panic is a bug.
pub fn load_bytes(data: &[u8]) {
    let mut error = new_error();
    let mut handle = ptr::null_mut();
    let status = barter_ffi_market_data_load_bytes(data.as_ptr(), data.len(), ptr::null(), &mut handle, &mut error);
    assert_ne!(status, BarterFfiStatus::Internal, "a panic was caught while loading");
    barter_ffi_error_free(&mut error);
    if status == BarterFfiStatus::Ok {
        drain_and_free(handle);
    } else {
        assert!(handle.is_null());
    }
}

/// Any bytes as a wire batch of events built elsewhere (what Python's `from_events` sends): an
/// error is fine; a data set that loads must hand back, through the cursor, a batch that decodes
/// to the same data set.
pub fn from_batch(data: &[u8]) {
    let mut error = new_error();
    let mut handle = ptr::null_mut();
    let status = barter_ffi_market_data_from_batch(data.as_ptr(), data.len(), &mut handle, &mut error);
    assert_ne!(status, BarterFfiStatus::Internal, "a panic was caught while decoding a batch");
    barter_ffi_error_free(&mut error);
    if status != BarterFfiStatus::Ok {
        assert!(handle.is_null());
        return;
    }
    // SAFETY: the handle was just made by the library and is freed below, once.
    let data_set = unsafe { &*handle };
    let mut encoded = Vec::new();
    let layout = BatchLayout::Events;
    Cursor::new(&data_set.0).next_batch(usize::MAX, layout, &mut encoded).unwrap();
    let again = wire::decode_batch(&encoded).expect("an encoded batch decodes");
    assert!(again.iter().eq(data_set.0.market_events()), "decode(encode(events)) == events");
    drain_and_free(handle);
}

/// Parsing in 2, 3 or 4 parallel chunks gives exactly what one pass gives, events or error.
pub fn chunks_match_one_pass(data: &[u8]) {
    let render = |chunks| match parse_in_chunks(data, "fuzz", chunks) {
        Ok(parsed) => format!("{:?} {} {}", parsed.events, parsed.reconnects, parsed.errors_skipped),
        Err(error) => format!("{error:?}"),
    };
    let one_pass = render(1);
    for chunks in 2..=4 {
        assert_eq!(render(chunks), one_pass, "{chunks} chunks");
    }
}

/// Every line the canonical reader reads, barter's serde types read to the same event; and an
/// array it reads, they read to the same items.
pub fn canonical_matches_serde(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut items = Vec::new();
    if canonical::result_array(text, |item| Some(items.push(format!("{item:?}")))).is_some() {
        let through_serde = serde_json::from_str::<Vec<MarketStreamResult<InstrumentIndex, DataKind>>>(text)
            .map(|items| items.iter().map(|item| format!("{item:?}")).collect::<Vec<_>>());
        assert_eq!(through_serde.ok(), Some(items), "the canonical reader accepted the array");
    }
    for line in text.split('\n') {
        if let Some(event) = canonical::event_line(line) {
            let through_serde = serde_json::from_str::<StreamEvent>(line).map(|event| format!("{event:?}"));
            assert_eq!(through_serde.ok(), Some(format!("{event:?}")), "{line:?}");
        }
    }
}

/// A load that keeps only some events gives what loading everything and filtering gives, for a
/// selection of kinds, an instrument and a time window read from the input's last bytes. (It
/// may load where the whole load fails: what lies inside events it leaves out goes unseen.)
pub fn selection_matches_filter(data: &[u8]) {
    let Ok(whole) = MarketData::from_bytes(data, "fuzz") else { return };
    let byte = |from_end: usize| data.len().checked_sub(from_end).map_or(0, |at| data[at]);
    let first_time = whole.market_events().next().and_then(|event| event.time_exchange.timestamp_nanos_opt());
    let selection = EventFilter {
        kinds: (byte(1) & 1 == 1).then(|| (0..6).filter(|tag| byte(1) & (2 << tag) != 0).collect()),
        instruments: (byte(2) & 1 == 1).then(|| [usize::from(byte(2) >> 1)].into_iter().collect()),
        start_ns: first_time.filter(|_| byte(3) & 1 == 1).map(|time| time + i64::from(byte(3) >> 1)),
        ..EventFilter::default()
    };
    let expected = filter(&whole, &selection).expect("filtering a loaded data set");
    let selected = select::load_bytes(data, "fuzz", &selection).expect("a selective load of an input that loads whole");
    assert_eq!(selected.stream_events(), expected.stream_events(), "{selection:?}");
    assert_eq!(selected.stats(), expected.stats(), "{selection:?}");
}

/// Each line read for a selective load (kinds chosen by the input's last byte) is what the
/// serde walk alone makes of it, event or error: the readers' passes over an event left out
/// accept exactly the JSON the walk accepts. Read as a load reads the lines (from where each
/// starts in the whole text, one memo for them all), a line passed over ends where the walk's
/// line ends.
pub fn selective_lines_match_the_walk(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let kinds = data.last().copied().unwrap_or(0);
    let keep =
        EventFilter { kinds: Some((0..8).filter(|tag| kinds & (1 << tag) != 0).collect()), ..EventFilter::default() };
    let (mut memo, mut memo_in_text) = (skim::Memo::default(), skim::Memo::default());
    let mut start = 0;
    for line in text.split('\n') {
        let walked = selective::walked_line(line, &keep);
        assert_eq!(format!("{:?}", selective::line(line, &keep, &mut memo)), format!("{walked:?}"), "{line:?}");
        if let Some((selected, end)) = selective::selected_at(text, start, &keep, &mut memo_in_text) {
            assert_eq!(format!("{:?}", Ok::<_, serde_json::Error>(selected)), format!("{walked:?}"), "{line:?}");
            assert_eq!(end, start + line.len(), "{line:?}");
        }
        start += line.len() + 1;
    }
}

/// A file streamed in small pieces holds what loading it whole holds, with or without a
/// selection (read from the input's last bytes), in the same order; or fails as the whole load
/// fails. Invalid UTF-8 is the documented exception: a whole load reports it before anything
/// else, a stream where it reaches it, so then both need only fail.
pub fn stream_matches_whole_load(data: &[u8]) {
    thread_local! {
        static FILE: std::path::PathBuf =
            std::env::temp_dir().join(format!("barter_ffi_fuzz_stream_{}_{:?}", std::process::id(), std::thread::current().id()));
    }
    let path = FILE.with(std::path::PathBuf::clone);
    std::fs::write(&path, data).expect("a writable temporary directory");
    let byte = |from_end: usize| data.len().checked_sub(from_end).map_or(0, |at| data[at]);
    let selection = EventFilter {
        kinds: (byte(1) & 1 == 1).then(|| (0..6).filter(|tag| byte(1) & (2 << tag) != 0).collect()),
        ..EventFilter::default()
    };
    let size = PieceSize { bytes: 1 + usize::from(byte(2)), array_items: 1 + usize::from(byte(3) % 4) };
    let whole = select::load_file(&path, &selection, &mut |_| true).map(|data| data.stream_events().to_vec());
    let streamed = (|| {
        let mut stream = FileStream::open_in_pieces(&path, selection.clone(), size)?;
        let mut items = Vec::new();
        while let Some(piece) = stream.next_piece()? {
            items.extend(piece.stream_events().iter().cloned());
        }
        Ok(items)
    })();
    let _ = std::fs::remove_file(&path);
    if std::str::from_utf8(data).is_err() {
        assert!(whole.is_err() && streamed.is_err(), "invalid UTF-8 fails both ways");
    } else {
        assert_eq!(streamed, whole, "{selection:?} {size:?}");
    }
}

fn drain_and_free(handle: *mut BarterFfiMarketData) {
    let mut cursor = ptr::null_mut();
    assert_eq!(barter_ffi_cursor_open(handle, &mut cursor, ptr::null_mut()), BarterFfiStatus::Ok);
    loop {
        let mut batch = BarterFfiBuffer { data: ptr::null_mut(), len: 0, capacity: 0 };
        assert_eq!(barter_ffi_cursor_next_batch(cursor, 3, &mut batch, ptr::null_mut()), BarterFfiStatus::Ok);
        let end = batch.len == 1;
        barter_ffi_buffer_free(&mut batch);
        if end {
            break;
        }
    }
    barter_ffi_cursor_free(cursor);
    barter_ffi_market_data_free(handle);
}
