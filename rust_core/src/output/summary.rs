//! What a data set holds, counted in one walk over its items without encoding an event: its
//! market events grouped by kind, exchange and instrument, each group with its span of
//! `time_exchange`, and its reconnect markers by exchange. Summaries for people (the CLI's
//! `summary`, notebooks' tables) read this rather than decode every event in Python.
//!
//! The layout handed out, MessagePack (`barter_ffi/summary.py` is the Python definition; the
//! round-trip tests on each side pin them to each other):
//!
//! ```text
//! summary = [groups, markers]
//! groups  = [[tag, exchange, instrument, events, time_exchange_min_ns, time_exchange_max_ns], …]
//!           one for each kind (the wire's tag, 0 Trade … 5 Liquidation), exchange and
//!           instrument that has a market event, ordered by tag, exchange name, instrument
//! markers = [[exchange, count], …]   reconnect markers by exchange, ordered by exchange name
//! exchange = barter's serde name (`ExchangeId::as_str`); *_ns as in the wire's batches
//! ```

use super::wire::WriteError;
use crate::base::{
    error::Error,
    event::{kind_tag, StreamEvent},
};
use barter_data::streams::reconnect::Event;
use barter_instrument::exchange::ExchangeId;
use chrono::{DateTime, Utc};
use rmp::encode;
use rustc_hash::FxHashMap;

/// The market events of one kind, exchange and instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// The wire's kind tag ([`kind_tag`]).
    pub tag: u8,
    pub exchange: ExchangeId,
    pub instrument: usize,
    pub events: u64,
    pub time_exchange_min: DateTime<Utc>,
    pub time_exchange_max: DateTime<Utc>,
}

/// A data set's items, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// In the layout's order.
    pub groups: Vec<Group>,
    /// Reconnect markers by exchange, in the layout's order.
    pub markers: Vec<(ExchangeId, u64)>,
}

type GroupKey = (u8, ExchangeId, usize);

impl Summary {
    /// Counts `items` in one walk.
    pub fn of(items: &[StreamEvent]) -> Self {
        let mut groups: Vec<Group> = Vec::new();
        let mut found: FxHashMap<GroupKey, usize> = FxHashMap::default();
        let mut markers: FxHashMap<ExchangeId, u64> = FxHashMap::default();
        // Recordings repeat the same kind, exchange and instrument in runs: the last group found
        // spares most lookups.
        let mut last: Option<(GroupKey, usize)> = None;
        for item in items {
            let event = match item {
                Event::Item(event) => event,
                Event::Reconnecting(exchange) => {
                    *markers.entry(*exchange).or_default() += 1;
                    continue;
                }
            };
            let key = (kind_tag(&event.kind), event.exchange, event.instrument.index());
            let at = match last {
                Some((last_key, at)) if last_key == key => at,
                _ => *found.entry(key).or_insert_with(|| {
                    let time = event.time_exchange;
                    groups.push(Group {
                        tag: key.0,
                        exchange: key.1,
                        instrument: key.2,
                        events: 0,
                        time_exchange_min: time,
                        time_exchange_max: time,
                    });
                    groups.len() - 1
                }),
            };
            last = Some((key, at));
            let group = &mut groups[at];
            group.events += 1;
            group.time_exchange_min = group.time_exchange_min.min(event.time_exchange);
            group.time_exchange_max = group.time_exchange_max.max(event.time_exchange);
        }
        groups.sort_by(|a, b| {
            (a.tag, a.exchange.as_str(), a.instrument).cmp(&(b.tag, b.exchange.as_str(), b.instrument))
        });
        let mut markers: Vec<(ExchangeId, u64)> = markers.into_iter().collect();
        markers.sort_by_key(|(exchange, _)| exchange.as_str());
        Self { groups, markers }
    }

    /// Appends the layout above to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.write(out).map_err(|error| Error::internal(format!("encoding a summary: {error}")))
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), WriteError> {
        encode::write_array_len(out, 2)?;
        encode::write_array_len(out, self.groups.len() as u32)?;
        for group in &self.groups {
            encode::write_array_len(out, 6)?;
            encode::write_uint(out, group.tag.into())?;
            encode::write_str(out, group.exchange.as_str())?;
            encode::write_uint(out, group.instrument as u64)?;
            encode::write_uint(out, group.events)?;
            for time in [group.time_exchange_min, group.time_exchange_max] {
                encode::write_sint(out, time.timestamp_nanos_opt().ok_or(WriteError::TimestampOutOfRange(time))?)?;
            }
        }
        encode::write_array_len(out, self.markers.len() as u32)?;
        for (exchange, count) in &self.markers {
            encode::write_array_len(out, 2)?;
            encode::write_str(out, exchange.as_str())?;
            encode::write_uint(out, *count)?;
        }
        Ok(())
    }
}
