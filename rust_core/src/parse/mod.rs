//! Parsing.

pub mod canonical;
pub mod load;
pub mod selective;
