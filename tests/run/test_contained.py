"""Contained extraction (issue 11 item 1, the per-file errors of item 8): hostile and
broken workbooks go through ``pipeline.run.contain`` in one batch with good ones; each is
rejected with a one-line reason naming it, the good ones load, nothing crashes the
caller, and a file that hit a memory or time limit is not cached (tried again).

Every input is generated here: minimal xlsx zips with a far cell, amplified shared
strings, a zip-bomb part, BIFF8 .xls with a far cell (xlwt), and children made to
abort, segfault, panic, run out of memory or time (``TPA_TEST_CRASH``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.extract.readers.xlsx_meta import cell_ref
from pipeline.run import cache, contain, unread
from pipeline.run.discover import sha256_of
from pipeline.run.state import state_dir
from tests.builders.marks import slow_except
from tests.builders.mess import Layout, records, write_xlsx
from tests.builders.paths import ROOT

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
GOOD = "530128_禄劝彝族苗族自治县_2019-12.xlsx"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def minimal_xlsx(path: Path, sheet_data: str, shared: list[str] | None = None, pad: int = 0):
    """The smallest workbook calamine opens: one sheet holding ``sheet_data`` (the
    ``<sheetData>`` content), optional shared strings, ``pad`` spaces in the sheet XML."""
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    sst_rel = (
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        if shared is not None
        else ""
    )
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{NS}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/worksheet" '
            f'Target="worksheets/sheet1.xml"/>{sst_rel}</Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{NS}">{" " * pad}<sheetData>{sheet_data}</sheetData></worksheet>'
        ),
    }
    if shared is not None:
        items = "".join(f"<si><t>{s}</t></si>" for s in shared)
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{NS}">{items}</sst>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return path


def far_xlsx(path: Path, row: int, col: int, with_a1: bool = False) -> Path:
    """One value at 0-based (row, col), and optionally one at A1."""
    ref = cell_ref(row, col)
    a1 = '<row r="1"><c r="A1"><v>7</v></c></row>' if with_a1 and (row, col) != (0, 0) else ""
    return minimal_xlsx(path, f'{a1}<row r="{row + 1}"><c r="{ref}"><v>1</v></c></row>')


def amplified_xlsx(path: Path, cells: int = 100_000, length: int = 32_000) -> Path:
    """``cells`` cells referring to one shared string of ``length`` characters."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, cells + 1)
    )
    return minimal_xlsx(path, rows, shared=["村" * length])


def good_xlsx(path: Path) -> Path:
    lay = Layout("population")
    for r in records("population", 3, seed=41):
        lay.add(r)
    return write_xlsx(path, [lay.sheet])


def far_xls(path: Path, row: int, col: int, with_a1: bool) -> Path:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("表1")
    if with_a1:
        ws.write(0, 0, "x")
    ws.write(row, col, 1)
    wb.save(str(path))
    return path


SETTINGS = Settings(id_key="contained-test", extract_timeout_s=120)


def run_batch(paths: list[Path], tmp: Path, s: Settings = SETTINGS) -> dict[str, dict]:
    """``contain.extract_files`` over ``paths`` (one batch); file name -> what became of
    it: outcome, and the extract's status/reason/messages/rows when one was written."""
    files = [(str(p), sha256_of(p), str(tmp / "x" / p.name)) for p in paths]
    outs = contain.extract_files(files, s, b"k")
    got = {}
    for (_, sha, _), p in zip(files, paths, strict=True):
        o = outs[sha]
        rec = {"outcome": o}
        if o.folder:
            r = cache.load(Path(o.folder), frames=False)
            rec |= {"status": r.status, "reason": r.reason, "message": r.message,
                    "message_en": r.message_en, "rows": r.rows_loaded}  # fmt: skip
        got[p.name] = rec
    return got


def one_line_naming(text: str, name: str) -> None:
    assert text and "\n" not in text and name in text and "Traceback" not in text, text


# ------------------------------------------------------------------ far cells, amplification


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    raw = base / "raw"
    raw.mkdir()
    good_xlsx(raw / GOOD)
    far_xlsx(raw / "far_XFD1048576.xlsx", 1_048_575, 16_383)
    far_xlsx(raw / "far_XFD50000.xlsx", 49_999, 16_383)
    far_xlsx(raw / "far_XFD10000.xlsx", 9_999, 16_383)
    far_xlsx(raw / "far_A1_XFD10000.xlsx", 9_999, 16_383, with_a1=True)
    empty_str = '<c r="XFD60000" t="str"><v></v></c>'  # in calamine's range, no value
    minimal_xlsx(raw / "far_empty_str.xlsx",
                 f'<row r="1"><c r="A1"><v>7</v></c></row><row r="60000">{empty_str}</row>')  # fmt: skip
    amplified_xlsx(raw / "amplified.xlsx")
    minimal_xlsx(raw / "zipbomb.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row>', pad=40 * 2**20)
    far_xls(raw / "far_A1_IV65536.xls", 65_535, 255, with_a1=True)
    far_xls(raw / "far_IV65536.xls", 65_535, 255, with_a1=False)
    return raw, run_batch(sorted(raw.iterdir()), base)


@pytest.mark.slow
def test_far_cell_alone_is_read_as_one_cell(hostile):
    """calamine is asked for the span of the cells only: a lone far value is a 1×1 sheet
    (no form in it), not 17 billion cells."""
    _, got = hostile
    for name in ("far_XFD1048576.xlsx", "far_XFD50000.xlsx", "far_XFD10000.xlsx",
                 "far_IV65536.xls"):  # fmt: skip
        g = got[name]
        assert (g["status"], g["reason"]) == ("rejected", "no_form_found"), (name, g)
        one_line_naming(g["message_en"], name)


def test_far_span_is_refused_before_allocation(hostile):
    """A1 plus XFD10000 span 10,000 × 16,384 = 163,840,000 cells > 5,000,000 (also when
    the far cell holds an empty text, which calamine keeps); A1 plus IV65536 in an .xls
    65,536 × 256 = 16,777,216 (xlrd measures it)."""
    _, got = hostile
    for name, ref, span in (("far_A1_XFD10000.xlsx", "XFD10000", "10,000 rows x 16,384"),
                            ("far_empty_str.xlsx", "XFD60000", "60,000 rows x 16,384"),
                            ("far_A1_IV65536.xls", "IV65536", "65,536 rows x 256")):  # fmt: skip
        g = got[name]
        assert (g["status"], g["reason"]) == ("rejected", "too_large"), (name, g)
        assert ref in g["message_en"] and span in g["message_en"], g["message_en"]
        one_line_naming(g["message"], name)


def test_amplified_shared_string_is_refused(hostile):
    """100,000 cells × one 32,000-character string = 3.2e9 characters > 2e8."""
    g = hostile[1]["amplified.xlsx"]
    assert (g["status"], g["reason"]) == ("rejected", "too_large"), g
    assert "200,000,000 characters" in g["message_en"]
    one_line_naming(g["message"], "amplified.xlsx")


def test_zip_bomb_part_is_refused_by_ratio(hostile):
    g = hostile[1]["zipbomb.xlsx"]
    assert (g["status"], g["reason"]) == ("rejected", "too_large"), g
    assert "xl/worksheets/sheet1.xml" in g["message_en"] and "zip bomb" in g["message_en"]


def test_good_file_beside_hostile_ones_loads(hostile):
    g = hostile[1][GOOD]
    assert (g["status"], g["rows"]) == ("loaded", 3)


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(row=st.integers(0, 1_048_575), col=st.integers(0, 16_383))
def test_far_cells_anywhere(tmp_path, row, col):
    """A value at A1 and one at a random position: refused exactly when their span
    (row + 1) × (col + 1) passes max_cells, naming the far cell; else read (no form)."""
    path = far_xlsx(tmp_path / f"far_{row}_{col}.xlsx", row, col, with_a1=True)
    res = contain.check_contained(path, sha256_of(path), SETTINGS, b"k")
    if (row + 1) * (col + 1) > SETTINGS.max_cells:
        assert (res.status, res.reason) == ("rejected", "too_large")
        assert cell_ref(row, col) in res.message_en
    else:
        assert (res.status, res.reason) == ("rejected", "no_form_found")
    one_line_naming(res.message_en, path.name)


# ------------------------------------------------------------------ children that die


HOW = {  # hook -> (reason, limit)
    "abort": ("reader_crashed", None),
    "segv": ("reader_crashed", None),
    "panic": ("reader_crashed", None),
    "memory": ("resource_limit", "memory"),
    "sleep": ("resource_limit", "time"),
}


@pytest.mark.parametrize(
    "how",
    slow_except(sorted(HOW), lambda h: h == "abort"),  # a representative in test-fast
)
def test_a_dying_child_costs_only_its_file(tmp_path, monkeypatch, how):
    raw = tmp_path / "raw"
    raw.mkdir()
    victim = far_xlsx(raw / f"victim_{how}.xlsx", 3, 3)
    good = good_xlsx(raw / GOOD)
    other = far_xlsx(raw / "after.xlsx", 5, 5)
    monkeypatch.setenv("TPA_TEST_CRASH", f"{victim.name}:{how}")
    # the memory hook fills what a fresh child (≈ 1.5 GiB of address space) has left
    # the time limit must let the good files through on a busy machine
    s = SETTINGS.model_copy(update={"extract_timeout_s": 20, "extract_memory_mib": 2048})
    got = run_batch([victim, good, other], tmp_path, s)
    o = got[victim.name]["outcome"]
    assert (o.folder, o.reason, o.limit) == (None, *HOW[how])
    one_line_naming(o.error, victim.name)
    assert not (tmp_path / "x" / victim.name).exists()  # not cached: tried again next run
    assert (got[GOOD]["status"], got[GOOD]["rows"]) == ("loaded", 3)
    assert got["after.xlsx"]["reason"] == "no_form_found"  # a fresh child read it
    monkeypatch.delenv("TPA_TEST_CRASH")
    again = run_batch([victim], tmp_path, s)[victim.name]
    assert again["outcome"].parsed and again["reason"] == "no_form_found"


def test_each_file_gets_its_own_error(tmp_path):
    """A file that vanished is reported as such, under its own name; the files around it
    in the same batch load (the batch's first error is nobody else's)."""
    a, b = good_xlsx(tmp_path / GOOD), far_xlsx(tmp_path / "b.xlsx", 2, 2)
    gone = tmp_path / "gone.xlsx"
    files = [(str(gone), "0" * 64, str(tmp_path / "x" / "gone"))]
    files += [(str(p), sha256_of(p), str(tmp_path / "x" / p.name)) for p in (a, b)]
    outs = contain.extract_files(files, SETTINGS, b"k")
    g = outs["0" * 64]
    assert (g.folder, g.reason, g.transient) == (None, "read_error", False)
    assert (
        g.error
        == "gone.xlsx: FileNotFoundError: the file vanished: it is no longer there (moved or deleted during the run)"
    )
    assert all(outs[sha256_of(p)].folder for p in (a, b))


def test_resource_limit_rejection_counts_runs_in_a_row(tmp_path):
    """The record in the state folder: 1, then 2 runs in a row (said in the message);
    a run without the hit forgets it."""
    wh = tmp_path / "w.duckdb"
    assert unread.note_resource_limits(wh, {"s1": "memory"}) == {"s1": 1}
    assert unread.note_resource_limits(wh, {"s1": "memory"}) == {"s1": 2}
    r = unread.unread_result("s1", "f.xlsx", "f.xlsx: x", "resource_limit", "memory", 2)
    assert "2 runs in a row" in r.message_en and "连续 2 次" in r.message
    assert (r.status, r.reason) == ("rejected", "resource_limit")
    assert unread.note_resource_limits(wh, {}) == {}
    assert unread.note_resource_limits(wh, {"s1": "time"}) == {"s1": 1}


def test_check_command_survives_hostile_files(tmp_path, monkeypatch):
    """``tpa check`` takes the contained path: each hostile file is one rejected line."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    amp = amplified_xlsx(tmp_path / "amp.xlsx")
    far = far_xlsx(tmp_path / "far.xlsx", 1_048_575, 16_383)
    boom = far_xlsx(tmp_path / "boom.xlsx", 1, 1)
    good = good_xlsx(tmp_path / GOOD)
    monkeypatch.setenv("TPA_TEST_CRASH", "boom.xlsx:abort")
    res = CliRunner().invoke(app, ["check", "--lang", "en", *map(str, (amp, far, boom, good))])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    lines = res.output.splitlines()
    for name, what in (("amp.xlsx", "characters"), ("far.xlsx", "no form found"),
                       ("boom.xlsx", "reader crashed")):  # fmt: skip
        (line,) = [ln for ln in lines if ln.startswith(f"{name}:")]
        assert "rejected" in line and what in line, line
    assert any(ln.startswith(f"{GOOD}:") and "loaded 3" in ln for ln in lines)


# ------------------------------------------------------------------ one whole run


@pytest.mark.slow
def test_tpa_run_with_hostile_files(tmp_path):
    """``tpa run`` (one process, as cron runs it) over a drop zone with hostile files:
    exit 0, no traceback, each file's own status; the crashed file is not cached."""
    raw, wh = tmp_path / "raw", tmp_path / "wh" / "warehouse.duckdb"
    (raw / "2019-12").mkdir(parents=True)
    good_xlsx(raw / "2019-12" / GOOD)
    far_xlsx(raw / "2019-12" / "far.xlsx", 1_048_575, 16_383)
    amplified_xlsx(raw / "2019-12" / "amp.xlsx")
    far_xlsx(raw / "2019-12" / "boom.xlsx", 1, 1)
    env = {**os.environ, "TPA_TEST_CRASH": "boom.xlsx:abort", "TPA_TASK_RUNNER": "serial",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}  # fmt: skip
    cmd = [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(raw), "--warehouse", str(wh)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "Traceback" not in p.stdout + p.stderr
    con = duckdb.connect(str(wh), read_only=True)
    rows = dict(
        (r[0], r[1:])
        for r in con.execute("SELECT file_name, status, reason, message FROM raw.files").fetchall()
    )
    con.close()
    assert rows[GOOD][:2] == ("loaded", None)
    assert rows["far.xlsx"][:2] == ("rejected", "no_form_found")
    assert rows["amp.xlsx"][:2] == ("rejected", "too_large")
    assert rows["boom.xlsx"][:2] == ("rejected", "reader_crashed")
    one_line_naming(rows["boom.xlsx"][2], "boom.xlsx")
    manifest = json.loads((state_dir(wh) / "manifest.json").read_text(encoding="utf-8"))
    boom = [e for e in manifest["files"].values() if e["file_name"] == "boom.xlsx"]
    assert [e["extract"] for e in boom] == [None]  # not cached: the next run tries again


def test_xls_bounds_measure_text_and_streams(tmp_path):
    """.xls: 100 cells of one 1,000-character string expand to 100,000 characters
    (xlrd counts them); the Workbook stream is larger than a 1 KiB limit (olefile)."""
    from pipeline.extract.readers.xls import read_xls
    from pipeline.extract.readers.xls_bounds import XlsTooLarge

    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("表1")
    for r in range(100):
        ws.write(r, 0, "村" * 1000)
    path = tmp_path / "amp.xls"
    wb.save(str(path))
    size = path.stat().st_size
    meta = read_xls(path, size, max_cells=100, max_chars=100_000)  # exactly at the limits
    assert list(meta.sheets) == ["表1"]
    with pytest.raises(XlsTooLarge) as chars:
        read_xls(path, size, max_cells=100, max_chars=99_999)
    assert (chars.value.what, chars.value.size, chars.value.sheet) == ("chars", 100_000, "表1")
    with pytest.raises(XlsTooLarge) as cells:
        read_xls(path, size, max_cells=99, max_chars=10**9)
    assert (cells.value.what, cells.value.rows, cells.value.cols, cells.value.ref) == (
        "cells",
        100,
        1,
        "A100",
    )
    with pytest.raises(XlsTooLarge) as stream:
        read_xls(path, 1024, max_cells=100, max_chars=100_000)
    assert stream.value.what == "stream" and stream.value.sheet == "Workbook"
