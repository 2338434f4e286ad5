"""Fresh ids for new records: unused in the package and in the contributor's draft files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nk_defections.findings.issues import Issue
from nk_defections.model.ids import mint
from nk_defections.model.package import REDIRECTS, load_package_descriptor
from nk_defections.read.contribution import read_contribution, resource_hint
from nk_defections.read.package import read_package_frames


class UnknownResource(ValueError):
    """The resource named is not in the package; the message lists those that are."""


@dataclass
class NewIds:
    """Fresh ids, and the draft files whose ids could not all be read (so were not avoided)."""

    ids: list[str]
    unread: list[Issue] = field(default_factory=list)


def new_ids(
    resource: str,
    count: int = 1,
    *,
    package: Path | str | None = None,
    drafts: Iterable[Path | str] = (),
) -> NewIds:
    """Mint *count* ids for *resource* that neither the package nor the *drafts* use.

    Examples
    --------
    >>> found = new_ids("people", 2)
    >>> [i[:4] for i in found.ids], found.unread
    (['per-', 'per-'], [])
    """
    pkg = load_package_descriptor(package)
    if resource not in pkg.resources:
        raise UnknownResource(f"{resource!r} is not a resource{resource_hint(resource, pkg)}")
    frames, _ = read_package_frames(pkg)
    taken = set(frames[resource]["id"].drop_nulls().to_list())
    if REDIRECTS in frames:  # a merged or retired id is never minted again
        taken |= set(frames[REDIRECTS]["old_id"].drop_nulls().to_list())
    unread: list[Issue] = []
    drafts = list(drafts)
    if drafts:
        draft = read_contribution(pkg, drafts)
        taken |= draft.ids()
        unread = [i for i in draft.issues if i.code.startswith(("file.", "json.syntax", "csv."))]
    return NewIds(mint(pkg.prefixes[resource], count, taken=taken), unread)
