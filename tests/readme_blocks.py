"""The README's code blocks, run as a reader runs them: from a checkout, after its first command.

    python tests/readme_blocks.py --first-command    prints the README's first command
    python tests/readme_blocks.py                    runs every block, from the current directory

Every ```python block runs in a fresh interpreter as a script saved in the current directory
(``python readme_line_N.py``), as a reader saves and runs it: the current directory comes first
on the import path, and worker processes that re-import the main script (Dask's, started by
``spawn``) do so. Every ```bash block runs in bash. The line before a block may say what to do
with it instead, as an HTML comment that readers do not see:

    <!-- readme: save as first_event.c -->     the block is written to that file (for a later block)
    <!-- readme: skip: why -->                 the block is not run (never a Python block)

``tests/test_readme.py`` runs the Python blocks with the test suite; ``.ci/run`` runs everything in
a fresh clone, after the README's first command, as a newcomer would. Standard library only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple, Optional

README = Path(__file__).resolve().parent.parent / "README.md"

_BLOCK = re.compile(r"(?:<!-- readme: (?P<directive>[^\n]*?) -->\n)?```(?P<language>\w+)\n(?P<code>.*?)^```$", re.DOTALL | re.MULTILINE)


class Block(NamedTuple):
    language: str
    code: str
    line: int
    """The README line of the opening fence."""
    save_as: Optional[str]
    skip: Optional[str]
    """Why the block is not run, or None."""


def blocks(readme: str) -> list[Block]:
    """Every fenced block of ``readme`` with its directive, in order."""
    found = []
    for match in _BLOCK.finditer(readme):
        directive = match.group("directive") or ""
        save_as = directive[len("save as "):] if directive.startswith("save as ") else None
        skip = directive[len("skip: "):] if directive.startswith("skip: ") else None
        if directive and save_as is None and skip is None:
            raise ValueError(f"README line {_line(readme, match)}: unknown directive {directive!r}")
        line = _line(readme, match) + (1 if directive else 0)
        if skip is not None and match.group("language") == "python":
            raise ValueError(f"README line {line}: every Python block runs; {skip!r} cannot skip one")
        found.append(Block(match.group("language"), match.group("code"), line, save_as, skip))
    return found


def _line(text: str, match: "re.Match[str]") -> int:
    return text.count("\n", 0, match.start()) + 1


def first_command(readme: str) -> str:
    """The first line of the README's first shell block, without its comment."""
    first = next(block for block in blocks(readme) if block.language == "bash")
    return first.code.splitlines()[0].split("#", 1)[0].strip()


def run(block: Block, directory: Path) -> subprocess.CompletedProcess:
    """Runs ``block`` in ``directory`` as a reader would, capturing its output."""
    if block.language == "bash":
        command = ["bash", "-euo", "pipefail", "-c", block.code]
        return subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=600)
    if block.language != "python":
        raise ValueError(f"README line {block.line}: a {block.language} block runs nowhere: save or skip it")
    script = directory / f"readme_line_{block.line}.py"
    script.write_text(block.code, encoding="utf-8")
    try:
        return subprocess.run([sys.executable, script.name], cwd=directory, capture_output=True, text=True, timeout=600)
    finally:
        script.unlink(missing_ok=True)


def main(arguments: list[str]) -> int:
    readme = README.read_text(encoding="utf-8")
    if arguments == ["--first-command"]:
        print(first_command(readme))
        return 0
    if arguments:
        sys.exit(__doc__)
    directory = Path.cwd()
    failures = 0
    for block in blocks(readme):
        if block.save_as is not None:
            (directory / block.save_as).write_text(block.code, encoding="utf-8")
            print(f"README line {block.line}: {block.language} block saved as {block.save_as}")
        elif block.skip is not None:
            print(f"README line {block.line}: {block.language} block skipped ({block.skip})")
        else:
            result = run(block, directory)
            status = "ok" if result.returncode == 0 else f"FAILED with exit status {result.returncode}"
            print(f"README line {block.line}: {block.language} block {status}")
            if result.returncode != 0:
                failures += 1
                print(result.stdout + result.stderr, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
