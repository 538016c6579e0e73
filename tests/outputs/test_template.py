"""`tpa template [FORM…] --county CODE --period YYYY-MM`: the blank county workbook is read
back by the pipeline's own extract_workbook as every requested form, with the county and
period of its cover line and zero data rows; filled in, it loads exactly; openpyxl sees
its data validation (whole numbers ≥ 0, 是/否 lists, the enum lists)."""

from __future__ import annotations

import os
import subprocess
import sys

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from pipeline.outputs.template import DATA_ROWS, column_unit, write_template
from schemas import FORMS
from tests.builders.mess import expected, extract, loaded, records, sheet_value
from tests.builders.paths import ROOT


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("county,name,period", [
    ("530128", "禄劝彝族苗族自治县", "2019-12"),
    ("530621", "鲁甸县", "2020-06"),
])  # fmt: skip
def test_blank_template_is_recognised(tmp_path, form, county, name, period):
    out = write_template(tmp_path / f"{county}_{name}_{period}.xlsx", county, period, [form])
    res = extract(out)
    assert res.status == "loaded", res.message
    assert (res.county_code, res.period) == (county, period)
    assert list(res.forms) == [form]
    sr = res.forms[form]
    assert sr.sheet == FORMS[form].table_no
    assert sr.rows_read == 0 and sr.valid.empty and not res.findings


def test_all_nine_forms_in_one_workbook(tmp_path):
    out = write_template(tmp_path / "t.xlsx", "530128", "2019-12")
    res = extract(out)
    assert res.status == "loaded" and sorted(res.forms) == sorted(FORMS)
    assert (res.county_code, res.period) == ("530128", "2019-12")


def _first_data_row(ws) -> int:
    for dv in ws.data_validations.dataValidation:
        return int(str(dv.sqref).split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    raise AssertionError("no validation")


@pytest.mark.parametrize("form", list(FORMS))
def test_filled_template_loads_exactly(tmp_path, form):
    path = write_template(tmp_path / "t.xlsx", "530128", "2019-12", [form])
    wb = openpyxl.load_workbook(path)
    ws = wb[FORMS[form].table_no]
    first = _first_data_row(ws)
    recs = records(form, 4, seed=61)
    for i, rec in enumerate(recs):
        for j, col in enumerate(FORMS[form].columns, start=1):
            ws.cell(row=first + i, column=j, value=sheet_value(col, rec.values.get(col.name)))
    wb.save(path)
    res = extract(path)
    assert not [f for f in res.findings if f.severity == "error"], [f.message for f in res.findings]

    class _L:  # expected() needs rows_of / recs
        rows_of = [first + i for i in range(len(recs))]

    _L.recs = recs
    assert loaded(res, form) == expected(_L)


def _validations(ws) -> list[tuple[str, str | None, str | None, set[str]]]:
    """``(type, operator, formula1, columns)`` per data validation of ``ws``."""
    out = []
    for dv in ws.data_validations.dataValidation:
        cols = set()
        for rng in str(dv.sqref).split():
            a, _, b = rng.partition(":")
            lo = openpyxl.utils.cell.coordinate_from_string(a)[0]
            hi = openpyxl.utils.cell.coordinate_from_string(b or a)[0]
            for k in range(
                openpyxl.utils.column_index_from_string(lo),
                openpyxl.utils.column_index_from_string(hi) + 1,
            ):
                cols.add(get_column_letter(k))
        out.append((dv.type, dv.operator, dv.formula1, cols))
    return out


@pytest.mark.parametrize("form", list(FORMS))
def test_data_validation(tmp_path, form):
    path = write_template(tmp_path / "t.xlsx", "530128", "2019-12", [form])
    ws = openpyxl.load_workbook(path)[FORMS[form].table_no]
    vals = _validations(ws)
    first = _first_data_row(ws)
    assert DATA_ROWS >= 100_000  # a ledger has thousands of rows [issue 12]
    for dv in ws.data_validations.dataValidation:
        assert str(dv.sqref).endswith(str(first + DATA_ROWS - 1))
        # error alerts on: Excel refuses a wrong entry instead of accepting it silently
        assert dv.showErrorMessage and dv.errorStyle == "stop" and dv.error, dv.sqref

    def covering(letter):
        return [(t, op, f1) for t, op, f1, cols in vals if letter in cols]

    if form == "housing":
        for k in range(2, 12):
            assert covering(get_column_letter(k)) == [("whole", "greaterThanOrEqual", "0")]
        return
    for j, col in enumerate(FORMS[form].columns, start=1):
        got = covering(get_column_letter(j))
        if col.kind == "count":
            assert got == [("whole", "greaterThanOrEqual", "0")], col.name
        elif col.kind in ("money", "yuan"):
            assert got == [("decimal", "greaterThanOrEqual", "0")], col.name
        elif col.kind == "bool":
            assert got == [("list", None, '"是,否"')], col.name
        elif col.kind == "enum":
            assert got == [("list", None, '"' + ",".join(col.choices) + '"')], col.name
        elif col.kind in ("text", "code", "person_name", "id_number"):
            assert got == [], col.name


def _tpa(*args, cwd):
    env = {**os.environ, "TPA_ID_KEY": "template-test", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pipeline", "template", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120, env=env)  # fmt: skip


@pytest.mark.slow
def test_cli(tmp_path):
    p = _tpa("population", "housing", "--county", "530128", "--period", "2019-12", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "530128_禄劝彝族苗族自治县_2019-12.xlsx"
    res = extract(out)
    assert sorted(res.forms) == ["housing", "population"]
    assert (res.county_code, res.period) == ("530128", "2019-12")


@pytest.mark.parametrize("args", [
    ["nosuchform", "--county", "530128", "--period", "2019-12"],
    ["--county", "999999", "--period", "2019-12"],
    ["--county", "530128", "--period", "2019-13"],
])  # fmt: skip
def test_cli_bad_usage_exits_2(tmp_path, args):
    from typer.testing import CliRunner

    from pipeline.cli import app

    r = CliRunner().invoke(app, ["template", *args, "--out", str(tmp_path / "t.xlsx")])
    assert r.exit_code == 2, r.output
    assert not (tmp_path / "t.xlsx").exists()


def _data_validation_error(ws, letter: str) -> str:
    (dv,) = [d for d in ws.data_validations.dataValidation
             if any(r.split(":")[0].rstrip("0123456789") == letter for r in str(d.sqref).split())]  # fmt: skip
    return dv.error


@pytest.mark.parametrize("form", list(FORMS))
def test_units_per_column_and_per_sheet(tmp_path, form):
    """Each header states its column's unit; the cover names the sheet's units [issue 12]."""
    path = write_template(tmp_path / "t.xlsx", "530128", "2019-12", [form])
    ws = openpyxl.load_workbook(path)[FORMS[form].table_no]
    cover = {
        "population": "单位：户、人", "relocation": "单位：户、人、套", "housing": "单位：户",
        "medical": "单位：人、人次、万元", "water": "单位：户、人", "education": "单位：人",
        "employment": "单位：人、个", "infrastructure": None, "households": "单位：人、元",
    }[form]  # fmt: skip
    line = ws["A2"].value
    assert line.startswith("填报单位：禄劝彝族苗族自治县（盖章）    统计截止时间：2019年12月31日")
    if cover is None:
        assert "单位：" not in line.replace("填报单位：", "")
    else:
        assert line.endswith("    " + cover)
    if form == "housing":
        assert [ws.cell(row=4, column=j).value for j in (2, 3)] == ["任务数（户）", "竣工数（户）"]
        return
    headers = [c.value for c in ws[3]]
    for j, col in enumerate(FORMS[form].columns):
        unit = column_unit(col)
        assert headers[j] == col.header_zh + (f"（{unit}）" if unit else ""), col.name


def test_income_per_head_is_in_yuan(tmp_path):
    path = write_template(tmp_path / "t.xlsx", "530128", "2019-12", ["households", "medical"])
    wb = openpyxl.load_workbook(path)
    ledger, medical = wb["表9"], wb["表4"]
    j = FORMS["households"].names.index("income_per_capita") + 1
    assert ledger.cell(row=3, column=j).value == "人均纯收入（元）"
    assert _data_validation_error(ledger, get_column_letter(j)) == "请填写不小于0的金额（元）"
    k = FORMS["medical"].names.index("inpatient_expense") + 1
    assert medical.cell(row=3, column=k).value == "住院总费用（万元）"
    assert _data_validation_error(medical, get_column_letter(k)) == "请填写不小于0的金额（万元）"


@pytest.mark.parametrize("form", list(FORMS))
def test_id_and_code_columns_are_text_by_column_style(tmp_path, form):
    path = write_template(tmp_path / "t.xlsx", "530128", "2019-12", [form])
    ws = openpyxl.load_workbook(path)[FORMS[form].table_no]
    first = _first_data_row(ws)
    assert ws.max_row == first - 1  # a column style: no styled cell below the header
    if form == "housing":
        return
    for j, col in enumerate(FORMS[form].columns, start=1):
        fmt = ws.column_dimensions[get_column_letter(j)].number_format
        assert (fmt == "@") == (col.kind in ("code", "id_number")), (col.name, fmt)


def test_ledger_typed_into_text_columns_loads(tmp_path):
    """A clerk types an 18-digit ID, a household number with leading zeros and an income
    of 4,500 元 into the template, as Excel stores them under a Text column style: the row
    loads with the ID pseudonymised, the number kept, and 4,500 yuan (not 万元)."""
    from pipeline.extract.personal import check_char

    id_number = "53012819800101001" + check_char("53012819800101001")
    path = write_template(tmp_path / "t.xlsx", "530128", "2019-12", ["households"])
    wb = openpyxl.load_workbook(path)
    ws = wb["表9"]
    values = {"household_id": "0012", "head_name": "张三", "head_id_number": id_number,
              "township": "屏山街道", "village": "甲村", "village_code": "530128100001",
              "household_size": 3, "poverty_attribute": "一般贫困户", "main_cause": "因病",
              "registered_year": 2014, "exit_year": 2019, "income_per_capita": 4500,
              "food_clothing_secure": "是", "education_secured": "是", "medical_secured": "是",
              "housing_secured": "是", "water_secured": "是"}  # fmt: skip
    for j, col in enumerate(FORMS["households"].columns, start=1):
        cell = ws.cell(row=4, column=j, value=values[col.name])
        cell.number_format = ws.column_dimensions[get_column_letter(j)].number_format
    wb.save(path)
    res = extract(path)
    assert res.status == "loaded", res.message
    assert not [f for f in res.findings if f.severity == "error"], [f.message for f in res.findings]
    (row,) = loaded(res, "households").values()
    assert row["household_id"] == "0012" and row["village_code"] == "530128100001"
    # extraction keeps amounts in fen: 4,500 元 = 450,000 fen (as 万元 it would be 4.5e9)
    assert int(row["income_per_capita"]) == 450_000
    assert len(row["head_id_hash"]) == 64 and "head_id_number" not in row
