"""Turn each rule off in turn (it yields nothing) and show which tests then fail.

A rule no test notices when it is switched off is a rule the tests do not check. For each rule
of ``nk_defections.check.rules.all_rules()``, this runs the tests that exercise the rules in a fresh
process where that one rule is replaced by a function that yields nothing, stops at the first
failure (``-x``), and prints a table: rule, tests run, the first failing test.

    .venv/bin/python tools/flip_rules.py            # every rule
    .venv/bin/python tools/flip_rules.py check_text # some

Not part of ``make test``: it runs the rule tests once per rule (``make flip-rules``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The tests that exercise the rules: golden cases, targeted mutations, and the properties.
TESTS = [
    "tests/test_rules.py",
    "tests/test_golden.py",
    "tests/test_properties.py::test_one_mutation_yields_exactly_its_code_at_the_mutated_row_and_field",
    # In a package the JSON Schema pass finds what the column-wise checks find (and the report
    # keeps one of the two): this property runs the column-wise checks on their own.
    "tests/test_properties.py::test_json_schema_and_table_schema_agree_on_near_valid_rows",
]
_CHILD = """
import sys, importlib, pytest
module_name, name = sys.argv[1].rsplit(":", 1)
module = importlib.import_module(module_name)
original = getattr(module, name)
def off(ctx):
    return iter(())
off.__name__ = name
setattr(module, name, off)
module.RULES[module.RULES.index(original)] = off
sys.exit(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *sys.argv[2:]]))
"""


def rules() -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "validators"))
    from nk_defections.check.rules import all_rules

    return [(rule.__module__, rule.__name__) for rule in all_rules()]


def flip(module: str, name: str) -> tuple[int, str]:
    """Run the rule tests with one rule off; return pytest's exit code and the first failure."""
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, f"{module}:{name}", *TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    failed = [
        line.split(" ", 1)[1].split(" - ")[0]
        for line in run.stdout.splitlines()
        if line.startswith("FAILED ")
    ]
    return run.returncode, failed[0] if failed else ""


def main(argv: list[str]) -> int:
    chosen = [r for r in rules() if not argv or r[1] in argv]
    width = max(len(f"{m.rsplit('.', 1)[1]}.{n}") for m, n in chosen)
    print(f"{'rule':<{width}}  caught  first failing test")
    unnoticed = 0
    for module, name in chosen:
        code, first = flip(module, name)
        caught = code == 1 and bool(first)
        unnoticed += not caught
        print(
            f"{module.rsplit('.', 1)[1] + '.' + name:<{width}}  {'yes' if caught else 'NO':<6}  {first or f'(pytest exit {code})'}",
            flush=True,
        )
    print(f"{len(chosen) - unnoticed} of {len(chosen)} rules: switching it off makes a test fail")
    return 1 if unnoticed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
