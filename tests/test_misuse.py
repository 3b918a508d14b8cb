"""Misuse that must be an ordinary error, never a freed handle, a torn read or a surprise."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from barter_ffi import (
    ExchangeId,
    Level,
    MarketDataError,
    MarketDataInMemory,
    OrderBookSnapshot,
    OwnedByAnotherThreadError,
    Side,
    iter_json_file,
)
from conftest import FIXTURES, ROOT, run_in_thread, sigint_at_default, thread_holding

ALL_KINDS = FIXTURES / "all_kinds.jsonl"

TRADE_LINE = (
    '{"Item":{"time_exchange":"2024-12-20T19:05:18.%03dZ","time_received":"2024-12-20T19:05:18.319Z",'
    '"exchange":"binance_spot","instrument":0,"kind":{"Trade":{"id":"%s","price":1.5,"amount":2.0,"side":"Buy"}}}}'
)


def trades_jsonl(count: int, trade_id: str = "1") -> bytes:
    return "\n".join(TRADE_LINE % (index % 1000, trade_id) for index in range(count)).encode()


RACE_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from barter_ffi import MarketDataInMemory, OwnedByAnotherThreadError
    line = ('{"Item":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.319Z",'
            '"exchange":"binance_spot","instrument":0,"kind":{"Trade":{"id":"1","price":1.5,"amount":2.0,"side":"Buy"}}}}')
    events, rounds = int(sys.argv[1]), int(sys.argv[2])
    md = MarketDataInMemory.from_json_bytes("\\n".join([line] * events))
    started, done, refused, completed, failures = threading.Event(), threading.Event(), [], [], []

    def owner():
        try:
            md[0]  # real use claims the instance for this thread
            started.set()
            for _ in range(rounds):
                md.filter(kinds=["public_trade"]).close()
                md.to_json_file(sys.argv[3])
            completed.append(rounds)
        except BaseException as error:
            failures.append(error)
        finally:
            started.set()
            done.set()

    worker = threading.Thread(target=owner)
    md._owner = None  # handed to the worker, which claims it
    worker.start()
    started.wait()
    while not done.is_set():
        try:
            md.close()
        except OwnedByAnotherThreadError:
            refused.append(1)
        else:  # only once the owner has ended, so never under a call of its
            assert completed and not worker.is_alive(), "closed while the owner was working"
            break
    worker.join()
    assert not failures, failures
    assert refused, "the other thread's close() was refused"
    assert completed == [rounds]
    print("refused", len(refused))
    """
)


def test_a_non_owners_close_is_refused_while_the_owner_works(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", RACE_SCRIPT, "50000", "20", str(tmp_path / "out.jsonl")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused ")


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_close_race_is_clean_under_valgrind(tmp_path) -> None:
    """No invalid access while another thread tries to close. CPython itself, not built for
    valgrind, reports uninitialised reads of its own; only errors touching memory that is not
    ours to read, or frames of the library, count."""
    result = subprocess.run(
        [
            "valgrind", "--leak-check=no", sys.executable, "-c", RACE_SCRIPT,
            "2000", "5", str(tmp_path / "out.jsonl"),
        ],
        capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONMALLOC": "malloc"},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "ERROR SUMMARY" in result.stderr and result.stdout.startswith("refused ")
    ours = [
        line for line in result.stderr.splitlines()
        if "Invalid " in line or re.search(r"(at|by) 0x[0-9A-F]+: .*(barter_ffi::|libbarter_ffi)", line)
    ]
    assert not ours, "\n".join(ours)[:4000]


def test_introspection_does_not_claim_an_instance_and_works_while_another_thread_owns_it() -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    clone = md.clone()
    shown = repr(clone)
    assert "11 events" in shown and len(clone) == 11 and bool(clone)
    assert clone.stats.market_events == 11 and clone.time_first_event_ns() > 0
    with thread_holding(clone.events, name="worker") as outcome:
        assert outcome.get("value") == md.events(), outcome.get("error")
        assert repr(clone) == shown and len(clone) == 11 and bool(clone), "the worker owns it; reads still work"
        assert clone.stats == md.stats and clone.summary() == md.summary()
        assert clone.time_first_event() == md.time_first_event()
        with pytest.raises(OwnedByAnotherThreadError):
            clone.events()


def test_a_non_owner_cannot_close_and_the_owner_can() -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    md.events()  # used here: this thread owns it
    outcome = run_in_thread(md.close)
    assert isinstance(outcome.get("error"), OwnedByAnotherThreadError)
    assert not md.closed and len(md) == 11
    md.close()
    md.close()
    assert md.closed and run_in_thread(md.close) == {"value": None}, "closing a closed instance is allowed anywhere"


def test_mutable_buffers_are_copied_before_the_library_reads_them() -> None:
    """Another thread rewrites the buffer while loads run: each load sees one whole version."""
    versions = [trades_jsonl(20_000, "A" * 8), trades_jsonl(20_000, "B" * 8)]
    buffer = bytearray(versions[0])
    stop = threading.Event()

    def rewrite() -> None:
        while not stop.is_set():
            for version in versions:
                buffer[:] = version

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        for view in (buffer, memoryview(buffer)) * 10:
            md = MarketDataInMemory.from_json_bytes(view)
            ids = {md[0].kind.id, md[len(md) // 2].kind.id, md[-1].kind.id}
            assert len(ids) == 1, f"a load saw a buffer being rewritten: {ids}"
    finally:
        stop.set()
        writer.join()


def test_time_arguments_of_every_kind_keep_their_nanoseconds() -> None:
    numpy = pytest.importorskip("numpy")
    pandas = pytest.importorskip("pandas")
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    times = [event.time_exchange_ns for event in md.events()]
    target = times[9]  # 2024-12-20T19:06:01.000000500Z: the nanoseconds matter
    assert target % 1000 == 500
    expected = [t for t in times if t >= target]
    for start in (
        target,
        pandas.Timestamp(target, tz="UTC"),
        pandas.Timestamp(target, tz="UTC").tz_convert("Europe/Berlin"),
        numpy.datetime64(target, "ns"),
    ):
        kept = [event.time_exchange_ns for event in md.filter(start=start).events()]
        assert kept == expected, start
    # Coarser numpy units are read in their own unit, not as nanoseconds.
    assert md.filter(start=numpy.datetime64(target // 10**9, "s")).events() == md.filter(start=target // 10**9 * 10**9).events()
    assert md.filter(end=numpy.datetime64("2024-12-21", "D")).events() == md.events()
    minute = dt.datetime(2024, 12, 20, 19, 6, tzinfo=dt.timezone.utc)
    first_after = min(t for t in times if t >= 1_734_721_560_000_000_000)
    assert md.filter(start=minute).events()[0].time_exchange_ns == first_after


@pytest.mark.parametrize("bad", [1.7e18, True, b"2024-12-20T19:05:18Z", dt.date(2024, 12, 20), None.__class__])
def test_other_time_arguments_are_type_errors(bad: object) -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    with pytest.raises(TypeError, match="start must be int nanoseconds"):
        md.filter(start=bad)


def test_rfc3339_text_is_a_time_kept_to_the_nanosecond_and_other_text_a_value_error() -> None:
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    times = [event.time_exchange_ns for event in md.events()]
    assert md.filter(start="2024-12-20T21:06:01.0000005+02:00").events() == md.filter(start=times[9]).events()
    assert md.filter(end="2024-12-20T19:06:01.000000501Z").events() == md.filter(end=times[9] + 1).events()
    for text, problem in [("2024-12-20", "is not an RFC 3339 time with its UTC offset"),
                          ("2024-12-20T19:05:18", "is not an RFC 3339 time with its UTC offset"),
                          ("2024-02-30T00:00:00Z", "is not a valid time"),
                          ("2024-12-20T23:59:61Z", r"is not a valid time \(second must be in 0..60, 60 for a leap second\)")]:
        with pytest.raises(ValueError, match=f"start: '{text}' {problem}"):
            md.filter(start=text)


LEAP_SECOND_TIMES = ["2016-12-31T23:59:59.9Z", "2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.7Z",
                     "2016-12-31T23:59:59+0000", "2016-12-31T23:59:59 UTC", "2016-12-31T23:59:60.1234567891Z"]


@pytest.fixture
def leap_second_file(tmp_path):
    """A trade at each of LEAP_SECOND_TIMES, its id the time's text, as barter's reader takes them."""
    line = ('{{"Item":{{"time_exchange":"{0}","time_received":"{0}","exchange":"okx","instrument":0,'
            '"kind":{{"Trade":{{"id":"{0}","price":1.0,"amount":1.0,"side":"Buy"}}}}}}}}')
    path = tmp_path / "leap.jsonl"
    path.write_text("".join(line.format(time) + "\n" for time in LEAP_SECOND_TIMES))
    return path


def test_a_leap_second_is_the_time_barter_reads_from_the_same_text_in_a_file(leap_second_file) -> None:
    """``start=`` a leap second copied from a file keeps that event, in every selective reader."""
    md = MarketDataInMemory.from_json_file(leap_second_file)
    in_file = {event.kind.id: event.time_exchange_ns for event in md.events()}
    leap = "2016-12-31T23:59:60.5Z"
    assert in_file[leap] == 1_483_228_800_500_000_000  # chrono: 59 s and 1.5 s of nanoseconds
    at_or_after = sorted(time for time, ns in in_file.items() if ns >= in_file[leap])
    assert leap in at_or_after and "2016-12-31T23:59:59.9Z" not in at_or_after
    assert sorted(event.kind.id for event in MarketDataInMemory.from_json_file(leap_second_file, start=leap)) == at_or_after
    assert sorted(event.kind.id for event in md.filter(start=leap)) == at_or_after
    assert sorted(event.kind.id for event in iter_json_file(leap_second_file, start=leap)) == at_or_after
    before = MarketDataInMemory.from_json_file(leap_second_file, end=leap)
    assert sorted(event.kind.id for event in before) == sorted(set(in_file) - set(at_or_after))


@pytest.mark.parametrize(("text", "why", "rfc3339"), [
    ("2016-12-31T23:59:59+0000", r"its UTC offset needs a colon \(\+hh:mm\)", "2016-12-31T23:59:59+00:00"),
    ("2016-12-31T23:59:59 UTC", "RFC 3339 writes UTC as 'Z'", "2016-12-31T23:59:59Z"),
    ("2016-12-31T23:59:60.1234567891Z", "more than nine fraction digits", "2016-12-31T23:59:60.123456789Z"),
])
def test_a_time_barter_reads_but_rfc3339_does_not_is_refused_saying_why_and_what_to_pass(
        leap_second_file, text: str, why: str, rfc3339: str) -> None:
    md = MarketDataInMemory.from_json_file(leap_second_file)
    with pytest.raises(ValueError, match=rf"^start: '{re.escape(text)}' is not an RFC 3339 time .*{why}.*: pass '{re.escape(rfc3339)}'"):
        md.filter(start=text)
    file_time = next(event.time_exchange_ns for event in md.events() if event.kind.id == text)
    assert md.filter(start=rfc3339).events() == md.filter(start=file_time).events()
    assert min(event.time_exchange_ns for event in md.filter(start=rfc3339)) == file_time


def test_naive_nat_and_out_of_range_times_are_value_errors() -> None:
    numpy = pytest.importorskip("numpy")
    md = MarketDataInMemory.from_json_file(ALL_KINDS)
    with pytest.raises(ValueError, match="naive"):
        md.filter(start=dt.datetime(2024, 12, 20))
    with pytest.raises(ValueError, match="NaT"):
        md.filter(start=numpy.datetime64("NaT"))
    with pytest.raises(ValueError, match="outside barter's time range"):
        md.filter(end=2**63)


def test_every_event_is_hashable_and_books_compare_however_built() -> None:
    events = MarketDataInMemory.from_json_file(ALL_KINDS).events()
    assert len({hash(event) for event in events}) == len(events)
    book = next(event.kind for event in events if isinstance(event.kind, OrderBookSnapshot))
    as_lists = OrderBookSnapshot(book.sequence, book.time_engine_ns, list(book.bids), list(book.asks))
    assert as_lists == book and hash(as_lists) == hash(book)
    assert isinstance(as_lists.bids, tuple)
    assert Level("1.0", "2") in {Level("1.0", "2")}


def test_str_and_format_of_enums_are_their_values() -> None:
    assert str(Side.BUY) == format(Side.BUY) == f"{Side.BUY}" == "Buy"
    assert f"{ExchangeId.OKX:>5}|" == "  okx|" and str(ExchangeId.BINANCE_SPOT) == "binance_spot"
    assert repr(Side.SELL) == "<Side.SELL: 'Sell'>"




@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_events_with_nan_or_infinity_are_refused_with_their_position(bad: float) -> None:
    events = MarketDataInMemory.from_json_file(ALL_KINDS).events()
    trade = events[0]
    broken = trade.__class__(
        trade.time_exchange_ns, trade.time_received_ns, trade.exchange, trade.instrument,
        trade.kind.__class__(trade.kind.id, bad, trade.kind.amount, trade.kind.side),
    )
    with pytest.raises(MarketDataError, match=r"event 3: .*`price` must be a finite number"):
        MarketDataInMemory.from_events(events[:3] + [broken])


LIMITED_LOAD = textwrap.dedent(
    """
    import resource, sys
    from barter_ffi import MarketDataError, MarketDataInMemory
    kind, size = sys.argv[1], int(sys.argv[2])
    crafted = {"newlines": b"{}" + b"\\n" * size, "items": b"[" + b'{"Item":' * (size // 8),
               "lines": b"{}\\n" * (size // 3)}[kind]
    limit = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        MarketDataInMemory.from_json_bytes(crafted)
    except (MarketDataError, MemoryError) as error:
        print(type(error).__name__, str(error)[:300])
    """
)


@pytest.mark.parametrize("kind", ["newlines", "items", "lines"])
def test_crafted_inputs_cannot_abort_the_process_on_an_allocation(kind: str) -> None:
    """Under a 1 GiB address-space limit, 160 MB crafted to look like tens of millions of items
    is an exception, not an abort: reservations are capped by what the input can hold."""
    result = subprocess.run(
        [sys.executable, "-c", LIMITED_LOAD, kind, str(160_000_000)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"the process died ({result.returncode}): {result.stderr[-2000:]}"
    assert result.stdout.startswith(("MarketDataError", "MemoryError")), result.stdout


def test_error_messages_quote_at_most_200_bytes_of_the_input() -> None:
    line = TRADE_LINE % (1, "1")
    huge = line.replace('"binance_spot"', '"' + "x" * 3_000_000 + '"').encode()
    with pytest.raises(MarketDataError) as raised:
        MarketDataInMemory.from_json_bytes(huge)
    message = str(raised.value)
    assert len(message) < 2_000 and f"`{'x' * 200}…` (3000000 bytes)" in message, message[:500]


INTERRUPTED_LOAD = textwrap.dedent(
    """
    import sys, time
    from barter_ffi import MarketDataInMemory
    print("loading", flush=True)
    started = time.monotonic()
    try:
        MarketDataInMemory.from_json_file(sys.argv[1])
    except KeyboardInterrupt:
        print("interrupted after", time.monotonic() - started, flush=True)
        raise
    print("loaded in", time.monotonic() - started, flush=True)
    """
)


def test_ctrl_c_interrupts_a_long_load_at_once(tmp_path) -> None:
    import signal
    import time

    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join([(TRADE_LINE % (1, "1")).encode()] * 1_500_000))  # ~340 MB
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_LOAD, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=sigint_at_default,
    )
    assert child.stdout is not None and child.stdout.readline() == "loading\n"
    time.sleep(0.4)  # well into the load, which takes seconds
    interrupted = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    latency = time.monotonic() - interrupted
    assert child.returncode != 0 and "KeyboardInterrupt" in err, (out, err[-2000:])
    assert out.startswith("interrupted after"), out
    assert latency < 0.5, f"Ctrl-C took {latency:.2f} s to stop the load"
    print(f"Ctrl-C stopped the load in {latency * 1000:.0f} ms; the child said: {out.strip()}")


FORKED_CURSOR = textwrap.dedent(
    """
    import multiprocessing, sys, warnings
    from barter_ffi import MarketDataInMemory
    warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork of a process with threads
    md = MarketDataInMemory.from_json_file(sys.argv[1])
    expected = md.events()
    events = iter(md)
    first = [next(events) for _ in range(3000)]  # past the first batches: the read-ahead runs

    def finish(queue):
        queue.put(first + list(events) == expected)

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=finish, args=(queue,))
    child.start()
    in_child = queue.get(timeout=60)
    child.join(timeout=60)
    in_parent = first + list(events) == expected
    print(in_child, in_parent, child.exitcode)
    """
)


def test_a_cursor_open_across_fork_works_in_child_and_parent(tmp_path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_bytes((FIXTURES / "all_kinds.jsonl").read_bytes() * 2000)  # 22,000 events
    result = subprocess.run(
        [sys.executable, "-c", FORKED_CURSOR, str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["True", "True", "0"], result.stdout


def test_c_a_filter_of_kind_bits_that_name_no_kind_is_refused() -> None:
    """``1 << 6`` (or the tag 5 itself, which is trades' and candles' bits) gave an empty data
    set, or some kinds, with OK: a wrong count without an error."""
    from barter_ffi._ffi import ffi, lib

    def filtered(kinds: int) -> tuple[int, str]:
        data, selected = ffi.new("BarterFfiMarketData **"), ffi.new("BarterFfiMarketData **")
        error = ffi.new("BarterFfiError *")
        assert lib.barter_ffi_market_data_load_file(str(FIXTURES / "all_kinds.jsonl").encode(), data, error) == 0
        selection = ffi.new("BarterFfiFilter *", {"struct_size": ffi.sizeof("BarterFfiFilter"), "kinds": kinds})
        status = lib.barter_ffi_market_data_filter(data[0], selection, selected, error)
        message = ffi.string(error.message).decode() if error.message else ""
        lib.barter_ffi_error_free(error)
        lib.barter_ffi_market_data_free(selected[0])
        lib.barter_ffi_market_data_free(data[0])
        return status, message

    assert filtered(1 << lib.BARTER_FFI_TAG_TRADE)[0] == lib.BARTER_FFI_STATUS_OK
    for kinds, stray in [(1 << 6, 0x40), (1 << 31, 0x80000000), (0x100001, 0x100000)]:
        status, message = filtered(kinds)
        assert status == lib.BARTER_FFI_STATUS_INVALID_ARGUMENT, (kinds, message)
        assert message.startswith(f"filter.kinds {kinds:#x} has bits that name no kind ({stray:#x})"), message


def test_c_a_progress_callback_cancels_at_its_last_report_too() -> None:
    """Returning non-zero from the last report (done == total) gave the data set with OK, so a
    host checking its Ctrl-C flag there got data back after Ctrl-C."""
    from barter_ffi._ffi import ffi, lib

    reports: list[tuple[int, int]] = []

    @ffi.callback("int32_t(void *, uint64_t, uint64_t)")
    def cancel_at_the_end(_context: Any, done: int, total: int) -> int:
        reports.append((done, total))
        return int(done == total)

    data, error = ffi.new("BarterFfiMarketData **"), ffi.new("BarterFfiError *")
    path = str(FIXTURES / "all_kinds.jsonl").encode()
    status = lib.barter_ffi_market_data_load_file_with_progress(path, cancel_at_the_end, ffi.NULL, data, error)
    lib.barter_ffi_error_free(error)
    assert (status, data[0]) == (lib.BARTER_FFI_STATUS_CANCELLED, ffi.NULL)
    assert reports[-1][0] == reports[-1][1] > 0, reports
