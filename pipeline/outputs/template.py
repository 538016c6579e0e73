"""Blank county workbooks (`tpa template`): the standard headers with each column's unit,
the cover line filled in with the sheet's units, and Excel data validation (error alerts
on) over the first 100,000 data rows, so counties start from the right shape; ID-number,
code and household-number columns are formatted as Text by a column style, so Excel keeps
an 18-digit ID or a leading zero as typed [issue 12]. Everything comes from the form's spec
(``schemas``): headers, parent groups, units, kinds and choices [issue 14]."""

from __future__ import annotations

import calendar
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.refdata import counties
from schemas import FORMS
from schemas.columns import Form

DATA_ROWS = 100_000  # rows prepared with validation below the header (a ledger is long)
TEXT_KINDS = ("code", "id_number")  # digits kept as typed: ID numbers, codes, household ids
TEXT_FORMAT = "@"


def column_unit(col) -> str:
    """The unit a column's header states (``Col.shown_unit``): the form's unit (户, 人,
    套, 万元, 元, …), ``%`` for a percent column, else ''."""
    return col.shown_unit


def sheet_units(form: Form) -> list[str]:
    """The units of a sheet's columns in column order, once each (``%`` left out: it is
    not a unit of measure): what the cover line's 单位 names."""
    return [u for u in form.units if u != "%"]


def _cover(name: str, period: str, units: list[str]) -> str:
    y, m = (int(x) for x in period.split("-"))
    day = calendar.monthrange(y, m)[1]
    line = f"填报单位：{name}（盖章）    统计截止时间：{y}年{m}月{day}日"
    return line + (f"    单位：{'、'.join(units)}" if units else "")


def _header_text(col) -> str:
    unit = column_unit(col)
    return col.header_zh + (f"（{unit}）" if unit else "")


def _header(ws, form: Form) -> int:
    """Write the header from row 3; return the first data row. Columns under a parent
    (``Col.parents``) get a second row: the parent merged over its group's columns, the
    other columns merged over both rows."""
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    groups = form.groups
    two = any(parent for parent, _ in groups)
    j = 1
    for parent, cols in groups:
        if not parent:
            ws.cell(row=3, column=j, value=_header_text(cols[0]))
            if two:
                ws.merge_cells(start_row=3, start_column=j, end_row=4, end_column=j)
        else:
            ws.cell(row=3, column=j, value=parent)
            if len(cols) > 1:
                ws.merge_cells(start_row=3, start_column=j, end_row=3, end_column=j + len(cols) - 1)
            for k, c in enumerate(cols):
                ws.cell(row=4, column=j + k, value=_header_text(c))
        j += len(cols)
    rows = (3, 4) if two else (3,)
    for r in rows:
        for cell in ws[r]:
            cell.font, cell.alignment = bold, center
    return rows[-1] + 1


def _dv(kind: str, **kw) -> DataValidation:
    """A validation that stops a wrong entry with an error alert (``showErrorMessage``)."""
    return DataValidation(type=kind, allow_blank=True, showErrorMessage=True,
                          errorStyle="stop", errorTitle="数值不对", **kw)  # fmt: skip


def _validations(ws, form: Form, first: int) -> None:
    """Data validation over the first ``DATA_ROWS`` data rows, one rule per kind of column:
    whole numbers ≥ 0, amounts ≥ 0 in the column's unit (万元 or 元), 是/否 and enum lists."""
    last = first + DATA_ROWS - 1
    ge0 = {"operator": "greaterThanOrEqual", "formula1": "0"}
    whole = _dv("whole", error="请填写不小于0的整数", **ge0)
    amounts = {
        "money": _dv("decimal", error="请填写不小于0的金额（万元）", **ge0),
        "yuan": _dv("decimal", error="请填写不小于0的金额（元）", **ge0),
    }
    yesno = _dv("list", formula1='"是,否"', error="请选择 是 或 否")
    for dv in (whole, *amounts.values(), yesno):
        ws.add_data_validation(dv)
    for j, c in enumerate(form.columns, start=1):
        rng = f"{get_column_letter(j)}{first}:{get_column_letter(j)}{last}"
        if c.kind in ("count", "year"):
            whole.add(rng)
        elif c.kind in amounts:
            amounts[c.kind].add(rng)
        elif c.kind == "bool":
            yesno.add(rng)
        elif c.kind == "enum":
            dv = _dv("list", formula1='"' + ",".join(c.choices) + '"',
                     error="请从下拉列表中选择：" + "、".join(c.choices))  # fmt: skip
            ws.add_data_validation(dv)
            dv.add(rng)


def _text_columns(ws, form: Form) -> None:
    """Format ID-number, code and household-number columns as Text (``@``) with a column
    style, so every cell typed there later is text (an 18-digit ID never becomes
    ``5.30621E+17``, a leading zero stays)."""
    for j, c in enumerate(form.columns, start=1):
        if c.kind in TEXT_KINDS:
            ws.column_dimensions[get_column_letter(j)].number_format = TEXT_FORMAT


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
        ws.cell(row=2, column=1, value=_cover(name, period, sheet_units(form)))
        first = _header(ws, form)
        _validations(ws, form, first)
        ws.freeze_panes = ws.cell(row=first, column=2)
        for j in range(1, 20):
            ws.column_dimensions[get_column_letter(j)].width = 14
        _text_columns(ws, form)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
