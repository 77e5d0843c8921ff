"""A cell is read as a person sees it: every way its bytes can differ, cleaned or refused, in the
user column and in the manager column (table-driven: one row per member of the family)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from clocksync.chars import WHITESPACE, reveal
from clocksync.config import Config
from clocksync.errors import CsvError
from clocksync.load.cells import CellError, clean_email, clean_text
from clocksync.load.desired import load_desired
from clocksync.model import CustomField, email_key, name_key, value_text
from clocksync.plan.diff import diff
from clocksync.plan.types import PlanOptions
from tests.factories import config, current, desired, group, member, profile, spec, tm

BOB = "bob@example.com"

# (id, cell, what it removed: a substring of one of the changes)
_FORMAT_CHARACTERS = {
    "zero-width-space": "\u200b", "zero-width-non-joiner": "\u200c", "zero-width-joiner": "\u200d",
    "left-to-right-mark": "\u200e", "right-to-left-mark": "\u200f", "arabic-letter-mark": "\u061c",
    "word-joiner": "\u2060", "invisible-times": "\u2062", "bom": "\ufeff", "soft-hyphen": "\u00ad",
    "mongolian-vowel-separator": "\u180e", "combining-grapheme-joiner": "\u034f", "variation-selector-16": "\ufe0f",
    "hangul-filler": "\u3164", "tag-space": "\U000e0020", "lre": "\u202a", "rle": "\u202b", "pdf": "\u202c",
    "lri": "\u2066", "rli": "\u2067", "fsi": "\u2068", "pdi": "\u2069", "interlinear-annotation": "\ufff9",
}
EMAIL_CLEANED = [
    *[pytest.param(f"{BOB}{char}", BOB, f"U+{ord(char):04X}", id=f"trailing-{name}")
      for name, char in _FORMAT_CHARACTERS.items()],
    *[pytest.param(f"{char}{BOB}", BOB, f"U+{ord(char):04X}", id=f"leading-{name}")
      for name, char in _FORMAT_CHARACTERS.items()],
    *[pytest.param(f"bo{char}b@example.com", BOB, f"U+{ord(char):04X}", id=f"inside-{name}")
      for name, char in _FORMAT_CHARACTERS.items() if char not in "\u202a\u202b\u202c\u2066\u2067\u2068\u2069"],
    *[pytest.param(f"{ws}{BOB}{ws}", BOB, f"U+{ord(ws):04X}", id=f"around-U+{ord(ws):04X}")
      for ws in sorted(WHITESPACE) if ws != " "],
    pytest.param(f"  {BOB}  ", BOB, None, id="plain-spaces-not-reported"),
    pytest.param(f"mailto:{BOB}", BOB, "'mailto:'", id="mailto"),
    pytest.param(f"MAILTO:{BOB}", BOB, "'MAILTO:'", id="MAILTO"),
    pytest.param(f"MailTo: {BOB}", BOB, "'MailTo:'", id="MailTo-space"),
    pytest.param(f"\u200bmailto:{BOB}\u200b", BOB, "'mailto:'", id="mailto-in-invisible"),
    pytest.param(f"Bob Builder <{BOB}>", BOB, "display name 'Bob Builder'", id="name-angle"),
    pytest.param(f'"Builder, Bob" <{BOB}>', BOB, "display name 'Builder, Bob'", id="quoted-name-angle"),
    pytest.param(f"<{BOB}>", BOB, "angle brackets", id="angle"),
    pytest.param(f"Bob <mailto:{BOB}>", BOB, "'mailto:'", id="angle-mailto"),
    pytest.param(f'"{BOB}"', BOB, 'quotes ""', id="double-quotes"),
    pytest.param(f"'{BOB}'", BOB, "quotes ''", id="single-quotes"),
    pytest.param(f"\u201c{BOB}\u201d", BOB, "quotes \u201c\u201d", id="curly-quotes"),
    pytest.param(f'="{BOB}"', BOB, '="..."', id="excel-text-formula"),
    pytest.param("jose\u0301@example.com", "jos\u00e9@example.com", "NFC", id="nfd"),
    pytest.param("bob\uff20example.com", BOB, "U+FF20", id="fullwidth-at"),
    pytest.param("\uff42\uff4f\uff42\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d", BOB,
                 "full-width", id="fullwidth-all"),
    pytest.param("\u202abob@example.com\u202c", BOB, "U+202A", id="windows-ltr-wrap"),
    pytest.param("\u200b", "", "U+200B", id="only-invisible-is-blank"),
    pytest.param("Bob@Example.COM", "Bob@Example.COM", None, id="case-kept-matched-by-key"),
    # Case mappings that are not one to one: what a Turkish-locale system makes of I and i.
    pytest.param("L\u0130.WE\u0130@EXAMPLE.COM", "LI.WEI@EXAMPLE.COM", "Turkish", id="turkish-dotted-capital-I"),
    pytest.param("LI\u0307.WEI@EXAMPLE.COM", "LI.WEI@EXAMPLE.COM", "Turkish", id="turkish-I-plus-dot-above"),
    pytest.param("l\u0131.we\u0131@example.com", "li.wei@example.com", "Turkish", id="turkish-dotless-i"),
    pytest.param("li\u0307.wei@example.com", "li.wei@example.com", "Turkish", id="i-plus-dot-above"),
    pytest.param("j\u0307ane@example.com", "jane@example.com", "Turkish", id="j-plus-dot-above"),
    # Typographic forms a PDF copy gives: read as the letters they show.
    pytest.param("\ufb01ona@example.com", "fiona@example.com", "LIGATURE FI", id="ligature-fi"),
    pytest.param("ra\ufb00aele@example.com", "raffaele@example.com", "LIGATURE FF", id="ligature-ff"),
    pytest.param("\ufb02o@example.com", "flo@example.com", "LIGATURE FL", id="ligature-fl"),
    pytest.param("\u0133sbrand@example.com", "ijsbrand@example.com", "LIGATURE IJ", id="ligature-ij"),
    pytest.param("ahmed.\u212aan@example.com", "ahmed.Kan@example.com", "KELVIN SIGN as K", id="kelvin-sign"),
    pytest.param("jo\u0301hn@example.com", "j\u00f3hn@example.com", "o + U+0301 COMBINING ACUTE ACCENT",
                 id="nfd-names-the-accent"),
    # Letters of an alphabet, with or without accents, are letters of an address.
    pytest.param("stra\u00dfe@example.de", "stra\u00dfe@example.de", None, id="sharp-s"),
    pytest.param("bj\u00f8rn@example.no", "bj\u00f8rn@example.no", None, id="o-slash"),
    pytest.param("\u0142ukasz@example.pl", "\u0142ukasz@example.pl", None, id="l-stroke"),
    pytest.param("\u015fule@example.com.tr", "\u015fule@example.com.tr", None, id="s-cedilla"),
    pytest.param("\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae@\u03c0\u03b1\u03c1\u03ac\u03b4\u03b5\u03b9\u03b3\u03bc\u03b1."
                 "\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae", None, None, id="all-greek"),
    pytest.param("\u092c\u0949\u092c@\u0909\u0926\u093e\u0939\u0930\u0923.\u092d\u093e\u0930\u0924", None, None,
                 id="all-devanagari-with-its-marks"),
]
EMAIL_REFUSED = [
    pytest.param("b\u043eb@example.com", "U+043E CYRILLIC SMALL LETTER O", id="cyrillic-o"),
    pytest.param("bob@ex\u0430mple.com", "U+0430 CYRILLIC SMALL LETTER A", id="cyrillic-a-in-domain"),
    pytest.param("\u03b1lice@example.com", "GREEK", id="greek-alpha"),
    pytest.param("\U0001d41b\U0001d428\U0001d41b@example.com", "MATHEMATICAL BOLD", id="math-bold"),
    # Lookalikes that are Latin by their script, or one script only: the address is not what it looks like.
    *[pytest.param(cell, what, id=name) for name, cell, what in [
        ("latin-alpha", "bob@ex\u0251mple.com", "U+0251 LATIN SMALL LETTER ALPHA) that looks like a"),
        ("script-g", "\u0261eorge@example.com", "U+0261 LATIN SMALL LETTER SCRIPT G) that looks like g"),
        ("small-capital-j", "\u1d0aohn@example.com", "U+1D0A LATIN LETTER SMALL CAPITAL J) that looks like J"),
        ("small-capital-o", "j\u1d0fhn@example.com", "U+1D0F LATIN LETTER SMALL CAPITAL O) that looks like o"),
        ("small-capital-l", "\u029fi@example.com", "U+029F LATIN LETTER SMALL CAPITAL L"),
        ("dental-click", "\u01c0i.wei@example.com", "U+01C0 LATIN LETTER DENTAL CLICK) that looks like l"),
        ("latin-iota", "b\u0269ll@example.com", "U+0269 LATIN SMALL LETTER IOTA) that looks like i"),
        ("long-s", "\u017ftan@example.com", "U+017F LATIN SMALL LETTER LONG S) that looks like s"),
        ("all-math-bold", "\U0001d423\U0001d428\U0001d421\U0001d427@\U0001d41e\U0001d431.\U0001d41c\U0001d428",
         "MATHEMATICAL BOLD SMALL J) that looks like j"),
        ("math-italic", "bo\U0001d44f@example.com", "MATHEMATICAL ITALIC SMALL B"),
        ("math-monospace", "\U0001d68b\U0001d698\U0001d68b@example.com", "MATHEMATICAL MONOSPACE"),
        ("math-double-struck", "bob@\U0001d556xample.com", "MATHEMATICAL DOUBLE-STRUCK"),
        ("circled", "b\u24deb@example.com", "CIRCLED LATIN SMALL LETTER O) that looks like o"),
        ("superscript", "bo\u1d47@example.com", "MODIFIER LETTER SMALL B) that looks like b"),
        ("accent-after-at", "bob@\u0301example.com", "COMBINING ACUTE ACCENT) on '@'"),
        ("accent-after-dot", "bob.\u0300b@example.com", "on '.'"),
        ("accent-at-the-start", "\u0301bob@example.com", "at the start"),
        ("dot-above-on-l", "l\u0307i.wei@example.com", "COMBINING DOT ABOVE) on 'l', an accent that makes no letter"),
        ("two-accents-no-letter", "bo\u0301\u0301b@example.com", "an accent that makes no letter"),
        ("enclosing-keycap", "bob1\u20e3@example.com", "COMBINING ENCLOSING KEYCAP"),
        ("cyrillic-i", "b\u0456ll@example.com", "U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I) that looks like i"),
        ("greek-omicron", "b\u03bfb@example.com", "U+03BF GREEK SMALL LETTER OMICRON) that looks like o"),
        ("armenian-o", "b\u0585b@example.com", "U+0585 ARMENIAN SMALL LETTER OH) that looks like o"),
        ("cherokee-a", "\u13aalice@example.com", "U+13AA CHEROKEE LETTER GO"),
    ]],
    pytest.param("\u0438\u0432\u0430\u043d@example.com", "mixes scripts", id="cyrillic-name-latin-domain"),
    pytest.param("bob@example.com\x07", "U+0007 BELL", id="bell"),
    pytest.param("\x00bob@example.com", "U+0000 NULL", id="nul"),
    pytest.param("bob\x1b[31m@example.com", "U+001B ESCAPE", id="escape-sequence"),
    pytest.param("bob@example.com\x7f", "U+007F DELETE", id="del"),
    pytest.param("bob@example.com\x9b", "U+009B", id="c1-csi"),
    pytest.param("bob\x1f@example.com", "U+001F", id="unit-separator"),
    pytest.param("bob\x85@example.com", "a line break inside (U+0085 NEXT LINE)", id="nel-inside"),
    pytest.param("bob @example.com", "a space", id="space-inside"),
    pytest.param("bob\u00a0@example.com", "a space", id="nbsp-inside"),
    pytest.param("bob\t@example.com", "a space", id="tab-inside"),
    pytest.param("\u202ebob@example.com", "RIGHT-TO-LEFT OVERRIDE", id="rlo-leading"),
    pytest.param("bob\u202e@example.com", "RIGHT-TO-LEFT OVERRIDE", id="rlo-inside"),
    pytest.param("\u202dbob@example.com", "LEFT-TO-RIGHT OVERRIDE", id="lro-leading"),
    pytest.param("bob\ue000@example.com", "private-use", id="private-use"),
    pytest.param("bob\u0378@example.com", "does not assign", id="unassigned"),
    pytest.param("bob\ud800@example.com", "surrogate", id="lone-surrogate"),
    pytest.param("bob@@example.com", "more than one '@'", id="two-ats"),
    pytest.param("bob.example.com", "no '@'", id="no-at"),
    pytest.param("bob@example", "no dot", id="no-dot"),
    pytest.param("bob@example.com.", "empty part", id="trailing-dot"),
    pytest.param("bob..b@example.com", "two dots", id="double-dot"),
    pytest.param(".bob@example.com", "dot at the start", id="leading-dot"),
    pytest.param("bob@-example.com", "'-'", id="hyphen-label"),
    pytest.param("bob@example.123", "number", id="numeric-tld"),
    pytest.param("bob@exa_mple.com", "'_'", id="underscore-domain"),
    pytest.param(f"{BOB}; carol@example.com", "two addresses in one cell, separated by ';'", id="two-addresses"),
    pytest.param(f"{BOB},carol@example.com", "two addresses in one cell, separated by ','", id="two-addresses-comma"),
    pytest.param(f"{BOB}\u2028carol@example.com", "two addresses in one cell", id="two-addresses-line-separator"),
    pytest.param(f"{BOB}\ncarol@example.com", "two addresses in one cell", id="two-addresses-line-feed"),
    pytest.param(f"{BOB} carol@example.com", "two addresses in one cell", id="two-addresses-space"),
    pytest.param(f"Bob Builder <{BOB}", "an unclosed '<'", id="unclosed-angle"),
    pytest.param(f"Bob Builder {BOB}>", "a '>' with no '<'", id="closing-angle-only"),
    pytest.param(f"carol@example.com <{BOB}>", "the display name 'carol@example.com' is another address",
                 id="display-name-is-another-address"),
    pytest.param(f"mailto:{BOB}?subject=hi", "'?'", id="mailto-query"),
    pytest.param("@example.com", "nothing before", id="no-name"),
    pytest.param("x" * 250 + "@example.com", "at most 254", id="too-long"),
]
TEXT_CLEANED = [
    pytest.param("Acme\u00a0Corp", "Acme Corp", "U+00A0 NO-BREAK SPACE as a space", id="nbsp-inside"),
    pytest.param("Acme\u2007Corp", "Acme Corp", "U+2007", id="figure-space-inside"),
    pytest.param("Acme\u202fCorp", "Acme Corp", "U+202F", id="narrow-nbsp-inside"),
    pytest.param("Acme\u3000Corp", "Acme Corp", "U+3000", id="ideographic-space-inside"),
    pytest.param("Acme\u200bCorp", "AcmeCorp", "U+200B", id="zwsp-inside"),
    pytest.param("Ac\u00adme", "Acme", "SOFT HYPHEN", id="soft-hyphen-inside"),
    pytest.param("\ufeffAcme", "Acme", "U+FEFF", id="bom"),
    pytest.param("Acme\u200e", "Acme", "U+200E", id="lrm"),
    pytest.param("\u2066Acme\u2069", "Acme", "U+2066", id="isolate-around"),
    pytest.param("\t40\t", "40", "CHARACTER TABULATION", id="tabs-around"),
    pytest.param("40\r\n", "40", "CARRIAGE RETURN", id="crlf-after"),
    pytest.param('="00123"', "00123", '="..."', id="excel-text"),
    pytest.param('=" 00123 "', "00123", '="..."', id="excel-text-spaces"),
    pytest.param('="say ""hi"""', 'say "hi"', '="..."', id="excel-text-quotes"),
    pytest.param("Jose\u0301", "Jos\u00e9", "NFC", id="nfd"),
    pytest.param("\U0001f468\u200d\U0001f469", "\U0001f468\u200d\U0001f469", None, id="emoji-zwj-kept"),
    pytest.param("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
                 None, id="persian-zwnj-kept"),
    pytest.param(" Acme ", "Acme", None, id="plain-spaces-not-reported"),
]
TEXT_REFUSED = [
    pytest.param("Acme\x07", "U+0007 BELL", id="bell"),
    pytest.param("Acme\nCorp", "one line", id="line-feed-inside"),
    pytest.param("Acme\tCorp", "one line", id="tab-inside"),
    pytest.param("Acme\u2028Corp", "one line", id="line-separator-inside"),
    pytest.param("Acme\x9b", "U+009B", id="c1"),
    pytest.param("Acme\x1b[2J", "ESCAPE", id="escape"),
    pytest.param("Acme\u202eproC", "RIGHT-TO-LEFT OVERRIDE", id="rlo-inside"),
    pytest.param("\u202eemcA", "RIGHT-TO-LEFT OVERRIDE", id="rlo-leading"),
    pytest.param("a\u2067b c\u2069d", "RIGHT-TO-LEFT ISOLATE", id="isolate-reorders-words"),
    pytest.param("Acme\ue000", "private-use", id="private-use"),
]


@pytest.mark.parametrize(("cell", "expected", "removed"), EMAIL_CLEANED)
def test_email_cells_are_read_as_the_address_a_person_sees(cell: str, expected: str | None,
                                                           removed: str | None) -> None:
    expected = cell if expected is None else expected
    read = clean_email(cell)
    assert read.text == expected
    if removed is None:
        assert read.changes == ()
    else:
        assert any(removed in change for change in read.changes), read.changes
    assert email_key(read.text) == email_key(expected)


@pytest.mark.parametrize(("cell", "message"), EMAIL_REFUSED)
def test_email_cells_that_are_not_one_visible_address_are_refused(cell: str, message: str) -> None:
    with pytest.raises(CellError) as info:
        clean_email(cell)
    assert message in str(info.value)
    assert all(c.isprintable() for c in str(info.value)), "the message shows invisible characters escaped"


@pytest.mark.parametrize(("cell", "expected", "removed"), TEXT_CLEANED)
def test_text_cells_are_read_as_a_person_sees_them(cell: str, expected: str, removed: str | None) -> None:
    read = clean_text(cell)
    assert read.text == expected
    assert (read.changes == ()) if removed is None else any(removed in c for c in read.changes), read.changes


@pytest.mark.parametrize(("cell", "message"), TEXT_REFUSED)
def test_text_cells_shown_otherwise_than_stored_are_refused(cell: str, message: str) -> None:
    with pytest.raises(CellError) as info:
        clean_text(cell)
    assert message in str(info.value)


@pytest.mark.parametrize(("a", "b"), [
    ("jos\u00e9@example.com", "jose\u0301@example.com"), ("Carol@Example.com", "carol@example.com\u200b"),
    ("\u00a0bob@example.com", "BOB@EXAMPLE.COM"),
    # Case mappings that are not one to one, from the workspace side too (the key, not the cleaner).
    ("li.wei@example.com", "L\u0130.WE\u0130@EXAMPLE.COM"), ("li.wei@example.com", "l\u0131.we\u0131@example.com"),
    ("li.wei@example.com", "li\u0307.wei@example.com"), ("LI.WEI@EXAMPLE.COM", "li\u0307.wei@example.com"),
    ("stra\u00dfe@example.de", "STRA\u1e9eE@EXAMPLE.DE"), ("\ufb01ona@example.com", "FIONA@example.com"),
])
def test_email_keys_match_what_looks_the_same(a: str, b: str) -> None:
    assert email_key(a) == email_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Jos\u00e9 Garc\u00eda", "Jose\u0301 Garci\u0301a"), ("Jane Smith", "jane\u00a0 smith\u200b"),
    ("Espa\u00f1a", "ESPAN\u0303A"), ("Stra\u00dfe", "STRASSE"),
    # Letter case that is not one to one: Turkish I, sharp s, final sigma, ligatures.
    ("T\u00fcrkiye", "T\u00dcRK\u0130YE"), ("T\u00fcrkiye", "T\u00dcRKIYE"), ("T\u00fcrkiye", "t\u00fcrk\u0131ye"),
    ("T\u00fcrkiye", "TU\u0308RKI\u0307YE"), ("\u0130stanbul", "istanbul"), ("\u0130stanbul", "ISTANBUL"),
    ("\u0130stanbul", "i\u0307stanbul"), ("Stra\u00dfe", "STRA\u1e9eE"), ("\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2"),
    ("\ufb01nance", "FINANCE"),
])
def test_name_keys_match_what_looks_the_same(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_values_compare_in_nfc() -> None:
    assert value_text("Jose\u0301") == value_text("Jos\u00e9") == "Jos\u00e9"


def test_reveal_escapes_what_a_person_cannot_see() -> None:
    assert reveal("carol@example.com\u200b") == "'carol@example.com\\u200b'"
    assert reveal("a\u00a0b\tc\x1b") == "'a\\xa0b\\tc\\x1b'"
    assert reveal("Jos\u00e9 \u0438") == "'Jos\u00e9 \u0438'"


# ---------------------------------------------------------------------- in a users file, both columns

HEADER = ["NTID email", "Manager NTID email", "Weekly Working Hours", "Company (Label)"]
CONFIG = Config.model_validate({"field_mapping": {"Company (Label)": "Company"}})


def users_file(tmp_path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = tmp_path / "users.csv"
    path.write_bytes(buffer.getvalue().encode())
    return path


COLUMNS = [pytest.param(0, id="user-column"), pytest.param(1, id="manager-column")]


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize(("cell", "expected", "removed"), [p for p in EMAIL_CLEANED if p.values[1]])
def test_a_cleaned_email_cell_matches_and_is_listed(tmp_path: Path, column: int, cell: str, expected: str,
                                                   removed: str | None) -> None:
    row = ["carol@example.com", "", "40", "Acme"]
    row[column] = cell
    desired = load_desired(users_file(tmp_path, [row, [expected if column else "dave@example.com", "", "40", "Acme"]]),
                           CONFIG)
    spec = next(u for u in desired.users.values() if u.row == 2)
    assert (spec.key if column == 0 else spec.manager_key) == email_key(expected)
    listed = [c for c in desired.cleaned if c.row == 2 and c.column == HEADER[column]]
    if removed is None:
        assert listed == []
    else:
        assert len(listed) == 1 and listed[0].cell == reveal(cell) and listed[0].read_as == reveal(expected)
        assert any(removed in change for change in listed[0].changes)


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize(("cell", "message"), [p for p in EMAIL_REFUSED if "\ud800" not in p.values[0]])
def test_a_refused_email_cell_names_file_row_and_column(tmp_path: Path, column: int, cell: str, message: str) -> None:
    row = ["carol@example.com", "", "40", "Acme"]
    row[column] = cell
    path = users_file(tmp_path, [["dave@example.com", "", "40", "Acme"], row])
    with pytest.raises(CsvError) as info:
        load_desired(path, CONFIG)
    assert str(path) in str(info.value)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"row 3, column {HEADER[column]!r}: "), info.value.problems
    assert message in info.value.problems[0]


def test_the_same_person_twice_in_two_encodings_is_a_duplicate(tmp_path: Path) -> None:
    path = users_file(tmp_path, [["carol@example.com", "", "40", "Acme"], ["carol@example.com\u200b", "", "40", "Acme"]])
    with pytest.raises(CsvError) as info:
        load_desired(path, CONFIG)
    assert info.value.problems == ["row 3, column 'NTID email': duplicate email 'carol@example.com' (first on row 2)"]


@pytest.mark.parametrize(("cell", "expected", "removed"), TEXT_CLEANED)
def test_a_cleaned_field_cell_is_read_as_seen_and_listed(tmp_path: Path, cell: str, expected: str,
                                                        removed: str | None) -> None:
    desired = load_desired(users_file(tmp_path, [["carol@example.com", "", "40", cell]]), CONFIG)
    assert desired.users["carol@example.com"].fields.get("Company") == expected
    assert bool(desired.cleaned) == (removed is not None)


@pytest.mark.parametrize(("cell", "message"), TEXT_REFUSED)
def test_a_refused_field_cell_names_row_and_column(tmp_path: Path, cell: str, message: str) -> None:
    with pytest.raises(CsvError) as info:
        load_desired(users_file(tmp_path, [["carol@example.com", "", "40", cell]]), CONFIG)
    assert info.value.problems[0].startswith("row 2, column 'Company (Label)': ") and message in info.value.problems[0]


# ---------------------------------------------------------------------- the differ compares in NFC


def test_the_differ_sees_text_that_looks_the_same_as_the_same() -> None:
    """Display names, group names, field values, country and protected-group names: the workspace
    holds them decomposed or with invisible characters, the CSV composed; nothing changes."""
    ops, jose, ana = "ops@example.com", "jose@example.com", "ana@example.com"
    fields = [CustomField("f1", "Compan\u0303i\u0301a")]
    state = current(
        [member(ops, "Ops"), member(jose, "Jose\u0301 Garci\u0301a"), member(ana, "Ana")],
        groups=[group("g1", "Jose\u0301\u00a0Garci\u0301a\u200b", ana), group("g2", "Other functions", jose),
                group("g3", "Espan\u0303a", ana, jose), group("g4", "Comite\u0301", ana)],
        roles={tm(jose, "g1", True), tm(jose, ana), tm(ops, "g2", True), tm(ops, jose)},
        fields=fields, profiles={"u-ana": profile(f1="Jos\u00e9 & Hijos"), "u-jose": profile(f1="Jose\u0301 & Hijos")},
        owner=ops, self_email=ops,
    )
    wanted = desired(spec(jose, None, 28800, row=2, country="Espa\u00f1a", **{"Compa\u00f1\u00eda": "Jos\u00e9 & Hijos"}),
                     spec(ana, jose, 28800, row=3, country="Espa\u00f1a", **{"Compa\u00f1\u00eda": "Jos\u00e9 & Hijos"}))
    found = diff(wanted, state, config(field_mapping={"Company": "Compa\u00f1\u00eda"},
                                       workspace={"fallback_manager_email": ops, "protected_groups": ["Comit\u00e9"]}))
    assert found.actions == []
    assert {p.id for p in found.protected} == {"g3", "g4"}, "España and Comité are protected by their look"


@pytest.mark.parametrize("country", ["T\u00dcRK\u0130YE", "T\u00dcRKIYE", "t\u00fcrk\u0131ye", "TU\u0308RKI\u0307YE", "t\u00fcrki\u0307ye"])
def test_a_country_group_is_protected_in_any_letter_case_turkish_included(country: str) -> None:
    """A Turkish-locale export writes the country in capitals with a dotted İ: the group 'Türkiye'
    keeps its protection and is not deleted (it was, before the caseless key)."""
    ops, john = "ops@example.com", "john@example.com"
    state = current([member(ops, "Ops"), member(john, "John")],
                    groups=[group("g1", "T\u00fcrkiye", john), group("g2", "Stra\u00dfe", john), group("g3", "Other functions", john)],
                    roles={tm(ops, "g3", True), tm(ops, john)}, owner=ops, self_email=ops)
    wanted = desired(spec(john, None, 28800, row=2, country=country), spec(ops, None, 28800, row=3, country="STRASSE"))
    found = diff(wanted, state, config(), PlanOptions(delete_unmanaged_groups=True, allow_mass_group_deletion=True))
    assert {p.id for p in found.protected} >= {"g1", "g2"}
    assert not [a for a in found.actions if a.kind == "delete_group"], [a.describe() for a in found.actions]


# ---------------------------------------------------------------------- a change that looks like none

_SHOWN_AS_NOTHING = ["\ufe0f", "\ufe00", "\U000e0100", "\u3164", "\u115f", "\u1160", "\uffa0", "\u034f", "\u17b4",
                     "\u17b5", "\u180b", "\u180f", "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\U000e0041"]


@pytest.mark.parametrize("char", _SHOWN_AS_NOTHING, ids=[f"U+{ord(c):04X}" for c in _SHOWN_AS_NOTHING])
def test_a_value_change_by_an_invisible_character_is_shown_escaped_and_marked(char: str) -> None:
    """``~ Country 'USA' -> 'US️A'`` looked like no change; now the character is escaped and named."""
    from clocksync.fieldvalues import shown_change
    from clocksync.sanitize import visible

    for before, after in (("USA", f"US{char}A"), (f"US{char}A", "USA")):
        line = visible(shown_change(before, after))
        assert f"U+{ord(char):04X}" in line and "look alike" in line, line
        assert line.isascii() or all(c.isprintable() for c in line)
        escaped = f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
        assert escaped in line or f"\\x{ord(char):02x}" in line


@pytest.mark.parametrize(("before", "after", "named"), [
    ("USA", "US\u0410", "CYRILLIC CAPITAL LETTER A"), ("Germ\u0430ny", "Germany", "CYRILLIC SMALL LETTER A"),
    ("Acme Corp", "\u0391cme Corp", "GREEK CAPITAL LETTER ALPHA"), ("USA", "\uff35\uff33\uff21", "FULLWIDTH"),
    ("10002", "\uff11\uff10\uff10\uff10\uff12", "FULLWIDTH DIGIT"), ("Acme Corp", "Acme\u00a0Corp", "NO-BREAK SPACE"),
    ("Ana Lopez", "Ana L\u043epez", "CYRILLIC SMALL LETTER O"),
])
def test_a_lookalike_value_change_is_marked(before: str, after: str, named: str) -> None:
    from clocksync.fieldvalues import shown_change

    line = shown_change(before, after)
    assert "they look alike" in line and named in line, line


@pytest.mark.parametrize(("before", "after"), [("USA", "Spain"), ("Acme", "acme"), ("Jos\u00e9", "Jose"), ("10", "10.0")])
def test_a_visible_change_is_not_marked(before: str, after: str) -> None:
    from clocksync.fieldvalues import shown_change

    assert "look alike" not in shown_change(before, after)


def test_the_plan_line_of_an_invisible_change_shows_it() -> None:
    ops, john = "ops@example.com", "john@example.com"
    state = current([member(ops, "Ops"), member(john, "John")], fields=[CustomField("f1", "Country")],
                    profiles={"u-john": profile(f1="USA")}, roles={tm(ops, john)}, owner=ops, self_email=ops)
    found = diff(desired(spec(john, ops, 28800, row=2, Country="US\ufe0fA"), spec(ops, None, 28800, row=3)), state,
                 config(field_mapping={"Country (Label)": "Country"}))
    lines = [a.line() for a in found.actions if a.kind == "update_profile"]
    assert lines == ["Country 'USA' -> 'US\\ufe0fA' (they look alike: the new value holds U+FE0F VARIATION SELECTOR-16)"]
