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
]
EMAIL_REFUSED = [
    pytest.param("b\u043eb@example.com", "U+043E CYRILLIC SMALL LETTER O", id="cyrillic-o"),
    pytest.param("bob@ex\u0430mple.com", "U+0430 CYRILLIC SMALL LETTER A", id="cyrillic-a-in-domain"),
    pytest.param("\u03b1lice@example.com", "GREEK", id="greek-alpha"),
    pytest.param("\U0001d41b\U0001d428\U0001d41b@example.com", "MATHEMATICAL BOLD", id="math-bold"),
    pytest.param("\u0438\u0432\u0430\u043d@example.com", "mixes scripts", id="cyrillic-name-latin-domain"),
    pytest.param("bob@example.com\x07", "U+0007 BELL", id="bell"),
    pytest.param("\x00bob@example.com", "U+0000 NULL", id="nul"),
    pytest.param("bob\x1b[31m@example.com", "U+001B ESCAPE", id="escape-sequence"),
    pytest.param("bob@example.com\x7f", "U+007F DELETE", id="del"),
    pytest.param("bob@example.com\x9b", "U+009B", id="c1-csi"),
    pytest.param("bob\x1f@example.com", "U+001F", id="unit-separator"),
    pytest.param("bob\x85@example.com", "a space", id="nel-inside"),
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
    pytest.param(f"{BOB}; carol@example.com", "space", id="two-addresses"),
    pytest.param(f"{BOB},carol@example.com", "more than one '@'", id="two-addresses-comma"),
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
def test_email_cells_are_read_as_the_address_a_person_sees(cell: str, expected: str, removed: str | None) -> None:
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
])
def test_email_keys_match_what_looks_the_same(a: str, b: str) -> None:
    assert email_key(a) == email_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Jos\u00e9 Garc\u00eda", "Jose\u0301 Garci\u0301a"), ("Jane Smith", "jane\u00a0 smith\u200b"),
    ("Espa\u00f1a", "ESPAN\u0303A"), ("Stra\u00dfe", "STRASSE"),
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
