"""Names: the key two spellings of one name share, and what a name's language tag says.

**The name key.** Romanisations of one Korean name differ (Ri Il Kyu, Lee Il-gyu, Yi Ilgyu; Tae
Yongho, Thae Yong-ho; Jo Song Gil, Cho Sŏng-kil), so names are compared by :func:`name_key`:

1. NFKD, lower case, and every combining mark dropped (the breve of McCune–Reischauer's ŏ and ŭ,
   any accent); apostrophes dropped (McCune–Reischauer's aspiration mark: Ch'oe is Choe);
2. split into words at every run of characters that are neither letters nor digits (spaces,
   hyphens, dots, commas); the first word is the surname (Korean order), the others are joined
   into one given name, so that ``Il Kyu``, ``Il-kyu`` and ``Ilkyu`` are one;
3. in each, the spellings of :data:`LETTER_RULES` replaced, in order, until none applies: the
   voiced and voiceless, plain and aspirated consonants are one (g/k, d/t, b/p, j/ch), and so are
   the vowels the systems spell differently (eo/o, eu/u, oo/u, ee/i, yeong/young/yong);
4. the surname then replaced by the one spelling of its group in :data:`SURNAMES` (Ri, Rhee,
   Lee, Yi and I are one surname; so are Pak, Park and Bak; O and Oh; Choe and Choi …).

The key is ``surname given`` (``ri ilkyu``), or the surname alone: the space keeps the
surname apart, so that the key of a key is itself. A name in Hangul, whose surname is not set
apart by a space, has one word: 리일규 and 리 일규 do not meet. It compares spellings in one script: a
name in Hangul has a key in Hangul, never equal to its romanisation's. What it merges, it
merges on purpose and in the open: ``Sŏng``/``Seong`` (성) and ``Song`` (송) share a key, as
eo and o must for Jo Song Gil (조성길) to match Cho Seong-gil. Names in Western order (Seong-Mook
Moon) are not turned round. A match is a reason to look, never a verdict: the rules that use
the key give warnings.

:func:`name_keys` is the same key computed column-wise with polars, for whole tables;
``tests/test_names.py`` proves the two agree.

**Language tags.** A name's ``lang`` is a BCP 47 tag, read with ``langcodes``: its script is
the one it names (``ko-Hang`` Hangul, ``ko-Hani`` Hanja, ``ko-Latn`` Latin letters), or the one
its language implies (``en`` is Latin; ``ko`` alone is Korean in Hangul, Hanja or both).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import polars as pl

#: Spellings replaced in each word of a name, in this order, until none applies. No right side
#: holds a g, d or b and every other rule shortens the word, so the replacing ends. ``ng``
#: becomes one letter (ŋ) first, so that the g of Yong is not taken for the k of a next syllable.
LETTER_RULES: tuple[tuple[str, str], ...] = (
    ("young", "yong"),
    ("eo", "o"),
    ("eu", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ng", "ŋ"),
    ("tch", "j"),
    ("chh", "j"),
    ("ch", "j"),
    ("jj", "j"),
    ("kh", "k"),
    ("kk", "k"),
    ("g", "k"),
    ("th", "t"),
    ("tt", "t"),
    ("d", "t"),
    ("ph", "p"),
    ("pp", "p"),
    ("b", "p"),
    ("sh", "s"),
    ("ss", "s"),
)

#: Korean surnames whose spellings differ by more than :data:`LETTER_RULES` covers: the initial
#: r or l that South Korea drops (리/이 Ri, Yi; 류/유 Ryu, Yu; 로/노 Ro, No), and the spellings
#: of habit (Park, Choi, Oh, Rhee, Ahn). The first spelling of each group stands for all.
SURNAMES: tuple[tuple[str, ...], ...] = (
    ("ri", "rhee", "lee", "yi", "i", "li", "rhie", "rhi", "yee"),
    ("pak", "park", "bak", "bahk"),
    ("kim", "gim", "ghim"),
    ("choe", "choi", "chwe", "choy"),
    ("jo", "cho"),
    ("o", "oh"),
    ("jong", "jeong", "chung", "chong", "jung", "cheong"),
    ("kang", "gang"),
    ("yun", "yoon"),
    ("jang", "chang"),
    ("im", "lim", "rim", "yim"),
    ("yu", "yoo", "ryu", "ryoo", "you"),
    ("no", "noh", "roh", "ro"),
    ("ryang", "yang"),
    ("ryon", "yon", "yeon", "ryeon"),
    ("sin", "shin"),
    ("son", "sohn"),
    ("an", "ahn"),
    ("ko", "koh", "go"),
    ("mun", "moon"),
    ("pae", "bae"),
    ("paek", "baek", "baik", "paik"),
    ("ho", "heo", "hur", "huh"),
    ("so", "seo", "suh"),
    ("kwon", "gwon"),
    ("jon", "jeon", "chun", "chon", "jun"),
    ("tae", "thae"),
    ("hyon", "hyun", "hyeon"),
    ("na", "ra", "nah", "rah"),
)

#: Apostrophes and the marks typed for them: dropped, not a break between words.
APOSTROPHES = "'’‘ʼʻ`"


def _letters(word: str) -> str:
    """*word* with :data:`LETTER_RULES` applied until none applies."""
    while True:
        before = word
        for old, new in LETTER_RULES:
            word = word.replace(old, new)
        if word == before:
            return word


@cache
def surname_spellings() -> dict[str, str]:
    """Each surname spelling, after :data:`LETTER_RULES`, and the one spelling of its group.

    Raises
    ------
    ValueError
        If one spelling stands in two groups (the table would be ambiguous).

    Examples
    --------
    >>> surname_spellings()["park"], surname_spellings()["rhi"]
    ('pak', 'ri')
    """
    out: dict[str, str] = {}
    for group in SURNAMES:
        canonical = _letters(group[0])
        for spelling in group:
            key = _letters(spelling)
            if out.get(key, canonical) != canonical:
                raise ValueError(f"surname spelling {spelling!r} stands in two groups")
            out[key] = canonical
    return out


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name).lower()
    text = "".join(
        c for c in text if not unicodedata.category(c).startswith("M") and c not in APOSTROPHES
    )
    text = "".join(c if unicodedata.category(c)[0] in "LN" else " " for c in text)
    return text.split()


def name_key(name: str) -> str:
    """The key under which spellings of one name meet (see the module's description).

    Examples
    --------
    >>> name_key("Ri Il Kyu") == name_key("Lee Il-gyu") == name_key("Yi Ilgyu")
    True
    >>> name_key("Tae Yongho") == name_key("Thae Yong-ho")
    True
    >>> name_key("Kim Jong Un") == name_key("Kim Yo Jong")
    False
    """
    words = _words(name)
    if not words:
        return ""
    surname = _letters(words[0])
    surname = surname_spellings().get(surname, surname)
    given = _letters("".join(words[1:]))
    return f"{surname} {given}" if given else surname


def _words_expr(column: str) -> pl.Expr:
    """Steps 1 and 2 of :func:`name_key` on a column: the words, separated by one space."""
    return (
        pl.col(column)
        .str.normalize("NFKD")
        .str.to_lowercase()
        .str.replace_all(r"\p{M}", "")
        .str.replace_all(f"[{APOSTROPHES}]", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars(" ")
    )


def _letters_expr(expr: pl.Expr) -> pl.Expr:
    for old, new in LETTER_RULES:
        expr = expr.str.replace_all(old, new, literal=True)
    return expr


#: A word in which some rule of :data:`LETTER_RULES` still applies (one that is not yet what the
#: rules make of it: no right side equals its left).
_UNFINISHED = "|".join(re.escape(old) for old, _ in LETTER_RULES)


def _letters_column(words: pl.Series) -> pl.Series:
    """:data:`LETTER_RULES` applied to every word until none applies, as :func:`_letters` does.

    Each round applies the rules to the words in which one still applies, and only to them: a
    word in which none does is finished.
    """
    out = words
    todo = out.str.contains(_UNFINISHED).fill_null(False).arg_true()
    while len(todo):
        done = out.gather(todo).to_frame("word").select(_letters_expr(pl.col("word")))["word"]
        out = out.scatter(todo, done)
        todo = todo.filter(done.str.contains(_UNFINISHED).fill_null(False))
    return out


def name_keys(names: pl.Series) -> pl.Series:
    """:func:`name_key` of every name in *names*, computed column-wise (nulls stay null).

    Each distinct name is keyed once, and the letter rules run over the words where they
    still apply, as :func:`name_key` runs them until no word changes.

    Examples
    --------
    >>> name_keys(pl.Series(["Ri Il Kyu", "Lee Il-gyu", None])).to_list()
    ['ri ilkyu', 'ri ilkyu', None]
    """
    distinct = pl.DataFrame({"name": names.unique().drop_nulls()}, schema={"name": pl.String})
    words = distinct.with_columns(_words_expr("name").alias("_words"))
    parts = words.with_columns(
        pl.col("_words").str.splitn(" ", 2).struct.rename_fields(["_surname", "_given"])
    ).unnest("_words")
    parts = parts.with_columns(
        _letters_column(parts["_surname"].fill_null("")).alias("_surname"),
        _letters_column(parts["_given"].fill_null("").str.replace_all(" ", "", literal=True)).alias(
            "_given"
        ),
    )
    surname = pl.col("_surname").replace(surname_spellings())
    keyed = parts.select(
        "name",
        pl.when(pl.col("_given") == "")
        .then(surname)
        .otherwise(pl.concat_str(surname, pl.col("_given"), separator=" "))
        .alias("key"),
    )
    frame = pl.DataFrame({"name": names}, schema={"name": pl.String})
    return frame.join(keyed, on="name", how="left", maintain_order="left")["key"].rename(names.name)


# ---- language tags -------------------------------------------------------------------------

#: Scripts whose letters the script check knows (ISO 15924 -> a Rust regex class of letters of
#: those Unicode scripts). A combined code is its scripts together (Kore: Hangul and Han). A tag
#: of another script is not checked against its text.
SCRIPT_LETTERS: dict[str, str] = {
    "Latn": r"\p{sc=Latn}",
    "Hang": r"\p{sc=Hang}",
    "Hani": r"\p{sc=Hani}",
    "Kore": r"\p{sc=Hang}\p{sc=Hani}",
    "Hans": r"\p{sc=Hani}",
    "Hant": r"\p{sc=Hani}",
    "Jpan": r"\p{sc=Hani}\p{sc=Hira}\p{sc=Kana}",
    "Cyrl": r"\p{sc=Cyrl}",
    "Grek": r"\p{sc=Grek}",
    "Arab": r"\p{sc=Arab}",
}
#: The language and script of a Korean name in Latin letters: the one that needs a romanization.
ROMANIZED = ("ko", "Latn")


@dataclass(frozen=True)
class Tag:
    """What one ``lang`` value says: its fault (None if sound), its script, whether romanized."""

    problem: str | None
    script: str | None
    romanized: bool


@cache
def read_tag(tag: str) -> Tag:
    """Read a BCP 47 tag with ``langcodes``.

    Examples
    --------
    >>> read_tag("ko-Latn")
    Tag(problem=None, script='Latn', romanized=True)
    >>> read_tag("en").script, read_tag("ko_latn").problem
    ('Latn', "'ko_latn' is not written as BCP 47 writes it: 'ko-Latn'")
    """
    import langcodes

    if not langcodes.tag_is_valid(tag):
        return Tag(f"{tag!r} is not a valid BCP 47 language tag", None, False)
    language = langcodes.Language.get(tag)
    if language.to_tag() != tag:
        return Tag(
            f"{tag!r} is not written as BCP 47 writes it: {language.to_tag()!r}", None, False
        )
    script = language.script or language.assume_script().script
    if script is None:
        return Tag(
            f"{tag!r} names no script and its language implies none: add one ({tag}-Latn…)",
            None,
            False,
        )
    return Tag(None, script, (language.language, script) == ROMANIZED)
