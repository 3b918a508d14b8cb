//! Parallel chunks against one pass (`barter_ffi::fuzzing::chunks_match_one_pass`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barter_ffi::fuzzing::chunks_match_one_pass(data));
