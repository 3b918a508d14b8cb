//! A data set's events → record batches of one table, built lazily, [`BATCH_ROWS`] at a time.

use super::{schema, Decimals, Table, BATCH_ROWS, BOOK_SIDES, DECIMAL128_PRECISION, TRADE_SIDES};
use crate::{error::Error, market_data::StreamEvent, wire::exchange_names};
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
use rust_decimal::{prelude::ToPrimitive, Decimal};
use std::sync::{Arc, OnceLock};

type Event = MarketEvent<InstrumentIndex, DataKind>;

/// One table of a data set as a stream of record batches. Holds its own reference to the
/// events, so it outlives the data set it came from.
pub struct TableBatches {
    items: Arc<Vec<StreamEvent>>,
    table: Table,
    schema: SchemaRef,
    position: usize,
    event_index: u64,
}

impl TableBatches {
    pub fn new(items: &Arc<Vec<StreamEvent>>, table: Table, decimals: Decimals) -> Result<Self, Error> {
        let schema = Arc::new(schema(table, &decimal_types(items, table, decimals)?));
        Ok(Self { items: Arc::clone(items), table, schema, position: 0, event_index: 0 })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        if self.position == self.items.len() {
            return Ok(None);
        }
        let mut rows = TableRows::new(self.table, &self.schema);
        let mut count = 0;
        while count < BATCH_ROWS {
            let Some(item) = self.items.get(self.position) else { break };
            count += match item {
                Item::Item(event) => rows.append(self.event_index, event)?,
                Item::Reconnecting(exchange) => rows.append_marker(self.event_index, *exchange),
            };
            self.position += 1;
            self.event_index += u64::from(matches!(item, Item::Item(_)));
        }
        if count == 0 {
            return Ok(None);
        }
        RecordBatch::try_new(Arc::clone(&self.schema), rows.finish()).map(Some)
    }
}

impl Iterator for TableBatches {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

impl RecordBatchReader for TableBatches {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// How many rows `table` has in `items`.
pub fn row_count(items: &[StreamEvent], table: Table) -> u64 {
    items
        .iter()
        .map(|item| match (item, table) {
            (Item::Reconnecting(_), Table::Reconnects) => 1,
            (Item::Item(event), Table::L2) => match &event.kind {
                DataKind::OrderBook(book) => book_rows(order_book(book)).max(1) as u64,
                _ => 0,
            },
            (Item::Item(event), table) => u64::from(table_of(&event.kind) == table),
            _ => 0,
        })
        .sum()
}

fn table_of(kind: &DataKind) -> Table {
    match kind {
        DataKind::Trade(_) => Table::Trades,
        DataKind::OrderBookL1(_) => Table::L1,
        DataKind::OrderBook(_) => Table::L2,
        DataKind::Candle(_) => Table::Candles,
        DataKind::Liquidation(_) => Table::Liquidations,
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
fn decimal_types(items: &[StreamEvent], table: Table, decimals: Decimals) -> Result<Vec<DataType>, Error> {
    let columns = table.decimal_columns();
    match decimals {
        Decimals::Float64 => return Ok(vec![DataType::Float64; columns.len()]),
        Decimals::Text => return Ok(vec![DataType::Utf8; columns.len()]),
        Decimals::Decimal128 => {}
    }
    let mut extents = vec![DecimalExtent::default(); columns.len()];
    for_each_decimal(items, table, |column, value| extents[column].include(value));
    columns.iter().zip(&extents).map(|(name, extent)| extent.decimal128_type(table, name)).collect()
}

/// Calls `visit(column, value)` for every decimal of `table` in `items`, columns numbered as in
/// [`Table::decimal_columns`].
fn for_each_decimal(items: &[StreamEvent], table: Table, mut visit: impl FnMut(usize, &Decimal)) {
    let mut visit_level = |first_column: usize, level: &Level| {
        visit(first_column, &level.price);
        visit(first_column + 1, &level.amount);
    };
    for item in items {
        let Item::Item(event) = item else { continue };
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

/// The largest scale and integer-digit count a decimal column holds, and the value behind the
/// latter, to name it if it does not fit.
#[derive(Debug, Clone, Copy, Default)]
struct DecimalExtent {
    scale: u32,
    integer_digits: i64,
    widest: Option<Decimal>,
}

impl DecimalExtent {
    fn include(&mut self, value: &Decimal) {
        self.scale = self.scale.max(value.scale());
        let integer_digits = digits(value.mantissa().unsigned_abs()) - i64::from(value.scale());
        if self.widest.is_none() || integer_digits > self.integer_digits {
            self.integer_digits = integer_digits;
            self.widest = Some(*value);
        }
    }

    fn decimal128_type(&self, table: Table, column: &str) -> Result<DataType, Error> {
        if self.integer_digits.max(0) + i64::from(self.scale) > i64::from(DECIMAL128_PRECISION) {
            return Err(Error::invalid_data(format!(
                "{} {column}: {} at scale {} needs more than decimal128's {DECIMAL128_PRECISION} digits; export \
                 with decimals=\"text\" to keep it exactly",
                table.name(),
                self.widest.unwrap_or_default(),
                self.scale,
            )));
        }
        // `scale` is at most rust_decimal's 28.
        Ok(DataType::Decimal128(DECIMAL128_PRECISION, self.scale as i8))
    }
}

fn digits(value: u128) -> i64 {
    value.checked_ilog10().map_or(1, |log| i64::from(log) + 1)
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
    fn new(table: Table, schema: &SchemaRef) -> Self {
        let decimal = |name: &str| DecimalColumn::new(schema.field_with_name(name).map(|field| field.data_type()));
        match table {
            Table::Trades => Self::Trades {
                shared: SharedColumns::default(),
                id: StringBuilder::new(),
                price: Float64Builder::new(),
                amount: Float64Builder::new(),
                side: Int8Builder::new(),
            },
            Table::L1 => Self::L1 {
                shared: SharedColumns::default(),
                last_update_time: TimestampBuilder::default(),
                decimals: ["bid_price", "bid_amount", "ask_price", "ask_amount"].map(decimal),
            },
            Table::L2 => Self::L2(Box::new(L2Rows {
                shared: SharedColumns::default(),
                is_snapshot: BooleanBuilder::new(),
                sequence: UInt64Builder::new(),
                time_engine: TimestampBuilder::default(),
                side: Int8Builder::new(),
                level: UInt32Builder::new(),
                price: decimal("price"),
                amount: decimal("amount"),
            })),
            Table::Candles => Self::Candles {
                shared: SharedColumns::default(),
                close_time: TimestampBuilder::default(),
                floats: Default::default(),
                trade_count: UInt64Builder::new(),
            },
            Table::Liquidations => Self::Liquidations {
                shared: SharedColumns::default(),
                side: Int8Builder::new(),
                price: Float64Builder::new(),
                quantity: Float64Builder::new(),
                time: TimestampBuilder::default(),
            },
            Table::Reconnects => Self::Reconnects { event_index: UInt64Builder::new(), exchange: Int32Builder::new() },
        }
    }

    /// Appends `event`'s rows when it is of this table's kind; returns how many.
    fn append(&mut self, event_index: u64, event: &Event) -> Result<usize, ArrowError> {
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
            _ => return Ok(0),
        }
        Ok(1)
    }

    fn append_marker(&mut self, event_index: u64, exchange: ExchangeId) -> usize {
        let Self::Reconnects { event_index: indices, exchange: exchanges } = self else { return 0 };
        indices.append_value(event_index);
        exchanges.append_value(exchange_key(exchange));
        1
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
    fn append(&mut self, event_index: u64, event: &Event, book_event: &OrderBookEvent) -> Result<usize, ArrowError> {
        let book = order_book(book_event);
        let is_snapshot = matches!(book_event, OrderBookEvent::Snapshot(_));
        let sides = [(0, book.bids().levels()), (1, book.asks().levels())];
        let rows = book_rows(book).max(1);
        for _ in 0..rows {
            self.shared.append(event_index, event)?;
            self.is_snapshot.append_value(is_snapshot);
            self.sequence.append_value(book.sequence());
            self.time_engine.append_option(book.time_engine())?;
        }
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
        Ok(rows)
    }
}

/// The columns every table but reconnects starts with.
#[derive(Default)]
struct SharedColumns {
    event_index: UInt64Builder,
    time_exchange: TimestampBuilder,
    time_received: TimestampBuilder,
    exchange: Int32Builder,
    instrument: UInt64Builder,
}

impl SharedColumns {
    fn append(&mut self, event_index: u64, event: &Event) -> Result<(), ArrowError> {
        self.event_index.append_value(event_index);
        self.time_exchange.append(event.time_exchange)?;
        self.time_received.append(event.time_received)?;
        self.exchange.append_value(exchange_key(event.exchange));
        self.instrument.append_value(event.instrument.index() as u64);
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
struct TimestampBuilder(TimestampNanosecondBuilder);

impl Default for TimestampBuilder {
    fn default() -> Self {
        Self(TimestampNanosecondBuilder::new().with_timezone("UTC"))
    }
}

impl TimestampBuilder {
    fn append(&mut self, time: DateTime<Utc>) -> Result<(), ArrowError> {
        self.0.append_value(nanoseconds(time)?);
        Ok(())
    }

    fn append_option(&mut self, time: Option<DateTime<Utc>>) -> Result<(), ArrowError> {
        match time {
            Some(time) => self.append(time),
            None => {
                self.0.append_null();
                Ok(())
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        finish(&mut self.0)
    }
}

/// Loading refuses timestamps outside i64 nanoseconds, so an error here means a bug.
fn nanoseconds(time: DateTime<Utc>) -> Result<i64, ArrowError> {
    time.timestamp_nanos_opt().ok_or_else(|| overflow("a timestamp"))
}

fn overflow(what: &str) -> ArrowError {
    ArrowError::ComputeError(format!("{what} does not fit its Arrow column"))
}

/// A decimal column in the form its schema field says.
enum DecimalColumn {
    Exact { builder: Decimal128Builder, scale: u32 },
    Float(Float64Builder),
    Text(StringBuilder),
}

impl DecimalColumn {
    fn new(data_type: Result<&DataType, ArrowError>) -> Self {
        match data_type {
            Ok(DataType::Decimal128(precision, scale)) => Self::Exact {
                builder: Decimal128Builder::new()
                    .with_precision_and_scale(*precision, *scale)
                    .expect("the schema's own decimal type"),
                scale: *scale as u32,
            },
            Ok(DataType::Float64) => Self::Float(Float64Builder::new()),
            _ => Self::Text(StringBuilder::new()),
        }
    }

    fn append(&mut self, value: Option<&Decimal>) -> Result<(), ArrowError> {
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
                10i128
                    .checked_pow(*scale - value.scale())
                    .and_then(|factor| value.mantissa().checked_mul(factor))
                    .ok_or_else(|| overflow("a decimal"))?,
            ),
            Self::Float(builder) => builder.append_option(value.to_f64()),
            Self::Text(builder) => builder.append_value(value.to_string()),
        }
        Ok(())
    }

    fn finish(self) -> ArrayRef {
        match self {
            Self::Exact { mut builder, .. } => finish(&mut builder),
            Self::Float(mut builder) => finish(&mut builder),
            Self::Text(mut builder) => finish(&mut builder),
        }
    }
}

fn finish(builder: &mut impl arrow_array::builder::ArrayBuilder) -> ArrayRef {
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

fn exchanges(mut keys: Int32Builder) -> ArrayRef {
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
            let exchange = crate::wire::exchange_id(name).expect("exchange_names lists barter's names");
            if keys.len() <= exchange as usize {
                keys.resize(exchange as usize + 1, 0);
            }
            keys[exchange as usize] = key as i32;
        }
        ExchangeDictionary { values: Arc::new(StringArray::from(names)), keys }
    })
}

fn exchange_key(exchange: ExchangeId) -> i32 {
    exchange_dictionary().keys[exchange as usize]
}
