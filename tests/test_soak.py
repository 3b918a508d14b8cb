"""A short soak (``benchmarks/soak.py``, which runs the long one): every way into and out of the
library on four threads, each on its own clones, a third of the ways stopped midway. Every value
read is checked, resident memory stays flat, and the library's live objects stay at the threads'
clones while they run and end at zero. (The same ways through the C ABI run under valgrind in
test_c_host.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SOAK

pytest.importorskip("pyarrow")
pytestmark = SOAK

# A leak of 16 KiB a cycle on each of four threads; the soak's own median slope stays within a
# few KiB a cycle of zero.
LEAK_SEEN = 64 << 10


def soak(cycles: int, *options: str, events: int = 2000) -> dict:
    """Figures of a soak run in a process of its own, so that its memory and live objects are
    the soak's alone; with glibc's arenas limited to two, so that fewer of the allocator's
    steps (an arena taking another block) fall inside a short run."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--cycles", str(cycles), "--events", str(events), "--json",
         *options],
        capture_output=True, text=True, env={**os.environ, "MALLOC_ARENA_MAX": "2"}, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_a_short_soak_checks_every_value_and_leaves_nothing_behind() -> None:
    figures = soak(300)
    assert figures["ways"] == ["load", "events", "to_arrow", "from_arrow", "stream", "book_replay", "slices", "merged",
                               "clone", "pickled"]
    assert figures["ways_run"] == 300 * 4 * 10 and 0 < figures["midway"] < figures["ways_run"]
    assert figures["live_at_end"] == [0, 0, 0], "every handle, cursor and buffer of the soak was freed"
    assert {tuple(live) for _, _, live in figures["checkpoints"]} == {(5, 0, 0)}, "the clones, and nothing else"
    assert figures["median_slope_bytes_per_cycle"] < LEAK_SEEN, figures


def test_the_soak_sees_a_leak_of_fifty_kib_a_cycle() -> None:
    """The check above can fail: a way keeping 50 KiB each cycle on each thread is seen. (A
    pause every 10 cycles: the median needs many intervals, which one allocator step cannot
    sway.)"""
    figures = soak(150, "--leak", str(50 << 10), "--checkpoint-every", "10", events=500)
    assert figures["median_slope_bytes_per_cycle"] > LEAK_SEEN, figures
