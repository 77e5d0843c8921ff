"""A users file as a table of text cells, whatever its format: a CSV or an Excel workbook.

``read_table`` tells the two apart by content (an xlsx is a ZIP archive) and by extension, and
returns the header and the rows as text, each row with its number as the spreadsheet shows it
(the header is row 1). Cleaning and validating the cells is ``load/desired.py``'s job.

What spreadsheets do to a CSV that is handled here: a UTF-8 BOM; Excel's ``sep=;`` first line
(the delimiter it names is used, and the line is not counted as a row, as Excel shows it); the
delimiter sniffed from the header (``,``, ``;`` or a tab) unless ``csv.delimiter`` sets it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clocksync.config import CsvConfig
from clocksync.errors import CsvError

# Excel's delimiter hint; typed into cell A1 and saved, it comes back with empty cells after it
# ("sep=;;;;;" or '"sep=;",,,').
_SEP_LINE = re.compile(r'^"?sep=(.)"?[,;\t|]*\r?$', re.IGNORECASE)
# A number in exponent notation, as Excel shows a long number (an ID of 16 digits: 9.00123E+15).
E_NOTATION = re.compile(r"^[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+$")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and other OLE documents)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")  # the stream an encrypted workbook's OLE container holds


@dataclass
class Table:
    """``rows`` yields (row number, cells as text); ``sheet`` names the worksheet of a workbook;
    ``merged`` the cells of a workbook that a merge covers (each but the first of the merge).

    Reading a row may raise ``CsvError`` (an unreadable CSV)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    sheet: str | None = None
    merged: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column index) -> "B2:B5"
    # (row, column index) of workbook text cells a CSV would hold as a number (``12E45`` typed as
    # text): explicit text, read as it is. Filled as the rows are read.
    literal: set[tuple[int, int]] = field(default_factory=set)

    def where(self, row: int, column: str | None = None) -> str:
        """``sheet 'Users', row 4, column 'NTID email'``: where a problem is, for a message."""
        sheet = f"sheet {self.sheet!r}, " if self.sheet else ""
        return f"{sheet}row {row}" + (f", column {column!r}" if column is not None else "")


def read_table(path: Path, raw: bytes, cols: CsvConfig) -> Table:
    """The file as a table. Raises CsvError naming the file for a format clocksync cannot read."""
    if raw.startswith(OLE_MAGIC) and (path.suffix.lower() in XLSX_SUFFIXES or _ENCRYPTED in raw):
        raise CsvError(str(path), ["a password-protected (encrypted) Excel workbook: clocksync cannot read it; remove "
                                   "the password (File > Info > Protect Workbook > Encrypt with Password) or save "
                                   "the sheet as CSV UTF-8"])
    if raw.startswith(ZIP_MAGIC) or path.suffix.lower() in XLSX_SUFFIXES:
        from clocksync.load.xlsx import read_workbook  # openpyxl is imported only for workbooks

        return read_workbook(path, raw, cols.sheet)
    if raw.startswith(OLE_MAGIC) or path.suffix.lower() == ".xls":
        raise CsvError(str(path), ["an Excel 97-2003 workbook (.xls): save it as .xlsx (Excel Workbook) or as "
                                   "CSV UTF-8"])
    if path.suffix.lower() == ".ods":
        raise CsvError(str(path), ["an OpenDocument spreadsheet (.ods): save it as .xlsx or as CSV UTF-8"])
    return read_csv(path, raw, cols)


def _encoding_of(raw: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding a file is in (by its byte order mark, or by its zero bytes), or None."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    head = raw[:400]
    if len(head) >= 8 and head.count(0) >= len(head) // 2:  # text in UTF-16/32 without a byte order mark
        return "UTF-32" if head.count(0) >= 3 * len(head) // 4 - 2 else "UTF-16"
    return None


def _decode(path: Path, raw: bytes) -> str:
    encoding = _encoding_of(raw)
    if encoding:
        raise CsvError(str(path), [f"the file is {encoding}; save it as UTF-8 (CSV UTF-8 in Excel)"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvError(str(path), [f"row {line}: not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8"]) from None


def _delimiter(header_line: str, configured: str) -> str:
    if configured != "auto":
        return configured
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path, raw: bytes, cols: CsvConfig) -> Table:
    """A CSV as a table. Raises CsvError for an empty, UTF-16, non-UTF-8 or NUL-holding file."""
    text = _decode(path, raw)
    if not text.strip():
        raise CsvError(str(path), ["the file is empty"])
    first, _, rest = text.partition("\n")
    hint = _SEP_LINE.match(first.strip(" "))
    if hint:  # Excel's delimiter hint: honoured, and not a row (Excel does not show it either)
        text = rest
        delimiter = hint.group(1)
        if not text.strip():
            raise CsvError(str(path), ["the file has only the sep= line"])
    else:
        delimiter = _delimiter(first, cols.delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise CsvError(str(path), [f"row 1: cannot read the header: {exc}"]) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        row_number = 1
        try:
            for row_number, row in enumerate(reader, start=2):
                yield row_number, row
        except csv.Error as exc:
            raise CsvError(str(path), [f"row {row_number + 1}: unreadable CSV: {exc}"]) from None

    return Table(header, rows())
