//! Outputs.

pub mod arrow;
pub(crate) mod decimal_text;
pub mod read_ahead;
pub mod stream;
pub mod wire;
