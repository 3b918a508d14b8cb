"""Low-level access to the Rust library: loading it, calling it, turning statuses into exceptions.

Everything here follows the C ABI's contract (``include/barter_ffi.h``): each call returns a
status and fills a ``BarterFfiError`` on failure; buffers the library hands out are released
with ``barter_ffi_buffer_free`` once decoded.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Any, Callable, Optional, Union

import msgspec

from ._native import ffi
from ._paths import find_library
from .errors import MarketDataError

__all__ = [
    "PathLike", "ffi", "lib", "library_path", "library_version", "exchange_names", "call", "call_returning", "read_buffer", "encode_path", "live_objects",
]


PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
"""A file's path, as ``open`` takes it."""

_LIBRARY = find_library()


def library_path() -> Path:
    """The path of the Rust library this package loaded."""
    return _LIBRARY


lib: Any = ffi.dlopen(str(_LIBRARY))


def _check_abi_version() -> None:
    """A library built from another header than ``_native.py`` would misread every struct."""
    out = ffi.new("uint32_t *")
    status = lib.barter_ffi_abi_version(out, ffi.NULL)
    if status != lib.BARTER_FFI_STATUS_OK or out[0] != lib.BARTER_FFI_ABI_VERSION:
        raise ImportError(
            f"{_LIBRARY} speaks C ABI version {out[0]}, but this package was generated for "
            f"version {lib.BARTER_FFI_ABI_VERSION}: reinstall barter-ffi so the two are built together"
        )


_check_abi_version()


def _tell_library_the_interpreter_is_exiting() -> None:
    """From here on the library calls no progress callback: a load still running on a daemon
    thread is cancelled instead. A finalizing interpreter ends (``pthread_exit``) a thread that
    asks for the GIL, and a thread entering a callback from inside the library would unwind
    through it and abort the process. atexit hooks run before finalizing, and this call lets
    the GIL go, so a callback already under way finishes first."""
    lib.barter_ffi_host_finalizing(ffi.NULL)


atexit.register(_tell_library_the_interpreter_is_exiting)

_STATUS_OK = lib.BARTER_FFI_STATUS_OK
_OS_ERRORS = {
    lib.BARTER_FFI_STATUS_FILE_NOT_FOUND: FileNotFoundError,
    lib.BARTER_FFI_STATUS_IS_A_DIRECTORY: IsADirectoryError,
    lib.BARTER_FFI_STATUS_PERMISSION_DENIED: PermissionError,
    lib.BARTER_FFI_STATUS_IO: OSError,
}
_CONTENT_ERRORS = {lib.BARTER_FFI_STATUS_INVALID_DATA, lib.BARTER_FFI_STATUS_NO_MARKET_EVENTS}
_ARGUMENT_ERRORS = {lib.BARTER_FFI_STATUS_NULL_ARGUMENT, lib.BARTER_FFI_STATUS_INVALID_ARGUMENT}


def call(function: Callable[..., int], *args: Any, path: Optional[str] = None) -> None:
    """Calls ``function(*args, &error)`` and raises the matching exception if it failed.

    ``path`` is attached to OS errors as their ``filename``.
    """
    error = ffi.new("BarterFfiError *")
    status = function(*args, error)
    if status != _STATUS_OK:
        try:
            raise _exception(status, error, path)
        finally:
            lib.barter_ffi_error_free(error)


def call_returning(out_type: str, function: Callable[..., int], *args: Any, path: Optional[str] = None) -> Any:
    """Calls ``function(*args, &out, &error)`` as ``call`` does and returns what it wrote to ``out``,
    an ``out_type`` (a handle pointer or an integer type; structs are read in place instead)."""
    out = ffi.new(f"{out_type} *")
    call(function, *args, out, path=path)
    return out[0]


def _exception(status: int, error: Any, path: Optional[str]) -> Exception:
    message = ffi.string(error.message).decode("utf-8", "replace") if error.message else "unknown error"
    if status in _OS_ERRORS:
        errno = error.os_errno
        reason = os.strerror(errno) if errno else message
        return _OS_ERRORS[status](errno, reason, path)
    if status in _CONTENT_ERRORS:
        return MarketDataError(message)
    if status == lib.BARTER_FFI_STATUS_INDEX_OUT_OF_RANGE:
        return IndexError(message)
    if status == lib.BARTER_FFI_STATUS_OUT_OF_MEMORY:
        return MemoryError(message)
    if status in _ARGUMENT_ERRORS:
        return ValueError(message)
    return RuntimeError(message)


def read_buffer(buffer: Any, decode: Callable[[Any], Any]) -> Any:
    """Decodes a library-owned buffer in place, then releases it (even if decoding failed)."""
    try:
        return decode(ffi.buffer(buffer.data, buffer.len))
    finally:
        lib.barter_ffi_buffer_free(buffer)


def encode_path(path: PathLike) -> bytes:
    """A path as the NUL-terminated OS bytes the library takes; rejects what ``open`` rejects."""
    encoded = os.fsencode(path)  # TypeError for anything that is not str, bytes or PathLike
    if b"\0" in encoded:
        raise ValueError("embedded null byte in path")
    return encoded


def library_version() -> str:
    """The library's version (its crate's, which is also the package's)."""
    return ffi.string(call_returning("const char *", lib.barter_ffi_version)).decode("ascii")


def exchange_names() -> list[str]:
    """Every exchange name the library's barter reads (its serde names), in barter's order."""
    buffer = ffi.new("BarterFfiBuffer *")
    call(lib.barter_ffi_exchange_names, buffer)
    return list(read_buffer(buffer, msgspec.msgpack.decode))


def live_objects() -> tuple[int, int, int]:
    """(market data handles, cursors, buffers) the library holds, cursors counting file streams
    and Arrow streams too: a leak check for tests."""
    out = ffi.new("BarterFfiLiveObjects *")
    call(lib.barter_ffi_live_objects, out)
    return int(out.market_data), int(out.cursors), int(out.buffers)
