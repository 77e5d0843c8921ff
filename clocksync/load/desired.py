"""The users CSV -> ``DesiredState``. Every bad row is gathered, then one ``CsvError`` is raised.

Row numbers are the spreadsheet's: the header is row 1, the first user row 2.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
from pathlib import Path
from types import MappingProxyType

from clocksync.config import Config
from clocksync.durations import daily_seconds, parse_hours
from clocksync.errors import CsvError
from clocksync.model import DesiredState, UserSpec, email_key
from clocksync.sanitize import looks_like_formula, read_cell

_EMAIL = re.compile(r"^[^@\s,;<>\"'()]+@[^@\s,;<>\"'()]+\.[^@\s,;<>\"'()]+$")
MAX_CELL = 1000


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvError(str(path), ["the file is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel)"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvError(str(path), [f"row {line}: not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8"]) from None


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


def _delimiter(header_line: str, configured: str) -> str:
    if configured != "auto":
        return configured
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def load_desired(path: Path, config: Config) -> DesiredState:
    """Read and validate the CSV. Raises CsvError listing every problem (file, row, column)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CsvError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    text = _decode(path, raw)
    if not text.strip():
        raise CsvError(str(path), ["the file is empty"])
    if "\x00" in text:
        raise CsvError(str(path), [f"row {text[: text.index(chr(0))].count(chr(10)) + 1}: contains a NUL byte"])
    cols = config.csv
    delimiter = _delimiter(text.splitlines()[0], cols.delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except (csv.Error, StopIteration) as exc:
        raise CsvError(str(path), [f"row 1: cannot read the header: {exc}"]) from None
    required = [cols.email_column, cols.manager_column, cols.hours_column, *config.field_mapping]
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvError(str(path), [f"row 1: missing required column {c!r} (found: {', '.join(map(repr, header))})"
                                   for c in missing])
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise CsvError(str(path), [f"row 1: column {d!r} appears more than once" for d in dupes])
    index = {name: i for i, name in enumerate(header)}
    country_index = index.get(cols.country_column)

    problems: list[str] = []
    users: dict[str, UserSpec] = {}
    first_row: dict[str, int] = {}
    row_number = 1
    try:
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if len(row) > len(header):
                problems.append(f"row {row_number}: {len(row)} cells but the header has {len(header)}")
                continue

            def cell(column: str, row: list[str] = row) -> str:
                i = index[column]
                return row[i].strip() if i < len(row) else ""

            before = len(problems)

            def bad(column: str, message: str, row_number: int = row_number) -> None:
                problems.append(f"row {row_number}, column {column!r}: {message}")

            for column in header:
                value = cell(column) if column else ""
                if len(value) > MAX_CELL:
                    bad(column, f"cell is {len(value)} characters long (at most {MAX_CELL})")
            email = cell(cols.email_column)
            if not email:
                bad(cols.email_column, "email is blank")
            elif looks_like_formula(email) or not _EMAIL.match(email):
                bad(cols.email_column, f"not an email address: {email[:80]!r}")
            manager = cell(cols.manager_column)
            if manager and (looks_like_formula(manager) or not _EMAIL.match(manager)):
                bad(cols.manager_column, f"not an email address: {manager[:80]!r}")
            hours_text = cell(cols.hours_column)
            capacity = None
            if hours_text:
                try:
                    capacity = daily_seconds(parse_hours(hours_text))
                except ValueError as exc:
                    bad(cols.hours_column, str(exc))
            dates: dict[str, str | None] = {}
            for column in (cols.start_column, cols.end_column):
                value = cell(column) if column in index else ""
                dates[column] = None
                if value:
                    try:
                        dates[column] = parse_date(value, cols.date_order)
                    except ValueError as exc:
                        bad(column, str(exc))
            start, end = dates[cols.start_column], dates[cols.end_column]
            if start and end and end < start:
                bad(cols.end_column, f"ends ({end}) before it starts ({start})")
            fields: dict[str, str] = {}
            for column, field_name in config.field_mapping.items():
                # A leading apostrophe marks a cell as text (export writes formulas that way): the
                # value is what follows it, whatever it starts with.
                value, marked = read_cell(cell(column))
                if value and not marked and looks_like_formula(value):
                    bad(column, f"looks like a spreadsheet formula: {value[:40]!r}")
                elif value:
                    fields[field_name] = value
            if len(problems) > before or not email:
                continue
            key = email_key(email)
            if key in first_row:
                bad(cols.email_column, f"duplicate email {email!r} (first on row {first_row[key]})")
                continue
            first_row[key] = row_number
            country = row[country_index].strip() if country_index is not None and country_index < len(row) else ""
            users[key] = UserSpec(
                key=key, email=email, row=row_number,
                manager_key=email_key(manager) if manager else None,
                capacity_seconds=capacity, fields=MappingProxyType(fields), country=country or None,
                start=start, end=end,
            )
    except csv.Error as exc:
        problems.append(f"row {row_number + 1}: unreadable CSV: {exc}")
    if not problems and not users:
        problems.append("no user rows after the header")
    if problems:
        raise CsvError(str(path), problems)
    return DesiredState(users=MappingProxyType(users), source=str(path), sha256=hashlib.sha256(raw).hexdigest())
