//! barter's events as Arrow tables: one table per kind, rows in data-set order.
//!
//! This module is the single Rust definition of the tables; `barter_ffi/arrow.py` names them
//! and the round-trip tests on both sides (`tests/arrow.rs`, `tests/test_arrow.py`) pin them.
//! Every column is written down once, in [`schema`], with its meaning in the field's metadata
//! (key `description`): each exported schema describes itself, and the API reference
//! (`docs/tables.rst`) lists the columns from the live schemas.
//!
//! Every table but reconnects starts with the same five columns (`event_index`, the times, the
//! exchange, the instrument); timestamps are `timestamp[ns, UTC]`, exchanges and sides
//! dictionaries of `utf8` with signed keys. L2 is long format, one row per level. barter's
//! `rust_decimal` prices and amounts (L1 and L2) take the type [`Decimals`] asks for.
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
use std::{collections::HashMap, sync::Arc};

/// Rows per exported record batch, at most (an order book event is never split, so an L2 batch
/// may run over by one event's levels).
pub(crate) const BATCH_ROWS: usize = 65_536;

pub(crate) use crate::data_set::decimal_bounds::DECIMAL128_PRECISION;

/// The tables (columns: each stream's schema, with a `description` in every field's metadata).
/// The values are part of the C ABI: only ever appended, never renumbered.
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
        vec![
            column(
                "event_index",
                DataType::UInt64,
                false,
                "The market event the marker precedes (a book is reset before it); the data set's length \
                 when the marker follows the last event.",
            ),
            column("exchange", exchange_type(), false, "The exchange whose stream reconnected."),
        ]
    } else {
        shared_fields()
    };
    let decimal = |name: &str, description: &str| {
        let index = table.decimal_columns().iter().position(|decimal| *decimal == name);
        column(name, decimal_types[index.expect("one of the table's decimal columns")].clone(), true, description)
    };
    const NO_LEVEL: &str = "null on the one row of an event without levels";
    match table {
        Table::Trades => fields.extend([
            column("id", DataType::Utf8, false, "The exchange's trade id."),
            column("price", DataType::Float64, false, "The price the trade was made at."),
            column("amount", DataType::Float64, false, "The quantity traded."),
            column("side", side_type(), false, "The trade's side as the exchange reports it: \"Buy\" or \"Sell\"."),
        ]),
        Table::L1 => fields.extend([
            column("last_update_time", timestamp_type(), false, "When the exchange last changed the best bid or ask."),
            decimal("bid_price", "The best bid's price; null when barter's best_bid is None."),
            decimal("bid_amount", "The best bid's amount; null when barter's best_bid is None."),
            decimal("ask_price", "The best ask's price; null when barter's best_ask is None."),
            decimal("ask_amount", "The best ask's amount; null when barter's best_ask is None."),
        ]),
        Table::L2 => fields.extend([
            column(
                "is_snapshot",
                DataType::Boolean,
                false,
                "True for an OrderBookEvent::Snapshot (the whole book), false for an Update (levels to \
                 upsert).",
            ),
            column("sequence", DataType::UInt64, false, "The book's sequence number."),
            column(
                "time_engine",
                timestamp_type(),
                true,
                "The book's engine time; null when barter's time_engine is None.",
            ),
            column("side", side_type(), true, &format!("\"bid\" or \"ask\", bids first; {NO_LEVEL}.")),
            column(
                "level",
                DataType::UInt32,
                true,
                &format!("The level's position within its side, from 0, in barter's order; {NO_LEVEL}."),
            ),
            decimal("price", &format!("The level's price; {NO_LEVEL}.")),
            decimal("amount", &format!("The level's amount (in an update, 0 removes the level); {NO_LEVEL}.")),
        ]),
        Table::Candles => fields.extend([
            column("close_time", timestamp_type(), false, "When the candle's interval closed."),
            column("open", DataType::Float64, false, "The first price of the interval."),
            column("high", DataType::Float64, false, "The highest price of the interval."),
            column("low", DataType::Float64, false, "The lowest price of the interval."),
            column("close", DataType::Float64, false, "The last price of the interval."),
            column("volume", DataType::Float64, false, "The quantity traded in the interval."),
            column("trade_count", DataType::UInt64, false, "The number of trades in the interval."),
        ]),
        Table::Liquidations => fields.extend([
            column("side", side_type(), false, "The liquidated order's side: \"Buy\" or \"Sell\"."),
            column("price", DataType::Float64, false, "The price of the liquidation."),
            column("quantity", DataType::Float64, false, "The quantity liquidated."),
            column("time", timestamp_type(), false, "When the liquidation happened."),
        ]),
        Table::Reconnects => {}
    }
    Schema::new(fields)
}

fn shared_fields() -> Vec<Field> {
    vec![
        column(
            "event_index",
            DataType::UInt64,
            false,
            "The event's position among the data set's market events, from 0 (md[event_index] is the event).",
        ),
        column("time_exchange", timestamp_type(), false, "When the exchange says the event happened."),
        column("time_received", timestamp_type(), false, "When the recorder received the event."),
        column(
            "exchange",
            exchange_type(),
            false,
            "The exchange, by barter's name (ExchangeId), such as \"binance_spot\".",
        ),
        column("instrument", DataType::UInt64, false, "barter's instrument index (InstrumentIndex)."),
    ]
}

/// A column, its meaning in the field's metadata under `description`.
pub(crate) fn column(name: &str, data_type: DataType, nullable: bool, description: &str) -> Field {
    Field::new(name, data_type, nullable)
        .with_metadata(HashMap::from([("description".to_owned(), description.to_owned())]))
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
