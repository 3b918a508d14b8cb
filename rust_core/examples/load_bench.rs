//! Way (e) of the benchmark: barter-ffi's loader against barter's own, on the same file.
//!
//!     cargo run --release --example load_bench -- FILE [ROUNDS]
//!
//! barter's own loader is what its examples do: `serde_json::from_str` of the whole file into
//! `Vec<MarketStreamResult<InstrumentIndex, DataKind>>` for the JSON-array shape, and one
//! `serde_json::from_str::<MarketStreamEvent<..>>` per line for JSON Lines: one core. barter-ffi
//! is timed as users get it (all cores) and on one core (the file read, then one parse pass),
//! which is the per-core comparison. Rounds alternate.

use barter_data::{
    event::DataKind,
    streams::consumer::{MarketStreamEvent, MarketStreamResult},
};
use barter_ffi::{data_set::market_data::MarketData, parse::load::parse_in_chunks};
use barter_instrument::instrument::InstrumentIndex;
use std::{path::PathBuf, time::Instant};

fn barter_loader(path: &PathBuf) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    // Kept, as a loader keeps them for MarketDataInMemory (dropping each at once would flatter it).
    if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<MarketStreamResult<InstrumentIndex, DataKind>>>(&text).unwrap().len()
    } else {
        let events: Vec<MarketStreamEvent<InstrumentIndex, DataKind>> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        std::hint::black_box(&events).len()
    }
}

fn median(mut seconds: Vec<f64>) -> f64 {
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: load_bench FILE [ROUNDS]"));
    let rounds: usize = args.next().map_or(7, |r| r.parse().unwrap());
    let megabytes = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    let (mut ours, mut one_core, mut barters) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        let data = MarketData::from_file(&path).unwrap();
        ours.push(start.elapsed().as_secs_f64());
        drop(data);
        let start = Instant::now();
        let bytes = std::fs::read(&path).unwrap();
        std::hint::black_box(parse_in_chunks(&bytes, "bench", 1).unwrap());
        one_core.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        std::hint::black_box(barter_loader(&path));
        barters.push(start.elapsed().as_secs_f64());
    }
    let (ours, one_core, barters) = (median(ours), median(one_core), median(barters));
    println!("{}: {megabytes:.1} MB, {rounds} alternating rounds, medians", path.display());
    println!("  barter-ffi MarketData::from_file  {:>8.1} ms  {:>6.0} MB/s", ours * 1e3, megabytes / ours);
    println!("  barter-ffi on one core            {:>8.1} ms  {:>6.0} MB/s", one_core * 1e3, megabytes / one_core);
    println!("  barter's own serde_json loader    {:>8.1} ms  {:>6.0} MB/s", barters * 1e3, megabytes / barters);
    println!("  ratio (barter / barter-ffi)       {:>8.2}x", barters / ours);
    println!("  ratio per core                    {:>8.2}x", barters / one_core);
}
