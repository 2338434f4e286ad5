"""The release's SQLite database: typed and keyed as the descriptor says, the same rows as the
CSV files, searchable, the same bytes on every build, and views that answer the first questions."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from nk_defections import load_package
from nk_defections.read.bundle import open_bundle
from nk_defections.release.build import release_fields, write_release
from nk_defections.release.database import (
    DATABASE_PATH,
    FULL_TEXT,
    DatabaseError,
    build_database,
    views,
)

from . import expected_views
from .conftest import ROOT

PACKAGE = open_bundle(ROOT).package
VIEWS = {view.name: view for view in views(PACKAGE)}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    return write_release(open_bundle(ROOT), tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def db(release):
    connection = sqlite3.connect(f"file:{release.folder / DATABASE_PATH}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return load_package(ROOT)


def _select(db: sqlite3.Connection, sql: str) -> list[dict]:
    return [dict(row) for row in db.execute(sql)]


# ---- tables ---------------------------------------------------------------------------------------


def test_the_release_describes_the_database_with_its_size_and_hash(release):
    import hashlib

    descriptor = json.loads((release.folder / "datapackage.json").read_text(encoding="utf-8"))
    entry = next(e for e in descriptor["release_files"] if e["path"] == DATABASE_PATH)
    data = (release.folder / DATABASE_PATH).read_bytes()
    assert entry["bytes"] == len(data) and entry["mediatype"] == "application/vnd.sqlite3"
    assert entry["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert data.startswith(b"SQLite format 3\x00")


@pytest.mark.parametrize("table", list(PACKAGE.resources))
def test_every_table_has_the_release_columns_typed_keyed_and_required(db, table: str):
    fields = release_fields(PACKAGE, table)
    info = {row["name"]: row for row in db.execute(f'PRAGMA table_info("{table}")')}
    assert list(info) == [f["name"] for f in fields]
    sql_type = {"integer": "INTEGER", "number": "REAL"}
    for f in fields:
        column = info[f["name"]]
        assert column["type"] == sql_type.get(f["type"], "TEXT"), f["name"]
        required = bool(f.get("constraints", {}).get("required"))
        assert bool(column["notnull"]) == required, f["name"]
    primary = PACKAGE.resources[table]["schema"]["primaryKey"]
    assert [n for n, c in sorted(info.items(), key=lambda i: i[1]["pk"]) if c["pk"]] == primary


@pytest.mark.parametrize("table", list(PACKAGE.resources))
def test_foreign_keys_and_indexes_follow_the_descriptor(db, table: str):
    keys = {
        (row["from"], row["table"], row["to"])
        for row in db.execute(f'PRAGMA foreign_key_list("{table}")')
    }
    assert keys == {(column, target, "id") for column, target in PACKAGE.foreign_keys(table)}
    indexed = {
        db.execute(f'PRAGMA index_info("{index["name"]}")').fetchone()["name"]
        for index in db.execute(f'PRAGMA index_list("{table}")')
    }
    # every column holding ids of another table, the polymorphic ones included
    assert set(PACKAGE.reference_columns(table)) <= indexed
    assert not db.execute(f'PRAGMA foreign_key_check("{table}")').fetchall()


@pytest.mark.parametrize("table", list(PACKAGE.resources))
def test_every_table_holds_the_rows_of_its_csv(db, tables, table: str):
    expected = expected_views._rows(tables[table])
    assert _select(db, f'SELECT * FROM "{table}" ORDER BY rowid') == expected
    assert len(expected) == tables[table].height
    # Not a vacuous pass: a table is empty here only where its CSV holds its header alone.
    csv_lines = (ROOT / PACKAGE.resources[table]["path"]).read_text(encoding="utf-8").count("\n")
    assert tables[table].height > 0 or csv_lines == 1


def test_date_bounds_are_iso_date_text_and_kinds_are_stored(db, tables):
    checked = 0
    for table in PACKAGE.resources:
        for column, _ in PACKAGE.date_columns(table):
            for end in ("min", "max"):
                name = f"{column}_{end}"
                rows = db.execute(
                    f'SELECT typeof("{name}") AS t, "{name}" AS v, date("{name}") AS d '
                    f'FROM "{table}" WHERE "{name}" IS NOT NULL'
                ).fetchall()
                for row in rows:
                    assert row["t"] == "text" and row["v"] == row["d"], (table, name, row["v"])
                    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", row["v"])
                checked += len(rows)
            kinds = [
                r[0] for r in db.execute(f'SELECT "{column}_kind" FROM "{table}" ORDER BY rowid')
            ]
            assert kinds == tables[table][f"{column}_kind"].cast(pl.String).to_list()
    assert checked > 0


def test_the_database_is_sound(db):
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


# ---- full-text search ------------------------------------------------------------------------------


def _words(text: str | None) -> set[str]:
    """The tokens FTS5's default tokenizer (unicode61) finds in ASCII text, case folded."""
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text or "")}


@pytest.mark.parametrize("table", list(FULL_TEXT))
def test_full_text_search_finds_exactly_the_rows_that_hold_a_word(db, tables, table: str):
    columns = FULL_TEXT[table]
    rows = tables[table].select("id", *columns).rows()
    words = sorted(set().union(*(_words(" ".join(v or "" for v in r[1:])) for r in rows)))
    assert words
    for word in words:
        expected = sorted(r[0] for r in rows if word in _words(" ".join(v or "" for v in r[1:])))
        found = [
            r[0]
            for r in db.execute(
                f'SELECT id FROM "{table}" WHERE rowid IN '
                f'(SELECT rowid FROM "{table}_fts" WHERE "{table}_fts" MATCH ?) ORDER BY id',
                [f'"{word}"'],
            )
        ]
        assert found == expected, (table, word)


# ---- deterministic ---------------------------------------------------------------------------------

_BUILD = """
import sys
from pathlib import Path
from nk_defections.read.bundle import open_bundle
from nk_defections.release.database import build_database
from nk_defections.read.load import typed_frame
from nk_defections.release.build import disputed_fields, release_fields
bundle = open_bundle(sys.argv[1])
package = bundle.package
strings = {t: bundle.string_frame(t) for t in package.resources}
build_database(
    package,
    {t: release_fields(package, t) for t in package.resources},
    {t: typed_frame(package, t, strings[t]) for t in package.resources},
    Path(sys.argv[2]),
    derived={"disputes": disputed_fields(package, strings)},
)
"""


def test_a_rebuild_in_another_process_gives_the_same_bytes(release, tmp_path: Path):
    """Byte for byte, not only the same rows: the file embeds nothing of the time of the build."""
    again = tmp_path / "elsewhere" / "again.db"
    subprocess.run([sys.executable, "-c", _BUILD, str(ROOT), str(again)], check=True, cwd=tmp_path)
    assert again.read_bytes() == (release.folder / DATABASE_PATH).read_bytes()


def test_the_database_is_written_into_a_new_file_only(tmp_path: Path, tables):
    target = tmp_path / "db.sqlite"
    target.write_bytes(b"")
    with pytest.raises(FileExistsError):
        build_database(PACKAGE, {t: release_fields(PACKAGE, t) for t in tables}, tables, target)


def test_a_view_on_a_vocabulary_value_the_descriptor_lacks_is_refused_clearly(package_copy: Path):
    from nk_defections.model.package import load_package_descriptor

    path = package_copy / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    events = next(r for r in descriptor["resources"] if r["name"] == "events")
    event_type = next(f for f in events["schema"]["fields"] if f["name"] == "event_type")
    event_type["constraints"]["enum"].remove("defection")
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(
        DatabaseError, match=r"'defection' is not in the vocabulary of events\.event_type"
    ):
        views(load_package_descriptor(package_copy))


# ---- the three questions, one SELECT each ----------------------------------------------------------


def test_who_defected_from_which_post_when_to_where_on_whose_word(db, tables):
    view = VIEWS["defections"]
    expected = expected_views.defections(tables)
    # the view: one row per defection, every column as the CSV tables say
    assert _select(db, "SELECT * FROM defections") == expected
    events = tables["events"]
    assert len(expected) == events.filter(pl.col("event_type") == "defection").height > 0
    # the question's one SELECT
    answer = _select(db, view.query)
    assert answer == [{k: row[k] for k in answer[0]} for row in expected]
    assert all(row["person_name"] and row["posting_title"] and row["source_ids"] for row in answer)


def test_who_took_part_in_each_event_and_in_what_role(db, tables):
    view = VIEWS["event_participants_named"]
    expected = expected_views.participants(tables)
    assert _select(db, "SELECT * FROM event_participants_named") == expected
    assert len(expected) == tables["event_participants"].height
    answer = _select(db, view.query)
    assert answer == [{k: row[k] for k in answer[0]} for row in expected]
    # every participant has a name, people and organizations alike
    assert {row["participant_table"] for row in answer} == {"people", "organizations"}
    assert all(row["participant_name"] for row in answer)


def test_what_figures_the_sources_give_and_on_whose_authority(db, tables):
    view = VIEWS["statistics_cited"]
    expected = expected_views.statistics(tables)
    assert _select(db, "SELECT * FROM statistics_cited") == expected
    assert len(expected) == tables["statistics"].height > 0
    answer = _select(db, view.query)
    assert answer == [{k: row[k] for k in answer[0]} for row in expected]
    assert all(row["citations"] for row in answer)
    assert any(row["attributed_to_name"] for row in answer)


def test_a_defection_without_a_linked_posting_finds_the_post_by_its_end_reason(
    package_copy: Path, tmp_path: Path
):
    """The posting's end_event_id taken away: the view falls back on the next best evidence."""
    from nk_defections.read.load import typed_frame

    path = package_copy / "data" / "postings.csv"
    frame = pl.read_csv(path, infer_schema=False)
    linked = frame.filter(pl.col("end_event_id").is_not_null())["id"][0]
    frame = frame.with_columns(
        pl.when(pl.col("id") == linked)
        .then(None)
        .otherwise(pl.col("end_event_id"))
        .alias("end_event_id")
    )
    path.write_text(frame.write_csv(line_terminator="\n"), encoding="utf-8")
    bundle = open_bundle(package_copy)
    package = bundle.package
    typed = {t: typed_frame(package, t, bundle.string_frame(t)) for t in package.resources}
    target = tmp_path / "db.sqlite"
    build_database(
        package, {t: release_fields(package, t) for t in package.resources}, typed, target
    )
    connection = sqlite3.connect(target)
    connection.row_factory = sqlite3.Row
    rows = _select(connection, "SELECT * FROM defections")
    connection.close()
    assert rows == expected_views.defections(typed)
    fallback = [r for r in rows if r["posting_id"] == linked]
    assert [r["posting_evidence"] for r in fallback] == ["end_reason"]


def test_the_readme_sqlite_example_runs(release):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(
        b.split("```", 1)[0] for b in text.split("```sql\n")[1:] if b.startswith("-- sqlite3 ")
    )
    path = block.splitlines()[0].removeprefix("-- sqlite3 ")
    assert path == f"dist/{release.folder.name}/{DATABASE_PATH}"
    connection = sqlite3.connect(release.folder / DATABASE_PATH)
    code = re.sub(r"--[^\n]*", "", block)
    statements = [s for s in code.split(";") if s.strip()]
    assert len(statements) == len(VIEWS)
    for statement, view in zip(statements, VIEWS.values(), strict=True):
        assert f"FROM {view.name}" in statement
        rows = connection.execute(statement).fetchall()
        assert len(rows) == connection.execute(f"SELECT count(*) FROM {view.name}").fetchone()[0]
        assert rows and all(any(v is not None for v in row) for row in rows)
    connection.close()


def test_build_names_a_field_a_view_needs_that_the_descriptor_renamed(
    package_copy: Path, tmp_path: Path
):
    from click.testing import CliRunner

    from nk_defections.cli import cli

    path = package_copy / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    postings = next(r for r in descriptor["resources"] if r["name"] == "postings")
    next(f for f in postings["schema"]["fields"] if f["name"] == "rank")["name"] = "grade"
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    csv = package_copy / "data" / "postings.csv"
    lines = csv.read_text(encoding="utf-8").split("\n", 1)
    csv.write_text(lines[0].replace(",rank,", ",grade,") + "\n" + lines[1], encoding="utf-8")
    claims = package_copy / "data" / "claims.csv"
    frame = pl.read_csv(claims, infer_schema=False)
    renamed = pl.col("record_id").str.starts_with("pst-") & (pl.col("field") == "rank")
    frame = frame.with_columns(
        pl.when(renamed).then(pl.lit("grade")).otherwise("field").alias("field")
    )
    claims.write_text(frame.write_csv(line_terminator="\n"), encoding="utf-8")
    out = tmp_path / "dist"
    result = CliRunner().invoke(
        cli, ["build", "--package", str(package_copy), "--out", str(out), "--no-frictionless"]
    )
    assert result.exit_code == 1, result.output
    assert "the view defections does not fit datapackage.json: no such column: s.rank" in (
        result.output
    )
    assert "internal error" not in result.output and not any(out.glob("nk-defections-*"))
