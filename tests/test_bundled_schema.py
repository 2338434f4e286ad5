"""The bundled contribution schema: standard tools read it alone, and judge as our registry does."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from nk_defections.model.package import load_package_descriptor
from nk_defections.model.schemas import BUNDLED, Schemas, format_checker

from .conftest import ROOT
from .test_contributions import EXAMPLE as TEMPLATE

BUNDLED_FILE = ROOT / "schemas" / f"{BUNDLED}.schema.json"
#: Formats only nk-defections knows: to any other tool they are annotations, not checks.
OWN_FORMATS = {"edtf-date", "edtf-period", "iso3166-alpha3"}


def check_jsonschema(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run check-jsonschema as a contributor would, with every network request bound to fail."""
    dead = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "http_proxy": dead,
        "https_proxy": dead,
        "NO_PROXY": "",
        "no_proxy": "",
        "XDG_CACHE_HOME": str(cwd / "cache"),
    }
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text(encoding="utf-8"))


def contributions() -> dict[str, dict[str, Any]]:
    """A few contributions, valid and not, each broken in one way the schemas check."""
    out = {"template": template(), "empty": {}}

    def changed(name: str, change) -> None:
        document = copy.deepcopy(template())
        change(document)
        out[name] = document

    changed("enum", lambda d: d["people"][0].update(kind="individal"))
    changed("required", lambda d: d["people"][0].pop("name"))
    changed("trailing-newline-id", lambda d: d["people"][0].update(id="per-8bzg6zys\n"))
    changed("nested-claim-key", lambda d: d["people"][0]["claims"][0].update(page=3))
    changed("unknown-resource", lambda d: d.update(persons=[]))
    changed("date-order", lambda d: d["events"][0].update(date="[2024..2023]"))
    changed("country", lambda d: d["people"][0].update(nationality="XXA"))
    changed(
        "child-at-top-level",
        lambda d: d.update(
            person_names=[
                {
                    "id": "nam-00000001",
                    "person_id": "per-8bzg6zys",
                    "name": "Kim E.",
                    "name_type": "alias",
                    "lang": "ko-Latn",
                }
            ]
        ),
    )
    return out


def errors(validator: Draft202012Validator, document: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (list(map(str, e.absolute_path)), e.validator, e.message)
        for e in validator.iter_errors(document)
    )


def test_the_bundled_schema_embeds_every_referenced_schema_whole_with_its_id():
    bundled = json.loads(BUNDLED_FILE.read_text(encoding="utf-8"))
    schemas = Schemas(load_package_descriptor(ROOT)).schemas
    assert bundled["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(bundled)
    embedded = bundled.pop("$defs")
    assert {k: v for k, v in bundled.items() if k != "$comment"} == schemas["contribution"]
    # redirects are written by the amendments, never contributed: the envelope has no place for them.
    others = {
        s["$id"]: s for stem, s in schemas.items() if stem not in ("contribution", "redirects")
    }
    assert embedded == others  # every one of them is reachable from a contribution


def test_check_jsonschema_accepts_the_template_offline(tmp_path: Path):
    result = check_jsonschema("--schemafile", BUNDLED_FILE, TEMPLATE, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_check_jsonschema_refuses_a_broken_contribution_offline(tmp_path: Path):
    broken = tmp_path / "broken.json"
    document = template()
    document["people"][0]["kind"] = "individal"
    del document["events"][0]["title"]
    broken.write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = check_jsonschema("--schemafile", BUNDLED_FILE, broken, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "$.people[0].kind: 'individal' is not one of ['individual', 'group']" in result.stdout
    assert "$.events[0]: 'title' is a required property" in result.stdout


def test_jsonschema_with_the_bundled_schema_alone_judges_as_the_registry_does():
    bundled = json.loads(BUNDLED_FILE.read_text(encoding="utf-8"))
    alone = Draft202012Validator(bundled, format_checker=format_checker())  # no registry
    ours = Schemas(load_package_descriptor(ROOT)).validator("contribution")
    judged = {name: errors(alone, document) for name, document in contributions().items()}
    assert judged == {name: errors(ours, doc) for name, doc in contributions().items()}
    assert {name for name, found in judged.items() if not found} == {
        "template",
        "empty",
        "child-at-top-level",
    }
    assert all(judged[name] for name in ("enum", "required", "date-order", "country"))


def test_check_jsonschema_judges_as_we_do_but_for_the_formats_only_we_know(tmp_path: Path):
    ours = Schemas(load_package_descriptor(ROOT)).validator("contribution")
    files, expected_failures = [], set()
    for name, document in contributions().items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        files.append(path)
        found = list(ours.iter_errors(document))
        if any(not (e.validator == "format" and e.validator_value in OWN_FORMATS) for e in found):
            expected_failures.add(str(path))
    result = check_jsonschema(
        "--output-format", "json", "--schemafile", BUNDLED_FILE, *files, cwd=tmp_path
    )
    report = json.loads(result.stdout)
    assert report["parse_errors"] == []
    assert {error["filename"] for error in report["errors"]} == expected_failures
    assert result.returncode == 1
    # The two the generic tool lets through are those an EDTF or ISO 3166 check alone refuses.
    assert {Path(f).stem for f in map(str, files)} - {Path(f).stem for f in expected_failures} == {
        "template",
        "empty",
        "child-at-top-level",
        "date-order",
        "country",
    }


def test_the_template_names_the_bundled_schema():
    named = json.loads(TEMPLATE.read_text(encoding="utf-8"))["$schema"]
    assert (TEMPLATE.parent / named).resolve() == BUNDLED_FILE
