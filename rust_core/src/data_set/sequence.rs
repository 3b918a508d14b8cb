//! The data set as a sequence of market events: the `i`-th event without a walk, and slices.
//!
//! barter's vector interleaves reconnect markers with the market events, so a market event's
//! index and its place in the vector differ by the markers before it.
//! [`MarkerPositions`](super::index::MarkerPositions) keeps just the markers' places, so finding
//! an event costs a binary search over the markers (usually none or a handful), whatever the
//! data set's size.
//!
//! A marker belongs to the market event that follows it: it tells a book rebuilder to reset
//! before that event. A slice `[start, stop)` therefore keeps the markers just before `start`
//! and drops those just before `stop`; markers after the last event go with a slice that holds
//! that event. So `md[a:b]` followed by `md[b:c]` holds exactly what `md[a:c]` holds. A data
//! set without market events has one slice, `0..0`, which is the whole of it, markers included.

use super::market_data::MarketData;
use crate::{
    base::error::{counted, BarterFfiStatus, Error},
    parse::load::Parsed,
};
use barter_data::{
    event::{DataKind, MarketEvent},
    streams::reconnect::Event,
};
use barter_instrument::instrument::InstrumentIndex;

fn check_range(data: &MarketData, start: u64, stop: u64) -> Result<(usize, usize), Error> {
    let len = data.len();
    if start > stop || stop > len {
        return Err(Error::new(
            BarterFfiStatus::IndexOutOfRange,
            format!("event range {start}..{stop} is outside the data set's {}", counted(len, "market event")),
        ));
    }
    // Both fit in usize: they are at most the length of a vector in memory.
    Ok((start as usize, stop as usize))
}

/// The market events `start..stop`, in order.
pub fn market_events(
    data: &MarketData,
    start: u64,
    stop: u64,
) -> Result<Vec<&MarketEvent<InstrumentIndex, DataKind>>, Error> {
    let (start, stop) = check_range(data, start, stop)?;
    let mut events = Vec::with_capacity(stop - start);
    if start < stop {
        let (first, last) = (data.markers().event_position(start), data.markers().event_position(stop - 1));
        events.extend(data.stream_events()[first..=last].iter().filter_map(|item| match item {
            Event::Item(event) => Some(event),
            Event::Reconnecting(_) => None,
        }));
    }
    Ok(events)
}

/// A new data set of every `step`-th market event of `start..stop` (`step` ≥ 1), with the
/// reconnect markers that belong to `start..stop` (see the module's rule) in their places.
/// A slice without a market event is an empty data set, holding no marker unless `data` has no
/// market event at all. Like a filter, it counts the `Err` items `data`'s source held.
pub fn slice(data: &MarketData, start: u64, stop: u64, step: u64) -> Result<MarketData, Error> {
    let (start, stop) = check_range(data, start, stop)?;
    if step == 0 {
        return Err(Error::new(BarterFfiStatus::InvalidArgument, "slice step must be at least 1"));
    }
    let items = data.stream_events();
    let first = data.markers().markers_position(start);
    // Markers after the last event belong to it; without any event, to the data set as a whole.
    let holds_the_end = stop as u64 == data.len() && (start < stop || data.is_empty());
    let end = if holds_the_end { items.len() } else { data.markers().markers_position(stop) };
    let mut kept = Parsed { errors_skipped: data.stats().errors_skipped, ..Parsed::default() };
    let mut index = start;
    for item in &items[first..end] {
        match item {
            Event::Item(_) => {
                if (index - start) % step as usize == 0 {
                    kept.events.push(item.clone());
                }
                index += 1;
            }
            Event::Reconnecting(_) => {
                kept.reconnects += 1;
                kept.events.push(item.clone());
            }
        }
    }
    Ok(MarketData::from_selection(kept))
}
