"""Exceptions raised by barter_ffi, and the wording of an unknown name."""

from __future__ import annotations

import difflib
from typing import Sequence

__all__ = ["MarketDataError", "OwnedByAnotherThreadError", "unknown_name"]


class MarketDataError(ValueError):
    """The input is not barter market data; the message names the source, line and column."""


class OwnedByAnotherThreadError(RuntimeError):
    """A MarketDataInMemory was used from a thread other than the running one that owns it: give
    each thread its own ``md.clone()``, or have the owner pass it on with ``md.hand_over()``."""


_LISTED_IN_FULL = 10
"""Up to this many names, an error lists them all; beyond, only the closest (barter's 42
exchanges would bury the hint)."""


def unknown_name(what: str, given: str, names: Sequence[str], *, all_names: str = "", or_else: str = "") -> ValueError:
    """The ``ValueError`` for ``given``, which is none of ``names`` (every ``what`` there is).

    It names the closest names (see ``closest_names``), then every name (and ``or_else``, what
    else is accepted), unless there are many and some are close: then ``all_names``, which says
    where to find them all."""
    closest = closest_names(given, names)
    message = f"unknown {what} {given!r}"
    if closest:
        message += f": did you mean {_listed(closest, 'or')}?"
    if len(names) <= _LISTED_IN_FULL or not closest:
        message += f"{' U' if closest else ': u'}se one of {_listed(names, 'or')}{or_else}"
    elif all_names:
        message += f" ({all_names})"
    return ValueError(message)


def closest_names(given: str, names: Sequence[str]) -> list[str]:
    """The names that contain ``given``, ignoring case and a plural ``s`` (a table's name for a
    kind's: ``"trades"`` finds ``"public_trade"``); failing that, those ``given`` contains
    (``"okx_spot"`` finds ``"okx"``); failing that, those nearest in spelling."""
    by_lowered = {name.lower(): name for name in names}
    lowered = given.lower()
    variants = {lowered, lowered.removesuffix("s")} if len(lowered) > 2 else {lowered}
    variants = {variant for variant in variants if len(variant) >= 2}
    containing = [name for low, name in by_lowered.items() if any(variant in low for variant in variants)]
    if containing:
        return containing
    contained = [name for low, name in by_lowered.items() if len(low) >= 2 and low in lowered]
    if contained:
        return contained
    return [by_lowered[name] for name in difflib.get_close_matches(lowered, list(by_lowered), n=3, cutoff=0.6)]


def _listed(names: Sequence[str], conjunction: str) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {conjunction} {quoted[-1]}"
