//! A data set's summary: checked against a plain walk over barter's vector, and its layout
//! (written down in `src/output/summary.rs`) read back with a general MessagePack reader.

mod common;

use barter_data::streams::reconnect::Event;
use barter_ffi::{
    base::{error::BarterFfiStatus, event::kind_tag},
    data_set::market_data::MarketData,
    ffi::{
        barter_ffi_buffer_free,
        market_data::{barter_ffi_market_data_free, barter_ffi_market_data_load_file, barter_ffi_market_data_summary},
        BarterFfiBuffer,
    },
    output::summary::Summary,
};
use common::fixture;
use rmpv::Value;
use std::{collections::BTreeMap, ffi::CString, ptr};

/// (tag, exchange name, instrument) -> (events, min ns, max ns), and markers by exchange name.
type Walked = (BTreeMap<(u8, String, usize), (u64, i64, i64)>, BTreeMap<String, u64>);

fn walk(data: &MarketData) -> Walked {
    let (mut groups, mut markers) = Walked::default();
    for item in data.stream_events().iter() {
        match item {
            Event::Item(event) => {
                let key = (kind_tag(&event.kind), event.exchange.as_str().to_string(), event.instrument.index());
                let ns = event.time_exchange.timestamp_nanos_opt().unwrap();
                let group = groups.entry(key).or_insert((0, ns, ns));
                *group = (group.0 + 1, group.1.min(ns), group.2.max(ns));
            }
            Event::Reconnecting(exchange) => *markers.entry(exchange.as_str().to_string()).or_default() += 1,
        }
    }
    (groups, markers)
}

fn summarised(summary: &Summary) -> Walked {
    let groups = summary
        .groups
        .iter()
        .map(|group| {
            let span = (
                group.time_exchange_min.timestamp_nanos_opt().unwrap(),
                group.time_exchange_max.timestamp_nanos_opt().unwrap(),
            );
            ((group.tag, group.exchange.as_str().to_string(), group.instrument), (group.events, span.0, span.1))
        })
        .collect();
    let markers = summary.markers.iter().map(|(exchange, count)| (exchange.as_str().to_string(), *count)).collect();
    (groups, markers)
}

/// The encoded layout, read back into the same shape.
fn decoded(bytes: &[u8]) -> Walked {
    let value = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
    let [groups, markers] = value.as_array().unwrap().as_slice() else { panic!("summary = [groups, markers]") };
    let groups = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|group| match group.as_array().unwrap().as_slice() {
            [tag, exchange, instrument, events, min, max] => (
                (
                    tag.as_u64().unwrap() as u8,
                    exchange.as_str().unwrap().to_string(),
                    instrument.as_u64().unwrap() as usize,
                ),
                (events.as_u64().unwrap(), min.as_i64().unwrap(), max.as_i64().unwrap()),
            ),
            other => panic!("a group has six fields, not {other:?}"),
        })
        .collect();
    let markers = markers
        .as_array()
        .unwrap()
        .iter()
        .map(|marker| match marker.as_array().unwrap().as_slice() {
            [Value::String(exchange), count] => (exchange.as_str().unwrap().to_string(), count.as_u64().unwrap()),
            other => panic!("a marker count is [exchange, count], not {other:?}"),
        })
        .collect();
    (groups, markers)
}

#[test]
fn the_summary_counts_what_a_walk_counts_and_encodes_it_in_its_layout() {
    for name in ["all_kinds.jsonl", "all_kinds_results.json", "candles.jsonl", "trades.json"] {
        let data = MarketData::from_file(&fixture(name)).unwrap();
        let summary = Summary::of(data.stream_events());
        let walked = walk(&data);
        assert_eq!(summarised(&summary), walked, "{name}");
        let mut bytes = Vec::new();
        summary.encode(&mut bytes).unwrap();
        assert_eq!(decoded(&bytes), walked, "{name}");
        let order: Vec<_> =
            summary.groups.iter().map(|group| (group.tag, group.exchange.as_str(), group.instrument)).collect();
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{name}: groups in the layout's order");
    }
}

#[test]
fn the_fixture_covers_several_groups_and_markers() {
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    let (groups, markers) = walk(&data);
    assert!(groups.len() >= 6 && !markers.is_empty());
    assert_eq!(groups.values().map(|group| group.0).sum::<u64>(), data.len());
}

#[test]
fn an_empty_data_set_has_no_group() {
    let mut bytes = Vec::new();
    Summary::of(&[]).encode(&mut bytes).unwrap();
    assert_eq!(bytes, [0x92, 0x90, 0x90]);
}

#[test]
fn the_c_function_hands_out_the_layout_and_refuses_nulls() {
    let path = CString::new(fixture("all_kinds.jsonl").to_str().unwrap()).unwrap();
    let mut handle = ptr::null_mut();
    assert_eq!(barter_ffi_market_data_load_file(path.as_ptr(), &mut handle, ptr::null_mut()), BarterFfiStatus::Ok);
    let mut buffer = BarterFfiBuffer { data: ptr::null_mut(), len: 0, capacity: 0 };
    assert_eq!(barter_ffi_market_data_summary(handle, &mut buffer, ptr::null_mut()), BarterFfiStatus::Ok);
    // SAFETY: the library filled `buffer` with `len` bytes at `data`.
    let bytes = unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) }.to_vec();
    barter_ffi_buffer_free(&mut buffer);
    assert_eq!(decoded(&bytes), walk(&MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap()));
    assert_eq!(barter_ffi_market_data_summary(handle, ptr::null_mut(), ptr::null_mut()), BarterFfiStatus::NullArgument);
    assert_eq!(
        barter_ffi_market_data_summary(ptr::null(), &mut buffer, ptr::null_mut()),
        BarterFfiStatus::NullArgument
    );
    assert!(buffer.data.is_null(), "out-pointers are written only on success");
    barter_ffi_market_data_free(handle);
}
