//! Any bytes as a wire batch built outside the library (`barter_ffi::fuzzing::from_batch`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barter_ffi::fuzzing::from_batch(data));
