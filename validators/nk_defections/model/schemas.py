"""JSON Schemas (2020-12) generated from the Table Schemas, held in a registry with format checks.

The descriptor is the one source of truth for vocabularies and patterns: every JSON Schema here
is derived from it, and the committed ``schemas/`` files are checked against this generator.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from nk_defections.model.countries import COUNTRY_PATTERN
from nk_defections.model.package import AMENDMENTS, CLAIMS, REDIRECTS, Package

BASE = "urn:nk-defections:schema:"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: JSON Schema patterns are searched, not matched, and Python's ``$`` also matches before a
#: trailing newline: the lookahead makes ``"per-7k2m9qax\n"`` fail in Python as in ECMA-262.
_END = "$(?!\\n)"
INT_MAX = 2_147_483_647


def anchored(pattern: str) -> str:
    """Turn an implicitly anchored Table Schema pattern into a JSON Schema pattern."""
    return f"^(?:{pattern}){_END}"


def _common_defs(package: Package) -> dict[str, Any]:
    from nk_defections.model.dates import DATE_PATTERN, PERIOD_PATTERN

    defs: dict[str, Any] = {}
    for table, prefix in package.prefixes.items():
        pattern = package.field(table, "id")["constraints"]["pattern"]
        defs[f"id-{prefix}"] = {
            "description": f"An id of a row of {table}.",
            "type": "string",
            "pattern": anchored(pattern),
        }
    defs["edtf-date"] = {
        "description": "EDTF subset: a day, month or year, optionally ?, ~ or %; or [A..B], [..B], [A..]. Calendar-exact.",
        "type": "string",
        "pattern": anchored(DATE_PATTERN),
        "format": "edtf-date",
    }
    defs["edtf-period"] = {
        "description": "EDTF subset of edtf-date plus the intervals A/B, ../B, A/.. . Calendar-exact.",
        "type": "string",
        "pattern": anchored(PERIOD_PATTERN),
        "format": "edtf-period",
    }
    defs["country"] = {
        "description": "ISO 3166-1 alpha-3 country code, checked against pycountry.",
        "type": "string",
        "pattern": anchored(COUNTRY_PATTERN),
        "format": "iso3166-alpha3",
    }
    defs["claim"] = {"$ref": f"{BASE}{CLAIMS}#/$defs/nested"}
    return defs


def _property(package: Package, field: dict[str, Any]) -> dict[str, Any]:
    from nk_defections.model.dates import DATE_PATTERN, PERIOD_PATTERN

    cons = field.get("constraints", {})
    pattern = cons.get("pattern")
    desc = field.get("description", "")
    common = f"{BASE}common#/$defs/"
    if pattern == DATE_PATTERN:
        return {"description": desc, "$ref": common + "edtf-date"}
    if pattern == PERIOD_PATTERN:
        return {"description": desc, "$ref": common + "edtf-period"}
    if pattern == COUNTRY_PATTERN:
        return {"description": desc, "$ref": common + "country"}
    for table, prefix in package.prefixes.items():
        if pattern == package.field(table, "id")["constraints"]["pattern"]:
            return {"description": desc, "$ref": common + f"id-{prefix}"}
    prop: dict[str, Any] = {"description": desc}
    if field["type"] == "string":
        prop["type"] = "string"
        prop["minLength"] = max(1, cons.get("minLength", 1))
        if "maxLength" in cons:
            prop["maxLength"] = cons["maxLength"]
        if pattern:
            prop["pattern"] = anchored(pattern)
        if field.get("format") == "uri":
            prop["format"] = "uri"
    elif field["type"] == "integer":
        prop["type"] = "integer"
        prop["maximum"] = cons.get("maximum", INT_MAX)
    elif field["type"] == "number":
        prop["type"] = "number"
    elif field["type"] == "date":  # a release's derived <field>_min/_max: a real ISO date
        prop["type"] = "string"
        prop["format"] = "date"
    else:  # pragma: no cover - the descriptor uses only these types
        raise ValueError(f"field type {field['type']!r} has no JSON Schema mapping")
    if "minimum" in cons:
        prop["minimum"] = cons["minimum"]
    if "enum" in cons:
        prop["enum"] = list(cons["enum"])
    return prop


def _object(package: Package, table: str, *, omit: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required = []
    for field in package.fields(table):
        if field["name"] == omit:
            continue
        props[field["name"]] = _property(package, field)
        if field.get("constraints", {}).get("required"):
            required.append(field["name"])
    for prop, (child, _key) in package.children(table).items():
        if child == CLAIMS:
            props[prop] = {
                "description": "Claims about this record (without record_id): which source states it.",
                "type": "array",
                "items": {"$ref": f"{BASE}common#/$defs/claim"},
            }
        else:
            props[prop] = {
                "description": f"Rows of {child} that belong to this record (without their parent key).",
                "type": "array",
                "items": {"$ref": f"{BASE}{child}#/$defs/nested"},
            }
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": props,
    }
    # A pattern chosen by another field's value (an identifier's scheme): one if/then each.
    chosen = [
        {
            "if": {"properties": {by: {"const": choice}}, "required": [by]},
            "then": {"properties": {column: {"pattern": anchored(pattern)}}},
        }
        for column, by, patterns in package.patterns_by(table)
        if column != omit and by != omit
        for choice, pattern in patterns.items()
    ]
    if chosen:
        out["allOf"] = chosen
    return out


def build_schemas(package: Package) -> dict[str, dict[str, Any]]:
    """Build every JSON Schema from the package's Table Schemas, keyed by file stem.

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> schemas = build_schemas(load_package_descriptor())
    >>> schemas["people"]["properties"]["kind"]["enum"]
    ['individual', 'group']
    """
    out: dict[str, dict[str, Any]] = {
        "common": {
            "$schema": DIALECT,
            "$id": f"{BASE}common",
            "title": "Shared definitions",
            "$defs": _common_defs(package),
        }
    }
    for table, resource in package.resources.items():
        schema = {
            "$schema": DIALECT,
            "$id": f"{BASE}{table}",
            "title": resource.get("title", table),
            "description": resource.get("description", ""),
            **_object(package, table, omit=None),
        }
        key = package.parent_key(table)
        if key:
            schema["$defs"] = {"nested": _object(package, table, omit=key)}
        out[table] = schema
    amendments: dict[str, Any] = {}
    if package.amendment_fields:
        described = package.descriptor[AMENDMENTS]
        out[AMENDMENTS] = {
            "$schema": DIALECT,
            "$id": f"{BASE}{AMENDMENTS}",
            "title": described.get("title", AMENDMENTS),
            "description": described.get("description", ""),
            **_object(package, AMENDMENTS, omit=None),
        }
        amendments = {
            AMENDMENTS: {
                "description": "Changes to records already in the package, applied in order.",
                "type": "array",
                "items": {"$ref": f"{BASE}{AMENDMENTS}"},
            }
        }
    out["contribution"] = {
        "$schema": DIALECT,
        "$id": f"{BASE}contribution",
        "title": "A contribution",
        "description": "Records to add: resource names as keys, arrays of (nested) records as values. "
        "Rows of a child table may stand at top level with their parent key, to add to a record "
        "already in the package; 'amendments' change records already there. An empty object is "
        "a valid, empty contribution.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "$schema": {"type": "string", "description": "Optional: the schema this file follows."},
            "example": {
                "type": "boolean",
                "description": "True in the template, whose records are invented: `validate` "
                "warns of it and `add` refuses it. Delete it when the records are your own.",
            },
            **{
                table: {"type": "array", "items": {"$ref": f"{BASE}{table}"}}
                for table in package.resources
                if table != REDIRECTS  # written by the amendments
            },
            **amendments,
        },
    }
    return out


def _refs(schema: Any) -> Iterator[str]:
    """Every ``$ref`` in *schema*, at any depth."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs(item)


def bundle_schema(schemas: dict[str, dict[str, Any]], root: str) -> dict[str, Any]:
    """The schema *root* as one document: every schema it references, at any depth, embedded.

    This is the bundling of JSON Schema 2020-12 (core, "Bundling"): each referenced schema
    resource is embedded whole, with its own ``$id``, under the root's ``$defs`` (keyed by that
    ``$id``), and no ``$ref`` is rewritten, so every reference resolves as before, without a
    registry: check-jsonschema, editors and other validators take the file alone. (jsonschema-rs
    0.61's ``bundle`` embeds only the part a reference points at, under the whole resource's
    ``$id``, which breaks the other references into that resource.)

    Examples
    --------
    >>> from nk_defections.model.package import load_package_descriptor
    >>> bundled = bundle_schema(build_schemas(load_package_descriptor()), "contribution")
    >>> bundled["$defs"]["urn:nk-defections:schema:common"]["$id"]
    'urn:nk-defections:schema:common'
    """
    by_id = {schema["$id"]: schema for schema in schemas.values()}
    top = schemas[root]
    embedded: dict[str, dict[str, Any]] = {}
    pending = [top]
    while pending:
        for ref in _refs(pending.pop()):
            uri = urldefrag(ref).url
            if uri and uri != top["$id"] and uri not in embedded:
                embedded[uri] = by_id[uri]
                pending.append(by_id[uri])
    return {
        **top,
        "$comment": f"{root}.schema.json with every schema it references embedded under $defs, "
        "each with its own $id: one file for editors and other tools. Generated; do not edit.",
        "$defs": {**top.get("$defs", {}), **{uri: embedded[uri] for uri in sorted(embedded)}},
    }


#: The contribution schema as one file, for editors and tools (``<stem>.schema.json``).
BUNDLED = "contribution.bundled"


def schema_files(package: Package) -> dict[str, dict[str, Any]]:
    """Every schema file of ``schemas/``, keyed by stem: the generated ones and the bundled one."""
    schemas = build_schemas(package)
    return {**schemas, BUNDLED: bundle_schema(schemas, "contribution")}


def write_schemas(package: Package, folder: Path) -> list[Path]:
    """Write every schema file of :func:`schema_files` as ``<stem>.schema.json`` into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, schema in schema_files(package).items():
        path = folder / f"{stem}.schema.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def render(schema: dict[str, Any]) -> str:
    """Canonical JSON text of a schema."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def format_checker() -> FormatChecker:
    """A format checker with the standard formats plus EDTF and ISO 3166-1 alpha-3."""
    from nk_defections.model import countries, dates

    checker = FormatChecker()
    checker.checks("edtf-date")(lambda v: not isinstance(v, str) or dates.is_valid(v))
    checker.checks("edtf-period")(
        lambda v: not isinstance(v, str) or dates.is_valid(v, interval=True)
    )
    checker.checks("iso3166-alpha3")(lambda v: not isinstance(v, str) or countries.is_alpha3(v))
    return checker


def format_functions(checker: FormatChecker | None = None) -> dict[str, Callable[[Any], bool]]:
    """Each format of *checker* as a function of the value, for jsonschema-rs (which calls back).

    Every format here is a pure function of its string, and a column holds the same few dates
    and country codes over and over: each function remembers its last answers.
    """
    checker = checker or format_checker()

    def one(name: str) -> Callable[[Any], bool]:
        @lru_cache(maxsize=1 << 16)
        def conforms(value: str) -> bool:
            return checker.conforms(value, name)

        return lambda value: (
            conforms(value) if isinstance(value, str) else checker.conforms(value, name)
        )

    return {name: one(name) for name in checker.checkers}


def schemas_for(package: Package) -> Schemas:
    """The :class:`Schemas` of *package*, built once per distinct descriptor."""
    key = json.dumps(package.descriptor, sort_keys=True)
    if key not in _BUILT:
        if len(_BUILT) >= 8:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = Schemas(package)
    return _BUILT[key]


_BUILT: dict[str, Schemas] = {}


class Schemas:
    """The generated schemas of one package, checked against the metaschema, with validators."""

    def __init__(self, package: Package) -> None:
        self.schemas = build_schemas(package)
        for schema in self.schemas.values():
            # jsonschema-rs checks against the metaschema in a millisecond, jsonschema in ~70;
            # only a schema it refuses goes to jsonschema, for the detailed SchemaError.
            if not _meta_valid(schema):
                Draft202012Validator.check_schema(schema)
        self.registry: Registry = Registry().with_resources(
            (schema["$id"], DRAFT202012.create_resource(schema)) for schema in self.schemas.values()
        )
        self._checker = format_checker()
        self._validators: dict[str, Draft202012Validator] = {}
        #: Per schema: its jsonschema-rs validator, or None where jsonschema alone decides.
        self._fast: dict[str, Any] = {}

    def validator(self, stem: str, *, nested_child: bool = False) -> Draft202012Validator:
        """A cached validator for a schema (or, for a child table, its nested variant)."""
        key = f"{stem}#nested" if nested_child else stem
        if key not in self._validators:
            schema = self.schemas[stem]
            if nested_child:
                schema = {"$ref": f"{BASE}{stem}#/$defs/nested"}
            self._validators[key] = Draft202012Validator(
                schema, registry=self.registry, format_checker=self._checker
            )
        return self._validators[key]

    def fast_validator(self, stem: str) -> Any:
        """Return the cached jsonschema-rs validator of a schema, or None without one.

        It checks every format by the same Python functions :meth:`validator` uses, so it
        accepts exactly what jsonschema accepts (the tests compare the two). None where
        jsonschema-rs is missing or cannot take the schema: jsonschema alone is exact, only
        slower.
        """
        if stem not in self._fast:
            self._fast[stem] = self._build_fast(stem)
        return self._fast[stem]

    def is_valid(self, stem: str, instance: Any) -> bool:
        """Whether *instance* is valid against the schema *stem*, decided fast.

        :meth:`fast_validator` decides; a ``False`` is then explained by :meth:`validator`'s
        ``iter_errors``. Without it, jsonschema decides.

        Examples
        --------
        >>> from nk_defections.model.package import load_package_descriptor
        >>> schemas = schemas_for(load_package_descriptor())
        >>> schemas.is_valid("people", {"id": "per-7k2m9qax"}), schemas.is_valid("people", {})
        (False, False)
        """
        fast = self.fast_validator(stem)
        if fast is None:
            return self.validator(stem).is_valid(instance)
        try:
            return bool(fast.is_valid(instance))
        except Exception:  # noqa: BLE001 - a value jsonschema-rs cannot take (a huge integer): let jsonschema decide
            return False

    def _build_fast(self, stem: str) -> Any:
        try:
            import jsonschema_rs

            return jsonschema_rs.validator_for(
                self.schemas[stem],
                registry=self._rs_registry,
                formats=self._rs_formats,
                validate_formats=True,
            )
        except Exception:  # noqa: BLE001 - a dependency; jsonschema alone is exact, only slower
            return None

    @cached_property
    def _rs_registry(self) -> Any:
        import jsonschema_rs

        return jsonschema_rs.Registry([(s["$id"], s) for s in self.schemas.values()])

    @cached_property
    def _rs_formats(self) -> dict[str, Callable[[Any], bool]]:
        # One set of format functions for every schema: their remembered answers are shared.
        return format_functions(self._checker)


def _meta_valid(schema: dict[str, Any]) -> bool:
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover
        return False
    try:
        return bool(jsonschema_rs.meta.is_valid(schema))
    except Exception:  # noqa: BLE001 - let jsonschema say what is wrong
        return False
