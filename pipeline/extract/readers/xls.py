"""The side pass of an ``.xls`` through maintained parsers [issue 14]: what
python-calamine does not say about its cells, and the sizes it would allocate.

The OLE container is opened by olefile (stream names and sizes: an encrypted OOXML
package holds ``EncryptionInfo``, an ``.xls`` a ``Workbook`` or ``Book`` stream),
encryption is asked of msoffcrypto-tool, and the BIFF records are parsed once by xlrd
(``formatting_info=True``, one sheet at a time): the sheet bounds of ``xls_bounds``
and the same facts ``xlsx_meta`` gives for ``.xlsx`` — number formats of value cells
(a ``0.00%`` fraction, a ``0000`` code), hidden rows and columns, sheet states, the
1904 date system, formulas whose cached result is an empty string (what a program
that cannot calculate, such as xlwt, writes). BIFF5 (Excel 95) and older files get
them too, as far as xlrd reads them. Positions are 0-based ``(row, col)``.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import msoffcrypto
import olefile
import xlrd
from xlrd.biffh import XL_EOF, XL_FORMULA, XL_FORMULA3, XL_FORMULA4

from pipeline.extract.readers.xls_bounds import bounded_sheets, check_sizes, stream_sizes
from pipeline.extract.readers.xlsx_meta import (
    _BUILTIN_FORMATS,
    SheetMeta,
    WorkbookMeta,
    _is_interesting,
)

_STATES = {0: "visible", 1: "hidden", 2: "veryHidden"}
_NOT_VALUES = (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
_FORMULAS = (XL_FORMULA, XL_FORMULA3, XL_FORMULA4)


class XlsDamaged(ValueError):
    """olefile cannot read the container (bad header, directory or sector chain)."""


class XlsNotWorkbook(ValueError):
    """An OLE file without a workbook stream (a Word document, say)."""


class XlsEncrypted(Exception):
    """The workbook is password-protected (msoffcrypto-tool, or xlrd meets FILEPASS)."""


def read_xls(path: Path | bytes, max_stream_bytes: int, max_cells: int, max_chars: int):
    """Check an OLE file and return its ``WorkbookMeta`` (None when xlrd cannot parse
    the records: the values are then read without formats and calamine judges them).

    Raises ``XlsDamaged`` (the container is unreadable), ``XlsNotWorkbook``,
    ``XlsEncrypted``, and ``xls_bounds.XlsTooLarge`` for a stream over
    ``max_stream_bytes`` bytes, a sheet spanning more than ``max_cells`` cells or text
    cells expanding to more than ``max_chars`` characters (issue 11).
    """
    label = "the workbook" if isinstance(path, bytes) else path.name
    where = {"file_contents": path} if isinstance(path, bytes) else {"filename": str(path)}
    try:
        with olefile.OleFileIO(path if isinstance(path, bytes) else str(path)) as ole:
            sizes = stream_sizes(ole)
    except Exception as exc:  # olefile's errors on damaged files are of many types
        raise XlsDamaged(f"{type(exc).__name__}: {exc}") from exc
    names = {name.rsplit("/", 1)[-1].lower() for name in sizes}
    if not {"workbook", "book", "encryptioninfo", "encryptedpackage"} & names:
        raise XlsNotWorkbook("no Workbook stream")
    if {"encryptioninfo", "encryptedpackage"} & names or _encrypted(path):
        raise XlsEncrypted(label)
    check_sizes(sizes, max_stream_bytes)
    try:
        book = xlrd.open_workbook(
            **where,
            formatting_info=True,
            on_demand=True,
            ragged_rows=True,
            logfile=io.StringIO(),
        )
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise XlsEncrypted(label) from exc
        return None
    except Exception:  # xlrd cannot read it (damaged): values only, calamine judges
        return None
    try:
        return _walk(book, max_cells, max_chars)
    finally:
        book.release_resources()


def _encrypted(path: Path | bytes) -> bool:
    """msoffcrypto-tool's answer; False where it does not know the format (BIFF5: xlrd
    then refuses a FILEPASS record itself)."""
    try:
        with io.BytesIO(path) if isinstance(path, bytes) else open(path, "rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:  # not a format it reads, or damaged: left to xlrd and calamine
        return False


def _walk(book, max_cells: int, max_chars: int) -> WorkbookMeta:
    """Bounds then metadata of each worksheet, loaded and unloaded one at a time."""
    wb = WorkbookMeta(date1904=book.datemode == 1)
    xf_formats = _xf_formats(book)
    for i, sheet in bounded_sheets(book, max_cells, max_chars):
        formulas = _formula_cells(book, i)
        wb.sheets[sheet.name] = _sheet_meta(sheet, xf_formats, formulas, max_cells)
    return wb


def _xf_formats(book) -> list[str]:
    """Number format code of each XF record (index = a cell's XF index): the FORMAT
    record's code where the file has one, else the built-in code of ``xlsx_meta``."""
    custom = {f.format_key: f.format_str for f in book.format_list}
    return [
        custom.get(xf.format_key) or _BUILTIN_FORMATS.get(xf.format_key, "General")
        for xf in book.xf_list
    ]


def _formula_cells(book, index: int) -> set[tuple[int, int]]:
    """(row, col) of each FORMULA record of sheet ``index``, walked with xlrd's own
    record reader: xlrd keeps a formula's cached result but not that it was one."""
    saved, book._position = book._position, book._sh_abs_posn[index]
    cells: set[tuple[int, int]] = set()
    try:
        book.get_record_parts()  # the sheet's BOF
        while book._position + 4 <= len(book.mem):
            code, _length, data = book.get_record_parts()
            if code == XL_EOF:
                break
            if code in _FORMULAS and len(data) >= 4:
                cells.add(struct.unpack_from("<HH", data))
    finally:
        book._position = saved
    return cells


def _sheet_meta(sheet, xf_formats: list[str], formulas, max_cells: int) -> SheetMeta:
    """Formats (at most ``max_cells`` kept), ``formulas`` cells caching an empty string,
    hidden rows and columns, state and extent of one loaded xlrd sheet."""
    meta = SheetMeta(name=sheet.name, state=_STATES.get(sheet.visibility & 3, "hidden"))
    kept = 0
    for r in range(sheet.nrows):
        types = sheet.row_types(r)
        for c, t in enumerate(types):
            if t in _NOT_VALUES:
                continue
            meta.max_row = r + 1
            # a formula whose cached result is an empty string: saved uncalculated
            if t == xlrd.XL_CELL_TEXT and (r, c) in formulas and sheet.cell_value(r, c) == "":
                meta.formula_without_value.add((r, c))
            ix = sheet.cell_xf_index(r, c)
            fmt = xf_formats[ix] if 0 <= ix < len(xf_formats) else "General"
            if _is_interesting(fmt) and kept < max_cells:
                meta.formats[(r, c)] = fmt
                kept += 1
    meta.hidden_rows = {r for r, info in sheet.rowinfo_map.items() if info.hidden}
    meta.hidden_cols = {c for c, info in sheet.colinfo_map.items() if info.hidden}
    return meta
