"""`tpa check --feedback`: offending cells highlighted and commented, a summary sheet first,
and no clerk text ever turned into a live formula (case 19 and generated variants)."""

from __future__ import annotations

import subprocess
import sys

import openpyxl
import pytest

from pipeline.extract.findings import Finding
from pipeline.outputs.feedback import write_feedback, write_text
from tests.builders.paths import ROOT

DANGEROUS = [
    "=1+1",
    '=HYPERLINK("http://example.invalid/x","点击查看")',
    "+86 871 6000",
    "-5",
    "@SUM(1,1)",
    "\t=2",
]


def _finding(sheet, ref, text, sev="error"):
    return Finding("x", "f.xlsx", "population", sheet, int(ref[1:]), ref, "总人口", text, "not_a_number", sev,
                   f"f.xlsx {sheet}!{ref}「总人口」原文“{text}”：不是有效的数字", "not a number")  # fmt: skip


def test_write_text_never_formula(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, t in enumerate(DANGEROUS, start=1):
        write_text(ws.cell(row=i, column=1), t)
    write_text(ws.cell(row=1, column=2), 12.5)
    wb.save(tmp_path / "t.xlsx")
    back = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    for i, t in enumerate(DANGEROUS, start=1):
        assert back.cell(row=i, column=1).data_type == "s"
        assert back.cell(row=i, column=1).value == t
    assert back.cell(row=1, column=2).data_type == "n"  # numbers stay numbers


def test_feedback_marks_cells(tmp_path):
    src = tmp_path / "530129_寻甸回族彝族自治县_2019-12.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表1"
    ws["F4"] = "12O"
    ws["B4"] = "=1+1"
    ws["B4"].data_type = "s"
    wb.save(src)
    out = write_feedback(
        src,
        [_finding("表1", "F4", "12O"), _finding("表1", "B4", "=1+1", "warning")],
        tmp_path / "fb",
    )
    back = openpyxl.load_workbook(out)
    assert back.sheetnames[0] == "检查结果"
    cell = back["表1"]["F4"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "不是有效的数字" in cell.comment.text
    assert back["表1"]["B4"].data_type == "s" and back["表1"]["B4"].value == "=1+1"
    summary = back["检查结果"]
    texts = [summary.cell(row=r, column=6) for r in (2, 3)]
    assert [c.value for c in texts] == ["12O", "=1+1"]
    assert all(c.data_type == "s" for c in texts)


@pytest.mark.slow
def test_case19_feedback_from_check(cases_dir, tmp_path):
    """`tpa check --feedback` on case 19: clerk strings come back as text, exactly."""
    import json

    case = cases_dir / "19_formula_injection_in_feedback"
    exp = json.loads((case / "expected.json").read_text(encoding="utf-8"))["files"][0]
    src = case / exp["file"]
    p = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(src), "--feedback", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert p.returncode == 1, p.stdout + p.stderr  # the case has errors
    (out,) = tmp_path.glob("*.xlsx")
    wb = openpyxl.load_workbook(out)
    seen = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    seen.setdefault(c.value, c.data_type)
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    for text in exp["feedback_workbook"]["must_contain_as_text"]:
        assert any(text == v or text in v for v in seen), text
    for text in exp["feedback_workbook"]["must_contain_as_text"]:
        if text in seen:
            assert seen[text] == "s"


def _sheet_workbook(path):
    """表1 with a title (row 1), headers (row 3), column numbers (row 4), data (5-6)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表1"
    ws["A1"] = "表1 建档立卡贫困人口情况"
    headers = ["乡（镇）", "行政村", "是否贫困村", "总户数（户）", "建档立卡贫困人口数（人）"]
    for j, h in enumerate(headers, start=1):
        ws.cell(row=3, column=j, value=h)
        ws.cell(row=4, column=j, value=j)
        ws.cell(row=5, column=j, value="甲" if j < 4 else 10)
        ws.cell(row=6, column=j, value="乙" if j < 4 else 12)
    wb.save(path)


ERROR_RGB, WARNING_RGB = "FFC7CE", "FFEB9C"


def _rgb(cell) -> str | None:
    return cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type == "solid" else None


def test_error_colour_wins_over_warning_in_any_order(tmp_path):
    src = tmp_path / "530129_寻甸回族彝族自治县_2019-12.xlsx"
    _sheet_workbook(src)
    error = _finding("表1", "D5", "x")
    warning = Finding("x", "f.xlsx", "population", "表1", 5, "D5,E5", "总户数", None,
                      "total_mismatch", "warning", "合计与明细不符", "total differs")  # fmt: skip
    for i, order in enumerate(([error, warning], [warning, error])):
        back = openpyxl.load_workbook(write_feedback(src, order, tmp_path / f"fb{i}"))["表1"]
        assert _rgb(back["D5"]) == ERROR_RGB, order  # the error's colour, never overwritten
        assert _rgb(back["E5"]) == WARNING_RGB  # only the warning names E5
        assert "不是有效的数字" in back["D5"].comment.text
        assert "合计与明细不符" in back["D5"].comment.text  # both messages kept


def test_rejected_sheet_marked_on_its_header_row(tmp_path):
    src = tmp_path / "530129_寻甸回族彝族自治县_2019-12.xlsx"
    _sheet_workbook(src)
    reason = "缺少必需的列：总人口。本表找到的表头：乡（镇）、行政村"
    rejected = Finding("x", "f.xlsx", "population", "表1", None, None, None, None,
                       "sheet_rejected", "error", reason, "required columns not found")  # fmt: skip
    back = openpyxl.load_workbook(write_feedback(src, [rejected], tmp_path / "fb"))
    ws = back["表1"]
    assert [_rgb(ws.cell(row=3, column=j)) for j in range(1, 6)] == [ERROR_RGB] * 5
    assert reason in ws["A3"].comment.text
    # the title, the column numbers and the data rows are not marked
    assert _rgb(ws["A1"]) is None and ws["A1"].comment is None
    assert [_rgb(ws.cell(row=r, column=1)) for r in (4, 5, 6)] == [None, None, None]
    summary = back["检查结果"]
    assert summary.cell(row=2, column=7).value == reason
    en = openpyxl.load_workbook(write_feedback(src, [rejected], tmp_path / "en", lang="en"))
    assert "required columns not found" in en["表1"]["A3"].comment.text
