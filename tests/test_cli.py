"""python -m barter_ffi [FILE]: the package's main job."""

from __future__ import annotations

import subprocess
import sys

from conftest import FIXTURES


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "barter_ffi", *args], capture_output=True, text=True, timeout=60)


def test_summarises_a_file() -> None:
    result = run(str(FIXTURES / "all_kinds_results.json"))
    assert result.returncode == 0, result.stderr
    for line in (
        "market events:        6",
        "reconnects skipped:   2",
        "Err items skipped:    3",
        "time_first_event:     2024-12-20T19:05:18.175000000Z",
        "time_exchange range:  2024-12-20T19:05:18.175000000Z .. 2024-12-20T19:06:01.000000500Z",
        "  l2                       2",
        "  bitmex                   1",
    ):
        assert line in result.stdout, result.stdout


def test_without_a_file_it_summarises_the_bundled_fixture() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert "all_kinds.jsonl" in result.stdout and "market events:        11" in result.stdout


def test_errors_go_to_stderr_with_a_failing_status() -> None:
    result = run(str(FIXTURES / "missing.json"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: [Errno 2] No such file or directory")
