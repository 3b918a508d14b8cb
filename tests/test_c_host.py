"""A C program compiled against the installed header and library, found as a C developer would
find them after ``pip install``: with ``barter-ffi config --cflags --libs``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from barter_ffi import get_library
from barter_ffi._ffi import lib
from conftest import FIXTURES, ROOT, SOAK

HOSTS = ROOT / "tests" / "c"
VALGRIND = [
    "valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect,possible",
    f"--suppressions={HOSTS / 'valgrind.supp'}", "--error-exitcode=99",
]


def config_flags(*asked: str) -> list[str]:
    """What a C developer following the README runs: ``barter-ffi config --cflags --libs``."""
    result = subprocess.run(
        [sys.executable, "-m", "barter_ffi", "config", *asked], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def compile_host(name: str, directory: Path, *libraries: str) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    binary = directory / name
    subprocess.run(
        [
            compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
            *config_flags("--cflags"), str(HOSTS / f"{name}.c"), "-o", str(binary), *config_flags("--libs"),
            *libraries,
        ],
        check=True,
    )
    return binary


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_host("market_data_host", tmp_path_factory.mktemp("c_host"))


@pytest.fixture(scope="module")
def arrow_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_host("arrow_host", tmp_path_factory.mktemp("arrow_host"))


def test_the_host_links_the_installed_library_by_its_soname(host: Path) -> None:
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed")
    dynamic = subprocess.run(["readelf", "-d", str(host)], capture_output=True, text=True, check=True).stdout
    assert "Shared library: [libbarter_ffi.so]" in dynamic
    assert f"[{Path(get_library()).parent}]" in dynamic, "the rpath names the installed library's directory"


def test_the_library_stays_loaded_after_whoever_loaded_it_lets_go() -> None:
    """Callbacks it hands out (an Arrow stream's, a capsule's destructor at interpreter shutdown)
    may run after the last dlclose of it; so it is linked never to be unloaded."""
    if not hasattr(os, "RTLD_NOLOAD"):
        pytest.skip("no RTLD_NOLOAD here")
    script = (
        "import ctypes, os, sys\n"
        "libdl = ctypes.CDLL(None)\n"
        "libdl.dlopen.restype, libdl.dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]\n"
        "libdl.dlclose.argtypes = [ctypes.c_void_p]\n"
        "path = sys.argv[1].encode()\n"
        "assert libdl.dlclose(libdl.dlopen(path, os.RTLD_NOW | os.RTLD_LOCAL)) == 0\n"
        "print(bool(libdl.dlopen(path, os.RTLD_NOW | os.RTLD_NOLOAD)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, get_library()], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True\n", "dlclose unloaded it"


@pytest.mark.parametrize(("name", "events"), [("all_kinds.jsonl", 11), ("all_kinds_results.json", 6)])
def test_c_host_loads_drains_and_frees(host: Path, name: str, events: int) -> None:
    result = subprocess.run([host, FIXTURES / name, str(events)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"drained {events} events" in result.stdout
    assert "live 0 0 0" in result.stdout


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_c_host_loop_is_clean_under_valgrind(host: Path) -> None:
    result = subprocess.run([*VALGRIND, host, FIXTURES / "all_kinds_results.json", "6", "3"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_valgrind_reports_a_leaked_data_set_with_its_large_blocks(tmp_path: Path) -> None:
    """Outside valgrind the library maps its blocks of 1 MiB or more as pages of their own, which
    valgrind cannot see; under valgrind it takes them from ``malloc``. So a data set a host never
    frees is reported whole, its event vector (one block of over 1 MiB) among what is lost."""
    leaking = compile_host("leaking_host", tmp_path)
    path = tmp_path / "repeated.jsonl"
    path.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() * 2_000)
    result = subprocess.run([*VALGRIND, "--show-leak-kinds=definite,indirect", leaking, path], capture_output=True,
                            text=True)
    assert result.returncode == 99, result.stderr[-3000:]
    assert result.stdout == "loaded 22000 events, not freed\n"
    single_blocks = re.findall(r"== ([\d,]+) bytes in 1 blocks are (?:definitely|indirectly) lost", result.stderr)
    assert max(int(size.replace(",", "")) for size in single_blocks) > 1 << 20, result.stderr[-3000:]


def test_arrow_host_reads_the_values_the_events_hold(arrow_host: Path) -> None:
    from barter_ffi import MarketDataInMemory, OrderBookSnapshot, OrderBookUpdate, PublicTrade

    with MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl") as md:
        events = md.events()
    trades = [event for event in events if isinstance(event.kind, PublicTrade)]
    book = next(event.kind for event in events if isinstance(event.kind, (OrderBookSnapshot, OrderBookUpdate)))
    result = subprocess.run([arrow_host, FIXTURES / "all_kinds.jsonl"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    trade_line, level_line, rebuilt_line = result.stdout.splitlines()
    count, price_sum, first, last = trade_line.split()[1:]
    assert int(count) == len(trades)
    assert float(price_sum) == sum(event.kind.price for event in trades)
    assert (int(first), int(last)) == (trades[0].time_exchange_ns, trades[-1].time_exchange_ns)
    unscaled, format_ = level_line.split()[1:]
    scale = int(format_.rsplit(",", 1)[1])
    assert int(unscaled) == int(book.bids[0].price * 10**scale)
    assert rebuilt_line == f"from_arrow {len(trades)}"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_arrow_host_releases_every_stream_schema_and_array(arrow_host: Path) -> None:
    result = subprocess.run([*VALGRIND, arrow_host, FIXTURES / "all_kinds.jsonl", "3"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_arrow_host_is_clean_with_batches_built_on_worker_threads(arrow_host: Path, tmp_path: Path) -> None:
    """Trades in two batches and L2 in three, so batches are built by worker threads; the host
    releases the L2 stream after its first batch, stopping them midway."""
    path = tmp_path / "repeated.jsonl"
    path.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() * 24_000)
    result = subprocess.run([*VALGRIND, arrow_host, path], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr
    assert result.stdout.splitlines()[0].split()[1] == str(3 * 24_000)


def test_the_header_compiles_as_cplusplus() -> None:
    compiler = shutil.which("c++") or shutil.which("g++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    subprocess.run(
        [compiler, "-x", "c++", "-std=c++17", "-Wall", "-Werror", *config_flags("--cflags"), "-fsyntax-only", str(HOSTS / "market_data_host.c")],
        check=True,
    )


def test_the_readme_c_program_compiles_as_written_and_runs(tmp_path: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use from C or C++"):]
    source = tmp_path / "first_event.c"
    source.write_text(section.split("```c\n", 1)[1].split("```", 1)[0], encoding="utf-8")
    binary = tmp_path / "first_event"
    subprocess.run(
        [compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", str(source),
         *config_flags("--cflags", "--libs"), "-o", str(binary)],
        check=True,
    )
    result = subprocess.run([binary, FIXTURES / "all_kinds.jsonl"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("11 market events, first at 1734721518175000000 ns, 1 batches, ")
    missing = subprocess.run([binary, tmp_path / "missing.jsonl"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "missing.jsonl" in missing.stderr


@pytest.fixture(scope="module")
def stream_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_host("stream_host", tmp_path_factory.mktemp("stream_host"))


@pytest.fixture(scope="module")
def large_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 60 MB of JSON Lines: several of the stream's 8 MiB pieces."""
    lines = (FIXTURES / "all_kinds.jsonl").read_bytes()
    path = tmp_path_factory.mktemp("stream_data") / "recording.jsonl"
    path.write_bytes(lines * 20_000)
    return path


def test_stream_host_reads_a_compressed_file_in_pieces(stream_host: Path, large_recording: Path) -> None:
    from barter_ffi import MarketDataInMemory

    whole = MarketDataInMemory.from_json_file(large_recording)
    whole.to_json_file(large_recording.with_suffix(".jsonl.zst"))
    large_recording = large_recording.with_suffix(".jsonl.zst")
    result = subprocess.run([stream_host, large_recording], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    size = large_recording.stat().st_size
    assert result.stdout.split() == ["events", str(len(whole)), "bytes", str(size), str(size)]
    trades = subprocess.run([stream_host, large_recording, "trades"], capture_output=True, text=True)
    assert trades.stdout.split()[:2] == ["events", str(len(whole.filter(kinds=["public_trade"])))], trades.stderr


def test_stream_host_closes_mid_file_and_reports_bad_content(stream_host: Path, large_recording: Path,
                                                            tmp_path: Path) -> None:
    result = subprocess.run([*VALGRIND, stream_host, large_recording, "2"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    read, total = map(int, result.stdout.split()[3:])
    assert result.stdout.split()[:2] == ["events", str(2 * 4096)] and 0 < read < total, result.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() + b'{"Item":oops}\n')
    failed = subprocess.run([*VALGRIND, stream_host, bad], capture_output=True, text=True)
    from barter_ffi import MarketDataError, MarketDataInMemory

    with pytest.raises(MarketDataError) as whole_load:
        MarketDataInMemory.from_json_file(bad)
    assert failed.returncode == 1 and f"status 7: {whole_load.value}" in failed.stderr, failed.stderr


@pytest.fixture(scope="module")
def soak_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_host("soak_host", tmp_path_factory.mktemp("soak_host"), "-pthread")


@pytest.fixture(scope="module")
def soak_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """benchmarks/generate.py's mix of every kind: 2,000 market events and a reconnect marker."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import generate

    lines, _ = generate.write(2000, tmp_path_factory.mktemp("soak_data") / "soak")
    return lines


@SOAK
def test_soak_host_cycles_every_way_on_four_threads(soak_host: Path, soak_recording: Path) -> None:
    """The soak's ways through the C ABI (tests/c/soak_host.c), 100 cycles on four threads each
    on its own clone, a third of the ways stopped midway: every count right, nothing left live."""
    result = subprocess.run([soak_host, soak_recording, "100", "4"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    ways, midway = map(int, result.stdout.split()[1:3])
    assert ways == 100 * 4 * 12 and 0 < midway < ways  # twelve ways: soak_host.c's `ways`
    assert result.stdout.splitlines()[1] == "live 0 0 0"


@SOAK
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_soak_host_is_clean_under_valgrind(soak_host: Path, soak_recording: Path) -> None:
    """The short soak under valgrind: no invalid read or write, nothing lost, on four threads."""
    result = subprocess.run([*VALGRIND, soak_host, soak_recording, "10", "4"], capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr and result.stdout.splitlines()[1] == "live 0 0 0"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
@pytest.mark.parametrize("under_valgrind", [False, True], ids=["plain", "valgrind"])
def test_a_child_forked_while_a_thread_reads_a_stream_gets_an_error_not_a_hang(
    tmp_path: Path, under_valgrind: bool
) -> None:
    """The parent's reading thread holds the stream's lock at the fork; the child must not wait
    for it. (Under valgrind the child's own report is silenced: it holds the parent's threads'
    memory with no thread to free it, which is not the library's leak.)"""
    if under_valgrind and shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    fork_host = compile_host("fork_host", tmp_path, "-pthread")
    command = [fork_host, tmp_path / "fifo", FIXTURES / "all_kinds.jsonl"]
    if under_valgrind:
        command = [*VALGRIND, "--child-silent-after-fork=yes", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout, result.stderr[-3000:])
    invalid_argument = lib.BARTER_FFI_STATUS_INVALID_ARGUMENT
    assert result.stdout.splitlines() == [
        f"child: next_batch {invalid_argument}, progress {invalid_argument}",
        "parent: events 11, status 0",
    ]


EMBEDDED_SCRIPT = """
import builtins, sys
sys.path[:0] = {paths!r}
from barter_ffi import MarketDataInMemory
md = MarketDataInMemory.from_json_file({fixture!r})
export = md.to_arrow("trades")
# Unconsumed, and alive past the modules' cleanup: the builtins are cleared last.
builtins.barter_ffi_capsules = [md.to_arrow("l2").__arrow_c_stream__(), export.__arrow_c_schema__(),
                                export.__arrow_c_stream__()]
"""


def test_capsules_alive_when_an_embedded_interpreter_ends_are_released(tmp_path: Path) -> None:
    """Py_FinalizeEx destroys the capsules with the library's destructors, after barter_ffi's
    modules are gone; the host, which links the library too, then finds nothing live."""
    import sysconfig

    import barter_ffi

    libpython = Path(str(sysconfig.get_config_var("LIBDIR"))) / str(sysconfig.get_config_var("LDLIBRARY"))
    if not sysconfig.get_config_var("Py_ENABLE_SHARED") or not libpython.is_file():
        pytest.skip("this Python has no shared libpython to embed")
    host = compile_host("embedded_python_host", tmp_path, "-ldl")
    paths = [str(Path(barter_ffi.__file__).parent.parent), *sys.path]
    script = EMBEDDED_SCRIPT.format(paths=paths, fixture=str(FIXTURES / "all_kinds.jsonl"))
    result = subprocess.run([host, libpython, script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONHOME": sys.base_prefix})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == ["script 0, finalized 0", "live 0 0 0"], result.stderr[-3000:]


@pytest.fixture(scope="module")
def book_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_host("book_host", tmp_path_factory.mktemp("book_host"))


@pytest.fixture(scope="module")
def book_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from barter_ffi import MarketDataInMemory
    from book_recordings import recording

    path = tmp_path_factory.mktemp("book_data") / "books.jsonl"
    MarketDataInMemory.from_records(recording(seed=21, events=1500)).to_json_file(path)
    return path


@pytest.mark.parametrize("interval_ns", [0, 1_000_000_000])
def test_book_host_reads_the_top_of_book_barter_holds(book_host: Path, book_recording: Path, interval_ns: int) -> None:
    import book_reference
    from barter_ffi import MarketDataInMemory

    result = subprocess.run([book_host, book_recording, str(interval_ns)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    scales_line, *row_lines = result.stdout.splitlines()
    price_scale, amount_scale = map(int, scales_line.split()[1:])
    with MarketDataInMemory.from_json_file(book_recording) as md:
        every = interval_ns or "event"
        expected = list(book_reference.replay(md.items(), depth=1, every=every))

    def unscaled(value: object, scale: int) -> str:
        return "-" if value is None else str(int(value * 10**scale))  # type: ignore[operator]

    assert len(row_lines) == len(expected) > 100
    for line, row in zip(row_lines, expected):
        assert line.split() == [
            "row", str(row["time"]), str(row["event_index"]),
            unscaled(row["bid_price_0"], price_scale), unscaled(row["bid_amount_0"], amount_scale),
            unscaled(row["ask_price_0"], price_scale), unscaled(row["ask_amount_0"], amount_scale),
            str(int(row["synced"])),
        ]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_book_host_is_clean_under_valgrind(book_host: Path, book_recording: Path) -> None:
    result = subprocess.run([*VALGRIND, book_host, book_recording, "500000000"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr
