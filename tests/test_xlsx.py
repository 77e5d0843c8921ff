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
