"""Properties of the validator over whole generated packages: valid data passes, each fault is found once, where it is.

The strategies (tests/strategies.py) build packages valid by construction; the mutations there
break one rule each and name the row and field the finding must carry. The EDTF properties
(our bounds equal the ``edtf`` library's; calendar-invalid days are rejected by both) live in
test_dates.py, next to the examples they generalise.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nk_defections.issues import RULES, Severity
from nk_defections.records import cell_text, child_properties, flatten, nest, typed_value
from nk_defections.schemas import schemas_for
from nk_defections.tables import read_csv
from nk_defections.validate import validate_package

from .strategies import MUTATIONS, PACKAGE, TABLES, GeneratedPackage, Mutated, packages, render_csv


def share(fraction: float, least: int = 2) -> settings:
    """The loaded profile's example count scaled for a slow property (each example validates a package)."""
    return settings(
        max_examples=max(least, int(settings.default.max_examples * fraction)),
        # A whole package is a large example by nature: every table, and a claim per value.
        suppress_health_check=[HealthCheck.large_base_example, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@contextmanager
def folder() -> Iterator[Path]:
    # Not pytest's tmp_path: a function-scoped fixture is shared by every example.
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def file_of(table: str) -> str:
    return PACKAGE.resources[table]["path"]


Finding = tuple[str, str | None, int | None, str | None]


def findings(root: Path, texts: dict[str, Path] | None = None, *, info: bool = False) -> set[Finding]:
    report = validate_package(root, frictionless=False, source_texts=texts)
    return {(i.code, i.file, i.row, i.field) for i in report.issues if info or i.severity is not Severity.INFO}


def write_texts(texts: dict[str, bytes], where: Path) -> dict[str, Path]:
    where.mkdir(parents=True, exist_ok=True)
    out = {}
    for source_id, data in texts.items():
        out[source_id] = where / f"{source_id}.txt"
        out[source_id].write_bytes(data)
    return out


# -- valid by construction --------------------------------------------------------------------


@share(0.5)
@given(packages())
def test_a_package_valid_by_construction_yields_no_findings(pkg: GeneratedPackage):
    with folder() as tmp:
        pkg.write(tmp / "pkg")
        texts = pkg.write_sources(tmp / "texts")
        report = validate_package(tmp / "pkg", frictionless=False, source_texts=texts)
        assert [(i.code, i.file, i.row, i.field, i.message) for i in report.issues] == []


# -- one mutation, one finding ------------------------------------------------------------------

#: Codes no package mutation can reach, and where they are tested instead.
NOT_MUTATED = {
    "file.unreadable": "test_rules (a missing table file: every other table's references dangle)",
    "file.unknown-kind": "contributions only",
    "json.syntax": "contributions only",
    "json.duplicate-key": "contributions only",
    "json.constant": "contributions only",
    "json.too-deep": "contributions only",
    "json.top-level": "contributions only",
    "json.unknown-resource": "contributions only",
    "json.number-range": "contributions only",
    "schema.min-length": "JSON only: an empty CSV cell is a missing value (schema.required)",
    "schema.additional-properties": "JSON only: a CSV header with an extra column is csv.unknown-column",
    "schema.other": "no generated schema keyword maps to it",
    "ref.unknown-claim": "nothing refers to a claim",
    "ref.id-exists": "contributions only",
    "date.bounds-mismatch": "releases only (a release's stored bounds against its dates)",
    "package.descriptor": "test_rules (descriptor cases)",
    "package.profile": "test_rules and test_package (descriptor cases)",
    "package.frictionless": "test_rules (frictionless pass)",
}


def test_every_rule_code_is_mutated_or_says_where_it_is_tested():
    registered = {code for code in RULES if not code.startswith("example.")}
    assert registered - set(MUTATIONS) - set(NOT_MUTATED) == set()
    assert set(MUTATIONS) & set(NOT_MUTATED) == set()
    assert set(MUTATIONS) <= registered


def _expected_and_found(mutated: Mutated, root: Path) -> tuple[set[Finding], set[Finding]]:
    lines = mutated.package.write(root / "pkg")
    if mutated.edit is not None:
        path = root / "pkg" / file_of(mutated.table)
        data, line, field = mutated.edit(path.read_bytes(), lines[mutated.table])
        path.write_bytes(data)
        expected = {(mutated.code, file_of(mutated.table), line, field)}
        # An unreadable table leaves the references into it dangling: compare within the file.
        found = {f for f in findings(root / "pkg") if f[1] == file_of(mutated.table)}
        return expected, found
    texts = write_texts(mutated.texts, root / "texts") if mutated.texts is not None else None
    if mutated.table is None:
        expected = {(mutated.code, None, None, mutated.field)}
    else:
        expected = {(mutated.code, file_of(mutated.table), lines[mutated.table][mutated.index], mutated.field)}
    return expected, findings(root / "pkg", texts, info=texts is not None)


@pytest.mark.parametrize("code", sorted(MUTATIONS))
@share(1 / 15)
@given(data=st.data())
def test_one_mutation_yields_exactly_its_code_at_the_mutated_row_and_field(code: str, data: st.DataObject):
    pkg = data.draw(packages(rich=True), label="package")
    mutated = MUTATIONS[code](data.draw, pkg)
    with folder() as tmp:
        expected, found = _expected_and_found(mutated, tmp)
        assert found == expected


# -- nested JSON records <-> flat rows <-> CSV cells ---------------------------------------------


def _by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: str(r.get("id")))


@share(0.5)
@given(packages())
def test_nested_records_and_flat_rows_round_trip(pkg: GeneratedPackage):
    typed = pkg.typed()
    nested = nest(PACKAGE, typed)
    # Every child found its parent: only top-level tables (and claims on sources) stay at top level.
    children = {child for table in TABLES for prop, (child, _) in child_properties(table).items()}
    for table, records in nested.items():
        assert table not in children or all(PACKAGE.prefixes["sources"] == r.get("record_id", "")[:3] for r in records), table
    back: dict[str, list[dict]] = {t: [] for t in TABLES}
    for table, records in nested.items():
        for record in records:
            for child, row, _pointer in flatten(table, record):
                back[child].append(row)
    for table in TABLES:
        assert _by_id(back[table]) == _by_id(typed[table]), table


@share(0.5)
@given(packages())
def test_nested_records_of_a_valid_package_pass_their_json_schema(pkg: GeneratedPackage):
    schemas = schemas_for(PACKAGE)
    for table, records in pkg.nested().items():
        validator = schemas.validator(table)
        for record in records:
            assert [e.message for e in validator.iter_errors(record)] == [], (table, record)
    assert [e.message for e in schemas.validator("contribution").iter_errors(pkg.nested())] == []


@share(0.5)
@given(packages())
def test_typed_value_and_cell_text_are_inverse_on_every_valid_cell(pkg: GeneratedPackage):
    for table in TABLES:
        for field in PACKAGE.fields(table):
            for row in pkg.rows(table):
                cell = row[field["name"]]
                value = typed_value(field, cell)
                if cell is None:
                    assert value is None
                    continue
                assert cell_text(value) == cell, (table, field["name"])
                assert isinstance(value, {"string": str, "integer": int, "number": (int, float)}[field["type"]])


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_a_json_number_survives_a_trip_through_its_cell(value: int | float):
    field = {"name": "value", "type": "number"}
    back = typed_value(field, cell_text(value))
    assert back == value and type(back) is type(value)
    assert str(back) == str(value)  # -0.0 stays -0.0


#: Cell text that CSV has to work for: separators, quotes, line breaks, BOMs, several scripts.
TRICKY = st.sampled_from([",", '"', '""', "\n", "\n\n", " ", "\t", "\ufeff", "'", ";", "한국", "리일규", "Yŏng-ho",
                          "😀", "👨\u200d👩\u200d👧", "\u00a0", "=1+1", "-", "NULL", "null", "NA", "\\", "#"])
CELLS = st.one_of(
    st.none(),
    st.lists(st.one_of(TRICKY, st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r"), max_size=6)),
             max_size=5).map("".join),
)


@given(
    table=st.sampled_from(TABLES),
    data=st.data(),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_csv_write_then_read_loses_nothing(table: str, data: st.DataObject, crlf: bool, bom: bool):
    names = PACKAGE.field_names(table)
    rows = data.draw(st.lists(st.fixed_dictionaries({n: CELLS for n in names}), max_size=6), label="rows")
    order = list(range(len(rows)))  # as given: read_csv keeps the file's order
    raw, lines = render_csv(table, rows, order=order, crlf=crlf, bom=bom)
    with folder() as tmp:
        path = tmp / f"{table}.csv"
        path.write_bytes(raw)
        frame, issues = read_csv(PACKAGE, table, path, path.name)
    assert issues == []
    assert frame.select(names).rows(named=True) == [{n: (r[n] or None) for n in names} for r in rows]
    assert frame["_line"].to_list() == lines
