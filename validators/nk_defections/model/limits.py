"""The limits on what is read, and the one way a file handed to us is opened within them.

Every file the validator reads (a contributed file, a table of the package, a descriptor, a
member of a release zip) is bounded, so that no input can make a run hang or take memory out of
proportion to what it holds:

* only a **regular file** is read: a FIFO, a device (``/dev/zero`` named ``x.json``) or a
  socket is refused before it is read, opened so that even a FIFO cannot block the open;
* a **contributed** file that is a **symbolic link** is refused: name the file itself (a link
  could show a file outside the contribution, ``people.csv -> /etc/passwd``, in a message);
* a file larger than :data:`MAX_FILE_BYTES` (a descriptor: :data:`MAX_DESCRIPTOR_BYTES`) is
  refused before it is read;
* a member of a zip is read only up to :data:`MAX_FILE_BYTES` and only if it does not inflate
  more than :data:`MAX_ZIP_RATIO` times; its hash is checked as it streams;
* a cell holds at most :data:`MAX_CELL_CHARS` characters (``schema.max-length``);
* JSON nests at most :data:`MAX_JSON_DEPTH` levels in a contribution (``json.too-deep``) and
  :data:`MAX_DESCRIPTOR_DEPTH` in a descriptor.

A refusal is a :class:`FileRefused`, an :class:`OSError`: whoever reports a file that cannot be
read (``file.unreadable``, exit 2) reports it too.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: The largest file read: a contributed file, a table, a member of a release zip (512 MiB; the
#: largest measured contribution, a million rows as JSON Lines, is 159 MB).
MAX_FILE_BYTES = 512 * 2**20
#: The largest descriptor (``datapackage.json``) read: the package's is about 100 kB.
MAX_DESCRIPTOR_BYTES = 16 * 2**20
#: How many times a zip member may inflate: CSV deflates to about a fifth, a zip bomb a thousandth.
MAX_ZIP_RATIO = 100
#: The most characters a cell may hold (any field; a Table Schema ``maxLength`` may say less).
MAX_CELL_CHARS = 1_000_000
#: Deeper than any record needs (envelope > array > record > names > name > claims > claim is 7).
MAX_JSON_DEPTH = 32
#: Deeper than any descriptor needs (resources > resource > schema > fields > field > constraints
#: > enum is 8).
MAX_DESCRIPTOR_DEPTH = 32


class FileRefused(OSError):
    """A file that is not read: not a regular file, a link, or larger than its limit."""


def size_text(count: int) -> str:
    """A byte count for humans.

    Examples
    --------
    >>> size_text(MAX_FILE_BYTES), size_text(1500)
    ('512 MiB', '1,500 bytes')
    """
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count:,} bytes"


def _refuse(path: Path | str, why: str, code: int = errno.EINVAL) -> FileRefused:
    return FileRefused(code, why, os.fspath(path))


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path: Path | str) -> None:
    """Raise :class:`FileRefused` unless *path* is a regular file (asked without opening it)."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _refuse(path, f"it is {_kind(mode)}, not a regular file")


def read_file(path: Path | str, *, limit: int | None = None, links: bool = True) -> bytes:
    """The bytes of the regular file *path*, if it holds at most *limit* bytes.

    Parameters
    ----------
    path
        The file.
    limit
        The most bytes it may hold (default :data:`MAX_FILE_BYTES`).
    links
        Whether *path* itself may be a symbolic link (a contributed file may not be).

    Raises
    ------
    FileRefused
        *path* is a link (and *links* is false), is not a regular file, or is larger than
        *limit*: it was not read. Its ``strerror`` says which, in words.
    OSError
        *path* cannot be opened or read.

    Examples
    --------
    >>> import tempfile
    >>> try:
    ...     read_file(tempfile.gettempdir())
    ... except FileRefused as exc:
    ...     exc.strerror
    'it is a directory, not a regular file'
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    if not links and stat.S_ISLNK(os.lstat(path).st_mode):
        raise _refuse(
            path,
            f"it is a symbolic link (to {os.readlink(path)}); name the file itself",
            errno.ELOOP,
        )
    # O_NONBLOCK: opening a FIFO with no writer would otherwise wait for one, for ever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise _refuse(path, "it is a directory, not a regular file", errno.EISDIR) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, f"it is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise _refuse(path, _too_large(info.st_size, limit), errno.EFBIG)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(info.st_size + 1)
            if len(data) > info.st_size:  # it grew while it was read: on to the limit, no further
                data += handle.read(limit + 1 - len(data))
        if len(data) > limit:
            raise _refuse(path, _too_large(len(data), limit), errno.EFBIG)
        return data
    finally:
        os.close(fd)


def _too_large(size: int, limit: int) -> str:
    return f"it holds {size:,} bytes, more than the limit of {size_text(limit)}"


def read_chunks(chunks: Iterable[bytes], *, limit: int, what: str) -> bytes:
    """Join *chunks*, stopping with :class:`FileRefused` as soon as they pass *limit* bytes."""
    parts: list[bytes] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise _refuse(what, f"it inflates past the limit of {size_text(limit)}", errno.EFBIG)
        parts.append(chunk)
    return b"".join(parts)


def json_depth(value: Any) -> int:
    """How deep *value* (parsed JSON) nests, counting each array and object as a level.

    Walked without recursion, so that any depth can be measured.

    Examples
    --------
    >>> json_depth({"a": [1, {"b": []}]}), json_depth(1)
    (4, 0)
    """
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest
