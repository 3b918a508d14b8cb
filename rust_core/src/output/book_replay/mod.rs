//! Order books replayed through barter's own `OrderBook`, as an Arrow table of the top levels,
//! prices and data-quality flags: the book barter's `OrderBookL2Manager` (or a user's
//! `InstrumentDataState`) would hold, after every L2 event or on a time grid.
//!
//! **Faithful by default.** One `barter_data::books::OrderBook::default()` per (exchange,
//! instrument); each L2 event applied with barter's `OrderBook::update`, in stored order. barter
//! checks no sequence, no crossing, and ignores `Reconnecting` markers; so does the default
//! replay. The flags only observe; the repairs (`reconnect = Reset`, `crossed = Trim`) are opt-in
//! and counted in every row.
//!
//! The table, one row per book per sampled moment ([`schema`] writes each column down once,
//! with its meaning in the field's metadata under `description`):
//!
//! ```text
//! time                  timestamp[ns, UTC]  the row's moment on the chosen clock: the event's
//!                                           time (every event, change) or the sample's (grid, at)
//! event_index           uint64              the last L2 event of this book replayed (its index
//!                                           among the data set's market events)
//! exchange              dictionary<int32, utf8>, instrument uint64: the book
//! sequence              uint64, time_engine timestamp (nullable): barter's book's own
//! bid_price_0..N-1, bid_amount_0..N-1, ask_price_0..N-1, ask_amount_0..N-1
//!                       decimals, best first, null beyond a side's levels (layout "lists":
//!                       bid_price, bid_amount, ask_price, ask_amount as fixed_size_list[N])
//! bid_levels, ask_levels uint32             each side's full level count
//! mid_price, microprice, spread             decimals, null where undefined
//! synced, after_reconnect, crossed, sequence_regressed   bool
//! unknown_deletes, updates_since_snapshot, skipped_updates   uint64
//! trimmed_levels        uint32
//! ```
//!
//! Decimals take the form [`Decimals`] asks for, as the data set's tables do: decimal128 levels
//! at the L2 table's price and amount scales, the spread at the price scale, the mid price one
//! place more and the microprice at 28 places (both exact, as far as 37 digits leave room beside
//! the prices' integer digits: past that, rounded half to even; see [`DecimalTypes::new`]).
//!
//! - [`book`]: one book: barter's `OrderBook` and what the replay observes about it.
//! - [`rows`]: the record batch builder.
//! - [`top`]: a book's last row's numbers as float64 or decimal128 columns hold them, kept from
//!   row to row so a level is converted once while it stays in view.
//! - [`replay`]: the walk over a data set or a file's pieces, and when rows are taken.

mod book;
mod replay;
mod rows;
mod top;

pub(crate) use book::microprice;
pub use replay::{BookReplay, PieceSource};

use crate::{
    base::error::{BarterFfiStatus, Error},
    data_set::decimal_bounds::{DecimalBounds, DECIMAL128_PRECISION},
    output::arrow::{column, exchange_type, timestamp_type, Decimals},
};
use arrow_schema::{DataType, Field, Schema};
use barter_instrument::exchange::ExchangeId;
use std::{collections::HashSet, sync::Arc};

/// When the replay takes a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Every {
    /// After each L2 event, for its book.
    Event,
    /// After each L2 event whose book's top levels (price or amount, either side, as the row
    /// shows them) differ from those after the book's previous event; a book's first event
    /// always counts.
    Change,
    /// At every multiple of this many nanoseconds since the Unix epoch, from the first L2
    /// event's time to the latest, one row per book seen so far (quiet moments included). A
    /// sample is cut by the first L2 event of any book stamped later (see `replay`).
    Interval(i64),
    /// At each of these times (sorted, repeats kept), one row per book seen so far.
    At(Vec<i64>),
}

/// Which of an event's times places it: `time_exchange` or `time_received`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Exchange,
    Received,
}

/// One column per level and field (`bid_price_0`, …), or one fixed-size list per field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Wide,
    Lists,
}

/// What a `Reconnecting` marker does to its exchange's books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnReconnect {
    /// Nothing, as barter (the book stays stale until its next snapshot; the flags say so).
    Keep,
    /// The book is emptied, and its updates skipped (counted), until its next snapshot.
    Reset,
}

/// What a crossed book (best bid at or above best ask) looks like in the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCrossed {
    /// As barter holds it.
    Keep,
    /// tardis' rule, in the rows only (barter's book is untouched): after an event leaves the
    /// book crossed, the best level of the side the event did not touch at the best ask is
    /// left out, then the next, until the book is not crossed. A left-out level stays out
    /// until an update names its price or a snapshot arrives.
    Trim,
}

/// The most levels a side a row may show (`BARTER_FFI_BOOK_MAX_DEPTH` in the header): beyond it
/// a wide table has too many columns to be of use.
pub const MAX_DEPTH: usize = 5_000;

/// Everything a replay is asked for.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub depth: usize,
    pub every: Every,
    pub clock: Clock,
    pub decimals: Decimals,
    pub layout: Layout,
    pub reconnect: OnReconnect,
    pub crossed: OnCrossed,
    /// The books whose rows are kept: `None` keeps every exchange (instrument). The samples on
    /// the clock are cut by every L2 event whatever these keep.
    pub exchanges: Option<HashSet<ExchangeId>>,
    pub instruments: Option<HashSet<usize>>,
    /// Rows whose time lies in `[emit_from, emit_until)` are kept; the books are built from the
    /// start whatever the window.
    pub emit_from: Option<i64>,
    pub emit_until: Option<i64>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            depth: 10,
            every: Every::Event,
            clock: Clock::Exchange,
            decimals: Decimals::Decimal128,
            layout: Layout::Wide,
            reconnect: OnReconnect::Keep,
            crossed: OnCrossed::Keep,
            exchanges: None,
            instruments: None,
            emit_from: None,
            emit_until: None,
        }
    }
}

impl ReplayOptions {
    /// The options, checked, with `At`'s times sorted.
    pub fn checked(mut self) -> Result<Self, Error> {
        let invalid = |message: String| Err(Error::new(BarterFfiStatus::InvalidArgument, message));
        if self.depth > MAX_DEPTH {
            return invalid(format!("depth is {}, more than the {MAX_DEPTH} levels a side a row can show", self.depth));
        }
        if let Every::Interval(interval) = self.every {
            if interval <= 0 {
                return invalid(format!("the sampling interval must be at least 1 ns, not {interval}"));
            }
        }
        if let Every::At(times) = &mut self.every {
            times.sort_unstable();
        }
        if let (Some(from), Some(until)) = (self.emit_from, self.emit_until) {
            if from >= until {
                return invalid(format!("emit_from ({from} ns) must lie before emit_until ({until} ns)"));
            }
        }
        Ok(self)
    }

    fn in_window(&self, time: i64) -> bool {
        self.emit_from.is_none_or(|from| time >= from) && self.emit_until.is_none_or(|until| time < until)
    }

    fn keeps(&self, exchange: ExchangeId, instrument: usize) -> bool {
        self.exchanges.as_ref().is_none_or(|kept| kept.contains(&exchange))
            && self.instruments.as_ref().is_none_or(|kept| kept.contains(&instrument))
    }
}

/// The Arrow types of the decimal columns.
#[derive(Debug, Clone, PartialEq)]
pub struct DecimalTypes {
    pub price: DataType,
    pub amount: DataType,
    pub mid_price: DataType,
    pub microprice: DataType,
    pub spread: DataType,
}

impl DecimalTypes {
    /// The types for levels typed `level_types` (price, amount: as in the L2 table); the computed
    /// prices' from the level prices' `price_bounds`. A decimal128 mid price takes one place more
    /// than the prices (exact), a microprice 28 places (exact: barter's `rust_decimal` quotients
    /// have at most 28), each as far as 37 digits leave room beside the prices' integer digits.
    pub fn new(level_types: [DataType; 2], price_bounds: &DecimalBounds) -> Self {
        let [price, amount] = level_types;
        let (mid_price, microprice) = match &price {
            DataType::Decimal128(precision, price_scale) => {
                let room = i64::from(DECIMAL128_PRECISION) - 1 - price_bounds.integer_digits();
                let price_scale = i64::from(*price_scale);
                let at_most =
                    |wanted: i64| DataType::Decimal128(*precision, wanted.min(room).clamp(price_scale, 28) as i8);
                (at_most(price_scale + 1), at_most(28))
            }
            other => (other.clone(), other.clone()),
        };
        Self { spread: price.clone(), price, amount, mid_price, microprice }
    }
}

/// The replay's schema for `options`, its decimal columns typed `types`.
pub fn schema(options: &ReplayOptions, types: &DecimalTypes) -> Schema {
    let mut fields = vec![
        column("time", timestamp_type(), false, "the row's moment on the replay's clock: its event's time (every event or change), or the grid's or `at` time, where the row shows the book after every L2 event stored before the first L2 event (of any book, whatever the selection) stamped later"),
        column("event_index", DataType::UInt64, false, "the last L2 event of this book the replay has taken, by its index among the data set's market events"),
        column("exchange", exchange_type(), false, "the book's exchange (barter's name)"),
        column("instrument", DataType::UInt64, false, "the book's instrument index"),
        column("sequence", DataType::UInt64, false, "barter's OrderBook::sequence(): the last applied event's"),
        column("time_engine", timestamp_type(), true, "barter's OrderBook::time_engine(): the last applied event's (null when it had none)"),
    ];
    let level_fields = [
        ("bid_price", &types.price, "bid price"),
        ("bid_amount", &types.amount, "bid amount"),
        ("ask_price", &types.price, "ask price"),
        ("ask_amount", &types.amount, "ask amount"),
    ];
    for (name, data_type, what) in level_fields {
        match options.layout {
            Layout::Wide => fields.extend((0..options.depth).map(|level| {
                let description = format!("the {what} of level {level} (0 is the best), null beyond the side's levels");
                column(&format!("{name}_{level}"), data_type.clone(), true, &description)
            })),
            Layout::Lists => {
                let item = Arc::new(Field::new("item", data_type.clone(), true));
                let description = format!(
                    "the {what}s of the best {} levels, best first, null beyond the side's levels",
                    options.depth
                );
                fields.push(column(name, DataType::FixedSizeList(item, options.depth as i32), false, &description));
            }
        }
    }
    fields.extend([
        column("bid_levels", DataType::UInt32, false, "how many levels the bid side holds (all of them, not only those shown)"),
        column("ask_levels", DataType::UInt32, false, "how many levels the ask side holds"),
        column("mid_price", types.mid_price.clone(), true, "barter's OrderBook::mid_price(): the mean of the best prices, the one side's best when the other is empty; null when both are, or when the sum of the best prices overflows rust_decimal (about 7.9e28), where barter's own sum would panic"),
        column("microprice", types.microprice.clone(), true, "barter's OrderBook::volume_weighed_mid_price(), with barter's one-side fallback; null when both sides are empty, where barter's division would panic (both best amounts zero), or where a product or sum in it overflows rust_decimal (about 7.9e28), where barter's arithmetic would panic"),
        column("spread", types.spread.clone(), true, "best ask price minus best bid price; null unless both sides hold a level, or when the difference overflows rust_decimal (about 7.9e28)"),
        column("synced", DataType::Boolean, false, "a snapshot has come since the start or since the exchange's last reconnect marker"),
        column("after_reconnect", DataType::Boolean, false, "a reconnect marker of the book's exchange has come since the book's last snapshot (or since the start)"),
        column("crossed", DataType::Boolean, false, "barter's book has its best bid at or above its best ask (before any trim)"),
        column("sequence_regressed", DataType::Boolean, false, "since the book's last snapshot, an update carried a lower sequence than the book held"),
        column("unknown_deletes", DataType::UInt64, false, "since the book's last snapshot: updates' zero amounts at prices the book did not hold, which barter ignores"),
        column("updates_since_snapshot", DataType::UInt64, false, "updates applied since the book's last snapshot (since the start when it had none)"),
        column("skipped_updates", DataType::UInt64, false, "reconnect=\"reset\": updates not applied since the book's last snapshot, as its book waits for one (0 otherwise)"),
        column("trimmed_levels", DataType::UInt32, false, "crossed=\"trim\": how many of barter's levels this row leaves out (0 otherwise)"),
    ]);
    Schema::new(fields)
}
