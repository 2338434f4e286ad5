"""Findings as a stream: the merge of the checks' sources, its precedence, and the reporters.

The plain statement of a report is :func:`one_per_fault` over every finding, in order of
precedence; the stream (:func:`iter_findings`, the batches of the rules, the reporters that write
findings as they come) must give the same, byte for byte, with memory that does not grow with
the number of findings.
"""

from __future__ import annotations

import csv
import io
import json
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nk_defections.check import validate as validate_module
from nk_defections.check.rules import emit
from nk_defections.check.validate import validate_package, validate_paths
from nk_defections.findings import codes as C
from nk_defections.findings.issues import (
    RULES,
    Issue,
    Listed,
    LocationKey,
    Origin,
    Report,
    Severity,
    count_severities,
    iter_findings,
    location_key,
    one_per_fault,
)
from nk_defections.report import REPORTERS
from nk_defections.report.json import _issue, render, render_issue
from nk_defections.report.text import iter_lines

from .conftest import ROOT, copy_package

CODES = sorted(RULES)
#: Few values, so that findings often share a place and two sources often find one fault.
places = st.one_of(st.none(), st.sampled_from(["", "a.csv", "b.json"]))
issues = st.builds(
    Issue,
    code=st.sampled_from([C.SCHEMA_ENUM, C.DATE_INVALID, C.SOURCE_TEXT_SKIPPED, C.RECORD_BIDI]),
    message=st.sampled_from(["m", "n", "an 'é' \"quoted\"\n\\"]),
    file=places,
    row=st.one_of(st.none(), st.integers(1, 4)),
    pointer=st.one_of(st.none(), st.sampled_from(["", "/people/0", "/people/0/kind"])),
    field=st.one_of(st.none(), st.sampled_from(["", "kind"])),
    record_id=st.one_of(st.none(), st.sampled_from(["per-1", "per-2"])),
)


@st.composite
def sources(draw: st.DrawFn) -> list[Listed]:
    """Lists of findings, each with a rank of its own."""
    ranks = draw(
        st.lists(
            st.tuples(st.sampled_from(list(Origin)), st.integers(0, 3)),
            unique=True,
            max_size=6,
        )
    )
    return [Listed(draw(st.lists(issues, max_size=8)), *rank) for rank in ranks]


@given(sources(), st.randoms(use_true_random=False))
def test_the_stream_is_the_plain_report_whatever_order_the_sources_come_in(
    found: list[Listed], shuffle: random.Random
) -> None:
    plain = one_per_fault(
        issue for source in sorted(found, key=lambda s: s.rank) for issue in source
    )
    shuffled = list(found)
    shuffle.shuffle(shuffled)
    assert list(iter_findings(shuffled)) == plain
    report = Report(sources=shuffled)
    assert report.is_valid() == (not [i for i in plain if i.severity is Severity.ERROR])
    assert report.is_valid(strict=True) == (
        not [i for i in plain if i.severity in (Severity.ERROR, Severity.WARNING)]
    )
    assert report.codes() == {i.code for i in plain}
    assert list(report.iter_issues()) == plain
    assert report.issues == plain
    assert report.counts() == count_severities(plain)


def test_of_two_findings_of_one_fault_the_higher_origin_is_kept() -> None:
    rule = Issue(C.SCHEMA_ENUM, "'x' is not an allowed kind; allowed: a, b", file="p.csv", row=2)
    schema = Issue(C.SCHEMA_ENUM, "'x' is not an allowed kind", file="p.csv", row=2)
    for order in ([rule, schema], [schema, rule]):
        ranked = [
            Listed([order[0]], Origin.RULE if order[0] is rule else Origin.SCHEMA),
            Listed([order[1]], Origin.RULE if order[1] is rule else Origin.SCHEMA),
        ]
        assert Report(sources=ranked).issues == [rule]


def test_two_sources_of_one_rank_are_refused() -> None:
    with pytest.raises(ValueError, match="same rank"):
        Report(sources=[Listed([], Origin.READ), Listed([], Origin.READ)])


def test_the_rules_win_over_the_json_schema_pass_whatever_order_the_sources_are_combined_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV cell out of its vocabulary: the rule and the JSON Schema pass both find it."""
    root = copy_package(tmp_path / "pkg")
    people = root / "data" / "people.csv"
    rows = list(csv.DictReader(people.open(encoding="utf-8", newline="")))
    rows[0]["kind"] = "crowd"
    with people.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    expected = validate_package(root, frictionless=False).issues
    (enum,) = [i for i in expected if i.code == C.SCHEMA_ENUM]
    assert "allowed" in enum.message or "did you mean" in enum.message  # the rule's words

    def shuffled(*args: object, seed: int, sources: list, **kwargs: object) -> Report:
        sources = list(sources)
        random.Random(seed).shuffle(sources)
        return Report(*args, sources=sources, **kwargs)  # type: ignore[arg-type]

    for seed in range(5):
        monkeypatch.setattr(
            validate_module,
            "Report",
            lambda *a, seed=seed, **k: shuffled(*a, seed=seed, **k),
        )
        assert validate_package(root, frictionless=False).issues == expected


def _frame(n: int) -> pl.DataFrame:
    """A frame of *n* rows as the rules see them, in a shuffled order, two on one line."""
    lines = [2 + i for i in range(n)]
    lines[-1] = lines[0]
    frame = pl.DataFrame(
        {
            "id": [f"per-{i:08d}" for i in range(n)],
            "kind": ["crowd" if i % 3 else "gang" for i in range(n)],
            "_file": ["b.csv" if i % 2 else "a.json" for i in range(n)],
            "_line": lines,
            "_pointer": [None if i % 2 else f"/people/{i}" for i in range(n)],
            "_report": [i % 5 != 0 for i in range(n)],
        }
    )
    return frame.sample(fraction=1.0, shuffle=True, seed=1)


def _message(row: dict) -> str:
    return f"{row['kind']!r} is not an allowed kind"


@pytest.mark.parametrize("locate", [None, "by pointer"])
def test_a_batch_makes_what_emit_made_row_by_row_sorted_by_place(locate: str | None) -> None:
    frame = _frame(9000)  # more than one chunk
    (batch,) = emit(frame, C.SCHEMA_ENUM, "kind", _message)
    if locate:
        # A document's reader moves a finding to its value's line (here: by the pointer's index).
        def moved(issue: Issue) -> Issue:
            if issue.pointer is None:
                return issue
            return Issue(issue.code, issue.message, issue.file, 7, issue.pointer, issue.field)

        batch = batch.located(moved)
    plain = [batch.issue(row) for row in frame.filter(pl.col("_report")).iter_rows(named=True)]
    keyed = list(batch.keyed())
    assert [issue for _, issue in keyed] == sorted(plain, key=location_key)
    assert all(key == location_key(issue) for key, issue in keyed)
    assert batch.locations() == {(i.file, i.row) for i in plain}


def test_emit_yields_nothing_where_no_row_is_reported() -> None:
    frame = _frame(10).with_columns(pl.lit(False).alias("_report"))
    assert list(emit(frame, C.SCHEMA_ENUM, "kind", _message)) == []


class Generated:
    """A source that makes *n* findings as they are taken, never holding them."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rank = (Origin.RULE,)

    def codes(self) -> frozenset[str]:
        return frozenset((C.SCHEMA_ENUM,))

    def locations(self) -> set[tuple[str | None, int | None]]:
        return {("people.csv", 2 + i) for i in range(self.n)}

    def keyed(self) -> Iterator[tuple[LocationKey, Issue]]:
        for i in range(self.n):
            issue = Issue(
                C.SCHEMA_ENUM,
                f"'crowd{i}' is not an allowed kind",
                file="people.csv",
                row=2 + i,
                field="kind",
                record_id=f"per-{i:08d}",
            )
            yield location_key(issue), issue


class Sink(io.TextIOBase):
    """A text stream that keeps nothing but the number of characters written."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def _peak(format_: str, n: int) -> int:
    tracemalloc.start()
    try:
        REPORTERS[format_](Report(sources=[Generated(n)]), Sink(), Sink())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("format_", sorted(REPORTERS))
def test_a_reporter_s_memory_does_not_grow_with_the_number_of_findings(format_: str) -> None:
    _peak(format_, 100)  # the first run fills caches and imports
    small, large = _peak(format_, 5_000), _peak(format_, 50_000)
    assert large < 1.5 * small + 64 * 1024, (small, large)


def _faulty_contribution(folder: Path) -> list[Path]:
    """People with faults the rules and the reader find, in CSV and in a JSON document."""
    folder.mkdir()
    header = "id,name,identity_status,kind,group_size_min,group_size_max,gender,birth_date,death_date,nationality,summary"
    lines = [header] + [
        f"per-{i:08d},Person {i},named,crowd,,,unknown,1960-13-01,,PRK," for i in range(50)
    ]
    (folder / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    people = [
        {"id": f"per-a{i:07d}", "name": f" Person {i}", "identity_status": "named", "kind": "x"}
        for i in range(12)
    ]
    (folder / "c.json").write_text(json.dumps({"people": people}, indent=2), encoding="utf-8")
    return [folder / "people.csv", folder / "c.json"]


def test_the_streamed_reports_are_those_of_the_materialised_report(tmp_path: Path) -> None:
    paths = _faulty_contribution(tmp_path / "c")
    streamed = {form: _written(validate_paths(paths, package=ROOT), form) for form in REPORTERS}
    report = validate_paths(paths, package=ROOT)
    issues = report.issues  # made once, and kept
    assert len({i.code for i in issues}) > 3 and any(i.pointer for i in issues)
    for form in REPORTERS:
        assert _written(report, form) == streamed[form]
    document = {
        "valid": report.is_valid(),
        "checked": report.checked,
        "issues": [issue.to_dict() for issue in issues],
        "counts": report.counts(),
    }
    assert streamed["json"] == (json.dumps(document, ensure_ascii=False, indent=2) + "\n", "")
    lines = [f"{i.location()} [{i.code}] {i.severity}: {i.message}" for i in issues]
    assert list(iter_lines(Report(issues), limit_per_code=None)) == lines


def _written(report: Report, form: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    REPORTERS[form](report, out, err)
    return out.getvalue(), err.getvalue()


@given(
    st.builds(
        Issue,
        code=st.sampled_from(CODES),
        message=st.text(),
        file=st.one_of(st.none(), st.text()),
        row=st.one_of(st.none(), st.integers(-(2**70), 2**70)),
        pointer=st.one_of(st.none(), st.text()),
        field=st.one_of(st.none(), st.text()),
        record_id=st.one_of(st.none(), st.text()),
    )
)
def test_a_finding_is_written_as_json_dumps_writes_it(issue: Issue) -> None:
    assert _issue(issue) == render_issue(issue)


def test_render_writes_the_counts_after_the_findings() -> None:
    report = Report([Issue(C.SOURCE_TEXT_SKIPPED, "no text", file="data/sources.csv", row=2)])
    assert list(json.loads(render(report))) == ["valid", "checked", "issues", "counts"]
    assert json.loads(render(report))["counts"] == {"error": 0, "warning": 0, "info": 1}
