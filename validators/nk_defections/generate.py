"""Regenerates the derived files of a checkout.

They are ``schemas/``, ``docs/rules.md`` and the version and release date in ``CITATION.cff``.

Run ``python -m nk_defections.generate`` (or ``make generate``) after changing the descriptor or a
rule; the tests fail while the committed files differ from what this writes. The release's
version and date live in ``datapackage.json`` alone (``version``, and ``created``: the day it was
released); ``CITATION.cff`` follows them.
"""

from __future__ import annotations

import re
from typing import Any

from nk_defections.findings.issues import RULES

CITATION = "CITATION.cff"


def render_citation(text: str, descriptor: dict[str, Any]) -> str:
    r"""*text* (a CITATION.cff) with its ``version`` and ``date-released`` read off *descriptor*.

    Examples
    --------
    >>> descriptor = {"version": "1.2.0", "created": "2027-03-04T00:00:00Z"}
    >>> print(render_citation("title: x\nversion: 1.1.0\ndate-released: 2027-01-01\n", descriptor))
    title: x
    version: "1.2.0"
    date-released: 2027-03-04
    <BLANKLINE>
    """
    values = {
        "version": f'"{descriptor["version"]}"',
        "date-released": str(descriptor["created"])[:10],
    }
    for key, value in values.items():
        text, found = re.subn(rf"^{key}:.*$", f"{key}: {value}", text, flags=re.MULTILINE)
        if found != 1:
            raise ValueError(f"{CITATION} needs one top-level `{key}:` line, it has {found}")
    return text


def render_rules_markdown() -> str:
    """The rule reference, generated from the registry."""
    from nk_defections.findings import codes  # noqa: F401 - registers every code

    lines = [
        "# Validation rules",
        "",
        "Generated from the rule registry by `python -m nk_defections.generate`; do not edit by hand.",
        "Every finding carries one of these codes, a severity, a message naming the offending value,",
        "and its location: file, row (physical CSV line, or JSON Lines line) or RFC 6901 pointer, and field.",
        "",
        "| code | severity | what it means |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{r.code}` | {r.severity} | {r.doc} |"
        for r in sorted(RULES.values(), key=lambda r: r.code)
    ]
    return "\n".join(lines) + "\n"


def main() -> None:  # pragma: no cover - maintainer tool
    """Write schemas/, docs/rules.md and CITATION.cff's version from the package of this checkout."""
    from nk_defections.model.package import load_package_descriptor
    from nk_defections.model.schemas import write_schemas

    package = load_package_descriptor()
    for path in write_schemas(package, package.root / "schemas"):
        print(path.relative_to(package.root))
    docs = package.root / "docs" / "rules.md"
    docs.parent.mkdir(exist_ok=True)
    docs.write_text(render_rules_markdown(), encoding="utf-8")
    print(docs.relative_to(package.root))
    citation = package.root / CITATION
    text = citation.read_text(encoding="utf-8")
    citation.write_text(render_citation(text, package.descriptor), encoding="utf-8")
    print(citation.relative_to(package.root))


if __name__ == "__main__":  # pragma: no cover
    main()
