"""Messages that say what to write instead: a contributor's first mistakes, each answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from nk_defections.check.validate import validate_paths
from nk_defections.cli import cli
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.dates import date_error, is_valid, suggest

from .conftest import ROOT

PEOPLE_HEADER = (
    "id,name,identity_status,kind,group_size_min,group_size_max,gender,birth_date,death_date,"
    "nationality,summary\n"
)


def _issues(tmp_path: Path, name: str, text: str, code: str) -> list[Issue]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [i for i in validate_paths([path], package=ROOT).issues if i.code == code]


def _person(**cells: str) -> str:
    row = dict.fromkeys(PEOPLE_HEADER.strip().split(","), "")
    row |= {"id": "per-0000000a", "name": "Kim A", "identity_status": "named"}
    row |= {"kind": "individual"} | cells
    return PEOPLE_HEADER + ",".join(row.values()) + "\n"


# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "interval", "meant"),
    [
        ("2023/11/05", False, "2023-11-05"),
        ("November 2023", False, "2023-11"),
        ("2013-2023", True, "2013/2023"),
        ("2013-2023", False, "[2013..2023]"),
        ("2023-11-1", False, "2023-11-01"),
        ("5 November 2023", False, "2023-11-05"),
        ("25/11/2023", False, "2023-11-25"),
        ("c. 2016", False, "2016~"),
    ],
)
def test_a_date_written_another_way_gets_the_form_that_was_meant(
    written: str, interval: bool, meant: str
) -> None:
    assert suggest(written, interval=interval) == meant
    assert date_error(written, interval=interval).endswith(f": write {meant!r}.")


@pytest.mark.parametrize("written", ["05/11/2023", "soon", "2023-02-30", "Juche 112"])
def test_a_date_whose_meaning_is_not_plain_gets_no_guess(written: str) -> None:
    assert suggest(written) is None
    assert "write" not in date_error(written)


DATE_LIKE = st.text(st.sampled_from("0123456789-/. ~?cNovemberJanuary,to[]"), max_size=24)


@given(DATE_LIKE, st.booleans())
def test_every_suggested_date_is_valid(text: str, interval: bool) -> None:
    suggestion = suggest(text, interval=interval)
    assert suggestion is None or is_valid(suggestion, interval=interval)


def test_the_suggestion_reaches_the_finding(tmp_path: Path) -> None:
    [issue] = _issues(tmp_path, "people.csv", _person(birth_date="2023/11/05"), C.DATE_INVALID)
    assert issue.message == (
        "'2023/11/05' is not a date of the supported EDTF forms: write '2023-11-05'."
    )


def test_an_empty_required_date_in_json_is_required(tmp_path: Path) -> None:
    event = {"id": "evt-0000000a", "event_type": "defection", "title": "x", "date": ""}
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"events": [event]}), encoding="utf-8")
    found = {(i.code, i.field, i.message) for i in validate_paths([path], package=ROOT).issues}
    assert (C.SCHEMA_REQUIRED, "date", "required field 'date' is empty") in found
    assert not [f for f in found if f[0] in (C.DATE_INVALID, C.SCHEMA_TYPE)]


# -- ids, countries, fields -------------------------------------------------------------------


def test_a_malformed_id_shows_the_pattern_and_the_command_that_mints_one(tmp_path: Path) -> None:
    [issue] = _issues(tmp_path, "people.csv", _person(id="per-123"), C.SCHEMA_PATTERN)
    assert "per-[0-9a-hjkmnp-tv-z]{8}" in issue.message
    assert "`nk-defections new-id people`" in issue.message


@pytest.mark.parametrize("written", ["KR", "kor", "South Korea", '"Korea, Republic of"'])
def test_a_country_written_another_way_gets_its_alpha3_code(tmp_path: Path, written: str) -> None:
    [issue] = _issues(tmp_path, "people.csv", _person(nationality=written), C.COUNTRY_UNKNOWN)
    assert issue.message.endswith("did you mean 'KOR'?")


def test_a_country_in_json_gets_its_alpha3_code(tmp_path: Path) -> None:
    event = {"id": "evt-0000000a", "event_type": "defection", "title": "x", "date": "2023"}
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"events": [event | {"country": "KR"}]}), encoding="utf-8")
    [issue] = [
        i for i in validate_paths([path], package=ROOT).issues if i.code == C.COUNTRY_UNKNOWN
    ]
    assert issue.message.endswith("did you mean 'KOR'?")


def test_a_claim_on_a_misspelt_field_gets_the_field_meant(tmp_path: Path) -> None:
    event = {
        "id": "evt-0000000a",
        "event_type": "defection",
        "title": "x",
        "date": "2023",
        "claims": [
            {"id": "clm-0000000a", "field": "titel", "source_id": "src-1ekndjem", "paragraph": 1}
        ],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"events": [event]}), encoding="utf-8")
    [issue] = [
        i for i in validate_paths([path], package=ROOT).issues if i.code == C.CLAIM_UNKNOWN_FIELD
    ]
    assert issue.message == "field 'titel' is not a column of events; did you mean 'title'?"


# -- counts, help, diff ---------------------------------------------------------------------------


def test_counts_are_in_the_right_number(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(_person(nationality="KR", name=" Kim A"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--package", str(ROOT), str(path)])
    verdict = result.stderr.strip().splitlines()[-1]
    assert ", 1 warning, " in verdict
    assert "1 row in 1 table checked" in verdict
    assert "0 notes" in verdict


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_lists_its_exit_codes_in_its_help(command: str) -> None:
    text = CliRunner().invoke(cli, [command, "--help"]).output
    exits = text.split("Exit codes:", 1)[1]
    for code in ("0", "2", "3"):
        assert f"\n    {code}  " in exits, (command, code)


def test_diff_of_identical_packages_says_so() -> None:
    result = CliRunner().invoke(cli, ["diff", str(ROOT), str(ROOT)])
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("no differences")


# -- the evidence check ---------------------------------------------------------------------------

EVIDENCE = Path(__file__).parent / "fixtures" / "invalid" / "source.original-text-not-found"


def test_a_quote_found_in_another_paragraph_says_which(tmp_path: Path) -> None:
    contribution = json.loads((EVIDENCE / "input" / "contribution.json").read_text("utf-8"))
    claim = contribution["people"][0]["claims"][0]
    claim |= {"paragraph": 3, "original_text": "born in 1960"}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(contribution), encoding="utf-8")
    report = validate_paths(
        [path],
        package=ROOT,
        source_texts={"src-00000001": EVIDENCE / "texts" / "source.txt"},
    )
    [issue] = [i for i in report.issues if i.code == C.SOURCE_TEXT_NOT_FOUND]
    assert issue.message == (
        "'born in 1960' does not occur in paragraph 3 of src-00000001; "
        "it occurs in paragraph 2: cite that one"
    )


# -- the loader and the package a command is given --------------------------------------------------


def test_the_loader_suggests_the_table_meant() -> None:
    from nk_defections import load_table
    from nk_defections.model.package import PackageError

    with pytest.raises(
        PackageError, match="'peopel' is not a table of the package; did you mean 'people'?"
    ):
        load_table("peopel", path=ROOT)


@pytest.mark.parametrize("where", ["README.md", "data/people.csv"])
def test_a_file_where_a_package_folder_is_expected_is_a_package_error(where: str) -> None:
    from nk_defections import load_package, load_table
    from nk_defections.model.package import PackageError

    for load in (
        lambda: load_table("people", path=ROOT / where),
        lambda: load_package(ROOT / where),
    ):
        with pytest.raises(PackageError, match="is a file where a package is expected"):
            load()


def test_validate_accepts_a_release_zip_as_its_package(tmp_path: Path) -> None:
    from nk_defections.read.bundle import open_bundle
    from nk_defections.release.build import write_release

    release = write_release(open_bundle(ROOT), tmp_path)
    result = CliRunner().invoke(
        cli, ["validate", "--package", str(release.archive), "--no-frictionless"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].startswith("valid: 0 errors")
    same = CliRunner().invoke(cli, ["diff", str(release.archive), str(release.folder)])
    assert same.exit_code == 0 and same.stdout.strip().endswith("no differences")


# -- one broken CSV, one finding that names the cause ---------------------------------------------

CLAIM_ON_PERSON = (
    "id,record_id,field,source_id,paragraph,value,original_text,attributed_to,relayed_by,"
    "derivation,claim_rank,rank_reason\n"
    "clm-0000000a,per-0000000a,*,src-1ekndjem,1,,leader Kim Jong Un,,,,normal,\n"
)


def _broken_people(tmp_path: Path, people: bytes) -> list[Issue]:
    """The findings of a broken people.csv and a claims.csv that cites its row."""
    (tmp_path / "people.csv").write_bytes(people)
    (tmp_path / "claims.csv").write_text(CLAIM_ON_PERSON, encoding="utf-8")
    paths = [tmp_path / "people.csv", tmp_path / "claims.csv"]
    return [i for i in validate_paths(paths, package=ROOT).issues if i.severity == "error"]


def test_a_semicolon_separated_export_is_one_finding(tmp_path: Path) -> None:
    people = _person().replace(",", ";").encode("utf-8")
    [issue] = _broken_people(tmp_path, people)
    assert issue.code == C.CSV_DELIMITER
    assert "separated by ';', not by commas" in issue.message


def test_latin1_bytes_are_one_finding_that_says_how_to_resave(tmp_path: Path) -> None:
    people = _person(name="Kim André").encode("cp1252")
    [issue] = _broken_people(tmp_path, people)
    assert issue.code == C.FILE_ENCODING
    assert "Windows-1252 text ('Kim André')" in issue.message
    assert "re-save it as UTF-8" in issue.message


def test_a_release_csv_used_as_a_template_is_one_finding_naming_the_generated_columns(
    tmp_path: Path,
) -> None:
    from nk_defections.read.bundle import open_bundle
    from nk_defections.release.build import write_release

    release = write_release(open_bundle(ROOT), tmp_path / "dist")
    header = (release.folder / "data" / "people.csv").read_text("utf-8").splitlines()[0]
    row = ["per-0000000a", "Kim A", "named", "individual"] + [""] * (header.count(","))
    people = (header + "\n" + ",".join(row[: header.count(",") + 1]) + "\n").encode("utf-8")
    [issue] = _broken_people(tmp_path, people)
    assert issue.code == C.CSV_UNKNOWN_COLUMN
    for column in ("birth_date_min", "birth_date_max", "birth_date_kind", "death_date_kind"):
        assert column in issue.message
    assert "delete them" in issue.message


def test_an_unreadable_package_table_does_not_make_references_into_it_dangle(
    package_copy: Path,
) -> None:
    from nk_defections.check.validate import validate_package

    people = package_copy / "data" / "people.csv"
    people.write_bytes(people.read_bytes().replace(b"Tae Yongho", "Tae Yongho é".encode("cp1252")))
    report = validate_package(package_copy, frictionless=False)
    errors = [(i.code, i.file) for i in report.issues if i.severity == "error"]
    assert errors == [(C.FILE_ENCODING, "data/people.csv")]


# -- invisible and look-alike characters ----------------------------------------------------------

INVISIBLE_TEXT = st.text(
    st.sampled_from(
        [
            "a",
            "Ж",
            " ",
            "\u200b",
            "\u200c",
            "\u200d",
            "\u2060",
            "\ufeff",
            "\u00ad",
            "\U0001f468",
            "\u0301",
            "\U0001f3fd",
            "\ufe0f",
        ]
    ),
    max_size=8,
)


@given(INVISIBLE_TEXT)
def test_the_polars_and_python_invisible_checks_agree(text: str) -> None:
    import polars as pl

    from nk_defections.check.rules.fields import invisible_character, invisible_expr

    found = pl.DataFrame({"v": [text]}).select(invisible_expr(pl.col("v")))["v"][0]
    assert found is (invisible_character(text) is not None)


@pytest.mark.parametrize(
    ("name", "warned"),
    [
        ("Kim J\u043eng Un", True),  # a Cyrillic o
        ("Thae Y\u03bfng-ho", True),  # a Greek omicron
        ("\u041a\u0438\u043c \u0427\u0435\u043d \u042b\u043d", False),  # all Cyrillic
        ("Ri Il Kyu \ub9ac\uc77c\uaddc", False),  # Latin and Hangul, each word of one script
        ("Thae Y\u014fng-ho", False),  # McCune-Reischauer: Latin with a breve
    ],
)
def test_a_name_mixing_latin_with_cyrillic_or_greek_in_a_word_is_a_warning(
    tmp_path: Path, name: str, warned: bool
) -> None:
    found = _issues(tmp_path, "people.csv", _person(name=name), C.RECORD_MIXED_SCRIPT)
    assert bool(found) is warned
    assert all(i.severity == "warning" for i in found)


@pytest.mark.parametrize("column", ["name", "summary"])
def test_an_invisible_character_is_a_warning_in_names_and_other_text(
    tmp_path: Path, column: str
) -> None:
    [issue] = _issues(
        tmp_path, "people.csv", _person(**{column: "Ri Il\u200bKyu"}), C.RECORD_INVISIBLE
    )
    assert issue.severity == "warning" and "U+200B" in issue.message


def test_an_emoji_sequence_is_not_invisible(tmp_path: Path) -> None:
    summary = "family \U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert not _issues(tmp_path, "people.csv", _person(summary=summary), C.RECORD_INVISIBLE)


@pytest.mark.parametrize("command", [["new-id", "peopel"], ["new-id", "persons"]])
def test_new_id_suggests_the_table_meant(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--package", str(ROOT)])
    assert result.exit_code == 2
    assert "did you mean 'people'?" in result.output
