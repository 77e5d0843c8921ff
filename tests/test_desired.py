"""The CSV loader: the existing export loads; every bad input names file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clocksync.config import Config
from clocksync.errors import CsvError
from clocksync.load.desired import load_desired
from tests.conftest import EXAMPLES

HEADER = "NTID email,Manager NTID email,Weekly Working Hours,Company (Label),Country (Label),Global Id\n"
CONFIG = Config.build({"field_mapping": {"Company (Label)": "Company", "Country (Label)": "Country",
                                                  "Global Id": "Global ID"}})


def write(tmp_path: Path, text: str | bytes, name: str = "users.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def problems(tmp_path: Path, text: str | bytes) -> list[str]:
    with pytest.raises(CsvError) as info:
        load_desired(write(tmp_path, text), CONFIG)
    assert str(tmp_path / "users.csv") in str(info.value)
    return info.value.problems


def test_sample_loads() -> None:
    state = load_desired(EXAMPLES / "sample_users.csv", CONFIG)
    sofia = state.users["sofia.rossi@example.com"]
    assert sofia.capacity_seconds == 27000, "37,5 with a decimal comma"
    assert state.users["lucas.martin@example.com"].capacity_seconds is None
    assert state.users["li.wei@example.com"].fields["Company"] == "Acme GmbH"
    assert "germany" in state.countries


def test_bom_semicolons_case_and_whitespace(tmp_path: Path) -> None:
    text = "\ufeff NTID email ; Manager NTID email;Weekly Working Hours;Company (Label);Country (Label);Global Id\r\n" \
           " John.Doe@Example.com ;JANE@example.com;37,5;Acme;USA;1\r\n"
    state = load_desired(write(tmp_path, text), CONFIG)
    john = state.users["john.doe@example.com"]
    assert john.manager_key == "jane@example.com" and john.capacity_seconds == 27000 and john.row == 2


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, HEADER + "a@example.com,,abc,Acme,USA,1\nnot-an-email,,40,Acme,USA,2\n"
                     "A@EXAMPLE.COM,,-5,Acme,USA,3\nb@example.com,=cmd(),40,Acme,USA,4\n")
    text = "\n".join(found)
    assert "row 2, column 'Weekly Working Hours'" in text
    assert "row 3, column 'NTID email'" in text
    assert "row 4, column 'Weekly Working Hours'" in text and "negative" in text
    assert "row 5, column 'Manager NTID email'" in text


def test_duplicate_email_any_case(tmp_path: Path) -> None:
    found = problems(tmp_path, HEADER + "a@example.com,,40,A,B,1\nA@Example.com,,40,A,B,2\n")
    assert found == ["row 3, column 'NTID email': duplicate email 'A@Example.com' (first on row 2)"]


def test_missing_column(tmp_path: Path) -> None:
    found = problems(tmp_path, "NTID email,Weekly Working Hours\na@example.com,40\n")
    assert any("missing required column 'Manager NTID email'" in p for p in found)


@pytest.mark.parametrize("text", [b"", b"   \n", HEADER.encode(), b"\xff\xfeN\x00T\x00", b"a,b\n\xff\xfe\xfa,1\n"])
def test_empty_unreadable_or_header_only(tmp_path: Path, text: bytes) -> None:
    assert problems(tmp_path, text)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CsvError) as info:
        load_desired(tmp_path / "missing.csv", CONFIG)
    assert "missing.csv" in str(info.value)


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)", "-cmd"])
def test_formula_cells_refused(tmp_path: Path, cell: str) -> None:
    found = problems(tmp_path, HEADER + f"a@example.com,,40,\"{cell}\",USA,1\n")
    assert any("column 'Company (Label)'" in p and "formula" in p for p in found)


def test_negative_looking_number_is_data(tmp_path: Path) -> None:
    state = load_desired(write(tmp_path, HEADER + "a@example.com,,40,Acme,USA,-12\n"), CONFIG)
    assert state.users["a@example.com"].fields["Global ID"] == "-12"


def test_huge_field_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, HEADER + "a@example.com,,40," + "x" * 5000 + ",USA,1\n")
    assert any("characters long" in p for p in found)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_load_or_fail_cleanly(tmp_path: Path, data: bytes) -> None:
    """Any input either loads or raises CsvError naming the file: never another exception."""
    path = write(tmp_path, data)
    try:
        load_desired(path, CONFIG)
    except CsvError as exc:
        assert str(path) in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=30), min_size=0, max_size=8), max_size=6))
def test_arbitrary_rows_load_or_fail_cleanly(tmp_path: Path, rows: list[list[str]]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER.strip().split(","))
    for row in rows:
        writer.writerow(row)
    path = write(tmp_path, buffer.getvalue())
    try:
        state = load_desired(path, CONFIG)
    except CsvError as exc:
        assert exc.problems and all(p.startswith("row ") or p.startswith("no user") for p in exc.problems)
    else:
        assert all("@" in key for key in state.users)


# ---------------------------------------------------------------------- what spreadsheets do to a CSV


def test_excel_sep_line_is_honoured_and_not_a_row(tmp_path: Path) -> None:
    text = "sep=;\r\n" + HEADER.replace(",", ";") + "a@example.com;;37,5;Acme;USA;1\r\nb@example.com;;40;Acme;USA;2\r\n"
    state = load_desired(write(tmp_path, "\ufeff" + text), CONFIG)
    assert state.users["a@example.com"].capacity_seconds == 27000
    assert state.users["b@example.com"].row == 3, "rows numbered as Excel shows them (the sep= line is hidden)"
    found = problems(tmp_path, "sep=,\n" + HEADER + "a@example.com,,abc,Acme,USA,1\n")
    assert found == ["row 2, column 'Weekly Working Hours': not a number: 'abc'"]


def test_empty_cells_past_the_header_are_ignored(tmp_path: Path) -> None:
    state = load_desired(write(tmp_path, HEADER + "a@example.com,,40,Acme,USA,1,,,\nb@example.com,,40,Acme,USA,2,\n"),
                         CONFIG)
    assert set(state.users) == {"a@example.com", "b@example.com"}
    found = problems(tmp_path, HEADER + "a@example.com,,40,Acme,USA,1,,oops\n")
    assert found == ["row 2: 1 value(s) past the header's last column (column 8: 'oops'); add a header for them "
                     "or remove them"]


def test_trailing_empty_header_cells_are_not_columns(tmp_path: Path) -> None:
    state = load_desired(write(tmp_path, HEADER.strip() + ",,\na@example.com,,40,Acme,USA,1\n"), CONFIG)
    assert "a@example.com" in state.users


@pytest.mark.parametrize(("extra", "expected"), [
    ("Notes,Notes", None),
    ("Notes,,Notes", None),
    ("Global Id", "column 'Global Id' appears 2 times (columns 6, 7)"),
    ("ntid EMAIL", "column 'NTID email' appears 2 times (columns 1, 7)"),
    ("Start Date,Start Date", "column 'Start Date' appears 2 times"),
])
def test_a_repeated_header_is_an_error_only_for_a_column_clocksync_reads(tmp_path: Path, extra: str,
                                                                         expected: str | None) -> None:
    text = f"{HEADER.strip()},{extra}\na@example.com,,40,Acme,USA,1,{','.join('x' if h else '' for h in extra.split(','))}\n"
    if expected is None:
        assert "a@example.com" in load_desired(write(tmp_path, text), CONFIG).users
    else:
        found = problems(tmp_path, text)
        assert len(found) == 1 and found[0].startswith("row 1: ") and expected in found[0]


def test_headers_are_read_as_a_person_sees_them(tmp_path: Path) -> None:
    text = "\u200bNTID\u00a0email ,manager ntid email,Weekly Working Hours,Company (Label),Country (Label),Global Id\n"
    state = load_desired(write(tmp_path, text + "a@example.com,,40,Acme,USA,1\n"), CONFIG)
    assert "a@example.com" in state.users


@pytest.mark.parametrize(("cell", "expected"), [('"=""00123"""', "00123"), ('="00123"', "00123"),
                                                ('"=""0012,3"""', "0012,3")])
def test_excel_text_formula_is_its_text(tmp_path: Path, cell: str, expected: str) -> None:
    state = load_desired(write(tmp_path, HEADER + f"a@example.com,,40,Acme,USA,{cell}\n"), CONFIG)
    assert state.users["a@example.com"].fields["Global ID"] == expected
    assert [c.column for c in state.cleaned] == ["Global Id"]


@pytest.mark.parametrize("cell", ["9.00123E+11", "9,00123E+11", "1E+15", "1.2e-3", "-3.5E+2", "12E45"])
def test_an_id_in_e_notation_is_refused_with_the_fix(tmp_path: Path, cell: str) -> None:
    found = problems(tmp_path, HEADER + f'a@example.com,,40,Acme,USA,"{cell.replace(chr(34), 2 * chr(34))}"\n')
    assert len(found) == 1 and found[0].startswith("row 2, column 'Global Id': ")
    assert "E-notation" in found[0] and "format the column as text" in found[0]


@pytest.mark.parametrize("cell", ["4E1", "4e1", "3.75E+01", "4,0E1"])
def test_hours_in_exponent_notation_are_refused(tmp_path: Path, cell: str) -> None:
    found = problems(tmp_path, HEADER + f'a@example.com,,"{cell}",Acme,USA,1\n')
    assert len(found) == 1 and found[0].startswith("row 2, column 'Weekly Working Hours': hours in exponent notation")


@pytest.mark.parametrize(("hours", "seconds", "rounded"), [("40", 28800, False), ("37.3", 26880, True),
                                                           ("39.9", 28740, True), ("0.01", 0, True),
                                                           ("32", 23040, False)])
def test_capacity_is_rounded_to_whole_minutes_and_the_rounding_listed(tmp_path: Path, hours: str, seconds: int,
                                                                     rounded: bool) -> None:
    state = load_desired(write(tmp_path, HEADER + f"a@example.com,,{hours},Acme,USA,1\n"), CONFIG)
    assert state.users["a@example.com"].capacity_seconds == seconds
    notes = [c for c in state.cleaned if c.column == "Weekly Working Hours"]
    assert bool(notes) == rounded
    if rounded:
        assert notes[0].row == 2 and "rounded to whole minutes" in notes[0].changes[0]


@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#SPILL!", " #N/A "])
@pytest.mark.parametrize("column", [0, 1, 3, 5])
def test_a_spreadsheet_error_value_is_refused(tmp_path: Path, error: str, column: int) -> None:
    row = ["a@example.com", "", "40", "Acme", "USA", "1"]
    row[column] = error
    found = problems(tmp_path, HEADER + ",".join(row) + "\n")
    names = HEADER.strip().split(",")
    assert found == [f"row 2, column {names[column]!r}: shows the spreadsheet error {error.strip()}: fix the formula in the "
                     "spreadsheet"]


def test_a_row_of_invisible_characters_is_a_blank_line(tmp_path: Path) -> None:
    state = load_desired(write(tmp_path, HEADER + "a@example.com,,40,Acme,USA,1\n\u200b,\u00a0,,,,\n"), CONFIG)
    assert list(state.users) == ["a@example.com"]


@pytest.mark.parametrize(("cell", "read"), [('="12E45"', "12E45"), ('="1E10"', "1E10"), ('="9.00123E+11"', "9.00123E+11"),
                                            ('=" 12E45 "', "12E45"), ('="0012E45"', "0012E45")])
def test_an_id_written_as_explicit_text_is_read_even_in_e_notation_form(tmp_path: Path, cell: str, read: str) -> None:
    """="12E45" is Excel's own way to keep text; before, it was refused like a number Excel turned."""
    body = HEADER + f'a@example.com,,40,Acme,USA,"{cell.replace(chr(34), 2 * chr(34))}"\n'
    assert load_desired(write(tmp_path, body), CONFIG).users["a@example.com"].fields["Global ID"] == read


def test_the_e_notation_refusal_names_the_way_out(tmp_path: Path) -> None:
    found = problems(tmp_path, HEADER + "a@example.com,,40,Acme,USA,12E45\n")
    assert '="12E45"' in found[0] and "text cell of a workbook" in found[0]


@pytest.mark.parametrize(("hours", "listed"), [("37.333333", None), ("37.33333", None), ("37.3", "7 h 27 min 36 s"),
                                               ("0.01", "7.2 s"), ("40.0001", "8 h 0.07 s"), ("37.49999", None), ("37.4999", "7 h 29 min 59.93 s")])
def test_a_capacity_rounding_is_listed_as_a_person_reads_it(tmp_path: Path, hours: str, listed: str | None) -> None:
    """Never '7 h 27 min 60 s'; 37.333333 (what export writes for 7 h 28 min a day) is no rounding."""
    state = load_desired(write(tmp_path, HEADER + f"a@example.com,,{hours},Acme,USA,1\n"), CONFIG)
    notes = [c.changes[0] for c in state.cleaned if c.column == "Weekly Working Hours"]
    assert notes == ([] if listed is None else [f"{hours} h a week is {listed} a day: rounded to whole minutes"])


@pytest.mark.parametrize(("cell", "message"), [
    ("\uff14\uff10", "fullwidth digits: write it as 40"), ("\u0664\u0660", "arabic-indic digits: write it as 40"),
    ("\u096a\u0966", "devanagari digits: write it as 40"), ("\u221240", "minus sign, U+2212"),
    ("\u201340", "en dash, U+2013"), ("1,234", "ambiguous"), ("12,345", "ambiguous"),
])
def test_hours_a_person_reads_as_a_number_are_refused_saying_why(tmp_path: Path, cell: str, message: str) -> None:
    found = problems(tmp_path, HEADER + f'a@example.com,,"{cell}",Acme,USA,1\n')
    assert len(found) == 1 and found[0].startswith("row 2, column 'Weekly Working Hours'") and message in found[0]


@pytest.mark.parametrize(("encoding", "named"), [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"),
                                                 ("utf-32", "UTF-32"), ("utf-32-le", "UTF-32"), ("utf-32-be", "UTF-32")])
def test_a_file_in_utf16_or_utf32_is_named_as_such_with_or_without_a_byte_order_mark(tmp_path: Path, encoding: str,
                                                                                      named: str) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes((HEADER + "a@example.com,,40,Acme,USA,1\n").encode(encoding))
    with pytest.raises(CsvError) as info:
        load_desired(path, CONFIG)
    assert info.value.problems == [f"the file is {named}; save it as UTF-8 (CSV UTF-8 in Excel)"]


@pytest.mark.parametrize("line", ["sep=;;;;;;", '"sep=;";;;;;', "sep=;,,,,,", "SEP=;;;"])
def test_a_sep_line_typed_into_a1_is_the_hint(tmp_path: Path, line: str) -> None:
    body = line + "\n" + HEADER.replace(",", ";") + "a@example.com;;40;Acme;USA;1\n"
    assert set(load_desired(write(tmp_path, body), CONFIG).users) == {"a@example.com"}


@pytest.mark.parametrize("name", ["users.xlsx", "users.xlsm", "users.csv"])
def test_a_password_protected_workbook_says_so(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 64)
    with pytest.raises(CsvError) as info:
        load_desired(path, CONFIG)
    assert "password-protected" in str(info.value) and "remove the password" in str(info.value)
