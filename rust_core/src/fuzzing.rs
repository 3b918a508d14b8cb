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
        arrow::{
            export::{decimal128_value, rounded_decimal128_value},
            Decimals,
        },
        book_replay::{BookReplay, Clock, Every, Layout, OnCrossed, OnReconnect, ReplayOptions},
        cursor::Cursor,
        decimal_float::decimal_f64,
        stream::{FileStream, PieceSize, MAX_LINE_BYTES},
        wire::{self, BatchLayout},
    },
    parse::{canonical, load::parse_in_chunks, selective, skim},
};
use arrow_array::{
    cast::AsArray,
    types::{Decimal128Type, Float64Type, Int32Type, UInt64Type},
    Array, RecordBatch,
};
use arrow_schema::DataType;
use barter_data::{
    books::{Level, OrderBook},
    event::DataKind,
    streams::consumer::MarketStreamResult,
};
use barter_instrument::instrument::InstrumentIndex;
use rust_decimal::Decimal;
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
    let size = PieceSize {
        bytes: 1 + usize::from(byte(2)),
        array_items: 1 + usize::from(byte(3) % 4),
        max_line_bytes: MAX_LINE_BYTES,
    };
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

/// Any input replayed through the order books, on options read from its first bytes, never
/// panics; with barter's defaults every row shows the book barter's own `OrderBook::update`
/// builds; and the `Change` rows are exactly the `Event` rows whose top levels differ from the
/// previous row of the same book. The input is loaded as barter's JSON when it is, and else read
/// as a recipe for L2 events on a small price grid (unsorted sides, repeated prices, zero
/// amounts, other scales, reconnect markers, times that go back), which finds far more books.
pub fn book_replay(data: &[u8]) {
    let Some(&flags) = data.first() else { return };
    let recording = MarketData::from_bytes(data, "fuzz").unwrap_or_else(|_| {
        MarketData::from_bytes(book_recipe(&data[1..]).as_bytes(), "fuzz").expect("a recipe is barter's JSON")
    });
    let depth = usize::from(flags % 4);
    let every = match (flags >> 2) % 4 {
        0 => Every::Event,
        1 => Every::Change,
        2 => Every::Interval(1 + i64::from(flags) * 3_000_000),
        _ => Every::At(
            recording
                .market_events()
                .step_by(3)
                .filter_map(|event| event.time_exchange.timestamp_nanos_opt())
                .collect(),
        ),
    };
    let options = ReplayOptions {
        depth,
        every,
        clock: if flags & 16 == 0 { Clock::Exchange } else { Clock::Received },
        decimals: Decimals::Text,
        layout: if flags & 32 == 0 { Layout::Wide } else { Layout::Lists },
        reconnect: if flags & 64 == 0 { OnReconnect::Keep } else { OnReconnect::Reset },
        crossed: if flags & 128 == 0 { OnCrossed::Keep } else { OnCrossed::Trim },
        ..ReplayOptions::default()
    };
    let mut tables = Vec::new();
    for decimals in [Decimals::Text, Decimals::Float64, Decimals::Decimal128] {
        let mut batches = Vec::new();
        let replay = match BookReplay::of_data_set(&recording, ReplayOptions { decimals, ..options.clone() }) {
            Ok(replay) => replay,
            // A grid of more rows than a replay may make (times far apart) is refused up front.
            Err(error)
                if error.status == BarterFfiStatus::InvalidArgument && error.message.contains("a grid may make") =>
            {
                return;
            }
            Err(error) => panic!("options: {error}"),
        };
        for batch in replay {
            match batch {
                Ok(batch) => batches.push(batch),
                // A decimal128 too wide for its column is an error, never a panic.
                Err(error) => {
                    assert!(decimals == Decimals::Decimal128, "{error}");
                    batches.clear();
                    break;
                }
            }
        }
        tables.push(batches);
    }
    // Float64 and decimal128 rows keep each level's cells from row to row (book_replay::top);
    // text rows convert every level of every row: the same numbers.
    let text: Vec<(String, Vec<Option<Decimal>>)> = decimal_columns(&tables[0])
        .into_iter()
        .map(|(name, values)| (name, values.into_iter().map(|value| value.and_then(Number::text)).collect()))
        .collect();
    let expected = |convert: &dyn Fn(&str, usize, &Decimal) -> Number| -> Vec<(String, Vec<Option<Number>>)> {
        let column = |(index, (name, values)): (usize, &(String, Vec<Option<Decimal>>))| {
            (name.clone(), values.iter().map(|value| value.as_ref().map(|value| convert(name, index, value))).collect())
        };
        text.iter().enumerate().map(column).collect()
    };
    let floats = expected(&|_, _, value| Number::Float(decimal_f64(value).to_bits()));
    assert_eq!(decimal_columns(&tables[1]), floats, "float64 cells");
    if let Some(first) = tables[2].first() {
        let scales = decimal128_scales(first);
        let exact = expected(&|name, index, value| {
            let converted = if ["mid_price", "microprice", "spread"].contains(&name) {
                rounded_decimal128_value(value, scales[index])
            } else {
                decimal128_value(value, scales[index])
            };
            Number::Exact(converted.expect("a decimal128 the stream gave"))
        });
        assert_eq!(decimal_columns(&tables[2]), exact, "decimal128 cells");
    }
    let wide = |every: Every, reconnect, crossed| ReplayOptions {
        depth,
        every,
        decimals: Decimals::Text,
        reconnect,
        crossed,
        ..ReplayOptions::default()
    };
    let rows = |options: ReplayOptions| -> Vec<ShownRow> {
        let replay = BookReplay::of_data_set(&recording, options).expect("options");
        replay.flat_map(|batch| shown_rows(&batch.expect("a text replay"), depth)).collect()
    };
    let faithful = rows(wide(Every::Event, OnReconnect::Keep, OnCrossed::Keep));
    let mut books: std::collections::HashMap<(String, usize), OrderBook> = Default::default();
    let mut expected = Vec::new();
    for event in recording.market_events() {
        if let DataKind::OrderBook(book_event) = &event.kind {
            let book = books.entry((event.exchange.as_str().to_string(), event.instrument.index())).or_default();
            book.update(book_event);
            let top = |levels: &[Level]| levels.iter().take(depth).map(|level| (level.price, level.amount)).collect();
            expected.push((top(book.bids().levels()), top(book.asks().levels())));
        }
    }
    let shown: Vec<_> = faithful.iter().map(|row| (row.bids.clone(), row.asks.clone())).collect();
    assert_eq!(shown, expected, "the rows are barter's books");
    for (reconnect, crossed) in [(options.reconnect, options.crossed), (OnReconnect::Keep, OnCrossed::Keep)] {
        let every = rows(wide(Every::Event, reconnect, crossed));
        let mut previous = std::collections::HashMap::new();
        let changed: Vec<u64> = every
            .iter()
            .filter(|row| {
                previous.insert(row.book.clone(), (row.bids.clone(), row.asks.clone()))
                    != Some((row.bids.clone(), row.asks.clone()))
            })
            .map(|row| row.event_index)
            .collect();
        let change: Vec<u64> =
            rows(wide(Every::Change, reconnect, crossed)).iter().map(|row| row.event_index).collect();
        assert_eq!(change, changed, "{reconnect:?} {crossed:?}");
    }
}

/// A number of a decimal column: its text's decimal, a float64's bits, a decimal128's mantissa.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Text(Decimal),
    Float(u64),
    Exact(i128),
}

impl Number {
    fn text(self) -> Option<Decimal> {
        match self {
            Number::Text(value) => Some(value),
            _ => None,
        }
    }
}

/// Every decimal column of `batches` (a list column's values flattened), by name, row after row.
fn decimal_columns(batches: &[RecordBatch]) -> Vec<(String, Vec<Option<Number>>)> {
    let Some(first) = batches.first() else { return Vec::new() };
    let mut columns = Vec::new();
    for (index, field) in first.schema().fields().iter().enumerate() {
        let mut values = Vec::new();
        for batch in batches {
            let mut column = batch.column(index).clone();
            if let Some(list) = column.as_fixed_size_list_opt() {
                column = list.values().clone();
            }
            let number = |row: usize| -> Option<Option<Number>> {
                let valid = column.is_valid(row);
                Some(match column.data_type() {
                    DataType::Utf8 => valid.then(|| {
                        let text = column.as_string::<i32>().value(row);
                        Number::Text(Decimal::from_str_exact(text).expect("decimal text"))
                    }),
                    DataType::Float64 => {
                        valid.then(|| Number::Float(column.as_primitive::<Float64Type>().value(row).to_bits()))
                    }
                    DataType::Decimal128(..) => {
                        valid.then(|| Number::Exact(column.as_primitive::<Decimal128Type>().value(row)))
                    }
                    _ => return None,
                })
            };
            values.extend((0..column.len()).map_while(number));
        }
        if matches!(first.column(index).data_type(), DataType::Utf8 | DataType::Float64 | DataType::Decimal128(..))
            || first.column(index).as_fixed_size_list_opt().is_some()
        {
            columns.push((field.name().clone(), values));
        }
    }
    columns
}

/// The scale of each decimal column of a decimal128 batch, in [`decimal_columns`]' order.
fn decimal128_scales(batch: &RecordBatch) -> Vec<u32> {
    batch
        .schema()
        .fields()
        .iter()
        .filter_map(|field| match field.data_type() {
            DataType::Decimal128(_, scale) => Some(*scale as u32),
            DataType::FixedSizeList(item, _) => match item.data_type() {
                DataType::Decimal128(_, scale) => Some(*scale as u32),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A row's book, event and top levels, as values.
struct ShownRow {
    book: (String, u64),
    event_index: u64,
    bids: Vec<(Decimal, Decimal)>,
    asks: Vec<(Decimal, Decimal)>,
}

fn shown_rows(batch: &RecordBatch, depth: usize) -> Vec<ShownRow> {
    let column = |name: &str| batch.column_by_name(name).unwrap_or_else(|| panic!("a column {name}"));
    let text = |name: &str, row: usize| {
        let strings = column(name).as_string::<i32>();
        strings.is_valid(row).then(|| Decimal::from_str_exact(strings.value(row)).expect("decimal text"))
    };
    let exchanges = column("exchange").as_dictionary::<Int32Type>();
    let exchange =
        |row: usize| exchanges.values().as_string::<i32>().value(exchanges.keys().value(row) as usize).to_string();
    let side = |prefix: &str, row: usize| {
        (0..depth)
            .map_while(|level| {
                Some((text(&format!("{prefix}_price_{level}"), row)?, text(&format!("{prefix}_amount_{level}"), row)?))
            })
            .collect()
    };
    (0..batch.num_rows())
        .map(|row| ShownRow {
            book: (exchange(row), column("instrument").as_primitive::<UInt64Type>().value(row)),
            event_index: column("event_index").as_primitive::<UInt64Type>().value(row),
            bids: side("bid", row),
            asks: side("ask", row),
        })
        .collect()
}

/// barter's JSON Lines of L2 events made from `recipe`'s bytes (see [`book_replay`]).
fn book_recipe(recipe: &[u8]) -> String {
    let mut bytes = recipe.iter().copied();
    let mut next = move || bytes.next();
    let mut lines = Vec::new();
    let mut millis: i64 = 1_000;
    while let Some(op) = next() {
        let exchange = ["binance_spot", "okx"][usize::from(op & 1)];
        if op % 16 == 15 {
            lines.push(format!(r#"{{"Reconnecting":"{exchange}"}}"#));
            continue;
        }
        millis += i64::from(next().unwrap_or(0) % 16) - 4;
        let mut level = || {
            let (price, amount) = (next()?, next()?);
            let scale = ["", ".0", ".00"][usize::from(price >> 6) % 3];
            Some(format!(r#"{{"price":"{}{scale}","amount":"{}"}}"#, 90 + u32::from(price % 24), amount % 4))
        };
        let mut side = |count: u8| (0..count % 6).map_while(|_| level()).collect::<Vec<_>>().join(",");
        let (bids, asks) = (side(op >> 4), side(op >> 1));
        let time = chrono::DateTime::from_timestamp_millis(1_734_721_518_000 + millis.max(0)).unwrap_or_default();
        let kind = if op & 6 == 0 { "Snapshot" } else { "Update" };
        lines.push(format!(
            r#"{{"Item":{{"time_exchange":"{time:?}","time_received":"{time:?}","exchange":"{exchange}","instrument":{},"kind":{{"OrderBook":{{"{kind}":{{"sequence":{},"time_engine":null,"bids":{{"side":null,"levels":[{bids}]}},"asks":{{"side":null,"levels":[{asks}]}}}}}}}}}}}}"#,
            (op >> 3) & 1,
            u64::from(op) % 7,
        ));
    }
    if lines.iter().all(|line| line.starts_with(r#"{"Reconnecting"#)) {
        lines.push(r#"{"Item":{"time_exchange":"2024-12-20T19:05:18Z","time_received":"2024-12-20T19:05:18Z","exchange":"okx","instrument":0,"kind":{"OrderBook":{"Update":{"sequence":0,"time_engine":null,"bids":{"side":null,"levels":[]},"asks":{"side":null,"levels":[]}}}}}}"#.to_string());
    }
    lines.join("\n")
}
