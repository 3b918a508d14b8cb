//! A fast reader for the market events barter itself writes, in either file shape, beside
//! serde_json.
//!
//! barter's recorder writes each event with `serde_json`, compactly and in field order:
//!
//! ```text
//! {"Item":{"time_exchange":"2024-12-20T19:05:18.175195893Z","time_received":"…","exchange":"okx",
//!  "instrument":3,"kind":{"Trade":{"id":"…","price":99175.52,"amount":1.5,"side":"Sell"}}}}
//! {"Item":{…,"kind":{"OrderBookL1":{"last_update_time":"…","best_bid":{"price":"96028.8","amount":"3.5"},"best_ask":null}}}}
//! ```
//!
//! serde_json and chrono's general RFC 3339 parser spend most of a load on such lines.
//! [`event_line`] reads exactly this layout, for every kind (JSON blanks allowed between tokens),
//! and builds barter's own structs; anything else makes it decline, and the caller parses the
//! line with barter's serde types as before. [`result_array`] reads the array shape's events
//! so, and leaves its other items to serde_json one by one. Neither reports an error: every
//! error, and every input they do not recognise, is serde_json's to judge. Books are read when
//! their bids fall and asks rise strictly, as barter keeps them (see [`book`]); selective loads
//! of arrays stay with serde_json.
//!
//! What it builds is what serde_json builds with barter's `Deserialize` impls, bit for bit:
//! - the exchange, the side, and any decimal or timestamp not in the forms below go through
//!   those very impls, fed the same string serde_json would feed them;
//! - a level's decimal of at most 18 digits with at most one point is built from its digits and
//!   its scale, which is what rust_decimal's parser makes of it;
//! - a timestamp `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` is built with chrono's own constructors, which is
//!   what chrono's parser ends with for that form;
//! - a price or amount is read only as `D+[.D+]` with at most 2^53 as its digits and at most 22
//!   of them after the point: then the significand and the power of ten are exact `f64`s, and one
//!   division is the correctly rounded value, which is what serde_json computes there too.
//!
//! `tests/canonical.rs` states the contract as one table (`the_canonical_readers_contract`:
//! inputs read, with their values, and inputs declined, with what barter's types make of them),
//! and pins the reader against serde_json (and rust_decimal and chrono) on the
//! fixtures, on thousands of one-byte mutations of barter's lines and arrays, on random prices
//! and decimal texts, and on every timestamp field's boundaries; the fuzz target
//! `chunks_match_one_pass` checks it on every input it makes.

use super::is_json_whitespace;
use crate::base::event::StreamEvent;
use barter_data::{
    books::{Level, OrderBook},
    event::{DataKind, MarketEvent},
    streams::{consumer::MarketStreamResult, reconnect::Event},
    subscription::{
        book::{OrderBookEvent, OrderBookL1},
        candle::Candle,
        liquidation::Liquidation,
        trade::PublicTrade,
    },
};
use barter_instrument::{exchange::ExchangeId, instrument::InstrumentIndex, Side};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use rust_decimal::Decimal;
use serde::{de::value::BorrowedStrDeserializer, Deserialize};
use std::{cell::Cell, cmp::Ordering};

/// The event on `line` (one line of a JSON Lines file, without its newline), if it is a market
/// event in the layout barter writes; `None` for anything else, valid or not.
pub fn event_line(line: &str) -> Option<StreamEvent> {
    event_line_head(line)?.build()
}

/// A line in barter's layout read up to its kind's value: what a selection decides on, before
/// the kind is either built ([`LineHead::build`]) or passed over ([`LineHead::skip`]).
pub fn event_line_head(line: &str) -> Option<LineHead<'_>> {
    let mut reader = Reader::new(line);
    reader.expect(b'{')?;
    reader.key(b"Item")?;
    let head = event_head(&mut reader)?;
    Some(LineHead { head, reader })
}

/// A market event's fields before its kind, and the name of the kind's variant.
#[derive(Debug, Clone, Copy)]
pub struct EventHead<'a> {
    pub time_exchange: DateTime<Utc>,
    pub time_received: DateTime<Utc>,
    pub exchange: ExchangeId,
    pub instrument: InstrumentIndex,
    /// `"Trade"`, `"OrderBook"` …, as written (not yet checked to be one of `DataKind`'s).
    pub kind: &'a str,
}

/// [`event_line_head`]'s reading: the head, and the line from the kind's value on.
pub struct LineHead<'a> {
    pub head: EventHead<'a>,
    reader: Reader<'a>,
}

impl<'a> LineHead<'a> {
    /// The whole event, as [`event_line`] reads it.
    pub fn build(mut self) -> Option<StreamEvent> {
        let event = event_after_head(self.head, &mut self.reader)?;
        self.reader.expect(b'}')?;
        self.reader.at_end().then_some(Event::Item(event))
    }

    /// Passes over the kind's value, checking it only to be JSON as serde_json checks a value
    /// it ignores (see [`Reader::skip_value`]), and reads the rest of the line.
    pub fn skip(mut self) -> Option<()> {
        self.reader.skip_value()?;
        self.close()
    }

    /// [`Self::skip`] for a kind whose value is itself an enum, `{"Variant":value}` (an order
    /// book event): the variant's name, its value checked only to be JSON.
    pub fn skip_variant(mut self) -> Option<&'a str> {
        let name = variant(&mut self.reader, |name, reader| reader.skip_value().map(|()| name))?;
        self.close().map(|()| name)
    }

    /// The end of the kind's variant, of the event and of the envelope, and nothing after them.
    fn close(&mut self) -> Option<()> {
        for _ in 0..3 {
            self.reader.expect(b'}')?;
        }
        self.reader.at_end().then_some(())
    }
}

/// The event on `line` whose head another reader read (see `skim.rs`), from its kind's value at
/// byte `at` on, as [`LineHead::build`] reads it.
pub(super) fn event_after_head_at(line: &str, at: usize, head: EventHead) -> Option<StreamEvent> {
    LineHead { head, reader: Reader { text: line, bytes: line.as_bytes(), at } }.build()
}

/// Hands `each` the items of `text`, a JSON array of `MarketStreamResult` (barter's historic
/// shape), in order: `{"Item":{"Ok":event}}` read as [`event_line`] reads an event, any other
/// item (an `Err`, a marker, another layout) by barter's serde types through serde_json. `None`
/// if the array or an item is not read so, or `each` says `None`: the caller then parses the
/// whole array with serde_json, which words the error.
pub fn result_array(
    text: &str,
    mut each: impl FnMut(MarketStreamResult<InstrumentIndex, DataKind>) -> Option<()>,
) -> Option<()> {
    let mut reader = Reader::new(text);
    reader.expect(b'[')?;
    if reader.expect(b']').is_none() {
        loop {
            each(result_item(&mut reader)?)?;
            if reader.expect(b',').is_none() {
                reader.expect(b']')?;
                break;
            }
        }
    }
    reader.at_end().then_some(())
}

fn result_item(reader: &mut Reader) -> Option<MarketStreamResult<InstrumentIndex, DataKind>> {
    let start = reader.at;
    let mut event_in_envelope = || {
        reader.expect(b'{')?;
        reader.key(b"Item")?;
        reader.expect(b'{')?;
        reader.key(b"Ok")?;
        let event = market_event(reader)?;
        reader.expect(b'}')?;
        reader.expect(b'}')?;
        Some(Event::Item(Ok(event)))
    };
    event_in_envelope().or_else(|| {
        reader.at = start;
        reader.array_item_through_serde()
    })
}

fn market_event(reader: &mut Reader) -> Option<MarketEvent<InstrumentIndex, DataKind>> {
    let head = event_head(reader)?;
    event_after_head(head, reader)
}

/// `{"time_exchange":…,"kind":{"Variant":`, leaving the reader at the kind's value.
fn event_head<'a>(reader: &mut Reader<'a>) -> Option<EventHead<'a>> {
    reader.expect(b'{')?;
    reader.key(b"time_exchange")?;
    let time_exchange = reader.timestamp()?;
    reader.next_key(b"time_received")?;
    let time_received = reader.timestamp()?;
    reader.next_key(b"exchange")?;
    let exchange = through_deserialize::<ExchangeId>(reader.string()?)?;
    reader.next_key(b"instrument")?;
    let instrument = InstrumentIndex(usize::try_from(reader.unsigned()?).ok()?);
    reader.next_key(b"kind")?;
    reader.expect(b'{')?;
    let kind = reader.string()?;
    reader.expect(b':')?;
    Some(EventHead { time_exchange, time_received, exchange, instrument, kind })
}

/// The kind's value, its variant's `}` and the event's.
fn event_after_head(head: EventHead, reader: &mut Reader) -> Option<MarketEvent<InstrumentIndex, DataKind>> {
    let EventHead { time_exchange, time_received, exchange, instrument, kind } = head;
    let kind = data_kind(kind, reader)?;
    reader.expect(b'}')?;
    reader.expect(b'}')?;
    Some(MarketEvent { time_exchange, time_received, exchange, instrument, kind })
}

/// An enum as serde writes it, `{"Variant":value}`, the value read by `read_variant`.
fn variant<'a, T>(
    reader: &mut Reader<'a>,
    read_variant: impl FnOnce(&'a str, &mut Reader<'a>) -> Option<T>,
) -> Option<T> {
    reader.expect(b'{')?;
    let name = reader.string()?;
    reader.expect(b':')?;
    let value = read_variant(name, reader)?;
    reader.expect(b'}')?;
    Some(value)
}

/// The value of `DataKind`'s variant `name`.
fn data_kind(name: &str, reader: &mut Reader) -> Option<DataKind> {
    match name {
        "Trade" => trade(reader).map(DataKind::Trade),
        "OrderBookL1" => top_of_book(reader).map(DataKind::OrderBookL1),
        "OrderBook" => book_event(reader).map(DataKind::OrderBook),
        "Candle" => candle(reader).map(DataKind::Candle),
        "Liquidation" => liquidation(reader).map(DataKind::Liquidation),
        _ => None,
    }
}

fn trade(reader: &mut Reader) -> Option<PublicTrade> {
    reader.expect(b'{')?;
    reader.key(b"id")?;
    let id = reader.string()?.to_owned();
    reader.next_key(b"price")?;
    let price = reader.float()?;
    reader.next_key(b"amount")?;
    let amount = reader.float()?;
    reader.next_key(b"side")?;
    let side = through_deserialize::<Side>(reader.string()?)?;
    reader.expect(b'}')?;
    Some(PublicTrade { id, price, amount, side })
}

fn top_of_book(reader: &mut Reader) -> Option<OrderBookL1> {
    reader.expect(b'{')?;
    reader.key(b"last_update_time")?;
    let last_update_time = reader.timestamp()?;
    reader.next_key(b"best_bid")?;
    let best_bid = optional_level(reader)?;
    reader.next_key(b"best_ask")?;
    let best_ask = optional_level(reader)?;
    reader.expect(b'}')?;
    Some(OrderBookL1 { last_update_time, best_bid, best_ask })
}

fn book_event(reader: &mut Reader) -> Option<OrderBookEvent> {
    variant(reader, |name, reader| match name {
        "Snapshot" => book(reader).map(OrderBookEvent::Snapshot),
        "Update" => book(reader).map(OrderBookEvent::Update),
        _ => None,
    })
}

/// A book whose bids fall and asks rise strictly, as barter keeps its books: [`OrderBook::new`],
/// the only way to build one outside its crate, sorts them, and only then does that leave them
/// in the order `Deserialize` keeps.
fn book(reader: &mut Reader) -> Option<OrderBook> {
    reader.expect(b'{')?;
    reader.key(b"sequence")?;
    let sequence = reader.unsigned()?;
    reader.next_key(b"time_engine")?;
    let time_engine = if reader.null() { None } else { Some(reader.timestamp()?) };
    reader.next_key(b"bids")?;
    let bids = book_side(reader, Ordering::Greater)?;
    reader.next_key(b"asks")?;
    let asks = book_side(reader, Ordering::Less)?;
    reader.expect(b'}')?;
    Some(OrderBook::new(sequence, time_engine, bids, asks))
}

/// How two levels' prices compare: as integers when they have one scale (as a book's prices
/// mostly do), which is much cheaper than aligning scales.
fn price_order(first: &Level, second: &Level) -> Ordering {
    if first.price.scale() == second.price.scale() {
        first.price.mantissa().cmp(&second.price.mantissa())
    } else {
        first.price.cmp(&second.price)
    }
}

/// `{"side":null,"levels":[…]}`: the side's tag is a unit struct, written as `null`. Each
/// level's price must stand in `order` to the one before it (see [`book`]), or the side is declined.
fn book_side(reader: &mut Reader, order: Ordering) -> Option<Vec<Level>> {
    reader.expect(b'{')?;
    reader.key(b"side")?;
    reader.null().then_some(())?;
    reader.next_key(b"levels")?;
    reader.expect(b'[')?;
    let mut levels = Vec::with_capacity(reader.objects_in_array());
    if reader.peek()? == b']' {
        reader.at += 1;
    } else {
        loop {
            let level = level(reader)?;
            if levels.last().is_some_and(|last| price_order(last, &level) != order) {
                return None;
            }
            levels.push(level);
            if reader.expect(b',').is_none() {
                reader.expect(b']')?;
                break;
            }
        }
    }
    reader.expect(b'}')?;
    Some(levels)
}

fn candle(reader: &mut Reader) -> Option<Candle> {
    reader.expect(b'{')?;
    reader.key(b"close_time")?;
    let close_time = reader.timestamp()?;
    reader.next_key(b"open")?;
    let open = reader.float()?;
    reader.next_key(b"high")?;
    let high = reader.float()?;
    reader.next_key(b"low")?;
    let low = reader.float()?;
    reader.next_key(b"close")?;
    let close = reader.float()?;
    reader.next_key(b"volume")?;
    let volume = reader.float()?;
    reader.next_key(b"trade_count")?;
    let trade_count = reader.unsigned()?;
    reader.expect(b'}')?;
    Some(Candle { close_time, open, high, low, close, volume, trade_count })
}

fn liquidation(reader: &mut Reader) -> Option<Liquidation> {
    reader.expect(b'{')?;
    reader.key(b"side")?;
    let side = through_deserialize::<Side>(reader.string()?)?;
    reader.next_key(b"price")?;
    let price = reader.float()?;
    reader.next_key(b"quantity")?;
    let quantity = reader.float()?;
    reader.next_key(b"time")?;
    let time = reader.timestamp()?;
    reader.expect(b'}')?;
    Some(Liquidation { side, price, quantity, time })
}

/// `Some(None)` for `null`, `Some(Some(level))` for a level, `None` to decline.
fn optional_level(reader: &mut Reader) -> Option<Option<Level>> {
    if reader.null() {
        return Some(None);
    }
    level(reader).map(Some)
}

fn level(reader: &mut Reader) -> Option<Level> {
    reader.expect(b'{')?;
    reader.key(b"price")?;
    let price = reader.decimal()?;
    reader.next_key(b"amount")?;
    let amount = reader.decimal()?;
    reader.expect(b'}')?;
    Some(Level { price, amount })
}

/// A value built by its type's own `Deserialize` from a JSON string's content, as serde_json
/// hands it over for a string without escapes (a borrowed `&str`).
pub(super) fn through_deserialize<'de, T: Deserialize<'de>>(text: &'de str) -> Option<T> {
    T::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(text)).ok()
}

/// The largest count of digits an `i64` always holds.
const I64_DIGITS: usize = 18;

/// `D+[.D+]` with at most 18 digits, built from its digits and scale, which is what
/// rust_decimal's parser makes of it (trailing zeros kept in the scale); `None` for any other
/// text.
pub fn plain_decimal(text: &str) -> Option<Decimal> {
    plain_decimal_prefix(text.as_bytes()).and_then(|(decimal, length)| (length == text.len()).then_some(decimal))
}

/// The longest `D+[.D+]` `bytes` start with, and its length; `None` if it has more than 18
/// digits, or a point with no digit after it.
fn plain_decimal_prefix(bytes: &[u8]) -> Option<(Decimal, usize)> {
    plain_decimal_in_two_words(bytes).or_else(|| plain_decimal_of_any_length(bytes))
}

/// [`plain_decimal_prefix`] for the common shape, at most 7 whole digits and 8 of fraction (a
/// price or an amount), read in two eight-byte steps; `None` leaves any other text to
/// [`plain_decimal_of_any_length`].
fn plain_decimal_in_two_words(bytes: &[u8]) -> Option<(Decimal, usize)> {
    let (whole, whole_value) = leading_digits(word_at(bytes, 0)?);
    if whole == 0 || whole == 8 {
        return None;
    }
    if bytes[whole] != b'.' {
        return Some((Decimal::new(whole_value as i64, 0), whole));
    }
    let (fraction, fraction_value) = leading_digits(word_at(bytes, whole + 1)?);
    let end = whole + 1 + fraction;
    if fraction == 0 || (fraction == 8 && bytes.get(end).is_some_and(u8::is_ascii_digit)) {
        return None;
    }
    let mantissa = whole_value as i64 * POW10_I64[fraction] + fraction_value as i64;
    Some((Decimal::new(mantissa, fraction as u32), end))
}

/// [`plain_decimal_prefix`] for digit runs of any length.
fn plain_decimal_of_any_length(bytes: &[u8]) -> Option<(Decimal, usize)> {
    // Wrapping: a value with more digits than an i64 holds is refused below, whatever it wrapped to.
    let mut mantissa = 0i64;
    let mut digits_until = |mut at: usize| {
        // Eight bytes at a time while eight follow: a price's whole part or fraction in one step.
        while let Some(word) = word_at(bytes, at) {
            let (count, value) = leading_digits(word);
            mantissa = mantissa.wrapping_mul(POW10_I64[count]).wrapping_add(value as i64);
            at += count;
            if count < 8 {
                return at;
            }
        }
        while let Some(&digit) = bytes.get(at).filter(|byte| byte.is_ascii_digit()) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(i64::from(digit - b'0'));
            at += 1;
        }
        at
    };
    let whole = digits_until(0);
    let (length, scale) = match bytes.get(whole) {
        Some(b'.') => {
            let end = digits_until(whole + 1);
            (end, end - whole - 1)
        }
        _ => (whole, 0),
    };
    let point_without_digits = length == whole + 1;
    if whole == 0 || point_without_digits || whole + scale > I64_DIGITS {
        return None;
    }
    Some((Decimal::new(mantissa, scale as u32), length))
}

/// The eight bytes of `bytes` from `at` as one little-endian word (its first byte the lowest),
/// if eight are there.
#[inline]
pub(super) fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at.checked_add(8)?).and_then(|chunk| chunk.try_into().ok()).map(u64::from_le_bytes)
}

/// A one in every byte of a word, and each byte's high bit: the masks of the eight-bytes-at-a-time
/// scans below.
const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH_BITS: u64 = ONES << 7;

/// Powers of ten up to the eighth, for appending up to eight digits.
const POW10_I64: [i64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// How many ASCII digits an eight-byte word starts with (its first byte the lowest), and the
/// number they spell.
#[inline]
pub(super) fn leading_digits(word: u64) -> (usize, u64) {
    let values = word.wrapping_sub(ONES * u64::from(b'0'));
    let count = digit_count(word);
    if count == 0 {
        return (0, 0);
    }
    // The digits moved to the top bytes, zeros (leading zeros) below them; then neighbours
    // combine into 2, 4, then 8 digits.
    let digits = values << (8 * (8 - count));
    let pairs = (digits.wrapping_mul(10) + (digits >> 8)) & 0x00FF_00FF_00FF_00FF;
    let quads = (pairs.wrapping_mul((100 << 16) + 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    (count, quads.wrapping_mul((10_000 << 32) + 1) >> 32)
}

/// How many ASCII digits an eight-byte word starts with (its first byte the lowest).
#[inline]
pub(super) fn digit_count(word: u64) -> usize {
    let values = word.wrapping_sub(ONES * u64::from(b'0'));
    // A byte below '0' sets its high bit; one above '9' has it, or gets it from adding 0x76.
    // Borrows and carries only pass up, into bytes after the first non-digit: it is found exactly.
    let non_digits = (values | values.wrapping_add(ONES * 0x76)) & HIGH_BITS;
    (non_digits.trailing_zeros() / 8) as usize
}

/// How many ASCII digits `bytes` holds from `at` on, counted eight at a time.
#[inline]
fn digit_run(bytes: &[u8], at: usize) -> usize {
    let mut end = at;
    while let Some(word) = word_at(bytes, end) {
        let count = digit_count(word);
        end += count;
        if count < 8 {
            return end - at;
        }
    }
    end + bytes[end..].iter().take_while(|byte| byte.is_ascii_digit()).count() - at
}

/// Where the JSON number starting at `at` ends, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
/// (of any length, as serde_json passes over it); `None` if none starts there.
#[inline]
pub(super) fn number_end(bytes: &[u8], at: usize) -> Option<usize> {
    let whole_at = at + usize::from(bytes.get(at) == Some(&b'-'));
    let whole = digit_run(bytes, whole_at);
    if whole == 0 || (whole > 1 && bytes[whole_at] == b'0') {
        return None;
    }
    let mut end = whole_at + whole;
    if bytes.get(end) == Some(&b'.') {
        let fraction = digit_run(bytes, end + 1);
        if fraction == 0 {
            return None;
        }
        end += 1 + fraction;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        end += 1 + usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        let exponent = digit_run(bytes, end);
        if exponent == 0 {
            return None;
        }
        end += exponent;
    }
    Some(end)
}

/// `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.fZ` with 1 to 9 digits of fraction; `None`
/// for any other text, and for a date or time that does not exist (chrono's parser then
/// decides, and fails or reads a leap second as it does).
pub fn utc_timestamp(text: &str) -> Option<DateTime<Utc>> {
    utc_timestamp_prefix(text.as_bytes()).and_then(|(time, length)| (length == text.len()).then_some(time))
}

/// The timestamp `bytes` start with, in [`utc_timestamp`]'s form, and its length. Every byte
/// of it is checked, so in a line it needs no search for its closing quote.
fn utc_timestamp_prefix(bytes: &[u8]) -> Option<(DateTime<Utc>, usize)> {
    let second = whole_second(bytes.get(..19)?.try_into().ok()?)?;
    let (nanosecond, length) = second_fraction(&bytes[19..])?;
    Some((second.with_nanosecond(nanosecond)?.and_utc(), 19 + length))
}

/// What follows a timestamp's whole second in [`utc_timestamp`]'s form, `Z` or `.fZ` with 1 to
/// 9 digits of fraction: the nanosecond, and its length.
pub(super) fn second_fraction(bytes: &[u8]) -> Option<(u32, usize)> {
    match bytes.first()? {
        b'Z' => Some((0, 1)),
        b'.' => {
            let (digits, value) = fraction_digits(&bytes[1..]);
            (bytes.get(1 + digits) == Some(&b'Z') && (1..=9).contains(&digits))
                .then(|| (value * NANOSECONDS_PER_DIGIT[digits], 2 + digits))
        }
        _ => None,
    }
}

thread_local! {
    /// The `YYYY-MM-DDTHH:MM:SS` last read, and its time: a recording holds many events a second.
    static LAST_SECOND: Cell<Option<([u8; 19], NaiveDateTime)>> = const { Cell::new(None) };
}

/// [`naive_second`], the one read last on this thread remembered.
fn whole_second(text: [u8; 19]) -> Option<NaiveDateTime> {
    if let Some((last_text, last_second)) = LAST_SECOND.get() {
        if last_text == text {
            return Some(last_second);
        }
    }
    let second = naive_second(text)?;
    LAST_SECOND.set(Some((text, second)));
    Some(second)
}

/// `YYYY-MM-DDTHH:MM:SS`, if that time exists.
pub(super) fn naive_second(text: [u8; 19]) -> Option<NaiveDateTime> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', n0, n1, b':', s0, s1] = text else {
        return None;
    };
    let year = two_digits(y0, y1)? * 100 + two_digits(y2, y3)?;
    let date = NaiveDate::from_ymd_opt(year as i32, two_digits(m0, m1)?, two_digits(d0, d1)?)?;
    date.and_hms_opt(two_digits(h0, h1)?, two_digits(n0, n1)?, two_digits(s0, s1)?)
}

/// Two ASCII digits' value.
fn two_digits(tens: u8, ones: u8) -> Option<u32> {
    let (tens, ones) = (tens.wrapping_sub(b'0'), ones.wrapping_sub(b'0'));
    (tens < 10 && ones < 10).then(|| u32::from(tens) * 10 + u32::from(ones))
}

/// How many digits `bytes` start with, counting up to ten (a tenth marks a fraction too long
/// for [`utc_timestamp`]'s form, left to chrono's parser), and the value of the first nine.
fn fraction_digits(bytes: &[u8]) -> (usize, u32) {
    let Some(word) = word_at(bytes, 0) else {
        let count = bytes.iter().take_while(|byte| byte.is_ascii_digit()).count();
        let value = bytes[..count].iter().fold(0, |value, digit| value * 10 + u32::from(digit - b'0'));
        return (count, value);
    };
    let (count, value) = leading_digits(word);
    let digit = |at: usize| bytes.get(at).map(|byte| byte.wrapping_sub(b'0')).filter(|&digit| digit < 10);
    match (count, digit(8), digit(9)) {
        (8, Some(ninth), None) => (9, value as u32 * 10 + u32::from(ninth)),
        (8, Some(_), Some(_)) => (10, 0),
        _ => (count, value as u32),
    }
}

/// What the last of `n` digits of a second's fraction counts, in nanoseconds.
pub(super) const NANOSECONDS_PER_DIGIT: [u32; 10] =
    [0, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

/// Where the first byte that ends a plain string lies (see [`ENDS_PLAIN_STRING`]): sixteen bytes
/// at a time where SSE2 is (every x86_64), then eight at a time, then one.
#[inline]
pub(super) fn plain_length(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = bytes.get(at..at + 16) {
        let ends = plain_string_ends_sse2(chunk.try_into().ok()?);
        if ends != 0 {
            return Some(at + ends.trailing_zeros() as usize);
        }
        at += 16;
    }
    // The high bit of each byte that is zero, or below `limit`: exact for the first such byte,
    // as a borrow only carries from one, up.
    let below = |word: u64, limit: u8| word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGH_BITS;
    while let Some(word) = word_at(bytes, at) {
        let ends =
            below(word ^ (ONES * u64::from(b'"')), 1) | below(word ^ (ONES * u64::from(b'\\')), 1) | below(word, 0x20);
        if ends != 0 {
            return Some(at + (ends.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&byte| ENDS_PLAIN_STRING[usize::from(byte)]).map(|length| at + length)
}

/// A bit for each byte of `chunk` that ends a plain string (see [`ENDS_PLAIN_STRING`]), the
/// first byte's lowest.
#[cfg(target_arch = "x86_64")]
#[inline]
fn plain_string_ends_sse2(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of x86_64's baseline, so every x86_64 CPU runs these instructions;
    // the unaligned load reads the 16 bytes of `chunk` and no others.
    unsafe {
        let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
        let quotes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
        let backslashes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
        // A byte below 0x20, unsigned, is one whose unsigned maximum with 0x1F is 0x1F.
        let controls = _mm_cmpeq_epi8(_mm_max_epu8(bytes, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quotes, backslashes), controls)) as u32
    }
}

/// The bytes a string without escapes ends at: its closing quote, or what makes it not plain (a
/// backslash, or a control character, which JSON refuses raw).
static ENDS_PLAIN_STRING: [bool; 256] = {
    let mut ends = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        ends[byte] = true;
        byte += 1;
    }
    ends[b'"' as usize] = true;
    ends[b'\\' as usize] = true;
    ends
};

/// The length of the JSON number `chunk` starts with, if it is `D+` or `D+.D+` (no sign, no
/// exponent) and ends within `chunk`; `None` for any other (which [`number_end`] reads).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn short_number_length(chunk: &[u8; 16]) -> Option<usize> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_set1_epi8, _mm_sub_epi8,
    };
    // SAFETY: SSE2 is part of x86_64's baseline, so every x86_64 CPU runs these instructions;
    // the unaligned load reads the 16 bytes of `chunk` and no others.
    let digits = unsafe {
        let values = _mm_sub_epi8(_mm_loadu_si128(chunk.as_ptr().cast()), _mm_set1_epi8(b'0' as i8));
        // A digit's value is at most 9, unsigned: its unsigned minimum with 9 is itself.
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values)) as u32
    };
    let whole = (!digits).trailing_zeros() as usize;
    if whole == 0 || whole == 16 || (whole > 1 && chunk[0] == b'0') {
        return None;
    }
    let end = if chunk[whole] == b'.' {
        let fraction = (!(digits >> (whole + 1))).trailing_zeros() as usize;
        if fraction == 0 {
            return None;
        }
        whole + 1 + fraction
    } else {
        whole
    };
    (end < 16 && !matches!(chunk[end], b'.' | b'e' | b'E')).then_some(end)
}

/// Exact powers of ten as `f64`: every one up to 10^22 is representable.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// The largest significand every `f64` below it holds exactly.
const EXACT_SIGNIFICAND: u64 = 1 << 53;

/// A cursor over one line: each method skips JSON blanks, then reads one token or declines.
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, bytes: text.as_bytes(), at: 0 }
    }

    fn skip_blanks(&mut self) {
        while self.bytes.get(self.at).is_some_and(|&byte| is_json_whitespace(byte)) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_blanks();
        self.bytes.get(self.at).copied()
    }

    /// (barter writes no blanks: the byte is looked for first where it most likely is.)
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.expect_here(byte).or_else(|| {
            self.skip_blanks();
            self.expect_here(byte)
        })
    }

    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// `"name":`, compared in place: the key is exactly `name` when `name` and a quote follow
    /// its opening quote, as `name` holds no quote or backslash.
    /// (A name of known length compares without a call to `memcmp`.)
    fn key<const N: usize>(&mut self, name: &[u8; N]) -> Option<()> {
        self.expect(b'"')?;
        let quoted = self.bytes.get(self.at..self.at + N + 1)?;
        (quoted[..N] == name[..] && quoted[N] == b'"').then(|| self.at += N + 1)?;
        self.expect(b':')
    }

    /// `,"name":`: the next field of an object read in barter's field order.
    fn next_key<const N: usize>(&mut self, name: &[u8; N]) -> Option<()> {
        self.expect(b',')?;
        self.key(name)
    }

    fn null(&mut self) -> bool {
        let is_null = self.peek() == Some(b'n') && self.bytes[self.at..].starts_with(b"null");
        if is_null {
            self.at += 4;
        }
        is_null
    }

    /// How many objects the array just opened seems to hold, to size a vector once: the `{`
    /// before the next `]` (a guess, if a string holds either).
    fn objects_in_array(&self) -> usize {
        let rest = &self.bytes[self.at..];
        let end = memchr::memchr(b']', rest).unwrap_or(rest.len());
        memchr::memchr_iter(b'{', &rest[..end]).count()
    }

    /// A string's content, if it has no escapes and no control characters (serde_json rejects
    /// those raw; escapes it unescapes, and that is left to it). The line is a `str` and a `"`
    /// is ASCII, so the content is on character boundaries.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let length = plain_length(&self.bytes[start..])?;
        self.at = start + length;
        self.expect_here(b'"')?;
        Some(&self.text[start..start + length])
    }

    /// A decimal string: the plain form read in place, any other through rust_decimal's
    /// `Deserialize`.
    fn decimal(&mut self) -> Option<Decimal> {
        self.string_read_in_place(plain_decimal_prefix)
    }

    /// A timestamp string: the common form read in place, any other through chrono's
    /// `Deserialize`.
    fn timestamp(&mut self) -> Option<DateTime<Utc>> {
        self.string_read_in_place(utc_timestamp_prefix)
    }

    /// A string whose whole content `read_prefix` reads (it checks every byte it takes, so no
    /// search for the closing quote is needed); any other content through `T`'s `Deserialize`.
    fn string_read_in_place<T: Deserialize<'a>>(
        &mut self,
        read_prefix: impl FnOnce(&[u8]) -> Option<(T, usize)>,
    ) -> Option<T> {
        self.expect(b'"')?;
        let start = self.at;
        match read_prefix(&self.bytes[start..]).filter(|&(_, length)| self.bytes.get(start + length) == Some(&b'"')) {
            Some((value, length)) => {
                self.at = start + length + 1;
                Some(value)
            }
            None => {
                self.at = start - 1;
                through_deserialize(self.string()?)
            }
        }
    }

    /// The next value, an item of an array, read by its type's `Deserialize` through
    /// serde_json as it reads it inside the array. (It refuses a 128th level of nesting, which
    /// it would count from the array's level; but barter's items nest a few levels only, and
    /// what it skips it skips without that limit.)
    fn array_item_through_serde<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let mut values = serde_json::Deserializer::from_str(&self.text[self.at..]).into_iter::<T>();
        let value = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(value)
    }

    /// Passes over one JSON value, accepting only what serde_json accepts where it ignores a
    /// value (`IgnoredAny`, as a selective load reads a kind it leaves out): brackets matched,
    /// keys strings, commas between items and none after the last, literals spelled out, numbers
    /// in JSON's grammar, strings closed and free of control characters. It declines (and
    /// serde_json then judges) a string with an escape and nesting deeper than 64 levels, which
    /// barter's values never hold.
    fn skip_value(&mut self) -> Option<()> {
        // One bit a level, innermost lowest: 1 for an object, 0 for an array.
        let (mut objects, mut depth) = (0u64, 0u32);
        loop {
            match self.peek()? {
                open @ (b'{' | b'[') => {
                    self.at += 1;
                    let is_object = open == b'{';
                    if self.expect(if is_object { b'}' } else { b']' }).is_none() {
                        if depth == u64::BITS {
                            return None;
                        }
                        (objects, depth) = (objects << 1 | u64::from(is_object), depth + 1);
                        if is_object {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                b'"' => self.skip_string()?,
                b'n' => self.skip_literal(b"null")?,
                b't' => self.skip_literal(b"true")?,
                b'f' => self.skip_literal(b"false")?,
                _ => self.skip_number()?,
            }
            // After a value: close what ends here, then a comma leads to the next value.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let in_object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if in_object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return None,
                }
                self.at += 1;
                (objects, depth) = (objects >> 1, depth - 1);
            }
        }
    }

    /// `"key":` of an object whose value is being skipped.
    fn skip_key(&mut self) -> Option<()> {
        self.skip_string()?;
        self.expect(b':')
    }

    /// A string without escapes or control characters, as [`Self::string`] reads it.
    fn skip_string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        self.at += plain_length(&self.bytes[self.at..])?;
        self.expect_here(b'"')
    }

    fn skip_literal(&mut self, literal: &[u8]) -> Option<()> {
        self.bytes[self.at..].starts_with(literal).then(|| self.at += literal.len())
    }

    /// A JSON number (see [`number_end`]).
    fn skip_number(&mut self) -> Option<()> {
        self.at = number_end(self.bytes, self.at)?;
        Some(())
    }

    fn expect_here(&mut self, byte: u8) -> Option<()> {
        (self.bytes.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// Digits: `0`, or a run not starting with `0`, with the count of digits read.
    fn digits(&mut self, mut value: u64) -> Option<(u64, usize)> {
        let start = self.at;
        while let Some(&digit) = self.bytes.get(self.at).filter(|byte| byte.is_ascii_digit()) {
            value = value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
            self.at += 1;
        }
        Some((value, self.at - start))
    }

    /// A JSON integer without sign, fraction or exponent.
    fn unsigned(&mut self) -> Option<u64> {
        let value = self.unsigned_part()?;
        (!matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E'))).then_some(value)
    }

    /// A JSON number `D+[.D+]` (no sign, no exponent) whose value one exact division gives.
    fn float(&mut self) -> Option<f64> {
        let mut significand = self.unsigned_part()?;
        let mut fraction_digits = 0;
        if self.expect_here(b'.').is_some() {
            (significand, fraction_digits) = self.digits(significand)?;
            if fraction_digits == 0 {
                return None;
            }
        }
        let number_ends = !matches!(self.bytes.get(self.at), Some(b'e' | b'E'));
        (number_ends && significand <= EXACT_SIGNIFICAND)
            .then(|| POW10.get(fraction_digits).map(|power| significand as f64 / power))?
    }

    /// The integer part of a number: [`Self::unsigned`] but leaving a `.` to the caller.
    fn unsigned_part(&mut self) -> Option<u64> {
        self.skip_blanks();
        let first = *self.bytes.get(self.at)?;
        let (value, count) = self.digits(0)?;
        (count > 0 && (first != b'0' || count == 1)).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every position of the first two words and the tail, behind any
    /// prefix of ordinary text (ASCII and UTF-8's high bytes): the first end is found exactly.
    #[test]
    fn a_plain_string_ends_at_its_first_quote_backslash_or_control_byte() {
        for length in 0..24 {
            for filler in [b'a', 0x80, 0xFF, b'!', b'#', b'[', b']', 0x7F] {
                for stop in 0..=255u8 {
                    let mut text = vec![filler; length];
                    text.push(stop);
                    text.extend_from_slice(b"xyz\"more");
                    let expected = text.iter().position(|&byte| ENDS_PLAIN_STRING[usize::from(byte)]);
                    assert_eq!(plain_length(&text), expected, "{text:?}");
                }
            }
        }
    }

    /// Wherever the two-word decimal reader accepts, it reads what the general one reads: digit
    /// runs of every length (zeros leading and inside) around a point or none, followed by what
    /// follows a decimal in a line, by more digits, or by nothing.
    #[test]
    fn the_two_word_decimal_reader_reads_what_the_general_one_reads() {
        let parts =
            |read: Option<(Decimal, usize)>| read.map(|(value, length)| (value.mantissa(), value.scale(), length));
        let mut accepted = 0;
        for whole in 0..=10 {
            for fraction in (0..=10).map(Some).chain([None]) {
                for follower in ["\"}", "\"},\"amount\":\"1.5\"}}}}", "7\"}}}}}}}}}}", ".5\"}}}}}}}", "x", ""] {
                    let mut text = "0010234567"[..whole].to_string();
                    if let Some(fraction) = fraction {
                        text = format!("{text}.{}", &"9080706050"[..fraction]);
                    }
                    text.push_str(follower);
                    if let Some(read) = plain_decimal_in_two_words(text.as_bytes()) {
                        assert_eq!(parts(Some(read)), parts(plain_decimal_of_any_length(text.as_bytes())), "{text}");
                        accepted += 1;
                    }
                }
            }
        }
        assert!(accepted > 200, "{accepted}");
    }

    /// Every byte value at every place after every run of digits: the run's length exactly, and
    /// the number it spells, whatever follows it.
    #[test]
    fn leading_digits_are_counted_and_read_exactly() {
        for run in 0..8 {
            for byte in 0..=255u8 {
                for after in [*b"00000000", *b"99999999", *b"////////", *b"::::::::", [0xFF; 8], [0; 8]] {
                    let mut chunk = after;
                    chunk[..run].copy_from_slice(&b"90817263"[..run]);
                    chunk[run] = byte;
                    let count = chunk.iter().take_while(|byte| byte.is_ascii_digit()).count();
                    let value = std::str::from_utf8(&chunk[..count]).unwrap().parse::<u64>().unwrap_or(0);
                    assert_eq!(leading_digits(u64::from_le_bytes(chunk)), (count, value), "{chunk:?}");
                }
            }
        }
        assert_eq!(leading_digits(u64::from_le_bytes(*b"99999999")), (8, 99_999_999));
        assert_eq!(leading_digits(u64::from_le_bytes(*b"00000000")), (8, 0));
    }
}
