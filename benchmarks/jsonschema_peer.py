"""The pure-Python peer: JSON Lines checked record by record with jsonschema, keys and references with sets.

What a careful contributor would write without nk-defections: the published JSON Schemas
(Draft 2020-12, with jsonschema's format checker), one validation per line, a set of ids for
duplicates and a set per table for references (seeded with the package's own ids). Prints the
findings as a JSON list of ``[line, pointer, code]``, with jsonschema's error kinds mapped to
nk-defections codes where they check the same thing.

    python benchmarks/jsonschema_peer.py contribution.jsonl --package .
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

KEYWORDS = {
    "type": "schema.type",
    "enum": "schema.enum",
    "pattern": "schema.pattern",
    "minLength": "schema.min-length",
    "maxLength": "schema.max-length",
    "minimum": "schema.minimum",
    "maximum": "schema.maximum",
    "format": "schema.format",
    "required": "schema.required",
    "additionalProperties": "schema.additional-properties",
}
#: Nested arrays: property -> child table.
CHILDREN = {
    "participants": "event_participants",
    "links": "event_links",
    "motives": "motives",
    "names": "person_names",
    "claims": "claims",
}
#: Reference columns: (table, column) -> id prefixes they may name.
REFERENCES = {
    ("event_participants", "participant_id"): ("per", "org"),
    ("claims", "source_id"): ("src",),
    ("claims", "attributed_to"): ("per", "org"),
    ("claims", "relayed_by"): ("per", "org"),
}
UNKNOWN = {
    "per": "ref.unknown-person",
    "org": "ref.unknown-organization",
    "src": "ref.unknown-source",
}


def escape(part: object) -> str:
    return "/" + str(part).replace("~", "~0").replace("/", "~1")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("jsonl", type=Path)
    parser.add_argument("--package", type=Path, default=Path("."))
    args = parser.parse_args()

    schemas = {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8"))
        for p in (args.package / "schemas").glob("*.schema.json")
    }
    registry = Registry().with_resources(
        (s["$id"], Resource(contents=s, specification=DRAFT202012)) for s in schemas.values()
    )
    validators = {
        name: Draft202012Validator(
            schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for name, schema in schemas.items()
    }
    # Date columns: their pattern is the calendar-exact EDTF one.
    date_columns = {
        name
        for schema in schemas.values()
        for name, prop in schema.get("properties", {}).items()
        if "edtf" in prop.get("$ref", "")
    }
    descriptor = json.loads((args.package / "datapackage.json").read_text(encoding="utf-8"))
    package_ids: set[str] = set()
    for resource in descriptor["resources"]:
        with open(args.package / resource["path"], encoding="utf-8", newline="") as handle:
            package_ids.update(row["id"] for row in csv.DictReader(handle))
    seen: set[str] = set()
    references: list[tuple[int, str, str]] = []
    findings: list[list[object]] = []

    def walk(record: dict, table: str, pointer: str, line: int) -> None:
        identifier = record.get("id")
        if isinstance(identifier, str):
            if identifier in package_ids:
                findings.append([line, f"{pointer}/id", "ref.id-exists"])
            elif identifier in seen:
                findings.append([line, f"{pointer}/id", "table.duplicate-id"])
            seen.add(identifier)
        for column, value in record.items():
            if (table, column) in REFERENCES and isinstance(value, str):
                references.append((line, f"{pointer}/{column}", value))
            child = CHILDREN.get(column)
            if child and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        walk(item, child, f"{pointer}/{column}/{i}", line)

    with open(args.jsonl, encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                findings.append([line, "", "json.syntax"])
                continue
            table, record = value.get("resource"), value.get("record")
            validator = validators.get(table)
            if validator is None:
                findings.append([line, "/resource", "json.unknown-resource"])
                continue
            for error in validator.iter_errors(record):
                pointer = "/record" + "".join(escape(p) for p in error.absolute_path)
                keyword = error.validator
                if keyword == "required":
                    for prop in error.validator_value:
                        if isinstance(error.instance, dict) and prop not in error.instance:
                            findings.append([line, f"{pointer}/{prop}", "schema.required"])
                    continue
                if keyword == "additionalProperties":
                    allowed = set(error.schema.get("properties", {}))
                    for prop in error.instance:
                        if prop not in allowed:
                            findings.append(
                                [line, f"{pointer}/{prop}", "schema.additional-properties"]
                            )
                    continue
                code = KEYWORDS.get(keyword, f"schema.{keyword}")
                last = error.absolute_path[-1] if error.absolute_path else None
                if keyword in ("pattern", "format") and last in date_columns:
                    code = "date.invalid"
                findings.append([line, pointer, code])
            if isinstance(record, dict):
                walk(record, table, "/record", line)
    known = package_ids | seen
    for line, pointer, value in references:
        if value not in known:
            findings.append([line, pointer, UNKNOWN.get(value[:3], "ref.unknown")])
    unique = sorted({tuple(f) for f in findings})
    json.dump(unique, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
