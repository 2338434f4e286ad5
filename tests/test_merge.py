"""``add`` and ``fmt``: all or nothing, canonical, serialised, and nothing lost when killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from filelock import FileLock

from nk_defections.check.validate import validate_package
from nk_defections.model.package import load_package_descriptor
from nk_defections.write import journal
from nk_defections.write.canonical import ReadOnlyPackage, format_package
from nk_defections.write.journal import JOURNAL, LOCK, JournalError, recover, temp_path
from nk_defections.write.merge import add_contribution

from .conftest import ROOT, copy_package
from .test_contributions import TEMPLATE, TEMPLATE_TEXT, write_spreadsheet_csvs

TEXTS = {"src-d128fkbd": TEMPLATE_TEXT}


def snapshot(package: Path) -> dict[str, bytes]:
    """Every file of the package folder (lock file aside), by relative path."""
    return {
        p.relative_to(package).as_posix(): p.read_bytes()
        for p in sorted(package.rglob("*"))
        if p.is_file() and p.name != LOCK
    }


@pytest.fixture(scope="module")
def merged_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """data/ after adding the template to a clean copy: what every other way of adding it must give."""
    package = copy_package(tmp_path_factory.mktemp("merged") / "package")
    result = add_contribution([TEMPLATE], package=package, source_texts=TEXTS)
    assert not result.refused, result.report.issues
    return snapshot(package)


def test_add_merges_the_template_into_a_package_that_still_validates(
    tmp_path: Path, merged_template: dict[str, bytes]
) -> None:
    package = copy_package(tmp_path / "package")
    before = snapshot(package)
    result = add_contribution([TEMPLATE], package=package, source_texts=TEXTS)
    assert result.added["people"] == ["per-17zwq172", "per-8bzg6zys", "per-hd8fvzkn"]
    assert sum(map(len, result.added.values())) == 83
    assert sorted(result.written) == sorted(f"data/{t}.csv" for t in result.added)
    after = snapshot(package)
    assert after == merged_template
    assert set(after) == set(before)  # no journal, no temporary file left behind
    assert validate_package(package, frictionless=False).is_valid(strict=True)
    assert format_package(package, check=True).changed == []
    for table, frame in _frames(
        package
    ).items():  # every row lands once, in id order; old rows stay
        assert frame.height == _frames(ROOT)[table].height + len(result.added.get(table, []))
        assert frame["id"].is_unique().all()
        assert frame["id"].to_list() == sorted(frame["id"].to_list())


def _frames(package: Path):
    from nk_defections.read.package import read_package_frames

    frames, issues = read_package_frames(load_package_descriptor(package))
    assert issues == []
    return frames


def test_the_same_contribution_as_spreadsheet_csvs_merges_to_the_same_bytes(
    tmp_path: Path, merged_template: dict[str, bytes]
) -> None:
    package = copy_package(tmp_path / "package")
    csvs = write_spreadsheet_csvs(tmp_path)
    assert all(
        p.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in p.read_bytes() for p in csvs
    )
    result = add_contribution(csvs, package=package, source_texts=TEXTS)
    assert not result.refused, result.report.issues
    assert snapshot(package) == merged_template
    assert validate_package(package, frictionless=False).is_valid(strict=True)


def test_the_same_contribution_as_json_lines_merges_to_the_same_bytes(
    tmp_path: Path, merged_template: dict[str, bytes]
) -> None:
    package = copy_package(tmp_path / "package")
    document = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    lines = [
        json.dumps({"resource": t, "record": r})
        for t, records in document.items()
        if t != "$schema"
        for r in records
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    result = add_contribution([tmp_path / "c.jsonl"], package=package)
    assert not result.refused, result.report.issues
    assert snapshot(package) == merged_template


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    before = snapshot(package)
    result = add_contribution([TEMPLATE], package=package, dry_run=True)
    assert not result.refused and result.added["claims"] and result.written
    assert snapshot(package) == before


def test_a_refused_add_leaves_every_byte_as_it_was(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    before = snapshot(package)
    broken = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    broken["people"][0]["birth_date"] = "2023-02-30"
    (tmp_path / "broken.json").write_text(json.dumps(broken), encoding="utf-8")
    (tmp_path / "fine.json").write_text(json.dumps({"people": []}), encoding="utf-8")
    result = add_contribution([tmp_path / "fine.json", tmp_path / "broken.json"], package=package)
    assert result.refused and not result.added and not result.written
    assert [i.code for i in result.report.errors] == ["date.invalid"]
    assert snapshot(package) == before


def test_nothing_is_merged_into_a_package_that_is_itself_invalid(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    people = package / "data" / "people.csv"
    people.write_text(
        people.read_text(encoding="utf-8").replace(",male,", ",mail,", 1), encoding="utf-8"
    )
    before = snapshot(package)
    result = add_contribution([TEMPLATE], package=package, source_texts=TEXTS)
    assert result.refused and not result.written
    assert [(i.code, i.file, i.field) for i in result.report.errors] == [
        ("schema.enum", "data/people.csv", "gender")
    ]
    assert snapshot(package) == before


def test_ids_are_minted_once_so_adding_twice_is_refused(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    add_contribution([TEMPLATE], package=package)
    merged = snapshot(package)
    again = add_contribution([TEMPLATE], package=package)
    assert again.refused
    assert {i.code for i in again.report.errors} == {"ref.id-exists"}
    assert snapshot(package) == merged


def test_an_empty_contribution_writes_nothing(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    before = snapshot(package)
    (tmp_path / "empty.json").write_text("{}", encoding="utf-8")
    result = add_contribution([tmp_path / "empty.json"], package=package)
    assert not result.refused and result.added == {} and snapshot(package) == before


def test_the_installed_copy_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = copy_package(tmp_path / "package")
    monkeypatch.setattr("nk_defections.write.canonical.is_installed_copy", lambda root: True)
    before = snapshot(package)
    with pytest.raises(ReadOnlyPackage):
        add_contribution([TEMPLATE], package=package)
    with pytest.raises(ReadOnlyPackage):
        format_package(package)
    assert not add_contribution([TEMPLATE], package=package, dry_run=True).refused
    assert format_package(package, check=True).changed == []
    assert snapshot(package) == before


# -- fmt -----------------------------------------------------------------------------------------------


def test_the_shipped_data_is_canonical() -> None:
    assert format_package(ROOT, check=True).changed == []


def test_fmt_restores_the_canonical_form_and_is_idempotent(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    canonical = snapshot(package)
    people = package / "data" / "people.csv"
    header, *rows = people.read_text(encoding="utf-8").splitlines()
    people.write_bytes(("\r\n".join([header, *reversed(rows)]) + "\r\n").encode("utf-8"))
    claims = package / "data" / "claims.csv"
    claims.write_text(
        claims.read_text(encoding="utf-8").replace(",normal,\n", ',"normal",\n', 1),
        encoding="utf-8",
    )
    check = format_package(package, check=True)
    assert check.changed == ["data/people.csv", "data/claims.csv"]
    assert check.diffs["data/people.csv"].startswith(
        "--- a/data/people.csv\n+++ b/data/people.csv\n"
    )
    assert snapshot(package) != canonical
    assert format_package(package).changed == ["data/people.csv", "data/claims.csv"]
    assert snapshot(package) == canonical
    assert format_package(package).changed == []


def test_fmt_refuses_tables_it_cannot_read(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    (package / "data" / "motives.csv").write_text("id,event_id\nmot-00000001\n", encoding="utf-8")
    (package / "data" / "people.csv").write_bytes(
        (package / "data" / "people.csv").read_bytes().replace(b"\n", b"\r\n")
    )
    before = snapshot(package)
    result = format_package(package)
    assert {i.code for i in result.issues} == {"csv.missing-column"}
    assert snapshot(package) == before


# -- the journal: a write killed at any moment -------------------------------------------------------

# The journal needs nothing but the standard library and filelock: a child loads it alone, fast.
KILL_CHILD = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("journal", sys.argv[4])
    journal = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(journal)
    replace_files = journal.replace_files

    root, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    contents = {root / name: data.encode("utf-8") for name, data in json.loads(sys.argv[3]).items()}
    steps = []

    def on_step(name):
        steps.append(name)
        if len(steps) == kill_at:
            os._exit(70)

    replace_files(root, contents, on_step=on_step)
    print(json.dumps(steps))
    """
)


def _run_kill_child(
    root: Path, kill_at: int, contents: dict[str, str]
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            KILL_CHILD,
            str(root),
            str(kill_at),
            json.dumps(contents),
            journal.__file__,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_write_killed_after_any_step_is_rolled_back_or_forward(tmp_path: Path) -> None:
    names = ["data/a.csv", "data/b.csv", "data/c.csv"]
    old = {name: f"old {name}\n" for name in names}
    new = {name: f"new {name}\n" for name in names}
    steps = json.loads(_run_kill_child(_fresh(tmp_path / "complete", old), 0, new).stdout)
    assert steps == [
        *(f"written:{n[5:]}" for n in names),
        "committed",
        *(f"renamed:{n[5:]}" for n in names),
        "done",
    ]
    for kill_at in range(1, len(steps)):
        root = _fresh(tmp_path / f"killed-{kill_at}", old)
        child = _run_kill_child(root, kill_at, new)
        assert child.returncode == 70, child.stderr
        outcome = recover(root, [root / n for n in names])
        committed = kill_at >= steps.index("committed") + 1
        assert outcome == ("rolled forward" if committed else "rolled back"), kill_at
        assert _contents(root, names) == (new if committed else old), kill_at
        assert sorted(p.name for p in (root / "data").iterdir()) == ["a.csv", "b.csv", "c.csv"]
        assert not (root / JOURNAL).exists()
        assert recover(root, [root / n for n in names]) is None


def _fresh(root: Path, contents: dict[str, str]) -> Path:
    for name, text in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _contents(root: Path, names: list[str]) -> dict[str, str]:
    return {name: (root / name).read_text(encoding="utf-8") for name in names}


def test_half_written_files_without_a_journal_are_rolled_back(tmp_path: Path) -> None:
    root = _fresh(tmp_path, {"data/a.csv": "old\n"})
    temp_path(root / "data" / "a.csv").write_text("ne", encoding="utf-8")  # killed mid-write
    temp_path(root / JOURNAL).write_text('{"files": [', encoding="utf-8")  # killed mid-journal
    assert recover(root, [root / "data" / "a.csv"]) == "rolled back"
    assert sorted(p.name for p in root.rglob("*")) == ["a.csv", "data"]


def test_a_tampered_journal_is_refused(tmp_path: Path) -> None:
    root = _fresh(tmp_path, {"data/a.csv": "old\n"})
    (root / JOURNAL).write_text(
        json.dumps({"files": [{"path": "../outside.csv", "sha256": "0"}]}), encoding="utf-8"
    )
    with pytest.raises(JournalError):
        recover(root, [])
    (root / JOURNAL).write_text(
        json.dumps({"files": [{"path": "data/a.csv", "sha256": "0" * 64}]}), encoding="utf-8"
    )
    temp_path(root / "data" / "a.csv").write_text("not what the journal says\n", encoding="utf-8")
    with pytest.raises(JournalError):
        recover(root, [])
    assert (root / "data" / "a.csv").read_text(encoding="utf-8") == "old\n"


# Children skip rfc3987_syntax, which jsonschema imports only for the iri formats (no schema here
# uses them) and which compiles grammars for seconds at import.
ADD_CHILD = textwrap.dedent(
    """
    import os, sys
    sys.modules["rfc3987_syntax"] = None
    from nk_defections.write.merge import add_contribution

    kill_at, seen = int(sys.argv[3]), []

    def on_step(name):
        seen.append(name)
        if len(seen) == kill_at:
            os._exit(70)

    result = add_contribution([sys.argv[2]], package=sys.argv[1], on_step=on_step)
    sys.exit(1 if result.refused else 0)
    """
)


@pytest.mark.parametrize("kill_at", [3, 14], ids=["before-commit", "after-first-rename"])
def test_a_killed_add_loses_nothing(
    tmp_path: Path, kill_at: int, merged_template: dict[str, bytes]
) -> None:
    """Kill a real ``add`` between file writes; the next ``add`` finishes or undoes it before anything else."""
    package = copy_package(tmp_path / "package")
    before = snapshot(package)
    child = subprocess.run(
        [sys.executable, "-c", ADD_CHILD, str(package), str(TEMPLATE), str(kill_at)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 70, child.stderr
    assert any(p.name.endswith(".nk-new") for p in (package / "data").iterdir())
    (tmp_path / "empty.json").write_text("{}", encoding="utf-8")
    committed = kill_at > 12  # 12 temporary files are written, then the journal commits (step 13)
    killed = snapshot(package)
    # A dry run changes nothing: it reports a committed, unfinished merge and finishes nothing.
    dry = add_contribution([tmp_path / "empty.json"], package=package, dry_run=True)
    assert dry.recovered is None and snapshot(package) == killed
    assert [i.code for i in dry.report.errors] == (
        ["package.interrupted-merge"] if committed else []
    )
    result = add_contribution([tmp_path / "empty.json"], package=package)
    assert result.recovered == ("rolled forward" if committed else "rolled back")
    assert snapshot(package) == (merged_template if committed else before)  # both validate


# -- the lock: two adds at once ------------------------------------------------------------------------

RACE_CHILD = textwrap.dedent(
    """
    import sys
    sys.modules["rfc3987_syntax"] = None
    from nk_defections.write.merge import add_contribution

    print("ready", flush=True)
    result = add_contribution([sys.argv[2]], package=sys.argv[1])
    sys.exit(1 if result.refused else 0)
    """
)


def test_two_adds_at_once_are_serialised(tmp_path: Path) -> None:
    """Two contributions re-using the same new ids: with the lock, the second sees the first and is refused."""
    package = copy_package(tmp_path / "package")
    document = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    (tmp_path / "a.json").write_text(json.dumps(document), encoding="utf-8")
    document["people"][0]["name"] = "Kim Example (second fictional spelling)"
    (tmp_path / "b.json").write_text(json.dumps(document), encoding="utf-8")
    with FileLock(str(package / LOCK)):
        children = [
            subprocess.Popen(
                [sys.executable, "-c", RACE_CHILD, str(package), str(tmp_path / name)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("a.json", "b.json")
        ]
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # both are now waiting for the lock the test holds
        assert all(child.poll() is None for child in children)
    codes = sorted(child.wait(timeout=300) for child in children)
    assert codes == [0, 1], [child.stderr.read() for child in children]
    assert validate_package(package, frictionless=False).is_valid()
    people = (package / "data" / "people.csv").read_text(encoding="utf-8")
    assert people.count("per-8bzg6zys") == 1


def test_the_lock_file_is_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert LOCK in ignored and JOURNAL in ignored and "*.nk-new" in ignored
    assert os.path.basename(temp_path(Path("data/people.csv"))).endswith(".nk-new")


def test_a_read_only_package_can_be_checked_but_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = copy_package(tmp_path / "package")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # Simulated, so that the test binds when run as root too.
    monkeypatch.setattr("nk_defections.write.journal.FileLock.acquire", refuse)
    assert not add_contribution([TEMPLATE], package=package, dry_run=True).refused
    assert format_package(package, check=True).changed == []
    with pytest.raises(JournalError, match="cannot take the write lock"):
        add_contribution([TEMPLATE], package=package)
