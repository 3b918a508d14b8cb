"""What pyproject.toml cannot declare; everything else is configured there.

- The version: read from ``rust_core/Cargo.toml``, its one home, so the wheel, the crate and
  ``barter_ffi_version()`` agree.
- The wheel tag ``py3-none-<platform>``: the library never touches the CPython API.
- The library's file name: ``libbarter_ffi.so`` (``.dylib``; ``barter_ffi.dll``), the name C hosts
  link by and the library's SONAME, instead of an interpreter-specific extension-module name.
- ``pkgconfig/barter_ffi.pc`` in the wheel, for C hosts of an installed wheel.
- ``_library_sources.json`` beside the library (in the wheel, or in the checkout for
  ``pip install -e .``): the sources it was built from, so a checkout never runs a stale library
  (``barter_ffi/_library_sources.py``).

(setuptools' ``[tool.setuptools.cmdclass]`` table would replace the commands setuptools-rust
installs, so these overrides have to come from here.)
"""

import importlib.util
import re
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools_rust import build_rust

ROOT = Path(__file__).resolve().parent


def crate_version() -> str:
    manifest = (ROOT / "rust_core" / "Cargo.toml").read_text(encoding="utf-8")
    package = manifest.split("[package]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', package, re.MULTILINE)
    if match is None:
        raise RuntimeError("rust_core/Cargo.toml has no [package] version")
    return match.group(1)


def library_file_name() -> str:
    if sys.platform == "win32":
        return "barter_ffi.dll"
    return "libbarter_ffi.dylib" if sys.platform == "darwin" else "libbarter_ffi.so"


PKG_CONFIG = """\
prefix=${{pcfiledir}}/..
libdir=${{prefix}}
includedir=${{prefix}}/include

Name: barter_ffi
Description: barter's market data behind a C ABI
Version: {version}
Cflags: -I${{includedir}}
Libs: ${{libdir}}/{library} -Wl,-rpath,${{libdir}}
"""


class BdistWheelPy3None(bdist_wheel):
    def get_tag(self) -> tuple:
        _, _, platform = super().get_tag()
        return "py3", "none", platform


def library_sources_module():
    """``barter_ffi/_library_sources.py``, loaded alone: the package cannot be imported before its
    library is built."""
    spec = importlib.util.spec_from_file_location("barter_ffi_library_sources", ROOT / "barter_ffi" / "_library_sources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildRustNamedLibrary(build_rust):
    def get_dylib_ext_path(self, ext, target_fname: str) -> str:
        default = Path(super().get_dylib_ext_path(ext, target_fname))
        return str(default.with_name(library_file_name()))

    def install_extension(self, ext, dylib_paths, build_artifact_dir) -> None:
        super().install_extension(ext, dylib_paths, build_artifact_dir)
        for module_name, _ in dylib_paths:  # recorded once the library is in place, never before
            library = Path(self.get_dylib_ext_path(ext, module_name))
            library_sources_module().write_record(ROOT, library.parent)


class BuildPyWithPkgConfig(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            target = Path(self.build_lib) / "barter_ffi" / "pkgconfig" / "barter_ffi.pc"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(PKG_CONFIG.format(version=crate_version(), library=library_file_name()), encoding="utf-8")


setup(
    version=crate_version(),
    cmdclass={"bdist_wheel": BdistWheelPy3None, "build_rust": BuildRustNamedLibrary, "build_py": BuildPyWithPkgConfig},
)
