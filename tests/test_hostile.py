"""Hostile input: linked and planted files, journals no write of ours left, malformed CSV.

Three classes of fault, each with the examples that showed it and the cases around them:

1. ``add`` (or ``fmt``) that says it wrote has written. A table file that is a symbolic link
   (or lies in a linked folder) is refused, by the dry run too, before anything is written:
   what is on disk after every command is what the command reported.
2. Nothing is written outside the package, nor by a command that changes nothing. Links
   planted at the temporary names are never followed; a journal naming anything but the
   package's table files is refused; ``validate``, ``fmt --check``, ``add --dry-run``, ``diff``
   and ``build`` report an interrupted merge and never finish it; a write that fails leaves
   nothing behind and says so in one line.
4. A malformed CSV is an error at its line, never a lost row: a quote out of place or a lone CR
   is ``csv.malformed``, and every file we accept reads as Python's csv module reads it.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from click.testing import CliRunner, Result
from hypothesis import event, example, given
from hypothesis import strategies as st

from nk_defections.cli import cli, main
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.package import REDIRECTS, PackageError
from nk_defections.read import csv as tables
from nk_defections.read.contribution import read_contribution
from nk_defections.read.load import load_table
from nk_defections.write import journal
from nk_defections.write.canonical import format_package
from nk_defections.write.journal import (
    JOURNAL,
    LOCK,
    JournalError,
    WriteError,
    recover,
    replace_files,
    temp_path,
)

from .conftest import ROOT, copy_package
from .strategies import PACKAGE, TABLES
from .test_contributions import TEMPLATE, write_spreadsheet_csvs


def run(*args: str | Path) -> Result:
    """A command as the CLI runs it: never a traceback, only an exit code."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def said(stderr: str) -> str:
    """What a command said on stderr beyond the line naming the package it used."""
    lines = stderr.splitlines(keepends=True)
    named = ("package: ", "old: ", "new: ", "previous: ")
    return "".join(line for line in lines if not line.startswith(named))


def one_line_error(result: Result, *fragments: str) -> None:
    """Exit 2 and a single line on stderr, ``error: ...`` with every fragment; nothing on stdout."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    error = said(result.stderr)
    assert error.startswith("error: ") and error.count("\n") == 1, result.stderr
    for fragment in fragments:
        assert fragment in error, result.stderr


def tree(root: Path) -> dict[str, object]:
    """Every entry under *root* as it is, links not followed (the lock file aside)."""
    out: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[key] = ("link", os.readlink(path))
            elif path.is_dir():
                out[key] = ("folder",)
            elif name != LOCK:
                out[key] = path.read_bytes()
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the shipped package with a Makefile beside it, as a checkout has."""
    root = copy_package(tmp_path / "package")
    shutil.copy(ROOT / "Makefile", root / "Makefile")
    return root


def uncanonical(package: Path, table: str = "people") -> None:
    """Give *table* CRLF line ends, so that ``fmt`` wants to rewrite it."""
    path = package / "data" / f"{table}.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def ids_in(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


# -- 1. a linked table is refused, never written beside ----------------------------------------------


def link_people(package: Path, how: str) -> str:
    """Make data/people.csv reach its file through a link; return what the refusal names."""
    data = package / "data"
    if how == "folder":
        data.rename(package / "store")
        data.symlink_to("store")
        return "a symbolic link to a folder"
    (package / "store").mkdir()
    (data / "people.csv").rename(package / "store" / "people.csv")
    if how == "file":
        (data / "people.csv").symlink_to("../store/people.csv")
    elif how == "chain":
        (data / "people.1.csv").symlink_to("../store/people.csv")
        (data / "people.csv").symlink_to("people.1.csv")
    elif how == "absolute":
        (data / "people.csv").symlink_to((package / "store" / "people.csv").resolve())
    return "data/people.csv is a symbolic link"


@pytest.mark.parametrize("how", ["file", "chain", "absolute", "folder"])
def test_add_refuses_a_linked_table_and_changes_nothing(package: Path, how: str) -> None:
    says = link_people(package, how)
    assert run("validate", "--package", package, "--no-frictionless").exit_code == 0
    before = tree(package)
    # What the dry run says the merge would do, the merge does: both refuse, before any write.
    for dry in ([], ["--dry-run"]):
        one_line_error(run("add", TEMPLATE, "--package", package, *dry), says)
    assert tree(package) == before
    assert run("validate", "--package", package, "--no-frictionless").exit_code == 0


def test_a_linked_table_is_refused_then_added_to_once_it_is_a_file(package: Path) -> None:
    """The reproduction: data/people.csv a link to a file inside the package, then add, then validate."""
    link_people(package, "file")
    people = package / "data" / "people.csv"
    rows = ids_in(people)
    one_line_error(run("add", TEMPLATE, "--package", package), "data/people.csv")
    assert ids_in(people) == rows and people.is_symlink()
    assert run("validate", "--package", package, "--no-frictionless").exit_code == 0
    # Once the link is the file, add adds, and every row it names is on disk, where it says.
    target = people.resolve()
    people.unlink()
    shutil.copy(target, people)
    before = {p.name: ids_in(p) for p in (package / "data").glob("*.csv")}
    added = run("add", TEMPLATE, "--package", package)
    assert added.exit_code == 0, added.output
    reported = re.findall(r"^(\w+): added (\d+) \(", added.stdout, flags=re.MULTILINE)
    assert ("people", "3") in reported
    assert len(reported) == len(CONTRIBUTED)  # it adds to every table a contribution may add to
    for table, count in reported:
        now = ids_in(package / "data" / f"{table}.csv")
        assert len(now) == len(before[f"{table}.csv"]) + int(count), table
    assert {"per-17zwq172", "per-8bzg6zys", "per-hd8fvzkn"} <= set(ids_in(people))
    assert run("validate", "--package", package, "--no-frictionless").exit_code == 0
    kept = tree(package)
    assert run("fmt", "--package", package).stdout == ""  # the next fmt keeps every row
    assert tree(package) == kept


def test_fmt_refuses_to_rewrite_a_linked_table(package: Path) -> None:
    link_people(package, "file")
    uncanonical(package)
    before = tree(package)
    check = run("fmt", "--check", "--package", package)
    assert check.exit_code == 1 and check.stdout.startswith("--- a/data/people.csv")
    one_line_error(run("fmt", "--package", package), "data/people.csv is a symbolic link")
    assert tree(package) == before


def test_the_journal_and_recovery_refuse_a_linked_table(tmp_path: Path) -> None:
    root = tmp_path / "package"
    (root / "data").mkdir(parents=True)
    (root / "data" / "real.csv").write_text("id\n", encoding="utf-8")
    (root / "data" / "a.csv").symlink_to("real.csv")
    before = tree(root)
    with pytest.raises(WriteError, match="data/a.csv is a symbolic link"):
        replace_files(root, {root / "data" / "a.csv": b"id\nx\n"})
    assert tree(root) == before
    # A journal naming it (as the old code wrote one) is refused, not rolled through the link.
    temp_path(root / "data" / "a.csv").write_bytes(b"id\nx\n")
    entry = {"path": "data/a.csv", "sha256": sha256(b"id\nx\n")}
    (root / JOURNAL).write_text(json.dumps({"files": [entry]}), encoding="utf-8")
    before = tree(root)
    with pytest.raises(JournalError, match="data/a.csv is a symbolic link"):
        recover(root, [root / "data" / "a.csv"])
    assert tree(root) == before


# -- 2. nothing written outside the package, nor by a command that changes nothing -------------------


@pytest.mark.parametrize("command", ["add", "fmt"])
@pytest.mark.parametrize("outside", ["dangling", "existing"])
@pytest.mark.parametrize(
    "planted",
    ["data/.people.csv.nk-new", temp_path(Path(JOURNAL)).as_posix()],
    ids=["table", "journal"],
)
def test_a_link_planted_at_a_temporary_name_is_never_followed(
    package: Path, tmp_path: Path, command: str, outside: str, planted: str
) -> None:
    victim = tmp_path / "outside.csv"
    if outside == "existing":
        victim.write_bytes(b"outside the package\n")
    (package / planted).symlink_to(victim)
    uncanonical(package)
    before = tree(package)
    args = [TEMPLATE] if command == "add" else []
    one_line_error(run(command, *args, "--package", package), planted, "symbolic link")
    assert tree(package) == before
    assert not (package / "data" / "people.csv").is_symlink()
    if outside == "existing":
        assert victim.read_bytes() == b"outside the package\n"
    else:
        assert not os.path.lexists(victim)
    # Replaced by hand with what it should be, the link is gone and fmt puts people.csv in order.
    (package / planted).unlink()
    assert run("fmt", "--package", package).stdout == "reformatted data/people.csv\n"


def plant_journal(package: Path, victim: str, data: bytes = b"planted\n") -> None:
    """A journal and its temporary file, as a finished write of ours would leave them, for *victim*."""
    temp_path(package / victim).write_bytes(data)
    entry = {"path": victim, "sha256": sha256(data)}
    (package / JOURNAL).write_text(json.dumps({"version": 1, "files": [entry]}), encoding="utf-8")


def read_only_commands(package: Path, tmp_path: Path) -> Iterator[tuple[str, Result]]:
    (tmp_path / "empty.json").write_text("{}", encoding="utf-8")
    yield "validate", run("validate", "--package", package, "--no-frictionless")
    yield "fmt --check", run("fmt", "--check", "--package", package)
    yield "add --dry-run", run("add", tmp_path / "empty.json", "--package", package, "--dry-run")
    yield "diff", run("diff", package, package)
    yield (
        "build",
        run("build", "--package", package, "--out", tmp_path / "dist", "--no-frictionless"),
    )


@pytest.mark.parametrize("victim", ["Makefile", "datapackage.json", "data/people.csv"])
def test_read_only_commands_leave_a_planted_journal_alone(
    package: Path, tmp_path: Path, victim: str
) -> None:
    plant_journal(package, victim)
    before = tree(package)
    for command, result in read_only_commands(package, tmp_path):
        assert tree(package) == before, command
        if command == "diff":
            assert result.exit_code == 0, result.output
        else:  # each reports the interrupted merge, and changes nothing
            assert result.exit_code == 1, (command, result.output)
            assert "package.interrupted-merge" in result.output, (command, result.output)
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize(
    "victim",
    ["Makefile", "datapackage.json", "data/notes.csv", "./Makefile", "data/../Makefile", "outside"],
)
def test_writers_refuse_a_journal_naming_anything_but_a_table(package: Path, victim: str) -> None:
    if victim == "outside":  # an absolute path out of the package
        outside = str(package.parent / "outside.txt")
        (package / JOURNAL).write_text(
            json.dumps({"files": [{"path": outside, "sha256": sha256(b"")}]}), encoding="utf-8"
        )
    else:
        plant_journal(package, victim)
    before = tree(package)
    for command in (["add", TEMPLATE], ["fmt"]):
        one_line_error(run(*command, "--package", package), "not one of the package's table files")
        assert tree(package) == before
        assert not (package.parent / "outside.txt").exists()


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("temp differs", "does not hold the bytes"),
        ("temp and table differ", "neither data/people.csv nor its temporary file"),
        ("journal is a link", "is not a regular file"),
        ("journal is a folder", "is not a regular file"),
        ("journal is not json", "is unreadable"),
        ("temp is a link", "symbolic link"),
    ],
)
def test_writers_refuse_a_journal_no_write_of_ours_left(package: Path, how: str, says: str) -> None:
    people = package / "data" / "people.csv"
    if how == "temp differs":
        plant_journal(package, "data/people.csv")
        temp_path(people).write_bytes(b"other bytes\n")
    elif how == "temp and table differ":
        plant_journal(package, "data/people.csv")
        temp_path(people).unlink()
    elif how == "journal is a link":
        plant_journal(package, "data/people.csv", people.read_bytes())
        (package / JOURNAL).rename(package / "elsewhere.json")
        (package / JOURNAL).symlink_to("elsewhere.json")
    elif how == "journal is a folder":
        (package / JOURNAL).mkdir()
    elif how == "journal is not json":
        (package / JOURNAL).write_text('{"files": [', encoding="utf-8")
    elif how == "temp is a link":
        (package / "elsewhere.csv").write_bytes(b"planted\n")
        plant_journal(package, "data/people.csv")
        temp_path(people).unlink()
        temp_path(people).symlink_to("../elsewhere.csv")
    before = tree(package)
    for command in (["add", TEMPLATE], ["fmt"]):
        one_line_error(run(*command, "--package", package), says)
        assert tree(package) == before


class Killed(BaseException):
    """Stands for a kill: unlike an error, nothing catches it."""


def test_an_interrupted_merge_is_reported_by_checks_and_finished_by_the_next_writer(
    package: Path, tmp_path: Path
) -> None:
    canonical = tree(package)
    uncanonical(package, "people")
    uncanonical(package, "motives")

    def kill(step: str) -> None:
        if step == "renamed:people.csv":
            raise Killed

    with pytest.raises(Killed):
        format_package(package, on_step=kill)
    assert (package / JOURNAL).exists() and temp_path(package / "data" / "motives.csv").exists()
    interrupted = tree(package)
    for command, result in read_only_commands(package, tmp_path):
        assert tree(package) == interrupted, command
        assert result.exit_code == (0 if command == "diff" else 1), (command, result.output)
    done = run("fmt", "--package", package)
    assert done.exit_code == 0, done.output
    assert "an interrupted merge was found and rolled forward first" in done.stderr
    assert tree(package) == canonical
    assert run("validate", "--package", package, "--no-frictionless").exit_code == 0


@pytest.mark.parametrize("command", ["add", "fmt"])
@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("data/.people.csv.nk-new", "data/.people.csv.nk-new is not a regular file"),
        (JOURNAL, f"{JOURNAL} is not a regular file"),
        (temp_path(Path(JOURNAL)).name, f"{temp_path(Path(JOURNAL)).name} is not a regular file"),
    ],
    ids=["temporary", "journal", "journal-temporary"],
)
def test_a_folder_where_a_file_goes_is_a_one_line_error(
    package: Path, command: str, where: str, says: str
) -> None:
    (package / where).mkdir()
    uncanonical(package)
    before = tree(package)
    args = [TEMPLATE] if command == "add" else []
    one_line_error(run(command, *args, "--package", package), says)
    assert tree(package) == before


@pytest.mark.parametrize("command", ["add", "fmt"])
def test_a_read_only_data_folder_is_a_one_line_error(
    package: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    real_open = os.open
    data = (package / "data").resolve()

    def refuse(path: object, flags: int, *args: object, **kwargs: object) -> int:
        # Simulated, so that the test binds when run as root too.
        if flags & os.O_CREAT and Path(os.fspath(path)).resolve().parent == data:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(journal.os, "open", refuse)
    uncanonical(package)
    before = tree(package)
    args = [TEMPLATE] if command == "add" else []
    one_line_error(
        run(command, *args, "--package", package), "Permission denied; nothing was changed"
    )
    assert tree(package) == before


FULL_DISK_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    sys.modules["rfc3987_syntax"] = None
    from nk_defections.cli import run

    # No file may grow past the limit: a write past it fails as on a full disk (EFBIG).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    sys.argv = ["nk-defections", *sys.argv[2:]]
    run()
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE as on Linux")
@pytest.mark.parametrize("command", ["add", "fmt"])
def test_a_full_disk_leaves_nothing_behind(package: Path, command: str) -> None:
    uncanonical(package, "claims")  # the largest table: its copy cannot be written
    before = tree(package)
    args = [str(TEMPLATE)] if command == "add" else []
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, "8192", command, *args, "--package", str(package)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert child.returncode == 2, child.stderr
    assert child.stdout == ""
    error = said(child.stderr)
    assert error.count("\n") == 1 and error.startswith("error: cannot write data/"), child.stderr
    assert child.stderr.endswith("File too large; nothing was changed\n"), child.stderr
    assert tree(package) == before


def test_a_planted_lock_link_is_refused(package: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"kept\n")
    (package / LOCK).symlink_to(victim)
    uncanonical(package)
    before = tree(package)
    one_line_error(run("fmt", "--package", package), f"{LOCK} is a symbolic link")
    assert victim.read_bytes() == b"kept\n" and tree(package) == before


# -- 4. a malformed CSV is an error at its line, never a lost row ------------------------------------

MOTIVES = ",".join(PACKAGE.field_names("motives"))  # id,event_id,motive,stated_by,note
ROW = "mot-00000001,evt-00000001,other,per-00000001"
_SOURCES, _MOTIVES = (",".join(PACKAGE.field_names(t)).encode() for t in ("sources", "motives"))
#: A sources row whose content_sha256 cell holds a quote though it does not start with one.
_STRAY_QUOTE = ("," * PACKAGE.field_names("sources").index("content_sha256") + 'x",x"').encode()


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (f'{ROW},"a"b\n{ROW},c\n', 2, "note", tables.TEXT_AFTER_QUOTE),
        (f'{ROW},"a" \n', 2, "note", tables.TEXT_AFTER_QUOTE),
        (f'{ROW},""x"\n{ROW},y""x"\n', 2, "note", tables.TEXT_AFTER_QUOTE),
        (f'{ROW},"a\nb"\n"mot-1"x,e,o,p,n\n', 4, "id", tables.TEXT_AFTER_QUOTE),
        (f'{ROW},x",x"\n', 2, "note", tables.QUOTE_IN_CELL),
        (f'{ROW},a "b" c\n', 2, "note", tables.QUOTE_IN_CELL),
        (f'{ROW},x"\n{ROW},"y\n', 2, "note", tables.QUOTE_IN_CELL),
        (f'{ROW}, "a"\n', 2, "note", tables.QUOTE_IN_CELL),
        (f"{ROW},a\rb\n", 2, "note", tables.LONE_CR),
        (f'{ROW},"a"\r{ROW},b\n', 2, "note", tables.LONE_CR),
        (f'{ROW},ok\n{ROW},"never\nclosed\n', 3, "note", tables.NEVER_CLOSED),
        (f'{ROW},"a ""b"" c\n', 2, "note", tables.NEVER_CLOSED),
        (f'""{MOTIVES}\n', 1, None, tables.TEXT_AFTER_QUOTE),
    ],
)
def test_a_quote_out_of_place_is_malformed_at_its_line_and_field(
    tmp_path: Path, body: str, line: int, field: str | None, message: str
) -> None:
    path = tmp_path / "motives.csv"
    path.write_bytes((("" if body.startswith('""') else MOTIVES + "\n") + body).encode("utf-8"))
    got = read_contribution(PACKAGE, [path])
    assert [(i.code, i.row, i.field, i.message) for i in got.issues] == [
        ("csv.malformed", line, field, message)
    ]


def test_the_counted_and_the_exact_reading_agree_on_a_stray_quote(tmp_path: Path) -> None:
    """The falsifying example of test_a_csv_reads_the_same_by_counting_and_the_exact_way."""
    path = tmp_path / "sources.csv"
    path.write_bytes(_SOURCES + b"\n" + _STRAY_QUOTE)
    counted = tables.read_csv(PACKAGE, "sources", path, "sources.csv")
    with mock.patch.object(tables, "_read_counted", lambda data, header, counts: None):
        exact = tables.read_csv(PACKAGE, "sources", path, "sources.csv")
    assert counted[0] is None and exact[0] is None
    assert (
        counted[1]
        == exact[1]
        == [
            Issue(
                C.CSV_MALFORMED,
                tables.QUOTE_IN_CELL,
                file="sources.csv",
                row=2,
                field="content_sha256",
            )
        ]
    )


def swallow_the_next_row(lines: list[str], first: int) -> None:
    """Make the claim on *lines[first]* swallow the next one into its derivation.

    Each cell quoted as a spreadsheet may quote it, and the derivations made ``""x"`` and
    ``...""x"``: before csv.malformed, polars read the two rows as one, with the same number of
    cells, and the package stayed valid, frictionless included: the second claim was lost.
    """
    column = PACKAGE.field_names("claims").index("derivation")
    for i, extra in ((first, '""x"'), (first + 1, None)):
        cells = []
        for cell in next(csv.reader([lines[i]])):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow([cell])  # an empty cell as ""
            cells.append(buffer.getvalue())
        cells[column] = extra if extra is not None else cells[column] + '""x"'
        lines[i] = ",".join(cells)


def test_a_row_swallowed_into_a_cell_is_refused_by_validate_fmt_and_add(package: Path) -> None:
    """The reproduction: valid before, with one claim fewer than the file holds; now refused."""
    path = package / "data" / "claims.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    first = next(i for i, text in enumerate(lines) if text.startswith("clm-zj7nn3g6,"))
    swallow_the_next_row(lines, first)
    path.write_text("\n".join(lines), encoding="utf-8")
    before = tree(package)
    expected = (
        f"data/claims.csv:{first + 1} derivation [csv.malformed] error: {tables.TEXT_AFTER_QUOTE}"
    )
    for frictionless in ("--no-frictionless", "--frictionless"):
        result = run("validate", "--package", package, frictionless)
        assert result.exit_code == 1 and expected in result.stdout.splitlines(), result.stdout
    fmt = run("fmt", "--package", package)
    assert fmt.exit_code == 1 and expected in fmt.stdout.splitlines()
    add = run("add", TEMPLATE, "--package", package)
    assert add.exit_code == 1 and expected in add.stdout.splitlines()
    assert "refused: nothing was added; data/ is unchanged" in add.stderr
    assert tree(package) == before


def test_a_contributed_csv_that_swallows_a_row_is_refused(package: Path, tmp_path: Path) -> None:
    paths = write_spreadsheet_csvs(tmp_path)
    claims = tmp_path / "claims.csv"
    lines = claims.read_bytes().decode("utf-8").split("\r\n")
    swallow_the_next_row(lines, 1)
    claims.write_bytes("\r\n".join(lines).encode("utf-8"))
    before = tree(package)
    result = run("add", *paths, "--package", package)
    assert result.exit_code == 1
    expected = f"claims.csv:2 derivation [csv.malformed] error: {tables.TEXT_AFTER_QUOTE}"
    assert any(line.endswith(expected) for line in result.stdout.splitlines()), result.stdout
    assert tree(package) == before


@pytest.mark.parametrize("fault", ["swallowed row", "short row"])
def test_the_loader_and_diff_refuse_what_validate_refuses(
    package: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fault: str
) -> None:
    """Readers of the stored tables (load_table, diff, a release) read no other records than validate."""
    path = package / "data" / "claims.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    first = next(i for i, text in enumerate(lines) if text.startswith("clm-zj7nn3g6,"))
    if fault == "swallowed row":
        swallow_the_next_row(lines, first)
        says = f"data/claims.csv:{first + 1}: {tables.TEXT_AFTER_QUOTE}"
    else:
        lines[first] = lines[first].rsplit(",", 1)[0]
        width = len(PACKAGE.field_names("claims"))
        says = f"data/claims.csv:{first + 1}: row has {width - 1} cells, the header has {width}"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(PackageError) as raised:
        load_table("claims", path=package)
    assert str(raised.value).startswith(says)
    monkeypatch.setattr(sys, "argv", ["nk-defections", "diff", str(ROOT), str(package)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2 and out == ""
    error = said(err)
    assert error.startswith(f"error: {says}") and error.count("\n") == 1, err


def test_frictionless_reads_the_records_we_read(package: Path) -> None:
    """A cell like `a; "b"; c` is well formed, but a sniffed dialect takes ';' for the delimiter."""
    path = package / "data" / "motives.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    text = 'He said; "no"; then "left"; later'
    for row in rows[1:3]:
        row[4] = text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    # The claims on those notes give the new text (the cell a claim supports).
    claims_path = package / "data" / "claims.csv"
    claims = list(csv.DictReader(io.StringIO(claims_path.read_text(encoding="utf-8"), newline="")))
    edited = {row[0] for row in rows[1:3]}
    for claim in claims:
        if claim["record_id"] in edited and claim["field"] == "note":
            claim["value"] = text
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(claims[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(claims)
    claims_path.write_text(buffer.getvalue(), encoding="utf-8")
    result = run("validate", "--package", package, "--frictionless")
    assert result.exit_code == 0, result.stdout


# -- properties: the fault finders agree; every file we accept reads as the csv module reads it ---

PIECES = ['"', ",", "\n", "\r", "\r\n", "x", " ", "é", "\ufeff", '""']


def positions(data: bytes, char: bytes) -> np.ndarray:
    """Offsets of *char* in *data*."""
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == char[0])


@given(
    st.one_of(
        st.binary(max_size=60),
        st.lists(st.sampled_from(PIECES), max_size=30).map(lambda p: "".join(p).encode()),
    )
)
def test_the_fast_fault_finder_agrees_with_the_plain_one(data: bytes) -> None:
    """first_fault (numpy, on the offsets of quotes and CRs) is first_fault_plain, byte by byte."""
    fault = tables.first_fault(data, positions(data, b'"'), positions(data, b"\r"))
    event("well formed" if fault is None else fault[1].split(":")[0])
    assert fault == tables.first_fault_plain(data)


@st.composite
def contributed_csv(draw: st.DrawFn, table: str) -> bytes:
    """Bytes near a CSV of *table*: half well formed by construction, half with stray bytes."""
    names = PACKAGE.field_names(table)
    clean = draw(st.booleans(), label="well formed")
    text = st.text(st.sampled_from('x ,\n\r"é\ufeff'), max_size=4)
    cells = [
        st.text(st.sampled_from("x é;\t-1"), max_size=4),
        text.map(lambda t: '"' + t.replace('"', '""') + '"'),
    ]
    width = st.just(len(names))
    header = st.sampled_from([",".join(names), ",".join(reversed(names))])
    if not clean:  # quotes and CRs out of place, rows a cell short or long, no header
        cells.append(st.text(st.sampled_from('x ,\n\r"'), max_size=3))
        width = st.integers(len(names) - 1, len(names) + 1)
        header = header | st.just("")
    row = width.flatmap(lambda n: st.lists(st.one_of(cells), min_size=n, max_size=n))
    rows = draw(st.lists(row.map(",".join), max_size=4))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    end = draw(st.sampled_from(["", newline]))
    data = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    data += (newline.join([draw(header), *rows]) + end).encode("utf-8")
    for _ in range(0 if clean else draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b'"', b",", b"\n", b"\r", b"\xff"])) + data[at:]
    return data


def _contributed(table: str) -> st.SearchStrategy[tuple[str, bytes]]:
    return st.tuples(st.just(table), st.one_of(contributed_csv(table), st.binary(max_size=120)))


#: The tables a contribution may hold as CSV: redirects are written by the amendments alone.
CONTRIBUTED = [table for table in TABLES if table != REDIRECTS]


@given(st.sampled_from(CONTRIBUTED).flatmap(_contributed))
# Text after a closing quote: polars read the second row into the first one's note.
@example(("motives", _MOTIVES + b'\nm-1,e-1,other,p-1,""x"\nm-2,e-1,other,p-1,y""x"\n'))
# A short row, then one a cell too long without a newline: polars dropped its last cell.
@example(("motives", _MOTIVES + b"\nm-1,e-1,other,p-1\nm-2,e-1,other,p-1,,"))
# A quote inside an unquoted cell: the counting and the exact reading disagreed.
@example(("sources", _SOURCES + b"\n" + _STRAY_QUOTE))
def test_a_contributed_csv_reads_as_pythons_strict_csv_or_is_refused_at_a_line(
    case: tuple[str, bytes],
) -> None:
    """Any bytes as ``<table>.csv``: refused with a line (csv.*, or file.* when they are not
    UTF-8 text), or read as the csv module reads them under RFC 4180 (``strict=True``), up to
    what the reader documents: one BOM skipped, CRLF folded to LF, an empty cell as null."""
    table, raw = case
    with _folder() as tmp:
        path = tmp / f"{table}.csv"
        path.write_bytes(raw)
        got = read_contribution(PACKAGE, [path])
    refused = [i for i in got.issues if i.code.startswith(("csv.", "file."))]
    if refused:
        event(f"refused: {refused[0].code}")
        assert all(isinstance(i.row, int) and i.row >= 1 for i in refused), refused
        assert got.frames[table].is_empty()
        return
    event("read" if got.frames[table].height else "read: the header alone")
    assert got.issues == []
    text = raw.decode("utf-8-sig")  # accepted: UTF-8, with at most the one BOM we skip
    header, *records = csv.reader(io.StringIO(text, newline=""), strict=True)
    frame = got.frames[table]
    ours = [tuple(cell or "" for cell in row) for row in frame.select(header).rows()]
    assert ours == [tuple(cell.replace("\r\n", "\n") for cell in record) for record in records]


@contextmanager
def _folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)
