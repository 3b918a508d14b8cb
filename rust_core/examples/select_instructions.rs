//! One load of a file, whole or selective, for counting its instructions under callgrind (which,
//! unlike wall time, does not depend on what else the machine runs):
//!
//!     valgrind --tool=callgrind target/release/examples/select_instructions FILE [SELECTION]
//!
//! SELECTION: `whole` (default), `kinds=T,T…` (kind tags, as `BARTER_FFI_TAG_*`), or
//! `instruments=I,I…`. Prints the events kept.

use barter_ffi::data_set::select::{load_file, EventFilter};
use std::path::PathBuf;

fn numbers<T: std::str::FromStr>(list: &str) -> impl Iterator<Item = T> + '_ {
    list.split(',').map(|number| number.parse().unwrap_or_else(|_| panic!("not a number: {number}")))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: select_instructions FILE [SELECTION]"));
    let selection = args.next().unwrap_or_else(|| "whole".into());
    let filter = match selection.split_once('=') {
        None if selection == "whole" => EventFilter::default(),
        Some(("kinds", tags)) => EventFilter { kinds: Some(numbers(tags).collect()), ..EventFilter::default() },
        Some(("instruments", indices)) => {
            EventFilter { instruments: Some(numbers(indices).collect()), ..EventFilter::default() }
        }
        _ => panic!("unknown selection {selection}"),
    };
    let data = load_file(&path, &filter, &mut |_| true).expect("the file loads");
    println!("{} events kept", data.len());
}
