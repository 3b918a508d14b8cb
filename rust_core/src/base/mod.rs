//! The bottom layer.

pub mod error;
