//! The bottom layer, which every other one uses and which uses none: barter's events as this
//! crate holds them, the error every function returns, progress reporting, and the allocator
//! of the library's own memory.

pub mod allocator;
pub mod error;
pub mod event;
pub mod progress;
