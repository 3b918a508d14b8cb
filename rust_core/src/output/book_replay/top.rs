//! A book's rows' numbers as float64 or decimal128 columns hold them, kept from row to row: the
//! top levels a side and the computed prices. Each row compares every level it shows with the
//! levels of the book's last row, bit for bit: a level still in view, at its place or one either
//! side (an insert or a delete above shifts it), keeps its values; only the others are
//! converted. So the values are always those of the levels barter holds, converted as the
//! table export converts them, without converting a level again while it stays in view.

use super::book::{same_bits, same_decimal_bits, Prices};
use crate::output::{
    arrow::export::{decimal128_value, rounded_decimal128_value},
    decimal_float::decimal_f64,
};
use arrow_array::{ArrayRef, Decimal128Array, Float64Array};
use arrow_buffer::NullBuffer;
use arrow_schema::{ArrowError, DataType};
use barter_data::books::Level;
use rust_decimal::Decimal;
use std::sync::Arc;

/// A number as a column of the replay holds it: `f64` (float64) or the mantissa at the column's
/// scale (decimal128).
pub trait Cell: Copy + Default + 'static {
    /// A level's price or amount, for a column of `scale` (decimal128; floats ignore it).
    fn level(value: &Decimal, scale: u32) -> Result<Self, ArrowError>;
    /// A computed price, rounded to a decimal128 column's `scale` where it holds more places.
    fn rounded(value: &Decimal, scale: u32) -> Result<Self, ArrowError>;
    /// The book's cache of this kind of cell.
    fn cache(cache: &mut TopCache, depth: usize) -> &mut Top<Self>;
    /// A column of `data_type` holding `values`.
    fn array(values: Vec<Self>, nulls: Option<NullBuffer>, data_type: &DataType) -> Result<ArrayRef, ArrowError>;
}

impl Cell for f64 {
    fn level(value: &Decimal, _: u32) -> Result<Self, ArrowError> {
        Ok(decimal_f64(value))
    }

    fn rounded(value: &Decimal, _: u32) -> Result<Self, ArrowError> {
        Ok(decimal_f64(value))
    }

    fn cache(cache: &mut TopCache, depth: usize) -> &mut Top<Self> {
        if !matches!(cache, TopCache::Float(_)) {
            *cache = TopCache::Float(Top::new(depth));
        }
        match cache {
            TopCache::Float(top) => top,
            _ => unreachable!("set just above"),
        }
    }

    fn array(values: Vec<Self>, nulls: Option<NullBuffer>, _: &DataType) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(Float64Array::try_new(values.into(), nulls)?))
    }
}

impl Cell for i128 {
    fn level(value: &Decimal, scale: u32) -> Result<Self, ArrowError> {
        decimal128_value(value, scale)
    }

    fn rounded(value: &Decimal, scale: u32) -> Result<Self, ArrowError> {
        rounded_decimal128_value(value, scale)
    }

    fn cache(cache: &mut TopCache, depth: usize) -> &mut Top<Self> {
        if !matches!(cache, TopCache::Exact(_)) {
            *cache = TopCache::Exact(Top::new(depth));
        }
        match cache {
            TopCache::Exact(top) => top,
            _ => unreachable!("set just above"),
        }
    }

    fn array(values: Vec<Self>, nulls: Option<NullBuffer>, data_type: &DataType) -> Result<ArrayRef, ArrowError> {
        let DataType::Decimal128(precision, scale) = data_type else {
            return Err(ArrowError::ComputeError(format!("decimal128 values for a {data_type} column")));
        };
        Ok(Arc::new(Decimal128Array::try_new(values.into(), nulls)?.with_precision_and_scale(*precision, *scale)?))
    }
}

/// A book's cells, of the kind its replay's columns hold (none until its first row).
#[derive(Default)]
pub enum TopCache {
    #[default]
    Empty,
    Float(Top<f64>),
    Exact(Top<i128>),
}

/// The scales of decimal128 columns (unused for floats).
#[derive(Debug, Clone, Copy, Default)]
pub struct Scales {
    pub price: u32,
    pub amount: u32,
    pub mid_price: u32,
    pub microprice: u32,
    pub spread: u32,
}

/// The cells of a book's last row.
pub struct Top<V> {
    /// Bids, asks.
    pub sides: [TopSide<V>; 2],
    /// The best levels the prices are of, and the prices' cells: mid price, microprice, spread.
    prices: Option<(Option<Level>, Option<Level>, [Option<V>; 3])>,
}

impl<V: Cell> Top<V> {
    fn new(depth: usize) -> Self {
        Self { sides: [TopSide::new(depth), TopSide::new(depth)], prices: None }
    }

    /// Brings the side `side` (0 bids, 1 asks) to `shown`, at most `depth` levels, best first.
    pub fn refresh_side(&mut self, side: usize, shown: &[Level], scales: &Scales) -> Result<(), ArrowError> {
        self.sides[side].refresh(shown, scales)
    }

    /// The prices' cells: mid price, microprice, spread.
    pub fn prices(&self) -> [Option<V>; 3] {
        self.prices.map(|(.., cells)| cells).unwrap_or_default()
    }

    /// Brings the prices' cells to these best levels: computed again only when those changed.
    pub fn refresh_prices(
        &mut self,
        bid: Option<&Level>,
        ask: Option<&Level>,
        scales: &Scales,
    ) -> Result<(), ArrowError> {
        let same = |cached: &Option<Level>, now: Option<&Level>| match (cached, now) {
            (Some(cached), Some(now)) => same_bits(cached, now),
            (None, None) => true,
            _ => false,
        };
        if let Some((cached_bid, cached_ask, _)) = &self.prices {
            if same(cached_bid, bid) && same(cached_ask, ask) {
                return Ok(());
            }
        }
        let prices = Prices::of(bid, ask);
        let cell = |value: Option<Decimal>, scale: u32| value.map(|value| V::rounded(&value, scale)).transpose();
        let cells = [
            cell(prices.mid_price, scales.mid_price)?,
            cell(prices.microprice, scales.microprice)?,
            cell(prices.spread, scales.spread)?,
        ];
        self.prices = Some((bid.copied(), ask.copied(), cells));
        Ok(())
    }
}

/// One side of a book's last row.
pub struct TopSide<V> {
    /// The levels shown, best first.
    levels: Vec<Level>,
    /// Their prices, then their amounts, `depth` each: `V::default()` beyond the levels.
    values: Vec<V>,
    /// The buffer the next values are written to.
    spare: Vec<V>,
}

impl<V: Cell> TopSide<V> {
    fn new(depth: usize) -> Self {
        Self {
            levels: Vec::with_capacity(depth),
            values: vec![V::default(); 2 * depth],
            spare: vec![V::default(); 2 * depth],
        }
    }

    /// How many levels the side shows.
    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// The prices, then the amounts, `depth` each (`V::default()` beyond the levels shown).
    pub fn values(&self) -> &[V] {
        &self.values
    }

    fn refresh(&mut self, shown: &[Level], scales: &Scales) -> Result<(), ArrowError> {
        let before = &self.levels[..];
        let prefix = before.iter().zip(shown).take_while(|(known, now)| same_bits(known, now)).count();
        if prefix == shown.len() && prefix == before.len() {
            return Ok(());
        }
        let depth = self.values.len() / 2;
        let (old_prices, old_amounts) = self.values.split_at(depth);
        let (new_prices, new_amounts) = self.spare.split_at_mut(depth);
        new_prices[..prefix].copy_from_slice(&old_prices[..prefix]);
        new_amounts[..prefix].copy_from_slice(&old_amounts[..prefix]);
        let same_at = |at: usize, level: &Level| before.get(at).is_some_and(|known| same_bits(known, level));
        for (at, level) in shown.iter().enumerate().skip(prefix) {
            let kept = if same_at(at, level) {
                Some(at)
            } else if same_at(at + 1, level) {
                Some(at + 1)
            } else if at > 0 && same_at(at - 1, level) {
                Some(at - 1)
            } else {
                None
            };
            (new_prices[at], new_amounts[at]) = match kept {
                Some(from) => (old_prices[from], old_amounts[from]),
                // An amount changed in place: the price's cell stays.
                None if before.get(at).is_some_and(|known| same_decimal_bits(&known.price, &level.price)) => {
                    (old_prices[at], V::level(&level.amount, scales.amount)?)
                }
                None => (V::level(&level.price, scales.price)?, V::level(&level.amount, scales.amount)?),
            };
        }
        new_prices[shown.len()..].fill(V::default());
        new_amounts[shown.len()..].fill(V::default());
        std::mem::swap(&mut self.values, &mut self.spare);
        self.levels.clear();
        self.levels.extend_from_slice(shown);
        Ok(())
    }
}
