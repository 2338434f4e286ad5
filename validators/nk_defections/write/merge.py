"""``add``: checks a contribution against the package and merges it into data/, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nk_defections.check.validate import check_contribution
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue, Report
from nk_defections.model.package import PackageError, load_package_descriptor
from nk_defections.write.canonical import render_table, resource_paths, writable_root
from nk_defections.write.journal import (
    StepHook,
    check_replaceable,
    locked,
    recover,
    replace_files,
)


@dataclass
class MergeResult:
    """The outcome of ``add``: the findings, and the rows added (or that would be) per table."""

    report: Report
    added: dict[str, list[str]] = field(default_factory=dict)
    #: Per table, the records the amendments changed (or would), by id.
    amended: dict[str, list[str]] = field(default_factory=dict)
    #: The ids merged (with the record each was merged into) or retired (None), by the amendments.
    retired: dict[str, str | None] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    dry_run: bool = False
    #: True when the contribution was refused (data/ left as it was).
    refused: bool = False
    #: What finishing an earlier, interrupted write did ("rolled forward", "rolled back"), if anything.
    recovered: str | None = None


def add_contribution(
    paths: Iterable[Path | str],
    *,
    package: Path | str | None = None,
    source_texts: Mapping[str, Path | str] | None = None,
    dry_run: bool = False,
    strict: bool = False,
    on_step: StepHook | None = None,
) -> MergeResult:
    """Validate contributed files and merge them into the package's tables, all or nothing.

    The whole contribution is refused on any error (and, with *strict*, any warning), and so is
    any contribution to a package that is itself invalid (its errors are the report): data/ is
    then left byte for byte as it was. Otherwise each table that gains rows is rewritten in
    canonical order (:mod:`nk_defections.write.canonical`) through :func:`~nk_defections.write.journal.replace_files`,
    under the package's write lock, after finishing any merge an earlier process left half done.
    A dry run changes nothing, not even that: an interrupted merge refuses it
    (``package.interrupted-merge``), as it refuses :func:`~nk_defections.check.validate.validate_package`.

    Parameters
    ----------
    paths
        The contributed files: ``*.json`` envelopes, ``*.jsonl`` files, ``<resource>.csv`` files.
    package
        The package folder; ``None`` finds it as DESIGN.md §3 says. The copy installed with the
        Python package is never written (:class:`~nk_defections.write.canonical.ReadOnlyPackage`).
    source_texts
        Source id -> a file with that source's text, for the evidence check.
    dry_run
        Validate and say what would be added, but write nothing.
    strict
        Refuse on warnings too.
    on_step
        Called after each durable step of the write (for tests that kill it in between).

    Raises
    ------
    ReadOnlyPackage
        The package is the copy installed with the Python package (not with *dry_run*).
    WriteError
        A table to rewrite is a symbolic link or in a linked folder (with *dry_run* too: what
        it says would be added, the merge adds), a file could not be written, or an interrupted
        merge cannot be finished safely: nothing was changed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "contribution.json"
    >>> _ = path.write_text("{}")
    >>> add_contribution([path], dry_run=True).added
    {}
    """
    try:
        pkg = load_package_descriptor(package)
    except PackageError as exc:
        issue = Issue(C.PACKAGE_DESCRIPTOR, str(exc), file="datapackage.json")
        return MergeResult(Report([issue]), dry_run=dry_run, refused=True)
    if dry_run:  # changes nothing: an interrupted write is reported (by validate), not finished
        return _merge(paths, pkg.root, source_texts, dry_run=True, strict=strict, on_step=on_step)
    root = writable_root(pkg)
    with locked(root):
        recovered = recover(root, resource_paths(pkg))
        result = _merge(paths, root, source_texts, dry_run=dry_run, strict=strict, on_step=on_step)
    result.recovered = recovered
    return result


def _merge(
    paths: Iterable[Path | str],
    root: Path,
    source_texts: Mapping[str, Path | str] | None,
    *,
    dry_run: bool,
    strict: bool,
    on_step: StepHook | None,
) -> MergeResult:
    from nk_defections.check.validate import validate_package

    # A contribution is checked against the package's rows but reports only on its own: an
    # error the package already has would pass unseen and be merged over. Refuse to build on it.
    own = validate_package(root, frictionless=False)
    if not own.is_valid():
        return MergeResult(Report(own.errors), dry_run=dry_run, refused=True)
    checked = check_contribution(paths, package=root, source_texts=source_texts)
    result = MergeResult(checked.report, dry_run=dry_run)
    example = C.JSON_EXAMPLE in checked.report.codes()  # invented records never enter data/
    if example or not checked.report.is_valid(strict=strict) or checked.package is None:
        result.refused = True
        return result
    package = checked.package
    contents = {}
    for table in checked.changed():
        frame = checked.contribution.frames[table]
        if frame.height:
            result.added[table] = sorted(frame["id"].to_list())
        contents[package.path(table)] = render_table(package, table, checked.merged(table))
        result.written.append(package.resources[table]["path"])
    if checked.applied is not None:
        result.amended = {
            table: sorted(ids) for table, ids in checked.applied.amended.items() if ids
        }
        result.retired = dict(checked.applied.retired)
    # What a dry run says it would add, the merge adds: both refuse a table it cannot replace.
    check_replaceable(package.root, contents)
    if contents and not dry_run:
        replace_files(package.root, contents, on_step=on_step)
    return result
