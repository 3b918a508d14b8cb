//! Parsing barter's two market-data file shapes with barter's own serde types.
//!
//! | shape | first non-blank byte | one item | Err items |
//! |---|---|---|---|
//! | JSON array of `MarketStreamResult` (barter's historic example) | `[` | `{"Item":{"Ok":{…}}}` | dropped, counted |
//! | JSON Lines of `MarketStreamEvent` (`MarketDataInMemory` users, the backtest bench) | `{` | `{"Item":{…}}` | cannot occur |
//!
//! `{"Reconnecting":…}` markers are kept in the event vector (the engine sees them) and counted.
//! The shape is detected, never declared: a file in one envelope does not parse as the other.

use crate::{error::Error, market_data::StreamEvent};
use barter_data::{
    event::{DataKind, MarketEvent},
    streams::{consumer::MarketStreamResult, reconnect::Event},
    subscription::book::OrderBookEvent,
};
use barter_instrument::instrument::InstrumentIndex;
use chrono::{DateTime, Utc};
use serde::{
    de::{SeqAccess, Visitor},
    Deserialize, Deserializer,
};
use std::fmt;

/// Everything one load produced: the events barter will hold, and what was left out.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Market events and reconnect markers, in file order.
    pub events: Vec<StreamEvent>,
    pub reconnects: u64,
    /// `Err` items of the array shape, dropped as barter's historic example drops them.
    pub errors_skipped: u64,
}

/// Parses `bytes` as either of barter's shapes; `source` names the input in error messages.
pub fn parse(bytes: &[u8], source: &str) -> Result<Parsed, Error> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(UTF8_BOM) {
        return Err(Error::invalid_data(format!(
            "{source}: starts with a UTF-8 byte-order mark, which JSON forbids; remove it"
        )));
    }
    let Some(start) = bytes.iter().position(|byte| !byte.is_ascii_whitespace()) else {
        return Err(Error::invalid_data(format!(
            "{source}: the input is empty: expected a JSON array of MarketStreamResult \
             or JSON Lines of MarketStreamEvent"
        )));
    };
    match bytes[start] {
        b'[' => parse_result_array(bytes, source),
        b'{' => parse_event_lines(bytes, source),
        other => {
            let (line, column) = line_and_column(bytes, start);
            Err(Error::invalid_data(format!(
                "{source}: line {line} column {column}: expected '[' (a JSON array of \
                 MarketStreamResult) or '{{' (JSON Lines of MarketStreamEvent), found {}",
                describe_byte(other)
            )))
        }
    }
}

fn parse_result_array(bytes: &[u8], source: &str) -> Result<Parsed, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = ResultArray::deserialize(&mut deserializer)
        .and_then(|array| deserializer.end().map(|()| array.0))
        .map_err(|error| json_error(source, &error, error.line()))?;
    Ok(parsed)
}

fn parse_event_lines(bytes: &[u8], source: &str) -> Result<Parsed, Error> {
    let mut parsed = Parsed::default();
    for (index, line) in bytes.split(|&byte| byte == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line_number = index + 1;
        let event: StreamEvent = serde_json::from_slice(line)
            .map_err(|error| json_error(source, &error, line_number))?;
        match &event {
            Event::Item(market_event) => check_timestamps(market_event)
                .map_err(|problem| Error::invalid_data(format!("{source}: line {line_number}: {problem}")))?,
            Event::Reconnecting(_) => parsed.reconnects += 1,
        }
        parsed.events.push(event);
    }
    Ok(parsed)
}

/// Streams the array's items straight into [`Parsed`], so no second vector of
/// `MarketStreamResult` is ever held.
struct ResultArray(Parsed);

impl<'de> Deserialize<'de> for ResultArray {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ResultArrayVisitor)
    }
}

struct ResultArrayVisitor;

impl<'de> Visitor<'de> for ResultArrayVisitor {
    type Value = ResultArray;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON array of MarketStreamResult items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<ResultArray, A::Error> {
        let mut parsed = Parsed::default();
        let mut index = 0usize;
        while let Some(item) =
            items.next_element::<MarketStreamResult<InstrumentIndex, DataKind>>()?
        {
            match item {
                Event::Item(Ok(market_event)) => {
                    check_timestamps(&market_event).map_err(|problem| {
                        serde::de::Error::custom(format!("array item {index}: {problem}"))
                    })?;
                    parsed.events.push(Event::Item(market_event));
                }
                Event::Item(Err(_)) => parsed.errors_skipped += 1,
                Event::Reconnecting(exchange) => {
                    parsed.reconnects += 1;
                    parsed.events.push(Event::Reconnecting(exchange));
                }
            }
            index += 1;
        }
        Ok(ResultArray(parsed))
    }
}

/// The earliest and latest instants that fit in `i64` nanoseconds since the Unix epoch, which is
/// how every timestamp crosses the C boundary.
pub const NANOSECOND_RANGE: &str = "1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z";

/// Rejects an event whose timestamps cannot be carried losslessly as `i64` nanoseconds.
fn check_timestamps(event: &MarketEvent<InstrumentIndex, DataKind>) -> Result<(), String> {
    let kind_time = match &event.kind {
        DataKind::Trade(_) => None,
        DataKind::OrderBookL1(l1) => Some(("last_update_time", l1.last_update_time)),
        DataKind::OrderBook(OrderBookEvent::Snapshot(book) | OrderBookEvent::Update(book)) => {
            book.time_engine().map(|time| ("time_engine", time))
        }
        DataKind::Candle(candle) => Some(("close_time", candle.close_time)),
        DataKind::Liquidation(liquidation) => Some(("time", liquidation.time)),
    };
    let named = [
        Some(("time_exchange", event.time_exchange)),
        Some(("time_received", event.time_received)),
        kind_time,
    ];
    match named.into_iter().flatten().find(|(_, time)| time.timestamp_nanos_opt().is_none()) {
        Some((field, time)) => Err(out_of_range_message(field, time)),
        None => Ok(()),
    }
}

fn out_of_range_message(field: &str, time: DateTime<Utc>) -> String {
    format!(
        "`{field}` {} is outside the range of i64 nanoseconds since the Unix epoch ({NANOSECOND_RANGE})",
        time.to_rfc3339()
    )
}

/// serde_json appends " at line L column C" relative to the slice it read; restate the position
/// relative to the file (`line` is the file's line number of that slice's position).
fn json_error(source: &str, error: &serde_json::Error, line: usize) -> Error {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let problem = full.strip_suffix(&suffix).unwrap_or(&full);
    let position = if error.line() == 0 {
        String::new()
    } else {
        format!("line {line} column {}: ", error.column())
    };
    Error::invalid_data(format!("{source}: {position}{problem}"))
}

fn line_and_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |newline| newline + 1);
    (line, offset - line_start + 1)
}

fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}'", byte as char)
    } else {
        format!("byte 0x{byte:02X}")
    }
}
