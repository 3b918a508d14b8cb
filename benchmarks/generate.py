"""Writes synthetic barter market-data files of N events, in both file shapes.

    python benchmarks/generate.py 100000 benchmarks/data/mixed_100k [MIX]

writes ``mixed_100k.jsonl`` (JSON Lines of MarketStreamEvent) and ``mixed_100k.json`` (a JSON
array of MarketStreamResult, one ``Err`` item per thousand), holding the same events, with one
reconnect marker per 5,000 events. Deterministic for a given N and mix. Mixes, per 100 events:

- ``mixed`` (the default): 50 trades, 25 L1, 10 book updates (3 levels a side), 1 snapshot
  (20 levels), 6 candles, 8 liquidations;
- ``trades``: trades only;
- ``l1``: top of book only;
- ``nobooks``: 60 trades, 20 L1, 10 candles, 10 liquidations;
- ``bookheavy``: 30 trades, 20 L1, 45 book updates and 5 snapshots of 0-12 levels a side;
- ``books``, ``candles``, ``liquidations``: that kind only (books as in ``bookheavy``), for the
  load's cost per kind.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

EXCHANGES = ["binance_spot", "okx", "bybit_spot", "coinbase", "kraken"]
START_NS = 1_734_721_518_175_000_000


def timestamp(ns: int) -> str:
    import datetime as dt

    seconds, fraction = divmod(ns, 1_000_000_000)
    whole = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{fraction:09d}Z"


def level(rng: random.Random, mid: float) -> dict:
    return {"price": f"{mid + rng.uniform(-50, 50):.8f}", "amount": f"{rng.uniform(0, 5):.8f}"}


def book(rng: random.Random, sequence: int, ns: int, depth: int) -> dict:
    # Best first, as barter's own books keep their levels.
    bids = sorted((level(rng, 96_000) for _ in range(depth)), key=lambda bid: float(bid["price"]), reverse=True)
    asks = sorted((level(rng, 96_100) for _ in range(depth)), key=lambda ask: float(ask["price"]))
    return {
        "sequence": sequence,
        "time_engine": timestamp(ns) if sequence % 3 else None,
        "bids": {"side": None, "levels": bids},
        "asks": {"side": None, "levels": asks},
    }


MIXES = ("mixed", "trades", "l1", "nobooks", "bookheavy", "books", "candles", "liquidations")


def trade(rng: random.Random, index: int, price: float, side: str) -> dict:
    return {"Trade": {"id": str(4_314_349_047 + index), "price": price, "amount": round(rng.uniform(0, 2), 8), "side": side}}


def l1(rng: random.Random, ns: int) -> dict:
    return {"OrderBookL1": {"last_update_time": timestamp(ns), "best_bid": level(rng, 96_000), "best_ask": level(rng, 96_100)}}


def candle(rng: random.Random, ns: int, price: float) -> dict:
    return {"Candle": {"close_time": timestamp(ns), "open": price, "high": price + 10.5, "low": price - 9.25, "close": price + 1.0, "volume": round(rng.uniform(0, 100), 6), "trade_count": rng.randrange(5000)}}


def liquidation(rng: random.Random, ns: int, price: float, side: str) -> dict:
    return {"Liquidation": {"side": side, "price": price, "quantity": round(rng.uniform(0, 3), 6), "time": timestamp(ns)}}


def kind(rng: random.Random, index: int, ns: int, mix: str) -> dict:
    slot = index % 100
    price = round(rng.uniform(90_000, 100_000), 2)
    side = rng.choice(["Buy", "Sell"])
    if mix == "trades":
        return trade(rng, index, price, side)
    if mix == "l1":
        return l1(rng, ns)
    if mix == "candles":
        return candle(rng, ns, price)
    if mix == "liquidations":
        return liquidation(rng, ns, price, side)
    if mix == "books":
        slot = 50 + slot // 2
    if mix == "nobooks":
        if slot < 60:
            return trade(rng, index, price, side)
        if slot < 80:
            return l1(rng, ns)
        return candle(rng, ns, price) if slot < 90 else liquidation(rng, ns, price, side)
    if mix in ("bookheavy", "books"):
        if slot < 30:
            return trade(rng, index, price, side)
        if slot < 50:
            return l1(rng, ns)
        return {"OrderBook": {"Update" if slot < 95 else "Snapshot": book(rng, index, ns, rng.randrange(13))}}
    if slot < 50:
        return trade(rng, index, price, side)
    if slot < 75:
        return l1(rng, ns)
    if slot < 85:
        return {"OrderBook": {"Update": book(rng, index, ns, 3)}}
    if slot < 86:
        return {"OrderBook": {"Snapshot": book(rng, index, ns, 20)}}
    return candle(rng, ns, price) if slot < 92 else liquidation(rng, ns, price, side)


def events(count: int, mix: str = "mixed"):
    rng = random.Random(count)
    ns = START_NS
    for index in range(count):
        ns += rng.randrange(1, 2_000_000)
        if index % 5000 == 4999:
            yield {"Reconnecting": rng.choice(EXCHANGES)}
        yield {
            "time_exchange": timestamp(ns),
            "time_received": timestamp(ns + rng.randrange(100_000, 5_000_000)),
            "exchange": rng.choice(EXCHANGES),
            "instrument": rng.randrange(8),
            "kind": kind(rng, index, ns, mix),
        }


def write(count: int, stem: Path, mix: str = "mixed") -> tuple[Path, Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    lines_path, array_path = stem.with_suffix(".jsonl"), stem.with_suffix(".json")
    compact = {"separators": (",", ":")}
    with lines_path.open("w") as lines, array_path.open("w") as array:
        array.write("[\n")
        first = True
        for number, item in enumerate(events(count, mix)):
            market_stream_event = item if "Reconnecting" in item else {"Item": item}
            lines.write(json.dumps(market_stream_event, **compact) + "\n")
            result = item if "Reconnecting" in item else {"Item": {"Ok": item}}
            if number % 1000 == 999:
                array.write(",\n" + json.dumps({"Item": {"Err": {"Socket": "connection reset"}}}, **compact))
            array.write(("" if first else ",\n") + json.dumps(result, **compact))
            first = False
        array.write("\n]\n")
    return lines_path, array_path


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    stem = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent / "data" / f"mixed_{count}"
    mix = sys.argv[3] if len(sys.argv) > 3 else "mixed"
    if mix not in MIXES:
        raise SystemExit(f"unknown mix {mix!r}: one of {', '.join(MIXES)}")
    for path in write(count, stem, mix):
        print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
