//! The data set: barter's `MarketDataInMemory` with the vector it replays ([`market_data`]),
//! where its markers and kinds sit ([`index`], with the decimal columns' [`decimal_bounds`]),
//! its events by index and slices ([`sequence`]), and data sets made from others: merged,
//! filtered, or loaded keeping only what a filter selects ([`select`]). Above `parse`; below
//! the outputs.

pub mod decimal_bounds;
pub mod index;
pub mod market_data;
pub mod select;
pub mod sequence;
