"""Semantic versions of the package: their pattern, and how far a change must move them.

The rule is the Data Package Version recipe's (frictionlessdata/datapackage,
``content/docs/recipes/data-package-version.md``), applied to this package:

* **MAJOR**, an incompatible change: the package's ``name`` or ``id`` changed; a resource removed
  or renamed; a field added, removed, renamed or re-ordered; a field's ``type`` or ``format``
  changed; a constraint made more restrictive (``required`` or ``unique`` added, a vocabulary
  value dropped, a bound or length narrowed, a pattern imposed or changed, a primary or foreign
  key added or changed); or a record removed without a redirect (ids are the keys users join and cite on);
* **MINOR**, data added or metadata changed compatibly: a resource added, records added, a
  constraint made less restrictive, a foreign key dropped, metadata other than the descriptive
  changed;
* **PATCH**, a correction: values of existing records corrected, records merged or retired (their
  ids redirected, so they keep resolving), descriptive metadata (titles,
  descriptions, examples, keywords, licences, contributors, sources) changed.

A resource moved to another ``path`` needs no bump. A version that went backwards, or did not
move while something changed, never passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from nk_defections.model.package import RELEASE_FILES

#: MAJOR.MINOR.PATCH, with an optional pre-release and build part (semver.org 2.0.0).
SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
)


def is_semver(version: object) -> bool:
    """Whether *version* is a semantic version string.

    Examples
    --------
    >>> is_semver("0.1.0"), is_semver("1.0.0-rc.1"), is_semver("banana"), is_semver(1)
    (True, True, False, False)
    """
    return isinstance(version, str) and SEMVER.fullmatch(version) is not None


def parse_version(version: str) -> tuple[int, int, int]:
    """MAJOR, MINOR and PATCH of a semantic version.

    Examples
    --------
    >>> parse_version("1.12.0")
    (1, 12, 0)
    """
    match = SEMVER.fullmatch(version)
    if not match:
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return int(match[1]), int(match[2]), int(match[3])


class Bump(IntEnum):
    """How much a version moves (or must move)."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    def __str__(self) -> str:
        """The bump as a word: ``major``, ``minor``, ``patch``."""
        return self.name.lower()


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


def records_bump(
    *, added: int = 0, removed: int = 0, changed: int = 0, redirected: int = 0
) -> Bump:
    """The bump that records added, removed and changed in one table need.

    *redirected* counts removed records that the newer package redirects (merged into another
    record, or retired with a reason): correcting an error in the data, whose ids keep
    resolving, is a patch; a record that vanishes without a trace breaks what cites it.

    Examples
    --------
    >>> records_bump(added=2, changed=1), records_bump(removed=1), records_bump(redirected=1)
    (<Bump.MINOR: 2>, <Bump.MAJOR: 3>, <Bump.PATCH: 1>)
    """
    return max(
        (
            bump
            for count, bump in (
                (removed, Bump.MAJOR),
                (added, Bump.MINOR),
                (changed, Bump.PATCH),
                (redirected, Bump.PATCH),
            )
            if count
        ),
        default=Bump.NONE,
    )


@dataclass(frozen=True)
class DescriptorChange:
    """One difference between two descriptors, with the bump it needs.

    *table* is ``None`` for a property of the package itself, *field* ``None`` for one of the
    package or of a whole table.
    """

    bump: Bump
    table: str | None
    field: str | None
    message: str

    @property
    def where(self) -> str:
        """``table.field``, ``table``, or ``package``."""
        if self.table is None:
            return "package"
        return f"{self.table}.{self.field}" if self.field else self.table

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "bump": str(self.bump),
            "table": self.table,
            "field": self.field,
            "message": self.message,
        }


#: Package properties that name it: changing one breaks whoever refers to it.
IDENTITY = ("name", "id")
#: Package properties that describe it for readers (the recipe's "descriptive metadata").
DESCRIPTIVE = (
    "title",
    "description",
    "keywords",
    "licenses",
    "contributors",
    "sources",
    "homepage",
    "image",
)
#: Package properties no version speaks of: the version itself, the release date, the tables
#: (compared one by one) and the list of a release's other files.
NOT_COMPARED = ("version", "created", "resources", RELEASE_FILES)
#: Field properties that only describe it.
DESCRIPTIVE_FIELD = ("description", "title", "example", "categories")


def descriptor_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[DescriptorChange]:
    """Every difference between two package descriptors that a version speaks of, with its bump.

    Tables are matched by name and fields by name; a renamed table or field is one removed and
    one added.

    Examples
    --------
    >>> old = {"name": "p", "resources": [{"name": "t", "path": "t.csv",
    ...        "schema": {"fields": [{"name": "id", "type": "string"}]}}]}
    >>> new = {"name": "p", "resources": [{"name": "t", "path": "data/t.csv",
    ...        "schema": {"fields": [{"name": "id", "type": "string"},
    ...                              {"name": "note", "type": "string"}]}}]}
    >>> [(str(c.bump), c.where, c.message) for c in descriptor_changes(old, new)]
    [('major', 't.note', 'field added')]
    """
    out = list(_package_changes(old, new))
    before = {r["name"]: r for r in old.get("resources", [])}
    after = {r["name"]: r for r in new.get("resources", [])}
    for table, resource in before.items():
        if table in after:
            out += _resource_changes(table, resource, after[table])
        else:
            out.append(DescriptorChange(Bump.MAJOR, table, None, "table removed or renamed"))
    out += [
        DescriptorChange(Bump.MINOR, table, None, "table added")
        for table in after
        if table not in before
    ]
    return out


def required_bump(old: Mapping[str, Any], new: Mapping[str, Any]) -> Bump:
    """The least bump the changes between two descriptors need.

    Examples
    --------
    >>> required_bump({"name": "p", "title": "A"}, {"name": "p", "title": "B"})
    <Bump.PATCH: 1>
    >>> required_bump({"name": "p"}, {"name": "q"})
    <Bump.MAJOR: 3>
    """
    return max((c.bump for c in descriptor_changes(old, new)), default=Bump.NONE)


def least_version(old: str, bump: Bump) -> str:
    """The least version after *old* that a change needing *bump* allows.

    Examples
    --------
    >>> least_version("0.1.0", Bump.MAJOR), least_version("1.2.3", Bump.MINOR)
    ('1.0.0', '1.3.0')
    """
    major, minor, patch = parse_version(old)
    if bump == Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump == Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    if bump == Bump.PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return old


def _package_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[DescriptorChange]:
    for key in sorted((set(old) | set(new)) - set(NOT_COMPARED)):
        if old.get(key) == new.get(key):
            continue
        if key in IDENTITY:
            message = f"{key}: {old.get(key)!r} → {new.get(key)!r}"
            yield DescriptorChange(Bump.MAJOR, None, None, message)
        else:
            bump = Bump.PATCH if key in DESCRIPTIVE else Bump.MINOR
            yield DescriptorChange(bump, None, None, f"{key} changed")


def _resource_changes(
    table: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterator[DescriptorChange]:
    old_schema, new_schema = old.get("schema", {}), new.get("schema", {})
    old_fields = {f["name"]: f for f in old_schema.get("fields", [])}
    new_fields = {f["name"]: f for f in new_schema.get("fields", [])}
    for name, field in old_fields.items():
        if name in new_fields:
            yield from _field_changes(table, field, new_fields[name])
        else:
            yield DescriptorChange(Bump.MAJOR, table, name, "field removed or renamed")
    for name in new_fields:
        if name not in old_fields:
            yield DescriptorChange(Bump.MAJOR, table, name, "field added")
    kept_before = [n for n in old_fields if n in new_fields]
    kept_after = [n for n in new_fields if n in old_fields]
    if kept_before != kept_after:
        order = ", ".join(kept_after)
        yield DescriptorChange(Bump.MAJOR, table, None, f"fields re-ordered: {order}")
    if old_schema.get("primaryKey") != new_schema.get("primaryKey"):
        yield DescriptorChange(Bump.MAJOR, table, None, "primaryKey changed")
    old_keys, new_keys = old_schema.get("foreignKeys", []), new_schema.get("foreignKeys", [])
    if any(key not in old_keys for key in new_keys):
        yield DescriptorChange(Bump.MAJOR, table, None, "foreign key added or changed")
    elif any(key not in new_keys for key in old_keys):
        yield DescriptorChange(Bump.MINOR, table, None, "foreign key dropped")
    for key in ("title", "description"):
        if old.get(key) != new.get(key):
            yield DescriptorChange(Bump.PATCH, table, None, f"{key} changed")


def _field_changes(
    table: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterator[DescriptorChange]:
    name = old["name"]
    if old.get("type") != new.get("type"):
        message = f"type: {old.get('type')} → {new.get('type')}"
        yield DescriptorChange(Bump.MAJOR, table, name, message)
    for bump, message in _constraint_changes(
        old.get("constraints", {}), new.get("constraints", {})
    ):
        yield DescriptorChange(bump, table, name, message)
    for key in sorted((set(old) | set(new)) - {"name", "type", "constraints"}):
        if old.get(key) != new.get(key):
            bump = Bump.PATCH if key in DESCRIPTIVE_FIELD else Bump.MAJOR
            yield DescriptorChange(bump, table, name, f"{key} changed")


def _constraint_changes(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterable[tuple[Bump, str]]:
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key in ("required", "unique"):
            tighter = bool(after) and not bool(before)
            yield (Bump.MAJOR if tighter else Bump.MINOR), f"{key}: {before} → {after}"
        elif key == "enum":
            if after is None:
                yield Bump.MINOR, "vocabulary lifted: any value allowed"
            elif before is None:
                yield Bump.MAJOR, "vocabulary imposed"
            else:
                if dropped := [v for v in before if v not in after]:
                    yield (
                        Bump.MAJOR,
                        f"vocabulary: {', '.join(map(str, dropped))} no longer allowed",
                    )
                if added := [v for v in after if v not in before]:
                    yield Bump.MINOR, f"vocabulary: {', '.join(map(str, added))} added"
        elif key in ("minimum", "minLength", "exclusiveMinimum"):
            tighter = after is not None and (before is None or after > before)
            yield (Bump.MAJOR if tighter else Bump.MINOR), f"{key}: {before} → {after}"
        elif key in ("maximum", "maxLength", "exclusiveMaximum"):
            tighter = after is not None and (before is None or after < before)
            yield (Bump.MAJOR if tighter else Bump.MINOR), f"{key}: {before} → {after}"
        else:  # a pattern (or anything else) whose change cannot be shown looser counts as tighter
            done = "added" if before is None else "dropped" if after is None else "changed"
            yield (Bump.MINOR if after is None else Bump.MAJOR), f"{key} {done}"
