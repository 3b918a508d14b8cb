//! The loaded data set: barter's own `MarketDataInMemory` beside the `Arc` it was built from.
//!
//! Made here from files and bytes, and written back as barter's JSON. The layers above make
//! data sets from their own formats through `MarketData::from_items`: `from_batch` is defined
//! beside the wire layout (`output/wire.rs`), Arrow tables are read in `output/arrow/import.rs`.

use super::index::{KindIndex, MarkerPositions};
use crate::{
    base::{
        error::{counted, BarterFfiStatus, Error},
        event::StreamEvent,
        progress::{Progress, PROGRESS_INTERVAL},
    },
    parse::load::{self, Parsed},
    read::{
        compression::{self, BarterFfiCompression, FileContent},
        written_file,
    },
};
use barter::backtest::market_data::{BacktestMarketData, MarketDataInMemory};
use barter_data::{
    event::{DataKind, MarketEvent},
    streams::reconnect::Event,
};
use barter_instrument::instrument::InstrumentIndex;
use futures::FutureExt;
use std::{
    io::Write,
    path::Path,
    sync::{Arc, OnceLock},
    time::Instant,
};

/// What a load kept and what it left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub market_events: u64,
    pub reconnects: u64,
    /// The `Err` items the input held (barter drops every one, whatever a selection keeps); a
    /// filter or slice counts its source's, a merge adds its inputs' up, and data sets made from
    /// events count none.
    pub errors_skipped: u64,
}

/// barter's `MarketDataInMemory<DataKind>` and the very `Arc` it holds.
///
/// `MarketDataInMemory`'s fields are private and its `stream()` clones every event it yields, so
/// the events are read through the shared `Arc` instead; the engine's value answers
/// `time_first_event`. Cloning is cheap: both halves share one vector.
///
/// Loading refuses an input without a market event (barter's constructor panics on one), but a
/// selection from loaded data (a filter, a slice, a merge, events from Python) may match none:
/// that is an empty data set, which has no engine value and no first event, and keeps the
/// reconnect markers it was given.
#[derive(Debug, Clone)]
pub struct MarketData {
    events: Arc<Vec<StreamEvent>>,
    engine: Option<MarketDataInMemory<DataKind>>,
    stats: LoadStats,
    markers: Arc<MarkerPositions>,
    /// Built on first use (an export), shared by clones.
    kinds: Arc<OnceLock<KindIndex>>,
}

impl MarketData {
    /// Loads a file of either barter shape, compressed or not (see [`compression`]).
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        Self::from_file_with_progress(path, &mut |_| true)
    }

    /// [`from_file`](Self::from_file), telling `progress` how many bytes have been parsed, on
    /// this thread; it may cancel the load (see [`Progress`]).
    pub fn from_file_with_progress(path: &Path, progress: Progress) -> Result<Self, Error> {
        let content = FileContent::read(path, &mut *progress)?;
        let source = path.display().to_string();
        let parsed = load::parse_with_progress(&content.json, &source, &mut content.parse_progress(progress))?;
        Self::from_parsed(parsed, &source)
    }

    /// Loads a buffer of either barter shape, compressed or not; `source` names it in error
    /// messages.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, Error> {
        Self::from_parsed(load::parse(&compression::decompressed(bytes, source)?, source)?, source)
    }

    /// A data set of `items` made outside a load: an empty one if they hold no market event,
    /// which keeps its reconnect markers.
    pub(crate) fn from_items(events: Vec<StreamEvent>) -> Self {
        let reconnects = events.iter().filter(|item| matches!(item, Event::Reconnecting(_))).count() as u64;
        Self::from_selection(Parsed { events, reconnects, ..Parsed::default() })
    }

    /// barter JSON a program made rather than recorded (Python's `from_records`, unpickling):
    /// read as [`from_bytes`](Self::from_bytes) reads it, but items without a market event
    /// (none at all, or only reconnect markers and `Err` items) are an empty data set, which
    /// keeps its markers and its count of `Err` items, rather than an error.
    pub fn from_json_items(bytes: &[u8], source: &str) -> Result<Self, Error> {
        if bytes.iter().all(|&byte| crate::parse::is_json_whitespace(byte)) {
            return Ok(Self::from_selection(Parsed::default()));
        }
        Ok(Self::from_selection(load::parse(bytes, source)?))
    }

    /// A loaded input: at least one market event, or `NoMarketEvents` naming `source`.
    pub(crate) fn from_parsed(parsed: Parsed, source: &str) -> Result<Self, Error> {
        if parsed.events.len() as u64 == parsed.reconnects {
            return Err(Self::no_market_events(source, parsed.reconnects, parsed.errors_skipped));
        }
        Ok(Self::from_selection(parsed))
    }

    pub(crate) fn no_market_events(source: &str, reconnects: u64, errors_skipped: u64) -> Error {
        Error::new(
            BarterFfiStatus::NoMarketEvents,
            format!(
                "{source}: no market event to load ({}, {} skipped); barter's MarketDataInMemory needs at least one",
                counted(reconnects, "reconnect marker"),
                counted(errors_skipped, "Err item"),
            ),
        )
    }

    /// Items selected from data sets, made outside a load, or a piece of a streamed input (see
    /// `output::stream`), kept as they are. Without a market event it is an empty data set, with
    /// no engine value (barter's constructor panics without an event), that still holds its
    /// reconnect markers: dropping them would lose resets a replay needs, without an error.
    pub(crate) fn from_selection(parsed: Parsed) -> Self {
        let Parsed { events, reconnects, errors_skipped, .. } = parsed;
        let market_events = events.len() as u64 - reconnects;
        // Most recordings hold no marker: then there is nothing to scan for.
        let markers = if reconnects == 0 { MarkerPositions::default() } else { MarkerPositions::of(&events) };
        let events = Arc::new(events);
        Self {
            engine: (market_events > 0).then(|| MarketDataInMemory::new(Arc::clone(&events))),
            events,
            stats: LoadStats { market_events, reconnects, errors_skipped },
            markers: Arc::new(markers),
            kinds: Arc::default(),
        }
    }

    pub fn stats(&self) -> LoadStats {
        self.stats
    }

    /// Number of market events (reconnect markers not included).
    pub fn len(&self) -> u64 {
        self.stats.market_events
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every item in file order, reconnect markers included: the vector the engine replays.
    pub fn stream_events(&self) -> &Arc<Vec<StreamEvent>> {
        &self.events
    }

    /// Where the reconnect markers sit among the market events.
    pub fn markers(&self) -> &MarkerPositions {
        &self.markers
    }

    /// Each kind's market events, by index (built on first use).
    pub fn kinds(&self) -> &KindIndex {
        self.kinds.get_or_init(|| KindIndex::of(&self.events))
    }

    /// The market events alone, in file order.
    pub fn market_events(&self) -> impl Iterator<Item = &MarketEvent<InstrumentIndex, DataKind>> {
        self.events.iter().filter_map(|event| match event {
            Event::Item(market_event) => Some(market_event),
            Event::Reconnecting(_) => None,
        })
    }

    /// `time_first_event` as the engine reports it, in nanoseconds since the Unix epoch (UTC).
    pub fn time_first_event_ns(&self) -> Result<i64, Error> {
        // barter's future is ready at once (an `async fn` returning a stored field): poll it
        // once rather than start an executor.
        let engine = self.engine.as_ref().ok_or_else(|| {
            Error::new(BarterFfiStatus::NoMarketEvents, "the data set is empty: it has no first event")
        })?;
        let time = engine
            .time_first_event()
            .now_or_never()
            .ok_or_else(|| Error::internal("barter's time_first_event was not ready"))?
            .map_err(|error| Error::internal(format!("barter: {error}")))?;
        // Loading rejects any timestamp outside the i64 range, so this cannot fail.
        time.timestamp_nanos_opt().ok_or_else(|| {
            Error::invalid_data(format!("time_first_event {time} is outside {}", load::NANOSECOND_RANGE))
        })
    }

    /// barter JSON of every item in `shape`, which barter's own types read back: barter's
    /// serialisation, plus the `"side": null` of order-book sides that barter skips when writing
    /// but requires when reading. `Err` items were dropped at load; the array shape writes one
    /// stand-in for each, at the end, so that `errors_skipped` reads back the same.
    pub fn to_json(&self, shape: JsonShape) -> Result<Vec<u8>, Error> {
        self.write_json(estimated_json_buffer(self.events.len()), shape, &mut |_| true)
            .map_err(|error| Error::internal(format!("serialising: {error}")))
    }

    /// [`to_json`](Self::to_json) written to `path`, compressed as asked, without holding the JSON
    /// in memory: whole or not at all, as [`written_file`] says.
    ///
    /// A data set without a market event is refused (`NoMarketEvents`) and nothing is written:
    /// barter's `MarketDataInMemory` cannot be loaded from such a file, nor can this library's
    /// loaders read it back, so the file would be a promise the reader cannot keep.
    pub fn to_json_file(&self, path: &Path, shape: JsonShape, compression: BarterFfiCompression) -> Result<(), Error> {
        self.to_json_file_with_progress(path, shape, compression, &mut |_| true)
    }

    /// [`to_json_file`](Self::to_json_file), telling `progress` how many items are written, at
    /// least every [`PROGRESS_INTERVAL`] and at the end; `false` cancels the write (`Cancelled`),
    /// which then leaves what was at `path` as it was.
    pub fn to_json_file_with_progress(
        &self,
        path: &Path,
        shape: JsonShape,
        compression: BarterFfiCompression,
        progress: Progress,
    ) -> Result<(), Error> {
        if self.is_empty() {
            return Err(Error::new(
                BarterFfiStatus::NoMarketEvents,
                format!(
                    "{}: the data set has no market event ({}), and barter's MarketDataInMemory \
                     cannot be loaded from a file without one, so none is written (Arrow tables and Parquet hold \
                     an empty data set)",
                    path.display(),
                    counted(self.stats.reconnects, "reconnect marker")
                ),
            ));
        }
        let mut cancelled = false;
        let mut told = |done: usize| {
            cancelled = !progress(done);
            !cancelled
        };
        let written = written_file::write_whole(path, |file| {
            let encoder = compression.encoder(file)?;
            let buffered = self.write_json(std::io::BufWriter::with_capacity(1 << 20, encoder), shape, &mut told)?;
            buffered.into_inner().map_err(std::io::IntoInnerError::into_error)?.finish().map(drop)
        });
        written.map_err(|error| match cancelled {
            true => Error::new(BarterFfiStatus::Cancelled, "the write was cancelled; the file was left as it was"),
            false => error,
        })
    }

    /// The JSON of every item to `out`; `progress` is told the items written as
    /// [`to_json_file_with_progress`](Self::to_json_file_with_progress) says.
    fn write_json<W: Write>(&self, mut out: W, shape: JsonShape, progress: Progress) -> std::io::Result<W> {
        let cancelled = || std::io::Error::other("cancelled by the progress callback");
        let mut reported = Instant::now();
        if shape == JsonShape::Array {
            out.write_all(b"[\n")?;
        }
        for (index, item) in self.events.iter().enumerate() {
            if index % 1024 == 0 && reported.elapsed() >= PROGRESS_INTERVAL {
                if !progress(index) {
                    return Err(cancelled());
                }
                reported = Instant::now();
            }
            if shape == JsonShape::Array && index > 0 {
                out.write_all(b",\n")?;
            }
            write_item(&mut out, item, shape)?;
            if shape == JsonShape::Lines {
                out.write_all(b"\n")?;
            }
        }
        if shape == JsonShape::Array {
            // The array shape can hold Err items: one stands for each skipped at load (their
            // content was dropped then), so reading this back counts the same `errors_skipped`.
            for index in 0..self.stats.errors_skipped {
                if index > 0 || !self.events.is_empty() {
                    out.write_all(b",\n")?;
                }
                out.write_all(SKIPPED_ERR_ITEM)?;
            }
            out.write_all(b"\n]\n")?;
        }
        if !progress(self.events.len()) {
            return Err(cancelled());
        }
        Ok(out)
    }

    /// barter's canonical JSON of every item, one `MarketStreamEvent` a line.
    pub fn to_json_lines(&self) -> Result<Vec<u8>, Error> {
        let mut out = estimated_json_buffer(self.events.len());
        for event in self.events.iter() {
            serde_json::to_writer(&mut out, event).map_err(|error| Error::internal(format!("serialising: {error}")))?;
            out.push(b'\n');
        }
        Ok(out)
    }
}

/// An output buffer for `items` items of JSON: reserved ahead when the memory is there, since
/// the estimate may exceed what the export needs.
fn estimated_json_buffer(items: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = out.try_reserve(items.saturating_mul(256));
    out
}

/// Written for each `Err` item skipped at load, when writing the array shape.
const SKIPPED_ERR_ITEM: &[u8] = br#"{"Item":{"Err":{"Socket":"an Err item skipped when this data was first loaded"}}}"#;

/// The two file shapes barter reads (see [`load`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonShape {
    /// JSON Lines of `MarketStreamEvent`.
    Lines,
    /// A JSON array of `MarketStreamResult`.
    Array,
}

/// One item as barter writes it, in `shape`'s envelope. Only order books go through a
/// `serde_json::Value`, to gain the `"side": null` barter's reader needs.
fn write_item(mut out: impl Write, item: &StreamEvent, shape: JsonShape) -> std::io::Result<()> {
    let Event::Item(event) = item else {
        return Ok(serde_json::to_writer(out, item)?);
    };
    if shape == JsonShape::Array {
        out.write_all(br#"{"Item":{"Ok":"#)?;
    } else {
        out.write_all(br#"{"Item":"#)?;
    }
    if matches!(event.kind, DataKind::OrderBook(_)) {
        let mut value = serde_json::to_value(event)?;
        add_order_book_sides(&mut value);
        serde_json::to_writer(&mut out, &value)?;
    } else {
        serde_json::to_writer(&mut out, event)?;
    }
    out.write_all(if shape == JsonShape::Array { b"}}" } else { b"}" })
}

/// Inserts `"side": null` into both sides of an order book event, where barter's reader needs it.
fn add_order_book_sides(event: &mut serde_json::Value) {
    let Some(book_event) = event.pointer_mut("/kind/OrderBook").and_then(|value| value.as_object_mut()) else {
        return;
    };
    for book in book_event.values_mut() {
        for side in ["bids", "asks"] {
            if let Some(levels) = book.get_mut(side).and_then(|value| value.as_object_mut()) {
                // First, where barter's `OrderBookSide` declares it (serde_json keeps the order).
                levels.shift_insert(0, "side".to_string(), serde_json::Value::Null);
            }
        }
    }
}
