"""Spreadsheet formulas: every published payload is refused in every text column, and no release
CSV can hold one (model/spreadsheet.py states the rule)."""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nk_defections.check.validate import validate_paths
from nk_defections.findings import codes as C
from nk_defections.model.package import REDIRECTS, load_package_descriptor
from nk_defections.model.spreadsheet import FORMULA, TRIGGERS, formula_expr, is_formula

from .conftest import ROOT

PAYLOADS: list[str] = json.loads(
    (Path(__file__).parent / "fixtures" / "formula-payloads" / "payloads.json").read_text(
        encoding="utf-8"
    )
)
PACKAGE = load_package_descriptor(ROOT)
#: The tables a contribution may write rows of (redirects are written by amendments alone).
CONTRIBUTED = [table for table in PACKAGE.resources if table != REDIRECTS]


def _text_fields(table: str) -> list[str]:
    return [f["name"] for f in PACKAGE.fields(table) if f["type"] == "string"]


def _ids(table: str, n: int) -> list[str]:
    prefix = PACKAGE.prefixes[table]
    return [f"{prefix}-{i:08d}" for i in range(n)]


def _formula_findings(paths: list[Path]) -> set[tuple[str | None, str | None]]:
    report = validate_paths(paths, package=ROOT)
    return {
        (issue.record_id, issue.field) for issue in report.issues if issue.code == C.RECORD_FORMULA
    }


def _expected(table: str) -> set[tuple[str | None, str | None]]:
    fields = [f for f in _text_fields(table) if f != "id"]
    ids = _ids(table, len(PAYLOADS))
    return {(i, f) for i in ids for f in fields} | {(p, "id") for p in PAYLOADS}


@pytest.mark.parametrize("table", CONTRIBUTED)
def test_every_payload_is_refused_in_every_text_column_of_a_csv_contribution(
    table: str, tmp_path: Path
) -> None:
    header = PACKAGE.field_names(table)
    text = set(_text_fields(table))
    path = tmp_path / f"{table}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        # One row per payload in every text column but the id; one more per payload as the id.
        for identifier, payload in zip(_ids(table, len(PAYLOADS)), PAYLOADS, strict=True):
            writer.writerow(
                identifier if name == "id" else payload if name in text else "" for name in header
            )
        for payload in PAYLOADS:
            writer.writerow(payload if name == "id" else "" for name in header)
    assert _formula_findings([path]) >= _expected(table)


def test_every_payload_is_refused_in_every_text_column_of_a_json_contribution(
    tmp_path: Path,
) -> None:
    envelope: dict[str, list[dict[str, str]]] = {}
    for table in CONTRIBUTED:
        text = _text_fields(table)
        records = [
            {name: identifier if name == "id" else payload for name in text}
            for identifier, payload in zip(_ids(table, len(PAYLOADS)), PAYLOADS, strict=True)
        ]
        records += [{"id": payload} for payload in PAYLOADS]
        envelope[table] = records
    path = tmp_path / "contribution.json"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    found = _formula_findings([path])
    for table in CONTRIBUTED:
        missing = _expected(table) - found
        assert not missing, (table, sorted(missing)[:5])


def test_the_trigger_class_is_every_character_whose_compatibility_form_starts_a_formula() -> None:
    derived = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.normalize("NFKC", chr(c)) in ("=", "+", "-", "@")
    }
    listed = set(TRIGGERS.replace("\\-", "-"))
    assert derived <= listed
    assert listed - derived == {"\u2212"}  # the minus sign: the one look-alike added by hand


@pytest.mark.parametrize(
    "value",
    [
        "-3",
        "+2.5",
        "1970",
        "Kim Jong Un",
        "e-mail",
        "a=b",
        "[..2024-07-16]",
        "../2023",
        "2013/2023",
    ],
)
def test_values_a_spreadsheet_reads_as_text_or_numbers_pass(value: str) -> None:
    assert not is_formula(value)


@given(st.text(max_size=30))
def test_the_polars_rule_and_the_python_rule_agree(value: str) -> None:
    frame = pl.DataFrame({"v": [value]})
    assert frame.select(formula_expr("v"))["v"][0] is is_formula(value)


def test_the_rule_is_anchored_at_the_start() -> None:
    assert FORMULA.startswith("^")
    assert not is_formula("Ri Il Kyu =cmd")


def test_the_release_writer_refuses_a_formula_that_reached_the_data(package_copy: Path) -> None:
    # Defence in depth: the validator refuses formulas, and the release writer, which builds
    # without validating when called on its own, refuses any that got into data/ anyway.
    from nk_defections.read.bundle import open_bundle
    from nk_defections.release.build import UnsafeCell, write_release

    people = package_copy / "data" / "people.csv"
    lines = people.read_text(encoding="utf-8").splitlines(keepends=True)
    first = lines[1].split(",")
    first[1] = "\"-2+3+cmd|'/C calc'!A1\""
    lines[1] = ",".join(first)
    people.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(UnsafeCell, match=r"people\.csv.*name"):
        write_release(open_bundle(package_copy), package_copy.parent / "dist")
    assert not (package_copy.parent / "dist" / "nk-defections-0.1.0").exists()


def test_the_shipped_release_csvs_hold_no_formula(tmp_path: Path) -> None:
    from nk_defections.read.bundle import open_bundle
    from nk_defections.release.build import write_release

    release = write_release(open_bundle(ROOT), tmp_path)
    for path in sorted((release.folder / "data").glob("*.csv")):
        frame = pl.read_csv(path, infer_schema=False)
        for column in frame.columns:
            assert not frame.select(formula_expr(column).any()).item(), (path.name, column)
