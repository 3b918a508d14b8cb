//! New data sets made from loaded ones: merged by exchange time, or filtered.
//!
//! Both treat a reconnect marker as belonging to the market event after it in its own data set
//! (it tells a book rebuilder to reset before that event), or, at the end of a data set, to the
//! one before it: a marker takes that event's `time_exchange` as its own.

use crate::{
    error::Error,
    load::Parsed,
    market_data::{MarketData, StreamEvent},
    wire,
};
use barter_data::{event::DataKind, streams::reconnect::Event, subscription::book::OrderBookEvent};
use barter_instrument::exchange::ExchangeId;
use std::collections::HashSet;

fn nanos(event: &barter_data::event::MarketEvent<barter_instrument::instrument::InstrumentIndex, DataKind>) -> i64 {
    // Loading refuses times outside i64 nanoseconds, so the fallback is never taken.
    event.time_exchange.timestamp_nanos_opt().unwrap_or(i64::MIN)
}

/// Each item's `time_exchange`, a marker taking its event's (see the module's rule); markers of a
/// data set without any market event get `i64::MIN`.
fn item_times(items: &[StreamEvent]) -> Vec<i64> {
    let mut times = vec![i64::MIN; items.len()];
    // Every item takes the time of the latest market event up to it: right for events, and for
    // markers after the last event...
    let mut latest = i64::MIN;
    for (time, item) in times.iter_mut().zip(items) {
        if let Event::Item(event) = item {
            latest = nanos(event);
        }
        *time = latest;
    }
    // ...while every other marker takes the time of the event after it.
    let mut next = None;
    for (time, item) in times.iter_mut().zip(items).rev() {
        match item {
            Event::Item(event) => next = Some(nanos(event)),
            Event::Reconnecting(_) => *time = next.unwrap_or(*time),
        }
    }
    times
}

/// Merges data sets into one ordered by `time_exchange`, as a replay needs. It is a stable sort,
/// so inputs need not be sorted (recordings are written in arrival order, not exchange order):
/// ties keep argument order, then each input's order, and markers move with their event.
pub fn merge(data_sets: &[&MarketData]) -> Result<MarketData, Error> {
    let total = data_sets.iter().map(|data| data.stream_events().len()).sum();
    let mut keyed: Vec<(i64, usize, usize, &StreamEvent)> = Vec::new();
    keyed.try_reserve_exact(total).map_err(|_| Error::out_of_memory(format!("merging {total} items")))?;
    for (input, data) in data_sets.iter().enumerate() {
        let items = data.stream_events();
        let times = item_times(items);
        keyed.extend(items.iter().enumerate().map(|(position, item)| (times[position], input, position, item)));
    }
    // Already sorted runs (each input usually is) make this close to a linear merge.
    keyed.sort_by_key(|&(time, input, position, _)| (time, input, position));
    let mut merged = Parsed::default();
    merged.events.try_reserve_exact(total).map_err(|_| Error::out_of_memory(format!("merging {total} items")))?;
    for (_, _, _, item) in keyed {
        merged.reconnects += u64::from(matches!(item, Event::Reconnecting(_)));
        merged.events.push(item.clone());
    }
    Ok(MarketData::from_selection(merged))
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
    fn in_window(&self, nanos: i64) -> bool {
        self.start_ns.is_none_or(|start| nanos >= start) && self.end_ns.is_none_or(|end| nanos < end)
    }

    fn keeps_exchange(&self, exchange: &ExchangeId) -> bool {
        self.exchanges.as_ref().is_none_or(|set| set.contains(exchange))
    }

    /// A market event by every axis; a marker (at its event's `time`) by exchange and window.
    fn keeps(&self, item: &StreamEvent, time: i64) -> bool {
        match item {
            Event::Reconnecting(exchange) => self.keeps_exchange(exchange) && self.in_window(time),
            Event::Item(event) => {
                self.kinds.as_ref().is_none_or(|kinds| kinds.contains(&kind_tag(&event.kind)))
                    && self.keeps_exchange(&event.exchange)
                    && self.instruments.as_ref().is_none_or(|set| set.contains(&event.instrument.index()))
                    && self.in_window(time)
            }
        }
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

/// A new data set of the items `filter` keeps, in order: the matching market events, and the
/// reconnect markers of the kept exchanges whose time (see the module's rule) lies in the
/// window. Matching nothing gives an empty data set.
pub fn filter(data: &MarketData, filter: &EventFilter) -> Result<MarketData, Error> {
    let items = data.stream_events();
    let times = item_times(items);
    let mut kept = Parsed::default();
    for (item, &time) in items.iter().zip(&times) {
        if filter.keeps(item, time) {
            kept.reconnects += u64::from(matches!(item, Event::Reconnecting(_)));
            kept.events.push(item.clone());
        }
    }
    Ok(MarketData::from_selection(kept))
}
