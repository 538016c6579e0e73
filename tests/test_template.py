"""`tpa template [FORM…] --county CODE --period YYYY-MM`: the blank county workbook is read
back by the pipeline's own extract_workbook as every requested form, with the county and
period of its cover line and zero data rows; filled in, it loads exactly; openpyxl sees
its data validation (whole numbers ≥ 0, 是/否 lists, the enum lists)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from pipeline.template import DATA_ROWS, write_template
from schemas import FORMS
from tests.mess import expected, extract, loaded, records, sheet_value

ROOT = Path(__file__).resolve().parent.parent


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
    for dv in ws.data_validations.dataValidation:
        assert str(dv.sqref).endswith(str(first + DATA_ROWS - 1))

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
