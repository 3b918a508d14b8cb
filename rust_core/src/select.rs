//! New data sets made from loaded ones: merged by exchange time, or filtered.

use crate::{
    error::{BarterFfiStatus, Error},
    load::Parsed,
    market_data::{MarketData, StreamEvent},
    wire,
};
use barter_data::{event::DataKind, streams::reconnect::Event, subscription::book::OrderBookEvent};
use barter_instrument::exchange::ExchangeId;
use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashSet},
};

/// Merges data sets into one ordered by `time_exchange`. Ties keep argument order, then file
/// order; a reconnect marker follows the item that preceded it in its own data set.
pub fn merge(data_sets: &[&MarketData]) -> Result<MarketData, Error> {
    let sources: Vec<&[StreamEvent]> = data_sets.iter().map(|data| data.stream_events().as_slice()).collect();
    let mut positions = vec![0usize; sources.len()];
    let mut merged = Parsed::default();
    let mut heads = BinaryHeap::new();
    for source in 0..sources.len() {
        take_reconnects(sources[source], &mut positions[source], &mut merged);
        if let Some(time) = head_time(sources[source], positions[source]) {
            heads.push(Reverse((time, source)));
        }
    }
    while let Some(Reverse((_, source))) = heads.pop() {
        merged.events.push(sources[source][positions[source]].clone());
        positions[source] += 1;
        take_reconnects(sources[source], &mut positions[source], &mut merged);
        if let Some(time) = head_time(sources[source], positions[source]) {
            heads.push(Reverse((time, source)));
        }
    }
    MarketData::from_parsed(merged, "merge")
}

fn head_time(events: &[StreamEvent], position: usize) -> Option<chrono::DateTime<chrono::Utc>> {
    match events.get(position)? {
        Event::Item(event) => Some(event.time_exchange),
        Event::Reconnecting(_) => None,
    }
}

fn take_reconnects(events: &[StreamEvent], position: &mut usize, merged: &mut Parsed) {
    while let Some(marker @ Event::Reconnecting(_)) = events.get(*position) {
        merged.events.push(marker.clone());
        merged.reconnects += 1;
        *position += 1;
    }
}

/// Which events [`filter`] keeps; `None` keeps everything on that axis.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Wire tags ([`wire::TAG_TRADE`] …) to keep.
    pub kinds: Option<HashSet<u8>>,
    pub exchanges: Option<HashSet<ExchangeId>>,
    pub instruments: Option<HashSet<usize>>,
    /// `time_exchange` at or after this, in nanoseconds since the Unix epoch.
    pub start_ns: Option<i64>,
    /// `time_exchange` strictly before this.
    pub end_ns: Option<i64>,
}

impl EventFilter {
    fn keeps(&self, item: &StreamEvent) -> bool {
        let event = match item {
            Event::Item(event) => event,
            Event::Reconnecting(exchange) => return self.exchanges.as_ref().is_none_or(|set| set.contains(exchange)),
        };
        let nanos = event.time_exchange.timestamp_nanos_opt().unwrap_or(i64::MIN);
        self.kinds.as_ref().is_none_or(|kinds| kinds.contains(&kind_tag(&event.kind)))
            && self.exchanges.as_ref().is_none_or(|set| set.contains(&event.exchange))
            && self.instruments.as_ref().is_none_or(|set| set.contains(&event.instrument.index()))
            && self.start_ns.is_none_or(|start| nanos >= start)
            && self.end_ns.is_none_or(|end| nanos < end)
    }
}

fn kind_tag(kind: &DataKind) -> u8 {
    match kind {
        DataKind::Trade(_) => wire::TAG_TRADE,
        DataKind::OrderBookL1(_) => wire::TAG_ORDER_BOOK_L1,
        DataKind::OrderBook(OrderBookEvent::Snapshot(_)) => wire::TAG_ORDER_BOOK_SNAPSHOT,
        DataKind::OrderBook(OrderBookEvent::Update(_)) => wire::TAG_ORDER_BOOK_UPDATE,
        DataKind::Candle(_) => wire::TAG_CANDLE,
        DataKind::Liquidation(_) => wire::TAG_LIQUIDATION,
    }
}

/// A new data set of the items `filter` keeps, in order; reconnect markers stay unless their
/// exchange is filtered out.
pub fn filter(data: &MarketData, filter: &EventFilter) -> Result<MarketData, Error> {
    let mut kept = Parsed::default();
    for item in data.stream_events().iter().filter(|item| filter.keeps(item)) {
        kept.reconnects += u64::from(matches!(item, Event::Reconnecting(_)));
        kept.events.push(item.clone());
    }
    MarketData::from_parsed(kept, "filter").map_err(|error| match error.status {
        BarterFfiStatus::NoMarketEvents => Error::new(error.status, "no market event matches the filter"),
        _ => error,
    })
}
