//! Wire batches out of a data set: a cursor handing out its market events in order, and any
//! run of them by index (`md[i]`, `md[a:b]` in Python).

use super::wire::{self, BatchLayout};
use crate::{
    base::{error::Error, event::StreamEvent},
    data_set::{market_data::MarketData, sequence},
};
use barter_data::streams::reconnect::Event;
use std::sync::Arc;

/// A read position over a data set's market events, handing them out in encoded batches.
///
/// Holds its own `Arc`, so it stays valid after the data set it came from is dropped.
#[derive(Debug, Clone)]
pub struct Cursor {
    events: Arc<Vec<StreamEvent>>,
    pub(crate) position: usize,
}

impl Cursor {
    pub fn new(data: &MarketData) -> Self {
        Self { events: Arc::clone(data.stream_events()), position: 0 }
    }

    /// Whether items remain past the position (reconnect markers count: they are skipped then).
    pub fn has_more(&self) -> bool {
        self.has_more_after(self.position)
    }

    /// Whether items remain past `position`.
    pub(crate) fn has_more_after(&self, position: usize) -> bool {
        position < self.events.len()
    }

    /// Appends the next batch of up to `max_events` market events to `out` in the
    /// [`wire`] format (its items layout, reconnect markers included, when
    /// `layout` says so); an empty batch means the end, and stays the end. On failure the
    /// position is unchanged, so no event is skipped unseen.
    pub fn next_batch(&mut self, max_events: usize, layout: BatchLayout, out: &mut Vec<u8>) -> Result<(), Error> {
        self.position = self.encode_batch_at(self.position, max_events, layout, out)?;
        Ok(())
    }

    /// Encodes up to `max_events` market events from `position`, and the markers among them;
    /// returns the position after them.
    pub(crate) fn encode_batch_at(
        &self,
        position: usize,
        max_events: usize,
        layout: BatchLayout,
        out: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        let remaining = &self.events[position..];
        let mut batch = Vec::with_capacity(max_events.min(remaining.len()));
        let mut markers = Vec::new();
        let mut consumed = 0;
        for event in remaining {
            if batch.len() == max_events {
                break;
            }
            consumed += 1;
            match event {
                Event::Item(market_event) => batch.push(market_event),
                Event::Reconnecting(exchange) => markers.push((batch.len(), *exchange)),
            }
        }
        match layout {
            BatchLayout::Events => wire::encode_batch(&batch, out)?,
            BatchLayout::Items => wire::encode_items(&batch, &markers, out)?,
        }
        Ok(position + consumed)
    }
}

/// Appends the market events `start..stop` to `out` as one [`wire`] batch.
pub fn encode_events(data: &MarketData, start: u64, stop: u64, out: &mut Vec<u8>) -> Result<(), Error> {
    wire::encode_batch(&sequence::market_events(data, start, stop)?, out)
}
