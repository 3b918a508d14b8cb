//! Merging by exchange time and filtering, on barter's own types.

mod common;

use barter_data::{event::DataKind, streams::reconnect::Event};
use barter_ffi::read::compression::BarterFfiCompression;
use barter_ffi::{
    base::event,
    data_set::{
        market_data::{JsonShape, MarketData},
        select::{filter, load_bytes, merge, EventFilter},
    },
    parse::load::parse_selected,
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
fn merge_is_stable_for_ties_and_moves_reconnects_with_the_event_after_them() {
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
    // Every marker sits just before the event that followed it in its own data set.
    for data in [&trades, &kinds] {
        let items = data.stream_events();
        for (position, item) in items.iter().enumerate() {
            let Event::Reconnecting(_) = item else { continue };
            let Some(Event::Item(owner)) = items[position..].iter().find(|item| matches!(item, Event::Item(_))) else {
                continue;
            };
            let merged_items = merged.stream_events();
            let at = merged_items.iter().position(|item| matches!(item, Event::Item(event) if event == owner)).unwrap();
            assert!(matches!(merged_items[at - 1], Event::Reconnecting(_)), "a marker right before its event");
        }
    }
}

#[test]
fn merge_sorts_inputs_recorded_out_of_exchange_order() {
    let data = load("all_kinds.jsonl");
    let lines = String::from_utf8(data.to_json(JsonShape::Lines).unwrap()).unwrap();
    let reversed: Vec<&str> = lines.lines().rev().collect();
    let reconnects = data.stats().reconnects;
    let shuffled = MarketData::from_bytes(reversed.join("\n").as_bytes(), "shuffled").unwrap();
    let merged = merge(&[&shuffled]).unwrap();
    let times = nanos(&merged);
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "ordered by time_exchange");
    assert_eq!(merged.len(), data.len());
    assert_eq!(merged.stats().reconnects, reconnects);
}

#[test]
fn filter_by_kind_exchange_instrument_and_time() {
    let data = load("all_kinds.jsonl");
    let only = |f: EventFilter| filter(&data, &f).map(|kept| kept.len());
    let kinds = [event::TAG_ORDER_BOOK_SNAPSHOT, event::TAG_ORDER_BOOK_UPDATE].into_iter().collect();
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
    let none = filter(&data, &EventFilter { instruments: Some([99].into_iter().collect()), ..Default::default() });
    let none = none.unwrap();
    assert!(none.is_empty(), "no match: an empty data set");
    assert_eq!(none.stats().reconnects, 2, "its markers stay: an instrument is no marker's axis");
    assert_eq!(
        none.time_first_event_ns().unwrap_err().status,
        barter_ffi::base::error::BarterFfiStatus::NoMarketEvents
    );
}

#[test]
fn a_time_window_keeps_only_the_markers_whose_event_lies_in_it() {
    // all_kinds.jsonl: a binance_spot marker before event 2, an okx marker after the last event.
    let data = load("all_kinds.jsonl");
    let times = nanos(&data);
    let markers = |kept: &MarketData| -> Vec<String> {
        kept.stream_events()
            .iter()
            .filter_map(|item| match item {
                Event::Reconnecting(exchange) => Some(exchange.as_str().to_string()),
                Event::Item(_) => None,
            })
            .collect()
    };
    let window = |start: usize, end: Option<usize>| {
        filter(
            &data,
            &EventFilter { start_ns: Some(times[start]), end_ns: end.map(|end| times[end]), ..Default::default() },
        )
        .unwrap()
    };
    assert_eq!(markers(&window(2, Some(5))), ["binance_spot"], "its event, 2, is in the window");
    assert_eq!(markers(&window(3, Some(5))), Vec::<String>::new(), "its event is before the window");
    assert_eq!(markers(&window(0, Some(2))), Vec::<String>::new(), "its event is the window's end");
    assert_eq!(markers(&window(5, None)), ["okx"], "the last marker goes with the last event");
}

/// Every selection a user might make of a data set: each kind alone, exchanges, instruments,
/// windows cutting at every distinct time (so that markers fall just in and just out), and mixes.
fn selections(data: &MarketData) -> Vec<EventFilter> {
    let times: Vec<i64> = nanos(data).into_iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut selections: Vec<EventFilter> =
        (0..6u8).map(|tag| EventFilter { kinds: Some([tag].into_iter().collect()), ..Default::default() }).collect();
    selections.push(EventFilter { exchanges: Some([ExchangeId::Okx].into_iter().collect()), ..Default::default() });
    selections.push(EventFilter { instruments: Some([0, 3].into_iter().collect()), ..Default::default() });
    selections.push(EventFilter { instruments: Some([99].into_iter().collect()), ..Default::default() });
    for (index, &time) in times.iter().enumerate() {
        selections.push(EventFilter { start_ns: Some(time), ..Default::default() });
        selections.push(EventFilter { end_ns: Some(time), ..Default::default() });
        selections.push(EventFilter {
            kinds: Some([event::TAG_TRADE, event::TAG_CANDLE].into_iter().collect()),
            exchanges: Some([ExchangeId::BinanceSpot, ExchangeId::Okx].into_iter().collect()),
            start_ns: Some(times[index / 2]),
            end_ns: Some(time.saturating_add(1)),
            ..Default::default()
        });
    }
    selections
}

fn assert_selective_load_matches_whole_load_filtered(bytes: &[u8], source: &str) {
    let whole = MarketData::from_bytes(bytes, source).unwrap();
    for selection in selections(&whole) {
        let expected = filter(&whole, &selection).unwrap();
        let selected = load_bytes(bytes, source, &selection).unwrap();
        assert_eq!(selected.stream_events(), expected.stream_events(), "{source}: {selection:?}");
        // In one pass, not through the whole-input fallback: every market event built or skipped.
        let parsed = parse_selected(bytes, source, &selection, &mut |_| true).unwrap();
        let built = parsed.events.len() as u64 - parsed.reconnects;
        assert_eq!(built + parsed.skipped.len() as u64, whole.len(), "{source}: {selection:?}");
        assert_eq!(selected.stats(), expected.stats(), "{source}: {selection:?}");
    }
}

#[test]
fn a_selective_load_is_the_whole_load_filtered() {
    for name in ["all_kinds.jsonl", "all_kinds_results.json", "trades.json", "candles.jsonl"] {
        assert_selective_load_matches_whole_load_filtered(&std::fs::read(fixture(name)).unwrap(), name);
    }
}

#[test]
fn a_selective_load_in_parallel_chunks_is_the_whole_load_filtered() {
    // Enough copies of the fixtures that both shapes are parsed in chunks on several threads,
    // with markers at the chunk edges somewhere among them.
    let lines = std::fs::read_to_string(fixture("all_kinds.jsonl")).unwrap();
    let many_lines = lines.repeat(2_000);
    assert!(many_lines.len() > 5 << 20);
    assert_selective_load_matches_whole_load_filtered(many_lines.as_bytes(), "many.jsonl");
    let array = std::fs::read_to_string(fixture("all_kinds_results.json")).unwrap();
    let items = array.trim().trim_start_matches('[').trim_end_matches(']').trim();
    let many_items = format!("[{}]", vec![items; 2_500].join(",\n"));
    assert_selective_load_matches_whole_load_filtered(many_items.as_bytes(), "many.json");
}

#[test]
fn a_selective_load_reports_the_files_first_error_and_refuses_an_input_without_events() {
    let only_trades = EventFilter { kinds: Some([event::TAG_TRADE].into_iter().collect()), ..Default::default() };
    // A candle that barter refuses, then a trade that is kept and broken: the whole load's first
    // error is the candle's, and so is the selective load's.
    let input = format!(
        "{}\n{}\n",
        common::TRADE_LINE.replace(
            r#""Trade":{"id":"1","price":1.5,"amount":2.0,"side":"Buy"}"#,
            r#""Candle":{"close_time":"2024-12-20T19:05:18Z","open":"x"}"#
        ),
        common::TRADE_LINE.replace(r#""price":1.5"#, r#""price":"#),
    );
    let whole = MarketData::from_bytes(input.as_bytes(), "broken.jsonl").unwrap_err();
    let selected = load_bytes(input.as_bytes(), "broken.jsonl", &only_trades).unwrap_err();
    assert_eq!((selected.status, selected.message.clone()), (whole.status, whole.message.clone()));
    assert!(whole.message.contains("line 1"), "{}", whole.message);
    // What lies inside an event left out goes unseen, in both shapes.
    let broken_candle = r#"{"time_exchange":"2024-12-20T19:05:18Z","time_received":"2024-12-20T19:05:18Z","exchange":"okx","instrument":1,"kind":{"Candle":{"open":"x"}}}"#;
    let trade = common::TRADE_LINE.strip_prefix(r#"{"Item":"#).and_then(|rest| rest.strip_suffix('}')).unwrap();
    for (input, source) in [
        (format!("{{\"Item\":{broken_candle}}}\n{}\n", common::TRADE_LINE), "lines.jsonl"),
        (format!("[{{\"Item\":{{\"Ok\":{broken_candle}}}}},{{\"Item\":{{\"Ok\":{trade}}}}}]"), "array.json"),
    ] {
        assert!(MarketData::from_bytes(input.as_bytes(), source).is_err());
        assert_eq!(load_bytes(input.as_bytes(), source, &only_trades).unwrap().len(), 1, "{source}");
    }
    // What is not JSON inside an event left out is reported, exactly as the whole load words it,
    // whether the structural scan or the serde walk meets it first.
    for payload in [r#"{"open":01}"#, r#"{"open":[1,]}"#, r#"{"open":"\x01"}"#, r#"{"open":"\q"}"#, r#"{"open":1"#] {
        let input = format!(
            "{}\n{}\n",
            common::TRADE_LINE,
            common::TRADE_LINE.replace(
                r#""Trade":{"id":"1","price":1.5,"amount":2.0,"side":"Buy"}"#,
                &format!(r#""Candle":{payload}"#)
            )
        );
        let whole = MarketData::from_bytes(input.as_bytes(), "broken.jsonl").unwrap_err();
        let selected = load_bytes(input.as_bytes(), "broken.jsonl", &only_trades).unwrap_err();
        assert_eq!((selected.status, &selected.message), (whole.status, &whole.message), "{payload}");
        assert!(whole.message.contains("line 2"), "{}", whole.message);
    }
    let markers_only = r#"{"Reconnecting":"okx"}"#;
    let refused = load_bytes(markers_only.as_bytes(), "markers.jsonl", &only_trades).unwrap_err();
    assert_eq!(refused.status, barter_ffi::base::error::BarterFfiStatus::NoMarketEvents);
}

/// A data set of markers alone: what `from_parquet("day/reconnects.parquet")` and
/// `from_events([Reconnecting(...)])` make.
fn markers_only(exchanges: &[ExchangeId]) -> MarketData {
    let lines: String =
        exchanges.iter().map(|exchange| format!("{{\"Reconnecting\":\"{}\"}}\n", exchange.as_str())).collect();
    MarketData::from_json_items(lines.as_bytes(), "markers").unwrap()
}

#[test]
fn markers_without_market_events_are_kept_by_every_selection() {
    let markers = markers_only(&[ExchangeId::Okx, ExchangeId::Kraken]);
    assert_eq!((markers.len(), markers.stats().reconnects), (0, 2), "kept, not dropped");
    let okx = EventFilter { exchanges: Some([ExchangeId::Okx].into_iter().collect()), ..Default::default() };
    assert_eq!(filter(&markers, &okx).unwrap().stats().reconnects, 1, "by exchange");
    assert_eq!(filter(&markers, &EventFilter::default()).unwrap().stats().reconnects, 2);
    let window = EventFilter { end_ns: Some(i64::MAX), ..Default::default() };
    assert_eq!(filter(&markers, &window).unwrap().stats().reconnects, 0, "untimed: in no time window");
    let merged = merge(&[&markers, &markers]).unwrap();
    assert_eq!((merged.len(), merged.stats().reconnects), (0, 4));
    let kinds = load("all_kinds.jsonl");
    let merged = merge(&[&kinds, &markers]).unwrap();
    assert_eq!(merged.stats().reconnects, kinds.stats().reconnects + 2);
    assert!(
        matches!(
            merged.stream_events()[..2],
            [Event::Reconnecting(ExchangeId::Okx), Event::Reconnecting(ExchangeId::Kraken)]
        ),
        "untimed markers go first, in their order"
    );
    // A filter matching no market event keeps the markers its rule keeps, as for any other match.
    let no_candle = filter(
        &load("trades.json"),
        &EventFilter { kinds: Some([event::TAG_CANDLE].into_iter().collect()), ..Default::default() },
    )
    .unwrap();
    assert_eq!((no_candle.len(), no_candle.stats().reconnects), (0, 1));
    assert_eq!(no_candle.to_json(JsonShape::Lines).unwrap(), b"{\"Reconnecting\":\"binance_spot\"}\n");
}

#[test]
fn a_data_set_without_market_events_is_not_written_to_a_json_file() {
    let path = std::env::temp_dir().join(format!("barter_ffi_markers_only_{}.jsonl", std::process::id()));
    for data in [markers_only(&[ExchangeId::Okx]), markers_only(&[])] {
        let error = data.to_json_file(&path, JsonShape::Lines, BarterFfiCompression::None).unwrap_err();
        assert_eq!(error.status, barter_ffi::base::error::BarterFfiStatus::NoMarketEvents);
        assert!(error.message.contains("no market event"), "{}", error.message);
        assert!(!path.exists(), "nothing written");
    }
}

#[test]
fn json_items_without_market_events_are_an_empty_data_set_that_keeps_them() {
    let markers =
        MarketData::from_json_items(b"{\"Reconnecting\":\"okx\"}\n{\"Reconnecting\":\"huobi\"}\n", "made").unwrap();
    assert_eq!((markers.len(), markers.stats().reconnects), (0, 2));
    let errors = MarketData::from_json_items(br#"[{"Item":{"Err":{"Socket":"x"}}}]"#, "made").unwrap();
    assert_eq!(errors.stats().errors_skipped, 1);
    assert_eq!(MarketData::from_json_items(b" \n", "made").unwrap().stats(), Default::default());
    assert!(MarketData::from_json_items(b"{\"Reconnecting\":\"nasdaq\"}", "made").is_err(), "barter's checks");
    let kinds = load("all_kinds.jsonl");
    let again = MarketData::from_json_items(&kinds.to_json(JsonShape::Lines).unwrap(), "made").unwrap();
    assert_eq!(again.stream_events(), kinds.stream_events());
}
