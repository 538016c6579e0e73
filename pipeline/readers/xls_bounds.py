"""Sizes of an .xls checked before calamine allocates it (issue 11), with maintained
libraries: olefile for the container's stream sizes, xlrd for each sheet's cells.

calamine turns a sheet into a dense range spanning its cells, and copies a shared
string (SST) into every cell that refers to it; this module measures both the way
calamine will meet them, so that a far cell or an amplified string is refused with a
reason instead of an allocation. xlrd parses a sheet into ragged rows (no padding: a
cell at IV65536 costs one row list, not 16 million cells) and refers to each shared
string without copying it, so measuring costs little memory.

A file that xlrd cannot parse (BIFF5 and older, encrypted, damaged) is not judged
here: the reader reports it, and the contained extraction bounds what it costs.
"""

from __future__ import annotations

import io
from pathlib import Path

import olefile
import xlrd

from pipeline.readers.xlsx_meta import cell_ref


class XlsTooLarge(Exception):
    """What exceeds a limit: ``what`` is ``stream``, ``cells`` or ``chars``; ``sheet`` and
    ``ref`` name the sheet (or stream) and the far cell (``cells``), ``size`` the measured
    value (bytes, cells or characters), ``rows`` × ``cols`` the span (``cells``)."""

    def __init__(self, what, size, limit, sheet="", ref="", rows=0, cols=0):
        super().__init__(f"{what} {size} > {limit} ({sheet} {ref})")
        self.what, self.size, self.limit = what, size, limit
        self.sheet, self.ref, self.rows, self.cols = sheet, ref, rows, cols


def check_streams(path: Path | bytes, max_bytes: int) -> None:
    """Every stream of the OLE container at most ``max_bytes`` (the size olefile reads
    from the directory; a stream whose sectors do not hold it is olefile's error).
    Files olefile cannot open are left to the reader."""
    try:
        ole = olefile.OleFileIO(path if isinstance(path, bytes) else str(path))
    except Exception:  # not an OLE file olefile can read: the reader says what it is
        return
    try:
        sizes = [("/".join(e), ole.get_size(e)) for e in ole.listdir(streams=True, storages=False)]
    except Exception:  # a damaged directory: the reader reports the file as damaged
        return
    finally:
        ole.close()
    for name, size in sizes:
        if size > max_bytes:
            raise XlsTooLarge("stream", size, max_bytes, sheet=name)


def _span(sheet) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column) of the cells xlrd kept (0-based,
    inclusive); None for an empty sheet."""
    r0 = r1 = c0 = c1 = None
    for r in range(sheet.nrows):
        types = sheet.row_types(r)
        used = [c for c, t in enumerate(types) if t != xlrd.XL_CELL_EMPTY]
        if not used:
            continue
        r0 = r if r0 is None else r0
        r1 = r
        c0 = used[0] if c0 is None else min(c0, used[0])
        c1 = used[-1] if c1 is None else max(c1, used[-1])
    return None if r0 is None else (r0, r1, c0, c1)


def _text_chars(sheet) -> int:
    """Characters of every text cell of the sheet (what calamine copies)."""
    n = 0
    for r in range(sheet.nrows):
        types = sheet.row_types(r)
        if xlrd.XL_CELL_TEXT in types:
            vals = sheet.row_values(r)
            n += sum(len(v) for v, t in zip(vals, types, strict=True) if t == xlrd.XL_CELL_TEXT)
    return n


def check_sheets(path: Path | bytes, max_cells: int, max_chars: int) -> None:
    """Each sheet's span of cells at most ``max_cells`` and the text of all cells at most
    ``max_chars`` characters; raises ``XlsTooLarge``. Sheets are read one at a time
    (``on_demand``) and unloaded."""
    try:
        where = {"file_contents": path} if isinstance(path, bytes) else {"filename": str(path)}
        book = xlrd.open_workbook(**where, on_demand=True, ragged_rows=True, logfile=io.StringIO())
    except Exception:  # xlrd cannot read it: BIFF5, encrypted, damaged (the reader says)
        return
    chars = 0
    try:
        for i in range(book.nsheets):
            try:
                sheet = book.sheet_by_index(i)
            except Exception:  # a damaged sheet: the reader says
                continue
            span = _span(sheet)
            if span is not None:
                r0, r1, c0, c1 = span
                rows, cols = r1 - r0 + 1, c1 - c0 + 1
                if rows * cols > max_cells:
                    raise XlsTooLarge(
                        "cells", rows * cols, max_cells, sheet.name, cell_ref(r1, c1), rows, cols
                    )
                chars += _text_chars(sheet)
                if chars > max_chars:
                    raise XlsTooLarge("chars", chars, max_chars, sheet.name)
            book.unload_sheet(i)
    finally:
        book.release_resources()


def check_xls(path: Path | bytes, max_stream_bytes: int, max_cells: int, max_chars: int) -> None:
    """``check_streams`` then ``check_sheets``; raises ``XlsTooLarge``."""
    check_streams(path, max_stream_bytes)
    check_sheets(path, max_cells, max_chars)
