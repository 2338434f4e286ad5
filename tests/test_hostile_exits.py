"""Hostile input, 6: exit 3 only for our own bugs.

What is wrong with the input or the environment (a descriptor that cannot be applied, a path
that is no package, a NUL in a path, a link loop, a full disk, a file that cannot be read) ends a
command with one line, ``error: ...``, and exit 2 (or a finding and exit 1): never "internal
error ... please report it". ``cli.main`` decides it once for the whole class: a
:class:`PackageError` or any :class:`OSError` is exit 2, whatever command meets it. A fault of
our own code still gives exit 3.
"""

from __future__ import annotations

import copy
import errno
import io
import json
import os
import sys
import zipfile
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nk_defections.cli import main
from nk_defections.model.package import PackageError, load_package_descriptor
from nk_defections.read.bundle import open_bundle
from nk_defections.read.load import load_table
from nk_defections.write import journal
from nk_defections.write.journal import temp_path

from .conftest import ROOT, copy_package
from .strategies import TABLES
from .test_contributions import TEMPLATE
from .test_hostile import said, tree

Run = tuple[int, str, str]


def main_run(*args: str | Path) -> Run:
    """Run ``nk-defections ARGS`` as the installed command does (through ``cli.main``)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["nk-defections", *(os.fspath(a) for a in args)]
    with mock.patch.object(sys, "argv", argv), redirect_stdout(out), redirect_stderr(err):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def no_bug(run: Run) -> None:
    """Exit 1 or 2; never a traceback or an internal error; an exit 2 says one line on stderr."""
    code, out, err = run
    assert code in (1, 2), run
    assert "internal error" not in err and "Traceback" not in err, err
    if code == 2 and "Usage:" not in err:
        error = said(err)
        assert error.startswith("error: ") and error.count("\n") == 1, err


def one_line(run: Run, *fragments: str) -> None:
    code, out, err = run
    assert code == 2, run
    no_bug(run)
    for fragment in fragments:
        assert fragment in said(err), err


# -- malformed descriptors: refused at load, in a package folder and in a release zip ------------


def _people(descriptor: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in descriptor["resources"] if r["name"] == "people")


def _field(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in _people(descriptor)["schema"]["fields"] if f["name"] == name)


def _deep(depth: int) -> Callable[[dict[str, Any]], None]:
    def mutate(descriptor: dict[str, Any]) -> None:
        value: Any = []
        for _ in range(depth - 2):
            value = [value]
        descriptor["x"] = value

    return mutate


DESCRIPTOR_FAULTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "no schema": (lambda d: _people(d).pop("schema"), "no Table Schema"),
    "fields not a list": (
        lambda d: _people(d)["schema"].__setitem__("fields", {"id": {}}),
        "no Table Schema",
    ),
    "a field named twice": (
        lambda d: _people(d)["schema"]["fields"].append(copy.deepcopy(_field(d, "name"))),
        "names the field 'name' twice",
    ),
    "an invalid pattern": (
        lambda d: _field(d, "name").setdefault("constraints", {}).__setitem__("pattern", "(["),
        "is not a regular expression",
    ),
    "a pattern polars cannot match": (
        lambda d: _field(d, "name").setdefault("constraints", {}).__setitem__("pattern", "(?=x)"),
        "is not a regular expression",
    ),
    "a pattern that is not a string": (
        lambda d: _field(d, "name").setdefault("constraints", {}).__setitem__("pattern", 3),
        "is not a regular expression",
    ),
    "nesting 40 deep": (_deep(40), "nesting deeper than 32 levels"),
    "nesting 100,000 deep": (_deep(100_000), "nesting deeper than 32 levels"),
    "a foreign key to a missing resource": (
        lambda d: (
            _people(d)["schema"]
            .setdefault("foreignKeys", [])
            .append({"fields": ["id"], "reference": {"resource": "nothere", "fields": ["id"]}})
        ),
        "refers to the resource 'nothere', which the descriptor does not have",
    ),
    "a foreign key to a missing field": (
        lambda d: (
            _people(d)["schema"]
            .setdefault("foreignKeys", [])
            .append({"fields": ["id"], "reference": {"resource": "events", "fields": ["nope"]}})
        ),
        "'events' has no field 'nope'",
    ),
    "a foreign key of no field": (
        lambda d: (
            _people(d)["schema"]
            .setdefault("foreignKeys", [])
            .append({"fields": [], "reference": {"resource": "events", "fields": ["id"]}})
        ),
        "are not one field name",
    ),
    "foreign keys not a list": (
        lambda d: _people(d)["schema"].__setitem__("foreignKeys", {"fields": "id"}),
        "foreignKeys is not a list",
    ),
    "a foreign key without a reference": (
        lambda d: _people(d)["schema"].setdefault("foreignKeys", []).append({"fields": ["id"]}),
        "has no reference object",
    ),
}


def faulty_package(root: Path, fault: str) -> Path:
    copy_package(root)
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    mutate, _ = DESCRIPTOR_FAULTS[fault]
    if fault == "nesting 100,000 deep":  # too deep for json.dumps: spliced in as text
        text = json.dumps(descriptor)
        (root / "datapackage.json").write_text(
            text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8"
        )
        return root
    mutate(descriptor)
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return root


@pytest.mark.parametrize("fault", list(DESCRIPTOR_FAULTS))
def test_a_malformed_descriptor_is_a_one_line_error_never_a_bug(tmp_path: Path, fault: str) -> None:
    package = faulty_package(tmp_path / "package", fault)
    says = DESCRIPTOR_FAULTS[fault][1]
    with pytest.raises(PackageError, match=says.replace("(", r"\(").replace(")", r"\)")):
        load_package_descriptor(package)
    for command in (
        ["fmt", "--check", "--package", package],
        ["diff", ROOT, package],
        ["build", "--package", package, "--out", tmp_path / "dist", "--no-frictionless"],
    ):
        one_line(main_run(*command), says)
    # validate and add report it as the package's finding (package.descriptor): exit 1
    for command in (
        ["validate", "--package", package],
        ["add", TEMPLATE, "--dry-run", "--package", package],
    ):
        code, out, err = main_run(*command)
        assert code == 1 and says in out and "internal error" not in err, (out, err)
    assert not (tmp_path / "dist").exists()


def release_zip(folder: Path, mutate: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A zip of the package as a release folder lays it out, its descriptor changed by *mutate*."""
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    if mutate is not None:
        mutate(descriptor)
    path = folder / "release.zip"
    top = f"nk-defections-{descriptor.get('version', 'x')}/"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(top + "datapackage.json", json.dumps(descriptor))
        for resource in json.loads((ROOT / "datapackage.json").read_text())["resources"]:
            archive.write(ROOT / resource["path"], top + resource["path"])
    return path


@pytest.mark.parametrize(
    "fault", [f for f in DESCRIPTOR_FAULTS if f not in ("nesting 100,000 deep",)]
)
def test_a_malformed_release_descriptor_is_refused_by_diff(tmp_path: Path, fault: str) -> None:
    path = release_zip(tmp_path, DESCRIPTOR_FAULTS[fault][0])
    says = DESCRIPTOR_FAULTS[fault][1]
    one_line(main_run("diff", ROOT, path), says)
    one_line(
        main_run("build", "--previous", path, "--out", tmp_path / "dist", "--no-frictionless"),
        says,
    )


@pytest.mark.parametrize("algorithm", ["sha999", "shake_128", "sha3_256", ""])
def test_an_unknown_hash_algorithm_is_refused(tmp_path: Path, algorithm: str) -> None:
    digest = "0" * 32 if not algorithm else f"{algorithm}:{'0' * 64}"
    path = release_zip(tmp_path, lambda d: _people(d).__setitem__("hash", digest))
    if not algorithm:  # a bare hex digest is MD5: known, and wrong
        one_line(main_run("diff", ROOT, path), "does not match its md5 hash")
        return
    one_line(main_run("diff", ROOT, path), f"unknown hash algorithm {algorithm!r}")
    with pytest.raises(PackageError, match="unknown hash algorithm"):
        load_table("people", path=path)


def test_a_foreign_key_to_a_missing_resource_is_refused_by_the_loader(tmp_path: Path) -> None:
    package = faulty_package(tmp_path / "package", "a foreign key to a missing resource")
    with pytest.raises(PackageError, match="nothere"):
        load_table("people", path=package)
    with pytest.raises(PackageError, match="nothere"):
        open_bundle(package)


# -- what is not a package: diff and --previous ---------------------------------------------------


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("a plain file", "where a package is expected"),
        ("a zip without a version", "has no version, not a semantic version"),
        ("a zip with another version", "has the version 'banana', not a semantic version"),
        ("a zip that is not a zip", "not a readable zip"),
        ("a folder without a descriptor", "no datapackage.json"),
        ("a FIFO named .zip", "not a readable zip (it is a FIFO (named pipe)"),
    ],
)
def test_diff_and_previous_refuse_what_is_no_release(tmp_path: Path, given: str, says: str) -> None:
    if given == "a plain file":
        path = tmp_path / "plain.txt"
        path.write_text("hello\n", encoding="utf-8")
    elif given == "a zip without a version":
        path = release_zip(tmp_path, lambda d: d.pop("version"))
    elif given == "a zip with another version":
        path = release_zip(tmp_path, lambda d: d.__setitem__("version", "banana"))
    elif given == "a zip that is not a zip":
        path = tmp_path / "broken.zip"
        path.write_bytes(b"PK\x03\x04 not really")
    elif given == "a folder without a descriptor":
        path = tmp_path / "empty"
        path.mkdir()
    else:
        path = tmp_path / "pipe.zip"
        os.mkfifo(path)
    one_line(main_run("diff", ROOT, path), says)
    one_line(main_run("diff", path, ROOT), says)
    built = main_run("build", "--previous", path, "--out", tmp_path / "dist", "--no-frictionless")
    one_line(built, says)
    assert not (tmp_path / "dist").exists()


# -- NUL bytes and link loops in paths ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "a\x00b.json"],
        ["validate", "--package", "a\x00b"],
        ["validate", "--source-text", "src-00000001=a\x00b"],
        ["add", "a\x00b.json"],
        ["fmt", "--package", "a\x00b"],
        ["diff", "a\x00b", str(ROOT)],
        ["build", "--previous", "a\x00b"],
        ["build", "--out", "a\x00b"],
        ["new-id", "people", "a\x00b.json"],
        ["serve", "--package", "a\x00b"],
    ],
    ids=lambda args: " ".join(a for a in args if "\x00" not in a),
)
def test_a_nul_byte_in_a_path_is_a_usage_error(args: list[str]) -> None:
    code, out, err = main_run(*args)
    assert code == 2, (code, out, err)
    assert "internal error" not in err and "NUL byte" in err, err


def test_a_link_loop_is_unreadable_input_not_a_bug(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop.name)
    code, out, err = main_run("validate", loop, "--package", ROOT)
    assert code == 2 and "symbolic link" in out and "internal error" not in err
    folder = tmp_path / "loop"
    folder.symlink_to(folder.name)
    for command in (["fmt", "--package", folder], ["diff", ROOT, folder]):
        no_bug(main_run(*command))


def test_a_table_that_is_a_link_loop_is_a_finding(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    people = package / "data" / "people.csv"
    people.unlink()
    people.symlink_to("people.csv")
    code, out, err = main_run("validate", "--package", package)
    assert code in (1, 2) and "internal error" not in err, (out, err)
    no_bug(main_run("fmt", "--package", package))
    no_bug(main_run("diff", ROOT, package))


@pytest.mark.parametrize("command", ["add", "fmt"])
def test_a_planted_journal_nested_too_deep_is_one_line(tmp_path: Path, command: str) -> None:
    package = copy_package(tmp_path / "package")
    (package / journal.JOURNAL).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    before = tree(package)
    args = [TEMPLATE] if command == "add" else []
    one_line(main_run(command, *args, "--package", package), "is unreadable (nested too deep)")
    assert tree(package) == before


# -- a full disk, simulated: the write fails with ENOSPC, and leaves nothing behind --------------


@pytest.mark.parametrize("command", ["add", "fmt"])
@pytest.mark.parametrize("where", ["fsync", "fsync of the journal", "replace of the journal"])
def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(
    tmp_path: Path, command: str, where: str
) -> None:
    package = copy_package(tmp_path / "package")
    people = package / "data" / "people.csv"
    people.write_bytes(people.read_bytes().replace(b"\n", b"\r\n"))  # so that fmt rewrites it
    before = tree(package)
    real_fsync, real_replace = os.fsync, os.replace
    calls = {"fsync": 0}

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fsync(fd: int) -> None:
        calls["fsync"] += 1
        if where == "fsync" or (where == "fsync of the journal" and _is_journal(fd)):
            full()
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        if where == "replace of the journal" and Path(target).name == journal.JOURNAL:
            full()
        real_replace(source, target)

    args = [TEMPLATE] if command == "add" else []
    with (
        mock.patch.object(journal.os, "fsync", fsync),
        mock.patch.object(journal.os, "replace", replace),
    ):
        result = main_run(command, *args, "--package", package)
    one_line(result, "No space left on device; nothing was changed")
    assert tree(package) == before
    assert not list(package.rglob("*.nk-new")) and not temp_path(people).exists()


def _is_journal(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").endswith(journal.JOURNAL + ".nk-new")
    except OSError:  # pragma: no cover - no /proc
        return True


# -- the class: OSError and PackageError anywhere are exit 2; a bug is still exit 3 ---------------


@pytest.mark.parametrize(
    "raised",
    [
        PermissionError(errno.EACCES, "Permission denied", "data/people.csv"),
        OSError(errno.ELOOP, "Too many levels of symbolic links", "a", "b"),
        OSError(errno.ENOSPC, "No space left on device"),
        PackageError("the descriptor cannot be used"),
    ],
    ids=["permission", "loop", "full disk", "package"],
)
def test_the_environments_faults_are_exit_2_wherever_they_arise(raised: Exception) -> None:
    with mock.patch("nk_defections.check.validate.validate_package", side_effect=raised):
        code, out, err = main_run("validate", "--package", ROOT)
    assert code == 2 and out == ""
    error = said(err)
    assert error.startswith("error: ") and error.count("\n") == 1, err
    assert (raised.strerror if isinstance(raised, OSError) else str(raised)) in error


@pytest.mark.parametrize("bug", [KeyError("x"), TypeError("y"), ValueError("z\nw"), RuntimeError()])
def test_a_bug_of_ours_is_still_exit_3(bug: Exception) -> None:
    with mock.patch("nk_defections.check.validate.validate_package", side_effect=bug):
        code, out, err = main_run("validate", "--package", ROOT)
    assert code == 3 and out == ""
    error = said(err)
    assert error.startswith("internal error in nk-defections (") and error.count("\n") == 1, err
    assert error.endswith("please report it\n")


# -- the property: any bytes as a contributed file are exit 0, 1 or 2, in bounded time -----------

KINDS = st.one_of(st.sampled_from([".json", ".jsonl"]), st.sampled_from(TABLES).map(str))


@settings(
    max_examples=40,
    deadline=timedelta(seconds=20),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    kind=KINDS,
    data=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=12,
        ).map(lambda v: json.dumps({"people": [v]}).encode()),
    ),
)
def test_any_bytes_as_a_contributed_file_are_exit_0_1_or_2(
    tmp_path_factory: pytest.TempPathFactory, kind: str, data: bytes
) -> None:
    folder = tmp_path_factory.mktemp("any")
    path = folder / (f"contribution{kind}" if kind.startswith(".") else f"{kind}.csv")
    path.write_bytes(data)
    code, out, err = main_run("validate", path, "--package", ROOT)
    assert code in (0, 1, 2), (code, out, err)
    assert "internal error" not in err and "Traceback" not in err, err
