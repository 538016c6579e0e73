"""Blank county workbooks (`tpa template`): the standard headers, the cover line filled
in, and Excel data validation so counties start from the right shape."""

from __future__ import annotations

import calendar
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.refdata import counties
from schemas import FORMS
from schemas.columns import Form
from schemas.housing import GROUPS

DATA_ROWS = 200  # rows prepared with validation below the header


def _cover(name: str, period: str) -> str:
    y, m = (int(x) for x in period.split("-"))
    day = calendar.monthrange(y, m)[1]
    return f"填报单位：{name}（盖章）    统计截止时间：{y}年{m}月{day}日    单位：户、人"


def _header(ws, form: Form) -> int:
    """Write the header from row 3; return the first data row."""
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if form.code == "housing":
        ws.cell(row=3, column=1, value="乡（镇）")
        ws.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
        col = 2
        for _group, (parent, _aliases) in GROUPS.items():
            ws.cell(row=3, column=col, value=parent)
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 1)
            ws.cell(row=4, column=col, value="任务数")
            ws.cell(row=4, column=col + 1, value="竣工数")
            col += 2
        rows = (3, 4)
    else:
        for j, c in enumerate(form.columns, start=1):
            unit = "（万元）" if c.kind == "money" else ("（%）" if c.kind == "percent" else "")
            ws.cell(row=3, column=j, value=c.header_zh + unit)
        rows = (3,)
    for r in rows:
        for cell in ws[r]:
            cell.font, cell.alignment = bold, center
    return rows[-1] + 1


def _validations(ws, form: Form, first: int) -> None:
    last = first + DATA_ROWS - 1
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           error="请填写不小于0的整数", errorTitle="数值不对")  # fmt: skip
    money = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           error="请填写不小于0的金额（万元）", errorTitle="数值不对")  # fmt: skip
    yesno = DataValidation(
        type="list", formula1='"是,否"', allow_blank=True, error="请选择 是 或 否"
    )
    for dv in (whole, money, yesno):
        ws.add_data_validation(dv)
    cols = list(form.columns)
    if form.code == "housing":
        letters = [openpyxl.utils.get_column_letter(j) for j in range(2, 12)]
        whole.add(f"{letters[0]}{first}:{letters[-1]}{last}")
        return
    for j, c in enumerate(cols, start=1):
        rng = f"{openpyxl.utils.get_column_letter(j)}{first}:{openpyxl.utils.get_column_letter(j)}{last}"
        if c.kind in ("count", "year"):
            whole.add(rng)
        elif c.kind in ("money", "yuan"):
            money.add(rng)
        elif c.kind == "bool":
            yesno.add(rng)
        elif c.kind == "enum":
            dv = DataValidation(
                type="list", formula1='"' + ",".join(c.choices) + '"', allow_blank=True
            )
            ws.add_data_validation(dv)
            dv.add(rng)


def write_template(
    out: Path, county_code: str, period: str, forms: list[str] | None = None
) -> Path:
    """Write the blank workbook for ``forms`` (default: all nine) to ``out``.

    Raises ``KeyError`` for an unknown county code or form.
    """
    df = counties()
    hit = df[df["county_code"] == county_code]
    if hit.empty:
        raise KeyError(f"unknown county code {county_code}")
    name = hit["county_name_zh"].iloc[0]
    datetime.strptime(period, "%Y-%m")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for code in forms or list(FORMS):
        form = FORMS[code]
        ws = wb.create_sheet(form.table_no)
        ws.cell(row=1, column=1, value=f"{form.table_no} {form.title_zh}").font = Font(
            bold=True, size=14
        )
        ws.cell(row=2, column=1, value=_cover(name, period))
        first = _header(ws, form)
        _validations(ws, form, first)
        ws.freeze_panes = ws.cell(row=first, column=2)
        for j in range(1, 20):
            ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width = 14
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
