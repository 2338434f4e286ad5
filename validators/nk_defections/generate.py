"""Regenerates the derived files of a checkout: ``schemas/`` and ``docs/rules.md``.

Run ``python -m nk_defections.generate`` (or ``make generate``) after changing the descriptor or a
rule; the tests fail while the committed files differ from what this writes.
"""

from __future__ import annotations

from nk_defections.findings.issues import RULES


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
    """Write schemas/ and docs/rules.md from the package in the current checkout."""
    from nk_defections.model.package import load_package_descriptor
    from nk_defections.model.schemas import write_schemas

    package = load_package_descriptor()
    for path in write_schemas(package, package.root / "schemas"):
        print(path.relative_to(package.root))
    docs = package.root / "docs" / "rules.md"
    docs.parent.mkdir(exist_ok=True)
    docs.write_text(render_rules_markdown(), encoding="utf-8")
    print(docs.relative_to(package.root))


if __name__ == "__main__":  # pragma: no cover
    main()
