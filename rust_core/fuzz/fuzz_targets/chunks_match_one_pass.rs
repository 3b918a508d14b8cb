//! Parallel chunks against one pass, a selective load against a whole load filtered, and a
//! stream in pieces against the whole load (`barter_ffi::fuzzing::chunks_match_one_pass`,
//! `selection_matches_filter`, `stream_matches_whole_load`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    barter_ffi::fuzzing::chunks_match_one_pass(data);
    barter_ffi::fuzzing::selection_matches_filter(data);
    barter_ffi::fuzzing::stream_matches_whole_load(data);
});
