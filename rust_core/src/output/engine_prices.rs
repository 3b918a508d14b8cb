//! The price barter's default engine marks positions at, after every trade and L1 event: one
//! `barter::engine::state::instrument::data::DefaultInstrumentMarketData` per (exchange,
//! instrument), fed each event with barter's own `Processor::process`, as an Arrow table.
//!
//! barter's engine keeps that state per instrument index, and an index there names one
//! exchange's instrument; a recording may reuse an index across exchanges, so here each
//! (exchange, instrument) has its own state. The state takes a trade only when its
//! `time_exchange` is later than the last trade's (the price from `Decimal::from_f64`), and an
//! L1 only when `time_exchange` is later than the held L1's `last_update_time`: strict
//! comparisons, so an event stamped the same as the one before is dropped. L2, candles and
//! liquidations do not reach it. `price()` is the L1 microprice (`OrderBookL1`'s, which needs
//! both sides), else the last trade price.
//!
//! ```text
//! event_index      uint64, time_exchange, time_received timestamp[ns, UTC],
//! exchange         dictionary<int32, utf8>, instrument uint64: the event's
//! kind             dictionary<int8, utf8> "trade" | "l1"
//! changed          bool     the event changed the state (false: dropped by the strict time
//!                           comparison, or it repeated what the state held)
//! l1_time          timestamp  the held L1's last_update_time (1970-01-01 before any L1)
//! bid_price, bid_amount, ask_price, ask_amount   decimals (as in the l1 table): the held L1
//! last_trade_price decimal, last_trade_time timestamp: the held last trade (null before any)
//! price            decimal  DefaultInstrumentMarketData::price(); null when None, and where
//!                           barter's division would panic (both L1 amounts zero)
//! ```
//!
//! Decimal128 prices take 28 places (barter's `rust_decimal` values have at most 28), as far as
//! 37 digits leave room beside the integer digits of L1 and trade prices (then rounded half to
//! even).

use super::{
    arrow::{
        column, exchange_type,
        export::{decimal_types, exchange_key, exchanges, finish, DecimalColumn, TimestampBuilder},
        timestamp_type, Decimals, Table, BATCH_ROWS,
    },
    book_replay::microprice,
};
use crate::{
    base::error::Error,
    data_set::{
        decimal_bounds::{digits, DECIMAL128_PRECISION},
        market_data::MarketData,
    },
};
use arrow_array::{
    builder::{BooleanBuilder, Int32Builder, Int8Builder, UInt64Builder},
    types::Int8Type,
    ArrayRef, DictionaryArray, RecordBatch, RecordBatchReader, StringArray,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use barter::engine::{
    state::instrument::data::{DefaultInstrumentMarketData, InstrumentDataState as _},
    Processor,
};
use barter_data::{event::DataKind, streams::reconnect::Event as Item};
use barter_instrument::exchange::ExchangeId;
use rust_decimal::Decimal;
use std::{collections::HashMap, sync::Arc};

const KINDS: [&str; 2] = ["trade", "l1"];

/// The engine prices of a data set, built as they are read.
pub struct EnginePrices {
    data: MarketData,
    schema: SchemaRef,
    /// The next item, and the market event index of the next market event.
    position: usize,
    next_event_index: u64,
    states: HashMap<(ExchangeId, usize), DefaultInstrumentMarketData>,
}

impl EnginePrices {
    pub fn new(data: &MarketData, decimals: Decimals) -> Result<Self, Error> {
        let l1_types = decimal_types(data, Table::L1, decimals)?;
        let price_type = match l1_types.first() {
            Some(DataType::Decimal128(precision, _)) => {
                let room = i64::from(DECIMAL128_PRECISION) - 1 - price_integer_digits(data);
                DataType::Decimal128(*precision, room.clamp(0, 28) as i8)
            }
            _ => l1_types.first().cloned().unwrap_or(DataType::Float64),
        };
        Ok(Self {
            data: data.clone(),
            schema: Arc::new(schema(&l1_types, &price_type)),
            position: 0,
            next_event_index: 0,
            states: HashMap::new(),
        })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        let data = self.data.clone();
        let items = data.stream_events();
        let mut rows = Rows::new(&self.schema, (items.len() - self.position).min(BATCH_ROWS));
        while self.position < items.len() && rows.count < BATCH_ROWS {
            if let Item::Item(event) = &items[self.position] {
                let kind = match event.kind {
                    DataKind::Trade(_) => Some(0),
                    DataKind::OrderBookL1(_) => Some(1),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let state = self.states.entry((event.exchange, event.instrument.index())).or_default();
                    let before = state.clone();
                    state.process(event);
                    rows.event_index.append_value(self.next_event_index);
                    rows.time_exchange.append(event.time_exchange)?;
                    rows.time_received.append(event.time_received)?;
                    rows.exchange.append_value(exchange_key(event.exchange));
                    rows.instrument.append_value(event.instrument.index() as u64);
                    rows.kind.append_value(kind);
                    rows.changed.append_value(*state != before);
                    rows.append_state(state)?;
                }
                self.next_event_index += 1;
            }
            self.position += 1;
        }
        if rows.count == 0 {
            return Ok(None);
        }
        rows.finish(&self.schema).map(Some)
    }
}

/// `state.price()` without barter's panic: the L1 microprice in checked arithmetic (`None`
/// where barter's division would panic, with no fallback then, as barter would not get there),
/// else the last trade price.
fn engine_price(state: &DefaultInstrumentMarketData) -> Option<Decimal> {
    match (&state.l1.best_bid, &state.l1.best_ask) {
        (Some(bid), Some(ask)) => microprice(bid, ask),
        _ => state.price(),
    }
}

/// At least the integer digits of any L1 price or trade price of `data`.
fn price_integer_digits(data: &MarketData) -> i64 {
    let l1 = data.kinds().decimal_bounds(1);
    let l1_digits = [0, 2].iter().map(|&column| l1[column].integer_digits()).max().unwrap_or(0);
    let largest_trade = data
        .market_events()
        .filter_map(|event| match &event.kind {
            DataKind::Trade(trade) => Some(trade.price.abs()),
            _ => None,
        })
        .fold(0.0f64, f64::max);
    let trade_digits =
        if largest_trade.is_finite() { digits(largest_trade as u128) } else { i64::from(DECIMAL128_PRECISION) };
    l1_digits.max(trade_digits)
}

impl Iterator for EnginePrices {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

impl RecordBatchReader for EnginePrices {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

fn schema(l1_types: &[DataType], price_type: &DataType) -> Schema {
    let decimal = |index: usize| l1_types.get(index).cloned().unwrap_or(DataType::Float64);
    Schema::new(vec![
        column("event_index", DataType::UInt64, false, "the event's index among the data set's market events"),
        column("time_exchange", timestamp_type(), false, "the event's time_exchange"),
        column("time_received", timestamp_type(), false, "the event's time_received"),
        column("exchange", exchange_type(), false, "the event's exchange (barter's name)"),
        column("instrument", DataType::UInt64, false, "the event's instrument index"),
        column("kind", DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)), false, "the event's kind: \"trade\" or \"l1\""),
        column("changed", DataType::Boolean, false, "the event changed barter's state (false: dropped by its strict time comparison, or it repeated what the state held)"),
        column("l1_time", timestamp_type(), false, "the held OrderBookL1's last_update_time (1970-01-01 before any L1)"),
        column("bid_price", decimal(0), true, "the held OrderBookL1's best bid price"),
        column("bid_amount", decimal(1), true, "the held OrderBookL1's best bid amount"),
        column("ask_price", decimal(2), true, "the held OrderBookL1's best ask price"),
        column("ask_amount", decimal(3), true, "the held OrderBookL1's best ask amount"),
        column("last_trade_price", price_type.clone(), true, "the held last trade price (barter's Decimal::from_f64 of the trade's price), null before any trade"),
        column("last_trade_time", timestamp_type(), true, "the held last trade's time_exchange, null before any trade"),
        column("price", price_type.clone(), true, "DefaultInstrumentMarketData::price(): the L1 microprice, else the last trade price; null when neither, and where barter's division would panic (both L1 amounts zero)"),
    ])
}

struct Rows {
    count: usize,
    event_index: UInt64Builder,
    time_exchange: TimestampBuilder,
    time_received: TimestampBuilder,
    exchange: Int32Builder,
    instrument: UInt64Builder,
    kind: Int8Builder,
    changed: BooleanBuilder,
    l1_time: TimestampBuilder,
    l1: [DecimalColumn; 4],
    last_trade_price: DecimalColumn,
    last_trade_time: TimestampBuilder,
    price: DecimalColumn,
}

impl Rows {
    /// Builders for about `rows` rows.
    fn new(schema: &Schema, rows: usize) -> Self {
        let decimal = |name: &str| DecimalColumn::new(schema.field_with_name(name).map(Field::data_type), rows);
        Self {
            count: 0,
            event_index: UInt64Builder::with_capacity(rows),
            time_exchange: TimestampBuilder::with_capacity(rows),
            time_received: TimestampBuilder::with_capacity(rows),
            exchange: Int32Builder::with_capacity(rows),
            instrument: UInt64Builder::with_capacity(rows),
            kind: Int8Builder::with_capacity(rows),
            changed: BooleanBuilder::with_capacity(rows),
            l1_time: TimestampBuilder::with_capacity(rows),
            l1: ["bid_price", "bid_amount", "ask_price", "ask_amount"].map(decimal),
            last_trade_price: decimal("last_trade_price"),
            last_trade_time: TimestampBuilder::with_capacity(rows),
            price: decimal("price"),
        }
    }

    fn append_state(&mut self, state: &DefaultInstrumentMarketData) -> Result<(), ArrowError> {
        self.l1_time.append(state.l1.last_update_time)?;
        let [bid_price, bid_amount, ask_price, ask_amount] = &mut self.l1;
        bid_price.append(state.l1.best_bid.as_ref().map(|level| &level.price))?;
        bid_amount.append(state.l1.best_bid.as_ref().map(|level| &level.amount))?;
        ask_price.append(state.l1.best_ask.as_ref().map(|level| &level.price))?;
        ask_amount.append(state.l1.best_ask.as_ref().map(|level| &level.amount))?;
        let last_trade = state.last_traded_price.as_ref();
        self.last_trade_price.append_rounded(last_trade.map(|timed| &timed.value))?;
        self.last_trade_time.append_n(last_trade.map(|timed| timed.time), 1)?;
        self.price.append_rounded(engine_price(state).as_ref())?;
        self.count += 1;
        Ok(())
    }

    fn finish(self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
        let Self {
            mut event_index,
            mut time_exchange,
            mut time_received,
            exchange,
            mut instrument,
            mut kind,
            mut changed,
            mut l1_time,
            l1,
            last_trade_price,
            mut last_trade_time,
            price,
            ..
        } = self;
        let kinds = Arc::new(StringArray::from(KINDS.to_vec()));
        let mut columns: Vec<ArrayRef> = vec![
            finish(&mut event_index),
            time_exchange.finish(),
            time_received.finish(),
            exchanges(exchange),
            finish(&mut instrument),
            Arc::new(DictionaryArray::<Int8Type>::try_new(kind.finish(), kinds)?),
            finish(&mut changed),
            l1_time.finish(),
        ];
        columns.extend(l1.map(DecimalColumn::finish));
        columns.extend([last_trade_price.finish(), last_trade_time.finish(), price.finish()]);
        RecordBatch::try_new(Arc::clone(schema), columns)
    }
}
