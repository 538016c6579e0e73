"""Open any county workbook (.xlsx, .xlsm, .xls — whatever the extension claims).

Values come from python-calamine (the fast reader); for .xlsx/.xlsm the XML side
pass (``xlsx_meta``) adds number formats, hidden rows and formulas saved without
values. The file's real type is sniffed from its first bytes, so a renamed file is
read as what it is, and a non-spreadsheet is refused before any parser sees it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as pc

from pipeline.readers.xlsx_meta import SheetMeta, read_xlsx_meta

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class UnreadableWorkbook(Exception):
    """The file cannot be read as a workbook. ``reason`` is a short code
    (``not_a_spreadsheet``, ``corrupt``, ``encrypted``, ``too_large``, ``empty``),
    ``message_zh`` / ``message_en`` say what the clerk should do."""

    def __init__(self, reason: str, message_zh: str, message_en: str):
        super().__init__(message_en)
        self.reason = reason
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass
class Grid:
    """A sheet's values by absolute 0-based position (calamine's range may start below A1)."""

    rows: list[list]
    first_row: int = 0
    first_col: int = 0

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return self.first_col + max((len(r) for r in self.rows), default=0)

    def value(self, r: int, c: int):
        i, j = r - self.first_row, c - self.first_col
        if i < 0 or j < 0 or i >= len(self.rows):
            return ""
        row = self.rows[i]
        return row[j] if j < len(row) else ""

    def row(self, r: int) -> list:
        """Values of absolute row ``r`` from column 0 (padded with '')."""
        i = r - self.first_row
        if i < 0 or i >= len(self.rows):
            return []
        return [""] * self.first_col + list(self.rows[i])


@dataclass
class SheetData:
    name: str
    state: str  # visible | hidden | veryHidden
    grid: Grid
    merges: list = field(default_factory=list)  # [((r0, c0), (r1, c1))] absolute, inclusive
    meta: SheetMeta | None = None


@dataclass
class WorkbookData:
    kind: str  # xlsx | xls
    reader: str  # e.g. "calamine+xml" (recorded in raw.files.reader)
    date1904: bool
    sheets: list[SheetData]


def sniff(path: Path) -> str:
    """``'zip'`` (xlsx/xlsm), ``'ole'`` (xls, or an encrypted xlsx) or ``'other'``."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head == OLE_MAGIC:
        return "ole"
    return "other"


def _check_zip(path: Path, max_uncompressed: int) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableWorkbook(
            "corrupt", "文件已损坏，无法打开，请重新导出后报送", f"the file is damaged ({exc})"
        ) from exc
    if "xl/workbook.xml" not in names:
        raise UnreadableWorkbook(
            "not_a_spreadsheet",
            "不是Excel工作簿（压缩包中没有工作簿内容），请报送.xlsx文件",
            "not an Excel workbook (a zip without xl/workbook.xml)",
        )
    if total > max_uncompressed:
        raise UnreadableWorkbook(
            "too_large",
            f"文件解压后达 {total // 2**20} MiB，超过上限 {max_uncompressed // 2**20} MiB，请删除多余内容后报送",
            f"the workbook expands to {total // 2**20} MiB, above the limit of {max_uncompressed // 2**20} MiB",
        )


def _is_encrypted_ole(path: Path) -> bool:
    with open(path, "rb") as fh:
        data = fh.read(1 << 20)
    return (
        "EncryptionInfo".encode("utf-16-le") in data
        or b"EncryptedPackage" in data[:0]
        or ("EncryptedPackage".encode("utf-16-le") in data)
    )


def open_workbook(path: Path, max_bytes: int, max_uncompressed: int) -> WorkbookData:
    """Read every sheet's values (and, for xlsx, its XML metadata).

    Raises ``UnreadableWorkbook`` for a file that is not a spreadsheet, damaged,
    password-protected, or larger than the configured limits.
    """
    size = path.stat().st_size
    if size == 0:
        raise UnreadableWorkbook(
            "empty", "文件为空（0字节），请重新报送", "the file is empty (0 bytes)"
        )
    if size > max_bytes:
        raise UnreadableWorkbook(
            "too_large",
            f"文件大小 {size // 2**20} MiB 超过上限 {max_bytes // 2**20} MiB",
            f"the file is {size // 2**20} MiB, above the limit of {max_bytes // 2**20} MiB",
        )
    kind = sniff(path)
    if kind == "other":
        raise UnreadableWorkbook(
            "not_a_spreadsheet",
            "不是Excel文件（文件内容不是工作簿），请报送Excel格式（.xlsx）的报表",
            "not a spreadsheet (the content is not an Excel workbook)",
        )
    if kind == "zip":
        _check_zip(path, max_uncompressed)
    elif _is_encrypted_ole(path):
        raise UnreadableWorkbook(
            "encrypted",
            "文件设置了打开密码，无法读取，请取消密码后重新报送",
            "the workbook is password-protected; remove the password and send it again",
        )
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        meta = read_xlsx_meta(path) if kind == "zip" else None
        sheets = []
        for sm in wb.sheets_metadata:
            if str(sm.typ) not in ("SheetTypeEnum.WorkSheet",):
                continue
            sheet = wb.get_sheet_by_name(sm.name)
            rows = sheet.to_python(skip_empty_area=False) if sheet.height else []
            vis = str(sm.visible).rsplit(".", 1)[-1]
            state = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}.get(
                vis, "visible"
            )
            sheets.append(
                SheetData(
                    name=sm.name,
                    state=state,
                    grid=Grid(rows),  # skip_empty_area=False: rows start at A1
                    merges=list(sheet.merged_cell_ranges or []),
                    meta=meta.sheets.get(sm.name) if meta else None,
                )
            )
        wb.close()
    except UnreadableWorkbook:
        raise
    except pc.PasswordError as exc:
        raise UnreadableWorkbook(
            "encrypted",
            "文件设置了密码，无法读取，请取消密码后重新报送",
            "the workbook is password-protected",
        ) from exc
    except Exception as exc:  # calamine/zip/xml errors on damaged files
        raise UnreadableWorkbook(
            "corrupt",
            "文件已损坏或格式无法识别，请用Excel打开并另存为.xlsx后重新报送",
            f"the workbook cannot be read ({type(exc).__name__}: {str(exc)[:200]})",
        ) from exc
    return WorkbookData(
        kind="xlsx" if kind == "zip" else "xls",
        reader="calamine+xml" if kind == "zip" else "calamine (xls: no format metadata)",
        date1904=bool(meta.date1904) if meta else False,
        sheets=sheets,
    )
