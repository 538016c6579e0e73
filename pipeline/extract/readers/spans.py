"""Merged cells of ODS and XLSB workbooks (issue 12 item 6).

python-calamine gives merged ranges for xlsx and xls only; the standard templates merge
their parent headers, so an ODS (LibreOffice, WPS) or XLSB copy of a template needs its
merges from the file itself to be read like the xlsx. Both readers stream: ODS's
``content.xml`` through ``iterparse`` (elements cleared as they end), XLSB's sheet parts
record by record. Ranges are 0-based and inclusive, ``((r0, c0), (r1, c1))``, as calamine
gives them.
"""

from __future__ import annotations

import struct
import zipfile
from xml.etree.ElementTree import iterparse

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
Merge = tuple[tuple[int, int], tuple[int, int]]


def _int(attrib: dict, name: str) -> int:
    try:
        return max(1, int(attrib.get(_T + name, 1)))
    except ValueError:
        return 1


def ods_merges(zf: zipfile.ZipFile) -> dict[str, list[Merge]]:
    """{sheet name: merged ranges} of the ODS package ``zf`` (``table:number-columns-
    spanned`` / ``number-rows-spanned``). Raises ``xml.etree.ElementTree.ParseError`` on a
    damaged ``content.xml``."""
    out: dict[str, list[Merge]] = {}
    sheet, row, col, rows_rep = None, 0, 0, 1
    with zf.open("content.xml") as fh:
        for event, el in iterparse(fh, events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == _T + "table":
                    sheet, row = el.attrib.get(_T + "name", ""), 0
                    out.setdefault(sheet, [])
                elif tag == _T + "table-row":
                    col, rows_rep = 0, _int(el.attrib, "number-rows-repeated")
                elif tag in (_T + "table-cell", _T + "covered-table-cell") and sheet is not None:
                    cs, rs = (
                        _int(el.attrib, "number-columns-spanned"),
                        _int(el.attrib, "number-rows-spanned"),
                    )
                    if tag == _T + "table-cell" and (cs > 1 or rs > 1):
                        out[sheet].append(((row, col), (row + rs - 1, col + cs - 1)))
                    col += _int(el.attrib, "number-columns-repeated")
                continue
            if tag == _T + "table-row":
                row += rows_rep
            if tag in (_T + "table-row", _T + "table"):
                el.clear()
    return out


def _records(data: bytes):
    """(type, body) of each BIFF12 record of ``data``."""
    i, n = 0, len(data)
    while i < n:
        typ = data[i] & 0x7F
        if data[i] & 0x80:
            i += 1
            typ |= (data[i] & 0x7F) << 7
        i += 1
        size, shift = 0, 0
        for _ in range(4):
            b = data[i]
            i += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        yield typ, data[i : i + size]
        i += size


def _wide(body: bytes, at: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<I", body, at)
    end = at + 4 + 2 * n
    return body[at + 4 : end].decode("utf-16-le", errors="replace"), end


def _xlsb_sheets(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part path) of an XLSB package, in workbook order."""
    from xml.etree.ElementTree import fromstring

    rels = {}
    root = fromstring(zf.read("xl/_rels/workbook.bin.rels"))
    for r in root:
        target = r.attrib.get("Target", "")
        rels[r.attrib.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    out = []
    for typ, body in _records(zf.read("xl/workbook.bin")):
        if typ == 0x009C and len(body) >= 12:  # BrtBundleSh: state, tab id, rel id, name
            rel, at = _wide(body, 8)
            name, _ = _wide(body, at)
            if rel in rels:
                out.append((name, rels[rel]))
    return out


def xlsb_merges(zf: zipfile.ZipFile) -> dict[str, list[Merge]]:
    """{sheet name: merged ranges} of the XLSB package ``zf`` (BrtMergeCell records).
    Raises KeyError, ``struct.error`` or IndexError on a damaged package."""
    out: dict[str, list[Merge]] = {}
    names = set(zf.namelist())
    for name, part in _xlsb_sheets(zf):
        merges = out.setdefault(name, [])
        if part not in names:
            continue
        for typ, body in _records(zf.read(part)):
            if typ == 0x00B0 and len(body) >= 16:  # BrtMergeCell: rwFirst rwLast colFirst colLast
                r0, r1, c0, c1 = struct.unpack_from("<4I", body)
                merges.append(((r0, c0), (r1, c1)))
    return out
