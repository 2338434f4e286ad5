"""Identity and names, possible duplicates and identifiers: each rule where it reports, in the
package and in every contribution form."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nk_defections.check.validate import validate_package, validate_paths
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Severity
from nk_defections.model.package import load_package_descriptor
from nk_defections.model.schemas import schemas_for

from .conftest import ROOT
from .test_rules import append, edit, line_of, read_rows

PACKAGE = load_package_descriptor(ROOT)
RI, RI_NAME, TAE, KIM = "per-zrsr3bfv", "nam-2xm8131f", "per-02d95gqk", "per-kd3gsa3y"
CUBA_EMBASSY, SOURCE = "org-gtv4ftbm", "src-1ekndjem"
IDENTITY_CODES = {
    code
    for code in (
        C.IDENTITY_NO_PREFERRED_NAME,
        C.IDENTITY_SEVERAL_PREFERRED_NAMES,
        C.IDENTITY_NAME_MISMATCH,
        C.IDENTITY_UNNAMED_WITH_NAME,
        C.NAME_LANG,
        C.NAME_SCRIPT,
        C.NAME_ROMANIZATION,
        C.DUPLICATE_PERSON,
        C.DUPLICATE_POSTING,
        C.DUPLICATE_ORGANIZATION,
    )
}


def findings(pkg: Path) -> set[tuple[str, str | None, int | None, str | None]]:
    report = validate_package(pkg, frictionless=False)
    return {
        (i.code, i.file, i.row, i.field) for i in report.issues if i.severity is not Severity.INFO
    }


def test_the_shipped_names_agree_with_identity_status() -> None:
    """Read plainly from the CSV: each named person's one current preferred name is its name."""
    names = read_rows(ROOT, "person_names")
    for person in read_rows(ROOT, "people"):
        current = [
            n["name"]
            for n in names
            if n["person_id"] == person["id"]
            and n["name_type"] == "preferred"
            and not n["end_date"]
        ]
        if person["identity_status"] in ("named", "pseudonymous"):
            assert current == [person["name"]], person["id"]
        else:
            assert current == [], person["id"]
    for name in names:
        assert bool(name["romanization"]) == (name["lang"] == "ko-Latn"), name["id"]


def test_the_shipped_package_has_no_identity_finding() -> None:
    report = validate_package(ROOT, frictionless=False)
    assert {i.code for i in report.issues} & IDENTITY_CODES == set()


def _names_line(pkg: Path, name_id: str) -> int:
    return line_of(pkg, "person_names", name_id)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda p: edit(p, "people", RI, name="Lee Il-gyu"),
            lambda p: {(C.IDENTITY_NAME_MISMATCH, "data/people.csv", line_of(p, "people", RI), "name")},
        ),
        (
            lambda p: edit(p, "person_names", RI_NAME, end_date="2023"),
            lambda p: {
                (C.IDENTITY_NO_PREFERRED_NAME, "data/people.csv", line_of(p, "people", RI), "identity_status"),
                (C.CLAIM_MISSING_FIELD, "data/person_names.csv", _names_line(p, RI_NAME), "end_date"),
            },
        ),
        (
            lambda p: edit(p, "people", RI, identity_status="withheld"),
            lambda p: {
                (C.IDENTITY_UNNAMED_WITH_NAME, "data/person_names.csv", _names_line(p, RI_NAME), "name_type")
            },
        ),
        (
            lambda p: append(
                p, "person_names", id="nam-zzzzzzz1", person_id=RI, name="리일규",
                name_type="preferred", lang="ko-Hang",
            ),
            lambda p: {
                (C.IDENTITY_SEVERAL_PREFERRED_NAMES, "data/person_names.csv", _names_line(p, "nam-zzzzzzz1"), "name_type"),
                (C.CLAIM_MISSING_ROW, "data/person_names.csv", _names_line(p, "nam-zzzzzzz1"), "id"),
            },
        ),
        (
            lambda p: edit(p, "person_names", RI_NAME, lang="ko_Latn"),
            lambda p: {
                (C.NAME_LANG, "data/person_names.csv", _names_line(p, RI_NAME), "lang"),
                (C.SCHEMA_PATTERN, "data/person_names.csv", _names_line(p, RI_NAME), "lang"),
            },
        ),
        (
            lambda p: edit(p, "person_names", RI_NAME, romanization=""),
            lambda p: {(C.NAME_ROMANIZATION, "data/person_names.csv", _names_line(p, RI_NAME), "romanization")},
        ),
        (
            lambda p: (
                edit(p, "person_names", RI_NAME, name="Ri Il 규"),
                edit(p, "people", RI, name="Ri Il 규"),
            ),
            lambda p: {(C.NAME_SCRIPT, "data/person_names.csv", _names_line(p, RI_NAME), "name")},
        ),
        (
            # A second spelling of Ri's name on another person: the warning is on the later row.
            lambda p: edit(p, "people", "per-x1d053ej", name="Yi Il-gyu"),
            lambda p: {
                (C.IDENTITY_NAME_MISMATCH, "data/people.csv", line_of(p, "people", "per-x1d053ej"), "name"),
                (C.DUPLICATE_PERSON, "data/people.csv", line_of(p, "people", RI), "name"),
            },
        ),
    ],
    ids=[
        "name-mismatch",
        "no-preferred-name",
        "withheld-with-name",
        "several-preferred",
        "lang",
        "romanization",
        "script",
        "duplicate-person",
    ],
)  # fmt: skip
def test_each_identity_rule_reports_where_the_fault_is(
    package_copy: Path, change, expected
) -> None:
    change(package_copy)
    assert findings(package_copy) == expected(package_copy)


def _contribute(folder: Path, form: str, records: dict[str, list[dict]]) -> list[Path]:
    """Write *records* (flat rows, with their parent keys) as one contribution of *form*."""
    folder.mkdir(parents=True, exist_ok=True)
    if form == "json":
        path = folder / "contribution.json"
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        return [path]
    if form == "jsonl":
        path = folder / "contribution.jsonl"
        lines = [
            json.dumps({"resource": table, "record": row}, ensure_ascii=False)
            for table, rows in records.items()
            for row in rows
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [path]
    paths = []
    for table, rows in records.items():
        path = folder / f"{table}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, PACKAGE.field_names(table), lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
        paths.append(path)
    return paths


def _claim(n: int, record_id: str, field: str = "*", **extra: object) -> dict:
    return {"id": f"clm-zzzzzz{n:02d}", "record_id": record_id, "field": field,
            "source_id": SOURCE, "paragraph": 3, **extra}  # fmt: skip


SECOND_RI = {
    "people": [
        {"id": "per-zzzzzzz1", "name": "Lee Il-gyu", "identity_status": "named", "kind": "individual"}
    ],
    "person_names": [
        {"id": "nam-zzzzzzz1", "person_id": "per-zzzzzzz1", "name": "Lee Il-gyu",
         "name_type": "preferred", "lang": "ko-Latn", "romanization": "rr"},
    ],
    "claims": [_claim(1, "per-zzzzzzz1"), _claim(2, "nam-zzzzzzz1")],
}  # fmt: skip


@pytest.mark.parametrize("form", ["json", "jsonl", "csv"])
def test_a_second_copy_of_a_person_is_a_warning_naming_the_first_in_every_form(
    tmp_path: Path, form: str
) -> None:
    paths = _contribute(tmp_path / form, form, SECOND_RI)
    report = validate_paths(paths, package=ROOT)
    found = [i for i in report.issues if i.severity is not Severity.INFO]
    assert [(i.code, i.severity, i.record_id, i.field) for i in found] == [
        (C.DUPLICATE_PERSON, Severity.WARNING, "per-zzzzzzz1", "name")
    ]
    assert RI in found[0].message and "'Ri Il Kyu'" in found[0].message
    assert report.is_valid()  # a warning: the contribution may still be merged


def test_a_name_given_to_one_person_that_spells_another_is_reported_on_the_name(
    tmp_path: Path,
) -> None:
    records = {
        "person_names": [
            {"id": "nam-zzzzzzz2", "person_id": KIM, "name": "Ri Ilgyu", "name_type": "alias",
             "lang": "ko-Latn", "romanization": "other"},
        ],
        "claims": [_claim(3, "nam-zzzzzzz2")],
    }  # fmt: skip
    report = validate_paths(_contribute(tmp_path, "json", records), package=ROOT)
    (found,) = [i for i in report.issues if i.severity is not Severity.INFO]
    assert (found.code, found.record_id) == (C.DUPLICATE_PERSON, "nam-zzzzzzz2")
    assert KIM in found.message and RI in found.message


def test_a_repeated_posting_and_organization_warn_and_a_promotion_does_not(
    package_copy: Path,
) -> None:
    # Ri's third-secretary and counsellor postings at one embassy, undated promotion: no warning.
    assert findings(package_copy) == set()
    append(package_copy, "organizations", id="org-zzzzzzz1", name="north korean embassy in Cuba",
           org_type="embassy", country="PRK")  # fmt: skip
    append(package_copy, "postings", id="pst-zzzzzzz1", person_id=RI, organization_id=CUBA_EMBASSY,
           title="political counsellor", rank="counsellor", status="unknown")  # fmt: skip
    append(package_copy, "postings", id="pst-zzzzzzz2", person_id=RI, organization_id=CUBA_EMBASSY,
           title="minister", rank="minister", status="unknown", start_date="2024")  # fmt: skip
    found = {(code, row) for code, _file, row, _field in findings(package_copy)}
    assert (
        C.DUPLICATE_ORGANIZATION,
        line_of(package_copy, "organizations", "org-zzzzzzz1"),
    ) in found
    assert (C.DUPLICATE_POSTING, line_of(package_copy, "postings", "pst-zzzzzzz1")) in found
    # Another rank, and after the counsellor's end: not a repeat.
    assert (C.DUPLICATE_POSTING, line_of(package_copy, "postings", "pst-zzzzzzz2")) not in found


SCHEMES = {
    "wikidata": (["Q42", "Q1", "Q123456789"], ["Q0", "q42", "Q042", "P31", "Q42 "]),
    "opensanctions": (["NK-22FCXojdybCoBHYtJxANNM", "Q7747", "ofac-10543", "a"], ["-x", "x-", "a b", "NK_1"]),
    "un_1718": (["KPi.001", "KPe.075"], ["KPi.1", "KPx.001", "QDi.436", "kpi.001"]),
}  # fmt: skip


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_an_identifier_matches_its_scheme_in_the_rules_and_the_json_schema(
    tmp_path: Path, scheme: str
) -> None:
    assert set(SCHEMES) == set(PACKAGE.field("identifiers", "scheme")["constraints"]["enum"])
    validator = schemas_for(PACKAGE).validator("identifiers")
    good, bad = SCHEMES[scheme]
    for n, value in enumerate(good + bad):
        row = {"id": f"idf-zzzzzz{n:02d}", "record_id": TAE, "scheme": scheme, "value": value}
        claims = [_claim(2 * n, row["id"]), _claim(2 * n + 1, row["id"], "value", value=value)]
        folder = tmp_path / f"{n}"
        report = validate_paths(
            _contribute(folder, "csv", {"identifiers": [row], "claims": claims}), package=ROOT
        )
        codes = {i.code for i in report.issues if i.field == "value"}
        expected = value in bad
        assert (C.SCHEMA_PATTERN in codes) == expected, (value, codes)
        assert (not validator.is_valid(row)) == expected, value


@given(st.sampled_from(sorted(SCHEMES)), st.text(max_size=12))
def test_the_scheme_patterns_of_the_rules_and_the_json_schema_agree(
    scheme: str, value: str
) -> None:
    import re

    (pattern,) = [p[scheme] for c, _by, p in PACKAGE.patterns_by("identifiers") if c == "value"]
    validator = schemas_for(PACKAGE).validator("identifiers")
    row = {"id": "idf-zzzzzzzz", "record_id": TAE, "scheme": scheme, "value": value}
    in_schema = not any(e.validator == "pattern" for e in validator.iter_errors(row))
    assert in_schema == (re.fullmatch(pattern, value) is not None and "\n" not in value)
