//! Parsing in parallel chunks gives exactly what one pass gives: events, counts and errors.

mod common;

use barter_ffi::{
    base::error::BarterFfiStatus,
    parse::load::{chunk_count, parse, parse_in_chunks, parse_with_progress, Parsed},
};
use common::fixture;

fn summary(parsed: &Parsed) -> (String, u64, u64) {
    (format!("{:?}", parsed.events), parsed.reconnects, parsed.errors_skipped)
}

fn same_as_one_pass(input: &str) {
    let whole = parse_in_chunks(input.as_bytes(), "input", 1);
    for chunks in 2..=7 {
        let chunked = parse_in_chunks(input.as_bytes(), "input", chunks);
        match (&whole, &chunked) {
            (Ok(whole), Ok(chunked)) => assert_eq!(summary(whole), summary(chunked), "{chunks} chunks"),
            (Err(whole), Err(chunked)) => assert_eq!(whole, chunked, "{chunks} chunks"),
            _ => panic!("{chunks} chunks: {whole:?} vs {chunked:?}"),
        }
    }
}

fn repeated(name: &str, times: usize) -> String {
    std::fs::read_to_string(fixture(name)).unwrap().repeat(times)
}

#[test]
fn json_lines_in_chunks() {
    same_as_one_pass(&repeated("all_kinds.jsonl", 5));
    same_as_one_pass(&repeated("candles.jsonl", 9));
}

#[test]
fn json_lines_errors_keep_their_file_line() {
    let mut text = repeated("candles.jsonl", 10);
    text.push_str("{\"Item\":{\"oops\"}}\n");
    text.push_str(&repeated("candles.jsonl", 2));
    let error = parse_in_chunks(text.as_bytes(), "input", 4).unwrap_err();
    assert!(error.message.starts_with("input: line 51 column 16:"), "{}", error.message);
    same_as_one_pass(&text);
}

fn array_of(items: &[&str]) -> String {
    format!("[\n  {}\n]\n", items.join(",\n  "))
}

#[test]
fn result_arrays_in_chunks() {
    let fixture_text = std::fs::read_to_string(fixture("all_kinds_results.json")).unwrap();
    let inner = fixture_text.trim().trim_start_matches('[').trim_end_matches(']').trim();
    let items: Vec<&str> = std::iter::repeat(inner).take(6).collect();
    same_as_one_pass(&array_of(&items));
}

#[test]
fn a_split_inside_a_nested_value_falls_back_to_one_pass() {
    // Unknown keys are ignored by barter; this one holds text that looks like item boundaries.
    let trade = r#"{"Item":{"Ok":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z","exchange":"okx","instrument":1,"kind":{"Trade":{"id":"1","price":1.0,"amount":1.0,"side":"Buy"}}}}}"#;
    let decoy = r#"{"Item":{"Ok":{"decoy":[1, {"Item":2}, {"Item":3}, {"x":"},{\"Item\""}],"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z","exchange":"okx","instrument":2,"kind":{"Trade":{"id":"2","price":1.0,"amount":1.0,"side":"Sell"}}}}}"#;
    let items: Vec<&str> = (0..40).map(|index| if index % 3 == 0 { decoy } else { trade }).collect();
    let text = array_of(&items);
    same_as_one_pass(&text);
    assert_eq!(parse_in_chunks(text.as_bytes(), "input", 5).unwrap().events.len(), 40);
}

#[test]
fn array_errors_are_those_of_one_pass() {
    let good = r#"{"Reconnecting":"okx"}"#;
    let mut items = vec![good; 30];
    items[22] = r#"{"Reconnecting":"nyse"}"#;
    same_as_one_pass(&array_of(&items));
    let mut trailing = array_of(&items[..5]);
    trailing.push_str("garbage");
    same_as_one_pass(&trailing);
}

#[test]
fn small_inputs_take_one_pass_and_large_ones_every_core() {
    assert_eq!(chunk_count(0), 1);
    assert_eq!(chunk_count((4 << 20) - 1), 1, "below 4 MiB a thread costs more than it saves");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(chunk_count(4 << 20), 4 * cores.max(1), "four pieces per core, to share them out");
    assert_eq!(chunk_count(1 << 30), (4 * cores).max(64), "pieces of at most 16 MiB, for progress");
    let text = repeated("all_kinds.jsonl", 2);
    assert_eq!(
        summary(&parse(text.as_bytes(), "input").unwrap()),
        summary(&parse_in_chunks(text.as_bytes(), "input", 1).unwrap())
    );
}

#[test]
fn only_jsons_whitespace_counts_as_blank() {
    // Found by the chunks_match_one_pass fuzzer: a vertical tab after the array.
    same_as_one_pass("[]\t\r\t\t\r\t\t\r\t\t\t\t\t\t\x0b\t\t\t");
    let item = r#"{"Reconnecting":"okx"}"#;
    for odd in ["\x0b", "\x0c"] {
        same_as_one_pass(&format!("[{item},{odd}{item},{item}]{odd}"));
        same_as_one_pass(&format!("{item}\n{odd}\n{item}\n"));
        assert!(parse_in_chunks(format!("[{item}]{odd}").as_bytes(), "input", 1).is_err());
    }
}

#[test]
fn progress_is_reported_on_the_loading_thread_up_to_the_input_length() {
    let loader = std::thread::current().id();
    for text in
        [repeated("all_kinds.jsonl", 2), repeated("all_kinds.jsonl", 8_000), array_of(&[&repeated_items(3_000)])]
    {
        let mut reported = Vec::new();
        parse_with_progress(text.as_bytes(), "input", &mut |bytes| {
            assert_eq!(std::thread::current().id(), loader, "never on a parsing thread");
            reported.push(bytes);
            true
        })
        .unwrap();
        assert_eq!(reported.last(), Some(&text.len()));
        assert!(reported.windows(2).all(|pair| pair[0] <= pair[1]), "never decreasing");
        assert!(text.len() < 4 << 20 || reported.len() > 1, "large inputs report more than once");
    }
}

fn repeated_items(times: usize) -> String {
    let text = std::fs::read_to_string(fixture("all_kinds_results.json")).unwrap();
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']').trim().to_string();
    vec![inner; times].join(",\n")
}

#[test]
fn a_progress_callback_cancels_a_large_load() {
    for text in [repeated("all_kinds.jsonl", 20_000), array_of(&[&repeated_items(6_000)])] {
        assert!(text.len() > 4 << 20);
        let mut calls = 0;
        let error = parse_with_progress(text.as_bytes(), "input", &mut |_| {
            calls += 1;
            false
        })
        .unwrap_err();
        assert_eq!(error.status, BarterFfiStatus::Cancelled, "{}", error.message);
        assert_eq!(calls, 1, "cancelled at the first report, so no more were made");
    }
}
