//! Any bytes through the byte-buffer loader and the cursor (`barter_ffi::fuzzing::load_bytes`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barter_ffi::fuzzing::load_bytes(data));
