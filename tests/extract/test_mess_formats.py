"""File formats for every form: a real BIFF8 `.xls` (written by xlwt: merges, hidden rows
and columns, number formats, hidden sheets, formulas without values), `.xlsm`, files
whose extension lies (an xlsx named `.xls`, an xls named `.xlsx`), and a used range that
claims a million empty rows (a `<dimension>` of A1:M1048576 and a styled cell at row
1048576) — each read exactly like the plain `.xlsx`, quickly."""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest

from pipeline.extract.readers.workbook import open_workbook
from schemas import FORMS
from tests.builders.mess import (
    FILE_NAME,
    Layout,
    Sheet,
    errors,
    expected,
    extract,
    loaded,
    records,
    warnings,
    write_xls,
    write_xlsx,
)

ALL = list(FORMS)
STEM = FILE_NAME.removesuffix(".xlsx")


def _layout(form: str) -> tuple[Layout, list[Sheet], dict]:
    """A two-row header, a hidden row, merged townships, a format-dependent cell (a `0.00%`
    fraction for population, a `0000` household id for the ledger), 合计, a hidden copy."""
    lay = Layout(form, title_lines=2, two_rows=True)
    recs = records(form, 4, seed=31)
    rows = [lay.add(r, hidden=(i == 2)) for i, r in enumerate(recs)]
    lay.merge_townships(rows[0], rows[1])
    if form == "population":
        p = recs[3].values["poverty_incidence"]
        lay.set(rows[3], "poverty_incidence", p / 100, "0.00%")
    if form == "households":
        recs[3].values["household_id"] = "0042"
        lay.set(rows[3], "household_id", 42, "0000")
    lay.total("合计", recs)
    hidden = Layout(form, name="旧")
    hidden.add(records(form, 1, seed=32)[0])
    hidden.sheet.state = "hidden"
    return lay, [lay.sheet, hidden.sheet], {"hidden_row": rows[2]}


def _same_as_xlsx(res, form, lay, info):
    assert res.status == "loaded", res.message
    assert not errors(res), [f.message for f in errors(res)]
    assert res.forms[form].header_rows == lay.header_rows
    assert loaded(res, form) == expected(lay)
    assert [f.excel_row for f in warnings(res, "hidden_row")] == [info["hidden_row"]]
    assert [f.sheet for f in warnings(res, "hidden_sheet")] == ["旧"]
    assert not warnings(res, "total_mismatch")


@pytest.mark.parametrize("form", ALL)
def test_xls_reads_like_xlsx(tmp_path, form):
    lay, sheets, info = _layout(form)
    res = extract(write_xls(tmp_path / f"{STEM}.xls", sheets))
    _same_as_xlsx(res, form, lay, info)
    assert res.reader == "calamine+biff"


@pytest.mark.parametrize("form", ALL)
def test_lying_extensions(tmp_path, form):
    """An xlsx named .xls and an xls named .xlsx are read as what they are."""
    lay, sheets, info = _layout(form)
    a = write_xlsx(tmp_path / "a" / f"{STEM}.xls", sheets)
    b = write_xls(tmp_path / "b" / f"{STEM}.xlsx", sheets)
    ra, rb = extract(a), extract(b)
    _same_as_xlsx(ra, form, lay, info)
    _same_as_xlsx(rb, form, lay, info)
    assert (ra.reader, rb.reader) == ("calamine+xml", "calamine+biff")


def _as_xlsm(src, dst):
    """Rewrite an .xlsx as a macro-enabled package (content type + a vbaProject part)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 508)
    return dst


@pytest.mark.parametrize("form", ALL)
def test_xlsm(tmp_path, form):
    lay, sheets, info = _layout(form)
    src = write_xlsx(tmp_path / "src.xlsx", sheets)
    res = extract(_as_xlsm(src, tmp_path / f"{STEM}.xlsm"))
    _same_as_xlsx(res, form, lay, info)


@pytest.mark.parametrize("form", ["population", "medical", "housing"])
def test_xls_formula_total_and_formula_cell(tmp_path, form):
    """xlwt cannot calculate: its formulas carry an empty result, like openpyxl's."""
    from tests.builders.mess import BIG, F

    col = BIG[form]
    lay = Layout(form)
    recs = records(form, 3, seed=33)
    rows = [lay.add(r) for r in recs]
    lay.set(rows[2], col, F(f"={lay.letter(col)}{rows[0]}+1"))
    t = lay.total("合计", recs[:2], formulas=True)
    res = extract(write_xls(tmp_path / f"{STEM}.xls", [lay.sheet]))
    assert not errors(res)  # issue 12: an optional column's formula loads as NULL
    (w,) = warnings(res, "formula_without_value")
    assert (w.cell_ref, w.excel_row) == (f"{lay.letter(col)}{rows[2]}", rows[2])
    assert [f.excel_row for f in warnings(res, "total_not_checked")] == [t]


def _million_rows(path):
    """Claim A1:M1048576 in <dimension> and add a styled empty cell at M1048576."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode("utf-8")
                text = re.sub(
                    r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:M1048576"/>', text
                )
                text = text.replace(
                    "</sheetData>",
                    '<row r="1048575" s="1" customFormat="1"/>'
                    '<row r="1048576"><c r="M1048576" s="1"/></row></sheetData>',
                )
                data = text.encode("utf-8")
            zout.writestr(item, data)
    shutil.move(tmp, path)
    return path


@pytest.mark.parametrize("form", ALL)
def test_used_range_of_a_million_empty_rows(tmp_path, form):
    lay, sheets, info = _layout(form)
    path = _million_rows(write_xlsx(tmp_path / FILE_NAME, sheets))
    with zipfile.ZipFile(path) as zf:
        assert b'ref="A1:M1048576"' in zf.read("xl/worksheets/sheet1.xml")
    res = extract(path)  # the reader never materialises the million empty rows (below)
    _same_as_xlsx(res, form, lay, info)
    wb = open_workbook(path, 2**28, 2**30)
    assert wb.sheets[0].grid.height < 20
