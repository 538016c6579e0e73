"""Extract one county workbook: identify county and period, recognise each sheet's form,
extract every recognised sheet. Never raises on bad input: an unreadable or
unidentifiable workbook comes back rejected with a one-line reason."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import timing
from pipeline.extract.header import find_header
from pipeline.extract.identify import from_file_name, read_cover
from pipeline.extract.sheet import FileContext, SheetResult, extract_sheet
from pipeline.findings import Finding, compose
from pipeline.readers.workbook import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_CHARS,
    UnreadableWorkbook,
    open_workbook,
)
from pipeline.refdata import counties, resolver

PARSER_VERSION = "3"  # bump when parsing changes: invalidates cached extracts


@dataclass
class ExtractResult:
    """One workbook's extract.

    status: 'loaded' or 'rejected'; reason: short code when rejected; message /
    message_en: the one-line explanation; forms: form code -> SheetResult;
    findings: every finding of the file (file-, sheet- and row-level).
    """

    file_sha256: str
    file_name: str
    county_code: str | None = None
    period: str | None = None
    reader: str | None = None
    status: str = "loaded"
    reason: str | None = None
    message: str | None = None
    message_en: str | None = None
    forms: dict[str, SheetResult] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    hidden_sheets: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.forms.values())

    @property
    def rows_loaded(self) -> int:
        return sum(s.rows_loaded for s in self.forms.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(s.rows_quarantined for s in self.forms.values())


def _reject(res: ExtractResult, reason: str, zh: str, en: str) -> ExtractResult:
    res.status = "rejected"
    res.reason = reason
    res.message, res.message_en = compose(res.file_name, None, None, None, None, zh, en)
    res.findings.append(
        Finding(
            res.file_sha256,
            res.file_name,
            None,
            None,
            None,
            None,
            None,
            None,
            reason,
            "error",
            res.message,
            res.message_en,
        )
    )
    res.forms = {}
    return res


def _county_label(code: str) -> str:
    df = counties()
    hit = df.loc[df["county_code"] == code, "county_name_zh"]
    return f"{code} {hit.iloc[0]}" if len(hit) else code


def extract_workbook(
    path: Path,
    sha256: str,
    *,
    max_bytes: int,
    max_unzipped: int,
    id_key: bytes | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
    column_limits: dict | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> ExtractResult:
    """Read, identify and extract ``path``; see ``ExtractResult``.

    Limits (absolute; ``open_workbook``): ``max_bytes`` of file, ``max_unzipped`` bytes
    of decompressed XML, ``max_cells`` per sheet, ``max_chars`` characters of text
    cells. ``column_limits``: plausible ranges overriding the form specs
    (``Settings.column_limits``). Never raises on bad input (a reader that crashes or
    runs out of memory is contained by ``pipeline.contain``).
    """
    # The grid is a million small objects that live until the end: the cyclic collector
    # would walk them again and again for nothing (reference counting frees them).
    collecting = gc.isenabled()
    gc.disable()
    try:
        res = _extract(
            path, sha256, max_bytes, max_unzipped, id_key, max_cells, max_chars, column_limits
        )
        timing.add_rows("read", res.rows_read)
        return res
    finally:
        if collecting:
            gc.enable()


def _extract(
    path, sha256, max_bytes, max_unzipped, id_key, max_cells, max_chars, column_limits=None
) -> ExtractResult:
    res = ExtractResult(sha256, path.name)
    try:
        with timing.stage("read"):
            wb = open_workbook(path, max_bytes, max_unzipped, max_cells, max_chars)
    except UnreadableWorkbook as exc:
        return _reject(res, exc.reason, exc.message_zh, exc.message_en)
    res.reader = wb.reader

    sheets = []
    for sheet in wb.sheets:
        if sheet.state != "visible":
            res.hidden_sheets.append(sheet.name)
            continue
        match = find_header(sheet.grid, sheet.merges)
        if match is not None:
            sheets.append((sheet, match))
    if not sheets:
        hidden_zh = hidden_en = ""
        if res.hidden_sheets:
            names = "、".join(f"“{n}”" for n in res.hidden_sheets)
            hidden_zh = f"（隐藏的工作表{names}未读取，如需上报请取消隐藏）"
            hidden_en = f" (hidden sheets not read: {', '.join(res.hidden_sheets)})"
        if any(s.grid.height for s in wb.sheets):
            return _reject(
                res,
                "no_form_found",
                f"未找到任何标准报表（表头无法识别）{hidden_zh}，请使用标准模板填报",
                f"no form found: no visible sheet has a recognisable header{hidden_en}",
            )
        return _reject(
            res,
            "no_form_found",  # a workbook without content holds no form (reason class)
            f"工作簿中没有任何内容{hidden_zh}，请重新报送",
            f"the workbook is empty{hidden_en}",
        )

    # county and period from the covers, then the file name
    name_code, name_period = from_file_name(path.name)
    texts, codes, periods, bad_dates = set(), set(), set(), set()
    for sheet, match in sheets:
        cover = read_cover(sheet.grid, match.header_rows[0], wb.date1904)
        if cover.county_text:
            texts.add(cover.county_text)
            code = resolver().resolve(cover.county_text)
            if code is None:
                return _reject(
                    res,
                    "unknown_county",
                    f"封面“填报单位：{cover.county_text}”无法识别为云南省的县（市、区），请填写规范全称",
                    f"the county '{cover.county_text}' on the cover is not a Yunnan county",
                )
            codes.add(code)
        if cover.period:
            periods.add(cover.period)
        elif cover.error:
            bad_dates.add(cover.error)
    if len(codes) > 1:
        return _reject(
            res,
            "county_conflict",
            f"各表填报单位不一致：{'、'.join(sorted(texts))}",
            f"sheets name different counties: {', '.join(sorted(texts))}",
        )
    if len(periods) > 1:
        return _reject(
            res,
            "period_conflict",
            f"各表统计截止时间不一致：{'、'.join(sorted(periods))}",
            f"sheets give different periods: {', '.join(sorted(periods))}",
        )
    code = next(iter(codes), None)
    period = next(iter(periods), None)
    if name_code:
        name_resolved = resolver().resolve(name_code)
        if code and name_resolved and name_resolved != code:
            return _reject(
                res,
                "county_conflict",
                f"文件名的县代码 {name_code} 与封面填报单位“{next(iter(texts))}”（{code}）不一致",
                f"file name county {name_code} differs from the cover's '{next(iter(texts))}' ({code})",
            )
        code = code or name_resolved
    if code is None:
        return _reject(
            res,
            "unknown_county",
            "无法确定填报单位：封面没有“填报单位”，文件名也没有县代码",
            "unknown county: no 填报单位 on the cover and no county code in the file name",
        )
    if period and name_period and period != name_period:
        cover_text = next(iter(bad_dates), None) or period
        return _reject(
            res,
            "period_conflict",
            f"文件名的报告期 {name_period} 与封面统计截止时间（{_cover_date_text(sheets, wb.date1904) or cover_text}，即 {period}）不一致",
            f"file name period {name_period} differs from the cover date ({_cover_date_text(sheets, wb.date1904) or cover_text} = {period})",
        )
    if period is None:
        if bad_dates:
            return _reject(
                res,
                "bad_period",
                f"封面统计截止时间“{next(iter(bad_dates))}”无法识别，请写成如 2019年12月31日",
                f"the cover date '{next(iter(bad_dates))}' cannot be read",
            )
        if name_period is None:
            return _reject(
                res,
                "unknown_period",
                "封面没有统计截止时间，文件名也没有报告期",
                "no statistics date on the cover and no period in the file name",
            )
        period = name_period
    res.county_code, res.period = code, period

    ctx = FileContext(sha256, path.name, code, period, wb.date1904, id_key, column_limits)
    for sheet, match in sheets:
        if match.form.code in res.forms:
            other = res.forms[match.form.code].sheet
            zh, en = compose(
                path.name,
                sheet.name,
                None,
                None,
                None,
                f"与工作表“{other}”是同一张报表，本表未读取；请只保留一张",
                f"same form as sheet '{other}'; this sheet was not read",
            )
            res.findings.append(
                Finding(
                    sha256,
                    path.name,
                    match.form.code,
                    sheet.name,
                    None,
                    None,
                    None,
                    None,
                    "duplicate_form_sheet",
                    "error",
                    zh,
                    en,
                )
            )
            continue
        result = extract_sheet(sheet, match, ctx)
        res.forms[match.form.code] = result
        res.findings.extend(result.findings)
    for name in res.hidden_sheets:
        zh, en = compose(
            path.name,
            name,
            None,
            None,
            None,
            "隐藏的工作表未读取；如需上报请取消隐藏",
            "hidden sheet not read",
        )
        res.findings.append(
            Finding(
                sha256,
                path.name,
                None,
                name,
                None,
                None,
                None,
                None,
                "hidden_sheet",
                "warning",
                zh,
                en,
            )
        )
    return res


def _cover_date_text(sheets, date1904) -> str | None:
    for sheet, match in sheets:
        cover = read_cover(sheet.grid, match.header_rows[0], date1904)
        if cover.date_text:
            return cover.date_text
    return None
