"""The library is a plain C ABI: ctypes, with no header and no cffi, can drive it (as when
debugging)."""

from __future__ import annotations

import ctypes

from barter_ffi._ffi import library_path
from conftest import FIXTURES


class Error(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("os_errno", ctypes.c_int32), ("message", ctypes.c_char_p)]


def test_ctypes_loads_counts_and_frees() -> None:
    lib = ctypes.CDLL(str(library_path()))
    handle = ctypes.c_void_p()
    error = Error()
    path = str(FIXTURES / "all_kinds_results.json").encode()
    assert lib.barter_ffi_market_data_load_file(path, ctypes.byref(handle), ctypes.byref(error)) == 0
    length = ctypes.c_uint64()
    assert lib.barter_ffi_market_data_len(handle, ctypes.byref(length), None) == 0
    assert length.value == 6
    lib.barter_ffi_market_data_free(handle)

    status = lib.barter_ffi_market_data_load_file(b"/nonexistent.json", ctypes.byref(handle), ctypes.byref(error))
    assert status == 3  # BARTER_FFI_STATUS_FILE_NOT_FOUND
    assert error.os_errno == 2 and b"/nonexistent.json" in error.message
    lib.barter_ffi_error_free(ctypes.byref(error))
    assert error.message is None
