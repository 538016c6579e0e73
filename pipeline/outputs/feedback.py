"""Feedback workbooks for county clerks: a copy of their workbook with every offending
cell highlighted and commented, and a first sheet summarising the findings.

Text copied from a clerk's cells is always written as a string cell (never a live
formula: values starting with ``=``, ``+``, ``-``, ``@`` get ``quotePrefix``), and
the clerk's own cells keep the type they had in their file.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.extract.findings import Finding
from pipeline.extract.readers.workbook import sniff

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
SUMMARY_HEADERS = {
    "zh": ["严重程度", "工作表", "单元格", "行", "列标题", "原文", "问题及修改建议"],
    "en": [
        "severity",
        "sheet",
        "cell",
        "row",
        "column header",
        "original text",
        "problem and what to do",
    ],
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_RANK = {"error": 2, "warning": 1}  # an error's colour always wins on a cell [issue 12]
_HEADER_SEARCH_ROWS = 30


def write_text(cell, value) -> None:
    """Put ``value`` into ``cell``; strings always as text, never as a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True


def write_feedback(
    source: Path, findings: list[Finding], out_dir: Path, lang: str = "zh", copy: bool = True
) -> Path:
    """Write ``out_dir/<name>_反馈.xlsx`` (``_feedback`` in English); return its path.

    With ``copy`` (a workbook that was read) it is the clerk's workbook with every
    offending cell filled and commented, after a first summary sheet; without it (a
    rejected file: damaged, encrypted, over a limit — never opened again), or when
    openpyxl cannot open the source (``.xls``), it holds the summary sheet only.
    Raises ``OSError`` when the output cannot be written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    wb = None
    if copy and sniff(source) == "zip":  # by content: an xlsx named .xls is still copied
        try:
            with open(source, "rb") as fh:
                wb = openpyxl.load_workbook(
                    io.BytesIO(fh.read()), keep_vba=source.suffix.lower() == ".xlsm"
                )
        except Exception:
            wb = None
    if wb is None:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
    _mark_cells(wb, findings, lang)
    ws = wb.create_sheet("检查结果" if lang == "zh" else "findings", 0)
    for j, h in enumerate(SUMMARY_HEADERS[lang], start=1):
        c = ws.cell(row=1, column=j)
        write_text(c, h)
        c.font = Font(bold=True)
    for i, f in enumerate(findings, start=2):
        values = [
            f.severity,
            f.sheet,
            f.cell_ref,
            f.excel_row,
            f.column_header,
            f.cell_text,
            f.text(lang),
        ]
        for j, v in enumerate(values, start=1):
            write_text(ws.cell(row=i, column=j), v)
        ws.cell(row=i, column=1).fill = ERROR_FILL if f.severity == "error" else WARNING_FILL
    for col, width in zip("ABCDEFG", (10, 14, 10, 6, 22, 24, 80), strict=True):
        ws.column_dimensions[col].width = width
    wb.active = 0
    suffix = ".xlsm" if source.suffix.lower() == ".xlsm" and wb.vba_archive else ".xlsx"
    out = out_dir / f"{source.stem}_{'反馈' if lang == 'zh' else 'feedback'}{suffix}"
    wb.save(out)
    return out


def _annotate(cell, severity: str, note: str, marked: dict) -> None:
    """Fill ``cell`` for ``severity`` unless a graver finding already filled it, and add
    ``note`` to its comment. ``marked``: (sheet, coordinate) -> rank already applied."""
    key = (cell.parent.title, cell.coordinate)
    rank = _RANK.get(severity, 1)
    if rank >= marked.get(key, 0):
        cell.fill = ERROR_FILL if rank == 2 else WARNING_FILL
        marked[key] = rank
    if cell.comment is not None:
        note = cell.comment.text + "\n" + note
    cell.comment = Comment(note[:30000], "tpa")


def _mark_cells(wb, findings: list[Finding], lang: str) -> None:
    """Fill and comment every cell a finding names, whatever order the findings come in
    (error over warning); a finding about a whole sheet (no row, no cell: e.g. a sheet
    rejected for a missing required column) marks the sheet's header row."""
    marked: dict[tuple[str, str], int] = {}
    for f in findings:
        if not f.sheet or f.sheet not in wb.sheetnames:
            continue
        ws = wb[f.sheet]
        if f.cell_ref:
            cells = [ws[ref] for ref in f.cell_ref.split(",")]
        elif f.excel_row:  # a whole row (hidden, a total not checked): mark its first cell
            cells = [ws[f"A{f.excel_row}"]]
        else:
            _mark_header(ws, f, lang, marked)
            continue
        for cell in cells:
            _annotate(cell, f.severity, f.text(lang), marked)


def _mark_header(ws, f: Finding, lang: str, marked: dict) -> None:
    """Fill every labelled cell of the header row of ``ws`` for a whole-sheet finding and
    put its message on the row's first labelled cell (A1 when no header row is found)."""
    row = header_row(ws)
    if row is None:
        _annotate(ws["A1"], f.severity, f.text(lang), marked)
        return
    labelled = [
        c
        for c in range(1, (ws.max_column or 1) + 1)
        if ws.cell(row=row, column=c).value not in (None, "")
    ]
    for i, col in enumerate(labelled):
        cell = ws[f"{get_column_letter(col)}{row}"]
        if i == 0:
            _annotate(cell, f.severity, f.text(lang), marked)
        elif _RANK.get(f.severity, 1) >= marked.get((ws.title, cell.coordinate), 0):
            cell.fill = ERROR_FILL if f.severity == "error" else WARNING_FILL
            marked[(ws.title, cell.coordinate)] = _RANK.get(f.severity, 1)


def header_row(ws) -> int | None:
    """The 1-based header row of a worksheet: the row, among the first 30, with the most
    text cells (at least three; the first such row on a tie), or None. A title or a cover
    line has one or two text cells, the column-number row holds numbers; a header row
    names every column."""
    best, best_n = None, 2
    last = min(ws.max_row or 0, _HEADER_SEARCH_ROWS)
    for r in range(1, last + 1):
        n = sum(
            1
            for c in range(1, (ws.max_column or 0) + 1)
            if isinstance(ws.cell(row=r, column=c).value, str)
            and ws.cell(row=r, column=c).value.strip()
        )
        if n > best_n:
            best, best_n = r, n
    return best
