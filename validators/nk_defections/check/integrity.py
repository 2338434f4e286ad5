"""Whether a release's files are the ones it was built with.

A release descriptor records ``bytes`` and ``hash`` for every file it holds: the tables under
``resources``, every other file under ``release_files``. :func:`check_release_files` compares the
files with those records, so that a release edited after its build is not called valid, and
:func:`release_difference` tells a new build apart from a release of the same version already
written, so that ``build`` never silently replaces what may have been published.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.package import Package, PackageError
from nk_defections.read.bundle import Bundle, hash_of


class ReleaseExists(Exception):
    """A release of the same version, with other content, is already where the build writes."""


def described_files(descriptor: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every file the descriptor records a size or hash for, with its JSON pointer.

    Examples
    --------
    >>> described_files({"resources": [{"path": "data/a.csv", "bytes": 3}], "release_files": []})
    [('/resources/0', {'path': 'data/a.csv', 'bytes': 3})]
    """
    from nk_defections.model.package import RELEASE_FILES

    found = []
    for key in ("resources", RELEASE_FILES):
        entries = descriptor.get(key)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                if "bytes" in entry or "hash" in entry:
                    found.append((f"/{key}/{index}", entry))
    return found


def check_release_files(package: Package) -> Iterator[Issue]:
    """Each file of a release against the ``bytes`` and ``hash`` its descriptor records.

    A table the descriptor lists but the folder lacks is reported by the table reader
    (``file.unreadable``); any other missing file is reported here, with that code.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> list(check_release_files(load_package_descriptor()))  # a checkout records no hashes
    []
    """
    bundle = Bundle(package.root, package.descriptor)
    tables = {resource["path"] for resource in package.resources.values()}
    real_root = Path(os.path.realpath(package.root))
    for pointer, entry in described_files(package.descriptor):
        path = entry["path"]
        try:
            data = bundle.read_bytes(path)  # refuses a path that is absolute or climbs out
            if not Path(os.path.realpath(package.root / path)).is_relative_to(real_root):
                raise PackageError(f"{path} resolves outside the release (symlink)")
        except (OSError, PackageError) as exc:
            if path not in tables:
                reason = exc.strerror if isinstance(exc, OSError) else str(exc)
                yield Issue(
                    C.FILE_UNREADABLE,
                    f"{path}, which the descriptor lists, cannot be read: {reason}",
                    file=path,
                )
            continue
        differs = [
            name
            for name, same in (
                ("size", entry.get("bytes") in (None, len(data))),
                ("sha256", _same_hash(data, entry.get("hash"))),
            )
            if not same
        ]
        if differs:
            yield Issue(
                C.RELEASE_HASH_MISMATCH,
                f"{path} is not the file the release was built with: its "
                f"{' and '.join(differs)} {'differ' if len(differs) > 1 else 'differs'} from "
                f"what datapackage.json records at {pointer}; restore the file or build the "
                "release again",
                file=path,
                field="hash" if "sha256" in differs else "bytes",
            )


def _same_hash(data: bytes, expected: Any) -> bool:
    if not isinstance(expected, str):
        return True
    try:
        return hash_of(data, expected).lower() == expected.lower()
    except PackageError:  # an algorithm hashlib does not know: the file cannot be vouched for
        return False


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under *folder*, by its path relative to it."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def release_difference(built: Path, existing: Path) -> str | None:
    """How an existing release (a folder or zip) differs from a new build of it; None if it does not.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "a").mkdir(); (folder / "b").mkdir()
    >>> _ = (folder / "a" / "x.csv").write_text("1"); _ = (folder / "b" / "x.csv").write_text("2")
    >>> release_difference(folder / "a", folder / "b")
    'x.csv differs'
    """
    if built.is_file():
        if existing.is_file() and existing.read_bytes() == built.read_bytes():
            return None
        return f"{existing.name} differs"
    if not existing.is_dir():
        return f"{existing.name} is not a folder"
    new, old = files_of(built), files_of(existing)
    # The descriptor and the checksums change with any file: name the files that changed first.
    order = sorted(new.keys() | old.keys(), key=lambda p: (p in _SUMMARIES, p))
    differs = [p for p in order if p in new and p in old and new[p] != old[p]]
    parts = [f"{p} is missing from it" for p in order if p not in old]
    parts += [f"it holds {p}, which this build does not" for p in order if p not in new]
    if differs:
        more = f" and {len(differs) - 3} more" if len(differs) > 3 else ""
        verb = "differs" if len(differs) == 1 else "differ"
        parts.append(f"{', '.join(differs[:3])}{more} {verb}")
    return "; ".join(parts) or None


#: Files of a release that change whenever any other does.
_SUMMARIES = frozenset({"datapackage.json", "SHA256SUMS"})
