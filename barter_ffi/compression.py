"""Compressed recordings: which compression a file is written with.

Reading needs nothing from here: every loader detects gzip, zstd and bzip2 from the content's
magic bytes, whatever the file is called. Writing names it, or infers it from the file name.
"""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import Literal, Optional, Union

from ._ffi import lib
from .errors import unknown_name

__all__ = ["Compression", "compression_code", "without_compression_suffix"]

Compression = Literal["gzip", "zstd", "bz2"]

_SUFFIXES: dict[str, Compression] = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
_CODES = {
    None: lib.BARTER_FFI_COMPRESSION_NONE,
    "gzip": lib.BARTER_FFI_COMPRESSION_GZIP,
    "zstd": lib.BARTER_FFI_COMPRESSION_ZSTD,
    "bz2": lib.BARTER_FFI_COMPRESSION_BZIP2,
}
def compression_code(path: Union[str, "os.PathLike[str]"], compression: Optional[str] = "infer") -> int:
    """The library's code for ``compression``; by default inferred from ``path``'s last suffix
    (``.gz``, ``.zst``, ``.bz2``; anything else is plain JSON)."""
    if compression == "infer":
        compression = _SUFFIXES.get(PurePath(os.fspath(path)).suffix.lower())
    if compression not in _CODES:
        if isinstance(compression, str):
            raise unknown_name("compression", compression, [name for name in _CODES if name],
                               or_else=", None for plain JSON, or 'infer' (from the file name)")
        raise TypeError(f"compression is 'gzip', 'zstd', 'bz2' or None, not {type(compression).__name__}")
    return int(_CODES[compression])


def without_compression_suffix(path: PurePath) -> PurePath:
    """``path`` without a compression suffix: what names the JSON shape of ``a.jsonl.zst``."""
    return path.with_suffix("") if path.suffix.lower() in _SUFFIXES else path
