"""Peak memory on hostile input: a long string in a JSON contribution, a long JSON Lines line, a zip bomb.

Each case runs ``nk-defections`` in a child process and reads the child's peak resident set size
(``ru_maxrss`` of ``os.wait4``), next to the size of the input, with the exit code and the last
line the command said:

* ``json-string``: a JSON envelope of 40 people, one of whom has a name of ``--string-mb`` MB;
* ``jsonl-line``: a JSON Lines file whose one line holds a name of ``--line-mb`` MB;
* ``zip-member``: a release zip whose ``people.csv`` inflates to ``--member-mb`` MB from about a
  thousandth of that, compared by ``diff`` with the package.

Usage::

    python benchmarks/bench_memory.py
    python benchmarks/bench_memory.py --baseline OLD/.venv/bin/nk-defections
    python benchmarks/bench_memory.py --member-mb 1000 --line-mb 500
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 10**6


def _person(i: int, name: str) -> dict[str, str]:
    return {"id": f"per-{i:08d}", "name": name}


def json_string(folder: Path, megabytes: int) -> tuple[list[str], int]:
    """An envelope of people, one with a name of *megabytes* MB."""
    people = [_person(i, f"Person {i}") for i in range(40)]
    people[0]["name"] = "x" * (megabytes * MB)
    path = folder / "long-string.json"
    path.write_text(json.dumps({"people": people}), encoding="utf-8")
    return ["validate", str(path), "--package", str(ROOT)], path.stat().st_size


def jsonl_line(folder: Path, megabytes: int) -> tuple[list[str], int]:
    """A JSON Lines file of one record whose name is *megabytes* MB."""
    path = folder / "long-line.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"resource": "people", "record": {"id": "per-aaaaaaaa", "name": "')
        for _ in range(megabytes):
            out.write("x" * MB)
        out.write('"}}\n')
    return ["validate", str(path), "--package", str(ROOT)], path.stat().st_size


def zip_member(folder: Path, megabytes: int) -> tuple[list[str], int]:
    """A release zip of the package whose people.csv inflates to *megabytes* MB."""
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    path = folder / "bomb.zip"
    top = f"nk-defections-{descriptor['version']}/"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(top + "datapackage.json", json.dumps(descriptor))
        for resource in descriptor["resources"]:
            name = resource["path"]
            if not name.endswith("people.csv"):
                archive.write(ROOT / name, top + name)
                continue
            header, row = (ROOT / name).read_bytes().split(b"\n")[:2]
            with archive.open(top + name, "w", force_zip64=True) as member:
                member.write(header + b"\n")
                block = (row + b"\n") * (MB // (len(row) + 1))
                for _ in range(megabytes):
                    member.write(block)
    return ["diff", str(ROOT), str(path)], path.stat().st_size


CASES = {"json-string": json_string, "jsonl-line": jsonl_line, "zip-member": zip_member}


def measure(command: list[str]) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS in bytes, exit code and the last line on stderr of *command*."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines() or [""]
    return time.perf_counter() - start, usage.ru_maxrss * 1024, child.returncode, lines[-1][:110]


def main() -> None:
    """Build each case and print its peak memory under each tool."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--string-mb", type=int, default=20)
    parser.add_argument("--line-mb", type=int, default=100)
    parser.add_argument("--member-mb", type=int, default=1000)
    parser.add_argument(
        "--cases", default=",".join(CASES), help="Comma-separated: " + ", ".join(CASES)
    )
    parser.add_argument(
        "--baseline", help="Another nk-defections executable to measure beside this one."
    )
    args = parser.parse_args()
    tools = {"this": str(Path(sys.executable).with_name("nk-defections"))}
    if args.baseline:
        tools["baseline"] = args.baseline
    sizes = {
        "json-string": args.string_mb,
        "jsonl-line": args.line_mb,
        "zip-member": args.member_mb,
    }
    work = Path(tempfile.mkdtemp(prefix="nk-bench-memory-"))
    try:
        for case in args.cases.split(","):
            command, size = CASES[case](work, sizes[case])
            print(f"{case}: {sizes[case]} MB of content, input file {size / MB:.1f} MB")
            for tool, executable in tools.items():
                wall, peak, code, said = measure([executable, *command])
                print(f"  {tool:<9} peak {peak / MB:>8.0f} MB  {wall:>6.1f} s  exit {code}  {said}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
