//! Parallel chunks against one pass, and a selective load against a whole load filtered
//! (`barter_ffi::fuzzing::chunks_match_one_pass`, `selection_matches_filter`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    barter_ffi::fuzzing::chunks_match_one_pass(data);
    barter_ffi::fuzzing::selection_matches_filter(data);
});
