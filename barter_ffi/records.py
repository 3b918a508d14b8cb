"""barter-shaped Python dicts, in and out of the library, for tests and tools.

A record is one item of a barter file as ``json.loads`` would give it: ``{"Item": {"Ok": {…}}}``
(or ``{"Item": {"Err": …}}``) as in barter's JSON arrays, ``{"Item": {…}}`` as in its JSON Lines,
or ``{"Reconnecting": "exchange"}`` in either. The records travel to the library as barter JSON,
one record a line, in the shape their envelope belongs to, and barter's own serde types check
them exactly as they check a file; errors name the record's position instead of a line.
"""

from __future__ import annotations

import collections.abc
import re
from typing import Any, Iterable, Mapping

import msgspec

from .errors import MarketDataError

__all__ = ["RECORDS_SOURCE", "records_json", "records_from_json_lines", "position_as_record"]

RECORDS_SOURCE = "records"
"""How the library names records in its error messages (before ``position_as_record``)."""

_encode = msgspec.json.Encoder().encode
_decode_lines = msgspec.json.Decoder().decode_lines


def _is_result_envelope(record: Mapping[str, Any]) -> bool:
    item = record.get("Item")
    return isinstance(item, Mapping) and len(item) == 1 and next(iter(item)) in ("Ok", "Err")


def records_json(records: Iterable[Mapping[str, Any]]) -> bytes:
    """The records as barter JSON with record ``k`` on line ``k + 1``: a JSON array when the
    first ``Item`` has the ``Ok``/``Err`` envelope, JSON Lines otherwise."""
    if isinstance(records, collections.abc.Mapping):
        # Iterating a dict gives its keys, which read as "record 0: expected a dict, not str".
        raise TypeError("records takes an iterable of dicts (barter's items, as json.loads reads them), not one "
                        "dict: for one record, pass [record]")
    if isinstance(records, (str, bytes)) or not isinstance(records, collections.abc.Iterable):
        raise TypeError(f"records takes an iterable of dicts (barter's items, as json.loads reads them), not "
                        f"{type(records).__name__}")
    lines = []
    shape_is_array = None
    for position, record in enumerate(records):
        if not isinstance(record, collections.abc.Mapping):
            raise TypeError(f"record {position}: expected a dict, not {type(record).__name__}")
        if shape_is_array is None and "Item" in record:
            shape_is_array = _is_result_envelope(record)
        try:
            lines.append(_encode(record))
        except (TypeError, msgspec.EncodeError) as error:
            raise TypeError(f"record {position}: not JSON: {error}") from None
    if shape_is_array:
        return b"[" + b",\n".join(lines) + b"]"
    return b"\n".join(lines)


_LIBRARY_POSITION = re.compile(rf"^{RECORDS_SOURCE}: line (\d+)(?: column \d+)?: ")


def position_as_record(error: MarketDataError) -> MarketDataError:
    """The library's "records: line 4 column 17: …" as "record 3: …" (lines count from 1)."""
    message = str(error)
    match = _LIBRARY_POSITION.match(message)
    if match is None:
        return error
    return MarketDataError(f"record {int(match.group(1)) - 1}: {message[match.end():]}")


def records_from_json_lines(json_lines: Any) -> list[dict[str, Any]]:
    """barter's JSON Lines (a buffer) as one dict a line."""
    return _decode_lines(json_lines)
