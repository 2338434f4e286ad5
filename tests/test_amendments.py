"""Amendments: contributions that change what is there, from invented sources, end to end.

The package the cases amend is the shipped one with the template and ``fixtures/amendments/
base.json`` added (all invented: two texts under ``fixtures/amendments/``). Each case is
validated, dry-run, merged with ``add``, diffed against the package before it, and the package
is then checked again as a whole.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from nk_defections import resolve_id, validate_paths
from nk_defections.check.validate import check_contribution, validate_package
from nk_defections.cli import cli
from nk_defections.model.ids import derived
from nk_defections.model.schemas import format_checker
from nk_defections.read.bundle import open_bundle
from nk_defections.release.changes import diff_packages
from nk_defections.write import ids as ids_module
from nk_defections.write.merge import add_contribution

from .conftest import copy_package
from .test_bundled_schema import BUNDLED_FILE
from .test_contributions import TEMPLATE, TEMPLATE_TEXT
from .test_merge import ADD_CHILD, snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "amendments"
TEXTS = {
    "src-d128fkbd": TEMPLATE_TEXT,
    "src-q455eava": FIXTURES / "first-report.txt",
    "src-ag6as8xy": FIXTURES / "second-report.txt",
}

#: Each case: its file, and what ``diff`` shows after it, table by table: added ids, removed ids
#: with the reason they are gone, changed ids with (old, new) per field.
CASES: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "corroboration": ("corroboration.json", {"claims": {"added": ["clm-esnah7qt"]}}),
    "refinement": (
        "refinement.json",
        {
            "events": {"changed": {"evt-wy9jg8qc": {"date": ("2020-03", "2020-03-14")}}},
            "claims": {
                "added": ["clm-pe5xqyxb"],
                "changed": {
                    "clm-487dht8p": {
                        "claim_rank": ("preferred", "normal"),
                        "rank_reason": ("authoritative", None),
                    }
                },
            },
        },
    ),
    "conflict": ("conflict.json", {"claims": {"added": ["clm-b79s6kzj"]}}),
    "conflict-preferred": (
        "conflict-preferred.json",
        {
            "people": {"changed": {"per-8bzg6zys": {"birth_date": ("1970", "1971")}}},
            "claims": {"added": ["clm-wvdpf2rn"]},
        },
    ),
    "rerank": (
        "rerank/amendments.csv",
        {"claims": {"changed": {"clm-jzz84yp9": {"rank_reason": ("contradicted", "superseded")}}}},
    ),
    "naming": (
        "naming.jsonl",
        {
            "people": {
                "changed": {
                    "per-c6364wwq": {
                        "name": (
                            "driver at the Example Embassy (unnamed, fictional)",
                            "Pak Example",
                        ),
                        "identity_status": ("unnamed", "named"),
                    }
                }
            },
            "person_names": {"added": ["nam-jvbyma3y"]},
            "claims": {"added": ["clm-2ntxg4gr", "clm-rdpwdxt2", "clm-v1ag61eq"]},
        },
    ),
    "merge": (
        "merge.json",
        {
            "people": {
                "removed": {
                    "per-xe4mzc4c": (
                        "per-8bzg6zys",
                        "The second report says the first spelt Kim Example's name Kim "
                        "Exampel: one man.",
                    )
                }
            },
            "person_names": {
                "changed": {
                    "nam-mc7530yq": {
                        "person_id": ("per-xe4mzc4c", "per-8bzg6zys"),
                        "name_type": ("preferred", "alias"),
                    }
                }
            },
            "claims": {
                "added": ["clm-bw5yq9hh"],
                "changed": {"clm-q6jw6w86": {"record_id": ("per-xe4mzc4c", "per-8bzg6zys")}},
            },
            "redirects": {"added": ["red-c1jwzjvx"]},
        },
    ),
    "retire": (
        "retire.json",
        {
            "organizations": {
                "removed": {
                    "org-1fewfb3a": (None, "The second report says no such news agency exists.")
                }
            },
            "claims": {
                "removed": {
                    "clm-tghcge18": (
                        None,
                        "a claim about org-1fewfb3a: The second report says no such news "
                        "agency exists.",
                    )
                },
                "changed": {"clm-xrms0cap": {"relayed_by": ("org-1fewfb3a", None)}},
            },
            "redirects": {"added": ["red-d050n296", "red-sw076rjc"]},
        },
    ),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped package with the template and the first invented report's records."""
    package = copy_package(tmp_path_factory.mktemp("base") / "package")
    for contribution, texts in ((TEMPLATE, ["src-d128fkbd"]), (FIXTURES / "base.json", TEXTS)):
        given = {source: TEXTS[source] for source in texts}
        result = add_contribution([contribution], package=package, source_texts=given)
        assert not result.refused, result.report.issues
    return package


def fresh(base: Path, target: Path) -> Path:
    shutil.copytree(base, target)
    return target


def shown(old: Path, new: Path) -> dict[str, dict[str, Any]]:
    """What ``diff`` shows between two packages, in the shape of :data:`CASES`."""
    out: dict[str, dict[str, Any]] = {}
    for table, changes in diff_packages(open_bundle(old), open_bundle(new)).tables.items():
        entry: dict[str, Any] = {}
        if changes.added:
            entry["added"] = changes.added
        if changes.removed:
            entry["removed"] = {
                i: (changes.redirected[i].new_id, changes.redirected[i].reason)
                if i in changes.redirected
                else None
                for i in changes.removed
            }
        if changes.changed:
            entry["changed"] = {c.id: c.fields for c in changes.changed}
        if entry:
            out[table] = entry
    return out


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_each_case_validates_dry_runs_merges_and_diffs_as_it_says(
    name: str, base: Path, tmp_path: Path
) -> None:
    file, expected = CASES[name]
    path = FIXTURES / file
    package = fresh(base, tmp_path / "package")
    before = snapshot(package)
    # Claims that disagree with none preferred are a warning: the case shows one.
    strict = name != "conflict"
    report = validate_paths([path], package=package, source_texts=TEXTS)
    assert report.is_valid(strict=strict), report.issues
    dry = add_contribution([path], package=package, source_texts=TEXTS, dry_run=True)
    assert not dry.refused and snapshot(package) == before
    result = add_contribution([path], package=package, source_texts=TEXTS)
    assert not result.refused, result.report.issues
    assert (result.added, result.amended, result.retired, result.written) == (
        dry.added,
        dry.amended,
        dry.retired,
        dry.written,
    )
    assert shown(base, package) == expected
    after = validate_package(package, frictionless=False, source_texts=TEXTS)
    assert after.is_valid(strict=strict), after.issues


def test_the_cli_shows_a_merge_in_each_command(base: Path, tmp_path: Path) -> None:
    package = fresh(base, tmp_path / "package")
    texts = [arg for source, text in TEXTS.items() for arg in ("--source-text", f"{source}={text}")]
    merge = str(FIXTURES / "merge.json")
    runner = CliRunner()
    checked = runner.invoke(cli, ["validate", "--package", str(package), *texts, merge])
    assert checked.exit_code == 0, checked.output
    dry = runner.invoke(cli, ["add", "--dry-run", "--package", str(package), *texts, merge])
    assert dry.exit_code == 0 and "would merge per-xe4mzc4c into per-8bzg6zys" in dry.stdout
    done = runner.invoke(cli, ["add", "--package", str(package), *texts, merge])
    assert done.exit_code == 0 and "merged per-xe4mzc4c into per-8bzg6zys" in done.stdout
    diff = runner.invoke(cli, ["diff", str(base), str(package)])
    assert "  - per-xe4mzc4c  merged into per-8bzg6zys: The second report" in diff.stdout
    document = json.loads(
        runner.invoke(cli, ["diff", "--format", "json", str(base), str(package)]).stdout
    )
    people = document["tables"]["people"]
    assert people["removed"] == ["per-xe4mzc4c"]
    assert people["redirected"]["per-xe4mzc4c"]["new_id"] == "per-8bzg6zys"
    valid = runner.invoke(cli, ["validate", "--strict", "--package", str(package), *texts])
    assert valid.exit_code == 0, valid.output


@pytest.fixture(scope="module")
def merged(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base package after the merge and the retirement cases."""
    package = fresh(base, tmp_path_factory.mktemp("merged") / "package")
    for case in ("merge", "retire"):
        result = add_contribution([FIXTURES / CASES[case][0]], package=package)
        assert not result.refused, result.report.issues
    return package


def test_a_merged_id_resolves_to_its_survivor_and_a_retired_one_to_none(merged: Path) -> None:
    assert resolve_id("per-xe4mzc4c", path=merged) == "per-8bzg6zys"
    assert resolve_id("per-8bzg6zys", path=merged) == "per-8bzg6zys"
    assert resolve_id("org-1fewfb3a", path=merged) is None
    with pytest.raises(KeyError, match="per-zzzzzzzz"):
        resolve_id("per-zzzzzzzz", path=merged)


def test_a_contribution_citing_a_merged_id_is_taken_to_the_survivor(
    merged: Path, tmp_path: Path
) -> None:
    package = fresh(merged, tmp_path / "package")
    claim = {
        "id": "clm-t9rs6vwy",
        "record_id": "per-xe4mzc4c",
        "field": "*",
        "source_id": "src-ag6as8xy",
        "paragraph": 5,
        "original_text": "Kim Exampel",
    }
    path = tmp_path / "late.json"
    path.write_text(json.dumps({"claims": [claim]}), encoding="utf-8")
    result = add_contribution([path], package=package)
    assert not result.refused
    [warning] = result.report.warnings
    assert (warning.code, warning.pointer, warning.field) == (
        "ref.redirected",
        "/claims/0/record_id",
        "record_id",
    )
    assert "per-8bzg6zys" in warning.message
    claims = (package / "data" / "claims.csv").read_text(encoding="utf-8")
    assert "clm-t9rs6vwy,per-8bzg6zys,*," in claims


def test_retired_ids_are_never_minted_again(merged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, set[str]] = {}

    def mint(prefix: str, n: int = 1, *, taken: Any = ()) -> list[str]:
        seen["taken"] = set(taken)
        return [f"{prefix}-00000000"] * n

    monkeypatch.setattr(ids_module, "mint", mint)
    ids_module.new_ids("organizations", package=merged)
    assert {"org-1fewfb3a", "per-xe4mzc4c"} <= seen["taken"]


def test_retiring_a_record_that_still_has_children_is_refused(base: Path, tmp_path: Path) -> None:
    package = fresh(base, tmp_path / "package")
    before = snapshot(package)
    path = tmp_path / "retire.json"
    amendment = {"op": "retire", "record_id": "per-8bzg6zys", "reason": "no such man"}
    path.write_text(json.dumps({"amendments": [amendment]}), encoding="utf-8")
    result = add_contribution([path], package=package)
    assert result.refused and snapshot(package) == before
    [error] = result.report.errors
    assert error.code == "amend.retire-orphans"
    assert "nam-pxg77qrq (person_names.person_id)" in error.message


# -- properties ------------------------------------------------------------------------------------

SUMMARIES = (
    st.text(
        st.characters(codec="ascii", categories=("L", "N")) | st.just(" "), min_size=1, max_size=40
    )
    .map(str.strip)
    .filter(bool)
)


def _set_summary(record: str, summary: str) -> tuple[dict[str, Any], Any]:
    table = "people" if record.startswith("per-") else "events"

    def expected(before: Path) -> dict[str, Any]:
        old = open_bundle(before).string_frame(table).filter(id=record)["summary"][0]
        return {} if old == summary else {table: {"changed": {record: {"summary": (old, summary)}}}}

    return {"op": "set", "record_id": record, "field": "summary", "value": summary}, expected


def _rerank(reason: str) -> tuple[dict[str, Any], Any]:
    # The template's claim for the April departure is deprecated as contradicted.
    claim = "clm-jzz84yp9"
    amendment = {"op": "rerank", "record_id": claim, "claim_rank": "deprecated"}
    amendment["rank_reason"] = reason
    change = {"rank_reason": ("contradicted", reason)} if reason != "contradicted" else {}
    return amendment, lambda before: {"claims": {"changed": {claim: change}}} if change else {}


def _retire(reason: str) -> tuple[dict[str, Any], Any]:
    # A link of the template that nothing refers to, and its one claim.
    link, claim = "lnk-bxc50mt6", "clm-sgr8fyv1"
    return {"op": "retire", "record_id": link, "reason": reason}, lambda before: {
        "event_links": {"removed": {link: (None, reason)}},
        "claims": {"removed": {claim: (None, f"a claim about {link}: {reason}")}},
        "redirects": {"added": sorted(derived("red", i) for i in (link, claim))},
    }


AMENDMENTS = st.one_of(
    st.builds(
        _set_summary,
        st.sampled_from(["per-8bzg6zys", "per-17zwq172", "evt-wy9jg8qc", "per-c6364wwq"]),
        SUMMARIES,
    ),
    st.builds(_rerank, st.sampled_from(["superseded", "misreported", "withdrawn", "contradicted"])),
    st.builds(_retire, SUMMARIES),
)


@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=AMENDMENTS)
def test_a_valid_amendment_applied_then_diffed_shows_exactly_that_amendment(
    base: Path, tmp_path_factory: pytest.TempPathFactory, drawn: tuple[dict[str, Any], Any]
) -> None:
    amendment, expected = drawn
    package = fresh(base, tmp_path_factory.mktemp("property") / "package")
    path = package.parent / "amendment.json"
    path.write_text(json.dumps({"amendments": [amendment]}), encoding="utf-8")
    result = add_contribution([path], package=package)
    assert not result.refused, result.report.issues
    assert shown(base, package) == expected(base)
    assert validate_package(package, frictionless=False).is_valid(strict=True)


WRONG = st.one_of(
    st.builds(
        lambda i: {"op": "set", "record_id": i, "field": "summary", "value": "x"},
        st.sampled_from(["per-zzzzzzzz", "xyz-00000000", "evt-00000000"]),
    ),
    st.builds(
        lambda f: {"op": "set", "record_id": "per-8bzg6zys", "field": f, "value": "x"},
        st.sampled_from(["id", "rank", "birth_date", "gender", "nationality"]),
    ),
    st.builds(
        lambda i: {"op": "rerank", "record_id": i, "claim_rank": "preferred"},
        st.sampled_from(["per-8bzg6zys", "clm-zzzzzzzz"]),
    ),
    st.builds(
        lambda i: {"op": "merge", "record_id": "per-8bzg6zys", "into": i, "reason": "r"},
        st.sampled_from(["per-8bzg6zys", "org-gh3zesgz", "per-zzzzzzzz"]),
    ),
    st.builds(
        lambda i: {"op": "retire", "record_id": i, "reason": "r"},
        st.sampled_from(["per-8bzg6zys", "org-gh3zesgz", "evt-wy9jg8qc"]),
    ),
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["set", "merge", "retire", "rerank"]),
            "record_id": st.just("per-8bzg6zys"),
        }
    ),
)


@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amendments=st.lists(WRONG, min_size=1, max_size=3))
def test_an_invalid_amendment_leaves_data_byte_identical(
    base: Path, tmp_path_factory: pytest.TempPathFactory, amendments: list[dict[str, Any]]
) -> None:
    package = fresh(base, tmp_path_factory.mktemp("invalid") / "package")
    before = snapshot(package)
    path = package.parent / "wrong.json"
    path.write_text(json.dumps({"amendments": amendments}), encoding="utf-8")
    result = add_contribution([path], package=package)
    assert result.refused and result.report.errors
    assert snapshot(package) == before


def test_a_killed_amending_add_loses_nothing(base: Path, tmp_path: Path) -> None:
    """Kill ``add`` of a merge before and after its journal commits: the next add undoes or finishes it."""
    merge = FIXTURES / "merge.json"
    whole = fresh(base, tmp_path / "whole")
    steps: list[str] = []
    assert not add_contribution([merge], package=whole, on_step=steps.append).refused
    committed_at = steps.index("committed") + 1
    for kill_at in (1, committed_at + 1):
        package = fresh(base, tmp_path / f"killed-{kill_at}")
        before = snapshot(package)
        child = subprocess.run(
            [sys.executable, "-c", ADD_CHILD, str(package), str(merge), str(kill_at)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert child.returncode == 70, child.stderr
        (tmp_path / "empty.json").write_text("{}", encoding="utf-8")
        result = add_contribution([tmp_path / "empty.json"], package=package)
        committed = kill_at > committed_at
        assert result.recovered == ("rolled forward" if committed else "rolled back")
        assert snapshot(package) == (snapshot(whole) if committed else before)


def test_a_merge_of_a_survivor_moves_the_older_redirect_along(merged: Path, tmp_path: Path) -> None:
    amendments = [
        {"op": "merge", "record_id": "per-8bzg6zys", "into": "per-17zwq172", "reason": "a test"},
        {"op": "set", "record_id": "per-xe4mzc4c", "field": "summary", "value": "moved twice"},
    ]
    path = tmp_path / "again.json"
    path.write_text(json.dumps({"amendments": amendments}), encoding="utf-8")
    checked = check_contribution([path], package=merged)
    redirects = checked.base["redirects"].select("old_id", "new_id").rows()
    assert ("per-xe4mzc4c", "per-17zwq172") in redirects
    assert ("per-8bzg6zys", "per-17zwq172") in redirects
    people = checked.base["people"].filter(id="per-17zwq172")
    assert people["summary"].to_list() == ["moved twice"]
    # The set names the id merged twice: it applies to the record standing for it, with a warning.
    [warning] = [i for i in checked.report.issues if i.code == "ref.redirected"]
    assert (warning.file, warning.pointer) == (str(path), "/amendments/1/record_id")
    assert "per-17zwq172" in warning.message


def test_the_amending_fixtures_follow_the_bundled_schema_alone() -> None:
    """Editors check amendments as they check records: the bundled schema, with no registry."""
    schema = json.loads(BUNDLED_FILE.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=format_checker())
    documents = sorted(FIXTURES.glob("*.json"))
    assert documents
    for path in documents:
        errors = list(validator.iter_errors(json.loads(path.read_text(encoding="utf-8"))))
        assert errors == [], (path.name, [e.message for e in errors])
    wrong = {"amendments": [{"op": "replace", "record_id": "per-8bzg6zys"}]}
    assert [e.validator for e in validator.iter_errors(wrong)] == ["enum"]
