"""Checks each contributed JSON record against its JSON Schema and explains an invalid one.

jsonschema-rs decides whether a record is valid; only an invalid one is explained, by jsonschema,
whose errors :mod:`nk_defections.check.schema_errors` turns into issues.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.package import Package

if TYPE_CHECKING:
    from nk_defections.model.schemas import Schemas

#: The keywords of a table's schema that emptying its nested arrays leaves as they were.
_PLAIN_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "title",
        "description",
        "type",
        "additionalProperties",
        "required",
        "properties",
        "$defs",
    }
)


class RecordChecker:
    """The JSON Schema check of the records of a contribution, as the reader calls it.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> check = RecordChecker(load_package_descriptor())
    >>> issues = check("people", {"id": "per-7k2m9qax", "kind": 1}, "c.jsonl", 1, ["record"])
    >>> sorted({(i.code, i.pointer) for i in issues})  # doctest: +NORMALIZE_WHITESPACE
    [('schema.required', '/record/identity_status'), ('schema.required', '/record/name'),
     ('schema.type', '/record/kind')]
    """

    def __init__(self, package: Package) -> None:
        self.package = package
        #: Per table: its nested arrays that :meth:`explained` may empty.
        self._arrays: dict[str, dict[str, str]] = {}

    @cached_property
    def schemas(self) -> Schemas:
        """The package's JSON Schemas and their validators."""
        # Built (and jsonschema imported) on the first JSON record: CSV rows never need them.
        from nk_defections.model.schemas import schemas_for

        return schemas_for(self.package)

    def __call__(
        self, table: str, record: Any, file: str, row: int | None, base: list[Any]
    ) -> list[Issue]:
        """Check *record* of *table*; locate its issues in *file*, at line *row* and path *base*."""
        if self.schemas.is_valid(table, record):
            return []
        found = self.explained(table, record, file, row=row, base=base)
        # A value of the wrong type also fails its enum, pattern or length: say only what is
        # wrong first.
        mistyped = {i.pointer for i in found if i.code == C.SCHEMA_TYPE}
        return [i for i in found if i.code == C.SCHEMA_TYPE or i.pointer not in mistyped]

    def explained(
        self, table: str, record: Any, file: str, *, row: int | None, base: list[Any]
    ) -> list[Issue]:
        """Explain an invalid record: its issues as jsonschema finds them, in jsonschema's order.

        jsonschema takes milliseconds over a whole event with its participants and claims;
        jsonschema-rs names at once the nested records that hold an error. So jsonschema
        explains the record with its nested arrays emptied, then each of those nested records
        alone: the same errors, with the same paths below *base*.
        """
        from nk_defections.check.schema_errors import iter_schema_issues

        def issues(stem: str, errors: Iterable[Any], where: list[Any]) -> list[Issue]:
            return list(
                iter_schema_issues(iter(errors), self.package, stem, file=file, row=row, base=where)
            )

        dirty = self._dirty_items(table, record)
        if dirty is None:
            return issues(table, self.schemas.validator(table).iter_errors(record), base)
        arrays = self._emptied_arrays(table)
        shallow = {k: ([] if k in arrays and isinstance(v, list) else v) for k, v in record.items()}
        outer = list(self.schemas.validator(table).iter_errors(shallow))
        # jsonschema goes through the schema's keywords in order, and through "properties"
        # property by property, each array item by item: the same order here.
        found: list[Issue] = []
        placed: set[int] = set()
        schema = self.schemas.schemas[table]
        for keyword in schema:
            if keyword != "properties":
                group = [e for e in outer if not e.absolute_path and e.validator == keyword]
                placed.update(id(e) for e in group)
                found += issues(table, group, base)
                continue
            for prop in schema["properties"]:
                group = [e for e in outer if e.absolute_path and e.absolute_path[0] == prop]
                placed.update(id(e) for e in group)
                found += issues(table, group, base)
                for index in dirty.get(prop, ()):
                    validator = self.schemas.validator(arrays[prop], nested_child=True)
                    found += issues(
                        arrays[prop],
                        validator.iter_errors(record[prop][index]),
                        [*base, prop, index],
                    )
        found += issues(table, [e for e in outer if id(e) not in placed], base)  # none expected
        return found

    def _emptied_arrays(self, table: str) -> dict[str, str]:
        """Map each nested array property that may be emptied to its child table.

        Those are the arrays whose schema checks nothing but the type and the items, so that
        emptying them leaves every other error as it was.
        """
        if table not in self._arrays:
            schema = self.schemas.schemas[table]
            plain = set(schema) <= _PLAIN_KEYWORDS
            arrays = {}
            for prop, (child, _key) in self.package.children(table).items():
                sub = schema.get("properties", {}).get(prop, {})
                if (
                    plain
                    and set(sub) <= {"description", "type", "items"}
                    and sub.get("type") == "array"
                ):
                    arrays[prop] = child
            self._arrays[table] = arrays
        return self._arrays[table]

    def _dirty_items(self, table: str, record: Any) -> dict[str, list[int]] | None:
        """Find, per nested array, the items jsonschema-rs finds an error in.

        None: jsonschema is to look at the whole record.
        """
        arrays = self._emptied_arrays(table) if isinstance(record, dict) else {}
        if not arrays:
            return None
        fast = self.schemas.fast_validator(table)
        if fast is None:
            return None
        dirty: dict[str, set[int]] = {}
        errors = 0
        try:
            for error in fast.iter_errors(record):
                errors += 1
                path = list(error.instance_path)
                if (
                    len(path) >= 2
                    and path[0] in arrays
                    and isinstance(path[1], int)
                    and isinstance(record.get(path[0]), list)
                ):
                    dirty.setdefault(path[0], set()).add(path[1])
        except Exception:  # noqa: BLE001 - a value jsonschema-rs cannot take: jsonschema explains it all
            return None
        if not errors:  # jsonschema-rs saw nothing wrong: let jsonschema look everywhere
            return None
        return {prop: sorted(indices) for prop, indices in dirty.items()}
