"""Mutation testing of the rules with mutmut: the kill rate, and every surviving mutant.

mutmut 3 imports mutated code only from a source tree at the project root, ``src/`` or
``source/``: it names a mutant's module after its path (stripping only ``src.``) and puts
``mutants/src`` (never ``mutants/validators``) first on ``sys.path``. Our package lives under
``validators/``, so this makes a scratch copy of the tracked files with ``validators/`` renamed to
``src/`` (``[tool.mutmut]`` adjusted to match), and runs mutmut there. mutmut then mutates
``src/nk_defections/check/rules/`` one change at a time and runs, against each mutant, only the selected
tests that call the mutated function; its forced-failure run makes sure the tests import the
mutated copy, not the editable install.

It prints the count of each outcome, the kill rate = (killed + timeout) / (killed + survived +
timeout), and, for each surviving mutant, its file, function and diff. Slow, so not part of
``make test``::

    make mutation                                  # or: .venv/bin/python tools/mutation.py
    .venv/bin/python tools/mutation.py --workdir W # keep the scratch copy in W (reused if present)
    .venv/bin/python tools/mutation.py --workdir W --survivors
                                                   # after adding tests: rerun last run's survivors
    .venv/bin/python tools/mutation.py 'nk_defections.check.rules.record.*'   # only these mutants
    .venv/bin/python tools/mutation.py --sample 100   # a random sample (seeded): an estimate

A whole run is slow (every test validates a whole package, so each mutant is reached by all of
them and a surviving one costs the whole selection): ``--sample`` estimates the kill rate from a
seeded random sample of the mutants, and prints its 95 % interval.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
SOURCE = "validators"  # where the package lives here
RENAMED = "src"  # where mutmut looks for it
JUDGED = ("killed", "survived", "timeout")


def tracked_files() -> list[str]:
    """The files git tracks or would (not ignored), as they are in the work tree."""
    command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True).stdout
    return [name for name in out.decode("utf-8").split("\0") if name and (ROOT / name).is_file()]


def mutmut_section(pyproject: str) -> str:
    """``[tool.mutmut]`` with every ``validators/`` path moved to ``src/``."""
    lines = pyproject.splitlines(keepends=True)
    out, inside = [], False
    for line in lines:
        if line.startswith("["):
            inside = line.strip() == "[tool.mutmut]"
        if inside:
            line = re.sub(rf'"{SOURCE}(?=[/"])', f'"{RENAMED}', line)
            if line.startswith("also_copy = ["):
                line = line.replace("[", '["conftest.py", ', 1)
        out.append(line)
    text = "".join(out)
    if "[tool.mutmut]" not in text:
        raise SystemExit("pyproject.toml has no [tool.mutmut] section")
    return text


def make_scratch(work: Path) -> None:
    """Copy the tracked files into *work*, ``validators/`` as ``src/``; keep mutmut's results there.

    On a scratch copy reused from an earlier run, mutmut notices a changed file it mutates (and
    tests its functions again), but keeps its first copy of every other source file: those are
    refreshed in ``mutants/`` here, so that the code the tests run is the code of the work tree.
    """
    text = mutmut_section((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mutated = tomllib.loads(text)["tool"]["mutmut"].get("only_mutate", [])
    for name in tracked_files():
        relative = RENAMED + name[len(SOURCE) :] if name.startswith(SOURCE + "/") else name
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
        copied = work / "mutants" / relative
        if (
            relative.startswith(RENAMED + "/")
            and copied.exists()
            and not any(fnmatch.fnmatch(relative, p) for p in mutated)
        ):
            shutil.copy2(ROOT / name, copied)
    (work / "pyproject.toml").write_text(text, encoding="utf-8")
    (work / "conftest.py").write_text(ORDER_CONFTEST, encoding="utf-8")


#: The scratch copy's root conftest.py: run the cheapest tests first, so that a mutant the tests
#: kill is killed early (``-x``) rather than after the slow property tests. mutmut passes a set of
#: test ids, in no particular order; their durations come from its own stats.
ORDER_CONFTEST = '''"""Run the cheapest tests first (by mutmut's recorded durations)."""

import json
from pathlib import Path

STATS = Path(__file__).parent / "mutmut-stats.json"


def pytest_collection_modifyitems(items):
    try:
        durations = json.loads(STATS.read_text(encoding="utf-8"))["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
'''


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUTANT_UNDER_TEST")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def results(work: Path) -> dict[str, str]:
    """Mutant name -> outcome, from ``mutmut results --all true``."""
    listing = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
        env=environment(),
    )
    found = {}
    for line in listing.stdout.splitlines():
        name, sep, outcome = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            found[name] = outcome.strip()
    return found


#: Generates the mutants (mutmut's first step) without running any test, to draw a sample from.
GENERATE = """
import os
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir()
copy_also_copy_files()
setup_source_paths()
create_mutants(1)
"""


def sample(work: Path, size: int, seed: int) -> list[str]:
    """A seeded random sample of *size* of the mutants in *work*."""
    names = sorted(results(work))
    if not names:
        subprocess.run(
            [sys.executable, "-c", GENERATE],
            cwd=work,
            env=environment(),
            check=True,
            capture_output=True,
        )
        names = sorted(results(work))
    return sorted(random.Random(seed).sample(names, min(size, len(names))))


def where(name: str) -> tuple[str, str]:
    """(file, function) of a mutant such as ``nk_defections.check.rules.claims.x__claims__mutmut_3``."""
    module, _, mangled = name.partition("__mutmut_")[0].rpartition(".")
    # x_<function>, or xǁ<class>ǁ<method> for a method
    function = mangled[2:] if mangled.startswith("x_") else ".".join(mangled.split("ǁ")[1:])
    path = f"{SOURCE}/{module.replace('.', '/')}"
    path += "/__init__.py" if (ROOT / path).is_dir() else ".py"
    return path, function


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mutants", nargs="*", help="mutant names or globs (default: all)")
    parser.add_argument(
        "--workdir", type=Path, help="scratch folder to use and keep (default: a temporary one)"
    )
    parser.add_argument(
        "--survivors", action="store_true", help="rerun only the survivors recorded in --workdir"
    )
    parser.add_argument("--sample", type=int, metavar="N", help="run a random sample of N mutants")
    parser.add_argument("--seed", type=int, default=0, help="of the sample")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args(argv)
    if args.survivors and not args.workdir:
        parser.error("--survivors needs the --workdir of an earlier run")

    work = (
        args.workdir.resolve()
        if args.workdir
        else Path(tempfile.mkdtemp(prefix="nk-defections-mutation-"))
    )
    work.mkdir(parents=True, exist_ok=True)
    try:
        make_scratch(work)
        names = list(args.mutants)
        if args.sample:
            names += sample(work, args.sample, args.seed)
        if args.survivors:
            names += sorted(n for n, outcome in results(work).items() if outcome == "survived")
            if not names:
                print("no survivors to rerun")
                return 0
        start = time.monotonic()
        subprocess.run(
            [str(MUTMUT), "run", "--max-children", str(args.max_children), *names],
            cwd=work,
            env=environment(),
            check=False,
        )
        elapsed = time.monotonic() - start
        outcomes = results(work)
        report(work, outcomes, elapsed)
        return 0 if any(outcomes[n] in JUDGED for n in outcomes) else 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def report(work: Path, outcomes: dict[str, str], elapsed: float) -> None:
    counts = collections.Counter(outcomes.values())
    survivors = sorted(n for n, outcome in outcomes.items() if outcome == "survived")
    print()
    print(f"surviving mutants ({len(survivors)}):")
    for name in survivors:
        path, function = where(name)
        diff = subprocess.run(
            [str(MUTMUT), "show", name], cwd=work, capture_output=True, text=True, env=environment()
        ).stdout
        body = [line for line in diff.splitlines() if not line.startswith("#")]
        print(f"\n== {path}  {function}  ({name})")
        print("\n".join(body).strip())
    print()
    print(f"mutants: {len(outcomes)}, run time {elapsed / 60:.1f} min")
    for outcome, n in sorted(counts.items()):
        print(f"{outcome:>14}  {n}")
    judged = sum(counts[o] for o in JUDGED)
    if judged:
        caught = counts["killed"] + counts["timeout"]
        print(f"kill rate: {caught} / {judged} = {100 * caught / judged:.1f} %")
        if judged < len(outcomes):  # a sample: the Wilson 95 % interval of the whole set's rate
            p, z = caught / judged, 1.96
            centre = (p + z * z / (2 * judged)) / (1 + z * z / judged)
            half = (
                z
                * math.sqrt(p * (1 - p) / judged + z * z / (4 * judged * judged))
                / (1 + z * z / judged)
            )
            print(
                f"  (of {judged} of {len(outcomes)} mutants; 95 % interval {100 * (centre - half):.1f}-{100 * (centre + half):.1f} %)"
            )
    else:
        print("kill rate: no mutant was judged (no test reached any mutant?)")


if __name__ == "__main__":
    sys.exit(main())
