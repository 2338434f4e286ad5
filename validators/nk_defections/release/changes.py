"""What changed between two versions of the package, record by record, and how big a bump it needs.

The rule itself (the Data Package Version recipe's) is written once, in
:mod:`nk_defections.model.versions`: this module finds the changes between two packages, records
included, and holds a version to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nk_defections.findings.printable import printable
from nk_defections.model.package import REDIRECTS, PackageError
from nk_defections.model.versions import (
    Bump,
    DescriptorChange,
    descriptor_changes,
    is_semver,
    least_version,
    records_bump,
    version_bump,
)
from nk_defections.read.bundle import Bundle

#: How many of the changes that need the bump a refusal names.
NAMED_CHANGES = 5


@dataclass(frozen=True)
class RecordChange:
    """A record present in both versions whose values differ: field -> (old, new)."""

    id: str
    fields: dict[str, tuple[str | None, str | None]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "fields": {k: {"old": o, "new": n} for k, (o, n) in self.fields.items()},
        }


@dataclass(frozen=True)
class Redirect:
    """Why a removed record is gone: merged into *new_id*, or retired (None), and the reason."""

    new_id: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"new_id": self.new_id, "reason": self.reason}

    def __str__(self) -> str:
        """``merged into per-… (reason)`` or ``retired (reason)``."""
        done = f"merged into {self.new_id}" if self.new_id else "retired"
        return f"{done}: {self.reason}"


@dataclass
class TableChanges:
    """Added, removed and changed records of one table, by id."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[RecordChange] = field(default_factory=list)
    #: The removed records the newer package redirects (merged or retired), by id.
    redirected: dict[str, Redirect] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """True when anything was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)


@dataclass
class Diff:
    """Every difference between two versions of the package."""

    old_version: str
    new_version: str
    schema: list[DescriptorChange]
    tables: dict[str, TableChanges]

    def required_bump(self) -> Bump:
        """The smallest bump these changes allow.

        Examples
        --------
        >>> Diff("1.0.0", "1.0.1", [], {"people": TableChanges(added=["per-aaaaaaaa"])}).required_bump()
        <Bump.MINOR: 2>
        """
        return max((bump for bump, _ in self.reasons()), default=Bump.NONE)

    def reasons(self) -> Iterator[tuple[Bump, str]]:
        """Each change as the bump it needs and a line naming it (``people.nickname: field added``).

        Examples
        --------
        >>> list(Diff("1.0.0", "1.0.1", [], {"people": TableChanges(removed=["per-aaaaaaaa"])}).reasons())
        [(<Bump.MAJOR: 3>, 'people: 1 record removed')]
        """
        for change in self.schema:
            yield change.bump, f"{change.where}: {change.message}"
        for table, changes in self.tables.items():
            vanished = [i for i in changes.removed if i not in changes.redirected]
            for what, records in (
                ("removed", vanished),
                ("redirected", list(changes.redirected)),
                ("added", changes.added),
                ("changed", changes.changed),
            ):
                if records:
                    noun = "record" if len(records) == 1 else "records"
                    bump = records_bump(**{what: len(records)})
                    words = "merged or retired" if what == "redirected" else what
                    yield bump, f"{table}: {len(records)} {noun} {words}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: versions, required bump, schema changes, and per-table records."""
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "required_bump": str(self.required_bump()),
            "version_bump": str(b)
            if (b := version_bump(self.old_version, self.new_version)) is not None
            else "backwards",
            "schema": [c.to_dict() for c in self.schema],
            "tables": {
                table: {
                    "added": changes.added,
                    "removed": changes.removed,
                    "changed": [c.to_dict() for c in changes.changed],
                    "redirected": {i: r.to_dict() for i, r in changes.redirected.items()},
                }
                for table, changes in self.tables.items()
            },
        }


class VersionNotBumped(Exception):
    """The version did not move as far as the changes since the previous release require.

    The message names the least version they allow and the changes that need that bump.
    """

    def __init__(self, diff: Diff) -> None:
        actual = version_bump(diff.old_version, diff.new_version)
        moved = (
            "went backwards"
            if actual is None
            else f"is a {actual} bump"
            if actual
            else "did not change"
        )
        required = diff.required_bump()
        named = [line for bump, line in diff.reasons() if bump == required]
        shown = "; ".join(named[:NAMED_CHANGES])
        if len(named) > NAMED_CHANGES:
            shown += f"; and {len(named) - NAMED_CHANGES} more"
        need = (
            f"but the changes since then need a {required} bump "
            f"(at least {least_version(diff.old_version, required)}): {shown}"
            if required
            else "though nothing changed since then"
        )
        super().__init__(f"version {diff.new_version} {moved} from {diff.old_version}, {need}")
        self.diff = diff


def schema_changes(old: Bundle, new: Bundle) -> list[DescriptorChange]:
    """Differences between the descriptors of two packages, tables as declared, each with its bump."""
    return descriptor_changes(old.package.descriptor, new.package.descriptor)


def _records(bundle: Bundle, table: str) -> dict[str, dict[str, str | None]]:
    return {row["id"]: row for row in bundle.string_frame(table).iter_rows(named=True)}


def redirects(bundle: Bundle) -> dict[str, Redirect]:
    """The redirects of a package, by the id that no longer names a row (none without the table)."""
    if REDIRECTS not in bundle.package.resources:
        return {}
    return {
        row["old_id"]: Redirect(row["new_id"], row["reason"])
        for row in bundle.string_frame(REDIRECTS).iter_rows(named=True)
    }


def record_changes(
    old: Bundle, new: Bundle, table: str, moved: dict[str, Redirect] | None = None
) -> TableChanges:
    """Added, removed and changed records of *table*, compared by id on the fields both have.

    *moved*: the newer package's redirects, which say why a removed record is gone.
    """
    before = _records(old, table) if table in old.package.resources else {}
    after = _records(new, table) if table in new.package.resources else {}
    common = [
        name
        for name in (new.package.field_names(table) if table in new.package.resources else [])
        if table in old.package.resources and name in old.package.field_names(table)
    ]
    changes = TableChanges(
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
    )
    changes.redirected = {i: (moved or {})[i] for i in changes.removed if i in (moved or {})}
    for record_id in sorted(set(before) & set(after)):
        fields = {
            name: (before[record_id][name], after[record_id][name])
            for name in common
            if before[record_id][name] != after[record_id][name]
        }
        if fields:
            changes.changed.append(RecordChange(record_id, fields))
    return changes


def diff_packages(old: Bundle, new: Bundle) -> Diff:
    """Compare two packages (checkouts, release folders or zips) table by table, record by record.

    Examples
    --------
    >>> from nk_defections.read.bundle import open_bundle
    >>> diff = diff_packages(open_bundle(), open_bundle())
    >>> diff.required_bump()
    <Bump.NONE: 0>
    """
    for bundle in (old, new):
        if not is_semver(bundle.version):
            version = bundle.descriptor.get("version")
            has = "has no version" if version is None else f"has the version {version!r}"
            raise PackageError(
                f"{bundle.location} {has}, not a semantic version (MAJOR.MINOR.PATCH): "
                "the package and release versions are compared"
            )
    tables = list(dict.fromkeys([*old.package.resources, *new.package.resources]))
    moved = redirects(new)
    return Diff(
        old.version,
        new.version,
        schema_changes(old, new),
        {table: record_changes(old, new, table, moved) for table in tables},
    )


def check_version(previous: Bundle, current: Bundle) -> Diff:
    """Raise :class:`VersionNotBumped` unless *current*'s version moved enough since *previous*."""
    diff = diff_packages(previous, current)
    actual = version_bump(diff.old_version, diff.new_version)
    if actual is None or actual < diff.required_bump():
        raise VersionNotBumped(diff)
    return diff


def iter_text(diff: Diff) -> Iterator[str]:
    """Render a diff for humans, one line at a time (what the data holds, escaped: one line each)."""
    return map(printable, _text(diff))


def _text(diff: Diff) -> Iterator[str]:
    if not diff.schema and not any(diff.tables.values()):
        yield f"{diff.old_version} → {diff.new_version}: no differences"
        return
    yield f"{diff.old_version} → {diff.new_version}: changes need a {diff.required_bump()} bump"
    for change in diff.schema:
        yield f"  schema  {str(change.bump):5}  {change.where}: {change.message}"
    for table, changes in diff.tables.items():
        if not changes:
            continue
        yield f"{table}: {len(changes.added)} added, {len(changes.removed)} removed, {len(changes.changed)} changed"
        yield from (f"  + {record_id}" for record_id in changes.added)
        for record_id in changes.removed:
            why = changes.redirected.get(record_id)
            yield f"  - {record_id}" + (f"  {why}" if why else "")
        for record in changes.changed:
            for name, (before, after) in record.fields.items():
                yield f"  ~ {record.id}  {name}: {before!r} → {after!r}"
