"""Mutation testing of the rules with mutmut, and the kill rate.

mutmut (configured under ``[tool.mutmut]`` in pyproject.toml) copies the project into
``mutants/``, mutates ``validators/nk_defections/rules/`` one change at a time, and runs the tests
that exercise the rules against each mutant. This prints the count of each outcome and the kill
rate: killed / (killed + survived + timeout). Slow, so not part of ``make test``:

    make mutation                 # or: .venv/bin/python tools/mutation.py
    .venv/bin/mutmut browse       # then, to read the survivors one by one
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")


def main() -> int:
    subprocess.run([str(MUTMUT), "run", "--max-children", "2"], cwd=ROOT, check=False)
    listing = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True)
    outcomes = collections.Counter(line.rsplit(":", 1)[1].strip() for line in listing.stdout.splitlines() if ":" in line)
    for outcome, n in sorted(outcomes.items()):
        print(f"{outcome:>14}  {n}")
    judged = outcomes["killed"] + outcomes["survived"] + outcomes["timeout"]
    if judged:
        print(f"kill rate: {outcomes['killed'] + outcomes['timeout']} / {judged} = {100 * (outcomes['killed'] + outcomes['timeout']) / judged:.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
