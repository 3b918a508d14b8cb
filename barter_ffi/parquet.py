"""Data sets as Parquet: a directory of one file per table, beside a manifest (needs pyarrow).

The layout, format version 1, as ``to_parquet`` and ``barter-ffi convert`` write it::

    day/
      trades.parquet, l1.parquet, …    one per non-empty table, in to_arrow's schema: plain
                                       Parquet, for any reader to read on its own
      barter_ffi_not_a_table.parquet   the guard: a few lines of text saying so, not Parquet
      barter_ffi.json                  the manifest, written last: format version, counts of
                                       market events and reconnects, each table's file, rows,
                                       columns and a digest of its Parquet footer

The directory holds several tables, so it is no table, and the two extra files make each
reader that would take it for one fail instead of mixing tables. pyarrow, and pandas and Dask
through it, read every file of a directory as Parquet, and neither is Parquet. polars refuses a
directory of mixed file types. DuckDB reads every ``*.parquet`` below a directory (or in a glob,
skipping names that start with ``_``) as one table: it refuses files whose columns differ from
the first's only when a query reads columns, so ``select count(*)`` would add up every table's
rows, and a first file with fewer columns than the next (reconnects before trades) passes
whatever the query. The guard is a ``.parquet`` name that is not Parquet, so that DuckDB (and
polars, given a glob) cannot read the directory as one table, whatever the query.

``from_parquet`` reads a directory only as the manifest describes it: a table file missing,
truncated, replaced or added, or fewer market events than were written, is a
``MarketDataError``, never a partial load. ``to_parquet`` writes into a new or empty directory,
or replaces one it wrote. Every file is written under a hidden name and put in place once all are
written (the earlier manifest goes first, the new one last), so a write that fails, or is
interrupted, leaves an earlier output whole and removes what it wrote.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Union

from ._ffi import encode_path, library_version
from .arrow import TABLES, Decimals, Table, conformed, piece_tables, table_code, widened
from .errors import MarketDataError
from .notebook import counted

if TYPE_CHECKING:
    from .arrow import ArrowTable
    from .market_data import LoadStats, MarketDataInMemory

__all__ = ["FORMAT", "FORMAT_VERSION", "GUARD", "MANIFEST", "ParquetFiles", "write_parquet_pieces"]

MANIFEST = "barter_ffi.json"
GUARD = "barter_ffi_not_a_table.parquet"
_GUARD_TEXT = (
    "Not a table, and not Parquet: this directory holds one Parquet file per table (trades.parquet, l1.parquet, ...).\n"
    "Read each table file on its own, or all of them with barter_ffi's MarketDataInMemory.from_parquet(directory).\n"
    f"{MANIFEST} lists the tables.\n"
)
FORMAT = "barter-ffi tables"
FORMAT_VERSION = 1

PathArgument = Union[str, "os.PathLike[str]"]


class ParquetFiles:
    """The Parquet methods of ``MarketDataInMemory``."""

    __slots__ = ()

    if TYPE_CHECKING:

        def __len__(self) -> int: ...

        @property
        def stats(self) -> "LoadStats": ...

        def tables(self, *, decimals: Decimals = "decimal128") -> dict[str, "ArrowTable"]: ...

        @classmethod
        def from_arrow(cls, tables: Any) -> "MarketDataInMemory": ...

    def to_parquet(self, path: PathArgument, *, decimals: Decimals = "decimal128") -> None:
        """Writes the data set to the directory ``path`` (made if missing): one Parquet file per
        non-empty table, ``path/trades.parquet`` and so on, a record batch at a time, and the
        manifest ``barter_ffi.json`` (see ``barter_ffi.parquet`` for the layout and why).

        Read one table with any Parquet reader (``pandas.read_parquet("day/trades.parquet")``),
        or all of them back with ``from_parquet("day")``; a Parquet reader given the directory
        itself fails, as it holds several tables. L1 and L2 decimals are ``decimal128(38, s)``
        by default (Parquet's exact DECIMAL), or ``"float64"`` or ``"text"`` (each value's own
        scale). The Err items a file's loader skipped are not kept.

        ``path`` must be a new or empty directory, or one ``to_parquet`` wrote, which is replaced
        whole; anything else there is a ``FileExistsError``. If the write fails, nothing it
        wrote is left. Needs pyarrow (``barter-ffi[arrow]``).
        """
        import pyarrow

        def tables() -> Iterator[tuple[str, Any]]:
            for name, export in self.tables(decimals=decimals).items():
                for batch in pyarrow.RecordBatchReader.from_stream(export):
                    yield name, pyarrow.Table.from_batches([batch])

        _write_directory(_path_argument(path), tables(), decimals, lambda: (len(self), self.stats.reconnects))

    @classmethod
    def from_parquet(cls, path: PathArgument, *, table: Optional[Table] = None) -> "MarketDataInMemory":
        """Reads back what ``to_parquet`` or ``barter-ffi convert`` wrote, through
        ``from_arrow``'s checks (needs pyarrow). Each file is read whole by pyarrow's
        multithreaded reader and the tables go to the library as they are, with no Python per
        record batch (so they are in memory together while the data set is built).

        ``path`` is the directory, read whole as its manifest describes it: a missing,
        truncated, replaced, rewritten (its Parquet footer differs: row group sizes, each
        column's min and max) or extra table file is a ``MarketDataError``, as is a directory
        without ``barter_ffi.json`` (one whose writing never finished, or from barter-ffi 0.1,
        whose tables ``from_arrow`` reads). Or ``path`` is one table file, named for its table
        (``day/trades.parquet``), or any name with ``table=``: the data set then holds that
        table's events. ``table=`` also picks one table of a directory. A table file inside a
        directory is checked against its manifest too; the error for one changed on purpose
        names Python that reads it with ``from_arrow``'s checks alone.
        """
        sources, expected = _sources(_path_argument(path), table)
        data = cls.from_arrow({name: _read_whole(*source) for name, source in sources.items()})
        if expected is not None and (len(data), data.stats.reconnects) != expected:
            found = (len(data), data.stats.reconnects)
            data.close()
            raise MarketDataError(
                f"{path} holds {counted(found[0], 'market event')}, {counted(found[1], 'reconnect marker')}; "
                f"{MANIFEST} says {expected[0]} and {expected[1]}: a table is incomplete"
            )
        return data


def write_parquet_pieces(pieces: Iterable["MarketDataInMemory"], path: PathArgument, decimals: Decimals) -> None:
    """Every piece's tables to the directory ``path``, as ``to_parquet`` writes a data set,
    holding one piece at a time (``iter_json_file(...).to_parquet``)."""
    totals = [0, 0]

    def counted() -> Iterator["MarketDataInMemory"]:
        for piece in pieces:
            totals[0] += len(piece)
            totals[1] += piece.stats.reconnects
            yield piece

    _write_directory(_path_argument(path), piece_tables(counted(), TABLES, decimals), decimals,
                     lambda: (totals[0], totals[1]))


def _path_argument(path: PathArgument) -> Path:
    """``path`` as a ``Path``; an empty one is refused, as every other path argument refuses it
    (``Path("")`` is the working directory)."""
    if not os.fspath(path):
        raise ValueError("path is empty")
    encode_path(path)  # a NUL byte is refused as every reader refuses it (exists() says False)
    return Path(path)


def _write_directory(directory: Path, tables: Iterable[tuple[str, Any]], decimals: str,
                     totals: Callable[[], tuple[int, int]]) -> None:
    """``(table name, pyarrow.Table)`` pieces, in order, to ``directory``; then the guard and the
    manifest, ``totals()`` giving its (market events, reconnects). Every file is written under a
    hidden name and put in place once all are written, so an earlier output stays whole until
    then. On any failure, what was written goes, and the directory too if this made it."""
    made = _prepared(directory)
    files = _TableFiles(directory)
    try:
        for name, table in tables:
            files.write(name, _present_exchanges(table))
        files.close()
        (directory / _being_written(GUARD)).write_text(_GUARD_TEXT, encoding="utf-8")
        market_events, reconnects = totals()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "written_by": f"barter-ffi {library_version()}",
            "about": "One Parquet file per table: read each file on its own "
                     "(pandas.read_parquet('DIR/trades.parquet')), or all of them with barter_ffi's "
                     "MarketDataInMemory.from_parquet('DIR').",
            "decimals": decimals,
            "market_events": market_events,
            "reconnects": reconnects,
            "tables": files.manifest_entries(),
        }
        (directory / _being_written(MANIFEST)).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        files.close()
        for name in [*files.names(), _being_written(GUARD), _being_written(MANIFEST)]:
            (directory / name).unlink(missing_ok=True)
        if made:
            with contextlib.suppress(OSError):  # never hide the error that stopped the write
                directory.rmdir()
        raise
    _put_in_place(directory, [*files.table_files(), GUARD])


class _TableFiles:
    """The table files of a directory being written, each opened with its table's first piece.

    A file read in pieces has each piece's decimal128 columns at that piece's largest scale.
    When a piece needs a larger scale than its table's file has, the file written so far is
    rewritten at the larger scale (exactly: only zeros are added), so that the directory holds
    what ``to_parquet`` of the whole file holds, each column at its largest scale. A column's
    scale only grows, to rust_decimal's 28 at most, so a table is rewritten a few times at most,
    and in practice once or never."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._writers: dict[str, Any] = {}
        self._rows: dict[str, int] = {}

    def write(self, name: str, table: Any) -> None:
        import pyarrow.parquet as parquet

        if name not in self._rows:
            self._rows[name] = 0  # before the file exists, so that a failure to open it still removes it
            self._writers[name] = parquet.ParquetWriter(self._file(name), table.schema)
        schema = self._writers[name].schema
        wider = widened(schema, table.schema)
        if not wider.equals(schema):
            self._rewrite(name, wider)
        self._writers[name].write_table(conformed(name, table, wider))
        self._rows[name] += table.num_rows

    def _file(self, name: str) -> Path:
        return self._directory / _being_written(f"{name}.parquet")

    def _rewrite(self, name: str, schema: Any) -> None:
        """The table's file so far, again in ``schema``, a row group at a time."""
        import pyarrow
        import pyarrow.parquet as parquet

        self._writers[name].close()
        narrower = self._directory / _narrower_file(name)  # a dot: no dataset reader looks at it
        os.replace(self._file(name), narrower)
        try:
            self._writers[name] = parquet.ParquetWriter(self._file(name), schema)
            source = parquet.ParquetFile(narrower)
            for group in range(source.num_row_groups):
                self._writers[name].write_table(conformed(name, source.read_row_group(group), schema))
        finally:
            narrower.unlink()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def names(self) -> list[str]:
        """The files this may have made, the rewrites' stand-ins too."""
        return [file for name in self._rows for file in (_being_written(f"{name}.parquet"), _narrower_file(name))]

    def table_files(self) -> list[str]:
        """The names the table files take once the output is whole."""
        return [f"{name}.parquet" for name in self._rows]

    def manifest_entries(self) -> dict[str, Any]:
        return {
            name: {"file": f"{name}.parquet", "rows": self._rows[name],
                   "columns": {field.name: str(field.type) for field in writer.schema},
                   "footer_sha256": _footer_digest(self._file(name))}
            for name, writer in self._writers.items()
        }


def _footer_digest(file: Path) -> str:
    """The SHA-256 of ``file``'s Parquet footer: its row groups' places and sizes and each column
    chunk's statistics (min, max, nulls), so a file rewritten with other values (a column
    scaled, rows reordered) differs, for the cost of reading a few KB, not the file."""
    with open(file, "rb") as opened:
        opened.seek(-8, os.SEEK_END)
        length = int.from_bytes(opened.read(4), "little")
        opened.seek(-8 - length, os.SEEK_END)
        return hashlib.sha256(opened.read(length)).hexdigest()


def _narrower_file(name: str) -> str:
    """Where a table's file waits while it is rewritten at a larger decimal scale."""
    return f".{name}.parquet.narrower"


def _prepared(directory: Path) -> bool:
    """Makes sure ``directory`` can take a new output, and says whether it made it. An existing
    one must be empty, or hold only an earlier output (with its manifest), which stays whole
    until the new one is (``_write_directory``); leftovers of a write cut short by a crash go."""
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(errno.EEXIST, "not a directory: to_parquet writes a directory of one Parquet file "
                              "per table", str(directory))
    try:
        directory.mkdir(parents=True)
        return True
    except FileExistsError:
        pass
    final = {MANIFEST, GUARD, *(f"{name}.parquet" for name in TABLES)}
    being_written = {_being_written(name) for name in [MANIFEST, GUARD, *final]} | {
        _narrower_file(name) for name in TABLES}
    present = sorted(entry.name for entry in directory.iterdir())
    foreign = [name for name in present
               if name not in final | being_written or (name in final and MANIFEST not in present)]
    if foreign:
        raise FileExistsError(
            errno.EEXIST,
            f"the directory holds files that to_parquet did not write ({', '.join(foreign[:5])}"
            f"{', …' if len(foreign) > 5 else ''}): write to a new or empty directory",
            str(directory),
        )
    for name in being_written.intersection(present):
        (directory / name).unlink()
    return False


def _being_written(name: str) -> str:
    """Where the file ``name`` of a new output is written, hidden (a dot: no dataset reader looks
    at it), until the whole output is written and takes the earlier one's place."""
    return f".{name}.partial"


def _put_in_place(directory: Path, names: list[str]) -> None:
    """The new output's files, all written, in place of the earlier output's: its manifest goes
    first, so no reader takes the directory for a whole output until the new manifest is in."""
    (directory / MANIFEST).unlink(missing_ok=True)
    for table in TABLES:
        if f"{table}.parquet" not in names:
            (directory / f"{table}.parquet").unlink(missing_ok=True)
    for name in [*names, MANIFEST]:
        os.replace(directory / _being_written(name), directory / name)


def _present_exchanges(table: Any) -> Any:
    """``table`` with its exchange dictionary cut to the exchanges it holds (the library's
    holds all of barter's), so pandas reads a file's exchanges as categories of those alone."""
    import pyarrow
    import pyarrow.compute

    position = table.schema.get_field_index("exchange")
    present = pyarrow.compute.dictionary_encode(table.column(position).cast(pyarrow.string()))
    return table.set_column(position, table.schema.field(position), present)


def _sources(path: Path,
             table: Optional[str]) -> tuple[dict[str, tuple[Path, Any]], Optional[tuple[int, int]]]:
    """The Parquet files of the tables to read at ``path``, opened and checked against the manifest,
    and the (market events, reconnects) the data set must then hold, if known."""
    if table is not None:
        table_code(table)
    if path.is_dir():
        manifest = _manifest(path)
        listed = manifest["tables"]
        files = {entry["file"] for entry in listed.values()}
        unlisted = sorted(file.name for file in path.glob("*.parquet") if file.name not in files and file.name != GUARD)
        if unlisted:
            raise MarketDataError(
                f"{path}: {', '.join(unlisted)} is not one of the tables {MANIFEST} lists "
                f"({', '.join(sorted(files)) or 'none'}): the directory mixes in files from elsewhere"
            )
        if table is None:
            paths = {name: path / entry["file"] for name, entry in listed.items()}
            unchecked = _read_without_manifest(paths)
            return ({name: _source(paths[name], entry, unchecked) for name, entry in listed.items()},
                    (manifest["market_events"], manifest["reconnects"]))
        if table not in listed:
            raise MarketDataError(f"{path} holds no {table} table ({MANIFEST} lists {', '.join(listed) or 'none'})")
        file = path / listed[table]["file"]
        return {table: _source(file, listed[table], _read_without_manifest({table: file}))}, None
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    _check_parquet_magic(path)
    name = table or path.stem
    if name not in TABLES:
        raise MarketDataError(
            f"{path}: which table is this? Its name is none of {', '.join(f'{name}.parquet' for name in TABLES)}: "
            "name it, as in from_parquet(path, table='trades')"
        )
    beside = path.parent / MANIFEST
    entry = _manifest(path.parent)["tables"].get(name) if beside.exists() else None
    entry = entry if entry is not None and entry["file"] == path.name else None
    return {name: _source(path, entry, _read_without_manifest({name: path}))}, None


_PARQUET_MAGIC = (b"PAR1", b"PARE")  # plain, and with an encrypted footer


def starts_as_parquet(file: Path) -> bool:
    """Whether ``file`` starts with Parquet's magic bytes, whatever its name."""
    with open(file, "rb") as opened:
        return opened.read(4) in _PARQUET_MAGIC


def _check_parquet_magic(file: Path) -> None:
    """A file that does not start as Parquet does is refused for what it is, before its name is
    asked about: a barter JSON file given here is the likely mistake."""
    if not starts_as_parquet(file):
        raise MarketDataError(
            f"{file}: not a Parquet file (it does not start with Parquet's magic bytes PAR1). from_parquet reads "
            "what to_parquet or barter-ffi convert wrote; for barter's JSON (or JSON Lines) use from_json_file"
        )


def _manifest(directory: Path) -> dict[str, Any]:
    """The directory's manifest, its format checked."""
    file = directory / MANIFEST
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if not any(directory.glob("*.parquet")):
            raise MarketDataError(
                f"{directory}: a directory, and not one that to_parquet or barter-ffi convert wrote (it holds no "
                f"{MANIFEST} and no .parquet file): give a barter JSON file, or such a directory"
            ) from None
        raise MarketDataError(
            f"{directory}: no {MANIFEST}, so not a directory that to_parquet or barter-ffi convert finished writing "
            "(the manifest is written last), and which files belong together is unknown. Read one table file with "
            "from_parquet(file); a directory from barter-ffi 0.1, which wrote no manifest, with "
            "from_arrow({file.stem: pyarrow.parquet.read_table(file) for file in Path(directory).glob('*.parquet')})"
        ) from None
    except (OSError, ValueError) as error:
        raise MarketDataError(f"{file}: not a barter-ffi manifest ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise MarketDataError(f"{file}: not a barter-ffi manifest (no \"format\": \"{FORMAT}\")")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise MarketDataError(
            f"{file}: format_version {manifest.get('format_version')!r}, and this barter-ffi reads "
            f"{FORMAT_VERSION}: a newer barter-ffi wrote it"
        )
    if not _well_formed(manifest):
        raise MarketDataError(f"{file}: not a barter-ffi manifest (a field is missing or of another type)")
    return manifest


def _well_formed(manifest: dict[str, Any]) -> bool:
    """Whether the manifest has every field ``from_parquet`` reads, of its type."""
    try:
        counts = (manifest["market_events"], manifest["reconnects"])
        entries = [(entry["file"], entry["rows"], entry["columns"]) for entry in manifest["tables"].values()]
    except (KeyError, TypeError, AttributeError):
        return False
    return (
        all(type(count) is int for count in counts)
        and all(name in TABLES for name in manifest["tables"])
        and all(tuple(map(type, entry)) == (str, int, dict) for entry in entries)
    )


def _read_without_manifest(files: dict[str, Path]) -> str:
    """Python that reads the table files ``{table: file}`` with ``from_arrow``'s checks and not
    the manifest's: what a file changed on purpose inside a directory can be read with."""
    tables = ", ".join(f"{name!r}: pyarrow.parquet.read_table({str(file)!r})" for name, file in files.items())
    return f"MarketDataInMemory.from_arrow({{{tables}}})"


def _source(file: Path, entry: Optional[dict[str, Any]], unchecked: str) -> tuple[Path, Any]:
    """``file`` and its ``pyarrow.parquet.ParquetFile``, opened, its rows and columns checked
    against its manifest ``entry``; the error for a file that differs names ``unchecked``, the
    way to read it all the same."""
    import pyarrow
    import pyarrow.parquet as parquet

    if entry is not None and not file.exists():
        raise MarketDataError(
            f"{file.parent}: {file.name} is missing ({MANIFEST} lists it with {counted(entry['rows'], 'row')}): "
            "the directory is incomplete"
        )
    try:
        source = parquet.ParquetFile(file)
    except pyarrow.ArrowException as error:
        raise MarketDataError(f"{file}: {error}") from None
    if entry is not None:
        rows = source.metadata.num_rows
        columns = {field.name: str(field.type) for field in source.schema_arrow}
        if rows != entry["rows"] or columns != entry["columns"]:
            differs = f"holds {counted(rows, 'row')}, {MANIFEST} says {entry['rows']}" if rows != entry["rows"] else (
                f"has the columns {columns}, {MANIFEST} says {entry['columns']}")
            raise MarketDataError(
                f"{file}: {file.name} {differs}: the file was replaced or truncated after the directory was written. "
                f"If it was changed on purpose, read it without the manifest's check: {unchecked}"
            )
        written = entry.get("footer_sha256")  # None in a manifest of barter-ffi 0.1
        if written is not None and written != _footer_digest(file):
            raise MarketDataError(
                f"{file}: {file.name} holds other values than were written ({MANIFEST} keeps a digest of its Parquet "
                "footer: its row groups' sizes and each column's min and max): the file was rewritten after the "
                f"directory was written. If it was changed on purpose, read it without the manifest's check: {unchecked}"
            )
    return file, source


def _read_whole(file: Path, source: Any) -> Any:
    """A checked Parquet file read whole, by pyarrow's multithreaded reader: the library then
    reads the table's columns with no Python per record batch."""
    import pyarrow

    try:
        return source.read()
    except pyarrow.ArrowException as error:
        raise MarketDataError(f"{file}: {error}") from None
