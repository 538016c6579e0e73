"""The BIFF8 side pass of an ``.xls``: what python-calamine does not say about its cells.

The same facts as ``xlsx_meta`` gives for ``.xlsx``, read from the ``Workbook``
stream's records: number formats of value cells (``FORMAT``/``XF`` and each cell's
XF index — a ``0.00%`` fraction, a ``0000`` code), hidden rows (``ROW``) and columns
(``COLINFO``), sheet states (``BOUNDSHEET``), the 1904 date system (``DATEMODE``) and
formulas whose cached result is empty (a ``FORMULA`` record with an empty-string
result: what a program that cannot calculate, such as xlwt, writes). Positions are
0-based ``(row, col)``. One linear pass over the records; at most ``max_cells``
cells are kept per sheet.
"""

from __future__ import annotations

import struct

from pipeline.readers.xlsx_meta import (
    _BUILTIN_FORMATS,
    SheetMeta,
    SheetTooLarge,
    WorkbookMeta,
    _is_interesting,
    cell_ref,
)

_BOF, _EOF, _DATEMODE, _FORMAT, _XF, _BOUNDSHEET = 0x0809, 0x000A, 0x0022, 0x041E, 0x00E0, 0x0085
_ROW, _COLINFO, _FORMULA, _MULRK, _FILEPASS = 0x0208, 0x007D, 0x0006, 0x00BD, 0x002F
_CELLS = {
    0x0203,
    0x027E,
    0x00FD,
    0x0204,
    0x0205,
    0x00D6,
}  # NUMBER RK LABELSST LABEL BOOLERR RSTRING
_STATES = {0: "visible", 1: "hidden", 2: "veryHidden"}


class XlsMetaError(ValueError):
    """The BIFF stream is not BIFF8 or is damaged."""


class XlsEncrypted(Exception):
    """The workbook globals hold a FILEPASS record: the file is password-protected."""


def _unicode(data: bytes, off: int, cch: int) -> str:
    flags = data[off]
    off += 1
    if flags & 0x08:  # rich text: run count follows
        off += 2
    if flags & 0x04:  # extended: size follows
        off += 4
    if flags & 0x01:
        return data[off : off + 2 * cch].decode("utf-16-le", "replace")
    return data[off : off + cch].decode("latin-1")


def _records(data: bytes, start: int = 0):
    pos, n = start, len(data)
    while pos + 4 <= n:
        typ, ln = struct.unpack_from("<HH", data, pos)
        yield pos, typ, data[pos + 4 : pos + 4 + ln]
        pos += 4 + ln


def read_xls_meta(stream: bytes, max_cells: int | None = None) -> WorkbookMeta:
    """Metadata of every worksheet of a BIFF8 ``Workbook`` stream.

    Returns a ``WorkbookMeta`` keyed by sheet name. Raises ``XlsEncrypted`` when the
    workbook is password-protected (a FILEPASS record), ``XlsMetaError`` for a stream
    that does not start with a BIFF8 BOF (e.g. BIFF5, Excel 95): callers then read
    values only.
    """
    if len(stream) < 8 or struct.unpack_from("<HH", stream, 0) != (_BOF, 16):
        raise XlsMetaError("not a BIFF8 workbook stream")
    if struct.unpack_from("<H", stream, 4)[0] != 0x0600:
        raise XlsMetaError("not BIFF8")
    custom: dict[int, str] = {}
    xf_formats: list[int] = []
    sheets: list[tuple[str, str, int]] = []
    wb = WorkbookMeta()
    for _pos, typ, body in _records(stream):
        if typ == _EOF:
            break
        if typ == _FILEPASS:
            raise XlsEncrypted("FILEPASS")
        if typ == _DATEMODE and len(body) >= 2:
            wb.date1904 = struct.unpack_from("<H", body)[0] == 1
        elif typ == _FORMAT and len(body) >= 5:
            ifmt, cch = struct.unpack_from("<HH", body)
            custom[ifmt] = _unicode(body, 4, cch)
        elif typ == _XF and len(body) >= 4:
            xf_formats.append(struct.unpack_from("<H", body, 2)[0])
        elif typ == _BOUNDSHEET and len(body) >= 8:
            offset, state, kind, cch = struct.unpack_from("<IBBB", body)
            if kind == 0:  # worksheet
                sheets.append((_unicode(body, 7, cch), _STATES.get(state & 3, "hidden"), offset))
    xfs = [custom.get(f) or _BUILTIN_FORMATS.get(f, "General") for f in xf_formats]
    for name, state, offset in sheets:
        wb.sheets[name] = _sheet(stream, offset, name, state, xfs, max_cells)
    return wb


def _sheet(stream, offset, name, state, xfs, max_cells) -> SheetMeta:
    meta = SheetMeta(name=name, state=state)
    if offset + 4 > len(stream) or struct.unpack_from("<H", stream, offset)[0] != _BOF:
        return meta
    kept = 0
    box = [1 << 30, -1, 1 << 30, -1]  # r0 r1 c0 c1 of the value cells

    def fmt(r, c, ixfe):
        nonlocal kept
        f = xfs[ixfe] if ixfe < len(xfs) else "General"
        if _is_interesting(f) and (max_cells is None or kept < max_cells):
            meta.formats[(r, c)] = f
            kept += 1
        meta.max_row = max(meta.max_row, r + 1)
        if r < box[0] or r > box[1] or c < box[2] or c > box[3]:
            box[:] = [min(box[0], r), max(box[1], r), min(box[2], c), max(box[3], c)]
            rows, cols = box[1] - box[0] + 1, box[3] - box[2] + 1
            if max_cells is not None and rows * cols > max_cells:
                raise SheetTooLarge(name, rows, cols, cell_ref(r, c))

    for i, (_pos, typ, body) in enumerate(_records(stream, offset)):
        if typ == _EOF and i:
            break
        if typ in _CELLS and len(body) >= 6:
            r, c, ixfe = struct.unpack_from("<HHH", body)
            fmt(r, c, ixfe)
        elif typ == _MULRK and len(body) >= 6:
            r, c0 = struct.unpack_from("<HH", body)
            for k in range((len(body) - 6) // 6):
                fmt(r, c0 + k, struct.unpack_from("<H", body, 4 + 6 * k)[0])
        elif typ == _FORMULA and len(body) >= 14:
            r, c, ixfe = struct.unpack_from("<HHH", body)
            fmt(r, c, ixfe)
            special = struct.unpack_from("<H", body, 12)[0] == 0xFFFF
            if special and body[6] == 3:  # cached result: empty string
                meta.formula_without_value.add((r, c))
        elif typ == _ROW and len(body) >= 14:
            r = struct.unpack_from("<H", body)[0]
            if struct.unpack_from("<H", body, 12)[0] & 0x20:
                meta.hidden_rows.add(r)
        elif typ == _COLINFO and len(body) >= 10:
            first, last, _w, _x, flags = struct.unpack_from("<HHHHH", body)
            if flags & 0x01:
                meta.hidden_cols.update(range(first, min(last, 255) + 1))
    return meta
