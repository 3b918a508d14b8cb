//! Compressed recordings: detected by content, read whole, written back, refused when damaged.

mod common;

use barter_ffi::{
    base::error::BarterFfiStatus,
    data_set::{
        market_data::{JsonShape, MarketData},
        select::{load_bytes, load_file, EventFilter},
    },
    read::compression::BarterFfiCompression,
};
use common::fixture;
use std::io::Write;

const FORMATS: [BarterFfiCompression; 3] =
    [BarterFfiCompression::Gzip, BarterFfiCompression::Zstd, BarterFfiCompression::Bzip2];

fn compress(format: BarterFfiCompression, json: &[u8]) -> Vec<u8> {
    let mut encoder = format.encoder(Vec::new()).unwrap();
    encoder.write_all(json).unwrap();
    encoder.finish().unwrap()
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("barter_ffi_compression_{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn lines(data: &MarketData) -> Vec<u8> {
    data.to_json(JsonShape::Lines).unwrap()
}

#[test]
fn every_format_loads_what_the_plain_file_holds_whatever_the_file_is_named() {
    for name in ["all_kinds.jsonl", "all_kinds_results.json", "trades.json"] {
        let plain = std::fs::read(fixture(name)).unwrap();
        let expected = MarketData::from_bytes(&plain, name).unwrap();
        for format in FORMATS {
            let compressed = compress(format, &plain);
            assert_eq!(BarterFfiCompression::detect(&compressed), format);
            // Named as if plain: the content decides.
            let path = temp_file(&format!("{}_{name}", format.name()), &compressed);
            assert_eq!(lines(&MarketData::from_file(&path).unwrap()), lines(&expected), "{name} as {format:?}");
            assert_eq!(lines(&MarketData::from_bytes(&compressed, name).unwrap()), lines(&expected));
            let trades = EventFilter { kinds: Some([0].into()), ..EventFilter::default() };
            let selected = load_file(&path, &trades, &mut |_| true).unwrap();
            assert_eq!(lines(&selected), lines(&load_bytes(&plain, name, &trades).unwrap()));
        }
    }
}

#[test]
fn concatenated_members_frames_and_streams_are_all_read() {
    let plain = std::fs::read(fixture("all_kinds.jsonl")).unwrap();
    let split = plain.len() / 2 + memchr::memchr(b'\n', &plain[plain.len() / 2..]).unwrap() + 1;
    for format in FORMATS {
        let mut joined = compress(format, &plain[..split]);
        joined.extend(compress(format, &plain[split..]));
        let data = MarketData::from_bytes(&joined, "joined").unwrap();
        assert_eq!(lines(&data), lines(&MarketData::from_bytes(&plain, "plain").unwrap()), "{format:?}");
    }
}

#[test]
fn truncated_or_corrupt_archives_are_refused_whole() {
    let plain = std::fs::read(fixture("all_kinds.jsonl")).unwrap();
    for format in FORMATS {
        let compressed = compress(format, &plain);
        let truncated = &compressed[..compressed.len() * 2 / 3];
        let mut corrupt = compressed.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0x55;
        corrupt[middle + 1] ^= 0xAA;
        for (damage, bytes) in [("truncated", truncated), ("corrupt", &corrupt[..])] {
            let path = temp_file(&format!("{damage}.{}", format.name()), bytes);
            for error in
                [MarketData::from_file(&path).unwrap_err(), MarketData::from_bytes(bytes, "input").unwrap_err()]
            {
                assert_eq!(error.status, BarterFfiStatus::InvalidData, "{damage} {format:?}: {error}");
                assert!(
                    error.message.contains(&format!("the {} data is corrupt or truncated", format.name())),
                    "{damage} {format:?}: {error}"
                );
            }
        }
    }
}

#[test]
fn errors_name_the_line_and_column_of_the_decompressed_text() {
    let mut plain = std::fs::read_to_string(fixture("all_kinds.jsonl")).unwrap();
    plain = plain.replacen("\"Buy\"", "\"Bought\"", 1);
    let expected = MarketData::from_bytes(plain.as_bytes(), "input").unwrap_err();
    assert!(expected.message.contains("line "), "{expected}");
    for format in FORMATS {
        let error = MarketData::from_bytes(&compress(format, plain.as_bytes()), "input").unwrap_err();
        assert_eq!(error, expected, "{format:?}");
    }
}

#[test]
fn written_files_read_back_equal_in_every_format_and_shape() {
    let data = MarketData::from_file(&fixture("all_kinds_results.json")).unwrap();
    for format in [BarterFfiCompression::None].into_iter().chain(FORMATS) {
        for shape in [JsonShape::Lines, JsonShape::Array] {
            let path = temp_file(&format!("written_{}_{shape:?}", format.name()), b"");
            data.to_json_file(&path, shape, format).unwrap();
            assert_eq!(BarterFfiCompression::detect(&std::fs::read(&path).unwrap()), format);
            let back = MarketData::from_file(&path).unwrap();
            assert_eq!(lines(&back), lines(&data), "{format:?} {shape:?}");
            if shape == JsonShape::Array {
                assert_eq!(back.stats(), data.stats(), "Err items only the array shape can hold");
            }
        }
    }
}

#[test]
fn progress_of_a_compressed_load_counts_the_file_on_disk() {
    let plain = std::fs::read(fixture("all_kinds.jsonl")).unwrap();
    let compressed = compress(BarterFfiCompression::Zstd, &plain);
    let path = temp_file("progress.zst", &compressed);
    let mut reports = Vec::new();
    MarketData::from_file_with_progress(&path, &mut |done| {
        reports.push(done);
        true
    })
    .unwrap();
    assert!(reports.windows(2).all(|pair| pair[0] <= pair[1]), "{reports:?}");
    assert_eq!(reports.last(), Some(&compressed.len()), "ends at the compressed size: {reports:?}");
}
