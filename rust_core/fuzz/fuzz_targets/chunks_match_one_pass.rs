//! Parallel chunks against one pass, a selective load against a whole load filtered, a stream
//! in pieces against the whole load, and the canonical reader against serde_json
//! and a selective read of each line against the serde walk alone
//! (`barter_ffi::fuzzing::chunks_match_one_pass`, `selection_matches_filter`,
//! `stream_matches_whole_load`, `canonical_matches_serde`, `selective_lines_match_the_walk`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    barter_ffi::fuzzing::chunks_match_one_pass(data);
    barter_ffi::fuzzing::selection_matches_filter(data);
    barter_ffi::fuzzing::stream_matches_whole_load(data);
    barter_ffi::fuzzing::canonical_matches_serde(data);
    barter_ffi::fuzzing::selective_lines_match_the_walk(data);
});
