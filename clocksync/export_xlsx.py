"""The export's users table as an Excel workbook (openpyxl, write-only mode).

Every cell is written as a text cell, whatever it holds: openpyxl would store a string that
starts with ``=`` as a formula (and a spreadsheet would run it) and ``#N/A`` as an error value;
a text cell is shown and read back as exactly its text, and an ID keeps its leading zeros. The
columns named in ``number_columns`` (the weekly hours) are numbers, as a person keeps them. The
other columns are formatted as text (``@``), so an ID typed into a new row keeps its zeros.
"""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

SHEET = "Users"


def _number(text: str) -> int | float | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _cell(sheet: WriteOnlyWorksheet, text: str, number: bool) -> Cell:
    value = _number(text) if number and text else None
    if value is not None:
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=text or None)
    if text:
        cell.data_type = "s"  # text, never a formula or an error value
    if not number:
        cell.number_format = "@"  # shown as text; the loader reads a number cell as it is shown anyway
    return cell


def workbook_bytes(table: list[list[str]], *, number_columns: set[str]) -> bytes:
    """``table`` (the header first) as the bytes of an .xlsx workbook with one sheet."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    header = table[0] if table else []
    numeric = [name in number_columns for name in header]
    for j, is_number in enumerate(numeric):  # a value typed later into a new row stays text (00124 keeps its 0)
        if not is_number:
            sheet.column_dimensions[get_column_letter(j + 1)].number_format = "@"
    for i, row in enumerate(table):
        sheet.append([_cell(sheet, text, i > 0 and j < len(numeric) and numeric[j]) for j, text in enumerate(row)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
