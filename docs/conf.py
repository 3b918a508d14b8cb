"""Sphinx configuration of the API reference: ``python -m sphinx -W --keep-going docs docs/_build``
(with ``pip install -e ".[docs]"``). ``tests/test_docs.py`` builds it so, and checks it lists every
public Python name, every table column and every C function."""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]  # this checkout's package, and the reference's directives

import barter_ffi  # noqa: E402

project = "barter-ffi"
author = "barter-ffi developers"
copyright = "barter-ffi developers"
release = version = barter_ffi.__version__

extensions = ["sphinx.ext.autodoc", "sphinxarg.ext", "myst_parser", "barter_ffi_reference"]
exclude_patterns = ["_build"]
autodoc_member_order = "bysource"
autodoc_typehints_format = "short"
html_theme = "alabaster"
html_theme_options = {"description": "barter's market data for Python and C, parsed by barter itself"}
