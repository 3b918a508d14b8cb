"""The README's Python blocks run as written, each in a fresh interpreter, against the package under
test. (``.ci/run`` also runs every block in a fresh clone after the README's first command.)"""

from __future__ import annotations

from pathlib import Path

import pytest

import barter_ffi
from conftest import ROOT
from readme_blocks import Block, blocks, first_command, run

README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = [block for block in blocks(README) if block.language == "python"]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"line {block.line}" for block in PYTHON_BLOCKS])
def test_a_python_block_of_the_readme_runs_as_written(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # From an empty directory, with the package under test first on the path: the blocks reach
    # the sample data through sample_path, wherever they run, and write their files here.
    monkeypatch.setenv("PYTHONPATH", str(Path(barter_ffi.__file__).resolve().parent.parent))
    result = run(block, tmp_path)
    assert result.returncode == 0, f"README line {block.line}:\n{result.stdout}{result.stderr}"


def test_every_block_is_run_saved_or_skipped_for_a_stated_reason() -> None:
    found = blocks(README)
    assert len(PYTHON_BLOCKS) >= 6 and all(block.skip is None for block in PYTHON_BLOCKS)
    for block in found:
        assert block.language in ("python", "bash") or block.save_as or block.skip, f"README line {block.line}"
    saved = [block.save_as for block in found if block.save_as]
    assert all(any(name in block.code for block in found if block.language == "bash") for name in saved), saved
    assert first_command(README) == "pip install . && barter-ffi"


def test_a_directive_that_would_skip_a_python_block_is_refused() -> None:
    with pytest.raises(ValueError, match="every Python block runs"):
        blocks("<!-- readme: skip: slow -->\n```python\nprint(1)\n```\n")
    with pytest.raises(ValueError, match="unknown directive"):
        blocks("<!-- readme: maybe -->\n```bash\ntrue\n```\n")
