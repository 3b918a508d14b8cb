//! The book replay against barter's own `OrderBook`, driven here directly: the rows are the
//! book barter holds after each event; the flags, repairs and samples do what they say.

use arrow_array::{
    cast::AsArray,
    types::{Decimal128Type, Float64Type, TimestampNanosecondType, UInt32Type, UInt64Type},
    Array, RecordBatch,
};
use barter_data::{
    books::{Level, OrderBook},
    event::DataKind,
    subscription::book::OrderBookEvent,
};
use barter_ffi::{
    data_set::market_data::MarketData,
    output::{
        arrow::Decimals,
        book_replay::{BookReplay, Every, Layout, OnCrossed, OnReconnect, ReplayOptions},
        engine_prices::EnginePrices,
        stream::{FileStream, PieceSize},
    },
};
use rust_decimal::Decimal;
use std::{collections::HashMap, str::FromStr};

/// 2024-12-20T19:05:18Z, in nanoseconds: the recordings' start.
const START_NS: i64 = 1_734_721_518_000_000_000;

fn time(ms: i64) -> String {
    let nanos = START_NS + ms * 1_000_000;
    chrono::DateTime::from_timestamp_nanos(nanos).format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

fn side(levels: &[(&str, &str)]) -> String {
    let levels: Vec<String> =
        levels.iter().map(|(price, amount)| format!(r#"{{"price":"{price}","amount":"{amount}"}}"#)).collect();
    format!(r#"{{"side":null,"levels":[{}]}}"#, levels.join(","))
}

/// An L2 event line: `kind` "Snapshot" or "Update", at `ms` on both clocks (received `late`
/// ms later).
fn book(
    kind: &str,
    ms: i64,
    exchange: &str,
    instrument: u64,
    sequence: u64,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> String {
    format!(
        r#"{{"Item":{{"time_exchange":"{}","time_received":"{}","exchange":"{exchange}","instrument":{instrument},"kind":{{"OrderBook":{{"{kind}":{{"sequence":{sequence},"time_engine":null,"bids":{},"asks":{}}}}}}}}}}}"#,
        time(ms),
        time(ms + 1),
        side(bids),
        side(asks)
    )
}

fn trade(ms: i64, price: f64) -> String {
    format!(
        r#"{{"Item":{{"time_exchange":"{}","time_received":"{}","exchange":"binance_spot","instrument":0,"kind":{{"Trade":{{"id":"1","price":{price},"amount":1.0,"side":"Buy"}}}}}}}}"#,
        time(ms),
        time(ms)
    )
}

fn l1(ms: i64, last_update_ms: i64, bid: (&str, &str), ask: (&str, &str)) -> String {
    format!(
        r#"{{"Item":{{"time_exchange":"{}","time_received":"{}","exchange":"binance_spot","instrument":0,"kind":{{"OrderBookL1":{{"last_update_time":"{}","best_bid":{{"price":"{}","amount":"{}"}},"best_ask":{{"price":"{}","amount":"{}"}}}}}}}}}}"#,
        time(ms),
        time(ms),
        time(last_update_ms),
        bid.0,
        bid.1,
        ask.0,
        ask.1
    )
}

fn data(lines: &[String]) -> MarketData {
    MarketData::from_bytes(lines.join("\n").as_bytes(), "test").unwrap()
}

fn batches(replay: BookReplay) -> Vec<RecordBatch> {
    replay.collect::<Result<_, _>>().unwrap()
}

/// The replay's one batch (these recordings are small).
fn replay(data: &MarketData, options: ReplayOptions) -> RecordBatch {
    let mut batches = batches(BookReplay::of_data_set(data, options).unwrap());
    assert_eq!(batches.len(), 1);
    batches.pop().unwrap()
}

fn options(depth: usize) -> ReplayOptions {
    ReplayOptions { depth, decimals: Decimals::Text, ..ReplayOptions::default() }
}

fn texts(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let column = batch.column_by_name(column).unwrap_or_else(|| panic!("no column {column}"));
    let strings = column.as_string::<i32>();
    (0..strings.len()).map(|row| strings.is_valid(row).then(|| strings.value(row).to_string())).collect()
}

fn u64s(batch: &RecordBatch, column: &str) -> Vec<u64> {
    batch.column_by_name(column).unwrap().as_primitive::<UInt64Type>().values().to_vec()
}

fn bools(batch: &RecordBatch, column: &str) -> Vec<bool> {
    let column = batch.column_by_name(column).unwrap().as_boolean();
    (0..column.len()).map(|row| column.value(row)).collect()
}

fn times(batch: &RecordBatch) -> Vec<i64> {
    batch.column_by_name("time").unwrap().as_primitive::<TimestampNanosecondType>().values().to_vec()
}

/// Row `row`'s levels of one side as (price, amount) text, as far as the row shows them.
fn shown(batch: &RecordBatch, side: &str, row: usize, depth: usize) -> Vec<(String, String)> {
    (0..depth)
        .map_while(|level| {
            let price = texts(batch, &format!("{side}_price_{level}"))[row].clone()?;
            let amount = texts(batch, &format!("{side}_amount_{level}"))[row].clone().unwrap();
            Some((price, amount))
        })
        .collect()
}

fn levels_text(levels: &[Level], depth: usize) -> Vec<(String, String)> {
    levels.iter().take(depth).map(|level| (level.price.to_string(), level.amount.to_string())).collect()
}

/// A recording with what barter's books meet: several books interleaved, updates before the
/// first snapshot, deletes of unknown levels, equal prices at other scales, zero amounts in a
/// snapshot, a crossed book from a dropped delete, a reconnect and a fresh snapshot.
fn recording() -> Vec<String> {
    vec![
        book("Update", 1, "binance_spot", 0, 5, &[("100", "1")], &[]),
        book(
            "Snapshot",
            2,
            "binance_spot",
            0,
            10,
            &[("100.0", "1"), ("99.5", "2"), ("99", "0")],
            &[("101", "1"), ("102", "3")],
        ),
        book("Snapshot", 3, "okx", 0, 7, &[("50", "1")], &[("51", "1")]),
        book("Update", 4, "binance_spot", 0, 11, &[("100.00", "0"), ("98", "0"), ("99.75", "4")], &[("101.5", "2")]),
        book("Update", 5, "okx", 0, 8, &[("50.5", "2")], &[("51", "0")]),
        book("Update", 6, "binance_spot", 0, 9, &[("101.2", "1")], &[]),
        "{\"Reconnecting\":\"binance_spot\"}".to_string(),
        book("Update", 7, "binance_spot", 0, 12, &[("97", "1")], &[]),
        book("Snapshot", 8, "binance_spot", 0, 20, &[("99", "1")], &[("100", "1")]),
        book("Update", 9, "binance_spot", 1, 1, &[("10", "1")], &[("11", "1")]),
    ]
}

#[test]
fn every_row_is_the_book_barters_own_update_builds() {
    let data = data(&recording());
    let batch = replay(&data, options(3));
    let mut books: HashMap<(String, u64), OrderBook> = HashMap::new();
    let mut row = 0;
    for event in data.market_events() {
        let DataKind::OrderBook(book_event) = &event.kind else { continue };
        let book = books.entry((event.exchange.to_string(), event.instrument.index() as u64)).or_default();
        book.update(book_event);
        assert_eq!(shown(&batch, "bid", row, 3), levels_text(book.bids().levels(), 3), "row {row}");
        assert_eq!(shown(&batch, "ask", row, 3), levels_text(book.asks().levels(), 3), "row {row}");
        assert_eq!(u64s(&batch, "sequence")[row], book.sequence());
        let counts = batch.column_by_name("bid_levels").unwrap().as_primitive::<UInt32Type>();
        assert_eq!(counts.value(row) as usize, book.bids().levels().len());
        let mid = texts(&batch, "mid_price")[row].clone().map(|text| Decimal::from_str(&text).unwrap());
        assert_eq!(mid, book.mid_price(), "row {row}");
        let micro = texts(&batch, "microprice")[row].clone().map(|text| Decimal::from_str(&text).unwrap());
        assert_eq!(micro, book.volume_weighed_mid_price(), "row {row}");
        row += 1;
    }
    assert_eq!(row, batch.num_rows());
    // Equal prices at another scale are barter's same level: "100.00" deleted "100.0".
    assert_eq!(
        shown(&batch, "bid", 3, 3),
        [("99.75".into(), "4".into()), ("99.5".into(), "2".into()), ("99".into(), "0".into())]
    );
}

#[test]
fn the_flags_observe_what_barter_does_not_check() {
    let batch = replay(&data(&recording()), options(3));
    // Rows: 0 update before snapshot, 1 snapshot, 2 okx snapshot, 3 update (98 unknown), 4 okx,
    // 5 crossing update with a lower sequence, 6 after the reconnect, 7 snapshot, 8 new book.
    assert_eq!(bools(&batch, "synced"), [false, true, true, true, true, true, false, true, false]);
    assert_eq!(bools(&batch, "after_reconnect"), [false, false, false, false, false, false, true, false, true]);
    assert_eq!(bools(&batch, "crossed"), [false, false, false, false, false, true, true, false, false]);
    assert_eq!(bools(&batch, "sequence_regressed"), [false, false, false, false, false, true, true, false, false]);
    assert_eq!(u64s(&batch, "unknown_deletes"), [0, 0, 0, 1, 0, 1, 1, 0, 0]);
    assert_eq!(u64s(&batch, "updates_since_snapshot"), [1, 0, 0, 1, 1, 2, 3, 0, 1]);
    assert_eq!(u64s(&batch, "event_index"), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(u64s(&batch, "skipped_updates"), [0; 9]);
}

#[test]
fn reset_empties_an_exchanges_books_and_skips_their_updates_until_a_snapshot() {
    let batch = replay(&data(&recording()), ReplayOptions { reconnect: OnReconnect::Reset, ..options(3) });
    assert_eq!(shown(&batch, "bid", 6, 3), []);
    assert_eq!(u64s(&batch, "skipped_updates"), [0, 0, 0, 0, 0, 0, 1, 0, 1]);
    // A book first seen after the marker waits for its snapshot too.
    assert_eq!(shown(&batch, "bid", 8, 3), []);
    assert_eq!(shown(&batch, "bid", 7, 3), [("99".into(), "1".into())]);
}

#[test]
fn trim_leaves_out_the_stale_side_as_tardis_does_and_keeps_barters_book() {
    let lines = vec![
        book("Snapshot", 1, "okx", 0, 1, &[("100", "1"), ("99", "1")], &[("101", "1"), ("102", "1")]),
        // The ask moved to 99.5 but the exchange never deleted bid 100: drop the stale bid.
        book("Update", 2, "okx", 0, 2, &[], &[("99.5", "1"), ("101", "0")]),
        // A bid above every ask, with no ask update: drop asks until uncrossed.
        book("Update", 3, "okx", 0, 3, &[("103", "1")], &[]),
        // An update naming a left-out price decides it again.
        book("Update", 4, "okx", 0, 4, &[("100", "0")], &[]),
    ];
    let data = data(&lines);
    let trimmed = replay(&data, ReplayOptions { crossed: OnCrossed::Trim, ..options(4) });
    let kept = replay(&data, options(4));
    assert_eq!(shown(&trimmed, "bid", 1, 4), [("99".into(), "1".into())]);
    assert_eq!(shown(&trimmed, "ask", 1, 4), [("99.5".into(), "1".into()), ("102".into(), "1".into())]);
    assert_eq!(shown(&kept, "bid", 1, 4)[0], ("100".into(), "1".into()));
    assert_eq!(shown(&trimmed, "ask", 2, 4), []);
    assert_eq!(shown(&trimmed, "bid", 2, 4)[0], ("103".into(), "1".into()));
    let trimmed_levels = trimmed.column_by_name("trimmed_levels").unwrap().as_primitive::<UInt32Type>();
    assert_eq!(trimmed_levels.values().to_vec(), [0, 1, 3, 2]);
    assert_eq!(bools(&trimmed, "crossed"), bools(&kept, "crossed"), "crossed describes barter's book");
    assert_eq!(bools(&kept, "crossed"), [false, true, true, true]);
}

#[test]
fn unknown_deletes_follow_barters_search_when_an_update_names_a_price_twice_or_a_side_is_unsorted() {
    let lines = vec![
        book("Snapshot", 1, "okx", 0, 1, &[("100", "1")], &[("103", "1"), ("101", "1"), ("102", "1")]),
        // 99 is inserted, then deleted: known when barter reaches it.
        book("Update", 2, "okx", 0, 2, &[("99", "1"), ("99", "0"), ("98", "0")], &[]),
        // On the unsorted ask side barter's binary search misses 101.
        book("Update", 3, "okx", 0, 3, &[], &[("101", "0")]),
    ];
    let data = data(&lines);
    let batch = replay(&data, options(3));
    let mut barter = OrderBook::default();
    let mut expected_asks = Vec::new();
    for event in data.market_events() {
        if let DataKind::OrderBook(book_event) = &event.kind {
            barter.update(book_event);
            expected_asks.push(levels_text(barter.asks().levels(), 3));
        }
    }
    assert_eq!(u64s(&batch, "unknown_deletes"), [0, 1, 1 + u64::from(expected_asks[2] == expected_asks[1])]);
    for (row, asks) in expected_asks.iter().enumerate() {
        assert_eq!(&shown(&batch, "ask", row, 3), asks);
    }
}

#[test]
fn the_microprice_is_null_where_barters_division_panics() {
    let lines = vec![book("Snapshot", 1, "okx", 0, 1, &[("100", "0")], &[("101", "0")])];
    let data = data(&lines);
    let DataKind::OrderBook(OrderBookEvent::Snapshot(snapshot)) = &data.market_events().next().unwrap().kind else {
        unreachable!()
    };
    let panicked = std::panic::catch_unwind(|| snapshot.volume_weighed_mid_price()).is_err();
    assert!(panicked, "barter's own microprice panics on this book");
    let batch = replay(&data, options(1));
    assert_eq!(texts(&batch, "microprice"), [None]);
    assert_eq!(texts(&batch, "mid_price"), [Some("100.50".into())]); // rust_decimal's 201 / 2
    assert_eq!(texts(&batch, "spread"), [Some("1".into())]);
}

/// Events stored out of clock order: 5 ms, 12 ms, 8 ms (stored after the 12 ms one), 25 ms.
fn out_of_order() -> MarketData {
    data(&[
        book("Snapshot", 5, "okx", 0, 1, &[("100", "1")], &[("101", "1")]),
        book("Update", 12, "okx", 0, 2, &[("100", "2")], &[]),
        book("Update", 8, "okx", 0, 3, &[("100", "3")], &[]),
        book("Update", 25, "okx", 0, 4, &[("100", "4")], &[]),
    ])
}

#[test]
fn a_grid_row_shows_the_stored_prefix_before_the_first_later_event_quiet_moments_included() {
    let batch = replay(&out_of_order(), ReplayOptions { every: Every::Interval(5_000_000), ..options(1) });
    let moments: Vec<i64> = times(&batch).iter().map(|time| (time - START_NS) / 1_000_000).collect();
    assert_eq!(moments, [5, 10, 15, 20, 25]);
    // At 10 ms: the 12 ms event has come, so the 8 ms one stored after it is not yet applied.
    let amounts: Vec<String> = texts(&batch, "bid_amount_0").into_iter().map(Option::unwrap).collect();
    assert_eq!(amounts, ["1", "1", "3", "3", "4"]);
    assert_eq!(u64s(&batch, "event_index"), [0, 0, 2, 2, 3]);
}

#[test]
fn at_times_are_as_of_rows_sorted_and_the_window_keeps_the_warm_up() {
    let at = vec![START_NS + 30_000_000, START_NS + 5_000_000, START_NS + 4_000_000, START_NS + 12_000_000];
    let batch = replay(&out_of_order(), ReplayOptions { every: Every::At(at), ..options(1) });
    let moments: Vec<i64> = times(&batch).iter().map(|time| (time - START_NS) / 1_000_000).collect();
    // 4 ms comes before the book exists: no row.
    assert_eq!(moments, [5, 12, 30]);
    // At 12 ms: every event stored before the first one stamped after 12 ms (the 25 ms one),
    // the 8 ms update stored after the 12 ms one included.
    let amounts: Vec<String> = texts(&batch, "bid_amount_0").into_iter().map(Option::unwrap).collect();
    assert_eq!(amounts, ["1", "3", "4"]);
    let window =
        ReplayOptions { emit_from: Some(START_NS + 9_000_000), emit_until: Some(START_NS + 25_000_000), ..options(1) };
    let batch = replay(&out_of_order(), window);
    assert_eq!(u64s(&batch, "event_index"), [1], "rows inside the window only");
    assert_eq!(texts(&batch, "ask_price_0"), [Some("101".into())], "the book warmed up before the window");
}

#[test]
fn change_rows_are_the_event_rows_whose_top_levels_differ_from_the_books_previous_row() {
    let data = data(&recording());
    let every = replay(&data, options(1));
    let change = replay(&data, ReplayOptions { every: Every::Change, ..options(1) });
    let top = |batch: &RecordBatch, row: usize| (shown(batch, "bid", row, 1), shown(batch, "ask", row, 1));
    let mut previous: HashMap<(u64, String), _> = HashMap::new();
    let mut expected = Vec::new();
    for row in 0..every.num_rows() {
        let key =
            (u64s(&every, "instrument")[row], format!("{:?}", every.column_by_name("exchange").unwrap().slice(row, 1)));
        let now = top(&every, row);
        if previous.insert(key, now.clone()).as_ref() != Some(&now) {
            expected.push(u64s(&every, "event_index")[row]);
        }
    }
    assert!(expected.len() < every.num_rows(), "some events leave the top level as it was");
    assert_eq!(u64s(&change, "event_index"), expected);
}

#[test]
fn lists_hold_the_wide_columns_values_and_floats_are_the_decimals() {
    let data = data(&recording());
    let wide = replay(&data, ReplayOptions { decimals: Decimals::Float64, ..options(2) });
    let lists = replay(&data, ReplayOptions { decimals: Decimals::Float64, layout: Layout::Lists, ..options(2) });
    let exact = replay(&data, ReplayOptions { decimals: Decimals::Decimal128, ..options(2) });
    let list = lists.column_by_name("ask_price").unwrap().as_fixed_size_list();
    for row in 0..wide.num_rows() {
        let values = list.value(row);
        let values = values.as_primitive::<Float64Type>();
        for level in 0..2 {
            let column = wide.column_by_name(&format!("ask_price_{level}")).unwrap().as_primitive::<Float64Type>();
            assert_eq!(column.is_valid(row), values.is_valid(level));
            if column.is_valid(row) {
                assert_eq!(column.value(row), values.value(level));
                let decimal =
                    exact.column_by_name(&format!("ask_price_{level}")).unwrap().as_primitive::<Decimal128Type>();
                let text = texts(&replay(&data, options(2)), &format!("ask_price_{level}"))[row].clone().unwrap();
                assert_eq!(column.value(row), text.parse::<f64>().unwrap());
                assert_eq!(
                    Decimal::from_i128_with_scale(decimal.value(row), decimal.scale() as u32),
                    Decimal::from_str(&text).unwrap()
                );
            }
        }
    }
}

#[test]
fn lists_of_no_levels_still_have_a_value_per_row() {
    let data = data(&recording());
    for decimals in [Decimals::Text, Decimals::Float64, Decimals::Decimal128] {
        let options = ReplayOptions { depth: 0, layout: Layout::Lists, decimals, ..options(0) };
        let batch = replay(&data, options);
        assert_eq!(batch.num_rows(), 9);
        assert_eq!(batch.column_by_name("bid_price").unwrap().len(), 9, "{decimals:?}");
    }
}

#[test]
fn a_file_in_pieces_replays_as_the_whole_file_books_carried_across() {
    let directory = std::env::temp_dir().join(format!("book_replay_pieces_{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("recording.jsonl");
    let lines: Vec<String> = (0..40)
        .flat_map(|round| {
            let mut lines = recording();
            lines.push(trade(100 + round, 1.0));
            lines
        })
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let data = MarketData::from_file(&path).unwrap();
    for every in [Every::Event, Every::Interval(3_000_000)] {
        let whole =
            batches(BookReplay::of_data_set(&data, ReplayOptions { every: every.clone(), ..options(3) }).unwrap());
        let size = PieceSize { bytes: 2_000, array_items: 7, ..PieceSize::default() };
        let stream = FileStream::open_in_pieces(&path, Default::default(), size).unwrap();
        let pieces =
            BookReplay::of_pieces(Box::new(stream), ReplayOptions { every: every.clone(), ..options(3) }).unwrap();
        let rows: usize = whole.iter().map(RecordBatch::num_rows).sum();
        assert!(rows > if every == Every::Event { 300 } else { 3 }, "{rows} rows");
        assert_eq!(batches(pieces), whole);
    }
    std::fs::remove_dir_all(directory).unwrap();
}

#[test]
fn engine_prices_are_barters_default_instrument_data_strict_times_included() {
    let lines = vec![
        trade(1, 100.5),
        trade(1, 101.0), // same time_exchange: barter keeps the first
        l1(2, 2, ("100", "1"), ("101", "3")),
        l1(3, 2, ("50", "1"), ("51", "1")), // taken: its time_exchange is later than the held L1's
        l1(3, 3, ("60", "1"), ("61", "1")), // the held L1's last_update_time (2) < 3: taken
        l1(3, 3, ("70", "1"), ("71", "1")), // 3 < 3 is false: dropped
        l1(4, 4, ("1", "0"), ("2", "0")),   // barter's microprice would divide by zero
    ];
    let data = data(&lines);
    let prices = EnginePrices::new(&data, Decimals::Text).unwrap();
    let batches: Vec<RecordBatch> = prices.collect::<Result<_, _>>().unwrap();
    let batch = &batches[0];
    assert_eq!(bools(batch, "changed"), [true, false, true, true, true, false, true]);
    let price: Vec<Option<Decimal>> =
        texts(batch, "price").into_iter().map(|text| text.map(|text| Decimal::from_str(&text).unwrap())).collect();
    let microprice = |bid: (i64, i64), ask: (i64, i64)| {
        Some(barter_data::books::volume_weighted_mid_price(Level::new(bid.0, bid.1), Level::new(ask.0, ask.1)))
    };
    let first_trade = Some(Decimal::from_str("100.5").unwrap());
    assert_eq!(
        price,
        [
            first_trade,
            first_trade,
            microprice((100, 1), (101, 3)),
            microprice((50, 1), (51, 1)),
            microprice((60, 1), (61, 1)),
            microprice((60, 1), (61, 1)),
            None
        ]
    );
}

mod c_abi {
    use super::{book, data, recording};
    use arrow_array::{ffi_stream::FFI_ArrowArrayStream, ffi_stream::RecordBatchStreamReader, RecordBatchReader};
    use barter_ffi::{
        base::error::BarterFfiStatus,
        ffi::{
            barter_ffi_error_free,
            book_replay::*,
            file_stream::{
                barter_ffi_file_stream_free, barter_ffi_file_stream_next_batch, barter_ffi_file_stream_open,
            },
            market_data::{barter_ffi_market_data_free, barter_ffi_market_data_load_bytes, BarterFfiMarketData},
            BarterFfiBuffer, BarterFfiError,
        },
    };
    use std::{
        ffi::{CStr, CString},
        ptr,
    };

    fn options() -> BarterFfiBookReplayOptions {
        // SAFETY: all zeros is a valid value of the struct: the defaults, NULL arrays.
        let mut options: BarterFfiBookReplayOptions = unsafe { std::mem::zeroed() };
        options.struct_size = std::mem::size_of::<BarterFfiBookReplayOptions>();
        options.depth = 2;
        options
    }

    fn handle() -> *mut BarterFfiMarketData {
        let bytes = recording().join("\n");
        let mut handle = ptr::null_mut();
        let status =
            barter_ffi_market_data_load_bytes(bytes.as_ptr(), bytes.len(), ptr::null(), &mut handle, ptr::null_mut());
        assert_eq!(status, BarterFfiStatus::Ok);
        handle
    }

    /// The status and message of a replay of the recording with `options`; the out-stream must
    /// stay untouched on failure.
    fn replay_status(options: *const BarterFfiBookReplayOptions, market_data: bool) -> (BarterFfiStatus, String) {
        let handle = handle();
        let mut stream = FFI_ArrowArrayStream::empty();
        let mut error = BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() };
        let data = if market_data { handle.cast_const() } else { ptr::null() };
        let status = barter_ffi_market_data_book_replay(data, options, &mut stream, &mut error);
        let message = if error.message.is_null() {
            String::new()
        } else {
            unsafe { CStr::from_ptr(error.message) }.to_string_lossy().into_owned()
        };
        if status != BarterFfiStatus::Ok {
            assert!(stream.release().is_none(), "a failed call writes no stream");
        }
        barter_ffi_error_free(&mut error);
        barter_ffi_market_data_free(handle);
        (status, message)
    }

    #[test]
    fn bad_arguments_are_statuses_naming_the_field() {
        assert_eq!(replay_status(&options(), false).0, BarterFfiStatus::NullArgument);
        assert_eq!(replay_status(ptr::null(), true).0, BarterFfiStatus::NullArgument);
        let cases: [(fn(&mut BarterFfiBookReplayOptions), &str); 8] = [
            (|o| o.struct_size = 8, "options.struct_size is 8, not sizeof(BarterFfiBookReplayOptions)"),
            (|o| o.every = 9, "every 9 is not a BarterFfiBookEvery"),
            (|o| o.clock = 2, "clock 2 is not a BarterFfiBookClock"),
            (|o| o.layout = 5, "layout 5 is not a BarterFfiBookLayout"),
            (|o| o.crossed = 3, "crossed 3 is not a BarterFfiBookCrossed"),
            (|o| o.depth = 5001, "depth is 5001, more than the 5000 levels"),
            (|o| (o.every, o.interval_ns) = (2, 0), "the sampling interval must be at least 1 ns, not 0"),
            (
                |o| (o.has_emit_from, o.emit_from_ns, o.has_emit_until, o.emit_until_ns) = (1, 5, 1, 5),
                "emit_from (5 ns) must lie before emit_until (5 ns)",
            ),
        ];
        for (change, expected) in cases {
            let mut options = options();
            change(&mut options);
            let (status, message) = replay_status(&options, true);
            assert_eq!(status, BarterFfiStatus::InvalidArgument, "{message}");
            assert!(message.starts_with(expected), "{message}");
        }
        let mut at_without_times = options();
        (at_without_times.every, at_without_times.at_len) = (3, 2);
        assert_eq!(
            replay_status(&at_without_times, true),
            (BarterFfiStatus::NullArgument, "argument `at_ns` is NULL".into())
        );
        let bad_name = CString::new("nasdaq").unwrap();
        let names = [bad_name.as_ptr()];
        let mut unknown_exchange = options();
        (unknown_exchange.exchanges, unknown_exchange.exchanges_len) = (names.as_ptr(), 1);
        let (status, message) = replay_status(&unknown_exchange, true);
        assert_eq!(status, BarterFfiStatus::InvalidArgument);
        assert!(message.contains("unknown variant `nasdaq`"), "{message}");
    }

    #[test]
    fn the_stream_outlives_its_handle_and_selects_books() {
        let handle = handle();
        let okx = CString::new("okx").unwrap();
        let names = [okx.as_ptr()];
        let mut options = options();
        (options.exchanges, options.exchanges_len) = (names.as_ptr(), 1);
        let mut stream = FFI_ArrowArrayStream::empty();
        let status = barter_ffi_market_data_book_replay(handle, &options, &mut stream, ptr::null_mut());
        assert_eq!(status, BarterFfiStatus::Ok);
        barter_ffi_market_data_free(handle);
        let reader = unsafe { RecordBatchStreamReader::from_raw(&mut stream) }.unwrap();
        assert!(reader.schema().field_with_name("bid_price_1").is_ok());
        let rows: usize = reader.map(|batch| batch.unwrap().num_rows()).sum();
        assert_eq!(rows, 2, "okx's two events");
    }

    #[test]
    fn a_file_stream_hands_its_rest_to_the_replay_and_is_left_at_its_end() {
        let path = std::env::temp_dir().join(format!("book_replay_ffi_{}.jsonl", std::process::id()));
        let mut lines = recording();
        lines.push(book("Update", 10, "okx", 0, 9, &[("49", "1")], &[]));
        std::fs::write(&path, lines.join("\n")).unwrap();
        let c_path = CString::new(path.to_str().unwrap()).unwrap();
        let mut stream = ptr::null_mut();
        assert_eq!(
            barter_ffi_file_stream_open(c_path.as_ptr(), ptr::null(), &mut stream, ptr::null_mut()),
            BarterFfiStatus::Ok
        );
        let mut arrow = FFI_ArrowArrayStream::empty();
        assert_eq!(
            barter_ffi_file_stream_book_replay(stream, &options(), &mut arrow, ptr::null_mut()),
            BarterFfiStatus::Ok
        );
        let mut buffer = BarterFfiBuffer { data: ptr::null_mut(), len: 0, capacity: 0 };
        assert_eq!(barter_ffi_file_stream_next_batch(stream, 10, &mut buffer, ptr::null_mut()), BarterFfiStatus::Ok);
        assert_eq!(unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) }, [0x90], "the stream is at its end");
        barter_ffi::ffi::barter_ffi_buffer_free(&mut buffer);
        barter_ffi_file_stream_free(stream);
        let reader = unsafe { RecordBatchStreamReader::from_raw(&mut arrow) }.unwrap();
        let rows: usize = reader.map(|batch| batch.unwrap().num_rows()).sum();
        assert_eq!(rows, data(&lines).kinds().events(2).len());
        std::fs::remove_file(path).unwrap();
    }
}
