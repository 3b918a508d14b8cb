"""Where the package's files are: inside an installed wheel, or beside the package in a checkout."""

from __future__ import annotations

import importlib.machinery
import sys
from pathlib import Path
from typing import Optional

from ._library_sources import changed_files, read_record

__all__ = ["PACKAGE_DIR", "find_library", "package_data_dir"]

PACKAGE_DIR = Path(__file__).resolve().parent

CHECKOUT_ROOT: Optional[Path] = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "rust_core" / "Cargo.toml").is_file() else None
"""The source checkout this package is imported from, or None for an installed package."""

_LIBRARY_NAMES = ("libbarter_ffi.so", "libbarter_ffi.dylib", "barter_ffi.dll")


def package_data_dir(name: str) -> Path:
    """``barter_ffi/<name>`` in an installed wheel, else the checkout's top-level ``<name>/``.

    pyproject.toml maps ``fixtures/`` and ``include/`` into the package, which only a built wheel
    shows; an editable install or a source checkout reads them where they are. (Plain paths, not
    ``importlib.resources``, whose Python 3.9 cannot read data directories without ``__init__``.)
    """
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def find_library() -> Path:
    """The Rust library this package is to load.

    An installed package loads the library built into it. A source checkout loads its own (which
    ``pip install -e .`` builds into it) or, having none, the installed package's: after
    ``pip install .``, Python started in the checkout imports the checkout's ``barter_ffi``,
    which shadows the installed one. Either is used only if it was built from the checkout's
    library sources as they are now (``_library_sources``); otherwise ``ImportError`` says
    what to run.
    """
    own = _library_in(PACKAGE_DIR)
    if CHECKOUT_ROOT is None:
        if own is None:
            raise ImportError(f"barter_ffi's Rust library is missing from {PACKAGE_DIR}: reinstall barter-ffi")
        return own
    rebuild = f"rebuild it with `{_python()} -m pip install -e .` in {CHECKOUT_ROOT}"
    if own is not None:
        # A build from before records were written has none: it is taken as it is.
        _check_built_from_checkout(own, CHECKOUT_ROOT, str(own), rebuild)
        return own
    install = (
        f"run `{_python()} -m pip install .` in {CHECKOUT_ROOT} to install a build of this checkout "
        "(or `pip install -e .` to build the library into the checkout)"
    )
    no_library = f"barter_ffi in this checkout ({PACKAGE_DIR}) has no Rust library"
    installed = _installed_package_dir(CHECKOUT_ROOT)
    library = None if installed is None else _library_in(installed)
    if library is None:
        raise ImportError(f"{no_library}, and no installed barter-ffi was found: {install}")
    if read_record(library.parent) is None:
        raise ImportError(f"{no_library}, and the installed {library} does not record which sources it was built from: {install}")
    _check_built_from_checkout(library, CHECKOUT_ROOT, f"{no_library}, and the installed {library}", install)
    return library


def _library_in(directory: Path) -> Optional[Path]:
    return next((directory / name for name in _LIBRARY_NAMES if (directory / name).is_file()), None)


def _installed_package_dir(checkout: Path) -> Optional[Path]:
    """The ``barter_ffi`` that ``import barter_ffi`` would find if ``checkout`` were not on the path."""
    elsewhere = [entry for entry in sys.path if Path(entry or ".").resolve() != checkout]
    spec = importlib.machinery.PathFinder.find_spec("barter_ffi", elsewhere)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _check_built_from_checkout(library: Path, checkout: Path, subject: str, advice: str) -> None:
    """Raises ``ImportError`` (``subject`` was built from …: ``advice``) if the record beside
    ``library`` names other sources than ``checkout`` holds now."""
    record = read_record(library.parent)
    changed = [] if record is None else changed_files(record, checkout)
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise ImportError(f"{subject} was built from other sources than this checkout's ({shown} changed since): {advice}")


def _python() -> str:
    return sys.executable or "python"
