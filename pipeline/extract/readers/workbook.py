"""Open any county workbook (.xlsx, .xlsm, .xlsb, .ods, .xls, WPS .et — whatever the
extension claims), from a file or from bytes (a member of a zip read in place).

XLSB and ODS (issue 12) are read by calamine for values, with their merged cells from
the files themselves (``spans``) and no format metadata.

Values come from python-calamine (the fast reader); a side pass adds number formats,
hidden rows and columns and formulas saved without values — ``xlsx_meta`` over the
sheet XML of .xlsx/.xlsm, ``xls`` over the records of .xls (olefile for the OLE
container, msoffcrypto-tool for encryption, xlrd for the BIFF records [issue 14]). The file's real type is sniffed from its first bytes, so a
renamed file is read as what it is, and a non-spreadsheet is refused (saying what it
seems to be: PDF, image, web page, text) before any parser sees it.

Bounded by design: the side pass runs before calamine and stops at the absolute
limits (file size, decompressed XML and compression ratio, cells spanned per sheet,
characters the shared strings expand to), so a zip bomb or a cell at XFD1048576 is
refused in seconds, never allocated; for .xls the same sizes come from olefile and
xlrd (``xls_bounds``). calamine is asked for the span of the cells only
(``skip_empty_area=True``), which is what the side pass measured. Encrypted packages
are recognised from the OLE directory (``EncryptionInfo``) or by msoffcrypto-tool
(a BIFF ``FILEPASS`` record). What these checks miss is bounded by the contained
extraction (``pipeline.run.contain``: a child process with memory and time limits). A
workbook calamine cannot open is read by openpyxl or xlrd before it is given up
(``fallback``).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from xml.etree.ElementTree import ParseError

import python_calamine as pc

from pipeline.extract.readers.spans import ods_merges, xlsb_merges
from pipeline.extract.readers.xls import XlsDamaged, XlsEncrypted, XlsNotWorkbook, read_xls
from pipeline.extract.readers.xls_bounds import XlsTooLarge
from pipeline.extract.readers.xlsx_meta import (
    CellTooLong,
    LimitExceeded,
    SheetMeta,
    SheetTooLarge,
    TooManyChars,
    WorkbookMeta,
    cell_ref,
    read_xlsx_meta,
)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DEFAULT_MAX_CELLS = 8_000_000  # per sheet: rows x columns spanned by cells with values
DEFAULT_MAX_CHARS = 200_000_000  # per workbook: characters the text cells expand to
# A part expanding more than this many times its compressed size (and past
# RATIO_FLOOR bytes) is a zip bomb: Excel's XML compresses about 5-30 times.
MAX_RATIO = 200
RATIO_FLOOR = 16 * 2**20
_VALUE_CELL_TYPES = ("SheetTypeEnum.WorkSheet",)
_SUFFIXES = {"xlsx": (".xlsx", ".xlsm"), "xls": (".xls",)}  # what calamine's from_path expects

# What a renamed non-spreadsheet really is (first bytes, lower-cased) -> (zh, en).
_OTHER_KINDS = [
    ((b"%pdf",), ("PDF文件", "a PDF document")),
    ((b"\x89png", b"\xff\xd8\xff", b"gif8"), ("图片", "an image")),
    (
        (b"<html", b"<!doctype html", b"<table", b"<meta", b"<head"),
        ("网页（HTML）文件", "a web page (HTML)"),
    ),
    ((b"<?xml",), ("XML文件（如“XML电子表格2003”）", "an XML file (e.g. XML Spreadsheet 2003)")),
    ((b"{\\rtf",), ("RTF文档", "an RTF document")),
    ((b"rar!", b"7z\xbc\xaf"), ("压缩包", "an archive")),
]


class UnreadableWorkbook(Exception):
    """The file cannot be read as a workbook. ``reason`` is a short code
    (``not_a_workbook``, ``damaged``, ``encrypted``, ``too_large``,
    ``cell_too_long``),
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

    @cached_property
    def width(self) -> int:
        """1 + the last column index (rows are not changed once read)."""
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


class Source:
    """A workbook's bytes: a file (``Path``) or bytes in memory (a member of a zip read in
    place, issue 12 item 6). ``name`` is the name shown in messages."""

    def __init__(self, source: Path | bytes, name: str | None = None):
        self.path = source if isinstance(source, Path) else None
        self.data = None if isinstance(source, Path) else bytes(source)
        self.name = name or (self.path.name if self.path else "")

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path else len(self.data)

    @property
    def suffix(self) -> str:
        """The name's extension, lower-cased, trailing spaces and dots ignored."""
        stem = self.name.rstrip(" .")
        return ("." + stem.rsplit(".", 1)[1].lower()) if "." in stem else ""

    def head(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with open(self.path, "rb") as fh:
            return fh.read(n)

    def read(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()

    def opener(self):
        """What ``zipfile.ZipFile`` opens: the path, or a fresh in-memory file."""
        return self.path if self.path else io.BytesIO(self.data)


def sniff_head(head: bytes) -> str:
    """``'zip'`` (xlsx, xlsm, xlsb, ods, or any zip), ``'ole'`` (xls and WPS .et, or an
    encrypted xlsx) or ``'other'``, from a file's first 8 bytes."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head[:8] == OLE_MAGIC:
        return "ole"
    return "other"


def sniff(path: Path) -> str:
    """``sniff_head`` of the file at ``path``."""
    with open(path, "rb") as fh:
        return sniff_head(fh.read(8))


ODS_MIMETYPES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)


def zip_kind(names: set[str], mimetype: bytes | None = None) -> str:
    """What a zip holds, from its member names (and its ``mimetype`` member, ODF):
    ``'xlsx'`` (also xlsm), ``'xlsb'``, ``'ods'``, ``'office'`` (an OOXML or ODF package
    that is not a workbook: Word, PowerPoint, Writer…) or ``'archive'`` (anything else)."""
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if mimetype is not None and mimetype.strip() in ODS_MIMETYPES:
        return "ods"
    if "[Content_Types].xml" in names or "mimetype" in names:
        return "office"
    return "archive"


def describe_head(head: bytes) -> tuple[str, str]:
    """What a file that is neither zip nor OLE seems to be, from its first 512 bytes:
    ``(zh, en)`` for the message."""
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for magics, what in _OTHER_KINDS:
        if low.startswith(magics):
            return what
    for enc in ("utf-8", "gb18030"):
        for cut in range(4):  # the first bytes may end inside a character
            try:
                head[: len(head) - cut].decode(enc)
            except UnicodeDecodeError:
                continue
            if b"\x00" not in head:
                return ("文本文件（如CSV）", "a text file (e.g. CSV)")
    return ("无法识别的文件", "an unrecognised file")


def _too_large(what_zh: str, what_en: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "too_large",
        f"{what_zh}，超过处理上限，请删除多余内容后重新报送",
        f"{what_en}, above the limit",
    )


def _encrypted() -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "encrypted",
        "文件设置了打开密码，无法读取，请取消密码后重新报送",
        "the workbook is password-protected; remove the password and send it again",
    )


def _corrupt(exc: BaseException) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "damaged",
        "文件已损坏或不完整，无法打开，请用Excel打开并另存为.xlsx后重新报送",
        f"the file is damaged or incomplete ({type(exc).__name__}: {str(exc)[:160]})",
    )


def _check_zip(src: Source, max_uncompressed: int) -> str:
    """The package's own claims: a workbook (xlsx, xlsb or ods), declared sizes within
    the limit. Returns ``zip_kind``."""
    try:
        with zipfile.ZipFile(src.opener()) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, zlib.error) as exc:
        raise _corrupt(exc) from exc
    total = sum(i.file_size for i in infos)
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            ratio = i.file_size / max(i.compress_size, 1)
            raise _too_large(
                f"压缩包中的“{i.filename}”解压后达 {i.file_size / 2**20:,.0f} MiB，"
                f"是压缩后的 {ratio:,.0f} 倍（疑似压缩炸弹）",
                f"part {i.filename} expands to {i.file_size / 2**20:,.0f} MiB, {ratio:,.0f} "
                f"times its compressed size (a zip bomb?)",
            )
    kind = zip_kind(names, mimetype)
    if kind not in ("xlsx", "xlsb", "ods"):
        raise UnreadableWorkbook(
            "not_a_workbook",
            "不是Excel工作簿（压缩包中没有工作簿内容，可能是Word、WPS文字或其他压缩文件），请报送.xlsx文件",
            "not an Excel workbook (a zip without xl/workbook.xml)",
        )
    if total > max_uncompressed:
        raise _too_large(
            f"文件解压后达 {total / 2**20:,.0f} MiB（上限 {max_uncompressed / 2**20:,.0f} MiB）",
            f"the workbook expands to {total / 2**20:,.0f} MiB (limit {max_uncompressed / 2**20:,.0f} MiB)",
        )
    return kind


def _meta_limits(exc: Exception, max_uncompressed: int) -> UnreadableWorkbook:
    if isinstance(exc, SheetTooLarge) and (exc.rows > 1_048_576 or exc.cols > 16_384):
        return UnreadableWorkbook(
            "damaged",
            f"工作表“{exc.sheet}”的行数或列数超过Excel的上限，文件不是Excel正常保存的或已损坏，"
            "请用Excel打开核对后另存再报送",
            f"sheet '{exc.sheet}' has more rows or columns than Excel allows: the file is "
            "damaged or was not saved by Excel",
        )
    if isinstance(exc, SheetTooLarge):
        return _too_large(
            f"工作表“{exc.sheet}”的内容延伸到单元格 {exc.ref}（{exc.rows:,} 行 × {exc.cols:,} 列）",
            f"sheet '{exc.sheet}' has content out to cell {exc.ref} ({exc.rows:,} rows x {exc.cols:,} columns)",
        )
    if isinstance(exc, TooManyChars | XlsTooLarge) and getattr(exc, "what", "chars") == "chars":
        return _too_large(
            f"工作表“{exc.sheet}”等处的文字单元格展开后超过 {exc.limit:,} 个字符"
            "（同一长文本被大量单元格引用）",
            f"the text cells expand to more than {exc.limit:,} characters (sheet "
            f"'{exc.sheet}': long shared strings referenced by many cells)",
        )
    if isinstance(exc, XlsTooLarge) and exc.what == "stream":
        return _too_large(
            f"文件中的数据流“{exc.sheet}”达 {exc.size / 2**20:,.0f} MiB"
            f"（上限 {exc.limit / 2**20:,.0f} MiB）",
            f"stream {exc.sheet} holds {exc.size / 2**20:,.0f} MiB "
            f"(limit {exc.limit / 2**20:,.0f} MiB)",
        )
    if isinstance(exc, XlsTooLarge):
        return _meta_limits(SheetTooLarge(exc.sheet, exc.rows, exc.cols, exc.ref), max_uncompressed)
    return _too_large(
        f"文件解压后超过 {max_uncompressed / 2**20:,.0f} MiB",
        f"the workbook expands to more than {max_uncompressed / 2**20:,.0f} MiB",
    )


def _read_ole(
    src: Source, max_uncompressed: int, max_cells: int, max_chars: int
) -> WorkbookMeta | None:
    """Refuse damaged, encrypted, non-workbook and oversized OLE files; return the
    workbook's metadata (None where xlrd cannot parse the records: values only)."""
    try:
        return read_xls(src.path or src.data, max_uncompressed, max_cells, max_chars)
    except XlsDamaged as exc:
        raise _corrupt(exc.__cause__ or exc) from exc
    except XlsEncrypted as exc:
        raise _encrypted() from exc
    except XlsNotWorkbook as exc:
        raise UnreadableWorkbook(
            "not_a_workbook",
            "不是Excel工作簿（是Word等其他Office文档），请报送Excel格式（.xlsx）的报表",
            "not an Excel workbook (another Office document, e.g. Word)",
        ) from exc
    except XlsTooLarge as exc:
        raise _meta_limits(exc, max_uncompressed) from exc


def _too_long(exc: CellTooLong) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "cell_too_long",
        f"工作表“{exc.sheet}”单元格 {exc.ref} 有 {exc.length:,} 个字符，超过Excel单元格上限 32,767，"
        "文件不是Excel正常保存的，请用Excel打开核对后另存再报送",
        f"sheet '{exc.sheet}' cell {exc.ref} holds {exc.length:,} characters, more than Excel "
        "allows (32,767): open the file in Excel, check it, save and resend",
    )


def _utf8(path: Path) -> bool:
    """True when the path is valid UTF-8 (calamine's ``from_path`` takes nothing else)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_size(src: Source, max_bytes: int) -> None:
    size = src.size
    if size == 0:
        raise UnreadableWorkbook(
            "damaged", "文件为空（0字节），请重新报送", "the file is empty (0 bytes)"
        )
    if size > max_bytes:
        raise _too_large(
            f"文件大小 {size / 2**20:,.1f} MiB（上限 {max_bytes / 2**20:,.0f} MiB）",
            f"the file is {size / 2**20:,.1f} MiB (limit {max_bytes / 2**20:,.0f} MiB)",
        )


def _side_pass(
    src: Source, max_uncompressed: int, max_cells: int, max_chars: int = DEFAULT_MAX_CHARS
) -> tuple[str, WorkbookMeta | None]:
    """The real type (``xlsx``, ``xlsb``, ``ods`` or ``xls``) and the side metadata (xlsx
    and BIFF8 xls only), within the limits; raises ``UnreadableWorkbook``."""
    kind = sniff_head(src.head(8))
    if kind == "other":
        zh, en = describe_head(src.head(512))
        raise UnreadableWorkbook(
            "not_a_workbook",
            f"不是Excel文件（文件内容是{zh}，只是扩展名为{src.suffix}），请报送Excel格式（.xlsx）的报表",
            f"not a spreadsheet: the content is {en}, only the name ends in {src.suffix}",
        )
    if kind == "ole":
        try:
            return "xls", _read_ole(src, max_uncompressed, max_cells, max_chars)
        except (SheetTooLarge, XlsTooLarge) as exc:
            raise _meta_limits(exc, max_uncompressed) from exc
    real = _check_zip(src, max_uncompressed)
    if real != "xlsx":  # xlsb, ods: values only (calamine); the zip's claims were checked
        return real, None
    try:
        return real, read_xlsx_meta(
            src.opener(), max_unzipped=max_uncompressed, max_cells=max_cells, max_chars=max_chars
        )
    except (LimitExceeded, SheetTooLarge, TooManyChars) as exc:
        raise _meta_limits(exc, max_uncompressed) from exc
    except CellTooLong as exc:
        raise _too_long(exc) from exc
    except (zipfile.BadZipFile, KeyError, zlib.error, ParseError, EOFError, ValueError) as exc:
        raise _corrupt(exc) from exc


def _side_merges(src: Source, kind: str) -> dict[str, list]:
    """Merged ranges calamine does not give (ODS, XLSB; ``spans``): {sheet: ranges}. A part
    that cannot be parsed gives none (calamine then says whether the file is damaged)."""
    if kind not in ("ods", "xlsb"):
        return {}
    try:
        with zipfile.ZipFile(src.opener()) as zf:
            return ods_merges(zf) if kind == "ods" else xlsb_merges(zf)
    except (zipfile.BadZipFile, KeyError, ParseError, struct.error, IndexError, ValueError,
            zlib.error, EOFError, OSError):  # fmt: skip
        return {}


def _sheets(
    wb, meta: WorkbookMeta | None, max_uncompressed: int, max_cells: int, side: dict | None = None
) -> list[SheetData]:
    sheets = []
    for sm in wb.sheets_metadata:
        if str(sm.typ) not in _VALUE_CELL_TYPES:
            continue
        sheet = wb.get_sheet_by_name(sm.name)
        if sheet.height * sheet.width > max_cells:
            raise _meta_limits(
                SheetTooLarge(
                    sm.name, sheet.height, sheet.width, cell_ref(sheet.height - 1, sheet.width - 1)
                ),
                max_uncompressed,
            )
        # skip_empty_area=True: calamine materialises the span of its cells only
        # (start..end); False would add every cell from A1, so that one value at
        # XFD1048576 asks for 17 billion cells (issue 11). The span was bounded above.
        rows = sheet.to_python(skip_empty_area=True) if sheet.height else []
        first_row, first_col = sheet.start if rows else (0, 0)
        vis = str(sm.visible).rsplit(".", 1)[-1]
        state = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}.get(
            vis, "visible"
        )
        sheets.append(
            SheetData(
                name=sm.name,
                state=state,
                grid=Grid(rows, first_row, first_col),
                merges=list(sheet.merged_cell_ranges or []) or (side or {}).get(sm.name, []),
                meta=meta.sheets.get(sm.name) if meta else None,
            )
        )
    return sheets


_READERS = {
    "xlsx": "calamine+xml",
    "xlsb": "calamine (xlsb: no format metadata)",
    "ods": "calamine (ods: no format metadata)",
}


def open_workbook(
    path: Path | bytes,
    max_bytes: int,
    max_uncompressed: int,
    max_cells: int = DEFAULT_MAX_CELLS,
    max_chars: int = DEFAULT_MAX_CHARS,
    name: str | None = None,
) -> WorkbookData:
    """Read every sheet's values (and, for xlsx and BIFF8 xls, its side metadata).

    ``path``: the file, or its bytes (a zip member read in place) with ``name`` for
    messages. The type comes from the bytes, never the name: OOXML (xlsx/xlsm), XLSB,
    ODS and OLE2/BIFF (xls, WPS .et) are read whatever the extension (issue 12 item 6).

    Limits, all absolute: ``max_bytes`` (the file), ``max_uncompressed`` (bytes of XML
    an .xlsx may expand to: checked on the zip's claims, then on what is really
    decompressed), ``max_cells`` (per sheet, rows × columns spanned by cells with
    values; checked before calamine allocates the sheet), ``max_chars`` (characters all
    text cells expand to, shared strings copied per cell). Raises ``UnreadableWorkbook``
    for a file that is empty, not a spreadsheet, damaged, password-protected, over a
    limit, or (xlsx) holding a cell longer than Excel allows — calamine would cut it to
    32,767 characters silently.

    A workbook calamine finds damaged or not a spreadsheet, although its container (OOXML
    zip, OLE2, a bare BIFF2-4 stream) is one, is read by the maintained reader of that
    container (``pipeline.extract.readers.fallback``: openpyxl, xlrd) before it is given up
    (issue 12: nothing lost).
    """
    src = Source(path, name)
    try:
        return _read_calamine(src, max_bytes, max_uncompressed, max_cells, max_chars)
    except UnreadableWorkbook as exc:
        if exc.reason not in ("damaged", "not_a_workbook"):
            raise
        kind = sniff_head(src.head(8))
        if kind == "other" and not _raw_biff(src.head(4)):
            raise
        second = _fallback(src, "zip" if kind == "zip" else "biff", max_cells, max_chars)
        if second is None:
            raise
        return second


def _raw_biff(head: bytes) -> bool:
    """A BIFF2–BIFF4 worksheet or workbook stream without an OLE2 container (Excel 2.x–4.x
    ``.xls``): it starts with a BOF record, 0x0009/0x0209/0x0409 then its length."""
    return len(head) == 4 and head[0] == 0x09 and head[1] in (0x00, 0x02, 0x04) and head[3] == 0


def _fallback(src: Source, kind: str, max_cells: int, max_chars: int) -> WorkbookData | None:
    from pipeline.extract.readers import fallback

    try:
        read = fallback.read_ooxml if kind == "zip" else fallback.read_biff
        date1904, sheets = read(src.path or src.data, max_cells, max_chars)
    except fallback.NotReadable:
        return None
    except fallback.FallbackTooLarge as exc:
        raise _too_large(
            f"工作表“{exc.sheet}”内容过多", f"sheet '{exc.sheet}': {exc.what}"
        ) from exc
    return WorkbookData(
        kind="xlsx" if kind == "zip" else "xls",
        reader=f"{'openpyxl' if kind == 'zip' else 'xlrd'} (calamine could not open it)",
        date1904=date1904,
        sheets=[
            SheetData(name, state, Grid(rows), merges, meta)
            for name, state, rows, merges, meta in sheets
        ],
    )


def _read_calamine(
    src: Source, max_bytes: int, max_uncompressed: int, max_cells: int, max_chars: int
) -> WorkbookData:
    """``open_workbook`` through calamine (and the side pass for format metadata)."""
    _check_size(src, max_bytes)
    kind, meta = _side_pass(src, max_uncompressed, max_cells, max_chars)
    try:
        if (
            src.path is not None
            and src.path.suffix.lower() in _SUFFIXES.get(kind, ())
            and _utf8(src.path)
        ):
            wb = pc.CalamineWorkbook.from_path(str(src.path))
        else:  # bytes, the extension lies, or a name calamine cannot open (GBK bytes):
            # calamine detects the format from the content
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(src.read()))
        sheets = _sheets(wb, meta, max_uncompressed, max_cells, _side_merges(src, kind))
        wb.close()
    except UnreadableWorkbook:
        raise
    except pc.PasswordError as exc:
        raise _encrypted() from exc
    except Exception as exc:  # calamine errors on damaged files
        raise _corrupt(exc) from exc
    if kind == "xls":
        reader = "calamine+biff" if meta is not None else "calamine (xls: no format metadata)"
    else:
        reader = _READERS[kind]
    return WorkbookData(
        kind="xls" if kind == "xls" else "xlsx" if kind == "xlsx" else kind,
        reader=reader,
        date1904=bool(meta.date1904) if meta else False,
        sheets=sheets,
    )
