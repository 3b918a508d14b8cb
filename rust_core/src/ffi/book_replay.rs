//! Order books replayed through barter's `OrderBook`, and the engine's mark prices, as Arrow
//! C streams: from a data set, or from the rest of a file stream.

use super::{
    arrow::{decimals, exported_stream},
    call, check_out,
    file_stream::BarterFfiFileStream,
    market_data::{c_array, exchanges_from_c, instruments_from_c, BarterFfiMarketData},
    required, sized, write_out, BarterFfiError,
};
use crate::{
    base::error::{BarterFfiStatus, Error},
    output::{
        book_replay::{BookReplay, Clock, Every, Layout, OnCrossed, OnReconnect, ReplayOptions},
        engine_prices::EnginePrices,
    },
};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use std::ffi::c_char;

/// When a book replay takes a row (`BarterFfiBookReplayOptions.every`). The values are part of
/// the C ABI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiBookEvery {
    /// After each L2 event, for its book.
    Event = 0,
    /// After each L2 event that changes its book's top `depth` levels (price or amount, either
    /// side); a book's first event always.
    Change = 1,
    /// At every multiple of `interval_ns` since the Unix epoch, from the first L2 event's time
    /// to the latest, one row per book seen so far, quiet moments included.
    Interval = 2,
    /// At each of the `at_len` times at `at_ns`, one row per book seen so far.
    At = 3,
}

/// Which time places an event (`BarterFfiBookReplayOptions.clock`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiBookClock {
    /// `time_exchange`.
    Exchange = 0,
    /// `time_received`.
    Received = 1,
}

/// How levels are laid out (`BarterFfiBookReplayOptions.layout`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiBookLayout {
    /// `bid_price_0` … `bid_price_<depth-1>`, then the bid amounts, ask prices, ask amounts.
    Wide = 0,
    /// `bid_price`, `bid_amount`, `ask_price`, `ask_amount`, each a fixed-size list of `depth`.
    Lists = 1,
}

/// What a `Reconnecting` marker does (`BarterFfiBookReplayOptions.reconnect`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiBookReconnect {
    /// Nothing, as barter: the book stays as it was until its next snapshot.
    Keep = 0,
    /// The exchange's books empty, and skip (and count) updates until their next snapshot.
    Reset = 1,
}

/// What the rows show of a crossed book (`BarterFfiBookReplayOptions.crossed`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiBookCrossed {
    /// barter's book as it is.
    Keep = 0,
    /// tardis' rule, in the rows only: the stale side's best levels are left out (and counted)
    /// until the book is no longer crossed.
    Trim = 1,
}

/// What a book replay is asked for. Zero-initialise it, then set `struct_size` and `depth`:
/// every other zero is the default (every event, exchange clock, decimal128, wide, barter's
/// behaviour on reconnects and crossed books, every book, no window). Arrays are read during the
/// call only.
#[repr(C)]
pub struct BarterFfiBookReplayOptions {
    /// `sizeof(BarterFfiBookReplayOptions)` as the caller was compiled: the library reads no
    /// further.
    pub struct_size: usize,
    /// Levels a side each row shows, 0 to `BARTER_FFI_BOOK_MAX_DEPTH`.
    pub depth: u32,
    /// A `BarterFfiBookEvery`.
    pub every: u32,
    /// For `BARTER_FFI_BOOK_EVERY_INTERVAL`: the grid's step in nanoseconds, at least 1.
    pub interval_ns: i64,
    /// For `BARTER_FFI_BOOK_EVERY_AT`: `at_len` times, nanoseconds since the Unix epoch, in any
    /// order (the rows come in time order).
    pub at_ns: *const i64,
    pub at_len: usize,
    /// A `BarterFfiBookClock`.
    pub clock: u32,
    /// A `BarterFfiArrowDecimals`.
    pub decimals: u32,
    /// A `BarterFfiBookLayout`.
    pub layout: u32,
    /// A `BarterFfiBookReconnect`.
    pub reconnect: u32,
    /// A `BarterFfiBookCrossed`.
    pub crossed: u32,
    /// barter's exchange names (NUL-terminated) whose books to replay; NULL replays every
    /// exchange's.
    pub exchanges: *const *const c_char,
    pub exchanges_len: usize,
    /// Instrument indices whose books to replay; NULL replays every instrument's.
    pub instruments: *const u64,
    pub instruments_len: usize,
    /// Keep rows whose time is at or after `emit_from_ns` (when `has_emit_from` is not 0) and
    /// before `emit_until_ns` (when `has_emit_until` is not 0); the books are built from the
    /// start either way.
    pub has_emit_from: u8,
    pub emit_from_ns: i64,
    pub has_emit_until: u8,
    pub emit_until_ns: i64,
}

fn invalid(message: String) -> Error {
    Error::new(BarterFfiStatus::InvalidArgument, message)
}

fn replay_options(options: *const BarterFfiBookReplayOptions) -> Result<ReplayOptions, Error> {
    let options = sized(options, "options", "BarterFfiBookReplayOptions")?;
    let every = match options.every {
        0 => Every::Event,
        1 => Every::Change,
        2 => Every::Interval(options.interval_ns),
        3 => Every::At(c_array(options.at_ns, options.at_len, "at_ns")?.to_vec()),
        other => return Err(invalid(format!("every {other} is not a BarterFfiBookEvery"))),
    };
    Ok(ReplayOptions {
        depth: options.depth as usize,
        every,
        clock: one_of(options.clock, [Clock::Exchange, Clock::Received], "clock", "BarterFfiBookClock")?,
        decimals: decimals(options.decimals)?,
        layout: one_of(options.layout, [Layout::Wide, Layout::Lists], "layout", "BarterFfiBookLayout")?,
        reconnect: one_of(
            options.reconnect,
            [OnReconnect::Keep, OnReconnect::Reset],
            "reconnect",
            "BarterFfiBookReconnect",
        )?,
        crossed: one_of(options.crossed, [OnCrossed::Keep, OnCrossed::Trim], "crossed", "BarterFfiBookCrossed")?,
        exchanges: exchanges_from_c(options.exchanges, options.exchanges_len)?,
        instruments: instruments_from_c(options.instruments, options.instruments_len)?,
        emit_from: (options.has_emit_from != 0).then_some(options.emit_from_ns),
        emit_until: (options.has_emit_until != 0).then_some(options.emit_until_ns),
    }
    .checked()?)
}

/// The `value`th of `choices`, the values of the C enum `enum_name`.
fn one_of<T: Copy, const N: usize>(value: u32, choices: [T; N], field: &str, enum_name: &str) -> Result<T, Error> {
    choices.get(value as usize).copied().ok_or_else(|| invalid(format!("{field} {value} is not a {enum_name}")))
}

/// The order books of `market_data` replayed through barter's own `OrderBook::update`, one
/// book per (exchange, instrument), in stored order, as `options` ask: a fresh stream written
/// into the caller's `*out_stream` (release it with `out_stream->release(out_stream)`). The
/// columns, and which state a sample on the clock shows, are written down in each field's
/// `description` metadata and in the README's "Order books" section. Invalid options fail here
/// (BARTER_FFI_STATUS_INVALID_ARGUMENT); a decimal128 value too wide for its column fails here
/// too (BARTER_FFI_STATUS_INVALID_DATA). The stream holds its own reference to the data, stays
/// valid after the handle is freed, and builds each batch (about 2 MiB of values, at most 65536
/// rows) on the reading thread when it is asked for.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_book_replay(
    market_data: *const BarterFfiMarketData,
    options: *const BarterFfiBookReplayOptions,
    out_stream: *mut FFI_ArrowArrayStream,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let data = &required(market_data, "market_data")?.0;
        let options = replay_options(options)?;
        check_out(out_stream, "out_stream")?;
        let replay = BookReplay::of_data_set(data, options)?;
        write_out(out_stream, "out_stream", exported_stream(replay))
    })
}

/// `barter_ffi_market_data_book_replay` over the rest of a file being streamed, in bounded
/// memory, the books carried from piece to piece. Takes the pieces `stream` has not handed out:
/// the stream is then at its end (its `_progress` still follows the replay's reading), and is
/// freed as usual, before or after the replay. The decimal128 columns take the scales of the
/// first piece that holds L2 events (read during this call); a later value that needs a larger
/// scale fails the Arrow stream there, with a message naming `text` and `float64`, which never
/// do. Errors in the file's content fail the Arrow stream where it reaches them.
#[no_mangle]
pub extern "C" fn barter_ffi_file_stream_book_replay(
    stream: *const BarterFfiFileStream,
    options: *const BarterFfiBookReplayOptions,
    out_stream: *mut FFI_ArrowArrayStream,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let stream = required(stream, "stream")?;
        let options = replay_options(options)?;
        check_out(out_stream, "out_stream")?;
        let replay = BookReplay::of_pieces(Box::new(stream.take_rest()?), options)?;
        write_out(out_stream, "out_stream", exported_stream(replay))
    })
}

/// The price barter's default engine would mark each instrument at, after every trade and L1
/// event of `market_data`: barter's `DefaultInstrumentMarketData` per (exchange, instrument),
/// fed with its own `process` (strict time comparisons included), as a fresh stream written
/// into `*out_stream` (`decimals` a `BarterFfiArrowDecimals`). Columns: each field's
/// `description` metadata.
#[no_mangle]
pub extern "C" fn barter_ffi_market_data_engine_prices(
    market_data: *const BarterFfiMarketData,
    decimals: u32,
    out_stream: *mut FFI_ArrowArrayStream,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let data = &required(market_data, "market_data")?.0;
        let decimals = self::decimals(decimals)?;
        check_out(out_stream, "out_stream")?;
        let prices = EnginePrices::new(data, decimals)?;
        write_out(out_stream, "out_stream", exported_stream(prices))
    })
}
