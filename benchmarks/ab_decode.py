"""A/B of two versions of the event types (``barter_ffi/data.py``): ``events()`` of one loaded
data set, decoded by this checkout's types and by those of another git revision, in alternating
rounds, in one process (the library, the load and the cursor are the same for both); then the
decoding alone, of the same batches fetched once (no library thread running beside it), in wall
time and in this thread's CPU time (less moved by other processes on a shared machine).

    python benchmarks/ab_decode.py REV FILE [ROUNDS]

Prints each side's median (min..max) and the ratio of this checkout's time to REV's, with the
range of the per-round ratios.
"""

from __future__ import annotations

import gc
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Callable

import barter_ffi
import barter_ffi.batches as batches
from barter_ffi import MarketDataInMemory
from bench_mixes import batches_of

ROOT = Path(__file__).resolve().parent.parent


def data_module_at(revision: str) -> ModuleType:
    """``barter_ffi/data.py`` as it was at ``revision``, as a module of this package (its relative
    imports resolve against this checkout's modules)."""
    source = subprocess.run(["git", "show", f"{revision}:barter_ffi/data.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    name = "barter_ffi._data_at_revision"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "barter_ffi"
    sys.modules[name] = module
    exec(compile(source, f"{revision}:barter_ffi/data.py", "exec"), module.__dict__)  # noqa: S102 - our own file
    return module


def timed(work: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    gc.collect()
    started = clock()
    result = work()
    elapsed = clock() - started
    del result
    return elapsed


def report(what: str, times: dict[str, list[float]], old: str, new: str) -> None:
    for name, values in times.items():
        print(f"{name}: {what} median {statistics.median(values) * 1000:.1f} ms "
              f"({min(values) * 1000:.1f}..{max(values) * 1000:.1f})")
    ratios = [after / before for after, before in zip(times[new], times[old])]
    print(f"{what}, {new} / {old}: {statistics.median(times[new]) / statistics.median(times[old]):.3f} "
          f"(per round {min(ratios):.3f}..{max(ratios):.3f})")


def main() -> None:
    revision, path = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    new = "this checkout"
    decoders = {revision: data_module_at(revision).decode_events, new: batches.decode_events}
    data = MarketDataInMemory.from_json_file(path)
    fetched = batches_of(data)
    print(f"{path}: {len(data)} events, barter_ffi from {Path(barter_ffi.__file__).parent}")
    iteration: dict[str, list[float]] = {name: [] for name in decoders}
    decoding: dict[str, list[float]] = {name: [] for name in decoders}
    decoding_cpu: dict[str, list[float]] = {name: [] for name in decoders}
    for _ in range(rounds):
        for name, decode in decoders.items():
            batches.decode_events = decode  # what cursor_batches decodes each batch with
            iteration[name].append(timed(data.events))
            decoding[name].append(timed(lambda: [decode(batch) for batch in fetched]))
            decoding_cpu[name].append(timed(lambda: [decode(batch) for batch in fetched], time.thread_time))
    report("events()", iteration, revision, new)
    report("decoding the batches", decoding, revision, new)
    report("decoding the batches, CPU time", decoding_cpu, revision, new)


if __name__ == "__main__":
    main()
