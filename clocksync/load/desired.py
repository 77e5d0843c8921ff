"""The users file (a CSV or an Excel workbook) -> ``DesiredState``. Every bad row is gathered,
then one ``CsvError`` is raised naming the file (and sheet), row and column of each.

Row numbers are the spreadsheet's: the header is row 1, the first user row 2. Every cell
clocksync reads is read as a person sees it (``load/cells.py``), and each cell read differently
from its bytes is recorded for the plan. What spreadsheets do to a file is handled here and in
``load/table.py``: empty cells past the header's last column are ignored; a repeated header is an
error only for a column clocksync reads; Excel's ``="00123"`` is the text ``00123``; an ID that
Excel turned into E-notation, a spreadsheet error value (``#N/A``) and a formula are refused; the
daily capacity is rounded to whole minutes and the rounding recorded.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import clocksync.kinds  # noqa: F401  (importing the kinds registers what they read from a row)
from clocksync.chars import reveal
from clocksync.columns import ColumnError, RowValue
from clocksync.config import Config
from clocksync.durations import exact_daily_seconds, format_duration, parse_hours, whole_minutes
from clocksync.errors import CsvError
from clocksync.files import read_input
from clocksync.load.cells import CellError, clean_email, clean_text, plain_email
from clocksync.load.table import E_NOTATION, Table, read_table
from clocksync.model import (
    NOTHING,
    CleanedCell,
    DesiredState,
    UserSpec,
    email_key,
    name_key,
    value_text,
)
from clocksync.sanitize import export_cell, looks_like_formula, read_cell

# What Excel shows (and writes to a CSV) in place of a value when a formula fails.
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
MAX_CELL = 1000


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_LOCAL_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


def parse_date(text: str, order: str) -> str:
    """A date cell as an ISO date: ``2027-03-31`` always; with ``order`` "day-first" also 31.03.2027 or
    31/03/2027, with "month-first" also 03/31/2027. Raises ValueError."""
    iso = _ISO_DATE.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    else:
        local = _LOCAL_DATE.match(text)
        if not local or order == "iso":
            forms = {"iso": "YYYY-MM-DD", "day-first": "YYYY-MM-DD or DD.MM.YYYY",
                     "month-first": "YYYY-MM-DD or MM/DD/YYYY"}[order]
            raise ValueError(f"not a date: {text[:40]!r} (expected {forms}; csv.date_order sets the form)")
        first, second, year = (int(g) for g in local.groups())
        day, month = (first, second) if order == "day-first" else (second, first)
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(f"not a date: {text[:40]!r} (no such day)") from None


def reads_back(value: str) -> bool:
    """Whether a custom field value, written to a users file by export (``sanitize.export_cell``),
    is read back by this loader as the same value (what a plan compares). A value holding what a
    person does not see, or what the loader refuses, is not (export leaves it out and says so)."""
    cell = export_cell(value)
    if cell.strip() in EXCEL_ERRORS or len(cell) > MAX_CELL:
        return False
    try:
        text, marked = read_cell(clean_text(cell).text)
    except CellError:
        return False
    if not marked and (E_NOTATION.match(text) or looks_like_formula(text)):
        return False
    return value_text(text) == value_text(value)


def header_reads_back(column: str) -> bool:
    """Whether ``column``, written as a header cell, is read back by this loader as the same name: not
    blank, not longer than a cell, nothing invisible, no control character or line break (export
    leaves out a field whose name a users file cannot hold, and says so)."""
    if not column.strip() or len(column) > MAX_CELL:
        return False
    try:
        return clean_text(column).text == column
    except CellError:
        return False


def read_columns(config: Config) -> list[str]:
    """Every column clocksync reads (required or optional), in the order it reads them."""
    cols = config.csv
    names = [cols.email_column, cols.manager_column, cols.hours_column, *config.field_mapping,
             cols.country_column, cols.start_column, cols.end_column,
             *(column for kind in RowValue.registry for column in kind.columns(config))]
    return list(dict.fromkeys(names))


class _Header:
    """Where each column clocksync reads is, matched as a person reads a header (``name_key``)."""

    def __init__(self, table: Table, config: Config) -> None:
        self.problems: list[str] = []
        cleaned: list[str] = []
        for i, raw in enumerate(table.header):
            try:
                cleaned.append(clean_text(raw).text)
            except CellError as exc:
                cleaned.append(raw)
                self.problems.append(f"{table.where(1)}, column {i + 1}: the header {exc}")
        filled = [i for i, name in enumerate(cleaned) if name]
        self.width = filled[-1] + 1 if filled else 0  # cells past it are not in any column
        positions: dict[str, list[int]] = {}
        for i, name in enumerate(cleaned[: self.width]):
            positions.setdefault(name_key(name), []).append(i)
        config_columns = read_columns(config)
        required = dict.fromkeys([config.csv.email_column, config.csv.manager_column, config.csv.hours_column,
                                  *config.field_mapping], "")
        for kind in RowValue.registry:
            for column, key in kind.required_columns(config).items():
                required.setdefault(column, key)
        self.index: dict[str, int] = {}
        for column in config_columns:
            found = positions.get(name_key(column), [])
            if len(found) > 1:
                self.problems.append(f"{table.where(1)}: column {column!r} appears {len(found)} times (columns "
                                     f"{', '.join(str(i + 1) for i in found)}); clocksync reads it, so keep one")
            elif found:
                self.index[column] = found[0]
            elif column in required:
                named = f", which {required[column]} in {config.source} names" if required[column] else ""
                self.problems.append(f"{table.where(1)}: missing required column {column!r}{named} (found: "
                                     f"{_found(cleaned[: self.width])})")


SHOWN_COLUMNS = 20  # header cells a missing-column message lists
SHOWN_HEADER_CHARS = 40  # characters of each (a file that is no users file can hold anything in its first line)


def _found(header: list[str]) -> str:
    """The header cells a missing-column message shows: the first 20, each cut to 40 characters."""
    cells = [repr(c if len(c) <= SHOWN_HEADER_CHARS else c[: SHOWN_HEADER_CHARS - 1] + "…")
             for c in header[:SHOWN_COLUMNS]]
    more = f" and {len(header) - SHOWN_COLUMNS} more" if len(header) > SHOWN_COLUMNS else ""
    return ", ".join(cells) + more


def _clock(seconds: Decimal) -> str:
    """``7 h 27 min 36 s``: a daily capacity as a person reads it (seconds to 2 decimals at most)."""
    seconds = seconds.quantize(Decimal("0.01"))  # before the split: 59.999 s is a minute, not "60 s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    shown = f"{secs.quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    parts = [f"{int(hours)} h"] if hours else []
    parts += [f"{int(minutes)} min"] if minutes else []
    return " ".join(parts + ([f"{shown} s"] if secs or not parts else []))


class _Rows:
    """Reads the user rows: cleans each cell clocksync reads, validates it, gathers problems."""

    def __init__(self, table: Table, header: _Header, config: Config) -> None:
        self.table = table
        self.config = config
        self.cols = config.csv
        self.width = header.width
        self.index = header.index
        emails = (self.cols.email_column, self.cols.manager_column)
        self.columns = sorted(((c, i, c in emails) for c, i in header.index.items()), key=lambda t: t[1])
        self.problems: list[str] = []
        self.cleaned: list[CleanedCell] = []
        self.users: dict[str, UserSpec] = {}
        self.first_row: dict[str, int] = {}
        self.capacities: dict[str, tuple[int, Decimal]] = {}  # hours cell -> (daily seconds, unrounded)
        self.literal: set[str] = set()  # the row's columns written as explicit text (="12E45", a workbook text cell)

    def bad(self, row: int, column: str, message: str) -> None:
        self.problems.append(f"{self.table.where(row, column)}: {message}")

    def cells(self, row_number: int, row: list[str]) -> tuple[dict[str, str], bool]:
        """The text of each column read, as a person sees it (a refused cell is left out), and
        whether any cell of the row was refused."""
        texts: dict[str, str] = {}
        refused = False
        size = len(row)
        merged = self.table.merged
        self.literal = {column for column, i, _ in self.columns if (row_number, i) in self.table.literal}
        for column, i, is_email in self.columns:
            raw = row[i] if i < size else ""
            if merged and (row_number, i) in merged:
                self.bad(row_number, column, f"is part of the merged cells {merged[(row_number, i)]}, read as empty: "
                                             "unmerge them and give each row its own value")
                refused = True
                continue
            if "#" in raw and raw.strip() in EXCEL_ERRORS:
                self.bad(row_number, column, f"shows the spreadsheet error {raw.strip()}: fix the formula in the "
                                             "spreadsheet")
                refused = True
                continue
            if raw.isascii() and raw.isprintable() and raw[:1] != " " and raw[-1:] != " " and raw[:2] != '="' \
                    and (not is_email or plain_email(raw)):
                text = texts[column] = raw  # nothing to clean (most cells): no call
            else:
                try:
                    cell = clean_email(raw) if is_email else clean_text(raw)
                except CellError as exc:
                    self.bad(row_number, column, str(exc))
                    refused = True
                    continue
                text = texts[column] = cell.text
                if cell.literal:
                    self.literal.add(column)
                if cell.changes:
                    self.cleaned.append(CleanedCell(row_number, column, reveal(raw), reveal(text), cell.changes))
            if len(text) > MAX_CELL:
                self.bad(row_number, column, f"cell is {len(text)} characters long (at most {MAX_CELL})")
                refused = True
                del texts[column]
        if len(row) > self.width and any(c.strip() for c in row[self.width:]):
            extra = [(i, c) for i, c in enumerate(row[self.width:], start=self.width + 1) if c.strip()]
            self.problems.append(f"{self.table.where(row_number)}: {len(extra)} value(s) past the header's last "
                                 f"column (column {extra[0][0]}: {reveal(extra[0][1][:40])}); add a header for "
                                 "them or remove them")
            refused = True
        return texts, refused

    def capacity(self, row_number: int, text: str) -> int | None:
        """Weekly hours -> daily seconds in whole minutes; a rounding is recorded for the plan."""
        if not text:
            return None
        known = self.capacities.get(text)  # a file holds few distinct hours: each is read once
        if known is None:
            try:
                exact = exact_daily_seconds(parse_hours(text))
            except ValueError as exc:
                self.bad(row_number, self.cols.hours_column, str(exc))
                return None
            known = self.capacities[text] = (whole_minutes(exact), exact)
        seconds, exact = known
        if abs(exact - seconds) >= Decimal("0.01"):  # 37.333333 (what export writes for PT7H28M) is 7 h 28 min
            self.cleaned.append(CleanedCell(row_number, self.cols.hours_column, reveal(text), format_duration(seconds),
                                            (f"{text} h a week is {_clock(exact)} a day: rounded to whole minutes",)))
        return seconds

    def dates(self, row_number: int, texts: dict[str, str]) -> tuple[str | None, str | None]:
        found: dict[str, str | None] = {}
        for column in (self.cols.start_column, self.cols.end_column):
            value = texts.get(column, "")
            found[column] = None
            if value:
                try:
                    found[column] = parse_date(value, self.cols.date_order)
                except ValueError as exc:
                    self.bad(row_number, column, str(exc))
        start, end = found[self.cols.start_column], found[self.cols.end_column]
        if start and end and end < start:
            self.bad(row_number, self.cols.end_column, f"ends ({end}) before it starts ({start})")
        return start, end

    def fields(self, row_number: int, texts: dict[str, str]) -> dict[str, str]:
        fields: dict[str, str] = {}
        for column, field_name in self.config.field_mapping.items():
            # A leading apostrophe marks a cell as text (export writes formulas that way): the
            # value is what follows it, whatever it starts with.
            value, marked = read_cell(texts.get(column, ""))
            if not value:
                continue
            if marked or (column in self.literal and not looks_like_formula(value)):
                fields[field_name] = value
            elif E_NOTATION.match(value):
                self.bad(row_number, column, f"{value} is a number in E-notation, as Excel shows a long ID (digits "
                                             "may be lost): format the column as text in the spreadsheet and export "
                                             f"again; an ID that really reads {value} is written =\"{value}\" (text to "
                                             "Excel), or typed into a text cell of a workbook")
            elif looks_like_formula(value):
                self.bad(row_number, column, f"looks like a spreadsheet formula: {reveal(value[:40])}")
            else:
                fields[field_name] = value
        return fields

    def kinds(self, row_number: int, texts: dict[str, str]) -> dict[type, object]:
        """What the kinds read from the row's other columns (``columns.RowValue``)."""
        values: dict[type, object] = {}
        for kind in RowValue.registry:
            try:
                value = kind.read(lambda column: texts.get(column, ""), self.config)
            except ColumnError as exc:
                self.bad(row_number, exc.column, exc.message)
                continue
            if value is not None:
                values[kind] = value
        return values

    def read(self, row_number: int, row: list[str]) -> None:
        texts, refused = self.cells(row_number, row)
        if not refused and not any(texts.values()):
            return  # only invisible characters: a blank line to a person
        before = len(self.problems)
        cols = self.cols
        email, manager = texts.get(cols.email_column), texts.get(cols.manager_column, "")
        if email == "":
            self.bad(row_number, cols.email_column, "email is blank")
        elif email and looks_like_formula(email):
            self.bad(row_number, cols.email_column, f"not an email address: {reveal(email[:80])}")
        if manager and looks_like_formula(manager):
            self.bad(row_number, cols.manager_column, f"not an email address: {reveal(manager[:80])}")
        capacity = self.capacity(row_number, texts.get(cols.hours_column, ""))
        start, end = self.dates(row_number, texts)
        fields = self.fields(row_number, texts)
        values = self.kinds(row_number, texts)
        if refused or len(self.problems) > before or not email:
            return
        key = email_key(email)
        if key in self.first_row:
            self.bad(row_number, cols.email_column, f"duplicate email {reveal(email)} (first on row {self.first_row[key]})")
            return
        self.first_row[key] = row_number
        self.users[key] = UserSpec(
            key=key, email=email, row=row_number, manager_key=email_key(manager) if manager else None,
            capacity_seconds=capacity, fields=MappingProxyType(fields) if fields else NOTHING, country=texts.get(cols.country_column) or None,
            start=start, end=end, values=MappingProxyType(values) if values else NOTHING,
        )


def load_desired(path: Path, config: Config) -> DesiredState:
    """Read and validate the users file (CSV, or .xlsx by content or extension). Raises CsvError
    listing every problem (file, sheet, row, column)."""
    try:
        raw = read_input(path)
    except OSError as exc:
        raise CsvError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    table = read_table(path, raw, config.csv)
    header = _Header(table, config)
    if header.problems:
        raise CsvError(str(path), header.problems)
    rows = _Rows(table, header, config)
    try:
        for row_number, row in table.rows:
            if any(cell.strip() for cell in row):
                rows.read(row_number, row)
    except CsvError as exc:  # the file became unreadable part-way: reported with what was found before
        rows.problems += exc.problems
    if not rows.problems and not rows.users:
        rows.problems.append("no user rows after the header")
    if rows.problems:
        raise CsvError(str(path), rows.problems)
    return DesiredState(users=MappingProxyType(rows.users), source=str(path), sha256=hashlib.sha256(raw).hexdigest(),
                        sheet=table.sheet, cleaned=tuple(rows.cleaned))
