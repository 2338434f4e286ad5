"""Contributed files: every bad input gets its code at its exact place, and nothing ever raises."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nk_defections import validate_paths
from nk_defections.check.explain import RecordChecker
from nk_defections.check.schema_errors import _KEYWORD_CODES
from nk_defections.check.validate import check_contribution
from nk_defections.findings.issues import Report
from nk_defections.model.package import load_package_descriptor
from nk_defections.model.records import flatten
from nk_defections.model.schemas import schemas_for
from nk_defections.read.contribution import read_contribution
from nk_defections.read.json import MAX_DEPTH, parse_json, pointer_lines
from nk_defections.report.json import render as render_json

from .conftest import ROOT

PACKAGE = load_package_descriptor(ROOT)
#: The template as shipped: marked ``"example": true``, which ``add`` refuses.
EXAMPLE = ROOT / "templates" / "contribution.example.json"
TEMPLATE_TEXT = ROOT / "templates" / "example-source.txt"


def own_template(folder: Path) -> Path:
    """The template as a contributor makes it their own: its "example" mark deleted."""
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del document["example"]
    path = folder / "contribution.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


#: The template made one's own (written once, into a temporary folder): a valid contribution.
TEMPLATE = own_template(Path(tempfile.mkdtemp(prefix="nk-defections-template-")))


SRC, PER = "src-00000001", "per-00000001"
TEXT = "A fixture text.\n\nFixture Person was born in 1960.\n\nA third paragraph.\n"
PEOPLE_HEADER = "id,name,identity_status,kind,group_size_min,group_size_max,gender,birth_date,death_date,nationality,summary"


def source(**over: Any) -> dict[str, Any]:
    record = {
        "id": SRC,
        "source_type": "report",
        "title": "Fixture source",
        "published_date": "2024-01-02",
        "language": "en",
        "paragraphs": 3,
        "content_sha256": hashlib.sha256(TEXT.encode()).hexdigest(),
    }
    return {**record, **over}


def claim(n: int, field: str = "*", **over: Any) -> dict[str, Any]:
    record = {"id": f"clm-{n:08d}", "field": field, "source_id": SRC, "paragraph": 2}
    if field != "*":
        record["value"] = "1960"
        record["original_text"] = "born in 1960"
    return {**record, **over}


def person(**over: Any) -> dict[str, Any]:
    record = {
        "id": PER,
        "name": "Fixture Person",
        "identity_status": "unnamed",
        "kind": "individual",
        "claims": [claim(1)],
    }
    return {**record, **over}


def envelope(**tables: Any) -> dict[str, Any]:
    return {"sources": [source()], "people": [person()], **tables}


def write(folder: Path, name: str, content: str | bytes | dict) -> str:
    if isinstance(content, dict):
        content = json.dumps(content, ensure_ascii=False) + "\n"
    data = content.encode("utf-8") if isinstance(content, str) else content
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return name


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working folder: files are named relative to it, as a contributor would."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def read(folder: Path, files: dict[str, str | bytes | dict]) -> list[tuple]:
    """Read with the JSON Schema check (fast); return (code, file, row, pointer, field)."""
    names = [write(folder, name, content) for name, content in files.items()]
    issues = read_contribution(PACKAGE, names, on_record=RecordChecker(PACKAGE)).issues
    return sorted((i.code, i.file, i.row, i.pointer, i.field) for i in issues)


def check(folder: Path, files: dict[str, str | bytes | dict], **kwargs: Any) -> Report:
    names = [write(folder, name, content) for name, content in files.items()]
    return validate_paths(names, package=ROOT, **kwargs)


def errors(report: Report) -> list[tuple]:
    return sorted((i.code, i.file, i.row, i.pointer, i.field) for i in report.errors)


# -- JSON syntax ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "row"),
    [
        ("", 1),
        ("   \n", 1),
        ('{"people": [\n  {"id": "per-00000001",\n', 3),
        ("hello", 1),
        ('{"people": []} []', 1),
        ("{'people': []}", 1),
    ],
    ids=["empty", "blank", "truncated", "not-json", "trailing-data", "single-quotes"],
)
def test_syntax_errors_name_their_line(here: Path, content: str, row: int) -> None:
    assert read(here, {"c.json": content}) == [("json.syntax", "c.json", row, None, None)]


def test_syntax_error_message_names_line_and_column(here: Path) -> None:
    write(here, "c.json", '{"people": [\n  {"id" "per-00000001"}]}')
    (issue,) = read_contribution(PACKAGE, ["c.json"]).issues
    assert issue.message.startswith("line 2, column 9: expecting ':' delimiter")


def test_empty_envelope_is_a_valid_empty_contribution(here: Path) -> None:
    report = check(here, {"c.json": "{}"})
    assert report.issues == [] and report.checked == {}


@pytest.mark.parametrize("top", ["[]", '"people"', "3", "null", "true"])
def test_top_level_must_be_an_object(here: Path, top: str) -> None:
    assert read(here, {"c.json": top}) == [("json.top-level", "c.json", 1, "", None)]


def test_duplicate_keys_are_reported_where_they_repeat(here: Path) -> None:
    text = '{"people": [{"id": "per-00000001",\n "name": "A",\n "name": "B", "identity_status": "unnamed", "kind": "individual"}]}'
    found = read(here, {"c.json": text})
    assert ("json.duplicate-key", "c.json", 3, "/people/0/name", "name") in found


def test_duplicate_resource_keys_are_reported(here: Path) -> None:
    assert read(here, {"c.json": '{"people": [],\n"people": []}'}) == [
        ("json.duplicate-key", "c.json", 2, "/people", "people")
    ]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_numbers(here: Path, constant: str) -> None:
    text = json.dumps({"sources": [source()]}, indent=1).replace(
        '"paragraphs": 3', f'"paragraphs": {constant}'
    )
    found = read(here, {"c.json": text})
    # One finding: not also "not of type integer".
    assert found == [("json.constant", "c.json", 9, "/sources/0/paragraphs", "paragraphs")]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_nesting_too_deep_never_reaches_the_parser(here: Path, depth: int) -> None:
    assert read(here, {"c.json": "[" * depth}) == [("json.too-deep", "c.json", 1, None, None)]
    assert read(here, {"d.json": '{"a":' * depth + "1" + "}" * depth}) == [
        ("json.too-deep", "d.json", 1, None, None)
    ]


def test_brackets_inside_strings_do_not_count_as_nesting(here: Path) -> None:
    name = "[" * 100 + '\\"{' * 50
    text = json.dumps({"people": [person(name=name)]}).replace(json.dumps(name)[1:-1], name)
    assert all(code != "json.too-deep" for code, *_ in read(here, {"c.json": text}))


def test_deep_json_lines_line_is_reported_and_others_are_read(here: Path) -> None:
    lines = ["[" * 100_000, json.dumps({"resource": "sources", "record": source()})]
    contribution = read_contribution(PACKAGE, [write(here, "c.jsonl", "\n".join(lines) + "\n")])
    assert [(i.code, i.row) for i in contribution.issues] == [("json.too-deep", 1)]
    assert contribution.counts() == {"sources": 1}


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" * 400])
def test_numbers_beyond_any_field(here: Path, number: str) -> None:
    text = json.dumps({"sources": [source()]}).replace('"paragraphs": 3', f'"paragraphs": {number}')
    assert read(here, {"c.json": text}) == [
        ("json.number-range", "c.json", 1, "/sources/0/paragraphs", "paragraphs")
    ]


def test_numbers_beyond_the_schema_maximum(here: Path) -> None:
    found = read(here, {"c.json": envelope(people=[person(claims=[claim(1, paragraph=2**31)])])})
    assert found == [("schema.maximum", "c.json", 1, "/people/0/claims/0/paragraph", "paragraph")]


def test_lone_surrogate_escapes_are_refused_and_never_crash_the_report(here: Path) -> None:
    text = json.dumps(envelope(people=[person(name="Fixture \\ud800")])).replace(
        "\\\\ud800", "\\ud800"
    )
    text = text.replace('"kind"', '"\\udc00kind": 1, "kind"')
    report = check(here, {"c.json": text})
    assert {(i.code, i.pointer) for i in report.errors} >= {("file.encoding", "/people/0/name")}
    assert "file.encoding" in render_json(report)


# -- encodings and binary files --------------------------------------------------------------


@pytest.mark.parametrize("name", ["c.json", "people.csv", "c.jsonl"])
def test_invalid_utf8_names_the_line(here: Path, name: str) -> None:
    content = (
        b"{\n\n  \xff\n}"
        if name != "people.csv"
        else PEOPLE_HEADER.encode() + b"\nper-00000001,Caf\xe9,unnamed,individual,,,,,,,\n"
    )
    found = read(here, {name: content})
    assert found == [("file.encoding", name, 3 if name != "people.csv" else 2, None, None)]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("name", ["c.json", "people.csv"])
def test_utf16_is_refused_with_or_without_a_bom(here: Path, name: str, encoding: str) -> None:
    text = "{}" if name == "c.json" else PEOPLE_HEADER + "\n"
    assert read(here, {name: text.encode(encoding)}) == [("file.encoding", name, 1, None, None)]


def test_binary_files_are_refused(here: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    assert read(here, {"c.json": png, "people.csv": png}) == [
        ("file.binary", "c.json", 3, None, None),
        ("file.binary", "people.csv", 3, None, None),
    ]


def test_utf8_bom_and_crlf_are_accepted_in_every_kind(here: Path) -> None:
    bom = b"\xef\xbb\xbf"
    as_json = bom + json.dumps(envelope(), indent=2).replace("\n", "\r\n").encode()
    as_lines = (
        bom
        + "\r\n".join(
            json.dumps({"resource": t, "record": r})
            for t, r in [("sources", source()), ("people", person())]
        ).encode()
        + b"\r\n"
    )
    for name, data in [("c.json", as_json), ("c.jsonl", as_lines)]:
        report = check(here, {name: data})
        assert report.is_valid(), report.issues
        assert report.checked == {"sources": 1, "people": 1, "claims": 1}


# -- paths and file kinds --------------------------------------------------------------------------


def test_missing_paths_and_directories_are_unreadable_and_do_not_stop_the_rest(here: Path) -> None:
    (here / "folder.json").mkdir()
    write(here, "ok.json", envelope(people=[person(name="=cmd")]))
    report = validate_paths(["missing.json", "folder.json", "people.csv", "ok.json"], package=ROOT)
    assert {(i.code, i.file) for i in report.errors} == {
        ("file.unreadable", "missing.json"),
        ("file.unreadable", "folder.json"),
        ("file.unreadable", "people.csv"),
        ("record.formula", "ok.json"),
    }


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("persons.csv", "people.csv"),
        ("People.CSV", "people.csv"),
        ("data.xlsx", "CSV UTF-8"),
        ("notes.txt", ""),
    ],
)
def test_unknown_file_kinds(here: Path, name: str, hint: str) -> None:
    write(here, name, "id\n")
    (issue,) = read_contribution(PACKAGE, [name]).issues
    assert (issue.code, issue.file) == ("file.unknown-kind", name)
    assert hint in issue.message


def test_unknown_resource_names_suggest_the_nearest(here: Path) -> None:
    (issue,) = read_contribution(PACKAGE, [write(here, "c.json", {"peple": []})]).issues
    assert (issue.code, issue.pointer, issue.row) == ("json.unknown-resource", "/peple", 1)
    assert "did you mean 'people'?" in issue.message
    line = json.dumps({"resource": "organisations", "record": {}})
    (issue,) = read_contribution(PACKAGE, [write(here, "c.jsonl", line)]).issues
    assert (issue.code, issue.row, issue.pointer) == ("json.unknown-resource", 1, "/resource")
    assert "did you mean 'organizations'?" in issue.message


# -- JSON Lines ------------------------------------------------------------------------------------


def test_json_lines_locate_by_line_and_pointer_inside_it(here: Path) -> None:
    lines = [
        json.dumps({"resource": "sources", "record": source()}),
        json.dumps({"resource": "people", "record": person(kind="individal")}),
        "",
        json.dumps({"resource": "people", "recrod": person()}),
        '{"resource": "people", "record": {"id": "per-00000002",',
        json.dumps(["people", person()]),
    ]
    found = read(here, {"c.jsonl": "\n".join(lines) + "\n"})
    assert found == [
        ("json.syntax", "c.jsonl", 3, None, None),
        ("json.syntax", "c.jsonl", 5, None, None),
        ("json.top-level", "c.jsonl", 6, "", None),
        ("schema.additional-properties", "c.jsonl", 4, "/recrod", "recrod"),
        ("schema.enum", "c.jsonl", 2, "/record/kind", "kind"),
        ("schema.required", "c.jsonl", 4, "/record", "record"),
    ]


def test_json_lines_rows_keep_their_line(here: Path) -> None:
    lines = [
        json.dumps({"resource": "sources", "record": source()}),
        json.dumps({"resource": "people", "record": person(name="-x")}),
    ]
    report = check(here, {"c.jsonl": "\n".join(lines)})
    assert errors(report) == [("record.formula", "c.jsonl", 2, "/record/name", "name")]


def test_a_json_number_becomes_the_cell_that_reads_back_as_it(here: Path) -> None:
    # 0.0 in a number field stays "0.0" (as from a spreadsheet: JSON and CSV contributions merge
    # alike; the deep profile once found "0" here); 3.0 in an integer field is the integer 3.
    record = {
        "id": "sta-00000001",
        "measure": "m",
        "value": 0.0,
        "qualifier": "exact",
        "period": "2019",
    }
    path = write(
        here,
        "c.jsonl",
        "\n".join(
            [
                json.dumps({"resource": "statistics", "record": record}),
                json.dumps(
                    {
                        "resource": "statistics",
                        "record": {**record, "id": "sta-00000002", "value": -0.0},
                    }
                ),
                json.dumps(
                    {
                        "resource": "statistics",
                        "record": {**record, "id": "sta-00000003", "value": 1e16},
                    }
                ),
                json.dumps({"resource": "sources", "record": source(paragraphs=3.0)}),
            ]
        ),
    )
    frames = read_contribution(PACKAGE, [Path(path)]).frames
    assert frames["statistics"]["value"].to_list() == ["0.0", "-0.0", "1e+16"]
    assert frames["sources"]["paragraphs"].to_list() == ["3"]


# -- CSV -------------------------------------------------------------------------------------------


def csv_text(header: str, *rows: str, newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


def test_csv_structure_errors(here: Path) -> None:
    found = read(
        here,
        {
            "people.csv": csv_text(
                PEOPLE_HEADER,
                "per-00000001,A,unnamed,individual,,,,,,,",
                "per-00000002,B,unnamed,individual,,,,,,",
            ),
            "sources.csv": csv_text(
                ",".join(PACKAGE.field_names("sources")), 'src-00000001,report,"unclosed'
            ),
            "claims.csv": csv_text(",".join([*PACKAGE.field_names("claims"), "extra"])),
            "relationships.csv": csv_text("id,person_id,related_person_id,kind,kind"),
        },
    )
    assert found == [
        ("csv.duplicate-column", "relationships.csv", 1, None, "kind"),
        ("csv.malformed", "sources.csv", 2, None, "title"),
        ("csv.ragged-row", "people.csv", 3, None, None),
        ("csv.unknown-column", "claims.csv", 1, None, "extra"),
    ]


def test_csv_missing_columns_are_named(here: Path) -> None:
    found = read(
        here, {"people.csv": csv_text(PEOPLE_HEADER.replace(",gender", "").replace(",summary", ""))}
    )
    assert found == [
        ("csv.missing-column", "people.csv", 1, None, "gender"),
        ("csv.missing-column", "people.csv", 1, None, "summary"),
    ]


def test_csv_lines_are_physical_even_after_quoted_newlines(here: Path) -> None:
    rows = [
        'per-00000001,Fixture Person,unnamed,individual,,,,,,,"A summary\r\nover two lines"',
        "per-00000002,Fixture Other,unnamed,individual,,,,2023-02-30,,ZZZ,",
    ]
    report = check(
        here,
        {"people.csv": b"\xef\xbb\xbf" + csv_text(PEOPLE_HEADER, *rows, newline="\r\n").encode()},
    )
    assert [
        (c, f, r, field)
        for c, f, r, _, field in errors(report)
        if c in ("date.invalid", "country.unknown")
    ] == [
        ("country.unknown", "people.csv", 4, "nationality"),
        ("date.invalid", "people.csv", 4, "birth_date"),
    ]


def test_csv_cells_are_checked_like_json_values(here: Path) -> None:
    rows = [
        "clm-00000001,per-02d95gqk,*,src-1ekndjem,three,,,,,,,",
        "clm-00000002,per-02d95gqk,*,src-1ekndjem,99,,,,,,normall,",
    ]
    header = ",".join(PACKAGE.field_names("claims"))
    report = check(here, {"claims.csv": csv_text(header, *rows)})
    assert errors(report) == [
        ("claim.paragraph-out-of-range", "claims.csv", 3, None, "paragraph"),
        ("schema.enum", "claims.csv", 3, None, "claim_rank"),
        ("schema.type", "claims.csv", 2, None, "paragraph"),
    ]
    assert "did you mean 'normal'?" in report.errors[1].message


# -- records against the package -------------------------------------------------------------


def test_wrong_types_and_unknown_keys_name_the_field(here: Path) -> None:
    found = read(
        here,
        {
            "c.json": envelope(
                sources=[source(paragraphs="3")],
                people=[
                    person(
                        names=[
                            {
                                "id": "nam-00000001",
                                "name": "F",
                                "name_type": "alias",
                                "lang": "en",
                                "person_id": PER,
                            }
                        ],
                        kind=None,
                    )
                ],
            )
        },
    )
    assert found == [
        ("schema.additional-properties", "c.json", 1, "/people/0/names/0/person_id", "person_id"),
        ("schema.type", "c.json", 1, "/people/0/kind", "kind"),
        ("schema.type", "c.json", 1, "/sources/0/paragraphs", "paragraphs"),
    ]


@pytest.mark.parametrize(
    ("bad_id", "code"),
    [
        ("per-0000000I", "schema.pattern"),
        ("per-00000001\n", "schema.pattern"),
        ("per-02d95gqk", "ref.id-exists"),
        (PER, "table.duplicate-id"),
    ],
    ids=["malformed", "trailing-newline", "colliding", "duplicate"],
)
def test_ids(here: Path, bad_id: str, code: str) -> None:
    report = check(
        here,
        {"c.json": envelope(people=[person(), person(id=bad_id, name="Other", claims=[claim(2)])])},
    )
    assert (code, "/people/1/id") in {(i.code, i.pointer) for i in report.errors}


def test_ids_collide_across_files_of_one_contribution(here: Path) -> None:
    line = json.dumps({"resource": "people", "record": person(claims=[claim(2)])})
    report = check(here, {"a.json": envelope(), "b.jsonl": line})
    assert errors(report) == [("table.duplicate-id", "b.jsonl", 1, "/record/id", "id")]


def test_references_may_point_into_the_package_or_the_contribution(here: Path) -> None:
    name = {
        "id": "nam-00000001",
        "person_id": "per-02d95gqk",
        "name": "Thae Yong Ho",
        "name_type": "alias",
        "lang": "ko-Latn",
        "romanization": "other",
        "claims": [claim(2)],
    }
    relation = {
        "id": "rel-00000001",
        "person_id": PER,
        "related_person_id": "per-02d95gqk",
        "kind": "sibling",
        "claims": [claim(3)],
    }
    report = check(here, {"c.json": envelope(person_names=[name], relationships=[relation])})
    assert report.is_valid(), report.errors
    dangling = dict(relation, related_person_id="per-zzzzzzzz")
    report = check(here, {"c.json": envelope(relationships=[dangling])})
    assert errors(report) == [
        (
            "ref.unknown-person",
            "c.json",
            1,
            "/relationships/0/related_person_id",
            "related_person_id",
        )
    ]


def test_dates_impossible_and_out_of_order(here: Path) -> None:
    bad = person(
        birth_date="2023-02-30",
        death_date="1990",
        claims=[
            claim(1),
            claim(2, "birth_date", value="2023-02"),
            claim(3, "death_date", value="1990"),
        ],
    )
    order = dict(
        person(
            id="per-00000002",
            birth_date="2000",
            death_date="1990",
            claims=[
                claim(4),
                claim(5, "birth_date", value="2000"),
                claim(6, "death_date", value="1990"),
            ],
        )
    )
    report = check(here, {"c.json": json.dumps(envelope(people=[bad, order]), indent=1)})
    assert {(i.code, i.pointer) for i in report.errors} == {
        ("date.invalid", "/people/0/birth_date"),
        ("date.order", "/people/1/death_date"),
    }


def test_claims_cite_existing_sources_and_paragraphs(here: Path) -> None:
    report = check(
        here,
        {
            "c.json": envelope(
                people=[
                    person(claims=[claim(1, paragraph=4), claim(2, "*", source_id="src-zzzzzzzz")])
                ]
            )
        },
    )
    assert {(i.code, i.pointer) for i in report.errors} == {
        ("claim.paragraph-out-of-range", "/people/0/claims/0/paragraph"),
        ("ref.unknown-source", "/people/0/claims/1/source_id"),
    }


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("=SUM(A1)", "record.formula"),
        ("+1 Person", "record.formula"),
        ("@Person", "record.formula"),
        ("-Person", "record.formula"),
        ("Fixture\u0000Person", "record.control-character"),
        ("Fixture\nPerson", "record.control-character"),
        ("Fixture \u202eevil", "record.bidi-control"),
        ("Fixture \u2066isolate", "record.bidi-control"),
        ("Fixture Pe\u0301rson", "record.not-nfc"),
        ("ZZZ", None),
        ("-1 is a number", "record.formula"),  # so is "-2+3+cmd|..."; only "-1" alone is not
        ("-1", None),
    ],
)
def test_text_hygiene(here: Path, name: str, code: str | None) -> None:
    report = check(here, {"c.json": envelope(people=[person(name=name)])})
    assert [(i.code, i.pointer) for i in report.errors] == (
        [(code, "/people/0/name")] if code else []
    )


def test_bad_country_codes(here: Path) -> None:
    report = check(here, {"c.json": envelope(people=[person(nationality="KP")])})
    assert [(i.code, i.pointer) for i in report.errors] == [
        ("country.unknown", "/people/0/nationality")
    ]


def test_a_bad_file_does_not_stop_the_others(here: Path) -> None:
    report = check(
        here,
        {"a.json": "[", "b.json": "\x00", "c.json": envelope(people=[person(kind="individal")])},
    )
    assert [(i.code, i.file) for i in report.errors] == [
        ("json.syntax", "a.json"),
        ("file.binary", "b.json"),
        ("schema.enum", "c.json"),
    ]


# -- the evidence check ------------------------------------------------------------------------------


def test_source_texts_check_sha256_paragraphs_and_original_text(here: Path) -> None:
    write(here, "text.txt", TEXT)
    ok = check(
        here,
        {
            "c.json": envelope(
                people=[person(birth_date="1960", claims=[claim(1), claim(2, "birth_date")])]
            )
        },
        source_texts={SRC: "text.txt"},
    )
    assert ok.issues == []
    wrong = envelope(
        people=[
            person(
                birth_date="1960",
                claims=[claim(1), claim(2, "birth_date", original_text="born in 1961")],
            )
        ]
    )
    report = check(
        here,
        {"c.json": json.dumps(wrong, indent=1)},
        source_texts={SRC: "text.txt", "src-zzzzzzzz": "text.txt", "src-11111111": "nowhere.txt"},
    )
    assert {(i.code, i.pointer) for i in report.errors} == {
        ("source.original-text-not-found", "/people/0/claims/1/original_text"),
        ("source.unknown-text-source", None),
        ("file.unreadable", None),
    }


def test_the_template_is_valid_and_its_evidence_holds() -> None:
    report = validate_paths([EXAMPLE], package=ROOT, source_texts={"src-d128fkbd": TEMPLATE_TEXT})
    assert [(i.code, i.pointer) for i in report.issues] == [("json.example", "/example")]
    own = validate_paths([TEMPLATE], package=ROOT, source_texts={"src-d128fkbd": TEMPLATE_TEXT})
    assert own.issues == []


def test_the_template_shows_every_field_of_every_table() -> None:
    contribution = read_contribution(PACKAGE, [TEMPLATE])
    for table, frame in contribution.frames.items():
        if table == "redirects":  # written by merge and retire amendments, not contributed
            continue
        empty = [
            name for name in PACKAGE.field_names(table) if frame[name].null_count() == frame.height
        ]
        assert not empty, (table, empty)


# -- the same contribution in every form ---------------------------------------------------------


def template_rows() -> dict[str, list[dict[str, Any]]]:
    """The template's records flattened to rows per table, in file order."""
    document = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in PACKAGE.resources:
        for record in document.get(table, []):
            for child, row, _ in flatten(PACKAGE, table, record):
                rows.setdefault(child, []).append(row)
    return rows


def write_spreadsheet_csvs(folder: Path) -> list[Path]:
    """The template as one CSV per resource, as a spreadsheet saves them: UTF-8 BOM, CRLF."""
    paths = []
    for table, rows in template_rows().items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        names = PACKAGE.field_names(table)
        writer.writerow(names)
        writer.writerows(
            [["" if row.get(n) is None else str(row[n]) for n in names] for row in rows]
        )
        path = folder / f"{table}.csv"
        path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
        paths.append(path)
    return paths


def test_the_template_as_spreadsheet_csvs_is_the_same_contribution(tmp_path: Path) -> None:
    paths = write_spreadsheet_csvs(tmp_path)
    assert (tmp_path / "people.csv").read_bytes().startswith(b"\xef\xbb\xbfid,name,")
    as_csv = check_contribution(paths, package=ROOT, source_texts={"src-d128fkbd": TEMPLATE_TEXT})
    as_json = check_contribution(
        [TEMPLATE], package=ROOT, source_texts={"src-d128fkbd": TEMPLATE_TEXT}
    )
    assert as_csv.report.issues == [] and as_json.report.issues == []
    assert as_csv.report.checked == as_json.report.checked
    for table in PACKAGE.resources:
        names = PACKAGE.field_names(table)
        assert sorted(as_csv.contribution.frames[table].select(names).rows()) == sorted(
            as_json.contribution.frames[table].select(names).rows()
        )


# -- internals worth pinning -----------------------------------------------------------------------


def test_pointer_lines_follow_nesting_and_escapes() -> None:
    text = '{\n "a/b": [\n  {"~": 1},\n  [2,\n   3]\n ],\n "c": {}\n}'
    assert pointer_lines(text) == {
        "": 1,
        "/a~1b": 2,
        "/a~1b/0": 3,
        "/a~1b/0/~0": 3,
        "/a~1b/1": 4,
        "/a~1b/1/0": 4,
        "/a~1b/1/1": 5,
        "/c": 7,
    }


def test_every_keyword_of_the_generated_schemas_has_a_code() -> None:
    keywords: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keywords.update(node)
            for key, value in node.items():
                if key == "properties":
                    for prop in value.values():
                        walk(prop)
                elif key != "description":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for schema in schemas_for(PACKAGE).schemas.values():
        walk(schema)
    structural = {
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "title",
        "description",
        "properties",
        "items",
        "nested",
        "type",
        "required",
        "additionalProperties",
        # A pattern chosen by another field's value (patternBy): allOf of if/then, whose errors
        # are those of the chosen pattern; a const stands only in an if, which never fails.
        "allOf",
        "if",
        "then",
        "const",
    }
    assertions = (
        keywords
        - structural
        - set(PACKAGE.resources)
        - {"claim", "common", "country", "edtf-date", "edtf-period"}
    )
    assertions = {k for k in assertions if not k.startswith("id-")}
    assert assertions <= set(_KEYWORD_CODES), assertions - set(_KEYWORD_CODES)


def test_parse_json_never_recurses_into_deep_input() -> None:
    value, error = parse_json("[" * 1_000_000)
    assert value is None and error is not None and error[0] == "json.too-deep"


# -- properties ----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["people", "id", "name", "claims", "kind", "x", "sources"])
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(
    data=st.binary(max_size=200),
    kind=st.sampled_from(["c.json", "c.jsonl", "people.csv", "claims.csv"]),
)
def test_reading_arbitrary_bytes_never_raises(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, kind: str
) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    (folder / kind).write_bytes(data)
    contribution = read_contribution(PACKAGE, [folder / kind], on_record=RecordChecker(PACKAGE))
    render_json(Report(contribution.issues))


@given(value=json_values, table=st.sampled_from(["people", "events", "claims", "sources"]))
def test_reading_arbitrary_json_never_raises(
    tmp_path_factory: pytest.TempPathFactory, value: Any, table: str
) -> None:
    folder = tmp_path_factory.mktemp("json")
    (folder / "c.json").write_text(json.dumps({table: [value]}), encoding="utf-8")
    (folder / "c.jsonl").write_text(
        json.dumps({"resource": table, "record": value}) + "\n" + json.dumps(value),
        encoding="utf-8",
    )
    contribution = read_contribution(
        PACKAGE, [folder / "c.json", folder / "c.jsonl"], on_record=RecordChecker(PACKAGE)
    )
    render_json(Report(contribution.issues))


@settings(max_examples=10)
@given(value=json_values)
def test_validating_arbitrary_records_never_raises(
    tmp_path_factory: pytest.TempPathFactory, value: Any
) -> None:
    folder = tmp_path_factory.mktemp("records")
    (folder / "c.json").write_text(
        json.dumps({"people": [value], "claims": [value]}), encoding="utf-8"
    )
    render_json(validate_paths([folder / "c.json"], package=ROOT))
