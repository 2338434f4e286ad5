"""Each rule, broken once in a copy of the shipped package, is reported by exactly its code, where it is."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from nk_defections.check.rules.package import check_frictionless, paragraphs
from nk_defections.check.validate import validate_package
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Severity
from nk_defections.model.package import load_package_descriptor
from nk_defections.read.package import read_package_frames

RI = "per-zrsr3bfv"  # Ri Il Kyu
RI_CHILDREN = "per-5pxzb61c"
RI_DEFECTION = "evt-5ne4ewyz"
KIM_LEADER_POSTING = "pst-1dhyqyqn"
TAE_LONDON_POSTING = "pst-v0kvrxgc"
SOURCE = "src-1ekndjem"


# -- editing a package copy ------------------------------------------------------------------


def read_rows(pkg: Path, table: str) -> list[dict[str, str]]:
    with open(pkg / "data" / f"{table}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows(pkg: Path, table: str, rows: list[dict[str, str]]) -> None:
    header = load_package_descriptor(pkg).field_names(table)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (pkg / "data" / f"{table}.csv").write_text(buf.getvalue(), encoding="utf-8")


def edit(pkg: Path, table: str, row_id: str, *, claims_follow: bool = True, **changes: str) -> None:
    """Set cells of a row; the claims on them give the new values, where a claim can.

    So a test breaks the rule it means to, not the claims' support of the cell. A value its
    field refuses, or with a fault of text (a cell that is itself the fault), is left out of
    the claims, which keep theirs. ``claims_follow=False`` leaves every claim as it is.
    """
    rows = read_rows(pkg, table)
    (row,) = [r for r in rows if r["id"] == row_id]
    row.update(changes)
    write_rows(pkg, table, rows)
    if claims_follow and table != "claims":
        claims = read_rows(pkg, "claims")
        for claim in claims:
            value = changes.get(claim["field"]) if claim["record_id"] == row_id else None
            if value and _claimable(pkg, table, claim["field"], value):
                claim["value"] = value
        write_rows(pkg, "claims", claims)


def _claimable(pkg: Path, table: str, field: str, value: str) -> bool:
    """Whether *value* is a valid cell of *field* with clean text: what a claim may give."""
    from nk_defections.check.rules import emit_checks
    from nk_defections.check.rules.fields import text_checks, value_checks
    from nk_defections.model.dates import derived_exprs

    package = load_package_descriptor(pkg)
    spec = package.field(table, field)
    frame = pl.DataFrame({field: [value], "_report": [True]})
    dates = dict(package.date_columns(table))
    if field in dates:
        frame = frame.with_columns(derived_exprs(field, interval=dates[field], prefix="_"))
    checks, prepared = value_checks(spec, frame, field, pl.col("_report"), table=table)
    return not list(emit_checks(frame, checks + text_checks(spec, field), prepared))


def append(pkg: Path, table: str, **values: str) -> None:
    rows = read_rows(pkg, table)
    rows.append({k: values.get(k, "") for k in rows[0]})
    write_rows(pkg, table, rows)


def drop(pkg: Path, table: str, keep: Callable[[dict[str, str]], bool]) -> None:
    rows = read_rows(pkg, table)
    kept = [r for r in rows if keep(r)]
    assert len(kept) == len(rows) - 1, "a mutation drops exactly one row"
    write_rows(pkg, table, kept)


def claim_id(pkg: Path, record_id: str, field: str) -> str:
    (row,) = [
        r for r in read_rows(pkg, "claims") if r["record_id"] == record_id and r["field"] == field
    ][:1]
    return row["id"]


def line_of(pkg: Path, table: str, row_id: str, occurrence: int = -1) -> int:
    """Physical line of a row (header = 1), counting newlines inside quoted cells."""
    lines = []
    with open(pkg / "data" / f"{table}.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        start = reader.line_num + 1
        for row in reader:
            if row and row[0] == row_id:
                lines.append(start)
            start = reader.line_num + 1
    return lines[occurrence]


def findings(pkg: Path, **kwargs) -> set[tuple[str, str | None, int | None, str | None]]:
    report = validate_package(pkg, frictionless=False, **kwargs)
    return {
        (i.code, i.file, i.row, i.field) for i in report.issues if i.severity is not Severity.INFO
    }


# -- the cases: one per rule code reachable from the package -----------------------------------


@dataclass
class Case:
    code: str
    mutate: Callable[[Path], tuple[str, str, str]]  # returns (table, row id, field) of the finding
    occurrence: int = -1


def _set(
    table: str,
    row_id: str,
    field: str,
    value: str,
    *extra: Callable[[Path], None],
    report: str | None = None,
):
    def mutate(pkg: Path) -> tuple[str, str, str]:
        edit(pkg, table, row_id, **{field: value})
        for step in extra:
            step(pkg)
        return table, row_id, report or field

    return mutate


def _claim(record_id: str, field: str, original_text: str = "in November"):
    def step(pkg: Path) -> None:
        table = load_package_descriptor(pkg).table_of_prefix[record_id[:3]]
        (row,) = [r for r in read_rows(pkg, table) if r["id"] == record_id]
        append(
            pkg,
            "claims",
            id="clm-zzzzzzz" + str(len(field) % 10),
            record_id=record_id,
            field=field,
            source_id=SOURCE,
            paragraph="3",
            value=row[field],
            original_text=original_text,
            claim_rank="normal",
        )

    return step


def _claim_field(record_id: str, field: str, column: str, value: str):
    def mutate(pkg: Path) -> tuple[str, str, str]:
        cid = claim_id(pkg, record_id, field)
        edit(pkg, "claims", cid, **{column: value})
        return "claims", cid, column

    return mutate


def _duplicate_relationship(pkg: Path) -> tuple[str, str, str]:
    rows = read_rows(pkg, "relationships")
    rows.append(dict(rows[0]))
    write_rows(pkg, "relationships", rows)
    return "relationships", rows[0]["id"], "id"


def _drop_claim(record_id: str, field: str, report_field: str):
    def mutate(pkg: Path) -> tuple[str, str, str]:
        cid = claim_id(pkg, record_id, field)
        drop(pkg, "claims", lambda r: r["id"] != cid)
        table = {"rel": "relationships", "evt": "events", "pst": "postings"}[record_id[:3]]
        return table, record_id, report_field

    return mutate


def _first(table: str) -> Callable[[Path], str]:
    return lambda pkg: read_rows(pkg, table)[0]["id"]


def _self_link(pkg: Path) -> tuple[str, str, str]:
    row = read_rows(pkg, "event_links")[0]
    edit(pkg, "event_links", row["id"], related_event_id=row["event_id"])
    return "event_links", row["id"], "related_event_id"


def _empty_field_claim(pkg: Path) -> tuple[str, str, str]:
    append(
        pkg,
        "claims",
        id="clm-zzzzzzzz",
        record_id=RI,
        field="birth_date",
        source_id=SOURCE,
        paragraph="3",
        value="1985",
        original_text="in November",
        claim_rank="normal",
    )
    return "claims", "clm-zzzzzzzz", "field"


CASES = [
    Case(C.SCHEMA_REQUIRED, _set("people", RI, "name", "")),
    Case(C.SCHEMA_TYPE, _claim_field(RI_DEFECTION, "date", "paragraph", "three")),
    Case(C.SCHEMA_ENUM, _set("postings", TAE_LONDON_POSTING, "rank", "ministre")),
    Case(C.SCHEMA_PATTERN, _set("sources", SOURCE, "content_sha256", "f6452e9e")),
    Case(
        C.SCHEMA_MAX_LENGTH,
        _claim_field(RI_DEFECTION, "date", "original_text", ",".join(["in November"] * 8)),
    ),
    Case(C.SCHEMA_MINIMUM, _claim_field(RI_DEFECTION, "*", "paragraph", "0")),
    Case(C.SCHEMA_MAXIMUM, _set("people", RI_CHILDREN, "group_size_min", "3000000000")),
    Case(C.SCHEMA_FORMAT, _set("sources", SOURCE, "url", "https://example.org/%zz")),
    Case(C.SCHEMA_PATTERN, _set("sources", SOURCE, "url", "ftp://example.org/report.txt")),
    Case(C.DATE_INVALID, _set("events", RI_DEFECTION, "date", "2023-02-30")),
    Case(C.DATE_ORDER, _set("events", RI_DEFECTION, "disclosed_date", "2023-10")),
    Case(C.DATE_ORDER, _set("sources", SOURCE, "retrieved_date", "2024-07-15")),
    Case(C.COUNTRY_UNKNOWN, _set("events", RI_DEFECTION, "country", "ZZZ")),
    Case(C.TABLE_DUPLICATE_ID, _duplicate_relationship),
    Case(
        C.RECORD_END_REASON,
        _set("postings", TAE_LONDON_POSTING, "status", "unknown", report="end_reason"),
    ),
    Case(
        C.RECORD_CURRENT_ENDED,
        _set(
            "postings",
            KIM_LEADER_POSTING,
            "end_date",
            "2024",
            _claim(KIM_LEADER_POSTING, "end_date"),
        ),
    ),
    Case(
        C.RECORD_GROUP_SIZE, _set("people", RI, "group_size_min", "2", _claim(RI, "group_size_min"))
    ),
    Case(C.RECORD_SELF_REFERENCE, _self_link),
    Case(C.RECORD_CONTROL_CHARACTER, _set("people", RI_CHILDREN, "name", "children of Ri\nIl Kyu")),
    Case(C.RECORD_BIDI, _set("people", RI, "summary", "North Korean diplomat \u202ein Cuba")),
    Case(C.RECORD_FORMULA, _set("people", RI, "summary", '=HYPERLINK("x")')),
    Case(C.RECORD_NOT_NFC, _set("people", RI_CHILDREN, "name", "children of Ri Il Kyu\u0301")),
    Case(C.RECORD_WHITESPACE, _set("people", RI_CHILDREN, "name", "children of Ri Il Kyu ")),
    Case(
        C.REF_UNKNOWN["people"], _set("postings", TAE_LONDON_POSTING, "person_id", "per-zzzzzzzz")
    ),
    Case(
        C.REF_UNKNOWN["organizations"],
        _set("postings", TAE_LONDON_POSTING, "organization_id", "org-zzzzzzzz"),
    ),
    Case(
        C.REF_UNKNOWN["events"],
        _set("postings", TAE_LONDON_POSTING, "end_event_id", "evt-zzzzzzzz"),
    ),
    Case(C.REF_UNKNOWN["sources"], _claim_field(RI_DEFECTION, "*", "source_id", "src-zzzzzzzz")),
    Case(C.REF_UNKNOWN["postings"], _claim_field(RI_DEFECTION, "*", "record_id", "pst-zzzzzzzz")),
    Case(C.CLAIM_MISSING_ROW, _drop_claim("rel-501javhg", "*", "id")),
    Case(C.CLAIM_MISSING_FIELD, _drop_claim(RI_DEFECTION, "date", "date")),
    Case(C.CLAIM_MISSING_TEXT, _claim_field(RI_DEFECTION, "date", "original_text", "")),
    Case(C.CLAIM_PARAGRAPH, _claim_field(RI_DEFECTION, "*", "paragraph", "28")),
    Case(C.CLAIM_UNKNOWN_FIELD, _claim_field(RI_DEFECTION, "summary", "field", "colour")),
    Case(C.CLAIM_EMPTY_FIELD, _empty_field_claim),
]


@pytest.mark.parametrize("case", CASES, ids=[c.code for c in CASES])
def test_one_mutation_yields_exactly_its_code_at_its_row_and_field(case: Case, package_copy: Path):
    # The unmutated copy is clean: test_package.test_shipped_package_is_valid_without_warnings.
    table, row_id, field = case.mutate(package_copy)
    expected = (
        case.code,
        f"data/{table}.csv",
        line_of(package_copy, table, row_id, case.occurrence),
        field,
    )
    assert findings(package_copy) == {expected}


def test_ref_unknown_names_the_table_the_prefix_points_into(package_copy: Path):
    # A participant may be a person or an organization: the prefix decides which is missing.
    row = next(
        r
        for r in read_rows(package_copy, "event_participants")
        if r["participant_id"].startswith("org-")
    )
    edit(package_copy, "event_participants", row["id"], participant_id="per-zzzzzzzz")
    line = line_of(package_copy, "event_participants", row["id"])
    assert findings(package_copy) == {
        (C.REF_UNKNOWN["people"], "data/event_participants.csv", line, "participant_id")
    }


def test_dates_order_uses_bounds_not_strings(package_copy: Path):
    # 2023-11 and 2023-11-05 overlap: neither is certainly before the other.
    edit(package_copy, "events", RI_DEFECTION, disclosed_date="2023-11-05")
    assert findings(package_copy) == set()


def test_a_posting_outside_its_holders_life_is_out_of_order(package_copy: Path):
    edit(package_copy, "people", RI, death_date="2020")
    append(
        package_copy,
        "claims",
        id="clm-zzzzzzzz",
        record_id=RI,
        field="death_date",
        source_id=SOURCE,
        paragraph="3",
        value="2020",
        original_text="in November",
        claim_rank="normal",
    )
    found = findings(package_copy)
    counsellor = line_of(package_copy, "postings", "pst-rkra52py")
    assert (C.DATE_ORDER, "data/postings.csv", counsellor, "end_date") in found
    assert {code for code, *_ in found} == {C.DATE_ORDER}


# -- files --------------------------------------------------------------------------------------

FILE_CASES = {
    C.FILE_UNREADABLE: (None, None),
    C.FILE_EMPTY: (b"", 1),
    C.FILE_ENCODING: (
        "id,event_id,motive,stated_by,note\nmot-aaaaaaaa,evt-5ne4ewyz,other,,caf\xe9\n".encode(
            "latin-1"
        ),
        2,
    ),
    C.FILE_BINARY: (b"id,event_id\n\x00\x01", 2),
    C.CSV_MALFORMED: (
        b'id,event_id,motive,stated_by,note\nmot-aaaaaaaa,evt-5ne4ewyz,other,,"open\n',
        2,
    ),
    C.CSV_RAGGED_ROW: (
        b"id,event_id,motive,stated_by,note\nmot-aaaaaaaa,evt-5ne4ewyz,other,,x,extra\n",
        2,
    ),
    C.CSV_UNKNOWN_COLUMN: (b"id,event_id,motive,stated_by,note,colour\n", 1),
    C.CSV_MISSING_COLUMN: (b"id,event_id,motive,stated_by\n", 1),
    C.CSV_DUPLICATE_COLUMN: (b"id,event_id,motive,stated_by,note,note\n", 1),
}


@pytest.mark.parametrize("code", list(FILE_CASES), ids=list(FILE_CASES))
def test_a_broken_file_is_reported_with_its_line(code: str, package_copy: Path):
    content, line = FILE_CASES[code]
    path = package_copy / "data" / "motives.csv"
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    report = validate_package(package_copy, frictionless=False)
    located = {(i.code, i.file, i.row) for i in report.issues if i.file == "data/motives.csv"}
    assert (code, "data/motives.csv", line) in located
    assert {c for c, *_ in located} == {code}


def test_csv_lines_count_newlines_inside_quoted_cells(package_copy: Path):
    rows = read_rows(package_copy, "people")
    for row in rows[:3]:
        row["summary"] = "first line\nsecond line\nthird"
    write_rows(package_copy, "people", rows)
    edit(package_copy, "people", rows[5]["id"], kind="grup")
    line = line_of(package_copy, "people", rows[5]["id"])
    assert line == 2 + 5 + 3 * 2
    assert findings(package_copy) == {(C.SCHEMA_ENUM, "data/people.csv", line, "kind")}


def test_a_bom_and_crlf_line_endings_are_accepted(package_copy: Path):
    path = package_copy / "data" / "people.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert findings(package_copy) == set()


def test_enum_typo_suggests_the_nearest_value(package_copy: Path):
    edit(package_copy, "postings", TAE_LONDON_POSTING, rank="ambasador")
    report = validate_package(package_copy, frictionless=False)
    (issue,) = [i for i in report.issues if i.code == C.SCHEMA_ENUM]
    assert "did you mean 'ambassador'?" in issue.message and "'ambasador'" in issue.message


# -- the descriptor -----------------------------------------------------------------------------


def _descriptor_with_path(pkg: Path, value: str) -> None:
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][8]["path"] = value
    (pkg / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")


@pytest.mark.parametrize(
    "path",
    [
        "https://example.org/motives.csv",
        "/etc/hostname",
        "data/../../motives.csv",
        "file:///etc/hostname",
    ],
)
def test_unsafe_resource_paths_are_refused_before_reading(path: str, package_copy: Path):
    _descriptor_with_path(package_copy, path)
    report = validate_package(package_copy, frictionless=False)
    assert [(i.code, i.file) for i in report.issues] == [(C.PACKAGE_DESCRIPTOR, "datapackage.json")]


def test_a_symlink_out_of_the_package_is_refused(package_copy: Path, tmp_path: Path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes((package_copy / "data" / "motives.csv").read_bytes())
    (package_copy / "data" / "motives.csv").unlink()
    os.symlink(outside, package_copy / "data" / "motives.csv")
    report = validate_package(package_copy, frictionless=False)
    assert [i.code for i in report.issues] == [C.PACKAGE_DESCRIPTOR]
    assert "symlink" in report.issues[0].message


def test_a_broken_descriptor_is_a_finding_not_a_crash(package_copy: Path):
    (package_copy / "datapackage.json").write_text("{not json", encoding="utf-8")
    assert [i.code for i in validate_package(package_copy).issues] == [C.PACKAGE_DESCRIPTOR]


def test_version_must_be_semver(package_copy: Path):
    descriptor = json.loads((package_copy / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["version"] = "banana"
    (package_copy / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    assert findings(package_copy) == {(C.PACKAGE_PROFILE, "datapackage.json", None, "version")}


def test_frictionless_findings_are_reported_where_ours_are_silent(package_copy: Path):
    _duplicate_relationship(package_copy)
    package = load_package_descriptor(package_copy)
    issues = list(check_frictionless(package, covered=set()))
    assert any(
        i.code == C.PACKAGE_FRICTIONLESS and i.file == "data/relationships.csv" for i in issues
    )
    # Where our own checks already reported the row, frictionless adds nothing.
    line = line_of(package_copy, "relationships", read_rows(package_copy, "relationships")[0]["id"])
    assert list(check_frictionless(package, covered={("data/relationships.csv", line)})) == []


def test_frictionless_rows_are_located_at_their_physical_lines(package_copy: Path):
    # frictionless numbers rows by record; a cell with a newline above a fault shifts the lines.
    rows = read_rows(package_copy, "events")
    rows[0]["summary"] += "\nand a second line"
    rows.append(dict(rows[1]))  # a repeated id: ours and frictionless' primary key both see it
    write_rows(package_copy, "events", rows)
    report = validate_package(package_copy, frictionless=True)
    line = line_of(package_copy, "events", rows[1]["id"])
    assert ("data/events.csv", line) in {
        (i.file, i.row) for i in report.issues if i.code == C.TABLE_DUPLICATE_ID
    }
    assert [i for i in report.issues if i.code == C.PACKAGE_FRICTIONLESS] == []


# -- the evidence check, against a stand-in text built from the claims' own words -----------------


def stand_in_text(pkg: Path) -> bytes:
    """A 27-paragraph text whose paragraph N holds every original_text cited at N."""
    cited: dict[int, list[str]] = {n: [] for n in range(1, 28)}
    for claim in read_rows(pkg, "claims"):
        if claim["original_text"]:
            cited[int(claim["paragraph"])].append(claim["original_text"])
    return "".join(
        " | ".join(sorted(set(words))) + f" ({n})\n\n" for n, words in cited.items()
    ).encode("utf-8")


@pytest.fixture
def evidence(package_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    text = stand_in_text(package_copy)
    path = tmp_path / "source.txt"
    path.write_bytes(text)
    edit(package_copy, "sources", SOURCE, content_sha256=hashlib.sha256(text).hexdigest())
    return package_copy, path


def test_evidence_check_passes_on_a_matching_text(evidence):
    pkg, text = evidence
    assert len(paragraphs(text.read_text(encoding="utf-8"))) == 27
    report = validate_package(pkg, frictionless=False, source_texts={SOURCE: text})
    assert report.issues == []


def test_evidence_check_is_reported_as_skipped_without_a_text(evidence):
    pkg, _ = evidence
    report = validate_package(pkg, frictionless=False)
    assert [(i.code, i.severity, i.record_id) for i in report.issues] == [
        (C.SOURCE_TEXT_SKIPPED, Severity.INFO, SOURCE)
    ]
    assert report.is_valid(strict=True)


def test_evidence_check_finds_words_missing_from_their_paragraph(evidence):
    pkg, text = evidence
    cid = claim_id(pkg, RI_DEFECTION, "date")
    edit(pkg, "claims", cid, original_text="in December")
    report = validate_package(pkg, frictionless=False, source_texts={SOURCE: text})
    assert {(i.code, i.file, i.row, i.field) for i in report.issues} == {
        (C.SOURCE_TEXT_NOT_FOUND, "data/claims.csv", line_of(pkg, "claims", cid), "original_text")
    }


def test_evidence_check_compares_sha256_and_paragraph_count(evidence, tmp_path: Path):
    pkg, text = evidence
    longer = tmp_path / "longer.txt"
    longer.write_bytes(text.read_bytes() + b"an extra paragraph\n")
    report = validate_package(pkg, frictionless=False, source_texts={SOURCE: longer})
    assert {i.code for i in report.issues} == {C.SOURCE_SHA256, C.SOURCE_PARAGRAPHS}


def test_evidence_check_names_an_unknown_source(evidence):
    pkg, text = evidence
    report = validate_package(
        pkg, frictionless=False, source_texts={SOURCE: text, "src-zzzzzzzz": text}
    )
    assert [i.code for i in report.issues] == [C.SOURCE_UNKNOWN]


def test_package_frames_have_every_row(package_copy: Path):
    frames, issues = read_package_frames(load_package_descriptor(package_copy))
    assert issues == []
    assert {t: f.height for t, f in frames.items()} == {
        t: len(read_rows(package_copy, t)) for t in frames
    }
