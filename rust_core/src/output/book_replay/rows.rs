//! The rows of one record batch of a book replay, column by column, in [`schema`](super::schema)'s order.

use super::{
    book::{Side, TrackedBook},
    top::{Cell, Scales},
    DecimalTypes, Layout, ReplayOptions,
};
use crate::output::arrow::export::{exchange_key, exchanges, finish, DecimalColumn, TimestampBuilder};
use arrow_array::{
    builder::{BooleanBuilder, Int32Builder, TimestampNanosecondBuilder, UInt32Builder, UInt64Builder},
    ArrayRef, FixedSizeListArray, RecordBatch,
};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_schema::{ArrowError, DataType, Field, SchemaRef};
use std::sync::Arc;

pub struct Rows {
    depth: usize,
    layout: Layout,
    rows: usize,
    time: TimestampNanosecondBuilder,
    event_index: UInt64Builder,
    exchange: Int32Builder,
    instrument: UInt64Builder,
    sequence: UInt64Builder,
    time_engine: TimestampBuilder,
    /// The levels' and computed prices' columns.
    cells: Cells,
    level_counts: [UInt32Builder; 2],
    synced: BooleanBuilder,
    after_reconnect: BooleanBuilder,
    crossed: BooleanBuilder,
    sequence_regressed: BooleanBuilder,
    unknown_deletes: UInt64Builder,
    updates_since_snapshot: UInt64Builder,
    skipped_updates: UInt64Builder,
    trimmed_levels: UInt32Builder,
}

impl Rows {
    /// Builders for about `capacity` rows.
    pub fn new(options: &ReplayOptions, types: &DecimalTypes, capacity: usize) -> Self {
        let depth = options.depth;
        let cells = match (&types.price, &types.amount) {
            (DataType::Float64, DataType::Float64) => Cells::Float(FastCells::new(types, depth, capacity)),
            (DataType::Decimal128(..), DataType::Decimal128(..)) => {
                Cells::Exact(FastCells::new(types, depth, capacity))
            }
            _ => Cells::Text(TextCells::new(types, options, capacity)),
        };
        Self {
            depth,
            layout: options.layout,
            rows: 0,
            time: TimestampNanosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            event_index: UInt64Builder::with_capacity(capacity),
            exchange: Int32Builder::with_capacity(capacity),
            instrument: UInt64Builder::with_capacity(capacity),
            sequence: UInt64Builder::with_capacity(capacity),
            time_engine: TimestampBuilder::with_capacity(capacity),
            cells,
            level_counts: [UInt32Builder::with_capacity(capacity), UInt32Builder::with_capacity(capacity)],
            synced: BooleanBuilder::with_capacity(capacity),
            after_reconnect: BooleanBuilder::with_capacity(capacity),
            crossed: BooleanBuilder::with_capacity(capacity),
            sequence_regressed: BooleanBuilder::with_capacity(capacity),
            unknown_deletes: UInt64Builder::with_capacity(capacity),
            updates_since_snapshot: UInt64Builder::with_capacity(capacity),
            skipped_updates: UInt64Builder::with_capacity(capacity),
            trimmed_levels: UInt32Builder::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    /// One row: `book` as the rows show it at `time`; `reconnects` is its exchange's count of
    /// reconnect markers so far.
    pub fn append(&mut self, time: i64, book: &mut TrackedBook, reconnects: u64) -> Result<(), ArrowError> {
        self.time.append_value(time);
        self.event_index.append_value(book.last_event_index);
        self.exchange.append_value(exchange_key(book.exchange));
        self.instrument.append_value(book.instrument as u64);
        self.sequence.append_value(book.book.sequence());
        self.time_engine.append_n(book.book.time_engine(), 1)?;
        match &mut self.cells {
            Cells::Float(cells) => cells.append(book)?,
            Cells::Exact(cells) => cells.append(book)?,
            Cells::Text(cells) => cells.append(book, self.depth, self.layout)?,
        }
        for side in [Side::Bids, Side::Asks] {
            self.level_counts[side as usize].append_value(count(book.shown_count(side))?);
        }
        self.synced.append_value(book.synced(reconnects));
        self.after_reconnect.append_value(book.after_reconnect(reconnects));
        self.crossed.append_value(book.crossed());
        self.sequence_regressed.append_value(book.sequence_regressed);
        self.unknown_deletes.append_value(book.unknown_deletes);
        self.updates_since_snapshot.append_value(book.updates_since_snapshot);
        self.skipped_updates.append_value(book.skipped_updates);
        self.trimmed_levels.append_value(count(book.trimmed_count())?);
        self.rows += 1;
        Ok(())
    }

    pub fn finish(self, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
        let Self {
            depth,
            layout,
            rows,
            mut time,
            mut event_index,
            exchange,
            mut instrument,
            mut sequence,
            mut time_engine,
            cells,
            level_counts: [mut bid_levels, mut ask_levels],
            mut synced,
            mut after_reconnect,
            mut crossed,
            mut sequence_regressed,
            mut unknown_deletes,
            mut updates_since_snapshot,
            mut skipped_updates,
            mut trimmed_levels,
        } = self;
        let (levels, [mid_price, microprice, spread]) = match cells {
            Cells::Float(cells) => cells.finish(rows, layout)?,
            Cells::Exact(cells) => cells.finish(rows, layout)?,
            Cells::Text(cells) => cells.finish(),
        };
        let mut columns: Vec<ArrayRef> = vec![
            finish(&mut time),
            finish(&mut event_index),
            exchanges(exchange),
            finish(&mut instrument),
            finish(&mut sequence),
            time_engine.finish(),
        ];
        for values in levels {
            columns.push(match layout {
                Layout::Wide => values,
                Layout::Lists => {
                    let item = Arc::new(Field::new("item", values.data_type().clone(), true));
                    // With the length given: a list of 0 levels has no values to count rows by.
                    Arc::new(FixedSizeListArray::try_new_with_length(item, depth as i32, values, None, rows)?)
                }
            });
        }
        columns.extend([
            finish(&mut bid_levels),
            finish(&mut ask_levels),
            mid_price,
            microprice,
            spread,
            finish(&mut synced),
            finish(&mut after_reconnect),
            finish(&mut crossed),
            finish(&mut sequence_regressed),
            finish(&mut unknown_deletes),
            finish(&mut updates_since_snapshot),
            finish(&mut skipped_updates),
            finish(&mut trimmed_levels),
        ]);
        RecordBatch::try_new(Arc::clone(schema), columns)
    }
}

fn count(levels: usize) -> Result<u32, ArrowError> {
    u32::try_from(levels).map_err(|_| ArrowError::ComputeError(format!("{levels} levels do not fit a uint32 column")))
}

/// The level columns (wide: `depth` a level field, field after field; lists: the values of one
/// column a level field) and the mid price, microprice and spread columns.
type CellColumns = (Vec<ArrayRef>, [ArrayRef; 3]);

/// The columns of numbers, of the kind the replay's decimals ask for.
enum Cells {
    Float(FastCells<f64>),
    Exact(FastCells<i128>),
    Text(TextCells),
}

/// Float64 or decimal128 columns, filled from each book's cells (see [`super::top`]): a row's
/// levels are copied in one piece, row after row, and split into columns when the batch ends.
struct FastCells<V> {
    depth: usize,
    scales: Scales,
    /// The level columns' types, then the computed prices'.
    level_types: [DataType; 2],
    price_types: [DataType; 3],
    /// Row after row: the bid prices, bid amounts, ask prices and ask amounts, `depth` each.
    levels: Vec<V>,
    /// Row after row: how many bids and asks the row shows (the rest are null).
    shown: Vec<[u32; 2]>,
    prices: [(Vec<V>, Vec<bool>); 3],
}

impl<V: Cell> FastCells<V> {
    fn new(types: &DecimalTypes, depth: usize, capacity: usize) -> Self {
        let scale = |data_type: &DataType| match data_type {
            DataType::Decimal128(_, scale) => *scale as u32,
            _ => 0,
        };
        let price = || (Vec::with_capacity(capacity), Vec::with_capacity(capacity));
        Self {
            depth,
            scales: Scales {
                price: scale(&types.price),
                amount: scale(&types.amount),
                mid_price: scale(&types.mid_price),
                microprice: scale(&types.microprice),
                spread: scale(&types.spread),
            },
            level_types: [types.price.clone(), types.amount.clone()],
            price_types: [types.mid_price.clone(), types.microprice.clone(), types.spread.clone()],
            levels: Vec::with_capacity(capacity * 4 * depth),
            shown: Vec::with_capacity(capacity),
            prices: [price(), price(), price()],
        }
    }

    fn append(&mut self, book: &mut TrackedBook) -> Result<(), ArrowError> {
        let top = book.cells::<V>(self.depth, &self.scales)?;
        let [bids, asks] = &top.sides;
        self.levels.extend_from_slice(bids.values());
        self.levels.extend_from_slice(asks.values());
        self.shown.push([bids.len() as u32, asks.len() as u32]);
        for ((values, valid), cell) in self.prices.iter_mut().zip(top.prices()) {
            values.push(cell.unwrap_or_default());
            valid.push(cell.is_some());
        }
        Ok(())
    }

    fn finish(self, rows: usize, layout: Layout) -> Result<CellColumns, ArrowError> {
        let Self { depth, level_types, price_types, levels, shown, prices, .. } = self;
        let stride = 4 * depth;
        // A level position every row of the batch shows needs no validity.
        let fewest = [0, 1].map(|side| shown.iter().map(|counts| counts[side] as usize).min().unwrap_or(0));
        let nulls = |valid: BooleanBuffer| Some(NullBuffer::new(valid)).filter(|nulls| nulls.null_count() > 0);
        let mut columns = Vec::new();
        for field in 0..4 {
            let (side, data_type) = (field / 2, &level_types[field % 2]);
            let block = field * depth..(field + 1) * depth;
            match layout {
                Layout::Wide => {
                    for position in 0..depth {
                        let at = block.start + position;
                        let values = levels.chunks_exact(stride).map(|row| row[at]).collect();
                        let valid = (position >= fewest[side])
                            .then(|| BooleanBuffer::collect_bool(rows, |row| shown[row][side] as usize > position));
                        columns.push(V::array(values, valid.and_then(nulls), data_type)?);
                    }
                }
                Layout::Lists => {
                    let mut values = Vec::with_capacity(rows * depth);
                    // With depth 0 the lists hold no values (and a row is no chunk).
                    for row in levels.chunks_exact(stride.max(1)).filter(|_| depth > 0) {
                        values.extend_from_slice(&row[block.clone()]);
                    }
                    let valid = (fewest[side] < depth).then(|| {
                        BooleanBuffer::collect_bool(rows * depth, |at| shown[at / depth][side] as usize > at % depth)
                    });
                    columns.push(V::array(values, valid.and_then(nulls), data_type)?);
                }
            }
        }
        let mut price_columns = Vec::with_capacity(3);
        for ((values, valid), data_type) in prices.into_iter().zip(&price_types) {
            price_columns.push(V::array(values, nulls(BooleanBuffer::from(valid)), data_type)?);
        }
        let [mid_price, microprice, spread]: [ArrayRef; 3] =
            price_columns.try_into().map_err(|_| ArrowError::ComputeError("three price columns".into()))?;
        Ok((columns, [mid_price, microprice, spread]))
    }
}

/// Text columns, a value at a time from the book's levels.
struct TextCells {
    /// Wide: `depth` columns per level field, field after field; lists: one column of
    /// `depth` values a row per level field.
    levels: Vec<DecimalColumn>,
    prices: [DecimalColumn; 3],
}

impl TextCells {
    fn new(types: &DecimalTypes, options: &ReplayOptions, capacity: usize) -> Self {
        let depth = options.depth;
        let level_types = [&types.price, &types.amount, &types.price, &types.amount];
        let levels = match options.layout {
            Layout::Wide => level_types
                .iter()
                .flat_map(|data_type| (0..depth).map(move |_| DecimalColumn::new(Ok(data_type), capacity)))
                .collect(),
            Layout::Lists => {
                level_types.iter().map(|data_type| DecimalColumn::new(Ok(data_type), capacity * depth)).collect()
            }
        };
        let column = |data_type: &DataType| DecimalColumn::new(Ok(data_type), capacity);
        Self { levels, prices: [column(&types.mid_price), column(&types.microprice), column(&types.spread)] }
    }

    fn append(&mut self, book: &mut TrackedBook, depth: usize, layout: Layout) -> Result<(), ArrowError> {
        for side in [Side::Bids, Side::Asks] {
            let mut levels = book.shown_levels(side).map(Some).chain(std::iter::repeat(None)).take(depth);
            for position in 0..depth {
                let level = levels.next().flatten();
                let field = 2 * side as usize;
                let (price, amount) = match layout {
                    Layout::Wide => (field * depth + position, (field + 1) * depth + position),
                    Layout::Lists => (field, field + 1),
                };
                self.levels[price].append(level.map(|level| &level.price))?;
                self.levels[amount].append(level.map(|level| &level.amount))?;
            }
        }
        let prices = book.prices();
        for (column, value) in self.prices.iter_mut().zip([prices.mid_price, prices.microprice, prices.spread]) {
            column.append_rounded(value.as_ref())?;
        }
        Ok(())
    }

    fn finish(self) -> CellColumns {
        let [mid_price, microprice, spread] = self.prices.map(DecimalColumn::finish);
        (self.levels.into_iter().map(DecimalColumn::finish).collect(), [mid_price, microprice, spread])
    }
}
