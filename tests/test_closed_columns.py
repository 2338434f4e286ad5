"""A closed column's text checks run only on the values its pattern or vocabulary refuses:
that is sound only if every value it admits passes them. Checked here by generating values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nk_defections.check.rules.fields import _clean_text, _pattern_closed, closed
from nk_defections.model.dates import DATE_PATTERN, PERIOD_PATTERN
from nk_defections.model.package import load_package_descriptor

PACKAGE = load_package_descriptor()
CLOSED = [
    (table, field)
    for table in PACKAGE.resources
    for field in PACKAGE.fields(table)
    if closed(field)
]


#: Constrained columns whose pattern admits what the text checks look for: an address may hold
#: "=", "+" and "@" (a query, a login), so a url's text is checked like any free text.
OPEN = [("sources", "url")]


def test_every_constrained_string_column_is_closed():
    # The shipped descriptor's patterns and vocabularies are all of the closed kind but OPEN's:
    # if another stops being so, its text is checked the slow way (still correct), and this says so.
    constrained = [
        (t, f["name"])
        for t in PACKAGE.resources
        for f in PACKAGE.fields(t)
        if f["type"] == "string"
        and ({"pattern", "enum"} & set(f.get("constraints", {})))
        and (t, f["name"]) not in OPEN
    ]
    assert constrained == [(t, f["name"]) for t, f in CLOSED]


@pytest.mark.parametrize(("table", "field"), CLOSED, ids=[f"{t}.{f['name']}" for t, f in CLOSED])
@settings(max_examples=40)
@given(data=st.data())
def test_values_a_closed_column_admits_pass_the_text_checks(table, field, data):
    cons = field["constraints"]
    if "enum" in cons:
        value = data.draw(st.sampled_from(cons["enum"]))
    else:
        value = data.draw(st.from_regex(f"^(?:{cons['pattern']})$", fullmatch=True))
    assert _clean_text(value), (table, field["name"], value)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("per-[0-9a-hjkmnp-tv-z]{8}", True),
        ("\\*|[a-z][a-z0-9_]*", True),
        ("[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", True),
        ("[a-z ]+", False),  # a space: edge white space
        ("-?[a-z]+", False),  # may begin with "-": a formula prefix
        ("(?:x)?-[a-z]", False),  # the same, behind an optional group
        ("[a-z]*-[a-z]", False),  # and behind a repeat that may be empty
        ("a.b", False),  # any character
        ("[^a]+", False),  # a negated class
        ("\\s+", False),
        ("[=a-z]+", False),  # "=" begins a formula
        ("[\\u00e0-\\u00ff]+", False),  # beyond ASCII
        ("x+", True),
        ("(", False),  # not a pattern at all
    ],
)
def test_closure_is_decided_conservatively(pattern, expected):
    assert closed({"type": "string", "constraints": {"pattern": pattern}}) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["a", "b"], True), (["a", " b"], False), (["=x"], False), ([""], False)],
)
def test_an_enum_is_closed_when_its_words_are_clean(values, expected):
    assert closed({"type": "string", "constraints": {"enum": values}}) is expected


@pytest.mark.parametrize("pattern", [DATE_PATTERN, PERIOD_PATTERN], ids=["date", "period"])
def test_the_date_patterns_known_closed_are_closed_by_their_parse(pattern):
    # closed() takes the two EDTF patterns as closed without parsing them; the parse agrees.
    assert _pattern_closed(pattern)
