//! Market events by index and slices: checked against a plain walk over barter's vector.

mod common;

use barter_data::streams::reconnect::Event;
use barter_ffi::{
    base::{error::BarterFfiStatus, event::StreamEvent},
    data_set::{market_data::MarketData, sequence::slice},
    output::{cursor::encode_events, wire},
};
use common::TRADE_LINE;

const MARKER: &str = r#"{"Reconnecting":"binance_spot"}"#;

/// `layout`: `T` a trade (ids 0, 1, 2, … in order), `R` a reconnect marker.
fn data(layout: &str) -> MarketData {
    let mut trade = 0;
    let lines: Vec<String> = layout
        .chars()
        .map(|item| match item {
            'T' => {
                trade += 1;
                TRADE_LINE.replace(r#""id":"1""#, &format!(r#""id":"{}""#, trade - 1))
            }
            _ => MARKER.to_string(),
        })
        .collect();
    // Items a program made: a layout without a trade is a data set too.
    MarketData::from_json_items(lines.join("\n").as_bytes(), "test").unwrap()
}

/// The slice as a walk describes it: trades by id, markers as `R`.
fn describe(items: &[StreamEvent]) -> String {
    items
        .iter()
        .map(|item| match item {
            Event::Item(event) => match &event.kind {
                barter_data::event::DataKind::Trade(trade) => trade.id.clone(),
                other => panic!("only trades here, not {other:?}"),
            },
            Event::Reconnecting(_) => "R".to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The module's rule, written as a walk: a marker belongs to the next market event (after the
/// last one, to the last one; without any, to the data set), and goes with the slice when that
/// event's index lies in `start..stop`.
fn walked_slice(items: &[StreamEvent], start: usize, stop: usize, step: usize, len: usize) -> String {
    let mut kept = Vec::new();
    let mut index = 0;
    for item in items {
        match item {
            Event::Item(_) => {
                if (start..stop).contains(&index) && (index - start) % step == 0 {
                    kept.push(item.clone());
                }
                index += 1;
            }
            Event::Reconnecting(_)
                if (start..stop).contains(&index) || (index == len && stop == len && (start < stop || len == 0)) =>
            {
                kept.push(item.clone())
            }
            Event::Reconnecting(_) => {}
        }
    }
    describe(&kept)
}

const LAYOUTS: [&str; 7] = ["T", "RTTRRTTR", "TRTRT", "RRTTT", "TTTRR", "RR", ""];

#[test]
fn every_slice_matches_the_walk() {
    for layout in LAYOUTS {
        let data = data(layout);
        let len = data.len() as usize;
        for start in 0..=len {
            for stop in start..=len {
                for step in 1..=3 {
                    let expected = walked_slice(data.stream_events(), start, stop, step, len);
                    let sliced = slice(&data, start as u64, stop as u64, step as u64).unwrap();
                    assert_eq!(describe(sliced.stream_events()), expected, "{layout}[{start}:{stop}:{step}]");
                    assert_eq!(sliced.stats().reconnects, expected.matches('R').count() as u64);
                }
            }
        }
    }
}

#[test]
fn consecutive_slices_hold_what_the_whole_range_holds() {
    let whole = data("RTTRRTTR");
    let halves = [slice(&whole, 0, 2, 1).unwrap(), slice(&whole, 2, 4, 1).unwrap()];
    let joined: Vec<String> = halves.iter().map(|half| describe(half.stream_events())).collect();
    assert_eq!(joined.join(" "), describe(whole.stream_events()));
    assert_eq!(describe(slice(&whole, 0, 4, 1).unwrap().stream_events()), describe(whole.stream_events()));
    assert_eq!(describe(slice(&whole, 4, 4, 1).unwrap().stream_events()), "", "the last event's markers stay with it");
    let markers = data("RR");
    assert_eq!(describe(slice(&markers, 0, 0, 1).unwrap().stream_events()), "R R", "all of a data set of markers");
}

#[test]
fn each_index_encodes_its_own_event_whatever_the_markers_before_it() {
    for layout in LAYOUTS {
        let data = data(layout);
        for index in 0..data.len() {
            let mut bytes = Vec::new();
            encode_events(&data, index, index + 1, &mut bytes).unwrap();
            let decoded = wire::decode_batch(&bytes).unwrap();
            assert_eq!(decoded.len(), 1);
            let expected = data.market_events().nth(index as usize).unwrap();
            assert_eq!(&decoded[0], expected, "{layout}[{index}]");
        }
        let mut all = Vec::new();
        encode_events(&data, 0, data.len(), &mut all).unwrap();
        assert_eq!(wire::decode_batch(&all).unwrap(), data.market_events().cloned().collect::<Vec<_>>());
    }
}

#[test]
fn ranges_outside_the_data_set_are_index_errors() {
    let data = data("TRT");
    let mut bytes = Vec::new();
    for (start, stop) in [(0, 3), (3, 3), (2, 1), (u64::MAX, u64::MAX)] {
        let error = encode_events(&data, start, stop, &mut bytes).unwrap_err();
        assert_eq!(error.status, BarterFfiStatus::IndexOutOfRange, "{start}..{stop}");
        assert_eq!(slice(&data, start, stop, 1).unwrap_err().status, BarterFfiStatus::IndexOutOfRange);
    }
    encode_events(&data, 2, 2, &mut bytes).unwrap();
    assert!(wire::decode_batch(&bytes).unwrap().is_empty(), "an empty range is an empty batch");
    assert_eq!(slice(&data, 0, 2, 0).unwrap_err().status, BarterFfiStatus::InvalidArgument);
}
