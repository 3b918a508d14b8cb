//! The batch format the cursor hands to callers: MessagePack, one array per batch.
//!
//! This module is the single Rust definition of the layout; `barter_ffi/data.py` is the single
//! Python one (its `array_like` Structs, in field order, with these tags). Change both together;
//! the round-trip tests on each side pin them to each other.
//!
//! ```text
//! batch  = [event, …]                        up to the requested count; empty = end of data
//! event  = [time_exchange_ns, time_received_ns, exchange, instrument, kind]
//! kind   = [tag, fields…]
//!   0 Trade              [0, id: str, price: f64, amount: f64, side: str]
//!   1 OrderBookL1        [1, last_update_time_ns, best_bid: level | nil, best_ask: level | nil]
//!   2 OrderBook Snapshot [2, sequence: uint, time_engine_ns | nil, bids: [level, …], asks: [level, …]]
//!   3 OrderBook Update   [3, sequence: uint, time_engine_ns | nil, bids: [level, …], asks: [level, …]]
//!   4 Candle             [4, close_time_ns, open: f64, high: f64, low: f64, close: f64, volume: f64, trade_count: uint]
//!   5 Liquidation        [5, side: str, price: f64, quantity: f64, time_ns]
//! level  = [price: str, amount: str]         rust_decimal's Display: every digit, scale kept
//! *_ns   = int, nanoseconds since 1970-01-01T00:00:00Z (loading guarantees it fits in i64)
//! exchange = barter's serde name (`ExchangeId::as_str`), side = "Buy" | "Sell"
//! ```

use crate::error::Error;
use barter_data::{
    books::{Level, OrderBook},
    event::{DataKind, MarketEvent},
    subscription::book::OrderBookEvent,
};
use barter_instrument::{instrument::InstrumentIndex, Side};
use chrono::{DateTime, Utc};
use rmp::encode;
use std::fmt::Write as _;

pub const TAG_TRADE: u8 = 0;
pub const TAG_ORDER_BOOK_L1: u8 = 1;
pub const TAG_ORDER_BOOK_SNAPSHOT: u8 = 2;
pub const TAG_ORDER_BOOK_UPDATE: u8 = 3;
pub const TAG_CANDLE: u8 = 4;
pub const TAG_LIQUIDATION: u8 = 5;

type Event = MarketEvent<InstrumentIndex, DataKind>;

/// Appends one batch holding `events` to `out`.
pub fn encode_batch(events: &[&Event], out: &mut Vec<u8>) -> Result<(), Error> {
    let mut writer = BatchWriter { out, decimal: String::with_capacity(32) };
    writer.batch(events).map_err(|error| Error::internal(format!("encoding a batch: {error}")))
}

/// barter's serde name of a side, as the wire carries it.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "Buy",
        Side::Sell => "Sell",
    }
}

#[derive(Debug)]
enum WriteError {
    Io(std::io::Error),
    /// Loading rejects such timestamps, so this means a bug, never a silently wrong number.
    TimestampOutOfRange(DateTime<Utc>),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(error) => write!(f, "{error}"),
            Self::TimestampOutOfRange(time) => write!(f, "timestamp {time} does not fit in i64 nanoseconds"),
        }
    }
}

impl From<std::io::Error> for WriteError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

impl From<encode::ValueWriteError> for WriteError {
    fn from(error: encode::ValueWriteError) -> Self {
        match error {
            encode::ValueWriteError::InvalidMarkerWrite(error)
            | encode::ValueWriteError::InvalidDataWrite(error) => Self::Io(error),
        }
    }
}

type WriteResult = Result<(), WriteError>;

struct BatchWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Reused for every `Decimal` so formatting allocates once per batch.
    decimal: String,
}

impl BatchWriter<'_> {
    fn batch(&mut self, events: &[&Event]) -> WriteResult {
        self.array(events.len())?;
        events.iter().try_for_each(|event| self.event(event))
    }

    fn event(&mut self, event: &Event) -> WriteResult {
        self.array(5)?;
        self.timestamp(event.time_exchange)?;
        self.timestamp(event.time_received)?;
        self.str(event.exchange.as_str())?;
        self.uint(event.instrument.index() as u64)?;
        self.kind(&event.kind)
    }

    fn kind(&mut self, kind: &DataKind) -> WriteResult {
        match kind {
            DataKind::Trade(trade) => {
                self.array(5)?;
                self.uint(TAG_TRADE.into())?;
                self.str(&trade.id)?;
                self.f64(trade.price)?;
                self.f64(trade.amount)?;
                self.str(side_name(trade.side))
            }
            DataKind::OrderBookL1(l1) => {
                self.array(4)?;
                self.uint(TAG_ORDER_BOOK_L1.into())?;
                self.timestamp(l1.last_update_time)?;
                self.optional_level(l1.best_bid.as_ref())?;
                self.optional_level(l1.best_ask.as_ref())
            }
            DataKind::OrderBook(OrderBookEvent::Snapshot(book)) => self.book(TAG_ORDER_BOOK_SNAPSHOT, book),
            DataKind::OrderBook(OrderBookEvent::Update(book)) => self.book(TAG_ORDER_BOOK_UPDATE, book),
            DataKind::Candle(candle) => {
                self.array(8)?;
                self.uint(TAG_CANDLE.into())?;
                self.timestamp(candle.close_time)?;
                self.f64(candle.open)?;
                self.f64(candle.high)?;
                self.f64(candle.low)?;
                self.f64(candle.close)?;
                self.f64(candle.volume)?;
                self.uint(candle.trade_count)
            }
            DataKind::Liquidation(liquidation) => {
                self.array(5)?;
                self.uint(TAG_LIQUIDATION.into())?;
                self.str(side_name(liquidation.side))?;
                self.f64(liquidation.price)?;
                self.f64(liquidation.quantity)?;
                self.timestamp(liquidation.time)
            }
        }
    }

    fn book(&mut self, tag: u8, book: &OrderBook) -> WriteResult {
        self.array(5)?;
        self.uint(tag.into())?;
        self.uint(book.sequence())?;
        match book.time_engine() {
            Some(time) => self.timestamp(time)?,
            None => self.nil()?,
        }
        self.levels(book.bids().levels())?;
        self.levels(book.asks().levels())
    }

    fn levels(&mut self, levels: &[Level]) -> WriteResult {
        self.array(levels.len())?;
        levels.iter().try_for_each(|level| self.level(level))
    }

    fn optional_level(&mut self, level: Option<&Level>) -> WriteResult {
        match level {
            Some(level) => self.level(level),
            None => self.nil(),
        }
    }

    fn level(&mut self, level: &Level) -> WriteResult {
        self.array(2)?;
        self.decimal(&level.price)?;
        self.decimal(&level.amount)
    }

    fn decimal(&mut self, value: &rust_decimal::Decimal) -> WriteResult {
        self.decimal.clear();
        write!(self.decimal, "{value}").expect("formatting into a String cannot fail");
        Ok(encode::write_str(self.out, &self.decimal)?)
    }

    fn timestamp(&mut self, time: DateTime<Utc>) -> WriteResult {
        let nanos = time.timestamp_nanos_opt().ok_or(WriteError::TimestampOutOfRange(time))?;
        encode::write_sint(self.out, nanos)?;
        Ok(())
    }

    fn array(&mut self, len: usize) -> WriteResult {
        encode::write_array_len(self.out, len as u32)?;
        Ok(())
    }

    fn str(&mut self, value: &str) -> WriteResult {
        Ok(encode::write_str(self.out, value)?)
    }

    fn uint(&mut self, value: u64) -> WriteResult {
        encode::write_uint(self.out, value)?;
        Ok(())
    }

    fn f64(&mut self, value: f64) -> WriteResult {
        Ok(encode::write_f64(self.out, value)?)
    }

    fn nil(&mut self) -> WriteResult {
        Ok(encode::write_nil(self.out)?)
    }
}
