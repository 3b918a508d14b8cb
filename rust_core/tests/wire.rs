//! Pins the batch layout documented in `src/output/wire.rs`: every variant, every field, in order.

mod common;

use barter_data::{
    books::Level,
    event::{DataKind, MarketEvent},
    subscription::book::OrderBookEvent,
};
use barter_ffi::{
    data_set::market_data::MarketData,
    output::{
        cursor::Cursor,
        wire::{side_name, BatchLayout},
    },
};
use barter_instrument::{instrument::InstrumentIndex, Side};
use chrono::{DateTime, Utc};
use common::fixture;
use rmpv::Value;

/// The layout of `src/output/wire.rs`, restated independently with rmpv values.
fn expected(event: &MarketEvent<InstrumentIndex, DataKind>) -> Value {
    let ns = |time: DateTime<Utc>| Value::from(time.timestamp_nanos_opt().unwrap());
    let level = |level: &Level| Value::Array(vec![level.price.to_string().into(), level.amount.to_string().into()]);
    let optional = |maybe: Option<Level>| maybe.as_ref().map_or(Value::Nil, level);
    let levels = |levels: &[Level]| Value::Array(levels.iter().map(level).collect());
    let kind = match &event.kind {
        DataKind::Trade(trade) => vec![
            0.into(),
            trade.id.as_str().into(),
            trade.price.into(),
            trade.amount.into(),
            side_name(trade.side).into(),
        ],
        DataKind::OrderBookL1(l1) => {
            vec![1.into(), ns(l1.last_update_time), optional(l1.best_bid), optional(l1.best_ask)]
        }
        DataKind::OrderBook(book_event) => {
            let (tag, book) = match book_event {
                OrderBookEvent::Snapshot(book) => (2, book),
                OrderBookEvent::Update(book) => (3, book),
            };
            vec![
                tag.into(),
                book.sequence().into(),
                book.time_engine().map_or(Value::Nil, ns),
                levels(book.bids().levels()),
                levels(book.asks().levels()),
            ]
        }
        DataKind::Candle(c) => vec![
            4.into(),
            ns(c.close_time),
            c.open.into(),
            c.high.into(),
            c.low.into(),
            c.close.into(),
            c.volume.into(),
            c.trade_count.into(),
        ],
        DataKind::Liquidation(l) => {
            vec![5.into(), side_name(l.side).into(), l.price.into(), l.quantity.into(), ns(l.time)]
        }
    };
    Value::Array(vec![
        ns(event.time_exchange),
        ns(event.time_received),
        event.exchange.as_str().into(),
        (event.instrument.index() as u64).into(),
        Value::Array(kind),
    ])
}

#[test]
fn every_variant_is_encoded_as_documented() {
    for name in ["all_kinds.jsonl", "all_kinds_results.json"] {
        let data = MarketData::from_file(&fixture(name)).unwrap();
        let mut bytes = Vec::new();
        Cursor::new(&data).next_batch(1000, BatchLayout::Events, &mut bytes).unwrap();
        let decoded = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
        let expected = Value::Array(data.market_events().map(expected).collect());
        assert_eq!(decoded, expected, "{name}");
    }
}

#[test]
fn wire_names_are_barters_serde_names() {
    for side in [Side::Buy, Side::Sell] {
        assert_eq!(serde_json::to_string(&side).unwrap(), format!("\"{}\"", side_name(side)));
    }
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    for event in data.market_events() {
        assert_eq!(serde_json::to_string(&event.exchange).unwrap(), format!("\"{}\"", event.exchange.as_str()));
    }
}

#[test]
fn decimals_travel_with_every_digit_of_their_scale() {
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    let mut bytes = Vec::new();
    Cursor::new(&data).next_batch(1000, BatchLayout::Events, &mut bytes).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for written in ["96962.50000000", "0.51200000", "96001.000", "0.000100"] {
        assert!(text.contains(written), "{written}");
    }
}

#[test]
fn reading_ahead_yields_every_event_once_in_order() {
    use barter_ffi::output::read_ahead::ReadAheadCursor;
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    let mut all = Vec::new();
    Cursor::new(&data).next_batch(1000, BatchLayout::Events, &mut all).unwrap();
    let all = rmpv::decode::read_value(&mut all.as_slice()).unwrap();
    for sizes in [vec![1], vec![2, 5, 1], vec![4, 2], vec![11], vec![3, 1, 1, 7]] {
        let mut ahead = ReadAheadCursor::new(&data);
        let mut seen = Vec::new();
        // Growing, shrinking and repeated sizes: a prefetched batch too large must not be used.
        for round in 0.. {
            let max_events = sizes[round % sizes.len()];
            let batch = ahead.next_batch(max_events, BatchLayout::Events).unwrap();
            let Value::Array(events) = rmpv::decode::read_value(&mut batch.as_slice()).unwrap() else { panic!() };
            assert!(events.len() <= max_events, "sizes {sizes:?}");
            if events.is_empty() {
                break;
            }
            seen.extend(events);
        }
        assert_eq!(Value::Array(seen), all, "sizes {sizes:?}");
        assert!(
            ahead.next_batch(3, BatchLayout::Events).map(|batch| batch == [0x90]).unwrap(),
            "the end stays the end"
        );
    }
}

#[test]
fn decoding_a_batch_gives_back_barters_events() {
    for name in ["all_kinds.jsonl", "all_kinds_results.json"] {
        let data = MarketData::from_file(&fixture(name)).unwrap();
        let mut bytes = Vec::new();
        Cursor::new(&data).next_batch(1000, BatchLayout::Events, &mut bytes).unwrap();
        let decoded = barter_ffi::output::wire::decode_batch(&bytes).unwrap();
        assert_eq!(decoded.iter().collect::<Vec<_>>(), data.market_events().collect::<Vec<_>>(), "{name}");
        let rebuilt = MarketData::from_batch(&bytes, BatchLayout::Events).unwrap();
        assert_eq!(rebuilt.time_first_event_ns().unwrap(), data.time_first_event_ns().unwrap());
    }
}

#[test]
fn decoding_errors_name_the_event_and_the_field() {
    let trade = |exchange: Value, instrument: Value, side: &str| {
        Value::Array(vec![
            Value::from(1i64),
            Value::from(2i64),
            exchange,
            instrument,
            Value::Array(vec![0.into(), "id".into(), 1.5.into(), 2.into(), side.into()]),
        ])
    };
    let encode = |events: Vec<Value>| {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &Value::Array(events)).unwrap();
        bytes
    };
    let good = trade("okx".into(), 0.into(), "Buy");
    let cases = [
        (vec![good.clone(), trade("nyse".into(), 0.into(), "Buy")], "event 1: `exchange`: unknown variant `nyse`"),
        (
            vec![trade("okx".into(), Value::from(-1i64), "Buy")],
            "event 0: `instrument` must be a non-negative integer, not -1",
        ),
        (
            vec![good.clone(), good.clone(), trade("okx".into(), 0.into(), "Long")],
            "event 2: `side`: unknown variant `Long`",
        ),
        (vec![Value::from("x")], "event 0: event must be an array of 5 fields"),
    ];
    let with_price = |price: f64| {
        Value::Array(vec![
            Value::from(1i64),
            Value::from(2i64),
            "okx".into(),
            0.into(),
            Value::Array(vec![0.into(), "id".into(), price.into(), 2.into(), "Buy".into()]),
        ])
    };
    for price in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let error =
            MarketData::from_batch(&encode(vec![good.clone(), with_price(price)]), BatchLayout::Events).unwrap_err();
        assert!(error.message.starts_with("event 1: `price` must be a finite number"), "{}", error.message);
    }
    for (events, expected) in cases {
        let error = MarketData::from_batch(&encode(events), BatchLayout::Events).unwrap_err();
        assert!(error.message.starts_with(expected), "{}", error.message);
    }
    assert!(
        MarketData::from_batch(&encode(vec![trade("huobi".into(), 0.into(), "buy")]), BatchLayout::Events).is_ok(),
        "barter's aliases"
    );
    let empty = MarketData::from_batch(&encode(vec![]), BatchLayout::Events).unwrap();
    assert!(empty.is_empty(), "no events: an empty data set, as from_events([]) makes");
}

#[test]
fn exchange_names_are_every_name_barter_reads_once_each() {
    use barter_instrument::exchange::ExchangeId;
    use serde::Deserialize;
    let names = barter_ffi::output::wire::exchange_names();
    assert!(names.len() >= 40, "{names:?}");
    assert!(names.contains(&"binance_spot") && names.contains(&"htx") && names.contains(&"okx"));
    assert!(!names.contains(&"huobi"), "an alias maps to its exchange's own name");
    for (index, name) in names.iter().enumerate() {
        let exchange = ExchangeId::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name));
        assert_eq!(exchange.unwrap().as_str(), *name);
        assert!(!names[..index].contains(name), "{name} twice");
    }
}

#[test]
fn the_end_of_data_is_what_an_exhausted_cursor_encodes() {
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    for layout in [BatchLayout::Events, BatchLayout::Items] {
        let mut cursor = Cursor::new(&data);
        let mut batch = Vec::new();
        cursor.next_batch(usize::MAX, layout, &mut batch).unwrap();
        assert!(!barter_ffi::output::wire::is_end(&batch, layout));
        batch.clear();
        cursor.next_batch(usize::MAX, layout, &mut batch).unwrap();
        assert_eq!(batch, barter_ffi::output::wire::end_of_data(layout), "{layout:?}");
    }
}
