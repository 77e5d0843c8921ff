"""A cell as a person sees it: the text of a spreadsheet cell cleaned of what is invisible, with a
record of what was removed, and a refusal of what would be shown differently from how it is stored.

Every cell clocksync reads goes through ``clean_text``; email cells (users and managers) through
``clean_email``. Both return a ``Cell`` (the text, and ``changes``: what was removed or read
differently, for the plan) or raise ``CellError`` with a message for the row and column.

What a text cell loses (the whole family of bytes a person does not see):
- at either end: whitespace of every kind (Unicode White_Space: space, tab, line breaks, NEL,
  NBSP, U+1680, U+2000-U+200A, U+2028/U+2029, U+202F, U+205F, U+3000) and every invisible
  character (Unicode Default_Ignorable_Code_Point and category Cf: zero-width space, joiners, word
  joiner, BOM, soft hyphen, direction marks, embeddings and isolates, variation selectors, Hangul
  fillers, tags);
- anywhere: zero-width space, word joiner, invisible operators, BOM, soft hyphen, direction marks
  (LRM, RLM, ALM) and the Mongolian vowel separator; a space of another kind (NBSP, thin space,
  ideographic space...) between words is read as a plain space. Joiners (ZWJ, ZWNJ), variation
  selectors and tags inside text are kept: they shape scripts and emoji, so a person sees them;
- Excel's text formula ``="00123"`` is read as its text ``00123``;
- decomposed letters (``e`` + U+0301) are composed (NFC).
What a text cell may not hold (``CellError``): control characters (C0, DEL, C1; a tab or line
break only at the ends), private-use, unassigned or surrogate code points, and direction controls
that reorder what is shown: an override (LRO, RLO) before visible text, an embedding or isolate
inside the text.

An email cell is read as the address a person sees: besides the above, every format and invisible
character is removed wherever it is, a ``mailto:`` prefix (any case), the display name and angle
brackets of ``Bob <bob@example.com>`` and quotes around the address are removed, and full-width
forms (``ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ``, what an IME types) are read as the ASCII characters they show.
Whitespace inside an address, an address that mixes scripts (a Cyrillic ``а`` among Latin
letters), and anything that is not an address are refused. Letter case is not a change: addresses
match in any case (``model.email_key``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

from clocksync.chars import (
    BIDI_OVERRIDES,
    BIDI_SCOPES,
    INVISIBLE,
    LINE_BREAKS,
    WHITESPACE,
    char_name,
    describe,
    invisible,
    reveal,
)

_EXCEL_TEXT = re.compile(r'^="((?:[^"]|"")*)"$', re.DOTALL)
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
_ANGLE = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<address>[^<>]*)>$")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "\u201e": "\u201c"}
_LOCAL_ASCII = frozenset("!#$%&'*+/=?^_`{|}~.-")
# A plain ASCII address with nothing to clean: most cells, read without looking at each character.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
)


class CellError(ValueError):
    """A cell clocksync will not read: the message says why, for its row and column."""


@dataclass(frozen=True, slots=True)
class Cell:
    """A cell as read: ``text`` and what was removed or read differently (empty: nothing)."""

    text: str
    changes: tuple[str, ...] = ()
    literal: bool = False  # written as Excel's explicit text ="...": text, whatever it looks like


def _refuse_unreadable(text: str) -> None:
    for i, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cc" and char not in WHITESPACE:
            raise CellError(f"holds the control character {char_name(char)} "
                            f"(at position {i + 1}): remove it in the spreadsheet")
        if category in ("Co", "Cs", "Cn"):
            what = {"Co": "a private-use character", "Cs": "a broken character (a lone surrogate)",
                    "Cn": "a code point Unicode does not assign"}[category]
            raise CellError(f"holds {what}, U+{ord(char):04X} (at position {i + 1}): retype the cell")


def _strip_edges(text: str, removed: Counter[str]) -> str:
    """Remove whitespace and invisible characters at both ends; refuse a leading override."""
    start, end = 0, len(text)
    while start < end and (text[start] in WHITESPACE or invisible(text[start])):
        if text[start] in BIDI_OVERRIDES:
            raise CellError(f"starts with {char_name(text[start])}, which shows the text after it in another "
                            "order than it is stored: retype the cell")
        start += 1
    while end > start and (text[end - 1] in WHITESPACE or invisible(text[end - 1])):
        end -= 1
    for char in chain(text[:start], text[end:]):
        if char != " ":
            removed[f"removed {char_name(char)}"] += 1
    return text[start:end]


def _compose(text: str, changes: list[str]) -> str:
    """``text`` in NFC, each composition named (``composed o + U+0301 COMBINING ACUTE ACCENT as ó``,
    ``read U+212A KELVIN SIGN as K``): the two sides of a cleaned cell look the same, so the change says."""
    if unicodedata.is_normalized("NFC", text):
        return text
    composed = unicodedata.normalize("NFC", text)
    seen: dict[str, str] = {}
    cluster = ""
    for char in text + "\x00":
        if cluster and not unicodedata.combining(char):
            after = unicodedata.normalize("NFC", cluster)
            if after != cluster and cluster not in seen:
                if len(cluster) == 1:
                    seen[cluster] = f"read {char_name(cluster)} as {after} ({char_name(after)}) (NFC)"
                else:
                    parts = " + ".join([cluster[0], *(char_name(c) for c in cluster[1:])])
                    seen[cluster] = f"composed {parts} as {after} (NFC)"
            cluster = ""
        cluster += char
    changes.extend(list(seen.values())[:5] or ["composed decomposed letters (NFC)"])
    return composed


def _counted(removed: Counter[str]) -> list[str]:
    return [what if n == 1 else f"{what} x{n}" for what, n in removed.items()]


def _excel_text(text: str, changes: list[str]) -> str | None:
    """The text of Excel's ``="..."`` (how Excel keeps 00123 as text in a CSV), else None."""
    match = _EXCEL_TEXT.match(text)
    if match is None:
        return None
    changes.append('read Excel\'s ="..." as its text')
    return match.group(1).replace('""', '"')


def _excel_cell(text: str, changes: list[str], clean: Callable[[str], Cell]) -> Cell | None:
    """Excel's ``="..."`` read as its text, cleaned by ``clean``; None for any other cell."""
    inner = _excel_text(text, changes)
    if inner is None:
        return None
    cell = clean(inner)
    return Cell(cell.text, (*changes, *cell.changes), literal=True)


def clean_text(raw: str) -> Cell:
    """A text cell as a person sees it (see the module docstring). Raises CellError."""
    if raw.isascii() and raw.isprintable():  # the common case: nothing invisible can be in it
        text = raw.strip(" ")
        return (_excel_cell(text, [], clean_text) if text.startswith('="') else None) or Cell(text)
    _refuse_unreadable(raw)
    removed: Counter[str] = Counter()
    text = _strip_edges(raw, removed)
    out = []
    for char in text:
        if char in INVISIBLE:
            removed[f"removed {char_name(char)}"] += 1
        elif char in LINE_BREAKS or unicodedata.category(char) == "Cc":
            raise CellError(f"holds {char_name(char)} inside the text: a cell is one line; remove it in the spreadsheet")
        elif char in BIDI_OVERRIDES or char in BIDI_SCOPES:
            raise CellError(f"holds {char_name(char)} inside the text, which changes the order in which the "
                            "text is shown: retype the cell")
        elif char in WHITESPACE and char != " ":
            removed[f"read {char_name(char)} as a space"] += 1
            out.append(" ")
        else:
            out.append(char)
    changes = _counted(removed)
    text = _compose("".join(out), changes)
    return _excel_cell(text, changes, clean_text) or Cell(text, tuple(changes))


# ---------------------------------------------------------------------- email cells


# Typographic forms a person reads as the letters they show: full-width forms (what an East Asian
# input method types) and the Latin ligatures a PDF copy gives (ﬁ, ﬂ, ĳ). Other compatibility
# characters (mathematical, circled, superscript letters) are refused: they are chosen, not typed.
_LIGATURES = frozenset("\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06\u0132\u0133")


def _typographic(text: str, changes: list[str]) -> str:
    """Full-width ASCII forms (U+FF01-U+FF5E) and Latin ligatures as the ASCII letters they show."""
    seen = sorted({c for c in text if "\uff01" <= c <= "\uff5e" or c in _LIGATURES})
    if not seen:
        return text
    wide = [c for c in seen if "\uff01" <= c <= "\uff5e"]
    if wide:
        shown = ", ".join(f"{c!s} ({char_name(c).split(' ', 1)[0]})" for c in wide[:5])
        changes.append(f"read full-width {shown} as ASCII")
    changes.extend(f"read the ligature {c} ({char_name(c)}) as {unicodedata.normalize('NFKC', c)}"
                   for c in seen if c in _LIGATURES)
    return "".join(unicodedata.normalize("NFKC", c) if c in seen else c for c in text)


def _turkish_i(text: str, changes: list[str]) -> str:
    """The Turkish dotted ``İ`` and dotless ``ı``, and ``i`` + U+0307 COMBINING DOT ABOVE (what
    lower-casing ``İ`` gives), as the ``I``/``i`` of an address: what a Turkish-locale system
    makes of ``LI.WEI`` and ``li.wei``."""
    if not any(c in "\u0130\u0131\u0307" for c in text):
        return text
    out = text.replace("i\u0307", "i").replace("j\u0307", "j").replace("\u0130", "I").replace("\u0131", "i")
    if out != text:
        changes.append("read the Turkish dotted or dotless i (İ, ı, i + U+0307) as the I/i of an address")
    return out


def _unwrap(text: str, changes: list[str]) -> str:
    """Remove what mail clients put around an address: ``mailto:``, ``Name <...>``, quotes."""
    for _ in range(3):  # "Bob" <mailto:bob@example.com> takes more than one step
        before = text
        if _MAILTO.match(text):
            changes.append(f"removed {text[:7]!r}")
            text = text[7:].strip(" ")
        angle = _ANGLE.match(text)
        if angle:
            name = angle.group("name").strip().strip("\"'")
            address = angle.group("address").strip(" ").removeprefix("mailto:").removeprefix("MAILTO:")
            if "@" in name and name.casefold() != address.casefold():
                raise CellError(f"two addresses: the display name {reveal(name[:80])} is another address than "
                                f"<{reveal(address[:80])[1:-1]}>; keep the one address in the cell")
            changes.append(f"removed the display name {name!r} and angle brackets" if name
                           else "removed angle brackets")
            text = angle.group("address").strip(" ")
        if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
            changes.append(f"removed the quotes {text[0]}{text[-1]}")
            text = text[1:-1].strip(" ")
        if text == before:
            break
    return text


def plain_email(text: str) -> bool:
    """Whether ``text`` is a plain ASCII address with nothing to clean (most cells)."""
    return len(text) <= 254 and _PLAIN_EMAIL.fullmatch(text) is not None


def clean_email(raw: str) -> Cell:
    """An email cell as the address a person sees (see the module docstring). An empty cell is
    ``Cell("")``. Raises CellError when the cell is not one address or would be seen otherwise."""
    changes: list[str] = []
    if raw.isascii() and raw.isprintable():
        text = raw.strip(" ")
        if not text or plain_email(text):
            return Cell(text)
    else:
        _refuse_unreadable(raw)
        removed: Counter[str] = Counter()
        text = _strip_edges(raw, removed)
        out = []
        for char in text:
            if char in BIDI_OVERRIDES:
                raise CellError(f"holds {char_name(char)}, which shows the address in another order than it is "
                                "stored: retype the cell")
            if invisible(char):
                removed[f"removed {char_name(char)}"] += 1
            else:
                out.append(char)
        changes = _counted(removed)
        text = _turkish_i(_compose(_typographic("".join(out), changes), changes), changes)
    excel = _excel_cell(text, changes, clean_email)
    if excel is not None:
        return excel
    text = _unwrap(text, changes)
    if text:
        problem = email_problem(text)
        if problem:
            raise CellError(f"not an email address: {reveal(text[:80])} ({problem})")
    return Cell(text, tuple(changes))


# ---------------------------------------------------------------------- what an address may be
#
# An address is what a person sees and a mail system delivers: ASCII (RFC 5321), or an address in
# one writing system (RFC 6531). A character that looks like a letter of an address but is another
# is refused, naming it: a letter of another script among Latin letters (Cyrillic ``а``); a
# compatibility character (mathematical ``𝐣``, superscript, circled: not NFKC-stable); a Latin
# letter that is in no alphabet (IPA ``ɑ``, small capital ``ᴊ``, the click ``ǀ``); an accent that
# composes no letter with the one before it (``@`` + U+0301) or that sits on an ASCII letter
# without making a letter of an alphabet. Latin letters are the ASCII ones, those letters with
# accents (``é``, ``ñ``, ``ş``: their canonical decomposition is an ASCII letter and marks), and
# the letters of European alphabets that are not accented ASCII letters (``_ALPHABET_LATIN``).

_ALPHABET_LATIN = frozenset("ßæÆøØœŒłŁđĐðÐþÞħĦŧŦŋŊəƏĸ")
# Accents of any script (Unicode's "Inherited" combining diacritical marks): on a Latin letter they
# compose to an accented letter in NFC, or they are refused; marks of a script's own (Devanagari
# vowel signs, Arabic harakat) belong to its letters.
_DIACRITICS = (range(0x0300, 0x0370), range(0x1AB0, 0x1B00), range(0x1DC0, 0x1E00), range(0x20D0, 0x2100),
               range(0xFE20, 0xFE30))


def _script(char: str) -> str:
    """The script of a letter, from its Unicode name (LATIN, CYRILLIC, GREEK, HAN...)."""
    if char.isascii():
        return "LATIN"
    name = unicodedata.name(char, "")
    for prefix in ("FULLWIDTH ", "HALFWIDTH "):
        name = name.removeprefix(prefix)
    word = name.split(" ", 1)[0]
    return "HAN" if word == "CJK" else word or f"U+{ord(char):04X}"


_ONE_WRITING = ({"HAN", "HIRAGANA", "KATAKANA"}, {"HAN", "HANGUL"}, {"HAN", "BOPOMOFO"})


def mixed_scripts(text: str) -> str | None:
    """Why ``text`` mixes scripts (a Cyrillic ``а`` among Latin letters), or None."""
    if text.isascii():
        return None
    letters: dict[str, list[str]] = {}
    for char in text:
        if unicodedata.category(char)[0] in ("L", "N") and (char.isalnum() or unicodedata.category(char) == "Lm"):
            if char.isascii() and not char.isalpha():
                continue  # ASCII digits go with any script
            letters.setdefault(_script(char), []).append(char)
    scripts = set(letters)
    if len(scripts) <= 1 or any(scripts <= allowed for allowed in _ONE_WRITING):
        return None
    main = max(letters, key=lambda s: (len(letters[s]), s == "LATIN"))
    odd = [c for s, chars in letters.items() if s != main for c in chars]
    shown = "; ".join(describe(c) for c in dict.fromkeys(odd))
    return f"mixes scripts: {shown}, among {main.title()} letters; retype it"


def _lookalike(text: str) -> str | None:
    """Why a character of ``text`` (an address, in NFC) is not the letter it looks like, or None."""
    before = ""
    for char in text:
        if char.isascii():
            before = char
            continue
        if unicodedata.combining(char) or unicodedata.category(char).startswith("M"):
            if any(ord(char) in block for block in _DIACRITICS) or not before.isalpha() or before.isascii():
                on = f"on {before!r}" if before else "at the start"
                return f"holds {describe(char)} {on}, an accent that makes no letter with it; retype the address"
            continue
        if unicodedata.normalize("NFKC", char) != char:
            return f"holds {describe(char)}, another character than the one it looks like; retype the address"
        if _script(char) == "LATIN" and char not in _ALPHABET_LATIN:
            base = unicodedata.normalize("NFD", char)[0]
            if not (base.isascii() and base.isalpha()):
                return (f"holds {describe(char)}, a letter that is in no alphabet addresses are written in; "
                        "retype the address")
        before = char
    return None


def _label_problem(label: str) -> str | None:
    if not label:
        return "an empty part between dots"
    if label.startswith("-") or label.endswith("-"):
        return f"the domain part {label!r} starts or ends with '-'"
    for char in label:
        if not (char.isalnum() or char == "-" or unicodedata.category(char).startswith("M")):
            return f"{char!r} cannot be in a domain"
    return None


def _two_addresses(text: str) -> str | None:
    if text.count("@") < 2:
        return None
    separator = next((c for c in (";", ",", " ", "/", "|") if c in text), None)
    between = f", separated by {separator!r}" if separator else ""
    return f"two addresses in one cell{between}: a cell holds one address"


def email_problem(text: str) -> str | None:
    """Why ``text`` is not one email address (``local@domain.tld``) a person reads as it is, or None."""
    if ("<" in text) != (">" in text):
        return "an unclosed '<'" if "<" in text else "a '>' with no '<' before it"
    breaks = [c for c in text if c in LINE_BREAKS and c != "\t"]
    if breaks:
        return _two_addresses(text) or f"a line break inside ({char_name(breaks[0])}): a cell is one line"
    if any(c in WHITESPACE for c in text):
        return _two_addresses(text) or "it holds a space"
    if "<" in text:
        return "angle brackets outside 'Name <address>'"
    if text.count("@") != 1:
        return "no '@'" if "@" not in text else (_two_addresses(text) if any(c in text for c in ";,/|")
                                                  else "more than one '@'")
    local, domain = text.split("@")
    if not local or not domain:
        return "nothing before the '@'" if not local else "nothing after the '@'"
    lookalike = None if text.isascii() else _lookalike(text)
    if lookalike:
        return lookalike
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "a dot at the start or end of the name, or two dots in a row"
    for char in local:
        if not (char.isalnum() or char in _LOCAL_ASCII or unicodedata.category(char).startswith("M")):
            return f"{char!r} cannot be in an address"
    labels = domain.split(".")
    if len(labels) < 2:
        return "the domain has no dot"
    for label in labels:
        problem = _label_problem(label)
        if problem:
            return problem
    if labels[-1].isdigit():
        return "the domain ends in a number"
    if len(text) > 254:
        return f"{len(text)} characters long (at most 254)"
    return mixed_scripts(text)
