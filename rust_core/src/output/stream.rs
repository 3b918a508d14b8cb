//! Files larger than memory: read in pieces of bounded size, each parsed by the loader's own
//! code while the caller works on the one before.
//!
//! A producer thread reads the (decompressed) file and parses about [`PIECE_BYTES`] of it at a
//! time, at most [`PIECES_AHEAD`] pieces ahead of the consumer, so memory stays bounded however
//! large the file. The pieces together hold what [`load_file`](crate::data_set::select::load_file)
//! gives for the whole file, in the same order, and a failure is the same error with the same
//! line and column:
//!
//! - JSON Lines are cut after a newline, and each piece is parsed as the whole load parses its
//!   lines (on all cores), numbered from the piece's first line in the file;
//! - a JSON array is cut after every [`ITEMS_PER_ARRAY_PIECE`] items, found by a scanner of
//!   JSON's strings and brackets, and each run of items is parsed as an array of its own, laid
//!   out so that serde_json reports the whole array's lines, columns and item indices.
//!
//! What a stream cannot do is look ahead: it raises the first error it reaches, after handing
//! out the pieces before it, and an invalid UTF-8 byte past the first piece is reported where
//! the stream reaches it (a whole load checks the whole file first).
//!
//! Nor does it hold a line (or an array item) of any length: one longer than
//! [`MAX_LINE_BYTES`] is an error naming its line, where a whole load would read it. So memory
//! stays bounded (about that plus a piece) whatever the input, and a long line is looked for
//! a newline once, not again with every read. Blank lines are no line's: those before the
//! first item are counted and let go, and those between JSON lines are cut into pieces as any
//! line; in an array, blanks between two items count towards the next item's length.

use barter_data::streams::reconnect::Event;

use crate::{
    base::{
        error::{BarterFfiStatus, Error},
        guard,
        process::MadeIn,
    },
    data_set::{
        market_data::MarketData,
        select::{EventFilter, StreamedSelection},
    },
    parse::{
        is_json_whitespace,
        load::{self, Parsed, Shape},
        selective::Selector,
    },
    read::{buffer::reserve_exact, compression::OpenedFile},
};
use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{sync_channel, Receiver, SyncSender},
        Arc,
    },
    thread::JoinHandle,
};

/// About how much JSON one piece holds.
pub(crate) const PIECE_BYTES: usize = 8 << 20;
/// Items of a JSON array per piece: about [`PIECE_BYTES`] of typical items.
pub(crate) const ITEMS_PER_ARRAY_PIECE: usize = 32_768;
/// Pieces parsed and waiting beyond the one the consumer holds.
pub(crate) const PIECES_AHEAD: usize = 1;
/// The longest line (or array item) a stream reads: 64 MiB. A line of barter's JSON is one
/// event (a trade takes about 200 bytes, a 1000-level book about 100 KB), so only a file that
/// is not market data, or a snapshot of hundreds of thousands of levels, comes near it.
pub const MAX_LINE_BYTES: usize = 64 << 20;

type Piece = Result<MarketData, Error>;

/// How much one piece holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceSize {
    /// Bytes of JSON Lines per piece (more when one line is longer).
    pub bytes: usize,
    /// Items of a JSON array per piece.
    pub array_items: usize,
    /// The longest line or array item read; at least `bytes`.
    pub max_line_bytes: usize,
}

impl Default for PieceSize {
    fn default() -> Self {
        Self { bytes: PIECE_BYTES, array_items: ITEMS_PER_ARRAY_PIECE, max_line_bytes: MAX_LINE_BYTES }
    }
}

/// A file read piece by piece. Dropping it stops the producer after the piece it is on.
#[derive(Debug)]
pub struct FileStream {
    pieces: Option<Receiver<Piece>>,
    producer: Option<JoinHandle<Result<(), Error>>>,
    ended: bool,
    read_from_disk: Arc<AtomicU64>,
    size_on_disk: u64,
    /// A fork's child holds the stream but not its thread.
    made_in: MadeIn,
    /// Set when the stream is dropped, for work the producer does without handing anything over.
    closed: Arc<AtomicBool>,
}

impl FileStream {
    /// Opens `path` (a missing or unreadable file fails here) and starts reading it, keeping
    /// what `filter` keeps.
    pub fn open(path: &Path, filter: EventFilter) -> Result<Self, Error> {
        Self::open_in_pieces(path, filter, PieceSize::default())
    }

    /// [`open`](Self::open) with pieces of another size (tests use small ones).
    pub fn open_in_pieces(path: &Path, filter: EventFilter, size: PieceSize) -> Result<Self, Error> {
        let file = OpenedFile::open(path)?;
        let (read_from_disk, size_on_disk) = (Arc::clone(&file.read_from_disk), file.size);
        let owned_path = path.to_path_buf();
        let closed = Arc::new(AtomicBool::new(false));
        let producer_closed = Arc::clone(&closed);
        let (send, pieces) = sync_channel(PIECES_AHEAD);
        // A panic ends the thread, closing the channel; the consumer then finds it in the
        // thread's result, so that it ends the stream with an error, never looks like its end.
        let producer = guard::spawn("barter_ffi-stream", move || {
            produce(file, &owned_path, filter, size, &send, &producer_closed);
            Ok(())
        })
        .map_err(|error| Error::new(BarterFfiStatus::Io, format!("cannot start a thread to read {path:?}: {error}")))?;
        Ok(Self {
            pieces: Some(pieces),
            producer: Some(producer),
            ended: false,
            read_from_disk,
            size_on_disk,
            made_in: MadeIn::this_process(),
            closed,
        })
    }

    /// The next piece (a data set of at least one item, but for a last one that only counts
    /// the `Err` items after the input's last item), or `None` at the end. An error ends the
    /// stream: after it, `None`.
    pub fn next_piece(&mut self) -> Result<Option<MarketData>, Error> {
        if self.made_in.is_forked_child() {
            // Waiting here would wait forever: the reading thread stayed in the parent.
            return Err(Self::forked_child_error());
        }
        let Some(pieces) = self.pieces.as_ref().filter(|_| !self.ended) else { return Ok(None) };
        let received = pieces.recv();
        if !matches!(received, Ok(Ok(_))) {
            self.ended = true;
        }
        match received {
            Ok(piece) => piece.map(Some),
            // The producer is done: at the end of the file, or because it panicked.
            Err(_) => self.producer.take().map_or(Ok(None), |producer| guard::joined(producer.join()).map(|()| None)),
        }
    }

    /// Where the stream was opened: a fork's child cannot read it (see [`MadeIn`]).
    pub fn made_in(&self) -> MadeIn {
        self.made_in
    }

    /// The error for reading a stream in a fork's child.
    pub fn forked_child_error() -> Error {
        MadeIn::forked_child_error("a file stream", "its reading thread stayed in the parent; open the file again here")
    }

    /// The rest of the stream, as a stream of its own (a replay takes it); this one is left at
    /// its end, still telling how far the file has been read.
    pub fn take_rest(&mut self) -> FileStream {
        let rest = FileStream {
            pieces: self.pieces.take(),
            producer: self.producer.take(),
            ended: self.ended,
            read_from_disk: Arc::clone(&self.read_from_disk),
            size_on_disk: self.size_on_disk,
            made_in: self.made_in,
            closed: std::mem::replace(&mut self.closed, Arc::new(AtomicBool::new(false))),
        };
        self.ended = true;
        rest
    }

    /// Bytes of the file read from disk so far (compressed bytes, for a compressed file), and
    /// the file's size on disk. The producer reads ahead of the pieces handed out.
    pub fn progress(&self) -> (u64, u64) {
        (self.read_from_disk.load(Ordering::Relaxed), self.size_on_disk)
    }
}

impl Drop for FileStream {
    fn drop(&mut self) {
        if self.made_in.is_forked_child() {
            // A fork's child: the channel and the thread belong to the parent; set them aside
            // untouched (a few bytes leaked) rather than wait on a thread that is not here.
            std::mem::forget(self.pieces.take());
            std::mem::forget(self.producer.take());
            return;
        }
        // Closing the channel makes the producer's next hand-over fail, which ends it.
        self.closed.store(true, Ordering::Relaxed);
        drop(self.pieces.take());
        if let Some(producer) = self.producer.take() {
            let _ = producer.join();
        }
    }
}

fn produce(
    mut file: OpenedFile,
    path: &Path,
    filter: EventFilter,
    size: PieceSize,
    send: &SyncSender<Piece>,
    closed: &AtomicBool,
) {
    let source = &path.display().to_string();
    let mut selection = StreamedSelection::new(filter.clone());
    let selector: Option<Selector> = if filter.keeps_everything() { None } else { Some(&filter) };
    let mut hand_over = |parsed: Parsed| {
        let piece = selection.piece(parsed);
        piece.events.is_empty() || send.send(Ok(MarketData::from_selection(piece))).is_ok()
    };
    let read = read_pieces(&mut file, source, size, selector, &mut hand_over).map_err(|error| {
        match error.status {
            // As a selective load does: only the whole file read with barter's types says what is
            // wrong where (a left-out event may hold an earlier error). Read again, keeping nothing.
            BarterFfiStatus::InvalidData if selector.is_some() => first_error(path, size, closed).unwrap_or(error),
            _ => error,
        }
    });
    let last = read.and_then(|()| selection.finish(source));
    let _ = match last {
        Ok(rest) if rest.events.is_empty() && rest.errors_skipped == 0 => Ok(()),
        Ok(rest) => send.send(Ok(MarketData::from_selection(rest))),
        Err(error) => send.send(Err(error)),
    };
}

/// The first error of the whole file read with barter's types, in bounded memory; `None` once
/// `closed` says the stream was dropped (which then waits for this at most a piece's parse).
fn first_error(path: &Path, size: PieceSize, closed: &AtomicBool) -> Option<Error> {
    let mut file = OpenedFile::open(path).ok()?;
    let open = &mut |_| !closed.load(Ordering::Relaxed);
    read_pieces(&mut file, &path.display().to_string(), size, None, open)
        .err()
        .filter(|_| !closed.load(Ordering::Relaxed))
}

/// Reads the whole file, handing each piece parsed to `hand_over` (false: stop reading).
fn read_pieces(
    file: &mut OpenedFile,
    source: &str,
    size: PieceSize,
    keep: Option<Selector>,
    hand_over: &mut dyn FnMut(Parsed) -> bool,
) -> Result<(), Error> {
    // Up to the first non-blank byte, which tells the shape.
    let (head, first_line) = read_head(file, source, size)?;
    if first_line == 1 {
        load::reject_byte_order_mark(&head, source)?;
    }
    if let Err(error) = std::str::from_utf8(&head) {
        if error.error_len().is_some() {
            return Err(load::invalid_utf8(&head, error.valid_up_to(), first_line, source));
        }
    }
    match load::detect_shape(&head, first_line, source)? {
        Shape::Lines => read_lines(file, head, first_line, source, size, keep, hand_over),
        Shape::Array => read_array(file, head, first_line, source, size, keep, hand_over),
    }
}

/// The file's start, up to its first non-blank byte (or its end), and the line that start is
/// on. The blank lines before it are counted, not held: a file may start with any amount of
/// them. Blanks on the first non-blank byte's own line count towards that line's length.
fn read_head(file: &mut OpenedFile, source: &str, size: PieceSize) -> Result<(Vec<u8>, usize), Error> {
    let mut head = Vec::new();
    let mut first_line = 1;
    loop {
        if head.iter().any(|&byte| !is_json_whitespace(byte)) {
            return Ok((head, first_line));
        }
        if let Some(newline) = memchr::memrchr(b'\n', &head) {
            first_line += memchr::memchr_iter(b'\n', &head[..=newline]).count();
            head.drain(..=newline);
        }
        if head.len() > size.max_line_bytes {
            return Err(too_long(source, &format!("line {first_line}"), size.max_line_bytes));
        }
        if file.append_to(&mut head, size.bytes)? == 0 {
            return Ok((head, first_line));
        }
    }
}

/// JSON Lines, cut after the last newline of each `size.bytes` read.
fn read_lines(
    file: &mut OpenedFile,
    mut buffer: Vec<u8>,
    mut first_line: usize,
    source: &str,
    size: PieceSize,
    keep: Option<Selector>,
    hand_over: &mut dyn FnMut(Parsed) -> bool,
) -> Result<(), Error> {
    // How much of the buffer is known to hold no newline: the start of a line longer than a
    // piece, not searched again.
    let mut searched = 0;
    loop {
        let wanted = searched + size.bytes;
        let mut at_end = false;
        while buffer.len() < wanted && !at_end {
            let missing = wanted - buffer.len();
            // Exactly what is missing, so that a long line's buffer is not doubled.
            reserve_exact(&mut buffer, missing, source)?;
            at_end = file.append_to(&mut buffer, missing)? == 0;
        }
        let new = &buffer[searched..];
        // The buffer starts a line: its first line ends at the first newline read now, or
        // has not ended yet. Every later line lies in what was read now, at most a piece.
        let first_line_end = memchr::memchr(b'\n', new).map_or(buffer.len(), |newline| searched + newline);
        if first_line_end > size.max_line_bytes {
            return Err(too_long(source, &format!("line {first_line}"), size.max_line_bytes));
        }
        let cut = match memchr::memrchr(b'\n', new) {
            _ if at_end => buffer.len(),
            Some(newline) => searched + newline + 1,
            None => {
                // One line longer than a piece: read on until it ends.
                searched = buffer.len();
                continue;
            }
        };
        let piece = &buffer[..cut];
        let chunks = load::chunk_count(piece.len());
        let parsed = load::parse_event_lines_in_chunks(piece, source, chunks, first_line, keep, &mut |_| true)?;
        if !hand_over(parsed) || at_end {
            return Ok(());
        }
        first_line += memchr::memchr_iter(b'\n', piece).count();
        buffer.drain(..cut);
        searched = 0;
    }
}

/// The error for a line or array item (`what`, naming its line) longer than `max` bytes.
fn too_long(source: &str, what: &str, max: usize) -> Error {
    let max = if max % (1 << 20) == 0 { format!("{} MiB", max >> 20) } else { format!("{max} bytes") };
    Error::invalid_data(format!(
        "{source}: {what} is longer than {max}, the most a stream holds of one line or array item \
         (a line of barter's JSON holds one event); load the file whole to read it"
    ))
}

/// A JSON array, cut after every `array_items` items (or at the last item separator once
/// `bytes` are held): each run of items is parsed as an array of its own, laid out so that
/// serde_json reports the input's positions (see [`ArrayText`]).
fn read_array(
    file: &mut OpenedFile,
    mut buffer: Vec<u8>,
    first_line: usize,
    source: &str,
    size: PieceSize,
    keep: Option<Selector>,
    hand_over: &mut dyn FnMut(Parsed) -> bool,
) -> Result<(), Error> {
    let mut scanner = ArrayScanner::default();
    let mut scanned = 0;
    let mut separators = Vec::new();
    let mut piece_start = Position { line: first_line, column: 1 };
    let mut first_item = 0;
    let mut at_end = false;
    // A piece that fails is parsed again with the next item too: serde_json places an error
    // about an array's item after looking past it, at the next item, not at our closing `]`.
    let mut retrying = false;
    let mut wanted_items = size.array_items.max(1);
    loop {
        let (known, item_start) = (separators.len(), after_last(&separators));
        scanner.separators(&buffer[scanned..], scanned, &mut separators);
        scanned = buffer.len();
        // The item unfinished before this read may have ended in it, and the one unfinished now
        // may be long: any other item lies within this read, at most a piece.
        let ended_now = separators.get(known).map(|&end| (item_start, end));
        let unfinished = (after_last(&separators), buffer.len());
        let over_the_cap =
            ended_now.into_iter().chain([unfinished]).find(|(start, end)| end - start > size.max_line_bytes);
        if let Some((start, _)) = over_the_cap {
            let blanks = buffer[start..].iter().take_while(|&&byte| is_json_whitespace(byte)).count();
            let line = piece_start.after(&buffer[..start + blanks]).line;
            return Err(too_long(source, &format!("the array item on line {line}"), size.max_line_bytes));
        }
        let enough_bytes = buffer.len() >= size.bytes && !retrying;
        let cut = separators.get(wanted_items - 1).or_else(|| separators.last().filter(|_| enough_bytes)).copied();
        let (text_end, next_start) = match cut {
            Some(separator) => (separator, separator + 1),
            None if at_end => (buffer.len(), buffer.len()),
            None => {
                at_end = file.append_to(&mut buffer, size.bytes)? == 0;
                continue;
            }
        };
        let items = separators.iter().take_while(|&&separator| separator <= text_end).count();
        let piece = ArrayText::new(&buffer[..text_end], piece_start, first_item == 0, cut.is_some());
        let text = std::str::from_utf8(&piece.bytes)
            .map_err(|error| load::invalid_utf8(&piece.bytes, error.valid_up_to(), piece.first_line, source))?;
        let context = usize::from(piece.with_context);
        let place = load::ArrayPiece { first_line: piece.first_line, first_item: first_item - context };
        // Every item up to the cut (or, in the last piece, up to the end) must be read: a count
        // short of that means the text was read otherwise than in the input (as `[,` would be),
        // and the piece with its next item says how serde_json reads it there.
        let expected = if cut.is_some() { items } else { items + 1 } + context;
        let complete =
            |parsed: &Parsed| (cut.is_none() && !piece.with_context) || ArrayText::parsed_items(parsed) == expected;
        let parsed = match load::parse_result_array_piece(text, source, keep, place) {
            Ok(parsed) if complete(&parsed) => piece.own(parsed),
            _ if cut.is_some() && !retrying => {
                (retrying, wanted_items) = (true, items + 1);
                continue;
            }
            Ok(_) => {
                return Err(Error::invalid_data(format!(
                    "{source}: line {}: an array item is missing",
                    piece.first_line + context
                )))
            }
            Err(error) => return Err(error),
        };
        (retrying, wanted_items) = (false, size.array_items.max(1));
        if !hand_over(parsed) || cut.is_none() {
            return Ok(());
        }
        first_item += items;
        piece_start = piece_start.after(&buffer[..next_start]);
        buffer.drain(..next_start);
        separators.retain_mut(|separator| match separator.checked_sub(next_start) {
            Some(moved) => {
                *separator = moved;
                true
            }
            None => false,
        });
        scanned = buffer.len();
    }
}

/// Where the item after the last of `separators` starts (0: the buffer's first item).
fn after_last(separators: &[usize]) -> usize {
    separators.last().map_or(0, |separator| separator + 1)
}

/// A line and column of the input (both from 1, the column in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    line: usize,
    column: usize,
}

impl Position {
    /// The position just after `text`, which starts here.
    fn after(self, text: &[u8]) -> Self {
        match memchr::memrchr(b'\n', text) {
            Some(newline) => {
                Self { line: self.line + memchr::memchr_iter(b'\n', text).count(), column: text.len() - newline }
            }
            None => Self { line: self.line, column: self.column + text.len() },
        }
    }
}

/// A run of an array's items as an array of its own, for serde_json to read as it reads the
/// whole array. The first piece is the input's own start (its `[` included). A later one starts
/// with `[`, a stand-in item and a comma ([`CONTEXT_ITEM`]), so that its first item is read as
/// after a separator, as in the input (`, ]` is a trailing comma, not an empty array); then, on
/// the next line, as many spaces as put its first item in the input's column, so that every position serde_json reports is the input's once its line is
/// moved by `first_line`. A piece that ends at an item separator is closed with `]`; the last
/// one keeps the input's own end.
struct ArrayText {
    bytes: Vec<u8>,
    /// The input's line number of the piece's line 1 (0 for a later piece starting on line 1).
    first_line: usize,
    /// Whether the piece starts with [`CONTEXT_ITEM`], which its parse must leave out.
    with_context: bool,
}

/// A stand-in for the item before a later piece: a reconnect marker, which every selection
/// builds, so that it is always the first item parsed.
const CONTEXT_ITEM: &[u8] = br#"{"Reconnecting":"other"},"#;

impl ArrayText {
    fn new(items: &[u8], start: Position, first: bool, closed: bool) -> Self {
        let mut bytes = Vec::with_capacity(items.len() + start.column + CONTEXT_ITEM.len() + 4);
        let with_context = !first;
        let first_line = if with_context {
            bytes.push(b'[');
            bytes.extend_from_slice(CONTEXT_ITEM);
            bytes.push(b'\n');
            bytes.resize(bytes.len() + start.column - 1, b' ');
            start.line - 1
        } else {
            start.line
        };
        bytes.extend_from_slice(items);
        if closed {
            bytes.push(b']');
        }
        Self { bytes, first_line, with_context }
    }

    /// The piece's own items out of what its parse gave: without the stand-in.
    fn own(&self, mut parsed: Parsed) -> Parsed {
        if self.with_context && matches!(parsed.events.first(), Some(Event::Reconnecting(_))) {
            parsed.events.remove(0);
            parsed.reconnects -= 1;
            for skip in &mut parsed.skipped {
                skip.position -= 1;
            }
        }
        parsed
    }

    /// How many items the parse found: the stand-in, markers, built and skipped events, `Err`s.
    fn parsed_items(parsed: &Parsed) -> usize {
        parsed.events.len() + parsed.skipped.len() + parsed.errors_skipped as usize
    }
}

/// Finds the commas that separate a JSON array's items (outside strings, directly inside the
/// outermost brackets), across reads. Malformed JSON may make it find wrong ones after the
/// input's first error; that only moves where later pieces are cut, and the piece holding the
/// first error reports it.
#[derive(Debug, Default)]
struct ArrayScanner {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl ArrayScanner {
    /// Appends to `found` the offsets (plus `offset`) of the separators in `bytes`, which follow
    /// what was scanned before.
    fn separators(&mut self, bytes: &[u8], offset: usize, found: &mut Vec<usize>) {
        for (at, &byte) in bytes.iter().enumerate() {
            if self.in_string {
                match byte {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'[' | b'{' => self.depth += 1,
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                b',' if self.depth == 1 => found.push(offset + at),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::guard::{within_a_minute, PANIC_HERE};

    /// Reads the stream at `path` to its end or first error.
    fn drain(path: std::path::PathBuf) -> Result<(), Error> {
        let mut stream = FileStream::open(&path, EventFilter::default())?;
        while stream.next_piece()?.is_some() {}
        Ok(())
    }

    #[test]
    fn a_panic_while_streaming_ends_the_stream_with_an_internal_error_not_a_hang() {
        let trade = |id: &str| {
            format!(
                r#"{{"Item":{{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z","exchange":"okx","instrument":0,"kind":{{"Trade":{{"id":"{id}","price":1.0,"amount":1.0,"side":"Buy"}}}}}}}}"#
            )
        };
        // About 20 MB: pieces of 8 MiB, each parsed on several threads, the panic in the second.
        let mut lines: Vec<String> = (0..100_000).map(|id| trade(&id.to_string())).collect();
        lines[55_000] = trade(PANIC_HERE);
        let items = lines.iter().map(|line| line.replacen(r#"{"Item":"#, r#"{"Item":{"Ok":"#, 1) + "}");
        let array = format!("[{}]", items.collect::<Vec<_>>().join(",\n"));
        for (name, text) in [("lines.jsonl", lines.join("\n")), ("array.json", array)] {
            let path = std::env::temp_dir().join(format!("barter_ffi-stream-panic-{}-{name}", std::process::id()));
            std::fs::write(&path, text).unwrap();
            let error = within_a_minute({
                let path = path.clone();
                move || drain(path).unwrap_err()
            });
            assert_eq!(error.status, BarterFfiStatus::Internal, "{name}: {}", error.message);
            assert!(error.message.contains("a test asked for a panic here"), "{name}: {}", error.message);
            std::fs::remove_file(path).unwrap();
        }
    }
}
