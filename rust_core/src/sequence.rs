//! The data set as a sequence of market events: the `i`-th event without a walk, and slices.
//!
//! barter's vector interleaves reconnect markers with the market events, so a market event's
//! index and its place in the vector differ by the markers before it. [`MarkerPositions`] keeps
//! just the markers' places, so finding an event costs a binary search over the markers (usually
//! none or a handful), whatever the data set's size.
//!
//! A marker belongs to the market event that follows it: it tells a book rebuilder to reset
//! before that event. A slice `[start, stop)` therefore keeps the markers just before `start`
//! and drops those just before `stop`; markers after the last event go with a slice that reaches
//! the end. So `md[a:b]` followed by `md[b:c]` holds exactly what `md[a:c]` holds.

use crate::{
    error::{BarterFfiStatus, Error},
    load::Parsed,
    market_data::{MarketData, StreamEvent},
    wire,
};
use barter_data::{event::DataKind, streams::reconnect::Event};

/// Where the reconnect markers sit among the market events.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MarkerPositions {
    /// For each marker, in vector order, how many market events precede it (non-decreasing).
    market_events_before: Vec<usize>,
}

impl MarkerPositions {
    pub fn of(events: &[StreamEvent]) -> Self {
        let mut market_events = 0;
        let mut market_events_before = Vec::new();
        for item in events {
            match item {
                Event::Item(_) => market_events += 1,
                Event::Reconnecting(_) => market_events_before.push(market_events),
            }
        }
        Self { market_events_before }
    }

    /// Each marker, in vector order, as (market events before it, its vector position).
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.market_events_before.iter().enumerate().map(|(marker, &before)| (before, before + marker))
    }

    /// The vector position of market event `index`.
    pub fn event_position(&self, index: usize) -> usize {
        index + self.market_events_before.partition_point(|&before| before <= index)
    }

    /// The vector position where market event `index`'s own markers begin (the event itself
    /// when none precede it).
    pub fn markers_position(&self, index: usize) -> usize {
        index + self.market_events_before.partition_point(|&before| before < index)
    }
}

/// The market events of each kind, by index, in order: found in one walk when an export first
/// needs them, so that reading one kind's events does not walk the whole data set again.
#[derive(Debug, Default)]
pub struct KindIndex {
    /// Indexed by [`KindIndex::slot`].
    events: [Vec<usize>; 5],
}

impl KindIndex {
    pub fn of(items: &[StreamEvent]) -> Self {
        let mut index = Self::default();
        let market_events = items.iter().filter_map(|item| match item {
            Event::Item(event) => Some(event),
            Event::Reconnecting(_) => None,
        });
        for (event_index, event) in market_events.enumerate() {
            index.events[Self::slot(&event.kind)].push(event_index);
        }
        index
    }

    /// `DataKind`'s variants in declaration order: Trade, OrderBookL1, OrderBook, Candle,
    /// Liquidation.
    pub fn slot(kind: &DataKind) -> usize {
        match kind {
            DataKind::Trade(_) => 0,
            DataKind::OrderBookL1(_) => 1,
            DataKind::OrderBook(_) => 2,
            DataKind::Candle(_) => 3,
            DataKind::Liquidation(_) => 4,
        }
    }

    /// The indices of the market events in `slot`, in order.
    pub fn events(&self, slot: usize) -> &[usize] {
        &self.events[slot]
    }
}

fn check_range(data: &MarketData, start: u64, stop: u64) -> Result<(usize, usize), Error> {
    let len = data.len();
    if start > stop || stop > len {
        return Err(Error::new(
            BarterFfiStatus::IndexOutOfRange,
            format!("event range {start}..{stop} is outside the data set's {len} market events"),
        ));
    }
    // Both fit in usize: they are at most the length of a vector in memory.
    Ok((start as usize, stop as usize))
}

/// Appends the market events `start..stop` to `out` as one [`wire`] batch.
pub fn encode_events(data: &MarketData, start: u64, stop: u64, out: &mut Vec<u8>) -> Result<(), Error> {
    let (start, stop) = check_range(data, start, stop)?;
    let mut events = Vec::with_capacity(stop - start);
    if start < stop {
        let (first, last) = (data.markers().event_position(start), data.markers().event_position(stop - 1));
        events.extend(data.stream_events()[first..=last].iter().filter_map(|item| match item {
            Event::Item(event) => Some(event),
            Event::Reconnecting(_) => None,
        }));
    }
    wire::encode_batch(&events, out)
}

/// A new data set of every `step`-th market event of `start..stop` (`step` ≥ 1), with the
/// reconnect markers that belong to `start..stop` (see the module's rule) in their places.
/// A slice without a market event is an empty data set, as an empty filter is.
pub fn slice(data: &MarketData, start: u64, stop: u64, step: u64) -> Result<MarketData, Error> {
    let (start, stop) = check_range(data, start, stop)?;
    if step == 0 {
        return Err(Error::new(BarterFfiStatus::InvalidArgument, "slice step must be at least 1"));
    }
    let items = data.stream_events();
    let first = data.markers().markers_position(start);
    let end = if stop as u64 == data.len() { items.len() } else { data.markers().markers_position(stop) };
    let mut kept = Parsed::default();
    let mut index = start;
    for item in &items[first..end] {
        match item {
            Event::Item(_) => {
                if (index - start) % step as usize == 0 {
                    kept.events.push(item.clone());
                }
                index += 1;
            }
            Event::Reconnecting(_) => {
                kept.reconnects += 1;
                kept.events.push(item.clone());
            }
        }
    }
    Ok(MarketData::from_selection(kept))
}
