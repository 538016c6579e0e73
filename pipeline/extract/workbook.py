"""Extract one county workbook: identify county and period, recognise each sheet's form,
extract every recognised sheet. Never raises on bad input: an unreadable or
unidentifiable workbook comes back rejected with a one-line reason."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.extract.findings import Finding, compose
from pipeline.extract.header import find_header
from pipeline.extract.identify import from_file_name, read_cover, village_conflict
from pipeline.extract.names import display_name
from pipeline.extract.readers.workbook import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_CHARS,
    Source,
    UnreadableWorkbook,
    open_workbook,
)
from pipeline.extract.sheet import FileContext, SheetResult, extract_sheet
from pipeline.refdata import counties, resolver
from pipeline.run import timing

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
    # where county_code came from: cover | file_name (issue 12 item 8; raw.files)
    identified_from: str | None = None

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
    data: bytes | None = None,
    name: str | None = None,
) -> ExtractResult:
    """Read, identify and extract ``path``; see ``ExtractResult``.

    ``data``: the workbook's bytes when they are not a file of their own (a member of a
    zip read in place); ``name``: the name shown in messages and matched for county and
    period (default: ``path``'s name, decoded as UTF-8 then GB18030, ``pipeline.extract.names``).
    Limits (absolute; ``open_workbook``): ``max_bytes`` of file, ``max_unzipped`` bytes
    of decompressed XML, ``max_cells`` per sheet, ``max_chars`` characters of text
    cells. ``column_limits``: plausible ranges overriding the form specs
    (``Settings.column_limits``). Never raises on bad input (a reader that crashes or
    runs out of memory is contained by ``pipeline.run.contain``).
    """
    # The grid is a million small objects that live until the end: the cyclic collector
    # would walk them again and again for nothing (reference counting frees them).
    collecting = gc.isenabled()
    gc.disable()
    try:
        source = Source(path if data is None else data, name or display_name(path.name))
        res = _extract(
            source, sha256, max_bytes, max_unzipped, id_key, max_cells, max_chars, column_limits
        )
        timing.add_rows("read", res.rows_read)
        return res
    finally:
        if collecting:
            gc.enable()


class _Rejected(Exception):
    """A workbook that cannot be identified: (reason, message zh, message en)."""

    def __init__(self, reason: str, zh: str, en: str):
        super().__init__(reason)
        self.reason, self.zh, self.en = reason, zh, en


def _extract(
    source, sha256, max_bytes, max_unzipped, id_key, max_cells, max_chars, column_limits=None
) -> ExtractResult:
    file_name = source.name
    res = ExtractResult(sha256, file_name)
    try:
        with timing.stage("read"):
            wb = open_workbook(
                source.path or source.data,
                max_bytes,
                max_unzipped,
                max_cells,
                max_chars,
                name=file_name,
            )
    except UnreadableWorkbook as exc:
        return _reject(res, exc.reason, exc.message_zh, exc.message_en)
    res.reader = wb.reader
    sheets = _form_sheets(wb, res)
    try:
        if not sheets:
            raise _no_form(wb, res.hidden_sheets)
        code, period, found_in = _county_and_period(file_name, sheets, wb.date1904)
    except _Rejected as r:
        return _reject(res, r.reason, r.zh, r.en)
    res.county_code, res.period, res.identified_from = code, period, found_in
    ctx = FileContext(sha256, file_name, code, period, wb.date1904, id_key, column_limits)
    for sheet, match in sheets:
        if match.form.code in res.forms:
            other = res.forms[match.form.code].sheet
            res.findings.append(
                _sheet_finding(
                    ctx,
                    match.form.code,
                    sheet.name,
                    "duplicate_form_sheet",
                    "error",
                    f"与工作表“{other}”是同一张报表，本表未读取；请只保留一张",
                    f"same form as sheet '{other}'; this sheet was not read",
                )  # fmt: skip
            )
            continue
        result = extract_sheet(sheet, match, ctx)
        res.forms[match.form.code] = result
        res.findings.extend(result.findings)
    if (conflict := village_conflict(ctx.village_codes, code, period)) is not None:
        return _reject_conflict(res, conflict)
    for name in res.hidden_sheets:
        res.findings.append(
            _sheet_finding(
                ctx,
                None,
                name,
                "hidden_sheet",
                "warning",
                "隐藏的工作表未读取；如需上报请取消隐藏",
                "hidden sheet not read",
            )  # fmt: skip
        )
    return res


def _form_sheets(wb, res: ExtractResult) -> list:
    """[(sheet, header match)] of the visible sheets whose header is recognised; hidden
    sheets are listed in ``res.hidden_sheets``."""
    sheets = []
    for sheet in wb.sheets:
        if sheet.state != "visible":
            res.hidden_sheets.append(sheet.name)
            continue
        match = find_header(sheet.grid, sheet.merges)
        if match is not None:
            sheets.append((sheet, match))
    return sheets


def _no_form(wb, hidden_sheets: list[str]) -> _Rejected:
    """Why a workbook without a recognised sheet is rejected: no form, or empty."""
    hidden_zh = hidden_en = ""
    if hidden_sheets:
        names = "、".join(f"“{n}”" for n in hidden_sheets)
        hidden_zh = f"（隐藏的工作表{names}未读取，如需上报请取消隐藏）"
        hidden_en = f" (hidden sheets not read: {', '.join(hidden_sheets)})"
    if any(s.grid.height for s in wb.sheets):
        return _Rejected(
            "no_form_found",
            f"未找到任何标准报表（表头无法识别）{hidden_zh}，请使用标准模板填报",
            f"no form found: no visible sheet has a recognisable header{hidden_en}",
        )
    return _Rejected(
        "no_form_found",  # a workbook without content holds no form (reason class)
        f"工作簿中没有任何内容{hidden_zh}，请重新报送",
        f"the workbook is empty{hidden_en}",
    )


def _sheet_finding(ctx: FileContext, form, sheet: str, rule, severity, zh, en) -> Finding:
    """A finding about a whole sheet (no row, no cell)."""
    mzh, men = compose(ctx.file_name, sheet, None, None, None, zh, en)
    return Finding(ctx.sha256, ctx.file_name, form, sheet, None, None, None, None, rule,
                   severity, mzh, men)  # fmt: skip


def _county_and_period(file_name: str, sheets, date1904) -> tuple[str, str, str]:
    """County code, period and where the county came from (``cover`` | ``file_name``,
    issue 12 item 8): from the covers, then the file name.

    Raises ``_Rejected`` when a cover names an unknown county, the covers or the file
    name disagree, or either is found nowhere.
    """
    name_code, name_period = from_file_name(file_name)
    texts, codes, periods, bad_dates = _read_covers(sheets, date1904)
    if len(codes) > 1:
        raise _Rejected(
            "county_conflict",
            f"各表填报单位不一致：{'、'.join(sorted(texts))}",
            f"sheets name different counties: {', '.join(sorted(texts))}",
        )
    if len(periods) > 1:
        raise _Rejected(
            "period_conflict",
            f"各表统计截止时间不一致：{'、'.join(sorted(periods))}",
            f"sheets give different periods: {', '.join(sorted(periods))}",
        )
    code, found_in = _county(next(iter(codes), None), name_code, texts)
    period = next(iter(periods), None)
    if period and name_period and period != name_period:
        shown = _cover_date_text(sheets, date1904) or next(iter(bad_dates), None) or period
        raise _Rejected(
            "period_conflict",
            f"文件名的报告期 {name_period} 与封面统计截止时间（{shown}，即 {period}）不一致",
            f"file name period {name_period} differs from the cover date ({shown} = {period})",
        )
    if period is None:
        if bad_dates:
            raise _Rejected(
                "bad_period",
                f"封面统计截止时间“{next(iter(bad_dates))}”无法识别，请写成如 2019年12月31日",
                f"the cover date '{next(iter(bad_dates))}' cannot be read",
            )
        if name_period is None:
            raise _Rejected(
                "unknown_period",
                "封面没有统计截止时间，文件名也没有报告期",
                "no statistics date on the cover and no period in the file name",
            )
        period = name_period
    return code, period, found_in


def _read_covers(sheets, date1904):
    """(county texts, county codes, periods, unreadable dates) the covers give.

    Raises ``_Rejected`` at the first county text that is not a Yunnan county."""
    texts, codes, periods, bad_dates = set(), set(), set(), set()
    for sheet, match in sheets:
        cover = read_cover(sheet.grid, match.header_rows[0], date1904)
        if cover.county_text:
            texts.add(cover.county_text)
            code = resolver().resolve(cover.county_text)
            if code is None:
                raise _Rejected(
                    "unknown_county",
                    f"封面“填报单位：{cover.county_text}”无法识别为云南省的县（市、区），请填写规范全称",
                    f"the county '{cover.county_text}' on the cover is not a Yunnan county",
                )
            codes.add(code)
        if cover.period:
            periods.add(cover.period)
        elif cover.error:
            bad_dates.add(cover.error)
    return texts, codes, periods, bad_dates


def _county(code: str | None, name_code: str | None, texts: set[str]) -> tuple[str, str]:
    """The cover's county, checked against (or else taken from) the file name's code;
    with where it came from: ``cover`` or ``file_name``."""
    source = "cover" if code else None
    if name_code:
        name_resolved = resolver().resolve(name_code)
        if code and name_resolved and name_resolved != code:
            raise _Rejected(
                "county_conflict",
                f"文件名的县代码 {name_code} 与封面填报单位“{next(iter(texts))}”（{code}）不一致",
                f"file name county {name_code} differs from the cover's '{next(iter(texts))}' ({code})",
            )
        if code is None and name_resolved:
            code, source = name_resolved, "file_name"
    if code is None:
        raise _Rejected(
            "unknown_county",
            "无法确定填报单位：封面没有“填报单位”，文件名也没有县代码",
            "unknown county: no 填报单位 on the cover and no county code in the file name",
        )
    return code, source


def _reject_conflict(res: ExtractResult, conflict: tuple[str, int, int]) -> ExtractResult:
    """Most village codes belong to another county (issue 12 item 7): the whole file is
    rejected, naming both counties; it stays attributed to the county it claims."""
    other, n, total = conflict
    own = _county_label(res.county_code)
    theirs = _county_label(other)
    res.findings = []  # its rows are not read: no row-level findings either
    return _reject(
        res,
        "county_conflict",
        f"封面填报单位为{own}，但 {total} 个村代码中有 {n} 个属于{theirs}："
        "这可能是其他县的报表，整个文件未读取；请核对后重新报送本县的报表",
        f"the cover names {own} but {n} of its {total} village codes belong to {theirs}: "
        "probably another county's workbook; the whole file was not read",
    )


def _cover_date_text(sheets, date1904) -> str | None:
    for sheet, match in sheets:
        cover = read_cover(sheet.grid, match.header_rows[0], date1904)
        if cover.date_text:
            return cover.date_text
    return None
