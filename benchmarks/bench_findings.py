"""Many findings: a contribution where every row breaks two rules, reported as text and as JSON.

Writes ``people.csv`` with N rows (each with its ``*`` claim in ``claims.csv``, so the only faults
are the two below) twice: clean, and with every row's ``kind`` and ``gender`` out of their
vocabularies (2 N findings of ``schema.enum``). Runs ``nk-defections validate`` on each as a whole
process (median of 3, interleaved) and prints wall time, CPU time (user + system: the steadier
figure on a machine that runs other work too) and peak RSS, JSON against text, and the faulty
runs' memory above the clean run's. With ``--baseline BIN``, another ``nk-defections``
(an older checkout's) runs beside this one, on the same files.

    python benchmarks/bench_findings.py                      # 300,000 rows: 600,000 findings
    python benchmarks/bench_findings.py --rows 30000 --baseline ../old/.venv/bin/nk-defections
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from bench_validate import BIN, ROOT, SOURCE_ID, Run, run

PEOPLE = "id,name,identity_status,kind,group_size_min,group_size_max,gender,birth_date,death_date,nationality,summary"
#: The claims' header, as the descriptor has it (a `*` claim fills the first five cells).
CLAIMS = ",".join(
    field["name"]
    for resource in json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    if resource["name"] == "claims"
    for field in resource["schema"]["fields"]
)
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _id(prefix: str, n: int) -> str:
    digits = []
    for _ in range(8):
        n, d = divmod(n, 32)
        digits.append(ALPHABET[d])
    return f"{prefix}-{''.join(reversed(digits))}"


def write(folder: Path, rows: int, *, faulty: bool) -> list[Path]:
    """people.csv and claims.csv of *rows* people, each claimed; *faulty*: two bad enums a row."""
    folder.mkdir(parents=True, exist_ok=True)
    kind, gender = ("crowd", "unknown") if faulty else ("individual", "female")
    people = [PEOPLE] + [
        f"{_id('per', 10**6 + i)},Person {i},named,{kind},,,{gender},,,PRK," for i in range(rows)
    ]
    claims = [CLAIMS] + [
        f"{_id('clm', 10**6 + i)},{_id('per', 10**6 + i)},*,{SOURCE_ID},1"
        + "," * (CLAIMS.count(",") - 4)
        for i in range(rows)
    ]
    paths = [folder / "people.csv", folder / "claims.csv"]
    for path, lines in zip(paths, (people, claims), strict=True):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another nk-defections to run beside")
    args = parser.parse_args(argv)
    tools = {"nk-defections": str(BIN / "nk-defections")}
    if args.baseline:
        tools["baseline"] = str(args.baseline)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {
            "clean": write(work / "clean", args.rows, faulty=False),
            "faulty": write(work / "faulty", args.rows, faulty=True),
        }
        runs: dict[tuple[str, str, str], list[tuple[Run, float]]] = {}
        for repeat in range(args.repeats):
            for tool, command in tools.items():
                for case, paths in files.items():
                    for form in ("text", "json"):
                        out = work / f"{tool}-{case}-{form}-{repeat}.out"
                        command_line = [command, "validate", "--format", form, *map(str, paths)]
                        before = resource.getrusage(resource.RUSAGE_CHILDREN)
                        measured = run([*command_line, "--package", str(ROOT)], out)
                        after = resource.getrusage(resource.RUSAGE_CHILDREN)
                        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                        runs.setdefault((tool, case, form), []).append((measured, cpu))
        print(f"{args.rows:,} people (each row 2 faults when faulty: {2 * args.rows:,} findings)")
        print(f"  {'tool':<14} {'case':<7} {'form':<5} {'wall':>8} {'CPU':>8} {'peak RSS':>10}")
        median = {}
        for (tool, case, form), measured in runs.items():
            wall = statistics.median(r.wall for r, _ in measured)
            cpu = statistics.median(c for _, c in measured)
            peak = statistics.median(r.peak_rss for r, _ in measured)
            median[tool, case, form] = (wall, cpu, peak)
            print(
                f"  {tool:<14} {case:<7} {form:<5} {wall:>7.2f}s {cpu:>7.2f}s {peak / 2**20:>8.0f} MB"
            )
        for tool in tools:
            text_wall, text_cpu, text_peak = median[tool, "faulty", "text"]
            json_wall, json_cpu, json_peak = median[tool, "faulty", "json"]
            clean_peak = max(median[tool, "clean", form][2] for form in ("text", "json"))
            print(
                f"  {tool}: JSON / text {json_wall / text_wall:.2f}x wall, {json_cpu / text_cpu:.2f}x "
                f"CPU (goal <= 1.3); above the clean run: text "
                f"{(text_peak - clean_peak) / 2**20:+.0f} MB, JSON "
                f"{(json_peak - clean_peak) / 2**20:+.0f} MB (goal <= 200 MB)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
