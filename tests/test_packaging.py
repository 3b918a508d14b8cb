"""What a packager and a C developer rely on: one version, the header and library in the
package, a pkg-config file in wheels, and ``python -m build`` working from the project root."""

from __future__ import annotations

import filecmp
import importlib
import importlib.metadata
import importlib.util
import os
import pydoc
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import barter_ffi
from barter_ffi import get_include, get_library
from barter_ffi._ffi import ffi, lib, library_version
from barter_ffi._library_sources import read_record, source_digests
from conftest import ROOT

INSTALLED_WHEEL = Path(barter_ffi.__file__).resolve().parent.parent != ROOT


def crate_version() -> str:
    manifest = (ROOT / "rust_core" / "Cargo.toml").read_text(encoding="utf-8")
    match = re.search(r'^\[package\][^\[]*?^version = "([^"]+)"', manifest, re.MULTILINE | re.DOTALL)
    assert match, "rust_core/Cargo.toml has a [package] version"
    return match.group(1)


def test_one_version_everywhere() -> None:
    version = crate_version()
    assert library_version() == version, "barter_ffi_version() is the crate's"
    assert barter_ffi.__version__ == version
    assert importlib.metadata.version("barter-ffi") == version, "the distribution's metadata"
    assert f"## {version}" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), "the changelog has an entry"


def test_the_abi_version_of_header_and_library_agree() -> None:
    out = ffi.new("uint32_t *")
    assert lib.barter_ffi_abi_version(out, ffi.NULL) == lib.BARTER_FFI_STATUS_OK
    assert out[0] == lib.BARTER_FFI_ABI_VERSION >= 1
    assert f"#define BARTER_FFI_ABI_VERSION {out[0]}" in (Path(get_include()) / "barter_ffi.h").read_text()


def test_header_and_library_are_where_the_package_says() -> None:
    header = Path(get_include()) / "barter_ffi.h"
    assert filecmp.cmp(header, ROOT / "include" / "barter_ffi.h", shallow=False), "the committed header"
    library = Path(get_library())
    assert library.is_file() and library.name in ("libbarter_ffi.so", "libbarter_ffi.dylib", "barter_ffi.dll")
    assert library.parent == Path(barter_ffi.__file__).resolve().parent


def test_config_prints_flags_for_c_hosts() -> None:
    def config(*asked: str) -> str:
        result = subprocess.run([sys.executable, "-m", "barter_ffi", "config", *asked], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert config("--cflags") == f"-I{get_include()}"
    assert config("--libs") == f"{get_library()} -Wl,-rpath,{Path(get_library()).parent}"
    assert config("--cflags", "--libs") == f"{config('--cflags')} {config('--libs')}"
    assert config("--include") == get_include() and config("--library") == get_library()
    refused = subprocess.run([sys.executable, "-m", "barter_ffi", "config"], capture_output=True, text=True)
    assert refused.returncode == 1 and "--cflags" in refused.stderr


@pytest.mark.skipif(not INSTALLED_WHEEL, reason="pkg-config files ship in wheels, not in editable installs")
@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="pkg-config is not installed")
def test_pkg_config_finds_the_installed_wheel() -> None:
    directory = subprocess.run(
        [sys.executable, "-m", "barter_ffi", "config", "--pkgconfigdir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    environment = {**os.environ, "PKG_CONFIG_PATH": directory}

    def pkg_config(*args: str) -> str:
        return subprocess.run(
            ["pkg-config", *args, "barter_ffi"], capture_output=True, text=True, check=True, env=environment
        ).stdout.strip()

    assert pkg_config("--modversion") == crate_version()
    assert Path(pkg_config("--cflags").removeprefix("-I")).resolve() == Path(get_include()).resolve()
    library, rpath = pkg_config("--libs").split()
    assert Path(library).resolve() == Path(get_library()).resolve()
    assert rpath.startswith("-Wl,-rpath,")


@pytest.mark.skipif(INSTALLED_WHEEL, reason="an installed wheel is tested without a source checkout's tools")
def test_python_m_build_in_the_root_is_pypas_build_not_the_cffi_builder() -> None:
    pytest.importorskip("build", reason="pypa's build is not installed")
    native = (ROOT / "barter_ffi" / "_native.py").stat().st_mtime_ns
    result = subprocess.run([sys.executable, "-m", "build", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert re.match(r"build \d+\.\d+", result.stdout), result.stdout
    assert (ROOT / "barter_ffi" / "_native.py").stat().st_mtime_ns == native, "the cffi builder did not run"


def test_the_readme_says_how_to_install_each_extra_it_names_from_a_checkout() -> None:
    """``pip install "barter-ffi[arrow]"`` needs the package on an index; a checkout installs the
    same extras with ``pip install ".[arrow]"``, and the README must say so for each one."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extras = set(re.findall(r'pip install "barter-ffi\[(\w+)\]"', readme))
    assert {"arrow", "dask"} <= extras
    declared = re.search(r"^\[project\.optional-dependencies\]\n(.*?)^\[", pyproject, re.MULTILINE | re.DOTALL)
    assert declared is not None
    for extra in extras:
        assert re.search(rf"^{extra} = \[", declared.group(1), re.MULTILINE), f"{extra} is not an extra"
        assert f'pip install ".[{extra}]"' in readme, f"the README names [{extra}] but not how a checkout gets it"


def test_the_library_records_the_sources_it_was_built_from() -> None:
    """Written beside the library by every build, wheel or editable: a checkout uses a library
    only if this record matches its sources (tests/test_checkout.py)."""
    record = read_record(Path(get_library()).parent)
    assert record is not None, "rebuild: `pip install -e .` (or `pip install .`) writes the record"
    assert record == source_digests(ROOT), "the library under test was built from this checkout's sources"
    assert {"rust_core/Cargo.lock", "include/barter_ffi.h"} <= record.keys() and any(path.endswith("/wire.rs") for path in record)


def test_help_and_the_header_point_at_what_ships_not_at_rust_sources() -> None:
    """A pip install ships no Rust source: help() and the header point at the reference, at the
    header itself, or at the schemas' own metadata instead."""
    header = (Path(get_include()) / "barter_ffi.h").read_text(encoding="utf-8")
    assert "rust_core/src" not in header
    for path in Path(barter_ffi.__file__).parent.glob("*.py"):
        if path.stem in ("__main__", "_native") or (path.stem == "dask" and importlib.util.find_spec("dask") is None):
            continue
        module = importlib.import_module("barter_ffi" if path.stem == "__init__" else f"barter_ffi.{path.stem}")
        assert "rust_core/src" not in pydoc.render_doc(module, renderer=pydoc.plaintext), path.name
