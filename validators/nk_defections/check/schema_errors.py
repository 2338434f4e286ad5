"""Turns jsonschema errors into Issues that name the field itself, with a precise pointer."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import ValidationError

from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue, escape_pointer
from nk_defections.model.dates import date_error
from nk_defections.model.package import Package

_KEYWORD_CODES = {
    "required": C.SCHEMA_REQUIRED,
    "type": C.SCHEMA_TYPE,
    "enum": C.SCHEMA_ENUM,
    "pattern": C.SCHEMA_PATTERN,
    "minLength": C.SCHEMA_MIN_LENGTH,
    "maxLength": C.SCHEMA_MAX_LENGTH,
    "minimum": C.SCHEMA_MINIMUM,
    "maximum": C.SCHEMA_MAXIMUM,
    "format": C.SCHEMA_FORMAT,
    "additionalProperties": C.SCHEMA_ADDITIONAL_PROPERTIES,
}


def table_at(package: Package, table: str, path: list[Any]) -> tuple[str, str | None]:
    """The table and field a path inside a nested record of *table* lands on."""
    field = None
    i = 0
    while i < len(path):
        part = path[i]
        nested = package.children(table)
        if (
            isinstance(part, str)
            and part in nested
            and i + 1 < len(path)
            and isinstance(path[i + 1], int)
        ):
            table = nested[part][0]
            i += 2
            field = None
            continue
        if isinstance(part, str):
            field = part
        i += 1
    return table, field


def _describe(value: Any) -> str:
    if value is None:
        return "null (leave the key out instead)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def iter_schema_issues(
    errors: Iterator[ValidationError],
    package: Package,
    table: str | None,
    *,
    file: str | None,
    row: int | None,
    base: list[Any],
) -> Iterator[Issue]:
    """Issues for every error, each pointing at the offending field (never at its parent)."""
    for error in errors:
        path = list(error.absolute_path)
        keyword = str(error.validator)
        value = error.instance
        if keyword == "required":
            required = error.validator_value if isinstance(error.validator_value, list) else []
            missing = [p for p in required if isinstance(value, dict) and p not in value]
            for prop in missing:
                t, _ = table_at(package, table, path) if table else (None, None)
                yield Issue(
                    C.SCHEMA_REQUIRED,
                    f"required field {prop!r} is missing",
                    file=file,
                    row=row,
                    pointer=escape_pointer([*base, *path, prop]),
                    field=prop,
                    record_id=_record_id(value),
                )
            continue
        if keyword == "additionalProperties":
            schema = error.schema if isinstance(error.schema, dict) else {}
            allowed = set(schema.get("properties", {}))
            extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
            for prop in extras:
                hint = difflib.get_close_matches(prop, sorted(allowed), n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                yield Issue(
                    C.SCHEMA_ADDITIONAL_PROPERTIES,
                    f"unknown field {prop!r}{suggestion}",
                    file=file,
                    row=row,
                    pointer=escape_pointer([*base, *path, prop]),
                    field=prop,
                    record_id=_record_id(value),
                )
            continue
        t, field = table_at(package, table, path) if table else (None, None)
        code = _KEYWORD_CODES[keyword]  # every keyword the generated schemas use (a test checks)
        message = error.message
        if (
            t is not None
            and field is not None
            and keyword in ("pattern", "format")
            and isinstance(value, str)
        ):
            if field in {c for c, _ in package.date_columns(t)}:
                code, message = (
                    C.DATE_INVALID,
                    date_error(value, interval=dict(package.date_columns(t))[field]),
                )
            elif field in package.country_columns(t):
                code, message = (
                    C.COUNTRY_UNKNOWN,
                    f"{value!r} is not an ISO 3166-1 alpha-3 country code",
                )
            elif keyword == "pattern":
                message = f"{value!r} does not match the pattern of {field!r}"
        elif keyword == "enum":
            vocabulary = error.validator_value if isinstance(error.validator_value, list) else []
            hint = difflib.get_close_matches(str(value), [str(v) for v in vocabulary], n=1)
            message = f"{_describe(value)} is not an allowed {field or 'value'}" + (
                f"; did you mean {hint[0]!r}?" if hint else ""
            )
        elif keyword == "type":
            message = f"{_describe(value)} is not of type {error.validator_value!r}"
        yield Issue(
            code,
            message,
            file=file,
            row=row,
            pointer=escape_pointer([*base, *path]),
            field=field,
            record_id=None,
        )


def _record_id(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None
