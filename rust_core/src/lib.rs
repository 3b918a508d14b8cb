//! barter's `MarketDataInMemory<DataKind>` behind a C ABI, in layers (see `base`, `read`,
//! `parse`, `data_set`, `output`, `ffi`).

pub mod base;
pub mod data_set;
pub mod ffi;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod output;
pub mod parse;
pub mod read;

// The modules' paths before they moved into layers, until every use names the new ones.
pub use base::error;
pub use data_set::{decimal_bounds, market_data, select, sequence};
use output::decimal_text;
pub use output::{arrow, read_ahead, stream, wire};
pub use parse::{canonical, load, selective};
use read::buffer as huge_pages;
pub use read::compression;
#[cfg(unix)]
use read::two_thread_read;
