//! Record batches in the [tables' schemas](super) → barter's events, through barter's types.
//!
//! Rows are checked as `from_events` checks events (finite floats, barter's names for
//! exchanges and sides, barter's decimals), and a failure names the table, the row and the
//! column. Columns are read by name, so their order and any extra column do not matter; each
//! may come in any Arrow type that holds its values exactly (any integer width, string views,
//! dictionaries with any key type, as polars and DuckDB export them).

use super::{Table, BOOK_SIDES};
use crate::{
    base::{error::Error, event::StreamEvent},
    output::wire::{exchange_id, finite, order_book_in_order, serde_text},
};
use arrow_array::{
    cast::AsArray,
    types::{
        Decimal128Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
        TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type,
        UInt8Type,
    },
    Array, ArrayRef, RecordBatch,
};
use arrow_schema::{ArrowError, DataType, TimeUnit};
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

type Event = MarketEvent<InstrumentIndex, DataKind>;

/// Reads each table's batches and interleaves their rows by `event_index` back into data-set
/// order, each reconnect marker before the market event its `event_index` names.
pub fn items_from_tables<I>(tables: Vec<(Table, I)>) -> Result<Vec<StreamEvent>, Error>
where
    I: Iterator<Item = Result<RecordBatch, ArrowError>>,
{
    let mut rows = Vec::new();
    for (table, batches) in tables {
        let mut reader = TableReader { table, row: 0, rows: &mut rows, open_book: None };
        for batch in batches {
            let batch = batch.map_err(|error| Error::invalid_data(format!("{}: {error}", table.name())))?;
            reader.read(&batch).map_err(Error::invalid_data)?;
        }
        reader.close_book().map_err(Error::invalid_data)?;
    }
    // Markers sort before the market event they precede; the sort is stable, so markers with
    // one `event_index` keep their order.
    rows.sort_by_key(|row| (row.event_index, matches!(row.item, Item::Item(_))));
    for pair in rows.windows(2) {
        if let [earlier, later] = pair {
            if earlier.event_index == later.event_index && matches!(earlier.item, Item::Item(_)) {
                return Err(Error::invalid_data(format!(
                    "event_index {} names two market events: {} row {} and {} row {}",
                    later.event_index,
                    earlier.table.name(),
                    earlier.row,
                    later.table.name(),
                    later.row
                )));
            }
        }
    }
    Ok(rows.into_iter().map(|row| row.item).collect())
}

/// A market event or marker read from a table, with where it came from.
struct Row {
    event_index: u64,
    item: StreamEvent,
    table: Table,
    /// The row's position in its table, to name it in an error.
    row: u64,
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

struct TableReader<'a> {
    table: Table,
    row: u64,
    rows: &'a mut Vec<Row>,
    open_book: Option<OpenBook>,
}

impl TableReader<'_> {
    fn read(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let columns = Columns { batch, table: self.table };
        let first_row = self.row;
        let at = |row: usize| format!("{} row {}", columns.table.name(), first_row + row as u64);
        for row in 0..batch.num_rows() {
            let index = columns.u64(row, "event_index").map_err(|problem| format!("{}: {problem}", at(row)))?;
            let outcome = match self.table {
                Table::Reconnects => self.reconnect(&columns, row, index),
                _ => EventHeader::read(&columns, row).and_then(|header| self.event(&columns, row, index, header)),
            };
            outcome.map_err(|problem| format!("{} (event_index {index}): {problem}", at(row)))?;
            self.row += 1;
        }
        Ok(())
    }

    fn push(&mut self, event_index: u64, item: StreamEvent, row: u64) {
        self.rows.push(Row { event_index, item, table: self.table, row });
    }

    fn reconnect(&mut self, columns: &Columns, row: usize, event_index: u64) -> Result<(), String> {
        let exchange = columns.exchange(row)?;
        self.push(event_index, Item::Reconnecting(exchange), self.row);
        Ok(())
    }

    fn event(&mut self, columns: &Columns, row: usize, event_index: u64, header: EventHeader) -> Result<(), String> {
        let kind = match self.table {
            Table::Trades => DataKind::Trade(PublicTrade {
                id: columns.str(row, "id")?.to_string(),
                price: columns.float(row, "price")?,
                amount: columns.float(row, "amount")?,
                side: columns.side(row, "side")?,
            }),
            Table::L1 => DataKind::OrderBookL1(OrderBookL1 {
                last_update_time: columns.timestamp(row, "last_update_time")?,
                best_bid: columns.level(row, "bid_price", "bid_amount")?,
                best_ask: columns.level(row, "ask_price", "ask_amount")?,
            }),
            Table::L2 => return self.book_row(columns, row, event_index, header),
            Table::Candles => DataKind::Candle(Candle {
                close_time: columns.timestamp(row, "close_time")?,
                open: columns.float(row, "open")?,
                high: columns.float(row, "high")?,
                low: columns.float(row, "low")?,
                close: columns.float(row, "close")?,
                volume: columns.float(row, "volume")?,
                trade_count: columns.u64(row, "trade_count")?,
            }),
            Table::Liquidations => DataKind::Liquidation(Liquidation {
                side: columns.side(row, "side")?,
                price: columns.float(row, "price")?,
                quantity: columns.float(row, "quantity")?,
                time: columns.timestamp(row, "time")?,
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
                is_snapshot: columns.bool(row, "is_snapshot")?,
                sequence: columns.u64(row, "sequence")?,
                time_engine: columns.optional_timestamp(row, "time_engine")?,
                sides: Default::default(),
                levelless: false,
            }),
        };
        let side = columns.optional_str(row, "side")?;
        let price = columns.decimal(row, "price")?;
        let amount = columns.decimal(row, "amount")?;
        let level = columns.optional_u64(row, "level")?;
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
                "`level` is {level:?} where this event's {side} side has {} levels so far: each side's levels come \
                 in order, numbered from 0",
                levels.len()
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

/// A row's shared columns: its event but for the kind.
#[derive(Debug, Clone, Copy)]
struct EventHeader {
    time_exchange: DateTime<Utc>,
    time_received: DateTime<Utc>,
    exchange: ExchangeId,
    instrument: InstrumentIndex,
}

impl EventHeader {
    fn read(columns: &Columns, row: usize) -> Result<Self, String> {
        let instrument = columns.u64(row, "instrument")?;
        Ok(Self {
            time_exchange: columns.timestamp(row, "time_exchange")?,
            time_received: columns.timestamp(row, "time_received")?,
            exchange: columns.exchange(row)?,
            instrument: InstrumentIndex(
                usize::try_from(instrument).map_err(|_| format!("`instrument` {instrument} is too large"))?,
            ),
        })
    }

    fn with_kind(self, kind: DataKind) -> Event {
        let Self { time_exchange, time_received, exchange, instrument } = self;
        MarketEvent { time_exchange, time_received, exchange, instrument, kind }
    }
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("`{name}` is null"))
}

/// One batch's columns, read a value at a time by column name.
struct Columns<'a> {
    batch: &'a RecordBatch,
    table: Table,
}

impl<'a> Columns<'a> {
    fn column(&self, name: &str) -> Result<&'a ArrayRef, String> {
        self.batch.column_by_name(name).ok_or_else(|| format!("the {} table has no column `{name}`", self.table.name()))
    }

    fn optional_u64(&self, row: usize, name: &str) -> Result<Option<u64>, String> {
        integer(self.column(name)?.as_ref(), row, name)
    }

    fn u64(&self, row: usize, name: &str) -> Result<u64, String> {
        required(self.optional_u64(row, name)?, name)
    }

    fn float(&self, row: usize, name: &str) -> Result<f64, String> {
        let column = self.column(name)?;
        let DataType::Float64 = column.data_type() else {
            return Err(format!("`{name}` must be a float64 column, not {}", column.data_type()));
        };
        let values = column.as_primitive::<Float64Type>();
        finite(required(values.is_valid(row).then(|| values.value(row)), name)?, name)
    }

    fn bool(&self, row: usize, name: &str) -> Result<bool, String> {
        let column = self.column(name)?;
        let values = column
            .as_boolean_opt()
            .ok_or_else(|| format!("`{name}` must be a boolean column, not {}", column.data_type()))?;
        required(values.is_valid(row).then(|| values.value(row)), name)
    }

    /// A timestamp in any unit, as nanoseconds (any time zone names the same instant): DuckDB
    /// and polars may hand out microseconds. A time outside i64 nanoseconds is refused.
    fn optional_timestamp(&self, row: usize, name: &str) -> Result<Option<DateTime<Utc>>, String> {
        let column = self.column(name)?;
        if column.is_null(row) {
            return Ok(None);
        }
        let (value, nanoseconds_per_unit) = match column.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                (column.as_primitive::<TimestampNanosecondType>().value(row), 1)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                (column.as_primitive::<TimestampMicrosecondType>().value(row), 1_000)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                (column.as_primitive::<TimestampMillisecondType>().value(row), 1_000_000)
            }
            DataType::Timestamp(TimeUnit::Second, _) => {
                (column.as_primitive::<TimestampSecondType>().value(row), 1_000_000_000)
            }
            other => return Err(format!("`{name}` must be a timestamp column, not {other}")),
        };
        let nanoseconds = value
            .checked_mul(nanoseconds_per_unit)
            .ok_or_else(|| format!("`{name}`: {value} is outside i64 nanoseconds since the Unix epoch"))?;
        Ok(Some(DateTime::from_timestamp_nanos(nanoseconds)))
    }

    fn timestamp(&self, row: usize, name: &str) -> Result<DateTime<Utc>, String> {
        required(self.optional_timestamp(row, name)?, name)
    }

    fn optional_str(&self, row: usize, name: &str) -> Result<Option<&'a str>, String> {
        text(self.column(name)?.as_ref(), row, name)
    }

    fn str(&self, row: usize, name: &str) -> Result<&'a str, String> {
        required(self.optional_str(row, name)?, name)
    }

    fn exchange(&self, row: usize) -> Result<ExchangeId, String> {
        let name = self.str(row, "exchange")?;
        exchange_id(name).ok_or_else(|| format!("`exchange`: {name:?} is not one of barter's exchanges"))
    }

    fn side(&self, row: usize, name: &str) -> Result<Side, String> {
        serde_text(self.str(row, name)?, name)
    }

    /// A decimal in any of the export's three forms: decimal128, float64 (read as its shortest
    /// text, as a JSON number would be) or text (read by barter's serde, scale kept).
    fn decimal(&self, row: usize, name: &str) -> Result<Option<Decimal>, String> {
        let column = self.column(name)?;
        if column.is_null(row) {
            return Ok(None);
        }
        match column.data_type() {
            DataType::Decimal128(_, scale) => {
                let value = column.as_primitive::<Decimal128Type>().value(row);
                u32::try_from(*scale)
                    .ok()
                    .and_then(|scale| Decimal::try_from_i128_with_scale(value, scale).ok())
                    .map(Some)
                    .ok_or_else(|| format!("`{name}`: {value} at scale {scale} is outside rust_decimal's range"))
            }
            DataType::Float64 => serde_text(&self.float(row, name)?.to_string(), name).map(Some),
            _ => serde_text(self.str(row, name)?, name).map(Some),
        }
    }

    fn level(&self, row: usize, price: &str, amount: &str) -> Result<Option<Level>, String> {
        match (self.decimal(row, price)?, self.decimal(row, amount)?) {
            (Some(price), Some(amount)) => Ok(Some(Level { price, amount })),
            (None, None) => Ok(None),
            _ => Err(format!("`{price}` and `{amount}` must both be null (no level) or both be set")),
        }
    }
}

/// A non-negative integer from an integer column of any width.
fn integer(column: &dyn Array, row: usize, name: &str) -> Result<Option<u64>, String> {
    if column.is_null(row) {
        return Ok(None);
    }
    macro_rules! widen {
        ($($variant:ident => $type:ty),*) => {
            match column.data_type() {
                $(DataType::$variant => {
                    let value = column.as_primitive::<$type>().value(row);
                    u64::try_from(value).map_err(|_| format!("`{name}` must be a non-negative integer, not {value}"))
                })*
                other => Err(format!("`{name}` must be an integer column, not {other}")),
            }
        };
    }
    widen!(UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type,
           Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type)
    .map(Some)
}

/// A value of a string column in any of Arrow's string layouts, or a dictionary of them.
fn text<'a>(column: &'a dyn Array, row: usize, name: &str) -> Result<Option<&'a str>, String> {
    if column.is_null(row) {
        return Ok(None);
    }
    if let Some(dictionary) = column.as_any_dictionary_opt() {
        let key = required(integer(dictionary.keys(), row, name)?, name)?;
        let values = dictionary.values();
        return match usize::try_from(key).ok().filter(|key| *key < values.len()) {
            Some(key) => text(values.as_ref(), key, name),
            None => Err(format!("`{name}`: dictionary key {key} is out of range")),
        };
    }
    match column.data_type() {
        DataType::Utf8 => Ok(Some(column.as_string::<i32>().value(row))),
        DataType::LargeUtf8 => Ok(Some(column.as_string::<i64>().value(row))),
        DataType::Utf8View => Ok(Some(column.as_string_view().value(row))),
        other => Err(format!("`{name}` must be a string column, not {other}")),
    }
}
