"""The Datasette site over the release database: its metadata, and serving it on 127.0.0.1.

Everything the site says is read off ``datapackage.json``: the title, description, licence and
sources; every table's description and every column's (the derived date fields included); its
facets (the columns with a vocabulary or a country code); units, where a field declares one
(``unit``); the views of :func:`nk_defections.release.database.views`, with their questions as canned
queries. The front page shows the release's timeline figure.

:func:`open_site` serves the built release (``dist/nk-defections-<version>/``) when there is one
and it holds the package's current data; otherwise it builds the database (and, when matplotlib
is installed, the figure) from the package into a temporary folder. :func:`serve` runs
Datasette's own ``serve`` command over it.
"""

from __future__ import annotations

import html
import json
import signal
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nk_defections.model.package import Package
from nk_defections.read.bundle import Bundle, check_hash, open_bundle
from nk_defections.release.database import DATABASE_NAME, DATABASE_PATH, View, build_database, views

#: Where the site is served: this machine only.
HOST = "127.0.0.1"
#: Datasette's own default port.
DEFAULT_PORT = 8001
#: The figure on the front page: its path in a release, and the mount that serves its folder.
FIGURE = "figures/timeline.png"
FIGURES_MOUNT = "figures"


class SiteError(Exception):
    """The site cannot be served (the port is taken, a dependency is missing)."""


@dataclass(frozen=True)
class Site:
    """A database ready to serve, with its metadata and where it comes from.

    Attributes
    ----------
    database
        The SQLite file.
    figures
        The folder of the front page's figure, or ``None`` when there is no figure.
    metadata
        Datasette metadata (see :func:`site_metadata`).
    origin
        Where the database comes from, in a few words (for the user).
    scratch
        A temporary folder that lives as long as the site (for the metadata file).
    """

    database: Path
    figures: Path | None
    metadata: dict[str, Any]
    origin: str
    scratch: Path


def _facets(package: Package, table: str) -> list[str]:
    """The columns of *table* worth faceting on: those with a vocabulary or a country code."""
    countries = package.country_columns(table)
    return [
        f["name"]
        for f in package.fields(table)
        if f.get("constraints", {}).get("enum") or f["name"] in countries
    ]


def _table_metadata(bundle: Bundle, table: str) -> dict[str, Any]:
    from nk_defections.release.build import release_fields

    package = bundle.package
    fields = release_fields(package, table)
    units = {f["name"]: f["unit"] for f in fields if f.get("unit")}
    return {
        "description": package.resources[table].get("description", ""),
        "columns": {f["name"]: f.get("description", "") for f in fields},
        "facets": _facets(package, table),
        **({"units": units} if units else {}),
    }


def _view_metadata(bundle: Bundle, view: View, columns: list[str]) -> dict[str, Any]:
    from nk_defections.release.build import release_fields

    described: dict[str, str] = {}
    for table in reversed(view.draws_from):
        fields = release_fields(bundle.package, table)
        described.update({f["name"]: f.get("description", "") for f in fields})
    described.update(view.columns)
    return {
        "title": view.title,
        "description": view.description,
        "columns": {name: described[name] for name in columns if name in described},
        "facets": list(view.facets),
    }


def _front_page(descriptor: dict[str, Any], planned: list[View], figure: bool) -> str:
    from nk_defections.release.build import FIGURE_DESCRIPTION

    parts = [f"<p>{html.escape(str(descriptor.get('description', '')))}</p>"]
    if figure:
        parts.append(
            f'<figure><img src="/{FIGURES_MOUNT}/{Path(FIGURE).name}" '
            f'alt="{html.escape(FIGURE_DESCRIPTION)}" style="max-width: 100%">'
            f"<figcaption>{html.escape(FIGURE_DESCRIPTION)}</figcaption></figure>"
        )
    questions = "".join(
        f'<li><a href="/{DATABASE_NAME}/{view.query_name}">{html.escape(view.title)}</a> '
        f'(the view <a href="/{DATABASE_NAME}/{view.name}">{view.name}</a>)</li>'
        for view in planned
    )
    parts.append(f"<p>Version {html.escape(str(descriptor.get('version', '')))}. Start here:</p>")
    parts.append(f"<ul>{questions}</ul>")
    return "\n".join(parts)


def site_metadata(
    bundle: Bundle, view_columns: dict[str, list[str]], *, figure: bool
) -> dict[str, Any]:
    """Datasette metadata for the database of *bundle*, generated from its descriptor.

    Parameters
    ----------
    bundle
        The package or release the database was built from.
    view_columns
        The columns of each view, as the database has them.
    figure
        Whether the front page shows the timeline figure (served under ``/figures/``).

    Returns
    -------
    dict
        Title, description (with the figure and the questions as ``description_html``),
        licence, source, and per table and view: description, column descriptions, facets and
        units; the questions as canned queries.
    """
    descriptor = bundle.descriptor
    planned = views(bundle.package)
    licenses = descriptor.get("licenses", [])
    sources = descriptor.get("sources", [])
    metadata: dict[str, Any] = {
        "title": descriptor.get("title", descriptor.get("name", "")),
        "description": descriptor.get("description", ""),
        "description_html": _front_page(descriptor, planned, figure),
    }
    if licenses:
        metadata["license"] = licenses[0].get("title") or licenses[0].get("name", "")
        if licenses[0].get("path"):
            metadata["license_url"] = licenses[0]["path"]
    if sources:
        metadata["source"] = "; ".join(str(s.get("title", "")) for s in sources)
        urls = [s["path"] for s in sources if s.get("path")]
        if urls:
            metadata["source_url"] = urls[0]
    tables = {table: _table_metadata(bundle, table) for table in bundle.package.resources}
    for view in planned:
        tables[view.name] = _view_metadata(bundle, view, view_columns.get(view.name, []))
    queries = {
        view.query_name: {"title": view.title, "description": view.description, "sql": view.query}
        for view in planned
    }
    metadata["databases"] = {
        DATABASE_NAME: {
            "description": (
                "Every table of the release, typed, keyed and indexed, with full-text search over "
                "names, titles and summaries, and views that answer the first questions."
            ),
            "tables": tables,
            "queries": queries,
        }
    }
    return metadata


def _view_columns(database: Path) -> dict[str, list[str]]:
    import sqlite3

    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        names = [
            row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='view'")
        ]
        return {
            name: [row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')]
            for name in names
        }
    finally:
        connection.close()


def _release_problem(bundle: Bundle, folder: Path) -> str | None:
    """Why the release in *folder* is not the one to serve, or ``None`` if it is."""
    from nk_defections.release.changes import Bump, diff_packages

    if not (folder / "datapackage.json").is_file():
        return f"no release in {folder}"
    release = open_bundle(folder)
    entries = {e.get("path"): e for e in release.descriptor.get("release_files", [])}
    if DATABASE_PATH not in entries or not (folder / DATABASE_PATH).is_file():
        return f"the release in {folder} has no database"
    if diff_packages(release, bundle).required_bump() != Bump.NONE:
        return f"the release in {folder} does not hold the package's current data"
    return None


@contextmanager
def open_site(package: Path | str | None = None, dist: Path | str = "dist") -> Iterator[Site]:
    """The site to serve: the built release if it is current, else a database built now.

    Parameters
    ----------
    package
        The package (a checkout); ``None`` finds it as :func:`nk_defections.load_table` does.
    dist
        Where releases are built (``nk-defections build --out``).

    Yields
    ------
    Site
        Valid inside the ``with`` block; what was built for it is removed after.

    Raises
    ------
    nk_defections.model.package.PackageError
        If the release's database does not match its descriptor (it has been altered).
    """
    from nk_defections.read.load import typed_frame
    from nk_defections.release.build import release_fields, release_name

    bundle = open_bundle(package)
    folder = Path(dist) / release_name(bundle.version)
    problem = _release_problem(bundle, folder)
    with tempfile.TemporaryDirectory(prefix="nk-defections-site-") as temporary:
        scratch = Path(temporary)
        if problem is None:
            release = open_bundle(folder)
            database = folder / DATABASE_PATH
            entry = next(
                e for e in release.descriptor["release_files"] if e["path"] == DATABASE_PATH
            )
            check_hash(database.read_bytes(), str(entry["hash"]), f"{folder}/{DATABASE_PATH}")
            figures = (folder / FIGURE).parent if (folder / FIGURE).is_file() else None
            origin = f"the release in {folder}"
            source = release
        else:
            database = scratch / DATABASE_PATH
            typed = {
                t: typed_frame(bundle.package, t, bundle.string_frame(t))
                for t in bundle.package.resources
            }
            build_database(
                bundle.package,
                {t: release_fields(bundle.package, t) for t in bundle.package.resources},
                typed,
                database,
            )
            figures = _draw_figure(typed, bundle.version, scratch)
            origin = f"built now from the package in {bundle.location} ({problem})"
            source = bundle
        metadata = site_metadata(source, _view_columns(database), figure=figures is not None)
        yield Site(database, figures, metadata, origin, scratch)


def _draw_figure(typed: dict[str, Any], version: str, scratch: Path) -> Path | None:
    """Draw the timeline into *scratch* as a release does; ``None`` without matplotlib."""
    try:
        import matplotlib  # noqa: F401 - the figure needs it; the site does without

        from nk_defections.release.figure import draw_timeline, write_figure
    except ImportError:
        return None
    target = scratch / FIGURE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(write_figure(draw_timeline(typed, version), "png"))
    return target.parent


def datasette_arguments(site: Site, metadata_file: Path, port: int) -> list[str]:
    """The arguments of ``datasette serve`` for *site*: immutable database, metadata, figure."""
    arguments = ["-i", str(site.database), "--metadata", str(metadata_file)]
    if site.figures is not None:
        arguments += ["--static", f"{FIGURES_MOUNT}:{site.figures}"]
    return [*arguments, "--host", HOST, "--port", str(port)]


def check_port(port: int) -> None:
    """Raise :class:`SiteError` unless *port* of 127.0.0.1 is free to listen on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the server will: a port some earlier connection is still closing is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise SiteError(
                f"cannot listen on {HOST}:{port} ({exc.strerror}); choose another --port"
            ) from exc


class _Stopped(Exception):
    """SIGTERM arrived: stop serving, and clean up on the way out."""


def _stop(signum: int, frame: Any) -> None:
    raise _Stopped


def serve(site: Site, *, port: int = DEFAULT_PORT) -> None:
    """Serve *site* with Datasette on ``127.0.0.1:<port>`` until interrupted (Ctrl-C, SIGTERM).

    Raises
    ------
    SiteError
        If Datasette is not installed, or the port is taken.
    """
    try:
        from datasette.cli import serve as datasette_serve
    except ImportError as exc:
        raise SiteError(
            f"the site needs Datasette: pip install 'nk-defections[site]' ({exc})"
        ) from exc
    check_port(port)
    metadata_file = site.scratch / "metadata.json"
    metadata_file.write_text(json.dumps(site.metadata, ensure_ascii=False, indent=2), "utf-8")
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        datasette_serve.main(
            datasette_arguments(site, metadata_file, port),
            prog_name="datasette",
            standalone_mode=False,
        )
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
