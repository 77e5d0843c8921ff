"""Names clocksync makes, kept within the API's limits.

A user group's name holds at most 100 characters (the spec's ``UserGroupRequest.name``). Clockify's
backend counts a Java string's length, in UTF-16 code units, so a character outside the Basic
Multilingual Plane (most emoji) counts twice; clocksync counts the same way, so a name it makes is
never refused for its length.

The shortening rule (README, "Group names"): a name longer than the limit keeps as many of its
leading characters as fit with an ellipsis ``…`` after them (never cutting a character from its
combining accents), followed by the suffix that tells it apart when it has one (`` (email)``).
It is a function of the name alone, so the same manager's group gets the same name in every plan
and is recognised as one clocksync made (``plan.groups`` keeps a group's name when a namesake
manager comes or goes).
"""

from __future__ import annotations

import hashlib
import unicodedata

GROUP_NAME_LIMIT = 100
ELLIPSIS = "…"
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}  # zero-width joiner, variation selectors: parts of one symbol
MIN_KEPT = 10  # below this many characters of the name, a suffix is replaced by a short digest


def api_length(text: str) -> int:
    """The length the API counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, units: int) -> str:
    """The longest start of ``text`` within ``units`` UTF-16 code units, not ending inside a
    character's combining sequence, trailing whitespace removed."""
    kept: list[str] = []
    used = 0
    for char in text:
        size = api_length(char)
        if used + size > units:
            break
        kept.append(char)
        used += size
    while kept and len(kept) < len(text) and (unicodedata.combining(text[len(kept)]) or text[len(kept)] in _JOINERS):
        kept.pop()  # the next character joins the last kept one (an accent, a ZWJ emoji part): drop both
    while kept and kept[-1] in _JOINERS:
        kept.pop()  # never end on a joiner
    return "".join(kept).rstrip()


def fit_name(name: str, suffix: str = "", limit: int = GROUP_NAME_LIMIT) -> str:
    """``name + suffix`` in NFC (a name typed decomposed is measured and sent composed) if it fits in
    ``limit``; else the name shortened (rule above) so that it does.

    A suffix so long that fewer than ``MIN_KEPT`` characters of the name would remain (a very long
    email) is replaced by `` #`` and eight hex digits of its digest, which keeps names unique.
    """
    name, suffix = unicodedata.normalize("NFC", name), unicodedata.normalize("NFC", suffix)  # as letters compare
    whole = name + suffix
    if api_length(whole) <= limit:
        return whole
    room = limit - api_length(suffix) - api_length(ELLIPSIS)
    if room < MIN_KEPT and suffix:
        suffix = " #" + hashlib.sha256(suffix.strip().encode()).hexdigest()[:8]
        return fit_name(name, suffix, limit)
    return _cut(name, room) + ELLIPSIS + suffix
