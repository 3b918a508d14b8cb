//! Where things sit in a data set's vector of items, found once and kept with it: the reconnect
//! markers among the market events, and each kind's market events (with the bounds of the
//! decimal columns an export writes).

use super::decimal_bounds::DecimalBounds;
use crate::base::{event::StreamEvent, guard};
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
            let front_walk = guard::spawn_scoped(scope, "barter_ffi-index", || Ok(Self::of_part(front)));
            let back = Self::of_part(back);
            // Without a thread, or after its walk panicked, the front is walked here (where a
            // panic reaches the caller's guard).
            let front = front_walk
                .ok()
                .and_then(|walk| guard::joined(walk.join()).ok())
                .unwrap_or_else(|| Self::of_part(front));
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
