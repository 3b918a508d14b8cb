//! The replay: a data set, or a file's pieces one after another, walked in stored order, each
//! L2 event applied to its book, and rows taken as the sampling asks, a record batch at a time.
//!
//! Stored order is not clock order: a recording holds events as they arrived, and exchange
//! times (even received times, across merged files) can go back. Samples on a clock (a grid,
//! `at` times) are therefore taken on the stored order: the row at time `t` shows each book
//! after every L2 event stored before the first L2 event stamped later than `t`: of any book of
//! the data set, whichever books `exchanges`/`instruments` keep (other kinds do not cut), so a
//! kept book's rows are the full replay's rows of that book. That is what a live engine reading
//! the recording in order held at `t` when the clock is `time_received` of a single recording,
//! and the as-of book whenever stamps never go back.

use super::{
    book::{Side, TrackedBook},
    rows::Rows,
    schema, Clock, DecimalTypes, Every, ReplayOptions,
};
use crate::{
    base::error::{BarterFfiStatus, Error},
    data_set::market_data::MarketData,
    output::{
        arrow::{export::decimal_types, Decimals, Table, BATCH_ROWS},
        stream::FileStream,
    },
};
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use barter_data::{
    books::Level,
    event::{DataKind, MarketEvent},
    streams::reconnect::Event as Item,
};
use barter_instrument::{exchange::ExchangeId, instrument::InstrumentIndex};
use chrono::SecondsFormat;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// About how many bytes of values one record batch holds: a wide book row is hundreds of bytes,
/// so a batch holds fewer rows than [`BATCH_ROWS`], keeping a streamed replay's memory small.
const BATCH_BYTES: usize = 2 << 20;
/// The fewest rows a batch is cut at (more when a grid moment's rows for every book overrun).
const MIN_BATCH_ROWS: usize = 1024;

/// An input given a piece at a time: a data set is one piece, a file stream many.
pub trait PieceSource: Send {
    /// The next piece, or `None` at the end.
    fn next_piece(&mut self) -> Result<Option<MarketData>, Error>;
}

impl PieceSource for FileStream {
    fn next_piece(&mut self) -> Result<Option<MarketData>, Error> {
        FileStream::next_piece(self)
    }
}

/// A whole data set, as the one piece of its input.
struct WholeDataSet(Option<MarketData>);

impl PieceSource for WholeDataSet {
    fn next_piece(&mut self) -> Result<Option<MarketData>, Error> {
        Ok(self.0.take())
    }
}

/// A replay as a stream of record batches, built as they are read.
pub struct BookReplay {
    schema: SchemaRef,
    types: DecimalTypes,
    options: ReplayOptions,
    source: Box<dyn PieceSource>,
    /// The piece being walked, and the position of its next item.
    piece: Option<MarketData>,
    position: usize,
    /// The market event index of the next market event: counted across pieces.
    next_event_index: u64,
    books: Books,
    samples: Samples,
    batch_rows: usize,
    done: bool,
    /// L2 events walked so far, of every book.
    l2_events_seen: u64,
    /// For a grid over pieces not known up front: the rows it has made, checked as it goes
    /// against [`grid_row_bound`] of the L2 events seen so far.
    grid_rows_made: Option<u64>,
}

impl BookReplay {
    /// A replay of `data`, as `options` (checked) ask.
    pub fn of_data_set(data: &MarketData, options: ReplayOptions) -> Result<Self, Error> {
        let options = options.checked()?;
        check_grid_size(data, &options)?;
        let mut replay = Self::of_pieces(Box::new(WholeDataSet(Some(data.clone()))), options)?;
        replay.grid_rows_made = None; // checked above, against the whole data set
        Ok(replay)
    }

    /// A replay of `source`'s pieces. The decimal128 columns take the scales of the first piece
    /// that holds L2 events (the pieces before it are walked now); a later piece's value that
    /// needs a larger scale fails the stream there.
    pub fn of_pieces(mut source: Box<dyn PieceSource>, options: ReplayOptions) -> Result<Self, Error> {
        let options = options.checked()?;
        let mut books = Books::default();
        let mut next_event_index = 0;
        let piece = loop {
            match source.next_piece()? {
                Some(piece) if !piece.kinds().events(L2_SLOT).is_empty() => break Some(piece),
                Some(piece) => {
                    // No book to change: only the reconnect counts and the event count move.
                    for item in piece.stream_events().iter() {
                        match item {
                            Item::Reconnecting(exchange) => books.reconnect(*exchange, &options),
                            Item::Item(_) => next_event_index += 1,
                        }
                    }
                }
                None => break None,
            }
        };
        let types = match &piece {
            Some(piece) => decimal_types_of(piece, options.decimals)?,
            None => decimal_types_of(&MarketData::from_items(Vec::new()), options.decimals)?,
        };
        let schema = Arc::new(schema(&options, &types));
        let samples = Samples::new(&options.every);
        let options_every_is_grid = matches!(options.every, Every::Interval(_));
        Ok(Self {
            schema,
            types,
            batch_rows: batch_rows(&options),
            options,
            source,
            piece,
            position: 0,
            next_event_index,
            books,
            samples,
            done: false,
            l2_events_seen: 0,
            grid_rows_made: options_every_is_grid.then_some(0),
        })
    }

    /// Fills `rows` to about a batch; at the input's end, takes the last samples and is done.
    fn fill(&mut self, rows: &mut Rows) -> Result<(), Error> {
        while rows.len() < self.batch_rows {
            if self.samples.ended(&self.options) {
                self.done = true;
                return Ok(());
            }
            let Some(piece) = self.piece.clone() else {
                match self.source.next_piece()? {
                    Some(piece) => (self.piece, self.position) = (Some(piece), 0),
                    None => {
                        self.done = self.sample_rest(rows)?;
                        return Ok(());
                    }
                }
                continue;
            };
            let items = piece.stream_events();
            while self.position < items.len() {
                if rows.len() >= self.batch_rows {
                    return Ok(());
                }
                match &items[self.position] {
                    Item::Reconnecting(exchange) => self.books.reconnect(*exchange, &self.options),
                    Item::Item(event) => {
                        if !self.take(event, rows)? {
                            return Ok(()); // the batch filled before this event: taken next batch
                        }
                        self.next_event_index += 1;
                    }
                }
                self.position += 1;
            }
            self.piece = None;
        }
        Ok(())
    }

    /// Applies `event` if it is an L2 event of a replayed book, with the samples due before and
    /// after it; `false` if the batch filled with samples before it could be applied.
    fn take(&mut self, event: &MarketEvent<InstrumentIndex, DataKind>, rows: &mut Rows) -> Result<bool, Error> {
        let DataKind::OrderBook(book_event) = &event.kind else { return Ok(true) };
        let time = match self.options.clock {
            Clock::Exchange => event.time_exchange,
            Clock::Received => event.time_received,
        };
        // Loading refuses times outside i64 nanoseconds.
        let time = time.timestamp_nanos_opt().ok_or_else(|| Error::internal("an event's time is outside i64 ns"))?;
        // Every L2 event cuts the samples, whichever books are kept: a kept book's rows are
        // then the full replay's, whatever the selection.
        if !self.sample_before(time, rows)? {
            return Ok(false);
        }
        self.l2_events_seen += 1;
        let instrument = event.instrument.index();
        if !self.options.keeps(event.exchange, instrument) {
            return Ok(true);
        }
        let reconnects = self.books.reconnects(event.exchange);
        let index = self.books.index(event.exchange, instrument, &self.options);
        let book = &mut self.books.list[index];
        book.apply(book_event, self.next_event_index, reconnects, self.options.crossed);
        let due = match self.options.every {
            Every::Event => true,
            Every::Change => top_changed(book, self.options.depth),
            Every::Interval(_) | Every::At(_) => false,
        };
        if due && self.options.in_window(time) {
            rows.append(time, book, reconnects).map_err(|error| row_error(error, self.options.decimals, book))?;
        }
        Ok(true)
    }

    /// The samples on the clock that are due before an event at `time`; `false` if the batch
    /// filled first (the rest are taken when the event comes again).
    fn sample_before(&mut self, time: i64, rows: &mut Rows) -> Result<bool, Error> {
        self.samples.start(time, &self.options);
        while let Some(moment) = self.samples.due_before(time) {
            if rows.len() >= self.batch_rows {
                return Ok(false);
            }
            self.sample_books(moment, rows)?;
            self.samples.advance(&self.options);
        }
        self.samples.saw(time);
        Ok(true)
    }

    /// The samples left at the input's end; `true` once all are taken.
    fn sample_rest(&mut self, rows: &mut Rows) -> Result<bool, Error> {
        while let Some(moment) = self.samples.due_at_end() {
            if rows.len() >= self.batch_rows {
                return Ok(false);
            }
            self.sample_books(moment, rows)?;
            self.samples.advance(&self.options);
        }
        Ok(true)
    }

    /// A row for every book seen so far, at `moment` (if in the window).
    fn sample_books(&mut self, moment: i64, rows: &mut Rows) -> Result<(), Error> {
        if !self.options.in_window(moment) {
            return Ok(());
        }
        if let Some(made) = self.grid_rows_made.as_mut() {
            *made += self.books.list.len() as u64;
            let bound = grid_row_bound(self.l2_events_seen);
            if *made > bound {
                let moment =
                    chrono::DateTime::from_timestamp_nanos(moment).to_rfc3339_opts(SecondsFormat::AutoSi, true);
                return Err(too_many_grid_rows(format!("has made {made} rows by {moment}"), bound));
            }
        }
        for book in &mut self.books.list {
            let reconnects = self.books.reconnect_counts.get(book.exchange as usize).copied().unwrap_or(0);
            rows.append(moment, book, reconnects).map_err(|error| row_error(error, self.options.decimals, book))?;
        }
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, Error> {
        if self.done {
            return Ok(None);
        }
        let mut rows = Rows::new(&self.options, &self.types, self.batch_rows);
        self.fill(&mut rows)?;
        if rows.len() == 0 {
            return Ok(None);
        }
        rows.finish(&self.schema).map(Some).map_err(|error| Error::internal(error.to_string()))
    }
}

impl Iterator for BookReplay {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_batch() {
            Ok(batch) => batch.map(Ok),
            Err(error) => {
                self.done = true;
                Some(Err(ArrowError::ExternalError(Box::new(error))))
            }
        }
    }
}

impl RecordBatchReader for BookReplay {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// The `KindIndex` slot of L2 events.
const L2_SLOT: usize = 2;

fn decimal_types_of(data: &MarketData, decimals: Decimals) -> Result<DecimalTypes, Error> {
    let [price, amount]: [_; 2] = decimal_types(data, Table::L2, decimals)?
        .try_into()
        .map_err(|_| Error::internal("the L2 table has two decimal columns"))?;
    let price_bounds = data.kinds().decimal_bounds(L2_SLOT)[0];
    Ok(DecimalTypes::new([price, amount], &price_bounds))
}

/// A row its columns cannot hold. In decimal128 that is a level of a larger scale than its
/// column's, which a file read in pieces can have: its columns take the scales of its first
/// piece with L2 events, before the rest is read. The message names the book and its event;
/// the Python package splits it at "; replay with" to word the way out its own way.
fn row_error(error: ArrowError, decimals: Decimals, book: &TrackedBook) -> Error {
    let which = format!(
        "the book of {} instrument {} after market event {} (its event_index)",
        book.exchange.as_str(),
        book.instrument,
        book.last_event_index
    );
    let message = match decimals {
        Decimals::Decimal128 => format!(
            "book replay: {which} has a level with more decimal places than the replay's decimal128 columns \
             hold (a file read in pieces takes the scales of its first piece with L2 events; {error}); replay \
             with decimals \"text\" (exact, as written) or \"float64\", or replay the loaded data set, whose \
             columns take the whole file's scales"
        ),
        Decimals::Float64 | Decimals::Text => format!("book replay: {which}: {error}"),
    };
    Error::invalid_data(message)
}

/// The most rows a grid (`Every::Interval`) may make over data with `l2_events` L2 events:
/// [`GRID_ROWS_ALWAYS`], or [`GRID_ROWS_PER_L2_EVENT`] per L2 event if that is more. A slip
/// such as 1000 ns on a day's recording would otherwise ask for billions of rows.
fn grid_row_bound(l2_events: u64) -> u64 {
    GRID_ROWS_ALWAYS.max(l2_events.saturating_mul(GRID_ROWS_PER_L2_EVENT))
}

const GRID_ROWS_ALWAYS: u64 = 1_000_000;
const GRID_ROWS_PER_L2_EVENT: u64 = 10;

/// The message ends in the way out in Python's words, which `barter_ffi/book_replay.py` knows as
/// `GRID_ROWS_ADVICE` (the command line words it in its flags).
fn too_many_grid_rows(what: String, bound: u64) -> Error {
    Error::new(
        BarterFfiStatus::InvalidArgument,
        format!(
            "the sampling grid {what}, more than the {bound} a grid may make here ({GRID_ROWS_ALWAYS}, or \
             {GRID_ROWS_PER_L2_EVENT} per L2 event if that is more): choose a longer interval, narrow the rows \
             with emit_from/emit_until, or give the times themselves with at="
        ),
    )
}

/// Refuses, before any row is made, a grid over `data` of more rows than [`grid_row_bound`]:
/// its moments in the window, from the earliest L2 time to the latest, times the books kept.
fn check_grid_size(data: &MarketData, options: &ReplayOptions) -> Result<(), Error> {
    let Every::Interval(interval) = options.every else { return Ok(()) };
    let (mut first, mut last, mut l2_events) = (i64::MAX, i64::MIN, 0u64);
    let mut books = std::collections::HashSet::new();
    for event in data.market_events() {
        if !matches!(event.kind, DataKind::OrderBook(_)) {
            continue;
        }
        let time = match options.clock {
            Clock::Exchange => event.time_exchange,
            Clock::Received => event.time_received,
        };
        let time = time.timestamp_nanos_opt().unwrap_or(i64::MAX);
        (first, last, l2_events) = (first.min(time), last.max(time), l2_events + 1);
        if options.keeps(event.exchange, event.instrument.index()) {
            books.insert((event.exchange, event.instrument.index()));
        }
    }
    let first = first.max(options.emit_from.unwrap_or(i64::MIN));
    let last = last.min(options.emit_until.map_or(i64::MAX, |until| until.saturating_sub(1)));
    let Some(first) = first_multiple_at_or_after(first, interval) else { return Ok(()) };
    if first > last {
        return Ok(());
    }
    let moments = (i128::from(last) - i128::from(first)) / i128::from(interval) + 1;
    let rows = moments.saturating_mul(books.len() as i128);
    let bound = grid_row_bound(l2_events);
    if rows > i128::from(bound) {
        return Err(too_many_grid_rows(
            format!("every {interval} ns makes {moments} moments x {} books = {rows} rows", books.len()),
            bound,
        ));
    }
    Ok(())
}

/// Rows a batch is cut at: about [`BATCH_BYTES`] of values.
fn batch_rows(options: &ReplayOptions) -> usize {
    let value_bytes = match options.decimals {
        Decimals::Decimal128 => 16,
        Decimals::Float64 => 8,
        Decimals::Text => 24,
    };
    let row_bytes = (4 * options.depth + 3) * value_bytes + 80;
    (BATCH_BYTES / row_bytes).clamp(MIN_BATCH_ROWS, BATCH_ROWS)
}

/// Whether the levels the book's rows show, to `depth` a side, differ from those of its last
/// event (a first event counts as a change); remembers them if so.
fn top_changed(book: &mut TrackedBook, depth: usize) -> bool {
    let unchanged = book.shown.as_ref().is_some_and(|(levels, bids)| {
        let (shown_bids, shown_asks) = levels.split_at(*bids);
        book.shown_levels(Side::Bids).take(depth).eq(shown_bids.iter())
            && book.shown_levels(Side::Asks).take(depth).eq(shown_asks.iter())
    });
    if !unchanged {
        let mut levels: Vec<Level> = book.shown.take().map(|(levels, _)| levels).unwrap_or_default();
        levels.clear();
        levels.extend(book.shown_levels(Side::Bids).take(depth));
        let bids = levels.len();
        levels.extend(book.shown_levels(Side::Asks).take(depth));
        book.shown = Some((levels, bids));
    }
    !unchanged
}

/// The replayed books, in the order they were first seen, and each exchange's count of
/// reconnect markers so far.
#[derive(Default)]
struct Books {
    list: Vec<TrackedBook>,
    by_key: FxHashMap<(ExchangeId, usize), usize>,
    /// The last book looked up: consecutive events are mostly of one book.
    last: Option<((ExchangeId, usize), usize)>,
    /// Indexed by `ExchangeId as usize`.
    reconnect_counts: Vec<u64>,
}

impl Books {
    fn reconnects(&self, exchange: ExchangeId) -> u64 {
        self.reconnect_counts.get(exchange as usize).copied().unwrap_or(0)
    }

    /// A marker of `exchange`: counted if its books are replayed, and applied to them.
    fn reconnect(&mut self, exchange: ExchangeId, options: &ReplayOptions) {
        if options.exchanges.as_ref().is_some_and(|kept| !kept.contains(&exchange)) {
            return;
        }
        let slot = exchange as usize;
        if self.reconnect_counts.len() <= slot {
            self.reconnect_counts.resize(slot + 1, 0);
        }
        self.reconnect_counts[slot] += 1;
        for book in self.list.iter_mut().filter(|book| book.exchange == exchange) {
            book.reconnect(options.reconnect);
        }
    }

    /// The index of the book of (`exchange`, `instrument`), made on its first event.
    fn index(&mut self, exchange: ExchangeId, instrument: usize, options: &ReplayOptions) -> usize {
        let key = (exchange, instrument);
        if let Some((last_key, index)) = self.last {
            if last_key == key {
                return index;
            }
        }
        let next = self.list.len();
        let index = *self.by_key.entry(key).or_insert(next);
        if index == next {
            self.list.push(TrackedBook::new(exchange, instrument, self.reconnects(exchange), options.reconnect));
        }
        self.last = Some((key, index));
        index
    }
}

/// The sampling on the clock (a grid, `at` times): which moment is due next.
enum Samples {
    /// Rows are taken at events, not on the clock.
    None,
    Grid {
        interval: i64,
        /// `None` before the first event; past the window's end or i64's, ended.
        next: Option<i64>,
        started: bool,
        latest: i64,
    },
    At {
        times: Vec<i64>,
        next: usize,
    },
}

impl Samples {
    fn new(every: &Every) -> Self {
        match every {
            Every::Event | Every::Change => Samples::None,
            Every::Interval(interval) => {
                Samples::Grid { interval: *interval, next: None, started: false, latest: i64::MIN }
            }
            Every::At(times) => Samples::At { times: times.clone(), next: 0 },
        }
    }

    /// At the first event, at `time`: the grid starts at the first multiple at or after it (or
    /// after the window's start).
    fn start(&mut self, time: i64, options: &ReplayOptions) {
        if let Samples::Grid { interval, next, started, .. } = self {
            if !*started {
                *started = true;
                *next = first_multiple_at_or_after(time.max(options.emit_from.unwrap_or(i64::MIN)), *interval);
                if next.is_some_and(|moment| !options.in_window(moment)) {
                    *next = None;
                }
            }
        }
    }

    /// The next moment, if it lies before an event at `time`.
    fn due_before(&self, time: i64) -> Option<i64> {
        self.next_moment().filter(|&moment| moment < time)
    }

    /// The next moment, if it is due at the end: a grid's up to the latest event's time, every
    /// `at` time.
    fn due_at_end(&self) -> Option<i64> {
        match self {
            Samples::Grid { latest, .. } => self.next_moment().filter(|moment| moment <= latest),
            _ => self.next_moment(),
        }
    }

    fn next_moment(&self) -> Option<i64> {
        match self {
            Samples::None => None,
            Samples::Grid { next, .. } => *next,
            Samples::At { times, next } => times.get(*next).copied(),
        }
    }

    fn advance(&mut self, options: &ReplayOptions) {
        match self {
            Samples::None => {}
            Samples::Grid { interval, next, .. } => {
                *next =
                    next.and_then(|moment| moment.checked_add(*interval)).filter(|&moment| options.in_window(moment));
            }
            Samples::At { next, .. } => *next += 1,
        }
    }

    fn saw(&mut self, time: i64) {
        if let Samples::Grid { latest, .. } = self {
            *latest = (*latest).max(time);
        }
    }

    /// No sample is left to take, whatever comes: the rest of the input can go unread.
    fn ended(&self, options: &ReplayOptions) -> bool {
        match self {
            Samples::None => false,
            Samples::Grid { next, started, .. } => *started && next.is_none(),
            Samples::At { times, next } => {
                times.get(*next).is_none_or(|&moment| options.emit_until.is_some_and(|until| moment >= until))
            }
        }
    }
}

fn first_multiple_at_or_after(time: i64, interval: i64) -> Option<i64> {
    let floor = time.div_euclid(interval).checked_mul(interval)?;
    if floor == time {
        Some(floor)
    } else {
        floor.checked_add(interval)
    }
}
