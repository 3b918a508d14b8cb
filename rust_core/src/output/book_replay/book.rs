//! One replayed book: barter's `OrderBook`, updated only by barter's `OrderBook::update`, and
//! what the replay observes around each update (the quality flags) or opts to leave out of the
//! rows (tardis' crossed-book trim).

use super::{
    top::{Cell, Scales, Top, TopCache},
    OnCrossed, OnReconnect,
};
use arrow_schema::ArrowError;
use barter_data::{
    books::{Level, OrderBook},
    subscription::book::OrderBookEvent,
};
use barter_instrument::exchange::ExchangeId;
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// A book side: bids (index 0) or asks (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Bids = 0,
    Asks = 1,
}

impl Side {
    /// barter's own comparison for a side's binary search (`OrderBookSide::upsert`): bids fall,
    /// asks rise, from index 0, the best.
    fn order(self, existing: &Level, price: &Decimal) -> Ordering {
        match self {
            Side::Bids => compare(&existing.price, price).reverse(),
            Side::Asks => compare(&existing.price, price),
        }
    }

    fn levels(self, book: &OrderBook) -> &[Level] {
        match self {
            Side::Bids => book.bids().levels(),
            Side::Asks => book.asks().levels(),
        }
    }

    /// Whether `levels` run in this side's order (equal prices allowed), so that barter's
    /// binary search finds every price they hold.
    fn in_order(self, levels: &[Level]) -> bool {
        levels.windows(2).all(|pair| self.order(&pair[0], &pair[1].price) != Ordering::Greater)
    }
}

/// `a.cmp(b)`, the same order, without rescaling where the scales agree (as a book's prices
/// mostly do): then the mantissas are in the values' order.
fn compare(a: &Decimal, b: &Decimal) -> Ordering {
    if a.scale() == b.scale() {
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(b)
    }
}

/// The mid price, microprice and spread of a book's best levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prices {
    pub mid_price: Option<Decimal>,
    pub microprice: Option<Decimal>,
    pub spread: Option<Decimal>,
}

impl Prices {
    /// barter's `OrderBook::mid_price` and `volume_weighed_mid_price` of these best levels
    /// (their one-side fallback included) in checked arithmetic: the same values where barter's
    /// succeed, `None` where barter's would panic (a division by zero when both best amounts are
    /// 0, an overflow).
    pub fn of(best_bid: Option<&Level>, best_ask: Option<&Level>) -> Self {
        match (best_bid, best_ask) {
            (Some(bid), Some(ask)) => Self {
                mid_price: bid.price.checked_add(ask.price).and_then(|sum| sum.checked_div(Decimal::TWO)),
                microprice: microprice(bid, ask),
                spread: ask.price.checked_sub(bid.price),
            },
            (Some(only), None) | (None, Some(only)) => {
                Self { mid_price: Some(only.price), microprice: Some(only.price), spread: None }
            }
            (None, None) => Self::default(),
        }
    }
}

/// barter's `volume_weighted_mid_price(bid, ask)`, `(bid.price·ask.amount +
/// ask.price·bid.amount) / (bid.amount + ask.amount)`, in the same order of operations.
pub(crate) fn microprice(bid: &Level, ask: &Level) -> Option<Decimal> {
    let numerator = bid.price.checked_mul(ask.amount)?.checked_add(ask.price.checked_mul(bid.amount)?)?;
    numerator.checked_div(bid.amount.checked_add(ask.amount)?)
}

/// One (exchange, instrument)'s book and the replay's observations of it.
pub struct TrackedBook {
    pub exchange: ExchangeId,
    pub instrument: usize,
    /// Changed only by barter's `OrderBook::update` (and, with `OnReconnect::Reset`, replaced by
    /// `OrderBook::default()` at a reconnect).
    pub book: OrderBook,
    /// The market event index of the last L2 event of this book taken.
    pub last_event_index: u64,
    /// Whether each side is in barter's order: then a price's presence before an update is its
    /// presence when barter reaches it (unless the update names a price twice). Set at each
    /// snapshot; `update` keeps an ordered side ordered.
    sides_in_order: [bool; 2],
    /// The exchange's reconnect count when the book's last snapshot came.
    reconnects_at_snapshot: Option<u64>,
    pub sequence_regressed: bool,
    pub unknown_deletes: u64,
    pub updates_since_snapshot: u64,
    pub skipped_updates: u64,
    /// With `OnReconnect::Reset`: emptied at a reconnect, updates skipped until a snapshot.
    awaiting_snapshot: bool,
    /// With `OnCrossed::Trim`: the levels the rows leave out, by side and price.
    trimmed: Vec<(Side, Decimal)>,
    /// The best levels the cached prices were computed from, and the prices.
    prices: Option<(Option<Level>, Option<Level>, Prices)>,
    /// With `Every::Change`: the levels the last row showed, bids then asks, and how many bids.
    pub shown: Option<(Vec<Level>, usize)>,
    /// With float64 or decimal128 columns: the last row's cells.
    top: TopCache,
    /// With `OnCrossed::Trim`: a side's levels shown, collected for the cells.
    shown_scratch: Vec<Level>,
}

impl TrackedBook {
    /// A new book, `reconnects` markers of its exchange having come already: with `Reset`, such a
    /// book waits for a snapshot as a reset one does.
    pub fn new(exchange: ExchangeId, instrument: usize, reconnects: u64, on_reconnect: OnReconnect) -> Self {
        Self {
            exchange,
            instrument,
            book: OrderBook::default(),
            last_event_index: 0,
            sides_in_order: [true, true],
            reconnects_at_snapshot: None,
            sequence_regressed: false,
            unknown_deletes: 0,
            updates_since_snapshot: 0,
            skipped_updates: 0,
            awaiting_snapshot: on_reconnect == OnReconnect::Reset && reconnects > 0,
            trimmed: Vec::new(),
            prices: None,
            shown: None,
            top: TopCache::default(),
            shown_scratch: Vec::new(),
        }
    }

    /// Applies `event` with barter's `OrderBook::update`, noting what the flags need first;
    /// `reconnects` is the exchange's count of reconnect markers so far.
    pub fn apply(&mut self, event: &OrderBookEvent, event_index: u64, reconnects: u64, on_crossed: OnCrossed) {
        self.last_event_index = event_index;
        match event {
            OrderBookEvent::Snapshot(snapshot) => {
                self.book.update(event);
                self.sides_in_order = [Side::Bids, Side::Asks].map(|side| side.in_order(side.levels(snapshot)));
                self.reconnects_at_snapshot = Some(reconnects);
                self.sequence_regressed = false;
                self.unknown_deletes = 0;
                self.updates_since_snapshot = 0;
                self.skipped_updates = 0;
                self.awaiting_snapshot = false;
                self.trimmed.clear();
            }
            OrderBookEvent::Update(_) if self.awaiting_snapshot => {
                self.skipped_updates += 1;
                return;
            }
            OrderBookEvent::Update(update) => {
                self.sequence_regressed |= update.sequence() < self.book.sequence();
                self.unknown_deletes += self.unknown_deletes_in(update);
                self.book.update(event);
                self.updates_since_snapshot += 1;
                if !self.trimmed.is_empty() {
                    // An update that names a left-out price decides that level again, as it
                    // would in tardis' book.
                    self.trimmed.retain(|(side, price)| side.levels(update).iter().all(|level| level.price != *price));
                }
            }
        }
        if on_crossed == OnCrossed::Trim {
            self.trim_crossed(event);
        }
    }

    /// A reconnect marker of the book's exchange: with `Reset`, the book empties until its next
    /// snapshot (the flags follow from the exchange's count in any case).
    pub fn reconnect(&mut self, on_reconnect: OnReconnect) {
        if on_reconnect == OnReconnect::Reset {
            self.book = OrderBook::default();
            self.sides_in_order = [true, true];
            self.awaiting_snapshot = true;
            self.trimmed.clear();
        }
    }

    /// Zero amounts in `update` at prices the book does not hold when barter reaches them (its
    /// "not found" branch, which ignores them).
    fn unknown_deletes_in(&self, update: &OrderBook) -> u64 {
        // A side without a zero amount deletes nothing, known or not, whatever its order.
        let sides =
            [Side::Bids, Side::Asks].map(|side| (side, side.levels(update).iter().any(|level| level.amount.is_zero())));
        let looked_up_before = sides.iter().all(|&(side, deleting)| {
            !deleting || (self.sides_in_order[side as usize] && names_each_price_once(side.levels(update)))
        });
        if !looked_up_before {
            return self.unknown_deletes_step_by_step(update);
        }
        sides
            .iter()
            .filter(|(_, deleting)| *deleting)
            .map(|&(side, _)| {
                let held = side.levels(&self.book);
                let unknown = side.levels(update).iter().filter(|level| {
                    level.amount.is_zero()
                        && held.binary_search_by(|existing| side.order(existing, &level.price)).is_err()
                });
                unknown.count() as u64
            })
            .sum()
    }

    /// [`unknown_deletes_in`](Self::unknown_deletes_in) where an earlier level of the update may
    /// change what barter's search finds for a later one (a side out of order, a price named
    /// twice): barter's `update` of one level at a time on a copy of the book, looking each
    /// price up just before barter does.
    fn unknown_deletes_step_by_step(&self, update: &OrderBook) -> u64 {
        let mut copy = self.book.clone();
        let mut unknown = 0;
        for side in [Side::Bids, Side::Asks] {
            for level in side.levels(update) {
                let held = side.levels(&copy);
                if level.amount.is_zero()
                    && held.binary_search_by(|existing| side.order(existing, &level.price)).is_err()
                {
                    unknown += 1;
                }
                let (bids, asks) = match side {
                    Side::Bids => (vec![*level], vec![]),
                    Side::Asks => (vec![], vec![*level]),
                };
                copy.update(&OrderBookEvent::Update(OrderBook::new(
                    update.sequence(),
                    update.time_engine(),
                    bids,
                    asks,
                )));
            }
        }
        unknown
    }

    /// tardis' `removeCrossedLevels`, on the rows' view: while the view's best bid is at or
    /// above its best ask, leave out the best bid if `event` holds an ask at the best ask's
    /// price (the exchange moved the ask, so the bid is stale), else the best ask.
    fn trim_crossed(&mut self, event: &OrderBookEvent) {
        let change = match event {
            OrderBookEvent::Snapshot(book) | OrderBookEvent::Update(book) => book,
        };
        let mut drop_bids = None;
        while let (Some(bid), Some(ask)) = (self.best(Side::Bids), self.best(Side::Asks)) {
            if bid.price < ask.price {
                break;
            }
            let side =
                *drop_bids.get_or_insert_with(|| change.asks().levels().iter().any(|level| level.price == ask.price));
            let (side, price) = if side { (Side::Bids, bid.price) } else { (Side::Asks, ask.price) };
            self.trimmed.push((side, price));
        }
    }

    fn is_trimmed(&self, side: Side, level: &Level) -> bool {
        self.trimmed.iter().any(|(trimmed_side, price)| *trimmed_side == side && *price == level.price)
    }

    /// The side's levels the rows show, best first.
    pub fn shown_levels(&self, side: Side) -> impl Iterator<Item = &Level> + '_ {
        let nothing_trimmed = self.trimmed.is_empty();
        side.levels(&self.book).iter().filter(move |level| nothing_trimmed || !self.is_trimmed(side, level))
    }

    pub fn best(&self, side: Side) -> Option<&Level> {
        self.shown_levels(side).next()
    }

    /// How many of the side's levels the rows show.
    pub fn shown_count(&self, side: Side) -> usize {
        if self.trimmed.is_empty() {
            side.levels(&self.book).len()
        } else {
            self.shown_levels(side).count()
        }
    }

    /// How many of barter's levels the rows leave out.
    pub fn trimmed_count(&self) -> usize {
        [Side::Bids, Side::Asks].iter().map(|&side| side.levels(&self.book).len() - self.shown_count(side)).sum()
    }

    /// The row's cells of float64 or decimal128 columns (`V`), to `depth` levels a side: the
    /// last row's, brought to the book as it is now.
    pub fn cells<V: Cell>(&mut self, depth: usize, scales: &Scales) -> Result<&Top<V>, ArrowError> {
        let (bid, ask) = (self.best(Side::Bids).copied(), self.best(Side::Asks).copied());
        // Trimmed levels make a side's shown levels other than a slice of barter's: collected.
        let mut scratch = std::mem::take(&mut self.shown_scratch);
        scratch.clear();
        let trimmed = !self.trimmed.is_empty();
        if trimmed {
            scratch.extend(self.shown_levels(Side::Bids).take(depth));
        }
        let bids_shown = scratch.len();
        if trimmed {
            scratch.extend(self.shown_levels(Side::Asks).take(depth));
        }
        let top = V::cache(&mut self.top, depth);
        for side in [Side::Bids, Side::Asks] {
            let shown = match (trimmed, side) {
                (false, _) => {
                    let levels = side.levels(&self.book);
                    &levels[..levels.len().min(depth)]
                }
                (true, Side::Bids) => &scratch[..bids_shown],
                (true, Side::Asks) => &scratch[bids_shown..],
            };
            top.refresh_side(side as usize, shown, scales)?;
        }
        top.refresh_prices(bid.as_ref(), ask.as_ref(), scales)?;
        self.shown_scratch = scratch;
        Ok(top)
    }

    /// Whether barter's book (not the rows' view) has its best bid at or above its best ask.
    pub fn crossed(&self) -> bool {
        match (self.book.bids().best(), self.book.asks().best()) {
            (Some(bid), Some(ask)) => compare(&bid.price, &ask.price) != Ordering::Less,
            _ => false,
        }
    }

    /// A snapshot has come since the start or since the exchange's last reconnect marker.
    pub fn synced(&self, reconnects: u64) -> bool {
        self.reconnects_at_snapshot == Some(reconnects)
    }

    /// A reconnect marker of the exchange has come since the book's last snapshot (or start).
    pub fn after_reconnect(&self, reconnects: u64) -> bool {
        reconnects > self.reconnects_at_snapshot.unwrap_or(0)
    }

    /// The prices of the rows' best levels, computed again only when those changed.
    pub fn prices(&mut self) -> Prices {
        let (bid, ask) = (self.best(Side::Bids).copied(), self.best(Side::Asks).copied());
        match &self.prices {
            Some((cached_bid, cached_ask, prices)) if same(cached_bid, &bid) && same(cached_ask, &ask) => *prices,
            _ => {
                let prices = Prices::of(bid.as_ref(), ask.as_ref());
                self.prices = Some((bid, ask, prices));
                prices
            }
        }
    }
}

/// The same level to the digit: equal values at another scale are not the same, as they give
/// other computed prices' scales (and may give other floats).
fn same(a: &Option<Level>, b: &Option<Level>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_bits(a, b),
        (None, None) => true,
        _ => false,
    }
}

pub(super) fn same_bits(a: &Level, b: &Level) -> bool {
    bits(a) == bits(b)
}

/// A level's 32 bytes, two `Decimal`s of 16 without padding: the same bits are the same digits
/// and scale (a row compares each level it shows with the last row's, so `serialize` twice per
/// decimal was too slow).
fn bits(level: &Level) -> [u64; 4] {
    // SAFETY: `Level` is two `Decimal`s, each four `u32`s: 32 initialised bytes, no padding
    // (transmute checks the size), so any view of them as integers is defined.
    unsafe { std::mem::transmute::<Level, [u64; 4]>(*level) }
}

/// The same decimal to the digit, as [`same_bits`] compares levels.
pub(super) fn same_decimal_bits(a: &Decimal, b: &Decimal) -> bool {
    // SAFETY: as in `bits`, a `Decimal` is four `u32`s: 16 initialised bytes, no padding.
    let bits = |value: &Decimal| unsafe { std::mem::transmute::<Decimal, u128>(*value) };
    bits(a) == bits(b)
}

/// Whether no price comes twice in `levels`: true when they strictly rise or strictly fall, as
/// an exchange's update does; otherwise checked against each other.
fn names_each_price_once(levels: &[Level]) -> bool {
    let strictly =
        |ordering: Ordering| levels.windows(2).all(|pair| compare(&pair[0].price, &pair[1].price) == ordering);
    if levels.len() < 2 || strictly(Ordering::Less) || strictly(Ordering::Greater) {
        return true;
    }
    let mut prices: Vec<Decimal> = levels.iter().map(|level| level.price).collect();
    prices.sort_unstable();
    prices.windows(2).all(|pair| pair[0] != pair[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_orders_decimals_as_their_cmp_does() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values: Vec<Decimal> = ["0", "-0", "0.00", "-0.000", "1", "1.0", "-1.00", "95000.12", "95000.120"]
            .iter()
            .map(|text| text.parse().expect("a decimal"))
            .collect();
        for _ in 0..400 {
            let mantissa = i128::from(next() as i64) >> (next() % 64);
            values.push(Decimal::from_i128_with_scale(mantissa, (next() % 29) as u32));
            values.push(Decimal::from_i128_with_scale(mantissa, (next() % 3) as u32));
        }
        for a in &values {
            for b in &values {
                assert_eq!(compare(a, b), a.cmp(b), "{a} against {b}");
            }
        }
    }
}
