//! The forms a data set leaves in (and comes back in), below the C ABI: wire batches (the
//! MessagePack layout, [`wire`]) handed out by a [`cursor`], the next one encoded ahead on a
//! worker ([`read_ahead`]); Arrow tables ([`arrow`]); order books replayed through barter's
//! `OrderBook` as an Arrow table ([`book_replay`]), and the price barter's default engine marks
//! positions at ([`engine_prices`]); a file larger than memory as a stream of data sets
//! ([`stream`]); a data set's counts for people ([`summary`]). Above `data_set`.

pub mod arrow;
pub mod book_replay;
pub mod cursor;
pub(crate) mod decimal_float;
mod decimal_text;
pub mod engine_prices;
pub mod read_ahead;
pub mod stream;
pub mod summary;
pub mod wire;
