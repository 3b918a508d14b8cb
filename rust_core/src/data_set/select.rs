//! New data sets made from loaded ones: merged by exchange time, or filtered.
//!
//! Both treat a reconnect marker as belonging to the market event after it in its own data set
//! (it tells a book rebuilder to reset before that event), or, at the end of a data set, to the
//! one before it: a marker takes that event's `time_exchange` as its own. The markers of a data
//! set without any market event have no time: a merge puts them first, and a filter keeps them
//! (by exchange) only when it has no time window.

use super::market_data::MarketData;
use crate::{
    base::{
        error::{BarterFfiStatus, Error},
        event::{kind_tag, StreamEvent},
        progress::Progress,
    },
    parse::{
        load::{self, Parsed, SkippedEvent},
        selective::EventHeader,
    },
    read::compression::{self, FileContent},
};
use barter_data::{event::DataKind, streams::reconnect::Event};
use std::path::Path;

pub use crate::parse::selective::EventFilter;

fn nanos(event: &barter_data::event::MarketEvent<barter_instrument::instrument::InstrumentIndex, DataKind>) -> i64 {
    // Loading refuses times outside i64 nanoseconds, so the fallback is never taken.
    event.time_exchange.timestamp_nanos_opt().unwrap_or(i64::MIN)
}

/// Each item's `time_exchange`, a marker taking its event's (see the module's rule); markers of a
/// data set without any market event get `i64::MIN`.
fn item_times(items: &[StreamEvent]) -> Vec<i64> {
    let timeline: Vec<Option<i64>> = items
        .iter()
        .map(|item| match item {
            Event::Item(event) => Some(nanos(event)),
            Event::Reconnecting(_) => None,
        })
        .collect();
    timeline_times(&timeline)
}

/// The times of a timeline of market events (`Some(time)`) and markers (`None`), markers taking
/// their event's time by the module's rule.
fn timeline_times(timeline: &[Option<i64>]) -> Vec<i64> {
    let mut times = vec![i64::MIN; timeline.len()];
    // Every item takes the time of the latest market event up to it: right for events, and for
    // markers after the last event...
    let mut latest = i64::MIN;
    for (time, entry) in times.iter_mut().zip(timeline) {
        if let Some(event_time) = entry {
            latest = *event_time;
        }
        *time = latest;
    }
    // ...while every other marker takes the time of the event after it.
    let mut next = None;
    for (time, entry) in times.iter_mut().zip(timeline).rev() {
        match entry {
            Some(event_time) => next = Some(*event_time),
            None => *time = next.unwrap_or(*time),
        }
    }
    times
}

/// Merges data sets into one ordered by `time_exchange`, as a replay needs. It is a stable sort,
/// so inputs need not be sorted (recordings are written in arrival order, not exchange order):
/// ties keep argument order, then each input's order, and markers move with their event. The
/// `Err` items its inputs' sources held add up.
pub fn merge(data_sets: &[&MarketData]) -> Result<MarketData, Error> {
    let total = data_sets.iter().map(|data| data.stream_events().len()).sum();
    let mut keyed: Vec<(i64, usize, usize, &StreamEvent)> = Vec::new();
    keyed.try_reserve_exact(total).map_err(|_| Error::out_of_memory(format!("merging {total} items")))?;
    for (input, data) in data_sets.iter().enumerate() {
        let items = data.stream_events();
        let times = item_times(items);
        keyed.extend(items.iter().enumerate().map(|(position, item)| (times[position], input, position, item)));
    }
    // Already sorted runs (each input usually is) make this close to a linear merge.
    keyed.sort_by_key(|&(time, input, position, _)| (time, input, position));
    let errors_skipped = data_sets.iter().map(|data| data.stats().errors_skipped).sum();
    let mut merged = Parsed { errors_skipped, ..Parsed::default() };
    merged.events.try_reserve_exact(total).map_err(|_| Error::out_of_memory(format!("merging {total} items")))?;
    for (_, _, _, item) in keyed {
        merged.reconnects += u64::from(matches!(item, Event::Reconnecting(_)));
        merged.events.push(item.clone());
    }
    Ok(MarketData::from_selection(merged))
}

/// A market event by every axis; a marker (at its event's `time`, `None` in a data set
/// without market events) by exchange and window.
fn keeps_item(filter: &EventFilter, item: &StreamEvent, time: Option<i64>) -> bool {
    match item {
        Event::Reconnecting(exchange) => match time {
            Some(time) => filter.keeps_marker(*exchange, time),
            None => filter.keeps_exchange(*exchange) && !filter.has_window(),
        },
        Event::Item(event) => filter.keeps_event(&EventHeader {
            kind_tag: kind_tag(&event.kind),
            exchange: event.exchange,
            instrument: event.instrument.index(),
            time_exchange_ns: nanos(event),
        }),
    }
}

/// A new data set of the items `filter` keeps, in order: the matching market events, and the
/// reconnect markers of the kept exchanges whose time (see the module's rule) lies in the
/// window. Matching no market event gives an empty data set (with the markers it keeps). It
/// counts the `Err` items `data`'s source held, as a selective load of that source does.
pub fn filter(data: &MarketData, filter: &EventFilter) -> Result<MarketData, Error> {
    let items = data.stream_events();
    let times = item_times(items);
    let timed = !data.is_empty();
    let mut kept = Parsed { errors_skipped: data.stats().errors_skipped, ..Parsed::default() };
    for (item, &time) in items.iter().zip(&times) {
        if keeps_item(filter, item, timed.then_some(time)) {
            kept.reconnects += u64::from(matches!(item, Event::Reconnecting(_)));
            kept.events.push(item.clone());
        }
    }
    Ok(MarketData::from_selection(kept))
}

/// The items a selective load keeps, as [`filter`] would keep them from the whole load: its
/// market events were chosen while parsing; its markers are chosen here, each timed among all
/// the input's events, the skipped ones included. Every `Err` item the input held is counted:
/// barter drops them all, whatever the selection.
fn markers_of_selection(parsed: Parsed, filter: &EventFilter) -> Parsed {
    let errors_skipped = parsed.errors_skipped;
    if parsed.reconnects == 0 {
        return Parsed { events: parsed.events, errors_skipped, ..Parsed::default() };
    }
    // Without a time window a marker is kept by its exchange alone, whatever its time.
    let mut times = filter.has_window().then(|| times_among_skipped(&parsed.events, &parsed.skipped, None).into_iter());
    let mut kept = Parsed { events: parsed.events, errors_skipped, ..Parsed::default() };
    // In place: `retain` visits each item once, in order, so each meets its own time.
    kept.events.retain(|item| {
        let time = times.as_mut().and_then(Iterator::next).unwrap_or_default();
        let Event::Reconnecting(exchange) = item else { return true };
        let keep = filter.keeps_marker(*exchange, time);
        kept.reconnects += u64::from(keep);
        keep
    });
    kept
}

/// Each item's time by the module's rule, among the `skipped` events too; `before` is the time
/// of a market event before them all (the last of an earlier piece of a stream), if any.
fn times_among_skipped(items: &[StreamEvent], skipped: &[SkippedEvent], before: Option<i64>) -> Vec<i64> {
    let mut skipped_times = skipped.iter().peekable();
    let mut timeline = Vec::with_capacity(items.len() + skipped.len() + 1);
    let mut is_item = Vec::with_capacity(timeline.capacity());
    if let Some(time) = before {
        timeline.push(Some(time));
        is_item.push(false);
    }
    for position in 0..=items.len() {
        while let Some(skip) = skipped_times.next_if(|skip| skip.position == position) {
            timeline.push(Some(skip.time_exchange_ns));
            is_item.push(false);
        }
        if let Some(item) = items.get(position) {
            timeline.push(match item {
                Event::Item(event) => Some(nanos(event)),
                Event::Reconnecting(_) => None,
            });
            is_item.push(true);
        }
    }
    let times = timeline_times(&timeline);
    times.into_iter().zip(is_item).filter_map(|(time, is_item)| is_item.then_some(time)).collect()
}

/// A selection applied to a streamed input piece by piece, keeping what [`load_file`] keeps
/// from the whole input, in the same order. A marker needs the next market event's time (kept
/// or skipped), which may lie in a later piece: markers after a piece's last event wait for
/// it.
#[derive(Debug, Default)]
pub struct StreamedSelection {
    filter: EventFilter,
    /// Markers after the last market event read so far, not yet timed.
    untimed: Vec<StreamEvent>,
    /// `time_exchange` of the last market event read, kept or skipped.
    latest: Option<i64>,
    markers_read: u64,
    errors_skipped: u64,
    /// `Err` items skipped since the last piece handed out, which the next one counts (those
    /// after the last item, by a last piece without items).
    errors_not_counted: u64,
}

impl StreamedSelection {
    pub fn new(filter: EventFilter) -> Self {
        Self { filter, ..Self::default() }
    }

    /// What to hand out of the next piece read.
    pub fn piece(&mut self, parsed: Parsed) -> Parsed {
        let Parsed { events, skipped, reconnects, errors_skipped } = parsed;
        self.markers_read += reconnects;
        self.errors_skipped += errors_skipped;
        self.errors_not_counted += errors_skipped;
        let offset = self.untimed.len();
        let mut items = std::mem::take(&mut self.untimed);
        items.extend(events);
        let skipped: Vec<SkippedEvent> =
            skipped.into_iter().map(|skip| SkippedEvent { position: skip.position + offset, ..skip }).collect();
        let after_kept = items.iter().rposition(|item| matches!(item, Event::Item(_))).map_or(0, |last| last + 1);
        let after_skipped = skipped.last().map_or(0, |skip| skip.position);
        self.untimed = items.split_off(after_kept.max(after_skipped));
        let times = times_among_skipped(&items, &skipped, self.latest);
        self.latest = match (after_kept, skipped.last()) {
            (0, None) => self.latest,
            (kept, Some(skip)) if skip.position >= kept => Some(skip.time_exchange_ns),
            (kept, _) => Some(times[kept - 1]),
        };
        let kept = items
            .into_iter()
            .zip(times)
            .filter(|(item, time)| match item {
                Event::Reconnecting(exchange) => self.filter.keeps_marker(*exchange, *time),
                Event::Item(_) => true,
            })
            .map(|(item, _)| item)
            .collect();
        self.hand_out(kept)
    }

    /// What is left to hand out at the end of the input (nothing but a count, when only `Err`
    /// items came after the last item handed out), or, for an input without any market event,
    /// the error a whole load gives.
    pub fn finish(&mut self, source: &str) -> Result<Parsed, Error> {
        let Some(latest) = self.latest else {
            return Err(MarketData::no_market_events(source, self.markers_read, self.errors_skipped));
        };
        let untimed = std::mem::take(&mut self.untimed);
        let kept = untimed
            .into_iter()
            .filter(|item| match item {
                Event::Reconnecting(exchange) => self.filter.keeps_marker(*exchange, latest),
                Event::Item(_) => true,
            })
            .collect();
        let rest = self.hand_out(kept);
        let errors_skipped = std::mem::take(&mut self.errors_not_counted);
        Ok(Parsed { errors_skipped: rest.errors_skipped + errors_skipped, ..rest })
    }

    fn hand_out(&mut self, kept: Vec<StreamEvent>) -> Parsed {
        if kept.is_empty() {
            return Parsed::default();
        }
        let reconnects = kept.iter().filter(|item| matches!(item, Event::Reconnecting(_))).count() as u64;
        let errors_skipped = std::mem::take(&mut self.errors_not_counted);
        Parsed { events: kept, reconnects, errors_skipped, ..Parsed::default() }
    }
}

/// Loads a file keeping only what `selection` keeps: the data set that loading it whole and then
/// [`filter`]ing would give, but the events left out are never built (see
/// [`load::parse_selected`]), so the kinds a user does not want cost little.
pub fn load_file(path: &Path, selection: &EventFilter, progress: Progress) -> Result<MarketData, Error> {
    if selection.keeps_everything() {
        return MarketData::from_file_with_progress(path, progress);
    }
    let content = FileContent::read(path, &mut *progress)?;
    load_selected(&content.json, &path.display().to_string(), selection, &mut content.parse_progress(progress))
}

/// [`load_file`] for a buffer; `source` names it in error messages.
pub fn load_bytes(bytes: &[u8], source: &str, selection: &EventFilter) -> Result<MarketData, Error> {
    if selection.keeps_everything() {
        return MarketData::from_bytes(bytes, source);
    }
    load_selected(&compression::decompressed(bytes, source)?, source, selection, &mut |_| true)
}

fn load_selected(bytes: &[u8], source: &str, selection: &EventFilter, progress: Progress) -> Result<MarketData, Error> {
    let mut last_done = 0;
    let selected = load::parse_selected(bytes, source, selection, &mut |done| {
        last_done = done;
        progress(done)
    });
    match selected {
        // An input without any market event is refused as a whole load refuses it.
        Ok(parsed) if parsed.skipped.is_empty() && parsed.events.len() as u64 == parsed.reconnects => {
            MarketData::from_parsed(parsed, source)
        }
        Ok(parsed) => Ok(MarketData::from_selection(markers_of_selection(parsed, selection))),
        Err(error) if matches!(error.status, BarterFfiStatus::Cancelled | BarterFfiStatus::OutOfMemory) => Err(error),
        // Only the whole input parsed by barter's types says what is wrong where (an event left
        // out may hold an earlier error), or, should barter read what the header reading could
        // not, gives the data. Progress holds where it was, never going back.
        Err(_) => {
            let whole = load::parse_with_progress(bytes, source, &mut |_| progress(last_done))?;
            filter(&MarketData::from_parsed(whole, source)?, selection)
        }
    }
}
