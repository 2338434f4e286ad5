"""Validation at scale, side by side with peer tools: wall time, rows/s, peak RSS, exactness.

Generates a seeded contribution of N rows (events, their participants and claims, against the
shipped package) in two forms, CSV (``events.csv``, ``event_participants.csv``, ``claims.csv``)
and JSON Lines (one nested event per line), injects faults of every kind the validator checks
column-wise at 0.1 % of the rows (at least one of each), and writes the truth: (file, physical
line, field or pointer, code). Then it runs, interleaved, whole processes, median of 3:

* ``nk-defections validate <csv files> --format json`` and the same on the JSON Lines file;
* ``frictionless validate`` on the CSV form (a descriptor naming the contributed files, its
  error limit raised);
* pure-Python ``jsonschema`` (Draft 2020-12, per record, sets for keys and references:
  ``jsonschema_peer.py``) on the JSON Lines form;
* the floor: a bare ``polars.read_csv`` of the same CSV files;
* the whole shipped package, cold: ``nk-defections validate`` (alone, and with
  ``--frictionless``) vs ``frictionless validate datapackage.json``.

Each tool's findings are compared with the truth on the codes it checks (peer error types mapped
to our codes where they check the same thing): missed and extra.

    python benchmarks/bench_validate.py            # 10k, 100k and 1M rows
    python benchmarks/bench_validate.py --quick    # 100k rows only
    python benchmarks/bench_validate.py --sizes 10000,1000000 --baseline ../old/.venv/bin/nk-defections
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SOURCE_ID = "src-1ekndjem"  # the shipped package's one source (27 paragraphs)
EVENT_TYPES = [
    "defection",
    "arrival",
    "official_confirmation",
    "media_report",
    "interview",
    "statement",
]
ROLES = ["defector", "accompanying_family", "receiving_state", "announcer", "subject", "issuer"]
COUNTRIES = ["KOR", "PRK", "CUB", "ITA", "GBR", "USA", "JPN", "CHN", "RUS", "THA"]
HANGUL = ["북한", "외교관", "탈북", "대사관", "망명", "서울", "평양", "쿠바", "참사관", "가족"]
WORDS = [
    "defector",
    "embassy",
    "counsellor",
    "reported",
    "confirmed",
    "Seoul",
    "Havana",
    "ministry",
    "family",
    "diplomat",
    "intelligence",
    "arrived",
    "unification",
    "official",
    "statement",
]
CSV_FILES = ("events.csv", "event_participants.csv", "claims.csv")


# --------------------------------------------------------------------------- the contribution


@dataclass
class Row:
    """One flat row, with where it goes in the nested JSON form."""

    table: str
    cells: dict[str, object]
    event: int  # index of the event (= JSON Lines line - 1)
    pointer: str  # RFC 6901 pointer of the row inside its JSON Lines line
    fault: tuple[str, str] | None = None  # (field, code) injected here


@dataclass
class Generated:
    """The rows in file order, the truth, and where each CSV record starts."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    truth_csv: set[tuple[str, int, str, str]] = field(default_factory=set)
    truth_jsonl: set[tuple[int, str, str]] = field(default_factory=set)
    record_lines: dict[str, list[int]] = field(default_factory=dict)  # per file, record -> line


def _ids(rng: random.Random, prefix: str, n: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        candidate = prefix + "-" + "".join(rng.choices(ALPHABET, k=8))
        if candidate not in taken:
            taken.add(candidate)
            out.append(candidate)
    return out


def _text(rng: random.Random, words: int) -> str:
    parts = [rng.choice(WORDS) if rng.random() < 0.7 else rng.choice(HANGUL) for _ in range(words)]
    return " ".join(parts)


def _date(rng: random.Random) -> str:
    day = datetime.date(1990, 1, 1) + datetime.timedelta(days=rng.randrange(12_000))
    form = rng.random()
    if form < 0.6:
        return day.isoformat()
    if form < 0.85:
        return day.isoformat()[:7]
    return day.isoformat()[:4] + "?"


def _package_ids(kind: str) -> list[str]:
    with open(ROOT / "data" / f"{kind}.csv", encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


#: Fault kinds: name -> (table, field, code). Each is injected into a row that has no other fault.
FAULTS = {
    "bad-enum-event": ("events", "event_type", "schema.enum"),
    "bad-enum-role": ("event_participants", "role", "schema.enum"),
    "bad-id-unicode-digits": ("claims", "id", "schema.pattern"),
    "impossible-date": ("events", "date", "date.invalid"),
    "dates-out-of-order": ("events", "disclosed_date", "date.order"),
    "dangling-person": ("event_participants", "participant_id", "ref.unknown-person"),
    "dangling-source": ("claims", "source_id", "ref.unknown-source"),
    "duplicate-claim-id": ("claims", "id", "table.duplicate-id"),
    "duplicate-event-id": ("events", "id", "table.duplicate-id"),
    "id-in-package": ("events", "id", "ref.id-exists"),
    "missing-title": ("events", "title", "schema.required"),
    "wrong-integer": ("event_participants", "count", "schema.type"),
    "below-minimum": ("event_participants", "count", "schema.minimum"),
    "title-too-long": ("events", "title", "schema.max-length"),
    "original-text-too-long": ("claims", "original_text", "schema.max-length"),
    "unknown-country": ("events", "country", "country.unknown"),
    "formula": ("events", "place", "record.formula"),
    "control-character": ("events", "title", "record.control-character"),
    "bidi-control": ("event_participants", "note", "record.bidi-control"),
    "not-nfc": ("events", "title", "record.not-nfc"),
    "whitespace": ("events", "place", "record.whitespace"),
    "paragraph-out-of-range": ("claims", "paragraph", "claim.paragraph-out-of-range"),
    "claim-unknown-field": ("claims", "field", "claim.unknown-field"),
    "claim-missing-text": ("claims", "original_text", "claim.missing-original-text"),
    "missing-row-claim": ("events", "id", "claim.missing-row-claim"),
    "missing-field-claim": ("events", "title", "claim.missing-field-claim"),
}


def generate(n_rows: int, seed: int = 20261101) -> Generated:
    """Rows of a contribution of about *n_rows* rows, with faults at 0.1 % (at least one of each kind)."""
    rng = random.Random(seed)
    n_events = max(len(FAULTS), n_rows // 11)
    taken: set[str] = set(_package_ids("events"))
    event_ids = _ids(rng, "evt", n_events, taken)
    participant_ids = _ids(rng, "ptc", 2 * n_events, taken)
    claim_ids = iter(_ids(rng, "clm", 12 * n_events, taken))
    people, orgs = _package_ids("people"), _package_ids("organizations")
    package_events = _package_ids("events")
    total_faults = max(len(FAULTS), round(n_rows * 0.001))
    per_kind = max(1, total_faults // len(FAULTS))
    # One event carries at most one fault (of any of its rows): faults never interact.
    faulty = rng.sample(range(1, n_events), per_kind * len(FAULTS))
    plan: dict[int, str] = {}
    for i, kind in enumerate(FAULTS):
        for event in faulty[i * per_kind : (i + 1) * per_kind]:
            plan[event] = kind

    rows: dict[str, list[Row]] = {"events": [], "event_participants": [], "claims": []}
    first_claim_id = None
    # Each package id is taken once: two contributed rows with the same package id would also be
    # duplicates of each other, which a tool without the package rightly reports instead.
    unused_package_events = rng.sample(package_events, len(package_events))
    for e in range(n_events):
        kind = plan.get(e)
        if kind == "id-in-package" and not unused_package_events:
            kind = None
        event = {
            "id": event_ids[e],
            "event_type": rng.choice(EVENT_TYPES),
            "title": f'{rng.choice(HANGUL)} {_text(rng, 6)}, "{rng.choice(WORDS)}"',
            "summary": _text(rng, rng.randrange(20, 60))
            + ("\n\n" + _text(rng, 10) if rng.random() < 0.3 else ""),
            "date": _date(rng),
            "disclosed_date": None,
            "country": rng.choice(COUNTRIES),
            "place": rng.choice(["Seoul", "Havana, Cuba", "판문점", None]),
        }
        if rng.random() < 0.3:
            event["disclosed_date"] = "2024-07-16"
        participants = []
        for p in range(2):
            participants.append(
                {
                    "id": participant_ids[2 * e + p],
                    "event_id": event["id"],
                    "participant_id": rng.choice(people if p == 0 else orgs),
                    "role": ROLES[(e + p) % len(ROLES)],
                    "count": rng.choice([None, None, None, 2, 3]),
                    "note": _text(rng, 8) if rng.random() < 0.2 else None,
                }
            )
        # The title as written before a fault of text: what its claim gives (a claim repeating
        # the fault would be a second finding of it).
        clean_title = event["title"]
        fault_row: tuple[str, int] | None = None  # (table, index within event)
        drop_claims: set[tuple[int, str]] = (
            set()
        )  # (-1 for the event, field) whose claim is left out
        if kind is not None:
            table, column, _ = FAULTS[kind]
            fault_row = (table, 0)
            if kind == "bad-enum-event":
                event["event_type"] = "defecton"
            elif kind == "bad-enum-role":
                participants[0]["role"] = "defecter"
            elif kind == "impossible-date":
                event["date"] = "2023-02-30"
            elif kind == "dates-out-of-order":
                event["date"], event["disclosed_date"] = "2024-05-01", "2023-01"
            elif kind == "dangling-person":
                participants[0]["participant_id"] = "per-zzzzzzzz"
            elif kind == "duplicate-event-id":
                # Both rows are claimed by id: they must agree on which fields are empty.
                event["id"] = event_ids[0]
                event["disclosed_date"] = rows["events"][0].cells["disclosed_date"]
            elif kind == "id-in-package":
                # The package's event has no disclosed date: a claim on one would be claim.empty-field.
                event["id"], event["disclosed_date"] = unused_package_events.pop(), None
            elif kind == "missing-title":
                event["title"] = None
                drop_claims.add((-1, "title"))
            elif kind == "wrong-integer":
                participants[0]["count"] = 2.5
            elif kind == "below-minimum":
                participants[0]["count"] = 0
            elif kind == "title-too-long":
                event["title"] = "탈북 " + "x" * 199
            elif kind == "unknown-country":
                event["country"] = "XKX"
            elif kind == "formula":
                event["place"] = '=HYPERLINK("http://example.org")'
            elif kind == "control-character":
                event["title"] = "Defection\x07 of a counsellor"
            elif kind == "bidi-control":
                participants[0]["note"] = "named \u202ein the report"
            elif kind == "not-nfc":
                event["title"] = unicodedata.normalize("NFD", "탈북 외교관 도착")
            elif kind == "whitespace":
                event["place"] = "Seoul "
            elif kind == "missing-row-claim":
                drop_claims.add((-1, "*"))
            elif kind == "missing-field-claim":
                drop_claims.add((-1, "title"))
        for participant in participants:
            participant["event_id"] = event["id"]
        # Claims: a row claim for every row, one per date, title, role and number.
        claims: list[tuple[int, dict]] = []  # (-1 event or participant index, claim)

        def claim(
            owner: int,
            record_id: str,
            column: str,
            text: str | None,
            value: object = None,
            drop_claims: set = drop_claims,
            claims: list = claims,
        ) -> None:
            if (owner, column) in drop_claims:
                return
            claims.append(
                (
                    owner,
                    {
                        "id": next(claim_ids),
                        "record_id": record_id,
                        "field": column,
                        "source_id": SOURCE_ID,
                        "paragraph": rng.randrange(1, 28),
                        # The value the claim supports: the cell (a faulty cell's own fault).
                        "value": None if column == "*" or value is None else str(value),
                        "original_text": text,
                        "attributed_to": None,
                        "relayed_by": None,
                        "derivation": "resolved against the published date"
                        if rng.random() < 0.05
                        else None,
                        "claim_rank": (rank := rng.choice(["preferred", "normal", None])),
                        "rank_reason": "most_precise" if rank == "preferred" else None,
                    },
                )
            )

        claim(-1, event["id"], "*", "the diplomat")
        if event["title"] is not None:
            claim(-1, event["id"], "title", None, clean_title)
        claim(-1, event["id"], "date", "in " + str(event["date"])[:4], event["date"])
        if event["disclosed_date"] is not None:
            claim(-1, event["id"], "disclosed_date", "on Tuesday", event["disclosed_date"])
        for p, participant in enumerate(participants):
            claim(p, participant["id"], "*", None)
            claim(p, participant["id"], "role", None, participant["role"])
            if participant["count"] is not None:
                claim(p, participant["id"], "count", "two of them", participant["count"])
        if kind in (
            "bad-id-unicode-digits",
            "dangling-source",
            "duplicate-claim-id",
            "original-text-too-long",
            "paragraph-out-of-range",
            "claim-unknown-field",
            "claim-missing-text",
        ):
            index = 2  # the event's date claim: has original_text
            owner, c = claims[index]
            fault_row = ("claims", index)
            if kind == "bad-id-unicode-digits":
                # Arabic-Indic digits: `\\d` would take them, `[0-9]` does not.
                c["id"] = "clm-" + "".join(chr(0x660 + int(d)) for d in f"{e:08d}")
            elif kind == "dangling-source":
                c["source_id"] = "src-zzzzzzzz"
            elif kind == "duplicate-claim-id":
                c["id"] = first_claim_id
            elif kind == "original-text-too-long":
                c["original_text"] = "탈북" * 41
            elif kind == "paragraph-out-of-range":
                c["paragraph"] = 99
            elif kind == "claim-unknown-field":
                claims.append((owner, {**c, "id": next(claim_ids), "field": "colour"}))
                fault_row = ("claims", len(claims) - 1)
            elif kind == "claim-missing-text":
                c["original_text"] = None
        if kind in (
            "bad-enum-role",
            "dangling-person",
            "wrong-integer",
            "below-minimum",
            "bidi-control",
        ):
            fault_row = ("event_participants", 0)
            if kind in ("wrong-integer", "below-minimum") and not any(
                o == 0 and c["field"] == "count" for o, c in claims
            ):
                claim(0, participants[0]["id"], "count", "two of them", participants[0]["count"])
        if first_claim_id is None:
            first_claim_id = claims[0][1]["id"]

        fault = (FAULTS[kind][1], FAULTS[kind][2]) if kind else None
        rows["events"].append(
            Row(
                "events",
                event,
                e,
                "/record",
                fault if fault_row and fault_row[0] == "events" else None,
            )
        )
        for p, participant in enumerate(participants):
            cells = {k: v for k, v in participant.items()}
            f = fault if fault_row == ("event_participants", p) else None
            rows["event_participants"].append(
                Row("event_participants", cells, e, f"/record/participants/{p}", f)
            )
        counters = Counter()
        for i, (owner, c) in enumerate(claims):
            base = "/record" if owner == -1 else f"/record/participants/{owner}"
            k = counters[owner]
            counters[owner] += 1
            f = fault if fault_row == ("claims", i) else None
            rows["claims"].append(Row("claims", c, e, f"{base}/claims/{k}", f))
    return Generated(rows=rows)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(gen: Generated, folder: Path, columns: dict[str, list[str]]) -> None:
    """Write the CSV form and record, per file, the physical line each record starts on."""
    for table, rows in gen.rows.items():
        name = f"{table}.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns[table])
        starts = [1]
        line = 2
        for row in rows:
            record = [_csv_cell(row.cells.get(c)) for c in columns[table]]
            starts.append(line)
            writer.writerow(record)
            # A quoted cell keeps its newlines: the record spans one line more than it holds.
            line += 1 + sum(cell.count("\n") for cell in record)
            if row.fault:
                gen.truth_csv.add((name, starts[-1], *row.fault))
        (folder / name).write_text(buffer.getvalue(), encoding="utf-8")
        gen.record_lines[name] = starts


def write_jsonl(gen: Generated, path: Path) -> None:
    """Write the nested JSON Lines form: one event per line, its participants and claims inside."""
    events = gen.rows["events"]
    participants: dict[int, list[Row]] = {}
    for row in gen.rows["event_participants"]:
        participants.setdefault(row.event, []).append(row)
    claims: dict[tuple[int, str], list[Row]] = {}
    for row in gen.rows["claims"]:
        owner = row.pointer.rsplit("/claims/", 1)[0]
        claims.setdefault((row.event, owner), []).append(row)

    def clean(cells: dict, drop: str) -> dict:
        return {k: v for k, v in cells.items() if v is not None and k != drop}

    with open(path, "w", encoding="utf-8") as out:
        for row in events:
            record = clean(row.cells, "")
            nested = []
            for p in participants.get(row.event, []):
                child = clean(p.cells, "event_id")
                child["claims"] = [
                    clean(c.cells, "record_id") for c in claims.get((row.event, p.pointer), [])
                ]
                nested.append(child)
            record["participants"] = nested
            record["claims"] = [
                clean(c.cells, "record_id") for c in claims.get((row.event, "/record"), [])
            ]
            out.write(
                json.dumps({"resource": "events", "record": record}, ensure_ascii=False) + "\n"
            )
    for table in gen.rows:
        for row in gen.rows[table]:
            if row.fault:
                gen.truth_jsonl.add((row.event + 1, f"{row.pointer}/{row.fault[0]}", row.fault[1]))


def frictionless_descriptor(folder: Path) -> Path:
    """A descriptor for the contributed CSV files plus copies of the package's other tables."""
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    (folder / "package").mkdir(exist_ok=True)
    for resource in descriptor["resources"]:
        name = f"{resource['name']}.csv"
        if name in CSV_FILES:
            resource["path"] = name
        else:
            shutil.copy(ROOT / resource["path"], folder / "package" / name)
            resource["path"] = f"package/{name}"
        resource.pop("bytes", None)
        resource.pop("hash", None)
    path = folder / "frictionless.json"
    path.write_text(json.dumps(descriptor, indent=1), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    """One whole-process run."""

    wall: float
    peak_rss: int  # bytes
    returncode: int
    stdout: Path


def run(command: list[str], out: Path, cwd: Path = ROOT) -> Run:
    """Run *command* as its own process; its wall time and its own peak RSS.

    The peak comes from /usr/bin/time, whose child is exec'd from a small process: a child
    forked from this (large) process would count this process's pages in its own peak.
    """
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    measured = out.with_suffix(".rss")
    with open(out, "wb") as stdout:
        start = time.perf_counter()
        process = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", str(measured), *command],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - start
    peak = int(measured.read_text().strip().splitlines()[-1]) * 1024
    return Run(wall, peak, process.returncode, out)


# --------------------------------------------------------------------------- comparing


#: The tools whose findings are ours: this checkout's command and a baseline's.
OURS = ("nk-defections", "baseline")
#: Seconds: a peer slower than this in its first run is not run again.
SLOW = 120.0
OURS_CSV_CODES = {code for _, _, code in FAULTS.values()}
FRICTIONLESS_CODES = {
    "schema.enum",
    "schema.pattern",
    "date.invalid",
    "table.duplicate-id",
    "schema.required",
    "schema.type",
    "schema.minimum",
    "schema.max-length",
    "ref.unknown-source",
}
JSONSCHEMA_CODES = FRICTIONLESS_CODES | {"ref.unknown-person", "ref.id-exists"}
_CONSTRAINT_CODES = {
    "required": "schema.required",
    "enum": "schema.enum",
    "pattern": "schema.pattern",
    "maxLength": "schema.max-length",
    "minLength": "schema.min-length",
    "minimum": "schema.minimum",
    "maximum": "schema.maximum",
}


def ours_found(path: Path, form: str) -> set[tuple]:
    """Our findings in the contributed files, keyed like the truth."""
    report = json.loads(path.read_text(encoding="utf-8"))
    found = set()
    for issue in report["issues"]:
        file = issue["file"] or ""
        name = Path(file).name
        if form == "csv" and name in CSV_FILES:
            found.add((name, issue["row"], issue["field"], issue["code"]))
        elif form == "jsonl" and name.endswith(".jsonl"):
            found.add((issue["row"], issue["pointer"], issue["code"]))
    return found


def frictionless_found(path: Path, gen: Generated, descriptor: dict) -> set[tuple]:
    """frictionless's errors in the contributed files, mapped to our codes and physical lines."""
    report = json.loads(path.read_text(encoding="utf-8"))
    date_fields = {
        (r["name"], f["name"])
        for r in descriptor["resources"]
        for f in r["schema"]["fields"]
        if len(f.get("constraints", {}).get("pattern", "")) > 200
    }
    found = set()
    for task in report.get("tasks", []):
        name = Path(task.get("place", "") or "").name
        resource = name.removesuffix(".csv")
        if name not in CSV_FILES:
            continue
        for error in task.get("errors", []):
            kind, row = error.get("type"), error.get("rowNumber")
            column = error.get("fieldName")
            if kind == "type-error":
                code = "schema.type"
            elif kind == "constraint-error":
                note = error.get("note", "")
                constraint = next((c for c in _CONSTRAINT_CODES if f'"{c}"' in note), None)
                code = _CONSTRAINT_CODES.get(constraint or "", "schema.other")
                if code == "schema.pattern" and (resource, column) in date_fields:
                    code = "date.invalid"
            elif kind in ("primary-key", "unique-error"):
                code, column = "table.duplicate-id", "id"
            elif kind == "foreign-key":
                fields = error.get("fieldNames") or []
                column = fields[0] if fields else None
                code = {"source_id": "ref.unknown-source", "event_id": "ref.unknown-event"}.get(
                    column or "", "ref.other"
                )
            else:
                code = f"frictionless.{kind}"
            line = (
                gen.record_lines[name][row - 1]
                if row and row - 1 < len(gen.record_lines[name])
                else row
            )
            found.add((name, line, column, code))
    return found


def jsonschema_found(path: Path) -> set[tuple]:
    """The pure-Python jsonschema peer's findings."""
    return {tuple(item) for item in json.loads(path.read_text(encoding="utf-8"))}


def compare(found: set[tuple], truth: set[tuple], codes: set[str]) -> tuple[int, int, int, list]:
    """(checked truth, missed, extra, examples) on the truth's codes that a tool checks."""
    wanted = {t for t in truth if t[-1] in codes}
    missed = wanted - found
    extra = {f for f in found if f[-1] in codes} - wanted
    return len(wanted), len(missed), len(extra), sorted(missed | extra, key=str)[:3]


# --------------------------------------------------------------------------- the table


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def measure(n: int, work: Path, repeats: int, log, baseline: Path | None = None) -> list[dict]:
    """Generate N rows, run every tool *repeats* times interleaved, and return the figures."""
    from nk_defections.model.package import load_package_descriptor

    package = load_package_descriptor(ROOT)
    columns = {t: package.field_names(t) for t in ("events", "event_participants", "claims")}
    folder = work / f"n{n}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "csv").mkdir(parents=True)
    t0 = time.perf_counter()
    gen = generate(n)
    write_csv(gen, folder / "csv", columns)
    jsonl = folder / "contribution.jsonl"
    write_jsonl(gen, jsonl)
    descriptor_path = frictionless_descriptor(folder / "csv")
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    rows = sum(len(r) for r in gen.rows.values())
    gen.rows.clear()  # the truth and the line tables are all that is needed from here on
    size = sum((folder / "csv" / f).stat().st_size for f in CSV_FILES)
    log(
        f"# {rows:,} rows ({size / 2**20:,.0f} MB of CSV, {jsonl.stat().st_size / 2**20:,.0f} MB of JSON Lines), "
        f"{len(gen.truth_csv)} faults of {len(FAULTS)} kinds, generated in {time.perf_counter() - t0:.1f} s"
    )
    (folder / "truth.json").write_text(
        json.dumps(
            {
                "csv": sorted(gen.truth_csv),
                "jsonl": sorted(gen.truth_jsonl),
            },
            ensure_ascii=False,
            indent=0,
        ),
        encoding="utf-8",
    )

    csv_paths = [str(folder / "csv" / f) for f in CSV_FILES]
    nk = str(BIN / "nk-defections")
    floor = (
        "import sys, polars as pl\n"
        "for p in sys.argv[1:]: pl.read_csv(p, infer_schema=False, null_values=[''])"
    )
    tools = {
        "polars.read_csv (floor)": ("csv", [sys.executable, "-c", floor, *csv_paths]),
        "nk-defections (CSV)": (
            "csv",
            [nk, "validate", *csv_paths, "--package", str(ROOT), "--format", "json"],
        ),
        "frictionless (CSV)": (
            "csv",
            [
                str(BIN / "frictionless"),
                "validate",
                str(descriptor_path),
                "--json",
                "--limit-errors",
                "100000000",
            ],
        ),
        "nk-defections (JSON Lines)": (
            "jsonl",
            [nk, "validate", str(jsonl), "--package", str(ROOT), "--format", "json"],
        ),
        "jsonschema (JSON Lines)": (
            "jsonl",
            [sys.executable, str(HERE / "jsonschema_peer.py"), str(jsonl), "--package", str(ROOT)],
        ),
    }
    if baseline is not None:
        # Another nk-defections (an older checkout's) on the same files, interleaved with ours.
        tools["baseline (CSV)"] = (
            "csv",
            [str(baseline), "validate", *csv_paths, "--package", str(ROOT), "--format", "json"],
        )
        tools["baseline (JSON Lines)"] = (
            "jsonl",
            [str(baseline), "validate", str(jsonl), "--package", str(ROOT), "--format", "json"],
        )
    runs: dict[str, list[Run]] = {name: [] for name in tools}
    for r in range(repeats):
        for name, (_, command) in tools.items():
            # A peer whose one run takes minutes is run once (the table says so).
            if runs[name] and not name.startswith(OURS) and runs[name][0].wall > SLOW:
                continue
            out = folder / f"out-{name.split()[0]}-{name.split('(')[1][:-1].replace(' ', '')}.json"
            result = run(command, out)
            runs[name].append(result)
            log(
                f"  run {r + 1}/{repeats} {name}: {result.wall:.2f} s, {_mb(result.peak_rss)}, exit {result.returncode}"
            )
    figures = []
    for name, (form, _) in tools.items():
        results = runs[name]
        wall = statistics.median(r.wall for r in results)
        rss = statistics.median(r.peak_rss for r in results)
        last = results[-1].stdout
        if name.startswith(OURS):
            truth = gen.truth_csv if form == "csv" else gen.truth_jsonl
            exact = compare(ours_found(last, form), truth, OURS_CSV_CODES)
        elif name.startswith("frictionless"):
            exact = compare(
                frictionless_found(last, gen, descriptor), gen.truth_csv, FRICTIONLESS_CODES
            )
        elif name.startswith("jsonschema"):
            exact = compare(jsonschema_found(last), gen.truth_jsonl, JSONSCHEMA_CODES)
        else:
            exact = None
        figures.append(
            {
                "n": rows,
                "tool": name,
                "form": form,
                "wall": wall,
                "rss": rss,
                "exact": exact,
                "truth": len(gen.truth_csv),
                "walls": [r.wall for r in results],
            }
        )
    return figures


def measure_package(work: Path, repeats: int, log) -> list[dict]:
    """The whole shipped package, cold processes."""
    nk = str(BIN / "nk-defections")
    tools = {
        "nk-defections validate": [nk, "validate", "--package", str(ROOT), "--format", "json"],
        "nk-defections validate --frictionless": [
            nk,
            "validate",
            "--package",
            str(ROOT),
            "--format",
            "json",
            "--frictionless",
        ],
        "frictionless validate datapackage.json": [
            str(BIN / "frictionless"),
            "validate",
            str(ROOT / "datapackage.json"),
            "--json",
        ],
    }
    runs: dict[str, list[Run]] = {name: [] for name in tools}
    for _ in range(repeats):
        for name, command in tools.items():
            runs[name].append(run(command, work / "package-out.json"))
    rows = sum(1 for p in (ROOT / "data").glob("*.csv") for _ in p.open(encoding="utf-8")) - 12
    return [
        {
            "n": rows,
            "tool": name,
            "form": "package",
            "wall": statistics.median(x.wall for x in rs),
            "rss": statistics.median(x.peak_rss for x in rs),
            "exact": None,
            "walls": [x.wall for x in rs],
        }
        for name, rs in runs.items()
    ]


def render(figures: list[dict]) -> list[str]:
    """The printed table: one block per size, with ratios and exactness."""
    lines = []
    by_n: dict[int, list[dict]] = {}
    for f in figures:
        by_n.setdefault(f["n"], []).append(f)
    for n, group in by_n.items():
        get = {f["tool"]: f for f in group}
        lines.append("")
        package = group[0]["form"] == "package"
        title = f"whole shipped package ({n} rows), cold process" if package else f"{n:,} rows"
        lines.append(f"{title}")
        lines.append(
            f"  {'tool':<42} {'wall':>8} {'rows/s':>11} {'peak RSS':>9}  {'exact (checked / missed / extra)':<34}"
        )
        for f in group:
            exact = f["exact"]
            verdict = ""
            if exact is not None:
                checked, missed, extra, examples = exact
                verdict = f"{checked} / {missed} / {extra}" + (
                    "  exact" if not missed and not extra else ""
                )
                if f["tool"].startswith(("frictionless", "jsonschema")):
                    verdict += f"  ({f['truth'] - checked} faults of kinds it does not check)"
            runs = "" if len(f["walls"]) > 1 or package else "  (1 run)"
            lines.append(
                f"  {f['tool']:<42} {f['wall']:>6.2f} s {n / f['wall']:>11,.0f} {_mb(f['rss']):>9}  {verdict}{runs}"
            )
        if package:
            ours, ours_both, peer = (get[t]["wall"] for t in get)
            lines.append(
                f"  frictionless / nk-defections: {peer / ours:.1f}x (default), {peer / ours_both:.1f}x (--frictionless)"
            )
            continue
        ours_csv, fl, floor = (
            get["nk-defections (CSV)"],
            get["frictionless (CSV)"],
            get["polars.read_csv (floor)"],
        )
        ours_jl, js = get["nk-defections (JSON Lines)"], get["jsonschema (JSON Lines)"]
        lines.append(
            f"  CSV: {fl['wall'] / ours_csv['wall']:.1f}x faster than frictionless (goal >= 30), "
            f"{ours_csv['wall'] / floor['wall']:.2f}x the polars floor (goal <= 2.5), "
            f"peak RSS {_mb(ours_csv['rss'])} (goal <= 1,229 MB)"
        )
        lines.append(
            f"  JSON Lines: {js['wall'] / ours_jl['wall']:.1f}x faster than pure-Python jsonschema (goal >= 15)"
        )
        if "baseline (CSV)" in get:
            lines.append(
                f"  against the baseline: CSV {ours_csv['wall'] / get['baseline (CSV)']['wall']:.2f}x its "
                f"time, JSON Lines {ours_jl['wall'] / get['baseline (JSON Lines)']['wall']:.2f}x"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k rows only")
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(float(x)) for x in s.split(",")],
        help="comma-separated row counts",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--work", type=Path, help="where to write the generated files (default: a temporary folder)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another nk-defections command (an older checkout's) to run beside this one",
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or ([100_000] if args.quick else [10_000, 100_000, 1_000_000])
    sys.path.insert(0, str(ROOT / "validators"))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    work = args.work or Path(tempfile.mkdtemp(prefix="nk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    figures = measure_package(work, args.repeats, log)
    for n in sizes:
        figures += measure(n, work, args.repeats, log, args.baseline)
        if args.work is None:
            shutil.rmtree(work / f"n{n}", ignore_errors=True)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(
        f"nk-defections validation benchmark, {datetime.date.today().isoformat()}, "
        f"{os.cpu_count()} cores, {memory / 2**30:.0f} GiB RAM, Python {platform.python_version()}, "
        f"median of {args.repeats} interleaved runs, whole processes"
    )
    for line in render(figures):
        print(line)
    csv_figures = [f for f in figures if f["tool"] == "nk-defections (CSV)"]
    if len(csv_figures) > 1:
        a, b = csv_figures[0], csv_figures[-1]
        print(
            f"\ngrowth {a['n']:,} -> {b['n']:,} rows ({b['n'] / a['n']:.0f}x): "
            f"CSV time {b['wall'] / a['wall']:.1f}x, CSV peak RSS {b['rss'] / a['rss']:.1f}x; "
            + ", ".join(
                f"{t} time {g[-1]['wall'] / g[0]['wall']:.1f}x, RSS {g[-1]['rss'] / g[0]['rss']:.1f}x"
                for t in ("nk-defections (JSON Lines)",)
                for g in [[f for f in figures if f["tool"] == t]]
            )
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
