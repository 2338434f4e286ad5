"""A data package wherever it is stored: a checkout, a release folder, or a release zip.

A release describes each table with more fields after every date field, the derived
``<field>_min``, ``<field>_max`` and ``<field>_kind``. :attr:`Bundle.package` gives the tables as the project
declares them (those derived fields left out), so every reader sees one model, and
:meth:`Bundle.stored_bounds` tells whether a table's file carries the bounds already.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from nk_defections.model.limits import (
    MAX_DESCRIPTOR_BYTES,
    MAX_FILE_BYTES,
    MAX_ZIP_RATIO,
    FileRefused,
    check_regular,
    read_chunks,
    read_file,
    size_text,
)
from nk_defections.model.locate import check_name
from nk_defections.model.package import (
    HASH_ALGORITHMS,
    Package,
    PackageError,
    check_structure,
    find_root,
    load_package_descriptor,
    parse_descriptor,
)
from nk_defections.read.csv import structure_fault

DESCRIPTOR = "datapackage.json"


def bound_names(column: str) -> tuple[str, str]:
    """The derived bound fields of a date field.

    Examples
    --------
    >>> bound_names("birth_date")
    ('birth_date_min', 'birth_date_max')
    """
    return f"{column}_min", f"{column}_max"


def kind_name(column: str) -> str:
    """The derived kind field of a date field (see :func:`nk_defections.model.dates.date_kind`).

    Examples
    --------
    >>> kind_name("birth_date")
    'birth_date_kind'
    """
    return f"{column}_kind"


def is_table(resource: dict[str, Any]) -> bool:
    """Tell whether a resource is one of the package's CSV tables (not a derived file)."""
    return resource.get("type", "table") == "table" and str(resource.get("path", "")).endswith(
        ".csv"
    )


def _source_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as the project declares it: without the derived date bounds."""
    fields = resource["schema"]["fields"]
    derived: set[str] = set()
    for i, field in enumerate(fields):
        low, high = bound_names(field["name"])
        following = [f.get("name") for f in fields[i + 1 : i + 3]]
        kinds = [f.get("type") for f in fields[i + 1 : i + 3]]
        if following == [low, high] and kinds == ["date", "date"]:
            derived.update(following)
            # A release carries the kind after the bounds (one built before the kind did not).
            if i + 3 < len(fields) and fields[i + 3].get("name") == kind_name(field["name"]):
                derived.add(kind_name(field["name"]))
    schema = {**resource["schema"], "fields": [f for f in fields if f["name"] not in derived]}
    return {**resource, "schema": schema}


def source_view(descriptor: dict[str, Any]) -> dict[str, Any]:
    """The descriptor with only the CSV tables, each with only its declared fields."""
    resources = [_source_resource(r) for r in descriptor.get("resources", []) if is_table(r)]
    return {**descriptor, "resources": resources}


def _check_member(path: str) -> str:
    """Refuse a member path that is remote, absolute or climbs out of the release."""
    pure = PurePosixPath(path)
    if "://" in path or pure.is_absolute() or ".." in pure.parts or "\\" in path or not pure.parts:
        raise PackageError(f"path {path!r} is not a relative path inside the release")
    return pure.as_posix()


def _hasher(expected: str) -> Any:
    """A hash object for the Data Package ``hash`` *expected* (``sha256:…``, or bare MD5)."""
    algorithm, _, _ = expected.rpartition(":")
    if (algorithm or "md5") not in HASH_ALGORITHMS:
        raise PackageError(
            f"unknown hash algorithm {algorithm!r}; one of: {', '.join(HASH_ALGORITHMS)}"
        )
    return hashlib.new(algorithm or "md5")


def _notation(hasher: Any, expected: str) -> str:
    algorithm = expected.rpartition(":")[0]
    return f"{algorithm}:{hasher.hexdigest()}" if algorithm else hasher.hexdigest()


def hash_of(data: bytes, expected: str) -> str:
    """The hash of *data* in the notation of the Data Package ``hash`` *expected*.

    ``sha256:<hex>`` gives ``sha256:<hex>``; a bare hex digest is MD5, and gives one.

    Examples
    --------
    >>> hash_of(b"", "sha256:…")[:15]
    'sha256:e3b0c442'
    """
    hasher = _hasher(expected)
    hasher.update(data)
    return _notation(hasher, expected)


def _mismatch(expected: str, what: str) -> PackageError:
    algorithm = expected.rpartition(":")[0] or "md5"
    return PackageError(
        f"{what} does not match its {algorithm} hash in the descriptor: it has been altered"
    )


def check_hash(data: bytes, expected: str, what: str) -> None:
    """Raise if *data* does not have the Data Package ``hash`` (``sha256:…``, or bare MD5)."""
    try:
        actual = hash_of(data, expected)
    except PackageError as exc:
        raise PackageError(f"{what}: {exc}") from exc
    if actual.lower() != expected.lower():
        raise _mismatch(expected, what)


def _read_member(archive: zipfile.ZipFile, name: str, expected: str | None, what: str) -> bytes:
    """A member of *archive*, read within the limits and checked against *expected* as it streams."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise PackageError(f"{what}: the zip has no member {name}") from None
    if info.file_size > MAX_FILE_BYTES:
        raise PackageError(
            f"{what} inflates to {info.file_size:,} bytes, more than the limit of "
            f"{size_text(MAX_FILE_BYTES)}"
        )
    if info.file_size > 2**20 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        raise PackageError(
            f"{what} inflates {info.file_size // max(info.compress_size, 1):,} times, more than "
            f"the limit of {MAX_ZIP_RATIO}: it is not read"
        )
    try:
        hasher = _hasher(expected) if expected is not None else None
    except PackageError as exc:
        raise PackageError(f"{what}: {exc}") from exc

    def chunks() -> Iterator[bytes]:
        # The member yields no more than the size its header declares (checked above).
        with archive.open(info) as member:
            while chunk := member.read(2**20):
                if hasher is not None:
                    hasher.update(chunk)
                yield chunk

    try:
        data = read_chunks(chunks(), limit=MAX_FILE_BYTES, what=what)
    except FileRefused as exc:
        raise PackageError(f"{what}: {exc.strerror}") from exc
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
        raise PackageError(f"{what} cannot be read from the zip: {exc}") from exc
    if hasher is not None and expected is not None:
        if _notation(hasher, expected).lower() != expected.lower():
            raise _mismatch(expected, what)
    return data


@dataclass(frozen=True)
class Bundle:
    """A package's descriptor and a way to read its files, wherever they are stored.

    Attributes
    ----------
    location
        The folder, or the zip file.
    descriptor
        The descriptor as stored (a release's describes its derived files too).
    member_prefix
        Inside a zip, the folder that holds ``datapackage.json`` (``nk-defections-0.1.0/``).
    """

    location: Path
    descriptor: dict[str, Any]
    member_prefix: str | None = None

    @property
    def is_zip(self) -> bool:
        """Whether the files are read from a zip."""
        return self.member_prefix is not None

    @cached_property
    def package(self) -> Package:
        """The tables as the project declares them (a release's derived bounds left out)."""
        return Package(self.location, source_view(self.descriptor))

    @property
    def version(self) -> str:
        """The package version."""
        return str(self.descriptor.get("version", ""))

    def read_bytes(self, path: str, *, expected_hash: str | None = None) -> bytes:
        """Read one file of the package by its descriptor path, checked against *expected_hash*.

        Within the limits of :mod:`nk_defections.model.limits`, a zip member's hash checked
        as it streams.
        """
        relative = _check_member(path)
        if self.member_prefix is None:
            data = read_file(self.location / relative)
            if expected_hash is not None:
                check_hash(data, expected_hash, path)
            return data
        name = self.member_prefix + relative
        try:
            with zipfile.ZipFile(self.location) as archive:
                return _read_member(archive, name, expected_hash, f"{self.location.name}:{name}")
        except (OSError, zipfile.BadZipFile) as exc:
            raise PackageError(f"{self.location}: not a readable zip ({exc})") from exc

    def resource(self, table: str) -> dict[str, Any]:
        """The stored resource of *table*."""
        for resource in self.descriptor["resources"]:
            if resource.get("name") == table and is_table(resource):
                return resource
        raise KeyError(
            f"{table!r} is not a table of the package; one of: {', '.join(self.package.resources)}"
        )

    def table_bytes(self, table: str) -> bytes:
        """The CSV bytes of *table*, checked against the descriptor's ``hash`` when it has one."""
        resource = self.resource(table)
        expected = str(resource["hash"]) if "hash" in resource else None
        try:
            return self.read_bytes(resource["path"], expected_hash=expected)
        except OSError as exc:  # missing, not a regular file, too large: the package is unusable
            raise PackageError(f"{resource['path']} cannot be read: {exc.strerror or exc}") from exc

    def stored_bounds(self, table: str) -> bool:
        """Whether the file of *table* carries the derived date bounds (a release does)."""
        return len(self.resource(table)["schema"]["fields"]) > len(self.package.fields(table))

    def string_frame(self, table: str, *, with_bounds: bool = False) -> pl.DataFrame:
        """The rows of *table* as strings (empty cells as null), in the declared column order."""
        columns = (
            [f["name"] for f in self.resource(table)["schema"]["fields"]] if with_bounds else None
        )
        data = self.table_bytes(table)
        fault = structure_fault(data)
        if fault is not None:  # polars would read other records than the validator does
            path = self.resource(table)["path"]
            raise PackageError(f"{path}:{fault[0]}: {fault[1]} (csv.malformed or csv.ragged-row)")
        frame = pl.read_csv(
            io.BytesIO(data),
            infer_schema=False,
            null_values=[""],
            raise_if_empty=False,
        )
        return frame.select(columns or self.package.field_names(table))


def open_bundle(path: Path | str | None = None) -> Bundle:
    """Open the package at *path*: a checkout, a release folder, or a release zip.

    Parameters
    ----------
    path
        A folder holding ``datapackage.json`` (or the file itself), or a ``.zip`` release;
        ``None`` finds the nearest nk-defections package at or above the current directory, else
        the copy installed with the Python package (:func:`nk_defections.model.locate.locate_package`).

    Examples
    --------
    >>> bundle = open_bundle()
    >>> "people" in bundle.package.resources
    True
    """
    if path is not None and Path(path).suffix.lower() == ".zip":
        return _open_zip(Path(path))
    package = load_package_descriptor(find_root(path))
    return Bundle(package.root, package.descriptor)


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """The package at *path* as a folder: itself, or a release zip's folder unpacked for a while.

    Only the members under the folder that holds the zip's ``datapackage.json`` are unpacked,
    each to a checked relative path (:func:`_check_member`), as files; the folder is removed on
    leaving the block.
    """
    if Path(path).suffix.lower() != ".zip":
        yield Path(path)
        return
    bundle = _open_zip(Path(path))
    prefix = bundle.member_prefix or ""
    with tempfile.TemporaryDirectory(prefix="nk-defections-") as temporary:
        folder = Path(temporary)
        with zipfile.ZipFile(bundle.location) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.startswith(prefix):
                    continue
                target = folder / _check_member(info.filename[len(prefix) :])
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, target.open("xb") as out:
                    shutil.copyfileobj(source, out)
        yield folder


def _open_zip(path: Path) -> Bundle:
    try:
        check_regular(path)  # a FIFO would block the open, a device never end
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise PackageError(f"{path}: not a readable zip ({reason})") from exc
    with archive:
        names = [n for n in archive.namelist() if PurePosixPath(n).name == DESCRIPTOR]
        # The release layout is one top folder; a zip of a bare package folder works too.
        names.sort(key=lambda n: (n.count("/"), n))
        if not names or names[0].count("/") > 1:
            raise PackageError(f"{path}: no datapackage.json at the top of the zip")
        member = names[0]
        where = f"{path}:{member}"
        info = archive.getinfo(member)
        if info.file_size > MAX_DESCRIPTOR_BYTES:
            raise PackageError(
                f"{where} holds {info.file_size:,} bytes, more than the limit of "
                f"{size_text(MAX_DESCRIPTOR_BYTES)}"
            )
        descriptor = parse_descriptor(_read_member(archive, member, None, where), where)
    if not isinstance(descriptor.get("resources"), list):
        raise PackageError(f"{path}:{member}: the descriptor has no list of resources")
    check_name(descriptor, path)
    check_structure(where, descriptor)
    for resource in descriptor["resources"]:
        if is_table(resource):
            _check_member(resource["path"])
    return Bundle(path, descriptor, member_prefix=member[: -len(DESCRIPTOR)])
