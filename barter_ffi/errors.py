"""Exceptions raised by barter_ffi."""

from __future__ import annotations

__all__ = ["MarketDataError", "OwnedByAnotherThreadError"]


class MarketDataError(ValueError):
    """The input is not barter market data; the message names the source, line and column."""


class OwnedByAnotherThreadError(RuntimeError):
    """A MarketDataInMemory was used from a thread other than the one that owns it."""
