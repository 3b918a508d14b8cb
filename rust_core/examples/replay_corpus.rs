//! Replays fuzz inputs through every fuzz property once, for valgrind (stable Rust has no
//! AddressSanitizer here, so CI runs this under memcheck instead):
//!
//!     cargo build --release --features fuzzing --example replay_corpus
//!     valgrind target/release/examples/replay_corpus DIR_OR_FILE...

fn main() {
    let mut replayed = 0;
    for argument in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(argument);
        let files = if path.is_dir() {
            std::fs::read_dir(&path).expect("a readable corpus directory").map(|entry| entry.unwrap().path()).collect()
        } else {
            vec![path]
        };
        for file in files {
            let data = std::fs::read(&file).expect("a readable corpus file");
            barter_ffi::fuzzing::load_bytes(&data);
            barter_ffi::fuzzing::from_batch(&data);
            barter_ffi::fuzzing::chunks_match_one_pass(&data);
            barter_ffi::fuzzing::selection_matches_filter(&data);
            barter_ffi::fuzzing::stream_matches_whole_load(&data);
            barter_ffi::fuzzing::canonical_matches_serde(&data);
            barter_ffi::fuzzing::selective_lines_match_the_walk(&data);
            barter_ffi::fuzzing::book_replay(&data);
            replayed += 1;
        }
    }
    println!("replayed {replayed} inputs through every fuzz property");
}
