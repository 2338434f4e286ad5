"""Replaces several files all or nothing, guarded by a journal, and serialises writers with a lock.

No file system renames several files at once, so a write goes in three durable steps:

1. every new file is created beside its target under a temporary name (``.<name>.nk-new``),
   written and fsynced;
2. the journal (``.nk-defections-journal.json`` in the package folder), naming every target and
   the sha256 of its new bytes, is written and renamed into place: this rename is the commit
   point;
3. each temporary file is renamed over its target, then the journal is removed.

A process killed at any moment leaves either no journal (nothing was committed: the temporary
files are deleted, the targets never changed) or a complete journal (everything was committed:
the renames still to do are done). :func:`recover` does this, and every writer calls it first,
under the lock, so that no one ever builds on a half-merged package. Commands that change
nothing never call it: they report the journal and leave every file alone.

Nothing here follows a symbolic link or writes outside the package:

- a target is a regular file (or not there yet) reached from the package folder through real
  folders only: a table file that is a symbolic link, or lies in a linked folder, is refused
  before anything is written (:func:`check_replaceable`), never written through nor replaced
  by a file;
- a temporary file is created exclusively (``O_CREAT | O_EXCL | O_NOFOLLOW``): whatever already
  has its name, a file, a directory or a dangling link, makes the write fail before it starts;
- recovery touches only the temporary files of the package's own table files and the journal;
  a journal naming any other file, a link where a file should be, or bytes other than those the
  journal records, is refused (:class:`JournalError`) and left for a person to inspect.

A write that fails before its commit point (a read-only folder, a full disk) removes the files
it created and raises :class:`WriteError`: the package is as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock

from nk_defections.model.files import JOURNAL, LOCK, TEMP_SUFFIX

#: Called with the name of each durable step just taken; lets tests kill a write in between.
StepHook = Callable[[str], None]

#: Creates a file that must not exist yet, never through a link.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
#: Opens an existing file for reading, never through a link, never waiting on a FIFO.
_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class WriteError(Exception):
    """A write was refused or failed; the message says why, where, and what was left changed."""


class JournalError(WriteError):
    """An interrupted write cannot be finished safely (its journal or files were tampered with)."""


def temp_path(target: Path) -> Path:
    """Where the new bytes of *target* are written before they are renamed into place.

    Examples
    --------
    >>> temp_path(Path("data/people.csv")).as_posix()
    'data/.people.csv.nk-new'
    """
    return target.with_name(f".{target.name}{TEMP_SUFFIX}")


@contextmanager
def locked(root: Path, *, timeout: float = -1) -> Iterator[None]:
    """Hold the package's write lock: one writer at a time (``timeout=-1`` waits as long as needed)."""
    path = Path(root) / LOCK
    if path.is_symlink():
        raise WriteError(
            f"{path} is a symbolic link; add and fmt take their lock only in a file of their own: "
            "remove the link"
        )
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except OSError as exc:
        raise JournalError(
            f"cannot take the write lock in {root} ({exc.strerror or exc}); is the folder writable?"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _fsync_dir(folder: Path) -> None:
    # A rename is durable only once its directory is synced; Windows cannot open directories.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path, data: bytes) -> None:
    """Create *path*, which must not exist (not even as a link), holding *data*, synced.

    A failure part-way (a full disk) removes the part written.
    """
    fd = os.open(path, _CREATE, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with suppress(OSError):
            os.unlink(path)
        raise


def _read_own(path: Path) -> bytes:
    """The bytes of the regular file *path*, opened without following a link."""
    try:
        fd = os.open(path, _READ)
        with os.fdopen(fd, "rb") as handle:
            if stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return handle.read()
    except OSError as exc:
        raise JournalError(
            f"cannot read {path} ({exc.strerror or exc}); inspect it by hand"
        ) from exc
    raise JournalError(f"{path} is not a regular file; inspect it by hand")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _relative(root: Path, target: Path) -> str:
    """*target*'s path inside *root*, as written (links are not resolved); refused if outside."""
    try:
        relative = Path(target).relative_to(root)
    except ValueError:
        raise WriteError(f"{target} is not inside the package {root}") from None
    if not relative.parts or ".." in relative.parts:
        raise WriteError(f"{target} is not a file inside the package {root}")
    return relative.as_posix()


def _linked(root: Path, relative: str) -> str | None:
    """The first of *relative*'s folders, or itself, that is a symbolic link, if any."""
    parts = Path(relative).parts
    for end in range(1, len(parts) + 1):
        if root.joinpath(*parts[:end]).is_symlink():
            return Path(*parts[:end]).as_posix()
    return None


def _refuse_links(root: Path, relative: str, error: type[WriteError]) -> None:
    link = _linked(root, relative)
    if link == relative:
        raise error(
            f"{relative} is a symbolic link; add and fmt replace only regular files, never "
            "through a link: replace the link with a copy of the file it points to"
        )
    if link is not None:
        raise error(
            f"{relative} is in {link}, a symbolic link to a folder; add and fmt write only "
            "through real folders: replace the link with the folder"
        )


def check_replaceable(root: Path, targets: Iterable[Path]) -> None:
    """Refuse (:class:`WriteError`) unless :func:`replace_files` may replace every one of *targets*.

    Each must be inside *root*, reached through real folders, and be a regular file (or not
    exist yet); no two may be the same file.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "real.csv").write_text("id\\n")
    >>> (root / "link.csv").symlink_to("real.csv")
    >>> check_replaceable(root, [root / "real.csv"])
    >>> check_replaceable(root, [root / "link.csv"])
    Traceback (most recent call last):
    ...
    nk_defections.write.journal.WriteError: link.csv is a symbolic link; add and fmt replace only regular files, never through a link: replace the link with a copy of the file it points to
    """
    root = Path(root)
    seen: set[str] = set()
    for target in targets:
        relative = _relative(root, Path(target))
        if relative in seen:
            raise WriteError(f"{relative} is named twice in one write")
        seen.add(relative)
        _refuse_links(root, relative, WriteError)
        path = root / relative
        if os.path.lexists(path) and not path.is_file():
            raise WriteError(f"{relative} is not a regular file; add and fmt replace only files")


def replace_files(
    root: Path, contents: Mapping[Path, bytes], *, on_step: StepHook | None = None
) -> None:
    """Replace every file of *contents* with its new bytes, all or nothing (see the module doc).

    Parameters
    ----------
    root
        The package folder (the journal lives there); every target must be inside it, as
        :func:`check_replaceable` says.
    contents
        Target path -> its complete new bytes.
    on_step
        Called after each durable step with its name (``written:<file>``, ``committed``,
        ``renamed:<file>``, ``done``): a seam for tests that kill the process in between.

    Raises
    ------
    WriteError
        A target may not be replaced, a journal is already there (:func:`recover` first), or a
        file could not be written: nothing was changed. Or, rarely, a rename after the commit
        point failed: the message says so, and the next ``add`` or ``fmt`` finishes the write.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> replace_files(root, {root / "a.csv": b"id\\n", root / "b.csv": b"id\\n"})
    >>> sorted(p.name for p in root.iterdir())
    ['a.csv', 'b.csv']
    """
    step = on_step or (lambda name: None)
    root = Path(root)
    check_replaceable(root, contents)
    journal = root / JOURNAL
    if os.path.lexists(journal):
        raise WriteError(f"{JOURNAL} is there: an interrupted write must be finished first")
    entries = [
        {"path": _relative(root, Path(t)), "sha256": _sha256(data)} for t, data in contents.items()
    ]
    created: list[Path] = []
    doing = ""
    try:
        for target, data in contents.items():
            temp = temp_path(Path(target))
            doing = f"{_relative(root, Path(target))} (as {_relative(root, temp)})"
            _create(temp, data)
            created.append(temp)
            step(f"written:{Path(target).name}")
        for folder in {temp.parent for temp in created}:
            _fsync_dir(folder)
        doing = f"the journal {JOURNAL}"
        body = json.dumps({"version": 1, "files": entries}, indent=2).encode("utf-8")
        _create(temp_path(journal), body)
        created.append(temp_path(journal))
        os.replace(temp_path(journal), journal)
    except BaseException as exc:
        for path in created:
            with suppress(OSError):
                path.unlink()
        if isinstance(exc, OSError):
            raise WriteError(_failed(doing, exc)) from exc
        raise
    try:
        _fsync_dir(root)
        step("committed")
        _roll_forward(root, entries, step)
    except OSError as exc:
        raise WriteError(
            f"the write was committed but not finished ({exc.strerror or exc}); "
            "`nk-defections fmt` finishes it"
        ) from exc


def _failed(doing: str, exc: OSError) -> str:
    if isinstance(exc, FileExistsError):
        why = (
            "something already has that name (add and fmt create their temporary files afresh): "
            "remove it"
        )
    else:
        why = exc.strerror or str(exc)
    return f"cannot write {doing}: {why}; nothing was changed"


def _roll_forward(root: Path, entries: list[dict[str, str]], step: StepHook) -> None:
    for entry in entries:
        target = root / entry["path"]
        temp = temp_path(target)
        if os.path.lexists(temp):
            os.replace(temp, target)
            _fsync_dir(target.parent)
        step(f"renamed:{target.name}")
    (root / JOURNAL).unlink()
    _fsync_dir(root)
    step("done")


def recover(root: Path, targets: Iterable[Path]) -> str | None:
    """Finish or undo a write that was interrupted; return what was done, or None if nothing was.

    With a journal, the write had committed: the temporary files still there are renamed into
    place ("rolled forward"). Without one, it had not: the temporary files of *targets* are
    deleted ("rolled back"), and the targets are as they were. Call it under :func:`locked`,
    from commands that write, never from one that only reads or checks.

    Parameters
    ----------
    root
        The package folder.
    targets
        The package's own table files (those its descriptor names): the only files a journal
        may name, and the only ones whose temporary files are touched.

    Raises
    ------
    JournalError
        The journal is not a regular file or cannot be read; it names a file that is not one
        of *targets*; a file it names, or its temporary file, is a link or not a regular file;
        or neither holds the bytes the journal records. Nothing is changed.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = temp_path(root / "people.csv").write_text("half writ")
    >>> recover(root, [root / "people.csv"]), list(root.iterdir())
    ('rolled back', [])
    """
    root = Path(root)
    owned = {_relative(root, Path(t)): Path(t) for t in targets}
    journal = root / JOURNAL
    leftovers = [temp_path(root / relative) for relative in owned] + [temp_path(journal)]
    if os.path.lexists(journal):
        entries = _read_journal(root, journal, owned)
        for entry in entries:
            _check_committed(root, entry)
        stray = _own_leftovers(root, [temp_path(journal)])
        _roll_forward(root, entries, lambda name: None)
        _remove(stray)
        return "rolled forward"
    stray = _own_leftovers(root, leftovers)
    _remove(stray)
    return "rolled back" if stray else None


def _own_leftovers(root: Path, paths: list[Path]) -> list[Path]:
    """Those of *paths* that exist, each checked to be a regular file a write could have left."""
    found = [p for p in paths if os.path.lexists(p)]
    for path in found:
        _check_temporary(root, path)
    return found


def _check_temporary(root: Path, path: Path) -> None:
    """Refuse unless the temporary file *path* is a regular file reached through no link."""
    relative = _relative(root, path)
    if _linked(root, relative) is not None:
        raise JournalError(
            f"{relative} is a symbolic link (or in a linked folder), not a temporary file add or "
            "fmt left: they never write through a link; remove it by hand"
        )
    if not path.is_file():
        raise JournalError(
            f"{relative} is not a regular file: add and fmt keep that name for their temporary "
            "file; remove it by hand"
        )


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink()
    for folder in {p.parent for p in paths}:
        _fsync_dir(folder)


def _check_committed(root: Path, entry: dict[str, str]) -> None:
    """Refuse unless the journal's *entry* can be rolled forward without following a link."""
    relative = entry["path"]
    _refuse_links(root, relative, JournalError)
    target, temp = root / relative, temp_path(root / relative)
    if os.path.lexists(target) and not target.is_file():
        raise JournalError(f"{relative}, named in {JOURNAL}, is not a regular file")
    if os.path.lexists(temp):
        _check_temporary(root, temp)
        if _sha256(_read_own(temp)) != entry["sha256"]:
            raise JournalError(
                f"{_relative(root, temp)} does not hold the bytes {JOURNAL} records; "
                "inspect it by hand"
            )
    elif not target.is_file() or _sha256(_read_own(target)) != entry["sha256"]:
        raise JournalError(
            f"neither {relative} nor its temporary file holds the bytes {JOURNAL} records; "
            "inspect them by hand"
        )


def _read_journal(root: Path, journal: Path, owned: Mapping[str, Path]) -> list[dict[str, str]]:
    if journal.is_symlink() or not journal.is_file():
        raise JournalError(
            f"{JOURNAL} is not a regular file (a link, or a folder): no write of ours left it; "
            "inspect it by hand"
        )
    try:
        entries = json.loads(_read_own(journal).decode("utf-8"))["files"]
        checked = [{"path": str(e["path"]), "sha256": str(e["sha256"])} for e in entries]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        reason = "nested too deep" if isinstance(exc, RecursionError) else exc
        raise JournalError(f"{journal} is unreadable ({reason}); inspect it by hand") from exc
    seen: set[str] = set()
    for entry in checked:
        path = Path(entry["path"])
        name = path.as_posix()
        if path.is_absolute() or ".." in path.parts or name not in owned:
            raise JournalError(
                f"{JOURNAL} names {entry['path']!r}, which is not one of the package's table "
                "files: no write of ours made it; inspect it by hand, then delete it"
            )
        if name in seen or not _SHA256.fullmatch(entry["sha256"]):
            raise JournalError(f"{JOURNAL} is not one a write of ours made; inspect it by hand")
        seen.add(name)
        entry["path"] = name
    return checked
