//! The rows of one record batch of a book replay, column by column, in [`schema`](super::schema)'s order.

use super::{
    book::{FloatLevel, Side, TrackedBook},
    DecimalTypes, Layout, ReplayOptions,
};
use crate::output::{
    arrow::export::{exchange_key, exchanges, finish, DecimalColumn, TimestampBuilder},
    decimal_float::FloatMemo,
};
use arrow_array::{
    builder::{BooleanBuilder, Int32Builder, TimestampNanosecondBuilder, UInt32Builder, UInt64Builder},
    ArrayRef, FixedSizeListArray, RecordBatch,
};
use arrow_schema::{ArrowError, DataType, Field, SchemaRef};
use std::sync::Arc;

pub struct Rows {
    depth: usize,
    layout: Layout,
    /// The levels are float64: converted through each book's last row (`shown_floats`).
    floats: bool,
    scratch: Vec<FloatLevel>,
    rows: usize,
    time: TimestampNanosecondBuilder,
    event_index: UInt64Builder,
    exchange: Int32Builder,
    instrument: UInt64Builder,
    sequence: UInt64Builder,
    time_engine: TimestampBuilder,
    /// Wide: `depth` columns per level field, field after field; lists: one column of
    /// `depth` values a row per level field.
    levels: Vec<DecimalColumn>,
    level_counts: [UInt32Builder; 2],
    mid_price: DecimalColumn,
    microprice: DecimalColumn,
    spread: DecimalColumn,
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
        Self {
            depth,
            layout: options.layout,
            floats: types.price == DataType::Float64 && types.amount == DataType::Float64,
            scratch: Vec::with_capacity(depth),
            rows: 0,
            time: TimestampNanosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            event_index: UInt64Builder::with_capacity(capacity),
            exchange: Int32Builder::with_capacity(capacity),
            instrument: UInt64Builder::with_capacity(capacity),
            sequence: UInt64Builder::with_capacity(capacity),
            time_engine: TimestampBuilder::with_capacity(capacity),
            levels,
            level_counts: [UInt32Builder::with_capacity(capacity), UInt32Builder::with_capacity(capacity)],
            mid_price: DecimalColumn::new(Ok(&types.mid_price), capacity),
            microprice: DecimalColumn::new(Ok(&types.microprice), capacity),
            spread: DecimalColumn::new(Ok(&types.spread), capacity),
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
    pub fn append(
        &mut self,
        time: i64,
        book: &mut TrackedBook,
        reconnects: u64,
        memo: &mut FloatMemo,
    ) -> Result<(), ArrowError> {
        self.time.append_value(time);
        self.event_index.append_value(book.last_event_index);
        self.exchange.append_value(exchange_key(book.exchange));
        self.instrument.append_value(book.instrument as u64);
        self.sequence.append_value(book.book.sequence());
        self.time_engine.append_n(book.book.time_engine(), 1)?;
        for side in [Side::Bids, Side::Asks] {
            let mut shown = 0;
            if self.floats {
                let mut scratch = std::mem::take(&mut self.scratch);
                for &(_, price_float, amount_float) in book.shown_floats(side, self.depth, memo, &mut scratch) {
                    let (price, amount) = self.level_columns(side, shown);
                    price.append_f64(price_float)?;
                    self.levels[amount].append_f64(amount_float)?;
                    shown += 1;
                }
                self.scratch = scratch;
            } else {
                for level in book.shown_levels(side).take(self.depth) {
                    let (price, amount) = self.level_columns(side, shown);
                    price.append(Some(&level.price))?;
                    self.levels[amount].append(Some(&level.amount))?;
                    shown += 1;
                }
            }
            for position in shown..self.depth {
                let (price, amount) = self.level_columns(side, position);
                price.append(None)?;
                self.levels[amount].append(None)?;
            }
            self.level_counts[side as usize].append_value(count(book.shown_count(side))?);
        }
        let prices = book.prices();
        self.mid_price.append_rounded(prices.mid_price.as_ref())?;
        self.microprice.append_rounded(prices.microprice.as_ref())?;
        self.spread.append_rounded(prices.spread.as_ref())?;
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

    /// The price column of `side`'s level at `position`, and the index of its amount column.
    fn level_columns(&mut self, side: Side, position: usize) -> (&mut DecimalColumn, usize) {
        let field = 2 * side as usize;
        let (price, amount) = match self.layout {
            Layout::Wide => (field * self.depth + position, (field + 1) * self.depth + position),
            Layout::Lists => (field, field + 1),
        };
        (&mut self.levels[price], amount)
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
            levels,
            level_counts: [mut bid_levels, mut ask_levels],
            mid_price,
            microprice,
            spread,
            mut synced,
            mut after_reconnect,
            mut crossed,
            mut sequence_regressed,
            mut unknown_deletes,
            mut updates_since_snapshot,
            mut skipped_updates,
            mut trimmed_levels,
            ..
        } = self;
        let mut columns: Vec<ArrayRef> = vec![
            finish(&mut time),
            finish(&mut event_index),
            exchanges(exchange),
            finish(&mut instrument),
            finish(&mut sequence),
            time_engine.finish(),
        ];
        for column in levels {
            let values = column.finish();
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
            mid_price.finish(),
            microprice.finish(),
            spread.finish(),
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
