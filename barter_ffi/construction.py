"""Events built by hand: what a caller passes to an event type's constructor is checked and
converted field by field, where it is passed, while decoding stays untouched.

The event types are msgspec Structs, decoded by the million from the library's batches, and
msgspec runs a Struct's ``__post_init__`` on every decoded instance too; so the checks live in
the metaclass's ``__call__`` instead, which only a call such as ``MarketEvent(...)`` runs.

Each field's check follows from its type (read with ``msgspec.inspect``) and its name:

- ``…_ns`` (a time): int nanoseconds (numpy's integers too), or any time ``timestamps.nanoseconds`` takes (a tz-aware
  ``datetime`` or ``pandas.Timestamp``, a ``numpy.datetime64``, RFC 3339 text), converted exactly;
- other ints (instrument, sequence, trade count; unsigned in barter): an ``int`` from 0 to
  2**64 - 1, numpy's integers too;
- floats: a real number (``int`` too), as ``float``; NaN and infinity pass (``from_events``
  refuses them, as barter's JSON cannot hold them);
- ``…_text`` (a decimal's text): ``str`` that ``decimal.Decimal`` reads as a finite number, a
  ``Decimal`` or an ``int``, stored as the text barter holds for it (rust_decimal's: ``"1e3"``
  is ``"1000"``, ``"-0"`` ``"0"``), so a hand-built event equals its round trip; what
  rust_decimal would round is refused; a ``float`` is refused (it has no decimal scale);
- enums: a member or its value (``"Buy"``, ``"okx"``);
- events, kinds and levels: instances of their classes; a tuple of levels: any sequence of them.

A wrong type is a ``TypeError``, a wrong value a ``ValueError``, each naming ``Class.field``.
"""

from __future__ import annotations

import enum
import functools
import numbers
import operator
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Optional

import msgspec
import msgspec.inspect as inspect

from .errors import closest_names
from .timestamps import nanoseconds

__all__ = ["CheckedConstruction", "from_wire", "unsigned"]

Check = Callable[[Any, str], Any]
"""``check(value, "Class.field")``: the value to store, or an exception naming the field."""

_CANONICAL_DECIMAL = re.compile(r"(?!-0(?:\.0*)?$)-?(?:0|[1-9][0-9]{0,27})(?:\.[0-9]{1,28})?")
"""Decimal text as rust_decimal writes it (no sign on zero, no leading zero, no exponent), with
at most 28 digits in all: taken as it is, without building a ``Decimal``."""

_RUST_DECIMAL_SCALE = 28
"""rust_decimal's largest scale (digits after the point)."""
_RUST_DECIMAL_MANTISSA = 2**96
"""rust_decimal's mantissas lie below this (a 96-bit integer: 28 or 29 digits)."""


class CheckedConstruction(msgspec.StructMeta):
    """The event types' metaclass: ``Class(...)`` checks and converts each field (see the
    module); msgspec's decoders build instances without calling the class."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        fields = cls.__struct_fields__  # type: ignore[attr-defined]
        for keyword in kwargs:
            if keyword not in fields:
                raise _unknown_field(cls.__name__, keyword, fields)
        record = super().__call__(*args, **kwargs)
        for name, where, check in _field_checks(cls):
            value = getattr(record, name)
            checked = check(value, where)
            if checked is not value:
                msgspec.structs.force_setattr(record, name, checked)
        return record


def _unknown_field(cls_name: str, keyword: str, fields: tuple[str, ...]) -> TypeError:
    closest = closest_names(keyword, fields)
    hint = f"did you mean {' or '.join(map(repr, closest))}? " if closest else ""
    return TypeError(f"{cls_name} has no field {keyword!r}: {hint}(its fields: {', '.join(fields)})")


def from_wire(cls: type, data: bytes) -> Any:
    """An instance of ``cls`` from its MessagePack encoding (the wire layout), decoded as batches
    are, without the constructor's checks: how events are unpickled, since they hold checked or
    decoded values and a process pool or Dask may unpickle millions of them."""
    return _wire_decoder(cls)(data)


@functools.lru_cache(maxsize=None)
def _wire_decoder(cls: type) -> Callable[[bytes], Any]:
    return msgspec.msgpack.Decoder(cls).decode


@functools.lru_cache(maxsize=None)
def _field_checks(cls: type) -> tuple[tuple[str, str, Check], ...]:
    """Each checked field's name, its name in messages (``Class.field``) and its check."""
    info = inspect.type_info(cls)
    assert isinstance(info, inspect.StructType)
    checks = ((field.name, _check_for(field.name, field.type)) for field in info.fields)
    return tuple((name, f"{cls.__name__}.{name}", check) for name, check in checks if check is not None)


def _check_for(name: str, info: inspect.Type) -> Optional[Check]:
    if isinstance(info, inspect.UnionType) and any(isinstance(member, inspect.NoneType) for member in info.types):
        present = tuple(member for member in info.types if not isinstance(member, inspect.NoneType))
        if len(present) == 1 and isinstance(present[0], inspect.StructType):
            return functools.partial(_instance, (present[0].cls, type(None)))
        inner = _check_for(name, present[0] if len(present) == 1 else inspect.UnionType(present))
        return None if inner is None else functools.partial(_optional, inner)
    if isinstance(info, inspect.IntType):
        return nanoseconds if name.endswith("_ns") else unsigned
    if isinstance(info, inspect.FloatType):
        return _float
    if isinstance(info, inspect.StrType):
        return _decimal_text if name.endswith("_text") else _text
    if isinstance(info, inspect.EnumType):
        return functools.partial(_member, info.cls)
    if isinstance(info, inspect.StructType):
        return functools.partial(_instance, (info.cls,))
    if isinstance(info, inspect.UnionType) and all(isinstance(member, inspect.StructType) for member in info.types):
        return functools.partial(_instance, tuple(member.cls for member in info.types))  # type: ignore[attr-defined]
    if isinstance(info, inspect.VarTupleType):
        item = _check_for(name, info.item_type)
        return None if item is None else functools.partial(_tuple_of, item)
    return None  # internal layouts (lists of events, markers): not built by users


def _optional(check: Check, value: Any, where: str) -> Any:
    return None if value is None else check(value, where)


def unsigned(value: Any, where: str, expected: str = "an int") -> int:
    """``value`` as one of barter's unsigned integers (``u64``, ``usize``): an ``int`` or what
    stands for one (numpy's integers), not a ``bool``, from 0 to 2**64 - 1."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{where} takes {expected}, not {type(value).__name__}")
    number = operator.index(value)
    if not 0 <= number < 2**64:
        raise ValueError(f"{where}: {number} is not from 0 to 2**64 - 1 (an unsigned integer in barter)")
    return number


def _float(value: Any, where: str) -> float:
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} must be a float (or an int), not {type(value).__name__}")
    return float(value)


def _text(value: Any, where: str) -> str:
    if type(value) is str:
        return value
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a str, not {type(value).__name__}")
    return str(value)


def _decimal_text(value: Any, where: str) -> str:
    """``value`` as the text barter holds for it: what rust_decimal reads the text as and writes
    back (``"1e3"`` is ``"1000"``, ``"+1.50"`` ``"1.50"``, ``"-0"`` ``"0"``, ``"1.5e-3"``
    ``"0.0015"``), so that an event built by hand equals the same event after a round trip
    through the library. A value rust_decimal would round (more than 28 places after the point,
    or more digits than its 96-bit mantissa holds) is a ``ValueError``, not rounded here."""
    if type(value) is str and _CANONICAL_DECIMAL.fullmatch(value) and sum(map(str.isdigit, value)) <= 28:
        return value
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise ValueError(f"{where} must be a decimal's text, such as '96962.50', not {value!r}")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{where} must be a finite decimal, not {value}")
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        scale = " (a float has no decimal scale: write the text, '0.10')" if isinstance(value, float) else ""
        raise TypeError(
            f"{where} takes a decimal's text ('96962.50'), a Decimal or an int, not {type(value).__name__}{scale}"
        )
    return _rust_decimal_text(number, value, where)


def _rust_decimal_text(number: Decimal, given: Any, where: str) -> str:
    """rust_decimal's ``Display`` of the decimal ``number`` (a mantissa and a scale, no
    exponent, zero unsigned), or ``ValueError`` where it cannot hold ``number`` exactly."""
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    mantissa = int("".join(map(str, digit_tuple)))
    scale = max(0, -exponent)
    mantissa *= 10 ** max(0, exponent)
    if scale > _RUST_DECIMAL_SCALE:
        raise ValueError(f"{where}: {given!r} has {scale} digits after the point; barter's decimals (rust_decimal) "
                         f"hold {_RUST_DECIMAL_SCALE} at most, and would round it")
    if mantissa >= _RUST_DECIMAL_MANTISSA:
        raise ValueError(f"{where}: {given!r} has more digits than barter's decimals (rust_decimal: a 96-bit integer, "
                         "28 or 29 digits, and a scale) hold, and would be rounded")
    digits = str(mantissa).rjust(scale + 1, "0")
    text = f"{digits[:-scale]}.{digits[-scale:]}" if scale else digits
    return f"-{text}" if sign and mantissa else text


def _member(cls: type[enum.Enum], value: Any, where: str) -> Any:
    if type(value) is cls:
        return value
    if isinstance(value, str):
        return cls(value)  # an unknown name's error names the closest ones (the enums' _missing_)
    names = ", ".join(repr(member.value) for member in cls) if len(cls) <= 10 else f"list({cls.__name__})"
    raise TypeError(f"{where} must be {cls.__name__} or its value ({names}), not {type(value).__name__}")


def _instance(classes: tuple[type, ...], value: Any, where: str) -> Any:
    if type(value) in classes or isinstance(value, classes):
        return value
    names = ["None" if cls is type(None) else cls.__name__ for cls in classes]
    expected = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    raise TypeError(f"{where} must be {expected}, not {type(value).__name__}")


def _tuple_of(check: Check, value: Any, where: str) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{where} must be a sequence (a tuple or list), not {type(value).__name__}")
    items = tuple(value)
    checked = tuple(check(item, f"{where}[{index}]") for index, item in enumerate(items))
    if type(value) is tuple and all(new is old for new, old in zip(checked, items)):
        return value
    return checked
