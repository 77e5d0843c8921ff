"""Typed USER field values: a cell -> the JSON the API takes, per field type; refusals; comparison by value.

The table is the contract of ``fieldvalues``: what HR types into a cell and what clocksync writes.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from clocksync.fieldvalues import CellError, comparable, from_cell, same, shown, to_cell

DEPARTMENTS = ("Engineering", "Sales", "Café Ops")
SKILLS = ("Python", "SQL", "Go")

CELLS: list[tuple[str, str, tuple[str, ...], Any]] = [
    # TXT: the text, as it is (leading zeros and all)
    ("TXT", "Acme Corp", (), "Acme Corp"),
    ("TXT", "00123", (), "00123"),
    ("TXT", "10004.0", (), "10004.0"),
    # NUMBER: a JSON number, an int when whole
    ("NUMBER", "10004", (), 10004),
    ("NUMBER", "10004.0", (), 10004),
    ("NUMBER", "010003", (), 10003),
    ("NUMBER", "37,5", (), 37.5),
    ("NUMBER", "-2.25", (), -2.25),
    ("NUMBER", "+7", (), 7),
    ("NUMBER", "0", (), 0),
    ("NUMBER", "0.125", (), 0.125),
    ("NUMBER", "123456789012345", (), 123456789012345),
    # CHECKBOX: yes/no, true/false, 1/0, x, any case (a blank cell is never read: it leaves the switch alone)
    *[("CHECKBOX", cell, (), True) for cell in ("yes", "YES", "Yes", "true", "TRUE", "1", "x", "X", " x ")],
    *[("CHECKBOX", cell, (), False) for cell in ("no", "No", "false", "FALSE", "0", " no ")],
    # DROPDOWN_SINGLE: matched in any case and NFC, written in the allowed value's own spelling
    ("DROPDOWN_SINGLE", "Engineering", DEPARTMENTS, "Engineering"),
    ("DROPDOWN_SINGLE", "engineering", DEPARTMENTS, "Engineering"),
    ("DROPDOWN_SINGLE", "  SALES ", DEPARTMENTS, "Sales"),
    ("DROPDOWN_SINGLE", "cafe\u0301 ops", DEPARTMENTS, "Café Ops"),  # decomposed é (NFD) matches
    ("DROPDOWN_SINGLE", "Café  Ops", DEPARTMENTS, "Café Ops"),  # runs of spaces collapse
    # DROPDOWN_MULTIPLE: split on ";", a set, written in the field's order
    ("DROPDOWN_MULTIPLE", "SQL; python", SKILLS, ["Python", "SQL"]),
    ("DROPDOWN_MULTIPLE", "go;GO;Go", SKILLS, ["Go"]),
    ("DROPDOWN_MULTIPLE", "Python;", SKILLS, ["Python"]),
    ("DROPDOWN_MULTIPLE", "Go", SKILLS, ["Go"]),
    # LINK: an http(s) URL, as written
    ("LINK", "https://wiki.example.com/people/jane", (), "https://wiki.example.com/people/jane"),
    ("LINK", "http://intranet:8080/x?y=1", (), "http://intranet:8080/x?y=1"),
]


@pytest.mark.parametrize(("kind", "cell", "allowed", "value"), CELLS,
                         ids=[f"{k}:{c!r}" for k, c, _, _ in CELLS])
def test_a_cell_becomes_the_json_the_field_takes(kind: str, cell: str, allowed: tuple[str, ...], value: Any) -> None:
    got = from_cell(kind, cell, allowed)
    assert got == value and type(got) is type(value)
    assert same(kind, got, value)
    assert from_cell(kind, to_cell(kind, got), allowed) == got, "export writes a cell that reads back the same"


REFUSED: list[tuple[str, str, tuple[str, ...], str]] = [
    ("NUMBER", "ten", (), "not a number"),
    ("NUMBER", "10 004", (), "not a number"),
    ("NUMBER", "1,234", (), "ambiguous"),
    ("NUMBER", "1.234.567", (), "ambiguous"),
    ("NUMBER", "9.00123E+11", (), "E-notation"),
    ("NUMBER", "1e5", (), "E-notation"),
    ("NUMBER", "1234567890123456", (), "16 significant digits"),
    ("NUMBER", "nan", (), "not a number"),
    ("NUMBER", "inf", (), "not a number"),
    ("NUMBER", "0x1F", (), "not a number"),
    ("NUMBER", "١٢٣", (), "not a number"),  # Arabic-Indic digits: not what the API reads
    ("NUMBER", "1_000", (), "not a number"),
    ("CHECKBOX", "maybe", (), "use yes/no, true/false, 1/0 or x (a blank cell leaves the switch as it is)"),
    ("CHECKBOX", "", (), "not a checkbox value"),  # blank is never converted: from_cell is not asked
    ("CHECKBOX", "✓", (), "not a checkbox value"),
    ("CHECKBOX", "2", (), "not a checkbox value"),
    ("DROPDOWN_SINGLE", "Eng.", DEPARTMENTS, "'Eng.' is not allowed; allowed values: 'Engineering', 'Sales', 'Café Ops'"),
    ("DROPDOWN_MULTIPLE", "C", ("C, C++", "Go"), "allowed values: 'C, C++', 'Go'"),  # one value holds a comma
    ("DROPDOWN_SINGLE", "Engineering; Sales", DEPARTMENTS, "not allowed"),
    ("DROPDOWN_SINGLE", "Sales", (), "(none: the field lists no allowed values)"),
    ("DROPDOWN_MULTIPLE", "Python; Rust; COBOL", SKILLS,
     "'Rust', 'COBOL' are not allowed; allowed values: 'Python', 'SQL', 'Go'"),
    ("DROPDOWN_MULTIPLE", ";;", SKILLS, "no value between"),
    ("DROPDOWN_MULTIPLE", "Python, SQL", SKILLS, "separate several values with ';', not ','"),
    ("LINK", "wiki.example.com/jane", (), "not a link"),
    ("LINK", "javascript:alert(1)", (), "not a link"),
    ("LINK", "ftp://files.example.com", (), "not a link"),
    ("LINK", "https://exa mple.com", (), "not a link"),
    ("LINK", "https://", (), "not a link"),
]


@pytest.mark.parametrize(("kind", "cell", "allowed", "message"), REFUSED, ids=[f"{k}:{c!r}" for k, c, _, _ in REFUSED])
def test_a_value_the_field_cannot_hold_is_refused_saying_why(kind: str, cell: str, allowed: tuple[str, ...],
                                                             message: str) -> None:
    with pytest.raises(CellError, match=None) as raised:
        from_cell(kind, cell, allowed)
    assert message in str(raised.value)


SAME: list[tuple[str, Any, Any, bool]] = [
    ("NUMBER", 10004, 10004.0, True),
    ("NUMBER", 10004, "10004", True),  # a number the API holds as text
    ("NUMBER", "010003", 10003, True),
    ("NUMBER", 10003, 10004, False),
    ("NUMBER", 0.1, 0.10, True),
    ("NUMBER", True, 1, False),  # a boolean is not a number
    ("NUMBER", None, 0, False),
    ("NUMBER", "n/a", None, False),
    ("CHECKBOX", None, False, True),  # a switch never set is off
    ("CHECKBOX", "", False, True),
    ("CHECKBOX", "true", True, True),
    ("CHECKBOX", None, True, False),
    ("DROPDOWN_SINGLE", "ENGINEERING", "Engineering", True),
    ("DROPDOWN_SINGLE", ["Sales"], "Sales", True),
    ("DROPDOWN_SINGLE", "Sales", "Engineering", False),
    ("DROPDOWN_MULTIPLE", ["SQL", "Python"], ["Python", "SQL"], True),
    ("DROPDOWN_MULTIPLE", ["Python"], ["Python", "SQL"], False),
    ("DROPDOWN_MULTIPLE", [], None, True),
    ("DROPDOWN_MULTIPLE", "Python; SQL", ["sql", "python"], True),
    ("TXT", "Acme", "Acme", True),
    ("TXT", "  Acme ", "Acme", True),
    ("TXT", "Acme", "acme", False),  # text keeps its case
    ("TXT", "", None, True),
    ("LINK", "https://a.example", "https://a.example", True),
    ("UNKNOWN_TYPE", "x", "x", True),  # a type clocksync does not know compares as text
]


@pytest.mark.parametrize(("kind", "a", "b", "equal"), SAME, ids=[f"{k}:{a!r}~{b!r}" for k, a, b, _ in SAME])
def test_values_compare_by_what_they_mean(kind: str, a: Any, b: Any, equal: bool) -> None:
    assert same(kind, a, b) is equal
    assert same(kind, b, a) is equal
    hash(comparable(kind, a))


@pytest.mark.parametrize(("value", "text"), [(None, "(unset)"), (10004, "10004"), (10004.0, "10004"), (2.5, "2.5"),
                                             (1e-7, "0.0000001"), (True, "true"), (False, "false"), ("Acme", "'Acme'"),
                                             (["Python", "SQL"], "['Python', 'SQL']"), ([], "(unset)"),
                                             (["Go", "C, C++"], "['Go', 'C, C++']")])  # two values, not three
def test_a_value_is_shown_as_a_reviewer_reads_it(value: Any, text: str) -> None:
    assert shown(value) == text


NAMES = [
    ("Jane Smith", "", "Jane Smith"),
    ("x" * 100, "", "x" * 100),
    ("x" * 101, "", "x" * 99 + "…"),
    ("Ana " * 30, " (ana@example.com)", ("Ana " * 30)[:81].rstrip() + "… (ana@example.com)"),
    ("🙂" * 60, "", "🙂" * 49 + "…"),  # two UTF-16 units each: 98 + 1
    ("q\u0301" * 60, "", "q\u0301" * 49 + "…"),  # never cut between a letter and its accent (no composed q́)
    ("e\u0301" * 60, "", "\u00e9" * 60),  # decomposed é: measured and sent composed, so it fits
    ("👨\u200d👩\u200d👧" * 20, "", None),  # never end on a joiner
    ("Zoë", " (" + "a" * 95 + "@example.com)", None),  # a suffix too long: a digest instead
]


@pytest.mark.parametrize(("name", "suffix", "expected"), NAMES, ids=range(len(NAMES)))
def test_a_generated_group_name_fits_the_api_and_is_stable(name: str, suffix: str, expected: str | None) -> None:
    from clocksync.names import GROUP_NAME_LIMIT, api_length, fit_name

    fitted = fit_name(name, suffix)
    assert api_length(fitted) <= GROUP_NAME_LIMIT and fitted == fit_name(name, suffix), "fits, and is the same twice"
    assert not fitted.rstrip("…").endswith(("\u200d", "\ufe0f")), fitted
    if expected is not None:
        assert fitted == expected
    whole = unicodedata.normalize("NFC", name + suffix)
    if api_length(whole) > GROUP_NAME_LIMIT:
        assert "…" in fitted or "#" in fitted, "a shortened name shows that it was shortened"
    else:
        assert fitted == whole


@pytest.mark.parametrize(("cell", "advice", "whole", "decimal"), [
    ("1,234", "write 1234 if it is a whole number; if it is a decimal, give it more or fewer than three decimals "
              "(1.2340)", "1234", "1.2340"),
    ("1.250", "write 1250 if it is a whole number; if it is a decimal, give it more or fewer than three decimals "
              "(1.2500)", "1250", "1.2500"),
    ("-12,500", "write -12500 if it is a whole number", "-12500", "-12.5000"),
    ("1.234.567", "write 1234567 if it is a whole number", "1234567", None),
])
def test_the_advice_for_an_ambiguous_number_names_cells_that_are_read(cell: str, advice: str, whole: str,
                                                                      decimal: str | None) -> None:
    """Each form the message suggests is one the loader reads (1.234 itself is just as ambiguous)."""
    with pytest.raises(CellError) as raised:
        from_cell("NUMBER", cell)
    assert advice in str(raised.value)
    if decimal is None:
        assert "decimal" not in str(raised.value).split("(a thousands")[1].split(")", 1)[1]
    for suggested in (whole, decimal):
        if suggested is not None:
            assert suggested in str(raised.value) and from_cell("NUMBER", suggested) is not None


DEPTS = ["Engineering", "Sales"]
LANGS = ["Python", "Go", "C, C++"]
# A value the API holds -> what a profile write sends back: itself when it fits the field; its own
# form when the meaning is certain; None when the field cannot hold it (left out of the write).
HELD: list[tuple[str, Any, list[str], Any]] = [
    ("TXT", "Acme", [], "Acme"),
    ("TXT", 10004, [], "10004"),
    ("TXT", 2.5, [], "2.5"),
    ("TXT", True, [], None),
    ("TXT", ["a"], [], None),
    ("NUMBER", 10004, [], 10004),
    ("NUMBER", 10004.0, [], 10004.0),  # fits as it is: never rewritten for its JSON spelling
    ("NUMBER", "10004", [], 10004),
    ("NUMBER", " 37,5 ", [], 37.5),
    ("NUMBER", "010003", [], None),  # the zeros would be lost: not certain
    ("NUMBER", "1,234", [], None),  # ambiguous
    ("NUMBER", "n/a", [], None),
    ("NUMBER", True, [], None),
    ("NUMBER", ["1"], [], None),
    ("CHECKBOX", True, [], True),
    ("CHECKBOX", False, [], False),
    ("CHECKBOX", "true", [], True),
    ("CHECKBOX", "Yes", [], True),
    ("CHECKBOX", "FALSE", [], False),
    ("CHECKBOX", 1, [], True),
    ("CHECKBOX", 0, [], False),
    ("CHECKBOX", "maybe", [], None),
    ("CHECKBOX", 2, [], None),
    ("CHECKBOX", ["yes"], [], None),
    ("DROPDOWN_SINGLE", "Sales", DEPTS, "Sales"),
    ("DROPDOWN_SINGLE", "engineering", DEPTS, "Engineering"),
    ("DROPDOWN_SINGLE", " SALES ", DEPTS, "Sales"),
    ("DROPDOWN_SINGLE", ["Sales"], DEPTS, "Sales"),
    ("DROPDOWN_SINGLE", "Marketing", DEPTS, None),  # no longer allowed
    ("DROPDOWN_SINGLE", "Eng.", DEPTS, None),
    ("DROPDOWN_SINGLE", ["Sales", "Engineering"], DEPTS, None),
    ("DROPDOWN_SINGLE", 5, DEPTS, None),
    ("DROPDOWN_MULTIPLE", ["Go", "Python"], LANGS, ["Go", "Python"]),  # fits: its order is kept
    ("DROPDOWN_MULTIPLE", ["go", "PYTHON"], LANGS, ["Python", "Go"]),
    ("DROPDOWN_MULTIPLE", ["Go", "Go"], LANGS, ["Go", "Go"]),  # the API takes it: sent as it is
    ("DROPDOWN_MULTIPLE", ["go", "Go"], LANGS, ["Go"]),
    ("DROPDOWN_MULTIPLE", "Python, Go", LANGS, ["Python", "Go"]),  # what an older clocksync wrote as text
    ("DROPDOWN_MULTIPLE", "Python; Go", LANGS, ["Python", "Go"]),
    ("DROPDOWN_MULTIPLE", "C, C++", LANGS, ["C, C++"]),  # one value holding a comma, not two
    ("DROPDOWN_MULTIPLE", "Go", LANGS, ["Go"]),
    ("DROPDOWN_MULTIPLE", ["Go", "Rust"], LANGS, None),
    ("DROPDOWN_MULTIPLE", "Rust", LANGS, None),
    ("DROPDOWN_MULTIPLE", [1], LANGS, None),
    ("LINK", "https://a.example/x", [], "https://a.example/x"),
    ("LINK", " https://a.example/x ", [], "https://a.example/x"),
    ("LINK", "a.example/x", [], None),
    ("LINK", "javascript:alert(1)", [], None),
    ("LINK", 5, [], None),
]


@pytest.mark.parametrize(("kind", "stored", "allowed", "sent"), HELD, ids=[f"{k}:{v!r}" for k, v, _, _ in HELD])
def test_a_stored_value_is_sent_back_only_in_a_form_its_field_takes(kind: str, stored: Any, allowed: list[str],
                                                                    sent: Any) -> None:
    """Checked against the emulator's own rule (what Clockify takes): a value sent back is one the API
    accepts, and a value left out is one it would refuse."""
    from clocksync.emulator.state import CustomField, _type_problem
    from clocksync.fieldvalues import held_as

    api_field = CustomField(id="f", name="F", type=kind, allowed_values=allowed)
    if sent is None:
        with pytest.raises(CellError):
            held_as(kind, stored, allowed)
        assert _type_problem(api_field, stored) is not None, "only a value the API refuses is left out"
        return
    got = held_as(kind, stored, allowed)
    assert got == sent and type(got) is type(sent)
    assert _type_problem(api_field, got) is None, "the API takes what is sent"
    # The same value (a multi-select's text is compared without its allowed values, so split on ';' only).
    assert same(kind, got, stored) or kind == "TXT" or stored in ("Python, Go", "C, C++"), "the same value"
    if _type_problem(api_field, stored) is None:
        assert got is stored or got == stored and type(got) is type(stored), "a value that fits is sent as it is"
