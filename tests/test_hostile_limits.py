"""Hostile input, 5: bounded resources.

Every file read is a regular file within the limits of ``nk_defections.model.limits``: a FIFO,
a device or a contributed symbolic link is refused before it is read (a FIFO never blocks), a
file or zip member over its size is refused, a zip member that inflates too far is not
inflated, a cell holds at most ``MAX_CELL_CHARS`` characters, and reading a long string takes
memory in proportion to it, not a hundred times it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path
from unittest import mock

import pytest

from nk_defections.findings import codes as C
from nk_defections.model import limits
from nk_defections.model.limits import MAX_CELL_CHARS, FileRefused, read_file
from nk_defections.model.package import PackageError, load_package_descriptor
from nk_defections.read import json as strict_json
from nk_defections.read.bundle import open_bundle
from nk_defections.read.contribution import read_contribution
from nk_defections.read.load import load_table

from .conftest import ROOT, copy_package
from .test_hostile import said
from .test_hostile_exits import main_run, no_bug, release_zip

PACKAGE = load_package_descriptor(ROOT)
SECRET = "root:x:0:0:a line of a file outside the contribution"


def cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed command in a child process, killed if it outlives *timeout* (a hang)."""
    code = "import sys; from nk_defections.cli import run; sys.argv[0] = 'nk-defections'; run()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- not a regular file: refused before it is read, a FIFO without blocking ---------------------


@pytest.mark.parametrize("name", ["x.json", "x.jsonl", "people.csv"])
def test_a_fifo_as_a_contributed_file_is_refused_at_once(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    os.mkfifo(path)
    result = cli("validate", path, "--package", ROOT, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{path} cannot be read: it is a FIFO (named pipe), not a regular file" in result.stdout
    added = cli("add", path, "--package", copy_package(tmp_path / "package"), timeout=60)
    assert added.returncode == 2 and "FIFO" in added.stdout


def test_a_fifo_as_a_table_or_descriptor_is_refused_at_once(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    (package / "data" / "motives.csv").unlink()
    os.mkfifo(package / "data" / "motives.csv")
    result = cli("validate", "--package", package, timeout=60)
    assert (
        result.returncode == 1 and "data/motives.csv cannot be read: it is a FIFO" in result.stdout
    )
    assert cli("fmt", "--package", package, timeout=60).returncode == 1
    diff = cli("diff", ROOT, package, timeout=60)
    assert diff.returncode == 2 and said(diff.stderr).count("\n") == 1, diff.stderr
    with pytest.raises(PackageError, match="data/motives.csv cannot be read: it is a FIFO"):
        load_table("motives", path=package)
    (package / "datapackage.json").unlink()
    os.mkfifo(package / "datapackage.json")
    for command in (["validate", "--package", package], ["diff", ROOT, package]):
        result = cli(*command, timeout=60)
        assert result.returncode in (1, 2) and "FIFO" in result.stdout + result.stderr
        assert "internal error" not in result.stderr


def device(path: Path) -> Path:
    """*path* made a character device that reads as /dev/zero does, or skip where that is not allowed."""
    zero = os.stat("/dev/zero")
    try:
        os.mknod(path, stat.S_IFCHR | 0o644, zero.st_rdev)
    except (PermissionError, AttributeError):
        pytest.skip("making a device needs privileges")
    return path


def test_a_device_named_like_a_contribution_is_refused(tmp_path: Path) -> None:
    """/dev/zero named x.json: it would grow memory without bound."""
    path = device(tmp_path / "x.json")
    result = cli("validate", path, "--package", ROOT, timeout=60)
    assert result.returncode == 2
    assert "x.json cannot be read: it is a character device, not a regular file" in result.stdout


def test_a_device_as_a_table_is_refused(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    (package / "data" / "motives.csv").unlink()
    device(package / "data" / "motives.csv")
    result = cli("validate", "--package", package, timeout=60)
    assert result.returncode == 1 and "character device" in result.stdout


@pytest.mark.parametrize("name", ["people.csv", "x.json", "x.jsonl"])
@pytest.mark.parametrize("target", ["file outside", "file beside", "folder", "dangling", "loop"])
def test_a_contributed_symbolic_link_is_refused_and_never_read(
    tmp_path: Path, name: str, target: str
) -> None:
    """``people.csv -> /etc/passwd`` printed the first line of that file; now it is not read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "passwd"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    folder = tmp_path / "contribution"
    folder.mkdir()
    link = folder / name
    if target == "file outside":
        link.symlink_to(secret)
    elif target == "file beside":
        (folder / "real").write_text("{}", encoding="utf-8")
        link.symlink_to("real")
    elif target == "folder":
        link.symlink_to(outside)
    elif target == "dangling":
        link.symlink_to(outside / "none")
    else:
        link.symlink_to(name)
    code, out, err = main_run("validate", link, "--package", ROOT)
    assert code == 2, (out, err)
    assert f"{link} [file.unreadable] error: {link} is a symbolic link" in out
    assert "root:x" not in out + err
    got = read_contribution(PACKAGE, [link])
    assert [i.code for i in got.issues] == [C.FILE_UNREADABLE]


def test_read_file_refuses_a_link_it_is_told_to_and_opens_no_fifo(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"data")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert read_file(link) == b"data"
    with pytest.raises(FileRefused, match="symbolic link"):
        read_file(link, links=False)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileRefused, match="FIFO"):
        read_file(fifo)
    with pytest.raises(FileRefused, match="directory"):
        read_file(tmp_path)


# -- sizes: a file, a descriptor, a zip member, a cell --------------------------------------------


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"id,name\n" + b"per-00000001,x\n" * 20)
    with mock.patch.object(limits, "MAX_FILE_BYTES", 100):
        with pytest.raises(FileRefused, match="more than the limit of 100 bytes"):
            read_file(path)
        got = read_contribution(PACKAGE, [path])
    assert [(i.code, i.message) for i in got.issues] == [
        (
            C.FILE_UNREADABLE,
            f"{path} cannot be read: it holds 308 bytes, more than the limit of 100 bytes",
        )
    ]


def test_a_descriptor_over_its_limit_is_refused(tmp_path: Path) -> None:
    package = copy_package(tmp_path / "package")
    with mock.patch("nk_defections.model.package.MAX_DESCRIPTOR_BYTES", 1000):
        with pytest.raises(PackageError, match="more than the limit of 1,000 bytes"):
            load_package_descriptor(package)


def bomb(folder: Path, megabytes: int, *, member: str = "people.csv") -> Path:
    """A release zip whose *member* inflates to *megabytes* MB of one repeated row."""
    path = release_zip(folder)
    with zipfile.ZipFile(path) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    bombed = folder / "bomb.zip"
    with zipfile.ZipFile(bombed, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if not name.endswith(member):
                archive.writestr(name, data)
                continue
            header, row = data.split(b"\n")[:2]
            with archive.open(name, "w", force_zip64=True) as out:
                out.write(header + b"\n")
                block = (row + b"\n") * (2**20 // (len(row) + 1))
                for _ in range(megabytes):
                    out.write(block)
    return bombed


def test_a_zip_member_that_inflates_too_far_is_not_inflated(tmp_path: Path) -> None:
    path = bomb(tmp_path, 40)
    code, out, err = main_run("diff", ROOT, path)
    assert code == 2 and "inflates" in said(err) and "more than the limit of 100" in said(err)
    no_bug((code, out, err))
    with pytest.raises(PackageError, match="inflates"):
        load_table("people", path=path)
    built = main_run("build", "--previous", path, "--out", tmp_path / "dist", "--no-frictionless")
    assert built[0] == 2 and "inflates" in built[2]


def test_a_zip_member_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = bomb(tmp_path, 3)
    with mock.patch("nk_defections.read.bundle.MAX_FILE_BYTES", 2**20):
        with pytest.raises(
            PackageError, match=r"inflates to [\d,]+ bytes, more than the limit of 1 MiB"
        ):
            load_table("people", path=path)


def test_a_zip_member_is_checked_against_its_hash_as_it_streams(tmp_path: Path) -> None:
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    people = next(r for r in descriptor["resources"] if r["name"] == "people")
    good = (ROOT / people["path"]).read_bytes()
    path = release_zip(
        tmp_path,
        lambda d: next(r for r in d["resources"] if r["name"] == "people").__setitem__(
            "hash", "sha256:" + hashlib.sha256(good[:-1] + b"x").hexdigest()
        ),
    )
    with pytest.raises(PackageError, match="does not match its sha256 hash"):
        load_table("people", path=path)
    assert open_bundle(path).table_bytes("motives")  # the others are read as before


def long_text_contribution(tmp_path: Path, kind: str, length: int) -> Path:
    text = "x" * length
    if kind == "people.csv":
        path = tmp_path / "people.csv"
        names = PACKAGE.field_names("people")
        row = ["per-00000001" if n == "id" else text if n == "name" else "" for n in names]
        path.write_text(",".join(names) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    elif kind == "x.json":
        path = tmp_path / "x.json"
        records = [{"id": f"per-{i:08d}", "name": "n"} for i in range(40)]
        records[0]["note"] = text
        path.write_text(json.dumps({"people": records}), encoding="utf-8")
    else:
        path = tmp_path / "x.jsonl"
        line = {"resource": "people", "record": {"id": "per-00000001", "aliases": [text]}}
        path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["people.csv", "x.json", "x.jsonl"])
def test_a_cell_over_the_limit_is_refused_with_its_length(tmp_path: Path, kind: str) -> None:
    path = long_text_contribution(tmp_path, kind, MAX_CELL_CHARS + 1)
    code, out, err = main_run("validate", path, "--package", ROOT)
    assert code == 1
    says = f"the text has {MAX_CELL_CHARS + 1:,} characters, more than the {MAX_CELL_CHARS:,} a cell may hold"
    (line,) = [line for line in out.splitlines() if "[schema.max-length]" in line]
    assert line.endswith(says), line
    assert max(map(len, out.splitlines())) < 2000  # no finding quotes the text whole


@pytest.mark.parametrize("kind", ["people.csv", "x.json"])
def test_a_cell_at_the_limit_is_not_refused_for_its_length(tmp_path: Path, kind: str) -> None:
    path = long_text_contribution(tmp_path, kind, MAX_CELL_CHARS)
    code, out, err = main_run("validate", path, "--package", ROOT)
    assert "a cell may hold" not in out


# -- memory in proportion to the input --------------------------------------------------------------


DEEP = ", " + '"b": ' + "[" * 40 + "]" * 40  # deeper than MAX_DEPTH: the depth check runs


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "' + "x" * 5_000_000 + '"' + DEEP + "}",
        '{"a": "' + "\\n" * 2_500_000 + '"' + DEEP + "}",
        json.dumps({"people": [{"id": "per-00000001", "name": "x" * 5_000_000}]}),
    ],
    ids=["a long string", "a long string of escapes", "a valid envelope"],
)
def test_reading_a_long_string_takes_memory_in_proportion(text: str) -> None:
    """The depth check and the pointer scan once kept ~120 bytes per character (2.6 GB for 20 MB)."""
    tracemalloc.start()
    try:
        value, error = strict_json.parse_json(text)
        if error is None:
            strict_json.pointer_lines(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (error is None) == (DEEP not in text)
    assert peak < 6 * len(text), f"{peak / len(text):.1f} bytes per character"
