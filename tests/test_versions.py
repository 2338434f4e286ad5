"""The version rule (the Data Package Version recipe), on generated pairs of descriptors.

Each edit below makes one change of a class the recipe names and says the bump it needs; the
rule must find exactly that bump, and name the change.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nk_defections.model.versions import (
    Bump,
    DescriptorChange,
    descriptor_changes,
    least_version,
    records_bump,
    required_bump,
    version_bump,
)

Descriptor = dict[str, Any]
NAMES = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True)
TYPES = ["string", "integer", "number", "boolean", "date"]
WORDS = st.text(alphabet="abcdefgh ", max_size=12)

CONSTRAINTS = st.fixed_dictionaries(
    {},
    optional={
        "required": st.booleans(),
        "maxLength": st.integers(1, 100),
        "enum": st.lists(st.sampled_from("abcdef"), min_size=1, max_size=5, unique=True),
    },
)


@st.composite
def fields(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    return [
        {
            "name": name,
            "type": draw(st.sampled_from(TYPES)),
            "description": draw(WORDS),
            "constraints": draw(CONSTRAINTS),
        }
        for name in names
    ]


@st.composite
def descriptors(draw: st.DrawFn) -> Descriptor:
    tables = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    return {
        "name": "a-package",
        "id": "a-package-id",
        "title": draw(WORDS),
        "version": "1.2.3",
        "created": "2026-11-30T00:00:00Z",
        "resources": [
            {
                "name": table,
                "path": f"data/{table}.csv",
                "title": draw(WORDS),
                "schema": {"fields": draw(fields())},
            }
            for table in tables
        ],
    }


# -- one edit of each class: (what it changes, where, the bump the recipe asks) ------------------

Edit = Callable[[st.DrawFn, Descriptor], tuple[str, Bump]]


def _resource(draw: st.DrawFn, d: Descriptor) -> dict[str, Any]:
    return draw(st.sampled_from(d["resources"]))


def _field(draw: st.DrawFn, d: Descriptor) -> tuple[dict[str, Any], dict[str, Any]]:
    resource = draw(st.sampled_from([r for r in d["resources"] if r["schema"]["fields"]]))
    return resource, draw(st.sampled_from(resource["schema"]["fields"]))


def _new_name(draw: st.DrawFn, taken: list[str]) -> str:
    return draw(NAMES.filter(lambda n: n not in taken))


def add_field(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource = _resource(draw, d)
    fields = resource["schema"]["fields"]
    name = _new_name(draw, [f["name"] for f in fields])
    added = {"name": name, "type": "string", "description": "", "constraints": {}}
    fields.insert(draw(st.integers(0, len(fields))), added)
    return f"{resource['name']}.{name}", Bump.MAJOR


def remove_field(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource, field = _field(draw, d)
    resource["schema"]["fields"].remove(field)
    return f"{resource['name']}.{field['name']}", Bump.MAJOR


def rename_field(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource, field = _field(draw, d)
    old = field["name"]
    field["name"] = _new_name(draw, [f["name"] for f in resource["schema"]["fields"]])
    return f"{resource['name']}.{old}", Bump.MAJOR


def reorder_fields(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource = draw(st.sampled_from([r for r in d["resources"] if len(r["schema"]["fields"]) > 1]))
    fields = resource["schema"]["fields"]
    order = draw(st.permutations(fields).filter(lambda p: p != fields))
    resource["schema"]["fields"] = list(order)
    return resource["name"], Bump.MAJOR


def change_type(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource, field = _field(draw, d)
    field["type"] = draw(st.sampled_from([t for t in TYPES if t != field["type"]]))
    return f"{resource['name']}.{field['name']}", Bump.MAJOR


def change_format(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource, field = _field(draw, d)
    field["format"] = draw(st.sampled_from(["email", "uri", "uuid"]))
    return f"{resource['name']}.{field['name']}", Bump.MAJOR


def require(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource, field = _field(draw, d)
    was = field["constraints"].get("required", False)
    field["constraints"]["required"] = not was
    return f"{resource['name']}.{field['name']}", Bump.MINOR if was else Bump.MAJOR


def change_max_length(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource, field = _field(draw, d)
    before = field["constraints"].get("maxLength")
    after = draw(st.integers(1, 200).filter(lambda n: n != before))
    field["constraints"]["maxLength"] = after
    tighter = before is None or after < before
    return f"{resource['name']}.{field['name']}", Bump.MAJOR if tighter else Bump.MINOR


def widen_vocabulary(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource = draw(
        st.sampled_from(
            [
                r
                for r in d["resources"]
                if any("enum" in f["constraints"] for f in r["schema"]["fields"])
            ]
        )
    )
    field = draw(
        st.sampled_from([f for f in resource["schema"]["fields"] if "enum" in f["constraints"]])
    )
    field["constraints"]["enum"].append("zz")
    return f"{resource['name']}.{field['name']}", Bump.MINOR


def narrow_vocabulary(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    candidates = [
        (r, f)
        for r in d["resources"]
        for f in r["schema"]["fields"]
        if len(f["constraints"].get("enum", [])) > 1
    ]
    resource, field = draw(st.sampled_from(candidates))
    field["constraints"]["enum"].pop(draw(st.integers(0, len(field["constraints"]["enum"]) - 1)))
    return f"{resource['name']}.{field['name']}", Bump.MAJOR


def reword_field(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource, field = _field(draw, d)
    field["description"] = field.get("description", "") + " (reworded)"
    return f"{resource['name']}.{field['name']}", Bump.PATCH


def retitle_table(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource = _resource(draw, d)
    resource["title"] = resource.get("title", "") + " (retitled)"
    return resource["name"], Bump.PATCH


def move_table(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource = _resource(draw, d)
    resource["path"] = "elsewhere/" + resource["path"]
    return resource["name"], Bump.NONE


def add_table(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    name = _new_name(draw, [r["name"] for r in d["resources"]])
    d["resources"].append(
        {"name": name, "path": f"{name}.csv", "schema": {"fields": draw(fields())}}
    )
    return name, Bump.MINOR


def remove_table(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource = _resource(draw, d)
    d["resources"].remove(resource)
    return resource["name"], Bump.MAJOR


def rename_table(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    resource = _resource(draw, d)
    old = resource["name"]
    resource["name"] = _new_name(draw, [r["name"] for r in d["resources"]])
    return old, Bump.MAJOR


def rename_package(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    d[draw(st.sampled_from(["name", "id"]))] += "-renamed"
    return "package", Bump.MAJOR


def retitle_package(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    d[draw(st.sampled_from(["title", "description", "keywords"]))] = "reworded"
    return "package", Bump.PATCH


def add_metadata(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    d["update_frequency"] = draw(st.sampled_from(["daily", "monthly"]))
    return "package", Bump.MINOR


def new_version_and_date(draw: st.DrawFn, d: Descriptor) -> tuple[str, Bump]:
    d["version"], d["created"] = "9.0.0", "2031-01-01T00:00:00Z"
    return "package", Bump.NONE


EDITS: list[Edit] = [
    add_field,
    remove_field,
    rename_field,
    reorder_fields,
    change_type,
    change_format,
    require,
    change_max_length,
    widen_vocabulary,
    narrow_vocabulary,
    reword_field,
    retitle_table,
    move_table,
    add_table,
    remove_table,
    rename_table,
    rename_package,
    retitle_package,
    add_metadata,
    new_version_and_date,
]


#: Edits of the package itself, which any descriptor admits.
PACKAGE_EDITS = (add_table, rename_package, retitle_package, add_metadata, new_version_and_date)
#: Edits of one field that is there.
FIELD_EDITS = (
    remove_field,
    rename_field,
    change_type,
    change_format,
    require,
    change_max_length,
    reword_field,
)


def applicable(edit: Edit, d: Descriptor) -> bool:
    fields = [f for r in d["resources"] for f in r["schema"]["fields"]]
    if edit in PACKAGE_EDITS:
        return True
    if not d["resources"]:
        return False
    if edit in FIELD_EDITS:
        return bool(fields)
    if edit is reorder_fields:
        return any(len(r["schema"]["fields"]) > 1 for r in d["resources"])
    if edit is widen_vocabulary:
        return any("enum" in f["constraints"] for f in fields)
    if edit is narrow_vocabulary:
        return any(len(f["constraints"].get("enum", [])) > 1 for f in fields)
    return True


@st.composite
def edited(draw: st.DrawFn) -> tuple[Descriptor, Descriptor, str, str, Bump]:
    """A descriptor, a copy with one edit, the edit's name, where it is, and the bump it needs."""
    old = draw(descriptors())
    edit = draw(st.sampled_from([e for e in EDITS if applicable(e, old)]))
    new = copy.deepcopy(old)
    where, bump = edit(draw, new)
    return old, new, edit.__name__, where, bump


@given(edited())
def test_one_edit_needs_the_bump_the_recipe_names(case) -> None:
    old, new, name, where, bump = case
    assert required_bump(old, new) == bump, name
    if bump:
        assert any(
            c.bump == bump and c.where.startswith(where) for c in descriptor_changes(old, new)
        ), (name, where, descriptor_changes(old, new))


@given(descriptors())
def test_a_descriptor_needs_no_bump_from_itself(d: Descriptor) -> None:
    assert descriptor_changes(d, copy.deepcopy(d)) == []


@given(edited(), st.data())
def test_two_edits_need_no_more_than_the_larger_of_their_bumps(case, data) -> None:
    old, middle, *_ = case
    edit = data.draw(st.sampled_from([e for e in EDITS if applicable(e, middle)]))
    new = copy.deepcopy(middle)
    edit(data.draw, new)
    assert required_bump(old, new) <= max(required_bump(old, middle), required_bump(middle, new))


#: The bump that undoing an edit needs, where it is not the edit's own: what adds or loosens one
#: way removes or tightens the other.
UNDONE = {
    "add_table": Bump.MAJOR,
    "remove_table": Bump.MINOR,
    "widen_vocabulary": Bump.MAJOR,
    "narrow_vocabulary": Bump.MINOR,
}


@given(edited())
def test_what_adds_one_way_removes_the_other(case) -> None:
    old, new, name, _, bump = case
    if name in ("require", "change_max_length"):  # either way round, by the values drawn
        return
    assert required_bump(new, old) == UNDONE.get(name, bump), name


def test_the_least_version_a_bump_allows_passes_and_the_one_below_does_not() -> None:
    for bump in (Bump.PATCH, Bump.MINOR, Bump.MAJOR):
        least = least_version("1.2.3", bump)
        assert version_bump("1.2.3", least) == bump
    assert least_version("1.2.3", Bump.NONE) == "1.2.3"


def test_records_removed_outweigh_added_and_changed() -> None:
    assert records_bump() == Bump.NONE
    assert records_bump(changed=3) == Bump.PATCH
    assert records_bump(added=1, changed=3) == Bump.MINOR
    assert records_bump(removed=1, added=1) == Bump.MAJOR


def test_a_change_names_where_it_is() -> None:
    assert DescriptorChange(Bump.MAJOR, None, None, "name changed").where == "package"
    assert DescriptorChange(Bump.PATCH, "people", None, "title changed").where == "people"
    assert DescriptorChange(Bump.MAJOR, "people", "name", "field added").where == "people.name"
