//! barter's events as Arrow tables: one table per kind, rows in data-set order.
//!
//! This module is the single Rust definition of the tables; `barter_ffi/arrow.py` names them
//! and the round-trip tests on both sides (`tests/arrow.rs`, `tests/test_arrow.py`) pin them.
//!
//! ```text
//! every table but reconnects starts with the shared columns:
//!   event_index    uint64               the event's position among the data set's market events
//!   time_exchange  timestamp[ns, UTC]
//!   time_received  timestamp[ns, UTC]
//!   exchange       dictionary<int32, utf8>   barter's names (ExchangeId::as_str), keys signed
//!   instrument     uint64
//! trades        id utf8, price float64, amount float64, side dictionary<int8, utf8> "Buy" | "Sell"
//! l1            last_update_time timestamp, bid_price, bid_amount, ask_price, ask_amount:
//!               decimals, null when barter's best_bid / best_ask is None
//! l2            long format, one row per level, bids first, each side in barter's order:
//!               is_snapshot bool, sequence uint64, time_engine timestamp (nullable),
//!               side dictionary<int8, utf8> "bid" | "ask", level uint32 (position within its
//!               side), price, amount: decimals. An event with no level has one row whose
//!               side, level, price and amount are null, so that no event vanishes.
//! candles       close_time timestamp, open, high, low, close, volume float64, trade_count uint64
//! liquidations  side dictionary<int8, utf8>, price float64, quantity float64, time timestamp
//! reconnects    event_index uint64 (the market event the marker precedes; the data set's
//!               length when it follows the last), exchange dictionary<int32, utf8>
//! decimals      decimal128(38, s), s the column's largest scale: exact value (the default)
//!               | float64 | utf8: rust_decimal's Display, every digit and the scale kept
//! ```
//!
//! - [`export`]: data set → record batches, built lazily in bounded batches, on worker threads
//!   ([`ahead`]) a few batches ahead of the reader.
//! - [`import`]: record batches in these schemas → barter's events, through barter's types.

mod ahead;
pub mod export;
pub mod import;

use crate::output::wire::side_name;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use barter_instrument::Side;
use std::sync::Arc;

/// Rows per exported record batch, at most (an order book event is never split, so an L2 batch
/// may run over by one event's levels).
pub const BATCH_ROWS: usize = 65_536;

pub use crate::data_set::decimal_bounds::DECIMAL128_PRECISION;

/// The tables (columns: rust_core/src/output/arrow/mod.rs). The values are part of the C ABI:
/// only ever appended, never renumbered.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BarterFfiArrowTable {
    Trades = 0,
    L1 = 1,
    L2 = 2,
    Candles = 3,
    Liquidations = 4,
    Reconnects = 5,
}

pub use BarterFfiArrowTable as Table;

impl Table {
    pub const ALL: [Table; 6] =
        [Table::Trades, Table::L1, Table::L2, Table::Candles, Table::Liquidations, Table::Reconnects];

    pub fn name(self) -> &'static str {
        match self {
            Table::Trades => "trades",
            Table::L1 => "l1",
            Table::L2 => "l2",
            Table::Candles => "candles",
            Table::Liquidations => "liquidations",
            Table::Reconnects => "reconnects",
        }
    }

    pub fn from_u32(value: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|table| *table as u32 == value)
    }

    /// The decimal columns, whose type the [`Decimals`] form decides.
    pub fn decimal_columns(self) -> &'static [&'static str] {
        match self {
            Table::L1 => &["bid_price", "bid_amount", "ask_price", "ask_amount"],
            Table::L2 => &["price", "amount"],
            _ => &[],
        }
    }
}

/// How barter's `rust_decimal` prices and amounts (L1 and L2) become Arrow values. The values
/// are part of the C ABI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiArrowDecimals {
    /// `decimal128(38, s)` with `s` the column's largest scale: the exact value.
    Decimal128 = 0,
    /// The nearest `float64`.
    Float64 = 1,
    /// `utf8`, rust_decimal's Display: exact as barter holds it, scale included.
    Text = 2,
}

pub use BarterFfiArrowDecimals as Decimals;

impl Decimals {
    pub fn from_u32(value: u32) -> Option<Self> {
        [Decimals::Decimal128, Decimals::Float64, Decimals::Text].into_iter().find(|form| *form as u32 == value)
    }
}

/// The Arrow type of each decimal column of a table, in [`Table::decimal_columns`] order.
pub type DecimalTypes = Vec<DataType>;

/// `table`'s schema, its decimal columns typed `decimal_types`.
pub fn schema(table: Table, decimal_types: &[DataType]) -> Schema {
    let mut fields = if table == Table::Reconnects {
        vec![Field::new("event_index", DataType::UInt64, false), Field::new("exchange", exchange_type(), false)]
    } else {
        shared_fields()
    };
    let decimal = |index: usize, name: &str| Field::new(name, decimal_types[index].clone(), true);
    match table {
        Table::Trades => fields.extend([
            Field::new("id", DataType::Utf8, false),
            Field::new("price", DataType::Float64, false),
            Field::new("amount", DataType::Float64, false),
            Field::new("side", side_type(), false),
        ]),
        Table::L1 => {
            fields.push(Field::new("last_update_time", timestamp_type(), false));
            fields.extend(table.decimal_columns().iter().enumerate().map(|(index, name)| decimal(index, name)));
        }
        Table::L2 => fields.extend([
            Field::new("is_snapshot", DataType::Boolean, false),
            Field::new("sequence", DataType::UInt64, false),
            Field::new("time_engine", timestamp_type(), true),
            Field::new("side", side_type(), true),
            Field::new("level", DataType::UInt32, true),
            decimal(0, "price"),
            decimal(1, "amount"),
        ]),
        Table::Candles => {
            fields.push(Field::new("close_time", timestamp_type(), false));
            fields.extend(
                ["open", "high", "low", "close", "volume"].map(|name| Field::new(name, DataType::Float64, false)),
            );
            fields.push(Field::new("trade_count", DataType::UInt64, false));
        }
        Table::Liquidations => fields.extend([
            Field::new("side", side_type(), false),
            Field::new("price", DataType::Float64, false),
            Field::new("quantity", DataType::Float64, false),
            Field::new("time", timestamp_type(), false),
        ]),
        Table::Reconnects => {}
    }
    Schema::new(fields)
}

fn shared_fields() -> Vec<Field> {
    vec![
        Field::new("event_index", DataType::UInt64, false),
        Field::new("time_exchange", timestamp_type(), false),
        Field::new("time_received", timestamp_type(), false),
        Field::new("exchange", exchange_type(), false),
        Field::new("instrument", DataType::UInt64, false),
    ]
}

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some(Arc::from("UTC")))
}

/// Signed keys: pandas rejects unsigned dictionary indices.
pub(crate) fn exchange_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn side_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
}

/// The sides' dictionary values, in key order: trades and liquidations carry barter's serde
/// names, as the wire does.
pub(crate) const TRADE_SIDES: [&str; 2] = [side_name(Side::Buy), side_name(Side::Sell)];
pub(crate) const BOOK_SIDES: [&str; 2] = ["bid", "ask"];
