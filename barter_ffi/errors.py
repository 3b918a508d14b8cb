"""Exceptions raised by barter_ffi, and the wording of an unknown name."""

from __future__ import annotations

import difflib
from typing import Mapping, Optional, Sequence

__all__ = ["DecimalScaleError", "MarketDataError", "OwnedByAnotherThreadError", "unknown_name"]


class MarketDataError(ValueError):
    """The input is not barter market data; the message names the source, line and column."""


class DecimalScaleError(MarketDataError):
    """An L1 or L2 decimal column cannot be written as ``decimal128(38, scale)``: a value needs
    more than its 38 digits at the column's largest scale, or (a file read in pieces into one
    fixed schema) a later piece needs a larger scale. ``problem`` says which table, column and
    scale; the text and float64 forms hold any value."""

    HINT = "write decimals='text' (exact, each value as written) or decimals='float64'"
    """What the message adds to ``problem``: the way out, in Python's words."""
    problem: str
    """Which table, column and scale, without the hint (the command line words its own)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"{problem}: {self.HINT}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.problem,))


class OwnedByAnotherThreadError(RuntimeError):
    """A MarketDataInMemory was used from a thread other than the running one that owns it: give
    each thread its own ``md.clone()``, or have the owner pass it on with ``md.hand_over()``."""


_LISTED_IN_FULL = 10
"""Up to this many names, an error lists them all; beyond, only the closest (barter's 42
exchanges would bury the hint)."""


def unknown_name(what: str, given: str, names: Sequence[str], *, all_names: str = "", or_else: str = "",
                 aliases: Optional[Mapping[str, str]] = None) -> ValueError:
    """The ``ValueError`` for ``given``, which is none of ``names`` (every ``what`` there is) nor
    of their ``aliases`` (alias: name, as barter's serde accepts them).

    It names the closest names (see ``closest_names``; an alias close to ``given`` stands for its
    name, and is shown beside it), then every name (and ``or_else``, what else is accepted), unless
    there are many and some are close: then ``all_names``, which says where to find them all."""
    aliases = aliases or {}
    closest: dict[str, str] = {}  # name: how it is shown, with the first close alias if any
    for match in closest_names(given, [*names, *aliases]):
        name = aliases.get(match, match)
        if match in aliases and "alias" not in closest.get(name, ""):
            closest[name] = f"{name!r} (or its alias {match!r})"
        closest.setdefault(name, repr(name))
    message = f"unknown {what} {given!r}"
    if closest:
        message += f": did you mean {_joined(list(closest.values()), 'or')}?"
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
    return _joined([repr(name) for name in names], conjunction)


def _joined(parts: Sequence[str], conjunction: str) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"
