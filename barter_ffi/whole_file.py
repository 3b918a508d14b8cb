"""Files written whole or not at all, by writers in Python (pyarrow's), as the library writes
``to_json_file`` (``barter_ffi_market_data_write_json_file`` says how, in the header)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
from typing import IO, Iterator, Union

_OPEN_DESCRIPTOR_NAMES = ("/proc/", "/dev/fd/", "/dev/stdout", "/dev/stderr")


@contextlib.contextmanager
def written_whole(path: Union[str, "os.PathLike[str]"]) -> Iterator[str]:
    """The name to write ``path`` under in the ``with`` block. For a regular file, or a new one,
    that is a hidden name beside it (``.NAME.partial``, locked while written), put in its place,
    with the earlier file's mode (and owner and group where this process may set them), when the
    block ends without an error, and removed when it raises: an earlier file stays whole until
    the new one is, and no part of a file is left to read as all of it. A file this process may
    not write is refused; through a symbolic link the file it names is replaced and the link
    kept; a second write of one file at a time fails. Anything else (a FIFO, a device, a name
    for an open descriptor such as ``/dev/stdout``) is ``path`` itself, written in place and
    never removed."""
    given = os.fspath(path)
    if not given:
        raise ValueError("path is empty")
    if _names_an_open_descriptor(given) or (os.path.exists(given) and not os.path.isfile(given)):
        yield given
        return
    real = os.path.realpath(given)
    existing = os.stat(real) if os.path.exists(real) else None
    if existing is not None:
        open(real, "r+b").close()  # refused as writing it in place would be
    hidden = _hidden_name(real)
    with open(hidden, "ab") as held:
        _lock(held, hidden, given)
        try:
            held.truncate(0)
            if existing is not None:
                shutil.copymode(real, hidden)
                with contextlib.suppress(OSError):  # only where this process may set them
                    os.chown(hidden, existing.st_uid, existing.st_gid)
            yield hidden
            os.replace(hidden, real)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(hidden)
            raise


def _names_an_open_descriptor(path: str) -> bool:
    """Whether ``path``, or a link on the way from it, is a name procfs gives an open descriptor."""
    hop = os.path.abspath(path)
    for _ in range(40):
        if hop.startswith(_OPEN_DESCRIPTOR_NAMES):
            return True
        try:
            hop = os.path.join(os.path.dirname(hop), os.readlink(hop))
        except OSError:
            return False
    return False


def _hidden_name(file: str) -> str:
    """``.NAME.partial`` beside ``file``, or ``.barter-ffi-HASH.partial`` for a name too long."""
    directory, name = os.path.split(file)
    if len(os.fsencode(name)) + len(".partial") < 255:
        return os.path.join(directory, f".{name}.partial")
    return os.path.join(directory, f".barter-ffi-{hashlib.sha256(os.fsencode(name)).hexdigest()[:16]}.partial")


def _lock(held: IO[bytes], hidden: str, given: str) -> None:
    """Locks ``held``, the open file at ``hidden``, for this write of ``given``, or says another
    write holds it (the lock counts only while the name is still the file locked)."""
    if os.name != "posix":
        return
    import fcntl

    under_way = BlockingIOError(errno.EWOULDBLOCK, "another write to this file is under way", given)
    try:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise under_way from None
    try:
        named = os.stat(hidden)
    except FileNotFoundError:
        raise under_way from None
    locked = os.fstat(held.fileno())
    if (named.st_dev, named.st_ino) != (locked.st_dev, locked.st_ino):
        raise under_way
