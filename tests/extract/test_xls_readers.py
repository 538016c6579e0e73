"""The .xls side pass through maintained parsers (issue 14 item 5): a BIFF5 workbook
(Excel 95) now gets its number formats, like a BIFF8 one.

xlwt writes BIFF8 only, so the BIFF5 fixture is built here record by record and put
in a minimal compound file (one FAT sector, one directory sector, one ``Book`` stream).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pipeline.extract.readers.workbook import open_workbook
from tests.builders.paths import CORPUS

_END, _FREE, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _rec(code: int, body: bytes) -> bytes:
    return struct.pack("<HH", code, len(body)) + body


def _bstr(text: str) -> bytes:  # BIFF5 byte string: 8-bit length, cp1252 characters
    return bytes([len(text)]) + text.encode("cp1252")


def _biff5(fmt: str, value: float) -> bytes:
    """A BIFF5 Book stream: one worksheet ``S`` with ``value`` at B3 (row 2, col 1) in
    an XF whose number format is ``fmt`` (custom format 164), A1 a General number."""
    font = struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _bstr("Arial")
    style_xf = struct.pack("<HHHBBII", 0, 0, 0xFFF5, 0x20, 0, 0, 0)
    cell_xf = struct.pack("<HHHBBII", 0, 164, 0x0001, 0x20, 0, 0, 0)
    general_xf = struct.pack("<HHHBBII", 0, 0, 0x0001, 0x20, 0, 0, 0)

    def globals_(sheet_pos: int) -> bytes:
        return b"".join(
            [
                _rec(0x0809, struct.pack("<HHHH", 0x0500, 0x0005, 0x1234, 1995)),
                _rec(0x0042, struct.pack("<H", 1252)),  # CODEPAGE
                _rec(0x0022, struct.pack("<H", 0)),  # DATEMODE: 1900
                *[_rec(0x0031, font)] * 5,
                _rec(0x041E, struct.pack("<H", 164) + _bstr(fmt)),
                _rec(0x00E0, style_xf),
                _rec(0x00E0, cell_xf),
                _rec(0x00E0, general_xf),
                _rec(0x0085, struct.pack("<IBB", sheet_pos, 0, 0) + _bstr("S")),
                _rec(0x000A, b""),
            ]
        )

    sheet = b"".join(
        [
            _rec(0x0809, struct.pack("<HHHH", 0x0500, 0x0010, 0x1234, 1995)),
            _rec(0x0200, struct.pack("<HHHHH", 0, 3, 0, 2, 0)),  # DIMENSIONS
            _rec(0x0203, struct.pack("<HHHd", 0, 0, 2, 7.0)),  # NUMBER A1, General
            _rec(0x0203, struct.pack("<HHHd", 2, 1, 1, value)),  # NUMBER B3, fmt
            _rec(0x000A, b""),
        ]
    )
    head = globals_(0)
    return globals_(len(head)) + sheet


def _compound_file(name: str, stream: bytes) -> bytes:
    """A version-3 compound file (512-byte sectors) holding one stream ``name``; the
    stream is padded to 4096 bytes so it lives in the FAT (no mini stream)."""
    stream = stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\0")
    n = len(stream) // 512
    fat = [_FATSECT, _END] + [3 + i for i in range(n - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    difat = [0] + [_FREE] * 108
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", *difat)
    )

    def entry(nm: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = (nm.encode("utf-16-le") + b"\0\0") if nm else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", _NOSTREAM, _NOSTREAM, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    directory = (
        entry("Root Entry", 5, 1, _END, 0)
        + entry(name, 2, _NOSTREAM, 2, len(stream))
        + entry("", 0, _NOSTREAM, 0, 0) * 2
    )
    return header + struct.pack("<128I", *fat) + directory + stream


def test_a_biff5_workbook_gets_its_number_formats(tmp_path: Path):
    """B3 holds 0.125 formatted ``0.0%``; A1 holds 7 in General (not kept). Before
    issue 14 a BIFF5 file was read without formats (a fraction read as 0.125 with no
    sign that it shows as 12.5%)."""
    path = tmp_path / "excel95.xls"
    path.write_bytes(_compound_file("Book", _biff5("0.0%", 0.125)))
    wb = open_workbook(path, max_bytes=2**20, max_uncompressed=2**20)
    assert wb.reader == "calamine+biff"
    (sheet,) = wb.sheets
    assert sheet.name == "S"
    assert sheet.meta is not None and sheet.meta.formats == {(2, 1): "0.0%"}
    assert sheet.meta.max_row == 3
    assert sheet.grid.rows[-1][-1] == pytest.approx(0.125)  # calamine read the value


@pytest.mark.skipif(not (CORPUS / "calamine__misc_biff5_parsing.xls").is_file(), reason="no corpus")
def test_the_corpus_biff5_file_is_read_with_metadata():
    """A real BIFF5 file: its sheets now carry metadata (xlrd parses BIFF5)."""
    wb = open_workbook(CORPUS / "calamine__misc_biff5_parsing.xls", 2**26, 2**28)
    assert wb.reader == "calamine+biff"
    assert wb.sheets and all(s.meta is not None for s in wb.sheets)
