"""The bundled samples are reachable from anywhere, installed or in a checkout, so the docstrings'
examples that read them run from any directory."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

import barter_ffi
from barter_ffi import MarketDataInMemory, sample_path
from conftest import ALL_FIXTURES

MODULES = sorted(
    "barter_ffi" if path.stem == "__init__" else f"barter_ffi.{path.stem}"
    for path in Path(barter_ffi.__file__).parent.glob("*.py")
    if path.stem != "__main__" and (path.stem != "dask" or importlib.util.find_spec("dask") is not None)
)


def test_sample_path_finds_every_sample_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ALL_FIXTURES:
        path = sample_path(name)
        assert path.is_absolute() and path.is_file() and path.name == name
        with MarketDataInMemory.from_json_file(path) as md:
            assert len(md) > 0


def test_the_docstring_describes_every_sample() -> None:
    described = set(re.findall(r"``(\w+\.jsonl?)``", sample_path.__doc__ or ""))
    assert described == set(ALL_FIXTURES)


def test_an_unknown_sample_is_a_file_not_found_naming_the_samples() -> None:
    with pytest.raises(FileNotFoundError, match="all_kinds.jsonl, all_kinds_results.json"):
        sample_path("day.jsonl")


@pytest.mark.parametrize("module", MODULES)
def test_the_docstring_examples_run_from_any_directory(module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
