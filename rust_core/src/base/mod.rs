//! The bottom layer, which every other one uses and which uses none: barter's events as this
//! crate holds them, the error every function returns, progress reporting, the panic guard
//! every thread and callback runs behind, the fork check, and the allocator of the library's
//! own memory.

pub mod allocator;
pub mod error;
pub mod event;
pub mod guard;
pub mod process;
pub mod progress;
