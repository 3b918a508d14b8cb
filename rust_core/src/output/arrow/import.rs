//! Record batches in the [tables' schemas](super) → barter's events, through barter's types.
//!
//! Rows are checked as `from_events` checks events (finite floats, barter's names for
//! exchanges and sides, barter's decimals), and a failure names the table, the row and the
//! column. Columns are read by name, so their order and any extra column do not matter; each
//! may come in any Arrow type that holds its values exactly (any integer width, string views,
//! dictionaries with any key type, as polars and DuckDB export them).
//!
//! Each batch's columns are found and their types resolved once ([`Column`]), then read row by
//! row straight from their buffers, with the checks in the order a row's reading meets them, so
//! the first failure is the same whatever the batch size. The tables are read on up to one
//! thread per core, each table in order, and their rows merged by `event_index`.

use super::{Table, BOOK_SIDES};
use crate::{
    base::{
        error::{counted, Error},
        event::StreamEvent,
        guard::{self, guarded},
    },
    output::wire::{exchange_id, finite, order_book_in_order, serde_text},
    parse::load::ThreadPermits,
};
use arrow_array::{
    cast::AsArray,
    types::{
        Decimal128Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
        TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type,
        UInt8Type,
    },
    Array, BooleanArray, LargeStringArray, RecordBatch, RecordBatchReader, StringArray, StringViewArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{ArrowError, DataType, SchemaRef, TimeUnit};
use barter_data::{
    books::Level,
    event::{DataKind, MarketEvent},
    streams::reconnect::Event as Item,
    subscription::{
        book::{OrderBookEvent, OrderBookL1},
        candle::Candle,
        liquidation::Liquidation,
        trade::PublicTrade,
    },
};
use barter_instrument::{exchange::ExchangeId, instrument::InstrumentIndex, Side};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::{
    cell::Cell,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex, PoisonError,
    },
};

type Event = MarketEvent<InstrumentIndex, DataKind>;

/// Reads each table's batches (the tables on up to one thread per core) and interleaves their
/// rows by `event_index` back into data-set order, each reconnect marker before the market event
/// its `event_index` names. The first failure, in the tables' order, is the one reported. A
/// table without rows has its columns checked all the same (by its stream's schema).
pub fn items_from_tables<I: RecordBatchReader + Send>(tables: Vec<(Table, I)>) -> Result<Vec<StreamEvent>, Error> {
    let runs = in_parallel(tables, |(table, batches)| read_table(table, batches));
    merge(runs.into_iter().collect::<Result<Vec<_>, _>>()?)
}

/// `work` done on every job, on this thread and as many more as the process's parsing threads
/// allow, the results in the jobs' order. A job that panics gives its panic as an `Internal`
/// error, and the other jobs are done all the same.
fn in_parallel<J: Send, R: Send>(jobs: Vec<J>, work: impl Fn(J) -> Result<R, Error> + Sync) -> Vec<Result<R, Error>> {
    let permits = ThreadPermits::take(jobs.len().saturating_sub(1));
    type Slot<J, R> = Mutex<(Option<J>, Option<Result<R, Error>>)>;
    let slots: Vec<Slot<J, R>> = jobs.into_iter().map(|job| Mutex::new((Some(job), None))).collect();
    let next = AtomicUsize::new(0);
    let worker = || {
        while let Some(slot) = slots.get(next.fetch_add(1, Ordering::Relaxed)) {
            let job = slot.lock().unwrap_or_else(PoisonError::into_inner).0.take();
            let result = job.map(|job| guarded(|| work(job)));
            slot.lock().unwrap_or_else(PoisonError::into_inner).1 = result;
        }
    };
    std::thread::scope(|scope| {
        let spawned_worker = || {
            worker();
            Ok(())
        };
        for _ in 0..permits.count {
            if guard::spawn_scoped(scope, "barter_ffi-import", spawned_worker).is_err() {
                break;
            }
        }
        worker();
    });
    drop(permits);
    slots.into_iter().filter_map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner).1).collect()
}

/// One table's rows in `event_index` order: as `to_arrow` writes them, or else sorted, stably.
/// A table without rows must still have every column it reads, each of a type it may have, so a
/// mistyped query's empty result is not taken for an empty table.
fn read_table(table: Table, batches: impl RecordBatchReader) -> Result<Vec<Row>, Error> {
    let schema = batches.schema();
    let mut reader = TableReader::new(table);
    for batch in batches {
        let batch = batch.map_err(|error| Error::invalid_data(unimportable(table, &schema, error)))?;
        reader.read(&batch).map_err(Error::invalid_data)?;
    }
    reader.close_book().map_err(Error::invalid_data)?;
    if reader.row == 0 {
        if let Some(problem) = Columns::new(&RecordBatch::new_empty(schema), table).unreadable(table) {
            return Err(Error::invalid_data(format!("{} (no rows): {problem}", table.name())));
        }
    }
    let mut rows = reader.rows;
    if !rows.windows(2).all(|pair| pair[0].order() <= pair[1].order()) {
        rows.sort_by_key(Row::order);
    }
    Ok(rows)
}

/// Why a batch could not be taken from its stream, naming the column to blame when its type is.
/// polars hands out an all-null column (type Null) with a buffer the C data interface does not
/// allow (pola-rs/polars#22934), so arrow-rs refuses every batch of a table that has one, read or
/// not: the message then names those columns and what to do.
fn unimportable(table: Table, schema: &SchemaRef, error: ArrowError) -> String {
    let name = table.name();
    if let Some(problem) = Columns::new(&RecordBatch::new_empty(schema.clone()), table).unreadable(table) {
        return format!("{name}: {problem}");
    }
    let nulls: Vec<String> = schema
        .fields()
        .iter()
        .filter(|field| field.data_type() == &DataType::Null)
        .map(|field| format!("`{}`", field.name()))
        .collect();
    if nulls.is_empty() {
        return format!("{name}: {error}");
    }
    format!(
        "{name}: {error} (the table's columns of type Null, {}, come with a buffer that type may not have, as \
         polars hands them out: drop them, or cast them to the type they stand for, before from_arrow)",
        nulls.join(", ")
    )
}

/// The tables' rows in one sequence, by `event_index`, markers before the market event they
/// precede; rows of one `event_index` keep the tables' order, then each table's. Two market
/// events with one `event_index` are refused.
fn merge(runs: Vec<Vec<Row>>) -> Result<Vec<StreamEvent>, Error> {
    let mut items = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    let mut runs: Vec<_> = runs.into_iter().map(|run| run.into_iter().peekable()).collect();
    let mut last: Option<(u64, bool, Table, u64)> = None;
    loop {
        let mut next: Option<(usize, (u64, bool))> = None;
        for (index, run) in runs.iter_mut().enumerate() {
            if let Some(order) = run.peek().map(Row::order) {
                if next.is_none_or(|(_, least)| order < least) {
                    next = Some((index, order));
                }
            }
        }
        let Some(row) = next.and_then(|(index, _)| runs[index].next()) else { break };
        let (is_event, at) = (matches!(row.item, Item::Item(_)), (row.table, row.row));
        if let Some((event_index, true, table, table_row)) = last {
            if event_index == row.event_index && is_event {
                return Err(Error::invalid_data(format!(
                    "event_index {event_index} names two market events: {} row {table_row} and {} row {}",
                    table.name(),
                    at.0.name(),
                    at.1
                )));
            }
        }
        last = Some((row.event_index, is_event, at.0, at.1));
        items.push(row.item);
    }
    Ok(items)
}

/// A market event or marker read from a table, with where it came from.
struct Row {
    event_index: u64,
    item: StreamEvent,
    table: Table,
    /// The row's position in its table, to name it in an error.
    row: u64,
}

impl Row {
    /// Where the row goes: by `event_index`, a marker before the market event it precedes.
    fn order(&self) -> (u64, bool) {
        (self.event_index, matches!(self.item, Item::Item(_)))
    }
}

/// An L2 event whose rows are still being read: its rows are consecutive in the table.
struct OpenBook {
    event_index: u64,
    first_row: u64,
    header: EventHeader,
    is_snapshot: bool,
    sequence: u64,
    time_engine: Option<DateTime<Utc>>,
    sides: [Vec<Level>; 2],
    /// The event had its one row without a level.
    levelless: bool,
}

struct TableReader {
    table: Table,
    row: u64,
    rows: Vec<Row>,
    open_book: Option<OpenBook>,
    /// The last exchange and side read, by the text they were read from (a dictionary's value
    /// is the same text row after row), so each distinct name is parsed once a run.
    exchanges: Memo<ExchangeId>,
    sides: Memo<Side>,
}

impl TableReader {
    fn new(table: Table) -> Self {
        Self { table, row: 0, rows: Vec::new(), open_book: None, exchanges: Memo::default(), sides: Memo::default() }
    }

    fn read(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let columns = Columns::new(batch, self.table);
        // The texts remembered lay in the batch before, whose memory this one may reuse.
        (self.exchanges, self.sides) = (Memo::default(), Memo::default());
        self.rows.reserve(batch.num_rows());
        let (table, first_row) = (self.table, self.row);
        let at = |row: usize| format!("{} row {}", table.name(), first_row + row as u64);
        for row in 0..batch.num_rows() {
            let index = columns.event_index.required(row).map_err(|problem| format!("{}: {problem}", at(row)))?;
            let outcome = match self.table {
                Table::Reconnects => self.reconnect(&columns, row, index),
                _ => self.header(&columns, row).and_then(|header| self.event(&columns, row, index, header)),
            };
            outcome.map_err(|problem| format!("{} (event_index {index}): {problem}", at(row)))?;
            self.row += 1;
        }
        Ok(())
    }

    fn push(&mut self, event_index: u64, item: StreamEvent, row: u64) {
        self.rows.push(Row { event_index, item, table: self.table, row });
    }

    fn exchange(&self, columns: &Columns, row: usize) -> Result<ExchangeId, String> {
        let name = columns.exchange.required(row)?;
        self.exchanges.get(name, || {
            exchange_id(name).ok_or_else(|| format!("`exchange`: {name:?} is not one of barter's exchanges"))
        })
    }

    fn side(&self, column: &Column<Text>, row: usize) -> Result<Side, String> {
        let text = column.required(row)?;
        self.sides.get(text, || serde_text(text, column.name))
    }

    fn header(&self, columns: &Columns, row: usize) -> Result<EventHeader, String> {
        let instrument = columns.instrument.required(row)?;
        Ok(EventHeader {
            time_exchange: columns.time_exchange.required(row)?,
            time_received: columns.time_received.required(row)?,
            exchange: self.exchange(columns, row)?,
            instrument: InstrumentIndex(
                usize::try_from(instrument).map_err(|_| format!("`instrument` {instrument} is too large"))?,
            ),
        })
    }

    fn reconnect(&mut self, columns: &Columns, row: usize, event_index: u64) -> Result<(), String> {
        let exchange = self.exchange(columns, row)?;
        self.push(event_index, Item::Reconnecting(exchange), self.row);
        Ok(())
    }

    fn event(&mut self, columns: &Columns, row: usize, event_index: u64, header: EventHeader) -> Result<(), String> {
        let kind = match self.table {
            Table::Trades => DataKind::Trade(PublicTrade {
                id: columns.id.required(row)?.to_string(),
                price: columns.price.required(row)?,
                amount: columns.amount.required(row)?,
                side: self.side(&columns.side, row)?,
            }),
            Table::L1 => DataKind::OrderBookL1(OrderBookL1 {
                last_update_time: columns.last_update_time.required(row)?,
                best_bid: level(&columns.bid_price, &columns.bid_amount, row)?,
                best_ask: level(&columns.ask_price, &columns.ask_amount, row)?,
            }),
            Table::L2 => return self.book_row(columns, row, event_index, header),
            Table::Candles => DataKind::Candle(Candle {
                close_time: columns.close_time.required(row)?,
                open: columns.open.required(row)?,
                high: columns.high.required(row)?,
                low: columns.low.required(row)?,
                close: columns.close.required(row)?,
                volume: columns.volume.required(row)?,
                trade_count: columns.trade_count.required(row)?,
            }),
            Table::Liquidations => DataKind::Liquidation(Liquidation {
                side: self.side(&columns.side, row)?,
                price: columns.price.required(row)?,
                quantity: columns.quantity.required(row)?,
                time: columns.time.required(row)?,
            }),
            Table::Reconnects => unreachable!("reconnects carry no event"),
        };
        self.push(event_index, Item::Item(header.with_kind(kind)), self.row);
        Ok(())
    }

    /// One level row of an L2 event: rows with one `event_index` make one event, each side's
    /// levels numbered from 0 in order.
    fn book_row(&mut self, columns: &Columns, row: usize, event_index: u64, header: EventHeader) -> Result<(), String> {
        if self.open_book.as_ref().is_some_and(|book| book.event_index != event_index) {
            self.close_book()?;
        }
        let book = match &mut self.open_book {
            Some(book) => book,
            None => self.open_book.insert(OpenBook {
                event_index,
                first_row: self.row,
                header,
                is_snapshot: columns.is_snapshot.required(row)?,
                sequence: columns.sequence.required(row)?,
                time_engine: columns.time_engine.optional(row)?,
                sides: Default::default(),
                levelless: false,
            }),
        };
        let side = columns.side.optional(row)?;
        let price = columns.level_price.optional(row)?;
        let amount = columns.level_amount.optional(row)?;
        let level = columns.level.optional(row)?;
        if book.levelless {
            return Err("an order book event's row without a level must be its only row".into());
        }
        let Some(side) = side else {
            if (level, price, amount) != (None, None, None) || book.sides.iter().any(|levels| !levels.is_empty()) {
                return Err("a row without a `side` stands for an order book event with no level: its `level`, \
                            `price` and `amount` must be null and it must be the event's only row"
                    .into());
            }
            book.levelless = true;
            return Ok(());
        };
        let side_index = BOOK_SIDES
            .iter()
            .position(|name| *name == side)
            .ok_or_else(|| format!("`side` must be one of {BOOK_SIDES:?}, not {side:?}"))?;
        let levels = &mut book.sides[side_index];
        if level != Some(levels.len() as u64) {
            return Err(format!(
                "`level` is {level:?} where this event's {side} side has {} so far: each side's levels come in \
                 order, numbered from 0",
                counted(levels.len(), "level")
            ));
        }
        let (price, amount) = (required(price, "price")?, required(amount, "amount")?);
        levels.push(Level { price, amount });
        Ok(())
    }

    fn close_book(&mut self) -> Result<(), String> {
        let Some(OpenBook { event_index, first_row, header, is_snapshot, sequence, time_engine, sides, .. }) =
            self.open_book.take()
        else {
            return Ok(());
        };
        let [bids, asks] = sides;
        let book = order_book_in_order(sequence, time_engine, bids, asks)
            .map_err(|problem| format!("l2 row {first_row} (event_index {event_index}): {problem}"))?;
        let book = if is_snapshot { OrderBookEvent::Snapshot(book) } else { OrderBookEvent::Update(book) };
        self.push(event_index, Item::Item(header.with_kind(DataKind::OrderBook(book))), first_row);
        Ok(())
    }
}

/// The value last parsed from a text, known by where the text lies.
struct Memo<T>(Cell<Option<(*const u8, usize, T)>>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self(Cell::new(None))
    }
}

impl<T: Copy> Memo<T> {
    fn get(&self, text: &str, parse: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let key = (text.as_ptr(), text.len());
        if let Some((pointer, length, value)) = self.0.get() {
            if (pointer, length) == key {
                return Ok(value);
            }
        }
        let value = parse()?;
        self.0.set(Some((key.0, key.1, value)));
        Ok(value)
    }
}

/// A row's shared columns: its event but for the kind.
#[derive(Debug, Clone, Copy)]
struct EventHeader {
    time_exchange: DateTime<Utc>,
    time_received: DateTime<Utc>,
    exchange: ExchangeId,
    instrument: InstrumentIndex,
}

impl EventHeader {
    fn with_kind(self, kind: DataKind) -> Event {
        let Self { time_exchange, time_received, exchange, instrument } = self;
        MarketEvent { time_exchange, time_received, exchange, instrument, kind }
    }
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("`{name}` is null"))
}

fn level(price: &Column<Decimals>, amount: &Column<Decimals>, row: usize) -> Result<Option<Level>, String> {
    match (price.optional(row)?, amount.optional(row)?) {
        (Some(price), Some(amount)) => Ok(Some(Level { price, amount })),
        (None, None) => Ok(None),
        _ => Err(format!("`{}` and `{}` must both be null (no level) or both be set", price.name, amount.name)),
    }
}

/// Every column any table reads, found in one batch by name. A column the table does not have
/// fails only when a row reads it.
struct Columns<'a> {
    event_index: Column<'a, Integer<'a>>,
    time_exchange: Column<'a, Timestamps<'a>>,
    time_received: Column<'a, Timestamps<'a>>,
    exchange: Column<'a, Text<'a>>,
    instrument: Column<'a, Integer<'a>>,
    id: Column<'a, Text<'a>>,
    side: Column<'a, Text<'a>>,
    price: Column<'a, Floats<'a>>,
    amount: Column<'a, Floats<'a>>,
    quantity: Column<'a, Floats<'a>>,
    time: Column<'a, Timestamps<'a>>,
    last_update_time: Column<'a, Timestamps<'a>>,
    bid_price: Column<'a, Decimals<'a>>,
    bid_amount: Column<'a, Decimals<'a>>,
    ask_price: Column<'a, Decimals<'a>>,
    ask_amount: Column<'a, Decimals<'a>>,
    is_snapshot: Column<'a, Booleans<'a>>,
    sequence: Column<'a, Integer<'a>>,
    time_engine: Column<'a, Timestamps<'a>>,
    level: Column<'a, Integer<'a>>,
    level_price: Column<'a, Decimals<'a>>,
    level_amount: Column<'a, Decimals<'a>>,
    close_time: Column<'a, Timestamps<'a>>,
    open: Column<'a, Floats<'a>>,
    high: Column<'a, Floats<'a>>,
    low: Column<'a, Floats<'a>>,
    close: Column<'a, Floats<'a>>,
    volume: Column<'a, Floats<'a>>,
    trade_count: Column<'a, Integer<'a>>,
}

impl<'a> Columns<'a> {
    fn new(batch: &'a RecordBatch, table: Table) -> Self {
        let found = Found { batch, table };
        Self {
            event_index: found.column("event_index"),
            time_exchange: found.column("time_exchange"),
            time_received: found.column("time_received"),
            exchange: found.column("exchange"),
            instrument: found.column("instrument"),
            id: found.column("id"),
            side: found.column("side"),
            price: found.column("price"),
            amount: found.column("amount"),
            quantity: found.column("quantity"),
            time: found.column("time"),
            last_update_time: found.column("last_update_time"),
            bid_price: found.column("bid_price"),
            bid_amount: found.column("bid_amount"),
            ask_price: found.column("ask_price"),
            ask_amount: found.column("ask_amount"),
            is_snapshot: found.column("is_snapshot"),
            sequence: found.column("sequence"),
            time_engine: found.column("time_engine"),
            level: found.column("level"),
            level_price: found.column("price"),
            level_amount: found.column("amount"),
            close_time: found.column("close_time"),
            open: found.column("open"),
            high: found.column("high"),
            low: found.column("low"),
            close: found.column("close"),
            volume: found.column("volume"),
            trade_count: found.column("trade_count"),
        }
    }
}

impl Columns<'_> {
    /// The first column `table`'s rows read that is missing or of a type it may not have, in
    /// the order a row reads them: the problem a row of any values would meet first.
    fn unreadable(&self, table: Table) -> Option<&String> {
        let kind = match table {
            Table::Reconnects => {
                return [self.event_index.unreadable(), self.exchange.unreadable()].into_iter().flatten().next()
            }
            Table::Trades => {
                vec![self.id.unreadable(), self.price.unreadable(), self.amount.unreadable(), self.side.unreadable()]
            }
            Table::L1 => vec![
                self.last_update_time.unreadable(),
                self.bid_price.unreadable(),
                self.bid_amount.unreadable(),
                self.ask_price.unreadable(),
                self.ask_amount.unreadable(),
            ],
            Table::L2 => vec![
                self.is_snapshot.unreadable(),
                self.sequence.unreadable(),
                self.time_engine.unreadable(),
                self.side.unreadable(),
                self.level_price.unreadable(),
                self.level_amount.unreadable(),
                self.level.unreadable(),
            ],
            Table::Candles => vec![
                self.close_time.unreadable(),
                self.open.unreadable(),
                self.high.unreadable(),
                self.low.unreadable(),
                self.close.unreadable(),
                self.volume.unreadable(),
                self.trade_count.unreadable(),
            ],
            Table::Liquidations => vec![
                self.side.unreadable(),
                self.price.unreadable(),
                self.quantity.unreadable(),
                self.time.unreadable(),
            ],
        };
        let header = [
            self.event_index.unreadable(),
            self.instrument.unreadable(),
            self.time_exchange.unreadable(),
            self.time_received.unreadable(),
            self.exchange.unreadable(),
        ];
        header.into_iter().chain(kind).flatten().next()
    }
}

struct Found<'a> {
    batch: &'a RecordBatch,
    table: Table,
}

impl<'a> Found<'a> {
    fn column<V: Values<'a>>(&self, name: &'static str) -> Column<'a, V> {
        let array = self.batch.column_by_name(name);
        Column {
            name,
            nulls: array.and_then(|array| array.nulls()),
            values: match array {
                Some(array) => V::of(array.as_ref(), name),
                None => Err(format!("the {} table has no column `{name}`", self.table.name())),
            },
            missing: array.is_none(),
        }
    }
}

/// One column of a batch, its type resolved once. A row's value is checked in the order the
/// row-by-row reading checked it: the column missing, then (for [`Values::TYPE_BEFORE_NULL`])
/// its type, then null, then its type and value.
struct Column<'a, V> {
    name: &'static str,
    nulls: Option<&'a NullBuffer>,
    /// The column's values, or why it cannot be read (missing, or of another type).
    values: Result<V, String>,
    missing: bool,
}

impl<'a, V: Values<'a>> Column<'a, V> {
    fn optional(&self, row: usize) -> Result<Option<V::Value>, String> {
        let values = self.values.as_ref();
        if self.missing || V::TYPE_BEFORE_NULL {
            values.map_err(Clone::clone)?;
        }
        if self.nulls.is_some_and(|nulls| nulls.is_null(row)) {
            return Ok(None);
        }
        values.map_err(Clone::clone)?.value(row, self.name)
    }

    fn required(&self, row: usize) -> Result<V::Value, String> {
        required(self.optional(row)?, self.name)
    }

    /// Why no value of the column can be read: it is missing, or of a type it may not have.
    fn unreadable(&self) -> Option<&String> {
        match &self.values {
            Ok(values) => values.unreadable(),
            Err(problem) => Some(problem),
        }
    }
}

/// How a column's type is read.
trait Values<'a>: Sized {
    type Value;
    /// Whether a column of the wrong type fails even at a null.
    const TYPE_BEFORE_NULL: bool = false;
    fn of(array: &'a dyn Array, name: &str) -> Result<Self, String>;
    /// Why values `of` took cannot be read all the same, whatever the rows.
    fn unreadable(&self) -> Option<&String> {
        None
    }
    /// The value of a non-null row (`None`: a dictionary's null value).
    fn value(&self, row: usize, name: &str) -> Result<Option<Self::Value>, String>;
}

/// A non-negative integer from an integer column of any width.
enum Integer<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl<'a> Values<'a> for Integer<'a> {
    type Value = u64;

    fn of(column: &'a dyn Array, name: &str) -> Result<Self, String> {
        macro_rules! slice {
            ($variant:ident, $type:ty) => {
                Integer::$variant(&column.as_primitive::<$type>().values()[..])
            };
        }
        Ok(match column.data_type() {
            DataType::UInt8 => slice!(U8, UInt8Type),
            DataType::UInt16 => slice!(U16, UInt16Type),
            DataType::UInt32 => slice!(U32, UInt32Type),
            DataType::UInt64 => slice!(U64, UInt64Type),
            DataType::Int8 => slice!(I8, Int8Type),
            DataType::Int16 => slice!(I16, Int16Type),
            DataType::Int32 => slice!(I32, Int32Type),
            DataType::Int64 => slice!(I64, Int64Type),
            other => return Err(format!("`{name}` must be an integer column, not {other}")),
        })
    }

    fn value(&self, row: usize, name: &str) -> Result<Option<u64>, String> {
        fn widened<T: Copy + std::fmt::Display>(value: T, name: &str) -> Result<Option<u64>, String>
        where
            u64: TryFrom<T>,
        {
            u64::try_from(value).map(Some).map_err(|_| format!("`{name}` must be a non-negative integer, not {value}"))
        }
        match self {
            Integer::U8(values) => Ok(Some(u64::from(values[row]))),
            Integer::U16(values) => Ok(Some(u64::from(values[row]))),
            Integer::U32(values) => Ok(Some(u64::from(values[row]))),
            Integer::U64(values) => Ok(Some(values[row])),
            Integer::I8(values) => widened(values[row], name),
            Integer::I16(values) => widened(values[row], name),
            Integer::I32(values) => widened(values[row], name),
            Integer::I64(values) => widened(values[row], name),
        }
    }
}

/// A finite float64.
struct Floats<'a>(&'a [f64]);

impl<'a> Values<'a> for Floats<'a> {
    type Value = f64;
    const TYPE_BEFORE_NULL: bool = true;

    fn of(column: &'a dyn Array, name: &str) -> Result<Self, String> {
        match column.data_type() {
            DataType::Float64 => Ok(Floats(&column.as_primitive::<Float64Type>().values()[..])),
            other => Err(format!("`{name}` must be a float64 column, not {other}")),
        }
    }

    fn value(&self, row: usize, name: &str) -> Result<Option<f64>, String> {
        finite(self.0[row], name).map(Some)
    }
}

struct Booleans<'a>(&'a BooleanArray);

impl<'a> Values<'a> for Booleans<'a> {
    type Value = bool;
    const TYPE_BEFORE_NULL: bool = true;

    fn of(column: &'a dyn Array, name: &str) -> Result<Self, String> {
        column
            .as_boolean_opt()
            .map(Booleans)
            .ok_or_else(|| format!("`{name}` must be a boolean column, not {}", column.data_type()))
    }

    fn value(&self, row: usize, _: &str) -> Result<Option<bool>, String> {
        Ok(Some(self.0.value(row)))
    }
}

/// A timestamp in any unit, as nanoseconds (any time zone names the same instant): DuckDB and
/// polars may hand out microseconds. A time outside i64 nanoseconds is refused.
struct Timestamps<'a> {
    values: &'a [i64],
    nanoseconds_per_unit: i64,
}

impl<'a> Values<'a> for Timestamps<'a> {
    type Value = DateTime<Utc>;

    fn of(column: &'a dyn Array, name: &str) -> Result<Self, String> {
        let (values, nanoseconds_per_unit) = match column.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                (&column.as_primitive::<TimestampNanosecondType>().values()[..], 1)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                (&column.as_primitive::<TimestampMicrosecondType>().values()[..], 1_000)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                (&column.as_primitive::<TimestampMillisecondType>().values()[..], 1_000_000)
            }
            DataType::Timestamp(TimeUnit::Second, _) => {
                (&column.as_primitive::<TimestampSecondType>().values()[..], 1_000_000_000)
            }
            other => return Err(format!("`{name}` must be a timestamp column, not {other}")),
        };
        Ok(Timestamps { values, nanoseconds_per_unit })
    }

    fn value(&self, row: usize, name: &str) -> Result<Option<DateTime<Utc>>, String> {
        let value = self.values[row];
        let nanoseconds = value
            .checked_mul(self.nanoseconds_per_unit)
            .ok_or_else(|| format!("`{name}`: {value} is outside i64 nanoseconds since the Unix epoch"))?;
        Ok(Some(DateTime::from_timestamp_nanos(nanoseconds)))
    }
}

/// A string column in any of Arrow's string layouts, or a dictionary of them.
enum Text<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Dictionary {
        keys: Integer<'a>,
        values: &'a dyn Array,
        /// The dictionary's values read as text, or why they cannot be.
        texts: Box<Result<Text<'a>, String>>,
    },
}

impl<'a> Values<'a> for Text<'a> {
    type Value = &'a str;

    /// A dictionary whose values are not text.
    fn unreadable(&self) -> Option<&String> {
        match self {
            Text::Dictionary { texts, .. } => texts.as_ref().as_ref().err(),
            _ => None,
        }
    }

    fn of(column: &'a dyn Array, name: &str) -> Result<Self, String> {
        if let Some(dictionary) = column.as_any_dictionary_opt() {
            let values = dictionary.values().as_ref();
            return Ok(Text::Dictionary {
                keys: Integer::of(dictionary.keys(), name)?,
                values,
                texts: Box::new(Text::of(values, name)),
            });
        }
        Ok(match column.data_type() {
            DataType::Utf8 => Text::Utf8(column.as_string::<i32>()),
            DataType::LargeUtf8 => Text::LargeUtf8(column.as_string::<i64>()),
            DataType::Utf8View => Text::Utf8View(column.as_string_view()),
            other => return Err(format!("`{name}` must be a string column, not {other}")),
        })
    }

    fn value(&self, row: usize, name: &str) -> Result<Option<&'a str>, String> {
        match self {
            Text::Utf8(values) => Ok(Some(values.value(row))),
            Text::LargeUtf8(values) => Ok(Some(values.value(row))),
            Text::Utf8View(values) => Ok(Some(values.value(row))),
            Text::Dictionary { keys, values, texts } => {
                let key = required(keys.value(row, name)?, name)?;
                let Some(key) = usize::try_from(key).ok().filter(|key| *key < values.len()) else {
                    return Err(format!("`{name}`: dictionary key {key} is out of range"));
                };
                if values.is_null(key) {
                    return Ok(None);
                }
                texts.as_ref().as_ref().map_err(Clone::clone)?.value(key, name)
            }
        }
    }
}

/// A decimal in any of the export's three forms: decimal128, float64 (read as its shortest
/// text, as a JSON number would be) or text (read by barter's serde, scale kept).
enum Decimals<'a> {
    Decimal128 { values: &'a [i128], scale: i8 },
    Float64(Floats<'a>),
    Text(Result<Text<'a>, String>),
}

impl<'a> Values<'a> for Decimals<'a> {
    type Value = Decimal;

    fn unreadable(&self) -> Option<&String> {
        match self {
            Decimals::Text(text) => text.as_ref().err(),
            _ => None,
        }
    }

    fn of(column: &'a dyn Array, name: &str) -> Result<Self, String> {
        Ok(match column.data_type() {
            DataType::Decimal128(_, scale) => {
                Decimals::Decimal128 { values: &column.as_primitive::<Decimal128Type>().values()[..], scale: *scale }
            }
            DataType::Float64 => Decimals::Float64(Floats::of(column, name)?),
            other => Decimals::Text(match Text::of(column, name) {
                Ok(text) if text.unreadable().is_none() => Ok(text),
                _ => Err(format!("`{name}` must be a decimal128, float64 or string column, not {other}")),
            }),
        })
    }

    fn value(&self, row: usize, name: &str) -> Result<Option<Decimal>, String> {
        match self {
            Decimals::Decimal128 { values, scale } => {
                let value = values[row];
                u32::try_from(*scale)
                    .ok()
                    .and_then(|scale| Decimal::try_from_i128_with_scale(value, scale).ok())
                    .map(Some)
                    .ok_or_else(|| format!("`{name}`: {value} at scale {scale} is outside rust_decimal's range"))
            }
            Decimals::Float64(floats) => {
                let number = required(floats.value(row, name)?, name)?;
                serde_text(&number.to_string(), name).map(Some)
            }
            Decimals::Text(text) => {
                let text = required(text.as_ref().map_err(Clone::clone)?.value(row, name)?, name)?;
                serde_text(text, name).map(Some)
            }
        }
    }
}
