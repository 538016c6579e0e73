"""Sizes of an .xls checked before calamine allocates it (issue 11), with maintained
libraries: olefile for the container's stream sizes, xlrd for each sheet's cells.

calamine turns a sheet into a dense range spanning its cells, and copies a shared
string (SST) into every cell that refers to it; this module measures both the way
calamine will meet them, so that a far cell or an amplified string is refused with a
reason instead of an allocation. xlrd parses a sheet into ragged rows (no padding: a
cell at IV65536 costs one row list, not 16 million cells) and refers to each shared
string without copying it, so measuring costs little memory.

A file that xlrd cannot parse (encrypted, damaged) is not judged here: the reader
reports it, and the contained extraction bounds what it costs. The reader's pass is
``xls.read_xls``: one olefile and one xlrd open per file, for these checks and the
metadata alike.
"""

from __future__ import annotations

import olefile
import xlrd

from pipeline.extract.readers.xlsx_meta import cell_ref


class XlsTooLarge(Exception):
    """What exceeds a limit: ``what`` is ``stream``, ``cells`` or ``chars``; ``sheet`` and
    ``ref`` name the sheet (or stream) and the far cell (``cells``), ``size`` the measured
    value (bytes, cells or characters), ``rows`` × ``cols`` the span (``cells``)."""

    def __init__(self, what, size, limit, sheet="", ref="", rows=0, cols=0):
        super().__init__(f"{what} {size} > {limit} ({sheet} {ref})")
        self.what, self.size, self.limit = what, size, limit
        self.sheet, self.ref, self.rows, self.cols = sheet, ref, rows, cols


def stream_sizes(ole: olefile.OleFileIO) -> dict[str, int]:
    """Size in bytes of every stream of an open container, by its path (``a/b``), as
    olefile reads it from the directory."""
    return {"/".join(e): ole.get_size(e) for e in ole.listdir(streams=True, storages=False)}


def check_sizes(sizes: dict[str, int], max_bytes: int) -> None:
    """Raise ``XlsTooLarge`` for the first stream of ``sizes`` over ``max_bytes``."""
    for name, size in sizes.items():
        if size > max_bytes:
            raise XlsTooLarge("stream", size, max_bytes, sheet=name)


def _span(sheet) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column) of the cells xlrd kept (0-based,
    inclusive); None for an empty sheet."""
    r0 = r1 = c0 = c1 = None
    for r in range(sheet.nrows):
        types = sheet.row_types(r)
        # a BLANK (formatted, no value) is not allocated by calamine's span of values
        used = [c for c, t in enumerate(types) if t not in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)]
        if not used:
            continue
        r0 = r if r0 is None else r0
        r1 = r
        c0 = used[0] if c0 is None else min(c0, used[0])
        c1 = used[-1] if c1 is None else max(c1, used[-1])
    return None if r0 is None else (r0, r1, c0, c1)


def text_chars(sheet) -> int:
    """Characters of every text cell of the sheet (what calamine copies)."""
    n = 0
    for r in range(sheet.nrows):
        types = sheet.row_types(r)
        if xlrd.XL_CELL_TEXT in types:
            vals = sheet.row_values(r)
            n += sum(len(v) for v, t in zip(vals, types, strict=True) if t == xlrd.XL_CELL_TEXT)
    return n


def check_sheet(sheet, max_cells: int) -> None:
    """The span of one loaded xlrd sheet's value cells at most ``max_cells``; raises
    ``XlsTooLarge`` naming the far cell."""
    span = _span(sheet)
    if span is not None:
        r0, r1, c0, c1 = span
        rows, cols = r1 - r0 + 1, c1 - c0 + 1
        if rows * cols > max_cells:
            raise XlsTooLarge(
                "cells", rows * cols, max_cells, sheet.name, cell_ref(r1, c1), rows, cols
            )


def bounded_sheets(book, max_cells: int, max_chars: int):
    """Yield (index, sheet) of each worksheet of an open xlrd ``book`` (``on_demand``)
    once it is within the limits (span at most ``max_cells``; the text of all sheets so
    far at most ``max_chars`` characters), unloading it when the caller is done with it;
    a sheet xlrd cannot load is skipped (the reader says). Raises ``XlsTooLarge``."""
    chars = 0
    for i in range(book.nsheets):
        try:
            sheet = book.sheet_by_index(i)
        except Exception:  # a damaged sheet: the reader says
            continue
        check_sheet(sheet, max_cells)
        chars += text_chars(sheet)
        if chars > max_chars:
            raise XlsTooLarge("chars", chars, max_chars, sheet.name)
        yield i, sheet
        book.unload_sheet(i)
