"""Workbooks written by a real spreadsheet application (issue 12): LibreOffice Calc,
headless, re-saves a seeded subset of the sample (3 counties in 2 prefectures, all nine
forms) as ``.xlsx`` and as ``.xls`` (BIFF8), and recalculates a copy whose total rows are
formulas saved without results. Each set must give the same indicators as the
originals; the recalculated totals are reconciled (no "not checked"), where the
formula copy without results has them "not checked".

``.ci/run`` installs LibreOffice (``libreoffice-calc-nogui``); elsewhere these tests skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from devkit.sample import write_counties
from pipeline.warehouse.build import build
from tests.builders.warehouse import extracted

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("soffice") is None,
        reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui",
    ),
]

COUNTIES = ["530102", "530113", "533323"]  # 五华区, 东川区 (昆明市); 福贡县 (怒江州)
PERIOD = "2019-12"
TOTAL_LABELS = ("合计", "总计", "全县合计", "全县")


def _soffice(files: list[Path], fmt: str, out: Path, profile: Path) -> list[Path]:
    """Convert ``files`` in one soffice invocation; return the written files."""
    out.mkdir(parents=True)
    cmd = [
        "soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--calc",
        "--convert-to", fmt, "--outdir", str(out), *map(str, files),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    written = sorted(out.iterdir())
    assert done.returncode == 0 and len(written) == len(files), done.stdout + done.stderr
    return written


def _runs(rows: list[int]) -> str:
    """``[5, 6, 7, 9]`` -> ``5:7,9`` ranges of consecutive rows."""
    out, start = [], rows[0]
    for a, b in zip(rows, rows[1:] + [None], strict=True):
        if b != a + 1:
            out.append((start, a))
            start = b
    return out


def _with_formula_totals(src: Path, dst: Path) -> int:
    """Copy ``src`` with every total row's numbers replaced by ``=SUM(…)`` of the detail
    rows above it (not subtotals), saved by openpyxl: formulas without results."""
    wb = openpyxl.load_workbook(src)
    n = 0
    for ws in wb.worksheets:
        label_col, detail = None, []
        for row in ws.iter_rows():
            texts = [c for c in row if isinstance(c.value, str)]
            total = next((c for c in texts if c.value.strip() in TOTAL_LABELS), None)
            numbers = [c for c in row if isinstance(c.value, int | float)]
            if total is None:
                if numbers and not any("计" in c.value for c in texts):
                    detail.append(row[0].row)
                continue
            label_col = total.column
            for c in numbers:
                if c.column > label_col and detail:
                    col = get_column_letter(c.column)
                    parts = [
                        f"{col}{a}" if a == b else f"{col}{a}:{col}{b}" for a, b in _runs(detail)
                    ]
                    c.value = f"=SUM({','.join(parts)})"
                    n += 1
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return n


def _load(folder: Path, out: Path) -> dict:
    build(extracted(folder), out)
    con = duckdb.connect(str(out), read_only=True)
    try:
        return {
            "files": con.execute(
                "SELECT county_code, status, rows_loaded, rows_quarantined, forms FROM raw.files"
                " ORDER BY county_code"
            ).fetchall(),
            "indicators": con.execute(
                "SELECT indicator_code, geo_level, geo_code, period, numerator, denominator,"
                " value FROM marts.indicators ORDER BY ALL"
            ).fetchall(),
            "findings": con.execute(
                "SELECT file_name, sheet, rule, severity FROM quarantine.findings ORDER BY ALL"
            ).fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, dict]:
    base = tmp_path_factory.mktemp("real_apps")
    orig = write_counties(base / "orig", COUNTIES, periods=(PERIOD,))
    formulas = [base / "formulas" / PERIOD / p.name for p in orig]
    assert sum(_with_formula_totals(p, q) for p, q in zip(orig, formulas, strict=True)) > 20
    profile = base / "lo-profile"
    sets = {
        "xlsx": _soffice(orig, "xlsx", base / "xlsx" / PERIOD, profile),
        "xls": _soffice(orig, "xls", base / "xls" / PERIOD, profile),
        "recalc": _soffice(formulas, "xlsx", base / "recalc" / PERIOD, profile),
    }
    assert [p.suffix for p in sets["xls"]] == [".xls"] * 3
    out = {"orig": _load(base / "orig", base / "orig.duckdb")}
    out["formulas"] = _load(base / "formulas", base / "formulas.duckdb")
    for name in sets:
        out[name] = _load(base / name, base / f"{name}.duckdb")
    return out


def test_the_originals_load_every_form(saved):
    files = saved["orig"]["files"]
    assert [f[0] for f in files] == COUNTIES and {f[1] for f in files} == {"loaded"}
    assert all(f[2] > 0 and f[3] == 0 for f in files), files
    forms = {form for f in files for form in f[4].split(",")}
    assert len(forms) == 9, forms  # all nine forms among the three


@pytest.mark.parametrize("variant", ["xlsx", "xls", "recalc", "formulas"])
def test_resaved_workbooks_give_the_same_indicators(saved, variant):
    got, want = saved[variant], saved["orig"]
    assert [f[:4] for f in got["files"]] == [f[:4] for f in want["files"]]
    assert len(want["indicators"]) > 100
    assert got["indicators"] == want["indicators"]


def test_formula_totals_are_reconciled_once_saved_with_results(saved):
    before = {f for f in saved["formulas"]["findings"] if f[2] == "total_not_checked"}
    assert len({f[1] for f in before}) >= 5  # every form with a total row, per workbook
    after = saved["recalc"]["findings"]
    assert [f for f in after if f[2].startswith("total")] == []
    assert after == saved["orig"]["findings"]
