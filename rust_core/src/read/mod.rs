//! An input's bytes: a file read whole (by two threads when large and plain) or opened to be
//! read in pieces, decompressed when it is gzip, zstd or bzip2; and the compressing writer
//! behind `to_json_file`, with the file it writes whole or not at all. Above `base`; knows
//! nothing of JSON.

pub(crate) mod buffer;
pub mod compression;
#[cfg(unix)]
mod two_thread_read;
pub mod written_file;
