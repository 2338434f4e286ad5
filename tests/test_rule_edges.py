"""The edges of each rule: where a finding starts and stops, found by mutation testing of the rules.

Each test breaks a copy of the shipped package (or brings it right up to a rule's boundary) and
asserts exactly the findings that follow: code, file, physical line and field.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nk_defections.check.rules.fields import closed
from nk_defections.check.validate import validate_package, validate_paths
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Severity
from nk_defections.model.package import load_package_descriptor
from nk_defections.progress import listening

from .conftest import ROOT
from .test_rules import (
    RI,
    RI_CHILDREN,
    RI_DEFECTION,
    SOURCE,
    TAE_LONDON_POSTING,
    append,
    claim_id,
    drop,
    edit,
    findings,
    line_of,
    read_rows,
    write_rows,
)

PACKAGE = load_package_descriptor(ROOT)
COUNSELLOR = "pst-rkra52py"  # Ri Il Kyu's last posting: no start date, ended 2023-11
_ids = itertools.count()


def claim(pkg: Path, record_id: str, field: str, original_text: str = "in November") -> None:
    """Add a claim for *field* of *record_id*, giving its value, so that the value is evidenced."""
    table = PACKAGE.table_of_prefix[record_id[:3]]
    (row,) = [r for r in read_rows(pkg, table) if r["id"] == record_id]
    append(
        pkg,
        "claims",
        id=f"clm-zzzzzz{next(_ids) % 100:02d}",
        record_id=record_id,
        field=field,
        source_id=SOURCE,
        paragraph="3",
        value=row[field],
        original_text=original_text,
        claim_rank="normal",
    )


def at(pkg: Path, code: str, table: str, row_id: str, field: str) -> tuple[str, str, int, str]:
    return (code, f"data/{table}.csv", line_of(pkg, table, row_id), field)


def messages(pkg: Path, code: str) -> list[str]:
    return [i.message for i in validate_package(pkg, frictionless=False).issues if i.code == code]


# -- a contribution's report is about the contribution only ---------------------------------------


def _contribution(tmp_path: Path, name: str) -> Path:
    fixture = (
        ROOT
        / "tests"
        / "fixtures"
        / "invalid"
        / "record.whitespace"
        / "input"
        / "contribution.json"
    )
    document = json.loads(fixture.read_text(encoding="utf-8"))
    document["people"][0]["name"] = name
    path = tmp_path / "contribution.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _contribution_findings(path: Path, package: Path) -> set[tuple]:
    report = validate_paths([path], package=package)
    return {
        (i.code, i.pointer, i.record_id) for i in report.issues if i.severity is not Severity.INFO
    }


def test_a_contribution_is_not_blamed_for_the_faults_of_the_package(
    package_copy: Path, tmp_path: Path
):
    edit(package_copy, "people", RI_CHILDREN, name="his children ", summary="=1")
    edit(package_copy, "postings", TAE_LONDON_POSTING, status="unknown")
    edit(package_copy, "events", RI_DEFECTION, disclosed_date="2023-10")
    assert len(findings(package_copy)) == 4
    assert _contribution_findings(_contribution(tmp_path, "Fixture Person"), package_copy) == set()


def test_a_contribution_gets_its_own_findings_beside_a_faulty_package(
    package_copy: Path, tmp_path: Path
):
    edit(package_copy, "people", RI_CHILDREN, name="his children ")
    assert _contribution_findings(_contribution(tmp_path, " Fixture Person"), package_copy) == {
        (C.RECORD_WHITESPACE, "/people/0/name", "per-00000001")
    }


# -- record: group sizes, self references ----------------------------------------------------------


def test_a_group_whose_minimum_equals_its_maximum_is_fine(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, group_size_max="2")
    claim(package_copy, RI_CHILDREN, "group_size_max")
    assert findings(package_copy) == set()


def test_a_group_whose_minimum_exceeds_its_maximum_is_reported_on_the_minimum(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, group_size_max="1")
    claim(package_copy, RI_CHILDREN, "group_size_max")
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_GROUP_SIZE, "people", RI_CHILDREN, "group_size_min")
    }
    assert messages(package_copy, C.RECORD_GROUP_SIZE) == [
        "group_size_min 2 exceeds group_size_max 1"
    ]


def test_an_individual_with_only_a_maximum_group_size_is_reported(package_copy: Path):
    edit(package_copy, "people", RI, group_size_max="3")
    claim(package_copy, RI, "group_size_max")
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_GROUP_SIZE, "people", RI, "group_size_min")
    }
    assert messages(package_copy, C.RECORD_GROUP_SIZE) == ["an individual has no group size"]


def test_a_relationship_with_oneself_is_a_self_reference(package_copy: Path):
    rel = read_rows(package_copy, "relationships")[0]
    edit(package_copy, "relationships", rel["id"], related_person_id=rel["person_id"])
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_SELF_REFERENCE, "relationships", rel["id"], "related_person_id")
    }
    assert messages(package_copy, C.RECORD_SELF_REFERENCE) == [
        f"related_person_id {rel['person_id']!r} points at the row's own person_id"
    ]


def test_an_organization_that_is_its_own_parent_is_a_self_reference(package_copy: Path):
    org = next(r for r in read_rows(package_copy, "organizations") if r["parent_id"])
    edit(package_copy, "organizations", org["id"], parent_id=org["id"])
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_SELF_REFERENCE, "organizations", org["id"], "parent_id")
    }


def test_a_current_posting_may_have_an_end_reason_only_once_ended(package_copy: Path):
    edit(package_copy, "postings", TAE_LONDON_POSTING, status="current", end_date="")
    found = findings(package_copy)
    assert (
        at(package_copy, C.RECORD_END_REASON, "postings", TAE_LONDON_POSTING, "end_reason") in found
    )
    assert messages(package_copy, C.RECORD_END_REASON)[0].endswith(
        "requires status 'ended', not 'current'"
    )


def test_rows_without_an_id_are_reported_as_such_only(package_copy: Path):
    # Neither unclaimed nor duplicates of each other: an empty id is one fault, where it is.
    for name in ("Kim A", "Kim B"):
        append(package_copy, "people", name=name, identity_status="unnamed", kind="individual")
    rows = read_rows(package_copy, "people")
    lines = {len(rows), len(rows) + 1}  # the last two rows, after the header
    assert findings(package_copy) == {
        (C.SCHEMA_REQUIRED, "data/people.csv", line, "id") for line in lines
    }


# -- dates: the order of a pair is decided on whole days -------------------------------------------


def test_a_disclosure_on_the_day_of_the_event_is_in_order(package_copy: Path):
    edit(package_copy, "events", RI_DEFECTION, date="2023-11-05", disclosed_date="2023-11-05")
    assert findings(package_copy) == set()


def test_a_disclosure_the_day_before_the_event_is_out_of_order(package_copy: Path):
    edit(package_copy, "events", RI_DEFECTION, date="2023-11-05", disclosed_date="2023-11-04")
    assert findings(package_copy) == {
        at(package_copy, C.DATE_ORDER, "events", RI_DEFECTION, "disclosed_date")
    }
    assert messages(package_copy, C.DATE_ORDER) == [
        "disclosed_date '2023-11-04' is before date '2023-11-05'"
    ]


def _born(pkg: Path, birth: str, start: str) -> None:
    edit(pkg, "people", RI, birth_date=birth)
    claim(pkg, RI, "birth_date")
    edit(pkg, "postings", COUNSELLOR, start_date=start)
    claim(pkg, COUNSELLOR, "start_date")


def test_a_posting_that_starts_on_its_holders_birthday_is_within_life(package_copy: Path):
    _born(package_copy, "1970-01-01", "1970-01-01")
    assert findings(package_copy) == set()


def test_a_posting_that_starts_before_its_holders_birth_is_out_of_order(package_copy: Path):
    _born(package_copy, "1970-01-01", "1969-12-31")
    assert findings(package_copy) == {
        at(package_copy, C.DATE_ORDER, "postings", COUNSELLOR, "start_date")
    }
    assert messages(package_copy, C.DATE_ORDER) == [
        "start_date '1969-12-31' is before the holder's birth '1970-01-01'"
    ]


def test_a_posting_that_may_end_on_the_day_its_holder_dies_is_within_life(package_copy: Path):
    # The counsellor posting ended in 2023-11: on the 1st at the earliest, the day of this death.
    edit(package_copy, "people", RI, death_date="2023-11-01")
    claim(package_copy, RI, "death_date")
    assert findings(package_copy) == set()


def test_a_posting_that_ends_after_its_holders_death_names_the_death(package_copy: Path):
    edit(package_copy, "people", RI, death_date="2023-10-31")
    claim(package_copy, RI, "death_date")
    assert at(package_copy, C.DATE_ORDER, "postings", COUNSELLOR, "end_date") in findings(
        package_copy
    )
    assert "end_date '2023-11' is after the holder's death '2023-10-31'" in messages(
        package_copy, C.DATE_ORDER
    )


# -- claims: which columns need a claim, and original_text -----------------------------------------


@pytest.mark.parametrize("column", ["title", "rank", "status", "end_reason", "role", "motive"])
def test_each_claimed_column_needs_a_claim_of_its_own(column: str, package_copy: Path):
    table = {"role": "event_participants", "motive": "motives"}.get(column, "postings")
    prefix = {"event_participants": "ptc-", "motives": "mot-", "postings": "pst-"}[table]
    claimed = {(r["record_id"], r["field"]) for r in read_rows(package_copy, "claims")}
    row = next(
        r for r in read_rows(package_copy, table) if r[column] and (r["id"], column) in claimed
    )
    assert row["id"].startswith(prefix)
    cid = claim_id(package_copy, row["id"], column)
    drop(package_copy, "claims", lambda r: r["id"] != cid)
    assert findings(package_copy) == {
        at(package_copy, C.CLAIM_MISSING_FIELD, table, row["id"], column)
    }
    assert messages(package_copy, C.CLAIM_MISSING_FIELD) == [
        f"{column} {row[column]!r} of {row['id']} has no claim of its own"
    ]


def test_a_claim_on_a_number_needs_original_text(package_copy: Path):
    cid = claim_id(package_copy, RI_CHILDREN, "group_size_min")
    edit(package_copy, "claims", cid, original_text="")
    assert findings(package_copy) == {
        at(package_copy, C.CLAIM_MISSING_TEXT, "claims", cid, "original_text")
    }


def test_a_claim_on_a_text_column_needs_no_original_text(package_copy: Path):
    cid = claim_id(package_copy, TAE_LONDON_POSTING, "title")
    edit(package_copy, "claims", cid, original_text="")
    assert findings(package_copy) == set()


def test_a_claim_may_cite_the_last_paragraph_of_its_source(package_copy: Path):
    cid = claim_id(package_copy, RI_DEFECTION, "*")
    edit(package_copy, "claims", cid, paragraph=read_rows(package_copy, "sources")[0]["paragraphs"])
    assert findings(package_copy) == set()


def test_a_claim_past_the_last_paragraph_says_how_many_there_are(package_copy: Path):
    cid = claim_id(package_copy, RI_DEFECTION, "*")
    paragraphs = int(read_rows(package_copy, "sources")[0]["paragraphs"])
    edit(package_copy, "claims", cid, paragraph=str(paragraphs + 1))
    assert findings(package_copy) == {
        at(package_copy, C.CLAIM_PARAGRAPH, "claims", cid, "paragraph")
    }
    assert messages(package_copy, C.CLAIM_PARAGRAPH) == [
        f"paragraph {paragraphs + 1} is past the end of {SOURCE}, which has {paragraphs}"
    ]


# -- fields: boundaries of each constraint ---------------------------------------------------------


def test_an_integer_at_its_maximum_is_fine_and_one_more_is_not(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, group_size_min="2147483647")
    assert findings(package_copy) == set()
    edit(package_copy, "people", RI_CHILDREN, group_size_min="2147483648")
    assert findings(package_copy) == {
        at(package_copy, C.SCHEMA_MAXIMUM, "people", RI_CHILDREN, "group_size_min")
    }
    assert messages(package_copy, C.SCHEMA_MAXIMUM) == [
        "2147483648 is greater than the maximum 2147483647"
    ]


def test_an_integer_at_its_minimum_is_fine(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, group_size_min="1")
    assert findings(package_copy) == set()


def test_a_paragraph_below_the_minimum_names_it(package_copy: Path):
    cid = claim_id(package_copy, RI_DEFECTION, "*")
    edit(package_copy, "claims", cid, paragraph="0")
    assert messages(package_copy, C.SCHEMA_MINIMUM) == ["0 is less than the minimum 1"]


@pytest.mark.parametrize(
    "value", ["1.5", "1e3", "x", "1_000", "\u0663"]
)  # Python's int() takes the last two
def test_an_integer_column_refuses_what_is_not_an_integer(value: str, package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, group_size_min=value)
    assert findings(package_copy) == {
        at(package_copy, C.SCHEMA_TYPE, "people", RI_CHILDREN, "group_size_min")
    }
    assert messages(package_copy, C.SCHEMA_TYPE) == [f"{value!r} is not an integer"]


@pytest.mark.parametrize(
    "value", ["inf", "-inf", "NaN", "ten", "1_000.5", "\u0663"]
)  # float() takes the last two
def test_a_number_column_refuses_what_is_not_a_finite_number(value: str, package_copy: Path):
    stat = read_rows(package_copy, "statistics")[0]["id"]
    edit(package_copy, "statistics", stat, value=value)
    assert findings(package_copy) == {at(package_copy, C.SCHEMA_TYPE, "statistics", stat, "value")}
    assert messages(package_copy, C.SCHEMA_TYPE) == [f"{value!r} is not a finite number"]


def test_a_number_column_takes_a_negative_fraction(package_copy: Path):
    stat = read_rows(package_copy, "statistics")[0]["id"]
    edit(package_copy, "statistics", stat, value="-0.25")
    assert findings(package_copy) == set()


def test_a_one_character_name_is_long_enough(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, name="X")
    assert findings(package_copy) == set()


def test_a_name_of_the_maximum_length_is_fine_and_one_more_is_not(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, name="x" * 200)
    assert findings(package_copy) == set()
    edit(package_copy, "people", RI_CHILDREN, name="x" * 201)
    assert findings(package_copy) == {
        at(package_copy, C.SCHEMA_MAX_LENGTH, "people", RI_CHILDREN, "name")
    }
    assert messages(package_copy, C.SCHEMA_MAX_LENGTH) == [
        "'name' has 201 characters, more than 200"
    ]


@pytest.mark.parametrize(
    ("table", "row_id", "column", "value", "suffix"),
    [
        # a near miss: the nearest allowed value
        ("postings", TAE_LONDON_POSTING, "status", "endd", "; did you mean 'ended'?"),
        # no near miss among more than eight values: nothing more
        ("postings", TAE_LONDON_POSTING, "rank", "zzz", ""),
        # no near miss among at most eight values: all of them
        ("postings", TAE_LONDON_POSTING, "status", "zzz", "; allowed: current, ended, unknown"),
        (
            "motives",
            None,
            "motive",
            "zzz",
            "; allowed: political_disillusionment, career_grievance, medical_care, "
            "children_future, fear_of_punishment, economic_hardship, outside_information, other",
        ),
    ],
)
def test_an_enum_message_suggests_a_value_or_lists_a_short_vocabulary(
    table, row_id, column, value, suffix, package_copy: Path
):
    row_id = row_id or read_rows(package_copy, table)[0]["id"]
    edit(package_copy, table, row_id, **{column: value})
    assert at(package_copy, C.SCHEMA_ENUM, table, row_id, column) in findings(package_copy)
    assert messages(package_copy, C.SCHEMA_ENUM) == [
        f"{value!r} is not an allowed {column}{suffix}"
    ]


def test_a_country_code_is_checked_against_the_iso_list(package_copy: Path):
    edit(package_copy, "events", RI_DEFECTION, country="XKX")
    assert findings(package_copy) == {
        at(package_copy, C.COUNTRY_UNKNOWN, "events", RI_DEFECTION, "country")
    }
    assert messages(package_copy, C.COUNTRY_UNKNOWN) == [
        "'XKX' is not an ISO 3166-1 alpha-3 country code"
    ]


def test_a_pattern_must_match_the_whole_value(package_copy: Path):
    cid = claim_id(package_copy, RI_DEFECTION, "date")
    edit(package_copy, "claims", cid, field="date!")
    found = findings(package_copy)
    assert at(package_copy, C.SCHEMA_PATTERN, "claims", cid, "field") in found
    assert messages(package_copy, C.SCHEMA_PATTERN) == [
        "'date!' does not match the pattern of 'field' (\\*|[a-z][a-z0-9_]*)"
    ]


# -- text: which characters, in which columns ------------------------------------------------------


def test_a_newline_and_a_tab_are_allowed_in_a_multiline_column(package_copy: Path):
    edit(package_copy, "people", RI, summary="first line\nsecond\tline")
    assert findings(package_copy) == set()


@pytest.mark.parametrize(
    ("value", "character"),
    [("his\tchildren", "U+0009"), ("his\x7fchildren", "U+007F"), ("his\x85children", "U+0085")],
)
def test_a_break_or_control_character_in_a_one_line_column_is_named(
    value: str, character: str, package_copy: Path
):
    edit(package_copy, "people", RI_CHILDREN, name=value)
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_CONTROL_CHARACTER, "people", RI_CHILDREN, "name")
    }
    assert messages(package_copy, C.RECORD_CONTROL_CHARACTER) == [
        f"'name' holds the control character {character}"
    ]


def test_a_control_character_in_a_multiline_column_is_named(package_copy: Path):
    edit(package_copy, "people", RI, summary="North Korean\x07 diplomat")
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_CONTROL_CHARACTER, "people", RI, "summary")
    }
    assert messages(package_copy, C.RECORD_CONTROL_CHARACTER) == [
        "'summary' holds the control character U+0007"
    ]


def test_a_bidi_control_is_named(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, name="his \u2066children")
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_BIDI, "people", RI_CHILDREN, "name")
    }
    assert messages(package_copy, C.RECORD_BIDI) == [
        "'name' holds the bidirectional control character U+2066"
    ]


@pytest.mark.parametrize("value", ["+82 2 123", "@SUM(A1)", "-x", "=1"])
def test_a_formula_prefix_is_reported(value: str, package_copy: Path):
    edit(package_copy, "people", RI, summary=value)
    assert findings(package_copy) == {at(package_copy, C.RECORD_FORMULA, "people", RI, "summary")}
    assert messages(package_copy, C.RECORD_FORMULA) == [
        f"{value[:20]!r} would run as a formula in a spreadsheet: begin the text with a word, "
        "not with = + - @ (or a TAB, CR, space or quote before them)"
    ]


def test_a_text_that_begins_with_a_negative_number_is_a_formula(package_copy: Path):
    # "-2+3+cmd|..." begins with a negative number too: only a cell that is a number alone passes.
    edit(package_copy, "people", RI, summary="-5 degrees in Pyongyang")
    assert findings(package_copy) == {at(package_copy, C.RECORD_FORMULA, "people", RI, "summary")}


def test_a_plain_number_in_a_text_column_is_no_formula(package_copy: Path):
    edit(package_copy, "people", RI, summary="-5")
    assert findings(package_copy) == set()


@pytest.mark.parametrize("value", [" his children", "his children\u3000"])
def test_white_space_at_either_end_is_reported(value: str, package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, name=value)
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_WHITESPACE, "people", RI_CHILDREN, "name")
    }
    assert messages(package_copy, C.RECORD_WHITESPACE) == [
        f"{value!r} begins or ends with white space"
    ]


def test_hangul_and_hanja_are_fine(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, name="리일규 李一奎 — his children")
    assert findings(package_copy) == set()


def test_a_decomposed_hangul_name_is_not_nfc(package_copy: Path):
    edit(package_copy, "people", RI_CHILDREN, name="\u1105\u1175")  # 리 as two jamo
    assert findings(package_copy) == {
        at(package_copy, C.RECORD_NOT_NFC, "people", RI_CHILDREN, "name")
    }


@pytest.mark.parametrize(
    ("column", "value", "refused", "code"),
    [
        ("rank", "ambassador ", C.SCHEMA_ENUM, C.RECORD_WHITESPACE),
        ("rank", "=ambassador", C.SCHEMA_ENUM, C.RECORD_FORMULA),
        ("sending_state", "PRK\u202e", C.COUNTRY_UNKNOWN, C.RECORD_BIDI),
        ("end_event_id", "event\x07", C.SCHEMA_PATTERN, C.RECORD_CONTROL_CHARACTER),
    ],
)
def test_a_value_a_closed_column_refuses_also_gets_its_text_finding(
    column, value, refused, code, package_copy: Path
):
    edit(package_copy, "postings", TAE_LONDON_POSTING, **{column: value})
    assert findings(package_copy) == {
        at(package_copy, refused, "postings", TAE_LONDON_POSTING, column),
        at(package_copy, code, "postings", TAE_LONDON_POSTING, column),
    }


# -- which patterns and vocabularies are closed (their values cannot fail the text checks) --------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("per-[0-9a-hjkmnp-tv-z]{8}", True),
        ("\\*|[a-z][a-z0-9_]*", True),
        ("(?:per|org)-[a-z]{8}", True),
        ("[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", True),
        ("^[A-Z]+$", True),
        ("a*?b", True),
        ("[a-z ]+", False),  # a space
        ("[A-~]+", True),  # A is 0x41, ~ is 0x7e
        ("[!-~]+", False),  # includes = + @
        ("[ -~]+", False),  # from the space
        ("[!-\\x7f]+", False),  # to DEL
        ("[a-\\u00ff]", False),
        ("[a=]", False),
        ("x|+y", False),
        ("@x", False),
        ("-x", False),
        ("-?[a-z]+", False),
        ("[a-z]*-x", False),  # may begin with -
        ("[a-z]*?-x", False),
        ("(?:[a-z]|-)x", False),
        ("(?:|-)x", False),
        ("(?:a|b?)-x", False),
        ("(a)?-x", False),
        ("a-x", True),
        ("(?:a|-b)", False),
        ("[^a]", False),
        ("\\s+", False),
        ("[\\w]+", False),
        (".+", False),
        ("(a)\\1", False),
        ("(?=a)a", False),
        ("(?:a|.)", False),
        ("(?:a|(?:.))b", False),
        ("(?:.)b", False),
        ("a{2}.", False),
        ("[a-z]+(", False),  # not a pattern
    ],
)
def test_a_pattern_is_closed_only_if_every_value_it_admits_is_clean_text(
    pattern: str, expected: bool
):
    assert closed({"name": "x", "type": "string", "constraints": {"pattern": pattern}}) is expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ({"type": "string", "constraints": {"enum": ["alive", "dead", "Kim Jong Un"]}}, True),
        ({"type": "string", "constraints": {"enum": ["alive", " dead"]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive", "dead "]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive", ""]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive", "=dead"]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive", "a\tb"]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive", "a\u202eb"]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive", "e\u0301"]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive", 3]}}, False),
        ({"type": "string", "constraints": {"enum": ["alive"], "pattern": "[a-z ]+"}}, True),
        ({"type": "string", "constraints": {"pattern": ""}}, False),
        ({"type": "string", "constraints": {}}, False),
        ({"type": "string"}, False),
        ({"type": "integer", "constraints": {"pattern": "[0-9]+"}}, False),
        ({"constraints": {"pattern": "[0-9]+"}}, False),
    ],
)
def test_a_vocabulary_is_closed_only_if_every_word_is_clean_text(field: dict, expected: bool):
    assert closed({"name": "x", **field}) is expected


# -- progress: the steps a terminal shows while the rules run ----------------------------------------


def test_each_rule_is_announced_as_a_step_in_order(package_copy: Path):
    heard: list[str] = []
    with listening(lambda description, total=None: heard.append(description)):
        validate_package(package_copy, frictionless=False)
    assert [s for s in heard if s.startswith("checking ")] == [
        "checking fields",
        "checking text",
        "checking duplicate id",
        "checking retired id",
        "checking end reason without end",
        "checking current with end date",
        "checking group size",
        "checking self reference",
        "checking order",
        "checking posting in life",
        "checking derived bounds",
        "checking references",
        "checking row claims",
        "checking field claims",
        "checking claim soundness",
        "checking amendments",
        "checking pattern by",
        "checking identity",
        "checking name tags",
        "checking duplicate person",
        "checking duplicate organization",
        "checking duplicate posting",
        "checking value present",
        "checking value form",
        "checking value support",
        "checking preferred",
        "checking disputes",
        "checking rank reason",
    ]


# -- a Table Schema "date" field (none in the shipped descriptor, which uses EDTF patterns) ---------


@pytest.mark.parametrize(
    ("value", "wrong"),
    [("2023-11-05", False), ("2023-02-30", True), ("2023-2-3", True), ("5 Nov 2023", True)],
)
def test_a_date_field_takes_only_real_iso_dates(value: str, wrong: bool, package_copy: Path):
    descriptor = json.loads((package_copy / "datapackage.json").read_text(encoding="utf-8"))
    (sources,) = [r for r in descriptor["resources"] if r["name"] == "sources"]
    (field,) = [f for f in sources["schema"]["fields"] if f["name"] == "published_date"]
    field["type"] = "date"
    field.pop("constraints", None)
    (package_copy / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    edit(package_copy, "sources", SOURCE, published_date=value)
    found = {f for f in findings(package_copy) if f[0] == C.SCHEMA_FORMAT}
    # (the JSON Schema's "format: date" finds the same cell: one finding, whichever message)
    assert found == (
        {at(package_copy, C.SCHEMA_FORMAT, "sources", SOURCE, "published_date")} if wrong else set()
    )


def test_a_package_without_a_column_of_an_ordered_pair_is_checked_without_it(package_copy: Path):
    # A release made before sources had retrieved_date (0.1.0) still validates.
    descriptor = json.loads((package_copy / "datapackage.json").read_text(encoding="utf-8"))
    (sources,) = [r for r in descriptor["resources"] if r["name"] == "sources"]
    sources["schema"]["fields"] = [
        f for f in sources["schema"]["fields"] if f["name"] != "retrieved_date"
    ]
    (package_copy / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rows = read_rows(package_copy, "sources")
    for row in rows:
        del row["retrieved_date"]
    write_rows(package_copy, "sources", rows)
    assert findings(package_copy) == set()


def test_country_codes_read_from_the_database_file_are_pycountrys():
    import pycountry

    from nk_defections.model.countries import alpha3_codes

    assert alpha3_codes() == frozenset(c.alpha_3 for c in pycountry.countries)


# -- a pattern checked on a column's distinct values refuses what the regex refuses ---------------

_SOURCE = {
    "name": "source_id",
    "type": "string",
    "constraints": {"pattern": "src-[0-9a-hjkmnp-tv-z]{8}"},
}


@given(
    pool=st.lists(
        st.one_of(
            st.from_regex(r"\Asrc-[0-9a-hjkmnp-tv-z]{8}\Z"),
            st.sampled_from(
                [
                    "src-٠٠٠٠١٠٠٠",
                    "src-00000001\n",
                    "SRC-00000001",
                    "src-0000000i",
                    "",
                    " src-00000001",
                ]
            ),
            st.none(),
        ),
        min_size=1,
        max_size=6,
    ),
    head_only=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_a_pattern_checked_on_distinct_values_refuses_what_the_regex_refuses(pool, head_only, seed):
    import random

    import polars as pl

    from nk_defections.check.rules.fields import _few_values, _refusals

    chooser = random.Random(seed)
    values = [chooser.choice(pool) for _ in range(5000)]
    if head_only:  # few values in the first rows, then a different value in each row
        values += [f"src-{i:08d}" if i % 7 else f"bad-{i}" for i in range(3000)]
    frame = pl.DataFrame({"source_id": values}, schema={"source_id": pl.String})
    assert _few_values(frame, "source_id")
    ((name, distinct),) = _refusals(_SOURCE, frame).items()
    ((_, regex),) = _refusals(
        _SOURCE, frame.head(0)
    ).items()  # a small frame: the regex on every cell
    found = frame.select(distinct.fill_null(False).alias("a"), regex.fill_null(False).alias("b"))
    assert found["a"].to_list() == found["b"].to_list()
    assert found["b"].any() == any(
        v is not None and not re.fullmatch(r"src-[0-9a-hjkmnp-tv-z]{8}", v, re.ASCII)
        for v in values
    )
