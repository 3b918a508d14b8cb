"""Where the package's files are: inside an installed wheel, or beside the package in a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACKAGE_DIR", "package_data_dir"]

PACKAGE_DIR = Path(__file__).resolve().parent


def package_data_dir(name: str) -> Path:
    """``barter_ffi/<name>`` in an installed wheel, else the checkout's top-level ``<name>/``.

    pyproject.toml maps ``fixtures/`` and ``include/`` into the package, which only a built wheel
    shows; an editable install or a source checkout reads them where they are. (Plain paths, not
    ``importlib.resources``, whose Python 3.9 cannot read data directories without ``__init__``.)
    """
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name
