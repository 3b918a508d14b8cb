"""Generated files are current: barter_ffi/_native.py is what build.py makes of the header."""

from __future__ import annotations

import importlib.util
import re

from conftest import ROOT


def _without_cffi_version(source: str) -> str:
    # `_version` names the cffi release that generated the file, not anything of ours.
    return re.sub(r"_version = 0x[0-9A-Fa-f]+", "_version = ?", source)


def test_native_module_matches_the_header() -> None:
    spec = importlib.util.spec_from_file_location("barter_ffi_build", ROOT / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    committed = (ROOT / "barter_ffi" / "_native.py").read_text(encoding="utf-8")
    assert _without_cffi_version(committed) == _without_cffi_version(build.native_module_source()), (
        "barter_ffi/_native.py is stale: run `python build.py` and commit it"
    )


def test_cdef_keeps_every_declaration_and_integer_constant_and_no_other_preprocessor_line() -> None:
    spec = importlib.util.spec_from_file_location("barter_ffi_build", ROOT / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    header = (ROOT / "include" / "barter_ffi.h").read_text(encoding="utf-8")
    cdef = build.cdef_source(header)
    directives = [line for line in cdef.splitlines() if line.startswith("#")]
    assert directives and all(re.fullmatch(r"#define BARTER_FFI_\w+ \d+", line) for line in directives), directives
    assert "#define BARTER_FFI_ABI_VERSION" in cdef and 'extern "C"' not in cdef
    for function in re.findall(r"\b(barter_ffi_\w+)\(", header):
        assert f"{function}(" in cdef
