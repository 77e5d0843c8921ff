"""An Excel workbook (.xlsx) as a table of text cells, read with openpyxl in read-only mode.

The sheet is the first one, or ``csv.sheet``. Each cell becomes the text a person sees in Excel,
so a workbook and the CSV Excel saves from it are read alike:
- text stays text (an ID typed as text keeps its leading zeros);
- a whole number is written without ``.0`` (``12345.0`` -> ``12345``); another number with up to
  15 significant digits, as Excel keeps them, never in exponent notation; a whole number of 16 or
  more digits has lost digits in Excel and is written in E-notation, which the loader refuses in a
  mapped column ("format the column as text");
- a date cell is an ISO date (``2027-03-31``); a date with a time keeps the time, which a date
  column refuses; an elapsed-time cell (``[h]:mm``) is its hours (``37:30`` -> ``37.5``);
- a boolean is ``TRUE`` or ``FALSE``, as Excel shows it and writes it to a CSV;
- a formula is read as the value Excel last calculated (what the sheet shows); a formula that was
  never calculated (a workbook written by a program and not opened since) is read as its formula
  text, and an error value (``#N/A``) as its text, both of which the loader refuses;
- merged cells are reported (``Table.merged``): the loader refuses a merge in a column it reads
  rather than read the rows under the first as empty.
"""

from __future__ import annotations

import datetime
import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.exceptions import InvalidFileException

from clocksync.errors import CsvError
from clocksync.load.table import Table
from clocksync.sanitize import visible

EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number

# What openpyxl raises on a file that is not a readable workbook (a damaged ZIP, missing parts,
# malformed XML, values it cannot convert, a damaged deflate stream inside the ZIP, a ZIP feature
# zipfile does not implement, an encrypted member).
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, InvalidFileException, KeyError, ValueError, TypeError,
               OSError, EOFError, ParseError, zlib.error, NotImplementedError, RuntimeError)


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 10 ** EXCEL_DIGITS:
        return str(int(value))
    if value.is_integer():
        return f"{value:.{EXCEL_DIGITS - 1}E}".replace("E+0", "E+")  # what Excel shows: digits were lost
    return format(Decimal(format(value, f".{EXCEL_DIGITS}g")), "f")


def cell_text(value: Any) -> str:
    """A cell value as openpyxl gives it -> the text a person sees in Excel."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return _number(value.total_seconds() / 3600)
    return str(value)


_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.DOTALL)
_VALUE = re.compile(rb"<v>[^<]+</v>")


def _sheet_xml(raw: bytes, part: str) -> bytes:
    try:
        return zipfile.ZipFile(io.BytesIO(raw)).read(part)
    except _UNREADABLE:  # a damaged part: the workbook read reports it
        return b""


def uncalculated_formulas(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) -> ``=formula`` of each formula cell of the sheet with no calculated value.

    openpyxl reads such a cell as empty; read as empty, a manager cell would silently send the
    reports to the fallback manager."""
    if b"<f" not in xml:
        return {}  # no formula at all: the common case, no scan
    found: dict[tuple[int, int], str] = {}
    for cell in _CELL.finditer(xml):
        body = cell.group(2) or b""
        formula = _FORMULA.search(body)
        ref = _REF.search(cell.group(1))
        if formula is None or ref is None or _VALUE.search(body):
            continue
        text = html.unescape((formula.group(1) or b"").decode("utf-8", "replace")) or "(a shared formula)"
        found[coordinate_to_tuple(ref.group(1).decode())] = "=" + text
    return found


_MERGE = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z]+[0-9]+):([A-Z]+[0-9]+)"')


def merged_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column index from 0) -> ``B2:B5`` for each cell a merge covers, but its first (which
    holds the value). A person sees the value across the merge; openpyxl reads the others as empty."""
    found: dict[tuple[int, int], str] = {}
    for match in _MERGE.finditer(xml):
        first, last = (coordinate_to_tuple(g.decode()) for g in match.groups())
        shown = f"{match.group(1).decode()}:{match.group(2).decode()}"
        for row in range(first[0], last[0] + 1):
            for column in range(first[1], last[1] + 1):
                if (row, column) != first:
                    found[(row, column - 1)] = shown
    return found


def read_workbook(path: Path, raw: bytes, sheet: str) -> Table:
    """The sheet as a table. Raises CsvError for an unreadable workbook or an unknown sheet."""
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except _UNREADABLE as exc:
        first_line = visible((str(exc).splitlines() or [""])[0])  # openpyxl explains over several lines
        raise CsvError(str(path), [f"not a readable Excel workbook (.xlsx): {type(exc).__name__}: {first_line}"[:300]]
                       ) from None
    names = book.sheetnames
    if not names:
        raise CsvError(str(path), ["the workbook has no sheet"])
    if sheet:
        found = next((n for n in names if n == sheet), None) or next(
            (n for n in names if n.strip().casefold() == sheet.strip().casefold()), None)
        if found is None:
            raise CsvError(str(path), [f"no sheet named {sheet!r} (csv.sheet); the workbook has: "
                                       f"{', '.join(map(repr, names))}"])
    else:
        found = names[0]
    worksheet = book[found]
    if not hasattr(worksheet, "iter_rows"):
        raise CsvError(str(path), [f"sheet {found!r} is a chart, not a table of cells"])
    worksheet.reset_dimensions()  # some writers record a wrong size: read every row that is there
    rows = worksheet.iter_rows(values_only=True)
    try:
        first = next(rows, None)
    except _UNREADABLE as exc:
        raise CsvError(str(path), [f"sheet {found!r}: cannot read the header: {type(exc).__name__}"]) from None
    if first is None:
        book.close()
        raise CsvError(str(path), [f"sheet {found!r} is empty"])

    formulas: dict[int, list[tuple[int, str]]] = {}
    xml = _sheet_xml(raw, getattr(worksheet, "_worksheet_path", ""))
    for (r, c), formula in uncalculated_formulas(xml).items():
        formulas.setdefault(r, []).append((c, formula))

    def text_of(row_number: int, values: tuple[Any, ...]) -> list[str]:
        texts = [cell_text(v) for v in values]
        for c, formula in formulas.get(row_number, ()):
            texts += [""] * (c - len(texts))
            texts[c - 1] = formula
        return texts

    def body() -> Iterator[tuple[int, list[str]]]:
        row_number = 1
        try:
            for row_number, row in enumerate(rows, start=2):
                yield row_number, text_of(row_number, row)
        except _UNREADABLE as exc:
            raise CsvError(str(path), [f"sheet {found!r}, row {row_number + 1}: unreadable: "
                                       f"{type(exc).__name__}"]) from None
        finally:
            book.close()

    return Table(text_of(1, first), body(), sheet=found, merged=merged_cells(xml))
