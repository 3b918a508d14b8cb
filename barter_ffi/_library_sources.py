"""Which sources a build of the Rust library came from, so a checkout never runs a stale library.

Every build (``pip install .`` or ``-e .``) writes, beside the library, a record of the files that
make it: the crate's sources, manifest and lock file, and the header that ``_native.py`` mirrors,
each with its SHA-256. A source checkout uses a library only when that record matches the
checkout's files as they are now (``_paths.library_path``).

This module uses the standard library alone: ``setup.py`` loads it by path, before the package
(and its library) can be imported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

__all__ = ["RECORD_NAME", "changed_files", "read_record", "source_digests", "write_record"]

RECORD_NAME = "_library_sources.json"
"""The record's file name, in the directory that holds the library."""

LIBRARY_SOURCES = (
    "rust_core/Cargo.toml",
    "rust_core/Cargo.lock",
    "rust_core/build.rs",
    "rust_core/src/**/*.rs",
    "include/barter_ffi.h",
)
"""What the library and its cffi declarations are built from, relative to the project root."""


def source_digests(root: Path) -> dict[str, str]:
    """``{path relative to root: SHA-256}`` of every library source under ``root``."""
    files = sorted({path for pattern in LIBRARY_SOURCES for path in root.glob(pattern) if path.is_file()})
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def write_record(root: Path, directory: Path) -> None:
    """Records the library sources under ``root`` in ``directory``, where the library goes."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RECORD_NAME).write_text(json.dumps(source_digests(root), indent=0, sort_keys=True), encoding="utf-8")


def read_record(directory: Path) -> Optional[dict[str, str]]:
    """The record beside a library, or None if it has none (a build older than records)."""
    try:
        return dict(json.loads((directory / RECORD_NAME).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


def changed_files(record: dict[str, str], root: Path) -> list[str]:
    """The library sources under ``root`` that differ from ``record``: changed, added or removed."""
    now = source_digests(root)
    return sorted(path for path in record.keys() | now.keys() if record.get(path) != now.get(path))
