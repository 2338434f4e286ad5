"""The Datasette site: metadata from the descriptor, ``nk-defections serve``, and a real browser.

The browser tests start the site on a free port of 127.0.0.1 and drive the distribution's
headless Chromium with Selenium (``apt-get install chromium chromium-driver``; nothing is
downloaded). Without the browser they fail in CI (``CI`` set) and skip, saying why, elsewhere.
Screenshots are saved under the test's own folder and copied to ``test-output/site/`` (not
committed) for reviewers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from nk_defections import load_package
from nk_defections.read.bundle import open_bundle
from nk_defections.release.build import release_fields, write_release
from nk_defections.release.database import DATABASE_NAME, DATABASE_PATH, FULL_TEXT, views
from nk_defections.release.site import HOST, site_metadata

from . import expected_views
from .conftest import ROOT

BUNDLE = open_bundle(ROOT)
PACKAGE = BUNDLE.package
REVIEW = ROOT / "test-output" / "site"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# ---- metadata ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def metadata() -> dict:
    columns = {view.name: [] for view in views(PACKAGE)}
    return site_metadata(BUNDLE, columns, figure=True)


def test_metadata_comes_from_the_descriptor(metadata):
    descriptor = BUNDLE.descriptor
    assert metadata["title"] == descriptor["title"]
    assert metadata["description"] == descriptor["description"]
    assert metadata["license"] == descriptor["licenses"][0]["title"]
    assert metadata["license_url"] == descriptor["licenses"][0]["path"]
    assert metadata["source"] == descriptor["sources"][0]["title"]
    assert '<img src="/figures/timeline.png"' in metadata["description_html"]
    tables = metadata["databases"][DATABASE_NAME]["tables"]
    for table, resource in PACKAGE.resources.items():
        assert tables[table]["description"] == resource["description"]
        assert tables[table]["columns"] == {
            f["name"]: f["description"] for f in release_fields(PACKAGE, table)
        }
        assert all(tables[table]["columns"].values()), table


def test_facets_are_the_vocabularies_and_country_codes(metadata):
    tables = metadata["databases"][DATABASE_NAME]["tables"]
    for table in PACKAGE.resources:
        expected = [
            f["name"]
            for f in PACKAGE.fields(table)
            if "enum" in f.get("constraints", {}) or f["name"] in PACKAGE.country_columns(table)
        ]
        assert tables[table]["facets"] == expected
    assert {"event_type", "country"} <= set(tables["events"]["facets"])
    assert {"rank", "status"} <= set(tables["postings"]["facets"])


def test_the_questions_are_canned_queries_over_the_views(metadata):
    queries = metadata["databases"][DATABASE_NAME]["queries"]
    for view in views(PACKAGE):
        assert queries[view.query_name]["sql"] == view.query
        assert f"FROM {view.name}" in view.query
        assert f'href="/{DATABASE_NAME}/{view.query_name}"' in metadata["description_html"]


def test_every_view_column_is_described(release):
    from nk_defections.release.site import _view_columns

    columns = _view_columns(release.folder / DATABASE_PATH)
    assert set(columns) == {view.name for view in views(PACKAGE)}
    tables = site_metadata(BUNDLE, columns, figure=False)["databases"][DATABASE_NAME]["tables"]
    for name, names in columns.items():
        assert list(tables[name]["columns"]) == names, name
        assert all(tables[name]["columns"].values()), name
        assert set(tables[name]["facets"]) <= set(names)


# ---- serving -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    return write_release(BUNDLE, tmp_path_factory.mktemp("dist"))


@dataclass
class Server:
    """A running ``nk-defections serve``: its process, its address, and its stderr so far."""

    process: subprocess.Popen
    url: str
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM to the process we started (by its id), then its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def start_server(dist: Path, workdir: Path) -> Server:
    port = free_port()
    log = workdir / "serve.log"
    command = [sys.executable, "-m", "nk_defections", "serve", "--port", str(port)]
    command += ["--package", str(ROOT), "--dist", str(dist)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=workdir, stdout=sink, stderr=sink)
    server = Server(process, f"http://{HOST}:{port}", log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nk-defections serve exited with {process.returncode}:\n{server.stderr()}")
        try:
            with urllib.request.urlopen(f"{server.url}/-/versions.json", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    pytest.fail(f"nk-defections serve did not answer within 120 s:\n{server.stderr()}")


def get_json(server: Server, path: str) -> list[dict]:
    with urllib.request.urlopen(f"{server.url}{path}", timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture(scope="module")
def server(release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(release.folder.parent, tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


def test_serve_says_it_serves_the_release(server, release):
    assert f"serving {release.folder / DATABASE_PATH}: the release in" in server.stderr()
    assert server.url.startswith("http://127.0.0.1:")
    rows = get_json(server, f"/{DATABASE_NAME}/defections.json?_shape=array")
    assert rows == expected_views.defections(load_package(ROOT))


def test_serve_without_a_release_builds_the_database_and_cleans_up(tmp_path: Path):
    running = start_server(tmp_path / "no-dist", tmp_path)
    try:
        said = running.stderr()
        built = re.search(
            r"serving (\S+): built now from the package in (.+) \(no release in", said
        )
        assert built, said
        database = Path(built.group(1))
        assert database.is_file() and database.name == Path(DATABASE_PATH).name
        rows = get_json(running, f"/{DATABASE_NAME}/statistics_cited.json?_shape=array")
        assert rows == expected_views.statistics(load_package(ROOT))
        with urllib.request.urlopen(f"{running.url}/figures/timeline.png", timeout=30) as image:
            assert image.read().startswith(b"\x89PNG")
    finally:
        code = running.stop()
    assert code == 0, running.stderr()
    assert running.stderr().rstrip().endswith("stopped")
    assert not database.parent.parent.exists()  # the temporary folder is gone


def test_serve_refuses_a_port_in_use(tmp_path: Path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "nk_defections", "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


# ---- in a real browser ---------------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]
    if missing:
        reason = (
            f"no headless browser: {', '.join(missing)} missing "
            "(apt-get install -y chromium chromium-driver)"
        )
        if _in_ci():
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1600,1200",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    offline = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look anything up online
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    finally:
        if offline is None:
            del os.environ["SE_OFFLINE"]
        else:
            os.environ["SE_OFFLINE"] = offline
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Save a full-page screenshot under *tmp_path*, and a copy under test-output/site/."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1600, max(1200, min(int(height) + 100, 6000)))
    path = tmp_path / name
    assert driver.save_screenshot(str(path))
    REVIEW.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, REVIEW / name)
    return path


def table_rows(driver) -> list[dict[str, str]]:
    """The rows of the results table on the page, column name -> cell text."""
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.CSS_SELECTOR, "table.rows-and-columns")
    # a table's page names its columns in data-column, a query's only in the header text
    columns = [
        th.get_attribute("data-column") or th.text
        for th in table.find_elements(By.CSS_SELECTOR, "thead th")
    ]
    # Datasette shows an empty value as a no-break space
    return [
        dict(
            zip(
                columns,
                (
                    "" if not td.text.strip() else td.text
                    for td in tr.find_elements(By.TAG_NAME, "td")
                ),
                strict=True,
            )
        )
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]


def shown(value: object) -> str:
    """A value as Datasette shows it in a table cell (an empty one for null)."""
    return "" if value is None else str(value)


def test_front_page_shows_the_figure_and_the_questions(server, browser, tmp_path: Path):
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/")
    assert browser.title.startswith(BUNDLE.descriptor["title"])
    image = browser.find_element(By.CSS_SELECTOR, ".metadata-description img")
    assert image.get_attribute("src") == f"{server.url}/figures/timeline.png"
    assert (
        browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image)
        > 500
    )
    links = {
        a.text: a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, ".metadata-description li a")
    }
    for view in views(PACKAGE):
        assert links[view.title] == f"{server.url}/{DATABASE_NAME}/{view.query_name}"
    screenshot(browser, tmp_path, "front-page.png")


def test_the_defections_view_in_the_browser_shows_what_the_csv_files_say(
    server, browser, tmp_path: Path
):
    from selenium.webdriver.common.by import By

    tables = load_package(ROOT)
    expected = expected_views.defections(tables)
    browser.get(f"{server.url}/{DATABASE_NAME}/defections")
    rows = table_rows(browser)
    assert rows == [{k: shown(v) for k, v in row.items()} for row in expected]
    # one row per defection in events.csv, each with its defector and the post they left
    defections = tables["events"].filter(pl.col("event_type") == "defection")
    assert sorted(r["event_id"] for r in rows) == sorted(defections["id"].to_list())
    postings = tables["postings"].filter(pl.col("end_event_id").is_not_null())
    for row in rows:
        left = postings.filter(pl.col("end_event_id") == row["event_id"])
        assert row["posting_title"] in left["title"].to_list()
        person = tables["people"].filter(pl.col("id") == row["person_id"])
        assert row["person_name"] == person["name"].item()
    # the descriptions of the columns come with the page
    header = browser.find_element(By.CSS_SELECTOR, 'th[data-column="date_kind"]')
    assert "What `date_min` and `date_max` mean" in header.get_attribute("data-column-description")
    path = screenshot(browser, tmp_path, "defections.png")
    assert path.stat().st_size > 10_000
    # the question's canned query shows the same defections
    browser.get(f"{server.url}/{DATABASE_NAME}/who_defected")
    answered = table_rows(browser)
    assert [r["person_name"] for r in answered] == [shown(r["person_name"]) for r in expected]


def test_a_facet_and_the_full_text_search_in_the_browser(server, browser, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    events = load_package(ROOT)["events"]
    browser.get(f"{server.url}/{DATABASE_NAME}/events")
    assert len(table_rows(browser)) == events.height
    facet = browser.find_element(By.ID, "facet-event_type")
    facet.find_element(By.LINK_TEXT, "defection").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("event_type=defection"))
    faceted = [row["id"] for row in table_rows(browser)]
    assert sorted(faceted) == sorted(
        events.filter(pl.col("event_type") == "defection")["id"].to_list()
    )
    screenshot(browser, tmp_path, "events-facet-defection.png")

    # the search box of the events table: every event whose title or summary holds the word
    word = "Cuba"
    browser.get(f"{server.url}/{DATABASE_NAME}/events")
    box = browser.find_element(By.ID, "_search")
    box.send_keys(word, Keys.RETURN)
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("_search=Cuba"))
    found = sorted(row["id"] for row in table_rows(browser))
    pattern = rf"\b{word.lower()}\b"
    holds = pl.concat_str([pl.col(c).fill_null("") for c in FULL_TEXT["events"]], separator=" ")
    expected = sorted(events.filter(holds.str.to_lowercase().str.contains(pattern))["id"].to_list())
    assert found == expected
    assert 0 < len(expected) < events.height  # the search did narrow the table
    screenshot(browser, tmp_path, "events-search-cuba.png")
