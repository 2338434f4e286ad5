"""Hypothesis strategies that build valid packages and contributions by construction.

Everything a value may be is read off ``datapackage.json``: id prefixes and their alphabet,
vocabularies (``constraints.enum``), patterns, lengths, minima and maxima, which columns are
dates (and which of them allow intervals), which columns are references and into which tables
(read off their id patterns), and the order in which tables can be built so that every
reference resolves. What the descriptor cannot say is written here once, from DESIGN.md: which
dates must be in order, which values need a claim of their own, and which columns may hold a
line break.

The package is the unit: :func:`packages` draws a whole :class:`GeneratedPackage` (every table,
every claim the rules ask for, a text for every source whose paragraphs hold every claim's
``original_text``), and :meth:`GeneratedPackage.write` writes it as a package folder: the
repository's ``datapackage.json`` and canonical CSVs. :func:`contributions` draws new rows on top
of a package: new records whose references point into the package or into the contribution,
plus flat rows that add to records already in the package (a name for a person, a claim).
"""

from __future__ import annotations

import calendar
import copy
import csv
import functools
import hashlib
import io
import json
import re
import shutil
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from nk_defections.findings import codes as C
from nk_defections.model.countries import alpha3_codes
from nk_defections.model.dates import is_valid, parse_bounds
from nk_defections.model.names import name_key
from nk_defections.model.package import CLAIM_KEY, CLAIMS, REDIRECTS, load_package_descriptor
from nk_defections.model.records import nest, typed_rows
from nk_defections.model.schemas import format_checker
from nk_defections.model.spreadsheet import is_formula

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = load_package_descriptor(ROOT)
TABLES: list[str] = list(PACKAGE.resources)

Row = dict[str, str | None]

# --------------------------------------------------------------------------------------------
# What DESIGN.md fixes and the descriptor cannot say
# --------------------------------------------------------------------------------------------

#: Dates that must be in order within a row, earliest first.
DATE_CHAINS: dict[str, list[str]] = {
    "sources": ["published_date", "retrieved_date"],
    "people": ["birth_date", "death_date"],
    "person_names": ["start_date", "end_date"],
    "organizations": ["founded_date", "dissolved_date"],
    "postings": ["start_date", "attested_date", "end_date"],
    "events": ["date", "disclosed_date"],
}
#: A posting lies within the life of the person it names in this column.
LIFE_SPANS = {"postings": "person_id"}
#: (table, column, other column): a row may not point at itself.
SELF_REFERENCES = [
    ("event_links", "related_event_id", "event_id"),
    ("relationships", "related_person_id", "person_id"),
    ("organizations", "parent_id", "id"),
]
#: Besides every date and number, these values need a claim of their own.
CLAIMED_NAMES = frozenset({"title", "rank", "status", "end_reason", "role", "motive", "value"})
#: identity_status of a person with a name to show (one current preferred name, people.name) and
#: of one without.
SHOWN, UNSHOWN = ["named", "pseudonymous"], ["unnamed", "withheld"]
#: Language tags a name of each script of :data:`SCRIPTS` may carry (its letters are of the
#: tag's script), and the one tag that needs a romanization.
TAGS = {
    "latin": ["ko-Latn", "en"],
    "diacritics": ["ko-Latn"],
    "hangul": ["ko-Hang", "ko-Kore", "ko"],
    "hanja": ["ko-Hani", "ko-Kore"],
    "cyrillic": ["ru", "ko-Cyrl"],
}
ROMANIZED_TAG = "ko-Latn"
#: Cells the identity and duplicate rules read across rows: a generic mutation of one of them
#: would break those rules too (a name that no longer reads as its preferred name, a preferred
#: name that a date ends). Their codes are tested in tests/test_identity.py.
IDENTITY_CELLS = frozenset(
    {
        ("people", "name"),
        ("people", "identity_status"),
        ("person_names", "person_id"),
        ("person_names", "name"),
        ("person_names", "name_type"),
        ("person_names", "lang"),
        ("person_names", "romanization"),
        ("person_names", "end_date"),
        ("organizations", "name"),
        ("identifiers", "value"),
    }
)
#: Free-text columns where a line break is allowed (a claim's value: a summary's text).
MULTILINE = frozenset({"summary", "note", "derivation", "value"})
#: Sources are drawn with at most this many paragraphs: each gets a text that long.
MAX_PARAGRAPHS = 30
#: The posting status that an end_reason requires, and the one that forbids an end date.
ENDED, CURRENT = "ended", "current"

# --------------------------------------------------------------------------------------------
# Read off the descriptor
# --------------------------------------------------------------------------------------------


def constraints(table: str, column: str) -> dict[str, Any]:
    """The Table Schema constraints of one column."""
    return PACKAGE.field(table, column).get("constraints", {})


def vocabulary(table: str, column: str) -> list[str]:
    """The allowed values of an enum column."""
    return list(constraints(table, column)["enum"])


def _id_parts(table: str) -> tuple[str, str, int]:
    pattern = constraints(table, "id")["pattern"]
    match = re.fullmatch(r"([a-z]+)-(\[[^\]]+\])\{([0-9]+)\}", pattern)
    assert match, f"{table}.id pattern {pattern!r} is not of the form prefix-[class]{{n}}"
    klass = match.group(2)
    alphabet = "".join(c for c in string.digits + string.ascii_lowercase if re.fullmatch(klass, c))
    return match.group(1), alphabet, int(match.group(3))


PREFIX, ID_ALPHABET, ID_LENGTH = (
    {t: _id_parts(t)[0] for t in TABLES},
    _id_parts("people")[1],
    _id_parts("people")[2],
)
assert PREFIX == PACKAGE.prefixes
assert all(_id_parts(t)[1:] == (ID_ALPHABET, ID_LENGTH) for t in TABLES)

DATE_COLUMNS: dict[str, dict[str, bool]] = {t: dict(PACKAGE.date_columns(t)) for t in TABLES}
COUNTRY_COLUMNS: dict[str, list[str]] = {t: PACKAGE.country_columns(t) for t in TABLES}
REFERENCES: dict[str, dict[str, list[str]]] = {
    t: {c: PACKAGE.reference_targets(t, c) for c in PACKAGE.reference_columns(t)} for t in TABLES
}
COUNTRIES = sorted(alpha3_codes())
PATTERNS_BY = {t: {c: patterns for c, _by, patterns in PACKAGE.patterns_by(t)} for t in TABLES}
ID_SUFFIXES = st.text(st.sampled_from(ID_ALPHABET), min_size=ID_LENGTH, max_size=ID_LENGTH)
CLAIMED_TABLES = [t for t in TABLES if PACKAGE.is_claimed(t)]


def number_columns(table: str) -> set[str]:
    """Integer and number columns of *table*."""
    return {f["name"] for f in PACKAGE.fields(table) if f["type"] in ("integer", "number")}


def needs_claim(table: str) -> set[str]:
    """Columns of *table* whose value needs a claim of its own (DESIGN.md §2)."""
    names = set(PACKAGE.field_names(table))
    return set(DATE_COLUMNS[table]) | number_columns(table) | (CLAIMED_NAMES & names)


def needs_text(table: str) -> set[str]:
    """Columns whose claims need ``original_text``: dates and numbers."""
    return set(DATE_COLUMNS[table]) | number_columns(table)


def free_text_columns(table: str) -> list[str]:
    """String columns without enum, pattern or format: names, titles, notes."""
    out = []
    for f in PACKAGE.fields(table):
        cons = f.get("constraints", {})
        if f["type"] == "string" and not ({"enum", "pattern"} & set(cons)) and "format" not in f:
            out.append(f["name"])
    return out


def _build_order() -> list[str]:
    """Tables in an order where every reference points at a table already built (claims last)."""
    order: list[str] = []
    # redirects are written by merge and retire amendments: a drawn package has none.
    pending = [t for t in TABLES if t not in (CLAIMS, REDIRECTS)]
    while pending:
        for table in pending:
            needed = {target for targets in REFERENCES[table].values() for target in targets} - {
                table
            }
            if needed <= set(order):
                order.append(table)
                pending.remove(table)
                break
        else:  # pragma: no cover - the descriptor has a reference cycle between tables
            raise AssertionError(f"reference cycle among {pending}")
    return [*order, CLAIMS]


BUILD_ORDER = _build_order()

# --------------------------------------------------------------------------------------------
# EDTF dates (the subset of DESIGN.md §2)
# --------------------------------------------------------------------------------------------

_SPECIAL_DATES = [
    date(1, 1, 1),
    date(9999, 12, 31),
    date(2024, 2, 29),
    date(2000, 2, 29),
    date(400, 2, 29),
    date(1900, 2, 28),
    date(2023, 12, 31),
    date(2023, 11, 30),
]
DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(_SPECIAL_DATES),
)
PRECISIONS = st.sampled_from(("year", "month", "day"))
QUALIFIERS = st.sampled_from(("", "?", "~", "%"))


def fmt_date(d: date, precision: str) -> str:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` of a day."""
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    return text[: {"year": 4, "month": 7, "day": 10}[precision]]


def _forms(interval: bool) -> list[str]:
    forms = ["single", "set", "before", "after"]
    return forms + ["interval", "open_start", "open_end"] if interval else forms


@st.composite
def _edtf_string(draw: st.DrawFn, interval: bool) -> str:
    form = draw(st.sampled_from(_forms(interval)))
    first, second = sorted((draw(DATES), draw(DATES)))
    precision = draw(PRECISIONS)
    if form == "single":
        return fmt_date(first, precision) + draw(QUALIFIERS)
    if form == "set":  # both ends at one precision, as edtf requires
        return f"[{fmt_date(first, precision)}..{fmt_date(second, precision)}]"
    if form == "before":
        return f"[..{fmt_date(first, precision)}]"
    if form == "after":
        return f"[{fmt_date(first, precision)}..]"
    lower = fmt_date(first, precision) + draw(QUALIFIERS)
    upper = fmt_date(second, draw(PRECISIONS)) + draw(QUALIFIERS)
    if form == "interval":
        return f"{lower}/{upper}"
    if form == "open_start":
        return f"../{upper}"
    return f"{lower}/.."


def edtf_strings(interval: bool) -> st.SearchStrategy[str]:
    """Valid strings of the project's EDTF subset (periods if ``interval``)."""
    return _edtf_string(interval)


def pick(draw: st.DrawFn, items: list[Any]) -> Any:
    """One of *items* (cheaper than building a ``sampled_from`` for every draw)."""
    return items[draw(st.integers(0, len(items) - 1))]


def day_between(draw: st.DrawFn, low: date, high: date) -> date:
    """A day in [low, high], shrinking towards *low*."""
    return date.fromordinal(draw(st.integers(low.toordinal(), high.toordinal())))


_FIRST, _LAST = date(1, 1, 1), date(9999, 12, 31)
_FORMS = {interval: st.sampled_from(_forms(interval)) for interval in (False, True)}


def draw_around(draw: st.DrawFn, day: date, interval: bool = False) -> str:
    """A valid EDTF value whose earliest and latest day enclose *day*.

    Dates drawn this way around ordered days are in order by construction: the earlier value's
    minimum is at most its day, which is at most the later day, which is at most the later
    value's maximum.
    """
    form = draw(_FORMS[interval])
    precision = draw(PRECISIONS)
    if form == "single":
        return fmt_date(day, precision) + draw(QUALIFIERS)
    lo = day_between(draw, _FIRST, day)
    hi = day_between(draw, day, _LAST)
    if form == "set":
        return f"[{fmt_date(lo, precision)}..{fmt_date(hi, precision)}]"
    if form == "before":
        return f"[..{fmt_date(hi, precision)}]"
    if form == "after":
        return f"[{fmt_date(lo, precision)}..]"
    lower = fmt_date(lo, precision) + draw(QUALIFIERS)
    upper = fmt_date(hi, draw(PRECISIONS)) + draw(QUALIFIERS)
    if form == "interval":
        return f"{lower}/{upper}"
    if form == "open_start":
        return f"../{upper}"
    return f"{lower}/.."


@st.composite
def edtf_around(draw: st.DrawFn, day: date, interval: bool = False) -> str:
    """Strategy form of :func:`draw_around`."""
    return draw_around(draw, day, interval)


@st.composite
def calendar_invalid_days(draw: st.DrawFn) -> str:
    """``YYYY-MM-DD`` with a day 29-31 that the month does not have."""
    year = draw(st.integers(1, 9999))
    month = draw(st.sampled_from((2, 4, 6, 9, 11)))  # the months shorter than 31 days
    last = calendar.monthrange(year, month)[1]
    day = draw(st.integers(last + 1, 31))
    return f"{year:04d}-{month:02d}-{day:02d}"


# --------------------------------------------------------------------------------------------
# Text: several scripts, NFC, with the punctuation that CSV has to quote
# --------------------------------------------------------------------------------------------

_DIACRITICS = (
    "ÁáÀàÂâÄäÃãÅåĀāĂăÇçČčÉéÈèÊêËëĒēĚěÍíÌìÎîÏïŁłÑñŃńÓóÒòÔôÖöÕõŎŏŐőØøŚśŠšßÚúÙùÛûÜüŬŭŰűÝýŽžŹźŻż"
)
_CYRILLIC = "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюяЁё"
#: Scripts a name may be written in; Hangul syllables and Hanja are in NFC as they stand.
SCRIPTS: dict[str, st.SearchStrategy[str]] = {
    "latin": st.sampled_from(string.ascii_letters),
    "diacritics": st.sampled_from(string.ascii_letters + _DIACRITICS),
    "hangul": st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
    "hanja": st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
    "cyrillic": st.sampled_from(_CYRILLIC),
}
#: Decomposed letters: NFC composes them (``o`` + breve is ``ŏ``, as in McCune-Reischauer).
_DECOMPOSED = ["o\u0306", "u\u0306", "e\u0301", "a\u0300", "n\u0303", "c\u030c"]
PUNCTUATION = [
    ",",
    ", ",
    '"',
    "'",
    "“",
    "”",
    "‘",
    "’",
    "«",
    "»",
    "(",
    ")",
    ";",
    ":",
    ".",
    "/",
    "&",
    "%",
    "?",
    "!",
    "*",
    "#",
    "–",
    "—",
    "…",
    "·",
    "=",
    "+",
    "@",
    "-",
    "|",
    "\\",
]
EMOJI = ["😀", "🇰🇷", "🇰🇵", "👨\u200d👩\u200d👧", "🕊\ufe0f", "📰"]


@functools.cache
def words(script: str | None = None) -> st.SearchStrategy[str]:
    """One word in one script (any, if not given)."""
    scripts = [SCRIPTS[script]] if script else list(SCRIPTS.values())
    letters = st.one_of(*scripts) if len(scripts) > 1 else scripts[0]
    plain = st.text(letters, min_size=1, max_size=6)
    if script not in ("latin", "diacritics"):
        return plain  # a Latin letter after Cyrillic would make a word of mixed scripts
    return st.one_of(plain, st.tuples(plain, st.sampled_from(_DECOMPOSED)).map("".join))


def tidy(text: str, *, max_size: int | None = None) -> str | None:
    """NFC, no leading or trailing white space, no formula prefix, within the length limit."""
    text = unicodedata.normalize("NFC", text)
    if max_size is not None:
        text = text[:max_size]
    text = text.strip()
    while text and is_formula(text):
        text = text[1:].strip()
    text = unicodedata.normalize("NFC", text)
    return text if text and text == text.strip() else None


#: A name's words: each of one script (a word mixing Latin and Cyrillic is record.mixed-script);
#: the words of a name of no one script are set apart.
_NAME_PARTS = {script: st.lists(words(script), min_size=1, max_size=4) for script in [*SCRIPTS]} | {
    None: st.lists(st.one_of(*(words(s) for s in SCRIPTS)), min_size=1, max_size=4)
}
_NAME_SEPARATORS = {
    **dict.fromkeys(SCRIPTS, st.sampled_from([" ", "-", "", " "])),
    None: st.sampled_from([" ", "-"]),
}
_SCRIPT_NAMES = st.sampled_from([*SCRIPTS, None])
_TOKENS = st.one_of(
    words(),
    words(),
    st.integers(0, 10**6).map(str),
    st.sampled_from(PUNCTUATION),
    st.sampled_from(EMOJI),
)
_GAPS = {
    False: st.sampled_from([" ", " ", "", ", ", "\u00a0", "\u3000"]),
    True: st.sampled_from([" ", " ", "", ", ", "\u00a0", "\u3000", "\n", "\n\n", "\t"]),
}


@st.composite
def _names(draw: st.DrawFn, max_size: int) -> str:
    script = draw(_SCRIPT_NAMES)
    parts = draw(_NAME_PARTS[script])
    name = tidy(draw(_NAME_SEPARATORS[script]).join(parts), max_size=max_size)
    return name or "Ri Il Kyu"


@st.composite
def _scripted_names(draw: st.DrawFn, script: str) -> str:
    if script in ("latin", "diacritics"):
        parts = draw(_NAME_PARTS[script])
    else:  # no decomposed Latin letter in a name of another script
        parts = draw(
            st.lists(st.text(SCRIPTS[script], min_size=1, max_size=6), min_size=1, max_size=4)
        )
    return tidy(draw(_NAME_SEPARATORS[script]).join(parts), max_size=200) or "Ri Il Kyu"


@functools.cache
def scripted_names(script: str) -> st.SearchStrategy[str]:
    """A name whose letters are all of one script of :data:`SCRIPTS`."""
    return _scripted_names(script)


@functools.cache
def names(max_size: int = 200) -> st.SearchStrategy[str]:
    """A name: words of one script (Hangul without spaces as often as not), or a mix."""
    return _names(max_size)


@st.composite
def _prose(draw: st.DrawFn, multiline: bool, max_size: int | None, tokens: int) -> str:
    parts = draw(st.lists(_TOKENS, min_size=1, max_size=tokens))
    out = parts[0]
    for t in parts[1:]:
        out += draw(_GAPS[multiline]) + t
    return tidy(out, max_size=max_size) or "see the source"


@functools.cache
def prose(
    *, multiline: bool = False, max_size: int | None = None, tokens: int = 6
) -> st.SearchStrategy[str]:
    """Free text: words in any script, numbers, punctuation (quotes, commas), emoji; line breaks if *multiline*."""
    return _prose(multiline, max_size, tokens)


def single_line(table: str, column: str) -> st.SearchStrategy[str]:
    """Valid text for a free-text column, within its declared length."""
    cons = constraints(table, column)
    max_size = cons.get("maxLength")
    if column == "name":
        return names(max_size or 200)
    return prose(multiline=column in MULTILINE, max_size=max_size)


# --------------------------------------------------------------------------------------------
# Cells of one column
# --------------------------------------------------------------------------------------------

_URL_HOSTS = st.from_regex(r"[a-z][a-z0-9]{0,10}\.(?:org|kr|com|go\.kr)", fullmatch=True)
URLS = st.builds(
    lambda scheme, host, path, query: f"{scheme}://{host}/{path}{query}",
    st.sampled_from(["https", "http"]),
    _URL_HOSTS,
    st.from_regex(r"[a-z0-9/_.-]{0,20}", fullmatch=True),
    st.sampled_from(["", "?id=12", "#p3", "?a=1&b=%ED%95%9C"]),
)


def number_text(value: int | float) -> str:
    """A number as the canonical CSV cell: ``12``, ``0.5``, ``1e+16``."""
    return repr(value) if isinstance(value, float) else str(value)


@functools.cache
def cells(table: str, column: str) -> st.SearchStrategy[str]:
    """Valid, non-empty cells of one column that is neither an id, a reference nor a date."""
    f = PACKAGE.field(table, column)
    cons = f.get("constraints", {})
    if "enum" in cons:
        return st.sampled_from(cons["enum"])
    if column in COUNTRY_COLUMNS[table]:
        return st.sampled_from(COUNTRIES)
    if f["type"] == "integer":
        low = cons.get("minimum", -(2**31))
        high = cons.get("maximum", 2**31 - 1)
        if (table, column) == ("sources", "paragraphs"):
            high = min(high, MAX_PARAGRAPHS)  # each source gets a text with this many paragraphs
        return st.integers(low, high).map(str)
    if f["type"] == "number":
        return st.one_of(
            st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False)
        ).map(number_text)
    if f.get("format") == "uri":
        return URLS
    if "pattern" in cons:
        return st.from_regex(f"(?:{cons['pattern']})", fullmatch=True)
    return single_line(table, column)


def values(table: str, column: str) -> st.SearchStrategy[str]:
    """Valid cells of any column: what a claim's value may be."""
    if column in DATE_COLUMNS[table]:
        return edtf_strings(DATE_COLUMNS[table][column])
    return cells(table, column)


#: The reasons for each rank other than normal, as the descriptor lists them.
RANK_REASONS: dict[str, list[str]] = PACKAGE.field(CLAIMS, "rank_reason")["ranks"]
#: The ranks a claim that supports its cell may have (an empty rank is normal).
SUPPORTING = [None, "normal", "preferred"]


def ranked(draw: st.DrawFn, row: Row, ranks: list[str | None]) -> None:
    """Give a claim one of *ranks*, with a reason of its rank where it is not normal."""
    rank = pick(draw, ranks)
    row["claim_rank"] = rank
    row["rank_reason"] = pick(draw, RANK_REASONS[rank]) if rank in RANK_REASONS else None


def wider(draw: st.DrawFn, value: str, interval: bool) -> str:
    """A date value whose range holds *value*'s: its year, month, or itself."""
    bounds = parse_bounds(value, interval=interval)
    if bounds.min is None or bounds.max is None:
        return value
    for precision in draw(st.permutations(["year", "month"])):
        text = fmt_date(bounds.min, precision)
        if fmt_date(bounds.max, precision) == text:
            return text
    return value


# --------------------------------------------------------------------------------------------
# Whole packages
# --------------------------------------------------------------------------------------------


@dataclass
class GeneratedPackage:
    """The rows of every table, as CSV cells (``None`` for an empty cell), in descriptor column order.

    ``life`` keeps the days each person's life was drawn around, so that a contribution can add
    postings that lie within it.
    """

    tables: dict[str, list[Row]]
    life: dict[str, tuple[date, date]] = field(default_factory=dict)

    def copy(self) -> GeneratedPackage:
        """A deep copy, to mutate."""
        return GeneratedPackage(copy.deepcopy(self.tables), dict(self.life))

    def rows(self, table: str) -> list[Row]:
        """The rows of *table*."""
        return self.tables[table]

    def ids(self, *tables: str) -> list[str]:
        """Ids of the rows of *tables* (all tables if none given)."""
        return [r["id"] for t in (tables or TABLES) for r in self.tables[t] if r["id"] is not None]

    def find(self, record_id: str) -> tuple[str, int]:
        """(table, index) of a row by id (the first, if repeated)."""
        for table in TABLES:
            for i, row in enumerate(self.tables[table]):
                if row["id"] == record_id:
                    return table, i
        raise KeyError(record_id)

    def claims_on(self, record_id: str, column: str | None = None) -> list[int]:
        """Indexes of the claims about a record (on one column, if given)."""
        return [
            i
            for i, c in enumerate(self.tables[CLAIMS])
            if c[CLAIM_KEY] == record_id and (column is None or c["field"] == column)
        ]

    def paragraphs(self, source_id: str) -> int:
        """The paragraph count a source declares."""
        (row,) = [r for r in self.tables["sources"] if r["id"] == source_id][:1]
        return int(row["paragraphs"])

    def source_text(self, source_id: str) -> bytes:
        """A text for the source: paragraph N holds every original_text cited at N."""
        cited: dict[int, set[str]] = {n: set() for n in range(1, self.paragraphs(source_id) + 1)}
        for claim in self.tables[CLAIMS]:
            if claim["source_id"] == source_id and claim["original_text"] and claim["paragraph"]:
                n = int(claim["paragraph"])
                if n in cited:
                    cited[n].add(claim["original_text"])
        return "".join(
            (" | ".join(sorted(texts)) if texts else f"Paragraph {n}.") + "\n\n"
            for n, texts in cited.items()
        ).encode("utf-8")

    def seal_sources(self, only: Iterable[str] | None = None) -> None:
        """Set each source's content_sha256 to the sha256 of its :meth:`source_text`."""
        wanted = set(only) if only is not None else None
        for row in self.tables["sources"]:
            if wanted is None or row["id"] in wanted:
                row["content_sha256"] = hashlib.sha256(self.source_text(row["id"])).hexdigest()

    def typed(self) -> dict[str, list[dict[str, Any]]]:
        """The rows as typed JSON records (empty cells left out), per table."""
        return {t: list(typed_rows(PACKAGE, t, self.tables[t])) for t in TABLES}

    def nested(self) -> dict[str, list[dict[str, Any]]]:
        """The rows as nested JSON records (DESIGN.md §2), as a contribution envelope holds them."""
        return nest(PACKAGE, self.typed())

    def write(
        self,
        folder: Path,
        *,
        order: dict[str, list[int]] | None = None,
        crlf: bool = False,
        bom: bool = False,
    ) -> dict[str, list[int]]:
        """Write a package folder: the repository's descriptor and one CSV per table.

        Rows are sorted by id (canonical) unless *order* gives, per table, the row indexes in the
        order to write. Returns, per table, the physical line of each row (by index in
        :attr:`tables`).
        """
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "datapackage.json", folder / "datapackage.json")
        lines = {}
        for table in TABLES:
            path = folder / PACKAGE.resources[table]["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            data, lines[table] = render_csv(
                table, self.tables[table], order=(order or {}).get(table), crlf=crlf, bom=bom
            )
            path.write_bytes(data)
        return lines

    def write_sources(self, folder: Path) -> dict[str, Path]:
        """Write each source's text into *folder*: the ``source_texts`` to validate with."""
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for row in self.tables["sources"]:
            path = folder / f"{row['id']}.txt"
            path.write_bytes(self.source_text(row["id"]))
            out[row["id"]] = path
        return out


def canonical_order(rows: list[Row]) -> list[int]:
    """Row indexes sorted by id, empty ids last, ties kept in order."""
    return sorted(range(len(rows)), key=lambda i: (rows[i]["id"] is None, rows[i]["id"] or ""))


def render_csv(
    table: str,
    rows: list[Row],
    *,
    order: list[int] | None = None,
    crlf: bool = False,
    bom: bool = False,
) -> tuple[bytes, list[int]]:
    """The CSV bytes of *rows* and the physical line of each row (header = 1).

    Canonical by default: descriptor column order, rows by id, ``QUOTE_MINIMAL``, LF, no BOM.
    """
    names = PACKAGE.field_names(table)
    order = canonical_order(rows) if order is None else order
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    lines = [0] * len(rows)
    line = 2
    for i in order:
        cells = ["" if rows[i].get(n) is None else rows[i][n] for n in names]
        writer.writerow(cells)
        lines[i] = line
        line += 1 + sum(c.count("\n") for c in cells)
    data = buffer.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data if bom else data), lines


ORIGINAL_TEXTS = prose(max_size=constraints(CLAIMS, "original_text").get("maxLength"), tokens=4)


class _Builder:
    """Draws rows table by table, so that every reference has something to point at."""

    def __init__(
        self,
        draw: st.DrawFn,
        base: GeneratedPackage | None,
        min_rows: dict[str, int],
        max_rows: int,
    ):
        self.draw = draw
        self.base = base
        self.min_rows = min_rows
        self.max_rows = max_rows
        self.new: dict[str, list[Row]] = {t: [] for t in TABLES}
        self.used: set[str] = set(base.ids()) if base else set()
        self.life: dict[str, tuple[date, date]] = dict(base.life) if base else {}

    # ids ---------------------------------------------------------------------------------------
    def fresh_id(self, table: str) -> str:
        while True:
            new = f"{PREFIX[table]}-{self.draw(ID_SUFFIXES)}"
            if new not in self.used:
                self.used.add(new)
                return new

    def ids(self, table: str) -> list[str]:
        base = self.base.ids(table) if self.base else []
        return base + [r["id"] for r in self.new[table]]

    def rows_of(self, table: str) -> list[Row]:
        return (self.base.rows(table) if self.base else []) + self.new[table]

    # one row -----------------------------------------------------------------------------------
    def row(self, table: str) -> Row | None:
        draw = self.draw
        row: Row = {}
        for f in PACKAGE.fields(table):
            name = f["name"]
            required = f.get("constraints", {}).get("required", False)
            if name == "id":
                row[name] = None  # minted last: a skipped row wastes no id
            elif name in REFERENCES[table] or name in DATE_COLUMNS[table]:
                row[name] = None  # below
            elif required or draw(st.booleans()):
                row[name] = draw(cells(table, name))
            else:
                row[name] = None
        for column, targets in REFERENCES[table].items():
            required = constraints(table, column).get("required", False)
            candidates = [i for t in targets for i in self.ids(t)]
            if not candidates or (not required and not draw(st.booleans())):
                if required:
                    return None
                continue
            row[column] = pick(draw, candidates)
        if table == "postings" and (row["person_id"], row["organization_id"]) in {
            (r["person_id"], r["organization_id"]) for r in self.rows_of("postings")
        }:
            return None  # another posting of one person at one organization may be its repeat
        row["id"] = self.fresh_id(table)
        for t, column, other in SELF_REFERENCES:
            if t == table and row[column] is not None and row[column] == row[other]:
                others = [
                    i
                    for target in REFERENCES[t][column]
                    for i in self.ids(target)
                    if i != row[other]
                ]
                if others:
                    row[column] = pick(draw, others)
                elif constraints(t, column).get("required"):
                    return None
                else:
                    row[column] = None
        self.semantics(table, row)
        self.dates(table, row)
        return row

    def semantics(self, table: str, row: Row) -> None:
        """The rules between a row's own fields (DESIGN.md §2)."""
        draw = self.draw
        if table == "people":
            if row["kind"] != "group":
                row["group_size_min"] = row["group_size_max"] = None
            elif row["group_size_min"] and row["group_size_max"]:
                low, high = sorted((int(row["group_size_min"]), int(row["group_size_max"])))
                row["group_size_min"], row["group_size_max"] = str(low), str(high)
        if table == "person_names":
            script = draw(st.sampled_from(sorted(TAGS)))
            row["name"] = draw(scripted_names(script))
            row["lang"] = draw(st.sampled_from(TAGS[script]))
            row["romanization"] = (
                draw(cells(table, "romanization")) if row["lang"] == ROMANIZED_TAG else None
            )
        if table == "identifiers":
            patterns = dict(PATTERNS_BY[table]["value"])
            row["value"] = draw(st.from_regex(f"(?:{patterns[row['scheme']]})", fullmatch=True))
        if table == "postings":
            if row["status"] != ENDED:
                row["end_reason"] = None
            if row["status"] == CURRENT:
                row["end_date"] = None

    def dates(self, table: str, row: Row) -> None:
        draw = self.draw
        chain = DATE_CHAINS.get(table, [])
        low, high = date(1, 1, 1), date(9999, 12, 31)
        if table in LIFE_SPANS:
            low, high = self.life.get(row[LIFE_SPANS[table]], (low, high))
        anchors = sorted(day_between(draw, low, high) for _ in chain)
        if table == "people":
            self.life[row["id"]] = (anchors[0], anchors[-1])
        days = dict(zip(chain, anchors, strict=True))
        for column, interval in DATE_COLUMNS[table].items():
            if table == "postings" and column == "end_date" and row["status"] == CURRENT:
                continue  # a current posting has no end date
            required = constraints(table, column).get("required", False)
            if not required and not draw(st.booleans()):
                row[column] = None
                continue
            day = days.get(column) or day_between(draw, low, high)
            row[column] = draw_around(draw, day, interval)

    # claims ------------------------------------------------------------------------------------
    def claim(
        self,
        record_id: str,
        column: str,
        table: str,
        value: str | None = None,
        ranks: list[str | None] = SUPPORTING,
    ) -> Row:
        """A claim on *column* of a row: its cell's *value* (none for '*'), ranked among *ranks*.

        A normal claim on a date may give a wider value that holds the cell's (the year of a
        day); a deprecated one, any valid value: neither supports anything else than its cell.
        """
        draw = self.draw
        sources = self.rows_of("sources")
        source = pick(draw, sources)
        paragraph = draw(st.integers(1, int(source["paragraphs"])))
        textual = column in needs_text(table)
        row: Row = {name: None for name in PACKAGE.field_names(CLAIMS)}
        row.update(
            id=self.fresh_id(CLAIMS),
            record_id=record_id,
            field=column,
            source_id=source["id"],
            paragraph=str(paragraph),
            value=None if column == "*" else value,
        )
        if textual or draw(st.booleans()):
            row["original_text"] = draw(ORIGINAL_TEXTS)
        if draw(st.integers(0, 3)) == 0:  # most claims are bare; some carry everything
            people_or_orgs = self.ids("people") + self.ids("organizations")
            for who in ("attributed_to", "relayed_by"):
                if people_or_orgs and draw(st.booleans()):
                    row[who] = pick(draw, people_or_orgs)
            row["derivation"] = draw(st.none() | cells(CLAIMS, "derivation"))
            ranked(draw, row, ranks)
        if column == "*" or value is None:
            return row
        if row["claim_rank"] == "deprecated" and draw(st.booleans()):
            row["value"] = draw(values(table, column))
        elif row["claim_rank"] in (None, "normal") and column in DATE_COLUMNS[table]:
            if draw(st.integers(0, 3)) == 0:
                row["value"] = wider(draw, value, DATE_COLUMNS[table][column])
        return row

    def claims_for(self, table: str, row: Row) -> list[Row]:
        draw = self.draw
        out = []
        if not PACKAGE.is_claimed(table):  # a source may still be cited about itself
            if draw(st.integers(0, 4)) == 0:
                out.append(self.claim(row["id"], "*", table))
            return out
        out.append(self.claim(row["id"], "*", table))
        filled = [c for c in PACKAGE.field_names(table) if c != "id" and row.get(c) is not None]
        every = [*SUPPORTING, "deprecated"]
        for column in filled:
            if column in needs_claim(table):
                out.append(self.claim(row["id"], column, table, row[column]))
                if draw(st.integers(0, 5)) == 0:  # another claim, ranked, maybe deprecated
                    out.append(self.claim(row["id"], column, table, row[column], every))
            elif draw(st.integers(0, 7)) == 0:
                out.append(self.claim(row["id"], column, table, row[column]))
        if draw(st.integers(0, 7)) == 0:
            out.append(self.claim(row["id"], "*", table))
        return out

    # everything ----------------------------------------------------------------------------------
    def build(self) -> dict[str, list[Row]]:
        draw = self.draw
        for table in BUILD_ORDER:
            if table == CLAIMS:
                continue
            n = draw(
                st.integers(
                    self.min_rows.get(table, 0), max(self.max_rows, self.min_rows.get(table, 0))
                )
            )
            for _ in range(n):
                row = self.row(table)
                if row is not None:
                    self.new[table].append(row)
        self.identities()
        self.distinct_names()
        for table in BUILD_ORDER:
            if table == CLAIMS:
                continue
            for row in self.new[table]:
                self.new[CLAIMS] += self.claims_for(table, row)
        return self.new

    def identities(self) -> None:
        """identity_status agrees with the names (DESIGN.md §2).

        A new person with a current preferred name is named or pseudonymous, shows its first one
        as people.name and keeps the others as aliases; one without is unnamed or withheld. A
        name added to a person of the base is an alias: the base's identities stand.
        """
        draw = self.draw
        preferred: dict[str, Row] = {}
        for row in self.new["person_names"]:
            current = row["name_type"] == "preferred" and row["end_date"] is None
            if not current:
                continue
            if row["person_id"] in preferred or row["person_id"] not in {
                r["id"] for r in self.new["people"]
            }:
                row["name_type"] = "alias"
            else:
                preferred[row["person_id"]] = row
        for person in self.new["people"]:
            if person["id"] in preferred:
                person["identity_status"] = draw(st.sampled_from(SHOWN))
                person["name"] = preferred[person["id"]]["name"]
            else:
                person["identity_status"] = draw(st.sampled_from(UNSHOWN))

    def distinct_names(self) -> None:
        """No two people share a name key, nor two organizations of one country.

        A new record whose name repeats another's (after :func:`name_key`) gets its place in the
        drawn rows as a last word: digits, which the key keeps and no script check reads, and
        which no drawn name has.
        """
        seen: dict[str, str] = {}
        for person in self.rows_of("people"):
            new = any(person is row for row in self.new["people"])
            names = [person] + [
                r for r in self.rows_of("person_names") if r["person_id"] == person["id"]
            ]
            keys = {name_key(r["name"]) for r in names if r["name"]}
            if any(seen.get(key, person["id"]) != person["id"] for key in keys - {""}):
                for row in names:
                    if new or any(row is r for r in self.new["person_names"]):
                        row["name"] = f"{row['name']} {len(seen) + 1}"
                keys = {name_key(r["name"]) for r in names if r["name"]}
            seen.update(dict.fromkeys(keys - {""}, person["id"]))
        places: set[tuple[str, str | None]] = set()
        for n, org in enumerate(self.rows_of("organizations")):
            if (name_key(org["name"]), org["country"]) in places:
                org["name"] = f"{org['name']} {n + 1}"
            places.add((name_key(org["name"]), org["country"]))


#: Rows every drawn package has at least, so that every mutation finds something to break.
RICH = {
    "sources": 1,
    "people": 2,
    "organizations": 1,
    "events": 2,
    "postings": 1,
    "person_names": 1,
    "event_participants": 1,
    "event_links": 1,
    "motives": 1,
    "relationships": 1,
    "statistics": 1,
}


@st.composite
def packages(draw: st.DrawFn, *, rich: bool = False, max_rows: int = 2) -> GeneratedPackage:
    """A whole package, valid by construction, with a text for every source.

    With *rich*, every table has rows (a mutation always finds something to break); otherwise
    any table but sources may be empty.
    """
    builder = _Builder(draw, None, RICH if rich else {"sources": 1}, max_rows)
    tables = builder.build()
    pkg = GeneratedPackage(tables, builder.life)
    pkg.seal_sources()
    return pkg


# --------------------------------------------------------------------------------------------
# Contributions
# --------------------------------------------------------------------------------------------


@dataclass
class GeneratedContribution:
    """New flat rows on top of :attr:`base`: new records, and rows adding to records of the base."""

    base: GeneratedPackage
    tables: dict[str, list[Row]]

    def merged(self) -> GeneratedPackage:
        """The base with the contribution added."""
        return GeneratedPackage(
            {t: self.base.tables[t] + self.tables[t] for t in TABLES}, dict(self.base.life)
        )

    def typed(self) -> dict[str, list[dict[str, Any]]]:
        """The contributed rows as typed flat JSON records."""
        return {t: list(typed_rows(PACKAGE, t, rows)) for t, rows in self.tables.items() if rows}

    def envelope(self) -> dict[str, list[dict[str, Any]]]:
        """The contribution as one JSON envelope: nested records, orphans flat with their parent key."""
        return nest(PACKAGE, self.typed())

    def write(
        self, folder: Path, layout: list[str] | None = None, *, split: bool = False
    ) -> list[Path]:
        """Write the contribution into *folder* as files; return them.

        *layout* names, per table, the format its rows go to: ``json`` (one envelope, nested
        where the parent is in it), ``jsonl`` (one line per flat record) or ``csv``
        (``<table>.csv``); all ``json`` if not given. With *split*, the rows of each JSON Lines
        and CSV table are shared between two files (in folders ``a/`` and ``b/``).
        """
        layout = layout or ["json"] * len(TABLES)
        by_format: dict[str, dict[str, list[Row]]] = {"json": {}, "jsonl": {}, "csv": {}}
        for table, kind in zip(TABLES, layout, strict=True):
            if self.tables[table]:
                by_format[kind][table] = self.tables[table]
        parts = [folder / "a", folder / "b"] if split else [folder]
        for part in parts:
            part.mkdir(parents=True, exist_ok=True)
        files = []
        if by_format["json"]:
            typed = {t: list(typed_rows(PACKAGE, t, rows)) for t, rows in by_format["json"].items()}
            path = folder / "contribution.json"
            path.write_text(
                json.dumps(nest(PACKAGE, typed), ensure_ascii=False, indent=2) + "\n",
                encoding="utf-8",
            )
            files.append(path)
        for n, part in enumerate(parts):
            share = {t: rows[n :: len(parts)] for t, rows in by_format["jsonl"].items()}
            if any(share.values()):
                path = part / "contribution.jsonl"
                with path.open("w", encoding="utf-8", newline="\n") as f:
                    for table, rows in share.items():
                        for record in typed_rows(PACKAGE, table, rows):
                            f.write(
                                json.dumps(
                                    {"resource": table, "record": record}, ensure_ascii=False
                                )
                                + "\n"
                            )
                files.append(path)
            for table, rows in by_format["csv"].items():
                if rows[n :: len(parts)]:
                    path = part / f"{table}.csv"
                    path.write_bytes(render_csv(table, rows[n :: len(parts)])[0])
                    files.append(path)
        return files


@st.composite
def contributions(
    draw: st.DrawFn, base: GeneratedPackage, *, max_rows: int = 2
) -> GeneratedContribution:
    """New rows on top of *base*, valid with it by construction.

    New records may point at records of the base or of the contribution; some rows add to
    records already in the base (a name for a person, a claim on any row). The base's sources
    are cited but their texts are not re-sealed, so check contributions without source texts.
    """
    builder = _Builder(draw, base, {}, max_rows)
    tables = builder.build()
    # Rows that add to records of the base: extra claims on its rows.
    targets = [(t, r) for t in TABLES if t != CLAIMS for r in base.rows(t)]
    for table, row in draw(st.lists(st.sampled_from(targets), max_size=3)) if targets else []:
        filled = [c for c in PACKAGE.field_names(table) if c != "id" and row.get(c) is not None]
        column = draw(st.sampled_from(["*", *filled]))
        tables[CLAIMS].append(builder.claim(row["id"], column, table, row.get(column)))
    return GeneratedContribution(base, tables)


LAYOUTS = st.lists(
    st.sampled_from(["json", "jsonl", "csv"]), min_size=len(TABLES), max_size=len(TABLES)
)


def bounds_min(value: str, interval: bool) -> date | None:
    """The earliest day of a valid EDTF value."""
    return parse_bounds(value, interval=interval).min


def shift_days(day: date, days: int) -> date:
    """*day* moved by *days*, clamped to years 0001-9999."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date(1, 1, 1) if days < 0 else date(9999, 12, 31)


# --------------------------------------------------------------------------------------------
# Targeted mutations: each breaks one rule once, and says where the finding must be
# --------------------------------------------------------------------------------------------

Edit = Callable[[bytes, list[int]], tuple[bytes, int | None, str | None]]


@dataclass
class Mutated:
    """A mutated package and the one finding it must yield.

    ``index`` is the row (in ``package.tables[table]``) the finding is at; ``edit``, for a
    broken file, rewrites the table's written bytes and returns them with the finding's line
    and field. ``texts``, when set, are the source texts to validate with (the evidence check).
    """

    package: GeneratedPackage
    code: str
    table: str | None
    index: int | None
    field: str | None
    edit: Edit | None = None
    texts: dict[str, bytes] | None = None
    file_level: bool = False


def fresh_id(draw: st.DrawFn, pkg: GeneratedPackage, table: str) -> str:
    """An id of *table* that the package does not use."""
    used = set(pkg.ids())
    while True:
        new = f"{PREFIX[table]}-{draw(ID_SUFFIXES)}"
        if new not in used:
            return new


def add_claim(
    draw: st.DrawFn,
    pkg: GeneratedPackage,
    record_id: str,
    column: str,
    value: str | None = None,
    **more: str | None,
) -> int:
    """Append a sound claim (with original_text) on a record's column; return its index.

    *value* is the value it gives (none on '*'); *more* sets other columns (a rank, a reason).
    """
    sources = pkg.rows("sources")
    source = pick(draw, sources)
    row: Row = {name: None for name in PACKAGE.field_names(CLAIMS)}
    row.update(
        id=fresh_id(draw, pkg, CLAIMS),
        record_id=record_id,
        field=column,
        source_id=source["id"],
        paragraph=str(draw(st.integers(1, int(source["paragraphs"])))),
        value=value,
        original_text=draw(ORIGINAL_TEXTS),
    )
    row.update(more)
    pkg.rows(CLAIMS).append(row)
    return len(pkg.rows(CLAIMS)) - 1


def set_value(
    draw: st.DrawFn,
    pkg: GeneratedPackage,
    table: str,
    index: int,
    column: str,
    value: str | None,
    *,
    invalid: bool = False,
) -> None:
    """Set one cell, keeping the claims consistent: none on an empty cell, one on a value that needs it.

    The claims on the cell give the new value, unless it is *invalid* (a value the field's own
    checks refuse): a claim keeps its valid value then, and a cell that is not valid is
    compared with none.
    """
    row = pkg.rows(table)[index]
    row[column] = value
    if table in (CLAIMS,) or row["id"] is None:
        return
    on = pkg.claims_on(row["id"], column)
    if value is None:
        pkg.tables[CLAIMS] = [c for i, c in enumerate(pkg.rows(CLAIMS)) if i not in set(on)]
        return
    if not invalid:
        for j in on:
            pkg.rows(CLAIMS)[j]["value"] = value
    if PACKAGE.is_claimed(table) and column in needs_claim(table) and not on:
        add_claim(draw, pkg, row["id"], column, draw(values(table, column)) if invalid else value)


def choose(draw: st.DrawFn, options: list[Any]) -> Any:
    """One of *options*, or reject the example when there is none."""
    assume(options)
    return pick(draw, options)


def settable(table: str, row: Row, column: str) -> bool:
    """Whether a value in this cell breaks no rule between the row's own fields."""
    if (table, column) in IDENTITY_CELLS:
        return False
    if table == "postings":
        if column == "end_date":
            return row["status"] != CURRENT
        if column == "end_reason":
            return row["status"] == ENDED
    if table == "people" and column.startswith("group_size"):
        return row["kind"] == "group"
    return True


def _cells_where(
    pkg: GeneratedPackage, columns: list[tuple[str, str]], present: bool | None = None
) -> list[tuple[str, int, str]]:
    """Cells of *columns* (filled or empty, if *present* says) where a value may stand."""
    out = []
    for table, column in columns:
        for i, row in enumerate(pkg.rows(table)):
            if (present is None or (row[column] is not None) == present) and settable(
                table, row, column
            ):
                out.append((table, i, column))
    return out


def _columns(predicate: Callable[[str, dict[str, Any]], bool]) -> list[tuple[str, str]]:
    return [(t, f["name"]) for t in TABLES for f in PACKAGE.fields(t) if predicate(t, f)]


def _mutation(
    code: str, pkg: GeneratedPackage, table: str, index: int, column: str | None, **kw: Any
) -> Mutated:
    return Mutated(pkg, code, table, index, column, **kw)


def _as_group(
    draw: st.DrawFn, pkg: GeneratedPackage, index: int, *, drop: str | None = None
) -> None:
    """Make a person a group (group sizes are only allowed on groups), optionally emptying one size."""
    set_value(draw, pkg, "people", index, "kind", "group")
    if drop:
        set_value(draw, pkg, "people", index, drop, None)


def m_required(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    # A claim's record_id and field say what it supports: emptying them unclaims a record too.
    columns = _columns(
        lambda t, f: (
            f.get("constraints", {}).get("required")
            and f["name"] != "id"
            and (t, f["name"]) not in {(CLAIMS, CLAIM_KEY), (CLAIMS, "field")}
        )
    )
    table, i, column = choose(draw, _cells_where(pkg, columns))
    set_value(draw, pkg, table, i, column, None)
    return _mutation(C.SCHEMA_REQUIRED, pkg, table, i, column)


BAD_INTEGERS = ["three", "1.5", "12a", "1,5", "1e3", "0x1F", "1_000", "٣", "½", "1 2"]
BAD_NUMBERS = ["three", "12a", "1,5", "1.2.3", "0x1F", "1_000.5", "٣", "½", "--1", "1 2"]


def m_type(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    columns = _columns(lambda t, f: f["type"] in ("integer", "number"))
    table, i, column = choose(draw, _cells_where(pkg, columns))
    if column.startswith("group_size"):
        _as_group(draw, pkg, i)
    bad = pick(
        draw, BAD_INTEGERS if PACKAGE.field(table, column)["type"] == "integer" else BAD_NUMBERS
    )
    set_value(draw, pkg, table, i, column, bad, invalid=True)
    return _mutation(C.SCHEMA_TYPE, pkg, table, i, column)


def typo(draw: st.DrawFn, value: str, allowed: list[str]) -> str:
    """A misspelling of *value* that is not in *allowed*."""
    kind = draw(st.sampled_from(["append", "drop", "upper", "double"]))
    out = {
        "append": value + "x",
        "drop": value[:-1],
        "upper": value.upper(),
        "double": value + value[-1:],
    }[kind]
    while not out or out in allowed:
        out += "x"
    return out


def m_enum(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    columns = _columns(lambda t, f: "enum" in f.get("constraints", {}))
    table, i, column = choose(draw, _cells_where(pkg, columns))
    allowed = vocabulary(table, column)
    value = pkg.rows(table)[i][column] or pick(draw, allowed)
    if (table, column) == ("postings", "status"):
        set_value(draw, pkg, table, i, "end_reason", None)  # an end_reason needs the status 'ended'
    set_value(draw, pkg, table, i, column, typo(draw, value, allowed), invalid=True)
    return _mutation(C.SCHEMA_ENUM, pkg, table, i, column)


def _plain_pattern(table: str, f: dict[str, Any]) -> bool:
    cons = f.get("constraints", {})
    return (
        "pattern" in cons
        and f["name"] != "id"
        and f["name"] not in DATE_COLUMNS[table]
        and f["name"] not in COUNTRY_COLUMNS[table]
        and (table, f["name"]) not in {(CLAIMS, CLAIM_KEY), (CLAIMS, "field")}
    )


def m_pattern(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _cells_where(pkg, _columns(_plain_pattern)))
    # Upper case breaks every lower-case pattern, and an id no longer starts with a prefix.
    value = "X" + (pkg.rows(table)[i][column] or "a").upper()
    set_value(draw, pkg, table, i, column, value, invalid=True)
    return _mutation(C.SCHEMA_PATTERN, pkg, table, i, column)


def m_max_length(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    columns = _columns(lambda t, f: "maxLength" in f.get("constraints", {}))
    table, i, column = choose(draw, _cells_where(pkg, columns))
    limit = constraints(table, column)["maxLength"]
    value = pkg.rows(table)[i][column] or "a"
    set_value(
        draw,
        pkg,
        table,
        i,
        column,
        value + "a" * (limit + 1 - len(value) + draw(st.integers(0, 3))),
        invalid=True,
    )
    return _mutation(C.SCHEMA_MAX_LENGTH, pkg, table, i, column)


def m_minimum(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    # A source's paragraph count below its claims' paragraphs would put them out of range too.
    columns = _columns(
        lambda t, f: (
            "minimum" in f.get("constraints", {}) and (t, f["name"]) != ("sources", "paragraphs")
        )
    )
    table, i, column = choose(draw, _cells_where(pkg, columns))
    if column.startswith("group_size"):
        _as_group(draw, pkg, i, drop="group_size_min" if column == "group_size_max" else None)
    value = constraints(table, column)["minimum"] - draw(st.integers(1, 10**6))
    set_value(draw, pkg, table, i, column, str(value), invalid=True)
    return _mutation(C.SCHEMA_MINIMUM, pkg, table, i, column)


def m_maximum(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    # A claim's paragraph past the maximum is also past the end of its source.
    columns = _columns(
        lambda t, f: (
            "maximum" in f.get("constraints", {}) and (t, f["name"]) != (CLAIMS, "paragraph")
        )
    )
    table, i, column = choose(draw, _cells_where(pkg, columns))
    if column.startswith("group_size"):
        _as_group(draw, pkg, i, drop="group_size_max" if column == "group_size_min" else None)
    value = constraints(table, column)["maximum"] + draw(st.integers(1, 10**12))
    set_value(draw, pkg, table, i, column, str(value), invalid=True)
    return _mutation(C.SCHEMA_MAXIMUM, pkg, table, i, column)


#: http(s) addresses (as a url's pattern asks) that are not URIs.
NOT_URIS = [
    "https://example.org/%zz",
    "http://[::1",
    "https://exa<mple.org",
    "http://example.org/^x",
    "https://example.org/|",
    "http://example.org/#a#b",
]


def m_format(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(
        draw, _cells_where(pkg, _columns(lambda t, f: f.get("format") == "uri"))
    )
    value = pick(draw, NOT_URIS)
    assert not format_checker().conforms(value, "uri")
    set_value(draw, pkg, table, i, column, value, invalid=True)
    return _mutation(C.SCHEMA_FORMAT, pkg, table, i, column)


@st.composite
def invalid_dates(draw: st.DrawFn, interval: bool) -> str:
    """Values just outside the EDTF subset: impossible days, reversed ranges, other notations."""
    day = fmt_date(draw(DATES), "day")
    options = [
        draw(calendar_invalid_days()) + draw(QUALIFIERS),
        f"[{draw(calendar_invalid_days())}..]",
        "[2024..2023]",
        "2024/2023-06",
        "2023-13",
        "2023-00",
        "0000",
        "2023-1-5",
        "23",
        "2023-11-05T10:00",
        "2023-11?~",
        "[2023?..2024]",
        "[..]",
        "../..",
        "[2023..2024-01]",
        day + "Z",
        day.replace("-", "/"),
    ]
    if not interval:
        options.append(f"{day}/..")
    value = draw(st.sampled_from(options))
    assert not is_valid(value, interval=interval), value
    return value


def m_date_invalid(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(
        draw, _cells_where(pkg, [(t, c) for t in TABLES for c in DATE_COLUMNS[t]])
    )
    set_value(
        draw, pkg, table, i, column, draw(invalid_dates(DATE_COLUMNS[table][column])), invalid=True
    )
    return _mutation(C.DATE_INVALID, pkg, table, i, column)


def m_date_order(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    # Postings outside their holder's life: the holder's birth must have a year before it.
    in_life = []
    for i, posting in enumerate(pkg.rows("postings")):
        holder = [
            p for p in pkg.rows("people") if p["id"] == posting["person_id"] and p["birth_date"]
        ]
        if holder:
            birth = bounds_min(holder[0]["birth_date"], False)
            if birth is not None and birth.year > 1:
                in_life.append((i, birth.year))
    if in_life and draw(st.booleans()):
        i, year = pick(draw, in_life)
        set_value(draw, pkg, "postings", i, "start_date", f"{year - 1:04d}")
        return _mutation(C.DATE_ORDER, pkg, "postings", i, "start_date")
    # Pairs whose dates no other rule looks at (people and postings are tied by the life rule).
    pairs = [
        (t, chain[0], chain[-1])
        for t, chain in DATE_CHAINS.items()
        if t not in ("people", "person_names", *LIFE_SPANS)  # a name's end ends its preference
    ]
    table, early, late = pick(draw, pairs)
    i = choose(draw, list(range(len(pkg.rows(table)))))
    year = draw(st.integers(2, 9999))
    set_value(draw, pkg, table, i, early, f"{year:04d}")
    set_value(draw, pkg, table, i, late, f"{year - 1:04d}")
    return _mutation(C.DATE_ORDER, pkg, table, i, late)


NOT_COUNTRIES = st.from_regex(r"[A-Z]{3}", fullmatch=True).filter(lambda c: c not in alpha3_codes())


def m_country(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(
        draw, _cells_where(pkg, [(t, c) for t in TABLES for c in COUNTRY_COLUMNS[t]])
    )
    set_value(draw, pkg, table, i, column, draw(NOT_COUNTRIES), invalid=True)
    return _mutation(C.COUNTRY_UNKNOWN, pkg, table, i, column)


def m_duplicate_id(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table = choose(draw, [t for t in TABLES if pkg.rows(t)])
    i = pick(draw, list(range(len(pkg.rows(table)))))
    pkg.rows(table).append(dict(pkg.rows(table)[i]))  # written after it: ids sort stably
    return _mutation(C.TABLE_DUPLICATE_ID, pkg, table, len(pkg.rows(table)) - 1, "id")


SAFE_LATE = "[0001..]"  # opens at the start of the calendar and never ends: in order after anything


def m_end_reason(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    i = choose(draw, list(range(len(pkg.rows("postings")))))
    status = pick(draw, [s for s in vocabulary("postings", "status") if s != ENDED])
    if status == CURRENT:
        set_value(draw, pkg, "postings", i, "end_date", None)
    set_value(draw, pkg, "postings", i, "status", status)
    set_value(
        draw, pkg, "postings", i, "end_reason", pick(draw, vocabulary("postings", "end_reason"))
    )
    return _mutation(C.RECORD_END_REASON, pkg, "postings", i, "end_reason")


def m_current_ended(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    i = choose(draw, list(range(len(pkg.rows("postings")))))
    set_value(draw, pkg, "postings", i, "end_reason", None)
    set_value(draw, pkg, "postings", i, "status", CURRENT)
    set_value(
        draw, pkg, "postings", i, "end_date", pkg.rows("postings")[i]["end_date"] or SAFE_LATE
    )
    return _mutation(C.RECORD_CURRENT_ENDED, pkg, "postings", i, "end_date")


def m_group_size(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    i = choose(draw, list(range(len(pkg.rows("people")))))
    if draw(st.booleans()):  # a group whose minimum exceeds its maximum
        low = draw(st.integers(1, 10**6))
        set_value(draw, pkg, "people", i, "kind", "group")
        set_value(draw, pkg, "people", i, "group_size_min", str(low + draw(st.integers(1, 100))))
        set_value(draw, pkg, "people", i, "group_size_max", str(low))
    else:  # an individual with a group size
        set_value(draw, pkg, "people", i, "kind", "individual")
        sizes = draw(
            st.sampled_from(
                [("group_size_min",), ("group_size_max",), ("group_size_min", "group_size_max")]
            )
        )
        for column in ("group_size_min", "group_size_max"):
            set_value(draw, pkg, "people", i, column, "2" if column in sizes else None)
    return _mutation(C.RECORD_GROUP_SIZE, pkg, "people", i, "group_size_min")


def m_self_reference(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, column, other = choose(draw, [s for s in SELF_REFERENCES if pkg.rows(s[0])])
    i = pick(draw, list(range(len(pkg.rows(table)))))
    set_value(draw, pkg, table, i, column, pkg.rows(table)[i][other])
    return _mutation(C.RECORD_SELF_REFERENCE, pkg, table, i, column)


def _free_text(pkg: GeneratedPackage) -> list[tuple[str, int, str]]:
    """Free-text cells that no claim gives a value for (a claim would give the broken text too).

    A claim's value is no free text: it is written as its field's cells are.
    """
    return [
        (table, i, column)
        for table, i, column in _cells_where(
            pkg,
            [(t, c) for t in TABLES for c in free_text_columns(t) if (t, c) != (CLAIMS, "value")],
        )
        if table == CLAIMS or not pkg.claims_on(pkg.rows(table)[i]["id"], column)
    ]


CONTROL = [chr(c) for c in [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]
BREAKS = ["\t", "\n", "\r", "\u2028", "\u2029"]
BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]


def _inside(draw: st.DrawFn, value: str | None, char: str) -> str:
    """*value* with *char* in it, neither first nor last, and no longer than before (+1)."""
    value = value if value and len(value) >= 2 else "ab"
    at = draw(st.integers(1, len(value) - 1))
    if len(value) >= 3:
        return (
            value[:at] + char + value[at + 1 :]
            if at < len(value) - 1
            else value[:at] + char + value[at:]
        )
    return value[:at] + char + value[at:]


def m_control(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _free_text(pkg))
    char = pick(draw, CONTROL if column in MULTILINE else CONTROL + BREAKS)
    set_value(draw, pkg, table, i, column, _inside(draw, pkg.rows(table)[i][column], char))
    return _mutation(C.RECORD_CONTROL_CHARACTER, pkg, table, i, column)


def m_bidi(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _free_text(pkg))
    set_value(
        draw, pkg, table, i, column, _inside(draw, pkg.rows(table)[i][column], pick(draw, BIDI))
    )
    return _mutation(C.RECORD_BIDI, pkg, table, i, column)


FORMULAS = [
    "=1+1",
    '=HYPERLINK("http://x")',
    "+82 2 123",
    "@SUM(A1)",
    "-x",
    "-Ri",
    "=cmd|' /C calc'!A0",
]


def m_formula(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _free_text(pkg))
    set_value(draw, pkg, table, i, column, pick(draw, FORMULAS))
    return _mutation(C.RECORD_FORMULA, pkg, table, i, column)


INVISIBLE = ["\u200b", "\u200c", "\u2060", "\ufeff", "\u00ad"]


def m_invisible(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _free_text(pkg))
    set_value(
        draw,
        pkg,
        table,
        i,
        column,
        _inside(draw, pkg.rows(table)[i][column], pick(draw, INVISIBLE)),
    )
    return _mutation(C.RECORD_INVISIBLE, pkg, table, i, column)


#: Names with one look-alike letter of another script: Cyrillic o, Cyrillic u, Greek omicron.
LOOK_ALIKE_NAMES = ["Kim J\u043eng Un", "Ri Il Ky\u0443", "Thae Y\u03bfng-ho", "\u0420ark"]


def m_mixed_script(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    # An organization's name: the people's names must also agree with their preferred names
    # (IDENTITY_CELLS), and a look-alike name matches no other organization's.
    table, column = "organizations", "name"
    i = draw(st.integers(0, len(pkg.rows(table)) - 1)) if pkg.rows(table) else None
    assume(i is not None)
    set_value(draw, pkg, table, i, column, pick(draw, LOOK_ALIKE_NAMES))
    return _mutation(C.RECORD_MIXED_SCRIPT, pkg, table, i, column)


NOT_NFC = [
    "Thae Yo\u0306ng-ho",
    "Ri Il Kyu\u0301",
    "Cafe\u0301 Pyongyang",
    "\u1105\u1175 \u110b\u1175\u11af",
]


def m_not_nfc(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _free_text(pkg))
    set_value(draw, pkg, table, i, column, pick(draw, NOT_NFC))
    return _mutation(C.RECORD_NOT_NFC, pkg, table, i, column)


def m_whitespace(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _free_text(pkg))
    space = pick(draw, [" ", "\u00a0", "\u3000", "  "] + (["\n"] if column in MULTILINE else []))
    value = draw(names(40))
    set_value(draw, pkg, table, i, column, space + value if draw(st.booleans()) else value + space)
    return _mutation(C.RECORD_WHITESPACE, pkg, table, i, column)


def m_ref_unknown(target: str) -> Callable[[st.DrawFn, GeneratedPackage], Mutated]:
    def mutate(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
        columns = [
            (t, c)
            for t in TABLES
            for c, targets in REFERENCES[t].items()
            if target in targets and (t, c) != (CLAIMS, CLAIM_KEY)
        ]
        options = _cells_where(pkg, columns)
        if not options or draw(st.booleans()):  # a claim about a record that does not exist
            j = add_claim(draw, pkg, fresh_id(draw, pkg, target), "*")
            return _mutation(C.REF_UNKNOWN[target], pkg, CLAIMS, j, CLAIM_KEY)
        table, i, column = pick(draw, options)
        set_value(draw, pkg, table, i, column, fresh_id(draw, pkg, target))
        return _mutation(C.REF_UNKNOWN[target], pkg, table, i, column)

    return mutate


def _claimed_rows(pkg: GeneratedPackage) -> list[tuple[str, int]]:
    return [(t, i) for t in CLAIMED_TABLES for i in range(len(pkg.rows(t)))]


def m_missing_row_claim(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i = choose(draw, _claimed_rows(pkg))
    gone = set(pkg.claims_on(pkg.rows(table)[i]["id"], "*"))
    pkg.tables[CLAIMS] = [c for j, c in enumerate(pkg.rows(CLAIMS)) if j not in gone]
    return _mutation(C.CLAIM_MISSING_ROW, pkg, table, i, "id")


def m_missing_field_claim(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    options = [
        (t, i, c)
        for t, i in _claimed_rows(pkg)
        for c in sorted(needs_claim(t))
        if pkg.rows(t)[i][c] is not None
    ]
    table, i, column = choose(draw, options)
    gone = set(pkg.claims_on(pkg.rows(table)[i]["id"], column))
    pkg.tables[CLAIMS] = [c for j, c in enumerate(pkg.rows(CLAIMS)) if j not in gone]
    return _mutation(C.CLAIM_MISSING_FIELD, pkg, table, i, column)


def _table_of(record_id: str | None) -> str | None:
    prefix = (record_id or "")[:3]
    return next((t for t, p in PREFIX.items() if p == prefix), None)


def m_missing_text(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    options = [
        j
        for j, c in enumerate(pkg.rows(CLAIMS))
        if (t := _table_of(c[CLAIM_KEY])) and c["field"] in needs_text(t)
    ]
    j = choose(draw, options)
    pkg.rows(CLAIMS)[j]["original_text"] = None
    return _mutation(C.CLAIM_MISSING_TEXT, pkg, CLAIMS, j, "original_text")


def m_paragraph(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    j = choose(draw, list(range(len(pkg.rows(CLAIMS)))))
    claim = pkg.rows(CLAIMS)[j]
    claim["paragraph"] = str(pkg.paragraphs(claim["source_id"]) + draw(st.integers(1, 1000)))
    return _mutation(C.CLAIM_PARAGRAPH, pkg, CLAIMS, j, "paragraph")


NOT_COLUMNS = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


def m_unknown_field(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i = choose(
        draw, [(t, i) for t in TABLES if t != CLAIMS for i in range(len(pkg.rows(t)))]
    )
    column = draw(NOT_COLUMNS.filter(lambda c: c not in PACKAGE.field_names(table)))
    j = add_claim(draw, pkg, pkg.rows(table)[i]["id"], column, draw(names(20)))
    return _mutation(C.CLAIM_UNKNOWN_FIELD, pkg, CLAIMS, j, "field")


def m_empty_field(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    options = _cells_where(
        pkg, _columns(lambda t, f: t != CLAIMS and not f.get("constraints", {}).get("required"))
    )
    table, i, column = choose(draw, options)
    set_value(draw, pkg, table, i, column, None)
    if (table, column) == ("people", "group_size_max") or (table, column) == (
        "people",
        "group_size_min",
    ):
        pass  # an empty size is always allowed
    j = add_claim(draw, pkg, pkg.rows(table)[i]["id"], column, draw(values(table, column)))
    return _mutation(C.CLAIM_EMPTY_FIELD, pkg, CLAIMS, j, "field")


# -- claims' values and ranks ------------------------------------------------------------------


def _claimed_cells(pkg: GeneratedPackage, *, dates: bool = False) -> list[tuple[str, int, str]]:
    """Filled cells that claims give a value for (only date cells, with *dates*)."""
    on = {(c[CLAIM_KEY], c["field"]) for c in pkg.rows(CLAIMS)}
    return [
        (table, i, column)
        for table in TABLES
        if table != CLAIMS
        for i, row in enumerate(pkg.rows(table))
        for column in (DATE_COLUMNS[table] if dates else PACKAGE.field_names(table))
        if column != "id" and row[column] is not None and (row["id"], column) in on
    ]


def _one_claim(pkg: GeneratedPackage, table: str, i: int, column: str, **more: str | None) -> int:
    """Leave one claim on a cell, normal and giving its value (then *more*); return its index."""
    row = pkg.rows(table)[i]
    first, *others = pkg.claims_on(row["id"], column)
    claim = pkg.rows(CLAIMS)[first]
    claim.update(value=row[column], claim_rank=None, rank_reason=None)
    claim.update(more)
    pkg.tables[CLAIMS] = [c for j, c in enumerate(pkg.rows(CLAIMS)) if j not in set(others)]
    return next(j for j, c in enumerate(pkg.rows(CLAIMS)) if c is claim)


def _later(pkg: GeneratedPackage, *claims: int) -> int:
    """The claim written last of *claims* (a package's claims are sorted by id)."""
    return max(claims, key=lambda j: pkg.rows(CLAIMS)[j]["id"] or "")


def _valued_claims(pkg: GeneratedPackage) -> list[int]:
    return [j for j, c in enumerate(pkg.rows(CLAIMS)) if c["field"] != "*" and c["value"]]


def m_missing_value(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    j = choose(draw, _valued_claims(pkg))
    pkg.rows(CLAIMS)[j]["value"] = None
    return _mutation(C.CLAIM_MISSING_VALUE, pkg, CLAIMS, j, "value")


def m_row_value(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    j = choose(draw, [j for j, c in enumerate(pkg.rows(CLAIMS)) if c["field"] == "*"])
    pkg.rows(CLAIMS)[j]["value"] = draw(names(40))
    return _mutation(C.CLAIM_ROW_VALUE, pkg, CLAIMS, j, "value")


def m_invalid_value(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    options = []
    for j in _valued_claims(pkg):
        claim = pkg.rows(CLAIMS)[j]
        table = _table_of(claim[CLAIM_KEY])
        if table and (
            claim["field"] in DATE_COLUMNS[table] or "enum" in constraints(table, claim["field"])
        ):
            options.append((j, table, claim["field"]))
    j, table, column = choose(draw, options)
    claim = pkg.rows(CLAIMS)[j]
    if column in DATE_COLUMNS[table]:
        claim["value"] = draw(invalid_dates(DATE_COLUMNS[table][column]))
    else:
        claim["value"] = typo(draw, claim["value"], vocabulary(table, column))
    return _mutation(C.CLAIM_INVALID_VALUE, pkg, CLAIMS, j, "value")


def m_unsupported(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _claimed_cells(pkg))
    for j in pkg.claims_on(pkg.rows(table)[i]["id"], column):  # every claim on it deprecated
        pkg.rows(CLAIMS)[j].update(
            claim_rank="deprecated", rank_reason=pick(draw, RANK_REASONS["deprecated"])
        )
    return _mutation(C.CLAIM_UNSUPPORTED, pkg, table, i, column)


def _other_date(draw: st.DrawFn, table: str, column: str, value: str) -> str:
    return draw(values(table, column).filter(lambda v: v != value))


def m_preferred_conflict(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _claimed_cells(pkg, dates=True))
    row = pkg.rows(table)[i]
    reasons = RANK_REASONS["preferred"]
    first = _one_claim(
        pkg, table, i, column, claim_rank="preferred", rank_reason=pick(draw, reasons)
    )
    other = add_claim(
        draw,
        pkg,
        row["id"],
        column,
        _other_date(draw, table, column, row[column]),
        claim_rank="preferred",
        rank_reason=pick(draw, reasons),
    )
    return _mutation(
        C.CLAIM_PREFERRED_CONFLICT, pkg, CLAIMS, _later(pkg, first, other), "claim_rank"
    )


def m_preferred_mismatch(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _claimed_cells(pkg, dates=True))
    row = pkg.rows(table)[i]
    _one_claim(pkg, table, i, column)
    add_claim(
        draw,
        pkg,
        row["id"],
        column,
        _other_date(draw, table, column, row[column]),
        claim_rank="preferred",
        rank_reason=pick(draw, RANK_REASONS["preferred"]),
    )
    return _mutation(C.CLAIM_PREFERRED_MISMATCH, pkg, table, i, column)


def m_disputed(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    table, i, column = choose(draw, _claimed_cells(pkg, dates=True))
    row = pkg.rows(table)[i]
    bounds = parse_bounds(row[column], interval=DATE_COLUMNS[table][column])
    # A day outside the cell's range, and inside the calendar's (years 1 to 9999).
    if bounds.min is not None and bounds.min > _FIRST:
        day = shift_days(bounds.min, -draw(st.integers(1, min(400, (bounds.min - _FIRST).days))))
    else:
        assume(bounds.max is not None and bounds.max < _LAST)
        assert bounds.max is not None
        day = shift_days(bounds.max, draw(st.integers(1, min(400, (_LAST - bounds.max).days))))
    first = _one_claim(pkg, table, i, column)
    other = add_claim(draw, pkg, row["id"], column, fmt_date(day, "day"))
    return _mutation(C.CLAIM_DISPUTED, pkg, CLAIMS, _later(pkg, first, other), "value")


def m_missing_rank_reason(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    options = [
        j
        for j, c in enumerate(pkg.rows(CLAIMS))
        if c["field"] == "*" or c["claim_rank"] in RANK_REASONS
    ]
    j = choose(draw, options)
    claim = pkg.rows(CLAIMS)[j]
    if claim["claim_rank"] not in RANK_REASONS:
        claim["claim_rank"] = pick(draw, sorted(RANK_REASONS))
    claim["rank_reason"] = None
    return _mutation(C.CLAIM_MISSING_RANK_REASON, pkg, CLAIMS, j, "rank_reason")


def m_rank_reason_mismatch(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    j = choose(draw, list(range(len(pkg.rows(CLAIMS)))))
    claim = pkg.rows(CLAIMS)[j]
    wrong = [
        r for rank, reasons in RANK_REASONS.items() if rank != claim["claim_rank"] for r in reasons
    ]
    claim["rank_reason"] = pick(draw, wrong)
    return _mutation(C.CLAIM_RANK_REASON, pkg, CLAIMS, j, "rank_reason")


# -- the evidence check: the sources' texts, built before the mutation ---------------------------


def _texts(pkg: GeneratedPackage) -> dict[str, bytes]:
    return {r["id"]: pkg.source_text(r["id"]) for r in pkg.rows("sources")}


def m_sha256(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    texts = _texts(pkg)
    i = pick(draw, list(range(len(pkg.rows("sources")))))
    row = pkg.rows("sources")[i]
    row["content_sha256"] = draw(
        cells("sources", "content_sha256").filter(lambda h: h != row["content_sha256"])
    )
    return _mutation(C.SOURCE_SHA256, pkg, "sources", i, "content_sha256", texts=texts)


def m_paragraph_count(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    texts = _texts(pkg)
    i = pick(draw, list(range(len(pkg.rows("sources")))))
    row = pkg.rows("sources")[i]
    row["paragraphs"] = str(
        int(row["paragraphs"]) + draw(st.integers(1, 100))
    )  # more: no claim falls outside
    return _mutation(C.SOURCE_PARAGRAPHS, pkg, "sources", i, "paragraphs", texts=texts)


def m_text_not_found(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    texts = _texts(pkg)
    j = choose(draw, list(range(len(pkg.rows(CLAIMS)))))
    # ¤ is in no generated text, so these words are in no paragraph.
    pkg.rows(CLAIMS)[j]["original_text"] = "¤ " + draw(ORIGINAL_TEXTS)[:70]
    return _mutation(C.SOURCE_TEXT_NOT_FOUND, pkg, CLAIMS, j, "original_text", texts=texts)


def m_text_skipped(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    texts = _texts(pkg)
    i = pick(draw, list(range(len(pkg.rows("sources")))))
    del texts[pkg.rows("sources")[i]["id"]]
    return _mutation(C.SOURCE_TEXT_SKIPPED, pkg, "sources", i, None, texts=texts)


def m_unknown_text_source(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
    texts = _texts(pkg)
    texts[fresh_id(draw, pkg, "sources")] = next(iter(texts.values()))
    return Mutated(pkg, C.SOURCE_UNKNOWN, None, None, "id", texts=texts)


# -- broken files: compared within the file only (an unreadable table leaves others dangling) ----


def _file_mutation(code: str, edit: Edit) -> Callable[[st.DrawFn, GeneratedPackage], Mutated]:
    def mutate(draw: st.DrawFn, pkg: GeneratedPackage) -> Mutated:
        table = pick(draw, [t for t in TABLES if pkg.rows(t)])
        return Mutated(pkg, code, table, None, None, edit=partial_edit(draw, edit), file_level=True)

    return mutate


def partial_edit(
    draw: st.DrawFn, edit: Callable[..., tuple[bytes, int | None, str | None]]
) -> Edit:
    """Bind the draws an edit needs now, so that the edit itself is a plain function of the bytes."""
    seed = draw(st.integers(0, 2**32 - 1))
    return lambda data, lines: edit(data, lines, seed)


def _record_start(data: bytes, line: int) -> int:
    """Byte offset where physical line *line* starts."""
    offset = 0
    for _ in range(line - 1):
        offset = data.index(b"\n", offset) + 1
    return offset


def _ragged(data: bytes, lines: list[int], seed: int) -> tuple[bytes, int, None]:
    line = sorted(lines)[seed % len(lines)]
    at = _record_start(data, line)
    return data[:at] + b"a,b\n" + data[at:], line, None


def _unclosed(data: bytes, lines: list[int], seed: int) -> tuple[bytes, int, str]:
    """A quote out of place: a field never closed, text after a closing quote, or a quote
    inside a cell that does not start with one; located at its line and column."""
    names = data.split(b"\n", 1)[0].decode().split(",")
    if seed % 3 == 0:
        return data + b'x,"never closed\n', data.count(b"\n") + 1, names[1]
    line = sorted(lines)[seed % len(lines)]
    at = _record_start(data, line)
    return data[:at] + (b'"x"y' if seed % 3 == 1 else b'x"') + data[at:], line, names[0]


def _bad_byte(byte: bytes):
    def edit(data: bytes, lines: list[int], seed: int) -> tuple[bytes, int, None]:
        line = sorted(lines)[seed % len(lines)]
        at = _record_start(data, line)
        return data[:at] + byte + data[at:], line, None

    return edit


def _header(kind: str):
    def edit(data: bytes, lines: list[int], seed: int) -> tuple[bytes, int, str]:
        header, rest = data.split(b"\n", 1)
        names = header.decode().split(",")
        if kind == "unknown":
            column = "colour"
            names.append(column)
        elif kind == "missing":
            column = names.pop(1 + seed % (len(names) - 1))
        else:
            column = names[seed % len(names)]
            names.append(column)
        return ",".join(names).encode() + b"\n" + rest, 1, column

    return edit


def _emptied(data: bytes, lines: list[int], seed: int) -> tuple[bytes, int, None]:
    return b"" if seed % 2 else b"\n\n", 1, None


MUTATIONS: dict[str, Callable[[st.DrawFn, GeneratedPackage], Mutated]] = {
    C.SCHEMA_REQUIRED: m_required,
    C.SCHEMA_TYPE: m_type,
    C.SCHEMA_ENUM: m_enum,
    C.SCHEMA_PATTERN: m_pattern,
    C.SCHEMA_MAX_LENGTH: m_max_length,
    C.SCHEMA_MINIMUM: m_minimum,
    C.SCHEMA_MAXIMUM: m_maximum,
    C.SCHEMA_FORMAT: m_format,
    C.DATE_INVALID: m_date_invalid,
    C.DATE_ORDER: m_date_order,
    C.COUNTRY_UNKNOWN: m_country,
    C.TABLE_DUPLICATE_ID: m_duplicate_id,
    C.RECORD_END_REASON: m_end_reason,
    C.RECORD_CURRENT_ENDED: m_current_ended,
    C.RECORD_GROUP_SIZE: m_group_size,
    C.RECORD_SELF_REFERENCE: m_self_reference,
    C.RECORD_CONTROL_CHARACTER: m_control,
    C.RECORD_BIDI: m_bidi,
    C.RECORD_FORMULA: m_formula,
    C.RECORD_NOT_NFC: m_not_nfc,
    C.RECORD_WHITESPACE: m_whitespace,
    C.RECORD_INVISIBLE: m_invisible,
    C.RECORD_MIXED_SCRIPT: m_mixed_script,
    **{C.REF_UNKNOWN[t]: m_ref_unknown(t) for t in TABLES if t in C.REF_UNKNOWN},
    C.CLAIM_MISSING_ROW: m_missing_row_claim,
    C.CLAIM_MISSING_FIELD: m_missing_field_claim,
    C.CLAIM_MISSING_TEXT: m_missing_text,
    C.CLAIM_PARAGRAPH: m_paragraph,
    C.CLAIM_UNKNOWN_FIELD: m_unknown_field,
    C.CLAIM_EMPTY_FIELD: m_empty_field,
    C.CLAIM_MISSING_VALUE: m_missing_value,
    C.CLAIM_ROW_VALUE: m_row_value,
    C.CLAIM_INVALID_VALUE: m_invalid_value,
    C.CLAIM_UNSUPPORTED: m_unsupported,
    C.CLAIM_PREFERRED_CONFLICT: m_preferred_conflict,
    C.CLAIM_PREFERRED_MISMATCH: m_preferred_mismatch,
    C.CLAIM_DISPUTED: m_disputed,
    C.CLAIM_MISSING_RANK_REASON: m_missing_rank_reason,
    C.CLAIM_RANK_REASON: m_rank_reason_mismatch,
    C.SOURCE_SHA256: m_sha256,
    C.SOURCE_PARAGRAPHS: m_paragraph_count,
    C.SOURCE_TEXT_NOT_FOUND: m_text_not_found,
    C.SOURCE_TEXT_SKIPPED: m_text_skipped,
    C.SOURCE_UNKNOWN: m_unknown_text_source,
    C.CSV_RAGGED_ROW: _file_mutation(C.CSV_RAGGED_ROW, _ragged),
    C.CSV_MALFORMED: _file_mutation(C.CSV_MALFORMED, _unclosed),
    C.FILE_ENCODING: _file_mutation(C.FILE_ENCODING, _bad_byte(b"\xff")),
    C.FILE_BINARY: _file_mutation(C.FILE_BINARY, _bad_byte(b"\x00")),
    C.FILE_EMPTY: _file_mutation(C.FILE_EMPTY, _emptied),
    C.CSV_UNKNOWN_COLUMN: _file_mutation(C.CSV_UNKNOWN_COLUMN, _header("unknown")),
    C.CSV_MISSING_COLUMN: _file_mutation(C.CSV_MISSING_COLUMN, _header("missing")),
    C.CSV_DUPLICATE_COLUMN: _file_mutation(C.CSV_DUPLICATE_COLUMN, _header("duplicate")),
}


# --------------------------------------------------------------------------------------------
# Near-valid cells: each column's valid values and the values just outside them
# --------------------------------------------------------------------------------------------


@functools.cache
def near_cells(table: str, column: str) -> st.SearchStrategy[str | None]:
    """Cells of one column that are valid, or a typo, a sign, a space or a boundary away from it."""
    f = PACKAGE.field(table, column)
    cons = f.get("constraints", {})
    pattern = cons.get("pattern")
    if column in DATE_COLUMNS[table]:
        interval = DATE_COLUMNS[table][column]
        valid = edtf_strings(interval)
        near = invalid_dates(interval) | edtf_strings(not interval) | valid.map(lambda v: v + "\n")
    elif column in COUNTRY_COLUMNS[table]:
        valid = st.sampled_from(COUNTRIES)
        near = (
            NOT_COUNTRIES
            | valid.map(str.lower)
            | valid.map(lambda v: v + "\n")
            | valid.map(lambda v: v[:2])
        )
    elif "enum" in cons:
        valid = st.sampled_from(cons["enum"])
        near = (
            valid.map(lambda v: v + "x")
            | valid.map(str.upper)
            | valid.map(lambda v: " " + v)
            | st.just("")
        )
    elif f["type"] == "integer":
        low, high = cons.get("minimum", -(2**63)), cons.get("maximum", 2**63 - 1)
        valid = st.integers(low, high).map(str)
        edges = [
            str(low - 1),
            str(high + 1),
            str(low),
            str(high),
            "+5",
            "05",
            "-0",
            " 5",
            "5 ",
            "5.0",
            "1e3",
            "1_000",
            "٣",
            "0x1F",
        ]
        near = st.sampled_from(edges) | st.sampled_from(BAD_INTEGERS)
    elif f["type"] == "number":
        valid = st.one_of(
            st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False)
        ).map(number_text)
        edges = [
            "+1.5",
            ".5",
            "5.",
            "1E5",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "Infinity",
            "1e309",
            " 1.5",
            "1_0.5",
            "1.5e",
            "0x1p3",
        ]
        near = st.sampled_from(edges) | st.sampled_from(BAD_NUMBERS)
    elif f.get("format") == "uri":
        valid = URLS
        near = (
            st.sampled_from(NOT_URIS)
            | URLS.map(lambda u: u.replace("://", ":// "))
            | URLS.map(lambda u: u + "\n")
        )
    elif pattern:
        valid = st.from_regex(f"(?:{pattern})", fullmatch=True)
        near = (
            valid.map(lambda v: v + "\n")
            | valid.map(lambda v: "X" + v.upper())
            | valid.map(lambda v: v[:-1])
            | valid.map(lambda v: re.sub("[0-9]", "٢", v, count=1))
            | valid.map(lambda v: v + " ")
        )
    else:
        limit = cons.get("maxLength")
        valid = single_line(table, column)
        near = (
            st.sampled_from(["x" * limit, "x" * (limit + 1), "é" * (limit + 1)]) if limit else valid
        )
    return st.one_of(st.none(), valid, near)
