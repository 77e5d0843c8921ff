"""Excel workbooks: read with openpyxl, cells keep their meaning, the same users as a CSV give the
same plan, refusals name sheet, row and column, and `export --format xlsx` round-trips."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from clocksync.config import Config
from clocksync.errors import CsvError
from clocksync.export_xlsx import workbook_bytes
from clocksync.load.desired import load_desired
from clocksync.load.xlsx import cell_text
from tests.conftest import EmulatorHarness, run_cli

HEADER = ["NTID email", "Manager NTID email", "Weekly Working Hours", "Company (Label)", "Country (Label)",
          "Global Id", "Start Date"]
CONFIG = Config.model_validate({"field_mapping": {"Company (Label)": "Company", "Country (Label)": "Country",
                                                  "Global Id": "Global ID"}})


def workbook(path: Path, rows: list[list[Any]], *, title: str = "Users", before: list[str] = ()) -> Path:  # type: ignore[assignment]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = before[0] if before else title
    for name in before[1:]:
        book.create_sheet(name)
    if before:
        sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), ("00123", "00123"), (12345, "12345"), (12345.0, "12345"), (37.5, "37.5"), (0.1 + 0.2, "0.3"),
    (40 / 3, "13.3333333333333"), (1e-7, "0.0000001"), (900123456789.0, "900123456789"),
    (1234567890123456789.0, "1.23456789012346E+18"), (True, "TRUE"), (False, "FALSE"),
    (datetime.datetime(2027, 3, 31), "2027-03-31"), (datetime.datetime(2027, 3, 31, 9, 30), "2027-03-31 09:30:00"),
    (datetime.date(2027, 3, 31), "2027-03-31"), (datetime.timedelta(hours=37, minutes=30), "37.5"),
    (datetime.time(9, 30), "09:30:00"), ("#N/A", "#N/A"),
])
def test_cells_keep_their_meaning(value: Any, text: str) -> None:
    assert cell_text(value) == text


def test_a_workbook_reads_like_its_csv(tmp_path: Path) -> None:
    path = workbook(tmp_path / "users.xlsx", [
        HEADER,
        ["john.doe@example.com", "jane@example.com", 37.5, "Acme", "USA", "00123", datetime.datetime(2020, 1, 6)],
        ["li@example.com\u200b", None, 32, "Acme", "Germany", 10004, None],
        [None, None, None, None, None, None, None],
        ["jane@example.com", "", "40", "Acme", "USA", 10001.0, "2020-01-06"],
    ])
    state = load_desired(path, CONFIG)
    assert state.sheet == "Users"
    john = state.users["john.doe@example.com"]
    assert john.fields["Global ID"] == "00123", "a text ID keeps its leading zeros"
    assert john.capacity_seconds == 27000 and john.start == "2020-01-06" and john.row == 2
    assert state.users["li@example.com"].fields["Global ID"] == "10004"
    assert state.users["jane@example.com"].fields["Global ID"] == "10001" and state.users["jane@example.com"].row == 5
    assert [(c.row, c.column) for c in state.cleaned] == [(3, "NTID email")]


def test_the_sheet_is_the_first_or_csv_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path / "users.xlsx", [HEADER[:3], ["a@example.com", "", 40]], title="HR export",
                    before=["Read me", "Notes"])
    with pytest.raises(CsvError) as info:
        load_desired(path, Config())
    assert "sheet 'Read me'" in str(info.value), "the first sheet is read by default"
    chosen = Config.model_validate({"csv": {"sheet": "hr export"}})
    assert "a@example.com" in load_desired(path, chosen).users
    with pytest.raises(CsvError) as info:
        load_desired(path, Config.model_validate({"csv": {"sheet": "Payroll"}}))
    assert "no sheet named 'Payroll'" in str(info.value) and "'HR export'" in str(info.value)


@pytest.mark.parametrize(("cell", "column", "message"), [
    ("b\u043eb@example.com", 0, "mixes scripts"),
    ("not an address", 1, "not an email address"),
    ("4E1", 2, "exponent notation"),
    (1234567890123456789, 5, "E-notation"),
    ("#REF!", 3, "spreadsheet error #REF!"),
    ("=cmd()", 3, "looks like a spreadsheet formula: '=cmd()'"),
    ("=A2", 1, "not an email address: '=A2'"),
    ("=40/5*5", 2, "not a number: '=40/5*5'"),
    ("Acme\u202eproC", 3, "RIGHT-TO-LEFT OVERRIDE"),
    ("2027-13-01", 6, "no such day"),
])
def test_refusals_name_sheet_row_and_column(tmp_path: Path, cell: Any, column: int, message: str) -> None:
    row: list[Any] = ["a@example.com", "", 40, "Acme", "USA", "1", None]
    row[column] = cell
    path = workbook(tmp_path / "users.xlsx", [HEADER, ["ok@example.com", "", 40, "Acme", "USA", "2", None], row])
    with pytest.raises(CsvError) as info:
        load_desired(path, CONFIG)
    assert str(path) in str(info.value)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"sheet 'Users', row 3, column {HEADER[column]!r}: ")
    assert message in info.value.problems[0]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("users.xlsx", b"NTID email\na@example.com\n", "not a readable Excel workbook"),
    ("users.xlsx", b"PK\x03\x04garbage", "not a readable Excel workbook"),
    ("users.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003"),
    ("users.ods", b"PK\x03\x04" + b"\0" * 50, "not a readable Excel workbook"),
])
def test_files_that_are_not_workbooks_are_refused(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CsvError) as info:
        load_desired(path, CONFIG)
    assert message in str(info.value) and str(path) in str(info.value)


def test_an_empty_sheet_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CsvError) as info:
        load_desired(workbook(tmp_path / "users.xlsx", []), CONFIG)
    assert "sheet 'Users' is empty" in str(info.value)


# ---------------------------------------------------------------------- end to end on the emulator


def _csv_rows() -> list[list[str]]:
    import csv

    with Path("users.csv").open(newline="") as handle:
        return list(csv.reader(handle))


def test_a_csv_and_an_xlsx_of_the_same_users_give_byte_identical_plan_actions(harness: EmulatorHarness,
                                                                              workdir: Path) -> None:
    rows = _csv_rows()
    typed: list[list[Any]] = [rows[0]]
    for row in rows[1:]:  # as a person keeps them in Excel: hours and IDs as numbers
        hours = row[2].replace(",", ".")
        typed.append([row[0], row[1], float(hours) if hours else None, row[3], row[4], int(row[5])])
    workbook(Path("users.xlsx"), typed)
    assert run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--out", "from-csv.json").exit_code == 0
    assert run_cli(harness, "plan", "users.xlsx", "--deactivate-missing", "--out", "from-xlsx.json").exit_code == 0
    from_csv, from_xlsx = (json.loads(Path(p).read_text()) for p in ("from-csv.json", "from-xlsx.json"))
    assert from_csv["actions"], "a plan with something in it"
    dump = lambda plan: json.dumps(plan["actions"], sort_keys=True, ensure_ascii=False).encode()  # noqa: E731
    assert dump(from_csv) == dump(from_xlsx)
    assert from_csv["notices"] == from_xlsx["notices"]


def test_a_refused_workbook_exits_1_and_writes_nothing(harness: EmulatorHarness, workdir: Path) -> None:
    workbook(Path("users.xlsx"), [HEADER[:6], ["a@example.com", "", 40, "Acme", "USA", 9.00123e20]])
    result = run_cli(harness, "plan", "users.xlsx")
    assert result.exit_code == 1
    assert "users.xlsx" in result.output and "sheet 'Users', row 2, column 'Global Id'" in result.output
    assert not Path("plans/plan.json").exists()
    assert harness.transport.operations == {}, "no request before the input is valid"


def test_export_xlsx_round_trips(harness: EmulatorHarness, workdir: Path) -> None:
    assert run_cli(harness, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").exit_code == 0
    result = run_cli(harness, "export", "adopt", "--format", "xlsx")
    assert result.exit_code == 0, result.output
    assert not Path("adopt/users.csv").exists()
    book = openpyxl.load_workbook("adopt/users.xlsx")
    sheet = book.worksheets[0]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), "no value became a formula"
    again = run_cli(harness, "plan", "adopt/users.xlsx", "--config", "adopt/config.yaml", "--detailed-exitcode",
                    "--out", "plans/from-export.json")
    assert again.exit_code == 0, again.output


def test_export_cells_are_text_never_formulas_or_errors(tmp_path: Path) -> None:
    table = [["NTID email", "Weekly Working Hours", "Global Id", "Company"],
             ["a@example.com", "40", "00123", "=HYPERLINK(\"http://x\")"],
             ["b@example.com", "37.333333", "#N/A", "@SUM(A1)"],
             ["c@example.com", "", "", "+1"]]
    path = tmp_path / "users.xlsx"
    path.write_bytes(workbook_bytes(table, number_columns={"Weekly Working Hours"}))
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows(min_row=2)]
    assert cells[0] == [("a@example.com", "s"), (40, "n"), ("00123", "s"), ("=HYPERLINK(\"http://x\")", "s")]
    assert cells[1] == [("b@example.com", "s"), (37.333333, "n"), ("#N/A", "s"), ("@SUM(A1)", "s")]
    assert cells[2][1][0] is None and cells[2][3] == ("+1", "s")
    formats = {letter: dimension.number_format for letter, dimension in sheet.column_dimensions.items()}
    assert formats == {"A": "@", "C": "@", "D": "@"}, "text columns: an ID typed into a new row stays text"
    assert [c.number_format for c in sheet[2]] == ["@", "General", "@", "@"]


def test_merged_cells_in_a_column_clocksync_reads_are_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Users"
    for row in [HEADER[:3] + ["Notes"], ["a@example.com", "jane@example.com", 40, "merged note"],
                ["b@example.com", None, 40, None], ["c@example.com", None, 40, None]]:
        sheet.append(row)
    sheet.merge_cells("D2:D4")  # a column clocksync does not read: fine
    path = tmp_path / "users.xlsx"
    book.save(path)
    assert set(load_desired(path, Config()).users) == {"a@example.com", "b@example.com", "c@example.com"}
    sheet.merge_cells("B2:B4")  # one manager for three rows, as people lay it out
    book.save(path)
    with pytest.raises(CsvError) as info:
        load_desired(path, Config())
    assert info.value.problems == [
        f"sheet 'Users', row {r}, column 'Manager NTID email': is part of the merged cells B2:B4, read as empty: "
        "unmerge them and give each row its own value" for r in (3, 4)]


# ---------------------------------------------------------------------- what a person sees in Excel


def _book(sheets: list[tuple[str, str, list[list[Any]]]]) -> openpyxl.Workbook:
    """A workbook of (title, state, rows) sheets in that order; state: visible, hidden, veryHidden."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, state, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    book.active = next(i for i, (_, state, _) in enumerate(sheets) if state == "visible")
    return book


OLD_COPY = [HEADER[:3], ["old@example.com", "", 20]]
CURRENT = [HEADER[:3], ["a@example.com", "", 40]]


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
@pytest.mark.parametrize("before", [1, 2], ids=["one-hidden-first", "two-hidden-first"])
def test_the_sheet_read_is_the_first_a_person_sees(tmp_path: Path, state: str, before: int) -> None:
    """A hidden first sheet (an old copy, which Excel's Unhide menu may not even list) is not read;
    before, it was, and the plan did not say which sheet it read."""
    hidden = [(f"Users (last month {i})", state, OLD_COPY) for i in range(before)]
    path = tmp_path / "users.xlsx"
    _book([*hidden, ("Users", "visible", CURRENT)]).save(path)
    read = load_desired(path, Config())
    assert read.sheet == "Users" and set(read.users) == {"a@example.com"}


def test_a_chart_sheet_first_is_skipped_and_a_workbook_of_hidden_sheets_is_refused(tmp_path: Path) -> None:
    book = _book([("Users", "visible", CURRENT)])
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.add_data(Reference(book["Users"], min_col=3, min_row=1, max_row=2))
    book.create_chartsheet("Chart", 0).add_chart(chart)
    path = tmp_path / "users.xlsx"
    book.save(path)
    assert load_desired(path, Config()).sheet == "Users"
    book["Users"].sheet_state = "hidden"  # Excel keeps one sheet visible: here, only the chart
    book.active = 0
    book.save(path)
    with pytest.raises(CsvError) as info:
        load_desired(path, Config())
    assert "no visible sheet of cells" in str(info.value) and "'Users' (hidden)" in str(info.value)


@pytest.mark.parametrize("named", ["Old", "old", " OLD ", "O\u200bld"])
def test_csv_sheet_names_any_sheet_hidden_or_not_in_any_case(tmp_path: Path, named: str) -> None:
    path = tmp_path / "users.xlsx"
    _book([("Old", "hidden", OLD_COPY), ("Users", "visible", CURRENT)]).save(path)
    read = load_desired(path, Config.model_validate({"csv": {"sheet": named}}))
    assert read.sheet == "Old" and set(read.users) == {"old@example.com"}


def test_csv_sheet_matches_a_sheet_name_in_nfc(tmp_path: Path) -> None:
    path = tmp_path / "users.xlsx"
    _book([("E\u0301quipe", "visible", CURRENT), ("Users", "visible", OLD_COPY)]).save(path)
    assert load_desired(path, Config.model_validate({"csv": {"sheet": "\u00c9quipe"}})).sheet == "E\u0301quipe"


@pytest.mark.parametrize(("value", "number_format", "text"), [
    (123, "00000", "00123"), (10002, "000000", "010002"), (123.0, "00000", "00123"),
    (123456789, "000-00-0000", "123-45-6789"), (1234, "00000-0000", "00000-1234"),
    (42, '"ID "000000', "ID 000042"), (7, "#0000", "0007"), (1234567, "00000", "1234567"),
    (0, "000", "000"),
    # Not a digit pattern, or not a whole non-negative number: read as before.
    (123, "@", "123"), (123, "General", "123"), (37.5, "0.00", "37.5"), (12345, "#,##0", "12345"),
    (123.5, "00000", "123.5"), (-5, "00000", "-5"), ("00123", "00000", "00123"), ("abc", "00000", "abc"),
])
def test_a_number_shown_with_leading_zeros_is_read_as_shown(tmp_path: Path, value: Any, number_format: str,
                                                            text: str) -> None:
    """Excel shows 123 in a 00000 cell as 00123 and its own CSV writes 00123; before, clocksync read 123."""
    book = _book([("Users", "visible", [HEADER, ["a@example.com", "", 40, "Acme", "USA", value, None]])])
    book["Users"]["F2"].number_format = number_format
    path = tmp_path / "users.xlsx"
    book.save(path)
    assert load_desired(path, CONFIG).users["a@example.com"].fields.get("Global ID", "") == text


def _patched(path: Path, old: bytes, new: bytes) -> None:
    """Replace bytes inside the first sheet's XML (how Excel writes what openpyxl cannot)."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert old in parts[sheet], parts[sheet]
    parts[sheet] = parts[sheet].replace(old, new)
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


@pytest.mark.parametrize(("cell", "expected"), [
    (b'<c r="B3" t="str"><f>IF(1,"","x")</f><v></v></c>', None),
    (b'<c r="B3" t="str"><f>IF(1,"","x")</f><v/></c>', None),
    (b'<c r="B3" t="str"><f>IF(1,"","x")</f><v />\n</c>', None),
    (b'<c r="B3" t="str"><f>IF(1,"b@example.com","x")</f><v>b@example.com</v></c>', "b@example.com"),
])
def test_a_formula_that_calculated_to_empty_text_reads_as_blank(tmp_path: Path, cell: bytes,
                                                                expected: str | None) -> None:
    """=IF(ISBLANK(x),"",VLOOKUP(...)) in the manager column: the person sees an empty cell. Before,
    it was read as its formula text and refused."""
    path = workbook(tmp_path / "users.xlsx", [HEADER[:3], ["b@example.com", "", 40], ["a@example.com", "PLACEHOLDER", 40]])
    _patched(path, b'<c r="B3" t="inlineStr"><is><t>PLACEHOLDER</t></is></c>', cell)
    assert load_desired(path, Config()).users["a@example.com"].manager_key == expected


def test_a_formula_never_calculated_is_still_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "users.xlsx", [HEADER[:3], ["a@example.com", '=IF(1,"","x")', 40]])
    with pytest.raises(CsvError) as info:
        load_desired(path, Config())
    assert "row 2, column 'Manager NTID email'" in str(info.value)


@pytest.mark.parametrize("text_id", ["12E45", "1E10", "1e5", "1.5E+3", "0012E45"])
def test_a_text_cell_that_reads_like_e_notation_is_an_id(tmp_path: Path, text_id: str) -> None:
    """A text cell is the text: only a number that Excel turned into E-notation is refused."""
    path = workbook(tmp_path / "users.xlsx", [HEADER, ["a@example.com", "", 40, "Acme", "USA", text_id, None]])
    assert load_desired(path, CONFIG).users["a@example.com"].fields["Global ID"] == text_id


def test_the_plan_says_which_sheet_it_read_in_every_format(harness: EmulatorHarness, workdir: Path) -> None:
    """A hidden old copy first, the current users second: the plan is made from the sheet a person
    sees, and its header (text, markdown, HTML) and the plan file name that sheet."""
    rows = _csv_rows()
    old = [rows[0]] + [[*r[:2], "20", *r[3:]] for r in rows[1:]]  # last month: everyone on 20 h
    _book([("Users (last month)", "veryHidden", old), ("Users", "visible", rows)]).save("users.xlsx")
    assert run_cli(harness, "plan", "users.csv", "--out", "from-csv.json").exit_code == 0
    for fmt in ("text", "markdown", "html"):
        shown = run_cli(harness, "plan", "users.xlsx", "--out", "from-xlsx.json", "--format", fmt)
        assert shown.exit_code == 0, shown.output
        assert "users.xlsx (sheet &#x27;Users&#x27;)" in shown.output if fmt == "html" else \
            "users.xlsx (sheet 'Users')" in shown.output
    plan = json.loads(Path("from-xlsx.json").read_text())
    assert plan["inputs"]["csv"]["sheet"] == "Users"
    assert json.loads(Path("from-csv.json").read_text())["inputs"]["csv"]["sheet"] is None
    assert plan["actions"] == json.loads(Path("from-csv.json").read_text())["actions"], "not the hidden copy"
