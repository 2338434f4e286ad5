"""The command line: parse options, call one library function, report, return an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from nk_defections.findings.issues import Report
from nk_defections.findings.printable import printable
from nk_defections.report import REPORTERS, write_report

EXIT_VALID, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
#: Where --package points when it is not given (nk_defections.model.locate says how it is found).
DEFAULT_PACKAGE = (
    "default: the nearest nk-defections datapackage.json at or above the current directory, "
    "else the installed copy"
)


class PathArgument(click.Path):
    """A path on the command line; one holding a NUL byte (which no file name can) is a usage error."""

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> str | bytes | os.PathLike[str]:
        """Refuse a NUL byte before anything asks the system about the path."""
        text = os.fspath(value)
        if "\x00" in text:
            self.fail(f"{text!r} holds a NUL byte", param, ctx)
        return super().convert(value, param, ctx)


def _say(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Echo *text* with what it carries from the data escaped (one line stays one line)."""
    click.echo(printable(text), err=err, nl=nl)


def _fail(message: object, code: int) -> None:
    """The one-line error of a command, then its exit code."""
    _say(f"error: {message}", err=True)
    sys.exit(code)


def _source_texts(values: tuple[str, ...]) -> dict[str, Path]:
    texts = {}
    for value in values:
        source_id, sep, file = value.partition("=")
        if not sep or not source_id or not file:
            raise click.BadParameter(f"{value!r} is not SOURCE_ID=FILE", param_hint="--source-text")
        path = Path(file)
        if "\x00" in file:
            raise click.BadParameter(f"{file!r} holds a NUL byte", param_hint="--source-text")
        if not path.is_file():
            raise click.BadParameter(f"{file!r} is not a readable file", param_hint="--source-text")
        texts[source_id] = path
    return texts


def _use(package_dir: Path | None, label: str = "package") -> Path:
    """Find the package a command works on and say on stderr which one it is."""
    from nk_defections.model.locate import locate_package

    located = locate_package(package_dir)
    _say(located.describe(label), err=True)
    return located.root


@contextmanager
def _progress() -> Iterator[None]:
    """A progress bar on stderr for runs that last, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from nk_defections.progress import listening
    from nk_defections.report.progress import Bar

    bar = Bar(sys.stderr)
    try:
        with listening(bar):
            yield
    finally:
        bar.close()


def _report(
    report: Report, output_format: str, strict: bool, extra: dict[str, object] | None = None
) -> None:
    # The reporter takes the findings as they are made; after it, ask the report only what its
    # codes tell (``codes()``, ``is_valid()``): ``report.issues`` would make them all again.
    write_report(
        report,
        output_format,
        sys.stdout,
        sys.stderr,
        strict=strict,
        extra=extra,
    )


def exit_codes(ok: str, invalid: str | None = None) -> str:
    """The epilog of a command's help: every exit code it can give, what 2 and 3 mean said once."""
    lines = [
        "Exit codes:",
        f"  0  {ok}",
        *([f"  1  {invalid}"] if invalid else []),
        "  2  usage error, or an input or package that cannot be read",
        "  3  a bug in nk-defections (please report it)",
    ]
    return "\b\n" + "\n".join(lines)  # \b: click keeps the lines as they are


#: The --format option of every command that reports findings.
FORMAT = click.Choice(list(REPORTERS))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nk-defections")
def cli() -> None:
    """nk-defections: validate, merge and release the North Korean elite defections dataset."""


@cli.command(
    epilog=exit_codes("valid (warnings allowed unless --strict)", "invalid: the data has errors")
)
@click.argument("paths", nargs=-1, type=PathArgument(path_type=Path))
@click.option(
    "--package",
    "package_dir",
    type=PathArgument(path_type=Path),
    help=f"The package to check against: a folder or a release .zip ({DEFAULT_PACKAGE}).",
)
@click.option(
    "--source-text",
    "source_text",
    multiple=True,
    metavar="SOURCE_ID=FILE",
    help="A text of a source: checks its sha256, paragraph count and every claim's original_text.",
)
@click.option(
    "--format",
    "output_format",
    type=FORMAT,
    default="text",
    show_default=True,
)
@click.option("--strict", is_flag=True, help="Warnings make the data invalid too.")
@click.option(
    "--frictionless/--no-frictionless",
    "run_frictionless",
    default=False,
    show_default=True,
    help="Also run frictionless over the whole package, as a second opinion (our own checks cover what it "
    "checks on rows, and more; it costs more than they do). `build` runs it by default.",
)
def validate(
    paths: tuple[Path, ...],
    package_dir: Path | None,
    source_text: tuple[str, ...],
    output_format: str,
    strict: bool,
    run_frictionless: bool,
) -> None:
    """Validate the whole package, or contributed files (JSON, JSON Lines, <resource>.csv) against it."""
    from nk_defections.check.validate import validate_package, validate_paths
    from nk_defections.findings import codes as C
    from nk_defections.read.bundle import unpacked

    texts = _source_texts(source_text)
    with unpacked(_use(package_dir)) as package_dir, _progress():
        if paths:
            report = validate_paths(paths, package=package_dir, source_texts=texts)
        else:
            report = validate_package(
                package_dir, source_texts=texts, frictionless=run_frictionless
            )
        _report(report, output_format, strict)
    if paths and C.FILE_UNREADABLE in report.codes():
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_VALID if report.is_valid(strict=strict) else EXIT_INVALID)


@cli.command("new-id", epilog=exit_codes("the ids were printed"))
@click.argument("resource")
@click.argument("contribution", nargs=-1, type=PathArgument(path_type=Path))
@click.option(
    "-n",
    "count",
    type=click.IntRange(1, 10_000),
    default=1,
    show_default=True,
    help="How many ids.",
)
@click.option(
    "--package",
    "package_dir",
    type=PathArgument(path_type=Path, file_okay=False),
    help=f"The package whose ids to avoid ({DEFAULT_PACKAGE}).",
)
def new_id(
    resource: str, contribution: tuple[Path, ...], count: int, package_dir: Path | None
) -> None:
    """Print fresh ids for RESOURCE that the package does not use yet.

    Name your draft CONTRIBUTION files too, and their ids are avoided as well.
    """
    from nk_defections.write.ids import UnknownResource, new_ids

    try:
        found = new_ids(resource, count, package=_use(package_dir), drafts=contribution)
    except UnknownResource as exc:
        raise click.BadParameter(str(exc), param_hint="RESOURCE") from exc
    for issue in found.unread:
        _say(f"warning: {issue.location()}: {issue.message}; ids in it were not avoided", err=True)
    for identifier in found.ids:
        click.echo(identifier)


@cli.command(
    epilog=exit_codes(
        "added (with --dry-run: would be added)",
        "refused: the contribution has errors; nothing was added",
    )
)
@click.argument("paths", nargs=-1, required=True, type=PathArgument(path_type=Path))
@click.option(
    "--package",
    "package_dir",
    type=PathArgument(path_type=Path, file_okay=False),
    help=f"The package to merge into ({DEFAULT_PACKAGE}).",
)
@click.option(
    "--source-text",
    "source_text",
    multiple=True,
    metavar="SOURCE_ID=FILE",
    help="A text of a source: checks its sha256, paragraph count and every claim's original_text.",
)
@click.option(
    "--dry-run", is_flag=True, help="Validate and print what would be added; change nothing."
)
@click.option("--strict", is_flag=True, help="Refuse on warnings too.")
@click.option(
    "--format",
    "output_format",
    type=FORMAT,
    default="text",
    show_default=True,
)
def add(
    paths: tuple[Path, ...],
    package_dir: Path | None,
    source_text: tuple[str, ...],
    dry_run: bool,
    strict: bool,
    output_format: str,
) -> None:
    """Validate contributed files, then merge them into data/ in canonical order, all or nothing.

    Any error refuses the whole contribution and leaves data/ byte for byte as it was.
    """
    from nk_defections.findings import codes as C
    from nk_defections.write.canonical import ReadOnlyPackage
    from nk_defections.write.journal import WriteError
    from nk_defections.write.merge import add_contribution

    texts = _source_texts(source_text)
    package_dir = _use(package_dir)
    try:
        result = add_contribution(
            paths, package=package_dir, source_texts=texts, dry_run=dry_run, strict=strict
        )
    except (ReadOnlyPackage, WriteError) as exc:
        _fail(exc, EXIT_USAGE)
    if result.recovered:
        click.echo(f"note: an interrupted merge was found and {result.recovered} first", err=True)
    if output_format == "json":
        extra = {
            "added": {t: len(ids) for t, ids in result.added.items()},
            "amended": {t: len(ids) for t, ids in result.amended.items()},
            "retired": result.retired,
            "dry_run": dry_run,
            "merged": bool(result.written) and not dry_run,
        }
        _report(result.report, output_format, strict, extra)
    else:
        if result.report.codes():
            _report(result.report, output_format, strict)
        would = "would " if dry_run else ""
        for verb, changes in (("add", result.added), ("amend", result.amended)):
            for table, ids in changes.items():
                shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
                done = verb if dry_run else f"{verb}ed"
                _say(f"{table}: {would}{done} {len(ids)} ({shown})")
        for old, new in result.retired.items():
            done = ("merge" if new else "retire") if dry_run else ("merged" if new else "retired")
            _say(f"{would}{done} {old}" + (f" into {new}" if new else ""))
        if result.refused:
            click.echo("refused: nothing was added; data/ is unchanged", err=True)
        elif not result.written:
            click.echo("nothing to add", err=True)
    if result.refused:
        unreadable = C.FILE_UNREADABLE in result.report.codes()
        sys.exit(EXIT_USAGE if unreadable else EXIT_INVALID)
    sys.exit(EXIT_VALID)


@cli.command(
    epilog=exit_codes(
        "canonical, or now rewritten", "--check found a file to rewrite, or a table cannot be read"
    )
)
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing: print a diff of every file that is not canonical, and exit 1 if any is not.",
)
@click.option(
    "--package",
    "package_dir",
    type=PathArgument(path_type=Path, file_okay=False),
    help=f"The package to put in order ({DEFAULT_PACKAGE}).",
)
def fmt(check: bool, package_dir: Path | None) -> None:
    """Rewrite data/ in canonical form: columns in descriptor order, rows sorted by id, LF line ends."""
    from nk_defections.report.text import iter_lines
    from nk_defections.write.canonical import ReadOnlyPackage, format_package
    from nk_defections.write.journal import WriteError

    package_dir = _use(package_dir)
    try:
        result = format_package(package_dir, check=check)
    except (ReadOnlyPackage, WriteError) as exc:
        _fail(exc, EXIT_USAGE)
    if result.recovered:
        click.echo(f"note: an interrupted merge was found and {result.recovered} first", err=True)
    if result.issues:
        for line in iter_lines(Report(result.issues)):
            click.echo(line)  # escaped by the text report
        click.echo("cannot put the tables in order (see above): nothing was rewritten", err=True)
        sys.exit(EXIT_INVALID)
    for name, diff in result.diffs.items():
        if check:  # line by line, so that the diff keeps its lines and a cell's controls show
            for line in diff.splitlines():
                _say(line)
        else:
            _say(f"reformatted {name}")
    sys.exit(EXIT_INVALID if check and result.diffs else EXIT_VALID)


@cli.command(
    epilog=exit_codes(
        "built",
        "the package has errors, its version is not bumped enough, or --out holds another release of this version",
    )
)
@click.option(
    "--out",
    type=PathArgument(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Where nk-defections-<version>/ and its zip are written.",
)
@click.option(
    "--package",
    "package_dir",
    type=PathArgument(path_type=Path, file_okay=False),
    help=f"The package to release ({DEFAULT_PACKAGE}).",
)
@click.option(
    "--previous",
    type=PathArgument(exists=True, path_type=Path),
    help="The previous release (folder or .zip): fail unless the version moved as far as the changes since then require.",
)
@click.option(
    "--no-frictionless",
    is_flag=True,
    help="Skip the frictionless pass of the validation (our own checks still run).",
)
def build(
    out: Path, package_dir: Path | None, previous: Path | None, no_frictionless: bool
) -> None:
    """Validate, then write the release; byte-identical on rebuild.

    The release: CSV, JSON and Parquet per table, a SQLite database, datapackage.json with bytes
    and sha256 per file, CODEBOOK.md, a timeline figure, a README, SHA256SUMS and a zip.
    """
    from nk_defections.check.integrity import ReleaseExists
    from nk_defections.release.build import (
        MissingDependency,
        ReleaseRefused,
        UnsafeCell,
        build_release,
    )
    from nk_defections.release.changes import VersionNotBumped
    from nk_defections.release.changes import iter_text as diff_text
    from nk_defections.release.database import DatabaseError

    package_dir = _use(package_dir)
    if previous is not None:
        previous = _use(previous, "previous")
    try:
        release = build_release(
            package_dir, out, previous=previous, frictionless=not no_frictionless
        )
    except ReleaseRefused as exc:
        _report(exc.report, "text", False)
        _fail(exc, EXIT_INVALID)
    except VersionNotBumped as exc:
        for line in diff_text(exc.diff):
            click.echo(line)  # escaped by diff_text
        _fail(exc, EXIT_INVALID)
    except (MissingDependency, DatabaseError, ReleaseExists, UnsafeCell) as exc:
        _fail(exc, EXIT_INVALID)
    _say(str(release.folder))
    _say(f"{release.archive}  sha256:{release.archive_sha256()}")


@cli.command(epilog=exit_codes("compared (the differences, or none, are printed)"))
@click.argument("old", type=PathArgument(exists=True, path_type=Path))
@click.argument("new", type=PathArgument(exists=True, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def diff(old: Path, new: Path, output_format: str) -> None:
    """Compare two packages or releases (folders or .zip) record by record.

    Added, removed, and changed records with the fields that changed, schema changes, and the
    version bump they need.
    """
    import json

    from nk_defections.read.bundle import open_bundle
    from nk_defections.release.changes import diff_packages, iter_text

    result = diff_packages(open_bundle(_use(old, "old")), open_bundle(_use(new, "new")))
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in iter_text(result):
            click.echo(line)  # escaped by iter_text


@cli.command(
    epilog=exit_codes(
        "stopped", "the site cannot be served (the port is taken, Datasette is missing)"
    )
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8001,
    show_default=True,
    help="The port to listen on, on 127.0.0.1 (this machine only).",
)
@click.option(
    "--package",
    "package_dir",
    type=PathArgument(path_type=Path, file_okay=False),
    help="The package (default: the nearest datapackage.json).",
)
@click.option(
    "--dist",
    type=PathArgument(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Where releases are built: the release of the package's version is served if it holds the current data.",
)
def serve(port: int, package_dir: Path | None, dist: Path) -> None:
    """Browse the data in Datasette on 127.0.0.1.

    The release's SQLite database (built from the package when there is no current release),
    with every description, facets, full-text search and the first questions as canned queries.
    Ctrl-C stops it.
    """
    from nk_defections.release.database import DatabaseError, MissingDependency
    from nk_defections.release.site import HOST, SiteError, check_port, open_site
    from nk_defections.release.site import serve as serve_site

    try:
        check_port(port)  # before building anything
        with open_site(package_dir, dist) as site:
            _say(f"serving {site.database}: {site.origin}", err=True)
            click.echo(f"at http://{HOST}:{port}/ (Ctrl-C stops it)", err=True)
            serve_site(site, port=port)
    except (SiteError, DatabaseError, MissingDependency) as exc:
        _fail(exc, EXIT_INVALID)
    click.echo("stopped", err=True)


def main() -> None:
    """Entry point: run the CLI; a fault in our own code is one line and exit 3, never a traceback.

    The input's faults and the environment's are not ours: a package that cannot be used
    (:class:`~nk_defections.model.package.PackageError`) and a file that cannot be read or
    written (any :class:`OSError`: a permission, a full disk, a link loop, a file refused by
    :mod:`nk_defections.model.limits`) end the command with one line and exit 2, wherever
    they arise. Only what is left is a bug: exit 3.
    """
    from nk_defections.model.package import PackageError

    try:
        cli.main(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        _reader_gone()
    except PackageError as exc:
        _fail(exc, EXIT_USAGE)
    except OSError as exc:
        _fail(_os_error(exc), EXIT_USAGE)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the one place a bug becomes a message
        _say(
            f"internal error in nk-defections ({type(exc).__name__}: {exc}); please report it",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


def _os_error(exc: OSError) -> str:
    """An OSError in one line: the file(s) it names, then what the system said."""
    files = [os.fsdecode(f) for f in (exc.filename, exc.filename2) if f is not None]
    reason = exc.strerror or str(exc)
    return f"{' -> '.join(files)}: {reason}" if files else reason


def _reader_gone() -> None:
    # The reader of the output went away (a pipe to `head`): as the Python documentation's
    # recipe says, point stdout at devnull so that the flush at exit does not fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(130)


def run() -> None:
    """The ``nk-defections`` command: :func:`main`, with its output flushed before the exit."""
    import gc

    # The objects of the modules loaded so far live as long as the process: the collector
    # need not look at them again.
    gc.freeze()
    try:
        main()
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _reader_gone()
