"""The API reference (docs/) builds with warnings as errors and lists every public Python name,
every Arrow table column, every subcommand and every C function and type the package exports.
It needs the docs extra (``pip install -e ".[docs]"``); without it these tests are skipped."""

from __future__ import annotations

import enum
import inspect
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import barter_ffi
from barter_ffi._ffi import ffi, lib
from barter_ffi.arrow import TABLES
from conftest import ROOT

pytest.importorskip("sphinx", reason="the docs extra is not installed")
pytest.importorskip("sphinxarg", reason="the docs extra is not installed")
pytest.importorskip("myst_parser", reason="the docs extra is not installed")
pa = pytest.importorskip("pyarrow")
dask = pytest.importorskip("barter_ffi.dask")

sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from barter_ffi_reference import parse_header  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference, built as CI builds it: HTML, every warning an error."""
    directory = tmp_path_factory.mktemp("docs")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"), str(directory)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"the reference does not build cleanly:\n{result.stderr}"
    return directory


@pytest.fixture(scope="module")
def reference(built: Path) -> set[tuple[str, str]]:
    """``(role, name)`` of every object the built reference lists (its Sphinx inventory)."""
    *header, compressed = (built / "objects.inv").read_bytes().split(b"\n", 4)
    assert header[0] == b"# Sphinx inventory version 2"
    objects = set()
    for line in zlib.decompress(compressed).decode("utf-8").splitlines():
        match = re.match(r"(.+?)\s+(\S+:\S+)\s+-?\d+\s", line)
        assert match, line
        objects.add((match.group(2), match.group(1)))
    return objects


def names_of(reference: set[tuple[str, str]], role: str) -> set[str]:
    return {name for kind, name in reference if kind == role}


def _public_classes() -> dict[type, str]:
    """Each public class and the name the reference gives it."""
    classes = {value: f"barter_ffi.{name}" for name in barter_ffi.__all__ if inspect.isclass(value := getattr(barter_ffi, name))}
    classes[barter_ffi.arrow.ArrowTable] = "barter_ffi.arrow.ArrowTable"  # what to_arrow returns
    return classes


def expected_python_names() -> set[str]:
    """Every public name: the package's and barter_ffi.dask's, and every public member of a
    public class, documented on the public class that defines it (or on the class itself, for
    what it inherits from a private one)."""
    names = {f"barter_ffi.{name}" for name in barter_ffi.__all__} | {"barter_ffi.__version__"}
    names |= {f"barter_ffi.dask.{name}" for name in dask.__all__}
    classes = _public_classes()
    for cls, documented_as in classes.items():
        if issubclass(cls, enum.Enum):
            names |= {f"{documented_as}.{member}" for member in cls.__members__}
        for owner in cls.__mro__:
            if not owner.__module__.startswith("barter_ffi"):
                continue
            for member in vars(owner):
                if not member.startswith("_") and not (issubclass(cls, enum.Enum) and member in cls.__members__):
                    names.add(f"{classes.get(owner, documented_as)}.{member}")
    return names


def test_the_reference_lists_every_public_python_name(reference: set[tuple[str, str]]) -> None:
    documented = {name for kind, name in reference if kind.startswith("py:")}
    missing = sorted(expected_python_names() - documented)
    assert not missing, f"add these to docs/python.rst: {missing}"


def test_the_reference_lists_every_column_of_every_table(reference: set[tuple[str, str]]) -> None:
    with barter_ffi.MarketDataInMemory.from_json_file(barter_ffi.sample_path("all_kinds.jsonl")) as md:
        columns = {f"{table}.{field.name}" for table in TABLES for field in pa.schema(md.to_arrow(table))}  # type: ignore[arg-type]
        # The book replay's levels stand as one: bid_price_{i} for bid_price_0 … bid_price_{depth-1}.
        columns |= {f"book_replay.{re.sub(r'_0$', '_{i}', field.name)}" for field in pa.schema(md.book_replay(depth=1))}
        columns |= {f"engine_prices.{field.name}" for field in pa.schema(md.engine_prices())}
    assert len(columns) > 80
    assert columns == names_of(reference, "std:arrow-column")


def test_the_reference_lists_every_exported_c_function_and_type(reference: set[tuple[str, str]]) -> None:
    functions = {name for name in dir(lib) if name.startswith("barter_ffi_") and callable(getattr(lib, name))}
    assert len(functions) > 30 and functions <= names_of(reference, "c:function"), sorted(functions - names_of(reference, "c:function"))
    typedefs, structs, _ = ffi.list_types()
    types = {name for name in [*typedefs, *structs] if name.startswith(("BarterFfi", "Arrow"))}
    documented = names_of(reference, "c:struct") | names_of(reference, "c:enum") | names_of(reference, "c:type")
    assert types <= documented, sorted(types - documented)
    constants = {name for name in dir(lib) if name.startswith("BARTER_FFI_") and isinstance(getattr(lib, name), int)}
    assert constants <= names_of(reference, "c:macro") | names_of(reference, "c:enumerator"), sorted(constants)


def test_the_reference_shows_the_layouts_and_the_contract(built: Path) -> None:
    page = (built / "c.html").read_text(encoding="utf-8")
    for line in ("batch  = [event, …]", "level  = [price: str, amount: str]", "summary = [groups, markers]",
                 "Ownership Everything the caller receives"):
        assert line in page.replace("&quot;", '"'), line


def test_the_reference_lists_every_subcommand(reference: set[tuple[str, str]]) -> None:
    from barter_ffi.__main__ import COMMANDS

    assert {f"barter-ffi {command}" for command in COMMANDS} <= names_of(reference, "commands:command")


def test_a_header_declaration_the_reference_cannot_show_fails_the_build() -> None:
    with pytest.raises(ValueError, match="cannot show"):
        parse_header("/** A union. */\nunion BarterFfiValue {\n  int64_t i;\n  double f;\n};\n")
    declarations = parse_header("/**\n * Frees `x`.\n */\nvoid barter_ffi_x_free(struct X *x);\n")
    assert [(d.kind, d.directive, d.doc) for d in declarations] == [
        ("functions", "c:function:: void barter_ffi_x_free(struct X *x)", "Frees `x`."),
    ]


def test_the_benchmarks_page_shows_today_in_at_most_300_lines() -> None:
    page = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert len(page.splitlines()) <= 300, "benchmarks/README.md keeps the latest run only: older runs live in git"
