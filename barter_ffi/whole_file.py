"""Files written whole or not at all, by writers in Python (pyarrow's): the policy the library
follows for ``to_json_file`` (and ``barter_ffi_market_data_write_json_file``)."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from typing import Iterator, Union

_WRITES = itertools.count()


@contextlib.contextmanager
def written_whole(path: Union[str, "os.PathLike[str]"]) -> Iterator[str]:
    """The name to write ``path`` under in the ``with`` block. For a regular file, or a new one,
    that is a hidden temporary name beside it, put in its place (with the earlier file's
    permissions) when the block ends without an error and removed when it raises: an earlier
    file stays whole until the new one is, and no part of a file is left to read as all of it.
    Through a symbolic link the file it names is replaced, and the link kept. Anything else (a
    FIFO, a device) is ``path`` itself, written in place and never removed."""
    given = os.fspath(path)
    if not given:
        raise ValueError("path is empty")
    if os.path.exists(given) and not os.path.isfile(given):
        yield given
        return
    real = os.path.realpath(given)
    directory, name = os.path.split(real)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}-{next(_WRITES)}.partial")
    try:
        yield temporary
        if os.path.exists(real):
            shutil.copymode(real, temporary)
        os.replace(temporary, real)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
