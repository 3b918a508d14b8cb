"""Reloading a recording (Parquet, Arrow) against parsing its JSON; selective loads against the
whole load; and a load after polars, DuckDB and pyarrow have run in the same process.

    python benchmarks/bench_reload.py [--rounds 7] [--sections reload,selective,history]
                                      [FILE.jsonl ...]   (default: nobooks and bookheavy 100k, mixed 1M)

reload: the file's data set written with ``to_parquet`` (pyarrow's default compression, snappy),
then rewritten with zstd and uncompressed (same 65536-row row groups); every way is checked to
give ``from_json_file``'s events before rounds alternate: ``from_json_file``, ``from_parquet`` of
each directory, pyarrow reading the default directory's files alone (``read_table``, what
``from_parquet`` does before handing the tables over), and ``from_arrow`` of tables already in
memory.

selective: the whole load against ``kinds=["candle"]``, ``instruments=[0]`` (one of eight) and a
selection keeping nothing, each checked equal to the whole load filtered.

history: fresh child processes, in alternating pairs: one times loads of the file straight
after its imports, the other after ``polars.read_ndjson``, DuckDB's ``read_json`` and
``pyarrow.json.read_json`` have each read the file once; each gives its median load and minor
page faults per load.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import pyarrow.parquet as parquet

from barter_ffi import MarketDataInMemory
from barter_ffi.parquet import GUARD, MANIFEST

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DEFAULT_FILES = ["nobooks_100000.jsonl", "bookheavy_100000.jsonl", "mixed_1000000.jsonl"]


def data_file(name: str) -> Path:
    """A benchmark file, made by generate.py if missing (``MIX_N.jsonl``)."""
    path = DATA / name
    if not path.exists():
        stem, count = path.stem.rsplit("_", 1)
        subprocess.run([sys.executable, str(HERE / "generate.py"), count, str(DATA / path.stem), stem], check=True)
    return path


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):.3f} ({min(samples):.3f}..{max(samples):.3f})"


def alternate(ways: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Each way once a round, each round starting with the next way; seconds per way."""
    names = list(ways)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names[round_ % len(names):] + names[: round_ % len(names)]:
            start = time.perf_counter()
            result = ways[name]()
            times[name].append(time.perf_counter() - start)
            close = getattr(result, "close", None)
            if close is not None:
                close()
            del result
    return times


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else table_files(path)
    return sum(file.stat().st_size for file in files) / 1e6


def table_files(directory: Path) -> list[Path]:
    """The directory's table files (not its guard, which is not Parquet)."""
    return sorted(file for file in directory.glob("*.parquet") if file.name != GUARD)


def rewritten(directory: Path, target: Path, compression: str) -> Path:
    """``directory`` with its tables rewritten in ``compression``, beside the same guard and manifest."""
    target.mkdir()
    for file in table_files(directory):
        parquet.write_table(parquet.read_table(file), target / file.name, compression=compression, row_group_size=65536)
    for name in (GUARD, MANIFEST):
        shutil.copy(directory / name, target / name)
    return target


def read_tables(directory: Path) -> dict[str, object]:
    return {file.stem: parquet.read_table(file) for file in table_files(directory)}


def bench_reload(path: Path, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        with MarketDataInMemory.from_json_file(path) as md:
            expected = md.events()
            default = Path(scratch) / "default"
            md.to_parquet(default)
        directories = {
            "snappy (default)": default,
            "zstd": rewritten(default, Path(scratch) / "zstd", "zstd"),
            "uncompressed": rewritten(default, Path(scratch) / "none", "none"),
        }
        in_memory = read_tables(default)
        ways: dict[str, Callable[[], object]] = {"from_json_file": lambda: MarketDataInMemory.from_json_file(path)}
        for name, directory in directories.items():
            ways[f"from_parquet, {name}"] = lambda directory=directory: MarketDataInMemory.from_parquet(directory)
        ways["pyarrow read_table alone, snappy"] = lambda: read_tables(default)
        ways["from_arrow of tables in memory"] = lambda: MarketDataInMemory.from_arrow(in_memory)
        for name, way in ways.items():
            result = way()
            if isinstance(result, MarketDataInMemory):
                assert result.events() == expected, name
                result.close()
        times = alternate(ways, rounds)
        load = statistics.median(times["from_json_file"])
        print(f"\n{path.name}: {len(expected):,} events, JSON {size_mb(path):.1f} MB; "
              + ", ".join(f"Parquet {name} {size_mb(directory):.1f} MB" for name, directory in directories.items()))
        print("| way | seconds, median (min..max) | faster than from_json_file by |")
        print("|---|---|---|")
        for name, samples in times.items():
            print(f"| {name} | {summary(samples)} | {load / statistics.median(samples):.2f}x |")


SELECTIONS: dict[str, dict[str, list]] = {
    "kinds=['candle']": {"kinds": ["candle"]},
    "instruments=[0]": {"instruments": [0]},
    "nothing (instruments=[999])": {"instruments": [999]},
}


def bench_selective(path: Path, rounds: int) -> None:
    ways: dict[str, Callable[[], object]] = {"whole load": lambda: MarketDataInMemory.from_json_file(path)}
    kept = {}
    with MarketDataInMemory.from_json_file(path) as whole:
        for name, selection in SELECTIONS.items():
            with MarketDataInMemory.from_json_file(path, **selection) as selected, whole.filter(**selection) as filtered:
                assert selected.events() == filtered.events(), name
                kept[name] = len(selected) / len(whole)
            ways[name] = lambda selection=selection: MarketDataInMemory.from_json_file(path, **selection)
    times = alternate(ways, rounds)
    load = statistics.median(times["whole load"])
    print(f"\n{path.name}: selective loads")
    print("| load | events kept | seconds, median (min..max) | of the whole load |")
    print("|---|---|---|---|")
    for name, samples in times.items():
        share = "100%" if name == "whole load" else f"{kept[name]:.1%}"
        print(f"| {name} | {share} | {summary(samples)} | {statistics.median(samples) / load:.0%} |")


CHILD = """
import json, resource, statistics, sys, time
import duckdb, polars, pyarrow.json
from barter_ffi import MarketDataInMemory
path, after_others, loads = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
if after_others:
    polars.read_ndjson(path)
    duckdb.sql(f"select count(*) from read_json('{path}', format='newline_delimited', maximum_object_size=1048576)").fetchall()
    pyarrow.json.read_json(path)
times, faults = [], []
for _ in range(loads):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    MarketDataInMemory.from_json_file(path).close()
    times.append(time.perf_counter() - start)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps([statistics.median(times), statistics.median(faults)]))
"""


def bench_history(path: Path, rounds: int, loads: int = 5) -> None:
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for round_ in range(rounds):
        for after_others in ([False, True] if round_ % 2 == 0 else [True, False]):
            child = [sys.executable, "-c", CHILD, str(path), str(int(after_others)), str(loads)]
            results[after_others].append(tuple(json.loads(subprocess.check_output(child))))
    ratios = [after[0] / fresh[0] for fresh, after in zip(results[False], results[True])]
    print(f"\n{path.name}: a load in a fresh process and after polars, DuckDB and pyarrow read the file "
          f"({rounds} pairs of processes, median of {loads} loads each)")
    print("| process | load, seconds median (min..max) | minor faults per load | against fresh, per pair |")
    print("|---|---|---|---|")
    for after_others, label in [(False, "fresh (imports only)"), (True, "after polars, DuckDB, pyarrow")]:
        samples = [time_ for time_, _ in results[after_others]]
        faults = statistics.median(fault for _, fault in results[after_others])
        against = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}..{max(ratios):.2f})" if after_others else "1.00x"
        print(f"| {label} | {summary(samples)} | {faults:,.0f} | {against} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sections", default="reload,selective,history")
    arguments = parser.parse_args()
    sections = arguments.sections.split(",")
    for name in arguments.files:
        path = data_file(name) if "/" not in name else Path(name)
        if "reload" in sections:
            bench_reload(path, arguments.rounds)
        if "selective" in sections:
            bench_selective(path, arguments.rounds)
        if "history" in sections:
            bench_history(path, arguments.rounds)


if __name__ == "__main__":
    main()
