//! Any input replayed through the order books: no panic, barter's own books in the rows, and the
//! change rows exactly the event rows whose top levels changed (`barter_ffi::fuzzing::book_replay`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barter_ffi::fuzzing::book_replay(data));
