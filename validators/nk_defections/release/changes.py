"""What changed between two versions of the package, record by record, and how big a bump it needs.

The release rule (semantic versioning applied to the data):

* **major**: a table or field removed or renamed, a field's type changed, a constraint
  tightened (a vocabulary value dropped, ``required`` or ``unique`` added, a bound or length
  narrowed, a pattern or key added or changed), or a record removed (ids are stable keys that
  users join and cite on: removing one breaks them);
* **minor**: a table, field or record added, or a constraint loosened;
* **patch**: values corrected in existing records, or descriptions reworded.

A version that went backwards, or did not move while something changed, never passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from nk_defections.findings.printable import printable
from nk_defections.model.package import PackageError
from nk_defections.model.versions import is_semver, parse_version
from nk_defections.read.bundle import Bundle


class Bump(IntEnum):
    """How much a version moves (or must move)."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    def __str__(self) -> str:
        """The bump as a word: ``major``, ``minor``, ``patch``."""
        return self.name.lower()


@dataclass(frozen=True)
class SchemaChange:
    """One difference between the Table Schemas, with the bump it needs."""

    bump: Bump
    table: str
    field: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "bump": str(self.bump),
            "table": self.table,
            "field": self.field,
            "message": self.message,
        }


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


@dataclass
class TableChanges:
    """Added, removed and changed records of one table, by id."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[RecordChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        """True when anything was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)


@dataclass
class Diff:
    """Every difference between two versions of the package."""

    old_version: str
    new_version: str
    schema: list[SchemaChange]
    tables: dict[str, TableChanges]

    def required_bump(self) -> Bump:
        """The smallest bump these changes allow.

        Examples
        --------
        >>> Diff("1.0.0", "1.0.1", [], {"people": TableChanges(added=["per-aaaaaaaa"])}).required_bump()
        <Bump.MINOR: 2>
        """
        bumps = [c.bump for c in self.schema]
        for changes in self.tables.values():
            if changes.removed:
                bumps.append(Bump.MAJOR)
            if changes.added:
                bumps.append(Bump.MINOR)
            if changes.changed:
                bumps.append(Bump.PATCH)
        return max(bumps, default=Bump.NONE)

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
                }
                for table, changes in self.tables.items()
            },
        }


class VersionNotBumped(Exception):
    """The version did not move as far as the changes since the previous release require."""

    def __init__(self, diff: Diff) -> None:
        actual = version_bump(diff.old_version, diff.new_version)
        moved = (
            "went backwards"
            if actual is None
            else f"is a {actual} bump"
            if actual
            else "did not change"
        )
        super().__init__(
            f"version {diff.new_version} {moved} from {diff.old_version}, "
            f"but the changes since then need a {diff.required_bump()} bump"
        )
        self.diff = diff


def version_bump(old: str, new: str) -> Bump | None:
    """How far *new* moved from *old*; ``None`` if it went backwards.

    Examples
    --------
    >>> version_bump("0.1.0", "0.2.0"), version_bump("0.1.0", "0.1.0"), version_bump("1.0.0", "0.9.0")
    (<Bump.MINOR: 2>, <Bump.NONE: 0>, None)
    """
    before, after = parse_version(old), parse_version(new)
    if after < before:
        return None
    for position, bump in enumerate((Bump.MAJOR, Bump.MINOR, Bump.PATCH)):
        if after[position] > before[position]:
            return bump
    return Bump.NONE


def _constraint_changes(
    table: str, name: str, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[SchemaChange]:
    def change(bump: Bump, message: str) -> SchemaChange:
        return SchemaChange(bump, table, name, message)

    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key in ("required", "unique"):
            tighter = bool(after) and not bool(before)
            yield change(Bump.MAJOR if tighter else Bump.MINOR, f"{key}: {before} → {after}")
        elif key == "enum":
            if after is None:
                yield change(Bump.MINOR, "vocabulary lifted: any value allowed")
            elif before is None:
                yield change(Bump.MAJOR, "vocabulary imposed")
            else:
                if dropped := [v for v in before if v not in after]:
                    yield change(
                        Bump.MAJOR, f"vocabulary: {', '.join(map(str, dropped))} no longer allowed"
                    )
                if added := [v for v in after if v not in before]:
                    yield change(Bump.MINOR, f"vocabulary: {', '.join(map(str, added))} added")
        elif key in ("minimum", "minLength", "exclusiveMinimum"):
            tighter = after is not None and (before is None or after > before)
            yield change(Bump.MAJOR if tighter else Bump.MINOR, f"{key}: {before} → {after}")
        elif key in ("maximum", "maxLength", "exclusiveMaximum"):
            tighter = after is not None and (before is None or after < before)
            yield change(Bump.MAJOR if tighter else Bump.MINOR, f"{key}: {before} → {after}")
        else:  # a pattern (or anything else) whose change cannot be shown looser counts as tighter
            yield change(Bump.MINOR if after is None else Bump.MAJOR, f"{key} changed")


def _field_changes(table: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[SchemaChange]:
    name = old["name"]
    if old.get("type") != new.get("type"):
        yield SchemaChange(Bump.MAJOR, table, name, f"type: {old.get('type')} → {new.get('type')}")
    yield from _constraint_changes(
        table, name, old.get("constraints", {}), new.get("constraints", {})
    )
    for key in sorted((set(old) | set(new)) - {"name", "type", "constraints"}):
        if old.get(key) != new.get(key):
            bump = (
                Bump.PATCH
                if key in ("description", "title", "example", "categories")
                else Bump.MAJOR
            )
            yield SchemaChange(bump, table, name, f"{key} changed")


def schema_changes(old: Bundle, new: Bundle) -> list[SchemaChange]:
    """Differences between the tables and fields of two packages, each with its bump."""
    out: list[SchemaChange] = []
    before, after = old.package, new.package
    for table in before.resources:
        if table not in after.resources:
            out.append(SchemaChange(Bump.MAJOR, table, None, "table removed"))
            continue
        old_fields = {f["name"]: f for f in before.fields(table)}
        new_fields = {f["name"]: f for f in after.fields(table)}
        for name, old_field in old_fields.items():
            if name not in new_fields:
                out.append(SchemaChange(Bump.MAJOR, table, name, "field removed or renamed"))
            else:
                out += _field_changes(table, old_field, new_fields[name])
        out += [
            SchemaChange(Bump.MINOR, table, n, "field added")
            for n in new_fields
            if n not in old_fields
        ]
        for key in ("primaryKey", "foreignKeys"):
            if before.resources[table]["schema"].get(key) != after.resources[table]["schema"].get(
                key
            ):
                out.append(SchemaChange(Bump.MAJOR, table, None, f"{key} changed"))
        for key in ("title", "description"):
            if before.resources[table].get(key) != after.resources[table].get(key):
                out.append(SchemaChange(Bump.PATCH, table, None, f"{key} changed"))
    out += [
        SchemaChange(Bump.MINOR, t, None, "table added")
        for t in after.resources
        if t not in before.resources
    ]
    return out


def _records(bundle: Bundle, table: str) -> dict[str, dict[str, str | None]]:
    return {row["id"]: row for row in bundle.string_frame(table).iter_rows(named=True)}


def record_changes(old: Bundle, new: Bundle, table: str) -> TableChanges:
    """Added, removed and changed records of *table*, compared by id on the fields both have."""
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
    return Diff(
        old.version,
        new.version,
        schema_changes(old, new),
        {table: record_changes(old, new, table) for table in tables},
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
    yield f"{diff.old_version} → {diff.new_version}: changes need a {diff.required_bump()} bump"
    for change in diff.schema:
        where = f"{change.table}.{change.field}" if change.field else change.table
        yield f"  schema  {str(change.bump):5}  {where}: {change.message}"
    for table, changes in diff.tables.items():
        if not changes:
            continue
        yield f"{table}: {len(changes.added)} added, {len(changes.removed)} removed, {len(changes.changed)} changed"
        yield from (f"  + {record_id}" for record_id in changes.added)
        yield from (f"  - {record_id}" for record_id in changes.removed)
        for record in changes.changed:
            for name, (before, after) in record.fields.items():
                yield f"  ~ {record.id}  {name}: {before!r} → {after!r}"
