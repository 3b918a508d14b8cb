//! The data set.

pub mod decimal_bounds;
pub mod market_data;
pub mod select;
pub mod sequence;
