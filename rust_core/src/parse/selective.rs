//! Reading one item for a load that keeps only some events: in one pass, an event the selector
//! keeps is built with barter's types, and one it leaves out is read only as far as its header.
//!
//! `MarketEvent`'s derived `Deserialize` cannot stop halfway, so the event's map is walked here,
//! field by field, as that derive walks it (the same field names, unknown fields ignored, a
//! duplicate or missing field refused), each field read by barter's own type for it. The kind
//! comes last in barter's files, when the header is known: a kept kind is then built by
//! `DataKind`'s own variants, a left-out one is only checked to be JSON. A kind that comes
//! before the header is built, and the choice made at the end.
//!
//! Where this reading and barter's could differ (an event written as a JSON array, which
//! barter's derive also reads), this one fails, and the load then parses the whole input with
//! barter's types (see `data_set::select::load_file`), so a selective load never accepts or refuses what
//! barter would not, except for what lies inside events it leaves out.
//!
//! A line in barter's own layout is read first by [`skim`], as its recorder writes it byte for
//! byte: its header, then its kind built if kept, or passed over if not by a pass that knows
//! each kind's layout. A line with blanks or another layout goes to the canonical reader
//! ([`canonical`]): its header, then its kind built or passed over by a structural scan. Both
//! accept only what this walk's `IgnoredAny` accepts (and decline escapes and deep nesting);
//! the walk reads the lines they decline, and so words every error.

use super::{canonical, is_json_whitespace, skim};
use crate::base::event::{
    kind_tag, StreamEvent, TAG_CANDLE, TAG_LIQUIDATION, TAG_ORDER_BOOK_L1, TAG_ORDER_BOOK_SNAPSHOT,
    TAG_ORDER_BOOK_UPDATE, TAG_TRADE,
};
use barter_data::{
    error::DataError,
    event::{DataKind, MarketEvent},
    streams::{consumer::MarketStreamResult, reconnect::Event},
    subscription::book::OrderBookEvent,
};
use barter_instrument::{exchange::ExchangeId, instrument::InstrumentIndex};
use chrono::{DateTime, Utc};
use serde::{
    de::{self, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, VariantAccess, Visitor},
    Deserialize, Deserializer,
};
use std::fmt;

/// What a selection is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    /// The kind's tag ([`TAG_TRADE`] …).
    pub kind_tag: u8,
    pub exchange: ExchangeId,
    pub instrument: usize,
    /// `time_exchange` in nanoseconds since the Unix epoch.
    pub time_exchange_ns: i64,
}

impl EventHeader {
    fn with_kind(self, kind_tag: u8) -> Self {
        Self { kind_tag, ..self }
    }
}

/// Which market events a load or a filter keeps; `None` keeps everything on that axis. A
/// selective load asks it of every event it reads, so each axis is held as it is checked
/// fastest: kinds and exchanges as bit sets, instruments sorted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// Kind tags ([`TAG_TRADE`] …) to keep.
    pub kinds: Option<ByteSet>,
    pub exchanges: Option<ExchangeSet>,
    pub instruments: Option<InstrumentSet>,
    /// `time_exchange` at or after this, in nanoseconds since the Unix epoch.
    pub start_ns: Option<i64>,
    /// `time_exchange` strictly before this.
    pub end_ns: Option<i64>,
}

impl EventFilter {
    fn in_window(&self, nanos: i64) -> bool {
        self.start_ns.is_none_or(|start| nanos >= start) && self.end_ns.is_none_or(|end| nanos < end)
    }

    pub fn keeps_exchange(&self, exchange: ExchangeId) -> bool {
        self.exchanges.as_ref().is_none_or(|set| set.contains(exchange))
    }

    /// A market event by every axis, from its header alone: what a selective load decides on.
    pub fn keeps_event(&self, header: &EventHeader) -> bool {
        self.kinds.is_none_or(|kinds| kinds.contains(header.kind_tag))
            && self.keeps_exchange(header.exchange)
            && self.instruments.as_ref().is_none_or(|set| set.contains(header.instrument))
            && self.in_window(header.time_exchange_ns)
    }

    /// A reconnect marker, by its exchange and its time (that of the market event it belongs to).
    pub fn keeps_marker(&self, exchange: ExchangeId, time: i64) -> bool {
        self.keeps_exchange(exchange) && self.in_window(time)
    }

    /// Whether it keeps events by their time.
    pub fn has_window(&self) -> bool {
        self.start_ns.is_some() || self.end_ns.is_some()
    }

    /// Whether every item passes: then a load needs no selection at all.
    pub fn keeps_everything(&self) -> bool {
        self.kinds.is_none() && self.exchanges.is_none() && self.instruments.is_none() && !self.has_window()
    }
}

/// A set of byte values, a bit each.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    pub fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte >> 6)] >> (byte & 63) & 1 == 1
    }
}

impl FromIterator<u8> for ByteSet {
    fn from_iter<I: IntoIterator<Item = u8>>(bytes: I) -> Self {
        let mut set = Self::default();
        for byte in bytes {
            set.0[usize::from(byte >> 6)] |= 1 << (byte & 63);
        }
        set
    }
}

impl<const N: usize> From<[u8; N]> for ByteSet {
    fn from(bytes: [u8; N]) -> Self {
        bytes.into_iter().collect()
    }
}

/// A set of exchanges: a [`ByteSet`] of `ExchangeId`'s discriminants (a fieldless enum, of 42
/// variants in barter-instrument 0.3).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeSet(ByteSet);

impl ExchangeSet {
    pub fn contains(&self, exchange: ExchangeId) -> bool {
        self.0.contains(exchange as u8)
    }
}

impl FromIterator<ExchangeId> for ExchangeSet {
    fn from_iter<I: IntoIterator<Item = ExchangeId>>(exchanges: I) -> Self {
        Self(exchanges.into_iter().map(|exchange| exchange as u8).collect())
    }
}

impl<const N: usize> From<[ExchangeId; N]> for ExchangeSet {
    fn from(exchanges: [ExchangeId; N]) -> Self {
        exchanges.into_iter().collect()
    }
}

/// A set of instrument indices, sorted for a binary search (a selection names a few).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InstrumentSet(Box<[usize]>);

impl InstrumentSet {
    pub fn contains(&self, instrument: usize) -> bool {
        self.0.binary_search(&instrument).is_ok()
    }
}

impl FromIterator<usize> for InstrumentSet {
    fn from_iter<I: IntoIterator<Item = usize>>(instruments: I) -> Self {
        let mut sorted: Vec<usize> = instruments.into_iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        Self(sorted.into_boxed_slice())
    }
}

impl<const N: usize> From<[usize; N]> for InstrumentSet {
    fn from(instruments: [usize; N]) -> Self {
        instruments.into_iter().collect()
    }
}

/// What a selective load keeps: what it does not keep it never builds (see
/// [`load::parse_selected`](super::load::parse_selected)).
pub type Selector<'a> = &'a EventFilter;

/// One item of a selective load.
#[derive(Debug)]
pub enum Selected<T> {
    /// What a whole load builds: a kept event, a marker, or (array shape) an `Err` item.
    Built(T),
    /// A market event the selector left out.
    Skipped(EventHeader),
}

impl<T> Selected<T> {
    fn map<U>(self, build: impl FnOnce(T) -> U) -> Selected<U> {
        match self {
            Selected::Built(item) => Selected::Built(build(item)),
            Selected::Skipped(header) => Selected::Skipped(header),
        }
    }
}

type Market = MarketEvent<InstrumentIndex, DataKind>;

/// A JSON Lines line: a `MarketStreamEvent`. `memo` carries what one line's reading leaves for
/// the next (see [`skim::Memo`]): one for the lines of a piece, in order.
pub fn line(text: &str, keep: Selector, memo: &mut skim::Memo) -> serde_json::Result<Selected<StreamEvent>> {
    if let Some(selected) = skimmed_line(text, keep, memo).or_else(|| canonical_line(text, keep)) {
        return Ok(selected);
    }
    walked_line(text, keep)
}

/// A line exactly as barter's recorder writes it, read by [`skimmed_at`] as far as its selection.
pub enum Skimmed<'a> {
    /// An event left out, passed over: its header, and where its line ends (right after it).
    LeftOut(EventHeader, usize),
    /// An event the walk builds: [`built_skimmed`] builds it.
    Built(skim::SkimmedLine<'a>),
}

/// The line starting at `start` of `text` (lines of JSON Lines), if it is exactly as barter's
/// recorder writes it ([`skim`]): an event left out is passed over as [`line`] passes over it
/// (and must end its line: a newline, or the end of `text`, follows it), one the walk builds is
/// left to [`built_skimmed`]. `None` leaves the line to [`line`].
#[inline]
pub fn skimmed_at<'a>(text: &'a str, start: usize, keep: Selector, memo: &mut skim::Memo) -> Option<Skimmed<'a>> {
    let line = skim::line_head(text, start, memo)?;
    let header = skimmed_header(&line);
    if builds(&line, &header, keep) {
        return Some(Skimmed::Built(line));
    }
    let end = line.pass_over()?;
    matches!(text.as_bytes().get(end), None | Some(b'\n')).then_some(Skimmed::LeftOut(header, end))
}

/// [`skimmed_at`] then [`built_skimmed`]: what a load makes of the line at `start`, and where
/// the line ends (the load matches on [`Skimmed`] itself, to carry no event where it leaves one out).
pub fn selected_at(
    text: &str,
    start: usize,
    keep: Selector,
    memo: &mut skim::Memo,
) -> Option<(Selected<StreamEvent>, usize)> {
    match skimmed_at(text, start, keep, memo)? {
        Skimmed::LeftOut(header, line_end) => Some((Selected::Skipped(header), line_end)),
        Skimmed::Built(line) => built_skimmed(line, keep),
    }
}

/// A line [`skimmed_at`] leaves to the walk's building, selected as [`line`] selects it, and
/// where the line ends; `None` leaves the line to [`line`].
pub fn built_skimmed(line: skim::SkimmedLine, keep: Selector) -> Option<(Selected<StreamEvent>, usize)> {
    let header = skimmed_header(&line);
    let line_end = line.end_of_line();
    let event = line.build(line_end)?;
    let selected = if keep.keeps_event(&header) { Selected::Built(event) } else { Selected::Skipped(header) };
    Some((selected, line_end))
}

/// A line exactly as barter's recorder writes it ([`skim`]), selected as the walk below selects
/// it: its kind built when kept, passed over when not. `None` leaves the line to the readers
/// after it.
fn skimmed_line(text: &str, keep: Selector, memo: &mut skim::Memo) -> Option<Selected<StreamEvent>> {
    let line = skim::line_head(text, 0, memo)?;
    let header = skimmed_header(&line);
    if !builds(&line, &header, keep) {
        let end = line.pass_over()?;
        return text.as_bytes()[end..]
            .iter()
            .all(|&byte| is_json_whitespace(byte))
            .then_some(Selected::Skipped(header));
    }
    let event = line.build(text.len())?;
    Some(if keep.keeps_event(&header) { Selected::Built(event) } else { Selected::Skipped(header) })
}

fn skimmed_header(line: &skim::SkimmedLine) -> EventHeader {
    EventHeader {
        kind_tag: line.kind_tag(),
        exchange: line.exchange,
        instrument: line.instrument,
        time_exchange_ns: line.time_exchange_ns,
    }
}

/// Whether the walk below builds the line's kind: when it keeps it, and for an order book when
/// it keeps either of its variants (which one it is decides only once it is built).
fn builds(line: &skim::SkimmedLine, header: &EventHeader, keep: Selector) -> bool {
    if line.is_book() {
        keep.keeps_event(&header.with_kind(TAG_ORDER_BOOK_SNAPSHOT))
            || keep.keeps_event(&header.with_kind(TAG_ORDER_BOOK_UPDATE))
    } else {
        keep.keeps_event(header)
    }
}

/// [`line`] read by the walk alone, whatever the layout: what the canonical reading must agree
/// with, for every line it reads, errors included (it declines where the walk fails).
pub fn walked_line(text: &str, keep: Selector) -> serde_json::Result<Selected<StreamEvent>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let item = Envelope(EventSeed { keep }).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(item)
}

/// A line in barter's layout ([`canonical`]), selected as the walk below would select it: its
/// header read, then its kind built when kept, passed over when not (checked only to be JSON,
/// as the walk's `IgnoredAny` checks it). `None` leaves the line to that walk: another layout,
/// a time outside i64 nanoseconds, or anything the pass over declines, errors included.
fn canonical_line(text: &str, keep: Selector) -> Option<Selected<StreamEvent>> {
    let line = canonical::event_line_head(text)?;
    let head = line.head;
    let header = PartialHeader {
        time_exchange_ns: head.time_exchange.timestamp_nanos_opt()?,
        exchange: head.exchange,
        instrument: head.instrument,
    };
    let keeps = |tag: u8| keep.keeps_event(&header.with(tag));
    let skipped = match head.kind {
        "Trade" => Some(TAG_TRADE),
        "OrderBookL1" => Some(TAG_ORDER_BOOK_L1),
        "Candle" => Some(TAG_CANDLE),
        "Liquidation" => Some(TAG_LIQUIDATION),
        // A book's tag is that of its variant, read only when neither is kept.
        "OrderBook" if !keeps(TAG_ORDER_BOOK_SNAPSHOT) && !keeps(TAG_ORDER_BOOK_UPDATE) => None,
        "OrderBook" => return built_line(line, keep),
        _ => return None,
    };
    match skipped {
        Some(tag) if keeps(tag) => built_line(line, keep),
        Some(tag) => line.skip().map(|()| Selected::Skipped(header.with(tag))),
        None => {
            let tag = match line.skip_variant()? {
                "Snapshot" => TAG_ORDER_BOOK_SNAPSHOT,
                "Update" => TAG_ORDER_BOOK_UPDATE,
                _ => return None,
            };
            Some(Selected::Skipped(header.with(tag)))
        }
    }
}

/// The line's event built, kept or left out by its kind's tag.
fn built_line(line: canonical::LineHead, keep: Selector) -> Option<Selected<StreamEvent>> {
    let event = line.build()?;
    let Event::Item(market) = &event else { return Some(Selected::Built(event)) };
    let header = EventHeader {
        kind_tag: kind_tag(&market.kind),
        exchange: market.exchange,
        instrument: market.instrument.index(),
        time_exchange_ns: market.time_exchange.timestamp_nanos_opt()?,
    };
    Some(if keep.keeps_event(&header) { Selected::Built(event) } else { Selected::Skipped(header) })
}

/// An item of the array shape, a `MarketStreamResult`: a seed for the array's `SeqAccess`.
pub fn array_item<'a>(
    keep: Selector<'a>,
) -> impl for<'de> DeserializeSeed<'de, Value = Selected<MarketStreamResult<InstrumentIndex, DataKind>>> + 'a {
    Envelope(ResultSeed { keep })
}

/// What `"Item"` holds: the event (JSON Lines) or a result (the array shape).
trait ItemSeed<'de>: DeserializeSeed<'de, Value = Selected<Self::Item>> {
    type Item;
}

/// barter's `reconnect::Event` envelope: `{"Reconnecting": exchange}` or `{"Item": …}`.
struct Envelope<S>(S);

#[derive(Deserialize)]
#[serde(variant_identifier)]
enum EnvelopeVariant {
    Reconnecting,
    Item,
}

impl<'de, S: ItemSeed<'de>> DeserializeSeed<'de> for Envelope<S> {
    type Value = Selected<Event<ExchangeId, S::Item>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_enum("Event", &["Reconnecting", "Item"], self)
    }
}

impl<'de, S: ItemSeed<'de>> Visitor<'de> for Envelope<S> {
    type Value = Selected<Event<ExchangeId, S::Item>>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("barter's {\"Item\": …} or {\"Reconnecting\": …}")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (variant, access) = data.variant::<EnvelopeVariant>()?;
        match variant {
            EnvelopeVariant::Reconnecting => Ok(Selected::Built(Event::Reconnecting(access.newtype_variant()?))),
            EnvelopeVariant::Item => Ok(access.newtype_variant_seed(self.0)?.map(Event::Item)),
        }
    }
}

/// `Result<MarketEvent, DataError>`: `{"Ok": event}` or `{"Err": error}`.
struct ResultSeed<'a> {
    keep: Selector<'a>,
}

#[derive(Deserialize)]
#[serde(variant_identifier)]
enum ResultVariant {
    Ok,
    Err,
}

impl<'de> ItemSeed<'de> for ResultSeed<'_> {
    type Item = Result<Market, DataError>;
}

impl<'de> DeserializeSeed<'de> for ResultSeed<'_> {
    type Value = Selected<Result<Market, DataError>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_enum("Result", &["Ok", "Err"], self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_> {
    type Value = Selected<Result<Market, DataError>>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("{\"Ok\": …} or {\"Err\": …}")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (variant, access) = data.variant::<ResultVariant>()?;
        match variant {
            ResultVariant::Ok => Ok(access.newtype_variant_seed(EventSeed { keep: self.keep })?.map(Ok)),
            ResultVariant::Err => Ok(Selected::Built(Err(access.newtype_variant()?))),
        }
    }
}

/// `MarketEvent`'s fields, as its derive names them; any other key is ignored, as there.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    TimeExchange,
    TimeReceived,
    Exchange,
    Instrument,
    Kind,
    #[serde(other)]
    Other,
}

const FIELDS: &[&str] = &["time_exchange", "time_received", "exchange", "instrument", "kind"];

struct EventSeed<'a> {
    keep: Selector<'a>,
}

impl<'de> ItemSeed<'de> for EventSeed<'_> {
    type Item = Market;
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = Selected<Market>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_struct("MarketEvent", FIELDS, self)
    }
}

/// A kind as read: built, or left out with its tag.
enum KindRead {
    Built(DataKind),
    Skipped(u8),
}

impl<'de> Visitor<'de> for EventSeed<'_> {
    type Value = Selected<Market>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("struct MarketEvent")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut time_exchange: Option<DateTime<Utc>> = None;
        let mut time_received: Option<DateTime<Utc>> = None;
        let mut exchange: Option<ExchangeId> = None;
        let mut instrument: Option<InstrumentIndex> = None;
        let mut kind: Option<KindRead> = None;
        fn once<T, E: de::Error>(slot: &Option<T>, name: &'static str) -> Result<(), E> {
            slot.as_ref().map_or(Ok(()), |_| Err(E::duplicate_field(name)))
        }
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::TimeExchange => {
                    once(&time_exchange, "time_exchange")?;
                    time_exchange = Some(map.next_value()?);
                }
                Field::TimeReceived => {
                    once(&time_received, "time_received")?;
                    time_received = Some(map.next_value()?);
                }
                Field::Exchange => {
                    once(&exchange, "exchange")?;
                    exchange = Some(map.next_value()?);
                }
                Field::Instrument => {
                    once(&instrument, "instrument")?;
                    instrument = Some(map.next_value()?);
                }
                Field::Kind => {
                    once(&kind, "kind")?;
                    let decide = match (time_exchange, exchange, instrument) {
                        (Some(time), Some(exchange), Some(instrument)) => {
                            Some(PartialHeader { time_exchange_ns: nanoseconds(time)?, exchange, instrument })
                        }
                        _ => None,
                    };
                    kind = Some(match decide {
                        Some(header) => map.next_value_seed(KindSeed { keep: self.keep, header })?,
                        None => KindRead::Built(map.next_value()?),
                    });
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let time_exchange = time_exchange.ok_or_else(|| de::Error::missing_field("time_exchange"))?;
        let time_received = time_received.ok_or_else(|| de::Error::missing_field("time_received"))?;
        let exchange = exchange.ok_or_else(|| de::Error::missing_field("exchange"))?;
        let instrument = instrument.ok_or_else(|| de::Error::missing_field("instrument"))?;
        let header = |kind_tag| -> Result<EventHeader, A::Error> {
            Ok(EventHeader {
                kind_tag,
                exchange,
                instrument: instrument.index(),
                time_exchange_ns: nanoseconds(time_exchange)?,
            })
        };
        match kind.ok_or_else(|| de::Error::missing_field("kind"))? {
            KindRead::Skipped(tag) => Ok(Selected::Skipped(header(tag)?)),
            KindRead::Built(kind) => {
                let header = header(kind_tag(&kind))?;
                if self.keep.keeps_event(&header) {
                    Ok(Selected::Built(MarketEvent { time_exchange, time_received, exchange, instrument, kind }))
                } else {
                    Ok(Selected::Skipped(header))
                }
            }
        }
    }
}

/// A time outside i64 nanoseconds fails here; the whole load then names it as barter's reader
/// does.
fn nanoseconds<E: de::Error>(time: DateTime<Utc>) -> Result<i64, E> {
    time.timestamp_nanos_opt().ok_or_else(|| E::custom("time_exchange is outside i64 nanoseconds"))
}

/// The header but for the kind, known when the kind is reached.
#[derive(Clone, Copy)]
struct PartialHeader {
    time_exchange_ns: i64,
    exchange: ExchangeId,
    instrument: InstrumentIndex,
}

impl PartialHeader {
    fn with(self, kind_tag: u8) -> EventHeader {
        EventHeader {
            kind_tag,
            exchange: self.exchange,
            instrument: self.instrument.index(),
            time_exchange_ns: self.time_exchange_ns,
        }
    }
}

/// `DataKind`, built by its own variants' types when kept, passed over when not.
struct KindSeed<'a> {
    keep: Selector<'a>,
    header: PartialHeader,
}

#[derive(Deserialize)]
#[serde(variant_identifier)]
enum KindVariant {
    Trade,
    OrderBookL1,
    OrderBook,
    Candle,
    Liquidation,
}

const KIND_VARIANTS: &[&str] = &["Trade", "OrderBookL1", "OrderBook", "Candle", "Liquidation"];

impl<'de> DeserializeSeed<'de> for KindSeed<'_> {
    type Value = KindRead;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<KindRead, D::Error> {
        deserializer.deserialize_enum("DataKind", KIND_VARIANTS, self)
    }
}

impl<'de> Visitor<'de> for KindSeed<'_> {
    type Value = KindRead;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("enum DataKind")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<KindRead, A::Error> {
        let keeps = |tag: u8| self.keep.keeps_event(&self.header.with(tag));
        let (variant, access) = data.variant::<KindVariant>()?;
        let tag = match variant {
            KindVariant::Trade => TAG_TRADE,
            KindVariant::OrderBookL1 => TAG_ORDER_BOOK_L1,
            KindVariant::OrderBook => {
                let (snapshot, update) = (keeps(TAG_ORDER_BOOK_SNAPSHOT), keeps(TAG_ORDER_BOOK_UPDATE));
                return match (snapshot, update) {
                    (true, true) => Ok(KindRead::Built(DataKind::OrderBook(access.newtype_variant()?))),
                    // Which of the two it is decides: build it, then keep or drop it.
                    (true, false) | (false, true) => match access.newtype_variant::<OrderBookEvent>()? {
                        book @ OrderBookEvent::Snapshot(_) if snapshot => {
                            Ok(KindRead::Built(DataKind::OrderBook(book)))
                        }
                        book @ OrderBookEvent::Update(_) if update => Ok(KindRead::Built(DataKind::OrderBook(book))),
                        book => Ok(KindRead::Skipped(kind_tag(&DataKind::OrderBook(book)))),
                    },
                    (false, false) => access.newtype_variant_seed(BookTag).map(KindRead::Skipped),
                };
            }
            KindVariant::Candle => TAG_CANDLE,
            KindVariant::Liquidation => TAG_LIQUIDATION,
        };
        if !keeps(tag) {
            access.newtype_variant::<IgnoredAny>()?;
            return Ok(KindRead::Skipped(tag));
        }
        Ok(KindRead::Built(match variant {
            KindVariant::Trade => DataKind::Trade(access.newtype_variant()?),
            KindVariant::OrderBookL1 => DataKind::OrderBookL1(access.newtype_variant()?),
            KindVariant::Candle => DataKind::Candle(access.newtype_variant()?),
            KindVariant::Liquidation => DataKind::Liquidation(access.newtype_variant()?),
            KindVariant::OrderBook => unreachable!("order books return above"),
        }))
    }
}

/// An order book event left out: its variant's tag, the book passed over.
struct BookTag;

#[derive(Deserialize)]
#[serde(variant_identifier)]
enum BookVariant {
    Snapshot,
    Update,
}

impl<'de> DeserializeSeed<'de> for BookTag {
    type Value = u8;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u8, D::Error> {
        deserializer.deserialize_enum("OrderBookEvent", &["Snapshot", "Update"], self)
    }
}

impl<'de> Visitor<'de> for BookTag {
    type Value = u8;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("enum OrderBookEvent")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<u8, A::Error> {
        let (variant, access) = data.variant::<BookVariant>()?;
        access.newtype_variant::<IgnoredAny>()?;
        Ok(match variant {
            BookVariant::Snapshot => TAG_ORDER_BOOK_SNAPSHOT,
            BookVariant::Update => TAG_ORDER_BOOK_UPDATE,
        })
    }
}
