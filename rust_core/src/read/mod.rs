//! Reading bytes.

pub(crate) mod buffer;
pub mod compression;
#[cfg(unix)]
pub(crate) mod two_thread_read;
