"""Issue 12, items 1, 2 and 4: the examples of the issue, each with its exact loaded values
or its exact findings (cell, header text, message content).

- a header written with curly quotes (有“云岭先锋”综合服务站) is the service-station column;
- a standard column whose header cell is blank, or whose header is not recognised, is
  warned about at its header cell, and the missing column names the indicators it costs
  (total_population: poverty_incidence, poverty_villages_remaining); marts.data_quality
  counts both; 序号 and 备注 columns are only counted;
- a copied column pair (two columns on one standard column) rejects the sheet naming the
  header text and both column letters.
"""

from __future__ import annotations

import duckdb
import pytest

from tests.builders.mess import (
    FILE_NAME,
    Layout,
    build_one,
    errors,
    expected,
    extract,
    loaded,
    records,
    warnings,
    write_xlsx,
)


def _header_row(lay: Layout) -> list:
    return lay.sheet.rows[lay.header_rows[-1] - 1]


def test_curly_quotes_in_a_header(tmp_path):
    lay = Layout("infrastructure")
    _header_row(lay)[lay.col("service_station")] = "有“云岭先锋”综合服务站"
    for rec in records("infrastructure", 4, seed=3):
        lay.add(rec)
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert res.status == "loaded" and not res.findings, [f.message for f in res.findings]
    got = loaded(res, "infrastructure")
    assert got == expected(lay)
    assert [got[r]["service_station"] for r in lay.rows_of] == [
        rec.values["service_station"] for rec in lay.recs
    ]


def _population(tmp_path, header_text, extra=None):
    """A population sheet whose 总人口 header is ``header_text``; ``extra``: columns appended
    at the right as (header, value for each row)."""
    lay = Layout("population")
    row = _header_row(lay)
    row[lay.col("total_population")] = header_text
    for h, _ in extra or []:
        row.append(h)
    for i, rec in enumerate(records("population", 3, seed=5)):
        r = lay.add(rec)
        for _, values in extra or []:
            lay.sheet.rows[r - 1].append(values[i])
    return lay, extract(write_xlsx(tmp_path / "raw" / FILE_NAME, [lay.sheet]))


def _without_total_population(lay):
    out = expected(lay)
    for values in out.values():
        values["total_population"] = None
    return out


def test_blank_standard_header_is_not_silent(tmp_path):
    lay, res = _population(tmp_path, None)
    assert res.status == "loaded" and not errors(res)
    assert loaded(res, "population") == _without_total_population(lay)
    hr = lay.header_rows[0]
    (nr,) = warnings(res, "column_not_read")
    assert (nr.excel_row, nr.cell_ref, nr.column_header) == (hr, f"F{hr}", None)
    assert "此列有数据但表头为空，未读取" in nr.message and "not read" in nr.message_en
    (miss,) = warnings(res, "column_missing")
    assert (miss.excel_row, miss.cell_ref, miss.column_header) == (None, None, "总人口")
    assert "本表没有“总人口”列" in miss.message
    assert "贫困发生率（poverty_incidence）" in miss.message
    assert "（poverty_villages_remaining）" in miss.message
    assert "poverty_incidence, poverty_villages_remaining cannot be computed" in miss.message_en
    assert len(res.findings) == 2


def test_unrecognised_header_named_with_the_column_it_resembles(tmp_path):
    lay, res = _population(tmp_path, "人口总数", extra=[("联系人", ["甲", "乙", "丙"])])
    assert loaded(res, "population") == _without_total_population(lay)
    hr = lay.header_rows[0]
    like, other = warnings(res, "column_not_read")
    assert (like.excel_row, like.cell_ref, like.column_header) == (hr, f"F{hr}", "人口总数")
    assert "此列“人口总数”不是本表的标准列，未读取；看起来像“总人口”" in like.message
    assert "looks like total_population ('总人口')" in like.message_en
    assert (other.cell_ref, other.column_header) == (f"N{hr}", "联系人")
    assert "看起来像" not in other.message and "looks like" not in other.message_en
    assert len(warnings(res, "column_missing")) == 1


def test_serial_number_and_remarks_are_only_counted(tmp_path):
    lay, res = _population(
        tmp_path, "总人口", extra=[("序号", [1, 2, 3]), ("备 注", ["", "新建", "合并"])]
    )
    assert res.status == "loaded" and not res.findings, [f.message for f in res.findings]
    assert loaded(res, "population") == expected(lay)
    assert res.forms["population"].columns_not_data == ["序号", "备 注"]


def test_empty_unknown_column_is_no_finding(tmp_path):
    """A labelled column without any value holds no data: nothing is lost."""
    lay, res = _population(tmp_path, "总人口", extra=[("联系人", [None, None, None])])
    assert not res.findings and loaded(res, "population") == expected(lay)


@pytest.mark.slow
def test_data_quality_counts_columns_not_read_and_missing(tmp_path):
    _, res = _population(tmp_path, "人口总数", extra=[("联系人", ["甲", "乙", "丙"])])
    path = tmp_path / "raw" / FILE_NAME
    build_one(path, res, tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        got = con.execute(
            "SELECT columns_not_read, columns_missing, warnings, rows_loaded "
            "FROM marts.data_quality WHERE county_code = '530128' AND period = '2019-12'"
        ).fetchall()
        other = con.execute(
            "SELECT sum(columns_not_read), sum(columns_missing) FROM marts.data_quality "
            "WHERE county_code <> '530128'"
        ).fetchall()
    finally:
        con.close()
    assert got == [(2, 1, 3, 3)]
    assert other == [(0, 0)]


def test_copied_column_pair_rejects_the_sheet(tmp_path):
    """Housing: the 建档立卡贫困户 pair copied to L:M; the sheet is rejected, every data row
    quarantined, the message names the header and both letters of each column."""
    lay = Layout("housing")
    top = lay.header_rows[0]
    b, c = lay.col("registered_planned"), lay.col("registered_completed")
    for r in (top, top + 1):
        row = lay.sheet.rows[r - 1]
        row += [row[b], row[c]]
    lay.sheet.merges.append(f"L{top}:M{top}")
    for rec in records("housing", 3, seed=8):
        r = lay.add(rec)
        row = lay.sheet.rows[r - 1]
        row += [row[b], row[c]]
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    sr = res.forms["housing"]
    assert res.status == "loaded" and sr.rejected
    assert sr.rows_read == 3 and sr.rows_quarantined == 3 and sr.rows_loaded == 0
    assert [q["excel_row"] for q in sr.quarantine] == lay.rows_of
    (err,) = errors(res)
    assert err.rule == "sheet_rejected" and err.excel_row is None and err.cell_ref is None
    assert (
        "多列表头都对应“建档立卡贫困户/任务数”：B列“建档立卡贫困户/任务数”、"
        "L列“建档立卡贫困户/任务数”，请只保留一列" in err.message
    )
    assert "C列“建档立卡贫困户/竣工数”、M列“建档立卡贫困户/竣工数”" in err.message
    assert (
        "several columns map to registered_planned: column B '建档立卡贫困户/任务数', "
        "column L '建档立卡贫困户/任务数'" in err.message_en
    )
    assert not warnings(res, "column_not_read")


def test_formula_in_the_sheets_own_poverty_incidence(tmp_path):
    """Issue 12 item 5: 贫困发生率 as a formula saved without a result (tpa recomputes it)
    no longer quarantines the row: it loads as NULL with a warning naming the cell and
    the formula; a formula in a required column still quarantines its row, whose
    quarantine record keeps the formula as text; every writer keeps it as text."""
    import json

    import openpyxl

    from pipeline.outputs.export import neutralise
    from pipeline.outputs.feedback import write_feedback
    from tests.builders.mess import F

    lay = Layout("population")
    recs = records("population", 3, seed=9)
    rows = [lay.add(rec) for rec in recs]
    pct, rem, tot = (lay.letter(n) for n in
                     ("poverty_incidence", "remaining_persons", "total_population"))  # fmt: skip
    formula = f"={rem}{rows[0]}/{tot}{rows[0]}*100"
    lay.set(rows[0], "poverty_incidence", F(formula))
    village = f'="新村"&{lay.letter("township")}{rows[2]}'
    lay.set(rows[2], "village", F(village))
    path = write_xlsx(tmp_path / FILE_NAME, [lay.sheet])
    res = extract(path)
    want = expected(lay)
    want[rows[0]]["poverty_incidence"] = None
    del want[rows[2]]
    assert loaded(res, "population") == want
    (w,) = warnings(res, "formula_without_value")
    assert (w.excel_row, w.cell_ref, w.column_header, w.cell_text) == (
        rows[0],
        f"{pct}{rows[0]}",
        "贫困发生率（%）",
        formula,
    )
    assert f"此格是公式“{formula}”，但文件中没有保存计算结果，已按空值读取" in w.message
    (e,) = errors(res)
    assert (e.rule, e.cell_ref, e.cell_text) == (
        "formula_without_value",
        f"{lay.letter('village')}{rows[2]}",
        village,
    )
    (q,) = res.forms["population"].quarantine
    assert q["excel_row"] == rows[2] and json.loads(q["cells"])["行政村"] == village
    assert neutralise(formula) == "'" + formula
    out = write_feedback(path, res.findings, tmp_path / "fb")
    ws = openpyxl.load_workbook(out)["检查结果"]
    texts = {ws.cell(i, 3).value: ws.cell(i, 6) for i in range(2, ws.max_row + 1)}
    for ref, text in ((w.cell_ref, formula), (e.cell_ref, village)):
        assert texts[ref].value == text and texts[ref].data_type == "s"
