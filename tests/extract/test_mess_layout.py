"""forms.md items 1, 3, 4, 6, 7, 8 for every form: header on any row (0–6 title lines), one
or two header rows with merged parents and duplicate child labels, column-number rows,
totals (合计, 总计, 全县合计, 全县) on top and at the bottom, 小计 subtotals, blank rows,
hidden rows (loaded, warned), merged and blank township cells (filled down; warned when
not merged), footer lines, extra and renamed sheets, hidden and very-hidden sheets (not
loaded, named). Every test asserts the exact loaded values."""

from __future__ import annotations

import pytest

from schemas import FORMS
from tests.builders.marks import slow_except
from tests.builders.mess import (
    COUNTY,
    FILE_NAME,
    PERIOD,
    Layout,
    Sheet,
    errors,
    expected,
    extract,
    loaded,
    records,
    to_shared_strings,
    warnings,
    write_xlsx,
)

ALL = list(FORMS)


def _ok(res, form, layout, sheet=None):
    assert res.status == "loaded", res.message
    assert (res.county_code, res.period) == (COUNTY, PERIOD)
    assert not errors(res), [f.message for f in errors(res)]
    sr = res.forms[form]
    assert sr.sheet == (sheet or layout.sheet.name)
    assert sr.header_rows == layout.header_rows
    assert loaded(res, form) == expected(layout)
    assert sr.rows_read == len(layout.recs) and not sr.quarantine
    assert not warnings(res, "total_mismatch"), [f.message for f in warnings(res)]


@pytest.mark.parametrize("form", ALL)
@pytest.mark.parametrize("titles", [0, 3, 6])
def test_plain_any_title_lines_total_bottom(tmp_path, form, titles):
    lay = Layout(form, title_lines=titles)
    recs = records(form, 4, seed=titles)
    for r in recs:
        lay.add(r)
    lay.total("合计", recs)
    lay.footer()
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    _ok(res, form, lay)
    assert lay.header_rows[0] == titles + 2
    assert not res.findings, [f.message for f in res.findings]


@pytest.mark.parametrize("form", ALL)
def test_two_row_header_jiayi_total_on_top_blank_rows(tmp_path, form):
    """Merged parents over duplicate child labels (户数/人数 under 期初/本期/期末), the
    `甲 乙 1 2 3` row, 全县合计 on top, blank rows between data rows, footer lines."""
    lay = Layout(form, title_lines=6, two_rows=True, colnum="jiayi")
    recs = records(form, 5, seed=1)
    lay.total("全县合计", recs)
    for i, r in enumerate(recs):
        lay.add(r)
        if i % 2 == 0:
            lay.blank()
    lay.blank()
    lay.footer()
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    _ok(res, form, lay)
    assert len(lay.header_rows) == 2
    assert not res.findings, [f.message for f in res.findings]


@pytest.mark.parametrize("form", ALL)
def test_digit_colnum_subtotals_and_grand_total(tmp_path, form):
    """`1 2 3` column numbers, a 小计 after each township's rows (labelled with the
    township), 总计 at the bottom: all reconciled, none mismatched."""
    lay = Layout(form, title_lines=3, colnum="digits")
    recs = records(form, 6, seed=2)
    label = FORMS[form].label_columns[0]
    for k in range(0, 6, 2):
        group = recs[k : k + 2]
        for r in group:
            lay.add(r)
        lay.total(f"{group[0].values['township']}小计", group, at=label)
    lay.total("总计", recs)
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    _ok(res, form, lay)
    assert not res.findings, [f.message for f in res.findings]


@pytest.mark.parametrize("form", ALL)
def test_merged_and_blank_townships_hidden_rows_extra_sheets(tmp_path, form):
    """Merged township cells fill down silently; a blank (unmerged) one fills down with a
    warning naming the row; a hidden row loads with a warning; 全县 at the bottom; a
    renamed form sheet among extra sheets; hidden and very-hidden copies not loaded."""
    lay = Layout(form, name="Sheet3", title_lines=2)
    recs = records(form, 6, seed=3)
    rows = [lay.add(r, hidden=(i == 4)) for i, r in enumerate(recs)]
    lay.merge_townships(rows[0], rows[1])  # 屏山街道 ×2, merged
    lay.set(rows[3], "township", None)  # 转龙镇 typed once, left blank below
    lay.total("全县", recs)
    hidden = Layout(form, name="旧表", title_lines=1)
    very = Layout(form, name="备份", title_lines=1)
    for r in records(form, 2, seed=9):
        hidden.add(r)
        very.add(r)
    hidden.sheet.state, very.sheet.state = "hidden", "veryHidden"
    sheets = [
        Sheet("填表说明", [["填表说明：请按乡（镇）逐行填写"], ["单位：户、人"]]),
        lay.sheet,
        Sheet("Sheet1"),
        hidden.sheet,
        very.sheet,
    ]
    res = extract(write_xlsx(tmp_path / FILE_NAME, sheets))
    _ok(res, form, lay, sheet="Sheet3")
    got = sorted((f.rule, f.sheet, f.excel_row) for f in res.findings)
    assert got == sorted(
        [
            ("township_filled_down", "Sheet3", rows[3]),
            ("hidden_row", "Sheet3", rows[4]),
            ("hidden_sheet", "旧表", None),
            ("hidden_sheet", "备份", None),
        ]
    ), [f.message for f in res.findings]
    fill = warnings(res, "township_filled_down")[0]
    town_ref = f"{lay.letter('township')}{rows[3]}"
    assert fill.cell_ref == town_ref
    assert f"Sheet3!{town_ref}" in fill.message and "转龙镇" in fill.message
    hid = warnings(res, "hidden_row")[0]
    assert f"Sheet3 第{rows[4]}行" in hid.message and "隐藏" in hid.message
    assert f"Sheet3 row {rows[4]}" in hid.message_en and "hidden" in hid.message_en
    assert {f.sheet for f in warnings(res, "hidden_sheet")} == {"旧表", "备份"}
    assert res.hidden_sheets == ["旧表", "备份"]
    assert list(res.forms) == [form]


@pytest.mark.parametrize("form", ALL)
def test_hidden_columns_load_with_one_warning(tmp_path, form):
    lay = Layout(form, title_lines=1)
    recs = records(form, 3, seed=4)
    for r in recs:
        lay.add(r)
    name = FORMS[form].columns[-1].name
    lay.sheet.hidden_cols.append(lay.letter(name))
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    _ok(res, form, lay)
    (w,) = res.findings
    assert w.rule == "hidden_columns" and w.cell_ref == f"{lay.letter(name)}{lay.header_rows[-1]}"


@pytest.mark.parametrize("form", ALL)
def test_first_township_blank_is_quarantined(tmp_path, form):
    """Nothing above to fill from: the row is quarantined naming the township cell
    (relocation: township is optional there, the row loads with it empty)."""
    lay = Layout(form)
    recs = records(form, 2, seed=5)
    r1 = lay.add(recs[0], {"township": None})
    lay.add(recs[1])
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert res.status == "loaded"
    sr = res.forms[form]
    if FORMS[form].col("township").row_required:
        assert [q["excel_row"] for q in sr.quarantine] == [r1]
        (e,) = errors(res)
        assert e.cell_ref == f"{lay.letter('township')}{r1}" and "必填" in e.message
    else:
        assert loaded(res, form)[r1]["township"] is None


HEADER_VARIANTS = {
    "as_is": lambda h: h,
    "line_break": lambda h: h[:2] + "\n" + h[2:],
    "spaces": lambda h: " " + h[:1] + " " + h[1:] + " ",
    "half_width_brackets": lambda h: h.replace("（", "(").replace("）", ")"),
    "full_width_brackets": lambda h: h.replace("(", "（").replace(")", "）"),
    "unit": lambda h: h + "（户）",
    "numbering": lambda h: "1." + h,
    "numbering_cn": lambda h: "（2）" + h,
    "qizhong": lambda h: "其中：" + h,
    "star": lambda h: h + "*",
    "ideographic_space": lambda h: h[:1] + "\u3000" + h[1:],
}


@pytest.mark.parametrize("form", slow_except(ALL, lambda f: f == "population"))
@pytest.mark.parametrize("variant", list(HEADER_VARIANTS))
def test_header_text_variants(tmp_path, form, variant):
    """forms.md item 2 for every form: spaces and line breaks inside headers, either
    bracket width, units, `其中：`, numbering prefixes, a trailing `*` — on every header
    cell (merged parents included)."""
    lay = Layout(form, title_lines=1 + len(variant) % 3)
    recs = records(form, 2, seed=6)
    for r in recs:
        lay.add(r)
    fn = HEADER_VARIANTS[variant]
    for hr in lay.header_rows:
        row = lay.sheet.rows[hr - 1]
        lay.sheet.rows[hr - 1] = [fn(v) if isinstance(v, str) else v for v in row]
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert res.status == "loaded", res.message
    assert not errors(res), [f.message for f in errors(res)]
    assert res.forms[form].header_rows == lay.header_rows
    assert loaded(res, form) == expected(lay)


@pytest.mark.parametrize("form", ALL)
def test_excel_shape_shared_strings(tmp_path, form):
    """The same mess in Excel's own shape (a shared-string table instead of openpyxl's
    inline strings): merged and blank townships, hidden rows, subtotals, totals."""
    lay = Layout(form, title_lines=2, colnum="jiayi")
    recs = records(form, 4, seed=7)
    label = FORMS[form].label_columns[0]
    rows = [lay.add(r) for r in recs[:2]]
    lay.total("小计", recs[:2], at=label)
    rows += [lay.add(recs[2]), lay.add(recs[3], hidden=True)]
    lay.total("小计", recs[2:], at=label)
    lay.total("合计", recs)
    lay.merge_townships(rows[0], rows[1])
    path = to_shared_strings(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    res = extract(path)
    _ok(res, form, lay)
    assert [(f.rule, f.excel_row) for f in res.findings] == [("hidden_row", rows[3])]
