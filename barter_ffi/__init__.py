"""barter-ffi: barter's market data for Python, parsed by barter's own Rust types.

>>> from barter_ffi import MarketDataInMemory, sample_path
>>> md = MarketDataInMemory.from_json_file(sample_path("all_kinds.jsonl"))  # or any barter file
>>> len(md), md.time_first_event().isoformat()
(11, '2024-12-20T19:05:18.175000+00:00')
>>> md.close()
"""

from .data import (
    Candle,
    DataKind,
    ExchangeId,
    Level,
    Liquidation,
    MarketEvent,
    OrderBookEvent,
    OrderBookL1,
    OrderBookSnapshot,
    OrderBookUpdate,
    PublicTrade,
    Reconnecting,
    Side,
)
from ._ffi import library_version
from .book_replay import BookReplay, EnginePrices
from .errors import DecimalScaleError, MarketDataError, OwnedByAnotherThreadError
from .linking import get_include, get_library
from .market_data import LoadStats, MarketDataInMemory, merge
from .samples import sample_path
from .streaming import JsonFileStream, iter_json_file
from .summary import Summary

__all__ = [
    "BookReplay",
    "Candle",
    "DataKind",
    "DecimalScaleError",
    "EnginePrices",
    "ExchangeId",
    "Level",
    "Liquidation",
    "LoadStats",
    "MarketDataError",
    "MarketDataInMemory",
    "MarketEvent",
    "OrderBookEvent",
    "OrderBookL1",
    "OrderBookSnapshot",
    "OrderBookUpdate",
    "OwnedByAnotherThreadError",
    "PublicTrade",
    "Reconnecting",
    "Side",
    "Summary",
    "JsonFileStream",
    "get_include",
    "get_library",
    "iter_json_file",
    "merge",
    "sample_path",
]
__version__ = library_version()
"""The package's version: its Rust crate's (``rust_core/Cargo.toml``), as the library reports it."""
