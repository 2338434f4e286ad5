"""Text fit for a terminal: every character that is not printable, written as its escape.

Findings, diffs and messages carry text from the data (ids, JSON keys, CSV headers, cell
values, file names). Written raw, a control character in it could end a line early and forge
the next one (a newline, a carriage return), move the cursor or retitle the terminal (an ESC
starting a CSI or OSC sequence, or the one-byte C1 forms of them), or turn the text around (a
bidirectional override). Every writer of text for humans passes what it writes through
:func:`printable`, so that one finding is one line and shows what the data holds.
"""

from __future__ import annotations


def _escape(char: str) -> str:
    return repr(char)[1:-1]


def printable(text: str) -> str:
    r"""Write every character of *text* that is not printable as its Python escape.

    Printable is :meth:`str.isprintable`: letters, marks, numbers, punctuation, symbols and
    the space. Line breaks, controls (C0, DEL, C1), format characters (the bidirectional
    overrides and isolates, zero-width ones), separators other than the space, surrogates and
    unassigned code points are escaped (``\n``, ``\x1b``, ``\u202e``); a backslash is kept as
    it is.

    Examples
    --------
    >>> printable("per-1\x1b]0;owned\x07\nforged line")
    'per-1\\x1b]0;owned\\x07\\nforged line'
    >>> printable("\u202eabc"), printable("김정은 é")
    ('\\u202eabc', '김정은 é')
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)
