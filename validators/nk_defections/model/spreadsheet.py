"""What a spreadsheet would run as a formula when it opens a CSV cell: the one rule for it.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets, Numbers) evaluates a cell that begins
with ``=``, ``+``, ``-`` or ``@`` (OWASP, "CSV Injection"; CWE-1236); a TAB or CR before them
is a known way past filters that look at the first character only, and so are leading spaces
and quotes (a spreadsheet trims them, or reads a quoted cell in another dialect) and the
compatibility forms of the four characters (full-width ``＝``, small ``﹦``, superscript ``⁺``),
which an input method or a normalising import turns into the ASCII ones. The project's rule:

* a text cell that begins, after any white space and quotes, with one of those characters, or
  that begins with a TAB or CR, is refused;
* except a cell that is a plain decimal number (``-3``, ``+2.5``, ``-1.5e+16``): a spreadsheet reads it as a
  number, and a formula made of a number alone runs nothing. Numbers in number columns are
  typed, and never text cells.

No legitimate value of the dataset needs more: an id, a code or a date never begins with one of
these characters, and a name, title or note can always be written beginning with a word.
"""

from __future__ import annotations

import re

import polars as pl

#: The characters that start a formula: ``= + - @`` and every character whose NFKC form is one
#: of them (tests derive this set from unicodedata), and the minus sign U+2212, which looks the
#: same as ``-``.
TRIGGERS = (
    "=+\\-@\u207a\u207c\u208a\u208c\ufb29\ufe62\ufe63\ufe66\ufe6b\uff0b\uff0d\uff1d\uff20\u2212"
)
#: What a spreadsheet may pass over before the first character it reads: white space, and
#: straight, typographic and full-width quotes.
LEADING = "\\s\"'\u2018\u2019\u201c\u201d\uff02\uff07"
#: A text cell that a spreadsheet would run as a formula (with :data:`NUMBER` left out).
FORMULA = f"^(?:[\\t\\r]|[{LEADING}]*[{TRIGGERS}])"
#: A plain decimal number, perhaps in exponent notation (``-5.99e+16``, as a number's text is
#: written): read as a number, never run.
NUMBER = "^[+-]?[0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"

_FORMULA = re.compile(FORMULA)
_NUMBER = re.compile(NUMBER)


def is_formula(text: str) -> bool:
    """Whether a spreadsheet would run *text*, as a cell of a CSV file, as a formula.

    Examples
    --------
    >>> is_formula("=cmd|' /C calc'!A0"), is_formula(" ＝1+1"), is_formula("-2+3+cmd|'/C calc'!A0")
    (True, True, True)
    >>> is_formula("-3"), is_formula("Kim Jong Un"), is_formula("e-mail")
    (False, False, False)
    """
    return bool(_FORMULA.search(text)) and not _NUMBER.search(text)


def formula_expr(column: str | pl.Expr) -> pl.Expr:
    """:func:`is_formula` of every cell of a string *column*, as a polars expression.

    Examples
    --------
    >>> frame = pl.DataFrame({"name": ["=1+1", "-3", "Ri", None]})
    >>> frame.select(formula_expr("name"))["name"].to_list()
    [True, False, False, None]
    """
    col = pl.col(column) if isinstance(column, str) else column
    return col.str.contains(FORMULA) & ~col.str.contains(NUMBER)
