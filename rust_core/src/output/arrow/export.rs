//! A data set's events → record batches of one table, built lazily, [`BATCH_ROWS`] at a time.

use super::{ahead::BuiltAhead, schema, Decimals, Table, BATCH_ROWS, BOOK_SIDES, DECIMAL128_PRECISION, TRADE_SIDES};
use crate::{
    base::error::Error,
    data_set::{
        decimal_bounds::{digits, POW10_I128},
        market_data::MarketData,
    },
    output::{
        decimal_float::decimal_f64,
        decimal_text::decimal_text,
        wire::{exchange_id, exchange_names},
    },
};
use arrow_array::{
    builder::{
        BooleanBuilder, Decimal128Builder, Float64Builder, Int32Builder, Int8Builder, StringBuilder,
        TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
    },
    types::{Int32Type, Int8Type},
    ArrayRef, DictionaryArray, RecordBatch, RecordBatchReader, StringArray,
};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use barter_data::{
    books::{Level, OrderBook},
    event::{DataKind, MarketEvent},
    streams::reconnect::Event as Item,
    subscription::book::OrderBookEvent,
};
use barter_instrument::{exchange::ExchangeId, instrument::InstrumentIndex};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::{
    ops::Range,
    sync::{Arc, OnceLock},
};

type Event = MarketEvent<InstrumentIndex, DataKind>;

/// Room reserved per trade id and per decimal as text: what exchanges' ids and prices mostly take.
const TRADE_ID_BYTES: usize = 16;
const DECIMAL_TEXT_BYTES: usize = 16;

/// One table of a data set as a stream of record batches. Holds its own reference to the
/// events, so it outlives the data set it came from.
pub struct TableBatches {
    schema: SchemaRef,
    batches: Batches,
}

/// The batches are cut at the first read, so that a schema call never walks a table.
enum Batches {
    Unread(MarketData, Table),
    Reading(BuiltAhead<Result<RecordBatch, ArrowError>>),
}

impl TableBatches {
    pub fn new(data: &MarketData, table: Table, decimals: Decimals) -> Result<Self, Error> {
        let schema = Arc::new(schema(table, &decimal_types(data, table, decimals)?));
        Ok(Self { schema, batches: Batches::Unread(data.clone(), table) })
    }

    fn start_reading(&mut self) {
        if let Batches::Unread(data, table) = &self.batches {
            let spans = batch_spans(data, *table);
            let batch = BatchBuilder { data: data.clone(), table: *table, schema: Arc::clone(&self.schema), spans };
            self.batches = Batches::Reading(BuiltAhead::new(batch.spans.len(), move |index| batch.build(index)));
        }
    }
}

impl Iterator for TableBatches {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.start_reading();
        let Batches::Reading(batches) = &mut self.batches else { return None };
        batches.next()
    }
}

impl RecordBatchReader for TableBatches {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// Builds any one batch of a table, on whichever thread asks: the spans of all batches are
/// fixed up front.
struct BatchBuilder {
    data: MarketData,
    table: Table,
    schema: SchemaRef,
    spans: Vec<BatchSpan>,
}

/// The table's events (markers, for reconnects) one batch takes, and the rows they make.
#[derive(Debug)]
struct BatchSpan {
    items: Range<usize>,
    rows: usize,
}

impl BatchBuilder {
    fn build(&self, batch: usize) -> Result<RecordBatch, ArrowError> {
        let BatchSpan { items, rows: row_count } = &self.spans[batch];
        let mut rows = TableRows::new(self.table, &self.schema, *row_count);
        match kind_slot(self.table) {
            None => {
                for (event_index, position) in self.data.markers().iter().skip(items.start).take(items.len()) {
                    let Some(Item::Reconnecting(exchange)) = self.data.stream_events().get(position) else {
                        return Err(ArrowError::ComputeError(format!("no marker at position {position}")));
                    };
                    rows.append_marker(event_index as u64, *exchange);
                }
            }
            Some(slot) => {
                for &event_index in &self.data.kinds().events(slot)[items.clone()] {
                    rows.append(event_index as u64, market_event(&self.data, event_index)?)?;
                }
            }
        }
        RecordBatch::try_new(Arc::clone(&self.schema), rows.finish())
    }
}

/// The table cut into batches of [`BATCH_ROWS`] rows, an L2 event's levels never split.
fn batch_spans(data: &MarketData, table: Table) -> Vec<BatchSpan> {
    match kind_slot(table) {
        None => spans(data.markers().iter().map(|_| 1)),
        Some(slot) if table == Table::L2 => {
            spans(data.kinds().events(slot).iter().map(
                |&index| match market_event(data, index).map(|event| &event.kind) {
                    Ok(DataKind::OrderBook(book)) => book_rows(order_book(book)).max(1),
                    _ => 1,
                },
            ))
        }
        Some(slot) => spans(data.kinds().events(slot).iter().map(|_| 1)),
    }
}

fn spans(rows_per_item: impl Iterator<Item = usize>) -> Vec<BatchSpan> {
    let mut spans = Vec::new();
    let (mut start, mut end, mut rows) = (0, 0, 0);
    for item_rows in rows_per_item {
        end += 1;
        rows += item_rows;
        if rows >= BATCH_ROWS {
            spans.push(BatchSpan { items: start..end, rows });
            (start, rows) = (end, 0);
        }
    }
    if start < end {
        spans.push(BatchSpan { items: start..end, rows });
    }
    spans
}

/// The [`KindIndex`](crate::data_set::index::KindIndex) slot of a table's events; reconnects
/// have none.
fn kind_slot(table: Table) -> Option<usize> {
    match table {
        Table::Trades => Some(0),
        Table::L1 => Some(1),
        Table::L2 => Some(2),
        Table::Candles => Some(3),
        Table::Liquidations => Some(4),
        Table::Reconnects => None,
    }
}

fn market_event(data: &MarketData, event_index: usize) -> Result<&Event, ArrowError> {
    match data.stream_events().get(data.markers().event_position(event_index)) {
        Some(Item::Item(event)) => Ok(event),
        _ => Err(ArrowError::ComputeError(format!("no market event {event_index}"))),
    }
}

/// The market events of `table`'s kind (none for reconnects).
fn table_events(data: &MarketData, table: Table) -> impl Iterator<Item = &Event> {
    let indices = kind_slot(table).map_or(&[][..], |slot| data.kinds().events(slot));
    indices.iter().filter_map(|&index| market_event(data, index).ok())
}

/// How many rows `table` has.
pub fn row_count(data: &MarketData, table: Table) -> u64 {
    match table {
        Table::Reconnects => data.stats().reconnects,
        Table::L2 => data.kinds().l2_rows(),
        _ => kind_slot(table).map_or(0, |slot| data.kinds().events(slot).len() as u64),
    }
}

fn order_book(event: &OrderBookEvent) -> &OrderBook {
    match event {
        OrderBookEvent::Snapshot(book) | OrderBookEvent::Update(book) => book,
    }
}

fn book_rows(book: &OrderBook) -> usize {
    book.bids().levels().len() + book.asks().levels().len()
}

/// The Arrow type of each of `table`'s decimal columns in `decimals`' form. Decimal128 takes the
/// column's largest scale; a value that then needs more than 38 digits is refused here, before
/// any batch, rather than midway through the stream.
pub(crate) fn decimal_types(data: &MarketData, table: Table, decimals: Decimals) -> Result<Vec<DataType>, Error> {
    let columns = table.decimal_columns();
    match decimals {
        _ if columns.is_empty() => return Ok(Vec::new()),
        Decimals::Float64 => return Ok(vec![DataType::Float64; columns.len()]),
        Decimals::Text => return Ok(vec![DataType::Utf8; columns.len()]),
        Decimals::Decimal128 => {}
    }
    let bounds = kind_slot(table).map_or(&[][..], |slot| data.kinds().decimal_bounds(slot));
    debug_assert_eq!(bounds.len(), columns.len());
    columns
        .iter()
        .enumerate()
        .map(|(column, name)| {
            let scale = bounds[column].scale;
            if bounds[column].surely_fits() {
                return Ok(decimal128(scale));
            }
            // Only a column the bounds cannot clear is read again, value by value.
            let mut widest = WidestDecimal::default();
            for_each_decimal(data, table, |other, value| {
                if other == column {
                    widest.include(value);
                }
            });
            widest.check(table, name, scale).map(|()| decimal128(scale))
        })
        .collect()
}

/// `decimal128(38, scale)`; `scale` is at most rust_decimal's 28.
fn decimal128(scale: u32) -> DataType {
    DataType::Decimal128(DECIMAL128_PRECISION, scale as i8)
}

/// Calls `visit(column, value)` for every decimal of `table`, columns numbered as in
/// [`Table::decimal_columns`].
fn for_each_decimal(data: &MarketData, table: Table, mut visit: impl FnMut(usize, &Decimal)) {
    let mut visit_level = |first_column: usize, level: &Level| {
        visit(first_column, &level.price);
        visit(first_column + 1, &level.amount);
    };
    for event in table_events(data, table) {
        match (&event.kind, table) {
            (DataKind::OrderBookL1(l1), Table::L1) => {
                l1.best_bid.iter().for_each(|level| visit_level(0, level));
                l1.best_ask.iter().for_each(|level| visit_level(2, level));
            }
            (DataKind::OrderBook(book), Table::L2) => {
                let book = order_book(book);
                book.bids().levels().iter().chain(book.asks().levels()).for_each(|level| visit_level(0, level));
            }
            _ => {}
        }
    }
}

/// The value with the most integer digits in a column, to check it exactly and name it.
#[derive(Debug, Clone, Copy, Default)]
struct WidestDecimal {
    integer_digits: i64,
    value: Option<Decimal>,
}

impl WidestDecimal {
    fn include(&mut self, value: &Decimal) {
        let integer_digits = digits(value.mantissa().unsigned_abs()) - i64::from(value.scale());
        if self.value.is_none() || integer_digits > self.integer_digits {
            *self = Self { integer_digits, value: Some(*value) };
        }
    }

    fn check(&self, table: Table, column: &str, scale: u32) -> Result<(), Error> {
        if self.integer_digits.max(0) + i64::from(scale) <= i64::from(DECIMAL128_PRECISION) {
            return Ok(());
        }
        Err(Error::invalid_data(format!(
            "{} {column}: {} at scale {scale} needs more than decimal128's {DECIMAL128_PRECISION} digits; export \
             with decimals=\"text\" to keep it exactly",
            table.name(),
            self.value.unwrap_or_default(),
        )))
    }
}

/// The builders of one batch of one table.
enum TableRows {
    Trades {
        shared: SharedColumns,
        id: StringBuilder,
        price: Float64Builder,
        amount: Float64Builder,
        side: Int8Builder,
    },
    L1 {
        shared: SharedColumns,
        last_update_time: TimestampBuilder,
        decimals: [DecimalColumn; 4],
    },
    L2(Box<L2Rows>),
    Candles {
        shared: SharedColumns,
        close_time: TimestampBuilder,
        floats: [Float64Builder; 5],
        trade_count: UInt64Builder,
    },
    Liquidations {
        shared: SharedColumns,
        side: Int8Builder,
        price: Float64Builder,
        quantity: Float64Builder,
        time: TimestampBuilder,
    },
    Reconnects {
        event_index: UInt64Builder,
        exchange: Int32Builder,
    },
}

struct L2Rows {
    shared: SharedColumns,
    is_snapshot: BooleanBuilder,
    sequence: UInt64Builder,
    time_engine: TimestampBuilder,
    side: Int8Builder,
    level: UInt32Builder,
    price: DecimalColumn,
    amount: DecimalColumn,
}

impl TableRows {
    /// Builders sized for `rows` rows, so that a batch's columns are allocated once rather than
    /// grown by doubling (a copy, and fresh pages, at each step).
    fn new(table: Table, schema: &SchemaRef, rows: usize) -> Self {
        let decimal =
            |name: &str| DecimalColumn::new(schema.field_with_name(name).map(|field| field.data_type()), rows);
        match table {
            Table::Trades => Self::Trades {
                shared: SharedColumns::with_capacity(rows),
                id: StringBuilder::with_capacity(rows, rows * TRADE_ID_BYTES),
                price: Float64Builder::with_capacity(rows),
                amount: Float64Builder::with_capacity(rows),
                side: Int8Builder::with_capacity(rows),
            },
            Table::L1 => Self::L1 {
                shared: SharedColumns::with_capacity(rows),
                last_update_time: TimestampBuilder::with_capacity(rows),
                decimals: ["bid_price", "bid_amount", "ask_price", "ask_amount"].map(decimal),
            },
            Table::L2 => Self::L2(Box::new(L2Rows {
                shared: SharedColumns::with_capacity(rows),
                is_snapshot: BooleanBuilder::with_capacity(rows),
                sequence: UInt64Builder::with_capacity(rows),
                time_engine: TimestampBuilder::with_capacity(rows),
                side: Int8Builder::with_capacity(rows),
                level: UInt32Builder::with_capacity(rows),
                price: decimal("price"),
                amount: decimal("amount"),
            })),
            Table::Candles => Self::Candles {
                shared: SharedColumns::with_capacity(rows),
                close_time: TimestampBuilder::with_capacity(rows),
                floats: std::array::from_fn(|_| Float64Builder::with_capacity(rows)),
                trade_count: UInt64Builder::with_capacity(rows),
            },
            Table::Liquidations => Self::Liquidations {
                shared: SharedColumns::with_capacity(rows),
                side: Int8Builder::with_capacity(rows),
                price: Float64Builder::with_capacity(rows),
                quantity: Float64Builder::with_capacity(rows),
                time: TimestampBuilder::with_capacity(rows),
            },
            Table::Reconnects => Self::Reconnects {
                event_index: UInt64Builder::with_capacity(rows),
                exchange: Int32Builder::with_capacity(rows),
            },
        }
    }

    /// Appends `event`'s rows; an event of another kind is an error (the kind index is wrong).
    fn append(&mut self, event_index: u64, event: &Event) -> Result<(), ArrowError> {
        match (self, &event.kind) {
            (Self::Trades { shared, id, price, amount, side }, DataKind::Trade(trade)) => {
                shared.append(event_index, event)?;
                id.append_value(&trade.id);
                price.append_value(trade.price);
                amount.append_value(trade.amount);
                side.append_value(side_key(trade.side));
            }
            (Self::L1 { shared, last_update_time, decimals }, DataKind::OrderBookL1(l1)) => {
                shared.append(event_index, event)?;
                last_update_time.append(l1.last_update_time)?;
                let [bid_price, bid_amount, ask_price, ask_amount] = decimals;
                bid_price.append(l1.best_bid.as_ref().map(|level| &level.price))?;
                bid_amount.append(l1.best_bid.as_ref().map(|level| &level.amount))?;
                ask_price.append(l1.best_ask.as_ref().map(|level| &level.price))?;
                ask_amount.append(l1.best_ask.as_ref().map(|level| &level.amount))?;
            }
            (Self::L2(rows), DataKind::OrderBook(book)) => return rows.append(event_index, event, book),
            (Self::Candles { shared, close_time, floats, trade_count }, DataKind::Candle(candle)) => {
                shared.append(event_index, event)?;
                close_time.append(candle.close_time)?;
                let values = [candle.open, candle.high, candle.low, candle.close, candle.volume];
                floats.iter_mut().zip(values).for_each(|(column, value)| column.append_value(value));
                trade_count.append_value(candle.trade_count);
            }
            (Self::Liquidations { shared, side, price, quantity, time }, DataKind::Liquidation(liquidation)) => {
                shared.append(event_index, event)?;
                side.append_value(side_key(liquidation.side));
                price.append_value(liquidation.price);
                quantity.append_value(liquidation.quantity);
                time.append(liquidation.time)?;
            }
            _ => {
                return Err(ArrowError::ComputeError(format!("market event {event_index} is not of this table's kind")))
            }
        }
        Ok(())
    }

    fn append_marker(&mut self, event_index: u64, exchange: ExchangeId) {
        if let Self::Reconnects { event_index: indices, exchange: exchanges } = self {
            indices.append_value(event_index);
            exchanges.append_value(exchange_key(exchange));
        }
    }

    fn finish(self) -> Vec<ArrayRef> {
        let mut columns = Vec::new();
        match self {
            Self::Trades { mut shared, mut id, mut price, mut amount, side } => {
                columns.extend(shared.finish());
                columns.extend([finish(&mut id), finish(&mut price), finish(&mut amount), sides(side, TRADE_SIDES)]);
            }
            Self::L1 { mut shared, mut last_update_time, decimals } => {
                columns.extend(shared.finish());
                columns.push(last_update_time.finish());
                columns.extend(decimals.map(DecimalColumn::finish));
            }
            Self::L2(rows) => {
                let L2Rows {
                    mut shared,
                    mut is_snapshot,
                    mut sequence,
                    mut time_engine,
                    side,
                    mut level,
                    price,
                    amount,
                } = *rows;
                columns.extend(shared.finish());
                columns.extend([
                    finish(&mut is_snapshot),
                    finish(&mut sequence),
                    time_engine.finish(),
                    sides(side, BOOK_SIDES),
                    finish(&mut level),
                    price.finish(),
                    amount.finish(),
                ]);
            }
            Self::Candles { mut shared, mut close_time, mut floats, mut trade_count } => {
                columns.extend(shared.finish());
                columns.push(close_time.finish());
                columns.extend(floats.iter_mut().map(finish));
                columns.push(finish(&mut trade_count));
            }
            Self::Liquidations { mut shared, side, mut price, mut quantity, mut time } => {
                columns.extend(shared.finish());
                columns.extend([sides(side, TRADE_SIDES), finish(&mut price), finish(&mut quantity), time.finish()]);
            }
            Self::Reconnects { mut event_index, exchange } => {
                columns.extend([finish(&mut event_index), exchanges(exchange)]);
            }
        }
        columns
    }
}

impl L2Rows {
    fn append(&mut self, event_index: u64, event: &Event, book_event: &OrderBookEvent) -> Result<(), ArrowError> {
        let book = order_book(book_event);
        let is_snapshot = matches!(book_event, OrderBookEvent::Snapshot(_));
        let sides = [(0, book.bids().levels()), (1, book.asks().levels())];
        let rows = book_rows(book).max(1);
        self.shared.append_n(event_index, event, rows)?;
        self.is_snapshot.append_n(rows, is_snapshot);
        self.sequence.append_value_n(book.sequence(), rows);
        self.time_engine.append_n(book.time_engine(), rows)?;
        if book_rows(book) == 0 {
            self.side.append_null();
            self.level.append_null();
            self.price.append(None)?;
            self.amount.append(None)?;
        }
        for (side, levels) in sides {
            for (position, level) in levels.iter().enumerate() {
                self.side.append_value(side);
                self.level.append_value(u32::try_from(position).map_err(|_| overflow("an order book side's level"))?);
                self.price.append(Some(&level.price))?;
                self.amount.append(Some(&level.amount))?;
            }
        }
        Ok(())
    }
}

/// The columns every table but reconnects starts with.
struct SharedColumns {
    event_index: UInt64Builder,
    time_exchange: TimestampBuilder,
    time_received: TimestampBuilder,
    exchange: Int32Builder,
    instrument: UInt64Builder,
}

impl SharedColumns {
    fn with_capacity(rows: usize) -> Self {
        Self {
            event_index: UInt64Builder::with_capacity(rows),
            time_exchange: TimestampBuilder::with_capacity(rows),
            time_received: TimestampBuilder::with_capacity(rows),
            exchange: Int32Builder::with_capacity(rows),
            instrument: UInt64Builder::with_capacity(rows),
        }
    }

    fn append(&mut self, event_index: u64, event: &Event) -> Result<(), ArrowError> {
        self.append_n(event_index, event, 1)
    }

    /// `rows` rows of one event (an order book's levels).
    fn append_n(&mut self, event_index: u64, event: &Event, rows: usize) -> Result<(), ArrowError> {
        self.event_index.append_value_n(event_index, rows);
        self.time_exchange.append_n(Some(event.time_exchange), rows)?;
        self.time_received.append_n(Some(event.time_received), rows)?;
        self.exchange.append_value_n(exchange_key(event.exchange), rows);
        self.instrument.append_value_n(event.instrument.index() as u64, rows);
        Ok(())
    }

    fn finish(&mut self) -> [ArrayRef; 5] {
        let exchange = std::mem::take(&mut self.exchange);
        [
            finish(&mut self.event_index),
            self.time_exchange.finish(),
            self.time_received.finish(),
            exchanges(exchange),
            finish(&mut self.instrument),
        ]
    }
}

/// `timestamp[ns, UTC]` values from barter's `DateTime<Utc>`s.
pub(crate) struct TimestampBuilder(TimestampNanosecondBuilder);

impl TimestampBuilder {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Self(TimestampNanosecondBuilder::with_capacity(rows).with_timezone("UTC"))
    }

    pub(crate) fn append(&mut self, time: DateTime<Utc>) -> Result<(), ArrowError> {
        self.append_n(Some(time), 1)
    }

    /// `rows` copies of `time`, or nulls. (Matching on the option, rather than mapping it, keeps
    /// an absent time's bytes unread: valgrind saw the release build read them speculatively.)
    pub(crate) fn append_n(&mut self, time: Option<DateTime<Utc>>, rows: usize) -> Result<(), ArrowError> {
        match time {
            Some(time) => self.0.append_value_n(nanoseconds(time)?, rows),
            None => self.0.append_nulls(rows),
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        finish(&mut self.0)
    }
}

/// Loading refuses timestamps outside i64 nanoseconds, so an error here means a bug.
fn nanoseconds(time: DateTime<Utc>) -> Result<i64, ArrowError> {
    time.timestamp_nanos_opt().ok_or_else(|| overflow("a timestamp"))
}

pub(crate) fn overflow(what: &str) -> ArrowError {
    ArrowError::ComputeError(format!("{what} does not fit its Arrow column"))
}

/// A decimal column in the form its schema field says.
pub(crate) enum DecimalColumn {
    Exact { builder: Decimal128Builder, scale: u32 },
    Float(Float64Builder),
    Text(StringBuilder),
}

impl DecimalColumn {
    pub(crate) fn new(data_type: Result<&DataType, ArrowError>, rows: usize) -> Self {
        match data_type {
            Ok(DataType::Decimal128(precision, scale)) => Self::Exact {
                builder: Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(*precision, *scale)
                    .expect("the schema's own decimal type"),
                scale: *scale as u32,
            },
            Ok(DataType::Float64) => Self::Float(Float64Builder::with_capacity(rows)),
            _ => Self::Text(StringBuilder::with_capacity(rows, rows * DECIMAL_TEXT_BYTES)),
        }
    }

    pub(crate) fn append(&mut self, value: Option<&Decimal>) -> Result<(), ArrowError> {
        let Some(value) = value else {
            match self {
                Self::Exact { builder, .. } => builder.append_null(),
                Self::Float(builder) => builder.append_null(),
                Self::Text(builder) => builder.append_null(),
            }
            return Ok(());
        };
        match self {
            Self::Exact { builder, scale } => builder.append_value(
                scale
                    .checked_sub(value.scale())
                    .and_then(|rescale| POW10_I128.get(rescale as usize))
                    .and_then(|factor| value.mantissa().checked_mul(*factor))
                    .ok_or_else(|| overflow("a decimal"))?,
            ),
            Self::Float(builder) => builder.append_value(decimal_f64(value)),
            Self::Text(builder) => builder.append_value(decimal_text(value).as_str()),
        }
        Ok(())
    }

    /// A float64 column's value, converted by the caller (as [`decimal_f64`] converts).
    #[inline]
    pub(crate) fn append_f64(&mut self, value: f64) -> Result<(), ArrowError> {
        match self {
            Self::Float(builder) => {
                builder.append_value(value);
                Ok(())
            }
            _ => Err(ArrowError::ComputeError("a float for a column of exact decimals".into())),
        }
    }

    /// [`append`](Self::append) for a computed value (a mid price, a microprice), which may hold
    /// more decimal places than a decimal128 column's scale: it is then rounded to that scale,
    /// half to even.
    pub(crate) fn append_rounded(&mut self, value: Option<&Decimal>) -> Result<(), ArrowError> {
        match (&*self, value) {
            (Self::Exact { scale, .. }, Some(value)) if value.scale() > *scale => {
                let rounded = value.round_dp(*scale);
                self.append(Some(&rounded))
            }
            _ => self.append(value),
        }
    }

    pub(crate) fn finish(self) -> ArrayRef {
        match self {
            Self::Exact { mut builder, .. } => finish(&mut builder),
            Self::Float(mut builder) => finish(&mut builder),
            Self::Text(mut builder) => finish(&mut builder),
        }
    }
}

pub(crate) fn finish(builder: &mut impl arrow_array::builder::ArrayBuilder) -> ArrayRef {
    builder.finish()
}

fn side_key(side: barter_instrument::Side) -> i8 {
    match side {
        barter_instrument::Side::Buy => 0,
        barter_instrument::Side::Sell => 1,
    }
}

fn sides(mut keys: Int8Builder, names: [&str; 2]) -> ArrayRef {
    let values = Arc::new(StringArray::from(names.to_vec()));
    Arc::new(DictionaryArray::<Int8Type>::try_new(keys.finish(), values).expect("keys 0 and 1 of two names"))
}

pub(crate) fn exchanges(mut keys: Int32Builder) -> ArrayRef {
    let values = Arc::clone(&exchange_dictionary().values);
    Arc::new(DictionaryArray::<Int32Type>::try_new(keys.finish(), values).expect("keys of the exchange names"))
}

/// barter's exchange names as one dictionary, shared by every batch, and each exchange's key.
struct ExchangeDictionary {
    values: ArrayRef,
    /// Indexed by `ExchangeId as usize`.
    keys: Vec<i32>,
}

fn exchange_dictionary() -> &'static ExchangeDictionary {
    static DICTIONARY: OnceLock<ExchangeDictionary> = OnceLock::new();
    DICTIONARY.get_or_init(|| {
        let names = exchange_names();
        let mut keys = Vec::new();
        for (key, name) in names.iter().enumerate() {
            let exchange = exchange_id(name).expect("exchange_names lists barter's names");
            if keys.len() <= exchange as usize {
                keys.resize(exchange as usize + 1, 0);
            }
            keys[exchange as usize] = key as i32;
        }
        ExchangeDictionary { values: Arc::new(StringArray::from(names)), keys }
    })
}

pub(crate) fn exchange_key(exchange: ExchangeId) -> i32 {
    exchange_dictionary().keys[exchange as usize]
}
