"""Reported totals (forms.md item 4, issue 3 item 4) for every form with counts: each
合计/总计/全县合计/全县 and 小计 row is compared with the rows it covers — totals on top
or at the bottom, subtotals after or on top of their group, subtotals naming their
township; a difference is one warning on the total's cell with the reported and the
computed sums; a quarantined covered row or a total made of formulas without values is
"not checked". The mismatches are counted in marts.data_quality."""

from __future__ import annotations

import duckdb
import pytest

from schemas import FORMS
from tests.builders.mess import (
    BIG,
    FILE_NAME,
    Layout,
    build_one,
    errors,
    extract,
    records,
    warnings,
    write_xlsx,
)

WITH_COUNTS = [f for f in FORMS if BIG[f]]


def _mismatches(res):
    return [(f.excel_row, f.cell_ref) for f in warnings(res, "total_mismatch")]


@pytest.mark.parametrize("form", WITH_COUNTS)
@pytest.mark.parametrize("label", ["合计", "总计", "全县合计", "全县"])
def test_wrong_bottom_total_is_one_warning(tmp_path, form, label):
    col = BIG[form]
    lay = Layout(form)
    recs = records(form, 4, seed=21)
    for r in recs:
        lay.add(r)
    t = lay.total(label, recs, wrong={col: 7})
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res)
    ref = f"{lay.letter(col)}{t}"
    assert _mismatches(res) == [(t, ref)]
    (w,) = warnings(res, "total_mismatch")
    computed = sum(r.values[col] for r in recs)
    assert w.column_header == lay.written[col] and w.cell_text == str(computed + 7)
    assert f"{lay.sheet.name}!{ref}" in w.message
    assert f"报告数 {computed + 7} 与明细行合计 {computed} 不符（差 7）" in w.message
    assert f"reported {computed + 7} but the rows it covers sum to {computed}" in w.message_en
    assert label in w.message


@pytest.mark.parametrize("form", WITH_COUNTS)
@pytest.mark.parametrize("on_top", [False, True])
def test_subtotal_groups_and_total_on_top(tmp_path, form, on_top):
    """Three groups with a plain 小计 each (after, or on top of, its rows) and 全县合计 on
    top: only the wrong subtotal and the wrong total are reported, each once."""
    col = BIG[form]
    lay = Layout(form, colnum="jiayi")
    recs = records(form, 6, seed=22)
    label = FORMS[form].label_columns[0]
    top = lay.total("全县合计", recs, wrong={col: -3})
    subs = []
    for k in range(3):
        group = recs[2 * k : 2 * k + 2]
        if on_top:
            subs.append(lay.total("小计", group, at=label, wrong={col: 5} if k == 1 else None))
        for r in group:
            lay.add(r)
        if not on_top:
            subs.append(lay.total("小计", group, at=label, wrong={col: 5} if k == 1 else None))
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res)
    letter = lay.letter(col)
    assert sorted(_mismatches(res)) == sorted(
        [(top, f"{letter}{top}"), (subs[1], f"{letter}{subs[1]}")]
    ), [f.message for f in res.findings]
    group = sum(r.values[col] for r in recs[2:4])
    (w,) = [f for f in warnings(res, "total_mismatch") if f.excel_row == subs[1]]
    assert f"报告数 {group + 5} 与明细行合计 {group}" in w.message


@pytest.mark.parametrize("form", WITH_COUNTS)
def test_subtotal_naming_its_township_covers_that_township(tmp_path, form):
    """`转龙镇小计` covers the 转龙镇 rows wherever they are (here: rows of two townships
    interleaved, so position alone would be wrong)."""
    lay = Layout(form)
    recs = records(form, 4, seed=23, towns=["屏山街道", "转龙镇"])
    order = [recs[0], recs[2], recs[1], recs[3]]  # 屏山, 转龙, 屏山, 转龙
    for r in order:
        lay.add(r)
    label = FORMS[form].label_columns[0]
    town = recs[2].values["township"]
    lay.total(f"{town}小计", [r for r in recs if r.values["township"] == town], at=label)
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res) and not _mismatches(res), [f.message for f in res.findings]


@pytest.mark.parametrize("form", WITH_COUNTS)
def test_quarantined_covered_row_means_not_checked(tmp_path, form):
    col = BIG[form]
    lay = Layout(form)
    recs = records(form, 4, seed=24)
    label = FORMS[form].label_columns[0]
    rows = []
    subs = []
    for k in range(2):
        group = recs[2 * k : 2 * k + 2]
        for r in group:
            rows.append(lay.add(r))
        subs.append(lay.total("小计", group, at=label, wrong={col: 1}))
    total = lay.total("合计", recs, wrong={col: 1})
    lay.set(rows[0], col, "12O")
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert [f.excel_row for f in errors(res)] == [rows[0]]
    nc = sorted(f.excel_row for f in warnings(res, "total_not_checked"))
    assert nc == sorted([subs[0], total])
    f = next(f for f in warnings(res, "total_not_checked") if f.excel_row == total)
    assert f.cell_ref is None and f"第{total}行" in f.message and "未核对" in f.message
    assert "not checked" in f.message_en
    # the other group is still checked, and its wrong subtotal reported
    letter = lay.letter(col)
    assert _mismatches(res) == [(subs[1], f"{letter}{subs[1]}")]


@pytest.mark.parametrize("form", WITH_COUNTS)
def test_total_made_of_formulas_is_not_checked(tmp_path, form):
    lay = Layout(form)
    recs = records(form, 3, seed=25)
    for r in recs:
        lay.add(r)
    t = lay.total("合计", recs, formulas=True)
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res) and not _mismatches(res)
    (w,) = warnings(res, "total_not_checked")
    numeric = [c.name for c in FORMS[form].columns if c.kind in ("count", "money")]
    assert w.excel_row == t
    assert w.cell_ref == ",".join(f"{lay.letter(n)}{t}" for n in numeric)
    assert "公式" in w.message and "保存" in w.message and "formulas" in w.message_en


def test_money_total_in_the_sheet_unit(tmp_path):
    lay = Layout("medical")
    recs = records("medical", 3, seed=26)
    for r in recs:
        lay.add(r)
    t = lay.total("合计", recs, wrong={"inpatient_expense": 0.01})
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    (w,) = warnings(res, "total_mismatch")
    assert w.cell_ref == f"{lay.letter('inpatient_expense')}{t}"
    assert "（差 0.01万元）" in w.message and "difference 0.01万元" in w.message_en


@pytest.mark.slow
def test_data_quality_counts_total_mismatches(tmp_path):
    """Two wrong totals in one county's workbook -> marts.data_quality.total_mismatches = 2."""
    sheets = []
    for form in ("population", "housing"):
        col = BIG[form]
        lay = Layout(form)
        recs = records(form, 3, seed=27)
        for r in recs:
            lay.add(r)
        lay.total("合计", recs, wrong={col: 2})
        sheets.append(lay.sheet)
    path = write_xlsx(tmp_path / "raw" / FILE_NAME, sheets)
    res = extract(path)
    assert len(_mismatches(res)) == 2
    build_one(path, res, tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        got = con.execute(
            "SELECT total_mismatches, rows_loaded FROM marts.data_quality "
            "WHERE county_code = '530128' AND period = '2019-12'"
        ).fetchall()
        n = con.execute(
            "SELECT count(*) FROM quarantine.findings WHERE rule = 'total_mismatch'"
        ).fetchone()[0]
    finally:
        con.close()
    assert got == [(2, 6)] and n == 2
