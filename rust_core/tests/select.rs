//! Merging by exchange time and filtering, on barter's own types.

mod common;

use barter_data::{event::DataKind, streams::reconnect::Event};
use barter_ffi::{
    market_data::MarketData,
    select::{filter, merge, EventFilter},
    wire,
};
use barter_instrument::exchange::ExchangeId;
use common::fixture;

fn load(name: &str) -> MarketData {
    MarketData::from_file(&fixture(name)).unwrap()
}

fn nanos(data: &MarketData) -> Vec<i64> {
    data.market_events().map(|event| event.time_exchange.timestamp_nanos_opt().unwrap()).collect()
}

#[test]
fn merge_orders_by_exchange_time_and_keeps_every_item() {
    let (trades, candles, kinds) = (load("trades.json"), load("candles.jsonl"), load("all_kinds.jsonl"));
    let merged = merge(&[&trades, &candles, &kinds]).unwrap();
    let times = nanos(&merged);
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "ordered by time_exchange");
    assert_eq!(merged.len(), trades.len() + candles.len() + kinds.len());
    assert_eq!(merged.stats().reconnects, 1 + 1 + 2);
}

#[test]
fn merge_is_stable_for_ties_and_keeps_reconnects_after_their_item() {
    // trades.json: two trades at .175 (ids ...47, ...48); all_kinds.jsonl starts with one at .175.
    let (trades, kinds) = (load("trades.json"), load("all_kinds.jsonl"));
    let merged = merge(&[&trades, &kinds]).unwrap();
    let ids: Vec<String> = merged
        .market_events()
        .take(3)
        .map(|event| match &event.kind {
            DataKind::Trade(trade) => trade.id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, ["4314349047", "4314349048", "4314349047"], "argument order, then file order");
    let reversed = merge(&[&kinds, &trades]).unwrap();
    assert_eq!(reversed.market_events().next(), kinds.market_events().next());
    // trades.json's reconnect follows its third trade (instrument 2, .176), wherever that lands.
    let items = merged.stream_events();
    let marker = items.iter().position(|item| matches!(item, Event::Reconnecting(ExchangeId::BinanceSpot))).unwrap();
    let Event::Item(before) = &items[marker - 1] else { panic!() };
    let DataKind::Trade(trade) = &before.kind else { panic!() };
    assert_eq!(trade.id, "1870251001");
}

#[test]
fn filter_by_kind_exchange_instrument_and_time() {
    let data = load("all_kinds.jsonl");
    let only = |f: EventFilter| filter(&data, &f).map(|kept| kept.len());
    let kinds = [wire::TAG_ORDER_BOOK_SNAPSHOT, wire::TAG_ORDER_BOOK_UPDATE].into_iter().collect();
    assert_eq!(only(EventFilter { kinds: Some(kinds), ..Default::default() }).unwrap(), 3);
    let exchanges = [ExchangeId::BybitSpot, ExchangeId::Okx].into_iter().collect();
    let kept = filter(&data, &EventFilter { exchanges: Some(exchanges), ..Default::default() }).unwrap();
    assert_eq!(kept.len(), 4);
    assert_eq!(kept.stats().reconnects, 1, "the okx marker stays, the binance_spot one goes");
    assert_eq!(only(EventFilter { instruments: Some([3, 4].into_iter().collect()), ..Default::default() }).unwrap(), 2);
    let start = nanos(&data)[2];
    let end = nanos(&data)[5];
    let window =
        filter(&data, &EventFilter { start_ns: Some(start), end_ns: Some(end), ..Default::default() }).unwrap();
    assert_eq!(nanos(&window), nanos(&data)[2..5], "start inclusive, end exclusive");
    let none = only(EventFilter { instruments: Some([99].into_iter().collect()), ..Default::default() }).unwrap_err();
    assert_eq!(none.message, "no market event matches the filter");
}
