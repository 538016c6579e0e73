"""Issue 12, item 4: every way Excel shows a grouped header loads the same columns.

For every form (two-row headers of ``tests.builders.mess.GROUPS``; housing's own groups), each
layout is written with openpyxl (and, where the format can hold it, xlwt) and must load
exactly the generated values with no error and no column warning: parents merged over
their children; parents shown with Center Across Selection (alignment
``centerContinuous``, text in the left cell only, nothing merged); parents typed once in
the left cell with the cells to their right empty; ``parent`` + line break + ``child`` in
one cell of a one-row header; one-level headers in the upper row with the lower cell
empty and unmerged; and no merge at all.
"""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from openpyxl.styles import Alignment
from openpyxl.utils.cell import range_boundaries

from schemas import FORMS
from tests.builders.marks import slow_except
from tests.builders.mess import (
    FILE_NAME,
    Layout,
    errors,
    expected,
    extract,
    loaded,
    records,
    warnings,
    write_xls,
    write_xlsx,
)

STYLES = ["merged", "center_across", "typed_left", "one_cell", "upper_only", "no_merges"]


def _split_merges(lay: Layout) -> tuple[list[str], list[str]]:
    """The header's merges: (parents across the upper row, one-level labels down both)."""
    top = lay.header_rows[0]
    across, down = [], []
    for m in lay.sheet.merges:
        c0, r0, c1, r1 = range_boundaries(m)
        if r0 == r1 == top:
            across.append(m)
        elif r0 == top and r1 == top + 1:
            down.append(m)
    return across, down


def _one_cell(lay: Layout) -> None:
    """Turn the two header rows into one: ``parent\\nchild`` where a child is."""
    top = lay.header_rows[0]
    upper, lower = lay.sheet.rows[top - 1], lay.sheet.rows[top]
    row, parent = [], None
    for j in range(len(lay.cols)):
        if lower[j] is None:
            row.append(upper[j])
            continue
        parent = upper[j] if upper[j] is not None else parent
        row.append(f"{parent}\n{lower[j]}")
    lay.sheet.rows[top - 1 : top + 1] = [row]
    lay.sheet.merges = []
    lay.header_rows = [top]


def build(form: str, style: str) -> tuple[Layout, list[str]]:
    """A sheet of ``form`` in ``style``; returns it and the ranges to centre across."""
    lay = Layout(form, two_rows=True)
    across, down = _split_merges(lay)
    centre: list[str] = []
    if style == "one_cell":
        _one_cell(lay)
    elif style != "merged":
        drop = set()
        if style in ("center_across", "typed_left", "no_merges"):
            drop |= set(across)
        if style in ("upper_only", "no_merges", "center_across"):
            drop |= set(down)
        lay.sheet.merges = [m for m in lay.sheet.merges if m not in drop]
        if style == "center_across":
            centre = across
    for rec in records(form, 4, seed=12):
        lay.add(rec)
    return lay, centre


def write(lay: Layout, centre: list[str], path, fmt: str):
    if fmt == "xls":
        return write_xls(path.with_suffix(".xls"), [lay.sheet])
    path = write_xlsx(path, [lay.sheet])
    if centre:
        wb = openpyxl.load_workbook(path)
        ws = wb[lay.sheet.name]
        for rng in centre:
            for row in ws[rng]:
                for cell in row:
                    cell.alignment = Alignment(horizontal="centerContinuous")
        wb.save(path)
        with zipfile.ZipFile(path) as zf:  # the fixture is what it claims to be
            assert b'horizontal="centerContinuous"' in zf.read("xl/styles.xml")
            assert b"<mergeCell " not in zf.read("xl/worksheets/sheet1.xml")
    return path


CASES = [(f, s, "xlsx") for f in FORMS for s in STYLES] + [
    (f, s, "xls") for f in ("housing", "water") for s in ("typed_left", "one_cell", "no_merges")
]


@pytest.mark.parametrize(
    "form,style,fmt", slow_except(CASES, lambda c: c[0] == "housing", spread=True)
)
def test_grouped_header_layouts_load_the_same_columns(tmp_path, form, style, fmt):
    lay, centre = build(form, style)
    if style in ("one_cell", "no_merges", "center_across"):
        assert lay.sheet.merges == []
    res = extract(write(lay, centre, tmp_path / FILE_NAME, fmt))
    assert res.status == "loaded", res.message
    assert not errors(res), [f.message for f in errors(res)]
    sr = res.forms[form]
    assert sr.header_rows == lay.header_rows
    assert loaded(res, form) == expected(lay)
    assert not warnings(res, "column_not_read") and not warnings(res, "column_missing"), [
        f.message for f in warnings(res)
    ]
