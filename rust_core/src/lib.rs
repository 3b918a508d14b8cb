//! barter's `MarketDataInMemory<DataKind>` behind a C ABI.
//!
//! - [`load`]: barter's two JSON shapes, parsed by barter's own serde types.
//! - [`canonical`]: a fast reader for the events as barter writes them, beside serde_json.
//! - [`compression`]: gzip, zstd and bzip2 recordings, detected from their magic bytes.
//! - [`market_data`]: the loaded data set (the engine's value plus its `Arc`) and its cursor.
//! - [`read_ahead`]: a cursor that encodes its next batch on a worker thread.
//! - [`wire`]: the MessagePack batch layout the cursor hands out.
//! - [`select`]: data sets made from others: merged by exchange time, or filtered; and loads that
//!   keep only what a filter selects, reading each item through [`selective`].
//! - [`arrow`]: the data set's tables through Arrow, out and back in.
//! - [`stream`]: files larger than memory, read and parsed in bounded pieces.
//! - [`sequence`]: market events by index, and slices, without a walk through the data set.
//! - [`summary`]: a data set's events counted by kind, exchange and instrument, with time spans.
//! - [`ffi`]: the exported C functions, one file per handle; header: `include/barter_ffi.h`.

pub mod arrow;
pub mod canonical;
pub mod compression;
pub mod decimal_bounds;
mod decimal_text;
pub mod error;
pub mod ffi;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod huge_pages;
pub mod load;
pub mod market_data;
pub mod read_ahead;
pub mod select;
pub mod selective;
pub mod sequence;
pub mod stream;
pub mod summary;
#[cfg(unix)]
mod two_thread_read;
pub mod wire;
