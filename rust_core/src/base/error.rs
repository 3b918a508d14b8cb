//! The crate's error type: a kind the C caller can branch on, and a message that names the problem.

use std::{fmt, io, path::Path};

/// What went wrong, coarse enough for a C caller to map onto its own error types.
///
/// The discriminants are part of the C ABI (`BarterFfiStatus`): append, never renumber.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiStatus {
    /// The call succeeded.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument was present but unusable (for example a path that is not valid for the OS).
    InvalidArgument = 2,
    /// The file does not exist.
    FileNotFound = 3,
    /// The path names a directory.
    IsADirectory = 4,
    /// The OS refused access to the file.
    PermissionDenied = 5,
    /// Any other I/O failure; `os_errno` says which.
    Io = 6,
    /// The content is not barter market data: malformed JSON, wrong types, unknown variants.
    InvalidData = 7,
    /// The content is well formed but holds no market event (barter's constructor needs one).
    NoMarketEvents = 8,
    /// A bug inside the library, such as a panic caught before it could cross the C boundary.
    Internal = 9,
    /// An event index or range lies outside the data set's market events.
    IndexOutOfRange = 10,
    /// The memory the data needs could not be had; nothing was kept.
    OutOfMemory = 11,
    /// The caller's progress callback asked to stop; nothing was kept.
    Cancelled = 12,
}

/// An error on its way to the C caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: BarterFfiStatus,
    /// The OS error number for I/O errors, 0 otherwise.
    pub os_errno: i32,
    pub message: String,
}

impl Error {
    pub fn new(status: BarterFfiStatus, message: impl Into<String>) -> Self {
        Self { status, os_errno: 0, message: cap_quotes(message.into()) }
    }

    /// The caller's progress callback asked the load to stop.
    pub fn cancelled() -> Self {
        Self::new(BarterFfiStatus::Cancelled, "the load was cancelled")
    }

    /// `what` could not be given memory.
    pub fn out_of_memory(what: impl fmt::Display) -> Self {
        Self::new(BarterFfiStatus::OutOfMemory, format!("not enough memory for {what}"))
    }

    pub fn invalid_data(message: impl Into<String>) -> Self {
        Self::new(BarterFfiStatus::InvalidData, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(BarterFfiStatus::Internal, message)
    }

    pub fn null_argument(name: &str) -> Self {
        Self::new(BarterFfiStatus::NullArgument, format!("argument `{name}` is NULL"))
    }

    /// An I/O error reading `path`, classified by what the OS said.
    pub fn io(path: &Path, error: &io::Error) -> Self {
        Self::io_doing("read", path, error)
    }

    /// An I/O error writing `path`, classified as [`io`](Self::io)'s.
    pub fn io_writing(path: &Path, error: &io::Error) -> Self {
        Self::io_doing("write", path, error)
    }

    fn io_doing(doing: &str, path: &Path, error: &io::Error) -> Self {
        let status = match error.kind() {
            io::ErrorKind::NotFound => BarterFfiStatus::FileNotFound,
            io::ErrorKind::IsADirectory => BarterFfiStatus::IsADirectory,
            io::ErrorKind::PermissionDenied => BarterFfiStatus::PermissionDenied,
            _ => BarterFfiStatus::Io,
        };
        Self {
            status,
            os_errno: error.raw_os_error().unwrap_or(0),
            message: format!("cannot {doing} '{}': {error}", path.display()),
        }
    }
}

/// `count` and `noun`, the noun plural unless the count is one: "1 reconnect marker", "2 Err items".
pub(crate) fn counted(count: impl TryInto<u64> + fmt::Display + Copy, noun: &str) -> String {
    match count.try_into() {
        Ok(1) => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// How much of one quoted piece of the input a message repeats.
const MAX_QUOTED_BYTES: usize = 200;

/// Shortens every quoted piece (between backticks or double quotes, as serde quotes the input)
/// longer than [`MAX_QUOTED_BYTES`] to that many bytes, an ellipsis and its full length, so that a
/// crafted input cannot make an error message carry megabytes of it.
fn cap_quotes(message: String) -> String {
    if message.len() <= MAX_QUOTED_BYTES {
        return message;
    }
    let mut capped = String::with_capacity(message.len().min(4 * MAX_QUOTED_BYTES));
    let mut rest = message.as_str();
    while let Some(open) = rest.find(['`', '"']) {
        let quote = &rest[open..=open];
        let Some(length) = rest[open + 1..].find(quote) else { break };
        let quoted = &rest[open + 1..open + 1 + length];
        capped.push_str(&rest[..=open]);
        if quoted.len() > MAX_QUOTED_BYTES {
            let cut = (0..=MAX_QUOTED_BYTES).rev().find(|&end| quoted.is_char_boundary(end)).unwrap_or(0);
            capped.push_str(&quoted[..cut]);
            capped.push_str(&format!("…{quote} ({} bytes)", quoted.len()));
        } else {
            capped.push_str(quoted);
            capped.push_str(quote);
        }
        rest = &rest[open + 2 + length..];
    }
    capped.push_str(rest);
    capped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_input_is_cut_and_short_quotes_are_kept() {
        let long = "x".repeat(5_000_000);
        let error = Error::invalid_data(format!("f: line 1: unknown variant `{long}`, expected `okx` or \"a\""));
        assert_eq!(
            error.message,
            format!("f: line 1: unknown variant `{}…` (5000000 bytes), expected `okx` or \"a\"", "x".repeat(200))
        );
        let unicode = "é".repeat(150); // 300 bytes: the cut lands on a character boundary
        let error = Error::invalid_data(format!("invalid type: string \"{unicode}\""));
        assert!(error.message.starts_with(&format!("invalid type: string \"{}…\" (300 bytes)", "é".repeat(100))));
        let unbalanced = format!("a ` b {}", "y".repeat(300));
        assert_eq!(Error::invalid_data(unbalanced.clone()).message, unbalanced);
    }
}
