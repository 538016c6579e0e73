"""`tpa export`: the xlsx read back equals marts.indicators (rates at full precision shown as
0.00%, counts as integers), clerk text is never a live formula in xlsx or CSV, CSV opens
in Excel (BOM), Parquet keeps types."""

from __future__ import annotations

import csv

import duckdb
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.outputs.export import HEADER_ROW, export, header_text, neutralise
from tests.builders.warehouse import FORMULA_TEXTS, TAMPERED, small_warehouse

PERIOD = "2019-12"


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return small_warehouse(tmp_path_factory)


def _indicators(wh) -> pd.DataFrame:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(
            "SELECT i.*, d.name_zh FROM marts.indicators i "
            "JOIN ref.indicator_definitions d USING (indicator_code) WHERE period = ?",
            [PERIOD],
        ).df()
    finally:
        con.close()


def test_neutralise():
    for text in ("=1+1", "+86 871 6000", "-5", "@SUM(1,1)", "\t=2", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("城关镇") == "城关镇"
    assert neutralise(-5) == -5 and neutralise(0.25) == 0.25  # numbers stay numbers


@pytest.mark.slow
def test_xlsx_equals_marts(wh, tmp_path):
    (path,) = export(wh, "xlsx", tmp_path)
    assert path.name == f"indicators_{PERIOD}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["省", "州市", "县"] and "说明" in wb.sheetnames
    ind = _indicators(wh)
    by_header = {}
    for r in ind.drop_duplicates("indicator_code").itertuples():
        by_header[header_text(r.name_zh, r.unit)] = (r.indicator_code, r.unit)
    checked = 0
    for sheet, level in (("省", "province"), ("州市", "prefecture"), ("县", "county")):
        ws = wb[sheet]
        headers = [c.value for c in ws[HEADER_ROW]]
        code_col = headers.index("区划代码")
        expected = ind[ind["geo_level"] == level].set_index(["geo_code", "indicator_code"])
        rows = list(ws.iter_rows(min_row=HEADER_ROW + 1))
        assert len(rows) == expected.index.get_level_values(0).nunique()
        for row in rows:
            geo = row[code_col].value
            assert row[code_col].data_type == "s"  # codes stay text
            for j, cell in enumerate(row[code_col + 1 :], start=code_col + 1):
                code, unit = by_header[headers[j]]
                want = expected["value"].get((geo, code))
                if want is None or pd.isna(want):
                    assert cell.value is None
                    continue
                assert cell.data_type == "n"
                # full precision: openpyxl writes 16 significant digits (Excel keeps 15)
                assert cell.value == pytest.approx(want, rel=1e-15, abs=0)
                assert cell.number_format == ("0.00%" if unit == "ratio" else "#,##0")
                checked += 1
    assert checked > 100
    # headers in Chinese with units
    assert "贫困发生率（%）" in [c.value for c in wb["县"][HEADER_ROW]]
    assert "未脱贫人口数（人）" in [c.value for c in wb["县"][HEADER_ROW]]
    notes = [c.value for row in wb["说明"].iter_rows() for c in row if c.value]
    assert any("数据来源" in str(v) for v in notes)
    assert "poverty_incidence" in notes


@pytest.mark.slow
def test_xlsx_clerk_text_never_formula(wh, tmp_path):
    (path,) = export(wh, "xlsx", tmp_path)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
    texts = {}
    for row in wb["问题清单"].iter_rows(min_row=HEADER_ROW + 1):
        for cell in row:
            if isinstance(cell.value, str):
                texts[cell.value] = cell
    for t in FORMULA_TEXTS[:2]:  # the number cells that failed: their text is in 原文
        assert t in texts, t
        assert texts[t].data_type == "s" and texts[t].quotePrefix


@pytest.mark.slow
def test_csv(wh, tmp_path):
    paths = export(wh, "csv", tmp_path)
    names = {p.name for p in paths}
    assert {"indicators.csv", "county_indicators.csv", "data_quality.csv", "findings.csv"} <= names
    raw = (tmp_path / "indicators.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 Chinese correctly
    df = pd.read_csv(tmp_path / "indicators.csv", encoding="utf-8-sig", dtype={"geo_code": str})
    ind = _indicators(wh)
    merged = df.merge(ind, on=["indicator_code", "geo_level", "geo_code", "period"])
    assert len(merged) == len(ind)
    both = merged["value_x"].notna()
    assert (merged.loc[both, "value_x"] == merged.loc[both, "value_y"]).all()
    # units: how many units each figure is over and how many are unknown [issue 12]
    for col in ("units_total", "units_unknown"):
        assert (merged[f"{col}_x"] == merged[f"{col}_y"]).all(), col
    # the tampered county's 3 quarantined population rows are unknown villages
    partial = merged[(merged["indicator_code"] == "registered_persons")
                     & (merged["geo_level"] == "county") & (merged["units_unknown_x"] > 0)]  # fmt: skip
    assert partial["geo_code"].tolist() == [TAMPERED] and partial["units_unknown_x"].tolist() == [3]
    with open(tmp_path / "findings.csv", encoding="utf-8-sig", newline="") as fh:
        cells = [v for row in csv.reader(fh) for v in row]
    for t in FORMULA_TEXTS[:2]:
        assert "'" + t in cells and t not in cells
    assert not [v for v in cells if v.startswith(("=", "+", "@"))]


@pytest.mark.slow
def test_parquet(wh, tmp_path):
    export(wh, "parquet", tmp_path, period=PERIOD)
    t = pq.read_table(tmp_path / f"indicators_{PERIOD}.parquet")
    assert str(t.schema.field("value").type) == "double"
    assert t.num_rows == len(_indicators(wh))


@pytest.mark.slow
def test_cli(wh, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--format", "xlsx", "--warehouse", str(wh), "--out", str(tmp_path)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"indicators_{PERIOD}.xlsx").is_file()
    res = runner.invoke(app, ["export", "--format", "ods", "--warehouse", str(wh)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["export", "--warehouse", str(wh), "--period", "1999-12"])
    assert res.exit_code == 2
