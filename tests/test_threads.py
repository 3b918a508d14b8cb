"""One owner thread per data set, clone() for the others: the patterns of thread pools and
threaded web servers, with the standard library's own."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from barter_ffi import ExchangeId, MarketDataInMemory, OwnedByAnotherThreadError
from conftest import FIXTURES, run_in_thread

KINDS = FIXTURES / "all_kinds.jsonl"
EXPECTED = MarketDataInMemory.from_json_file(KINDS).events()


def test_a_data_set_loaded_here_and_unused_goes_to_a_worker_as_it_is() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    with ThreadPoolExecutor() as pool:
        assert pool.submit(md.events).result() == EXPECTED


def test_a_data_set_loaded_by_a_worker_is_the_callers() -> None:
    with ThreadPoolExecutor() as pool:
        md = pool.submit(MarketDataInMemory.from_json_file, KINDS).result()
        assert md.events() == EXPECTED, "the worker only made it; it is still running"


def test_any_thread_clones_a_shared_data_set() -> None:
    shared = MarketDataInMemory.from_json_file(KINDS)
    shared.events()  # this thread owns it

    def task(exchange: ExchangeId) -> list:
        with shared.clone() as md:
            return md.filter(exchanges=exchange).events()

    exchanges = [event.exchange for event in EXPECTED] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(task, exchanges))
    assert results == [[event for event in EXPECTED if event.exchange is exchange] for exchange in exchanges]
    assert shared.events() == EXPECTED, "the owner still has it"


def test_the_error_names_both_threads_and_the_recipe() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    md.events()
    with ThreadPoolExecutor(thread_name_prefix="pool") as pool:
        with pytest.raises(OwnedByAnotherThreadError) as refused:
            pool.submit(md.events).result()
    message = str(refused.value)
    assert "owned by another thread ('MainThread'; this is 'pool_0')" in message
    assert "md.clone()" in message and "md.hand_over()" in message


def test_hand_over_passes_a_data_set_to_a_worker_and_back() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    assert md.events() == EXPECTED  # this thread owns it

    def work(data: MarketDataInMemory) -> list:
        try:
            return data.events()
        finally:
            data.hand_over()  # back to whoever uses it next

    with ThreadPoolExecutor(max_workers=1) as pool:
        with pytest.raises(OwnedByAnotherThreadError):
            pool.submit(md.events).result()
        assert pool.submit(work, md.hand_over()).result() == EXPECTED
        assert md.events() == EXPECTED, "handed back: this thread takes it again"
        assert pool.submit(md.hand_over().events).result() == EXPECTED, "kept by the pool's (running) thread"
        with pytest.raises(OwnedByAnotherThreadError, match="'MainThread'"):
            md.hand_over()  # only the owner hands over
        with pytest.raises(OwnedByAnotherThreadError):
            md.close()  # nor can this thread close it under the owner
        pool.submit(md.hand_over).result()
    md.close()
    with pytest.raises(ValueError, match="closed"):
        md.hand_over()


def test_a_thread_that_ended_no_longer_owns_what_it_used() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    assert run_in_thread(md.events)["value"] == EXPECTED
    assert md.events() == EXPECTED
    assert "11 events" in repr(md)


def test_an_unowned_data_set_is_claimed_by_exactly_one_of_many_threads() -> None:
    """Eight threads use one unowned data set at the same moment: one gets it, the others are
    refused, and it stays the winner's while it runs: only the winner can close it."""
    for _ in range(20):
        md = MarketDataInMemory.from_json_file(KINDS)
        used, refused, closing = (threading.Barrier(8, timeout=60) for _ in range(3))
        outcomes: list = [None] * 8
        closed_by: list = []

        def use(slot: int) -> None:
            used.wait()
            try:
                outcomes[slot] = md.events()
            except OwnedByAnotherThreadError as error:
                outcomes[slot] = error
            refused.wait()  # every thread has tried; the winner is alive
            if isinstance(outcomes[slot], OwnedByAnotherThreadError):
                try:
                    md.close()
                    closed_by.append(slot)
                except OwnedByAnotherThreadError:
                    pass
            closing.wait()
            if outcomes[slot] == EXPECTED:
                md.close()
                closed_by.append(slot)

        threads = [threading.Thread(target=use, args=(slot,)) for slot in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [slot for slot, outcome in enumerate(outcomes) if outcome == EXPECTED]
        assert len(winners) == 1, outcomes
        assert sum(isinstance(outcome, OwnedByAnotherThreadError) for outcome in outcomes) == 7
        assert closed_by == winners and md.closed, "the losers' close() was refused, the winner's was not"


@pytest.fixture
def server() -> Iterator[str]:
    """A ThreadingHTTPServer (a new thread per request) over one data set loaded and used at
    start-up: ``/<exchange>`` answers with that exchange's events by the README's recipe, each
    request cloning the shared data set; ``/direct/<exchange>`` uses it directly, as it must not."""
    shared = MarketDataInMemory.from_json_file(KINDS)
    assert len(shared.events()) == 11  # the main thread owns it

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            direct, exchange = self.path.startswith("/direct/"), self.path.rsplit("/", 1)[1]
            try:
                if direct:
                    events = shared.filter(exchanges=exchange).events()
                else:
                    with shared.clone() as md:
                        events = md.filter(exchanges=exchange).events()
                status, body = 200, [[event.time_exchange_ns, event.instrument, repr(event.kind)] for event in events]
            except OwnedByAnotherThreadError as error:
                status, body = 409, str(error)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serving = threading.Thread(target=httpd.serve_forever, name="http")
    serving.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        serving.join()
    assert shared.events() == EXPECTED, "the main thread still owns the shared data set"


def fetch(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_threaded_http_server_serves_a_shared_data_set_by_cloning_it(server: str) -> None:
    exchanges = sorted({event.exchange.value for event in EXPECTED}) * 8
    with ThreadPoolExecutor(max_workers=8) as clients:
        answers = list(clients.map(lambda exchange: fetch(f"{server}/{exchange}"), exchanges))
    for exchange, (status, body) in zip(exchanges, answers):
        expected = [[event.time_exchange_ns, event.instrument, repr(event.kind)]
                    for event in EXPECTED if event.exchange.value == exchange]
        assert (status, body) == (200, expected), exchange
    status, message = fetch(f"{server}/direct/okx")
    assert status == 409 and isinstance(message, str) and "md.clone()" in message and "this is 'Thread-" in message


READS = {
    "len": len,
    "bool": bool,
    "stats": lambda md: md.stats,
    "summary": lambda md: md.summary(),
    "time_first_event": lambda md: md.time_first_event(),
    "repr": repr,
}


def test_reads_work_from_any_thread_whoever_owns_the_data_set() -> None:
    """``len``, ``bool``, ``stats``, ``summary()``, ``time_first_event()`` and ``repr`` claim
    nothing and work from any thread, as the class documentation says, both ways round: a pool
    reads what the main thread owns, and the main thread what a live pool thread owns."""
    shared = MarketDataInMemory.from_json_file(KINDS)
    expected = {name: read(shared) for name, read in READS.items()}
    assert shared.events() == EXPECTED  # the main thread owns it
    with ThreadPoolExecutor(1) as pool:
        assert {name: pool.submit(read, shared).result() for name, read in READS.items()} == expected
        assert shared.events() == EXPECTED, "still the main thread's: nothing was claimed"
    worked = MarketDataInMemory.from_json_file(KINDS)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(worked.events).result() == EXPECTED  # the pool's live thread owns it
        assert {name: read(worked) for name, read in READS.items()} == expected
        with pytest.raises(OwnedByAnotherThreadError):
            worked.events()


def test_reads_from_other_threads_never_race_the_owners_close() -> None:
    """Readers on other threads while the owner closes: each read gives the value or "closed",
    never a freed handle (the reads hold the instance's lock, which close() takes)."""
    for _ in range(20):
        md = MarketDataInMemory.from_json_file(KINDS)
        md.events()
        start = threading.Barrier(5, timeout=60)
        outcomes: list = []

        def read_until_closed() -> None:
            start.wait()
            while True:
                try:
                    outcomes.append((len(md), md.stats.reconnects, md.summary().market_events, repr(md)[:20]))
                except ValueError as error:
                    outcomes.append(str(error))
                    return

        readers = [threading.Thread(target=read_until_closed) for _ in range(4)]
        for reader in readers:
            reader.start()
        start.wait()
        md.close()
        for reader in readers:
            reader.join()
        assert all(outcome in ((11, 2, 11, "<MarketDataInMemory "), "MarketDataInMemory is closed")
                   for outcome in outcomes), set(map(str, outcomes))
        assert outcomes.count("MarketDataInMemory is closed") == 4
