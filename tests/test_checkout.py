"""Python started in a source checkout imports the checkout's ``barter_ffi``, which shadows an
installed one. After ``pip install .`` the checkout has no library of its own: it uses the
installed build when that was built from the checkout's sources as they are now, and otherwise
says what to run; a library of its own (``pip install -e .``) is held to the same rule."""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

import barter_ffi
from barter_ffi._library_sources import LIBRARY_SOURCES, RECORD_NAME, write_record
from conftest import ROOT

PACKAGE = Path(barter_ffi.__file__).resolve().parent


def make_checkout(directory: Path) -> Path:
    """A checkout as ``git clone`` leaves it: sources, no library."""
    checkout = directory / "clone"
    built = shutil.ignore_patterns("*.so", "*.dylib", "*.dll", RECORD_NAME, "__pycache__", "pkgconfig", "fixtures", "include")
    shutil.copytree(PACKAGE, checkout / "barter_ffi", ignore=built)
    shutil.copytree(ROOT / "fixtures", checkout / "fixtures")
    for pattern in LIBRARY_SOURCES:
        for source in ROOT.glob(pattern):
            target = checkout / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return checkout


def install_build_of(checkout: Path, site: Path) -> Path:
    """What ``pip install .`` leaves in site-packages: the package with its library and the record
    of the sources it was built from."""
    installed = site / "barter_ffi"
    shutil.copytree(checkout / "barter_ffi", installed)
    library = Path(barter_ffi.get_library())
    (installed / library.name).symlink_to(library)
    write_record(checkout, installed)
    return installed


def python_in(checkout: Path, arguments: list[str], site: Optional[Path] = None) -> subprocess.CompletedProcess:
    """``python arguments…`` started in ``checkout``, with ``site`` on the path after it."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    if site is not None:
        environment["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *arguments], cwd=checkout, env=environment, capture_output=True, text=True,
                          timeout=120)


LOAD_A_SAMPLE = ["-c", """
import barter_ffi
from barter_ffi import MarketDataInMemory
md = MarketDataInMemory.from_json_file('fixtures/all_kinds.jsonl')
print(barter_ffi.__file__, barter_ffi.get_library(), len(md))
"""]


def test_a_checkout_without_a_library_uses_the_installed_build_of_the_same_sources(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path)
    installed = install_build_of(checkout, tmp_path / "site")
    result = python_in(checkout, LOAD_A_SAMPLE, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    package, library, events = result.stdout.split()
    assert Path(package).parent == checkout / "barter_ffi", "the checkout's package, as Python imports it there"
    assert Path(library) == installed / Path(barter_ffi.get_library()).name
    assert events == "11"
    summary = python_in(checkout, ["-m", "barter_ffi", "summary", "--json"], tmp_path / "site")
    assert summary.returncode == 0 and '"market_events": 11' in summary.stdout, summary.stderr


def test_an_installed_build_of_other_sources_is_refused_with_what_to_run(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path)
    install_build_of(checkout, tmp_path / "site")
    wire = next(checkout.glob("rust_core/src/**/wire.rs"))
    wire.write_text(wire.read_text(encoding="utf-8") + "\n// a change pulled after the install\n", encoding="utf-8")
    result = python_in(checkout, LOAD_A_SAMPLE, tmp_path / "site")
    assert result.returncode == 1
    assert "ImportError" in result.stderr and wire.relative_to(checkout).as_posix() in result.stderr
    assert f"{sys.executable} -m pip install .` in {checkout}" in result.stderr, result.stderr


def test_an_installed_build_that_records_no_sources_is_refused(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path)
    (install_build_of(checkout, tmp_path / "site") / RECORD_NAME).unlink()
    result = python_in(checkout, LOAD_A_SAMPLE, tmp_path / "site")
    assert result.returncode == 1 and "does not record which sources" in result.stderr, result.stderr


def test_a_checkout_with_no_library_anywhere_says_what_to_run(tmp_path: Path) -> None:
    elsewhere = [entry for entry in sys.path if entry and Path(entry).resolve() != ROOT]
    if importlib.machinery.PathFinder.find_spec("barter_ffi", elsewhere) is not None:
        pytest.skip("barter-ffi is installed here (a wheel under test), so a checkout would use it")
    checkout = make_checkout(tmp_path)
    result = python_in(checkout, LOAD_A_SAMPLE)
    assert "has no Rust library, and no installed barter-ffi was found" in result.stderr
    assert f"-m pip install .` in {checkout}" in result.stderr


def test_a_checkouts_own_library_built_from_other_sources_is_refused(tmp_path: Path) -> None:
    checkout = make_checkout(tmp_path)
    library = Path(barter_ffi.get_library())
    (checkout / "barter_ffi" / library.name).symlink_to(library)
    write_record(checkout, checkout / "barter_ffi")
    assert python_in(checkout, LOAD_A_SAMPLE).returncode == 0
    header = checkout / "include" / "barter_ffi.h"
    header.write_text(header.read_text(encoding="utf-8").replace("BARTER_FFI_ABI_VERSION 1", "BARTER_FFI_ABI_VERSION 2"), encoding="utf-8")
    result = python_in(checkout, LOAD_A_SAMPLE)
    assert result.returncode == 1 and "include/barter_ffi.h changed since" in result.stderr, result.stderr
    assert f"{sys.executable} -m pip install -e .` in {checkout}" in result.stderr
