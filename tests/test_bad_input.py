"""Bad input of every kind: each case runs in its own interpreter, so a crash or a hang shows
as one, and must end in the documented exception with a message that names the problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

HARNESS = r"""
import json, sys
from barter_ffi import MarketDataInMemory
how, argument = sys.argv[1], sys.argv[2]
target = eval(argument) if how == "python" else argument
try:
    md = MarketDataInMemory.from_json_file(target)
    outcome = ["loaded", str(len(md))]
except Exception as error:
    outcome = [type(error).__name__, str(error)]
print(json.dumps(outcome))
"""

TRADE = (FIXTURES / "candles.jsonl").read_text().splitlines()[0]
RESULT = TRADE.replace('{"Item":', '{"Item":{"Ok":', 1) + "}"
BARE_EVENT = TRADE.removeprefix('{"Item":').removesuffix("}")
INSTRUMENT_HINT = "(`instrument` must be an integer in 0..=18446744073709551615, 2**64-1)"


def run(how: str, argument: str) -> tuple[str, str]:
    completed = subprocess.run(
        [sys.executable, "-c", HARNESS, how, argument], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, f"the interpreter died ({completed.returncode}): {completed.stderr[-2000:]}"
    kind, message = json.loads(completed.stdout)
    return kind, message


CONTENT_CASES = {
    "empty file": (b"", ["the input is empty"]),
    "blank file": (b" \n\n\t", ["the input is empty"]),
    "empty array": (b"[]", ["no market event to load (0 reconnect markers, 0 Err items skipped)"]),
    "only reconnect markers": (b'{"Reconnecting":"okx"}\n{"Reconnecting":"kraken"}\n', ["no market event", "2 reconnect markers"]),
    "one reconnect marker, one Err item": (b'[{"Reconnecting":"okx"},{"Item":{"Err":"SubscriptionsEmpty"}}]', ["no market event to load (1 reconnect marker, 1 Err item skipped)"]),
    "only Err items": (b'[{"Item":{"Err":"SubscriptionsEmpty"}},{"Item":{"Err":{"Socket":"x"}}}]', ["no market event", "2 Err items"]),
    "truncated JSON array": (f"[{RESULT},{RESULT[:60]}".encode(), ["line 1 column", "EOF while parsing"]),
    "truncated JSON line": (f"{TRADE}\n{TRADE[:-9]}".encode(), ["line 2 column", "EOF while parsing"]),
    "trailing garbage": (f"[{RESULT}]\n]]garbage".encode(), ["line 2 column 1", "trailing characters"]),
    "bad line in JSON Lines": (f"{TRADE}\n\n{TRADE}\n{{nope}}\n{TRADE}".encode(), ["line 4 column 2", "key must be a string"]),
    "wrong field type": (TRADE.replace('"trade_count":912', '"trade_count":"912"').encode(), ["line 1 column", "invalid type: string \"912\", expected u64"]),
    "unknown DataKind variant": (TRADE.replace('"Candle"', '"Kline"').encode(), ["unknown variant `Kline`", "expected one of `Trade`"]),
    "unknown exchange": (TRADE.replace("binance_spot", "nasdaq").encode(), ["unknown variant `nasdaq`"]),
    "bad side": (b'{"Item":{"time_exchange":"2024-01-01T00:00:00Z","time_received":"2024-01-01T00:00:00Z","exchange":"okx","instrument":0,"kind":{"Trade":{"id":"1","price":1.0,"amount":1.0,"side":"Long"}}}}', ["unknown variant `Long`", "`Buy`", "`Sell`"]),
    "negative instrument": (TRADE.replace('"instrument":0', '"instrument":-3').encode(), ["invalid value: integer `-3`", INSTRUMENT_HINT]),
    "over-large instrument": (TRADE.replace('"instrument":0', '"instrument":99999999999999999999').encode(), ["invalid type: floating point", INSTRUMENT_HINT]),
    "timestamp without offset": (TRADE.replace('"2024-12-20T19:01:00Z"', '"2024-12-20T19:01:00"', 1).encode(), ["invalid timestamp", "UTC offset"]),
    "timestamp as a number": (TRADE.replace('"2024-12-20T19:01:00Z"', "1734721260", 1).encode(), ["invalid type: integer `1734721260`"]),
    "missing required field": (TRADE.replace('"volume":8.5,', "").encode(), ["missing field `volume`"]),
    "invalid UTF-8": (TRADE.replace("binance_spot", "binance\udcffspot").encode("utf-8", "surrogateescape"), ["line 1 column", "invalid UTF-8 (byte 0xFF)"]),
    "binary garbage": (bytes(range(256)) * 4, ["line 2 column 118", "invalid UTF-8 (byte 0x80)"]),
    "a NUL byte first": (b"\0[]", ["line 1 column 1", "found byte 0x00"]),
    "nesting 300,000 levels deep": (b"[" * 300_000 + b"]" * 300_000, ["line 1 column 2"]),
    "nested 300,000 deep inside an event": (b'{"Item":{"extra":' + b"[" * 300_000 + b"]" * 300_000 + b"}}", ["missing field `time_exchange`"]),
    "the array envelope as a line": (f"{RESULT}\n".encode(), ["missing field `time_exchange`", "this line is a MarketStreamResult"]),
    "JSON Lines items in an array": (f"[{TRADE}]".encode(), ["unknown variant `time_exchange`", "array items are MarketStreamResult"]),
    "a bare event as a line": (f"{BARE_EVENT}\n".encode(), ["this line is a bare MarketEvent"]),
    "an empty object as a line": (f"{TRADE}\n{{}}\n".encode(), ["line 2 column 2: expected value (an empty object where an item belongs"]),
    "an empty object in an array": (f"[{RESULT}, {{ }}]".encode(), ["column", "expected value (an empty object where an item belongs"]),
    "timestamp past 2262": (TRADE.replace("2024-12-20T19:01:00.002104Z", "2300-01-01T00:00:00Z").encode(), ["line 1", "`time_received`", "outside the range of i64 nanoseconds"]),
}


@pytest.mark.parametrize("name", list(CONTENT_CASES))
def test_bad_content_is_a_market_data_error(name: str, tmp_path: Path) -> None:
    content, expected = CONTENT_CASES[name]
    path = tmp_path / "market.json"
    path.write_bytes(content)
    kind, message = run("path", str(path))
    assert kind == "MarketDataError", message
    assert message.startswith(str(path)), f"names the file: {message}"
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_missing_file(tmp_path: Path) -> None:
    assert run("path", str(tmp_path / "absent.json")) == (
        "FileNotFoundError", f"[Errno 2] No such file or directory: '{tmp_path / 'absent.json'}'"
    )


def test_directory(tmp_path: Path) -> None:
    assert run("path", str(tmp_path)) == ("IsADirectoryError", f"[Errno 21] Is a directory: '{tmp_path}'")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_no_permission(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text("[]")
    path.chmod(0)
    assert run("path", str(path)) == ("PermissionError", f"[Errno 13] Permission denied: '{path}'")


def test_nul_byte_in_path() -> None:
    assert run("python", "'fixtures/trades\\0.json'") == ("ValueError", "embedded null byte in path")


@pytest.mark.parametrize("argument", ["42", "None", "['fixtures/trades.json']", "object()"])
def test_path_of_the_wrong_type(argument: str) -> None:
    kind, message = run("python", argument)
    assert kind == "TypeError" and "expected str, bytes or os.PathLike object" in message


@pytest.mark.parametrize("instrument", ["18446744073709551616", "-1", "1.5", '"7"'])
@pytest.mark.parametrize("layout", ["lines", "odd lines", "array"])
def test_an_instrument_out_of_range_is_named_with_its_range_by_every_reader(tmp_path: Path, instrument: str,
                                                                             layout: str) -> None:
    """The fast reader, serde's (an odd layout, an array), the selective loads and the stream all
    say the same, at the same line and column."""
    from barter_ffi import MarketDataError, MarketDataInMemory, iter_json_file

    bad = TRADE.replace('"instrument":0', f'"instrument":{instrument}')
    if layout == "odd lines":
        bad = bad.replace('{"Item":{', '{ "Item" : {\t', 1)
    if layout == "array":
        bad_result = bad.replace('{"Item":', '{"Item":{"Ok":', 1) + "}"
        text = f"[{RESULT},\n{bad_result}]"
    else:
        text = f"{TRADE}\n{bad}\n"
    path = tmp_path / ("market.json" if layout == "array" else "market.jsonl")
    path.write_text(text)
    messages = set()
    for read in [lambda: MarketDataInMemory.from_json_file(path),
                 lambda: MarketDataInMemory.from_json_file(path, instruments=[0]),
                 lambda: MarketDataInMemory.from_json_file(path, exchanges=["binance_spot"]),
                 lambda: list(iter_json_file(path))]:
        with pytest.raises(MarketDataError) as error:
            read()
        messages.add(str(error.value))
    assert len(messages) == 1, messages
    message = messages.pop()
    assert "line 2 column " in message and message.endswith(f", expected usize {INSTRUMENT_HINT}"), message
