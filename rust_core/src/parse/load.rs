//! Parsing barter's two market-data file shapes with barter's own serde types.
//!
//! | shape | first non-blank byte | one item | Err items |
//! |---|---|---|---|
//! | JSON array of `MarketStreamResult` (barter's historic example) | `[` | `{"Item":{"Ok":{…}}}` | dropped, counted |
//! | JSON Lines of `MarketStreamEvent` (`MarketDataInMemory` users, the backtest bench) | `{` | `{"Item":{…}}` | cannot occur |
//!
//! `{"Reconnecting":…}` markers are kept in the event vector (the engine sees them) and counted.
//! The shape is detected, never declared: a file in one envelope does not parse as the other.

use super::{
    canonical, is_json_whitespace,
    selective::{self, EventHeader, Selected, Selector, Skimmed},
    skim,
};
use crate::base::{
    error::{BarterFfiStatus, Error},
    event::StreamEvent,
    guard::{self, guarded, panic_if_asked},
    progress::{Progress, PROGRESS_INTERVAL},
};
use barter_data::{
    event::{DataKind, MarketEvent},
    streams::{consumer::MarketStreamResult, reconnect::Event},
    subscription::book::OrderBookEvent,
};
use barter_instrument::instrument::InstrumentIndex;
use chrono::{DateTime, Utc};
use serde::{
    de::{DeserializeSeed, SeqAccess, Visitor},
    Deserializer,
};
use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Mutex, PoisonError,
    },
};

/// Everything one load produced: the events barter will hold, and what was left out.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Market events and reconnect markers, in file order.
    pub events: Vec<StreamEvent>,
    pub reconnects: u64,
    /// `Err` items of the array shape, dropped as barter's historic example drops them.
    pub errors_skipped: u64,
    /// The market events a [`Selector`] left out, in file order, so that reconnect markers can
    /// still be placed in time among all the file's events (empty without a selector).
    pub skipped: Vec<SkippedEvent>,
}

/// A market event a selective load left out: where it stood and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedEvent {
    /// The index in [`Parsed::events`] of the item that followed it (the length, at the end).
    pub position: usize,
    pub time_exchange_ns: i64,
}

/// The fewest bytes one item can take: `{"Reconnecting":"okx"}`, the shortest envelope barter
/// writes (every market event is longer).
const MIN_ITEM_BYTES: usize = 22;

/// An event vector for `estimate` items of a `text_len`-byte input: never sized for more items
/// than the input can hold, and not sized at all when that memory is not to be had, so that a
/// crafted input (millions of newlines, `{"Item":` repeated) cannot make the process abort on
/// an allocation before parsing has even found it wrong.
fn events_for(estimate: usize, text_len: usize) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    let _ = events.try_reserve_exact(estimate.min(text_len / MIN_ITEM_BYTES + 1));
    events
}

/// Below this many bytes a thread costs more than it saves.
const MIN_CHUNK_BYTES: usize = 4 << 20;
/// Chunks of large inputs are about this size: small enough to report progress often.
const CHUNK_BYTES: usize = 16 << 20;

/// Parses `bytes` as either of barter's shapes; `source` names the input in error messages.
///
/// Large inputs are parsed in chunks on all cores, split at item boundaries; the result, and
/// every error message, is the same as parsing from start to end.
pub fn parse(bytes: &[u8], source: &str) -> Result<Parsed, Error> {
    parse_with_progress(bytes, source, &mut |_| true)
}

/// [`parse`], telling `progress` as chunks of the input are done.
pub fn parse_with_progress(bytes: &[u8], source: &str, progress: Progress) -> Result<Parsed, Error> {
    parse_chunked(bytes, source, chunk_count(bytes.len()), None, progress)
}

/// [`parse_with_progress`] keeping only the market events `keep` selects (and every reconnect
/// marker, with the skipped events' times in [`Parsed::skipped`]). An event `keep` leaves out
/// is read only as far as its header: its payload is checked to be JSON but not built with
/// barter's types. A failure here does not say the input is bad as barter would say it (a
/// skipped event's error is never reached): parse the whole input for barter's own error.
pub fn parse_selected(bytes: &[u8], source: &str, keep: Selector, progress: Progress) -> Result<Parsed, Error> {
    parse_chunked(bytes, source, chunk_count(bytes.len()), Some(keep), progress)
}

/// [`parse`] with the number of chunks chosen by the caller (tests and benchmarks).
pub fn parse_in_chunks(bytes: &[u8], source: &str, chunks: usize) -> Result<Parsed, Error> {
    parse_chunked(bytes, source, chunks, None, &mut |_| true)
}

fn parse_chunked(
    bytes: &[u8],
    source: &str,
    chunks: usize,
    keep: Option<Selector>,
    progress: Progress,
) -> Result<Parsed, Error> {
    reject_byte_order_mark(bytes, source)?;
    // Invalid UTF-8 anywhere is the error a load gives first, before a wrong first byte.
    let utf8 = |bytes| std::str::from_utf8(bytes).map_err(|error| invalid_utf8(bytes, error.valid_up_to(), 1, source));
    let shape = detect_shape(bytes, 1, source).or_else(|error| utf8(bytes).and(Err(error)))?;
    if shape == Shape::Lines {
        return parse_event_lines_in_chunks(bytes, source, chunks, 1, keep, progress);
    }
    // Validating once up front lets serde_json skip validating every string as it parses.
    let text = utf8(bytes)?;
    if chunks > 1 {
        parse_result_array_in_chunks(text, source, chunks, keep, progress)
    } else {
        parse_result_array(text, source, keep).and_then(|parsed| report_done(progress, text.len()).map(|()| parsed))
    }
}

/// The last report, the whole input done. A caller may cancel here too (a Ctrl-C that came at
/// the end), and is then told `Cancelled` and given nothing, as [`Progress`] promises.
fn report_done(progress: Progress, len: usize) -> Result<(), Error> {
    if progress(len) {
        Ok(())
    } else {
        Err(Error::cancelled())
    }
}

/// Which of barter's shapes an input is in, told by its first non-blank byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Array,
    Lines,
}

pub(crate) fn reject_byte_order_mark(bytes: &[u8], source: &str) -> Result<(), Error> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(UTF8_BOM) {
        return Err(Error::invalid_data(format!(
            "{source}: starts with a UTF-8 byte-order mark, which JSON forbids; remove it"
        )));
    }
    Ok(())
}

/// The shape of an input starting with `head`, which holds its first non-blank byte unless it
/// is the whole input and whose first line is the input's line `first_line`; or the error a
/// load gives for it.
pub(crate) fn detect_shape(head: &[u8], first_line: usize, source: &str) -> Result<Shape, Error> {
    let Some(start) = head.iter().position(|&byte| !is_json_whitespace(byte)) else {
        return Err(Error::invalid_data(format!(
            "{source}: the input is empty: expected a JSON array of MarketStreamResult \
             or JSON Lines of MarketStreamEvent"
        )));
    };
    match head[start] {
        b'[' => Ok(Shape::Array),
        b'{' => Ok(Shape::Lines),
        other => {
            let (line, column) = line_and_column(head, start);
            let line = first_line + line - 1;
            Err(Error::invalid_data(format!(
                "{source}: line {line} column {column}: expected '[' (a JSON array of \
                 MarketStreamResult) or '{{' (JSON Lines of MarketStreamEvent), found {}",
                describe_byte(other)
            )))
        }
    }
}

/// The error for the invalid UTF-8 at `offset` of `bytes`, whose first line is the input's line
/// `first_line`.
pub(crate) fn invalid_utf8(bytes: &[u8], offset: usize, first_line: usize, source: &str) -> Error {
    let (line, column) = line_and_column(bytes, offset);
    invalid_utf8_at(first_line + line - 1, column, bytes[offset], source)
}

pub(crate) fn invalid_utf8_at(line: usize, column: usize, byte: u8, source: &str) -> Error {
    Error::invalid_data(format!("{source}: line {line} column {column}: invalid UTF-8 (byte 0x{byte:02X})"))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Parsing threads running now, over every load in the process.
static PARSE_THREADS: AtomicUsize = AtomicUsize::new(0);

/// A share of the process-wide parsing threads, one per core in all: loads started together (as
/// `from_json_files` starts them) share the cores instead of each starting one thread per core.
pub(crate) struct ThreadPermits {
    pub(crate) count: usize,
}

impl ThreadPermits {
    /// Up to `wanted` threads, as many as the budget has left (perhaps none).
    pub(crate) fn take(wanted: usize) -> Self {
        let budget = cores();
        let mut count = 0;
        let _ = PARSE_THREADS.fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
            count = wanted.min(budget.saturating_sub(running));
            Some(running + count)
        });
        Self { count }
    }
}

impl Drop for ThreadPermits {
    fn drop(&mut self) {
        PARSE_THREADS.fetch_sub(self.count, Ordering::AcqRel);
    }
}

/// Pieces per core: a core that finishes early takes another piece, which on a shared machine
/// (one core busier than the other) keeps both at work; one piece per core took 1.5x as long
/// as four here.
const PIECES_PER_CORE: usize = 4;

/// How many pieces an input of `len` bytes is parsed in: one below 4 MiB, else four per core
/// or one per 16 MiB, whichever is more.
pub fn chunk_count(len: usize) -> usize {
    if len < MIN_CHUNK_BYTES {
        1
    } else {
        (cores() * PIECES_PER_CORE).max(len / CHUNK_BYTES)
    }
}

fn parse_result_array(text: &str, source: &str, keep: Option<Selector>) -> Result<Parsed, Error> {
    parse_result_array_piece(text, source, keep, ArrayPiece::WHOLE)
}

/// Where a piece of a JSON array stands in the whole array (see [`parse_result_array_piece`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArrayPiece {
    /// The input's line number of the piece's line 1.
    pub first_line: usize,
    /// The array index of the piece's first item.
    pub first_item: usize,
}

impl ArrayPiece {
    const WHOLE: Self = Self { first_line: 1, first_item: 0 };
}

/// Parses `text`, an array holding a run of a larger array's items, as [`parse`] parses the
/// larger one: line numbers and item indices are restated by `piece`, and the caller lays the
/// text out so that columns are the input's (see `stream.rs`).
pub(crate) fn parse_result_array_piece(
    text: &str,
    source: &str,
    keep: Option<Selector>,
    piece: ArrayPiece,
) -> Result<Parsed, Error> {
    panic_if_asked(text.as_bytes());
    if let Some(parsed) = keep.is_none().then(|| canonical_result_array(text)).flatten() {
        return Ok(parsed);
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let visitor = ResultArrayVisitor {
        capacity: envelope_key_count(text),
        text_len: text.len(),
        keep,
        first_item: piece.first_item,
    };
    let parsed = visitor
        .deserialize(&mut deserializer)
        .and_then(|parsed| deserializer.end().map(|()| parsed))
        .map_err(|error| {
            let hint = |problem: &str| array_envelope_hint(problem).or_else(|| empty_item_hint(problem, text, &error));
            json_error(source, &error, piece.first_line + error.line().max(1) - 1, hint)
        })?;
    Ok(parsed)
}

/// The array as [`canonical::result_array`] reads it, if it reads all of it and every event's
/// times fit; otherwise serde_json reads it, and words any error.
fn canonical_result_array(text: &str) -> Option<Parsed> {
    let mut parsed = Parsed { events: events_for(envelope_key_count(text), text.len()), ..Parsed::default() };
    canonical::result_array(text, |item| parsed.add_result_item(item).ok())?;
    Some(parsed)
}

/// Splits the array before items near each `chunks`-th of the text and parses the pieces in
/// parallel, each as an array of its own. A split is taken only where a `,` is followed by an
/// object whose key is `"Item"` or `"Reconnecting"` (barter's envelope); a `"` there cannot be
/// inside a JSON string, and a split inside a nested value makes a piece fail to parse. Any
/// failure re-parses the whole text in one pass, which is then the answer: its result, or its
/// exact error.
fn parse_result_array_in_chunks(
    text: &str,
    source: &str,
    chunks: usize,
    keep: Option<Selector>,
    progress: Progress,
) -> Result<Parsed, Error> {
    let Some(ranges) = array_item_ranges(text, chunks) else {
        return parse_result_array(text, source, keep)
            .and_then(|parsed| report_done(progress, text.len()).map(|()| parsed));
    };
    // Progress counts each piece's items; the brackets and commas between the pieces are
    // counted once everything is parsed, so the total is exactly the input's length.
    let weights: Vec<usize> = ranges.iter().map(|range| range.len()).collect();
    let parsed = parse_in_parallel(&ranges, &weights, &mut *progress, |range, _| {
        // Each worker builds its own piece, so at most one piece per core is held at a time.
        let mut piece = String::with_capacity(range.len() + 2);
        piece.push('[');
        piece.push_str(&text[range.clone()]);
        piece.push(']');
        parse_result_array(&piece, source, keep)
    });
    let parsed = parsed.or_else(|error| match error.status {
        BarterFfiStatus::Cancelled | BarterFfiStatus::OutOfMemory | BarterFfiStatus::Internal => Err(error),
        _ => parse_result_array(text, source, keep),
    })?;
    report_done(progress, text.len())?;
    Ok(parsed)
}

/// Ranges of the text between the outer brackets, split before an item at about each
/// `1/chunks` of its length (fewer ranges if no split point is found); `None` unless the text
/// ends with `]` and blanks, as only then are the brackets surely the outer ones.
fn array_item_ranges(text: &str, chunks: usize) -> Option<Vec<std::ops::Range<usize>>> {
    let body = text.trim_end_matches(|c: char| c.is_ascii() && is_json_whitespace(c as u8));
    let open = text.find('[')? + 1;
    let close = body.strip_suffix(']').map(str::len).filter(|&close| close >= open)?;
    let mut ranges = Vec::with_capacity(chunks);
    let mut start = open;
    for chunk in 1..chunks {
        let target = (open + (close - open) * chunk / chunks).max(start);
        match item_separator_after(&text[..close], target) {
            Some((comma, next_item)) => {
                ranges.push(start..comma);
                start = next_item;
            }
            None => break,
        }
    }
    ranges.push(start..close);
    Some(ranges)
}

/// The first `,` at or after `from` that starts an item of barter's envelope, an object keyed
/// `"Item"` or `"Reconnecting"`: (comma, item start).
fn item_separator_after(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let skip_blanks = |at: usize| at + bytes[at..].iter().take_while(|&&b| is_json_whitespace(b)).count();
    memchr::memchr_iter(b',', &bytes[from..]).map(|at| from + at).find_map(|comma| {
        let item = skip_blanks(comma + 1);
        let rest = bytes[item..].strip_prefix(b"{")?;
        let key = &rest[skip_blanks(item + 1) - item - 1..];
        (key.starts_with(b"\"Item\"") || key.starts_with(b"\"Reconnecting\"")).then_some((comma, item))
    })
}

/// Parses JSON Lines `bytes` (numbered from `first_line`) in pieces split at newlines near each
/// `chunks`-th, in parallel. Each piece is checked for UTF-8 and has its lines counted on its
/// own thread, so nothing but the split walks the whole input on the caller's. Pieces number
/// their lines from 1: a failure is worded again, as a one-pass load words it, by
/// [`first_error`].
pub(crate) fn parse_event_lines_in_chunks(
    bytes: &[u8],
    source: &str,
    chunks: usize,
    first_line: usize,
    keep: Option<Selector>,
    progress: Progress,
) -> Result<Parsed, Error> {
    let pieces = pieces_at_newlines(bytes, chunks);
    let weights: Vec<usize> = pieces.iter().map(|piece| piece.len()).collect();
    let first_failed = AtomicUsize::new(usize::MAX);
    let parsed = parse_in_parallel(&pieces, &weights, &mut *progress, |piece, index| {
        let parsed = std::str::from_utf8(piece)
            .map_err(|_| Error::invalid_data("invalid UTF-8"))
            .and_then(|text| parse_event_lines(text, source, 1, line_count(piece, keep), keep));
        if parsed.is_err() {
            first_failed.fetch_min(index, Ordering::Relaxed);
        }
        parsed
    });
    match parsed {
        Ok(parsed) => report_done(progress, bytes.len()).map(|()| parsed),
        Err(error) if matches!(error.status, BarterFfiStatus::Cancelled | BarterFfiStatus::Internal) => Err(error),
        Err(error) => {
            let failed = first_failed.into_inner().min(pieces.len() - 1);
            Err(first_error(bytes, &pieces, failed, source, first_line, keep).unwrap_or(error))
        }
    }
}

/// `bytes` cut just after a newline near each `chunks`-th of it.
fn pieces_at_newlines(bytes: &[u8], chunks: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(chunks);
    let mut start = 0;
    for chunk in 1..chunks {
        let target = (bytes.len() * chunk / chunks).max(start);
        if let Some(newline) = memchr::memchr(b'\n', &bytes[target..]) {
            pieces.push(&bytes[start..=target + newline]);
            start = target + newline + 1;
        }
    }
    pieces.push(&bytes[start..]);
    pieces
}

fn newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

/// The lines of `piece`, to size a whole load's event vector; 0 for a selective load's (see
/// [`parse_event_lines`]).
fn line_count(piece: &[u8], keep: Option<Selector>) -> usize {
    if keep.is_some() {
        0
    } else {
        newlines(piece) + 1
    }
}

/// The error a one-pass load gives for `bytes`, given that piece `failed` is the first to fail:
/// the input's first invalid UTF-8 (checked before any parsing, as a one-pass load does), else
/// that piece's error, its lines numbered as the input's. `None` if the piece does not fail
/// again (an allocation failure, say).
fn first_error(
    bytes: &[u8],
    pieces: &[&[u8]],
    failed: usize,
    source: &str,
    first_line: usize,
    keep: Option<Selector>,
) -> Option<Error> {
    if let Err(error) = std::str::from_utf8(bytes) {
        return Some(invalid_utf8(bytes, error.valid_up_to(), first_line, source));
    }
    let piece = pieces[failed];
    let piece_first_line = first_line + pieces[..failed].iter().map(|earlier| newlines(earlier)).sum::<usize>();
    // Valid: the whole is, and each piece ends at a newline.
    let text = std::str::from_utf8(piece).ok()?;
    parse_event_lines(text, source, piece_first_line, line_count(piece, keep), keep).err()
}

/// Runs `parse` on every piece, on up to one thread per core (as many as the process-wide
/// budget allows, or none: then on this thread), and joins the results in order. This thread
/// reports `progress` (the `weights` of the pieces done, summed) while the others parse. A piece
/// whose parse panics is finished all the same, with the panic as its (`Internal`) error.
fn parse_in_parallel<P: Sync>(
    pieces: &[P],
    weights: &[usize],
    progress: Progress,
    parse: impl Fn(&P, usize) -> Result<Parsed, Error> + Sync,
) -> Result<Parsed, Error> {
    let next_piece = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let done_bytes = AtomicUsize::new(0);
    let cancelled = AtomicBool::new(false);
    let results: Vec<Mutex<Option<Result<Parsed, Error>>>> = pieces.iter().map(|_| Mutex::new(None)).collect();
    let reporter = std::thread::current();
    // Parses the next piece; false once none is left.
    let parse_next = || {
        let index = next_piece.fetch_add(1, Ordering::Relaxed);
        let Some(piece) = pieces.get(index) else { return false };
        let result = guarded(|| parse(piece, index));
        *results[index].lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        done_bytes.fetch_add(weights[index], Ordering::Relaxed);
        finished.fetch_add(1, Ordering::Release);
        reporter.unpark();
        true
    };
    let mut report = || {
        if !progress(done_bytes.load(Ordering::Relaxed)) {
            cancelled.store(true, Ordering::Relaxed);
        }
    };
    let work = || while !cancelled.load(Ordering::Relaxed) && parse_next() {};
    // One piece is parsed here: a thread for it would only add its start-up.
    let permits = ThreadPermits::take(if pieces.len() > 1 { cores().min(pieces.len()) } else { 0 });
    std::thread::scope(|scope| {
        let work = || {
            work();
            Ok(())
        };
        let spawned =
            (0..permits.count).filter(|_| guard::spawn_scoped(scope, "barter_ffi-parse", work).is_ok()).count();
        if spawned == 0 {
            // No thread to be had: parse here, reporting between pieces.
            while !cancelled.load(Ordering::Relaxed) && parse_next() {
                report();
            }
            return;
        }
        while finished.load(Ordering::Acquire) < pieces.len() && !cancelled.load(Ordering::Relaxed) {
            report();
            std::thread::park_timeout(PROGRESS_INTERVAL);
        }
    });
    drop(permits);
    if cancelled.load(Ordering::Relaxed) {
        return Err(Error::cancelled());
    }
    let parsed_pieces = results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .ok_or_else(|| Error::internal("a chunk was not parsed"))?
        })
        .collect::<Result<Vec<Parsed>, Error>>()?;
    // One allocation of the final size: growing a vector of millions of events by doubling
    // costs more than parsing them, in copies and page faults.
    let total = parsed_pieces.iter().map(|piece| piece.events.len()).sum();
    let mut joined = Parsed::default();
    joined.events.try_reserve_exact(total).map_err(|_| Error::out_of_memory(format!("{total} parsed events")))?;
    for mut piece in parsed_pieces {
        let offset = joined.events.len();
        joined
            .skipped
            .extend(piece.skipped.iter().map(|skip| SkippedEvent { position: skip.position + offset, ..*skip }));
        joined.events.append(&mut piece.events);
        joined.reconnects += piece.reconnects;
        joined.errors_skipped += piece.errors_skipped;
    }
    Ok(joined)
}

/// Parses the lines of `text` (at most one event each), numbering them from `first_line`,
/// leaving out the events `keep` does not select. `lines` (the count of lines) sizes the event
/// vector; a selective load passes 0, as its vector holds only what it keeps.
fn parse_event_lines(
    text: &str,
    source: &str,
    first_line: usize,
    lines: usize,
    keep: Option<Selector>,
) -> Result<Parsed, Error> {
    panic_if_asked(text.as_bytes());
    let mut parsed = Parsed { events: events_for(lines, text.len()), ..Parsed::default() };
    let mut memo = skim::Memo::default();
    let mut line_start = 0;
    for line_number in first_line.. {
        // A line exactly as barter writes it is read from where it starts, and a left-out event
        // ends its line: no search for the line's end.
        let skimmed =
            match keep.and_then(|keep| Some((keep, selective::skimmed_at(text, line_start, keep, &mut memo)?))) {
                Some((_, Skimmed::LeftOut(header, line_end))) => {
                    parsed.skip(&header);
                    Some(line_end)
                }
                Some((keep, Skimmed::Built(line))) => match selective::built_skimmed(line, keep) {
                    Some((selected, line_end)) => {
                        parsed.add_selected(selected, source, line_number)?;
                        Some(line_end)
                    }
                    None => None,
                },
                None => None,
            };
        let line_end = match skimmed {
            Some(line_end) => line_end,
            None => {
                let rest = &text.as_bytes()[line_start..];
                let line_end = memchr::memchr(b'\n', rest).map_or(text.len(), |length| line_start + length);
                parsed.read_line(&text[line_start..line_end], source, line_number, keep, &mut memo)?;
                line_end
            }
        };
        if line_end == text.len() {
            return Ok(parsed);
        }
        line_start = line_end + 1;
    }
    unreachable!("a text has fewer lines than usize counts")
}

/// An upper bound of the items in an array (barter's `"Item"` and `"Reconnecting"` keys), to
/// size the event vector once. Keys cannot hide inside strings, whose quotes are escaped.
fn envelope_key_count(text: &str) -> usize {
    let count = |key: &[u8]| memchr::memmem::find_iter(text.as_bytes(), key).count();
    count(b"\"Item\"") + count(b"\"Reconnecting\"")
}

/// Streams the array's items straight into [`Parsed`], so no second vector of
/// `MarketStreamResult` is ever held.
struct ResultArrayVisitor<'a> {
    capacity: usize,
    text_len: usize,
    keep: Option<Selector<'a>>,
    /// The array index of the first item (of a piece of a larger array).
    first_item: usize,
}

impl<'de> DeserializeSeed<'de> for ResultArrayVisitor<'_> {
    type Value = Parsed;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Parsed, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultArrayVisitor<'_> {
    type Value = Parsed;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON array of MarketStreamResult items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Parsed, A::Error> {
        let mut parsed = Parsed { events: events_for(self.capacity, self.text_len), ..Parsed::default() };
        let mut index = self.first_item;
        loop {
            let item = match next_array_item(&mut items, self.keep)? {
                None => break,
                Some(Selected::Skipped(header)) => {
                    parsed.skip(&header);
                    index += 1;
                    continue;
                }
                Some(Selected::Built(item)) => item,
            };
            parsed
                .add_result_item(item)
                .map_err(|problem| serde::de::Error::custom(format!("array item {index}: {problem}")))?;
            index += 1;
        }
        Ok(parsed)
    }
}

/// The array's next item: built, or, when `keep` leaves it out, read only to its header.
fn next_array_item<'de, A: SeqAccess<'de>>(
    items: &mut A,
    keep: Option<Selector>,
) -> Result<Option<Selected<MarketStreamResult<InstrumentIndex, DataKind>>>, A::Error> {
    match keep {
        None => Ok(items.next_element()?.map(Selected::Built)),
        Some(keep) => items.next_element_seed(selective::array_item(keep)),
    }
}

impl Parsed {
    /// One line of JSON Lines, numbered `line_number`: its event or marker kept, or left out by
    /// `keep`; nothing for a blank line.
    fn read_line(
        &mut self,
        line: &str,
        source: &str,
        line_number: usize,
        keep: Option<Selector>,
        memo: &mut skim::Memo,
    ) -> Result<(), Error> {
        if line.bytes().all(is_json_whitespace) {
            return Ok(());
        }
        let read = match keep {
            Some(keep) => selective::line(line, keep, memo),
            None => canonical::event_line(line).map_or_else(|| serde_json::from_str(line), Ok).map(Selected::Built),
        };
        let selected = read.map_err(|error| {
            let hint = |problem: &str| empty_item_hint(problem, line, &error).or_else(|| line_envelope_hint(line));
            json_error(source, &error, line_number, hint)
        })?;
        self.add_selected(selected, source, line_number)
    }

    /// A line's item: an event or marker kept (an event whose times do not fit is refused), or
    /// an event left out.
    #[inline]
    fn add_selected(&mut self, selected: Selected<StreamEvent>, source: &str, line_number: usize) -> Result<(), Error> {
        let event = match selected {
            Selected::Built(event) => event,
            Selected::Skipped(header) => {
                self.skip(&header);
                return Ok(());
            }
        };
        match &event {
            Event::Item(market_event) => check_timestamps(market_event)
                .map_err(|problem| Error::invalid_data(format!("{source}: line {line_number}: {problem}")))?,
            Event::Reconnecting(_) => self.reconnects += 1,
        }
        self.events.push(event);
        Ok(())
    }

    fn skip(&mut self, header: &EventHeader) {
        self.skipped.push(SkippedEvent { position: self.events.len(), time_exchange_ns: header.time_exchange_ns });
    }

    /// Keeps an item of the array shape as barter's historic example does: events and markers
    /// kept, `Err` items dropped and counted. An event whose times do not fit is refused.
    fn add_result_item(&mut self, item: MarketStreamResult<InstrumentIndex, DataKind>) -> Result<(), String> {
        match item {
            Event::Item(Ok(market_event)) => {
                check_timestamps(&market_event)?;
                self.events.push(Event::Item(market_event));
            }
            Event::Item(Err(_)) => self.errors_skipped += 1,
            Event::Reconnecting(exchange) => {
                self.reconnects += 1;
                self.events.push(Event::Reconnecting(exchange));
            }
        }
        Ok(())
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
    let named = [Some(("time_exchange", event.time_exchange)), Some(("time_received", event.time_received)), kind_time];
    match named.into_iter().flatten().find(|(_, time)| !fits_in_nanoseconds(*time)) {
        Some((field, time)) => Err(out_of_range_message(field, time)),
        None => Ok(()),
    }
}

/// `time.timestamp_nanos_opt().is_some()`, as two comparisons instead of a conversion: it runs for
/// every timestamp loaded.
fn fits_in_nanoseconds(time: DateTime<Utc>) -> bool {
    const EARLIEST: DateTime<Utc> = DateTime::from_timestamp_nanos(i64::MIN);
    const LATEST: DateTime<Utc> = DateTime::from_timestamp_nanos(i64::MAX);
    (EARLIEST..=LATEST).contains(&time)
}

fn out_of_range_message(field: &str, time: DateTime<Utc>) -> String {
    format!(
        "`{field}` {} is outside the range of i64 nanoseconds since the Unix epoch ({NANOSECOND_RANGE})",
        time.to_rfc3339()
    )
}

/// serde_json appends " at line L column C" relative to the slice it read; restate the position
/// relative to the file (`line` is the file's line number of that slice's position).
/// What `hint` makes of serde's message, if anything, is appended to it.
fn json_error(
    source: &str,
    error: &serde_json::Error,
    line: usize,
    hint: impl FnOnce(&str) -> Option<&'static str>,
) -> Error {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let problem = full.strip_suffix(&suffix).unwrap_or(&full);
    let hint = hint(problem).or_else(|| instrument_hint(problem)).unwrap_or_default();
    let problem = explain_timestamp_error(problem);
    let position = if error.line() == 0 { String::new() } else { format!("line {line} column {}: ", error.column()) };
    Error::invalid_data(format!("{source}: {position}{problem}{hint}"))
}

const MARKET_EVENT_FIELDS: [&str; 5] = ["time_exchange", "time_received", "exchange", "instrument", "kind"];

/// serde can only call an item of the wrong envelope an unknown variant; when that variant is a
/// `MarketEvent` field, say which envelope the array wants.
fn array_envelope_hint(problem: &str) -> Option<&'static str> {
    let variant = problem.strip_prefix("unknown variant `")?.split('`').next()?;
    if !MARKET_EVENT_FIELDS.contains(&variant) {
        return None;
    }
    if problem.contains("expected `Ok` or `Err`") {
        Some(
            " (array items are MarketStreamResult, {\"Item\":{\"Ok\":{…}}}; items of the form \
             {\"Item\":{…}} are MarketStreamEvent, which barter reads as JSON Lines, one a line)",
        )
    } else {
        Some(" (array items are MarketStreamResult, {\"Item\":{\"Ok\":{…}}}, not bare MarketEvents)")
    }
}

/// serde_json fails on an empty object before serde can name the enum variant it wanted; when
/// the object is an item (a line's, or an array's element), name the variants.
fn empty_item_hint(problem: &str, text: &str, error: &serde_json::Error) -> Option<&'static str> {
    if problem != "expected value" {
        return None;
    }
    let line_start = text.split_inclusive('\n').take(error.line().saturating_sub(1)).map(str::len).sum::<usize>();
    let whitespace = |c: char| c.is_ascii() && is_json_whitespace(c as u8);
    let before = text.get(..line_start + error.column().saturating_sub(1))?.trim_end_matches(whitespace);
    let before_object = before.strip_suffix('{')?.trim_end_matches(whitespace);
    (before_object.is_empty() || before_object.ends_with(['[', ','])).then_some(
        " (an empty object where an item belongs: an item is {\"Item\":{…}} or {\"Reconnecting\":\"<exchange>\"})",
    )
}

/// Names the envelope of a line that holds an item of the other one, or a bare event; parsed
/// again only when the line has already failed.
fn line_envelope_hint(line: &str) -> Option<&'static str> {
    if serde_json::from_str::<MarketStreamResult<InstrumentIndex, DataKind>>(line).is_ok() {
        Some(
            " (this line is a MarketStreamResult, {\"Item\":{\"Ok\":{…}}}, which barter reads only \
             inside a JSON array; JSON Lines hold MarketStreamEvent items, {\"Item\":{…}})",
        )
    } else if serde_json::from_str::<MarketEvent<InstrumentIndex, DataKind>>(line).is_ok() {
        Some(" (this line is a bare MarketEvent; JSON Lines hold MarketStreamEvent items: {\"Item\":{…}})")
    } else {
        None
    }
}

/// serde names an instrument (barter's `InstrumentIndex`, the one `usize` in an event) only by
/// its type, and an integer past `usize` as the float serde_json read it as: name the field and
/// its range.
fn instrument_hint(problem: &str) -> Option<&'static str> {
    const HINT: &str = if usize::BITS == 64 {
        " (`instrument` must be an integer in 0..=18446744073709551615, 2**64-1)"
    } else {
        " (`instrument` must be an integer in 0..=4294967295, 2**32-1)"
    };
    problem.ends_with(", expected usize").then_some(HINT)
}

/// chrono's parse errors reach serde without saying a timestamp was being read; say so.
fn explain_timestamp_error(problem: &str) -> std::borrow::Cow<'_, str> {
    const CHRONO_MESSAGES: [&str; 6] = [
        "input is out of range",
        "no possible date and time matching input",
        "input is not enough for unique date and time",
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
    ];
    if CHRONO_MESSAGES.contains(&problem) {
        format!(
            "invalid timestamp: {problem} (barter reads RFC 3339 with a UTC offset, \
             such as \"2024-12-20T19:05:18.175Z\")"
        )
        .into()
    } else {
        problem.into()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// On each side of both ends of the range, and on a leap second inside it.
    #[test]
    fn the_range_check_agrees_with_the_conversion() {
        let nanosecond = chrono::TimeDelta::nanoseconds(1);
        let earliest = DateTime::from_timestamp_nanos(i64::MIN);
        let latest = DateTime::from_timestamp_nanos(i64::MAX);
        let leap_second = "2016-12-31T23:59:60.5Z".parse::<DateTime<Utc>>().unwrap();
        for time in [earliest, earliest - nanosecond, latest, latest + nanosecond, leap_second, DateTime::UNIX_EPOCH] {
            assert_eq!(fits_in_nanoseconds(time), time.timestamp_nanos_opt().is_some(), "{time:?}");
        }
        assert!(!fits_in_nanoseconds(latest + nanosecond));
    }

    fn large_json_lines() -> String {
        let line = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z","exchange":"okx","instrument":1,"kind":{"Trade":{"id":"1","price":1.0,"amount":1.0,"side":"Buy"}}}}"#;
        vec![line; 30_000].join("\n")
    }

    /// [`large_json_lines`]' events as a JSON array, one item per line.
    fn large_json_array() -> String {
        let items = large_json_lines().replace(r#"{"Item":{"time"#, r#"{"Item":{"Ok":{"time"#).replace("}}}}", "}}}}}");
        format!("[{}]", items.replace('\n', ",\n"))
    }

    #[test]
    fn an_array_is_cut_between_its_items_for_its_pieces_to_be_parsed_in_parallel() {
        let array = large_json_array();
        let ranges = array_item_ranges(&array, 4).unwrap();
        assert_eq!(ranges.len(), 4);
        assert_eq!((ranges[0].start, ranges[3].end), (1, array.len() - 1), "the pieces span the array's body");
        for (before, after) in ranges.iter().zip(&ranges[1..]) {
            assert_eq!(&array[before.end..after.start], ",\n", "pieces meet at an item separator");
        }
        for range in &ranges {
            assert!(array[range.clone()].starts_with(r#"{"Item":{"Ok""#), "{:?}", &array[range.start..][..20]);
        }
        let whole = parse_in_chunks(array.as_bytes(), "input", 1).unwrap();
        assert_eq!(parse_in_chunks(array.as_bytes(), "input", 4).unwrap().events, whole.events);
    }

    #[test]
    fn a_cancelled_load_is_cancelled_whatever_its_unread_pieces_hold() {
        // Without a thread to be had the load parses its first piece and is cancelled after
        // it: the syntax error in its last piece is never read, nor read again to be reported.
        let text = format!("{}\n{{not json", large_json_lines());
        let held = ThreadPermits::take(usize::MAX);
        let error = parse_with_progress(text.as_bytes(), "input", &mut |_| false).unwrap_err();
        drop(held);
        assert_eq!(error.status, BarterFfiStatus::Cancelled, "{}", error.message);
    }

    #[test]
    fn a_load_cancelled_at_its_last_report_is_cancelled() {
        let (lines, array) = (large_json_lines(), large_json_array());
        let small_lines = lines[..lines.find('\n').unwrap()].to_string();
        let small_array = format!("{}]", &array[..array.find(",\n").unwrap()]);
        for text in [small_lines, small_array, lines, array] {
            let len = text.len();
            let mut reports = Vec::new();
            let error = parse_with_progress(text.as_bytes(), "input", &mut |done| {
                reports.push(done);
                done < len
            })
            .unwrap_err();
            assert_eq!(error.status, BarterFfiStatus::Cancelled, "{}", error.message);
            assert_eq!(reports.last(), Some(&len), "cancelled at the last report, not before");
        }
    }

    #[test]
    fn a_panic_while_parsing_a_piece_is_an_internal_error_not_a_hang() {
        for text in [large_json_lines(), large_json_array()] {
            // In the last quarter: a piece parsed on another thread, unless none can be had.
            let at = text[text.len() * 3 / 4..].find(r#""id":"1""#).unwrap() + text.len() * 3 / 4;
            let text = format!("{}\"id\":\"{}\"{}", &text[..at], crate::base::guard::PANIC_HERE, &text[at + 8..]);
            let error =
                crate::base::guard::within_a_minute(move || parse_in_chunks(text.as_bytes(), "input", 4).unwrap_err());
            assert_eq!(error.status, BarterFfiStatus::Internal, "{}", error.message);
            assert!(error.message.contains("a test asked for a panic here"), "{}", error.message);
        }
    }

    #[test]
    fn the_thread_budget_is_shared_by_every_load() {
        let held = ThreadPermits::take(usize::MAX);
        assert!(held.count <= cores(), "never more parse threads than cores");
        let starved = ThreadPermits::take(4);
        assert_eq!(starved.count, 0, "a load that starts meanwhile gets none");
        drop((held, starved));
        assert!(ThreadPermits::take(1).count <= 1);
    }

    #[test]
    fn without_a_thread_to_be_had_a_load_parses_on_its_own_thread() {
        // What happens when the budget is spent, and when the OS refuses a thread: same path.
        let text = large_json_lines();
        let expected = parse_in_chunks(text.as_bytes(), "input", 1).unwrap().events.len();
        let held = ThreadPermits::take(usize::MAX);
        let mut reports = Vec::new();
        let parsed = parse_with_progress(text.as_bytes(), "input", &mut |done| {
            reports.push(done);
            true
        })
        .unwrap();
        drop(held);
        assert_eq!(parsed.events.len(), expected);
        assert!(reports.len() > chunk_count(text.len()), "reported after each piece it parsed itself: {reports:?}");
    }
}
