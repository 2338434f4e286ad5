"""The shipped package: it validates clean, frictionless really checked it, and derived files are fresh."""

from __future__ import annotations

import csv
import json
import re

import pytest
from jsonschema import Draft202012Validator

from nk_defections.check.rules.package import check_profile
from nk_defections.check.validate import validate_package
from nk_defections.findings import codes as C
from nk_defections.generate import render_rules_markdown
from nk_defections.model.dates import DATE_PATTERN, PERIOD_PATTERN
from nk_defections.model.package import load_package_descriptor
from nk_defections.model.schemas import BASE, Schemas, build_schemas, render, schema_files

from .conftest import ROOT

PACKAGE = load_package_descriptor(ROOT)
TABLES = list(PACKAGE.resources)


def csv_row_counts() -> dict[str, int]:
    counts = {}
    for table in TABLES:
        with open(PACKAGE.path(table), newline="", encoding="utf-8") as f:
            counts[table] = sum(1 for _ in csv.DictReader(f))
    return counts


def test_shipped_package_is_valid_without_warnings():
    report = validate_package(ROOT)
    assert [i for i in report.issues if i.code != C.SOURCE_TEXT_SKIPPED] == []
    assert report.is_valid(strict=True)
    assert report.checked == csv_row_counts()


def test_frictionless_checked_every_resource_with_its_rows():
    from frictionless import Package

    report = Package(str(ROOT / "datapackage.json")).validate(limit_errors=10**9)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])
    # frictionless leaves out the count of a table it read no row from (a header alone).
    checked = {task.name: task.stats.get("rows", 0) for task in report.tasks}
    assert checked == csv_row_counts()
    assert all(task.type == "table" for task in report.tasks)
    # Every table's header was read as its Table Schema's fields, the empty ones' too.
    assert {task.name: task.stats["fields"] for task in report.tasks} == {
        table: len(PACKAGE.fields(table)) for table in PACKAGE.resources
    }


def test_descriptor_passes_the_vendored_v2_profile():
    assert list(check_profile(PACKAGE)) == []
    assert PACKAGE.descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"


def test_profile_patches_accept_list_fields_and_string_fields_match():
    descriptor = json.loads(json.dumps(PACKAGE.descriptor))
    fields = descriptor["resources"][0]["schema"]["fields"]
    fields.append({"name": "tags", "type": "list", "itemType": "string", "delimiter": ";"})
    descriptor["resources"][0]["schema"]["foreignKeys"] = [
        {"fields": ["id"], "reference": {"resource": "", "fields": ["id"]}, "fieldsMatch": "exact"}
    ]
    assert list(check_profile(type(PACKAGE)(ROOT, descriptor))) == []


@pytest.mark.parametrize("version", ["banana", "1.0", "01.2.3", ""])
def test_profile_check_refuses_a_version_that_is_not_semver(version):
    descriptor = {**PACKAGE.descriptor, "version": version}
    issues = list(check_profile(type(PACKAGE)(ROOT, descriptor)))
    assert [(i.code, i.pointer) for i in issues] == [(C.PACKAGE_PROFILE, "/version")]


def test_profile_check_reports_a_broken_descriptor():
    descriptor = json.loads(json.dumps(PACKAGE.descriptor))
    descriptor["resources"][2]["schema"]["fields"][0]["type"] = "strnig"
    issues = list(check_profile(type(PACKAGE)(ROOT, descriptor)))
    assert issues and all(i.code == C.PACKAGE_PROFILE for i in issues)
    assert any(i.pointer.startswith("/resources/2/schema/fields/0") for i in issues)


def test_committed_schemas_are_generated_from_the_descriptor():
    generated = schema_files(PACKAGE)
    assert set(generated) == {*build_schemas(PACKAGE), "contribution.bundled"}
    on_disk = {
        p.name.removesuffix(".schema.json") for p in (ROOT / "schemas").glob("*.schema.json")
    }
    assert on_disk == set(generated), "run `make generate`"
    for stem, schema in generated.items():
        assert (ROOT / "schemas" / f"{stem}.schema.json").read_text(encoding="utf-8") == render(
            schema
        ), f"schemas/{stem}.schema.json is stale: run `make generate`"


def test_rules_doc_is_generated_from_the_registry():
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == render_rules_markdown(), (
        "run `make generate`"
    )


def test_every_schema_passes_the_2020_12_metaschema_and_has_a_stable_id():
    for stem, schema in build_schemas(PACKAGE).items():
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"{BASE}{stem}"
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _resolve(schemas: Schemas, prop: dict) -> dict:
    if "$ref" in prop:
        return {
            **schemas.registry.resolver().lookup(prop["$ref"]).contents,
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
    return prop


@pytest.mark.parametrize("table", TABLES)
def test_table_schema_and_json_schema_agree_field_by_field(table):
    schemas = Schemas(PACKAGE)
    json_schema = schemas.schemas[table]
    props = json_schema["properties"]
    fields = PACKAGE.fields(table)
    assert [f["name"] for f in fields] == [
        p
        for p in props
        if p not in ("names", "participants", "links", "motives", "identifiers", "claims")
    ]
    assert set(json_schema["required"]) == {
        f["name"] for f in fields if f.get("constraints", {}).get("required")
    }
    assert json_schema["additionalProperties"] is False
    for field in fields:
        cons = field.get("constraints", {})
        prop = _resolve(schemas, props[field["name"]])
        assert (
            prop["type"]
            == {"string": "string", "integer": "integer", "number": "number"}[field["type"]]
        )
        assert prop.get("enum") == cons.get("enum"), field["name"]
        assert field.get("categories") == cons.get("enum"), (
            f"{table}.{field['name']}: categories must equal the enum"
        )
        if "pattern" in cons:
            assert prop["pattern"] == f"^(?:{cons['pattern']})$(?!\\n)", field["name"]
        for key in ("minimum", "maximum", "maxLength"):
            if key in cons:
                assert prop[key] == cons[key], (field["name"], key)
        assert field.get("description"), f"{table}.{field['name']} has no description"


@pytest.mark.parametrize("table", TABLES)
def test_every_table_has_its_id_first_as_primary_key(table):
    resource = PACKAGE.resources[table]
    assert resource["schema"]["primaryKey"] == ["id"]
    first = resource["schema"]["fields"][0]
    assert (
        first["name"] == "id"
        and first["constraints"]["unique"]
        and first["constraints"]["required"]
    )
    assert resource["path"] == f"data/{table}.csv"


def test_date_columns_use_the_one_calendar_exact_pattern():
    for table in TABLES:
        for field in PACKAGE.fields(table):
            name = field["name"]
            if name.endswith("_date") or name in ("date", "period"):
                pattern = field["constraints"]["pattern"]
                expected = (
                    PERIOD_PATTERN
                    if (table, name) in {("events", "date"), ("statistics", "period")}
                    else DATE_PATTERN
                )
                assert pattern == expected, f"{table}.{name}"


def test_patterns_use_ascii_digit_classes_only():
    text = (ROOT / "datapackage.json").read_text(encoding="utf-8")
    assert "\\\\d" not in text


def test_format_checker_is_active_in_json_schema_validation():
    # The pattern cannot see that a set ends before it starts; only the edtf format check does.
    validator = Schemas(PACKAGE).validator("events")
    record = {"id": "evt-aaaaaaaa", "event_type": "other", "title": "x", "date": "[2024..2023]"}
    assert re.fullmatch(PERIOD_PATTERN, record["date"])
    assert [e.validator for e in validator.iter_errors(record)] == ["format"]
    record["date"] = "2023-02-30"
    assert {e.validator for e in validator.iter_errors(record)} == {"pattern", "format"}


def test_json_schema_patterns_reject_a_trailing_newline():
    validator = Schemas(PACKAGE).validator("relationships")
    record = {
        "id": "rel-aaaaaaaa\n",
        "person_id": "per-aaaaaaaa",
        "related_person_id": "per-bbbbbbbb",
        "kind": "spouse",
    }
    assert [e.validator for e in validator.iter_errors(record)] == ["pattern"]


def test_source_record_fingerprints_the_founding_article():
    with open(PACKAGE.path("sources"), newline="", encoding="utf-8") as f:
        (source,) = list(csv.DictReader(f))
    assert source["paragraphs"] == "27"
    assert source["published_date"] == "2024-07-16"
    assert (
        source["content_sha256"]
        == "f6452e9ecf1aad56431ed729fa866cf7e36c77ff5b956d4ab4a39503d3755d0b"
    )


def test_project_does_not_ship_source_text():
    # Claims quote a few words; no cell may carry a whole sentence of a source.
    with open(PACKAGE.path("claims"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert len(row["original_text"]) <= 80


def test_readme_counts_match_the_data():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^\| (\w+) \| (\d+) \|", readme, re.MULTILINE)
    }
    assert stated == csv_row_counts(), "update the table of counts in README.md"


def _with_toys(tmp_path, rows: str):
    """A copy of the package with one more resource, ``toys``, that no code names."""
    from .conftest import copy_package

    package = copy_package(tmp_path / "package")
    toy = json.loads((ROOT / "tests/fixtures/toy-resource.json").read_text(encoding="utf-8"))
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"].append(toy)
    (package / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    (package / "data/toys.csv").write_text("id,parent_id,owner_id\n" + rows, encoding="utf-8")
    return package


def test_a_resource_added_to_the_descriptor_is_validated_with_no_edit_to_the_code(tmp_path):
    from nk_defections import validate_paths

    package = _with_toys(tmp_path, "toy-00000001,,per-5pxzb61c\ntoy-00000002,toy-00000001,\n")
    report = validate_package(package, frictionless=True)
    assert report.checked["toys"] == 2
    assert [i.code for i in report.issues] == [C.SOURCE_TEXT_SKIPPED]
    # Its id pattern, vocabulary of references and keys come from the descriptor alone.
    loaded = load_package_descriptor(package)
    assert loaded.prefixes["toys"] == "toy"
    assert loaded.reference_targets("toys", "owner_id") == ["people"]
    assert not loaded.is_claimed("toys") and loaded.children("toys") == {}
    # Contributions to it, as CSV and as JSON, are read and checked like any other table's.
    (tmp_path / "toys.csv").write_text(
        "id,parent_id,owner_id\ntoy-00000003,toy-zzzzzzzz,per-zzzzzzzz\n", encoding="utf-8"
    )
    (tmp_path / "more.json").write_text(
        json.dumps({"toys": [{"id": "toy-00000004", "parent_id": "toy-00000003", "size": 1}]}),
        encoding="utf-8",
    )
    found = validate_paths([tmp_path / "toys.csv", tmp_path / "more.json"], package=package)
    assert sorted((i.code, i.field) for i in found.issues) == sorted(
        [
            (C.SCHEMA_ADDITIONAL_PROPERTIES, "size"),
            (C.REF_UNKNOWN["people"], "owner_id"),
            (C.REF_UNKNOWN_ROW, "parent_id"),
        ]
    )


def test_a_descriptor_without_a_table_a_rule_reads_is_refused_with_the_rule(tmp_path):
    from .conftest import copy_package

    package = copy_package(tmp_path / "package")
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] != "postings"]
    (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    report = validate_package(package, frictionless=False)
    assert [i.code for i in report.issues] == [C.PACKAGE_DESCRIPTOR]
    assert "lacks the resource 'postings'" in report.issues[0].message
