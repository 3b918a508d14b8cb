"""The library as the release wheel ships it, read from its ELF file (pyelftools), not from
auditwheel's policy files.

It installs where researchers run, as the README says: Linux x86_64 with glibc 2.17 or newer
(manylinux2014; CentOS 7 has glibc 2.17 and GCC 4.8's libgcc_s). Its wheel's tag asks for glibc
2.17 or older, every ``GLIBC_*`` version in its version needs (``.gnu.version_r``, what
``objdump -T`` shows per symbol) is at most 2.17 (and at most the tag's), and its ``DT_NEEDED``
libraries are all on such a system. These checks apply to a library installed from a wheel with a
manylinux tag: the release wheel (``tools/build_release.py``), which CI installs on every CPython and
tests here. A library built on this machine for this machine (an editable install, ``pip install .``:
tag ``linux_x86_64``) is linked against this machine's glibc and promises nothing, so they skip,
except under ``BARTER_FFI_TEST_INSTALLED=1`` (CI's runs of the installed release wheel), where they
fail: there a skip would hide a wheel that is not the release wheel.

Every build keeps its symbol table and drops debug info: valgrind's suppressions and Rust's
backtraces name the library's own functions from the one, and the other would triple its size.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from pathlib import Path
from typing import NamedTuple, Optional

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from packaging.tags import parse_tag

from barter_ffi import get_library

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the wheel's library is an ELF file on Linux only")

RELEASE_GLIBC = (2, 17)
"""The oldest glibc the README promises the wheel runs on."""

NEWEST_VERSION = {"GLIBC": RELEASE_GLIBC, "GCC": (4, 8, 0)}
"""Per version namespace, the newest a glibc 2.17 system provides (``GCC_*`` are libgcc_s's)."""

SYSTEM_LIBRARIES = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libgcc_s.so.1", "ld-linux-x86-64.so.2",
}
"""glibc 2.17's own libraries (libm, libdl, libpthread and librt apart from libc until 2.34) and libgcc_s."""

LEGACY_MANYLINUX_GLIBC = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}


class LinkedLibrary(NamedTuple):
    needed: set[str]
    """``DT_NEEDED``: the libraries the dynamic loader must find."""
    versions: dict[str, set[str]]
    """The symbol versions asked of each of them (``.gnu.version_r``)."""
    sections: set[str]


@pytest.fixture(scope="module")
def library() -> LinkedLibrary:
    path = get_library()
    with open(path, "rb") as file:
        elf = ELFFile(file)
        dynamic = elf.get_section_by_name(".dynamic")
        assert isinstance(dynamic, DynamicSection), f"{path} has no dynamic section: not a shared library"
        version_needs = elf.get_section_by_name(".gnu.version_r")
        assert isinstance(version_needs, GNUVerNeedSection), f"{path} asks for no symbol versions: not linked against glibc"
        return LinkedLibrary(
            needed={tag.needed for tag in dynamic.iter_tags("DT_NEEDED")},
            versions={need.name: {aux.name for aux in auxiliaries} for need, auxiliaries in version_needs.iter_versions()},
            sections={section.name for section in elf.iter_sections()},
        )


def manylinux_glibc(platform: str) -> Optional[tuple[int, ...]]:
    """The glibc a wheel platform tag asks for (``manylinux_2_17_x86_64``, ``manylinux2014_x86_64``);
    None for a tag that promises none (``linux_x86_64``)."""
    match = re.match(r"manylinux_(\d+)_(\d+)_", platform)
    if match:
        return int(match.group(1)), int(match.group(2))
    return LEGACY_MANYLINUX_GLIBC.get(platform.split("_", 1)[0])


def installed_wheel_platforms(library_path: Path) -> list[str]:
    """The platform tags of the wheel that installed the library; none when it came from no wheel's
    files (an editable install runs the source tree's library)."""
    distribution = importlib.metadata.distribution("barter-ffi")
    installed = {Path(str(distribution.locate_file(file))).resolve() for file in distribution.files or ()}
    if library_path.resolve() not in installed:
        return []
    wheel = distribution.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    return sorted({tag.platform for line in tags for tag in parse_tag(line)})


@pytest.fixture(scope="module")
def promised_glibc() -> tuple[int, ...]:
    """The glibc the installed wheel's tags ask for (the oldest, where it has several)."""
    library_path = Path(get_library())
    platforms = installed_wheel_platforms(library_path)
    promised = [glibc for glibc in map(manylinux_glibc, platforms) if glibc is not None]
    if not promised:
        origin = f"a wheel tagged {', '.join(platforms)}" if platforms else "no wheel (an editable install)"
        reason = f"{library_path} comes from {origin}: built here for this machine's glibc, it promises no older one"
        if os.environ.get("BARTER_FFI_TEST_INSTALLED") == "1":
            pytest.fail(f"BARTER_FFI_TEST_INSTALLED=1 tests the release wheel, but {reason}")
        pytest.skip(f"{reason}; the release wheel (tools/build_release.py) is checked")
    return min(promised)


def version_key(version: str) -> tuple[str, tuple[int, ...]]:
    """``GLIBC_2.3.4`` as ``("GLIBC", (2, 3, 4))``; ``GLIBC_PRIVATE`` has no number and fails."""
    match = re.fullmatch(r"([A-Z]+)_(\d+(?:\.\d+)*)", version)
    assert match, f"{version} is not a numbered version a glibc 2.17 system could provide"
    return match.group(1), tuple(int(part) for part in match.group(2).split("."))


def is_newer(version: str, newest: dict[str, tuple[int, ...]]) -> bool:
    """Whether ``version`` is past ``newest`` of its namespace; an unknown namespace always is."""
    namespace, number = version_key(version)
    return namespace not in newest or number > newest[namespace]


def test_the_wheel_installs_on_glibc_2_17(promised_glibc: tuple[int, ...]) -> None:
    assert promised_glibc <= RELEASE_GLIBC, f"the wheel asks for glibc {promised_glibc}, the README says 2.17"


def test_the_library_asks_for_no_symbol_version_newer_than_glibc_2_17(
    library: LinkedLibrary, promised_glibc: tuple[int, ...]
) -> None:
    glibc = sorted(
        {version for names in library.versions.values() for version in names if version.startswith("GLIBC_")},
        key=version_key,
    )
    assert glibc, "a library linked against glibc asks for some GLIBC_* version; none was read"
    oldest_glibc = min(promised_glibc, RELEASE_GLIBC)
    newest = {**NEWEST_VERSION, "GLIBC": oldest_glibc}
    too_new = {needed: sorted(name for name in names if is_newer(name, newest)) for needed, names in library.versions.items()}
    too_new = {needed: names for needed, names in too_new.items() if names}
    assert not too_new, f"newer than a glibc {oldest_glibc} system has: {too_new} (all GLIBC_* asked for: {glibc})"


@pytest.mark.usefixtures("promised_glibc")
def test_the_library_needs_only_libraries_a_glibc_2_17_system_has(library: LinkedLibrary) -> None:
    assert "libc.so.6" in library.needed
    assert library.needed <= SYSTEM_LIBRARIES, f"not on a glibc 2.17 system: {sorted(library.needed - SYSTEM_LIBRARIES)}"


def test_the_library_keeps_its_symbol_names_and_no_debug_info(library: LinkedLibrary) -> None:
    assert ".symtab" in library.sections, "no symbol table: valgrind and backtraces cannot name the library's functions"
    debug = sorted(name for name in library.sections if name.startswith(".debug_"))
    assert not debug, f"debug info left in the library: {debug}"
