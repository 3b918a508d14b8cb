//! Every way input can be wrong gives an error that names the source, the problem and where.

mod common;

use barter_ffi::{base::error::BarterFfiStatus, data_set::market_data::MarketData};
use common::{fixture, TRADE_LINE};

fn load_error(input: &str) -> (BarterFfiStatus, String) {
    let error = MarketData::from_bytes(input.as_bytes(), "input.json").unwrap_err();
    (error.status, error.message)
}

fn assert_invalid(input: &str, expected: &[&str]) {
    let (status, message) = load_error(input);
    assert_eq!(status, BarterFfiStatus::InvalidData, "{message}");
    assert!(message.starts_with("input.json: "), "names the source: {message}");
    for part in expected {
        assert!(message.contains(part), "expected {part:?} in {message:?}");
    }
}

#[test]
fn empty_and_whitespace_inputs() {
    assert_invalid("", &["empty"]);
    assert_invalid(" \n\t\n", &["empty"]);
}

#[test]
fn neither_shape() {
    assert_invalid("\n\n  42", &["line 3 column 3", "expected '['", "found '4'"]);
    assert_invalid("\u{feff}[]", &["byte-order mark"]);
}

#[test]
fn truncated_and_trailing_garbage() {
    let truncated = &TRADE_LINE[..TRADE_LINE.len() - 20];
    assert_invalid(&format!("{TRADE_LINE}\n{truncated}\n"), &["line 2 column", "EOF"]);
    assert_invalid(r#"[{"Reconnecting":"okx"}"#, &["line 1 column", "EOF"]);
    assert_invalid(r#"[{"Reconnecting":"okx"}] x"#, &["line 1 column 26", "trailing characters"]);
    assert_invalid(&format!("{TRADE_LINE} x\n"), &["line 1", "trailing characters"]);
}

#[test]
fn json_lines_errors_name_the_file_line() {
    let bad = TRADE_LINE.replace("\"Buy\"", "\"Sideways\"");
    let input = format!("{TRADE_LINE}\n\n{TRADE_LINE}\n{bad}\n");
    assert_invalid(&input, &["line 4 column", "unknown variant `Sideways`"]);
}

#[test]
fn wrong_values_name_the_value() {
    let cases = [
        (TRADE_LINE.replace("\"Trade\"", "\"Quote\""), "unknown variant `Quote`"),
        (TRADE_LINE.replace("binance_spot", "nasdaq"), "unknown variant `nasdaq`"),
        (TRADE_LINE.replace("\"id\":\"1\"", "\"id\":1"), "invalid type: integer `1`, expected a string"),
        (TRADE_LINE.replace("\"price\":1.5", "\"price\":\"1.5\""), "invalid type: string \"1.5\", expected f64"),
        (TRADE_LINE.replace("\"instrument\":0", "\"instrument\":-1"), "invalid value: integer `-1`"),
        (TRADE_LINE.replace("\"instrument\":0", "\"instrument\":18446744073709551616"), "invalid type: floating point"),
        (
            TRADE_LINE.replace("18.175Z", "18.175"),
            "invalid timestamp: premature end of input (barter reads RFC 3339 with a UTC offset",
        ),
        (TRADE_LINE.replace("18.175Z", "18.175Zulu"), "invalid timestamp: trailing input"),
        (TRADE_LINE.replace("\"amount\":2.0,", ""), "missing field `amount`"),
        (
            TRADE_LINE.replace("\"time_received\":\"2024-12-20T19:05:18.319581890Z\"", "\"time_received\":1734721518"),
            "invalid type: integer",
        ),
    ];
    for (input, expected) in cases {
        assert_invalid(&input, &["line 1 column", expected]);
    }
}

#[test]
fn items_of_the_other_envelope_are_refused_and_named() {
    let result_item = TRADE_LINE.replacen("{\"Item\":{", "{\"Item\":{\"Ok\":{", 1).replacen("}}}}", "}}}}}", 1);
    assert_invalid(
        &format!("{TRADE_LINE}\n{result_item}\n"),
        &["line 2", "missing field `time_exchange`", "this line is a MarketStreamResult", "only inside a JSON array"],
    );
    assert_invalid(
        &format!("[{TRADE_LINE}]"),
        &[
            "line 1",
            "unknown variant `time_exchange`",
            "array items are MarketStreamResult",
            "barter reads as JSON Lines",
        ],
    );
}

#[test]
fn bare_events_are_refused_with_the_envelope_they_need() {
    let event = &TRADE_LINE["{\"Item\":".len()..TRADE_LINE.len() - 1];
    assert_invalid(&format!("{event}\n"), &["line 1", "this line is a bare MarketEvent", "{\"Item\":{…}}"]);
    assert_invalid(&format!("[{event}]"), &["line 1", "not bare MarketEvents"]);
}

#[test]
fn other_unknown_variants_get_no_envelope_hint() {
    let (_, message) = load_error(&format!("[{}]", TRADE_LINE.replacen("{\"Item\":{", "{\"Item\":{\"Okay\":{", 1)));
    assert!(message.contains("unknown variant `Okay`") && !message.contains("MarketStreamResult"), "{message}");
}

#[test]
fn invalid_utf8_and_binary_garbage() {
    let mut bytes = TRADE_LINE.replace("\"id\":\"1\"", "\"id\":\"\u{1}\"").into_bytes();
    let at = bytes.iter().position(|&b| b == 1).unwrap();
    bytes[at] = 0xFF;
    let error = MarketData::from_bytes(&bytes, "input.json").unwrap_err();
    assert_eq!(error.status, BarterFfiStatus::InvalidData);
    assert!(error.message.contains("line 1 column 166: invalid UTF-8 (byte 0xFF)"), "{}", error.message);

    let error = MarketData::from_bytes(&[0x00, 0x9F, 0x92, 0x96, b'{'], "garbage.bin").unwrap_err();
    assert!(error.message.contains("line 1 column 2: invalid UTF-8 (byte 0x9F)"), "{}", error.message);
    let error = MarketData::from_bytes(&[0x00, b'{'], "garbage.bin").unwrap_err();
    assert!(error.message.contains("found byte 0x00"), "{}", error.message);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // barter ignores unknown keys; serde_json skips their values without recursing.
    let nested = format!("{}{}", "[".repeat(300_000), "]".repeat(300_000));
    let deep_array = format!(r#"[{{"Item":{{"Ok":{{"unknown":{nested}}}}}}}]"#);
    assert_invalid(&deep_array, &["line 1 column 600027", "missing field `time_exchange`"]);
    let deep_line = format!(r#"{{"Item":{{"unknown":{nested}}}}}"#);
    assert_invalid(&deep_line, &["line 1 column 600020", "missing field `time_exchange`"]);
    assert_invalid(&format!("[{nested}]"), &["line 1 column 2", "expected value"]);
}

#[test]
fn timestamps_beyond_i64_nanoseconds_are_refused_not_wrapped() {
    let far = TRADE_LINE.replace("2024-12-20T19:05:18.319581890Z", "2263-01-01T00:00:00Z");
    assert_invalid(&format!("{far}\n"), &["line 1", "`time_received`", "outside the range of i64 nanoseconds"]);
    let far_array = format!("[{}]", far.replacen("{\"Item\":{", "{\"Item\":{\"Ok\":{", 1).replacen("}}}}", "}}}}}", 1));
    assert_invalid(&far_array, &["array item 0", "`time_received`"]);
}

#[test]
fn file_errors_carry_the_path_and_the_os_reason() {
    let missing = fixture("no_such_file.json");
    let error = MarketData::from_file(&missing).unwrap_err();
    assert_eq!(error.status, BarterFfiStatus::FileNotFound);
    assert_eq!(error.os_errno, 2);
    assert!(error.message.contains("no_such_file.json") && error.message.contains("No such file"), "{}", error.message);

    let error = MarketData::from_file(&fixture("")).unwrap_err();
    assert_eq!(error.status, BarterFfiStatus::IsADirectory, "{}", error.message);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    if is_root() {
        return; // root reads any file: there is nothing to refuse
    }
    let dir = std::env::temp_dir().join(format!("barter_ffi_perm_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("locked.jsonl");
    std::fs::write(&path, TRADE_LINE).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let outcome = MarketData::from_file(&path);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(outcome.unwrap_err().status, BarterFfiStatus::PermissionDenied);
}

#[cfg(unix)]
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|status| {
            status.lines().any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// An empty object where an item belongs fails in serde_json before serde can name the variant
/// it wanted: the error names the items barter reads. An empty object anywhere else, or a bad
/// value after an item's `{`, keeps serde_json's words alone.
#[test]
fn an_empty_object_for_an_item_names_the_items() {
    const HINT: &str = "expected value (an empty object where an item belongs: an item is {\"Item\":{…}} or \
                        {\"Reconnecting\":\"<exchange>\"})";
    for (input, position) in [
        ("{}\n".to_owned(), "line 1 column 2"),
        (format!("{TRADE_LINE}\n  {{ \t}}\n"), "line 2 column 6"),
        ("[{}]".to_owned(), "line 1 column 3"),
        ("[{\"Reconnecting\":\"okx\"},\n {\n }]".to_owned(), "line 3 column 2"),
    ] {
        assert_invalid(&input, &[&format!("{position}: {HINT}")]);
    }
    for input in
        [TRADE_LINE.replacen("{\"Trade\":", "{}", 1).replacen("}}}}", "}}}", 1), "[1,]".to_owned(), "{".to_owned()]
    {
        let (_, message) = load_error(&input);
        assert!(!message.contains("an item belongs"), "{message}");
    }
}
