//! The loaded data set: barter's own `MarketDataInMemory` beside the `Arc` it was built from.

use crate::{
    error::{BarterFfiStatus, Error},
    load::{self, Parsed},
};
use barter::backtest::market_data::{BacktestMarketData, MarketDataInMemory};
use barter_data::{
    event::{DataKind, MarketEvent},
    streams::{consumer::MarketStreamEvent, reconnect::Event},
};
use barter_instrument::instrument::InstrumentIndex;
use futures::FutureExt;
use std::{path::Path, sync::Arc};

/// One item of barter's in-memory market data: a market event or a reconnect marker.
pub type StreamEvent = MarketStreamEvent<InstrumentIndex, DataKind>;

/// What a load kept and what it left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub market_events: u64,
    pub reconnects: u64,
    pub errors_skipped: u64,
}

/// barter's `MarketDataInMemory<DataKind>` and the very `Arc` it holds.
///
/// `MarketDataInMemory`'s fields are private and its `stream()` clones every event it yields, so
/// the events are read through the shared `Arc` instead; the engine's value answers
/// `time_first_event`. Cloning is cheap: both halves share one vector.
#[derive(Debug, Clone)]
pub struct MarketData {
    events: Arc<Vec<StreamEvent>>,
    engine: MarketDataInMemory<DataKind>,
    stats: LoadStats,
}

impl MarketData {
    /// Loads a file of either barter shape.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|error| Error::io(path, &error))?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Loads a buffer of either barter shape; `source` names it in error messages.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, Error> {
        Self::from_parsed(load::parse(bytes, source)?, source)
    }

    fn from_parsed(parsed: Parsed, source: &str) -> Result<Self, Error> {
        let Parsed { events, reconnects, errors_skipped } = parsed;
        let market_events = events.len() as u64 - reconnects;
        if market_events == 0 {
            // Checked here because barter's constructor panics on it.
            return Err(Error::new(
                BarterFfiStatus::NoMarketEvents,
                format!(
                    "{source}: no market event to load ({reconnects} reconnect markers, \
                     {errors_skipped} Err items skipped); barter's MarketDataInMemory needs at least one"
                ),
            ));
        }
        let events = Arc::new(events);
        Ok(Self {
            engine: MarketDataInMemory::new(Arc::clone(&events)),
            events,
            stats: LoadStats { market_events, reconnects, errors_skipped },
        })
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
        let time = self
            .engine
            .time_first_event()
            .now_or_never()
            .ok_or_else(|| Error::internal("barter's time_first_event was not ready"))?
            .map_err(|error| Error::internal(format!("barter: {error}")))?;
        // Loading rejects any timestamp outside the i64 range, so this cannot fail.
        time.timestamp_nanos_opt().ok_or_else(|| {
            Error::invalid_data(format!("time_first_event {time} is outside {}", load::NANOSECOND_RANGE))
        })
    }

    /// barter's canonical JSON of every item, one `MarketStreamEvent` a line.
    pub fn to_json_lines(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.events.len() * 256);
        for event in self.events.iter() {
            serde_json::to_writer(&mut out, event)
                .map_err(|error| Error::internal(format!("serialising: {error}")))?;
            out.push(b'\n');
        }
        Ok(out)
    }
}

/// A read position over a data set's market events, handing them out in encoded batches.
///
/// Holds its own `Arc`, so it stays valid after the data set it came from is dropped.
#[derive(Debug)]
pub struct Cursor {
    events: Arc<Vec<StreamEvent>>,
    position: usize,
}

impl Cursor {
    pub fn new(data: &MarketData) -> Self {
        Self { events: Arc::clone(&data.events), position: 0 }
    }

    /// Appends the next batch of up to `max_events` market events to `out` in the
    /// [`wire`](crate::wire) format; an empty batch means the end, and stays the end.
    /// On failure the position is unchanged, so no event is skipped unseen.
    pub fn next_batch(&mut self, max_events: usize, out: &mut Vec<u8>) -> Result<(), Error> {
        let remaining = &self.events[self.position..];
        let mut batch = Vec::with_capacity(max_events.min(remaining.len()));
        let mut consumed = 0;
        for event in remaining {
            if batch.len() == max_events {
                break;
            }
            consumed += 1;
            if let Event::Item(market_event) = event {
                batch.push(market_event);
            }
        }
        crate::wire::encode_batch(&batch, out)?;
        self.position += consumed;
        Ok(())
    }
}
