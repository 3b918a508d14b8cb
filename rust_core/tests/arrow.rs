//! The Arrow tables against barter's types: every fixture out and back in, exactly with text
//! decimals, and decimal128's scale and width rules.

mod common;

use arrow_array::{
    cast::AsArray,
    make_array,
    types::{Decimal128Type, Int8Type, UInt64Type},
    Array, ArrayRef, DictionaryArray, Int8Array, RecordBatch, RecordBatchIterator, StringArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::ArrowError;
use barter_ffi::{
    data_set::market_data::MarketData,
    output::arrow::{
        export::{row_count, TableBatches},
        import::items_from_tables,
        Decimals, Table,
    },
};
use common::fixture;

fn batches(data: &MarketData, table: Table, decimals: Decimals) -> Vec<RecordBatch> {
    TableBatches::new(data, table, decimals).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A table's batches as a reader, which the import takes (its schema: the first batch's).
fn reader(batches: Vec<RecordBatch>) -> RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, ArrowError>>> {
    let schema = batches[0].schema();
    RecordBatchIterator::new(batches.into_iter().map(Ok).collect::<Vec<_>>().into_iter(), schema)
}

fn round_trip(data: &MarketData, decimals: Decimals) -> Vec<barter_ffi::base::event::StreamEvent> {
    let tables = Table::ALL.into_iter().map(|table| (table, TableBatches::new(data, table, decimals).unwrap()));
    items_from_tables(tables.collect()).unwrap()
}

#[test]
fn every_fixture_survives_the_tables() {
    for name in ["all_kinds.jsonl", "all_kinds_results.json", "trades.json", "candles.jsonl"] {
        let data = MarketData::from_file(&fixture(name)).unwrap();
        // Text keeps each decimal's own scale: the very items come back.
        assert_eq!(&round_trip(&data, Decimals::Text), data.stream_events().as_ref(), "{name}");
        // decimal128 and float64 keep the values (rust_decimal compares by value; the fixtures'
        // decimals come back from an f64's shortest text).
        assert_eq!(&round_trip(&data, Decimals::Decimal128), data.stream_events().as_ref(), "{name}");
        assert_eq!(&round_trip(&data, Decimals::Float64), data.stream_events().as_ref(), "{name}");
    }
}

/// One L1 event per bid price given, as JSON Lines.
fn l1_prices(prices: &[&str]) -> MarketData {
    let lines: Vec<String> = prices
        .iter()
        .map(|price| {
            format!(
                r#"{{"Item":{{"time_exchange":"2024-12-20T19:05:18Z","time_received":"2024-12-20T19:05:18Z","exchange":"okx","instrument":0,"kind":{{"OrderBookL1":{{"last_update_time":"2024-12-20T19:05:18Z","best_bid":{{"price":"{price}","amount":"1"}},"best_ask":null}}}}}}}}"#
            )
        })
        .collect();
    MarketData::from_bytes(lines.join("\n").as_bytes(), "l1.jsonl").unwrap()
}

#[test]
fn decimal128_takes_the_columns_largest_scale_and_refuses_only_what_does_not_fit() {
    // A wide mantissa at a large scale beside a small one at scale 0: the quick bound cannot
    // clear the column, the exact check does (8 integer digits + scale 20 = 28 digits).
    let data = l1_prices(&["12345678.12345678901234567890", "1"]);
    let batch = &batches(&data, Table::L1, Decimals::Decimal128)[0];
    let prices = batch.column_by_name("bid_price").unwrap().as_primitive::<Decimal128Type>();
    assert_eq!(prices.scale(), 20);
    assert_eq!(prices.value(1), 100_000_000_000_000_000_000);
    assert_eq!(&round_trip(&data, Decimals::Decimal128), data.stream_events().as_ref());
    let too_wide = l1_prices(&["79228162514264337593543950335", "0.0000000000000000000000000001"]);
    let error = TableBatches::new(&too_wide, Table::L1, Decimals::Decimal128).err().unwrap();
    assert!(error.message.contains("l1 bid_price: 79228162514264337593543950335 at scale 28"), "{}", error.message);
    assert!(TableBatches::new(&too_wide, Table::L1, Decimals::Text).is_ok());
}

#[test]
fn a_data_set_of_many_batches_survives_the_tables_in_order() {
    // Enough repetitions of every kind for L2 to take several batches, built by several
    // workers, and for the kind index to be walked in two halves on two threads.
    let lines = std::fs::read_to_string(fixture("all_kinds.jsonl")).unwrap();
    let data = MarketData::from_bytes(lines.repeat(12_000).as_bytes(), "repeated.jsonl").unwrap();
    let l2 = batches(&data, Table::L2, Decimals::Text);
    assert!(l2.len() >= 2, "{} L2 batches", l2.len());
    let first_event_of_each: Vec<u64> = l2
        .iter()
        .map(|batch| batch.column_by_name("event_index").unwrap().as_primitive::<UInt64Type>().value(0))
        .collect();
    assert!(first_event_of_each.windows(2).all(|pair| pair[0] < pair[1]), "{first_event_of_each:?}");
    for table in Table::ALL {
        let rows: usize = batches(&data, table, Decimals::Float64).iter().map(RecordBatch::num_rows).sum();
        assert_eq!(row_count(&data, table), rows as u64, "{}", table.name());
    }
    assert_eq!(&round_trip(&data, Decimals::Text), data.stream_events().as_ref());
    assert_eq!(&round_trip(&data, Decimals::Decimal128), data.stream_events().as_ref());
}

/// A row is named by its place in its table, whatever batch it came in: here the last trade, in
/// a batch of its own, and a candle claiming its `event_index`.
#[test]
fn rows_are_named_by_their_place_in_the_table_across_batches() {
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    let trades = batches(&data, Table::Trades, Decimals::Text).remove(0);
    let last = trades.num_rows() - 1;
    assert!(last > 0, "more than one trade");
    let last_index = trades.column_by_name("event_index").unwrap().as_primitive::<UInt64Type>().value(last);
    let candles = batches(&data, Table::Candles, Decimals::Text).remove(0);
    let mut columns = candles.columns().to_vec();
    columns[candles.schema().index_of("event_index").unwrap()] =
        std::sync::Arc::new(arrow_array::UInt64Array::from(vec![last_index; candles.num_rows()]));
    let candles = RecordBatch::try_new(candles.schema(), columns).unwrap();
    let one_row_each: Vec<RecordBatch> = (0..trades.num_rows()).map(|row| trades.slice(row, 1)).collect();
    let tables = vec![(Table::Trades, reader(one_row_each)), (Table::Candles, reader(vec![candles]))];
    let error = items_from_tables(tables).unwrap_err();
    let expected = format!("event_index {last_index} names two market events: trades row {last} and candles row 0");
    assert!(error.message.contains(&expected), "{}", error.message);
}

/// `column` with `row` null.
fn with_null(column: &ArrayRef, row: usize) -> ArrayRef {
    let valid: Vec<bool> = (0..column.len()).map(|index| index != row && column.is_valid(index)).collect();
    make_array(column.to_data().into_builder().nulls(Some(NullBuffer::from(valid))).build().unwrap())
}

/// An l2 row without a `side` stands for an order book event with no level: its `level`,
/// `price` and `amount` null, and its event's only row. One holding a level, or following its
/// event's levels, is refused, not read as a book without levels that drops what the rows held.
#[test]
fn an_l2_row_without_a_side_is_refused_unless_it_is_its_events_only_row_and_holds_nothing() {
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    let l2 = batches(&data, Table::L2, Decimals::Text).remove(0);
    let event_index = l2.column_by_name("event_index").unwrap().as_primitive::<UInt64Type>();
    let rows_of = |row: usize| event_index.values().iter().filter(|&&index| index == event_index.value(row)).count();
    let only_row = (0..l2.num_rows()).find(|&row| rows_of(row) == 1).expect("an event of one level");
    let after_levels =
        (1..l2.num_rows()).find(|&row| event_index.value(row) == event_index.value(row - 1)).expect("an event of two");
    let level_row = ["side", "level", "price", "amount"];
    let with_nulls = |row: usize, nulled: &[&str]| {
        let mut columns = l2.columns().to_vec();
        for name in nulled {
            let column = l2.schema().index_of(name).unwrap();
            columns[column] = with_null(&columns[column], row);
        }
        items_from_tables(vec![(Table::L2, reader(vec![RecordBatch::try_new(l2.schema(), columns).unwrap()]))])
    };
    // The one row of an event, all four null: that event with no level, every other as it was.
    let whole = with_nulls(l2.num_rows(), &[]).unwrap();
    let emptied = with_nulls(only_row, &level_row).unwrap();
    assert_eq!(emptied.len(), whole.len());
    assert_eq!(whole.iter().zip(&emptied).filter(|(before, after)| before != after).count(), 1);
    for (row, nulled) in [(only_row, &level_row[..1]), (after_levels, &level_row[..])] {
        let error = with_nulls(row, nulled).unwrap_err();
        assert!(error.message.contains(&format!("l2 row {row} ")), "{}", error.message);
        assert!(
            error.message.contains("a row without a `side` stands for an order book event with no level"),
            "{}",
            error.message
        );
    }
}

/// A dictionary key one past the dictionary's values (which a C host's stream may hold: nothing
/// on the way in checks keys) is an error naming it, never a read past the values.
#[test]
fn a_dictionary_key_past_the_values_is_an_error() {
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    let trades = batches(&data, Table::Trades, Decimals::Text).remove(0);
    let values: ArrayRef = std::sync::Arc::new(StringArray::from(vec!["Buy", "Sell"]));
    let mut keys = vec![0; trades.num_rows()];
    keys[0] = 2;
    // SAFETY: the invalid key is the point; the reader must check it before any read.
    let side = unsafe { DictionaryArray::<Int8Type>::new_unchecked(Int8Array::from(keys), values) };
    let mut columns = trades.columns().to_vec();
    columns[trades.schema().index_of("side").unwrap()] = std::sync::Arc::new(side);
    let trades = RecordBatch::try_new(trades.schema(), columns).unwrap();
    let error = items_from_tables(vec![(Table::Trades, reader(vec![trades]))]).unwrap_err();
    assert!(error.message.contains("`side`: dictionary key 2 is out of range"), "{}", error.message);
}

/// A table without rows has its columns checked as a row would check them: each column a row
/// reads, removed or of another type, gives the error a table of rows with that schema gets.
#[test]
fn a_table_without_rows_has_its_columns_checked_as_rows_would() {
    let data = MarketData::from_file(&fixture("all_kinds.jsonl")).unwrap();
    let load = |table: Table, batch: RecordBatch| {
        let schema = batch.schema();
        let empty = RecordBatch::new_empty(schema.clone());
        let whole = items_from_tables(vec![(table, reader(vec![batch]))]).unwrap_err().message;
        let empty = items_from_tables(vec![(table, RecordBatchIterator::new(vec![Ok(empty)], schema.clone()))]);
        let no_batches = items_from_tables(vec![(table, RecordBatchIterator::new(vec![], schema))]);
        (whole, empty.unwrap_err().message, no_batches.unwrap_err().message)
    };
    for table in Table::ALL {
        let full = batches(&data, table, Decimals::Text).remove(0);
        for (index, field) in full.schema().fields().iter().enumerate() {
            let mut without = full.clone();
            without.remove_column(index);
            let unlike: ArrayRef = if field.data_type() == &arrow_schema::DataType::Boolean {
                std::sync::Arc::new(StringArray::from(vec!["x"; full.num_rows()]))
            } else {
                std::sync::Arc::new(arrow_array::BooleanArray::from(vec![true; full.num_rows()]))
            };
            let mut columns = full.columns().to_vec();
            columns[index] = unlike;
            let mut fields: Vec<_> = full.schema().fields().iter().cloned().collect();
            fields[index] =
                std::sync::Arc::new(arrow_schema::Field::new(field.name(), columns[index].data_type().clone(), true));
            let mistyped =
                RecordBatch::try_new(std::sync::Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap();
            for batch in [without, mistyped] {
                let (whole, empty, no_batches) = load(table, batch);
                let problem = whole.split_once(": ").expect("a row's error names it").1;
                assert_eq!(empty, format!("{} (no rows): {problem}", table.name()), "{}", field.name());
                assert_eq!(no_batches, empty);
            }
        }
        assert_eq!(items_from_tables(vec![(table, reader(vec![full.slice(0, 0)]))]).unwrap(), vec![]);
    }
}
