//! Differential: parsing in 2, 3 or 4 parallel chunks must give exactly what one pass gives,
//! events or error, for any input.
#![no_main]

use barter_ffi::load::parse_in_chunks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let render = |chunks| match parse_in_chunks(data, "fuzz", chunks) {
        Ok(parsed) => format!("{:?} {} {}", parsed.events, parsed.reconnects, parsed.errors_skipped),
        Err(error) => format!("{error:?}"),
    };
    let one_pass = render(1);
    for chunks in 2..=4 {
        assert_eq!(render(chunks), one_pass, "{chunks} chunks");
    }
});
