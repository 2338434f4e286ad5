"""Reads ``datapackage.json``: resources, Table Schemas, keys, and the nesting of records."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from nk_defections.model.countries import COUNTRY_PATTERN
from nk_defections.model.limits import (
    MAX_DESCRIPTOR_BYTES,
    MAX_DESCRIPTOR_DEPTH,
    json_depth,
    read_file,
)

#: The provenance table: its rows cite a source for a row (``field`` = ``*``) or one of its values,
#: and its ``record_id`` may name a row of any table its id pattern admits.
CLAIMS = "claims"
CLAIM_KEY = "record_id"
#: The custom resource property that nests a child table's rows in its parent's JSON records:
#: ``{"property": "names", "parentKey": "person_id"}`` nests person_names under ``names`` in
#: the records of the table(s) ``person_id`` refers to, but those listed under ``except``
#: (a claim may be about a source, but a source's record carries no claims).
NESTED = "nested"
#: The custom field property that makes a column's pattern depend on another column's value.
PATTERN_BY = "patternBy"
#: The key of a release descriptor that lists its files other than the tables.
RELEASE_FILES = "release_files"
#: The descriptor's property that describes the amendments a contribution may carry (set a
#: field, re-rank a claim, merge, retire): a Table Schema, not a resource, as amendments are not
#: stored. A field given as ``{"name": ..., "fromResource": "claims"}`` is that resource's field.
AMENDMENTS = "amendments"
#: The table of ids that no longer name a row (merged or retired), written by the amendments.
REDIRECTS = "redirects"
#: The algorithms a Data Package ``hash`` may name (``sha256:<hex>``; a bare hex digest is MD5).
HASH_ALGORITHMS = ("md5", "sha1", "sha256", "sha512")

_ID_PATTERN = re.compile(r"^([a-z]{3})-\[0-9a-hjkmnp-tv-z\]\{8\}$")


class PackageError(Exception):
    """The descriptor cannot be read, or is unsafe to follow."""


@dataclass(frozen=True)
class Package:
    """A data package on disk: its folder and its parsed descriptor."""

    root: Path
    descriptor: dict[str, Any]

    @cached_property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Resources by name, in descriptor order."""
        return {r["name"]: r for r in self.descriptor.get("resources", [])}

    @property
    def version(self) -> str:
        """The package version (also the Python package's)."""
        return str(self.descriptor.get("version", ""))

    def fields(self, table: str) -> list[dict[str, Any]]:
        """Table Schema fields of *table* (or of the amendments), in column order."""
        if table == AMENDMENTS and table not in self.resources:
            return list(self.amendment_fields)
        return list(self.resources[table]["schema"]["fields"])

    @cached_property
    def amendment_fields(self) -> tuple[dict[str, Any], ...]:
        """The fields of an amendment, read off the descriptor's ``amendments`` property.

        Examples
        --------
        >>> [f["name"] for f in load_package_descriptor().amendment_fields][:3]
        ['op', 'record_id', 'field']
        """
        schema = self.descriptor.get(AMENDMENTS, {}).get("schema", {})
        out = []
        for field in schema.get("fields", []):
            source = field.get("fromResource")
            if source is not None:
                field = {**self.field(source, field["name"]), **field}
                del field["fromResource"]
            out.append(field)
        return tuple(out)

    def field_names(self, table: str) -> list[str]:
        """Column names of *table*, in order."""
        return [f["name"] for f in self.fields(table)]

    def field(self, table: str, name: str) -> dict[str, Any]:
        """One Table Schema field."""
        for f in self.fields(table):
            if f["name"] == name:
                return f
        raise KeyError(f"{table}.{name}")

    def path(self, table: str) -> Path:
        """Where the CSV of *table* lives (paths were checked safe at load)."""
        return self.root / self.resources[table]["path"]

    def foreign_keys(self, table: str) -> list[tuple[str, str]]:
        """Single-table references of *table* as (column, target table)."""
        out = []
        for fk in self.resources[table]["schema"].get("foreignKeys", []):
            target = fk["reference"]["resource"] or table
            out.append((fk["fields"][0], target))
        return out

    @cached_property
    def prefixes(self) -> dict[str, str]:
        """Id prefix of each table, read off the pattern of its ``id`` field."""
        out = {}
        for table in self.resources:
            pattern = self.field(table, "id").get("constraints", {}).get("pattern", "")
            match = _ID_PATTERN.match(pattern)
            if not match:
                raise PackageError(f"{table}.id has no id pattern of the form 'xxx-[…]{{8}}'")
            out[table] = match.group(1)
        return out

    @cached_property
    def table_of_prefix(self) -> dict[str, str]:
        """Table of each id prefix."""
        return {p: t for t, p in self.prefixes.items()}

    def reference_targets(self, table: str, column: str) -> list[str]:
        """Tables a reference column may point into, read off its id pattern."""
        pattern = self.field(table, column).get("constraints", {}).get("pattern", "")
        found = re.findall(r"[a-z]{3}", pattern.split("-[")[0])
        return [self.table_of_prefix[p] for p in found if p in self.table_of_prefix]

    def reference_columns(self, table: str) -> list[str]:
        """Columns of *table* other than ``id`` whose values are ids of some table."""
        return [
            f["name"]
            for f in self.fields(table)
            if f["name"] != "id"
            and "-[0-9a-hjkmnp-tv-z]{8}" in f.get("constraints", {}).get("pattern", "")
        ]

    def date_columns(self, table: str) -> list[tuple[str, bool]]:
        """EDTF columns of *table* as (column, interval allowed)."""
        from nk_defections.model.dates import DATE_PATTERN, PERIOD_PATTERN

        out = []
        for f in self.fields(table):
            pattern = f.get("constraints", {}).get("pattern")
            if pattern == DATE_PATTERN:
                out.append((f["name"], False))
            elif pattern == PERIOD_PATTERN:
                out.append((f["name"], True))
        return out

    @cached_property
    def _nesting(self) -> dict[str, tuple[str, str, tuple[str, ...]]]:
        """Child table -> (property, parent key, parent tables), from the resources' ``nested``."""
        out = {}
        for table, resource in self.resources.items():
            nested = resource.get(NESTED)
            if nested is not None:
                key = nested["parentKey"]
                parents = [
                    t
                    for t in self.reference_targets(table, key)
                    if t not in nested.get("except", ())
                ]
                out[table] = (nested["property"], key, tuple(parents))
        return out

    @cached_property
    def _children(self) -> dict[str, dict[str, tuple[str, str]]]:
        return {
            table: {
                prop: (child, key)
                for child, (prop, key, parents) in self._nesting.items()
                if table in parents
            }
            for table in self.resources
        }

    def children(self, table: str) -> dict[str, tuple[str, str]]:
        """Nested array properties of a record of *table*: property -> (child table, parent key).

        The mapping is the package's own (asked for once per record read): do not change it.

        Examples
        --------
        >>> load_package_descriptor().children("people")
        {'names': ('person_names', 'person_id'), 'identifiers': ('identifiers', 'record_id'), 'claims': ('claims', 'record_id')}
        """
        return self._children.get(table, {})

    def parent_key(self, table: str) -> str | None:
        """The column a nested row of *table* omits (its parent's id), or None for a top-level table."""
        nesting = self._nesting.get(table)
        return nesting[1] if nesting else None

    def nested_in(self, table: str) -> list[tuple[str, str]]:
        """Where rows of *table* nest: (parent table, property) pairs, none for a top-level table."""
        prop, _key, parents = self._nesting.get(table, ("", "", ()))
        return [(parent, prop) for parent in parents]

    def is_claimed(self, table: str) -> bool:
        """Whether records of *table* carry claims of their own (and each row needs one)."""
        return table in self._nesting.get(CLAIMS, ("", "", ()))[2]

    def patterns_by(self, table: str) -> list[tuple[str, str, dict[str, str]]]:
        """Columns of *table* whose pattern depends on another column's value.

        From the custom field property ``"patternBy": {"field": "scheme", "patterns": {...}}``:
        (column, the column it depends on, that column's value -> the pattern). The descriptor
        is the one place each pattern is written (an identifier's scheme and its ids' pattern).

        Examples
        --------
        >>> [(c, by) for c, by, _ in load_package_descriptor().patterns_by("identifiers")]
        [('value', 'scheme')]
        """
        return [
            (f["name"], f[PATTERN_BY]["field"], dict(f[PATTERN_BY]["patterns"]))
            for f in self.fields(table)
            if PATTERN_BY in f
        ]

    def country_columns(self, table: str) -> list[str]:
        """Columns of *table* holding ISO 3166-1 alpha-3 codes."""
        return [
            f["name"]
            for f in self.fields(table)
            if f.get("constraints", {}).get("pattern") == COUNTRY_PATTERN
        ]


def _check_paths(root: Path, descriptor: dict[str, Any]) -> None:
    """Refuse resource paths that are remote, absolute, climb out, or leave via a symlink."""
    # realpath, not resolve(): a link loop is then a file that cannot be read, not an error here
    real_root = Path(os.path.realpath(root))
    for resource in descriptor.get("resources", []):
        name = resource.get("name", "?")
        paths = resource.get("path")
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not paths:
            raise PackageError(f"resource {name!r} has no local path")
        for p in paths:
            if not isinstance(p, str):
                raise PackageError(f"resource {name!r}: path {p!r} is not a string")
            if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", p):
                raise PackageError(
                    f"resource {name!r}: path {p!r} is a URL; only local relative paths are read"
                )
            if p.startswith(("/", "\\")) or Path(p).is_absolute():
                raise PackageError(f"resource {name!r}: path {p!r} is absolute")
            if ".." in Path(p).parts or ".." in p.split("\\"):
                raise PackageError(f"resource {name!r}: path {p!r} contains '..'")
            target = Path(os.path.realpath(root / p))
            if not target.is_relative_to(real_root):
                raise PackageError(
                    f"resource {name!r}: path {p!r} resolves outside the package (symlink)"
                )
            if target == real_root or not p.strip():
                raise PackageError(f"resource {name!r}: path {p!r} names no file")
        if not isinstance(resource.get("path"), str):
            raise PackageError(
                f"resource {name!r}: a path in several parts (chunks) is not read; give one CSV file"
            )


#: Table Schema field types (a release adds ``date`` fields: the bounds of each date).
FIELD_TYPES = frozenset(
    {
        "string",
        "number",
        "integer",
        "boolean",
        "object",
        "array",
        "list",
        "date",
        "time",
        "datetime",
        "year",
        "yearmonth",
        "duration",
        "geopoint",
        "geojson",
        "any",
    }
)


def check_structure(path: Path | str, descriptor: dict[str, Any]) -> None:
    """Refuse a descriptor the validator cannot apply.

    That is: resources without a name or a Table Schema of named, typed fields with an id, a
    malformed ``nested`` property, a resource named twice, or no claims table.
    """
    names = []
    for i, resource in enumerate(descriptor["resources"]):
        if not isinstance(resource, dict) or not isinstance(resource.get("name"), str):
            raise PackageError(f"{path}: resource {i} is not an object with a name")
        schema = resource.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        if (
            not isinstance(fields, list)
            or not all(
                isinstance(f, dict)
                and isinstance(f.get("name"), str)
                and isinstance(f.get("type"), str)
                and f["type"] in FIELD_TYPES
                and isinstance(f.get("constraints", {}), dict)
                for f in fields
            )
            or "id" not in [f["name"] for f in fields]
        ):
            raise PackageError(
                f"{path}: resource {resource['name']!r} has no Table Schema of named, typed fields with an id"
            )
        _check_fields(path, resource["name"], fields)
        nested = resource.get(NESTED)
        if nested is not None and not (
            isinstance(nested, dict)
            and isinstance(nested.get("property"), str)
            and nested.get("parentKey") in [f["name"] for f in fields]
            and isinstance(nested.get("except", []), list)
        ):
            raise PackageError(
                f"{path}: resource {resource['name']!r}: {NESTED!r} is not "
                '{"property": ..., "parentKey": <one of its fields>}'
            )
        names.append(resource["name"])
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise PackageError(f"{path}: the descriptor names the resource {twice[0]!r} twice")
    if CLAIMS not in names:
        raise PackageError(f"{path}: the descriptor lacks the resource {CLAIMS!r}")
    fields_of = {
        r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in descriptor["resources"]
    }
    for resource in descriptor["resources"]:
        _check_foreign_keys(path, resource, fields_of)


def _check_fields(path: Path | str, table: str, fields: list[dict[str, Any]]) -> None:
    """Refuse a field named twice, or a pattern that is no regular expression."""
    import polars as pl

    names = [f["name"] for f in fields]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise PackageError(f"{path}: resource {table!r} names the field {twice[0]!r} twice")
    for field in fields:
        pattern = field.get("constraints", {}).get("pattern")
        if pattern is None:
            continue
        try:
            if not isinstance(pattern, str):
                raise TypeError("it is not a string")
            re.compile(pattern)
            pl.Series([""]).str.contains(pattern)  # the rules match it in polars too
        except (re.error, TypeError, pl.exceptions.PolarsError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PackageError(
                f"{path}: {table}.{field['name']}: the pattern {pattern!r} is not a regular "
                f"expression ({reason})"
            ) from None


def _check_foreign_keys(
    path: Path | str, resource: dict[str, Any], fields_of: dict[str, list[str]]
) -> None:
    """Refuse a foreign key that is not of single fields of the package's own resources."""
    table = resource["name"]
    keys = resource["schema"].get("foreignKeys", [])
    if not isinstance(keys, list):
        raise PackageError(f"{path}: resource {table!r}: foreignKeys is not a list")
    for i, key in enumerate(keys):
        where = f"{path}: resource {table!r}, foreign key {i}"
        reference = key.get("reference") if isinstance(key, dict) else None
        if not isinstance(reference, dict):
            raise PackageError(f"{where} has no reference object")
        target = reference.get("resource") or table
        if not isinstance(target, str) or target not in fields_of:
            raise PackageError(
                f"{where} refers to the resource {target!r}, which the descriptor does not have"
            )
        for side, names, owner in (
            ("fields", key.get("fields"), table),
            ("reference fields", reference.get("fields"), target),
        ):
            names = [names] if isinstance(names, str) else names
            if not isinstance(names, list) or len(names) != 1:
                raise PackageError(f"{where}: its {side} are not one field name")
            if names[0] not in fields_of[owner]:
                raise PackageError(f"{where}: {owner!r} has no field {names[0]!r}")


def parse_descriptor(data: bytes, where: Path | str) -> dict[str, Any]:
    """Parse the bytes of a descriptor: a JSON object, nesting at most MAX_DESCRIPTOR_DEPTH levels.

    Examples
    --------
    >>> parse_descriptor(b'{"name": "x"}', "datapackage.json")
    {'name': 'x'}
    >>> parse_descriptor(b"[" * 5000 + b"]" * 5000, "x")
    Traceback (most recent call last):
    ...
    nk_defections.model.package.PackageError: x: nesting deeper than 32 levels
    """
    try:
        descriptor = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{where}: not a readable JSON descriptor ({exc})") from exc
    except RecursionError:
        raise PackageError(f"{where}: nesting deeper than {MAX_DESCRIPTOR_DEPTH} levels") from None
    if json_depth(descriptor) > MAX_DESCRIPTOR_DEPTH:
        raise PackageError(f"{where}: nesting deeper than {MAX_DESCRIPTOR_DEPTH} levels")
    if not isinstance(descriptor, dict):
        raise PackageError(f"{where}: the descriptor is not a JSON object")
    return descriptor


def load_package_descriptor(root: Path | str | None = None) -> Package:
    """Read and safety-check the descriptor of the package at *root*.

    Parameters
    ----------
    root
        A folder holding ``datapackage.json`` (or the file itself); ``None`` finds the nearest
        nk-defections package at or above the current directory, else the installed copy.

    Examples
    --------
    >>> sorted(load_package_descriptor().resources)[:2]
    ['claims', 'event_links']
    """
    folder = find_root(root)
    path = folder / "datapackage.json"
    try:
        data = read_file(path, limit=MAX_DESCRIPTOR_BYTES)
    except FileNotFoundError as exc:
        raise PackageError(f"{path}: no datapackage.json") from exc
    except NotADirectoryError as exc:
        raise PackageError(
            f"{folder} is not a package: give a folder holding datapackage.json, or a release .zip"
        ) from exc
    except OSError as exc:
        raise PackageError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    descriptor = parse_descriptor(data, path)
    if not isinstance(descriptor.get("resources"), list):
        raise PackageError(f"{path}: the descriptor has no list of resources")
    check_structure(path, descriptor)
    _check_paths(folder, descriptor)
    return Package(folder, descriptor)


def find_root(root: Path | str | None = None) -> Path:
    """Resolve the package folder a command works on (:func:`nk_defections.model.locate.locate_package`)."""
    from nk_defections.model.locate import locate_package

    return locate_package(root).root
