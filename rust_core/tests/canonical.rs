//! The canonical reader against barter's serde types via serde_json: whatever it reads, serde_json
//! reads too, to the same value (compared through `Debug`, which shows every f64 bit pattern's
//! shortest form and every decimal's scale), and what it declines is left to serde_json.

use barter_data::{event::DataKind, streams::consumer::MarketStreamResult};
use barter_ffi::{
    base::event::StreamEvent,
    base::event::{TAG_ORDER_BOOK_SNAPSHOT, TAG_TRADE},
    parse::{
        canonical::{event_line, event_line_head, plain_decimal, result_array, utc_timestamp},
        selective::{self, EventFilter, Selected},
        skim::Memo,
    },
};
use barter_instrument::instrument::InstrumentIndex;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{de::value::BorrowedStrDeserializer, Deserialize};

const TRADE: &str = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.175195893Z","time_received":"2024-12-20T19:05:18.179371794Z","exchange":"binance_spot","instrument":6,"kind":{"Trade":{"id":"4314349047","price":99175.52,"amount":1.57640435,"side":"Sell"}}}}"#;
const TOP_OF_BOOK: &str = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18Z","exchange":"kraken","instrument":1,"kind":{"OrderBookL1":{"last_update_time":"2024-12-20T19:05:18.1Z","best_bid":{"price":"96028.82021738","amount":"3.50"},"best_ask":null}}}}"#;

const CANDLE: &str = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.175195893Z","time_received":"2024-12-20T19:05:18.179371794Z","exchange":"binance_spot","instrument":6,"kind":{"Candle":{"close_time":"2024-12-20T19:05:18.175195893Z","open":99175.52,"high":99186.02,"low":99166.27,"close":99176.52,"volume":78.820217,"trade_count":3185}}}}"#;
const LIQUIDATION: &str = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.175195893Z","time_received":"2024-12-20T19:05:18.179371794Z","exchange":"bybit_perpetuals_usd","instrument":6,"kind":{"Liquidation":{"side":"Buy","price":99175.52,"quantity":2.364607,"time":"2024-12-20T19:05:18.1Z"}}}}"#;
const BOOK: &str = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.262467617Z","time_received":"2024-12-20T19:05:18.267314605Z","exchange":"okx","instrument":4,"kind":{"OrderBook":{"Snapshot":{"sequence":90,"time_engine":"2024-12-20T19:05:18.26Z","bids":{"side":null,"levels":[{"price":"96047.8035","amount":"0.48"},{"price":"96043.10","amount":"2.0"}]},"asks":{"side":null,"levels":[]}}}}}}"#;

/// What barter's serde types make of a line, rendered for comparison.
fn through_serde(line: &str) -> Result<String, String> {
    serde_json::from_str::<StreamEvent>(line).map(|event| format!("{event:?}")).map_err(|error| error.to_string())
}

/// Fails unless the canonical reader either declines `line` or reads what serde_json reads.
fn assert_agrees(line: &str) -> bool {
    let Some(event) = event_line(line) else { return false };
    assert_eq!(Ok(format!("{event:?}")), through_serde(line), "the canonical reader accepted {line:?}");
    true
}

/// Fails unless the canonical reader either declines the array `text` or reads the items serde_json
/// reads.
fn assert_array_agrees(text: &str) -> bool {
    let mut items = Vec::new();
    if result_array(text, |item| Some(items.push(format!("{item:?}")))).is_none() {
        return false;
    }
    let through_serde = serde_json::from_str::<Vec<MarketStreamResult<InstrumentIndex, DataKind>>>(text)
        .map(|items| items.iter().map(|item| format!("{item:?}")).collect::<Vec<_>>())
        .map_err(|error| error.to_string());
    assert_eq!(Ok(items), through_serde, "the canonical reader accepted {text:?}");
    true
}

/// `line`'s event in the array shape's envelope.
fn result_item(line: &str) -> String {
    line.replacen("{\"Item\":", "{\"Item\":{\"Ok\":", 1) + "}"
}

fn fixture_lines() -> Vec<String> {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    ["all_kinds.jsonl", "candles.jsonl"]
        .iter()
        .flat_map(|name| {
            std::fs::read_to_string(fixtures.join(name)).unwrap().lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn barters_own_lines_of_every_kind_are_read_as_serde_reads_them() {
    for line in [TRADE, TOP_OF_BOOK, CANDLE, LIQUIDATION, BOOK, &BOOK.replace("Snapshot", "Update")] {
        assert!(assert_agrees(line), "{line}");
    }
    let spaced = TRADE.replace(",\"", " ,\t\"").replace("\":", "\"\r\n: ").replace("{", " { ");
    assert!(assert_agrees(&spaced), "blanks between tokens are JSON");
    let read = fixture_lines().iter().filter(|line| assert_agrees(line)).count();
    // Of the fixtures' 19 lines, every market event but four, which hold what only serde reads (a
    // missing best_ask or time_engine, levels as JSON numbers, exponents); markers and the blank
    // line are serde's too.
    assert_eq!(read, 11);
}

#[test]
fn what_serde_reads_differently_or_refuses_is_declined() {
    let declined = [
        TRADE.replace("\"Sell\"", "\"sell\"").replace("\"4314349047\"", "\"43\\u0031\""),
        TRADE.replace("99175.52", "9.917552e4"),
        TRADE.replace("99175.52", "-99175.52"),
        TRADE.replace("99175.52", "099175.52"),
        TRADE.replace("99175.52", "99175."),
        TRADE.replace("99175.52", "9007199254740993"),
        TRADE.replace("99175.52", "0.00000000000000000000001"),
        TRADE.replace(":6,", ":6.0,"),
        TRADE.replace(":6,", ":-0,"),
        TRADE.replace("\"time_exchange\"", "\"time_exchange \""),
        TRADE.replace("}}}}", "}}},\"x\":1}"),
        TRADE.replace("}}}}", "}}}}}"),
        format!("{TRADE}x"),
        TOP_OF_BOOK.replace("\"96028.82021738\"", "96028.82021738"),
        TOP_OF_BOOK.replace(",\"best_ask\":null", ""),
        TOP_OF_BOOK.replace("\"kraken\"", "\"kraken_futures_not_an_exchange\""),
        // Bids not falling strictly: barter's Deserialize keeps them in file order, and
        // OrderBook::new, the only way to build a book here, would sort them.
        BOOK.replace("96043.10", "96047.9"),
        BOOK.replace("96043.10", "96047.80350"),
        BOOK.replace("\"side\":null,\"levels\":[]", "\"levels\":[],\"side\":null"),
        CANDLE.replace(":3185", ":3185.0"),
        LIQUIDATION.replace("\"Buy\"", "null"),
    ];
    for line in &declined {
        assert!(!assert_agrees(line), "{line}");
    }
    // A timestamp in another form is read by chrono's own parser, not declined.
    assert!(assert_agrees(&TRADE.replace("18.175195893Z", "18.175195893+00:00")));
    assert!(assert_agrees(&TRADE.replace("18.175195893Z", "18.1751958931234Z")));
}

/// `line` with each byte deleted, and each of `bytes` inserted before each byte (and at the end)
/// and put in its place.
fn one_byte_mutations(line: &str, bytes: &[u8]) -> Vec<String> {
    let line = line.as_bytes();
    let mut variants = Vec::new();
    for at in 0..=line.len() {
        if at < line.len() {
            variants.push([&line[..at], &line[at + 1..]].concat());
        }
        for &byte in bytes {
            variants.push([&line[..at], &[byte], &line[at..]].concat());
            if at < line.len() {
                variants.push([&line[..at], &[byte], &line[at + 1..]].concat());
            }
        }
    }
    variants.into_iter().map(|variant| String::from_utf8(variant).unwrap()).collect()
}

/// Every deletion, insertion and replacement of one byte in barter's lines, from a set of bytes
/// chosen to break JSON, numbers, strings and timestamps: the reader never accepts what
/// serde_json refuses or reads differently.
#[test]
fn one_byte_mutations_of_barters_lines_never_make_the_readers_disagree() {
    const BYTES: &[u8] = b" \t\"\\-+.,:{}[]0159eEZTzn\x01x";
    let mut accepted = 0;
    let levels = TOP_OF_BOOK.replace("null", r#"{"price":"1","amount":"0.000"}"#);
    let asks = BOOK.replace("[]", r#"[{"price":"96050","amount":"1"},{"price":"96050.01","amount":"1"}]"#);
    for line in [TRADE, TOP_OF_BOOK, &levels, CANDLE, LIQUIDATION, &asks] {
        for variant in one_byte_mutations(line, BYTES) {
            accepted += usize::from(assert_agrees(&variant));
        }
    }
    // Digits changed inside numbers and timestamps still read: the test is not vacuous.
    assert!(accepted > 1_500, "{accepted}");
}

/// Decimal prices and amounts over the whole range the reader takes and beyond it (up to 10
/// digits before the point and 24 after): the f64 is serde_json's, bit for bit.
#[test]
fn prices_are_serde_jsons_f64s_to_the_bit() {
    let mut next = random_below(0x9E37_79B9_7F4A_7C15_u64);
    let mut read = 0;
    for _ in 0..20_000 {
        let count = next(10);
        let whole = format!("{}{}", 1 + next(9), random_digits(&mut next, count));
        let whole = if next(4) == 0 { "0".to_owned() } else { whole };
        let count = next(25);
        let fraction = random_digits(&mut next, count);
        let number = if fraction.is_empty() { whole } else { format!("{whole}.{fraction}") };
        read += usize::from(assert_agrees(&TRADE.replace("1.57640435", &number)));
    }
    assert!(read > 5_000, "{read}");
}

/// Decimal text of digits, points and a few other bytes, against rust_decimal's `Deserialize`:
/// value and scale.
#[test]
fn decimals_are_rust_decimals_to_the_scale() {
    let mut next = random_below(0x2545_F491_4F6C_DD1D_u64);
    let through_deserialize = |text: &str| {
        <Decimal as Deserialize>::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(text))
    };
    let mut built = 0;
    let edges = ["0", "00", "0.0", "000.000", "1.", ".5", "1..2", "1.2.3", "", "-1", "+1", "1e3", " 1", "0.10"];
    let mut texts: Vec<String> = edges.iter().map(|text| text.to_string()).collect();
    texts.extend(["9".repeat(18), "9".repeat(19), format!("0.{}", "0".repeat(17)), format!("1.{}", "0".repeat(17))]);
    texts.extend((0..20_000).map(|_| {
        let length = next(22);
        (0..length).map(|_| char::from(b"0123456789012345678901234567890.-e"[next(34) as usize])).collect()
    }));
    for text in &texts {
        if let Some(decimal) = plain_decimal(text) {
            let expected = through_deserialize(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
            assert_eq!((decimal.mantissa(), decimal.scale()), (expected.mantissa(), expected.scale()), "{text:?}");
            built += 1;
        }
    }
    assert!(built > 5_000, "{built}");
}

/// A deterministic xorshift generator: `next(n)` is below `n`.
fn random_below(mut state: u64) -> impl FnMut(u64) -> u64 {
    move |below| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    }
}

fn random_digits(next: &mut impl FnMut(u64) -> u64, count: u64) -> String {
    (0..count).map(|_| char::from(b'0' + next(10) as u8)).collect()
}

/// The timestamp form built directly against chrono's parser, on every boundary of each field.
#[test]
fn timestamps_are_chronos_on_every_field_boundary() {
    let chrono =
        |text: &str| DateTime::<Utc>::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(text)).ok();
    let mut built = 0;
    for year in ["0000", "0001", "1677", "1970", "1999", "2000", "2024", "2100", "2262", "9999"] {
        for month in ["00", "01", "02", "12", "13"] {
            for day in ["00", "01", "28", "29", "30", "31", "32"] {
                for time in
                    ["00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "9:00:000", "1/:00:00", "12:0::00"]
                {
                    // Bytes beside the digits ('/' and ':') in the fraction's first eight and its ninth.
                    for fraction in
                        ["", ".", ".1", ".000000001", ".123456789", ".1234567891", ".12345678/", ".1234567:9", ".1:"]
                    {
                        for zone in ["Z", "z", "+00:00"] {
                            let text = format!("{year}-{month}-{day}T{time}{fraction}{zone}");
                            if let Some(time) = utc_timestamp(&text) {
                                assert_eq!(Some(time), chrono(&text), "{text}");
                                built += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(built > 900, "{built}");
}

/// Events a second apart, a day apart and back again: a cached second is never reused for another.
#[test]
fn consecutive_timestamps_are_each_read_as_chrono_reads_them() {
    let chrono =
        |text: &str| DateTime::<Utc>::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(text)).ok();
    for text in [
        "2024-12-20T19:05:18.1Z",
        "2024-12-20T19:05:18.2Z",
        "2024-12-20T19:05:19Z",
        "2024-12-21T19:05:19Z",
        "2024-12-20T19:05:18.000000001Z",
        "2024-12-20T19:05:18.000000001Z",
        "2023-12-20T19:05:18.999999999Z",
    ] {
        assert_eq!(utc_timestamp(text), chrono(text), "{text}");
    }
}

#[test]
fn arrays_are_read_as_serde_reads_them_with_other_items_left_to_serde() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    for name in ["all_kinds_results.json", "trades.json"] {
        assert!(assert_array_agrees(&std::fs::read_to_string(fixtures.join(name)).unwrap()), "{name}");
    }
    let items =
        [result_item(TRADE), r#"{"Reconnecting":"okx"}"#.into(), r#"{"Item":{"Err":{"Socket":"gone"}}}"#.into()];
    let array = format!("[\n  {}\n]\n", items.join(",\n  "));
    assert!(assert_array_agrees(&array));
    assert!(assert_array_agrees("[]") && assert_array_agrees(" [ ] "));
    for bad in [
        array.replace("]\n", ",]"),
        array.replace("[\n", "[,"),
        format!("{array}]"),
        array.replace("\"okx\"", "\"ok\""),
    ] {
        assert!(!assert_array_agrees(&bad), "{bad}");
    }
}

/// serde_json refuses a 128th level of nesting, counted from the array when it reads the whole
/// array and from the item when an item is left to it alone. Only values it skips can nest that
/// deep in barter's items, and it skips them without that limit: both ways agree, at any depth.
#[test]
fn deeply_nested_unknown_fields_are_read_alike_inside_and_outside_the_array() {
    for depth in [1, 125, 126, 127, 128, 1_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let item =
            result_item(&TRADE.replacen("{\"time_exchange\"", &format!("{{\"x\":{nested},\"time_exchange\""), 1));
        assert!(assert_array_agrees(&format!("[{item}]")), "{depth}");
    }
}

#[test]
fn one_byte_mutations_of_an_array_never_make_the_readers_disagree() {
    const BYTES: &[u8] = b" \"\\-.,:{}[]05eZn";
    let array = format!("[{},{{\"Reconnecting\":\"okx\"}},{}]", result_item(TRADE), result_item(TOP_OF_BOOK));
    let bytes = array.as_bytes();
    let mut accepted = 0;
    for at in 0..=bytes.len() {
        let mut variants =
            vec![[&bytes[..at.min(bytes.len().saturating_sub(1))], &bytes[(at + 1).min(bytes.len())..]].concat()];
        for &byte in BYTES {
            variants.push([&bytes[..at], &[byte], &bytes[at..]].concat());
        }
        for variant in variants {
            accepted += usize::from(assert_array_agrees(std::str::from_utf8(&variant).unwrap()));
        }
    }
    assert!(accepted > 200, "{accepted}");
}

/// Selections keeping nothing, trades, and snapshots.
fn selections() -> [EventFilter; 3] {
    let kinds = |tags: &[u8]| EventFilter { kinds: Some(tags.iter().copied().collect()), ..EventFilter::default() };
    [kinds(&[]), kinds(&[TAG_TRADE]), kinds(&[TAG_ORDER_BOOK_SNAPSHOT])]
}

/// How a left-out event was read, if not by the serde walk.
#[derive(Debug, Default, Clone, Copy)]
struct PassedOver {
    /// By the pass that knows barter's exact layout (`skim.rs`).
    skimmed: bool,
    /// By the canonical reader's structural scan.
    scanned: bool,
}

/// Fails unless a selective read of `line` is what the serde walk alone makes of it, the event
/// and the error alike, for a selection keeping nothing, one keeping trades and one keeping
/// snapshots, read alone (with `memo`, as the lines of a file are) and read where it starts a
/// text that goes on after it (as a load reads it, from where its line starts). Says how the
/// selection keeping nothing passed over it, if it did.
fn assert_skip_agrees(line: &str, memo: &mut Memo) -> PassedOver {
    let followed = format!("{line}\n{TRADE}");
    for keep in &selections() {
        let walked = selective::walked_line(line, keep);
        assert_eq!(format!("{:?}", selective::line(line, keep, memo)), format!("{walked:?}"), "{line:?}");
        for text in [line, &followed] {
            if let Some((selected, end)) = selective::selected_at(text, 0, keep, memo) {
                assert_eq!(format!("{:?}", Ok::<_, serde_json::Error>(selected)), format!("{walked:?}"), "{line:?}");
                assert_eq!(end, line.len(), "{line:?}");
            }
        }
    }
    let keep_nothing = &selections()[0];
    let left_out = matches!(selective::walked_line(line, keep_nothing), Ok(Selected::Skipped(_)));
    let head = event_line_head(line);
    let scanned = match head.as_ref().map(|line| line.head.kind) {
        Some("OrderBook") => head.and_then(|line| line.skip_variant()).is_some(),
        _ => head.and_then(|line| line.skip()).is_some(),
    };
    PassedOver {
        skimmed: left_out && selective::selected_at(line, 0, keep_nothing, memo).is_some(),
        scanned: left_out && scanned,
    }
}

/// Every one-byte deletion, insertion and replacement in barter's lines, every kind: an event
/// left out is passed over where the serde walk passes over it, and fails as it fails, with
/// the same message at the same place; one kept is built as it builds it.
#[test]
fn one_byte_mutations_of_left_out_events_are_judged_as_the_serde_walk_judges_them() {
    const BYTES: &[u8] = b" \t\"\\-+.,:{}[]0159eEntf\x01x";
    let update = BOOK.replace("Snapshot", "Update");
    let levels = TOP_OF_BOOK.replace("null", r#"{"price":"1","amount":"0.000"}"#);
    let asks = BOOK.replace("[]", r#"[{"price":"96050","amount":"1"},{"price":"96050.01","amount":"1"}]"#);
    let milliseconds = TRADE.replace("18.175195893Z\",\"time_received", "18.175Z\",\"time_received");
    let (mut skimmed, mut scanned) = (0, 0);
    let mut memo = Memo::default();
    for line in [TRADE, TOP_OF_BOOK, &levels, CANDLE, LIQUIDATION, BOOK, &update, &asks, &milliseconds] {
        for variant in one_byte_mutations(line, BYTES) {
            let passed_over = assert_skip_agrees(&variant, &mut memo);
            skimmed += usize::from(passed_over.skimmed);
            scanned += usize::from(passed_over.scanned);
        }
    }
    // Mutations that stay JSON (a digit for a digit, a blank between tokens) are passed over:
    // those that keep barter's exact layout by both, those with blanks by the structural scan.
    assert!(skimmed > 2_000 && scanned > 3_000, "{skimmed} {scanned}");
}

/// Kinds' values that only a structural scan meets (other layouts, every JSON token, nesting),
/// valid and not: passed over exactly where the serde walk passes over them, and otherwise
/// left to it.
#[test]
fn any_json_in_a_left_out_kind_is_passed_over_and_anything_else_fails_as_in_the_serde_walk() {
    let deep = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    let valid = [
        r#"{}"#.to_string(),
        r#"[]"#.to_string(),
        r#"{"a":[1,-2,3.5,-0.25e+10,6E-7,0,true,false,null,"",{"b":{}}]}"#.to_string(),
        " { \"a\" : [ 1 , { } ] , \"b\" : null } ".to_string(),
        r#""text""#.to_string(),
        "-0".to_string(),
        "12345678901234567890123456789".to_string(),
        deep(64),
    ];
    let declined_but_json = [r#"{"id":"a\"b"}"#.to_string(), r#"{"\u0041":1}"#.to_string(), deep(65), deep(200)];
    let invalid = [
        "[1,]",
        "{\"a\":1,}",
        "{,}",
        "[,1]",
        "{\"a\" 1}",
        "{1:2}",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "nul",
        "nulll",
        "tru",
        "fals",
        "[1 2]",
        "{\"a\":1 \"b\":2}",
        "[",
        "{",
        "]",
        "}",
        "\"open",
        "\"\\u00zz\"",
        "\"\x01\"",
        "[1}",
        "{\"a\":1]",
        "{\"a\"}",
        "1 2",
        "",
    ];
    let line =
        |value: &str| TRADE.replace(r#"{"id":"4314349047","price":99175.52,"amount":1.57640435,"side":"Sell"}"#, value);
    let memo = &mut Memo::default();
    let keep_nothing = &selections()[0];
    for value in &valid {
        assert!(assert_skip_agrees(&line(value), memo).scanned, "{value} is JSON");
    }
    for value in &declined_but_json {
        assert!(!assert_skip_agrees(&line(value), memo).scanned, "{value}");
        assert!(selective::walked_line(&line(value), keep_nothing).is_ok(), "{value}");
    }
    for value in invalid {
        assert!(!assert_skip_agrees(&line(value), memo).scanned, "{value}");
        assert!(selective::walked_line(&line(value), keep_nothing).is_err(), "{value}");
    }
    // A book's value is an enum: one variant, named, then its end.
    for value in [r#"{"Snapshot":1,"Update":2}"#, r#"{"Other":1}"#, r#"{}"#, r#"[1]"#] {
        let book = format!("{}{value}}}}}}}", &BOOK[..BOOK.find(r#"{"Snapshot":"#).unwrap()]);
        assert!(!assert_skip_agrees(&book, memo).scanned, "{book}");
    }
}
