"""Compressed recordings: gzip, zstd and bzip2, detected from the content, everywhere a file or
buffer is read, and written by to_json_file."""

from __future__ import annotations

import bz2
import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from barter_ffi import MarketDataError, MarketDataInMemory
from conftest import FIXTURES

KINDS = FIXTURES / "all_kinds.jsonl"
FORMATS = ["gzip", "zstd", "bz2"]
MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd", "bz2": b"BZh"}


def zstd_raw_frame(content: bytes) -> bytes:
    """A zstd frame of stored (raw) blocks, as RFC 8878 lays it out: the standard library has
    no zstd, and this writer owes nothing to the library under test."""
    window_128_kib = bytes([0x00, 7 << 3])  # frame header: no content size; window 2**(10+7)
    frame = bytearray(b"\x28\xb5\x2f\xfd" + window_128_kib)
    blocks = [content[start : start + 65536] for start in range(0, len(content), 65536)] or [b""]
    for index, block in enumerate(blocks):
        last = int(index == len(blocks) - 1)
        frame += (len(block) << 3 | last).to_bytes(3, "little") + block  # block type 0: raw
    return bytes(frame)


def compressed(tmp_path: Path, source: Path, compression: str, name: str = "data.json") -> Path:
    """``source`` written compressed under a name that says nothing of it."""
    target = tmp_path / f"{compression}-{name}"
    MarketDataInMemory.from_json_file(source).to_json_file(
        target, shape="array" if source.suffix == ".json" else "lines", compression=compression
    )
    assert target.read_bytes().startswith(MAGIC[compression])
    return target


@pytest.mark.parametrize("compression", FORMATS)
@pytest.mark.parametrize("fixture", ["all_kinds.jsonl", "all_kinds_results.json", "candles.jsonl"])
def test_every_loader_reads_every_format_by_content(tmp_path: Path, compression: str, fixture: str) -> None:
    plain = MarketDataInMemory.from_json_file(FIXTURES / fixture)
    path = compressed(tmp_path, FIXTURES / fixture, compression)
    assert MarketDataInMemory.from_json_file(path).events() == plain.events()
    assert MarketDataInMemory.from_json_file(path).stats == plain.stats
    assert MarketDataInMemory.from_json_bytes(path.read_bytes()).events() == plain.events()
    assert MarketDataInMemory.from_json_files([path, FIXTURES / fixture]).events() == sorted(
        plain.events() * 2, key=lambda event: event.time_exchange_ns
    )
    trades = MarketDataInMemory.from_json_file(path, kinds=["public_trade"])
    assert trades.events() == plain.filter(kinds=["public_trade"]).events()


def test_files_compressed_by_the_standard_tools_read_whole_even_in_several_members(tmp_path: Path) -> None:
    lines = KINDS.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    members = gzip.compress(b"".join(lines[:half])) + gzip.compress(b"".join(lines[half:]))
    streams = bz2.compress(b"".join(lines[:half])) + bz2.compress(b"".join(lines[half:]))
    frames = zstd_raw_frame(b"".join(lines[:half])) + zstd_raw_frame(b"".join(lines[half:]))
    expected = MarketDataInMemory.from_json_file(KINDS).events()
    for name, content in [("members.jsonl.gz", members), ("streams.bz2", streams), ("frames", frames)]:
        (tmp_path / name).write_bytes(content)
        assert MarketDataInMemory.from_json_file(tmp_path / name).events() == expected, name
        assert MarketDataInMemory.from_json_bytes(content).events() == expected, name


@pytest.mark.parametrize("compression", FORMATS)
def test_truncated_or_corrupt_archives_raise_and_load_nothing(tmp_path: Path, compression: str) -> None:
    whole = compressed(tmp_path, KINDS, compression).read_bytes()
    corrupt = bytearray(whole)
    corrupt[len(whole) // 2] ^= 0xFF
    for damage, content in [("truncated", whole[: len(whole) * 2 // 3]), ("corrupt", bytes(corrupt))]:
        path = tmp_path / f"{damage}.{compression}"
        path.write_bytes(content)
        name = {"bz2": "bzip2"}.get(compression, compression)
        with pytest.raises(MarketDataError, match=f"the {name} data is corrupt or truncated"):
            MarketDataInMemory.from_json_file(path)
        with pytest.raises(MarketDataError, match=f"the {name} data is corrupt or truncated"):
            MarketDataInMemory.from_json_bytes(content)


@pytest.mark.parametrize("compression", FORMATS)
def test_errors_name_the_line_and_column_in_the_decompressed_text(tmp_path: Path, compression: str) -> None:
    text = KINDS.read_bytes().replace(b'"Buy"', b'"Bought"', 1)
    with pytest.raises(MarketDataError) as plain:
        MarketDataInMemory.from_json_bytes(text, source="input")
    packed = {"gzip": gzip.compress, "bz2": bz2.compress, "zstd": zstd_raw_frame}[compression]
    with pytest.raises(MarketDataError) as packed_error:
        MarketDataInMemory.from_json_bytes(packed(text), source="input")
    assert "line " in str(plain.value) and str(packed_error.value) == str(plain.value)


def test_progress_counts_compressed_bytes(tmp_path: Path) -> None:
    path = compressed(tmp_path, KINDS, "zstd")
    reports: list[tuple[int, int]] = []
    MarketDataInMemory.from_json_file(path, progress=lambda done, total: reports.append((done, total)))
    size = path.stat().st_size
    assert reports[0] == (0, size) and reports[-1] == (size, size), reports
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)


@pytest.mark.parametrize(
    ("name", "compression", "magic"),
    [("a.jsonl.zst", "infer", MAGIC["zstd"]), ("a.jsonl.gz", "infer", MAGIC["gzip"]),
     ("a.json.bz2", "infer", MAGIC["bz2"]), ("a.jsonl", "infer", b"{"), ("a.jsonl", "zstd", MAGIC["zstd"]),
     ("a.jsonl.gz", None, b"{")],
)
def test_to_json_file_compresses_as_named_or_as_asked(tmp_path: Path, name: str, compression: str, magic: bytes) -> None:
    data = MarketDataInMemory.from_json_file(KINDS)
    data.to_json_file(tmp_path / name, compression=compression)  # type: ignore[arg-type]
    assert (tmp_path / name).read_bytes().startswith(magic)
    assert MarketDataInMemory.from_json_file(tmp_path / name).events() == data.events()


def test_to_json_file_refuses_an_unknown_compression_and_leaves_no_file(tmp_path: Path) -> None:
    data = MarketDataInMemory.from_json_file(KINDS)
    with pytest.raises(ValueError, match="unknown compression 'lz4': use one of 'gzip', 'zstd' or 'bz2', None"):
        data.to_json_file(tmp_path / "a.jsonl", compression="lz4")  # type: ignore[arg-type]
    assert not (tmp_path / "a.jsonl").exists()
    with pytest.raises(FileNotFoundError):
        data.to_json_file(tmp_path / "missing" / "a.jsonl.zst")


def test_cli_reads_and_writes_compressed_files(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    source = compressed(tmp_path, KINDS, "gzip", name="recording")

    def run(*args: object) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "barter_ffi", *map(str, args)], capture_output=True, text=True,
                              timeout=120)

    summary = run(source)
    assert summary.returncode == 0 and "market events:        11" in summary.stdout, summary.stderr
    assert run("convert", source, tmp_path / "tables", "--decimals", "text").returncode == 0
    back = run("convert", tmp_path / "tables", tmp_path / "back.jsonl.zst")
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "back.jsonl.zst").read_bytes().startswith(MAGIC["zstd"])
    assert MarketDataInMemory.from_json_file(tmp_path / "back.jsonl.zst").events() == (
        MarketDataInMemory.from_json_file(KINDS).events()
    )
