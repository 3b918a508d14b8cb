"""barter's timestamps in Python: exact integer nanoseconds since the Unix epoch, UTC.

Reading them out (``utc_datetime``, ``iso``) and taking them in (``nanoseconds``) live here, so
every API that accepts or shows a time treats it the same way.
"""

from __future__ import annotations

import datetime as _dt
import numbers
import operator
import re
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Protocol, Union, cast, overload

if TYPE_CHECKING:
    from numpy import datetime64, integer

__all__ = ["EPOCH", "Moment", "iso", "nanoseconds", "utc_datetime", "utc_datetime_property"]

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

_I64 = range(-(2**63), 2**63)

Moment = Union[int, _dt.datetime, str, "datetime64", "integer"]
"""What the API accepts as a time: ``int`` nanoseconds (or numpy's integers, as a pandas column
of nanoseconds holds them), a tz-aware ``datetime``, a tz-aware
``pandas.Timestamp`` (nanoseconds kept), a ``numpy.datetime64`` (any unit, read as UTC), or
RFC 3339 text with its UTC offset, as barter writes times (``"2024-12-20T19:05:18.175Z"``,
up to nine fraction digits, kept exactly). A leap second (``"2016-12-31T23:59:60.5Z"``) is the
nanoseconds barter reads from that text in a file: the same as the next second's
(``"2017-01-01T00:00:00.5Z"``)."""

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)

_BARTER_READS = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?"
    r"( ?(?:[Uu][Tt][Cc])|[Zz]|[+-][0-9]{2}:?[0-9]{2})"
)
"""Text that barter's reader (chrono's relaxed RFC 3339) takes in a file and RFC 3339 does not:
an offset without its colon, ``UTC`` for ``Z``, more than nine fraction digits."""

_NUMPY_UNIT_NS = {
    "W": 7 * 86_400 * 10**9, "D": 86_400 * 10**9, "h": 3_600 * 10**9, "m": 60 * 10**9, "s": 10**9,
    "ms": 10**6, "us": 10**3, "ns": 1,
}


_UTC = _dt.timezone.utc
_SECOND_STATES: dict[int, bytes] = {}
"""The first seven bytes of ``datetime``'s pickled state (year: 2 bytes, month, day, hour,
minute, second) of recently seen seconds since the epoch: events come many to a second, so most
reads skip the calendar arithmetic."""
_SECOND_STATES_KEPT = 4096


def _second_state(second: int) -> bytes:
    moment = EPOCH + _dt.timedelta(seconds=second)
    state = bytes([moment.year >> 8, moment.year & 0xFF, moment.month, moment.day, moment.hour, moment.minute,
                   moment.second])
    if len(_SECOND_STATES) >= _SECOND_STATES_KEPT:
        _SECOND_STATES.clear()
    _SECOND_STATES[second] = state
    return state


# Every datetime property of every event runs this, so it takes the fastest way CPython has to
# make a datetime: ``datetime(state, tzinfo)`` with the 10-byte state that pickling uses (which
# every version keeps reading, so that old pickles load), from the cached bytes of the second.
# It is compiled once per property, as dataclasses compiles its methods, so that a read is one
# Python call rather than a property calling a function: that call was a tenth of a read.
_CONVERSION = """
def {name}({parameter}):
    {read}
    try:
        state = second_states[nanoseconds // 1_000_000_000]
    except KeyError:
        state = second_state(nanoseconds // 1_000_000_000)
    return from_state(state + (nanoseconds % 1_000_000_000 // 1000).to_bytes(3, "big"), utc)
"""


def _compiled_conversion(name: str, parameter: str, read: str) -> Callable[[Any], Any]:
    namespace: dict[str, Any] = {
        "second_states": _SECOND_STATES, "second_state": _second_state, "from_state": _dt.datetime, "utc": _UTC,
    }
    exec(_CONVERSION.format(name=name, parameter=parameter, read=read), namespace)  # noqa: S102 - fixed template
    return cast(Callable[[Any], Any], namespace[name])


utc_datetime = cast(Callable[[int], _dt.datetime], _compiled_conversion("utc_datetime", "nanoseconds", ""))
utc_datetime.__doc__ = "A tz-aware UTC datetime of integer nanoseconds, truncated to the microsecond it can hold."


class DatetimeProperty(Protocol):
    """What ``utc_datetime_property`` makes, as type checkers see it."""

    def __get__(self, instance: object, owner: Optional[type] = None) -> _dt.datetime: ...


class OptionalDatetimeProperty(Protocol):
    """What ``utc_datetime_property(..., optional=True)`` makes, as type checkers see it."""

    def __get__(self, instance: object, owner: Optional[type] = None) -> Optional[_dt.datetime]: ...


@overload
def utc_datetime_property(field: str) -> DatetimeProperty: ...
@overload
def utc_datetime_property(field: str, *, optional: Literal[True]) -> OptionalDatetimeProperty: ...
def utc_datetime_property(field: str, *, optional: bool = False) -> Any:
    """A read-only property giving the integer nanoseconds in ``field`` as ``utc_datetime`` does
    (``None`` stays ``None`` where ``optional``)."""
    if not field.isidentifier():
        raise ValueError(f"not a field name: {field!r}")
    read = f"nanoseconds = self.{field}"
    if optional:
        read += "\n    if nanoseconds is None:\n        return None"
    getter = _compiled_conversion(field.removesuffix("_ns"), "self", read)
    getter.__doc__ = f"``{field}`` as a tz-aware UTC datetime, truncated to the microsecond."
    return property(getter)


def iso(nanoseconds: int) -> str:
    """RFC 3339 with all nine fraction digits, as barter writes recorded timestamps."""
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    return f"{utc_datetime(seconds * 1_000_000_000):%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


def nanoseconds(moment: Moment, name: str) -> int:
    """``moment`` as nanoseconds since the Unix epoch; ``TypeError`` for anything but the types of
    ``Moment`` (``bool``, ``float`` and ``numpy.timedelta64`` included), ``ValueError`` for a naive
    time, NaT, or text that is not RFC 3339 with an offset."""
    if type(moment) is int and moment in _I64:
        return moment
    integer = _integer(moment)
    if integer is None and not isinstance(moment, (_dt.datetime, str)) and not _is_numpy_datetime(moment):
        raise TypeError(
            f"{name} must be int nanoseconds (numpy's integers too), a tz-aware datetime or pandas.Timestamp, a "
            f"numpy.datetime64, or RFC 3339 text, not {type(moment).__name__}"
        )
    if integer is not None:
        result = integer
    elif isinstance(moment, _dt.datetime):
        result = _datetime_nanoseconds(moment, name)
    elif isinstance(moment, str):
        result = _rfc3339_nanoseconds(moment, name)
    else:
        result = _numpy_nanoseconds(moment, name)
    if result not in _I64:
        raise ValueError(f"{name} lies outside barter's time range (i64 nanoseconds, 1677-09-21 to 2262-04-11)")
    return result


def _integer(moment: object) -> Optional[int]:
    """``moment`` as an ``int`` if it is an integer (numpy's ``int64`` from a pandas column of
    nanoseconds too), not a ``bool`` and not a ``numpy.timedelta64`` (a duration, not a time)."""
    if isinstance(moment, bool) or not isinstance(moment, numbers.Integral):
        return None
    try:
        return operator.index(moment)
    except TypeError:  # numpy.timedelta64 is registered as Integral, yet is no index
        return None


def _datetime_nanoseconds(moment: _dt.datetime, name: str) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime: give it a timezone (barter's times are UTC)")
    # pandas.Timestamp is a datetime that also holds nanoseconds: `.value`, since the epoch, UTC.
    exact = getattr(moment, "value", None)
    if type(moment).__name__ == "Timestamp" and isinstance(exact, int):
        return exact
    return (moment - EPOCH) // _dt.timedelta(microseconds=1) * 1000


def _rfc3339_nanoseconds(text: str, name: str) -> int:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{name}: {text!r} is not an RFC 3339 time with its UTC offset, {_rfc3339_advice(text)}")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    sign, offset_hours, offset_minutes = match.group(8), int(match.group(9) or 0), int(match.group(10) or 0)
    try:
        days = (_dt.date(year, month, day) - EPOCH.date()).days
        # The range checks. A leap second (:60) is 59 and a whole second more, as chrono holds
        # it, so its nanoseconds are the next second's, as barter's reader gives them.
        if second > 60:
            raise ValueError("second must be in 0..60, 60 for a leap second")
        _dt.time(hour, minute, 59 if second == 60 else second)
        _dt.time(offset_hours, offset_minutes)
    except ValueError as error:
        raise ValueError(f"{name}: {text!r} is not a valid time ({error})") from None
    offset = (offset_hours * 3600 + offset_minutes * 60) * (-1 if sign == "-" else 1)
    whole_seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
    return whole_seconds * 1_000_000_000 + int((match.group(7) or "").ljust(9, "0"))


def _rfc3339_advice(text: str) -> str:
    """What to pass instead of ``text``: its RFC 3339 form if barter's reader takes ``text`` in a
    file (why it is not RFC 3339 said), else an example."""
    match = _BARTER_READS.fullmatch(text)
    if match is None:
        return "such as '2024-12-20T19:05:18.175Z'"
    date, time, fraction, offset = match.groups()
    reasons, digits = [], fraction or ""
    if len(digits) > 9:
        reasons.append("more than nine fraction digits, of which barter's reader keeps nine (nanoseconds)")
        digits = digits[:9]
    if offset.strip().upper() == "UTC":
        reasons.append("RFC 3339 writes UTC as 'Z'")
        offset = "Z"
    elif len(offset) == 5:
        reasons.append("its UTC offset needs a colon (+hh:mm)")
        offset = f"{offset[:3]}:{offset[3:]}"
    if not reasons:
        return "such as '2024-12-20T19:05:18.175Z'"
    rfc3339 = f"{date}T{time}{'.' + digits if fraction else ''}{offset}"
    return f"though barter reads it in a file ({'; '.join(reasons)}): pass {rfc3339!r}, the time barter reads"


def _is_numpy_datetime(moment: object) -> bool:
    return type(moment).__name__ == "datetime64" and type(moment).__module__ == "numpy"


def _numpy_nanoseconds(moment: Any, name: str) -> int:
    import numpy  # present: `moment` is one of its scalars

    if numpy.isnat(moment):
        raise ValueError(f"{name} is NaT (not a time)")
    unit, count = numpy.datetime_data(moment.dtype)
    if unit in ("Y", "M"):  # calendar units: let numpy count the days
        moment, unit, count = moment.astype("datetime64[D]"), "D", 1
    ticks = int(moment.astype("int64")) * count
    if unit in _NUMPY_UNIT_NS:
        return ticks * _NUMPY_UNIT_NS[unit]
    below_ns = {"ps": 10**3, "fs": 10**6, "as": 10**9}[unit]
    return ticks // below_ns  # finer than barter's nanoseconds: truncated, as datetime truncates
