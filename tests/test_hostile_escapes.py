"""Hostile input, 3: output that cannot be turned against its reader.

Text from the data (ids, JSON keys, CSV headers, cell values, file and folder names, messages)
is written by the text report, ``diff``, ``fmt --check`` and every one-line error with each
character that is not printable escaped (``nk_defections.findings.printable``): no raw control
character (C0, DEL, C1, ESC starting a CSI or OSC sequence, CR, a line break) nor bidirectional
override reaches a terminal, and one finding is one line. The GitHub annotations escape their
own way (tests/test_hostile.py).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from nk_defections.cli import cli
from nk_defections.findings.printable import printable

from .conftest import ROOT, copy_package
from .test_hostile_exits import main_run

#: What a contribution could use to forge a line, move the cursor, retitle a terminal or turn
#: text around: one of each kind.
HOSTILE = [
    "\x1b[2J\x1b[H",  # CSI: clear the screen
    "\x1b]0;owned\x07",  # OSC: set the window title
    "\x1b]8;;http://x\x1b\\",  # OSC 8: a hyperlink
    "\x9b31m",  # the one-byte C1 CSI
    "\r",
    "\n",
    "\r\n",
    "\x0b\x0c\x1c\x1d\x1e\x85",  # what str.splitlines also breaks at
    "\u2028\u2029",
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # isolates
    "\u200b\u200f\ufeff",  # zero width, a mark, the BOM
    "\x00\x7f",
    "\x08",  # backspace: overwrites what was written
]


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def safe_lines(text: str) -> list[str]:
    """The lines of *text*, each asserted printable: nothing raw from the data in it."""
    assert text == "" or text.endswith("\n")
    lines = text.split("\n")[:-1] if text else []
    for line in lines:
        assert line.isprintable(), repr(line)
    return lines


@pytest.mark.parametrize("hostile", HOSTILE)
def test_printable_escapes_each_kind_of_control(hostile: str) -> None:
    escaped = printable(f"a{hostile}b")
    assert escaped.isprintable() and "\n" not in escaped
    assert escaped.startswith("a") and escaped.endswith("b")
    assert escaped != f"a{hostile}b"


def test_printable_escapes_every_character_python_does_not_print() -> None:
    """The whole class, not the examples: every code point that is not printable is escaped."""
    for point in range(0x110000):
        char = chr(point)
        if not char.isprintable():
            assert printable(char) == repr(char)[1:-1], hex(point)
            assert printable(char).isprintable(), hex(point)
    kept = "김정은 Kim Jong-un é ø ß 平壤 — “quoted” 'x' \\ \\x1b"
    assert printable(kept) == kept


def test_printable_escapes_every_format_and_control_category() -> None:
    for point in range(0x110000):
        if unicodedata.category(chr(point)) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            assert printable(chr(point)) != chr(point), hex(point)


def envelope(record_id: str, key: str, resource: str = "peoplx") -> str:
    return json.dumps(
        {"people": [{"id": record_id, key: "value"}], resource: []}, ensure_ascii=False
    )


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_contribution_cannot_forge_a_line_of_the_text_report(
    tmp_path: Path, hostile: str
) -> None:
    name = hostile.replace("\x00", "").replace("/", "")  # what a file name may hold
    folder = tmp_path / f"in{name}put"
    folder.mkdir()
    path = folder / f"x{name}y.json"
    path.write_text(
        envelope(f"per-{hostile}1", f"na{hostile}me", f"peo{hostile}ple"), encoding="utf-8"
    )
    people = folder / "people.csv"
    header = ["id", "name", f"col{hostile}umn"]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, [f"per-{hostile}", "x", "y"]])
    people.write_text(buffer.getvalue(), encoding="utf-8")
    text = run("validate", path, people, "--package", ROOT)
    as_json = run("validate", path, people, "--package", ROOT, "--format", "json")
    issues = json.loads(as_json.stdout)["issues"]
    assert issues and text.exit_code == as_json.exit_code == 1
    lines = safe_lines(text.stdout)
    assert len(lines) == len(issues)
    assert len(safe_lines(text.stderr)) == 2  # the package used, the verdict
    shown = printable(f"{folder}/")
    assert all(line.startswith(shown) for line in lines), lines
    assert any(line.startswith(printable(str(path))) for line in lines), lines


@pytest.mark.parametrize("command", ["fmt", "diff"])
def test_a_file_name_is_shown_escaped_in_a_one_line_error(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "a\x1b]0;owned\x07\nerror: forged"
    folder.mkdir()
    args = ["fmt", "--package", folder] if command == "fmt" else ["diff", ROOT, folder]
    code, out, err = main_run(*args)
    assert code == 2 and out == ""
    lines = safe_lines(err)
    assert len(lines) == 1 + (command == "diff") + 1 and lines[-1].startswith("error: ")
    assert all("\\x1b]0;owned\\x07\\nerror: forged" in line for line in lines[-2:])


def hostile_package(root: Path) -> Path:
    """The package, with a name holding every hostile text and a record whose id holds one."""
    copy_package(root)
    path = root / "data" / "people.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    names = rows[0]
    rows[1][names.index("name")] = "".join(HOSTILE).replace("\x00", "")  # a NUL: not text
    extra = list(rows[2])
    extra[0] = "per-\x1b]0;owned\x07\n+ per-forged"
    rows.append(extra)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return root


def test_diff_cannot_be_made_to_forge_a_line(tmp_path: Path) -> None:
    new = hostile_package(tmp_path / "new")
    result = run("diff", ROOT, new)
    assert result.exit_code == 0, result.output
    lines = safe_lines(result.stdout)
    added = [line for line in lines if line.startswith("  + ")]
    assert added == ["  + per-\\x1b]0;owned\\x07\\n+ per-forged"]
    changed = [line for line in lines if line.startswith("  ~ ")]
    assert len(changed) == 1 and "\\x1b[2J" in changed[0]
    # The JSON form keeps the values as they are (JSON escapes them its own way).
    data = json.loads(run("diff", ROOT, new, "--format", "json").stdout)
    assert data["tables"]["people"]["added"] == ["per-\x1b]0;owned\x07\n+ per-forged"]


def test_a_schema_change_in_diff_is_one_line(tmp_path: Path) -> None:
    new = copy_package(tmp_path / "new")
    descriptor = json.loads((new / "datapackage.json").read_text(encoding="utf-8"))
    people = next(r for r in descriptor["resources"] if r["name"] == "people")
    people["schema"]["fields"][1]["description"] = "changed"
    kind = next(f for f in people["schema"]["fields"] if "enum" in f.get("constraints", {}))
    kind["constraints"]["enum"].append("new\x1b[31m\nvalue")
    (new / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    lines = safe_lines(run("diff", ROOT, new).stdout)
    assert any("new\\x1b[31m\\nvalue added" in line for line in lines), lines


def test_fmt_check_shows_a_cell_escaped_and_keeps_the_diff_lines(tmp_path: Path) -> None:
    package = hostile_package(tmp_path / "package")
    path = package / "data" / "people.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    result = run("fmt", "--check", "--package", package)
    assert result.exit_code == 1
    lines = safe_lines(result.stdout)
    assert lines[0] == "--- a/data/people.csv" and lines[1] == "+++ b/data/people.csv"
    assert any("\\x1b]0;owned\\x07" in line for line in lines)


settings_few = settings(max_examples=30)
#: Any text, a few characters long, drawn often from the controls and overrides.
TEXTS = st.text(
    st.one_of(st.sampled_from("".join(HOSTILE)), st.characters(codec="utf-8")),
    min_size=1,
    max_size=6,
)
NAMES = TEXTS.map(lambda t: t.replace("/", "_").replace("\x00", "_")).filter(
    lambda t: t not in (".", "..")
)


@settings_few
@given(record_id=TEXTS, key=TEXTS, header=TEXTS, file_name=NAMES, folder_name=NAMES)
def test_any_text_in_ids_keys_headers_and_names_gives_one_printable_line_per_finding(
    record_id: str, key: str, header: str, file_name: str, folder_name: str
) -> None:
    """One line per finding (each code's lines capped as the report says), then the summary."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / folder_name
        folder.mkdir()
        path = folder / f"{file_name}.json"
        path.write_text(envelope(record_id, key, key), encoding="utf-8")
        people = folder / "people.csv"
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(
            [["id", "name", header], [record_id, "x", "y"]]
        )
        people.write_text(buffer.getvalue(), encoding="utf-8")
        text = run("validate", path, people, "--package", ROOT)
        as_json = run("validate", path, people, "--package", ROOT, "--format", "json")
    issues = json.loads(as_json.stdout)["issues"]
    per_code = Counter(issue["code"] for issue in issues)
    expected = sum(min(n, 20) + (n > 20) for n in per_code.values())
    assert len(safe_lines(text.stdout)) == expected
    assert len(safe_lines(text.stderr)) == 2
