"""A cheap second pass over an .xlsx/.xlsm's XML for what python-calamine cannot see.

calamine gives values only (stack-facts.md): no number formats, no hidden rows or
columns, and a formula saved without a cached value reads as ``''``. The rules need
those, so this module streams ``xl/worksheets/sheetN.xml`` once with ``iterparse``
and keeps only the cells that matter (non-General formats, formulas without values).
Positions are 0-based ``(row, col)``, the same as calamine's absolute positions.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import iterparse

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"([A-Z]+)(\d+)")

# Built-in number formats (ECMA-376 18.8.30) that matter to the rules.
_BUILTIN_FORMATS = {
    1: "0",
    2: "0.00",
    9: "0%",
    10: "0.00%",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    22: "m/d/yy h:mm",
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    49: "@",
    57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
    31: 'yyyy"年"m"月"d"日"',
}


def col_index(letters: str) -> int:
    """``'A'`` -> 0, ``'AA'`` -> 26."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(index: int) -> str:
    """0 -> ``'A'``, 26 -> ``'AA'``."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_ref(row: int, col: int) -> str:
    """0-based position -> Excel address (``(11, 5)`` -> ``'F12'``)."""
    return f"{col_letters(col)}{row + 1}"


@dataclass
class SheetMeta:
    """What the XML says about one worksheet beyond its values (0-based positions)."""

    name: str
    state: str = "visible"  # visible | hidden | veryHidden
    formats: dict[tuple[int, int], str] = field(default_factory=dict)  # non-General only
    formula_without_value: set[tuple[int, int]] = field(default_factory=set)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    max_row: int = 0  # 1 + last row that holds a cell element


@dataclass
class WorkbookMeta:
    """Workbook-level facts: the 1904 date system flag and per-sheet metadata by name."""

    date1904: bool = False
    sheets: dict[str, SheetMeta] = field(default_factory=dict)


def _read_styles(zf: zipfile.ZipFile) -> list[str]:
    """Number format code of each cellXfs entry (index = the cell's ``s`` attribute)."""
    try:
        data = zf.open("xl/styles.xml")
    except KeyError:
        return []
    custom: dict[int, str] = {}
    xfs: list[str] = []
    in_cellxfs = False
    for event, el in iterparse(data, events=("start", "end")):
        tag = el.tag.removeprefix(_NS_MAIN)
        if event == "start" and tag == "cellXfs":
            in_cellxfs = True
        elif event == "end" and tag == "cellXfs":
            in_cellxfs = False
        elif event == "end" and tag == "numFmt":
            custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
        elif event == "end" and tag == "xf" and in_cellxfs:
            fid = int(el.get("numFmtId", "0"))
            xfs.append(custom.get(fid) or _BUILTIN_FORMATS.get(fid, "General"))
    return xfs


def _sheet_paths(zf: zipfile.ZipFile) -> tuple[bool, list[tuple[str, str, str]]]:
    """``(date1904, [(name, state, zip path)])`` from workbook.xml and its rels."""
    rels = {}
    with zf.open("xl/_rels/workbook.xml.rels") as fh:
        for _, el in iterparse(fh):
            if el.tag == f"{_NS_PKG_REL}Relationship":
                target = el.get("Target", "")
                if target.startswith("/"):
                    path = target.lstrip("/")
                else:
                    path = posixpath.normpath(posixpath.join("xl", target))
                rels[el.get("Id")] = path
    date1904 = False
    sheets = []
    with zf.open("xl/workbook.xml") as fh:
        for _, el in iterparse(fh):
            tag = el.tag.removeprefix(_NS_MAIN)
            if tag == "workbookPr":
                date1904 = el.get("date1904", "0").lower() in ("1", "true")
            elif tag == "sheet":
                rid = el.get(f"{_NS_REL}id")
                sheets.append((el.get("name", ""), el.get("state", "visible"), rels.get(rid, "")))
    return date1904, sheets


def _is_interesting(fmt: str) -> bool:
    return fmt not in ("General", "@", "0", "0.00")


def read_sheet_meta(
    zf: zipfile.ZipFile, name: str, state: str, path: str, xfs: list[str]
) -> SheetMeta:
    """Stream one worksheet's XML; keep formats, formulas without values, hidden rows/cols."""
    meta = SheetMeta(name=name, state=state)
    with zf.open(path) as fh:
        row_idx = -1
        for event, el in iterparse(fh, events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == f"{_NS_MAIN}row":
                    r = el.get("r")
                    row_idx = int(r) - 1 if r else row_idx + 1
                    if el.get("hidden") in ("1", "true"):
                        meta.hidden_rows.add(row_idx)
                continue
            if tag == f"{_NS_MAIN}c":
                ref = el.get("r")
                if ref:
                    m = _REF.match(ref)
                    pos = (int(m.group(2)) - 1, col_index(m.group(1)))
                else:
                    pos = (row_idx, -1)
                s = el.get("s")
                if s and xfs:
                    i = int(s)
                    fmt = xfs[i] if i < len(xfs) else "General"
                    if _is_interesting(fmt):
                        meta.formats[pos] = fmt
                if el.find(f"{_NS_MAIN}f") is not None:
                    v = el.find(f"{_NS_MAIN}v")
                    if v is None or v.text in (None, ""):
                        meta.formula_without_value.add(pos)
                meta.max_row = max(meta.max_row, pos[0] + 1)
                el.clear()
            elif tag == f"{_NS_MAIN}row":
                el.clear()
            elif tag == f"{_NS_MAIN}col" and el.get("hidden") in ("1", "true"):
                lo, hi = int(el.get("min", "1")), int(el.get("max", "1"))
                meta.hidden_cols.update(range(lo - 1, min(hi, 16384)))
    return meta


def read_xlsx_meta(path, sheet_names: list[str] | None = None) -> WorkbookMeta:
    """Read the metadata of an .xlsx/.xlsm (all sheets, or only ``sheet_names``).

    Raises ``zipfile.BadZipFile`` / ``KeyError`` / ``xml.etree.ElementTree.ParseError``
    on a damaged package; callers turn those into a file rejection.
    """
    with zipfile.ZipFile(path) as zf:
        xfs = _read_styles(zf)
        date1904, sheets = _sheet_paths(zf)
        wb = WorkbookMeta(date1904=date1904)
        for name, state, spath in sheets:
            if sheet_names is not None and name not in sheet_names:
                wb.sheets[name] = SheetMeta(name=name, state=state)
                continue
            if not spath or spath not in zf.namelist():
                wb.sheets[name] = SheetMeta(name=name, state=state)
                continue
            wb.sheets[name] = read_sheet_meta(zf, name, state, spath, xfs)
    return wb
