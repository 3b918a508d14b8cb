//! The forms a data set leaves in (and comes back in), below the C ABI: wire batches (the
//! MessagePack layout, [`wire`]) handed out by a [`cursor`], the next one encoded ahead on a
//! worker ([`read_ahead`]); Arrow tables ([`arrow`]); and a file larger than memory as a stream
//! of data sets ([`stream`]); a data set's counts for people ([`summary`]). Above `data_set`.

pub mod arrow;
pub mod cursor;
mod decimal_text;
pub mod read_ahead;
pub mod stream;
pub mod summary;
pub mod wire;
