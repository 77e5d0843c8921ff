"""Unicode character classes for text that must read as a person sees it, and a way to show the rest.

Shared by the cell cleaner (``load/cells.py``) and the text keys (``model.email_key``,
``model.name_key``): whitespace of every kind, characters shown as nothing, direction controls.
"""

from __future__ import annotations

import unicodedata
from itertools import chain

# Unicode White_Space (PropList.txt). str.isspace() also counts U+001C-U+001F, which are controls.
WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
LINE_BREAKS = frozenset("\t\n\x0b\x0c\r\x85\u2028\u2029")


def _span(first: int, last: int) -> range:
    return range(first, last + 1)


# Unicode Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters shown as nothing.
DEFAULT_IGNORABLE = frozenset(chr(c) for c in chain(
    [0x00AD, 0x034F, 0x061C], _span(0x115F, 0x1160), _span(0x17B4, 0x17B5), _span(0x180B, 0x180F),
    _span(0x200B, 0x200F), _span(0x202A, 0x202E), _span(0x2060, 0x206F), [0x3164], _span(0xFE00, 0xFE0F),
    [0xFEFF, 0xFFA0], _span(0xFFF0, 0xFFF8), _span(0x1BCA0, 0x1BCA3), _span(0x1D173, 0x1D17A),
    _span(0xE0000, 0xE0FFF),
))
# Direction controls that reorder the text after them: overrides force a direction on every letter.
BIDI_OVERRIDES = frozenset("\u202d\u202e")
# Embeddings, isolates and their terminators: harmless around a whole cell (Windows wraps pasted
# text in them), but inside text they can reorder words.
BIDI_SCOPES = frozenset("\u202a\u202b\u202c\u2066\u2067\u2068\u2069")
# Invisible wherever they are in text, and without effect on what is shown: removed anywhere.
INVISIBLE = frozenset("\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u200e\u200f\u061c\u180e")


def invisible(char: str) -> bool:
    """Shown as nothing: Default_Ignorable_Code_Point or a format character (category Cf)."""
    return char in DEFAULT_IGNORABLE or unicodedata.category(char) == "Cf"


# Control characters have no Unicode name (only aliases): the ones a spreadsheet cell meets.
_CONTROL_NAMES = {0x00: "NULL", 0x07: "BELL", 0x08: "BACKSPACE", 0x09: "CHARACTER TABULATION", 0x0A: "LINE FEED",
                  0x0B: "LINE TABULATION", 0x0C: "FORM FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE",
                  0x7F: "DELETE", 0x85: "NEXT LINE", 0x9B: "CONTROL SEQUENCE INTRODUCER"}


def char_name(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character named so a reader can find it."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "")
    if not name and unicodedata.category(char) == "Cc":
        name = "a control character"
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def reveal(text: str) -> str:
    """``text`` quoted, with every character a person would not see as itself shown as its escape:
    controls, invisible characters and every space other than U+0020 (``'carol@example.com\\u200b'``,
    ``'Acme\\xa0Corp'``). What a cell held, for the plan; printable letters of any script are kept.
    (``sanitize.visible`` makes text safe to show; this makes a difference between two cells seen.)"""
    out = []
    for char in text:
        if char == "\\" or char == "'":
            out.append("\\" + char)
        elif char == " " or (char.isprintable() and char not in WHITESPACE and char not in DEFAULT_IGNORABLE):
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "'" + "".join(out) + "'"


def without_invisible(text: str) -> str:
    """``text`` without the characters that are shown as nothing."""
    return text if text.isascii() else "".join(c for c in text if not invisible(c))


# ---------------------------------------------------------------------- caseless matching


def _without_dot_above_on_i(text: str) -> str:
    """``text`` (NFD, case-folded) without a combining dot above on ``i`` or ``j``: the dot these
    letters already carry (lower-casing the Turkish ``İ`` gives ``i`` + U+0307, which shows as ``i``).
    Marks below the letter (canonically ordered before the dot) may stand between them."""
    out: list[str] = []
    base = ""
    for char in text:
        combining = unicodedata.combining(char)
        if char == "\u0307" and base in ("i", "j"):
            continue
        if not combining:
            base = char
        elif combining == 230:  # another mark above: a dot after it is seen
            base = ""
        out.append(char)
    return "".join(out)


def caseless(text: str) -> str:
    """The one form text is matched in whatever its letter case, as a person reads it: without the
    characters shown as nothing, with Unicode full case folding (``ß`` and ``ẞ`` as ``ss``, final
    ``ς`` as ``σ``, ``ﬁ`` as ``fi``), the Turkish dotted ``İ`` and dotless ``ı`` as ``i`` (what a
    Turkish-locale system makes of ``I`` and ``i``: ``Lİ.WEİ`` is ``li.wei``), a combining dot
    above on ``i``/``j`` removed, and in NFC. ASCII text is simply lower-cased (the same result)."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFD", without_invisible(text)).replace("\u0131", "i").casefold()
    if "\u0307" in folded:
        folded = _without_dot_above_on_i(folded)
    return unicodedata.normalize("NFC", folded)


# ---------------------------------------------------------------------- characters named for people

# Letters of other scripts and Latin letters outside the alphabets that look like an ASCII letter
# (after Unicode's confusables, UTS #39): a hint in a message, never a rule (rules are in cells.py).
LOOKALIKES = {
    **dict(zip("аеорсухіјѕԁԛԝһӏАВЕКМНОРСТХІЈЅҮԚԜ", "aeopcyxijsdqwhlABEKMHOPCTXIJSYQW", strict=True)),  # Cyrillic
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοναρι", "ABEZHIKMNOPTYXovapi", strict=True)),  # Greek
    **dict(zip("օսհոզ", "ouhnq", strict=True)),  # Armenian
    **dict(zip("ɑɡɩıİǀʟᴀʙᴄᴅᴇɢʜɪᴊᴋᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", "agiiIlLABcDEGHIJKMNoPRsTuvwYz", strict=True)),  # Latin, not in alphabets
}


def looks_like(char: str) -> str | None:
    """The ASCII text ``char`` is taken for at a glance (``а`` -> ``a``, ``𝐣`` -> ``j``), or None."""
    if char in LOOKALIKES:
        return LOOKALIKES[char]
    compat = unicodedata.normalize("NFKC", char)
    return compat if compat != char and compat.isascii() and compat.isprintable() else None


_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "HEBREW", "ARABIC", "COPTIC", "CHEROKEE", "GEORGIAN",
                      "INDIC", "TURKISH", "DEVANAGARI", "THAI", "HANGUL", "KATAKANA", "HIRAGANA", "CJK"})


def describe(char: str) -> str:
    """A character named for a person who does not know Unicode: ``a Greek capital letter Alpha
    (Α, U+0391 GREEK CAPITAL LETTER ALPHA) that looks like A``; an invisible one by its code point
    and name only (``U+200B ZERO WIDTH SPACE``)."""
    name = unicodedata.name(char, "")
    if not name or not char.isprintable() or invisible(char):
        return char_name(char)
    words = ["-".join(p.title() if p in _SCRIPTS else p.lower() for p in w.split("-")) for w in name.split(" ")]
    upper = name.split(" ")
    small = "SMALL" in upper and "CAPITAL" not in upper
    for i in range(1, len(words)):
        if upper[i - 1] in ("LETTER", "CAPITAL", "SMALL"):  # the letter itself, in its case; a name: Alpha
            if len(upper[i]) == 1:
                words[i] = upper[i].lower() if small else upper[i]
            elif upper[i] not in ("LETTER", "CAPITAL", "SMALL", "LIGATURE"):
                words[i] = upper[i].title()
    text = " ".join(words)
    article = "an" if text[:1].lower() in "aeiou" else "a"
    hint = looks_like(char)
    like = f" that looks like {hint}" if hint and hint != char else ""
    glyph = "\u25cc" + char if unicodedata.combining(char) else char  # a mark shown on a dotted circle
    return f"{article} {text} ({glyph}, {char_name(char)}){like}"


def _skeleton(text: str) -> str:
    """``text`` as it looks: without what shows as nothing, any space as a space, compatibility
    forms as their letters (NFKC), lookalike letters as the ASCII letters they look like."""
    text = "".join(" " if c in WHITESPACE else c for c in without_invisible(text))
    text = unicodedata.normalize("NFKC", text)
    return "".join(LOOKALIKES.get(c, c) for c in text)


def looks_alike(before: str, after: str) -> str | None:
    """Why two different texts look the same (``'USA'`` and ``'US\\ufe0fA'``, ``'Germany'`` and
    ``'Germаny'`` with a Cyrillic ``а``), naming the characters that differ; None when they differ
    visibly or are equal."""
    if before == after or _skeleton(before) != _skeleton(after):
        return None
    parts = []
    for side, text, other in (("old", before, after), ("new", after, before)):
        odd = [c for c in dict.fromkeys(text) if c not in other and not c.isascii()]
        if odd:
            parts.append(f"the {side} value holds " + ", ".join(describe(c) for c in odd[:3]))
    return "they look alike: " + "; ".join(parts) if parts else "they look alike"
