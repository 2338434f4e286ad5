"""Which data package a command or a loader works on, and why.

``--package DIR`` (``path=`` in Python) where given; else the nearest ``datapackage.json`` at or
above the current directory that is this dataset's (its ``name`` is ``nk-defections``: a
checkout or a release folder), passing over those of other projects; else the copy installed
with the Python package. A package given explicitly that is another project's is refused with
a message that says how to choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nk_defections.model.limits import MAX_DESCRIPTOR_BYTES, read_file
from nk_defections.model.package import PackageError, parse_descriptor
from nk_defections.model.resources import is_installed_copy, package_root

#: The ``name`` of this dataset's descriptor, in a checkout and in a release alike.
NAME = "nk-defections"
DESCRIPTOR = "datapackage.json"
#: What a package is, as the ``package:`` line says.
CHECKOUT, RELEASE, INSTALLED = "checkout", "release", "installed copy"


class WrongPackage(PackageError):
    """A package given explicitly is another project's, not nk-defections."""


@dataclass(frozen=True)
class Located:
    """The package a command works on.

    Attributes
    ----------
    root
        The folder holding ``datapackage.json``, or a release zip.
    kind
        ``checkout``, ``release`` or ``installed copy``.
    fallback
        True when nothing at or above the current directory was this dataset's, so the copy
        the Python package carries (in an editable install, its checkout) was taken.
    passed_over
        The descriptors of other projects met on the way up, with their names.
    """

    root: Path
    kind: str
    fallback: bool = False
    passed_over: tuple[tuple[Path, str | None], ...] = ()

    def describe(self, label: str = "package") -> str:
        """The one line a command prints on stderr.

        Examples
        --------
        >>> Located(Path("/data/nk-defections-0.1.0"), RELEASE).describe()
        'package: /data/nk-defections-0.1.0 (release)'
        """
        kind = self.kind
        if self.fallback:
            if self.kind != INSTALLED:
                kind += " nk_defections is installed from"
            kind += f": no {NAME} package at or above the current directory"
        for path, name in self.passed_over[:1]:
            kind += f"; {path} was passed over: it is {_whose(name)}"
        return f"{label}: {self.root} ({kind})"


def _whose(name: str | None) -> str:
    return f"another package's ({name!r})" if name else "another package's (it has no name)"


def read_name(path: Path) -> tuple[bool, str | None, dict[str, Any] | None]:
    """Read a descriptor's ``name``: (readable, name, descriptor).

    A file that is not a JSON object is unreadable: whose it is cannot be told, so it is not
    passed over (its error is then reported where it is used).
    """
    try:
        descriptor = parse_descriptor(read_file(path, limit=MAX_DESCRIPTOR_BYTES), path)
    except (OSError, PackageError):
        return False, None, None
    name = descriptor.get("name")
    return True, name if isinstance(name, str) else None, descriptor


def check_name(descriptor: dict[str, Any], where: Path | str) -> None:
    """Refuse a descriptor that is not this dataset's.

    Raises
    ------
    WrongPackage
        With a message that says why and how to choose another package.

    Examples
    --------
    >>> try:
    ...     check_name({"name": "weather"}, "elsewhere")
    ... except WrongPackage as exc:
    ...     print(str(exc).split(".")[0])
    elsewhere holds another package ('weather'), not nk-defections
    """
    name = descriptor.get("name")
    if name == NAME:
        return
    whose = f"another package ({name!r})" if isinstance(name, str) else "a package with no name"
    raise WrongPackage(
        f"{where} holds {whose}, not {NAME}. Give --package (in Python, path=) an {NAME} "
        "checkout, release folder or release zip, or leave it out to use the nearest one at or "
        "above the current directory, else the copy installed with nk_defections"
    )


def _kind(root: Path, descriptor: dict[str, Any] | None) -> str:
    from nk_defections.model.package import RELEASE_FILES

    if is_installed_copy(root):
        return INSTALLED
    if descriptor is not None and RELEASE_FILES in descriptor:
        return RELEASE
    return CHECKOUT


def locate_package(path: Path | str | None = None) -> Located:
    """Find the package to work on, as the module docstring says.

    Parameters
    ----------
    path
        A package folder, its ``datapackage.json``, or a release zip; ``None`` looks at and above
        the current directory, then takes the installed copy.

    Raises
    ------
    WrongPackage
        If *path* holds another project's descriptor.

    Examples
    --------
    >>> located = locate_package()
    >>> located.kind in (CHECKOUT, RELEASE, INSTALLED)
    True
    """
    if path is not None:
        given = Path(path)
        if given.suffix.lower() == ".zip":
            return Located(given, RELEASE)  # its descriptor's name is checked as it is opened
        folder = given.parent if given.name == DESCRIPTOR else given
        if folder.exists() and not folder.is_dir():
            raise PackageError(
                f"{given} is a file where a package is expected: give a folder holding "
                f"{DESCRIPTOR} (a checkout or a release folder), the {DESCRIPTOR} itself, or a "
                "release .zip"
            )
        readable, _, descriptor = read_name(folder / DESCRIPTOR)
        if readable and descriptor is not None:
            check_name(descriptor, folder)
        return Located(folder, _kind(folder, descriptor))
    passed_over: list[tuple[Path, str | None]] = []
    here = Path.cwd()
    for folder in (here, *here.parents):
        file = folder / DESCRIPTOR
        if not file.is_file():
            continue
        readable, name, descriptor = read_name(file)
        if readable and name != NAME:
            passed_over.append((file, name))
            continue
        return Located(folder, _kind(folder, descriptor), passed_over=tuple(passed_over))
    root = package_root()
    _, _, descriptor = read_name(root / DESCRIPTOR)
    return Located(root, _kind(root, descriptor), fallback=True, passed_over=tuple(passed_over))
