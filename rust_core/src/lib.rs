//! barter's `MarketDataInMemory<DataKind>` behind a C ABI.
//!
//! A folder is a layer, listed here bottom first; each uses only the layers before it (CI runs
//! `.ci/check_layers.py`, which fails on an import cycle between layers or between the files of
//! one; `docs/architecture.md` has the map):
//!
//! - [`base`]: barter's events as every layer holds them, the error type, progress reporting.
//! - [`read`]: an input's bytes: whole files (two threads when large), gzip, zstd and bzip2.
//! - [`parse`]: barter's JSON into barter's types: serde, a fast reader, a selective reader.
//! - [`data_set`]: the engine's `MarketDataInMemory` and its `Arc`; sequences, merge, filter.
//! - [`output`]: wire batches and their cursors, Arrow tables, files streamed in pieces.
//! - [`ffi`]: the exported C functions, one file per handle; header: `include/barter_ffi.h`.
//!
//! [`fuzzing`] (feature `fuzzing`) holds the fuzz properties, over every layer.

pub mod base;
pub mod read;
pub mod parse;
pub mod data_set;
pub mod output;
pub mod ffi;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
