//! The one fork check. After `fork()` the child holds copies of the parent's objects (channels,
//! thread handles, locks) but only the thread that forked: the threads an object started stayed
//! in the parent, and so did any thread that held one of its locks at that moment, so the lock
//! stays locked in the child forever. An object that records where it was made tells the two
//! apart, before waiting on either.

use super::error::{BarterFfiStatus, Error};

/// The process an object was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MadeIn(u32);

impl MadeIn {
    pub fn this_process() -> Self {
        Self(std::process::id())
    }

    /// Whether the caller runs in a fork's child of the process the object was made in.
    pub fn is_forked_child(self) -> bool {
        self.0 != std::process::id()
    }

    /// The error for using `what` in a fork's child where it cannot work there; `remedy` says
    /// what to do instead.
    pub fn forked_child_error(what: &str, remedy: &str) -> Error {
        Error::new(
            BarterFfiStatus::InvalidArgument,
            format!("{what} cannot be used in a forked child process: {remedy}"),
        )
    }
}
