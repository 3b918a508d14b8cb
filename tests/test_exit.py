"""An interpreter that exits while a daemon thread is inside the library exits cleanly.

A finalizing CPython (3.9 to 3.13) ends a thread that asks for the GIL with ``pthread_exit``;
one asking from inside the library (a load's progress callback) unwound through it and aborted
the process ("FATAL: exception not rethrown", exit status 134). Each run here exits while the
load or stream is under way: a global whose ``__del__`` sleeps keeps the finalizing interpreter
alive long enough for the daemon thread's next progress report to come due."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

TRADE_LINE = (FIXTURES / "all_kinds.jsonl").read_bytes().splitlines(keepends=True)[0]

PRELUDE = """
import sys, threading, time
import barter_ffi

class SlowToFinalize:
    def __del__(self):
        time.sleep(0.3)  # with the GIL let go, as a finalizing interpreter with much to free does

path = sys.argv[1]
started = threading.Event()
"""

LOAD = PRELUDE + """
def load():
    barter_ffi.MarketDataInMemory.from_json_file(path, progress=lambda done, total: started.set())

threading.Thread(target=load, daemon=True).start()
started.wait()
slow = SlowToFinalize()
"""

STREAM = PRELUDE + """
def read():
    for _ in barter_ffi.iter_json_file(path):
        started.set()

threading.Thread(target=read, daemon=True).start()
started.wait()
slow = SlowToFinalize()
"""

# The main thread exits while the daemon thread sleeps inside its progress callback: the exit
# waits for that callback to return into the library (which then cancels the load).
EXIT_DURING_THE_CALLBACK = PRELUDE + """
inside = threading.Event()

def report(done, total):
    if done > 0 and not inside.is_set():
        inside.set()
        time.sleep(0.3)
        print("the callback returned", flush=True)

def load():
    barter_ffi.MarketDataInMemory.from_json_file(path, progress=report)

threading.Thread(target=load, daemon=True).start()
inside.wait()
"""


@pytest.fixture(scope="module")
def large_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 65 MB of trades: a load of it takes far longer than an interpreter's exit."""
    path = tmp_path_factory.mktemp("exit") / "trades.jsonl"
    path.write_bytes(TRADE_LINE * 300_000)
    return path


def exit_while_running(script: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("run", range(3))
def test_an_exit_while_a_daemon_thread_loads_with_progress_is_a_clean_exit(large_input: Path, run: int) -> None:
    result = exit_while_running(LOAD, large_input)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("run", range(3))
def test_an_exit_while_a_daemon_thread_reads_a_stream_is_a_clean_exit(large_input: Path, run: int) -> None:
    result = exit_while_running(STREAM, large_input)
    assert (result.returncode, result.stderr) == (0, "")


def test_an_exit_waits_for_a_progress_callback_under_way_to_return(large_input: Path) -> None:
    result = exit_while_running(EXIT_DURING_THE_CALLBACK, large_input)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "the callback returned\n")


def test_after_the_exit_hook_a_load_with_progress_is_cancelled_without_calling_it() -> None:
    script = """
import sys
import barter_ffi
from barter_ffi import _ffi

_ffi._tell_library_the_interpreter_is_exiting()
reports = []
try:
    barter_ffi.MarketDataInMemory.from_json_file(sys.argv[1], progress=lambda done, total: reports.append(done))
except RuntimeError as error:
    print(error, reports)
print(len(barter_ffi.MarketDataInMemory.from_json_bytes(open(sys.argv[1], "rb").read())))
"""
    result = exit_while_running(script, FIXTURES / "all_kinds.jsonl")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[0] == "the load was cancelled []"
    assert int(result.stdout.splitlines()[1]) > 0, "a load without a callback works on"
