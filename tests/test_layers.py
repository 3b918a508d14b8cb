"""The layer check (.ci/check_layers.py): this tree has no import cycle, and a cycle fails it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / ".ci" / "check_layers.py"


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root)], capture_output=True, text=True)


def tree(root: Path, rust: dict[str, str], python: dict[str, str]) -> Path:
    """A checkout holding only `rust` under rust_core/src and `python` under barter_ffi."""
    for folder, files in [("rust_core/src", rust), ("barter_ffi", python)]:
        for name, text in files.items():
            path = root / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root


def test_rust_core_and_barter_ffi_have_no_import_cycle() -> None:
    result = check(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("no cycles")
    assert "  base     -> (nothing)" in result.stdout, "base is the bottom layer"


BETWEEN_LAYERS = {
    "lib.rs": "pub mod low;\npub mod high;\n",
    "low/mod.rs": "pub mod event;\n",
    "low/event.rs": "use crate::{\n    high::{piece::Thing},\n};\n",
    "high/mod.rs": "pub mod piece;\n",
    "high/piece.rs": "use super::super::low::event;\npub struct Thing;\n",
}
WITHIN_A_LAYER = {
    "lib.rs": "pub mod parse;\n",
    "parse/mod.rs": "pub mod load;\npub mod selective;\n",
    "parse/load.rs": "use super::selective::Selector;\n",
    "parse/selective.rs": "pub type Selector = u8;\nfn f() { super::load::g() }\n",
}


@pytest.mark.parametrize(
    ("rust", "cycles"),
    [
        (BETWEEN_LAYERS, ["high, low", "high/piece, low/event"]),
        (WITHIN_A_LAYER, ["parse/load, parse/selective"]),
    ],
    ids=["between layers", "within a layer"],
)
def test_a_rust_cycle_fails_naming_its_modules(tmp_path: Path, rust: dict[str, str], cycles: list[str]) -> None:
    result = check(tree(tmp_path, rust, {"__init__.py": ""}))
    assert result.returncode == 1
    for cycle in cycles:
        assert f"CYCLE: {cycle} import one another" in result.stdout


def test_tests_comments_strings_and_type_checking_imports_are_not_edges(tmp_path: Path) -> None:
    low = """//! Docs may name [`crate::high`].
// So may comments: crate::high::Thing
const TEXT: &str = "crate::high::Thing";
const RAW: &str = r#"use crate::high; "quoted""#;
fn lifetime<'a>(text: &'a str) -> &'a str {
    let _quote = '"';
    text
}
#[cfg(test)]
mod tests {
    use crate::high::Thing;
}
"""
    rust = {"lib.rs": "pub mod low;\npub mod high;\n", "low.rs": low, "high.rs": "use crate::low;\npub struct Thing;\n"}
    python = {
        "__init__.py": "from .a import A\n",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\nclass A: ...\n",
        "b.py": '"""from .a import A, in a docstring"""\nfrom .a import A\nclass B: ...\n',
    }
    result = check(tree(tmp_path, rust, python))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  low  -> (nothing)" in result.stdout and "  high -> low" in result.stdout
    assert "  a        -> (nothing)" in result.stdout and "  b        -> a" in result.stdout


def test_python_imports_inside_functions_and_from_the_package_count(tmp_path: Path) -> None:
    python = {
        "__init__.py": "from .arrow import ArrowTables\n",
        "arrow.py": "def reader():\n    from .market_data import MarketDataInMemory\n",
        "market_data.py": "import barter_ffi.arrow\n",
        "streaming.py": "from barter_ffi import ArrowTables\n",
    }
    result = check(tree(tmp_path, {"lib.rs": ""}, python))
    assert result.returncode == 1
    assert "CYCLE: arrow, market_data import one another" in result.stdout
    assert "  streaming   -> __init__" in result.stdout
