"""Properties of the validator over whole generated packages: valid data passes, each fault is found once, where it is.

The strategies (tests/strategies.py) build packages valid by construction; the mutations there
break one rule each and name the row and field the finding must carry. The EDTF properties
(our bounds equal the ``edtf`` library's; calendar-invalid days are rejected by both) live in
test_dates.py, next to the examples they generalise.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from nk_defections.check.validate import validate_package, validate_paths
from nk_defections.findings.issues import RULES, Severity
from nk_defections.model.records import (
    cell,
    flatten,
    nest,
    typed_rows,
    typed_value,
)
from nk_defections.model.schemas import schemas_for
from nk_defections.read import csv as csv_reader
from nk_defections.read.csv import read_csv
from nk_defections.release.build import build_release
from nk_defections.report.json import render as render_json
from nk_defections.write.canonical import format_package
from nk_defections.write.merge import add_contribution

from .strategies import (
    LAYOUTS,
    MUTATIONS,
    PACKAGE,
    ROOT,
    TABLES,
    GeneratedContribution,
    GeneratedPackage,
    Mutated,
    constraints,
    contributions,
    near_cells,
    packages,
    render_csv,
)


def share(fraction: float, least: int = 2) -> settings:
    """The loaded profile's example count scaled for a slow property (each example validates a package)."""
    return settings(
        max_examples=max(least, int(settings.default.max_examples * fraction)),
        # A whole package is a large example by nature: every table, and a claim per value.
        suppress_health_check=[
            HealthCheck.large_base_example,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# Examples per property as a share of the profile's max_examples (ci 60, deep 2000), by what one
# example costs; properties of single values or rows take the profile's count as it is.
BUILDS = share(1 / 8)  # builds a package, validates nothing: ci 7, deep 250
VALIDATES = share(1 / 10)  # validates a package (about half a second): ci 6, deep 200
TWICE = share(1 / 20)  # validates twice, or runs frictionless, fmt or add too: ci 3, deep 100
RELEASES = share(1 / 40)  # builds two releases: ci 2, deep 50
PER_CODE = share(1 / 100)  # once per rule code (about fifty): ci 2, deep 20


@contextmanager
def folder() -> Iterator[Path]:
    # Not pytest's tmp_path: a function-scoped fixture is shared by every example.
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def file_of(table: str) -> str:
    return PACKAGE.resources[table]["path"]


Finding = tuple[str, str | None, int | None, str | None]


def findings(
    root: Path, texts: dict[str, Path] | None = None, *, info: bool = False
) -> set[Finding]:
    report = validate_package(root, frictionless=False, source_texts=texts)
    return {
        (i.code, i.file, i.row, i.field)
        for i in report.issues
        if info or i.severity is not Severity.INFO
    }


def write_texts(texts: dict[str, bytes], where: Path) -> dict[str, Path]:
    where.mkdir(parents=True, exist_ok=True)
    out = {}
    for source_id, data in texts.items():
        out[source_id] = where / f"{source_id}.txt"
        out[source_id].write_bytes(data)
    return out


# -- valid by construction --------------------------------------------------------------------


@VALIDATES
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
    "file.unreadable": "test_rules (a missing table file)",
    "csv.delimiter": "test_messages, test_golden (a semicolon-separated export)",
    "file.unknown-kind": "contributions only",
    "json.syntax": "contributions only",
    "json.duplicate-key": "contributions only",
    "json.constant": "contributions only",
    "json.too-deep": "contributions only",
    "json.top-level": "contributions only",
    "json.unknown-resource": "contributions only",
    "json.number-range": "contributions only",
    "json.example": "contributions only: test_cli_contribute (the template)",
    "schema.min-length": "JSON only: an empty CSV cell is a missing value (schema.required)",
    "schema.additional-properties": "JSON only: a CSV header with an extra column is csv.unknown-column",
    "schema.other": "no generated schema keyword maps to it",
    "ref.unknown-claim": "nothing refers to a claim",
    "ref.unknown-row": "a table the generated packages do not have: test_package (a toy resource)",
    "ref.id-exists": "contributions only",
    **{
        code: "contributions with amendments only: test_amendments and test_golden"
        for code in (
            "amend.unknown-record",
            "amend.retired-record",
            "amend.unknown-field",
            "amend.fixed-field",
            "amend.op-fields",
            "amend.wrong-table",
            "amend.merge-mismatch",
            "amend.retire-orphans",
            "ref.redirected",
            "ref.retired",
            "ref.id-retired",
        )
    },
    "date.bounds-mismatch": "releases only (a release's stored bounds against its dates)",
    "package.descriptor": "test_rules (descriptor cases)",
    "package.profile": "test_rules and test_package (descriptor cases)",
    "package.frictionless": "test_rules (frictionless pass)",
    "package.interrupted-merge": "test_golden (a journal left in the package folder)",
    "release.hash-mismatch": "test_golden, test_release (a release file changed after the build)",
    # Generated packages keep these cells out of the generic mutations (strategies.IDENTITY_CELLS).
    "identity.no-preferred-name": "test_identity (a status without its name)",
    "identity.several-preferred-names": "test_identity (a second current preferred name)",
    "identity.name-mismatch": "test_identity (people.name and the preferred name differ)",
    "identity.unnamed-with-preferred-name": "test_identity (an unnamed person named)",
    "name.lang": "test_identity (tags langcodes refuses)",
    "name.script-mismatch": "test_identity (letters of another script)",
    "name.romanization": "test_identity (romanization iff ko-Latn)",
    "duplicate.person": "test_identity (a second copy of a person, in every contribution form)",
    "duplicate.posting": "test_identity (a repeated posting)",
    "duplicate.organization": "test_identity (a repeated organization)",
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
        expected = {
            (
                mutated.code,
                file_of(mutated.table),
                lines[mutated.table][mutated.index],
                mutated.field,
            )
        }
    return expected, findings(root / "pkg", texts, info=texts is not None)


@pytest.mark.parametrize("code", sorted(MUTATIONS))
@PER_CODE
@given(data=st.data())
def test_one_mutation_yields_exactly_its_code_at_the_mutated_row_and_field(
    code: str, data: st.DataObject
):
    pkg = data.draw(packages(rich=True), label="package")
    mutated = MUTATIONS[code](data.draw, pkg)
    with folder() as tmp:
        expected, found = _expected_and_found(mutated, tmp)
        assert found == expected


# -- nested JSON records <-> flat rows <-> CSV cells ---------------------------------------------


def _by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: str(r.get("id")))


@BUILDS
@given(packages())
def test_nested_records_and_flat_rows_round_trip(pkg: GeneratedPackage):
    typed = pkg.typed()
    nested = nest(PACKAGE, typed)
    # Every child found its parent: only top-level tables (and claims on sources) stay at top level.
    children = {child for table in TABLES for prop, (child, _) in PACKAGE.children(table).items()}
    for table, records in nested.items():
        assert table not in children or all(
            PACKAGE.prefixes["sources"] == r.get("record_id", "")[:3] for r in records
        ), table
    back: dict[str, list[dict]] = {t: [] for t in TABLES}
    for table, records in nested.items():
        for record in records:
            for child, row, _pointer in flatten(PACKAGE, table, record):
                back[child].append(row)
    for table in TABLES:
        assert _by_id(back[table]) == _by_id(typed[table]), table


@BUILDS
@given(packages())
def test_nested_records_of_a_valid_package_pass_their_json_schema(pkg: GeneratedPackage):
    schemas = schemas_for(PACKAGE)
    for table, records in pkg.nested().items():
        validator = schemas.validator(table)
        for record in records:
            assert [e.message for e in validator.iter_errors(record)] == [], (table, record)
    assert [e.message for e in schemas.validator("contribution").iter_errors(pkg.nested())] == []


@BUILDS
@given(packages())
def test_typed_value_and_cell_are_inverse_on_every_valid_cell(pkg: GeneratedPackage):
    for table in TABLES:
        for field in PACKAGE.fields(table):
            for row in pkg.rows(table):
                text = row[field["name"]]
                value = typed_value(field, text)
                if text is None:
                    assert value is None
                    continue
                assert cell(field, value) == text, (table, field["name"])
                assert isinstance(
                    value, {"string": str, "integer": int, "number": (int, float)}[field["type"]]
                )


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_a_json_number_survives_a_trip_through_its_cell(value: int | float):
    field = {"name": "value", "type": "number"}
    back = typed_value(field, cell(field, value))
    assert back == value and type(back) is type(value)
    assert str(back) == str(value)  # -0.0 stays -0.0


#: Cell text that CSV has to work for: separators, quotes, line breaks, BOMs, several scripts.
TRICKY = st.sampled_from(
    [
        ",",
        '"',
        '""',
        "\n",
        "\n\n",
        " ",
        "\t",
        "\ufeff",
        "'",
        ";",
        "한국",
        "리일규",
        "Yŏng-ho",
        "😀",
        "👨\u200d👩\u200d👧",
        "\u00a0",
        "=1+1",
        "-",
        "NULL",
        "null",
        "NA",
        "\\",
        "#",
    ]
)
CELLS = st.one_of(
    st.none(),
    st.lists(
        st.one_of(
            TRICKY,
            st.text(
                st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r"), max_size=6
            ),
        ),
        max_size=5,
    ).map("".join),
)


@given(
    table=st.sampled_from(TABLES),
    data=st.data(),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_csv_write_then_read_loses_nothing(table: str, data: st.DataObject, crlf: bool, bom: bool):
    names = PACKAGE.field_names(table)
    rows = data.draw(
        st.lists(st.fixed_dictionaries({n: CELLS for n in names}), max_size=6), label="rows"
    )
    order = list(range(len(rows)))  # as given: read_csv keeps the file's order
    raw, lines = render_csv(table, rows, order=order, crlf=crlf, bom=bom)
    with folder() as tmp:
        path = tmp / f"{table}.csv"
        path.write_bytes(raw)
        frame, issues = read_csv(PACKAGE, table, path, path.name)
    assert issues == []
    assert frame.select(names).rows(named=True) == [
        {n: (r[n] or None) for n in names} for r in rows
    ]
    assert frame["_line"].to_list() == lines


# -- validate never raises: it only returns findings ----------------------------------------------


@st.composite
def corrupted(draw: st.DrawFn, data: bytes) -> bytes:
    """*data* with a few bytes inserted, deleted or replaced (quotes, commas, line ends, UTF-8 pieces)."""
    pieces = [
        b'"',
        b",",
        b"\n",
        b"\r",
        b"\r\n",
        b"\x00",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\xed\x95",
        b"\xc3",
        b"\t",
        b" ",
    ]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.sampled_from(pieces) | st.binary(min_size=1, max_size=3))
        op = draw(st.sampled_from(["insert", "replace", "delete"]))
        if op == "insert":
            data = data[:at] + piece + data[at:]
        elif op == "replace":
            data = data[:at] + piece + data[at + len(piece) :]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 8)) :]
    return data


def _csv_text(table: str) -> st.SearchStrategy[bytes]:
    header = ",".join(PACKAGE.field_names(table))
    body = st.text(st.sampled_from(',"\n\r \t;x1-é한😀\ufeff'), max_size=80)
    return st.tuples(st.sampled_from([header, header + "\n", ""]), body).map(
        lambda p: (p[0] + p[1]).encode("utf-8")
    )


@VALIDATES
@given(
    data=st.data(), table=st.sampled_from(TABLES), kind=st.sampled_from(["bytes", "text", "near"])
)
def test_validate_never_raises_on_a_table_of_arbitrary_bytes(
    data: st.DataObject, table: str, kind: str
):
    pkg = data.draw(packages(max_rows=1), label="package")
    with folder() as tmp:
        pkg.write(tmp / "pkg")
        path = tmp / "pkg" / file_of(table)
        if kind == "bytes":
            raw = data.draw(st.binary(max_size=300), label="bytes")
        elif kind == "text":
            raw = data.draw(_csv_text(table), label="csv text")
        else:
            raw = data.draw(corrupted(path.read_bytes()), label="corrupted")
        path.write_bytes(raw)
        report = validate_package(tmp / "pkg", frictionless=False)
        assert all(i.code in RULES for i in report.issues)
        render_json(report)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@given(
    data=st.data(),
    table=st.sampled_from(TABLES),
    end=st.sampled_from(["", "\n", "\n\n", "\n \n", '"']),
)
def test_a_csv_reads_the_same_by_counting_and_the_exact_way(
    data: st.DataObject, table: str, end: str
):
    # A file is first read by counting its commas and newlines (tables._read_counted); whatever
    # its lines (quoted cells with commas, newlines and quotes; blank, short and long records;
    # stray quotes and CRs; Hangul, emoji), the result is the exact reader's: the same frame with
    # the same physical lines, or the same findings.
    names, real = PACKAGE.field_names(table), csv_reader._read_counted
    plain = st.text(st.sampled_from(" x1-é한😀\t;"), max_size=3)
    cells = [plain, st.text(st.sampled_from(' x,\n"é한'), max_size=4).map(_quoted)]
    if data.draw(st.booleans(), label="stray"):
        cells.append(
            st.text(st.sampled_from(' x,\n"\r'), max_size=3)
        )  # quotes unpaired or misplaced
    cell = st.one_of(cells)
    row = st.one_of(
        st.lists(cell, min_size=len(names), max_size=len(names)),
        st.lists(cell, max_size=len(names) + 2),
    ).map(",".join)
    body = "\n".join(data.draw(st.lists(row, max_size=6), label="rows"))
    raw = (",".join(names) + "\n" + body + end).encode("utf-8")
    with folder() as tmp:
        path = tmp / f"{table}.csv"
        path.write_bytes(raw)
        returned = []
        with mock.patch(
            "nk_defections.read.csv._read_counted",
            lambda *a, **k: returned.append(real(*a, **k)) or returned[-1],
        ):
            counted = read_csv(PACKAGE, table, path, "t.csv")
        quotes = "with quotes" if b'"' in raw else "without quotes"
        event(
            f"{'not parsed' if not returned else 'exact' if returned[0] is None else 'counted'}, {quotes}"
        )
        with mock.patch("nk_defections.read.csv._read_counted", lambda data, header, counts: None):
            exact = read_csv(PACKAGE, table, path, "t.csv")
    assert counted[1] == exact[1]
    assert (counted[0] is None) == (exact[0] is None)
    if counted[0] is not None:
        assert counted[0].equals(exact[0])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)


def _pointers(value: object, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _pointers(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _pointers(child, (*path, i))


def _structural(path: tuple) -> bool:
    """Paths to what the loader checks: resources, their names, paths, schemas and lists of fields."""
    if not path or path[0] != "resources":
        return len(path) == 1
    shape = [str, int, ("name", "path", "schema"), ("fields",)]
    return len(path) <= len(shape) and all(
        p in s if isinstance(s, tuple) else isinstance(p, s)
        for p, s in zip(path, shape, strict=False)
    )


@st.composite
def near_descriptors(draw: st.DrawFn) -> object:
    """The repository's descriptor with one structural value replaced by arbitrary JSON, or dropped.

    Structural: what the loader promises to check before anything is read (resources, their
    names, paths and Table Schemas of named, typed fields). Edits inside a field (a renamed
    column, an enum that is not a list) change the data model the rules are written for: the
    shipped descriptor is checked against the profile and the generated schemas in test_package.
    """
    descriptor = copy.deepcopy(PACKAGE.descriptor)
    path = draw(st.sampled_from([p for p in _pointers(descriptor) if p and _structural(p)]))
    parent = descriptor
    for part in path[:-1]:
        parent = parent[part]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return descriptor


@given(
    descriptor=st.one_of(json_values, near_descriptors()),
    email=st.sampled_from(["a@b.org", "not an email", ""]),
)
def test_the_profile_prefilter_agrees_with_jsonschema(descriptor: object, email: str):
    # validate asks jsonschema-rs whether the descriptor meets the Data Package profile, and
    # jsonschema to explain only when it does not: both must judge every descriptor alike.
    from nk_defections.check.rules.package import _profile_prefilter, _profile_validator

    if isinstance(descriptor, dict):
        descriptor = {**descriptor, "contributors": [{"title": "x", "email": email}]}
    assert _profile_prefilter().is_valid(descriptor) == _profile_validator().is_valid(descriptor)


@VALIDATES
@example(
    descriptor={
        **json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8")),
        "resources": [
            r
            for r in json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))[
                "resources"
            ]
            if r["name"] != "claims"
        ],
    }
)  # once found by the deep profile: no claims table
@example(
    descriptor={
        **json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8")),
        "resources": [
            {**r, "path": [""]} if r["name"] == "postings" else r
            for r in json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))[
                "resources"
            ]
        ],
    }
)  # and a path in parts, one of them empty
@given(descriptor=st.one_of(json_values, near_descriptors()))
def test_validate_never_raises_on_an_arbitrary_descriptor(descriptor: object):
    with folder() as tmp:
        root = tmp / "pkg"
        shutil.copytree(ROOT / "data", root / "data")
        (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        report = validate_package(root, frictionless=False)
        assert all(i.code in RULES for i in report.issues)


# -- findings do not depend on the order of rows ----------------------------------------------------


def _unlocated(root: Path) -> Counter:
    """Findings without their line: what, in which file and field, about which record."""
    report = validate_package(root, frictionless=False)
    return Counter((i.code, i.file, i.field, i.record_id, i.message) for i in report.issues)


@TWICE
@given(data=st.data())
def test_shuffling_rows_does_not_change_the_findings(data: st.DataObject):
    pkg = data.draw(packages(rich=True), label="package")
    row_level = sorted(
        code for code, m in MUTATIONS.items() if not code.startswith(("csv.", "file.", "source."))
    )
    for code in data.draw(st.lists(st.sampled_from(row_level), max_size=3), label="mutations"):
        pkg = MUTATIONS[code](data.draw, pkg).package
    order = {t: data.draw(st.permutations(range(len(pkg.rows(t)))), label=t) for t in TABLES}
    with folder() as tmp:
        pkg.write(tmp / "sorted")
        pkg.write(tmp / "shuffled", order=order)
        assert _unlocated(tmp / "shuffled") == _unlocated(tmp / "sorted")


# -- regressions: examples the properties found, kept as plain tests --------------------------------


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b'""' + ",".join(PACKAGE.field_names("motives")).encode() + b"\n", 1),  # header: `""id`
        (
            ",".join(PACKAGE.field_names("motives")).encode()
            + b'\nmot-00000000,evt-00000000,other,,""y\n',
            2,
        ),
        (
            ",".join(PACKAGE.field_names("motives")).encode()
            + b'\nmot-00000000,evt-00000000,other,,"a\nb"\nmot-00000001,"x"y,other,,\n',
            4,
        ),
    ],
    ids=["header", "cell", "after-a-multiline-cell"],
)
def test_text_after_a_closing_quote_is_malformed_not_a_crash(content: bytes, line: int):
    with folder() as tmp:
        path = tmp / "motives.csv"
        path.write_bytes(content)
        frame, issues = read_csv(PACKAGE, "motives", path, "motives.csv")
    assert frame is None
    assert [(i.code, i.row) for i in issues] == [("csv.malformed", line)]


def _without(descriptor: dict, edit) -> dict:
    descriptor = copy.deepcopy(descriptor)
    edit(descriptor)
    return descriptor


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["resources"].pop(3),
        lambda d: d["resources"].__setitem__(0, None),
        lambda d: d["resources"][1].pop("schema"),
        lambda d: d["resources"][1]["schema"].__setitem__("fields", {"id": "string"}),
        lambda d: d["resources"][2]["schema"]["fields"][0].pop("type"),
        lambda d: d["resources"][2]["schema"]["fields"][0].__setitem__("type", ["string"]),
        lambda d: d["resources"][2]["schema"]["fields"].pop(0),
    ],
    ids=[
        "a-resource-missing",
        "a-resource-null",
        "no-schema",
        "fields-not-a-list",
        "untyped-field",
        "list-type",
        "no-id",
    ],
)
def test_a_descriptor_the_validator_cannot_apply_is_a_finding_not_a_crash(edit):
    with folder() as tmp:
        shutil.copytree(ROOT / "data", tmp / "data")
        (tmp / "datapackage.json").write_text(
            json.dumps(_without(PACKAGE.descriptor, edit)), encoding="utf-8"
        )
        report = validate_package(tmp, frictionless=False)
    assert [i.code for i in report.issues] == ["package.descriptor"]


# -- differential: frictionless and we agree on the cells both of us check -----------------------------

#: Our codes that frictionless checks too, as the kind of frictionless error that reports them.
SHARED_CHECKS = {
    "schema.type": "type",
    "schema.required": "constraint",
    "schema.enum": "constraint",
    "schema.pattern": "constraint",
    "schema.minimum": "constraint",
    "schema.maximum": "constraint",
    "schema.max-length": "constraint",
    "date.invalid": "constraint",  # our dates are strings with a calendar-exact pattern
    "country.unknown": "constraint",  # where the code breaks the pattern; frictionless has no list
    "table.duplicate-id": "unique",
}
FRICTIONLESS_KINDS = {
    "type-error": "type",
    "constraint-error": "constraint",
    "primary-key": "unique",
    "unique-error": "unique",
    "foreign-key": "foreign-key",
}
#: The mutations whose faults both tools look for (frictionless ignores categories, country lists,
#: polymorphic references and every cross-field rule).
DIFFERENTIAL = [
    "schema.type",
    "schema.enum",
    "schema.pattern",
    "schema.required",
    "schema.minimum",
    "schema.maximum",
    "schema.max-length",
    "date.invalid",
    "table.duplicate-id",
    *[f"ref.unknown-{label}" for label in ("person", "organization", "event", "source")],
]


def _frictionless_findings(
    root: Path, lines: dict[str, list[int]]
) -> set[tuple[str, int, str, str]]:
    from frictionless import Package as FrictionlessPackage

    report = FrictionlessPackage(str(root / "datapackage.json")).validate(limit_errors=10**9)
    out = set()
    for task in report.tasks:
        record_lines = sorted(lines[task.name])
        for error in task.errors:
            kind = FRICTIONLESS_KINDS.get(error.type)
            if kind is None:
                continue
            # frictionless counts records (header = 1), not physical lines: map one to the other.
            line = record_lines[error.row_number - 2]
            field = (
                getattr(error, "field_name", None)
                or (getattr(error, "field_names", None) or ["id"])[0]
            )
            out.add((file_of(task.name), line, field, kind))
    assert not report.errors, report.errors
    # A malformed id in a foreign-key column is one fault that frictionless counts twice (its
    # pattern, and a key missing from the target); we report it once, as the pattern.
    return {f for f in out if not (f[3] == "foreign-key" and (*f[:3], "constraint") in out)}


def _frictionless_reads(table: str, column: str, value: str) -> bool:
    """Whether frictionless' own reader takes *value* for that numeric field."""
    from frictionless import fields

    kind = {"integer": fields.IntegerField, "number": fields.NumberField}[
        PACKAGE.field(table, column)["type"]
    ]
    return kind(name=column).read_cell(value)[1] is None


def _our_shared_findings(
    root: Path, pkg: GeneratedPackage, lines: dict[str, list[int]]
) -> set[tuple[str, int, str, str]]:
    # The row a finding is about, by its line: a repeated id names two rows.
    at_line = {
        (t, line): row for t in TABLES for line, row in zip(lines[t], pkg.rows(t), strict=True)
    }
    out = set()
    foreign = {(t, column) for t in TABLES for column, _ in PACKAGE.foreign_keys(t)}
    for issue in validate_package(root, frictionless=False).issues:
        table = next(t for t in TABLES if file_of(t) == issue.file) if issue.file else None
        if issue.code.startswith("ref.unknown-") and (table, issue.field) in foreign:
            out.add((issue.file, issue.row, issue.field, "foreign-key"))
            continue
        kind = SHARED_CHECKS.get(issue.code)
        if kind is None:
            continue
        if issue.code in ("date.invalid", "country.unknown"):
            # Only where the value breaks the pattern, which is all frictionless checks.
            row = at_line[table, issue.row]
            pattern = constraints(table, issue.field)["pattern"]
            if re.fullmatch(pattern, row[issue.field]):
                continue
        if issue.code == "schema.type":
            # frictionless reads numbers with Python's int() and float(), which also take "1_000"
            # and other scripts' digits ("٣"): not Table Schema's lexical forms, which we hold to
            # (tests/test_rule_edges.py); where it accepts the value, it did not check that cell.
            row = at_line[table, issue.row]
            if _frictionless_reads(table, issue.field, row[issue.field]):
                continue
        out.add((issue.file, issue.row, issue.field, kind))
    return out


@pytest.mark.slow
@TWICE
@given(data=st.data())
def test_frictionless_and_we_find_the_same_faults_in_the_cells_both_check(data: st.DataObject):
    pkg = data.draw(packages(rich=True), label="package")
    for code in data.draw(st.lists(st.sampled_from(DIFFERENTIAL), max_size=3), label="mutations"):
        pkg = MUTATIONS[code](data.draw, pkg).package
    with folder() as tmp:
        lines = pkg.write(tmp / "pkg")
        assert _our_shared_findings(tmp / "pkg", pkg, lines) == _frictionless_findings(
            tmp / "pkg", lines
        )


# -- JSON Schema and Table Schema agree on every near-valid record ------------------------------------------

#: The codes of the Table Schema constraints (and what our dates and countries add to them).
SCHEMA_CODES = {
    "schema.required",
    "schema.type",
    "schema.enum",
    "schema.pattern",
    "schema.min-length",
    "schema.max-length",
    "schema.minimum",
    "schema.maximum",
    "schema.format",
    "date.invalid",
    "country.unknown",
}


def _table_schema_faults(table: str, row: dict[str, str | None]) -> set[str]:
    """Columns the column-wise Table Schema checks find at fault, the row written as CSV."""
    from nk_defections.check.rules import Context
    from nk_defections.check.rules.fields import check_fields
    from nk_defections.model.frames import empty_frame

    with folder() as tmp:
        path = tmp / f"{table}.csv"
        path.write_bytes(render_csv(table, [row])[0])
        frame, issues = read_csv(PACKAGE, table, path, path.name)
    assert issues == [] and frame is not None
    frames = {t: frame if t == table else empty_frame(PACKAGE, t) for t in TABLES}
    frames = {
        t: f.with_columns(pl.lit(True).alias("_csv"), pl.lit(True).alias("_report"))
        for t, f in frames.items()
    }
    return {i.field for i in check_fields(Context(PACKAGE, frames)) if i.code in SCHEMA_CODES}


def _json_schema_faults(table: str, row: dict[str, str | None]) -> set[str]:
    """Columns the JSON Schema finds at fault in the same row, typed as JSON."""
    from nk_defections.check.schema_errors import iter_schema_issues

    (record,) = typed_rows(PACKAGE, table, [row])
    errors = schemas_for(PACKAGE).validator(table).iter_errors(record)
    return {
        i.field for i in iter_schema_issues(errors, PACKAGE, table, file=None, row=None, base=[])
    }


@given(data=st.data(), table=st.sampled_from(TABLES))
def test_json_schema_and_table_schema_agree_on_near_valid_rows(data: st.DataObject, table: str):
    row = {c: data.draw(near_cells(table, c), label=c) for c in PACKAGE.field_names(table)}
    row = {c: (v or None) for c, v in row.items()}  # an empty cell is a missing value in both
    assert _json_schema_faults(table, row) == _table_schema_faults(table, row)


@pytest.mark.parametrize(
    "cell", [" 5", "5 ", "1_000", "٣", "NaN", "inf", "-Infinity", "1e309", "0x1F", "1.5e"]
)
def test_a_cell_the_table_schema_rejects_is_not_a_json_number(cell: str):
    for kind in ("integer", "number"):
        assert typed_value({"name": "x", "type": kind}, cell) == cell


def test_a_large_integer_in_a_number_column_is_kept_exactly():
    field, text = {"name": "value", "type": "number"}, "12345678901234567890"
    assert typed_value(field, text) == 12345678901234567890
    assert cell(field, typed_value(field, text)) == text


# -- contributions: validate PATH, add -------------------------------------------------------------------


def _contribution_findings(files: list[Path], root: Path) -> set[tuple]:
    """Findings without where they are (file, line, pointer): what, on which field, of which record.

    Schema findings from JSON carry no record id where those from CSV do: they are compared by
    code and field only.
    """
    report = validate_paths(files, package=root)
    return {
        (i.code, i.field) if i.code in SCHEMA_CODES else (i.code, i.field, i.record_id)
        for i in report.issues
        if i.severity is not Severity.INFO
    }


@st.composite
def flawed(draw: st.DrawFn, contribution: GeneratedContribution) -> GeneratedContribution:
    """The contribution with a few of its cells replaced by near-valid ones (valid or not)."""
    tables = copy.deepcopy(contribution.tables)
    cells = [
        (t, i, c)
        for t in TABLES
        for i in range(len(tables[t]))
        for c in PACKAGE.field_names(t)
        if c != "id"
        and (t, c) not in {("claims", "record_id")}
        and c not in {k for _, k in PACKAGE.children(t).values()}
    ]
    for table, i, column in draw(st.lists(st.sampled_from(cells), max_size=3)) if cells else []:
        tables[table][i][column] = draw(near_cells(table, column)) or None
    return GeneratedContribution(contribution.base, tables)


@TWICE
@given(data=st.data())
def test_a_valid_contribution_validates_clean_however_it_is_split_into_files(data: st.DataObject):
    base = data.draw(packages(), label="package")
    contribution = data.draw(contributions(base), label="contribution")
    layout = data.draw(LAYOUTS, label="layout")
    with folder() as tmp:
        base.write(tmp / "pkg")
        for files in (
            contribution.write(tmp / "one"),
            contribution.write(tmp / "split", layout, split=True),
        ):
            report = validate_paths(files, package=tmp / "pkg")
            assert [
                (i.code, i.file, i.row, i.pointer, i.message)
                for i in report.issues
                if i.severity is not Severity.INFO
            ] == []


@TWICE
@given(data=st.data())
def test_splitting_a_contribution_across_files_does_not_change_the_findings(data: st.DataObject):
    base = data.draw(packages(), label="package")
    contribution = data.draw(contributions(base).flatmap(flawed), label="contribution")
    layout = data.draw(LAYOUTS, label="layout")
    with folder() as tmp:
        base.write(tmp / "pkg")
        one = _contribution_findings(contribution.write(tmp / "one"), tmp / "pkg")
        split = _contribution_findings(
            contribution.write(tmp / "split", layout, split=True), tmp / "pkg"
        )
        assert split == one


def _data_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "data").iterdir())}


@TWICE
@given(data=st.data())
def test_add_of_a_valid_contribution_keeps_the_package_valid(data: st.DataObject):
    base = data.draw(packages(), label="package")
    contribution = data.draw(contributions(base), label="contribution")
    layout = data.draw(LAYOUTS, label="layout")
    with folder() as tmp:
        base.write(tmp / "pkg")
        result = add_contribution(contribution.write(tmp / "c", layout), package=tmp / "pkg")
        assert not result.refused, [
            (i.code, i.file, i.row, i.message) for i in result.report.issues
        ]
        assert findings(tmp / "pkg") == set()
        merged = contribution.merged()
        for table in TABLES:
            frame, _ = read_csv(PACKAGE, table, tmp / "pkg" / file_of(table), file_of(table))
            assert _by_id(frame.select(PACKAGE.field_names(table)).rows(named=True)) == _by_id(
                merged.rows(table)
            )
        assert format_package(tmp / "pkg", check=True).changed == []  # merged in canonical form


@TWICE
@given(data=st.data())
def test_add_of_an_invalid_contribution_leaves_data_byte_identical(data: st.DataObject):
    base = data.draw(packages(), label="package")
    contribution = data.draw(contributions(base).flatmap(flawed), label="contribution")
    layout = data.draw(LAYOUTS, label="layout")
    with folder() as tmp:
        base.write(tmp / "pkg")
        files = contribution.write(tmp / "c", layout)
        assume(not validate_paths(files, package=tmp / "pkg").is_valid())
        before = _data_bytes(tmp / "pkg")
        result = add_contribution(files, package=tmp / "pkg")
        assert result.refused
        assert _data_bytes(tmp / "pkg") == before


@VALIDATES
@given(
    data=st.data(),
    kind=st.sampled_from(["bytes", "text", "near", "json"]),
    name=st.sampled_from(["c.json", "c.jsonl", "people.csv", "claims.csv"]),
)
def test_validate_paths_never_raises_on_an_arbitrary_contribution_file(
    data: st.DataObject, kind: str, name: str
):
    base = data.draw(packages(max_rows=1), label="package")
    with folder() as tmp:
        base.write(tmp / "pkg")
        if kind == "near":  # a valid contribution's file, a few bytes broken
            contribution = data.draw(contributions(base, max_rows=1), label="contribution")
            table = name.split(".")[0] if name.endswith(".csv") else None
            fmt = {"c.json": "json", "c.jsonl": "jsonl"}.get(name, "csv")
            files = contribution.write(
                tmp / "c", [fmt if table in (None, t) else "json" for t in TABLES]
            )
            path = next((f for f in files if f.name == name), None)
            assume(path is not None)
            path.write_bytes(data.draw(corrupted(path.read_bytes()), label="corrupted"))
        else:
            path = tmp / "c" / name
            path.parent.mkdir()
            if kind == "bytes":
                raw = data.draw(st.binary(max_size=300), label="bytes")
            elif kind == "text":
                raw = data.draw(
                    _csv_text(name.split(".")[0])
                    if name.endswith(".csv")
                    else st.text(max_size=80).map(str.encode),
                    label="text",
                )
            else:
                raw = json.dumps(data.draw(json_values, label="json")).encode()
            path.write_bytes(raw)
            files = [path]
        report = validate_paths(files, package=tmp / "pkg")
        assert all(i.code in RULES for i in report.issues)
        render_json(report)


# -- fmt and build ---------------------------------------------------------------------------------------


@TWICE
@given(data=st.data(), crlf=st.booleans(), bom=st.booleans())
def test_fmt_is_idempotent_and_agrees_with_the_canonical_writer(
    data: st.DataObject, crlf: bool, bom: bool
):
    pkg = data.draw(packages(), label="package")
    order = {t: data.draw(st.permutations(range(len(pkg.rows(t)))), label=t) for t in TABLES}
    with folder() as tmp:
        pkg.write(tmp / "canonical")
        assert format_package(tmp / "canonical", check=True).changed == []
        pkg.write(tmp / "pkg", order=order, crlf=crlf, bom=bom)
        before = _unlocated(tmp / "pkg")
        format_package(tmp / "pkg")
        assert _data_bytes(tmp / "pkg") == _data_bytes(tmp / "canonical")
        assert format_package(tmp / "pkg").changed == []
        assert _data_bytes(tmp / "pkg") == _data_bytes(tmp / "canonical")
        assert _unlocated(tmp / "pkg") == before


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# The timeline's font has no Hangul or Hanja glyphs: generated names in those scripts draw as boxes.
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@RELEASES
@given(packages())
def test_build_is_deterministic(pkg: GeneratedPackage):
    from nk_defections.release.build import PROJECT_FILES

    with folder() as tmp:
        pkg.write(tmp / "pkg")
        for name in PROJECT_FILES:  # a release carries them: a checkout has them beside its data
            shutil.copyfile(ROOT / name, tmp / "pkg" / name)
        first = build_release(tmp / "pkg", tmp / "one", frictionless=False)
        second = build_release(tmp / "pkg", tmp / "two", frictionless=False)
        assert first.files == second.files
        assert _tree(first.folder) == _tree(second.folder)
        assert first.archive.read_bytes() == second.archive.read_bytes()


@pytest.mark.parametrize(
    "content",
    [
        b"\n1",
        b"\n\nid",
        ",".join(PACKAGE.field_names("motives")).encode() + b"\r1",
        b'id,"event\nid",motive,stated_by,note\n',
    ],
    ids=["blank-header", "blank-lines-first", "lone-cr-in-header", "header-across-lines"],
)
def test_an_unreadable_header_is_a_finding_not_a_crash(content: bytes):
    with folder() as tmp:
        path = tmp / "motives.csv"
        path.write_bytes(content)
        frame, issues = read_csv(PACKAGE, "motives", path, "motives.csv")
    assert frame is None and issues and all(i.row == 1 for i in issues)
