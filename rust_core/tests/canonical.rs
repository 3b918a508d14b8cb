//! The canonical reader against barter's serde types via serde_json: whatever it reads, serde_json
//! reads too, to the same value (compared through `Debug`, which shows every f64 bit pattern's
//! shortest form and every decimal's scale), and what it declines is left to serde_json.

use barter_data::{
    books::{Level, OrderBook},
    event::{DataKind, MarketEvent},
    streams::{consumer::MarketStreamResult, reconnect::Event},
    subscription::{
        book::{OrderBookEvent, OrderBookL1},
        candle::Candle,
        liquidation::Liquidation,
        trade::PublicTrade,
    },
};
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
use barter_instrument::{exchange::ExchangeId, Side};
use chrono::{DateTime, NaiveDate, Utc};
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
    let read = fixture_lines().iter().filter(|line| assert_agrees(line)).count();
    // Of the fixtures' 19 lines, every market event but four, which hold what only serde reads (a
    // missing best_ask or time_engine, levels as JSON numbers, exponents); markers and the blank
    // line are serde's too.
    assert_eq!(read, 11);
}

/// The canonical reader's contract, one row an input: what it reads (the value, which barter's
/// serde types read too) and what it declines (then barter's serde types read the input, with
/// the value or the error given). Lines are whole JSON Lines; a timestamp or decimal row is the
/// text of one field, read by the reader's own `utc_timestamp` / `plain_decimal` against chrono's
/// and rust_decimal's `Deserialize`. Inside a line, a field that the own readers decline is still
/// read, through that `Deserialize` (an offset, a leap second, an alias): those lines are
/// `Reads`.
#[test]
fn the_canonical_readers_contract() {
    use Barter::{Reads, ReadsSuchThat, Refuses};
    use Canonical::{Builds, Declines};
    let (trade, l1, book) = (TRADE, TOP_OF_BOOK, BOOK);
    #[rustfmt::skip]
    let cases: Vec<(&str, Input, Canonical, Barter)> = vec![
        // Each kind as barter writes it.
        ("a trade", line(TRADE), Builds, Reads(Item(trade_event(|_| {})))),
        ("an L1 with one level", line(TOP_OF_BOOK), Builds, Reads(Item(l1_event(|_| {})))),
        ("a book snapshot", line(BOOK), Builds, Reads(Item(book_event(false)))),
        ("a book update", line(&BOOK.replace("Snapshot", "Update")), Builds, Reads(Item(book_event(true)))),
        ("a candle", line(CANDLE), Builds, Reads(Item(candle_event()))),
        ("a liquidation", line(LIQUIDATION), Builds, Reads(Item(liquidation_event()))),
        ("JSON blanks between tokens", line(&TRADE.replace(",\"", " ,\t\"").replace("\":", "\"\r\n: ").replace('{', " { ")),
            Builds, Reads(Item(trade_event(|_| {})))),
        // Values through barter's own Deserialize: its aliases and chrono's other forms.
        ("side alias \"sell\"", line(&trade.replace("\"Sell\"", "\"sell\"")), Builds, Reads(Item(trade_event(|_| {})))),
        ("side alias \"b\"", line(&trade.replace("\"Sell\"", "\"b\"")), Builds,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.side = Side::Buy))))),
        ("exchange alias \"huobi\"", line(&trade.replace("binance_spot", "huobi")), Builds,
            Reads(Item(trade_event(|event| event.exchange = ExchangeId::Htx)))),
        ("offset +00:00", line(&trade.replace("18.175195893Z", "18.175195893+00:00")), Builds, Reads(Item(trade_event(|_| {})))),
        ("offset +01:00", line(&trade.replace("19:05:18.175195893Z", "20:05:18.175195893+01:00")), Builds,
            Reads(Item(trade_event(|_| {})))),
        ("10 fraction digits: the tenth dropped", line(&trade.replace("18.175195893Z", "18.1751958939Z")), Builds,
            Reads(Item(trade_event(|_| {})))),
        ("leap second", line(&trade.replace("2024-12-20T19:05:18.175195893Z", "2016-12-31T23:59:60.5Z")), Builds,
            Reads(Item(trade_event(|event| event.time_exchange = at((2016, 12, 31), (23, 59, 59), 1_500_000_000))))),
        ("lower-case z", line(&trade.replace("18.175195893Z", "18.175195893z")), Builds, Reads(Item(trade_event(|_| {})))),
        ("L1 level decimal in exponent form", line(&l1.replace("\"3.50\"", "\"35e-1\"")), Builds,
            Reads(Item(l1_event(|top| top.best_bid.as_mut().unwrap().amount = Decimal::new(35, 1))))),
        ("L1 level decimal of 19 digits", line(&l1.replace("\"3.50\"", "\"1234567890.123456789\"")), Builds,
            Reads(Item(l1_event(|top| top.best_bid.as_mut().unwrap().amount = Decimal::new(1_234_567_890_123_456_789, 9))))),
        // Numbers at the edges of the reader's own f64 form.
        ("price 2^53", line(&trade.replace("99175.52", "9007199254740992")), Builds,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.price = 9_007_199_254_740_992.0))))),
        ("price with 22 fraction digits", line(&trade.replace("99175.52", "0.0000000000000000000001")), Builds,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.price = 1e-22))))),
        ("price 0", line(&trade.replace("99175.52", "0")), Builds,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.price = 0.0))))),
        ("non-ASCII id", line(&trade.replace("4314349047", "é€𝄞")), Builds,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.id = "é€𝄞".into()))))),
        ("instrument u64::MAX", line(&trade.replace(":6,", ":18446744073709551615,")), Builds,
            Reads(Item(trade_event(|event| event.instrument = InstrumentIndex(usize::MAX))))),
        ("L1 without levels", line(&l1.replace(r#"{"price":"96028.82021738","amount":"3.50"}"#, "null")), Builds,
            Reads(Item(l1_event(|top| top.best_bid = None)))),
        // Declined: escapes, in values and in keys.
        ("escape in the id", line(&trade.replace("\"4314349047\"", "\"43\\u0031\"")), Declines,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.id = "431".into()))))),
        ("escape in the side", line(&trade.replace("\"Sell\"", "\"\\u0053ell\"")), Declines, Reads(Item(trade_event(|_| {})))),
        ("escape in a key", line(&trade.replace("\"time_exchange\"", "\"time\\u005fexchange\"")), Declines,
            Reads(Item(trade_event(|_| {})))),
        ("a raw control character in the id", line(&trade.replace("4314349047", "43\u{1}")), Declines, Refuses("control character")),
        // Declined: numbers outside the reader's own form.
        ("exponent in a price", line(&trade.replace("99175.52", "9.917552e4")), Declines, Reads(Item(trade_event(|_| {})))),
        ("negative price", line(&trade.replace("99175.52", "-99175.52")), Declines,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.price = -99175.52))))),
        ("price 2^53 + 1", line(&trade.replace("99175.52", "9007199254740993")), Declines,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.price = 9_007_199_254_740_992.0))))),
        // (serde_json's default float parsing is not correctly rounded here: the reader's own
        // division would give 1e-23, so it must decline.)
        ("price with 23 fraction digits", line(&trade.replace("99175.52", "0.00000000000000000000001")), Declines,
            Reads(Item(trade_event(|event| set_trade(event, |trade| trade.price = 1.0000000000000001e-23))))),
        ("leading zero", line(&trade.replace("99175.52", "099175.52")), Declines, Refuses("invalid number")),
        ("point without digits", line(&trade.replace("99175.52", "99175.")), Declines, Refuses("invalid number")),
        ("instrument 6.0", line(&trade.replace(":6,", ":6.0,")), Declines, Refuses("invalid type: floating point")),
        ("instrument -0", line(&trade.replace(":6,", ":-0,")), Declines, Refuses("invalid type: floating point `-0.0`")),
        ("trade_count 3185.0", line(&CANDLE.replace(":3185", ":3185.0")), Declines, Refuses("invalid type: floating point")),
        ("L1 level price as a JSON number", line(&l1.replace("\"96028.82021738\"", "96028.82021738")), Declines,
            Reads(Item(l1_event(|_| {})))),
        // Declined: another layout of the same fields.
        ("duplicate key", line(&trade.replace("\"id\":\"4314349047\"", "\"id\":\"1\",\"id\":\"4314349047\"")), Declines,
            Refuses("duplicate field `id`")),
        ("duplicate time_exchange", line(&trade.replace(
            "\"time_received\"", "\"time_exchange\":\"2024-12-20T19:05:18.175195893Z\",\"time_received\"")), Declines,
            Refuses("duplicate field `time_exchange`")),
        ("fields in another order", line(&trade.replace(
            "\"id\":\"4314349047\",\"price\":99175.52", "\"price\":99175.52,\"id\":\"4314349047\"")), Declines,
            Reads(Item(trade_event(|_| {})))),
        ("a field barter does not know", line(&trade.replace(",\"kind\"", ",\"x\":[1,{}],\"kind\"")), Declines,
            Reads(Item(trade_event(|_| {})))),
        ("a key beside \"Item\"", line(&trade.replace("}}}}", "}}},\"x\":1}")), Declines, Refuses("expected value")),
        ("L1 without best_ask", line(&l1.replace(",\"best_ask\":null", "")), Declines, Reads(Item(l1_event(|_| {})))),
        ("book side's keys swapped", line(&book.replace("\"side\":null,\"levels\":[]", "\"levels\":[],\"side\":null")), Declines,
            Reads(Item(book_event(false)))),
        ("bids not falling", line(&book.replace("96043.10", "96047.9")), Declines,
            ReadsSuchThat("bids kept in file order", |event| bids(event) == ["96047.8035", "96047.9"])),
        ("bids of equal price", line(&book.replace("96043.10", "96047.80350")), Declines,
            ReadsSuchThat("bids kept in file order", |event| bids(event) == ["96047.8035", "96047.80350"])),
        ("a reconnect marker", line(r#"{"Reconnecting":"okx"}"#), Declines, Reads(Item(Event::Reconnecting(ExchangeId::Okx)))),
        // Declined: not barter's data.
        ("an unknown exchange", line(&l1.replace("\"kraken\"", "\"kraken_futures_not_an_exchange\"")), Declines,
            Refuses("unknown variant `kraken_futures_not_an_exchange`")),
        ("an unknown side", line(&trade.replace("\"Sell\"", "\"Sold\"")), Declines, Refuses("unknown variant `Sold`")),
        ("side null", line(&LIQUIDATION.replace("\"Buy\"", "null")), Declines, Refuses("expected value")),
        ("the array's envelope on a line", line(&result_item(TRADE)), Declines, Refuses("missing field `time_exchange`")),
        ("February 30th", line(&trade.replace("2024-12-20T19:05:18.175195893Z", "2024-02-30T19:05:18Z")), Declines,
            Refuses("input is out of range")),
        ("hour 24", line(&trade.replace("19:05:18.175195893Z", "24:00:00Z")), Declines, Refuses("input is out of range")),
        ("no zone", line(&trade.replace("18.175195893Z", "18.175195893")), Declines, Refuses("premature end of input")),
        ("one closing brace too many", line(&format!("{TRADE}}}")), Declines, Refuses("trailing characters")),
        ("text after the event", line(&format!("{TRADE}x")), Declines, Refuses("trailing characters")),
        // The reader's own timestamp form, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, against chrono.
        ("whole seconds", TimestampText("2024-12-20T19:05:18Z"), Builds, Reads(Time(at((2024, 12, 20), (19, 5, 18), 0)))),
        ("one fraction digit", TimestampText("2024-12-20T19:05:18.1Z"), Builds, Reads(Time(at((2024, 12, 20), (19, 5, 18), 100_000_000)))),
        ("nine fraction digits", TimestampText("1970-01-01T00:00:00.000000001Z"), Builds, Reads(Time(at((1970, 1, 1), (0, 0, 0), 1)))),
        ("the last nanosecond of a leap day", TimestampText("2024-02-29T23:59:59.999999999Z"), Builds,
            Reads(Time(at((2024, 2, 29), (23, 59, 59), 999_999_999)))),
        ("year 0", TimestampText("0000-01-01T00:00:00Z"), Builds, Reads(Time(at((0, 1, 1), (0, 0, 0), 0)))),
        ("ten fraction digits", TimestampText("2024-12-20T19:05:18.1234567891Z"), Declines,
            Reads(Time(at((2024, 12, 20), (19, 5, 18), 123_456_789)))),
        ("a point without digits", TimestampText("2024-12-20T19:05:18.Z"), Declines, Refuses("invalid")),
        ("offset +00:00", TimestampText("2024-12-20T19:05:18+00:00"), Declines, Reads(Time(at((2024, 12, 20), (19, 5, 18), 0)))),
        ("lower-case z", TimestampText("2024-12-20T19:05:18z"), Declines, Reads(Time(at((2024, 12, 20), (19, 5, 18), 0)))),
        ("lower-case t", TimestampText("2024-12-20t19:05:18Z"), Declines, Reads(Time(at((2024, 12, 20), (19, 5, 18), 0)))),
        ("leap second", TimestampText("2016-12-31T23:59:60Z"), Declines, Reads(Time(at((2016, 12, 31), (23, 59, 59), 1_000_000_000)))),
        ("February 29th of a common year", TimestampText("2023-02-29T00:00:00Z"), Declines, Refuses("out of range")),
        ("one-digit hour", TimestampText("2024-12-20T9:05:18Z"), Declines, Reads(Time(at((2024, 12, 20), (9, 5, 18), 0)))),
        // The reader's own decimal form, `D+[.D+]` of at most 18 digits, against rust_decimal.
        ("trailing zeros keep the scale", DecimalText("3.50"), Builds, Reads(Number(350, 2))),
        ("zero at scale 3", DecimalText("0.000"), Builds, Reads(Number(0, 3))),
        ("leading zeros", DecimalText("007.5"), Builds, Reads(Number(75, 1))),
        ("18 digits", DecimalText("999999999999999999"), Builds, Reads(Number(999_999_999_999_999_999, 0))),
        ("19 digits", DecimalText("9999999999999999999"), Declines, Reads(Number(9_999_999_999_999_999_999, 0))),
        ("an exponent", DecimalText("1e3"), Declines, Reads(Number(1000, 0))),
        ("a minus sign", DecimalText("-1.5"), Declines, Reads(Number(-15, 1))),
        ("a point without digits after it", DecimalText("1."), Declines, Reads(Number(1, 0))),
        ("a point without digits before it", DecimalText(".5"), Declines, Reads(Number(5, 1))),
        ("two points", DecimalText("1.2.3"), Declines, Refuses("expected a Decimal type")),
        ("empty", DecimalText(""), Declines, Refuses("expected a Decimal type")),
    ];
    let mut wrong = Vec::new();
    for (what, input, canonical, barter) in &cases {
        let (built, read) = input.read();
        let barter_agrees = match (barter, &read) {
            (Reads(expected), Ok(value)) => value == &expected.to_string(),
            (ReadsSuchThat(property, holds), Ok(_)) => {
                let Input::Line(text) = input else { panic!("{what}: only a line's value is checked so") };
                let held = holds(&serde_json::from_str(text).unwrap());
                if !held {
                    wrong.push(format!("{what}: not {property}"));
                }
                held
            }
            (Refuses(expected), Err(error)) => error.contains(expected),
            _ => false,
        };
        if !barter_agrees {
            wrong.push(format!("{what}: barter's types give {read:?}"));
        }
        let canonical_agrees = match canonical {
            Builds => built.is_some() && built.as_ref() == read.as_ref().ok(),
            Declines => built.is_none(),
        };
        if !canonical_agrees {
            wrong.push(format!("{what}: the canonical reader gives {built:?}"));
        }
    }
    assert!(wrong.is_empty(), "rows not as written:\n{}", wrong.join("\n"));
}

/// What the canonical reader does with a [`the_canonical_readers_contract`] row.
enum Canonical {
    /// Builds the value barter's serde types read.
    Builds,
    /// Returns `None`: the caller then reads the input with barter's serde types.
    Declines,
}

/// What barter's serde types (serde_json, chrono, rust_decimal) make of a row's input.
enum Barter {
    Reads(Value),
    /// A value that cannot be built here to compare with (a book in an order only `Deserialize`
    /// keeps), and what it holds.
    ReadsSuchThat(&'static str, fn(&StreamEvent) -> bool),
    /// An error containing this text.
    Refuses(&'static str),
}

enum Value {
    Item(StreamEvent),
    Time(DateTime<Utc>),
    /// A decimal's mantissa and scale.
    Number(i128, u32),
}
use Value::{Item, Number, Time};

impl std::fmt::Display for Value {
    /// As rows are compared: an event through `Debug` (every f64's shortest form, every
    /// decimal's scale), a decimal as mantissa and scale.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item(event) => write!(f, "{event:?}"),
            Time(time) => write!(f, "{time:?}"),
            Number(mantissa, scale) => write!(f, "{mantissa}e-{scale}"),
        }
    }
}

enum Input {
    Line(String),
    TimestampText(&'static str),
    DecimalText(&'static str),
}
use Input::{DecimalText, TimestampText};

fn line(text: &str) -> Input {
    Input::Line(text.to_owned())
}

impl Input {
    /// What the canonical reader builds (`None`: declined), and what barter's types read, each
    /// rendered as [`Value`] renders it.
    fn read(&self) -> (Option<String>, Result<String, String>) {
        let serde = |error: &dyn std::fmt::Display| error.to_string();
        match self {
            Input::Line(text) => (
                event_line(text).map(|event| Item(event).to_string()),
                serde_json::from_str::<StreamEvent>(text).map(|event| Item(event).to_string()).map_err(|e| serde(&e)),
            ),
            TimestampText(text) => (
                utc_timestamp(text).map(|time| Time(time).to_string()),
                DateTime::<Utc>::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(text))
                    .map(|time| Time(time).to_string())
                    .map_err(|e| serde(&e)),
            ),
            DecimalText(text) => {
                let number = |decimal: Decimal| Number(decimal.mantissa(), decimal.scale()).to_string();
                (
                    plain_decimal(text).map(number),
                    <Decimal as Deserialize>::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(
                        text,
                    ))
                    .map(number)
                    .map_err(|e| serde(&e)),
                )
            }
        }
    }
}

fn at((year, month, day): (i32, u32, u32), (hour, minute, second): (u32, u32, u32), nanosecond: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, day)
        .unwrap()
        .and_hms_nano_opt(hour, minute, second, nanosecond)
        .unwrap()
        .and_utc()
}

type Market = MarketEvent<InstrumentIndex, DataKind>;

/// [`TRADE`]'s event, as written there, changed by `change`.
fn trade_event(change: impl FnOnce(&mut Market)) -> StreamEvent {
    let mut event = MarketEvent {
        time_exchange: at((2024, 12, 20), (19, 5, 18), 175_195_893),
        time_received: at((2024, 12, 20), (19, 5, 18), 179_371_794),
        exchange: ExchangeId::BinanceSpot,
        instrument: InstrumentIndex(6),
        kind: DataKind::Trade(PublicTrade {
            id: "4314349047".into(),
            price: 99175.52,
            amount: 1.57640435,
            side: Side::Sell,
        }),
    };
    change(&mut event);
    Event::Item(event)
}

fn set_trade(event: &mut Market, change: impl FnOnce(&mut PublicTrade)) {
    let DataKind::Trade(trade) = &mut event.kind else { unreachable!("a trade") };
    change(trade);
}

/// [`TOP_OF_BOOK`]'s event, its L1 changed by `change`.
fn l1_event(change: impl FnOnce(&mut OrderBookL1)) -> StreamEvent {
    let mut top = OrderBookL1 {
        last_update_time: at((2024, 12, 20), (19, 5, 18), 100_000_000),
        best_bid: Some(Level { price: Decimal::new(9_602_882_021_738, 8), amount: Decimal::new(350, 2) }),
        best_ask: None,
    };
    change(&mut top);
    Event::Item(MarketEvent {
        time_exchange: at((2024, 12, 20), (19, 5, 18), 175_000_000),
        time_received: at((2024, 12, 20), (19, 5, 18), 0),
        exchange: ExchangeId::Kraken,
        instrument: InstrumentIndex(1),
        kind: DataKind::OrderBookL1(top),
    })
}

/// [`BOOK`]'s event, or its update.
fn book_event(update: bool) -> StreamEvent {
    let book = OrderBook::new(
        90,
        Some(at((2024, 12, 20), (19, 5, 18), 260_000_000)),
        [
            Level { price: Decimal::new(960_478_035, 4), amount: Decimal::new(48, 2) },
            Level { price: Decimal::new(9_604_310, 2), amount: Decimal::new(20, 1) },
        ],
        Vec::<Level>::new(),
    );
    Event::Item(MarketEvent {
        time_exchange: at((2024, 12, 20), (19, 5, 18), 262_467_617),
        time_received: at((2024, 12, 20), (19, 5, 18), 267_314_605),
        exchange: ExchangeId::Okx,
        instrument: InstrumentIndex(4),
        kind: DataKind::OrderBook(if update { OrderBookEvent::Update(book) } else { OrderBookEvent::Snapshot(book) }),
    })
}

fn candle_event() -> StreamEvent {
    let time = at((2024, 12, 20), (19, 5, 18), 175_195_893);
    Event::Item(MarketEvent {
        time_exchange: time,
        time_received: at((2024, 12, 20), (19, 5, 18), 179_371_794),
        exchange: ExchangeId::BinanceSpot,
        instrument: InstrumentIndex(6),
        kind: DataKind::Candle(Candle {
            close_time: time,
            open: 99175.52,
            high: 99186.02,
            low: 99166.27,
            close: 99176.52,
            volume: 78.820217,
            trade_count: 3185,
        }),
    })
}

fn liquidation_event() -> StreamEvent {
    Event::Item(MarketEvent {
        time_exchange: at((2024, 12, 20), (19, 5, 18), 175_195_893),
        time_received: at((2024, 12, 20), (19, 5, 18), 179_371_794),
        exchange: ExchangeId::BybitPerpetualsUsd,
        instrument: InstrumentIndex(6),
        kind: DataKind::Liquidation(Liquidation {
            side: Side::Buy,
            price: 99175.52,
            quantity: 2.364607,
            time: at((2024, 12, 20), (19, 5, 18), 100_000_000),
        }),
    })
}

/// A book event's bid prices as their text (scale shown), in the order held.
fn bids(event: &StreamEvent) -> Vec<String> {
    let Event::Item(MarketEvent { kind: DataKind::OrderBook(OrderBookEvent::Snapshot(book)), .. }) = event else {
        return Vec::new();
    };
    book.bids().levels().iter().map(|level| level.price.to_string()).collect()
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
    let levels = TOP_OF_BOOK.replace("null", r#"{"price":"1","amount":"0.000"}"#);
    let asks = BOOK.replace("[]", r#"[{"price":"96050","amount":"1"},{"price":"96050.01","amount":"1"}]"#);
    for line in [TRADE, TOP_OF_BOOK, &levels, CANDLE, LIQUIDATION, &asks] {
        for variant in one_byte_mutations(line, BYTES) {
            assert_agrees(&variant);
        }
    }
}

/// Decimal prices and amounts over the whole range the reader takes and beyond it (up to 10
/// digits before the point and 24 after): the f64 is serde_json's, bit for bit.
#[test]
fn prices_are_serde_jsons_f64s_to_the_bit() {
    let mut next = random_below(0x9E37_79B9_7F4A_7C15_u64);
    for _ in 0..20_000 {
        let count = next(10);
        let whole = format!("{}{}", 1 + next(9), random_digits(&mut next, count));
        let whole = if next(4) == 0 { "0".to_owned() } else { whole };
        let count = next(25);
        let fraction = random_digits(&mut next, count);
        let number = if fraction.is_empty() { whole } else { format!("{whole}.{fraction}") };
        assert_agrees(&TRADE.replace("1.57640435", &number));
    }
}

/// Decimal text of digits, points and a few other bytes, against rust_decimal's `Deserialize`:
/// value and scale.
#[test]
fn decimals_are_rust_decimals_to_the_scale() {
    let mut next = random_below(0x2545_F491_4F6C_DD1D_u64);
    let through_deserialize = |text: &str| {
        <Decimal as Deserialize>::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(text))
    };
    let edges = ["0", "00", "0.0", "000.000", "1.", ".5", "1..2", "1.2.3", "", "-1", "+1", "1e3", " 1", "0.10"];
    let mut texts: Vec<String> = edges.iter().map(|text| text.to_string()).collect();
    texts.extend(["9".repeat(18), "9".repeat(19), format!("0.{}", "0".repeat(17)), format!("1.{}", "0".repeat(17))]);
    texts.extend((0..20_000).map(|_| {
        let length = next(22);
        (0..length).map(|_| char::from(b"0123456789012345678901234567890.-e"[next(34) as usize])).collect()
    }));
    for text in &texts {
        let built = plain_decimal(text);
        if let Some(decimal) = built {
            let expected = through_deserialize(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
            assert_eq!((decimal.mantissa(), decimal.scale()), (expected.mantissa(), expected.scale()), "{text:?}");
        }
        // Built exactly when in the form `D+[.D+]` with at most 18 digits.
        let parts: Vec<&str> = text.split('.').collect();
        let in_form = parts.len() <= 2
            && parts.iter().all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
            && text.len() - (parts.len() - 1) <= 18;
        assert_eq!(built.is_some(), in_form, "{text:?}");
    }
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
                            let built = utc_timestamp(&text);
                            if built.is_some() {
                                assert_eq!(built, chrono(&text), "{text}");
                            }
                            // Built exactly when in the form and a time that exists (chrono
                            // reads a leap second too; it is left to chrono).
                            let digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
                            let fraction_in_form =
                                fraction.is_empty() || (digits(&fraction[1..]) && (2..=10).contains(&fraction.len()));
                            let time_in_form = time.len() == 8
                                && time.bytes().enumerate().all(|(at, byte)| match at {
                                    2 | 5 => byte == b':',
                                    _ => byte.is_ascii_digit(),
                                });
                            let in_form = zone == "Z" && fraction_in_form && time_in_form && !time.ends_with(":60");
                            assert_eq!(built.is_some(), in_form && chrono(&text).is_some(), "{text}");
                        }
                    }
                }
            }
        }
    }
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
    for at in 0..=bytes.len() {
        let mut variants =
            vec![[&bytes[..at.min(bytes.len().saturating_sub(1))], &bytes[(at + 1).min(bytes.len())..]].concat()];
        for &byte in BYTES {
            variants.push([&bytes[..at], &[byte], &bytes[at..]].concat());
        }
        for variant in variants {
            assert_array_agrees(std::str::from_utf8(&variant).unwrap());
        }
    }
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

/// Lines exactly as barter writes them: every kind, both sides of a book with and without
/// levels, one to nine fraction digits, instruments of one digit to `usize::MAX`.
fn barters_layout() -> Vec<String> {
    let milliseconds = TRADE.replace("18.175195893Z\",\"time_received", "18.175Z\",\"time_received");
    vec![
        TRADE.to_string(),
        TOP_OF_BOOK.to_string(),
        TOP_OF_BOOK.replace("null", r#"{"price":"1","amount":"0.000"}"#),
        CANDLE.to_string(),
        LIQUIDATION.to_string(),
        BOOK.to_string(),
        BOOK.replace("Snapshot", "Update"),
        BOOK.replace("[]", r#"[{"price":"96050","amount":"1"},{"price":"96050.01","amount":"1"}]"#),
        milliseconds.replace("18.175Z\",\"time_received", "18.17519589Z\",\"time_received"),
        milliseconds,
        TRADE.replace(r#""instrument":6"#, r#""instrument":0"#),
        TRADE.replace(r#""instrument":6"#, r#""instrument":42"#),
        TRADE.replace(r#""instrument":6"#, &format!(r#""instrument":{}"#, usize::MAX)),
    ]
}

/// The skim (`skim.rs`) exists to pass over barter's own lines without the serde walk: each
/// one, left out, is passed over there, reading what the serde walk reads.
#[test]
fn every_line_in_barters_exact_layout_is_skimmed_when_left_out() {
    let mut memo = Memo::default();
    for line in barters_layout() {
        assert!(assert_skip_agrees(&line, &mut memo).skimmed, "not skimmed: {line}");
    }
}

/// Every one-byte deletion, insertion and replacement in barter's lines, every kind: an event
/// left out is passed over where the serde walk passes over it, and fails as it fails, with
/// the same message at the same place; one kept is built as it builds it.
#[test]
fn one_byte_mutations_of_left_out_events_are_judged_as_the_serde_walk_judges_them() {
    const BYTES: &[u8] = b" \t\"\\-+.,:{}[]0159eEntf\x01x";
    let (mut skimmed, mut scanned) = (0, 0);
    let mut memo = Memo::default();
    for line in barters_layout() {
        for variant in one_byte_mutations(&line, BYTES) {
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
