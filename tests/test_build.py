"""Generated files are current: barter_ffi/_native.py is what build.py makes of the header."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

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


# Arrow's C Data and C Stream interfaces: standard names, declared behind Arrow's own guards.
ARROW_NAMES = {"ArrowSchema", "ArrowArray", "ArrowArrayStream"}
C_TYPE_NAMES = ["bool", "size_t", "int32_t", "int64_t", "uint8_t", "uint32_t", "uint64_t"]
C_TYPES = "".join(f"typedef int {name};\n" for name in C_TYPE_NAMES)


def _declared_names(header: str) -> set[str]:
    """Every name the header puts in a C host's namespace: macros, functions, variables, types,
    struct and enum tags and enum constants (pycparser, cffi's own C parser, reads the rest)."""
    import pycparser
    from pycparser import c_ast

    names = set(re.findall(r"^#define (\w+)", header, flags=re.MULTILINE))
    spec = importlib.util.spec_from_file_location("barter_ffi_build", ROOT / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    declarations = "\n".join(line for line in build.cdef_source(header).splitlines() if not line.startswith("#"))
    declarations = re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", declarations, flags=re.DOTALL))

    def add_tags(node: Any) -> None:
        """The struct and enum tags and enum constants a declaration's type defines (a struct's
        fields and a function's parameters are its own)."""
        if isinstance(node, c_ast.Struct):
            names.add(node.name)
        elif isinstance(node, c_ast.Enum):
            names.add(node.name)
            names.update(value.name for value in (node.values.enumerators if node.values else []))
        elif hasattr(node, "type"):
            add_tags(node.type)

    for declaration in pycparser.CParser().parse(C_TYPES + declarations).ext:
        names.add(declaration.name)
        add_tags(declaration.type)
    return names - {None} - set(C_TYPE_NAMES)


def test_every_name_the_header_declares_is_the_librarys_own() -> None:
    """A C header shares the host's one namespace: a bare ``BATCH_ROWS`` or ``PIECE_BYTES``
    would clash with the host's own."""
    header = (ROOT / "include" / "barter_ffi.h").read_text(encoding="utf-8")
    names = _declared_names(header)
    assert {"BARTER_FFI_ABI_VERSION", "barter_ffi_market_data_load_file", "BarterFfiStatus", "BARTER_FFI_STATUS_OK",
            "BarterFfiProgressCallback", "BARTER_FFI_ARROW_STREAM_CAPSULE_NAME"} <= names, "the parse sees the header"
    foreign = sorted(
        name for name in names
        if not name.startswith(("BARTER_FFI_", "BarterFfi", "barter_ffi_", "ARROW_")) and name not in ARROW_NAMES
    )
    assert foreign == []
