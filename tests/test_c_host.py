"""A C program compiled against the committed header and linked to the package's library."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from barter_ffi._ffi import library_path
from conftest import FIXTURES, ROOT

HOST_SOURCE = ROOT / "tests" / "c" / "market_data_host.c"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    library = library_path()
    binary = tmp_path_factory.mktemp("c_host") / "market_data_host"
    subprocess.run(
        [
            compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
            f"-I{ROOT / 'include'}", str(HOST_SOURCE), "-o", str(binary),
            str(library), f"-Wl,-rpath,{library.parent}",
        ],
        check=True,
    )
    return binary


@pytest.mark.parametrize(("name", "events"), [("all_kinds.jsonl", 11), ("all_kinds_results.json", 6)])
def test_c_host_loads_drains_and_frees(host: Path, name: str, events: int) -> None:
    result = subprocess.run([host, FIXTURES / name, str(events)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"drained {events} events" in result.stdout
    assert "live 0 0 0" in result.stdout


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_c_host_loop_is_clean_under_valgrind(host: Path) -> None:
    result = subprocess.run(
        [
            "valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect,possible",
            "--error-exitcode=99", host, FIXTURES / "all_kinds_results.json", "6", "3",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr


def test_the_header_compiles_as_cplusplus() -> None:
    compiler = shutil.which("c++") or shutil.which("g++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    subprocess.run(
        [compiler, "-x", "c++", "-std=c++17", "-Wall", "-Werror", f"-I{ROOT / 'include'}", "-fsyntax-only", str(HOST_SOURCE)],
        check=True,
    )
