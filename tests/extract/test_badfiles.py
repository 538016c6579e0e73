"""Bad files, bounded (issue 3 item 3): corrupt archives, password-protected workbooks,
non-spreadsheets renamed `.xlsx`/`.xls`, empty workbooks and 0-byte files, unknown county
text, file-name period ≠ cover period, zip bombs (honest and lying sizes), a cell far out
at XFD1048576, a cell longer than Excel allows. Each is rejected with a one-line reason
in bounded time and memory, and the good files beside them still load.

The folder is extracted in a child process (``pipeline.run.parse.extract_one`` over
``discover``) under an address-space limit of 1.5 GiB and a timeout, so a failure
cannot take the machine down.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline.extract.readers.xlsx_meta import LimitExceeded, read_xlsx_meta
from tests.builders.mess import (
    COUNTY_NAME,
    Layout,
    Sheet,
    extract,
    patch_parts,
    records,
    to_shared_strings,
    write_xls,
    write_xlsx,
)
from tests.builders.paths import ROOT

MEM_LIMIT = int(1.5 * 2**30)
GOOD = "530128_禄劝彝族苗族自治县_2019-12.xlsx"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

CHILD = r"""
import json, sys, time
from pathlib import Path
from pipeline.run import cache
from pipeline.config import Settings
from pipeline.run.discover import discover
from pipeline.run.parse import extract_one

folder, work = Path(sys.argv[1]), Path(sys.argv[2])
settings = Settings(max_file_mib=32, max_unzipped_mib=64, id_key="bad-files-test")
for d in discover(folder):
    t0 = time.perf_counter()
    out, _ = extract_one(str(d.path), d.sha256, str(work / d.sha256), settings)
    r = cache.load(Path(out))
    print(json.dumps({"file": d.rel_path, "status": r.status, "reason": r.reason,
                      "message": r.message, "message_en": r.message_en,
                      "rows_loaded": r.rows_loaded, "seconds": time.perf_counter() - t0},
                     ensure_ascii=False), flush=True)
"""


def _limit_memory():  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))


def _good(path: Path, form: str = "population", **kw) -> Path:
    lay = Layout(form, **kw)
    for r in records(form, 3, seed=41):
        lay.add(r)
    return write_xlsx(path, [lay.sheet])


def _sheet_xml_entry(path: Path) -> zipfile.ZipInfo:
    with zipfile.ZipFile(path) as zf:
        return next(i for i in zf.infolist() if i.filename == "xl/worksheets/sheet1.xml")


def _bomb(src: Path, dst: Path, mib: int = 300) -> Path:
    """A sheet of ``mib`` MiB of repeated ``<row/>`` that compresses to well under 1 MiB."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:  # fmt: skip
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item.filename))
                continue
            zi = zipfile.ZipInfo(item.filename, date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(zi, "w", force_zip64=True) as fh:
                fh.write(f'<worksheet xmlns="{NS}"><sheetData>'.encode())
                chunk = b"<row/>" * (1 << 20)  # 6 MiB
                for _ in range(mib // 6):
                    fh.write(chunk)
                fh.write(b"</sheetData></worksheet>")
    return dst


def _lie_about_sizes(path: Path) -> Path:
    """Patch the sheet's declared uncompressed size (local header and central directory,
    zip64 extra included) down to 1,000 bytes: a bomb that hides its size."""
    data = bytearray(path.read_bytes())
    info = _sheet_xml_entry(path)
    name = info.filename.encode()
    for sig, size_off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = 0
        while (i := data.find(sig, i)) >= 0:
            n_off = 30 if sig == b"PK\x03\x04" else 46
            nlen = struct.unpack_from("<H", data, i + (26 if n_off == 30 else 28))[0]
            if data[i + n_off : i + n_off + nlen] == name:
                if struct.unpack_from("<I", data, i + size_off)[0] == 0xFFFFFFFF:
                    xlen_off = 28 if n_off == 30 else 30
                    xlen = struct.unpack_from("<H", data, i + xlen_off)[0]
                    extra = i + n_off + nlen
                    j = extra
                    while j < extra + xlen:
                        hid, hlen = struct.unpack_from("<HH", data, j)
                        if hid == 1:
                            struct.pack_into("<Q", data, j + 4, 1000)
                        j += 4 + hlen
                else:
                    struct.pack_into("<I", data, i + size_off, 1000)
            i += 4
    path.write_bytes(bytes(data))
    return path


def _encrypted_xlsx(src: Path, dst: Path) -> Path:
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(src, "rb") as fh, open(dst, "wb") as out:
        OOXMLFile(fh).encrypt("secret", out)
    assert msoffcrypto
    return dst


def _encrypted_xls(dst: Path) -> Path:
    """A BIFF8 workbook with an RC4 FILEPASS record after the globals' BOF (sheet offsets
    in BOUNDSHEET moved accordingly): Excel would ask for the password."""
    xlwt = pytest.importorskip("xlwt")
    from xlwt import CompoundDoc

    wb = xlwt.Workbook()
    wb.add_sheet("表1").write(0, 0, "填报单位：禄劝县")
    data = wb.get_biff_data()
    fp = struct.pack("<HHHHH", 0x002F, 54, 1, 1, 1) + bytes(range(48))
    out, pos, first = bytearray(), 0, True
    while pos < len(data):
        typ, ln = struct.unpack_from("<HH", data, pos)
        rec = bytearray(data[pos : pos + 4 + ln])
        if typ == 0x0085:  # BOUNDSHEET: absolute offset of the sheet's BOF
            struct.pack_into("<I", rec, 4, struct.unpack_from("<I", rec, 4)[0] + len(fp))
        out += rec
        if first:
            out += fp
            first = False
        pos += 4 + ln
    CompoundDoc.XlsDoc().save(str(dst), bytes(out))
    return dst


def _word_doc(dst: Path) -> Path:
    """An OLE2 file whose only stream is WordDocument (a .doc renamed .xls)."""
    write_xls(dst, [Sheet("S", [["x"]])])
    data = bytearray(dst.read_bytes())
    old = "Workbook".encode("utf-16-le") + b"\0\0"
    i = data.find(old)
    new = "WordDocument".encode("utf-16-le") + b"\0\0"
    data[i : i + len(new)] = new
    struct.pack_into("<H", data, i + 0x40, len(new))
    dst.write_bytes(bytes(data))
    return dst


def _far_cell(dst: Path) -> Path:
    wb = openpyxl.load_workbook(_good(dst.with_suffix(".src.xlsx")))
    wb.active["XFD1048576"] = " "
    wb.save(dst)
    dst.with_suffix(".src.xlsx").unlink()
    return dst


def _long_cell(dst: Path, shared: bool = False) -> Path:
    """A 40,000-character cell (openpyxl cuts at 32,767, so the XML is patched after)."""
    lay = Layout("population")
    recs = records("population", 2, seed=42)
    lay.add(recs[0])
    lay.add(recs[1], {"village": "LONGTEXT"})
    path = write_xlsx(dst, [lay.sheet])
    if shared:
        to_shared_strings(path)
    return patch_parts(path, "LONGTEXT", "村" * 40000)


def _build_folder(raw: Path) -> dict[str, dict]:
    """Write the good and bad files; return file -> expectations."""
    raw.mkdir(parents=True)
    tmp = raw.parent / "src"
    tmp.mkdir()
    src = _good(tmp / "src.xlsx")
    exp: dict[str, dict] = {}

    def bad(name, reason, *mention):
        exp[name] = {"reason": reason, "mention": list(mention)}

    _good(raw / GOOD)
    exp[GOOD] = {"status": "loaded"}
    _good(raw / "530129_寻甸回族彝族自治县_2019-12.xlsx", "housing",
          cover="填报单位：寻甸回族彝族自治县  统计截止时间：2019年12月31日")  # fmt: skip
    exp["530129_寻甸回族彝族自治县_2019-12.xlsx"] = {"status": "loaded"}

    data = src.read_bytes()
    (raw / "01_truncated.xlsx").write_bytes(data[: len(data) // 2])
    bad("01_truncated.xlsx", "damaged", "损坏")
    flipped = bytearray(data)
    info = _sheet_xml_entry(src)
    start = info.header_offset + 30 + len(info.filename) + 8
    flipped[start : start + 40] = b"\x55" * 40
    (raw / "02_flipped_bytes.xlsx").write_bytes(bytes(flipped))
    bad("02_flipped_bytes.xlsx", "damaged", "损坏")
    _encrypted_xlsx(src, raw / "03_password.xlsx")
    bad("03_password.xlsx", "encrypted", "密码")
    _encrypted_xlsx(src, raw / "04_password_named.xls")
    bad("04_password_named.xls", "encrypted", "密码")
    _encrypted_xls(raw / "05_password_rc4.xls")
    bad("05_password_rc4.xls", "encrypted", "密码")
    (raw / "06_report.xlsx").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    bad("06_report.xlsx", "not_a_workbook", "PDF")
    (raw / "07_photo.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    bad("07_photo.xlsx", "not_a_workbook", "图片")
    (raw / "08_table.xls").write_bytes("乡镇,总户数\n屏山街道,120\n".encode("gb18030"))
    bad("08_table.xls", "not_a_workbook", "文本")
    (raw / "09_web.xls").write_bytes(
        b"<html><body><table><tr><td>1</td></tr></table></body></html>"
    )
    bad("09_web.xls", "not_a_workbook", "HTML")
    with zipfile.ZipFile(raw / "10_word.xlsx", "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    bad("10_word.xlsx", "not_a_workbook", "不是Excel工作簿")
    _word_doc(raw / "11_doc.xls")
    bad("11_doc.xls", "not_a_workbook", "Word")
    write_xlsx(raw / "12_empty.xlsx", [Sheet("Sheet1")])
    bad("12_empty.xlsx", "no_form_found", "没有任何内容")
    (raw / "13_zero.xlsx").write_bytes(b"")
    bad("13_zero.xlsx", "damaged", "0字节")
    write_xlsx(
        raw / "14_no_form.xlsx", [Sheet("Sheet1", [["名单"], ["甲", "乙", "丙"], [1, 2, 3]])]
    )
    bad("14_no_form.xlsx", "no_form_found", "未找到任何标准报表")
    lay = Layout("housing", name="表3")
    lay.add(records("housing", 1)[0])
    lay.sheet.state = "hidden"
    write_xlsx(raw / "15_hidden_only.xlsx", [Sheet("说明", [["见隐藏表"]]), lay.sheet])
    bad("15_hidden_only.xlsx", "no_form_found", "表3", "隐藏")
    _good(raw / "16_mars.xlsx", cover="填报单位：火星县（盖章）  统计截止时间：2019年12月31日")
    bad("16_mars.xlsx", "unknown_county", "火星县")
    _good(raw / f"530128_{COUNTY_NAME}_2019-12_b.xlsx",
          cover="填报单位：禄劝县  统计截止时间：2019年6月30日")  # fmt: skip
    bad(f"530128_{COUNTY_NAME}_2019-12_b.xlsx", "period_conflict", "2019-12", "2019年6月30日")
    _bomb(src, raw / "17_bomb.xlsx")
    bad("17_bomb.xlsx", "too_large", "MiB")
    _lie_about_sizes(_bomb(src, raw / "18_bomb_lying.xlsx"))
    bad("18_bomb_lying.xlsx", "damaged", "损坏")
    _far_cell(raw / "19_far_cell.xlsx")
    bad("19_far_cell.xlsx", "too_large", "XFD1048576")
    _long_cell(raw / "20_long_cell.xlsx")
    bad("20_long_cell.xlsx", "cell_too_long", "表1", "B5", "40,000", "32,767")
    _long_cell(raw / "20_long_shared_string.xlsx", shared=True)
    bad("20_long_shared_string.xlsx", "cell_too_long", "表1", "B5", "40,000")
    (raw / "21_big.xlsx").write_bytes(b"PK\x03\x04" + bytes(33 * 2**20))
    bad("21_big.xlsx", "too_large", "33.0 MiB")
    return exp


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    base = tmp_path_factory.mktemp("badfiles")
    exp = _build_folder(base / "raw")
    p = subprocess.run(
        [sys.executable, "-c", CHILD, str(base / "raw"), str(base / "work")],
        capture_output=True, text=True, cwd=ROOT, timeout=240, preexec_fn=_limit_memory,
        # Arrow's default allocator reserves ~1 GiB of address space up front; the
        # system allocator keeps the limit about real use
        env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", "ARROW_DEFAULT_MEMORY_POOL": "system"},
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    got = {}
    for line in p.stdout.splitlines():
        rec = json.loads(line)
        got[rec["file"]] = rec
    return exp, got


@pytest.mark.slow
def test_every_file_is_accounted_for(outcome):
    exp, got = outcome
    assert sorted(got) == sorted(exp)


@pytest.mark.slow
def test_good_files_still_load(outcome):
    exp, got = outcome
    for name, e in exp.items():
        if e.get("status") == "loaded":
            assert got[name]["status"] == "loaded", got[name]
            assert got[name]["rows_loaded"] == 3


@pytest.mark.slow
def test_bad_files_rejected_with_one_line_reason(outcome):
    exp, got = outcome
    for name, e in exp.items():
        if "reason" not in e:
            continue
        g = got[name]
        assert (g["status"], g["reason"]) == ("rejected", e["reason"]), (name, g)
        for text in (g["message"], g["message_en"]):
            assert "\n" not in text and name in text, (name, text)
        for s in e["mention"]:
            assert s in g["message"] or s in g["message_en"], (name, s, g["message"])
        assert g["rows_loaded"] == 0


def test_meta_pass_budget_stops_at_the_limit(tmp_path):
    """The XML side pass charges what it really decompresses: past a small per-call
    limit it stops (LimitExceeded), whatever the zip headers say."""
    src = _good(tmp_path / "src.xlsx")
    bomb = _bomb(src, tmp_path / "bomb.xlsx", mib=6)
    with pytest.raises(LimitExceeded):
        read_xlsx_meta(bomb, max_unzipped=2**20)
    res = extract(bomb, max_unzipped=2 * 2**20)
    assert (res.status, res.reason) == ("rejected", "too_large")
    assert "2 MiB" in res.message


def test_configurable_cell_limit(tmp_path):
    path = _good(tmp_path / GOOD)
    assert extract(path).status == "loaded"
    res = extract(path, max_cells=20)
    assert (res.status, res.reason) == ("rejected", "too_large")
    assert "表1" in res.message
