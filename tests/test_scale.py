"""The fast paths are exact: CSV lines and cells, column-wise checks, the jsonschema-rs prefilter, the bar."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from nk_defections.check.rules.fields import NFC_SUSPECT
from nk_defections.check.validate import check_contribution
from nk_defections.cli import cli
from nk_defections.model.package import load_package_descriptor
from nk_defections.model.schemas import schemas_for
from nk_defections.progress import listening, step
from nk_defections.read.csv import read_csv
from nk_defections.read.json import parse_json, sanitized
from nk_defections.report.progress import Bar
from nk_defections.report.text import iter_lines as iter_text

from .conftest import ROOT

PACKAGE = load_package_descriptor(ROOT)
EVENTS = "id,event_type,title,summary,date,disclosed_date,country,place"
CLAIMS = ",".join(PACKAGE.field_names("claims"))
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _cell(rng: random.Random) -> str:
    pieces = ["a", "북한", ",", '"', "\n", " ", "x" * 5, "é", "\r\n"]
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))


@pytest.mark.parametrize("seed", range(40))
def test_csv_rows_and_physical_lines_agree_with_the_csv_module(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    rows = [[f"evt-{i:08d}", *(_cell(rng) for _ in range(7))] for i in range(rng.randrange(1, 30))]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=rng.choice(["\n", "\r\n"])).writerows(
        [EVENTS.split(","), *rows]
    )
    path = tmp_path / "events.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    frame, issues = read_csv(PACKAGE, "events", path, "events.csv")
    assert issues == []
    # What the csv module reads, with the physical line each record starts on.
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        expected, lines, line = [], [], 2
        for record in reader:
            expected.append([cell.replace("\r\n", "\n") or None for cell in record])
            lines.append(line)
            line = reader.line_num + 1
    assert frame.select(EVENTS.split(",")).rows() == [tuple(r) for r in expected]
    assert frame["_line"].to_list() == lines


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _found(path: Path, table: str) -> list[tuple[str, int | None, str]]:
    _, issues = read_csv(PACKAGE, table, path, path.name)
    return [(i.code, i.row, i.message) for i in issues]


def test_ragged_rows_count_only_commas_outside_quotes(tmp_path: Path) -> None:
    data = (
        (
            EVENTS + "\n"
            'evt-00000001,other,"a, b ""c"", d","two\nlines, here",2020,,,\n'  # 8 cells
            "evt-00000002,other,t,,2020,,\n"  # 7 cells
            "\n"  # blank line
            'evt-00000003,other,t,"x,\ny",2020,,,,\n'  # 9 cells
        ).encode()
    )
    assert _found(_write(tmp_path, "events.csv", data), "events") == [
        ("csv.ragged-row", 4, "row has 7 cells, the header has 8"),
        ("csv.ragged-row", 5, "blank line inside the table"),
        ("csv.ragged-row", 6, "row has 9 cells, the header has 8"),
    ]


def test_invalid_utf8_deep_in_a_quoted_cell_is_found_at_its_line(tmp_path: Path) -> None:
    # polars finds it while parsing; the finding is the one a full decode gives.
    rows = [f'evt-{i:08d},other,title {i},"summary\nover lines",2020,,,' for i in range(50)]
    data = (EVENTS + "\n" + "\n".join(rows) + "\n").encode()
    bad = data.replace(b"title 30", b"title \xff0")
    found = _found(_write(tmp_path, "events.csv", bad), "events")
    assert found == [
        (
            "file.encoding",
            2 + 30 * 2,
            "byte 0xff at offset " + str(bad.index(b"\xff")) + " is not valid UTF-8: the file "
            "looks like Windows-1252 text ('title ÿ0'); re-save it as UTF-8 (in a "
            "spreadsheet: Save As, 'CSV UTF-8'; or `iconv -f cp1252 -t utf-8`)",
        )
    ]


def test_invalid_utf8_is_reported_before_structure(tmp_path: Path) -> None:
    data = (EVENTS + "\nevt-00000001,other,t\xff,,2020,,\n").encode("latin-1")
    assert [code for code, _, _ in _found(_write(tmp_path, "events.csv", data), "events")] == [
        "file.encoding"
    ]


@pytest.mark.parametrize("content", ["", "\n\n", " \t\r\n", "\u3000\n", "\ufeff"])
def test_blank_files_are_empty(tmp_path: Path, content: str) -> None:
    codes = [
        code for code, _, _ in _found(_write(tmp_path, "events.csv", content.encode()), "events")
    ]
    assert codes == ["file.empty"]


def test_nfc_prefilter_never_passes_a_text_that_is_not_nfc() -> None:
    suspect = re.compile(NFC_SUSPECT)
    seconds = set()
    for cp in range(0x110000):
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    unsound = [
        hex(cp)
        for cp in range(0x110000)
        if not 0xD800 <= cp <= 0xDFFF
        and suspect.match(chr(cp)) is None
        and (
            unicodedata.combining(chr(cp))
            or not unicodedata.is_normalized("NFC", chr(cp))
            or cp in seconds
            or unicodedata.category(chr(cp)) == "Cn"
        )
    ]
    assert unsound == []
    sample = [chr(cp) for cp in range(0, 0x30000, 7) if not 0xD800 <= cp <= 0xDFFF]
    assert pl.Series(sample).str.contains(NFC_SUSPECT).to_list() == [
        suspect.match(c) is not None for c in sample
    ]


def _claims_csv(tmp_path: Path, *rows: str) -> list[tuple[str, int | None, str | None]]:
    path = _write(tmp_path, "claims.csv", ("\n".join([CLAIMS, *rows]) + "\n").encode())
    report = check_contribution([path], package=ROOT).report
    return [
        (i.code, i.row, i.field)
        for i in report.issues
        if i.file == str(path) and i.code != "source.text-skipped"
    ]


def _claim(identifier: str, **cells: str) -> str:
    values = {
        "id": identifier,
        "record_id": "per-02d95gqk",
        "field": "*",
        "source_id": "src-1ekndjem",
        "paragraph": "1",
    }
    values.update(cells)
    return ",".join(values.get(name, "") for name in CLAIMS.split(","))


def test_columnar_checks_are_exact(tmp_path: Path) -> None:
    found = _claims_csv(
        tmp_path,
        _claim("clm-٠١٢٣٤٥٦٧"),  # Unicode digits: [0-9], not \d
        _claim('"clm-00000002\n"'),  # a trailing newline does not pass an anchored pattern
        _claim("clm-00000003", original_text="북" * 80),  # 80 characters (240 bytes): allowed
        _claim("clm-00000004", original_text="북" * 81),
        _claim("clm-00000005", derivation="ends with an ideographic space\u3000"),
        _claim("clm-00000006", derivation=unicodedata.normalize("NFD", "탈북")),
        _claim(
            "clm-00000007", derivation="\u00e9t\u00e9 \u2019quoted\u2019"
        ),  # NFC, non-ASCII: fine
        _claim("clm-00000007"),
        _claim("clm-00000007"),  # every later occurrence
    )
    assert found == [
        ("schema.pattern", 2, "id"),
        ("record.control-character", 3, "id"),
        ("record.whitespace", 3, "id"),
        ("schema.pattern", 3, "id"),
        ("schema.max-length", 6, "original_text"),
        ("record.whitespace", 7, "derivation"),
        ("record.not-nfc", 8, "derivation"),
        ("table.duplicate-id", 10, "id"),
        ("table.duplicate-id", 11, "id"),
    ]


def test_json_output_is_never_capped_text_is(tmp_path: Path) -> None:
    rows = [_claim(f"clm-{i:08d}", claim_rank="normall") for i in range(30)]
    path = _write(tmp_path, "claims.csv", ("\n".join([CLAIMS, *rows]) + "\n").encode())
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--package", str(ROOT), "--format", "json"]
    )
    issues = [i for i in json.loads(result.stdout)["issues"] if i["code"] == "schema.enum"]
    assert len(issues) == 30
    report = check_contribution([path], package=ROOT).report
    text = list(iter_text(report))
    assert sum("[schema.enum]" in line and not line.startswith("...") for line in text) == 20
    assert "... and 10 more [schema.enum] (use --format json for all)" in text


RECORDS: list[tuple[str, Any]] = [
    ("events", {"id": "evt-00000001", "event_type": "other", "title": "t", "date": "2024-02-29"}),
    ("events", {"id": "evt-00000001", "event_type": "other", "title": "t", "date": "2023-02-29"}),
    ("events", {"id": "evt-00000001\n", "event_type": "other", "title": "t", "date": "2024"}),
    ("events", {"id": "evt-٠١٢٣٤٥٦٧", "event_type": "other", "title": "t", "date": "2024"}),
    ("events", {"id": "evt-00000001", "event_type": "other", "title": "t", "date": "[2024..2023]"}),
    (
        "events",
        {
            "id": "evt-00000001",
            "event_type": "other",
            "title": "t",
            "date": "2024",
            "country": "XKX",
        },
    ),
    ("events", {"id": "evt-00000001", "event_type": "other", "title": "", "date": "2024"}),
    ("events", {"id": "evt-00000001", "event_type": "other", "title": "북" * 200, "date": "2024"}),
    ("events", {"id": "evt-00000001", "event_type": "other", "title": "북" * 201, "date": "2024"}),
    (
        "events",
        {
            "id": "evt-00000001",
            "event_type": "other",
            "title": "t",
            "date": "2024",
            "participants": [
                {
                    "id": "ptc-00000001",
                    "participant_id": "per-00000001",
                    "role": "actor",
                    "count": 2.0,
                },
                {
                    "id": "ptc-00000002",
                    "participant_id": "per-00000001",
                    "role": "actor",
                    "count": True,
                },
                {
                    "id": "ptc-00000003",
                    "participant_id": "per-00000001",
                    "role": "actor",
                    "count": 10**30,
                },
            ],
        },
    ),
    (
        "sources",
        {
            "id": "src-00000001",
            "source_type": "wire",
            "title": "t",
            "published_date": "2024",
            "language": "en",
            "paragraphs": 1,
            "content_sha256": "0" * 64,
            "url": "not a uri",
        },
    ),
    (
        "sources",
        {
            "id": "src-00000001",
            "source_type": "wire",
            "title": "t",
            "published_date": "2024",
            "language": "en",
            "paragraphs": 1,
            "content_sha256": "0" * 64,
            "url": "https://example.org/a b",
        },
    ),
    (
        "claims",
        {
            "id": "clm-00000001",
            "record_id": "per-00000001",
            "field": "*",
            "source_id": "src-00000001",
            "paragraph": 1,
            "extra": 1,
        },
    ),
    (
        "claims",
        {
            "id": "clm-00000001",
            "record_id": "per-00000001",
            "field": "*",
            "source_id": "src-00000001",
        },
    ),
]


@pytest.mark.parametrize(("table", "record"), RECORDS)
def test_the_fast_schema_check_accepts_exactly_what_jsonschema_accepts(
    table: str, record: Any
) -> None:
    schemas = schemas_for(PACKAGE)
    assert schemas.is_valid(table, record) == (
        not list(schemas.validator(table).iter_errors(record))
    )


def test_the_fast_schema_check_agrees_on_the_parsed_markers() -> None:
    schemas = schemas_for(PACKAGE)
    for text in [
        '{"id": "evt-00000001", "event_type": NaN, "title": "t", "date": "2024"}',
        '{"id": "evt-00000001", "id": "evt-00000001", "event_type": "other", "title": "t", "date": "2024"}',
        '{"id": "evt-00000001", "event_type": "other", "title": "\\ud800", "date": "2024"}',
    ]:
        value = sanitized(parse_json(text)[0])
        # A marker (a str subclass) may send a valid record to jsonschema: never the other way round.
        assert not schemas.is_valid("events", value) or not list(
            schemas.validator("events").iter_errors(value)
        )


def test_piped_output_has_no_progress_bar(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "claims.csv", ("\n".join([CLAIMS, _claim("clm-00000001")]) + "\n").encode()
    )
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--package", str(ROOT), "--format", "json"]
    )
    used = f"package: {ROOT} (checkout)\n"  # the one line every command says, and no bar
    assert result.stderr == used
    piped = subprocess.run(
        [
            sys.executable,
            "-m",
            "nk_defections",
            "validate",
            str(path),
            "--package",
            str(ROOT),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert piped.stderr == used and json.loads(piped.stdout)["issues"] is not None


def test_the_bar_shows_steps_on_a_terminal_once_a_run_lasts() -> None:
    quick, slow = io.StringIO(), io.StringIO()
    for out, delay in ((quick, 60.0), (slow, 0.0)):
        bar = Bar(out, delay=delay, force_terminal=True)
        with listening(bar):
            step("reading events.csv", total=2)
            step("checking fields")
        bar.close()
    assert quick.getvalue() == ""
    assert "checking fields" in slow.getvalue()
