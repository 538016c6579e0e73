"""A second opinion for workbooks calamine cannot open (issue 12: nothing lost).

Some files that real applications write are valid workbooks calamine refuses: a minimal
OOXML package laid out differently from Excel's, or BIFF2–BIFF4 ``.xls`` files from very
old Excel versions. Before such a file is rejected as damaged or as not a spreadsheet,
the maintained reader of its container reads it: openpyxl for OOXML (read-only,
streamed), xlrd for BIFF (``on_demand``). The result has the same shape as calamine's
(``WorkbookData``), with the reader named in ``raw.files.reader``; the same size limits
apply (cells per sheet, characters)."""

from __future__ import annotations

import warnings
from pathlib import Path

from pipeline.extract.readers.xlsx_meta import SheetMeta


class NotReadable(Exception):
    """The fallback reader cannot open the file either (the original reason stands)."""


class FallbackTooLarge(Exception):
    """A sheet exceeds the cell or character limit: ``sheet``, ``what``."""

    def __init__(self, sheet: str, what: str):
        super().__init__(f"{sheet}: {what}")
        self.sheet, self.what = sheet, what


def _cell(v):
    """A value as calamine gives it: whole and real numbers as float, empty as ''."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    return v


def read_ooxml(path: Path | bytes, max_cells: int, max_chars: int):
    """(date1904, [(name, state, rows, merges, meta)]) of an OOXML package read by
    openpyxl in read-only mode. Raises NotReadable, FallbackTooLarge."""
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(_slashed(path), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken package
        raise NotReadable(f"{type(exc).__name__}: {exc}") from exc
    try:
        date1904 = bool(getattr(wb, "epoch", None) and wb.epoch.year == 1904)
        sheets, chars = [], 0
        for ws in wb.worksheets:
            rows, meta, cells = [], SheetMeta(ws.title, ws.sheet_state), 0
            for r, row in enumerate(ws.iter_rows()):
                values = []
                for c, cell in enumerate(row):
                    v = _cell(getattr(cell, "value", None))
                    values.append(v)
                    fmt = _number_format(cell) if v != "" else "General"
                    if fmt and fmt != "General":
                        meta.formats[(r, c)] = fmt
                    if isinstance(v, str):
                        chars += len(v)
                cells += len(values)
                if cells > max_cells:
                    raise FallbackTooLarge(ws.title, f"more than {max_cells:,} cells")
                if chars > max_chars:
                    raise FallbackTooLarge(ws.title, f"more than {max_chars:,} characters")
                rows.append(values)
                if any(v != "" for v in values):
                    meta.max_row = r + 1
            sheets.append((ws.title, ws.sheet_state, rows, [], meta))
        return date1904, sheets
    finally:
        wb.close()


def _slashed(path: Path | bytes):
    """``path``, or an in-memory copy of the package whose member names use ``\\`` as the
    separator (some Windows tools write them so; Excel reads them) with ``/`` instead.
    The sizes were bounded before (``readers.workbook._check_zip``)."""
    import io
    import zipfile

    if isinstance(path, bytes):
        path = io.BytesIO(path)
    try:
        with zipfile.ZipFile(path) as zf:
            if not any("\\" in n for n in zf.namelist()):
                if hasattr(path, "seek"):
                    path.seek(0)
                return path
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
                for info in zf.infolist():
                    out.writestr(info.filename.replace("\\", "/"), zf.read(info))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotReadable(f"{type(exc).__name__}: {exc}") from exc
    buf.seek(0)
    return buf


def _number_format(cell) -> str:
    """The cell's number format; "General" where the package's styles do not say (a
    minimal package may have none)."""
    try:
        return cell.number_format or "General"
    except (AttributeError, IndexError, KeyError):
        return "General"


def read_biff(path: Path | bytes, max_cells: int, max_chars: int):
    """(date1904, [(name, state, rows, merges, meta)]) of a BIFF ``.xls`` (any version xlrd
    reads) by xlrd. Raises NotReadable, FallbackTooLarge."""
    import xlrd

    try:
        where = {"file_contents": path} if isinstance(path, bytes) else {"filename": str(path)}
        book = xlrd.open_workbook(**where, on_demand=True, logfile=_Quiet())
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, AssertionError, ...
        raise NotReadable(f"{type(exc).__name__}: {exc}") from exc
    try:
        sheets, chars = [], 0
        for i, name in enumerate(book.sheet_names()):
            sh = book.sheet_by_index(i)
            if sh.nrows * sh.ncols > max_cells:
                raise FallbackTooLarge(name, f"{sh.nrows:,} × {sh.ncols:,} cells")
            rows = []
            for r in range(sh.nrows):
                values = [_biff_value(sh.cell(r, c), book.datemode) for c in range(sh.ncols)]
                chars += sum(len(v) for v in values if isinstance(v, str))
                if chars > max_chars:
                    raise FallbackTooLarge(name, f"more than {max_chars:,} characters")
                rows.append(values)
            state = {0: "visible", 1: "hidden", 2: "veryHidden"}.get(sh.visibility, "visible")
            merges = [((r0, c0), (r1 - 1, c1 - 1)) for r0, r1, c0, c1 in sh.merged_cells]
            meta = SheetMeta(name, state)
            meta.max_row = sh.nrows
            sheets.append((name, state, rows, merges, meta))
            book.unload_sheet(i)
        return bool(book.datemode), sheets
    finally:
        book.release_resources()


def _biff_value(cell, datemode: int):
    import xlrd

    t = cell.ctype
    if t == xlrd.XL_CELL_NUMBER:
        return float(cell.value)
    if t == xlrd.XL_CELL_TEXT:
        return cell.value
    if t == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return float(cell.value)
    if t == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return ""  # empty, blank, error


class _Quiet:
    """xlrd's log file: its warnings about odd files are not the run's output."""

    def write(self, _text: str) -> int:
        return 0
