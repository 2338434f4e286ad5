"""The name key: idempotent, spellings of one name meet, distinct surnames stay apart, and the
column-wise key agrees with the plain one; language tags as langcodes reads them."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nk_defections.model.names import SURNAMES, name_key, name_keys, read_tag, surname_spellings

#: Text a name may hold: Latin letters with and without marks (McCune–Reischauer's breve, typed
#: decomposed or not), Hangul, Hanja, Cyrillic, apostrophes, hyphens, spaces, digits, dots.
NAME_TEXT = st.lists(
    st.one_of(
        st.sampled_from(list("abcdeghijklmnoprstuwyABCDEGHIJKLMNOPRSTUWYŏŭŎŬéÉ'’ʼ- .·0123")),
        st.sampled_from(["\u0306", "\u0301", "ng", "eo", "ch", "oo", "ee", "th", "young"]),
        st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
        st.sampled_from(list("АБВгдеёжз")),
    ),
    max_size=20,
).map("".join)

#: Spellings of one name, in the systems and habits the key is for.
SAME = [
    ["Ri Il Kyu", "Lee Il-gyu", "Yi Ilgyu", "Rhee Il-kyu", "RI IL KYU", "ri il-kyu"],
    ["Tae Yongho", "Thae Yong-ho", "Tae Yong Ho", "Thae Yeong-ho", "Tae Young-ho"],
    ["Jo Song Gil", "Cho Sŏng-kil", "Cho Seong-gil", "Jo Seong Gil", "Cho So\u0306ng-kil"],
    ["Kim Jong Un", "Kim Jong-un", "Gim Jeong-eun", "Kim Jŏng-ŭn"],
    ["Pak Chol", "Park Cheol", "Bak Chŏl", "Pak Ch'ŏl"],
    ["Choe Ryong Hae", "Choi Ryong-hae", "Ch'oe Ryong-hae", "Choe Ryonghae"],
    ["O Jin U", "Oh Jin-u", "Oh Jinu"],
    ["Moon Seong Mook", "Mun Song Muk", "Moon Sŏng-muk"],
    ["Ryu Hyon U", "Yu Hyeon-u", "Yoo Hyon U"],
]
#: Common surnames that are not one another (성/송 and similar eo/o pairs excepted on purpose).
DISTINCT_SURNAMES = [
    "Kim", "Ri", "Pak", "Choe", "Jong", "Kang", "Jo", "Yun", "Jang", "Im", "Han", "O", "So",
    "Sin", "Kwon", "Hwang", "An", "Song", "Yu", "Hong", "Jon", "Ko", "Mun", "Ryang", "Son",
    "Pae", "Paek", "Ho", "Nam", "No", "Ha", "Kwak", "Sim", "Cha", "Ju", "U", "Na", "Min",
    "Ryom", "Chae", "Won", "Pang", "Kong", "Hyon", "Tae",
]  # fmt: skip


@pytest.mark.parametrize("spellings", SAME, ids=[group[0] for group in SAME])
def test_spellings_of_one_name_share_a_key(spellings: list[str]) -> None:
    assert len({name_key(spelling) for spelling in spellings}) == 1, [
        (spelling, name_key(spelling)) for spelling in spellings
    ]


def test_distinct_common_surnames_keep_distinct_keys() -> None:
    keys = {surname: name_key(surname) for surname in DISTINCT_SURNAMES}
    assert len(set(keys.values())) == len(keys), keys


def test_every_spelling_of_a_surname_group_has_its_first_spelling_key() -> None:
    for group in SURNAMES:
        assert {name_key(spelling) for spelling in group} == {name_key(group[0])}, group
    assert surname_spellings()  # the table is unambiguous: building it raises otherwise


def test_names_of_other_people_stay_apart() -> None:
    assert name_key("Kim Jong Un") != name_key("Kim Yo Jong")
    assert name_key("Ri Il Kyu") != name_key("Ri Il Nam")
    assert name_key("리일규") != name_key("Ri Il Kyu")  # a key compares within a script
    assert name_key("리일규") == name_key("리일규 ") != name_key("리 일규")  # no space, one word


@given(NAME_TEXT)
def test_the_key_is_idempotent(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key


@given(st.lists(st.one_of(NAME_TEXT, st.none()), max_size=12))
def test_the_column_wise_key_agrees_with_the_plain_one(texts: list[str | None]) -> None:
    expected = [None if text is None else name_key(text) for text in texts]
    assert name_keys(pl.Series("name", texts, dtype=pl.String)).to_list() == expected


@pytest.mark.parametrize(
    ("tag", "problem", "script", "romanized"),
    [
        ("ko-Latn", False, "Latn", True),
        ("ko-Hang", False, "Hang", False),
        ("ko-Hani", False, "Hani", False),
        ("ko-Kore", False, "Kore", False),
        ("ko", False, "Kore", False),
        ("en", False, "Latn", False),
        ("en-Latn", False, "Latn", False),
        ("ko_Latn", True, None, False),
        ("ko-latn", True, None, False),
        ("ko-Hangul", True, None, False),
        ("xx-Latn", True, None, False),
        ("zh", True, None, False),
        ("", True, None, False),
    ],
)
def test_language_tags_are_read_with_langcodes(
    tag: str, problem: bool, script: str | None, romanized: bool
) -> None:
    read = read_tag(tag)
    assert (read.problem is not None, read.script, read.romanized) == (problem, script, romanized)
