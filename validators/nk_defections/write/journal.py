"""Replaces several files all or nothing, guarded by a journal, and serialises writers with a lock.

No file system renames several files at once, so a write goes in three durable steps:

1. every new file is written beside its target under a temporary name (``.<name>.nk-new``) and
   fsynced;
2. the journal (``.nk-defections-journal.json`` in the package folder), naming every target and
   the sha256 of its new bytes, is written and renamed into place: this rename is the commit
   point;
3. each temporary file is renamed over its target, then the journal is removed.

A process killed at any moment leaves either no journal (nothing was committed: the temporary
files are deleted, the targets never changed) or a complete journal (everything was committed:
the renames still to do are done). :func:`recover` does this, and every writer calls it first,
under the lock, so that no one ever builds on a half-merged package.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from nk_defections.model.files import JOURNAL, LOCK, TEMP_SUFFIX

#: Called with the name of each durable step just taken; lets tests kill a write in between.
StepHook = Callable[[str], None]


class JournalError(Exception):
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
    lock = FileLock(str(root / LOCK), timeout=timeout)
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


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def replace_files(
    root: Path, contents: Mapping[Path, bytes], *, on_step: StepHook | None = None
) -> None:
    """Replace every file of *contents* with its new bytes, all or nothing (see the module doc).

    Parameters
    ----------
    root
        The package folder (the journal lives there); every target must be inside it.
    contents
        Target path -> its complete new bytes.
    on_step
        Called after each durable step with its name (``written:<file>``, ``committed``,
        ``renamed:<file>``, ``done``): a seam for tests that kill the process in between.

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
    entries = []
    for target, data in contents.items():
        target = Path(target)
        _write_synced(temp_path(target), data)
        step(f"written:{target.name}")
        entries.append({"path": _relative(root, target), "sha256": _sha256(data)})
    folders = {temp_path(Path(t)).parent for t in contents}
    for folder in folders:
        _fsync_dir(folder)
    journal = root / JOURNAL
    _write_synced(
        temp_path(journal), json.dumps({"version": 1, "files": entries}, indent=2).encode("utf-8")
    )
    os.replace(temp_path(journal), journal)
    _fsync_dir(root)
    step("committed")
    _roll_forward(root, entries, step)


def _relative(root: Path, target: Path) -> str:
    relative = os.path.relpath(target.resolve(), root.resolve())
    if relative.startswith(".."):
        raise ValueError(f"{target} is outside {root}")
    return Path(relative).as_posix()


def _roll_forward(root: Path, entries: list[dict[str, str]], step: StepHook) -> None:
    for entry in entries:
        target = root / entry["path"]
        temp = temp_path(target)
        if temp.exists():
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
    deleted ("rolled back"), and the targets are as they were. Call it under :func:`locked`.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = temp_path(root / "people.csv").write_text("half writ")
    >>> recover(root, [root / "people.csv"]), list(root.iterdir())
    ('rolled back', [])
    """
    root = Path(root)
    journal = root / JOURNAL
    if journal.exists():
        entries = _read_journal(root, journal)
        for entry in entries:
            temp = temp_path(root / entry["path"])
            if temp.exists() and _sha256(temp.read_bytes()) != entry["sha256"]:
                raise JournalError(
                    f"{temp} does not hold the bytes {JOURNAL} records; inspect it by hand"
                )
        _roll_forward(root, entries, lambda name: None)
        return "rolled forward"
    stray = [p for p in (temp_path(Path(t)) for t in targets) if p.exists()]
    stray += [p for p in [temp_path(journal)] if p.exists()]
    for path in stray:
        path.unlink()
    if stray:
        for folder in {p.parent for p in stray}:
            _fsync_dir(folder)
        return "rolled back"
    return None


def _read_journal(root: Path, journal: Path) -> list[dict[str, str]]:
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))["files"]
        checked = [{"path": str(e["path"]), "sha256": str(e["sha256"])} for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise JournalError(f"{journal} is unreadable ({exc}); inspect it by hand") from exc
    for entry in checked:
        path = Path(entry["path"])
        if path.is_absolute() or ".." in path.parts:
            raise JournalError(f"{journal} names {path}, outside the package; inspect it by hand")
    return checked
