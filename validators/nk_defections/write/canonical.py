"""The canonical form of the package's CSV files, and ``fmt``: rewriting or checking data/ in it.

Canonical: the header and columns in descriptor order, rows sorted by ``id``, written by the
``csv`` module with ``QUOTE_MINIMAL`` and ``\\n`` line ends, UTF-8 without a BOM, an empty cell
for a missing value, and line breaks inside a cell as ``\\n`` (the reader already folds
``\\r\\n``; a lone ``\\r`` would be written unquoted and not read back).
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nk_defections.findings.issues import Issue
from nk_defections.model.package import Package, load_package_descriptor
from nk_defections.model.resources import is_installed_copy
from nk_defections.read.csv import read_csv
from nk_defections.write.journal import StepHook, locked, recover, replace_files


class ReadOnlyPackage(Exception):
    """The package is the copy installed with the Python package: it is never written."""


def render_table(package: Package, table: str, frame: pl.DataFrame) -> bytes:
    """The canonical bytes of *table* holding the rows of *frame* (string cells, None for empty).

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> pkg = load_package_descriptor()
    >>> frame = pl.DataFrame({name: [None] for name in pkg.field_names("relationships")})
    >>> frame = frame.with_columns(pl.lit("rel-00000001").alias("id"), pl.lit("spouse").alias("kind"))
    >>> render_table(pkg, "relationships", frame)
    b'id,person_id,related_person_id,kind\\nrel-00000001,,,spouse\\n'
    """
    names = package.field_names(table)
    frame = frame.select(pl.col(name).cast(pl.String) for name in names)
    frame = frame.sort("id", nulls_last=True, maintain_order=True)
    frame = frame.with_columns(pl.col(name).str.replace_all("\r\n?", "\n") for name in names)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    writer.writerows(["" if cell is None else cell for cell in row] for row in frame.iter_rows())
    return buffer.getvalue().encode("utf-8")


def writable_root(package: Package) -> Path:
    """The package folder, unless it is the read-only installed copy."""
    if is_installed_copy(package.root):
        raise ReadOnlyPackage(
            f"{package.root} is the copy installed with the Python package; "
            "work in a checkout (or pass --package DIR)"
        )
    return package.root


def resource_paths(package: Package) -> list[Path]:
    """Every resource file of *package*, in descriptor order."""
    return [package.path(table) for table in package.resources]


@dataclass
class FormatResult:
    """What ``fmt`` found: the files not in canonical form, with a unified diff each."""

    diffs: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    recovered: str | None = None

    @property
    def changed(self) -> list[str]:
        """Files that are (or were) not canonical."""
        return list(self.diffs)


def format_package(
    root: Path | str | None = None, *, check: bool = False, on_step: StepHook | None = None
) -> FormatResult:
    """Rewrite every table of the package in canonical form, all or nothing; or, with *check*, only say what would change.

    A table that cannot be read (a ragged row, a missing column) is reported and nothing is
    written: only readable data can be put in order. The rewrite first finishes (or undoes) an
    earlier, interrupted write (:func:`~nk_defections.write.journal.recover`); *check* never
    does: it reports the interrupted write (``package.interrupted-merge``) and changes nothing.

    Raises
    ------
    ReadOnlyPackage
        The package is the copy installed with the Python package (not with *check*).
    WriteError
        A table to rewrite is a symbolic link or in a linked folder, or a file could not be
        written, or an interrupted write cannot be finished safely: nothing was changed.

    Examples
    --------
    >>> format_package(check=True).changed
    []
    """
    package = load_package_descriptor(root)
    if check:
        from nk_defections.check.rules.package import check_interrupted_merge

        result = _format(package, check=True, on_step=on_step)
        result.issues[:0] = check_interrupted_merge(package)
        return result
    folder = writable_root(package)
    with locked(folder):
        recovered = recover(folder, resource_paths(package))
        result = _format(package, check=False, on_step=on_step)
    result.recovered = recovered
    return result


def _format(package: Package, *, check: bool, on_step: StepHook | None) -> FormatResult:
    result = FormatResult()
    contents: dict[Path, bytes] = {}
    for table, resource in package.resources.items():
        path = package.path(table)
        frame, issues = read_csv(package, table, path, resource["path"])
        result.issues += issues
        if frame is None:
            continue
        new = render_table(package, table, frame)
        old = path.read_bytes()
        if new != old:
            contents[path] = new
            result.diffs[resource["path"]] = _diff(resource["path"], old, new)
    if not check and contents and not result.issues:
        replace_files(package.root, contents, on_step=on_step)
    return result


def _diff(name: str, old: bytes, new: bytes) -> str:
    before = old.decode("utf-8", errors="replace").splitlines(keepends=True)
    after = new.decode("utf-8").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, fromfile=f"a/{name}", tofile=f"b/{name}")
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )
