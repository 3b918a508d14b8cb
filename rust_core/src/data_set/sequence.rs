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
    decimal_bounds::DecimalBounds,
    error::{BarterFfiStatus, Error},
    load::Parsed,
    market_data::{MarketData, StreamEvent},
    wire,
};
use barter_data::{event::DataKind, streams::reconnect::Event, subscription::book::OrderBookEvent};

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

/// The market events of each kind, by index, in order, and the bounds of each decimal column
/// an export writes: found in one walk when an export first needs them, so that reading one
/// kind's events does not walk the whole data set again, nor do a schema and its streams.
#[derive(Debug, Default)]
pub struct KindIndex {
    /// Indexed by [`KindIndex::slot`].
    events: [Vec<usize>; 5],
    /// L1's bid price, bid amount, ask price and ask amount, then L2's price and amount.
    decimals: [DecimalBounds; 6],
    /// The L2 table's rows: each book's levels, or one row for a book without any.
    l2_rows: u64,
}

/// Below this many items one thread walks them: a second would cost more than it saves.
const WALK_ON_TWO_THREADS_FROM: usize = 1 << 16;

impl KindIndex {
    /// Walks the two halves of `items` at once, on the caller's thread and one other.
    pub fn of(items: &[StreamEvent]) -> Self {
        if items.len() < WALK_ON_TWO_THREADS_FROM {
            return Self::of_part(items).0;
        }
        let (front, back) = items.split_at(items.len() / 2);
        std::thread::scope(|scope| {
            let front_walk = std::thread::Builder::new().spawn_scoped(scope, || Self::of_part(front));
            let back = Self::of_part(back);
            let front = match front_walk {
                Ok(walk) => walk.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => Self::of_part(front),
            };
            front.0.followed_by(back.0, front.1)
        })
    }

    /// The index of `items` alone, and how many market events they hold.
    fn of_part(items: &[StreamEvent]) -> (Self, usize) {
        let mut index = Self::default();
        let market_events = items.iter().filter_map(|item| match item {
            Event::Item(event) => Some(event),
            Event::Reconnecting(_) => None,
        });
        for (event_index, event) in market_events.enumerate() {
            index.events[Self::slot(&event.kind)].push(event_index);
            index.include_decimals(&event.kind);
        }
        let count = index.events.iter().map(Vec::len).sum();
        (index, count)
    }

    fn include_decimals(&mut self, kind: &DataKind) {
        let [l1 @ .., l2_price, l2_amount] = &mut self.decimals;
        match kind {
            DataKind::OrderBookL1(book) => {
                for (level, first_column) in [(&book.best_bid, 0), (&book.best_ask, 2)] {
                    if let Some(level) = level {
                        l1[first_column].include(&level.price);
                        l1[first_column + 1].include(&level.amount);
                    }
                }
            }
            DataKind::OrderBook(OrderBookEvent::Snapshot(book) | OrderBookEvent::Update(book)) => {
                let levels = book.bids().levels().len() + book.asks().levels().len();
                self.l2_rows += levels.max(1) as u64;
                for level in book.bids().levels().iter().chain(book.asks().levels()) {
                    l2_price.include(&level.price);
                    l2_amount.include(&level.amount);
                }
            }
            _ => {}
        }
    }

    /// This index followed by `next`'s, whose market events come after this one's `before`.
    fn followed_by(mut self, next: Self, before: usize) -> Self {
        for (events, next_events) in self.events.iter_mut().zip(next.events) {
            events.extend(next_events.into_iter().map(|index| index + before));
        }
        for (bounds, next_bounds) in self.decimals.iter_mut().zip(next.decimals) {
            *bounds = bounds.merge(next_bounds);
        }
        self.l2_rows += next.l2_rows;
        self
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

    /// The rows of the L2 table: each book's levels, or one for a book without any.
    pub fn l2_rows(&self) -> u64 {
        self.l2_rows
    }

    /// The bounds of `slot`'s decimal columns, in the order of the export's columns (none but
    /// for L1 and L2).
    pub fn decimal_bounds(&self, slot: usize) -> &[DecimalBounds] {
        match slot {
            1 => &self.decimals[..4],
            2 => &self.decimals[4..],
            _ => &[],
        }
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
