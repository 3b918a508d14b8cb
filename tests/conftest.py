"""Shared test helpers: fixture paths and an independent reading of Rust's debug export."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
from pathlib import Path
from typing import Any, Optional

import pytest

import barter_ffi
from barter_ffi import (
    Candle,
    ExchangeId,
    Level,
    Liquidation,
    MarketEvent,
    OrderBookL1,
    OrderBookSnapshot,
    OrderBookUpdate,
    PublicTrade,
    Side,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED_RECORDING = ROOT.parent / "shared" / "data" / "binance_spot_market_data_with_disconnect_events.json"

def pytest_sessionstart(session: pytest.Session) -> None:
    """With ``BARTER_FFI_TEST_INSTALLED=1`` (CI's wheel runs) the package must be an installed one,
    never this checkout's sources."""
    if os.environ.get("BARTER_FFI_TEST_INSTALLED") == "1" and Path(barter_ffi.__file__).resolve().is_relative_to(ROOT):
        raise pytest.UsageError(f"testing {barter_ffi.__file__}, the source tree, instead of the installed wheel")


SOAK = pytest.mark.skipif(
    os.environ.get("BARTER_FFI_TEST_INSTALLED") == "1",
    reason="the soak runs once in CI, from the checkout: it checks the library over many cycles, not the packaging "
    "that the installed wheel's run on each interpreter checks",
)
"""Marks a soak test (memory and live objects over many cycles): CI runs it once, not again for
each interpreter's installed wheel, so that it costs CI about a minute and a half."""


ALL_FIXTURES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in {".json", ".jsonl"})

_RFC3339_UTC = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$")


def rfc3339_ns(text: str) -> int:
    """Nanoseconds of a UTC RFC 3339 timestamp as chrono writes it, without datetime's rounding."""
    import calendar

    match = _RFC3339_UTC.match(text)
    assert match, f"not a UTC RFC 3339 timestamp: {text}"
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = (match.group(7) or "").ljust(9, "0")
    seconds = calendar.timegm((year, month, day, hour, minute, second))
    return seconds * 1_000_000_000 + int(fraction)


def _level(raw: Optional[dict]) -> Optional[Level]:
    return None if raw is None else Level(raw["price"], raw["amount"])


def _kind(raw: dict) -> Any:
    (name, body), = raw.items()
    if name == "Trade":
        return PublicTrade(body["id"], body["price"], body["amount"], Side(body["side"]))
    if name == "OrderBookL1":
        return OrderBookL1(rfc3339_ns(body["last_update_time"]), _level(body["best_bid"]), _level(body["best_ask"]))
    if name == "OrderBook":
        (variant, book), = body.items()
        cls = {"Snapshot": OrderBookSnapshot, "Update": OrderBookUpdate}[variant]
        time_engine = book["time_engine"]
        return cls(
            book["sequence"],
            None if time_engine is None else rfc3339_ns(time_engine),
            [_level(level) for level in book["bids"]["levels"]],
            [_level(level) for level in book["asks"]["levels"]],
        )
    if name == "Candle":
        return Candle(
            rfc3339_ns(body["close_time"]), body["open"], body["high"], body["low"],
            body["close"], body["volume"], body["trade_count"],
        )
    if name == "Liquidation":
        return Liquidation(Side(body["side"]), body["price"], body["quantity"], rfc3339_ns(body["time"]))
    raise AssertionError(f"unknown DataKind {name}")


def events_from_debug_export(export: bytes) -> list[MarketEvent]:
    """What Rust parsed, read from barter's own serde JSON with the stdlib alone."""
    events = []
    for line in export.decode("utf-8").splitlines():
        item = json.loads(line)
        if "Item" in item:
            raw = item["Item"]
            events.append(
                MarketEvent(
                    rfc3339_ns(raw["time_exchange"]),
                    rfc3339_ns(raw["time_received"]),
                    ExchangeId(raw["exchange"]),
                    raw["instrument"],
                    _kind(raw["kind"]),
                )
            )
    return events


def sigint_at_default() -> None:
    """``preexec_fn`` for a child a test sends Ctrl-C: SIGINT unblocked and at its default, as a
    shell starts a foreground command. A suite run in the background of a non-interactive shell
    (``nohup pytest &``, a CI script's ``&``) has SIGINT ignored, and children inherit that:
    Python then installs no KeyboardInterrupt handler, and the child runs to its end."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_in_thread(function):  # type: ignore[no-untyped-def]
    """Runs ``function`` on a new thread, to its end; ``{"value": …}`` or ``{"error": …}`` comes back."""
    with thread_holding(function) as outcome:
        return outcome


@contextlib.contextmanager
def thread_holding(function, name: Optional[str] = None):  # type: ignore[no-untyped-def]
    """Runs ``function`` on a new thread that stays alive (owning what it used) until the
    ``with`` block ends; the block gets ``{"value": …}`` or ``{"error": …}``."""
    outcome: dict = {}
    done, release = threading.Event(), threading.Event()

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 - handed back to the test thread
            outcome["error"] = error
        done.set()
        release.wait()

    thread = threading.Thread(target=target, name=name)
    thread.start()
    done.wait()
    try:
        yield outcome
    finally:
        release.set()
        thread.join()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def decimal_books() -> list[MarketEvent]:
    """L1 and L2 events on two exchanges whose decimals sort differently as text and as numbers
    ("9.50" < "10.25" < "100.00" only as numbers), with a one-sided L1, a book with no level,
    and amounts at another scale than prices: what a frame of decimals must keep numeric."""
    second = 1_734_721_518_000_000_000

    def at(n: int, exchange: ExchangeId, kind: Any) -> MarketEvent:
        return MarketEvent(second + n, second + n + 500, exchange, n % 2, kind)

    return [
        at(0, ExchangeId.BINANCE_SPOT, OrderBookL1(second, Level("9.50", "2"), Level("9.75", "0.125"))),
        at(1, ExchangeId.OKX, OrderBookL1(second + 1, Level("10.25", "1.5"), None)),
        at(2, ExchangeId.BINANCE_SPOT, OrderBookL1(second + 2, Level("100.00", "0.5"), Level("100.5", "4"))),
        at(3, ExchangeId.OKX, OrderBookSnapshot(7, second + 3, [Level("9.5", "2"), Level("9.25", "1")],
                                                [Level("10.25", "0.5")])),
        at(4, ExchangeId.OKX, OrderBookUpdate(8, None, [], [])),
        at(5, ExchangeId.BINANCE_SPOT, OrderBookUpdate(3, second + 5, [Level("100.00", "0.001")], [])),
    ]
