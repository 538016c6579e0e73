"""Turn one recognised sheet into typed rows, quarantined rows and findings.

Rows below the header are classified (``rows``); data rows get their township
filled down, every cell coerced by its column's kind (``coerce``), personal data
pseudonymised, then the typed frame is validated with the form's pandera schema.
A row with any error goes to quarantine with its original cells; warnings keep
the row. Reported totals and subtotals are compared with the rows they cover.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from itertools import zip_longest
from operator import itemgetter

import pandas as pd
import pandera.errors

from pipeline.extract import coerce as co
from pipeline.extract import coverage
from pipeline.extract import rows as rowkind
from pipeline.extract.findings import Finding, compose, display_text
from pipeline.extract.header import HeaderMatch, header_unit
from pipeline.extract.limits import flag_implausible
from pipeline.extract.personal import header_kind, holds_id, normalise_id, pseudonym
from pipeline.extract.readers.workbook import SheetData
from pipeline.extract.readers.xlsx_meta import cell_ref
from pipeline.refdata import valid_village_prefixes
from pipeline.run import timing
from schemas import FORMS
from schemas.columns import PERSONAL_KINDS, VILLAGE_CODE_MESSAGE, Col, Form, is_village_code
from schemas.validation import pandera_schema

PANDAS_DTYPES = {
    "VARCHAR": "str",
    "BIGINT": "Int64",
    "INTEGER": "Int64",
    "DECIMAL(18,2)": "Int64",  # fen; scaled to yuan when loaded into DuckDB
    "DOUBLE": "float64",
    "BOOLEAN": "boolean",
    "DATE": "datetime64[us]",
}
MONEY_KINDS = ("money", "yuan")


@dataclass
class FileContext:
    """What the extractor knows about the workbook a sheet belongs to."""

    sha256: str
    file_name: str
    county_code: str | None
    period: str | None
    date1904: bool = False
    id_key: bytes | None = None
    column_limits: dict | None = None  # TPA_COLUMN_LIMITS overrides (limits.check_overrides)
    # every well-formed village code of the file's sheets (issue 12 item 7: a workbook
    # whose villages mostly belong to another county is rejected whole)
    village_codes: set[str] = field(default_factory=set)


@dataclass
class SheetResult:
    """One sheet's outcome.

    valid: canonical staged columns (``schemas.staged_columns``; money in fen, Int64)
    plus ``sheet`` and ``excel_row``; quarantine: dicts (form, sheet, excel_row,
    cells JSON); rows_read = len(valid) + len(quarantine).
    """

    form: str
    sheet: str
    header_rows: list[int]
    valid: pd.DataFrame
    quarantine: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rows_read: int = 0
    rejected: bool = False
    columns_not_data: list[str] = field(default_factory=list)  # 序号, 备注: counted only
    # set by ``extracts.load(frames=False)``: the valid rows stay in their Parquet file
    # (with county_code, period and file_sha256 beside them) and ``valid`` is empty
    parquet: str | None = None
    loaded: int | None = None

    @property
    def rows_loaded(self) -> int:
        return self.loaded if self.loaded is not None else len(self.valid)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)


class _Row:
    __slots__ = ("i", "r", "values", "errors", "warnings")

    def __init__(self, i: int, r: int, values: dict):
        self.i = i  # position among the sheet's data rows (index into the typed columns)
        self.r = r
        self.values = values  # canonical name -> raw value
        self.errors: list[tuple] = []  # (cols, rule, zh, en)
        self.warnings: list[tuple] = []


def empty_frame(form: str | Form) -> pd.DataFrame:
    """A frame of no rows with ``form``'s staged columns, ``sheet`` and ``excel_row``."""
    return _empty_frame(FORMS[form] if isinstance(form, str) else form).copy()


@cache
def _empty_frame(form: Form) -> pd.DataFrame:
    cols = {n: pd.Series(dtype=PANDAS_DTYPES[t]) for n, t in form.staged_columns()}
    cols["sheet"] = pd.Series(dtype="str")
    cols["excel_row"] = pd.Series(dtype="Int64")
    return pd.DataFrame(cols)


def _in_merge(merges, r: int, c: int):
    for (r0, c0), (r1, c1) in merges:
        if r0 <= r <= r1 and c0 <= c <= c1:
            return (r0, c0)
    return None


@dataclass
class _Work:
    """What every step of one sheet's extraction shares: the sheet, its header match,
    the file, and the result the findings and quarantined rows go into."""

    sheet: SheetData
    match: HeaderMatch
    ctx: FileContext
    res: SheetResult
    header_by_col: dict[int, str]
    personal_cols: set[int]

    @property
    def form(self) -> Form:
        return self.match.form

    @property
    def cols(self) -> dict[str, int]:
        return self.match.columns

    @property
    def grid(self):
        return self.sheet.grid

    @property
    def fwv(self) -> set:
        meta = self.sheet.meta
        return meta.formula_without_value if meta else set()

    @property
    def ftext(self) -> dict:
        meta = self.sheet.meta
        return meta.formula_text if meta else {}

    def finding(self, row, ref, header, text, rule, severity, zh, en) -> None:
        """Append one Finding; a whole row (no cell ref) is named by its row number."""
        ctx, name = self.ctx, self.sheet.name
        if ref is None and row is not None:  # a whole row: name it
            mzh = compose(ctx.file_name, f"{name} 第{row}行", None, header, text, zh, en)[0]
            men = compose(ctx.file_name, f"{name} row {row}", None, header, text, zh, en)[1]
        else:
            mzh, men = compose(ctx.file_name, name, ref, header, text, zh, en)
        self.res.findings.append(
            Finding(
                ctx.sha256,
                ctx.file_name,
                self.form.code,
                name,
                row,
                ref,
                header,
                text,
                rule,
                severity,
                mzh,
                men,
            )  # fmt: skip
        )

    def quarantine(self, r: int, withheld) -> None:
        """Keep sheet row ``r`` (0-based) as a quarantine row, IDs withheld."""
        self.res.quarantine.append(
            _qrow(
                self.form.code,
                self.sheet.name,
                r,
                self.grid,
                self.header_by_col,
                self.personal_cols,
                withheld,
                self.ftext,
            )  # fmt: skip
        )


def extract_sheet(sheet: SheetData, match: HeaderMatch, ctx: FileContext) -> SheetResult:
    """Extract one sheet whose header was recognised as ``match.form``.

    Never raises on bad input: every problem becomes a Finding. A sheet missing a
    required column, or with two headers on one canonical column, is rejected
    (one sheet-level error) and all its data rows are counted as quarantined.
    Timed as the stages ``coerce`` (rows classified, cells typed) and ``validate``
    (pandera, findings, totals) when ``TPA_TIMINGS_FILE`` is set.
    """
    clock = timing.start()
    form, cols = match.form, match.columns
    header_by_col = {lb.col: lb.text for lb in match.labels}
    personal_cols = {
        cols[c.name] for c in form.columns if c.kind in PERSONAL_KINDS and c.name in cols
    } | {c for c, h in header_by_col.items() if header_kind(h)}  # by rule [issue 11]
    res = SheetResult(form.code, sheet.name, [r + 1 for r in match.header_rows], empty_frame(form))
    w = _Work(sheet, match, ctx, res, header_by_col, personal_cols)

    label_cols = [cols[n] for n in form.label_columns if n in cols] + [0, 1, 2]
    data, totals, order = _classify_rows(w, label_cols)
    res.rows_read = len(data)
    id_cells = _misplaced_ids(w.grid, data, personal_cols, cols)  # [issue 11]
    _report_unread_columns(w, data)
    if _reject_sheet(w, data, id_cells):
        return res
    _report_missing_and_hidden(w, data)

    col_specs = {c.name: c for c in form.columns if c.name in cols}
    fmts = sheet.meta.formats if sheet.meta else {}
    if "township" in cols:
        _fill_down_township(w, data)
    typed = _coerce_rows(w, data, col_specs, fmts)
    timing.stop("coerce", clock, res.rows_read)

    clock = timing.start()
    frame = _frame(form, typed, len(data))
    _validate(form, frame, data)
    flag_implausible(form.code, col_specs, typed, data, match.header_text, ctx.column_limits)
    for i, cs in id_cells.items():
        rule, _, zh, en = _ID_MISPLACED
        data[i].errors[:0] = [((c,), rule, zh, en) for c in cs]
    ok_idx = _report_rows(w, data, col_specs, id_cells)
    valid = frame if len(ok_idx) == len(frame) else frame.iloc[ok_idx].reset_index(drop=True)
    valid["sheet"] = pd.Series([sheet.name] * len(valid), dtype="str")
    valid["excel_row"] = pd.Series([data[i].r + 1 for i in ok_idx], dtype="Int64")
    res.valid = valid[_empty_frame(form).columns]

    layout = _Layout(w.grid, sheet.merges, cols, col_specs, match, fmts, w.fwv, label_cols)
    _reconcile(res, data, typed, totals, order, layout, w.finding)
    timing.stop("validate", clock, res.rows_read)
    return res


def _classify_rows(w: _Work, label_cols: list[int]):
    """Sort the rows below the header into data rows and total rows, in sheet order.

    Returns (data rows, [(r, total kind)], [('data'|kind, index or r)]); blank rows,
    a column-number row and everything from the footer on are skipped (numbers below
    the footer are a warning).
    """
    grid, meta, cols = w.grid, w.sheet.meta, w.cols
    data: list[_Row] = []
    totals: list[tuple[int, str]] = []  # (r, kind)
    order: list[tuple[str, int]] = []  # ('data'|'subtotal'|'total', index/r) in sheet order
    start = w.match.header_rows[-1] + 1
    end = grid.first_row + grid.height
    if meta and meta.max_row:  # a last row of formulas without values is beyond the grid
        end = max(end, meta.max_row)
    footer_at = None
    fwv = w.fwv
    names = list(cols)
    mapped_of = _getter(grid, [cols[n] for n in names])
    labels_of = _getter(grid, label_cols)
    is_blank = rowkind.is_blank
    for r in range(start, end):
        i = r - grid.first_row
        raw = grid.rows[i] if 0 <= i < len(grid.rows) else []
        vals = mapped_of(raw)
        mapped = dict(zip(names, vals, strict=True))
        has_fwv = bool(fwv) and any((r, c) in fwv for c in cols.values())
        mapped_blank = True
        for v in vals:  # inlined rowkind.is_blank: this runs for every row
            if v is None or (v.__class__ is str and (not v or v.isspace())):
                continue
            mapped_blank = False
            break
        if mapped_blank and all(is_blank(v) for v in raw) and not has_fwv:
            continue
        if footer_at is not None or rowkind.is_footer(raw):
            if footer_at is None:
                footer_at = r
            elif any(not rowkind.is_blank(v) and not isinstance(v, str) for v in mapped.values()):
                w.finding(r + 1, None, None, None, *_ROWS_AFTER_FOOTER)
            continue
        if mapped_blank and not has_fwv:
            continue
        if not data and rowkind.is_column_number_row(list(mapped.values())):
            continue
        kind = rowkind.total_kind(labels_of(raw))
        if kind:
            totals.append((r, kind))
            order.append((kind, r))
            continue
        data.append(_Row(len(data), r, mapped))
        order.append(("data", len(data) - 1))
    return data, totals, order


_ROWS_AFTER_FOOTER = (
    "rows_after_footer",
    "warning",
    "表尾说明之后还有数据，未读取；请把数据放在表尾之前",
    "numbers below the footer lines were not read; put data above the footer",
)


def _report_unread_columns(w: _Work, data: list[_Row]) -> None:
    """Columns that hold data and were not read (issue 12): a warning at the header cell."""
    not_read, w.res.columns_not_data = coverage.unread_columns(w.grid, w.match, [d.r for d in data])
    for c, label in not_read:
        row_, ref_ = coverage.header_cell(w.match, c, label)
        zh, en = coverage.not_read_message(w.form, w.match, label)
        w.finding(row_, ref_, label.text if label else None, None, coverage.RULE_NOT_READ,
                  "warning", zh, en)  # fmt: skip


def _reject_sheet(w: _Work, data: list[_Row], id_cells: dict) -> bool:
    """A required column missing or two headers on one column: one sheet-level error,
    every data row quarantined. True when the sheet was rejected."""
    form, match, header_by_col = w.form, w.match, w.header_by_col
    problems_zh, problems_en = [], []
    if match.missing_required:
        miss = [form.col(n).header_zh for n in match.missing_required]
        problems_zh.append(f"缺少必需的列：{'、'.join(miss)}")
        problems_en.append(f"required columns not found: {', '.join(match.missing_required)}")
    for name, cs in match.duplicates.items():
        std = coverage.standard_header(form.col(name))
        zh_cols = "、".join(f"{coverage.letter(c)}列“{header_by_col.get(c, '?')}”" for c in cs)
        en_cols = ", ".join(
            f"column {coverage.letter(c)} '{header_by_col.get(c, '?')}'" for c in cs
        )
        problems_zh.append(f"多列表头都对应“{std}”：{zh_cols}，请只保留一列")
        problems_en.append(f"several columns map to {name}: {en_cols}")
    if not problems_zh:
        return False
    found = "、".join(h for h in match.found if h)
    w.finding(
        None,
        None,
        None,
        None,
        "sheet_rejected",
        "error",
        "；".join(problems_zh) + f"。本表找到的表头：{found}。请按标准表头修改后重新报送",
        "; ".join(problems_en) + f". Headers found: {found}",
    )
    w.res.rejected = True
    for row in data:
        for c in id_cells.get(row.i, ()):
            w.finding(row.r + 1, cell_ref(row.r, c), header_by_col.get(c), None, *_ID_MISPLACED)
        w.quarantine(row.r, id_cells.get(row.i))
    return True


def _report_missing_and_hidden(w: _Work, data: list[_Row]) -> None:
    """Warnings for optional columns not found (issue 12: which indicators it costs)
    and for hidden columns that were read."""
    form, match, cols, meta = w.form, w.match, w.cols, w.sheet.meta
    for name in match.missing_optional:
        zh, en = coverage.missing_message(form, name)
        header = coverage.standard_header(form.col(name))
        w.finding(None, None, header, None, coverage.RULE_MISSING, "warning", zh, en)
    hidden_cols = [n for n, c in cols.items() if meta and c in meta.hidden_cols]
    if hidden_cols and data:
        hr = match.header_rows[-1]
        w.finding(
            hr + 1,
            ",".join(cell_ref(hr, cols[n]) for n in hidden_cols),
            "、".join(match.header_text.get(n, n) for n in hidden_cols),
            None,
            "hidden_columns",
            "warning",
            "这些列被隐藏，已照常读取；如不应上报请删除这些列",
            "these columns are hidden; they were read as usual",
        )


def _fill_down_township(w: _Work, data: list[_Row]) -> None:
    """Fill a blank township from its merged cell, else from the row above (a warning)."""
    c = w.cols["township"]
    prev = None
    for row in data:
        v = row.values["township"]
        if rowkind.is_blank(v):
            top = _in_merge(w.sheet.merges, row.r, c)
            if top and not rowkind.is_blank(w.grid.value(*top)):
                row.values["township"] = w.grid.value(*top)
            elif prev is not None:
                row.values["township"] = prev
                row.warnings.append(
                    (
                        (("township"),),
                        "township_filled_down",
                        f"乡（镇）为空，已按上一行填为“{prev}”；如不对请补填",
                        f"blank township filled from the row above ('{prev}')",
                    )
                )
        if not rowkind.is_blank(row.values["township"]):
            prev = row.values["township"]


def _coerce_rows(w: _Work, data: list[_Row], col_specs: dict, fmts: dict) -> dict[str, list]:
    """Type every cell, column by column ({staged name: values}); a value seen before in
    the column is not parsed again. Hidden rows get a warning; codes and household IDs
    are checked."""
    hidden = w.sheet.meta.hidden_rows if w.sheet.meta else set()
    for row in data:
        if row.r in hidden:
            row.warnings.append(
                (
                    (),
                    "hidden_row",
                    "该行被隐藏，已读取；如不应上报请删除该行",
                    "this row is hidden; it was loaded",
                )
            )
    typed: dict[str, list] = {}
    for name, spec in col_specs.items():
        typed[spec.staged_name or name] = _coerce_column(
            spec, name, w.cols[name], data, fmts, w.fwv, w.ctx, w.match.header_text.get(name),
            w.ftext,
        )  # fmt: skip
    _check_codes(data, typed, w.ctx)
    if w.form.code == "households":
        _duplicate_household_ids(data, typed)
    return typed


def _report_rows(w: _Work, data: list[_Row], col_specs: dict, id_cells: dict) -> list[int]:
    """Each row's errors and warnings become findings; a row with an error is quarantined.
    Returns the indexes of the rows that load."""
    ok_idx = []
    for i, row in enumerate(data):
        if not row.errors and not row.warnings:
            ok_idx.append(i)
            continue
        seen: set = set()
        for cols_, rule, zh, en, sev in [(*e, "error") for e in row.errors] + [
            (*x, "warning") for x in row.warnings
        ]:
            if (tuple(cols_), rule) in seen:  # e.g. required_missing from coerce and pandera
                continue
            seen.add((tuple(cols_), rule))
            header, text = _cells_shown(w, row, cols_, rule, col_specs, id_cells.get(i, ()))
            refs = (
                ",".join(
                    cell_ref(row.r, n if isinstance(n, int) else w.cols[n])
                    for n in cols_
                    if isinstance(n, int) or n in w.cols
                )
                or None
            )  # a column is a canonical name, or a sheet column (int) for a misplaced ID
            w.finding(row.r + 1, refs, header, text, rule, sev, zh, en)
        if row.errors:
            w.quarantine(row.r, id_cells.get(i))
        else:
            ok_idx.append(i)
    return ok_idx


def _cells_shown(w: _Work, row: _Row, cols_, rule: str, col_specs: dict, withheld):
    """(header, text) a finding on ``cols_`` of ``row`` shows; personal values and
    withheld ID cells are never shown."""
    cols, grid, header_text = w.cols, w.grid, w.match.header_text
    first = cols_[0] if cols_ else None
    header = None
    text = None
    if isinstance(first, int):
        header = w.header_by_col.get(first)
    elif first and first in cols:
        header = header_text.get(first)
        personal = col_specs[first].kind in PERSONAL_KINDS if first in col_specs else False
        if not personal and cols[first] not in withheld:
            text = display_text(grid.value(row.r, cols[first])) or None
            if rule == "formula_without_value":
                text = w.ftext.get((row.r, cols[first]), text)  # the formula, as text
    if len(cols_) > 1:
        header = "、".join(header_text.get(n, n) for n in cols_ if n in cols)
        text = "、".join(
            display_text(grid.value(row.r, cols[n])) if cols[n] not in withheld else "…"
            for n in cols_
            if n in cols
            if col_specs[n].kind not in PERSONAL_KINDS
        )
    return header, text


def _coerce(spec: Col, cell: co.Cell, ctx: FileContext, header: str | None):
    k = spec.kind
    if k in ("text",):
        return co.parse_text(cell)
    if k == "code":
        return co.parse_code(cell)
    if k == "count":
        return co.parse_count(cell)
    if k in MONEY_KINDS:
        unit = header_unit(header)
        if unit not in ("元", "万元"):  # no unit, or not a money unit: the form's own
            unit = "万元" if k == "money" else "元"
        return co.parse_money_fen(cell, unit=unit)
    if k == "percent":
        return co.parse_percent_points(cell)
    if k == "bool":
        return co.parse_bool(cell)
    if k == "date":
        return co.parse_date(cell, ctx.date1904)
    if k == "year":
        return co.parse_year(cell)
    if k == "enum":
        return co.parse_choice(cell, spec.choices)
    if k == "person_name":
        return None  # dropped: never stored
    if k == "id_number":
        text = co.parse_code(cell)
        if text is None:
            return None
        norm = normalise_id(text)
        if norm is None:
            raise co.CellError(
                "bad_id_number",
                "身份证号码不是有效的18位号码（长度或校验位不对），请核对",
                "not a valid 18-character ID number (length or check digit)",
            )
        if ctx.id_key is None:
            raise RuntimeError("an ID key is needed to pseudonymise the household ledger")
        return pseudonym(ctx.id_key, norm)
    raise ValueError(f"unknown column kind {k}")


def _getter(grid, columns: list[int]):
    """A function: one row of ``grid.rows`` -> the values of absolute ``columns`` (a list;
    ``''`` beyond the row)."""
    js = [c - grid.first_col for c in columns]
    width = min((len(r) for r in grid.rows), default=0)
    if js and all(0 <= j < width for j in js):  # calamine's rows are dense: the usual case
        get = itemgetter(*js)
        if len(js) == 1:
            return lambda raw: [get(raw)] if raw else [""]
        return lambda raw: list(get(raw)) if raw else [""] * len(js)
    return lambda raw: [raw[j] if 0 <= j < len(raw) else "" for j in js]


def _coerce_column(
    spec: Col, name: str, c: int, data: list[_Row], fmts, fwv, ctx: FileContext, header,
    ftext=None,
) -> list:  # fmt: skip
    """Typed values of column ``name`` (sheet column ``c``) for every data row; a cell that
    cannot be read is None and adds its error to the row. A formula saved without a value
    (issue 12) is an error only in a column a data row requires (``row_required``);
    elsewhere it is None with a warning naming its formula (``ftext``: (row, col) ->
    ``=…``), so the rules that need it are not evaluated for that row.

    Coercion depends only on the cell (its value and the value's type, number format,
    formula flag), so each distinct cell of the column is parsed once and the rest is
    lookups done by the interpreter's C loops.
    """
    if spec.kind == "person_name" and not spec.row_required:
        return [None] * len(data)  # dropped unread: never stored, nothing to check
    values = [row.values[name] for row in data]
    parts = [map(type, values), values]
    if fmts:
        parts.append([fmts.get((row.r, c)) for row in data])
    if fwv:
        parts.append([(row.r, c) in fwv for row in data])
    keys = list(zip(*parts, strict=True))
    try:
        memo = dict.fromkeys(keys)
    except TypeError:  # an unhashable value (never from calamine): no sharing
        memo = None
    results = []
    for k in memo if memo is not None else keys:
        v = k[1]
        cell = co.Cell(v, is_text=isinstance(v, str), number_format=k[2] if fmts else None,
                       formula_without_value=bool(k[-1]) if fwv else False)  # fmt: skip
        try:
            hit = (_coerce(spec, cell, ctx, header), None)
        except co.CellError as e:
            hit = (None, ((name,), e.rule, e.message_zh, e.message_en))
        if memo is not None:
            memo[k] = hit
        else:
            results.append(hit)
    if memo is not None:
        results = list(map(memo.__getitem__, keys))
    out = [h[0] for h in results]
    distinct = memo.values() if memo is not None else results
    if not any(e is not None or (v is None and spec.row_required) for v, e in distinct):
        return out
    missing = ((name,), "required_missing", "必填项为空，请填写", "required value is empty")
    for row, (value, error) in zip(data, results, strict=True):
        if error is not None and error[1] == "formula_without_value" and not spec.row_required:
            row.warnings.append(_formula_warning(name, (ftext or {}).get((row.r, c))))
        elif error is not None:
            row.errors.append(error)
        elif value is None and spec.row_required:
            row.errors.append(missing)
    return out


def _formula_warning(name: str, text: str | None) -> tuple:
    """The row warning of a formula saved without a value in an optional column."""
    zh_f = f"此格是公式“{text}”" if text else "此格是公式"
    en_f = f"formula {text}" if text else "a formula"
    return (
        (name,),
        "formula_without_value",
        f"{zh_f}，但文件中没有保存计算结果，已按空值读取，相关检查未做；"
        "请用 Excel 或 WPS 打开该文件，保存后重新报送",
        f"{en_f} saved without a value: loaded as empty, its checks skipped; "
        "open the file in Excel or WPS, save it and resend",
    )


def _check_codes(data: list[_Row], typed: dict[str, list], ctx: FileContext) -> None:
    codes = typed.get("village_code")
    if codes is None:
        return
    prefixes = (
        valid_village_prefixes(ctx.county_code, ctx.period)
        if ctx.county_code and ctx.period
        else None
    )
    for row in data:
        code = codes[row.i]
        if code is None:
            continue
        if not is_village_code(code):
            row.errors.append(
                (
                    ("village_code",),
                    "bad_code",
                    *VILLAGE_CODE_MESSAGE,
                )
            )
            codes[row.i] = None
            continue
        ctx.village_codes.add(code)
        if prefixes is not None and code[:6] not in prefixes:
            row.errors.append(
                (
                    ("village_code",),
                    "village_code_county",
                    f"村代码前6位应为本县代码{ctx.county_code}，请核对",
                    f"a village code must start with the county code {ctx.county_code}",
                )
            )
            codes[row.i] = None


def _duplicate_household_ids(data: list[_Row], typed: dict[str, list]) -> None:
    ids = typed["household_id"]
    counts = Counter(ids)
    counts.pop(None, None)
    if not counts or max(counts.values()) == 1:
        return
    seen: dict[str, list[_Row]] = {}
    for row in data:
        hid = ids[row.i]
        if hid is not None:
            seen.setdefault(hid, []).append(row)
    for rows_ in seen.values():
        if len(rows_) > 1:
            others = "、".join(str(r.r + 1) for r in rows_)
            for row in rows_:
                row.errors.append(
                    (
                        ("household_id",),
                        "duplicate_household_id",
                        f"户编号重复（第{others}行），无法判断哪行正确，请核对",
                        f"household id repeated in rows {others}",
                    )
                )


def _frame(form: Form, typed: dict[str, list], n: int) -> pd.DataFrame:
    cols = {}
    for name, typ in form.staged_columns():
        values = typed.get(name, [None] * n)
        if typ == "DATE":
            cols[name] = pd.to_datetime(pd.Series(values, dtype="object"), errors="raise").astype(
                "datetime64[us]"
            )
        else:
            cols[name] = pd.Series(values, dtype=PANDAS_DTYPES[typ])
    return pd.DataFrame(cols)


@cache
def _schema(form: Form):
    """The pandera schema derived from ``form`` (built once per form)."""
    return pandera_schema(form)


def _validate(form: Form, frame: pd.DataFrame, data: list[_Row]) -> None:
    """Run the form's pandera schema lazily; attach each failure to its row (index =
    position): a cross-column rule (``form.rule``) with its own severity and messages,
    a column check as an error of the cell."""
    if frame.empty:
        return
    try:
        _schema(form).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        seen = set()
        for rec in fc.itertuples(index=False):
            idx = rec.index
            if idx is None or (isinstance(idx, float) and pd.isna(idx)):
                raise RuntimeError(
                    f"schema-level failure in {form.code}: {rec.check} {rec.failure_case}"
                ) from exc
            idx = int(idx)
            check = str(rec.check)
            column = (
                rec.column if isinstance(rec.column, str) and rec.column in frame.columns else None
            )
            rule = form.rule(check)
            key = (idx, check, column if rule is None else None)
            if key in seen:
                continue
            seen.add(key)
            row = data[idx]
            if rule is not None:
                entry = (rule.columns, rule.name, rule.message_zh, rule.message_en)
                (row.warnings if rule.severity == "warning" else row.errors).append(entry)
            else:
                if column in form.staged:  # the spec's name (head_id_hash -> head_id_number)
                    column = form.staged[column].name
                if column and any(column in e[0] for e in row.errors):
                    continue  # the cell already failed to parse: one error per cell
                zh, en = _field_message(check)
                row.errors.append(((column,) if column else (), _field_rule(check), zh, en))


def _field_rule(check: str) -> str:
    if check.startswith("greater_than_or_equal_to"):
        return "negative"
    if check.startswith("isin"):
        return "not_a_choice"
    if check.startswith("not_nullable"):
        return "required_missing"
    if check.startswith("str_matches"):
        return "bad_code"
    if check.startswith("less_than_or_equal_to") or check.startswith("in_range"):
        return "out_of_range"
    return check.split("(")[0]


def _field_message(check: str) -> tuple[str, str]:
    rule = _field_rule(check)
    return {
        "negative": ("不能为负数，请核对", "must not be negative"),
        "not_a_choice": ("不是规定的选项，请按表中说明填写", "not one of the allowed values"),
        "required_missing": ("必填项为空，请填写", "required value is empty"),
        "bad_code": ("代码格式不对，请核对", "the code has the wrong form"),
        "out_of_range": ("数值超出合理范围，请核对", "value out of the allowed range"),
    }.get(rule, (f"未通过检查 {check}，请核对", f"failed check {check}"))


def _qrow(form, sheet, r, grid, header_by_col, personal_cols, withheld=None, ftext=None) -> dict:
    """A quarantined row: its cells by header as the clerk wrote them (a formula saved
    without a value as its text, ``=…``), without personal columns; a cell holding a
    misplaced ID number (``withheld``: sheet columns) is kept as null."""
    cells = {}
    for c, header in header_by_col.items():
        if c in personal_cols:
            continue
        v = grid.value(r, c)
        if v in (None, ""):
            v = (ftext or {}).get((r, c))
        if v in (None, ""):
            continue
        key = header or cell_ref(r, c)
        while key in cells:
            key += "'"
        if withheld and c in withheld:
            cells[key] = None
            continue
        cells[key] = display_text(v) if not hasattr(v, "isoformat") else v.isoformat()
    return {
        "form": form,
        "sheet": sheet,
        "excel_row": r + 1,
        "cells": json.dumps(cells, ensure_ascii=False),
    }


_ID_MISPLACED = (
    "personal_data_misplaced",
    "error",
    "该单元格含有身份证号码，个人信息不能填在此列，也不会被保存；本行未入库，"
    "请删除该号码（户主身份证号只填在“户主身份证号”列）",
    "personal data in a column that should not hold it (an ID number); the row was not "
    "loaded: remove the number (the head's ID belongs in the ID number column only)",
)


def _misplaced_ids(grid, data: list[_Row], skip: set[int], cols: dict) -> dict[int, list[int]]:
    """Data row position -> sheet columns (absolute) whose cell holds a resident ID number
    (``personal.holds_id``) outside the personal columns ``skip`` [issue 11].

    Each distinct value of a column is tested once. A household number made of the row's
    own village code and a sequence (``530128101201001``) is not taken for an ID."""
    n = len(grid.rows)
    raws = [grid.rows[i] if 0 <= (i := row.r - grid.first_row) < n else () for row in data]
    out: dict[int, list[int]] = {}
    hid = cols.get("household_id")
    for j, column in enumerate(zip_longest(*raws)):
        c = grid.first_col + j
        if c in skip:
            continue
        hits = {v for v in set(column) if v is not None and holds_id(v)}
        if not hits:
            continue
        for row, v in zip(data, column, strict=False):
            if v in hits and not (c == hid and _village_prefixed(v, row)):
                out.setdefault(row.i, []).append(c)
    return out


def _village_prefixed(value, row: _Row) -> bool:
    """``value`` begins with the row's 12-digit village code."""
    vc = row.values.get("village_code")
    vc = display_text(vc).strip() if vc is not None else ""
    return is_village_code(vc) and display_text(value).strip().startswith(vc)


def _amount_formatter(spec: Col, header: str | None):
    """Format a staged amount as the clerk typed it: counts as plain digits (``1234``),
    money (fen) in the sheet's unit without separators (``1234.56`` for 万元)."""
    if spec.kind not in MONEY_KINDS:
        return str
    unit = header_unit(header)
    if unit not in ("元", "万元"):
        unit = "万元" if spec.kind == "money" else "元"
    power = 6 if unit == "万元" else 2

    def fmt(fen: int) -> str:
        d = Decimal(fen).scaleb(-power)
        text = format(d.normalize(), "f")
        return text + unit

    return fmt


@dataclass(frozen=True)
class _Layout:
    """Where a recognised sheet's columns are and what its XML said about its cells (for
    the totals check): grid, merged ranges, canonical name -> column and spec, the header
    match, number formats and formulas without values by (row, col), label columns."""

    grid: object
    merges: list
    cols: dict
    col_specs: dict
    match: HeaderMatch
    fmts: dict
    fwv: set
    label_cols: list


def _subtotal_town(r, layout: _Layout, towns) -> str | None:
    """The township a 小计 row names (``龙头山镇小计``, or 龙头山镇 beside 小计, or a merged
    township cell over it), if data rows of that township exist."""
    grid, merges, cols, label_cols = layout.grid, layout.merges, layout.cols, layout.label_cols
    texts = [grid.value(r, c) for c in label_cols]
    if "township" in cols and (top := _in_merge(merges, r, cols["township"])):
        texts.append(grid.value(*top))
    for t in texts:
        if isinstance(t, str):
            name = t.replace("小计", "").strip().strip(":：-—()（）")
            if name in towns:
                return name
    return None


def _covered_rows(data, totals, order, layout: _Layout) -> dict[int, list]:
    """Data rows each total/subtotal row covers (by 0-based row of the total).

    A total covers every data row. A subtotal that names a township covers that
    township's rows; otherwise it covers the data rows since the previous subtotal or
    total, or, when the sheet's first subtotal comes before any data row (subtotals on
    top of their group), the data rows up to the next subtotal or total.
    """
    towns: dict[str, list] = {}
    for row in data:
        t = row.values.get("township")
        if isinstance(t, str) and t.strip():
            towns.setdefault(t.strip(), []).append(row)
    covered: dict[int, list] = {}
    kinds = [k for k, _ in order if k != "total"]
    on_top = bool(kinds) and kinds[0] == "subtotal"
    group: list = []
    pending: int | None = None  # on top: the subtotal waiting for its rows
    for kind, ref in order:
        if kind == "data":
            group.append(data[ref])
            continue
        if kind == "total":
            covered[ref] = list(data)
        if on_top:
            if pending is not None:
                covered[pending] = group
            pending = ref if kind == "subtotal" else None
        elif kind == "subtotal":
            covered[ref] = group
        group = []
    if on_top and pending is not None:
        covered[pending] = group
    for r, kind in totals:
        if kind == "subtotal":
            town = _subtotal_town(r, layout, towns)
            if town is not None:
                covered[r] = towns[town]
    return covered


def _reconcile(res, data, typed, totals, order, layout: _Layout, finding) -> None:
    """Compare each 合计/小计 row with the sum of the data rows it covers (warnings).

    Which rows a total covers: ``_covered_rows``. Where one covered row was quarantined
    the comparison is reported once as not checked; reported cells that are formulas
    saved without a value are named together in one "not checked" finding, and the
    other columns of that row are still compared.
    """
    grid, cols, col_specs = layout.grid, layout.cols, layout.col_specs
    fwv, label_cols = layout.fwv, layout.label_cols
    numeric = [n for n, s in col_specs.items() if s.kind in ("count", "money")]
    if not totals or not numeric:
        return
    covered = _covered_rows(data, totals, order, layout)
    for r, _kind in totals:
        rows_ = covered.get(r, [])
        if not rows_:
            continue
        label = next(
            (
                str(v).strip()
                for v in (grid.value(r, c) for c in label_cols)
                if isinstance(v, str) and rowkind.total_kind([v])
            ),
            "合计",
        )
        if any(row.errors for row in rows_):
            finding(
                r + 1,
                None,
                None,
                label,
                "total_not_checked",
                "warning",
                "该合计/小计所含的行有错误被暂存，未核对合计数；改正这些行后再核对",
                "not checked: a row this total covers was quarantined; fix those rows first",
            )
            continue
        formulas, detail = [], []
        for name in numeric:
            c = cols[name]
            if (r, c) in fwv:
                formulas.append(name)
            elif fwv and any((row.r, c) in fwv for row in rows_):  # a detail value unknown
                detail.append(name)
            else:
                _compare_total(r, name, rows_, label, typed, layout, finding)
        if detail:
            _columns_not_checked(
                r, detail, layout, finding,
                f"{label}所含的行中有公式没有保存计算结果，这些列的{label}未核对；"
                "请用 Excel 或 WPS 打开该文件，保存后重新报送",
                f"{label}: rows it covers hold formulas saved without values, these columns "
                "were not checked; open the file in Excel or WPS, save it and resend",
            )  # fmt: skip
        if formulas:
            _columns_not_checked(
                r, formulas, layout, finding,
                f"{label}行是公式，但文件中没有保存计算结果，这些列未核对；"
                "请用 Excel 或 WPS 打开该文件，保存后重新报送",
                f"{label}: formulas saved without values, these columns were not checked; "
                "open the file in Excel or WPS, save it and resend",
            )  # fmt: skip


def _compare_total(r, name, rows_, label, typed, layout: _Layout, finding) -> None:
    """Compare column ``name`` of total row ``r`` with the sum over ``rows_``: a
    mismatch, or an unreadable reported total, is a warning."""
    c = layout.cols[name]
    spec = layout.col_specs[name]
    header = layout.match.header_text.get(name)
    raw = layout.grid.value(r, c)
    cell = co.Cell(raw, is_text=isinstance(raw, str), number_format=layout.fmts.get((r, c)))
    try:
        reported = _coerce(spec, cell, FileContext("", "", None, None), header)
    except co.CellError as e:
        finding(
            r + 1,
            cell_ref(r, c),
            header,
            display_text(raw),
            "total_not_checked",
            "warning",
            f"{label}数无法读取（{e.message_zh}），未核对",
            f"{label}: the reported total cannot be read ({e.message_en}); not checked",
        )
        return
    if reported is None:
        return
    vals = [typed[name][row.i] for row in rows_]
    computed = sum(v for v in vals if v is not None)
    if computed != reported:
        fmt = _amount_formatter(spec, header)
        rep, comp, diff = reported, computed, reported - computed
        finding(
            r + 1,
            cell_ref(r, c),
            header,
            display_text(raw),
            "total_mismatch",
            "warning",
            f"{label}行报告数 {fmt(rep)} 与明细行合计 {fmt(comp)} 不符（差 {fmt(diff)}），请核对",
            f"{label}: reported {fmt(rep)} but the rows it covers sum to {fmt(comp)} (difference {fmt(diff)})",
        )


def _columns_not_checked(r, names, layout: _Layout, finding, zh: str, en: str) -> None:
    """One "not checked" warning naming the cells of ``names`` on total row ``r``."""
    header_text = layout.match.header_text
    finding(
        r + 1,
        ",".join(cell_ref(r, layout.cols[n]) for n in names),
        "、".join(header_text.get(n, n) for n in names),
        None,
        "total_not_checked",
        "warning",
        zh,
        en,
    )
