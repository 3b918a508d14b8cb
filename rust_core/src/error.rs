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
        Self { status, os_errno: 0, message: message.into() }
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

    /// An I/O error on `path`, classified by what the OS said.
    pub fn io(path: &Path, error: &io::Error) -> Self {
        let status = match error.kind() {
            io::ErrorKind::NotFound => BarterFfiStatus::FileNotFound,
            io::ErrorKind::IsADirectory => BarterFfiStatus::IsADirectory,
            io::ErrorKind::PermissionDenied => BarterFfiStatus::PermissionDenied,
            _ => BarterFfiStatus::Io,
        };
        Self {
            status,
            os_errno: error.raw_os_error().unwrap_or(0),
            message: format!("cannot read '{}': {error}", path.display()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
