"""One sanitiser for every place text from the workspace or the CSV is shown or written.

Display names (which members set themselves), emails, group names and field values are foreign
text: a reviewer must see exactly what an action does, never what a value makes the screen do.
Each medium has one function here, and every renderer, the CLI, the audit CSV and export use them:

- ``visible``: a terminal line. Every character a terminal, a browser or an editor could act on
  instead of showing (C0/C1 controls with ESC, CSI, OSC 8 links, CR, BS, NUL, DEL and U+009B;
  bidi overrides and isolates; zero-width and other format characters; every other character
  shown as nothing (variation selectors, Hangul fillers); line and paragraph separators;
  unassigned code points) is shown as its Python-style escape (``\\x1b``, ``\\u202e``).
  ``visible_lines`` does the same and keeps the line breaks of a multi-line message.
- ``markdown`` (a pull-request comment): ``visible`` plus markup escaped (links, images, HTML tags,
  table pipes, emphasis, math) and GitHub's live references (``@mentions``, ``#123``, bare links)
  put in code spans, where GitHub does not act on them. ``markdown_code`` is a whole code span.
- ``html``: ``visible`` plus HTML escaping (text and attribute values).
- ``json_safe``: JSON text whose strings hold such characters as ``\\uXXXX`` escapes (the same
  JSON value; nothing a terminal acts on when it is printed).
- ``csv_cell`` (the audit CSV): ``visible`` plus the formula rule below.
- ``export_cell`` / ``read_cell`` (a users CSV that clocksync writes and reads back): a cell a
  spreadsheet would run as a formula (``= + - @``, a tab or CR first, or their full-width forms;
  a ``-`` followed by a plain number is a number) gets a leading apostrophe, as does one already
  starting with an apostrophe; the loader removes exactly that apostrophe, so the value reads back
  unchanged. No other character is changed: an export must round-trip.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from typing import Any

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


# Default_Ignorable code points that str.isprintable() counts as printable (they are marks or
# letters, not format characters) and that show as nothing: variation selectors, the combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors.
_PRINTABLE_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")


def _shown(char: str) -> bool:
    """A character that shows as itself: printable, or a space (NBSP and its kin are spaces), and
    not one that shows as nothing."""
    return (char.isprintable() or unicodedata.category(char) == "Zs") and not _PRINTABLE_INVISIBLE.match(char)


def visible(text: str) -> str:
    """``text`` with every character that is not shown as itself replaced by its escape.

    str.isprintable() is False for every control, format, separator, surrogate, private-use and
    unassigned code point (and for spaces other than U+0020), so the common case is one C call;
    the few invisible characters it counts as printable (a variation selector, a Hangul filler)
    are one regex search.
    """
    if text.isprintable() and (text.isascii() or not _PRINTABLE_INVISIBLE.search(text)):
        return text
    return "".join(c if _shown(c) else _escape(c) for c in text)


def visible_lines(text: str) -> str:
    """``visible`` line by line: a multi-line message keeps its line breaks (and only those)."""
    return "\n".join(visible(line) for line in text.split("\n"))


def is_dangerous(char: str) -> bool:
    """Whether ``visible`` escapes ``char`` (for tests and callers that check rather than escape)."""
    return not _shown(char)


# ---------------------------------------------------------------------- markdown (GitHub)

_MD_PUNCTUATION = "\\`*_[]<>|&~$!#"
# GitHub acts on these in comment text: @user and @org/team mentions, #123 and owner/repo#123
# references, GH-123, bare links. Inside a code span it acts on none of them.
_LIVE = re.compile(
    r"(?<![A-Za-z0-9])@[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)?"
    r"|(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#\d+"
    r"|\bGH-\d+"
    r"|(?:https?://|www\.)[^\s`]+",
    re.IGNORECASE,
)


def _md_plain(text: str) -> str:
    return "".join("\\" + c if c in _MD_PUNCTUATION else c for c in text)


def markdown_code(text: str) -> str:
    """``text`` as one inline code span (nothing inside is markup), whatever backticks it holds."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown(text: str) -> str:
    """Foreign text inside a markdown comment: shown as written, acting on nothing."""
    text = visible(text)
    out: list[str] = []
    last = 0
    for match in _LIVE.finditer(text):
        out.append(_md_plain(text[last:match.start()]))
        out.append(markdown_code(match.group()))
        last = match.end()
    out.append(_md_plain(text[last:]))
    return "".join(out)


# ---------------------------------------------------------------------- HTML and JSON


def html(text: str) -> str:
    """Foreign text in HTML text or a quoted attribute value."""
    return _html.escape(visible(text), quote=True)


def json_safe(text: str) -> str:
    """JSON text (from json.dumps) with every character ``visible`` would escape written as a
    ``\\uXXXX`` escape: the same JSON value, nothing a terminal acts on. Such characters can only
    stand inside JSON strings, where the escape means the same character."""
    lines = text.split("\n")  # JSON's own line breaks (indentation); a string's are escaped already
    if all(line.isprintable() for line in lines):
        return text
    return "\n".join(line if line.isprintable() else "".join(map(_json_char, line)) for line in lines)


def _json_char(char: str) -> str:
    if _shown(char):
        return char
    if ord(char) < 0x10000:
        return f"\\u{ord(char):04x}"
    code = ord(char) - 0x10000  # a UTF-16 surrogate pair, as JSON writes code points past the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# ---------------------------------------------------------------------- spreadsheets

_FORMULA_START = ("=", "+", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff20", "-", "\uff0d")
_NUMBER = re.compile(r"[-\uff0d]\d+([.,]\d+)?")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula (``-`` and a plain number is a number)."""
    if not text.startswith(_FORMULA_START):
        return False
    return not _NUMBER.fullmatch(text)


def export_cell(value: Any) -> str:
    """A cell of a CSV clocksync writes and reads back: a formula, or text starting with an
    apostrophe, gets an apostrophe first; ``read_cell`` takes exactly that one away."""
    text = "" if value is None else str(value)
    return "'" + text if looks_like_formula(text) or text.startswith("'") else text


def read_cell(cell: str) -> tuple[str, bool]:
    """The value of a cell ``export_cell`` may have written, and whether it was marked as text.

    ``'=x`` is the text ``=x`` and ``''x`` the text ``'x``; any other cell is its own value (an
    apostrophe before ordinary text, as people type it, stays)."""
    if cell.startswith("'") and (looks_like_formula(cell[1:]) or cell[1:].startswith("'")):
        return cell[1:], True
    return cell, False


def csv_cell(value: Any) -> str:
    """A cell of the audit CSV: shown safely in a terminal (``visible``) and never run as a formula."""
    text = visible("" if value is None else str(value))
    return "'" + text if looks_like_formula(text) else text


__all__ = ["csv_cell", "export_cell", "html", "is_dangerous", "json_safe", "looks_like_formula", "markdown",
           "markdown_code", "read_cell", "visible", "visible_lines"]
