//! The batch format the cursor hands to callers: MessagePack, one array per batch.
//!
//! This module is the single Rust definition of the layout (the kind tags are `base/event.rs`'s);
//! `barter_ffi/data.py` is the single Python one (its `array_like` Structs, in field order, with
//! these tags). Change both together; the round-trip tests on each side pin them to each other.
//! `tests/header.rs` copies the layout below into the header, for C hosts (and the reference).
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
//! items  = [batch, markers]                  the items layout, asked for to see reconnects:
//! markers = [[before: uint, exchange], …]    each reconnect marker in order, with the index in
//!                                            `batch` of the event it precedes (the batch's
//!                                            length: after its last event); empty = end of data
//!                                            when `batch` is empty too
//! *_ns   = int, nanoseconds since 1970-01-01T00:00:00Z (loading guarantees it fits in i64)
//! exchange = barter's serde name (`ExchangeId::as_str`), side = "Buy" | "Sell"
//! ```
//!
//! [`decode_batch`] reads the same layout back into barter's types (for events built in Python),
//! through barter's own serde for exchanges, sides, decimals and order books, so it accepts
//! exactly what barter's JSON reader accepts.

use super::decimal_text::decimal_text;
use crate::{
    base::{
        error::Error,
        event::{
            StreamEvent, TAG_CANDLE, TAG_LIQUIDATION, TAG_ORDER_BOOK_L1, TAG_ORDER_BOOK_SNAPSHOT,
            TAG_ORDER_BOOK_UPDATE, TAG_TRADE,
        },
    },
    data_set::market_data::MarketData,
};
use barter_data::{
    books::{Level, OrderBook},
    event::{DataKind, MarketEvent},
    streams::reconnect::Event as Item,
    subscription::book::OrderBookEvent,
};
use barter_instrument::{exchange::ExchangeId, instrument::InstrumentIndex, Side};
use chrono::{DateTime, Utc};
use rmp::encode;
use rmpv::Value;
use serde::{de::value::StrDeserializer, Deserialize};
use std::cmp::Ordering;

type Event = MarketEvent<InstrumentIndex, DataKind>;

/// What a batch holds: the market events alone, or the items layout with the reconnect markers
/// in their places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchLayout {
    Events,
    Items,
}

/// The batch that says the data has ended, in `layout`.
pub fn end_of_data(layout: BatchLayout) -> &'static [u8] {
    match layout {
        BatchLayout::Events => &[0x90],
        BatchLayout::Items => &[0x92, 0x90, 0x90],
    }
}

/// Whether `batch` is the end of data in `layout`: no market event (and no marker).
pub fn is_end(batch: &[u8], layout: BatchLayout) -> bool {
    batch == end_of_data(layout)
}

/// Appends one batch holding `events` to `out`.
pub fn encode_batch(events: &[&Event], out: &mut Vec<u8>) -> Result<(), Error> {
    let mut writer = BatchWriter { out };
    writer.batch(events).map_err(|error| Error::internal(format!("encoding a batch: {error}")))
}

/// Appends one batch in the items layout: `events`, and `markers` as (index in `events` of
/// the event each precedes, exchange), in order.
pub fn encode_items(events: &[&Event], markers: &[(usize, ExchangeId)], out: &mut Vec<u8>) -> Result<(), Error> {
    let mut writer = BatchWriter { out };
    let written: WriteResult = (|| {
        writer.array(2)?;
        writer.batch(events)?;
        writer.array(markers.len())?;
        markers.iter().try_for_each(|(before, exchange)| {
            writer.array(2)?;
            writer.uint(*before as u64)?;
            writer.str(exchange.as_str())
        })
    })();
    written.map_err(|error| Error::internal(format!("encoding a batch: {error}")))
}

/// Every exchange name barter's serde reads, as it writes them (`ExchangeId::as_str`), in
/// barter's order: the names the wire's `exchange` field can carry.
///
/// barter lists no exchanges; its derived `Deserialize` does, in the error it gives for an
/// unknown name. Reading that list (aliases mapped to their exchange) follows barter's crate as
/// it is built, so a patch release that adds an exchange shows up here without a change.
pub fn exchange_names() -> Vec<&'static str> {
    let unknown = ExchangeId::deserialize(StrDeserializer::<serde::de::value::Error>::new("")).unwrap_err();
    let message = unknown.to_string();
    let listed = message.split_once("expected one of ").map_or("", |(_, list)| list);
    let mut names: Vec<&'static str> = Vec::new();
    for quoted in listed.split(", ") {
        if let Some(exchange) = exchange_id(quoted.trim_matches('`')) {
            if !names.contains(&exchange.as_str()) {
                names.push(exchange.as_str());
            }
        }
    }
    names
}

/// The exchange barter's serde reads `name` as (aliases such as "huobi" included).
pub fn exchange_id(name: &str) -> Option<ExchangeId> {
    ExchangeId::deserialize(StrDeserializer::<serde::de::value::Error>::new(name)).ok()
}

/// Appends a MessagePack array of `names` to `out`.
pub fn encode_names(names: &[&str], out: &mut Vec<u8>) -> Result<(), Error> {
    let mut writer = BatchWriter { out };
    writer
        .array(names.len())
        .and_then(|()| names.iter().try_for_each(|name| writer.str(name)))
        .map_err(|error| Error::internal(format!("encoding names: {error}")))
}

/// barter's serde name of a side, as the wire carries it.
pub const fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "Buy",
        Side::Sell => "Sell",
    }
}

#[derive(Debug)]
pub(crate) enum WriteError {
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
            encode::ValueWriteError::InvalidMarkerWrite(error) | encode::ValueWriteError::InvalidDataWrite(error) => {
                Self::Io(error)
            }
        }
    }
}

type WriteResult = Result<(), WriteError>;

struct BatchWriter<'a> {
    out: &'a mut Vec<u8>,
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
        Ok(encode::write_str(self.out, decimal_text(value).as_str())?)
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

/// Reads a batch (the layout above) into barter's market events; an error names the event's
/// position and the field.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<Event>, Error> {
    decode_events(&read_one_value(bytes)?)
}

/// Reads a batch in the items layout into barter's stream items, reconnect markers in place.
pub fn decode_items(bytes: &[u8]) -> Result<Vec<StreamEvent>, Error> {
    let value = read_one_value(bytes)?;
    let [events, markers] = fields::<2>(&value, "an items batch").map_err(Error::invalid_data)?;
    let events = decode_events(events)?;
    let markers = markers.as_array().ok_or_else(|| Error::invalid_data("an items batch's markers must be an array"))?;
    let total = events.len();
    let mut items = Vec::with_capacity(total + markers.len());
    let mut events = events.into_iter();
    let mut placed = 0;
    for (index, marker) in markers.iter().enumerate() {
        let (before, exchange) =
            decode_marker(marker).map_err(|problem| Error::invalid_data(format!("marker {index}: {problem}")))?;
        if !(placed..=total).contains(&before) {
            return Err(Error::invalid_data(format!(
                "marker {index}: `before` is {before}, outside {placed}..={total} (the previous marker's and the \
                 batch's length)"
            )));
        }
        items.extend(events.by_ref().take(before - placed).map(Item::Item));
        placed = before;
        items.push(Item::Reconnecting(exchange));
    }
    items.extend(events.map(Item::Item));
    Ok(items)
}

// The data set sits below the wire, so its constructor from a batch lives here.
impl MarketData {
    /// Builds a data set from a batch in this format, such as Python sends (an empty batch is an
    /// empty data set), in either layout.
    pub fn from_batch(bytes: &[u8], layout: BatchLayout) -> Result<Self, Error> {
        let events: Vec<StreamEvent> = match layout {
            BatchLayout::Events => decode_batch(bytes)?.into_iter().map(Item::Item).collect(),
            BatchLayout::Items => decode_items(bytes)?,
        };
        Ok(Self::from_items(events))
    }
}

fn decode_marker(value: &Value) -> Result<(usize, ExchangeId), String> {
    let [before, exchange] = fields::<2>(value, "a marker")?;
    let before = before
        .as_u64()
        .and_then(|before| usize::try_from(before).ok())
        .ok_or_else(|| format!("`before` must be a non-negative integer, not {before}"))?;
    Ok((before, serde_str(exchange, "exchange")?))
}

fn read_one_value(bytes: &[u8]) -> Result<Value, Error> {
    let mut reader = bytes;
    let value = rmpv::decode::read_value(&mut reader)
        .map_err(|error| Error::invalid_data(format!("not a MessagePack batch: {error}")))?;
    if !reader.is_empty() {
        return Err(Error::invalid_data(format!("{} bytes after the batch", reader.len())));
    }
    Ok(value)
}

fn decode_events(batch: &Value) -> Result<Vec<Event>, Error> {
    let Value::Array(events) = batch else {
        return Err(Error::invalid_data("a batch must be an array of events"));
    };
    events
        .iter()
        .enumerate()
        .map(|(index, event)| {
            decode_event(event).map_err(|problem| Error::invalid_data(format!("event {index}: {problem}")))
        })
        .collect()
}

fn decode_event(value: &Value) -> Result<Event, String> {
    let [time_exchange, time_received, exchange, instrument, kind] = fields::<5>(value, "event")?;
    Ok(MarketEvent {
        time_exchange: timestamp(time_exchange, "time_exchange")?,
        time_received: timestamp(time_received, "time_received")?,
        exchange: serde_str(exchange, "exchange")?,
        instrument: InstrumentIndex(
            instrument
                .as_u64()
                .and_then(|index| usize::try_from(index).ok())
                .ok_or_else(|| format!("`instrument` must be a non-negative integer, not {instrument}"))?,
        ),
        kind: decode_kind(kind)?,
    })
}

fn decode_kind(value: &Value) -> Result<DataKind, String> {
    let items = value.as_array().ok_or_else(|| format!("`kind` must be an array, not {value}"))?;
    let tag =
        items.first().and_then(Value::as_u64).ok_or_else(|| format!("`kind` must start with its tag, not {value}"))?;
    match u8::try_from(tag).unwrap_or(u8::MAX) {
        TAG_TRADE => {
            let [_, id, price, amount, side] = fields::<5>(value, "Trade")?;
            Ok(DataKind::Trade(barter_data::subscription::trade::PublicTrade {
                id: id.as_str().ok_or_else(|| format!("`id` must be a string, not {id}"))?.to_string(),
                price: float(price, "price")?,
                amount: float(amount, "amount")?,
                side: serde_str(side, "side")?,
            }))
        }
        TAG_ORDER_BOOK_L1 => {
            let [_, last_update_time, best_bid, best_ask] = fields::<4>(value, "OrderBookL1")?;
            Ok(DataKind::OrderBookL1(barter_data::subscription::book::OrderBookL1 {
                last_update_time: timestamp(last_update_time, "last_update_time")?,
                best_bid: optional_level(best_bid, "best_bid")?,
                best_ask: optional_level(best_ask, "best_ask")?,
            }))
        }
        TAG_ORDER_BOOK_SNAPSHOT => Ok(DataKind::OrderBook(OrderBookEvent::Snapshot(decode_book(value)?))),
        TAG_ORDER_BOOK_UPDATE => Ok(DataKind::OrderBook(OrderBookEvent::Update(decode_book(value)?))),
        TAG_CANDLE => {
            let [_, close_time, open, high, low, close, volume, trade_count] = fields::<8>(value, "Candle")?;
            Ok(DataKind::Candle(barter_data::subscription::candle::Candle {
                close_time: timestamp(close_time, "close_time")?,
                open: float(open, "open")?,
                high: float(high, "high")?,
                low: float(low, "low")?,
                close: float(close, "close")?,
                volume: float(volume, "volume")?,
                trade_count: trade_count
                    .as_u64()
                    .ok_or_else(|| format!("`trade_count` must be a non-negative integer, not {trade_count}"))?,
            }))
        }
        TAG_LIQUIDATION => {
            let [_, side, price, quantity, time] = fields::<5>(value, "Liquidation")?;
            Ok(DataKind::Liquidation(barter_data::subscription::liquidation::Liquidation {
                side: serde_str(side, "side")?,
                price: float(price, "price")?,
                quantity: float(quantity, "quantity")?,
                time: timestamp(time, "time")?,
            }))
        }
        _ => Err(format!("unknown kind tag {tag}")),
    }
}

fn decode_book(value: &Value) -> Result<OrderBook, String> {
    let [_, sequence, time_engine, bids, asks] = fields::<5>(value, "OrderBook")?;
    let time_engine = match time_engine {
        Value::Nil => None,
        time => Some(timestamp(time, "time_engine")?),
    };
    let sequence =
        sequence.as_u64().ok_or_else(|| format!("`sequence` must be a non-negative integer, not {sequence}"))?;
    order_book_in_order(sequence, time_engine, book_levels(bids, "bids")?, book_levels(asks, "asks")?)
}

/// An order book with its levels in the order given.
///
/// OrderBook's fields are private. `OrderBook::new` sorts each side (bids by falling price, asks
/// by rising price), which changes nothing when a side is already strictly in that order, as
/// recorded books are; any other book is built with barter's own Deserialize, which keeps the
/// levels as given.
pub(crate) fn order_book_in_order(
    sequence: u64,
    time_engine: Option<DateTime<Utc>>,
    bids: Vec<Level>,
    asks: Vec<Level>,
) -> Result<OrderBook, String> {
    let strictly_sorted =
        |levels: &[Level], order: Ordering| levels.windows(2).all(|pair| pair[0].price.cmp(&pair[1].price) == order);
    if strictly_sorted(&bids, Ordering::Greater) && strictly_sorted(&asks, Ordering::Less) {
        return Ok(OrderBook::new(sequence, time_engine, bids, asks));
    }
    let book = serde_json::json!({
        "sequence": sequence,
        "time_engine": time_engine.map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
        "bids": { "side": null, "levels": bids },
        "asks": { "side": null, "levels": asks },
    });
    OrderBook::deserialize(book).map_err(|error| format!("order book: {error}"))
}

/// One side's levels, each `[price, amount]` as decimal text read by barter's serde.
fn book_levels(value: &Value, name: &str) -> Result<Vec<Level>, String> {
    let levels = value.as_array().ok_or_else(|| format!("`{name}` must be an array of levels, not {value}"))?;
    levels
        .iter()
        .map(|level| {
            let [price, amount] = fields::<2>(level, "Level")?;
            let decimal = |field: &Value, what: &str| {
                let text =
                    field.as_str().ok_or_else(|| format!("`{name}` level {what} must be decimal text, not {field}"))?;
                serde_text(text, what).map_err(|problem| format!("`{name}` level {problem}"))
            };
            Ok(Level { price: decimal(price, "price")?, amount: decimal(amount, "amount")? })
        })
        .collect()
}

fn optional_level(value: &Value, name: &str) -> Result<Option<Level>, String> {
    if value.is_nil() {
        return Ok(None);
    }
    let [price, amount] = fields::<2>(value, name)?;
    Ok(Some(Level { price: serde_str(price, name)?, amount: serde_str(amount, name)? }))
}

fn fields<'a, const N: usize>(value: &'a Value, name: &str) -> Result<&'a [Value; N], String> {
    value
        .as_array()
        .and_then(|items| <&[Value; N]>::try_from(items.as_slice()).ok())
        .ok_or_else(|| format!("{name} must be an array of {N} fields, not {value}"))
}

fn timestamp(value: &Value, name: &str) -> Result<DateTime<Utc>, String> {
    value
        .as_i64()
        .map(DateTime::from_timestamp_nanos)
        .ok_or_else(|| format!("`{name}` must be integer nanoseconds since the Unix epoch, not {value}"))
}

/// A finite number: barter's JSON has no NaN or infinity (serde_json writes them as `null`, which
/// barter then cannot read back), so neither does a data set built from events.
fn float(value: &Value, name: &str) -> Result<f64, String> {
    let number = match value {
        Value::F64(number) => *number,
        Value::F32(number) => f64::from(*number),
        Value::Integer(number) => number.as_f64().ok_or_else(|| format!("`{name}`: {value} is not a number"))?,
        _ => return Err(format!("`{name}` must be a number, not {value}")),
    };
    finite(number, name)
}

/// `number`, if finite: barter's JSON has no NaN or infinity.
pub(crate) fn finite(number: f64, name: &str) -> Result<f64, String> {
    if number.is_finite() {
        Ok(number)
    } else {
        Err(format!("`{name}` must be a finite number (barter's JSON has no NaN or infinity), not {number}"))
    }
}

/// A string field read by barter's own serde (so aliases such as "huobi" or "buy" are honoured).
fn serde_str<T: for<'de> Deserialize<'de>>(value: &Value, name: &str) -> Result<T, String> {
    serde_text(value.as_str().ok_or_else(|| format!("`{name}` must be a string, not {value}"))?, name)
}

/// `text` read by barter's own serde for `T`, as barter reads it from JSON text.
pub(crate) fn serde_text<T: for<'de> Deserialize<'de>>(text: &str, name: &str) -> Result<T, String> {
    T::deserialize(StrDeserializer::<serde::de::value::Error>::new(text)).map_err(|error| format!("`{name}`: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_error_says_what_failed() {
        let late = DateTime::<Utc>::MAX_UTC;
        let message = format!("timestamp {late} does not fit in i64 nanoseconds");
        assert_eq!(WriteError::TimestampOutOfRange(late).to_string(), message);
        assert_eq!(WriteError::from(std::io::Error::other("disk full")).to_string(), "disk full");
    }

    fn level(price: &str, amount: &str) -> Level {
        Level { price: price.parse().unwrap(), amount: amount.parse().unwrap() }
    }

    fn through_barters_deserialize(bids: &[Level], asks: &[Level]) -> OrderBook {
        let book = serde_json::json!({
            "sequence": 7, "time_engine": null,
            "bids": { "side": null, "levels": bids }, "asks": { "side": null, "levels": asks },
        });
        OrderBook::deserialize(book).unwrap()
    }

    #[test]
    fn a_book_in_barters_order_is_the_one_barters_deserialize_makes() {
        let bids = vec![level("96962.50", "0.5"), level("96962.0", "1.25"), level("1", "0")];
        let asks = vec![level("96963.00", "0.75"), level("96964.1", "2")];
        let book = order_book_in_order(7, None, bids.clone(), asks.clone()).unwrap();
        assert_eq!(book, through_barters_deserialize(&bids, &asks));
        // Decimal equality ignores scale: the scales must survive too.
        let texts = |levels: &[Level]| levels.iter().map(|level| level.price.to_string()).collect::<Vec<_>>();
        assert_eq!(texts(book.bids().levels()), ["96962.50", "96962.0", "1"]);
    }

    #[test]
    fn a_book_out_of_order_or_with_equal_prices_keeps_its_levels_as_given() {
        let unsorted = vec![level("1", "1"), level("3", "1"), level("2", "1")];
        let equal_prices = vec![level("2.0", "1"), level("2.00", "3")];
        for (bids, asks) in [(unsorted.clone(), vec![]), (vec![], unsorted), (equal_prices.clone(), equal_prices)] {
            let book = order_book_in_order(7, None, bids.clone(), asks.clone()).unwrap();
            assert_eq!(book, through_barters_deserialize(&bids, &asks));
            assert_eq!(book.bids().levels(), bids.as_slice());
            assert_eq!(book.asks().levels(), asks.as_slice());
        }
    }
}
