"""README.md of a release: what it holds, file by file, and how to check and load it.

Everything it says of a file is read off the release descriptor (each table's title and
description, each other file's ``description``), so the README and the descriptor cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Files the descriptor does not describe: itself, and the checksums written after it.
DESCRIPTOR_NOTE = (
    "The Data Package descriptor: every table with its Table Schema, every other file under "
    "`release_files`, and the size and sha256 of each."
)
SUMS_NOTE = "The sha256 of every other file: `sha256sum -c SHA256SUMS` checks them."


def _cell(text: Any) -> str:
    return str(text).replace("\n", " ").replace("|", "\\|")


def _folder_rows(descriptor: dict[str, Any]) -> list[tuple[str, str]]:
    """(file or pattern, what it is): per-table files once per folder, the others one by one."""
    from nk_defections.release.build import (
        CSV_NOTE,
        PARQUET_NOTE,
        README,
        README_DESCRIPTION,
        RELEASE_FILES,
    )

    entries = descriptor.get(RELEASE_FILES, [])
    json_tables = [e["resource"] for e in entries if e["path"].startswith("json/")]
    rows = [
        ("`data/<table>.csv`", f"Each table as CSV: {CSV_NOTE}."),
        ("`parquet/<table>.parquet`", f"Each table as Parquet, {PARQUET_NOTE}."),
        (
            "`json/<table>.json`",
            "Records as JSON, each with its children and claims nested, for "
            + ", ".join(f"`{t}`" for t in json_tables)
            + ".",
        ),
    ]
    others: dict[str, list[str]] = {}
    for entry in sorted(
        [*entries, {"path": README, "description": README_DESCRIPTION}], key=lambda e: e["path"]
    ):
        if entry["path"].split("/")[0] not in ("data", "parquet", "json"):
            others.setdefault(entry["description"], []).append(f"`{entry['path']}`")
    rows += [(", ".join(paths), description) for description, paths in others.items()]
    rows += [("`datapackage.json`", DESCRIPTOR_NOTE), ("`SHA256SUMS`", SUMS_NOTE)]
    return rows


def render_release_readme(descriptor: dict[str, Any], rows: Mapping[str, int]) -> str:
    """The README.md of the release described by *descriptor*, with each table's row count.

    Parameters
    ----------
    descriptor
        The release descriptor, with its ``resources`` and ``release_files``.
    rows
        Table name -> its number of rows.

    Examples
    --------
    >>> descriptor = {"name": "nk-defections", "title": "T", "description": "D.", "version": "1.0.0",
    ...     "created": "2026-01-02T00:00:00Z", "licenses": [{"name": "CC-BY-4.0"}],
    ...     "resources": [{"name": "people", "path": "data/people.csv", "title": "People",
    ...                    "description": "Who."}], "release_files": []}
    >>> print(render_release_readme(descriptor, {"people": 3}).splitlines()[0])
    # nk-defections 1.0.0
    """
    from nk_defections.release.build import release_name

    version = str(descriptor.get("version", ""))
    name = release_name(version)
    licences = ", ".join(str(licence.get("name")) for licence in descriptor.get("licenses", []))
    lines = [
        f"# {descriptor.get('name', '')} {version}",
        "",
        f"**{_cell(descriptor.get('title', ''))}.** {_cell(descriptor.get('description', ''))}",
        "",
        f"Version {version}, released {str(descriptor.get('created', ''))[:10]}. The data's "
        f"licence is {licences} (see `datapackage.json`); the code's is in `LICENSE`. "
        "`CITATION.cff` says how to cite this release, `CHANGELOG.md` what changed.",
        "",
        "## Tables",
        "",
        "| table | rows | what it holds |",
        "|---|---:|---|",
    ]
    lines += [
        f"| `{r['name']}` | {rows.get(r['name'], 0)} | "
        f"{_cell(r.get('title', r['name']))}: {_cell(r.get('description', ''))} |"
        for r in descriptor.get("resources", [])
    ]
    lines += ["", "## Files", "", "| file | what it is |", "|---|---|"]
    lines += [f"| {path} | {_cell(what)} |" for path, what in _folder_rows(descriptor)]
    lines += [
        "",
        "## Check and load",
        "",
        "```sh",
        "sha256sum -c SHA256SUMS                  # inside the folder: every file as it was built",
        f"nk-defections validate --package {name}   # the files against datapackage.json, and every rule",
        "```",
        "",
        "```python",
        "from nk_defections import load_table",
        f'load_table("people", path="{name}.zip")  # typed polars frames, read from the zip as it is',
        "```",
        "",
    ]
    return "\n".join(lines)
