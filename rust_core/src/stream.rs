//! Files larger than memory: read in pieces of bounded size, each parsed by the loader's own
//! code while the caller works on the one before.
//!
//! A producer thread reads the (decompressed) file and parses about [`PIECE_BYTES`] of it at a
//! time, at most [`PIECES_AHEAD`] pieces ahead of the consumer, so memory stays bounded however
//! large the file. The pieces together hold what [`select::load_file`] gives for the whole
//! file, in the same order, and a failure is the same error with the same line and column:
//!
//! - JSON Lines are cut after a newline, and each piece is parsed as the whole load parses its
//!   lines (on all cores), numbered from the piece's first line in the file;
//! - a JSON array is read by serde_json from the file as a stream, item by item, through a
//!   reader that checks UTF-8 as the whole load does, and handed on every
//!   [`ITEMS_PER_ARRAY_PIECE`] items.
//!
//! What a stream cannot do is look ahead: it raises the first error it reaches, after handing
//! out the pieces before it, and an invalid UTF-8 byte past the first piece is reported where
//! the stream reaches it (a whole load checks the whole file first).

use crate::{
    compression::OpenedFile,
    error::{BarterFfiStatus, Error},
    load::{self, Parsed, Selector, Shape},
    market_data::MarketData,
    select::{EventFilter, StreamedSelection},
    selective::EventHeader,
};
use std::{
    io,
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{sync_channel, Receiver, SyncSender},
        Arc,
    },
    thread::JoinHandle,
};

/// About how much JSON one piece holds.
pub const PIECE_BYTES: usize = 8 << 20;
/// Items of a JSON array per piece: about [`PIECE_BYTES`] of typical items.
pub const ITEMS_PER_ARRAY_PIECE: usize = 32_768;
/// Pieces parsed and waiting beyond the one the consumer holds.
pub const PIECES_AHEAD: usize = 1;

type Piece = Result<MarketData, Error>;

/// How much one piece holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceSize {
    /// Bytes of JSON Lines per piece (more when one line is longer).
    pub bytes: usize,
    /// Items of a JSON array per piece.
    pub array_items: usize,
}

impl Default for PieceSize {
    fn default() -> Self {
        Self { bytes: PIECE_BYTES, array_items: ITEMS_PER_ARRAY_PIECE }
    }
}

/// A file read piece by piece. Dropping it stops the producer after the piece it is on.
#[derive(Debug)]
pub struct FileStream {
    pieces: Option<Receiver<Piece>>,
    producer: Option<JoinHandle<()>>,
    ended: bool,
    read_from_disk: Arc<AtomicU64>,
    size_on_disk: u64,
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
        let source = path.display().to_string();
        let (send, pieces) = sync_channel(PIECES_AHEAD);
        let producer = std::thread::Builder::new()
            .name("barter_ffi-stream".into())
            .spawn(move || produce(file, &source, filter, size, &send))
            .map_err(|error| {
                Error::new(BarterFfiStatus::Io, format!("cannot start a thread to read {path:?}: {error}"))
            })?;
        Ok(Self { pieces: Some(pieces), producer: Some(producer), ended: false, read_from_disk, size_on_disk })
    }

    /// The next piece (a data set of at least one item), or `None` at the end. An error ends
    /// the stream: after it, `None`.
    pub fn next_piece(&mut self) -> Result<Option<MarketData>, Error> {
        let Some(pieces) = self.pieces.as_ref().filter(|_| !self.ended) else { return Ok(None) };
        match pieces.recv() {
            Ok(Ok(piece)) => Ok(Some(piece)),
            Ok(Err(error)) => {
                self.ended = true;
                Err(error)
            }
            Err(_) => {
                self.ended = true;
                Ok(None)
            }
        }
    }

    /// Bytes of the file read from disk so far (compressed bytes, for a compressed file), and
    /// the file's size on disk. The producer reads ahead of the pieces handed out.
    pub fn progress(&self) -> (u64, u64) {
        (self.read_from_disk.load(Ordering::Relaxed), self.size_on_disk)
    }
}

impl Drop for FileStream {
    fn drop(&mut self) {
        // Closing the channel makes the producer's next hand-over fail, which ends it.
        drop(self.pieces.take());
        if let Some(producer) = self.producer.take() {
            let _ = producer.join();
        }
    }
}

fn produce(mut file: OpenedFile, source: &str, filter: EventFilter, size: PieceSize, send: &SyncSender<Piece>) {
    let mut selection = StreamedSelection::new(filter.clone());
    let keep = |header: &EventHeader| filter.keeps_event(header);
    let selector: Option<Selector> = if filter.keeps_everything() { None } else { Some(&keep) };
    let mut hand_over = |parsed: Parsed| {
        let piece = selection.piece(parsed);
        piece.events.is_empty() || send.send(Ok(MarketData::from_stream_piece(piece))).is_ok()
    };
    let read = read_pieces(&mut file, source, size, selector, &mut hand_over);
    let last = read.and_then(|()| selection.finish(source));
    let _ = match last {
        Ok(rest) if rest.events.is_empty() => Ok(()),
        Ok(rest) => send.send(Ok(MarketData::from_stream_piece(rest))),
        Err(error) => send.send(Err(error)),
    };
}

/// Reads the whole file, handing each piece parsed to `hand_over` (false: stop reading).
fn read_pieces(
    file: &mut OpenedFile,
    source: &str,
    size: PieceSize,
    keep: Option<Selector>,
    hand_over: &mut dyn FnMut(Parsed) -> bool,
) -> Result<(), Error> {
    let mut head = Vec::new();
    // Up to the first non-blank byte, which tells the shape.
    while !head.iter().any(|&byte| !load::is_json_whitespace(byte)) {
        if file.append_to(&mut head, size.bytes)? == 0 {
            break;
        }
    }
    load::reject_byte_order_mark(&head, source)?;
    if let Err(error) = std::str::from_utf8(&head) {
        if error.error_len().is_some() {
            return Err(load::invalid_utf8(&head, error.valid_up_to(), 1, source));
        }
    }
    match load::detect_shape(&head, source)? {
        Shape::Lines => read_lines(file, head, source, size.bytes, keep, hand_over),
        Shape::Array => {
            let text =
                CheckedText { file, pending: head, start: 0, checked: 0, lines_before: 0, column_before: 0, source };
            let rest = load::parse_result_array_pieces(text, source, size.array_items, keep, &mut *hand_over)?;
            hand_over(rest);
            Ok(())
        }
    }
}

/// JSON Lines, cut after the last newline of each `piece_bytes` read.
fn read_lines(
    file: &mut OpenedFile,
    mut buffer: Vec<u8>,
    source: &str,
    piece_bytes: usize,
    keep: Option<Selector>,
    hand_over: &mut dyn FnMut(Parsed) -> bool,
) -> Result<(), Error> {
    let mut first_line = 1;
    let mut wanted = piece_bytes;
    loop {
        let mut at_end = false;
        while buffer.len() < wanted && !at_end {
            let missing = wanted - buffer.len();
            at_end = file.append_to(&mut buffer, missing)? == 0;
        }
        let cut = match memchr::memrchr(b'\n', &buffer) {
            _ if at_end => buffer.len(),
            Some(newline) => newline + 1,
            None => {
                // One line longer than a piece: read on until it ends.
                wanted = buffer.len() + piece_bytes;
                continue;
            }
        };
        let piece = &buffer[..cut];
        let text = std::str::from_utf8(piece)
            .map_err(|error| load::invalid_utf8(piece, error.valid_up_to(), first_line, source))?;
        let chunks = load::chunk_count(text.len());
        let parsed = load::parse_event_lines_in_chunks(text, source, chunks, first_line, keep, &mut |_| true)?;
        if !hand_over(parsed) || at_end {
            return Ok(());
        }
        first_line += memchr::memchr_iter(b'\n', piece).count();
        buffer.drain(..cut);
        wanted = piece_bytes;
    }
}

/// The file's text for serde_json's reader, checked to be UTF-8 as a whole load checks it,
/// failing with the same message and position.
struct CheckedText<'a> {
    file: &'a mut OpenedFile,
    /// Bytes read from the file and not yet handed out, from `start`; those before `checked`
    /// are valid UTF-8, the rest the start of a character cut by a read.
    pending: Vec<u8>,
    start: usize,
    checked: usize,
    /// Newlines in the bytes before `pending`, and bytes after the last of them.
    lines_before: usize,
    column_before: usize,
    source: &'a str,
}

impl CheckedText<'_> {
    /// Makes checked bytes available; false at the end of the file.
    fn refill(&mut self) -> Result<bool, Error> {
        (self.lines_before, self.column_before) = self.position_of(self.start);
        self.pending.drain(..self.start);
        self.checked -= self.start;
        self.start = 0;
        loop {
            let at_end = self.file.append_to(&mut self.pending, 1 << 20)? == 0;
            match std::str::from_utf8(&self.pending[self.checked..]) {
                Ok(_) => self.checked = self.pending.len(),
                Err(error) if error.error_len().is_none() && !at_end => self.checked += error.valid_up_to(),
                Err(error) => {
                    let offset = self.checked + error.valid_up_to();
                    let (lines, column) = self.position_of(offset);
                    return Err(load::invalid_utf8_at(lines + 1, column + 1, self.pending[offset], self.source));
                }
            }
            if self.checked > 0 || at_end {
                return Ok(self.checked > 0);
            }
        }
    }
}

impl CheckedText<'_> {
    /// Newlines before `pending[offset]` in the whole text, and bytes after the last of them.
    fn position_of(&self, offset: usize) -> (usize, usize) {
        let before = &self.pending[..offset];
        let lines = self.lines_before + memchr::memchr_iter(b'\n', before).count();
        match memchr::memrchr(b'\n', before) {
            Some(newline) => (lines, offset - newline - 1),
            None => (lines, self.column_before + offset),
        }
    }
}

impl io::Read for CheckedText<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.checked && !self.refill().map_err(io::Error::other)? {
            return Ok(0);
        }
        let count = out.len().min(self.checked - self.start);
        out[..count].copy_from_slice(&self.pending[self.start..self.start + count]);
        self.start += count;
        Ok(count)
    }
}
