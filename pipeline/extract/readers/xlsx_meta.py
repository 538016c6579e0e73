"""A cheap second pass over an .xlsx/.xlsm's XML for what python-calamine cannot see.

calamine gives values only (stack-facts.md): no number formats, no hidden rows or
columns, and a formula saved without a cached value reads as ``''``. The rules need
those, so this module streams ``xl/worksheets/sheetN.xml`` once with ``iterparse``
and keeps only the cells that matter (non-General formats of value cells, formulas
without values). Positions are 0-based ``(row, col)``, the same as calamine's
absolute positions.

The pass is also the guard that runs before calamine: every part it reads counts
against a byte budget of decompressed XML (``LimitExceeded`` past it: a zip bomb
stops there, whatever the zip headers claim), and a sheet whose cells with values
span more than ``max_cells`` (rows × columns of their bounding box, which calamine
would allocate densely) raises ``SheetTooLarge`` as soon as the span is seen.
Cells without a value (only a style) and ``<dimension>`` do not count: a used range
that claims a million empty rows costs nothing. A cell with an empty ``<v>`` or an
``<is>`` counts in the span all the same (calamine puts some of those in its range:
``t="str"``/``t="d"`` with an empty value, an empty inline string).

It also bounds what the shared strings expand to (issue 11): a cell of type ``s`` is
a copy of its shared string in calamine and in Python, so 100,000 cells pointing to
one 32,000-character string are 3.2 billion characters from a 272 KB file. The
characters of every shared-string cell of the workbook are summed against
``max_chars`` (``TooManyChars`` past it).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import iterparse

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"([A-Z]+)(\d+)")
_MAX_ROWS, _MAX_COLS = 1_048_576, 16_384  # Excel's sheet size
EXCEL_MAX_TEXT = 32_767  # characters in one cell

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


class LimitExceeded(Exception):
    """More decompressed XML than the budget allows (``what``: the part; ``limit`` bytes)."""

    def __init__(self, what: str, limit: int):
        super().__init__(f"{what}: more than {limit} bytes of XML")
        self.what = what
        self.limit = limit


class SheetTooLarge(Exception):
    """A sheet's cells with values span more than ``max_cells``.

    ``sheet``: its name; ``rows`` × ``cols``: the span seen; ``ref``: the far cell
    (``'M1048576'``) that made it so.
    """

    def __init__(self, sheet: str, rows: int, cols: int, ref: str):
        super().__init__(f"sheet {sheet}: cells span {rows} rows x {cols} columns (to {ref})")
        self.sheet = sheet
        self.rows = rows
        self.cols = cols
        self.ref = ref


class CellTooLong(Exception):
    """A cell holds more characters than Excel allows (32,767): calamine would silently
    cut it. ``sheet``, ``ref`` (``'B5'``) and ``length`` name it."""

    def __init__(self, sheet: str, ref: str, length: int):
        super().__init__(f"sheet {sheet} cell {ref}: {length} characters")
        self.sheet = sheet
        self.ref = ref
        self.length = length


class TooManyChars(Exception):
    """The workbook's shared-string cells expand to more than ``limit`` characters
    (``sheet``: where the count passed it)."""

    def __init__(self, sheet: str, limit: int):
        super().__init__(f"sheet {sheet}: shared-string cells expand past {limit} characters")
        self.sheet = sheet
        self.limit = limit


class Budget:
    """Bytes of decompressed XML still allowed (shared by every part of one workbook);
    ``limit``: None for no limit. ``take`` past it raises ``exceeded(what, limit)``."""

    def __init__(self, limit: int | None, exceeded: type[Exception] = LimitExceeded):
        self.limit = limit
        self.left = limit
        self.exceeded = exceeded

    def take(self, n: int, what: str) -> None:
        if self.left is None:
            return
        self.left -= n
        if self.left < 0:
            raise self.exceeded(what, self.limit)


class Chars(Budget):
    """Characters the shared-string cells of one workbook may still expand to
    (``take(n, sheet)`` past the limit raises ``TooManyChars``).

    ``lengths``: characters of each shared string by index (an upper bound: markup
    between runs and entities count); ``limit``: None for no limit.
    """

    def __init__(self, lengths: list[int], limit: int | None):
        super().__init__(limit, TooManyChars)
        self.lengths = lengths
        self.longest = max(lengths, default=0)

    def length(self, index: str | bytes) -> int:
        i = int(index)
        return self.lengths[i] if 0 <= i < len(self.lengths) else 0


class _Counted:
    """A read-only stream that charges what it returns to a ``Budget``."""

    _CHUNK = 1 << 16

    def __init__(self, fh, budget: Budget, what: str):
        self.fh, self.budget, self.what = fh, budget, what

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while chunk := self.read(self._CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        data = self.fh.read(n)
        self.budget.take(len(data), self.what)
        return data


def _long_shared_strings(zf: zipfile.ZipFile, limit: int) -> dict[str, int]:
    """Index (as text) -> length of the shared strings longer than ``limit`` characters."""
    out = {}
    si_tag, t_tag = f"{_NS_MAIN}si", f"{_NS_MAIN}t"
    with zf.open("xl/sharedStrings.xml") as fh:
        i = 0
        for _, el in iterparse(fh):
            if el.tag == si_tag:
                n = sum(len(t.text or "") for t in el.iter(t_tag))
                if n > limit:
                    out[str(i)] = n
                i += 1
                el.clear()
    return out


_TAG = re.compile(rb"<[^>]*>")
_SST_OPEN = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?sst\b")
SST = "xl/sharedStrings.xml"


def shared_string_lengths(zf: zipfile.ZipFile, budget: Budget) -> list[int]:
    """Characters of each shared string (an upper bound: text between the tags of its
    ``<si>``, entities unexpanded), reading the part once in chunks (charged to
    ``budget``; CRC checked by zipfile at the end)."""
    lengths: list[int] = []
    close = empty = None
    rest = b""
    with zf.open(SST) as fh:
        src = _Counted(fh, budget, SST)
        while chunk := src.read(1 << 24):
            buf = rest + chunk
            if close is None:
                m = _SST_OPEN.search(buf)
                if m is None:
                    rest = buf
                    continue
                prefix = m.group(1) + b":" if m.group(1) else b""
                close, empty = b"</" + prefix + b"si>", b"<" + prefix + b"si/>"
            if empty in buf:
                buf = buf.replace(empty, b"<si></si>")
            parts = buf.split(close)
            rest = parts.pop()
            lengths.extend(len(_TAG.sub(b"", p).decode("utf-8", "replace")) for p in parts)
    return lengths


@dataclass
class SheetMeta:
    """What the XML says about one worksheet beyond its values (0-based positions)."""

    name: str
    state: str = "visible"  # visible | hidden | veryHidden
    formats: dict[tuple[int, int], str] = field(default_factory=dict)  # non-General only
    formula_without_value: set[tuple[int, int]] = field(default_factory=set)
    # the formula of each of those cells as the formula bar shows it (``=SUM(C5:C9)``;
    # ``=`` alone for a cell of a shared formula, whose text is in another cell)
    formula_text: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    max_row: int = 0  # 1 + last row that holds a value or a formula


@dataclass
class WorkbookMeta:
    """Workbook-level facts: the 1904 date system flag and per-sheet metadata by name."""

    date1904: bool = False
    sheets: dict[str, SheetMeta] = field(default_factory=dict)


def _read_styles(zf: zipfile.ZipFile, budget: Budget | None = None) -> list[str]:
    """Number format code of each cellXfs entry (index = the cell's ``s`` attribute)."""
    try:
        data = _Counted(zf.open("xl/styles.xml"), budget or Budget(None), "xl/styles.xml")
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


def _sheet_paths(
    zf: zipfile.ZipFile, budget: Budget | None = None
) -> tuple[bool, list[tuple[str, str, str]]]:
    """``(date1904, [(name, state, zip path)])`` from workbook.xml and its rels."""
    budget = budget or Budget(None)
    rels = {}
    with zf.open("xl/_rels/workbook.xml.rels") as fh:
        for _, el in iterparse(_Counted(fh, budget, "workbook.xml.rels")):
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
        for _, el in iterparse(_Counted(fh, budget, "xl/workbook.xml")):
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
    zf: zipfile.ZipFile,
    name: str,
    state: str,
    path: str,
    xfs: list[str],
    budget: Budget | None = None,
    max_cells: int | None = None,
    long_strings: dict[str, int] | None = None,
    chars: Chars | None = None,
) -> SheetMeta:
    """Stream one worksheet's XML; keep formats of value cells, formulas without values,
    hidden rows and columns. ``chars``: charged with the shared strings its cells copy
    (``TooManyChars``).

    ``long_strings``: shared-string index (as text) -> length, for those longer than
    Excel allows. Raises
    ``LimitExceeded`` when the budget runs out, ``SheetTooLarge`` when the value cells
    span (or the kept cells number) more than ``max_cells``, ``CellTooLong`` for a
    cell of more than 32,767 characters.
    """
    meta = SheetMeta(name=name, state=state)
    budget = budget or Budget(None)
    c_tag, row_tag, data_tag = f"{_NS_MAIN}c", f"{_NS_MAIN}row", f"{_NS_MAIN}sheetData"
    sheet_data = None
    r0 = c0 = 1 << 30
    r1 = c1 = -1
    kept = 0
    with zf.open(path) as fh:
        row_idx = -1
        col_idx = -1
        for event, el in iterparse(_Counted(fh, budget, path), events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == data_tag:
                    sheet_data = el
                elif tag == row_tag:
                    r = el.get("r")
                    row_idx = int(r) - 1 if r else row_idx + 1
                    col_idx = -1
                    if row_idx >= _MAX_ROWS:  # more rows than Excel has: not a real sheet
                        raise SheetTooLarge(name, row_idx + 1, 0, f"A{row_idx + 1}")
                    if el.get("hidden") in ("1", "true"):
                        meta.hidden_rows.add(row_idx)
                continue
            if tag == c_tag:
                pos = _cell_pos(el, row_idx, col_idx, name)
                col_idx = pos[1]
                has_value, formula, in_range, ftext = _cell_content(
                    el, pos, name, chars, long_strings
                )
                kept += _keep_cell(meta, el.get("s"), pos, has_value, formula, ftext, xfs)
                if in_range:  # the span calamine allocates densely
                    r, c = pos
                    if r < r0 or r > r1 or c < c0 or c > c1:
                        r0, r1, c0, c1 = min(r0, r), max(r1, r), min(c0, c), max(c1, c)
                        if max_cells is not None and (r1 - r0 + 1) * (c1 - c0 + 1) > max_cells:
                            raise SheetTooLarge(name, r1 - r0 + 1, c1 - c0 + 1, cell_ref(r, c))
                if has_value or formula:
                    meta.max_row = max(meta.max_row, pos[0] + 1)
                    if max_cells is not None and kept > max_cells:
                        raise SheetTooLarge(name, meta.max_row, c1 + 1, cell_ref(*pos))
                el.clear()
            elif tag == row_tag:
                el.clear()
                if sheet_data is not None:
                    sheet_data.clear()  # drop the finished rows: memory stays flat
            elif tag == f"{_NS_MAIN}col" and el.get("hidden") in ("1", "true"):
                lo, hi = int(el.get("min", "1")), int(el.get("max", "1"))
                meta.hidden_cols.update(range(lo - 1, min(hi, 16384)))
    return meta


def _keep_cell(meta: SheetMeta, s, pos, has_value: bool, formula: bool, ftext: str, xfs) -> int:
    """Keep a value cell's number format (when not plain) or a formula saved without a
    value in ``meta``; 1 when something was kept, else 0."""
    if has_value:
        if s and xfs:
            i = int(s)
            fmt = xfs[i] if i < len(xfs) else "General"
            if _is_interesting(fmt):
                meta.formats[pos] = fmt
                return 1
    elif formula:
        meta.formula_without_value.add(pos)
        meta.formula_text[pos] = "=" + ftext
        return 1
    return 0


def _cell_pos(el, row_idx: int, col_idx: int, name: str) -> tuple[int, int]:
    """(row, col) of a ``<c>``: from its ``r``, else the next column of the row.
    Raises ``SheetTooLarge`` beyond Excel's grid."""
    ref = el.get("r")
    m = _REF.match(ref) if ref else None
    pos = (int(m.group(2)) - 1, col_index(m.group(1))) if m else (row_idx, col_idx + 1)
    if pos[0] >= _MAX_ROWS or pos[1] >= _MAX_COLS:
        raise SheetTooLarge(name, pos[0] + 1, pos[1] + 1, cell_ref(*pos))
    return pos


_V_TAG, _IS_TAG, _F_TAG, _T_TAG = (f"{_NS_MAIN}{t}" for t in ("v", "is", "f", "t"))


def _cell_content(el, pos, name: str, chars: Chars | None, long_strings) -> tuple:
    """(has a value, has a formula, in calamine's range, formula text) of a ``<c>``.

    Charges ``chars`` with a shared string it copies; raises ``CellTooLong`` for a text
    longer than Excel allows."""
    has_value = formula = in_range = False
    ftext = ""
    for ch in el:
        t = ch.tag
        if t == _V_TAG:
            in_range = True
            text = ch.text
            if text:
                has_value = True
                if chars is not None and el.get("t") == "s":
                    chars.take(chars.length(text), name)
                if len(text) > EXCEL_MAX_TEXT:
                    raise CellTooLong(name, cell_ref(*pos), len(text))
                if long_strings and text in long_strings and el.get("t") == "s":
                    raise CellTooLong(name, cell_ref(*pos), long_strings[text])
        elif t == _F_TAG:
            formula = True
            ftext = ch.text or ""
        elif t == _IS_TAG:
            has_value = in_range = True
            n = sum(len(x.text or "") for x in ch.iter(_T_TAG))
            if n > EXCEL_MAX_TEXT:
                raise CellTooLong(name, cell_ref(*pos), n)
    return has_value, formula, in_range, ftext


# The fast scan: C-speed regexes over the decompressed sheet XML instead of an element
# per cell. It covers the XML Excel, WPS, openpyxl and xlsxwriter write (default
# namespace, every cell and row with its ``r``, double-quoted attributes); anything
# else, or anything near a limit, goes to the streaming parser above, which is the
# definition. TPA_XLSX_META_CHECK=1 (set by the tests) runs both and compares.
FAST_SCAN_MAX_BYTES = 64 * 2**20  # ~75,000 ledger rows; larger parts are streamed
_F_OPT = rb"(?:<f\b[^>]*?(?:/>|>[^<]*</f>)\s*)?"
_VALUE = rb"(?:<v(?:\s[^>]*)?>[^<]|<is[\s>])"
_VALUE_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*' + _F_OPT + _VALUE)
_VALUE_ANY = re.compile(_VALUE)
_FORMULA = re.compile(rb"<f[\s/>]")
_FORMULA_VALUE_CELL = re.compile(
    rb'<c r="[A-Z]{1,3}[0-9]{1,7}"[^>]*>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)\s*' + _VALUE
)
_FORMULA_ONLY_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<f\b[^>]*?(?:/>|>([^<]*)</f>)\s*'
    rb"(?:<v(?:\s[^>]*)?></v>\s*|<v\s*/>\s*)?</c>"
)
_ENTITY = re.compile(r"&(?:#(\d+)|#x([0-9A-Fa-f]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_text(raw: bytes) -> str:
    """Element text as the XML parser gives it: UTF-8, the five entities and character
    references replaced."""

    def sub(m):
        if m.group(3):
            return _NAMED[m.group(3)]
        return chr(int(m.group(1)) if m.group(1) else int(m.group(2), 16))

    return _ENTITY.sub(sub, raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))


_ROW_R = re.compile(rb'<row\b[^>]*?\br="([0-9]{1,8})"')
_ROW_ANY = re.compile(rb"<row[\s>/]")
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_COL = re.compile(rb"<col\b([^>]*)>")
_ATTR = re.compile(rb'([A-Za-z:]+)="([^"]*)"')


def _may_hold_long_text(data: bytes) -> bool:
    """Whether some run of more than 32,767 bytes holds no ``<`` (a text that may be
    longer than Excel allows). Such a run covers a whole aligned window of half that
    size, so looking at those windows is enough; few bytes are read in each."""
    step = (EXCEL_MAX_TEXT + 1) // 2
    return any(data.find(b"<", i, i + step) < 0 for i in range(0, len(data) - step + 1, step))


_ODD_CELL = re.compile(rb"<c[>/\t\r\n]")  # a cell tag followed by other than a space
# An empty value or inline string: in calamine's range for some cell types, not a value
# to the regexes below; where the span must be exact, the streaming parser does it.
_EMPTY_VALUE = re.compile(rb"<v(?:\s[^>]*)?(?:/>|></v>)|<is\s*/>")
_EMPTY_VALUE_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*'
    + _F_OPT
    + rb"(?:<v(?:\s[^>]*)?(?:/>|></v>)|<is\s*/>)"
)


def _shared_bound(data: bytes, chars: Chars | None) -> int | None:
    """An upper bound of what the sheet's shared-string cells copy (their number × the
    longest shared string); None when it does not fit in what ``chars`` has left (the
    streaming parser then counts exactly)."""
    if chars is None or chars.left is None:
        return 0
    bound = data.count(b't="s"') * chars.longest
    return bound if bound <= chars.left else None


def _cheap_bound(data: bytes, row_numbers: list[int]) -> int | None:
    """An upper bound of the cells spanned by every cell (with a value or not): rows from
    the first to the last ``<row>``, columns from A to the last letter used. None where
    that needs more: rows out of order (the last value is then not at the end), columns
    beyond Z."""
    if not row_numbers or any(a >= b for a, b in zip(row_numbers, row_numbers[1:], strict=False)):
        return None
    # the columns of the cells near the top, then one look for any further right
    head = re.findall(rb'<c r="([A-Z]+)[0-9]', data[: 1 << 16])
    if not head or any(len(c) > 1 for c in head):
        return None
    last = max(head)[0]
    beyond = b"[A-Z]{2}" + (b"|[" + bytes([last + 1]) + b"-Z]" if last < ord("Z") else b"")
    if re.search(rb'<c r="(?:' + beyond + rb")", data):
        return None
    return (row_numbers[-1] - row_numbers[0] + 1) * (last - ord("A") + 1)


def _last_row_with(data: bytes, pattern: re.Pattern) -> int | None:
    """1 + the 0-based row of the last ``<row>`` (rows in order) holding a match of
    ``pattern``: looked for in a growing tail of the part, so trailing rows of styled
    empty cells cost little. None when that row has no ``r``."""
    size = 1 << 16
    while True:
        start = max(0, len(data) - size)
        last = None
        for last in pattern.finditer(data, start):  # noqa: B007 (the last one is wanted)
            pass
        if last is not None:
            m = _ROW_R.match(data, data.rfind(b"<row", 0, last.start()))
            return int(m.group(1)) if m else None
        if start == 0:
            return 0
        size *= 8


def _fast_sheet_meta(
    data: bytes,
    name: str,
    state: str,
    xfs: list[str],
    max_cells: int | None,
) -> SheetMeta | None:
    """``read_sheet_meta`` by regex over the whole part; None when the XML is of a shape
    the regexes do not cover or a limit is near (the caller then streams it)."""
    if (
        b"<sheetData" not in data
        or any(data.find(odd) >= 0 for odd in (b"<!", b"='"))
        or data.find(b"<?", 2) >= 0
        or _ODD_CELL.search(data)
    ):
        return None  # comments, CDATA, DTDs, instructions, single quotes, a namespace prefix
    if _may_hold_long_text(data):
        return None  # a text that may be too long: the parser names it
    if len(_ROW_ANY.findall(data)) != len(rows := _ROW_R.findall(data)):
        return None
    row_numbers = list(map(int, rows))
    if row_numbers and max(row_numbers) > _MAX_ROWS:
        return None
    if data.count(b"<c ") != data.count(b'<c r="'):
        return None  # a cell without ``r`` (or not first): positions need counting
    meta = SheetMeta(name=name, state=state)
    if _VALUE_ANY.search(data) is None:
        pass  # no value at all
    elif (bound := _cheap_bound(data, row_numbers)) is not None and (
        max_cells is None or bound <= max_cells
    ):
        meta.max_row = _last_row_with(data, _VALUE_ANY)
        if meta.max_row is None:
            return None
    else:  # cell by cell: the exact span of the cells with values
        cells = _VALUE_CELL.findall(data)
        if len(cells) != len(_VALUE_ANY.findall(data)):
            return None  # a value in a cell of a shape not covered
        empty = _EMPTY_VALUE_CELL.findall(data) if _EMPTY_VALUE.search(data) else []
        if len(empty) != len(_EMPTY_VALUE.findall(data)):
            return None  # an empty value in a cell of a shape not covered
        last_value_row = max(int(r) for _, r in cells)
        col_refs, row_refs = zip(*cells, *empty, strict=True)  # empty values span too
        rs = [int(r) for r in set(row_refs)]
        cs = [col_index(c.decode()) for c in set(col_refs)]
        r0, r1, c0, c1 = min(rs) - 1, max(rs) - 1, min(cs), max(cs)
        if r1 >= _MAX_ROWS or c1 >= _MAX_COLS:
            return None
        if max_cells is not None and (r1 - r0 + 1) * (c1 - c0 + 1) > max_cells:
            return None
        meta.max_row = last_value_row
    cells = bool(meta.max_row)
    if _FORMULA.search(data) and not _fast_formulas(data, meta):
        return None
    interesting = [str(i) for i, f in enumerate(xfs) if _is_interesting(f)]
    if interesting and cells:
        styled = re.compile(
            rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\bs="('
            + "|".join(interesting).encode()
            + rb')"[^>]*>\s*'
            + _F_OPT
            + _VALUE
        )
        for c, r, st in styled.findall(data):
            meta.formats[(int(r) - 1, col_index(c.decode()))] = xfs[int(st)]
    if max_cells is not None and len(meta.formats) + len(meta.formula_without_value) > max_cells:
        return None
    return meta if _fast_hidden(data, meta) else None


def _fast_formulas(data: bytes, meta: SheetMeta) -> bool:
    """Formulas saved without a value into ``meta`` (and its ``max_row``); False when a
    formula cell is of a shape the regexes do not cover."""
    n_formulas = len(_FORMULA.findall(data))
    only = _FORMULA_ONLY_CELL.findall(data)
    if len(only) + len(_FORMULA_VALUE_CELL.findall(data)) != n_formulas:
        return False
    for c, r, text in only:
        pos = (int(r) - 1, col_index(c.decode()))
        meta.formula_without_value.add(pos)
        meta.formula_text[pos] = "=" + _xml_text(text or b"")
    if only:
        meta.max_row = max(meta.max_row, max(int(r) for _, r, _ in only))
    return True


def _fast_hidden(data: bytes, meta: SheetMeta) -> bool:
    """Hidden rows and columns into ``meta``; False when a hidden row has no ``r``."""
    for tag in _HIDDEN_ROW.findall(data):
        m = _ROW_R.match(tag)
        if m is None:
            return False
        meta.hidden_rows.add(int(m.group(1)) - 1)
    for attrs in _COL.findall(data):
        a = dict(_ATTR.findall(attrs))
        if a.get(b"hidden") in (b"1", b"true"):
            lo, hi = int(a.get(b"min", b"1")), int(a.get(b"max", b"1"))
            meta.hidden_cols.update(range(lo - 1, min(hi, 16384)))
    return True


def _sheet_meta(
    zf, name, state, path, xfs, budget, max_cells, long_strings, chars=None
) -> SheetMeta:
    """The fast scan where it applies (see ``_fast_sheet_meta``), else ``read_sheet_meta``."""
    info = zf.getinfo(path)
    if long_strings or info.file_size > FAST_SCAN_MAX_BYTES:
        return read_sheet_meta(zf, name, state, path, xfs, budget, max_cells, long_strings, chars)
    with zf.open(path) as fh:
        data = _Counted(fh, budget, path).read()
    bound = _shared_bound(data, chars)
    fast = None if bound is None else _fast_sheet_meta(data, name, state, xfs, max_cells)
    if fast is not None and chars is not None:
        chars.take(bound, name)
    if fast is None or os.environ.get("TPA_XLSX_META_CHECK"):
        slow = _read_sheet_meta_bytes(
            data, name, state, xfs, max_cells, long_strings, None if fast else chars
        )
        if fast is not None and fast != slow:
            raise AssertionError(f"fast XML scan differs on sheet {name}: {fast} != {slow}")
        return slow
    return fast


def _read_sheet_meta_bytes(
    data, name, state, xfs, max_cells, long_strings, chars=None
) -> SheetMeta:
    class _One:  # a zip of one part, already read and charged
        def open(self, _path):
            return io.BytesIO(data)

    return read_sheet_meta(
        _One(), name, state, "", xfs, Budget(None), max_cells, long_strings, chars
    )


def read_xlsx_meta(
    path,
    sheet_names: list[str] | None = None,
    max_unzipped: int | None = None,
    max_cells: int | None = None,
    max_chars: int | None = None,
) -> WorkbookMeta:
    """Read the metadata of an .xlsx/.xlsm (all sheets, or only ``sheet_names``).

    Every part read (styles, workbook, shared strings, sheets) is decompressed to its
    end and charged to one budget of ``max_unzipped`` bytes; the shared-string cells of
    all sheets may copy at most ``max_chars`` characters. Raises ``LimitExceeded``,
    ``SheetTooLarge``, ``CellTooLong``, ``TooManyChars``, and ``zipfile.BadZipFile`` / ``KeyError`` / ``zlib.error`` /
    ``xml.etree.ElementTree.ParseError`` on a damaged package; callers turn those into a
    file rejection.
    """
    budget = Budget(max_unzipped)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        xfs = _read_styles(zf, budget)
        date1904, sheets = _sheet_paths(zf, budget)
        long_strings: dict[str, int] = {}
        lengths = shared_string_lengths(zf, budget) if SST in names else []
        if any(n > EXCEL_MAX_TEXT for n in lengths):  # an upper bound: count exactly
            long_strings = _long_shared_strings(zf, EXCEL_MAX_TEXT)
        chars = Chars(lengths, max_chars)
        wb = WorkbookMeta(date1904=date1904)
        for name, state, spath in sheets:
            if sheet_names is not None and name not in sheet_names:
                wb.sheets[name] = SheetMeta(name=name, state=state)
                continue
            if not spath or spath not in names:
                wb.sheets[name] = SheetMeta(name=name, state=state)
                continue
            wb.sheets[name] = _sheet_meta(
                zf, name, state, spath, xfs, budget, max_cells, long_strings, chars
            )
    return wb
