"""The one CSV writer for every export (the dashboard's tables, the staff labels).

Complaint texts are written by the public: a cell starting with = + - @ (or a tab or carriage
return before one) would run as a formula when an analyst opens the file in a spreadsheet, so
such a cell gets a leading apostrophe. Files start with a BOM so Excel reads the Chinese right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    """A whole small table as CSV text."""
    return "".join(csv_chunks(header, rows, chunk_rows=10**9))


def csv_chunks(header: list[str], rows: Iterable[Iterable], chunk_rows: int = 500) -> Iterator[str]:
    """A large table as text chunks (streamed over HTTP or written to a file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([safe_cell(h) for h in header])
    for i, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(v) for v in row])
        if i % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
