//! A line exactly as barter's recorder writes it, read only as far as a selective load decides
//! on it: the fast path of [`selective::line`](super::selective::line).
//!
//! barter writes every event with serde_json, compactly and in field order (see
//! [`canonical`]'s module doc), so its lines are fixed runs of bytes with values between them:
//!
//! ```text
//! {"Item":{"time_exchange":"T","time_received":"T","exchange":"S","instrument":N,"kind":{"K":V}}}
//! ```
//!
//! [`line_head`] compares each run whole and reads the values a selection decides on, checking
//! each as barter's types would: a timestamp in [`canonical`]'s form (its whole second read
//! once for all the events of that second), the exchange through `ExchangeId`'s own
//! `Deserialize`, the instrument as digits. Then a kept event is built by [`canonical`], and an
//! event left out is passed over ([`SkimmedLine::pass_over`]): its kind's value is checked to be
//! JSON by a pass that knows the layout of each of barter's kinds (the keys as runs of bytes,
//! strings scanned sixteen bytes at a time, numbers eight digits at a time), and, as in the
//! serde walk, what the strings and numbers hold is not checked further.
//!
//! Anything else (a blank between tokens, another key order, an escape, a timestamp in another
//! form, a value of another shape) makes it decline, and the line goes to the readers after it,
//! which read every layout. So it never reports an error, and it accepts only lines that the
//! serde walk reads to the same header and accepts alike (`tests/canonical.rs` pins that on
//! every kind's one-byte mutations).

use super::canonical::{self, EventHead};
use crate::base::event::{
    StreamEvent, TAG_CANDLE, TAG_LIQUIDATION, TAG_ORDER_BOOK_L1, TAG_ORDER_BOOK_SNAPSHOT, TAG_ORDER_BOOK_UPDATE,
    TAG_TRADE,
};
use barter_instrument::{exchange::ExchangeId, instrument::InstrumentIndex};
use chrono::{DateTime, Utc};

/// What reading a line leaves for the next, for a run of lines read in order: the whole second
/// of each time field read last (a recording holds many events a second), and the exchanges
/// read, each by its name's bytes (a recording names a few, over and over).
#[derive(Debug)]
pub struct Memo {
    time_exchange: Option<Second>,
    time_received: Option<Second>,
    exchanges: [Option<([u64; 3], ExchangeId)>; EXCHANGE_SLOTS],
}

impl Default for Memo {
    fn default() -> Self {
        Self { time_exchange: None, time_received: None, exchanges: [None; EXCHANGE_SLOTS] }
    }
}

/// A whole second's text, `YYYY-MM-DDTHH:MM:SS`, and its seconds since the Unix epoch.
type Second = ([u8; 19], i64);

/// The exchange names a [`Memo`] holds at once, by a hash of their bytes (a name whose slot
/// another took is read again): room enough that a recording's few rarely share one.
const EXCHANGE_SLOTS: usize = 128;

/// A line read up to its kind's value.
pub struct SkimmedLine<'a> {
    /// The text the line starts in, at `start`, and may run past the line's end.
    text: &'a str,
    start: usize,
    /// Where the kind's value starts (`{"id":…` of a trade, `{"Snapshot":…` of a book).
    value_at: usize,
    kind: Kind,
    pub exchange: ExchangeId,
    pub instrument: usize,
    /// `time_exchange` in nanoseconds since the Unix epoch.
    pub time_exchange_ns: i64,
    time_exchange: Timestamp,
    time_received: Timestamp,
}

/// The header of the line starting at `start` of `text`, up to its kind's value; `None` unless
/// it is in barter's exact layout, with timestamps in [`canonical`]'s form and `time_exchange`
/// within i64 nanoseconds.
pub fn line_head<'a>(text: &'a str, start: usize, memo: &mut Memo) -> Option<SkimmedLine<'a>> {
    let bytes = text.as_bytes();
    let at = literal(bytes, start, b"{\"Item\":{\"time_exchange\":\"")?;
    let (time_exchange, at) = timestamp(bytes, at, &mut memo.time_exchange)?;
    let at = literal(bytes, at, b",\"time_received\":\"")?;
    let (time_received, at) = timestamp(bytes, at, &mut memo.time_received)?;
    let at = literal(bytes, at, b",\"exchange\":\"")?;
    let (exchange, at) = memo.exchange(text, at)?;
    let at = literal(bytes, at, b",\"instrument\":")?;
    let (instrument, at) = instrument(bytes, at)?;
    let at = literal(bytes, at, b",\"kind\":{\"")?;
    let (kind, value_at) = kind(bytes, at)?;
    Some(SkimmedLine {
        text,
        start,
        value_at,
        kind,
        exchange,
        instrument,
        time_exchange_ns: time_exchange.nanoseconds()?,
        time_exchange,
        time_received,
    })
}

impl SkimmedLine<'_> {
    /// The kind's tag ([`TAG_TRADE`] …); a book's is its variant's.
    pub fn kind_tag(&self) -> u8 {
        self.kind.tag()
    }

    /// Whether the event is an order book's.
    pub fn is_book(&self) -> bool {
        matches!(self.kind, Kind::Snapshot | Kind::Update)
    }

    /// Where the line ends: its newline, or the end of the text.
    pub fn end_of_line(&self) -> usize {
        let rest = &self.text.as_bytes()[self.value_at..];
        memchr::memchr(b'\n', rest).map_or(self.text.len(), |length| self.value_at + length)
    }

    /// The whole event, as [`canonical::event_line`] reads it (or `None` where it declines),
    /// the line ending at `line_end`.
    pub fn build(self, line_end: usize) -> Option<StreamEvent> {
        let head = EventHead {
            time_exchange: self.time_exchange.date_time()?,
            time_received: self.time_received.date_time()?,
            exchange: self.exchange,
            instrument: InstrumentIndex(self.instrument),
            kind: self.kind.name(),
        };
        let line = self.text.get(self.start..line_end)?;
        canonical::event_after_head_at(line, self.value_at - self.start, head)
    }

    /// Passes over the kind's value in its kind's layout, checking it only to be JSON, and the
    /// end of the kind, the event and the envelope: where the event ends.
    pub fn pass_over(self) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let at = self.value_at;
        let end = match self.kind {
            Kind::Trade => trade_end(bytes, at),
            Kind::TopOfBook => top_of_book_end(bytes, at),
            Kind::Snapshot | Kind::Update => book_event_end(bytes, at),
            Kind::Candle => candle_end(bytes, at),
            Kind::Liquidation => liquidation_end(bytes, at),
        }?;
        literal(bytes, end, b"}}}")
    }
}

/// `DataKind`'s variants, an order book's by its own variant.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Trade,
    TopOfBook,
    Snapshot,
    Update,
    Candle,
    Liquidation,
}

impl Kind {
    fn tag(self) -> u8 {
        match self {
            Kind::Trade => TAG_TRADE,
            Kind::TopOfBook => TAG_ORDER_BOOK_L1,
            Kind::Snapshot => TAG_ORDER_BOOK_SNAPSHOT,
            Kind::Update => TAG_ORDER_BOOK_UPDATE,
            Kind::Candle => TAG_CANDLE,
            Kind::Liquidation => TAG_LIQUIDATION,
        }
    }

    /// `DataKind`'s variant name, as written.
    fn name(self) -> &'static str {
        match self {
            Kind::Trade => "Trade",
            Kind::TopOfBook => "OrderBookL1",
            Kind::Snapshot | Kind::Update => "OrderBook",
            Kind::Candle => "Candle",
            Kind::Liquidation => "Liquidation",
        }
    }
}

/// The kind's name after `{"`, its closing `":`, and where its value starts.
#[inline(always)]
fn kind(bytes: &[u8], at: usize) -> Option<(Kind, usize)> {
    match *bytes.get(at)? {
        b'T' => literal(bytes, at, b"Trade\":").map(|end| (Kind::Trade, end)),
        b'C' => literal(bytes, at, b"Candle\":").map(|end| (Kind::Candle, end)),
        b'L' => literal(bytes, at, b"Liquidation\":").map(|end| (Kind::Liquidation, end)),
        b'O' => literal(bytes, at, b"OrderBookL1\":").map(|end| (Kind::TopOfBook, end)).or_else(|| {
            let end = literal(bytes, at, b"OrderBook\":")?;
            let variant = if literal(bytes, end, b"{\"Snapshot\":").is_some() {
                Kind::Snapshot
            } else {
                literal(bytes, end, b"{\"Update\":").map(|_| Kind::Update)?
            };
            Some((variant, end))
        }),
        _ => None,
    }
}

/// A timestamp as read: seconds since the Unix epoch, and the nanosecond.
#[derive(Debug, Clone, Copy)]
struct Timestamp {
    unix: i64,
    nanosecond: u32,
}

impl Timestamp {
    /// What `DateTime::timestamp_nanos_opt` gives: the nanoseconds since the Unix epoch, if
    /// they fit in an i64.
    fn nanoseconds(self) -> Option<i64> {
        i64::try_from(i128::from(self.unix) * 1_000_000_000 + i128::from(self.nanosecond)).ok()
    }

    fn date_time(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.unix, self.nanosecond)
    }
}

/// A timestamp's text from `at` (after its opening quote) in [`canonical`]'s form, and where
/// its closing quote ends. `last` holds the field's whole second read last.
#[inline(always)]
fn timestamp(bytes: &[u8], at: usize, last: &mut Option<Second>) -> Option<(Timestamp, usize)> {
    let text: [u8; 19] = bytes.get(at..at + 19)?.try_into().ok()?;
    let unix = match *last {
        Some((last_text, unix)) if last_text == text => unix,
        _ => {
            let unix = canonical::naive_second(text)?.and_utc().timestamp();
            *last = Some((text, unix));
            unix
        }
    };
    let (nanosecond, end) = fraction(bytes, at + 19)?;
    Some((Timestamp { unix, nanosecond }, literal(bytes, end, b"\"")?))
}

/// What follows a timestamp's whole second from `at`, `Z` or `.fZ` with 1 to 9 digits: its
/// nanosecond, and where it ends. Up to eight digits are read as one word.
#[inline(always)]
fn fraction(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    match *bytes.get(at)? {
        b'Z' => Some((0, at + 1)),
        b'.' => {
            let (count, value) = canonical::leading_digits(canonical::word_at(bytes, at + 1)?);
            let (digits, value) = match count {
                0 => return None,
                8 => match bytes.get(at + 9)?.wrapping_sub(b'0') {
                    ninth @ 0..=9 => (9, value * 10 + u64::from(ninth)),
                    _ => (8, value),
                },
                _ => (count, value),
            };
            literal(bytes, at + 1 + digits, b"Z")
                .map(|end| (value as u32 * canonical::NANOSECONDS_PER_DIGIT[digits], end))
        }
        _ => None,
    }
}

impl Memo {
    /// An exchange's name from `at` of `text` (after its opening quote), as `ExchangeId`'s own
    /// `Deserialize` reads it, and where its closing quote ends. A name is looked for in two
    /// slots, where its hash points and the one beside it, so that two names of a recording
    /// whose hashes meet both stay.
    #[inline(always)]
    fn exchange(&mut self, text: &str, at: usize) -> Option<(ExchangeId, usize)> {
        let bytes = text.as_bytes();
        let length = canonical::plain_length(bytes.get(at..)?)?;
        let end = literal(bytes, at + length, b"\"")?;
        let read = || canonical::through_deserialize(text.get(at..at + length)?);
        let Some(key) = name_key(bytes, at, length) else { return Some((read()?, end)) };
        let slot = slot_of(key);
        for candidate in [slot, slot ^ 1] {
            if let Some((known, exchange)) = self.exchanges[candidate] {
                if known == key {
                    return Some((exchange, end));
                }
            }
        }
        let exchange = read()?;
        self.exchanges[slot ^ 1] = self.exchanges[slot];
        self.exchanges[slot] = Some((key, exchange));
        Some((exchange, end))
    }
}

/// A name of at most 24 bytes (barter's longest exchange name) at `at`, `length` long, as
/// three words, zero past its end (a plain string holds no zero byte, so no two names share
/// one), if 24 bytes are there to read.
#[inline(always)]
fn name_key(bytes: &[u8], at: usize, length: usize) -> Option<[u64; 3]> {
    let masks = NAME_MASKS.get(length)?;
    let chunk: &[u8; 24] = bytes.get(at..at + 24)?.try_into().ok()?;
    let word = |index: usize| u64::from_le_bytes(chunk[8 * index..8 * index + 8].try_into().unwrap_or_default());
    Some([word(0) & masks[0], word(1) & masks[1], word(2) & masks[2]])
}

/// For each length up to 24, the masks keeping that many bytes of three words.
static NAME_MASKS: [[u64; 3]; 25] = {
    let mut masks = [[0; 3]; 25];
    let mut length = 0;
    while length <= 24 {
        let mut word = 0;
        while word < 3 {
            let bytes = if length > 8 * word { length - 8 * word } else { 0 };
            masks[length][word] = if bytes >= 8 { u64::MAX } else { (1 << (8 * bytes)) - 1 };
            word += 1;
        }
        length += 1;
    }
    masks
};

/// A name's slot: the top bits of its words mixed (splitmix64's finalizer).
#[inline(always)]
fn slot_of(key: [u64; 3]) -> usize {
    let mut mixed = key[0] ^ key[1].rotate_left(21) ^ key[2].rotate_left(42);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (mixed >> (64 - EXCHANGE_SLOTS.trailing_zeros())) as usize
}

/// An instrument index: `0`, or digits not starting with `0` that fit a `usize`, and where it
/// ends.
#[inline(always)]
fn instrument(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let digit = |at: usize| bytes.get(at).map(|byte| byte.wrapping_sub(b'0')).filter(|&digit| digit < 10);
    let first = digit(at)?;
    let mut value = usize::from(first);
    let mut end = at + 1;
    if first != 0 {
        while let Some(next) = digit(end) {
            value = value.checked_mul(10)?.checked_add(usize::from(next))?;
            end += 1;
        }
    }
    Some((value, end))
}

/// `{"id":"…","price":N,"amount":N,"side":"…"}`
fn trade_end(bytes: &[u8], at: usize) -> Option<usize> {
    let at = string_end(bytes, literal(bytes, at, b"{\"id\":\"")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"price\":")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"amount\":")?)?;
    let at = string_end(bytes, literal(bytes, at, b",\"side\":\"")?)?;
    literal(bytes, at, b"}")
}

/// `{"last_update_time":"…","best_bid":L,"best_ask":L}`, each `L` a level or `null`.
fn top_of_book_end(bytes: &[u8], at: usize) -> Option<usize> {
    let at = string_end(bytes, literal(bytes, at, b"{\"last_update_time\":\"")?)?;
    let at = level_or_null_end(bytes, literal(bytes, at, b",\"best_bid\":")?)?;
    let at = level_or_null_end(bytes, literal(bytes, at, b",\"best_ask\":")?)?;
    literal(bytes, at, b"}")
}

/// `{"close_time":"…","open":N,"high":N,"low":N,"close":N,"volume":N,"trade_count":N}`
fn candle_end(bytes: &[u8], at: usize) -> Option<usize> {
    let at = string_end(bytes, literal(bytes, at, b"{\"close_time\":\"")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"open\":")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"high\":")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"low\":")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"close\":")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"volume\":")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"trade_count\":")?)?;
    literal(bytes, at, b"}")
}

/// `{"side":"…","price":N,"quantity":N,"time":"…"}`
fn liquidation_end(bytes: &[u8], at: usize) -> Option<usize> {
    let at = string_end(bytes, literal(bytes, at, b"{\"side\":\"")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"price\":")?)?;
    let at = number_end(bytes, literal(bytes, at, b",\"quantity\":")?)?;
    let at = string_end(bytes, literal(bytes, at, b",\"time\":\"")?)?;
    literal(bytes, at, b"}")
}

/// `{"Snapshot":B}` or `{"Update":B}`, where `B` is
/// `{"sequence":N,"time_engine":"…","bids":S,"asks":S}` (`time_engine` may be `null`) and each
/// `S` is `{"side":null,"levels":[…]}`.
fn book_event_end(bytes: &[u8], at: usize) -> Option<usize> {
    let at = literal(bytes, at, b"{\"Snapshot\":").or_else(|| literal(bytes, at, b"{\"Update\":"))?;
    let at = number_end(bytes, literal(bytes, at, b"{\"sequence\":")?)?;
    let at = literal(bytes, at, b",\"time_engine\":")?;
    let at = literal(bytes, at, b"null").or_else(|| string_end(bytes, literal(bytes, at, b"\"")?))?;
    let at = levels_end(bytes, literal(bytes, at, b",\"bids\":{\"side\":null,\"levels\":[")?)?;
    let at = levels_end(bytes, literal(bytes, at, b"},\"asks\":{\"side\":null,\"levels\":[")?)?;
    // The asks, the book, the variant.
    literal(bytes, at, b"}}}")
}

/// A side's levels after its `[`, and the `]`.
fn levels_end(bytes: &[u8], at: usize) -> Option<usize> {
    if let Some(end) = literal(bytes, at, b"]") {
        return Some(end);
    }
    let mut at = at;
    loop {
        at = level_end(bytes, at)?;
        match *bytes.get(at)? {
            b',' => at += 1,
            b']' => return Some(at + 1),
            _ => return None,
        }
    }
}

/// `{"price":"…","amount":"…"}`, a level: its decimals are strings.
#[inline]
fn level_end(bytes: &[u8], at: usize) -> Option<usize> {
    let at = string_end(bytes, literal(bytes, at, b"{\"price\":\"")?)?;
    let at = string_end(bytes, literal(bytes, at, b",\"amount\":\"")?)?;
    literal(bytes, at, b"}")
}

fn level_or_null_end(bytes: &[u8], at: usize) -> Option<usize> {
    literal(bytes, at, b"null").or_else(|| level_end(bytes, at))
}

/// A JSON number, or `null` (serde_json writes a NaN or infinite f64 so). A short one without
/// sign or exponent (barter's prices, amounts and counts) is read in one step where SSE2 is.
#[inline]
fn number_end(bytes: &[u8], at: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(length) =
        bytes.get(at..at + 16).and_then(|chunk| canonical::short_number_length(chunk.try_into().ok()?))
    {
        return Some(at + length);
    }
    canonical::number_end(bytes, at).or_else(|| literal(bytes, at, b"null"))
}

/// A string's content from `at` (after its opening quote), without escapes or control
/// characters, and where its closing quote ends.
#[inline(always)]
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let end = at + canonical::plain_length(bytes.get(at..)?)?;
    literal(bytes, end, b"\"")
}

/// Where `expected` ends, if `bytes` holds it at `at`: a comparison of `N` bytes known when
/// compiled, which needs no call.
#[inline(always)]
fn literal<const N: usize>(bytes: &[u8], at: usize, expected: &[u8; N]) -> Option<usize> {
    let found: &[u8; N] = bytes.get(at..at + N)?.try_into().ok()?;
    (found == expected).then_some(at + N)
}
