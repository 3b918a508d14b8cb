//! Parsing barter's JSON into barter's own types: the two file shapes read by barter's serde
//! types ([`load`], which also splits a large input across cores), the fast reader for events
//! in barter's own layout ([`canonical`]), and the reader that builds only the events a
//! selection keeps ([`selective`], with [`skim`] for lines exactly as barter writes them). Above `base`; below the data set, which holds what it makes.

pub mod canonical;
pub mod load;
pub mod selective;
pub mod skim;

/// JSON's whitespace: narrower than Rust's (no form feed, no vertical tab), and the only
/// definition used here, so that every path agrees with serde_json on where content starts.
pub(crate) fn is_json_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}
