"""``tpa export``: the indicators as files for people and tools.

- ``xlsx``: the layout an office forwards upward — one sheet per geography level (省,
  州市, 县, and 村 where the warehouse has village rows), one row per geography and one
  column per indicator, Chinese headers with units; rates stored at full precision and
  shown as percentages with two decimals (``0.00%``), counts as integers with thousands
  separators; then the data-quality sheets and a notes sheet (definitions from
  ``ref.indicator_definitions`` and the data sources).
- ``csv``: UTF-8 with a BOM (Excel then reads Chinese correctly), one file per table.
- ``parquet``: the same tables, typed, for other tools.

Text from county workbooks (file and sheet names, cell texts, messages) is never
written as a live formula: in xlsx a string starting with ``= + - @ TAB CR`` is a
string cell with ``quotePrefix``; in CSV it gets a leading apostrophe. Numbers stay
numbers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.outputs.feedback import write_text
from pipeline.refdata import UNIT_ZH
from pipeline.warehouse import catalog

FORMATS = ("xlsx", "csv", "parquet")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PROVINCE_NAME = "云南省"

# (geo_level, sheet name, name columns)
LEVELS = (
    ("province", "省", ("地区",)),
    ("prefecture", "州市", ("州（市）",)),
    ("county", "县", ("州（市）", "县（市、区）")),
    ("village", "村", ("县（市、区）", "行政村")),
)
PERCENT = "0.00%"
INTEGER = "#,##0"
DECIMAL = "#,##0.00"

HEADER_FILL = PatternFill("solid", fgColor="DDE5EE")
THIN = Side(style="thin", color="A6B0BB")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)

DQ_COLUMNS = {
    "prefecture_name_zh": "州（市）",
    "county_name_zh": "县（市、区）",
    "county_code": "区划代码",
    "forms_received": "已报表数（张）",
    "forms_received_list": "已报表",
    "forms_missing": "未报表",
    "files_received": "收到文件（个）",
    "files_loaded": "入库文件（个）",
    "files_superseded": "被替换文件（个）",
    "files_rejected": "退回文件（个）",
    "files_not_read": "未读取文件（个）",
    "submission_state": "报送情况",
    "rejected_reasons": "退回或未读取原因",
    "rows_loaded": "入库数据行（行）",
    "rows_quarantined": "隔离数据行（行）",
    "errors": "错误（条）",
    "warnings": "提示（条）",
    "total_mismatches": "合计数与明细不符（处）",
}
SUBMISSION_STATES = {
    "loaded": "已入库",
    "rejected": "报送了文件，但均被退回或未读取",
    "nothing": "未报送",
}
FINDING_COLUMNS = {
    "county_code": "区划代码",
    "file_name": "文件",
    "sheet": "工作表",
    "excel_row": "行",
    "cell_ref": "单元格",
    "column_header": "列标题",
    "cell_text": "原文",
    "severity": "严重程度",
    "rule": "规则",
    "message": "问题及修改建议",
}
DEF_COLUMNS = {
    "indicator_code": "指标代码",
    "name_zh": "指标名称",
    "name_en": "英文名称",
    "unit": "单位",
    "numerator": "分子",
    "denominator": "分母",
    "form": "来源报表",
    "description": "口径说明",
    "source": "依据",
}


class ExportError(Exception):
    """Nothing to export (no data, unknown period or format)."""


def neutralise(value):
    """A CSV cell that no spreadsheet runs as a formula: strings starting with
    ``= + - @ TAB CR`` get a leading apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Neutralise the text columns of ``df`` (numeric columns are left alone)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise, na_action="ignore")
    return out


def export(warehouse: Path, fmt: str, out_dir: Path, period: str | None = None) -> list[Path]:
    """Write the export in ``fmt`` under ``out_dir``; return the files written.

    xlsx covers one period (default: the latest); csv and parquet cover every period
    unless ``period`` is given. Raises ExportError.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        periods = catalog.indicator_periods(con)
        if not periods:
            raise ExportError("the warehouse has no indicators yet (no period with data)")
        if period is not None and period not in periods:
            raise ExportError(
                f"no data for period {period}; periods available: {', '.join(periods)}"
            )
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            return [write_xlsx(con, out_dir, period or periods[-1])]
        return write_tables(con, out_dir, fmt, period)
    finally:
        con.close()


# ---------------------------------------------------------------------------- xlsx


def _definitions(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM ref.indicator_definitions").df()


def header_text(name_zh: str, unit: str | None) -> str:
    """``贫困发生率（%）``, ``未脱贫人口数（人）``."""
    u = UNIT_ZH.get(unit or "", unit or "")
    return f"{name_zh}（{u}）" if u else name_zh


def number_format(unit: str | None) -> str:
    if unit == "ratio":
        return PERCENT
    if unit == "yuan":
        return DECIMAL
    return INTEGER


def _number(value, unit: str | None):
    if value is None or pd.isna(value):
        return None
    if unit == "ratio" or unit == "yuan":
        return float(value)
    f = float(value)
    return int(f) if f.is_integer() else f


def level_frame(con, level: str, period: str) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """One row per geography of ``level`` for ``period``: name columns, code, one column per
    indicator code with data. Returns (frame, [(indicator_code, unit)])."""
    ind = con.execute(
        "SELECT i.geo_code, i.geo_name_zh, i.indicator_code, i.value, i.unit "
        "FROM marts.indicators i WHERE i.geo_level = ? AND i.period = ?",
        [level, period],
    ).df()
    if ind.empty:
        return ind, []
    defs = _definitions(con)
    order = [c for c in defs["indicator_code"] if c in set(ind["indicator_code"])]
    order += sorted(set(ind["indicator_code"]) - set(order))
    units = ind.groupby("indicator_code")["unit"].first().to_dict()
    wide = ind.pivot(index="geo_code", columns="indicator_code", values="value")
    wide = wide.reindex(columns=order).reset_index()
    wide.columns.name = None
    geo_names = ind.groupby("geo_code")["geo_name_zh"].first()
    wide.insert(1, "geo_name_zh", wide["geo_code"].map(geo_names))
    names = con.execute(
        "SELECT county_code, county_name_zh, prefecture_code, prefecture_name_zh FROM ref.counties"
    ).df()
    if level == "county":
        wide = wide.merge(
            names[["county_code", "prefecture_code", "prefecture_name_zh"]],
            left_on="geo_code",
            right_on="county_code",
            how="left",
        )
        wide = wide.sort_values(["prefecture_code", "geo_code"])
    elif level == "village":
        wide["county_code"] = wide["geo_code"].str[:6]
        wide = wide.merge(names[["county_code", "county_name_zh"]], on="county_code", how="left")
        wide = wide.sort_values("geo_code")
    else:
        wide = wide.sort_values("geo_code")
    return wide.reset_index(drop=True), [(c, units.get(c)) for c in order]


def _title_rows(ws, title: str, note: str, width: int) -> None:
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 1))
    ws.cell(row=2, column=1, value=note).font = Font(size=9, color="555555")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(width, 1))
    ws.row_dimensions[1].height = 24


def _header_row(ws, row: int, headers: list[str]) -> None:
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=row, column=j)
        write_text(c, h)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        c.border = BORDER
        c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.row_dimensions[row].height = 45


HEADER_ROW = 3  # rows 1-2: title and source note; row 3: headers; data from row 4


def _level_sheet(ws, con, level: str, name_cols: tuple[str, ...], period: str, defs) -> int:
    df, codes = level_frame(con, level, period)
    names = defs.set_index("indicator_code")["name_zh"].to_dict()
    code_header = "村代码" if level == "village" else "区划代码"
    headers = list(name_cols) + [code_header] + [header_text(names.get(c, c), u) for c, u in codes]
    level_zh = {"province": "省级", "prefecture": "州（市）级", "county": "县级", "village": "村级"}
    y, m = period.split("-")
    _title_rows(
        ws,
        f"云南省脱贫攻坚主要指标（{y}年{int(m)}月，{level_zh[level]}）",
        "数据来源：各县（市、区）报送的统计报表，经 tpa 校验汇总；比率为分子之和除以分母之和。"
        "指标口径见“说明”工作表。",
        len(headers),
    )
    _header_row(ws, HEADER_ROW, headers)
    for i, r in enumerate(df.itertuples(index=False), start=HEADER_ROW + 1):
        rec = r._asdict()
        if level == "province":
            labels = [rec["geo_name_zh"] or PROVINCE_NAME]
        elif level == "prefecture":
            labels = [rec["geo_name_zh"]]
        elif level == "county":
            labels = [rec.get("prefecture_name_zh"), rec["geo_name_zh"]]
        else:
            labels = [rec.get("county_name_zh"), rec["geo_name_zh"]]
        for j, v in enumerate(labels + [rec["geo_code"]], start=1):
            c = ws.cell(row=i, column=j)
            write_text(c, None if v is None or (isinstance(v, float) and pd.isna(v)) else v)
            c.border = BORDER
        for j, (code, unit) in enumerate(codes, start=len(labels) + 2):
            c = ws.cell(row=i, column=j, value=_number(df.at[i - HEADER_ROW - 1, code], unit))
            c.number_format = number_format(unit)
            c.border = BORDER
    for j in range(1, len(name_cols) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 22
    ws.column_dimensions[get_column_letter(len(name_cols) + 1)].width = 14
    for j in range(len(name_cols) + 2, len(headers) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 15
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=len(name_cols) + 2)
    if len(df):
        ws.auto_filter.ref = (
            f"A{HEADER_ROW}:{get_column_letter(len(headers))}{HEADER_ROW + len(df)}"
        )
    return len(df)


def _frame_sheet(ws, df: pd.DataFrame, columns: dict[str, str], title: str) -> None:
    cols = [c for c in columns if c in df.columns]
    _title_rows(ws, title, "", len(cols))
    _header_row(ws, HEADER_ROW, [columns[c] for c in cols])
    for i, r in enumerate(df[cols].itertuples(index=False), start=HEADER_ROW + 1):
        for j, v in enumerate(r, start=1):
            c = ws.cell(row=i, column=j)
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                continue
            if isinstance(v, str):
                write_text(c, v)
            else:
                c.value = int(v) if float(v).is_integer() else float(v)
                c.number_format = INTEGER
    for j, c in enumerate(cols, start=1):
        wide = c in ("message", "forms_received_list", "forms_missing", "file_name", "cell_text",
                     "rejected_reasons")  # fmt: skip
        ws.column_dimensions[get_column_letter(j)].width = 40 if wide else 14
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    if len(df):
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(cols))}{HEADER_ROW + len(df)}"


def _findings(con, period: str) -> pd.DataFrame:
    return con.execute(
        "SELECT f.county_code, x.file_name, x.sheet, x.excel_row, x.cell_ref, x.column_header, "
        "x.cell_text, x.severity, x.rule, x.message, x.message_en "
        "FROM quarantine.findings x JOIN raw.files f USING (file_sha256) "
        "WHERE f.period = ? OR f.period IS NULL "
        "ORDER BY f.county_code, x.file_name, x.sheet, x.excel_row, x.cell_ref",
        [period],
    ).df()


def _notes_sheet(ws, con, period: str, warehouse_name: str, defs: pd.DataFrame) -> None:
    runs = None
    if "raw.runs" in catalog.tables(con, views=True):
        runs = con.execute("SELECT max(started_at) FROM raw.runs").fetchone()[0]
    files = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'loaded'), "
        "count(DISTINCT county_code) FILTER (WHERE status = 'loaded') "
        "FROM raw.files WHERE period = ?",
        [period],
    ).fetchone()
    y, m = period.split("-")
    lines = [
        ("说明", True),
        (f"报告期：{y}年{int(m)}月（{period}）", False),
        (
            f"数据来源：各县（市、区）报送的统计报表（表1–表9），本期收到 {files[0]} 个文件，"
            f"入库 {files[1]} 个，涉及 {files[2]} 个县（市、区）。",
            False,
        ),
        ("汇总方法：州（市）和全省的比率为所辖报送县分子之和除以分母之和，不是各县比率的平均数；"
         "分母为0时比率为空。", False),
        ("只有报送了相应报表的县计入该表的指标；未报送情况见“数据质量”工作表。", False),
        ("比率以小数存储（完整精度），显示为百分比（两位小数）。", False),
        (f"数据库：{warehouse_name}；数据库生成时间：{runs or '—'}；"
         f"导出时间：{datetime.now():%Y-%m-%d %H:%M}", False),
        ("", False),
        ("指标定义（ref.indicator_definitions）", True),
    ]  # fmt: skip
    for i, (text, bold) in enumerate(lines, start=1):
        c = ws.cell(row=i, column=1)
        write_text(c, text)
        c.font = Font(bold=bold, size=12 if bold else 11)
    start = len(lines) + 1
    cols = [c for c in DEF_COLUMNS if c in defs.columns]
    _header_row(ws, start, [DEF_COLUMNS[c] for c in cols])
    for i, r in enumerate(defs[cols].itertuples(index=False), start=start + 1):
        for j, v in enumerate(r, start=1):
            c = ws.cell(row=i, column=j)
            write_text(c, None if v is None or (isinstance(v, float) and pd.isna(v)) else v)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            c.border = BORDER
    for j, w in enumerate((30, 26, 30, 10, 30, 30, 14, 60, 30), start=1):
        ws.column_dimensions[get_column_letter(j)].width = w


def write_xlsx(con, out_dir: Path, period: str) -> Path:
    """Write ``out_dir/indicators_<period>.xlsx``; return its path."""
    defs = _definitions(con)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for level, sheet, name_cols in LEVELS:
        n = con.execute(
            "SELECT count(*) FROM marts.indicators WHERE geo_level = ? AND period = ?",
            [level, period],
        ).fetchone()[0]
        if n == 0 and level == "village":
            continue
        _level_sheet(wb.create_sheet(sheet), con, level, name_cols, period, defs)
    dq = con.execute(
        "SELECT * FROM marts.data_quality WHERE period = ? ORDER BY prefecture_code, county_code",
        [period],
    ).df()
    if "submission_state" in dq:  # [issue 12] "sent a file that was rejected", in words
        dq["submission_state"] = dq["submission_state"].map(SUBMISSION_STATES)
    _frame_sheet(wb.create_sheet("数据质量"), dq, DQ_COLUMNS, f"各县报送与入库情况（{period}）")
    _frame_sheet(
        wb.create_sheet("问题清单"),
        _findings(con, period),
        FINDING_COLUMNS,
        f"报表检查发现的问题（{period}）：error 行未入库，warning 行已入库",
    )
    _notes_sheet(wb.create_sheet("说明"), con, period, _db_name(con), defs)
    wb.active = 0
    path = out_dir / f"indicators_{period}.xlsx"
    tmp = path.with_suffix(".xlsx.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


def _db_name(con) -> str:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]).name if row and row[0] else ""


# ---------------------------------------------------------------------------- csv, parquet


def _table_queries(con, period: str | None) -> dict[str, tuple[str, list]]:
    where = "WHERE period = ?" if period else ""
    params = [period] if period else []
    q = {
        "indicators": (
            "SELECT i.indicator_code, d.name_zh AS indicator_name_zh, i.geo_level, i.geo_code, "
            "i.geo_name_zh, i.period, i.numerator, i.denominator, i.value, i.unit, "
            "i.units_total, i.units_unknown "
            "FROM marts.indicators i LEFT JOIN ref.indicator_definitions d USING "
            f"(indicator_code) {where.replace('period', 'i.period')} "
            "ORDER BY i.period, i.indicator_code, i.geo_level, i.geo_code",
            params,
        ),
        "province_indicators": (
            f"SELECT * FROM marts.province_indicators {where} ORDER BY period, geo_code",
            params,
        ),
        "prefecture_indicators": (
            f"SELECT * FROM marts.prefecture_indicators {where} ORDER BY period, geo_code",
            params,
        ),
        "county_indicators": (
            f"SELECT * FROM marts.county_indicators {where} ORDER BY period, geo_code",
            params,
        ),
        "data_quality": (
            f"SELECT * FROM marts.data_quality {where} ORDER BY period, county_code",
            params,
        ),
        "findings": (
            "SELECT f.county_code, f.period, x.* FROM quarantine.findings x "
            "JOIN raw.files f USING (file_sha256) "
            + ("WHERE f.period = ? OR f.period IS NULL " if period else "")
            + "ORDER BY f.county_code, x.file_name, x.sheet, x.excel_row, x.cell_ref",
            params,
        ),
        "indicator_definitions": ("SELECT * FROM ref.indicator_definitions", []),
    }
    tables = catalog.tables(con, views=True)
    for name in ("county_exit", "village_exit", "household_causes", "reconciliation"):
        if f"marts.{name}" in tables:
            q[name] = (f"SELECT * FROM marts.{name} {where}", params)
    return q


def write_tables(con, out_dir: Path, fmt: str, period: str | None) -> list[Path]:
    """One file per table; CSV neutralised and with a BOM, Parquet as typed."""
    paths = []
    suffix = f"_{period}" if period else ""
    for name, (sql, params) in _table_queries(con, period).items():
        path = out_dir / f"{name}{suffix}.{fmt}"
        if fmt == "parquet":
            pq.write_table(con.sql(sql, params=params or None).to_arrow_table(), path)
        else:
            df = con.execute(sql, params).df()
            neutralise_frame(df).to_csv(path, index=False, encoding="utf-8-sig")
        paths.append(path)
    return paths
