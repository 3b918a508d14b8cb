//! Streaming a file in pieces gives what loading it whole gives: the same items in the same
//! order, with any selection, in both shapes, compressed or not, and the same first error.

mod common;

use barter_ffi::{
    base::event::StreamEvent,
    data_set::{
        market_data::{JsonShape, MarketData},
        select::{load_file, EventFilter},
    },
    output::stream::{FileStream, PieceSize, MAX_LINE_BYTES},
    read::compression::BarterFfiCompression,
};
use barter_instrument::exchange::ExchangeId;
use common::fixture;
use std::path::{Path, PathBuf};

const SMALL: PieceSize = PieceSize { bytes: 700, array_items: 3, max_line_bytes: MAX_LINE_BYTES };

fn temp_dir() -> PathBuf {
    let directory = std::env::temp_dir().join(format!("barter_ffi_stream_{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// Every fixture's items several times over, reconnect markers included, in `shape`.
fn recording(shape: JsonShape, compression: BarterFfiCompression) -> PathBuf {
    let sources = ["all_kinds.jsonl", "all_kinds_results.json", "candles.jsonl", "trades.json"];
    let data: Vec<MarketData> = sources.iter().map(|name| MarketData::from_file(&fixture(name)).unwrap()).collect();
    let mut lines = Vec::new();
    for _ in 0..4 {
        for set in &data {
            lines.extend_from_slice(&set.to_json(JsonShape::Lines).unwrap());
        }
    }
    let whole = MarketData::from_bytes(&lines, "recording").unwrap();
    // Each test writes its own file: tests run in parallel.
    static WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let number = WRITTEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = temp_dir().join(format!("recording_{number}_{shape:?}.{}", compression.name()));
    whole.to_json_file(&path, shape, compression).unwrap();
    path
}

fn streamed(
    path: &Path,
    filter: &EventFilter,
    size: PieceSize,
) -> Result<Vec<StreamEvent>, barter_ffi::base::error::Error> {
    Ok(streamed_with_errors_skipped(path, filter, size)?.0)
}

/// The items of every piece, and the `Err` items the pieces count as skipped.
fn streamed_with_errors_skipped(
    path: &Path,
    filter: &EventFilter,
    size: PieceSize,
) -> Result<(Vec<StreamEvent>, u64), barter_ffi::base::error::Error> {
    let mut stream = FileStream::open_in_pieces(path, filter.clone(), size)?;
    let (mut items, mut errors_skipped) = (Vec::new(), 0);
    let mut only_a_count = false;
    while let Some(piece) = stream.next_piece()? {
        assert!(!only_a_count, "a piece without items is the last");
        only_a_count = piece.stream_events().is_empty();
        assert!(!only_a_count || piece.stats().errors_skipped > 0, "no empty piece is handed out");
        items.extend(piece.stream_events().iter().cloned());
        errors_skipped += piece.stats().errors_skipped;
    }
    assert!(stream.next_piece().unwrap().is_none(), "the end stays the end");
    Ok((items, errors_skipped))
}

fn filters() -> Vec<EventFilter> {
    let everything = EventFilter::default();
    let trades = EventFilter { kinds: Some([0].into()), ..EventFilter::default() };
    let books = EventFilter { kinds: Some([2, 3].into()), ..EventFilter::default() };
    let okx = EventFilter { exchanges: Some([ExchangeId::Okx].into()), ..EventFilter::default() };
    let window = EventFilter {
        start_ns: Some(1_734_721_518_176_000_000),
        end_ns: Some(1_734_721_550_000_000_000),
        ..EventFilter::default()
    };
    let nothing = EventFilter { instruments: Some([999].into()), ..EventFilter::default() };
    vec![everything, trades, books, okx, window, nothing]
}

#[test]
fn pieces_hold_what_the_whole_load_holds_for_every_shape_compression_and_filter() {
    for shape in [JsonShape::Lines, JsonShape::Array] {
        for compression in [BarterFfiCompression::None, BarterFfiCompression::Zstd, BarterFfiCompression::Gzip] {
            let path = recording(shape, compression);
            for filter in filters() {
                let whole = load_file(&path, &filter, &mut |_| true).unwrap();
                for size in [
                    SMALL,
                    PieceSize { bytes: 1, array_items: 1, max_line_bytes: MAX_LINE_BYTES },
                    PieceSize::default(),
                ] {
                    let items = streamed(&path, &filter, size).unwrap();
                    assert_eq!(&items, whole.stream_events().as_ref(), "{shape:?} {compression:?} {filter:?} {size:?}");
                }
            }
        }
    }
}

#[test]
fn pieces_count_the_err_items_of_an_array() {
    let path = fixture("all_kinds_results.json");
    let whole = MarketData::from_file(&path).unwrap();
    assert!(whole.stats().errors_skipped > 0);
    let (_, errors_skipped) =
        streamed_with_errors_skipped(&path, &EventFilter::default(), PieceSize::default()).unwrap();
    assert_eq!(errors_skipped, whole.stats().errors_skipped);
    // In small pieces too, with Err items after the last item (a last piece without items
    // counts them), and with a selection that leaves out the events among the last Err items.
    const ERR_ITEM: &str = r#"{"Item": {"Err": "SubscriptionsEmpty"}}"#;
    let text = std::fs::read_to_string(&path).unwrap();
    let items = text.trim_end().strip_suffix(']').unwrap().trim_end();
    let path = temp_dir().join("errors_after_the_last_item.json");
    std::fs::write(&path, format!("{items},\n  {ERR_ITEM},\n  {ERR_ITEM}\n]\n")).unwrap();
    let whole = MarketData::from_file(&path).unwrap();
    let trades = EventFilter { kinds: Some([0].into()), ..EventFilter::default() };
    for filter in [EventFilter::default(), trades] {
        assert_eq!(
            load_file(&path, &filter, &mut |_| true).unwrap().stats().errors_skipped,
            whole.stats().errors_skipped
        );
        for size in
            [SMALL, PieceSize { bytes: 1, array_items: 1, max_line_bytes: MAX_LINE_BYTES }, PieceSize::default()]
        {
            let (_, errors_skipped) = streamed_with_errors_skipped(&path, &filter, size).unwrap();
            assert_eq!(errors_skipped, whole.stats().errors_skipped, "{filter:?} {size:?}");
        }
    }
}

#[test]
fn the_first_error_is_the_whole_loads_error() {
    let plain = std::fs::read_to_string(recording(JsonShape::Lines, BarterFfiCompression::None)).unwrap();
    let array = std::fs::read_to_string(recording(JsonShape::Array, BarterFfiCompression::None)).unwrap();
    let late = plain.len() * 3 / 4;
    let cases = [
        ("bad_variant.jsonl", plain.replacen("\"Sell\"", "\"Sold\"", 3)),
        (
            "late_bad_json.jsonl",
            format!("{}{{\"Item\":oops\n{}", &plain[..plain[..late].rfind('\n').unwrap() + 1], &plain[late..]),
        ),
        // A bad value in an event a selection leaves out, then broken JSON: a selective stream
        // stops at the JSON, and must read the file again to report the value, as the
        // selective load does.
        (
            "bad_value_then_bad_json.jsonl",
            format!(
                "{}{{\"Item\":oops\n{}",
                &plain[..plain[..late].rfind('\n').unwrap() + 1].replacen(
                    "\"best_bid\":{\"price\":\"",
                    "\"best_bid\":{\"price\":\"abc",
                    1
                ),
                &plain[late..]
            ),
        ),
        ("no_events.jsonl", "{\"Reconnecting\":\"okx\"}\n\n".to_owned()),
        ("blank.jsonl", " \n\t\n".to_owned()),
        ("bad_start.json", "  x".to_owned()),
        ("bad_array_item.json", array.replacen("\"Buy\"", "\"Bought\"", 5)),
        ("trailing.json", format!("{array} ]")),
        ("unclosed.json", array.trim_end().trim_end_matches(']').to_owned()),
        // What the fuzzer found: read at a piece's edge as it would be alone, each of these
        // was once a different error, or none at all.
        ("trailing_comma.json", format!("{},\n]", array.trim_end().trim_end_matches(']').trim_end())),
        ("trailing_comma_one_line.json", r#"[{"Reconnecting":"okx"},{"Reconnecting":"okx"},]"#.to_owned()),
        ("leading_comma.json", format!("[,{}", &array.trim_start()[1..])),
        ("garbage_after.json", format!("{} {{\"a\":1, \"b\":2}}]", array.trim_end())),
    ];
    for (name, text) in cases {
        let path = temp_dir().join(name);
        std::fs::write(&path, &text).unwrap();
        let expected = MarketData::from_file(&path).unwrap_err();
        for size in [SMALL, PieceSize::default()] {
            assert_eq!(streamed(&path, &EventFilter::default(), size).unwrap_err(), expected, "{name} {size:?}");
        }
        // Selecting kinds the broken event is not of: a selective load still says the file's first
        // error, which lies in an event it would have left out.
        let candles = EventFilter { kinds: Some([4].into()), ..EventFilter::default() };
        if let Err(selected) = load_file(&path, &candles, &mut |_| true) {
            assert_eq!(streamed(&path, &candles, SMALL).unwrap_err(), selected, "{name}, candles only");
        }
    }
    // Seven items to a line, and a stray byte after one item after another: some land in a
    // piece that starts mid-line, after a newline in the piece before, whose column counts the
    // bytes since that newline.
    let items: Vec<&str> = array.split(",\n").collect();
    for stray_after in 7..49 {
        let mut with_stray: Vec<String> = items.iter().map(|item| item.to_string()).collect();
        with_stray[stray_after].push('x');
        let text = with_stray.chunks(7).map(|line| line.join(",")).collect::<Vec<_>>().join(",\n");
        let path = temp_dir().join("stray_byte_seven_items_to_a_line.json");
        std::fs::write(&path, &text).unwrap();
        let expected = MarketData::from_file(&path).unwrap_err();
        let streamed = streamed(&path, &EventFilter::default(), SMALL).unwrap_err();
        assert_eq!(streamed, expected, "a stray byte after item {stray_after}");
    }
    let mut bytes = plain.into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = 0xFF;
    let path = temp_dir().join("invalid_utf8.jsonl");
    std::fs::write(&path, &bytes).unwrap();
    let expected = MarketData::from_file(&path).unwrap_err();
    assert!(expected.message.contains("invalid UTF-8"), "{expected}");
    assert_eq!(streamed(&path, &EventFilter::default(), SMALL).unwrap_err(), expected);
    let mut bytes = array.into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = 0xC3; // a character's first byte with no continuation
    let path = temp_dir().join("invalid_utf8.json");
    std::fs::write(&path, &bytes).unwrap();
    let expected = MarketData::from_file(&path).unwrap_err();
    assert!(expected.message.contains("invalid UTF-8"), "{expected}");
    assert_eq!(streamed(&path, &EventFilter::default(), SMALL).unwrap_err(), expected);
}

#[test]
fn blank_lines_before_the_first_item_are_read_past_however_small_the_pieces() {
    let text = std::fs::read_to_string(recording(JsonShape::Lines, BarterFfiCompression::None)).unwrap();
    let path = temp_dir().join("blank_start.jsonl");
    std::fs::write(&path, format!("\n \t\n\r\n  \n{text}")).unwrap();
    let whole = MarketData::from_file(&path).unwrap();
    for size in [
        PieceSize { bytes: 1, array_items: 1, max_line_bytes: MAX_LINE_BYTES },
        PieceSize { bytes: 3, array_items: 1, max_line_bytes: MAX_LINE_BYTES },
        SMALL,
    ] {
        assert_eq!(
            &streamed(&path, &EventFilter::default(), size).unwrap(),
            whole.stream_events().as_ref(),
            "{size:?}"
        );
    }
}

#[test]
fn progress_counts_the_bytes_read_from_disk_up_to_the_files_size() {
    let path = recording(JsonShape::Lines, BarterFfiCompression::Gzip);
    let size = std::fs::metadata(&path).unwrap().len();
    let mut stream = FileStream::open_in_pieces(&path, EventFilter::default(), SMALL).unwrap();
    let (read, total) = stream.progress();
    assert!(read <= size && total == size, "{read} {total} of {size}");
    while stream.next_piece().unwrap().is_some() {}
    assert_eq!(stream.progress(), (size, size));
}

/// How many of this process's file descriptors are open on `path`.
#[cfg(target_os = "linux")]
fn descriptors_open_on(path: &Path) -> usize {
    let path = path.canonicalize().unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| *target == path)
        .count()
}

/// Dropping a stream mid-file waits for its reading thread, which is parsing the next 8 MiB
/// piece then: once the drop returns, nothing holds the file.
#[cfg(target_os = "linux")]
#[test]
fn dropping_a_stream_mid_file_ends_its_reading_thread_first() {
    let text = std::fs::read(recording(JsonShape::Lines, BarterFfiCompression::None)).unwrap();
    let path = temp_dir().join("several_pieces.jsonl");
    std::fs::write(&path, text.repeat(1 + (40 << 20) / text.len())).unwrap();
    let mut stream = FileStream::open(&path, EventFilter::default()).unwrap();
    assert!(stream.next_piece().unwrap().is_some());
    assert!(descriptors_open_on(&path) > 0, "the reading thread holds the file");
    drop(stream);
    assert_eq!(descriptors_open_on(&path), 0, "the reading thread was still reading it");
}

#[test]
fn a_stream_closed_mid_file_stops_its_reader() {
    let path = recording(JsonShape::Lines, BarterFfiCompression::Zstd);
    let mut stream = FileStream::open_in_pieces(&path, EventFilter::default(), SMALL).unwrap();
    assert!(stream.next_piece().unwrap().is_some());
    let (read, size) = stream.progress();
    assert!(read > 0 && read <= size, "{read} of {size}");
    drop(stream); // joins the producer: a hang here fails the test by timeout
    let missing = FileStream::open(&temp_dir().join("missing.jsonl"), EventFilter::default()).unwrap_err();
    assert_eq!(missing.status, barter_ffi::base::error::BarterFfiStatus::FileNotFound);
}

/// A file that never ends (a pipe a recorder keeps writing): dropping its stream stops the
/// reading there, rather than reading on for as long as the writer writes.
#[cfg(unix)]
#[test]
fn a_stream_dropped_mid_pipe_stops_reading_though_the_writer_writes_on() {
    use std::{ffi::CString, io::Write, os::unix::ffi::OsStrExt, sync::mpsc, time::Duration};
    let path = temp_dir().join(format!("endless-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let fifo = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let lines = std::fs::read(recording(JsonShape::Lines, BarterFfiCompression::None)).unwrap();
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new().write(true).open(writer_path).unwrap();
        // Writes until the reader goes: then a broken pipe (Rust ignores SIGPIPE).
        while pipe.write_all(&lines).is_ok() {}
    });
    let (done, finished) = mpsc::channel();
    let reader_path = path.clone();
    std::thread::spawn(move || {
        let mut stream = FileStream::open_in_pieces(&reader_path, EventFilter::default(), SMALL).unwrap();
        assert!(stream.next_piece().unwrap().is_some());
        drop(stream);
        done.send(()).unwrap();
    });
    finished.recv_timeout(Duration::from_secs(60)).expect("the dropped stream read on: no end within a minute");
    writer.join().unwrap();
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_line_or_array_item_longer_than_the_cap_is_an_error_naming_its_line() {
    let cap = PieceSize { bytes: 64, array_items: 4, max_line_bytes: 1_000 };
    let line = common::TRADE_LINE;
    // Blanks after the event: a line of exactly `length` bytes, which barter reads.
    let padded = |length: usize| format!("{line}{}", " ".repeat(length - line.len()));
    let write = |name: &str, text: String| {
        let path = temp_dir().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let at_the_cap = write("at_the_cap.jsonl", [line, &padded(1_000), line].join("\n"));
    assert_eq!(streamed(&at_the_cap, &EventFilter::default(), cap).unwrap().len(), 3);
    for (name, text) in [
        ("over_the_cap.jsonl", [line, line, &padded(1_001), line].join("\n")),
        ("last_line_over_the_cap.jsonl", [line, line, &padded(1_001)].join("\n")),
        ("no_newline_at_all.jsonl", format!("{{{}", " ".repeat(50_000))),
    ] {
        let path = write(name, text);
        let error = streamed(&path, &EventFilter::default(), cap).unwrap_err();
        let line_number = if name.starts_with("no_newline") { 1 } else { 3 };
        let expected = format!("line {line_number} is longer than 1000 bytes, the most a stream holds");
        assert!(error.message.contains(&expected), "{name}: {}", error.message);
        assert_eq!(error.status, barter_ffi::base::error::BarterFfiStatus::InvalidData);
        assert!(MarketData::from_file(&path).is_ok() || name.starts_with("no_newline"), "a whole load reads it");
    }
    // An array item, the third of four on lines 2 to 5, past the cap; and one well under it.
    let item = |padding: usize| format!(r#"{{"Item":{{"Ok":{}}}}}{}"#, &line[8..line.len() - 1], " ".repeat(padding));
    let array = |padding: usize| format!("[\n{}\n]", [item(0), item(0), item(padding), item(0)].join(",\n"));
    assert_eq!(streamed(&write("under.json", array(500)), &EventFilter::default(), cap).unwrap().len(), 4);
    let error = streamed(&write("over.json", array(2_000)), &EventFilter::default(), cap).unwrap_err();
    assert!(error.message.contains("the array item on line 4 is longer than 1000 bytes"), "{}", error.message);
    // Items well under the cap, many to a piece: each is measured from its own start, not from
    // the piece's.
    let many = format!("[{}]", vec![item(0); 40].join(","));
    let large_pieces = PieceSize { bytes: 1 << 20, array_items: 1_000, max_line_bytes: 1_000 };
    assert_eq!(streamed(&write("many_under.json", many), &EventFilter::default(), large_pieces).unwrap().len(), 40);
}

/// Quotes escaped in ids, and brackets, braces and commas inside strings, are not the array's
/// structure: a streamed array is cut between its items all the same, at most `array_items` to a
/// piece, holding what the whole load holds.
#[test]
fn strings_holding_escaped_quotes_and_json_punctuation_do_not_move_an_arrays_cuts() {
    let ids = [r#"a\"b"#, r#"\"],[{"#, r#"x\\"#, r#",\"},"#, r#"}]"#];
    let line = common::TRADE_LINE;
    let item = |id: &str| {
        let with_id = line.replacen(r#""id":""#, &format!(r#""id":"{id}"#), 1);
        format!(r#"{{"Item":{{"Ok":{}}}}}"#, &with_id[8..with_id.len() - 1])
    };
    let items: Vec<String> = (0..30).map(|index| item(ids[index % ids.len()])).collect();
    let path = temp_dir().join("punctuated_ids.json");
    std::fs::write(&path, format!("[{}]", items.join(","))).unwrap();
    let whole = MarketData::from_file(&path).unwrap();
    let mut stream = FileStream::open_in_pieces(&path, EventFilter::default(), SMALL).unwrap();
    let mut items = Vec::new();
    while let Some(piece) = stream.next_piece().unwrap() {
        assert!(piece.stream_events().len() <= SMALL.array_items, "a piece of {}", piece.stream_events().len());
        items.extend(piece.stream_events().iter().cloned());
    }
    assert_eq!(items, whole.stream_events()[..]);
}

#[test]
fn blank_lines_before_the_first_item_are_counted_not_held() {
    // Far more blank bytes than the cap, in lines of their own, before each shape's first byte.
    let cap = PieceSize { bytes: 64, array_items: 4, max_line_bytes: 1_000 };
    let blanks = " \t\r\n\n".repeat(2_000); // 4,000 lines
    let line = common::TRADE_LINE;
    let item = format!(r#"{{"Item":{{"Ok":{}}}}}"#, &line[8..line.len() - 1]);
    let write = |name: &str, text: String| {
        let path = temp_dir().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let lines = write("blank_start.jsonl", format!("{blanks}{line}\n{line}\n"));
    let array = write("blank_start.json", format!("{blanks}[{item},\n{item}]"));
    for path in [&lines, &array] {
        let whole = MarketData::from_file(path).unwrap();
        assert_eq!(streamed(path, &EventFilter::default(), cap).unwrap(), whole.stream_events().as_slice(), "{path:?}");
    }
    // Errors after the blanks name the input's own lines and columns, as a whole load does.
    let bad_lines = write("blank_start_bad.jsonl", format!("{blanks}{line}\n  {{not json\n"));
    let bad_array = write("blank_start_bad.json", format!("{blanks}[{item},\n  {{not json}}]"));
    for path in [&bad_lines, &bad_array] {
        let whole = MarketData::from_file(path).unwrap_err();
        assert!(whole.message.contains("line 4002 column"), "{}", whole.message);
        assert_eq!(streamed(path, &EventFilter::default(), cap).unwrap_err(), whole, "{path:?}");
    }
    // A first byte that starts neither shape is named on its own line too (the fuzzer's find).
    let bad_start = write("blank_start_nul.jsonl", format!("{blanks}\0{line}\n"));
    let whole = MarketData::from_file(&bad_start).unwrap_err();
    assert!(whole.message.contains("line 4001 column 1: expected '['"), "{}", whole.message);
    assert_eq!(streamed(&bad_start, &EventFilter::default(), cap).unwrap_err(), whole);
    // Blanks on the first item's own line are that line's: past the cap, the line is too long.
    let long_first_line = write("blank_first_line.jsonl", format!("\n\n{}{line}\n", " ".repeat(2_000)));
    let error = streamed(&long_first_line, &EventFilter::default(), cap).unwrap_err();
    assert!(error.message.contains("line 3 is longer than 1000 bytes"), "{}", error.message);
}
