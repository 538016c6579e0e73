"""``tpa report``: one self-contained HTML file for a period, for officials to read and forward.

Sections: headline province indicators with the change since the previous period; one
chart per indicator family ranking prefectures and counties (a menu switches between the
family's indicators); the trend over every period available; the counties still above
the 3% exit line; the data-quality picture (files received, rows quarantined,
reconciliation differences, counties that sent nothing).

Offline by construction: plotly.js is inlined once in ``<head>`` (every figure is written
with ``include_plotlyjs=False``), no font or style is fetched, and the page has no
outside link. Every text that comes from a county workbook (file names, village and
township names, messages) goes through Jinja2's autoescape; chart labels are escaped
too, and Plotly writes its JSON with ``<`` as ``\\u003c``.

Optional marts (``marts.county_exit``, ``marts.village_exit``, ``marts.reconciliation``)
are used when the warehouse has them and left out when it does not.
"""

from __future__ import annotations

import html
import json
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from pipeline.refdata import UNIT_ZH
from pipeline.warehouse import catalog
from schemas import FORMS

EXIT_LINE = 0.03
TOP_COUNTIES = 20
PROVINCE = "530000"

# Indicator families: the form they come from, in report order; the first indicator is
# the one the chart opens with. Indicators of ref.indicator_definitions not named here
# are appended to their form's family.
FAMILIES: dict[str, tuple[str, ...]] = {
    "population": (
        "poverty_incidence",
        "remaining_persons",
        "poverty_villages_remaining",
        "registered_persons",
    ),
    "relocation": (
        "relocation_units_completion_rate",
        "relocation_move_in_rate",
        "relocation_sites_completed",
        "relocation_urban_share",
        "relocation_clear_zero",
    ),
    "housing": ("housing_key_completion_rate", "housing_other_completion_rate"),
    "medical": (
        "medical_reimbursement_rate",
        "medical_basic_coverage",
        "medical_serious_illness_coverage",
    ),
    "water": ("water_unsafe_households", "water_resolved_households", "water_zero_counties"),
    "education": ("education_dropouts_remaining", "education_return_rate"),
    "employment": (
        "employment_migrant_employed",
        "employment_public_welfare_jobs",
        "employment_ecological_rangers",
        "employment_workshops",
        "employment_workshop_employed",
    ),
    "infrastructure": ("infrastructure_complete_rate",),
    "households": (
        "households_not_exited",
        "af_headcount_ratio",
        "households_exited_not_meeting",
        "households_meeting_standard_not_exited",
    ),
}
# Where a smaller number is the better one (the ranking then shows the largest first).
LOWER_IS_BETTER = {
    "poverty_incidence",
    "remaining_persons",
    "poverty_villages_remaining",
    "water_unsafe_households",
    "education_dropouts_remaining",
    "households_not_exited",
    "households_lacking_food_clothing",
    "households_lacking_education",
    "households_lacking_medical",
    "households_lacking_housing",
    "households_lacking_water",
    "households_meeting_standard_not_exited",
    "af_headcount_ratio",
    "af_intensity",
    "af_adjusted_headcount",
    "households_exited_not_meeting",
}
# Counts that are achievements, not problems: their ranking shows the largest first too.
HEADLINE = (
    "poverty_incidence",
    "remaining_persons",
    "poverty_villages_remaining",
    "relocation_units_completion_rate",
    "housing_key_completion_rate",
    "medical_basic_coverage",
    "water_unsafe_households",
    "education_dropouts_remaining",
)
TREND_RATES = (
    "poverty_incidence",
    "relocation_units_completion_rate",
    "housing_key_completion_rate",
    "medical_reimbursement_rate",
    "education_return_rate",
    "infrastructure_complete_rate",
)
TREND_COUNTS = ("remaining_persons", "water_unsafe_households", "education_dropouts_remaining")

FAMILY_NAMES = {
    "zh": {
        "population": "贫困人口与贫困发生率",
        "relocation": "易地扶贫搬迁",
        "housing": "农村危房改造",
        "medical": "医疗保障",
        "water": "农村饮水安全",
        "education": "控辍保学",
        "employment": "就业扶贫",
        "infrastructure": "贫困村基础设施",
        "households": "建档立卡贫困户（台账）",
    },
    "en": {
        "population": "Poor population and poverty incidence",
        "relocation": "Relocation",
        "housing": "Dilapidated-house renovation",
        "medical": "Medical insurance",
        "water": "Safe drinking water",
        "education": "School dropouts",
        "employment": "Employment",
        "infrastructure": "Poverty-village infrastructure",
        "households": "Registered poor households (ledger)",
    },
}
UNITS = {"zh": UNIT_ZH, "en": {"ratio": "%"}}
FORM_NAMES_EN = {
    "population": "population",
    "relocation": "relocation",
    "housing": "housing",
    "medical": "medical",
    "water": "water",
    "education": "education",
    "employment": "employment",
    "infrastructure": "infrastructure",
    "households": "household ledger",
}

T = {
    "zh": {
        "title": "云南省脱贫攻坚统计监测报告",
        "period": "{y}年{m}月",
        "generated": "生成时间",
        "source": "数据来源",
        "source_text": "各县（市、区）报送的统计报表，经 tpa 校验汇总",
        "built": "数据库生成时间",
        "counties_reporting": "报送县数",
        "toc": "目录",
        "s_headline": "一、全省主要指标",
        "s_families": "二、分领域指标排名",
        "s_trend": "三、历期趋势",
        "s_exit": "四、贫困发生率仍高于3%的县",
        "s_quality": "五、数据质量",
        "prev": "上期",
        "change": "较上期",
        "no_prev": "无上期数据",
        "pp": "个百分点",
        "indicator": "指标",
        "value": "本期值",
        "prev_value": "上期值",
        "numerator": "分子",
        "denominator": "分母",
        "unit": "单位",
        "definition": "口径",
        "prefectures": "州（市）",
        "counties_top": "县（市、区）：{which}的{n}个",
        "highest": "最高",
        "lowest": "最低",
        "no_family_data": "本期没有县报送此表。",
        "family_note": "可用图左上角的菜单切换本领域的其他指标；比率为分子之和除以分母之和。",
        "one_period": "目前仅有一个报告期（{p}），下期数据报送后显示变化趋势。",
        "trend_rates": "主要比率指标（全省）",
        "trend_counts": "主要数量指标（全省）",
        "exit_intro": "按贫困发生率 ≤ 3% 的退出标准（“降至3%以下”含3%），本期仍未达标的县：",
        "exit_none": "本期报送人口表的县贫困发生率均已降至3%以下。",
        "exit_count": "共 {n} 个县（市、区）",
        "prefecture": "州（市）",
        "county": "县（市、区）",
        "incidence": "贫困发生率",
        "remaining": "未脱贫人口（人）",
        "villages_above": "贫困发生率高于3%的贫困村（个）",
        "villages_above_all": "贫困发生率高于3%的行政村（个）",
        "poverty_county": "国家级贫困县",
        "yes": "是",
        "no": "否",
        "q_summary": "报送与入库概况",
        "q_counties": "应报县数",
        "q_submitted": "已报送县数",
        "q_files": "收到文件",
        "q_loaded": "已入库文件",
        "q_superseded": "被替换文件",
        "q_rejected": "退回文件",
        "q_rows": "入库数据行",
        "q_quarantined": "隔离数据行",
        "q_warnings": "提示",
        "q_mismatch": "合计数与明细不符",
        "q_recon": "台账与人口表户数不一致的村",
        "q_ledger_only": "台账有、人口表无的村",
        "q_population_only": "人口表有贫困户、台账无的村",
        "q_dup_id": "户主身份证号重复的户",
        "q_not_submitted": "未报送的县（市、区）",
        "q_not_submitted_n": "未报送 / 应报",
        "q_all_submitted": "全部 {n} 个县（市、区）均已报送。",
        "q_rejected_files": "被整体退回或未读取的文件",
        "q_rejected_only": "报送了文件但均被退回或未读取的县（市、区）",
        "st_rejected": "退回",
        "st_not_read": "未读取",
        "status": "状态",
        "q_rejected_sheets": "被整表退回的工作表（所在文件其余部分已读取）",
        "q_rows_lost": "未读取的行",
        "q_quarantined_rows": "被隔离的数据行（未计入指标）",
        "q_more": "另有 {n} 行未列出，详见数据库 quarantine.rows / quarantine.findings。",
        "q_none_quarantined": "本期没有被隔离的数据行。",
        "q_county_table": "各县报送情况（有问题的县）",
        "q_county_all": "展开全部县",
        "q_recon_title": "台账与人口表核对差异",
        "q_mismatch_title": "合计数与明细之和不符的县",
        "file": "文件",
        "sheet": "工作表",
        "row": "行",
        "where": "村/乡镇",
        "problem": "问题",
        "reason": "原因",
        "forms_received": "已报表数",
        "forms_missing": "未报表",
        "files": "文件数",
        "rows_loaded": "入库行",
        "rows_quarantined": "隔离行",
        "warnings": "提示",
        "mismatches": "合计不符",
        "chart_submitted": "已报送",
        "chart_not_submitted": "未报送",
        "chart_quality": "各州（市）报送县数",
        "chart_q_rows": "各州（市）隔离数据行",
        "footer": "本报告由 tpa 根据数据库自动生成；比率均为分子之和除以分母之和，"
        "不是各县比率的平均数。县级报表中的文字按原样显示。",
        "menu": "指标",
        "exit_line": "3% 退出线",
        "province": "云南省",
    },
    "en": {
        "title": "Yunnan Targeted Poverty Alleviation — Statistical Monitoring Report",
        "period": "{y}-{m}",
        "generated": "Generated",
        "source": "Source",
        "source_text": "county statistical forms, validated and aggregated by tpa",
        "built": "Warehouse built",
        "counties_reporting": "Counties reporting",
        "toc": "Contents",
        "s_headline": "1. Province headline indicators",
        "s_families": "2. Rankings by indicator family",
        "s_trend": "3. Trend over all periods",
        "s_exit": "4. Counties still above the 3% exit line",
        "s_quality": "5. Data quality",
        "prev": "previous",
        "change": "change",
        "no_prev": "no previous period",
        "pp": " pp",
        "indicator": "Indicator",
        "value": "This period",
        "prev_value": "Previous",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "unit": "Unit",
        "definition": "Definition",
        "prefectures": "Prefectures",
        "counties_top": "Counties: the {n} {which}",
        "highest": "highest",
        "lowest": "lowest",
        "no_family_data": "No county sent this form for the period.",
        "family_note": "Use the menu at the top left of a chart to switch to the family's other "
        "indicators; a rate is the sum of numerators over the sum of denominators.",
        "one_period": "Only one period ({p}) so far; the trend appears once the next "
        "period is reported.",
        "trend_rates": "Key rates (province)",
        "trend_counts": "Key counts (province)",
        "exit_intro": "Exit requires a poverty incidence at or below 3%. Counties not yet "
        "there this period:",
        "exit_none": "Every county that sent the population form is at or below 3%.",
        "exit_count": "{n} counties",
        "prefecture": "Prefecture",
        "county": "County",
        "incidence": "Poverty incidence",
        "remaining": "Poor persons remaining",
        "villages_above": "Poverty villages above 3%",
        "villages_above_all": "Villages above 3% (all)",
        "poverty_county": "Poverty county",
        "yes": "yes",
        "no": "no",
        "q_summary": "Submissions and loading",
        "q_counties": "Counties expected",
        "q_submitted": "Counties reporting",
        "q_files": "Files received",
        "q_loaded": "Files loaded",
        "q_superseded": "Files superseded",
        "q_rejected": "Files rejected",
        "q_rows": "Rows loaded",
        "q_quarantined": "Rows quarantined",
        "q_warnings": "Warnings",
        "q_mismatch": "Totals not matching details",
        "q_recon": "Villages where ledger and form counts differ",
        "q_ledger_only": "Ledger villages missing from the form",
        "q_population_only": "Form villages with poor households but no ledger",
        "q_dup_id": "Households with a duplicated head ID",
        "q_not_submitted": "Counties that have not submitted",
        "q_not_submitted_n": "missing / expected",
        "q_all_submitted": "All {n} counties have submitted.",
        "q_rejected_files": "Files rejected whole or not read",
        "q_rejected_only": "Counties that sent files, all rejected or not read",
        "st_rejected": "rejected",
        "st_not_read": "not read",
        "status": "Status",
        "q_rejected_sheets": "Sheets rejected whole (the rest of the file was read)",
        "q_rows_lost": "Rows not read",
        "q_quarantined_rows": "Quarantined rows (not counted in any indicator)",
        "q_more": "{n} more rows not listed; see quarantine.rows / quarantine.findings.",
        "q_none_quarantined": "No row was quarantined this period.",
        "q_county_table": "Counties with a data-quality issue",
        "q_county_all": "Show every county",
        "q_recon_title": "Ledger vs population form differences",
        "q_mismatch_title": "Counties whose totals differ from the sum of details",
        "file": "File",
        "sheet": "Sheet",
        "row": "Row",
        "where": "Village / township",
        "problem": "Problem",
        "reason": "Reason",
        "forms_received": "Forms",
        "forms_missing": "Forms missing",
        "files": "Files",
        "rows_loaded": "Rows loaded",
        "rows_quarantined": "Quarantined",
        "warnings": "Warnings",
        "mismatches": "Total mismatches",
        "chart_submitted": "submitted",
        "chart_not_submitted": "not submitted",
        "chart_quality": "Counties reporting per prefecture",
        "chart_q_rows": "Rows quarantined per prefecture",
        "footer": "Generated by tpa from the warehouse. Rates are sums of numerators over "
        "sums of denominators, never averages of county rates. Text from county forms is "
        "shown as written.",
        "menu": "Indicator",
        "exit_line": "3% exit line",
        "province": "Yunnan",
    },
}

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": "hover",
    "modeBarButtonsToRemove": [
        "lasso2d",
        "select2d",
        "zoomIn2d",
        "zoomOut2d",
        "autoScale2d",
        "pan2d",
        "zoom2d",
    ],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
COLORS = {"good": "#2f6f9f", "bad": "#b8312f", "neutral": "#5b6f82", "muted": "#c9d1d9"}


class ReportError(Exception):
    """The report cannot be made (no data, unknown period)."""


@dataclass
class Data:
    """Everything the report reads, loaded once from the warehouse."""

    period: str
    previous: str | None
    periods: list[str]
    defs: pd.DataFrame
    ind: pd.DataFrame  # marts.indicators without village rows, all periods
    counties: pd.DataFrame
    poverty_counties: set[str]
    dq: pd.DataFrame  # marts.data_quality for the period
    files: pd.DataFrame  # raw.files for the period (and unidentified files)
    qrows: pd.DataFrame  # quarantined rows of the period with their messages
    qrows_total: int
    recon: pd.DataFrame | None
    village_exit: pd.DataFrame | None
    built_at: datetime | None
    tables: set[str] = field(default_factory=set)
    # sheets rejected as a whole in loaded files of the period [issue 12]
    rejected_sheets: pd.DataFrame = field(default_factory=pd.DataFrame)


# one row per sheet of a loaded file of the period with an error finding about the whole
# sheet (no row, no cell: e.g. a required column missing): its reason and the rows it lost
REJECTED_SHEETS_SQL = """
    SELECT f.county_code, x.file_name, x.sheet,
           string_agg(x.message, '；' ORDER BY x.rule, x.message) AS message_zh,
           string_agg(x.message_en, '; ' ORDER BY x.rule, x.message) AS message_en,
           (SELECT count(*) FROM quarantine.rows q
            WHERE q.file_sha256 = x.file_sha256 AND q.sheet = x.sheet) AS rows_quarantined
    FROM quarantine.findings x JOIN raw.files f USING (file_sha256)
    WHERE f.period = ? AND f.status = 'loaded' AND x.severity = 'error'
      AND x.sheet IS NOT NULL AND x.excel_row IS NULL AND x.cell_ref IS NULL
    GROUP BY f.county_code, x.file_sha256, x.file_name, x.sheet
    ORDER BY f.county_code, x.file_name, x.sheet
"""


def _row_message_sql(column: str, sep: str, alias: str) -> str:
    """A quarantined row's messages from ``quarantine.findings.<column>`` joined by ``sep``:
    the row's own errors, else the sheet's (a sheet rejected as a whole)."""
    return f"""
           coalesce(
               (SELECT string_agg(x.{column}, '{sep}' ORDER BY x.cell_ref)
                FROM quarantine.findings x
                WHERE x.file_sha256 = r.file_sha256 AND x.sheet = r.sheet
                  AND x.excel_row = r.excel_row AND x.severity = 'error'),
               (SELECT string_agg(x.{column}, '{sep}' ORDER BY x.rule, x.message)
                FROM quarantine.findings x
                WHERE x.file_sha256 = r.file_sha256 AND x.sheet = r.sheet
                  AND x.excel_row IS NULL AND x.severity = 'error')) AS {alias}"""


# quarantined rows of one period (parameter: period) with their messages
QUARANTINED_ROWS_SQL = f"""
    WITH r AS (
        SELECT q.file_sha256, q.file_name, q.form, q.sheet, q.excel_row, q.cells,
               f.county_code
        FROM quarantine.rows q JOIN raw.files f USING (file_sha256)
        WHERE f.period = ? AND f.status = 'loaded'
    )
    SELECT r.*,{_row_message_sql("message", "；", "message_zh")},{
    _row_message_sql("message_en", "; ", "message_en")
}
    FROM r ORDER BY r.county_code, r.file_name, r.sheet, r.excel_row
"""


def load(con: duckdb.DuckDBPyConnection, period: str | None = None, limit: int = 200) -> Data:
    """Read what the report needs; raises ReportError without data or for a period not in it."""
    tables = catalog.tables(con)
    periods = catalog.indicator_periods(con)
    if not periods:
        raise ReportError("the warehouse has no indicators yet (no period with data)")
    if period is None:
        period = periods[-1]
    if period not in periods:
        raise ReportError(f"no data for period {period}; periods available: {', '.join(periods)}")
    earlier = [p for p in periods if p < period]
    previous = earlier[-1] if earlier else None
    defs = con.execute("SELECT * FROM ref.indicator_definitions").df()
    ind = con.execute(
        "SELECT indicator_code, geo_level, geo_code, geo_name_zh, period, numerator, "
        "denominator, value, unit FROM marts.indicators WHERE geo_level <> 'village'"
    ).df()
    counties = con.execute("SELECT * FROM ref.counties ORDER BY county_code").df()
    pov = {r[0] for r in con.execute("SELECT county_code FROM ref.poverty_counties").fetchall()}
    dq = con.execute(
        "SELECT * FROM marts.data_quality WHERE period = ? ORDER BY county_code", [period]
    ).df()
    files = con.execute(
        "SELECT f.*, coalesce(q.message, f.message) AS reject_message, q.message_en "
        "FROM raw.files f "
        "LEFT JOIN quarantine.files q USING (file_sha256) "
        "WHERE f.period = ? OR f.period IS NULL ORDER BY f.path",
        [period],
    ).df()
    qtotal = con.execute(f"SELECT count(*) FROM ({QUARANTINED_ROWS_SQL})", [period]).fetchone()[0]
    qrows = con.execute(f"{QUARANTINED_ROWS_SQL} LIMIT {int(limit)}", [period]).df()
    rejected_sheets = con.execute(REJECTED_SHEETS_SQL, [period]).df()
    recon, village_exit, built_at = _optional_tables(con, tables, period)
    return Data(
        period=period,
        previous=previous,
        periods=periods,
        defs=defs,
        ind=ind,
        counties=counties,
        poverty_counties=pov,
        dq=dq,
        files=files,
        qrows=qrows,
        qrows_total=int(qtotal),
        rejected_sheets=rejected_sheets,
        recon=recon,
        village_exit=village_exit,
        built_at=built_at,
        tables=tables,
    )


def _optional_tables(con, tables: set, period: str):
    """(reconciliation, village exit counts per county, last run start) for ``period``;
    None for each whose table the warehouse does not have."""
    recon = None
    if "marts.reconciliation" in tables:
        recon = con.execute("SELECT * FROM marts.reconciliation WHERE period = ?", [period]).df()
    village_exit = None
    if "marts.village_exit" in tables:
        village_exit = con.execute(
            "SELECT county_code, count(*) FILTER (WHERE below_threshold = false) AS above, "
            "count(*) FILTER (WHERE eligible IS DISTINCT FROM true) AS not_eligible "
            "FROM marts.village_exit WHERE period = ? GROUP BY 1",
            [period],
        ).df()
    built_at = None
    if "raw.runs" in tables:
        row = con.execute("SELECT max(started_at) FROM raw.runs").fetchone()
        built_at = row[0] if row else None
    return recon, village_exit, built_at


# ---------------------------------------------------------------------------- formatting


def fmt_value(value, unit: str | None, lang: str = "zh") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "yuan":
        return f"{value:,.0f}"
    return f"{value:,.0f}"


def fmt_change(value, previous, unit: str | None, lang: str = "zh") -> str:
    if value is None or previous is None or pd.isna(value) or pd.isna(previous):
        return ""
    d = value - previous
    sign = "+" if d > 0 else ("−" if d < 0 else "±")
    if unit == "ratio":
        return f"{sign}{abs(d) * 100:.2f}{T[lang]['pp']}"
    return f"{sign}{abs(d):,.0f}"


def change_class(code: str, value, previous) -> str:
    if value is None or previous is None or pd.isna(value) or pd.isna(previous):
        return "flat"
    d = value - previous
    if abs(d) < 1e-12:
        return "flat"
    better = (d < 0) if code in LOWER_IS_BETTER else (d > 0)
    return "better" if better else "worse"


def period_label(period: str, lang: str) -> str:
    y, m = period.split("-")
    return T[lang]["period"].format(y=y, m=int(m) if lang == "zh" else m)


def _esc(text) -> str:
    """Text for a Plotly label: Plotly reads a few HTML tags in labels, so escape."""
    return html.escape("" if text is None else str(text), quote=False)


class Labels:
    """Names in the report's language: indicators, units, geographies."""

    def __init__(self, data: Data, lang: str):
        self.lang = lang
        self.t = T[lang]
        d = data.defs.set_index("indicator_code")
        self.defs = d
        self.geo_en = {PROVINCE: "Yunnan"}
        for r in data.counties.itertuples():
            self.geo_en[r.county_code] = r.county_name_en
            self.geo_en[r.prefecture_code] = r.prefecture_name_en

    def indicator(self, code: str) -> str:
        if code not in self.defs.index:
            return code
        row = self.defs.loc[code]
        name = row["name_zh"] if self.lang == "zh" else row["name_en"]
        return str(name) if name is not None and not pd.isna(name) else code

    def unit(self, unit: str | None) -> str:
        if not unit:
            return ""
        return UNITS[self.lang].get(unit, unit)

    def geo(self, code: str, name_zh: str | None) -> str:
        if self.lang == "en":
            return self.geo_en.get(code) or name_zh or code
        return name_zh or code

    def definition(self, code: str) -> str:
        if code not in self.defs.index:
            return ""
        v = self.defs.loc[code].get("description")
        return "" if v is None or pd.isna(v) else str(v)


# ---------------------------------------------------------------------------- sections


def _value_map(data: Data, level: str, period: str | None) -> pd.DataFrame:
    if period is None:
        return data.ind.iloc[0:0]
    df = data.ind
    return df[(df["geo_level"] == level) & (df["period"] == period)]


def headline(data: Data, lab: Labels) -> dict:
    cur = _value_map(data, "province", data.period).set_index("indicator_code")
    prev = _value_map(data, "province", data.previous).set_index("indicator_code")
    order = [c for fam in families(data) for c in fam[1]]
    rows = []
    for code in order:
        if code not in cur.index:
            continue
        r = cur.loc[code]
        p = prev.loc[code] if code in prev.index else None
        pv = None if p is None else p["value"]
        rows.append(
            {
                "code": code,
                "name": lab.indicator(code),
                "family": FAMILY_NAMES[lab.lang].get(_form_of(data, code), ""),
                "value": fmt_value(r["value"], r["unit"]),
                "prev": fmt_value(pv, r["unit"]) if p is not None else "",
                "change": fmt_change(r["value"], pv, r["unit"], lab.lang),
                "cls": change_class(code, r["value"], pv),
                "num": "" if r["unit"] != "ratio" else fmt_value(r["numerator"], "count"),
                "den": "" if r["unit"] != "ratio" else fmt_value(r["denominator"], "count"),
                "unit": lab.unit(r["unit"]),
                "definition": lab.definition(code),
            }
        )
    cards = [r for code in HEADLINE for r in rows if r["code"] == code]
    cards += [r for r in rows if r not in cards][: max(0, len(HEADLINE) - len(cards))]
    return {"rows": rows, "cards": cards}


def _form_of(data: Data, code: str) -> str:
    hit = data.defs[data.defs["indicator_code"] == code]
    return str(hit["form"].iloc[0]) if len(hit) else ""


def families(data: Data) -> list[tuple[str, list[str]]]:
    """(form, indicator codes) per family, in report order, with codes from the definitions."""
    by_form: dict[str, list[str]] = {}
    for r in data.defs.itertuples():
        by_form.setdefault(r.form, []).append(r.indicator_code)
    out = []
    for form in list(FAMILIES) + [f for f in by_form if f not in FAMILIES]:
        known = [c for c in FAMILIES.get(form, ()) if c in by_form.get(form, [])]
        extra = [c for c in by_form.get(form, []) if c not in known]
        codes = known + extra
        if codes:
            out.append((form, codes))
    return out


def _ranked(df: pd.DataFrame, code: str, top: int | None) -> pd.DataFrame:
    sub = df[(df["indicator_code"] == code) & df["value"].notna()]
    desc = True  # largest first: the worst for LOWER_IS_BETTER, the biggest for counts
    if code not in LOWER_IS_BETTER and (sub["unit"] == "ratio").all():
        desc = False  # completion and coverage rates: the lowest (lagging) first
    sub = sub.sort_values(["value", "geo_code"], ascending=[not desc, True])
    return sub.head(top) if top else sub


def _bar_payload(df: pd.DataFrame, code: str, lab: Labels, level: str, top):
    sub = _ranked(df[df["geo_level"] == level], code, top)
    unit = sub["unit"].iloc[0] if len(sub) else None
    names = [_esc(lab.geo(g, n)) for g, n in zip(sub["geo_code"], sub["geo_name_zh"], strict=True)]
    text = [fmt_value(v, unit) for v in sub["value"]]
    custom = [
        [fmt_value(n, "count"), "" if pd.isna(d) else fmt_value(d, "count")]
        for n, d in zip(sub["numerator"], sub["denominator"], strict=True)
    ]
    colors = []
    for v in sub["value"]:
        if code == "poverty_incidence":
            colors.append(COLORS["bad"] if v > EXIT_LINE else COLORS["good"])
        else:
            colors.append(COLORS["bad"] if code in LOWER_IS_BETTER else COLORS["good"])
    desc = code in LOWER_IS_BETTER or unit != "ratio"
    return {
        "y": names,
        "x": [float(v) for v in sub["value"]],
        "text": text,
        "customdata": custom,
        "colors": colors,
        "unit": unit,
        "which": lab.t["highest"] if desc else lab.t["lowest"],
        "n": len(sub),
    }


def family_figure(data: Data, lab: Labels, form: str, codes: list[str]) -> go.Figure | None:
    cur = data.ind[data.ind["period"] == data.period]
    codes = [c for c in codes if (cur["indicator_code"] == c).any()]
    if not codes:
        return None
    payloads = {
        c: (
            _bar_payload(cur, c, lab, "prefecture", None),
            _bar_payload(cur, c, lab, "county", TOP_COUNTIES),
        )
        for c in codes
    }
    first = payloads[codes[0]]
    n_rows = max(len(first[0]["y"]), len(first[1]["y"]), 16)
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.2,
        subplot_titles=(lab.t["prefectures"], _county_title(lab, first[1])),
    )
    hover = (
        "%{y}<br>%{text}<br>"
        + lab.t["numerator"]
        + " %{customdata[0]}<br>"
        + lab.t["denominator"]
        + " %{customdata[1]}<extra></extra>"
    )
    for col, p in ((1, first[0]), (2, first[1])):
        fig.add_trace(
            go.Bar(
                x=p["x"],
                y=p["y"],
                orientation="h",
                text=p["text"],
                textposition="outside",
                cliponaxis=False,
                customdata=p["customdata"],
                hovertemplate=hover,
                marker_color=p["colors"],
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    base_annotations = [a.to_plotly_json() for a in fig.layout.annotations]
    _style_axes(fig, first[0]["unit"], codes[0])
    fig.update_layout(
        height=max(460, 24 * n_rows + 150),
        shapes=_exit_shapes(codes[0]),
        annotations=base_annotations + _exit_annotations(codes[0], lab),
    )
    if len(codes) == 1:
        fig.update_layout(
            title={"text": _esc(lab.indicator(codes[0])), "x": 0.01, "font": {"size": 15}}
        )
    if len(codes) > 1:
        fig.update_layout(updatemenus=[_indicator_menu(codes, payloads, base_annotations, lab)])
    return fig


def _indicator_menu(codes, payloads, base_annotations, lab: Labels) -> dict:
    """The drop-down that switches a family figure between its indicators."""
    buttons = []
    for c in codes:
        pp, pc = payloads[c]
        ann = [dict(base_annotations[0]), dict(base_annotations[1])]
        ann[1]["text"] = _county_title(lab, pc)
        ann += _exit_annotations(c, lab)
        layout = {
            "shapes": _exit_shapes(c),
            "annotations": ann,
            **_axis_format(pp["unit"] or pc["unit"]),
        }
        buttons.append(
            {
                "label": _esc(lab.indicator(c)),
                "method": "update",
                "args": [
                    {
                        "x": [pp["x"], pc["x"]],
                        "y": [pp["y"], pc["y"]],
                        "text": [pp["text"], pc["text"]],
                        "customdata": [pp["customdata"], pc["customdata"]],
                        "marker.color": [pp["colors"], pc["colors"]],
                    },
                    layout,
                ],
            }
        )
    return {
        "buttons": buttons,
        "direction": "down",
        "x": 0.0,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "bottom",
        "pad": {"b": 34},
        "showactive": True,
        "bgcolor": "#f3f6f9",
        "bordercolor": "#2f6f9f",
        "font": {"size": 14, "color": "#1f2933"},
    }


def _county_title(lab: Labels, p: dict) -> str:
    return lab.t["counties_top"].format(which=p["which"], n=p["n"])


def _axis_format(unit: str | None) -> dict:
    fmt = ".1%" if unit == "ratio" else ",d"
    return {"xaxis.tickformat": fmt, "xaxis2.tickformat": fmt}


def _style_axes(fig: go.Figure, unit: str | None, code: str) -> None:
    fmt = ".1%" if unit == "ratio" else ",d"
    fig.update_xaxes(tickformat=fmt, showgrid=True, gridcolor="#e6e9ee", zeroline=True)
    fig.update_yaxes(autorange="reversed", automargin=True, tickfont={"size": 11})


def _exit_shapes(code: str) -> list[dict]:
    if code != "poverty_incidence":
        return []
    return [
        {
            "type": "line",
            "xref": xref,
            "yref": "paper",
            "x0": EXIT_LINE,
            "x1": EXIT_LINE,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#333333", "width": 1.2, "dash": "dash"},
            "layer": "below",
        }
        for xref in ("x", "x2")
    ]


def _exit_annotations(code: str, lab: Labels) -> list[dict]:
    if code != "poverty_incidence":
        return []
    return [
        {
            "x": EXIT_LINE,
            "xref": xref,
            "y": 0,
            "yref": "paper",
            "yanchor": "top",
            "yshift": -22,
            "text": lab.t["exit_line"],
            "showarrow": False,
            "font": {"size": 11, "color": "#333333"},
        }
        for xref in ("x", "x2")
    ]


def _trend_trace(prov, code: str, periods, lab: Labels, line, marker, y_hover) -> go.Scatter:
    """The province's line of one indicator over ``periods`` (gaps where a period lacks it)."""
    s = prov[prov["indicator_code"] == code].set_index("period")["value"]
    name = _esc(lab.indicator(code))
    return go.Scatter(
        x=[period_label(p, lab.lang) for p in periods],
        y=[None if p not in s.index else float(s[p]) for p in periods],
        mode="lines+markers",
        name=name,
        line=line,
        marker=marker,
        hovertemplate="%{x}: " + y_hover + "<extra>" + name + "</extra>",
    )


def trend_figure(data: Data, lab: Labels) -> go.Figure | None:
    prov = data.ind[data.ind["geo_level"] == "province"]
    rates = [c for c in TREND_RATES if (prov["indicator_code"] == c).any()]
    counts = [c for c in TREND_COUNTS if (prov["indicator_code"] == c).any()]
    if not rates and not counts:
        return None
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=(lab.t["trend_rates"], lab.t["trend_counts"]),
    )
    palette = ["#2f6f9f", "#b8312f", "#3c8d5a", "#c77c02", "#6a4c93", "#5b6f82"]
    for i, c in enumerate(rates):
        line = {"color": palette[i % len(palette)]}
        trace = _trend_trace(prov, c, data.periods, lab, line, {"size": 9}, "%{y:.2%}")
        fig.add_trace(trace, row=1, col=1)
    for i, c in enumerate(counts):
        line = {"color": palette[(i + 3) % len(palette)], "dash": "dot"}
        marker = {"size": 9, "symbol": "square"}
        fig.add_trace(
            _trend_trace(prov, c, data.periods, lab, line, marker, "%{y:,.0f}"), row=1, col=2
        )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=1, col=1, gridcolor="#e6e9ee")
    fig.update_yaxes(tickformat=",d", rangemode="tozero", row=1, col=2, gridcolor="#e6e9ee")
    fig.update_xaxes(type="category")
    fig.update_layout(
        height=440, legend={"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}}
    )
    return fig


def exit_section(data: Data, lab: Labels) -> dict:
    cur = data.ind[(data.ind["period"] == data.period) & (data.ind["geo_level"] == "county")]
    prev = data.ind[(data.ind["period"] == data.previous) & (data.ind["geo_level"] == "county")]
    inc = cur[cur["indicator_code"] == "poverty_incidence"].set_index("geo_code")
    prev_inc = prev[prev["indicator_code"] == "poverty_incidence"].set_index("geo_code")["value"]
    rem = cur[cur["indicator_code"] == "remaining_persons"].set_index("geo_code")["value"]
    pv = cur[cur["indicator_code"] == "poverty_villages_remaining"].set_index("geo_code")["value"]
    ve = None
    if data.village_exit is not None and len(data.village_exit):
        ve = data.village_exit.set_index("county_code")["above"]
    above = inc[inc["value"] > EXIT_LINE].sort_values("value", ascending=False)
    pref = data.counties.set_index("county_code")
    rows = []
    for code, r in above.iterrows():
        pcode = pref.loc[code, "prefecture_code"] if code in pref.index else ""
        pname = pref.loc[code, "prefecture_name_zh"] if code in pref.index else ""
        rows.append(
            {
                "prefecture": lab.geo(pcode, pname),
                "county": lab.geo(code, r["geo_name_zh"]),
                "incidence": fmt_value(r["value"], "ratio"),
                "prev": fmt_value(prev_inc.get(code), "ratio") if code in prev_inc.index else "",
                "remaining": fmt_value(rem.get(code), "count"),
                "villages": fmt_value(pv.get(code), "count") if code in pv.index else "—",
                "villages_all": (fmt_value(ve.get(code), "count") if ve is not None else None),
                "poverty_county": lab.t["yes"] if code in data.poverty_counties else lab.t["no"],
            }
        )
    fig = None
    if len(above):
        names = [
            _esc(lab.geo(c, n)) for c, n in zip(above.index, above["geo_name_zh"], strict=True)
        ]
        fig = go.Figure(
            go.Bar(
                x=names,
                y=[float(v) for v in above["value"]],
                text=[fmt_value(v, "ratio") for v in above["value"]],
                textposition="outside",
                cliponaxis=False,
                marker_color=COLORS["bad"],
                hovertemplate="%{x}: %{y:.2%}<extra></extra>",
            )
        )
        fig.add_hline(
            y=EXIT_LINE,
            line={"color": "#333", "dash": "dash", "width": 1.2},
            annotation_text=lab.t["exit_line"],
            annotation_position="bottom right",
            annotation_bgcolor="rgba(255,255,255,0.85)",
        )
        fig.update_layout(height=380, yaxis={"tickformat": ".0%", "rangemode": "tozero"})
        fig.update_xaxes(tickangle=-40)
    reporting = int(inc["value"].notna().sum())
    return {"rows": rows, "figure": fig, "reporting": reporting, "has_ve": ve is not None}


def quality_section(data: Data, lab: Labels) -> dict:
    """What the data-quality section shows: summary figures, the per-prefecture chart,
    counties with problems, rejected files and sheets, quarantined rows, reconciliation."""
    dq = data.dq
    files = data.files
    not_sub = dq[dq["files_received"] == 0]
    recon_cols, recon_rows, recon_more = _recon_table(data.recon, lab)
    summary = _quality_summary(dq, files, lab.t)
    fig = _quality_figure(dq, lab)

    not_read = dq["files_not_read"] if "files_not_read" in dq else 0
    issue = (dq["files_received"] > 0) & (
        (dq["files_rejected"] > 0)
        | (not_read > 0)
        | (dq["rows_quarantined"] > 0)
        | (dq["warnings"] > 0)
        | (dq["total_mismatches"] > 0)
    )
    qrows = _quarantine_rows(data, lab)
    return {
        "summary": summary,
        "figure": fig,
        "not_submitted": _not_submitted(not_sub, dq, lab),
        "issues": [_county_row(r, lab) for r in dq[issue].itertuples()],
        "all": [_county_row(r, lab) for r in dq.itertuples()],
        "rejected": _rejected_files(data, lab),
        "rejected_only": _rejected_only(dq, files, lab),
        "qrows": qrows,
        "qrows_more": max(0, data.qrows_total - len(qrows)),
        "rejected_sheets": [
            {
                "file": r.file_name,
                "sheet": r.sheet,
                "rows": int(r.rows_quarantined),
                "reason": r.message_zh if lab.lang == "zh" else r.message_en,
            }
            for r in data.rejected_sheets.itertuples()
        ],
        "mismatch": [_county_row(r, lab) for r in dq[dq["total_mismatches"] > 0].itertuples()],
        "recon_cols": recon_cols,
        "recon_rows": recon_rows,
        "recon_more": recon_more,
        "has_recon": data.recon is not None,
        "n_counties": len(dq),
    }


def _rejected_files(data: Data, lab: Labels) -> list[dict]:
    """Files of the period rejected whole or not read, with county, status and reason."""
    files = data.files
    rejected = files[files["status"].isin(["rejected", "not_read"])]
    names = dict(zip(data.counties["county_code"], data.counties["county_name_zh"], strict=True))
    return [
        {
            "file": r.file_name,
            "path": r.path,
            "county": lab.geo(r.county_code, names.get(r.county_code))
            if isinstance(r.county_code, str)
            else "",
            "status": lab.t["st_" + r.status],
            "reason": _reason(r, lab.lang),
        }
        for r in rejected.itertuples()
    ]


def _quality_summary(dq, files, t) -> list[tuple[str, str]]:
    """(label, figure) pairs at the top of the data-quality section."""
    submitted = dq[dq["files_received"] > 0]
    summary = [
        (t["q_counties"], f"{len(dq):,}"),
        (t["q_submitted"], f"{len(submitted):,}"),
        (t["q_files"], f"{int(dq['files_received'].sum()):,}"),
        (t["q_loaded"], f"{int(dq['files_loaded'].sum()):,}"),
        (t["q_superseded"], f"{int(dq['files_superseded'].sum()):,}"),
        (t["q_rejected"], f"{int((files['status'] == 'rejected').sum()):,}"),
        (t["q_rows"], f"{int(dq['rows_loaded'].sum()):,}"),
        (t["q_quarantined"], f"{int(dq['rows_quarantined'].sum()):,}"),
        (t["q_warnings"], f"{int(dq['warnings'].sum()):,}"),
        (t["q_mismatch"], f"{int(dq['total_mismatches'].sum()):,}"),
    ]
    for col, key in DQ_LEDGER:  # ledger checks of marts.data_quality, where present
        if col in dq.columns and dq[col].notna().any():
            summary.append((t[key], f"{int(dq[col].fillna(0).sum()):,}"))
    return summary


def _hbar(names, values, name: str, color: str, **more) -> go.Bar:
    """One horizontal bar series of whole counts, one bar per name, hover ``name: count``."""
    return go.Bar(
        y=names,
        x=[int(v) for v in values],
        orientation="h",
        name=name,
        marker_color=color,
        hovertemplate="%{y}: %{x}<extra>" + name + "</extra>",
        **more,
    )


def _quality_figure(dq, lab: Labels) -> go.Figure:
    """Per prefecture: counties that submitted and did not; rows quarantined."""
    t = lab.t
    # per prefecture: counties that submitted / did not; rows quarantined
    g = dq.groupby(["prefecture_code", "prefecture_name_zh"], sort=True)
    pref = g.agg(
        sub=("files_received", lambda s: int((s > 0).sum())),
        total=("county_code", "count"),
        quarantined=("rows_quarantined", "sum"),
    ).reset_index()
    names = [
        _esc(lab.geo(c, n))
        for c, n in zip(pref["prefecture_code"], pref["prefecture_name_zh"], strict=True)
    ]
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.22,
        subplot_titles=(t["chart_quality"], t["chart_q_rows"]),
    )
    submitted, missing = pref["sub"], pref["total"] - pref["sub"]
    fig.add_trace(_hbar(names, submitted, t["chart_submitted"], COLORS["good"]), row=1, col=1)
    fig.add_trace(_hbar(names, missing, t["chart_not_submitted"], COLORS["bad"]), row=1, col=1)
    fig.add_trace(
        _hbar(
            names,
            pref["quarantined"],
            t["q_quarantined"],
            "#c77c02",
            text=[f"{int(v):,}" for v in pref["quarantined"]],
            textposition="outside",
            cliponaxis=False,
        ),
        row=1,
        col=2,
    )
    fig.update_layout(
        barmode="stack",
        height=max(420, 24 * len(pref) + 140),
        legend={"orientation": "h", "y": -0.08, "x": 0},
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(rangemode="tozero", gridcolor="#e6e9ee", tickformat=",d")
    fig.update_xaxes(row=1, col=1, dtick=_dtick(int(pref["total"].max()) if len(pref) else 1))
    qmax = int(pref["quarantined"].max()) if len(pref) else 0
    fig.update_xaxes(row=1, col=2, range=[0, max(1, qmax) * 1.15], dtick=_dtick(max(1, qmax)))

    return fig


def _county_row(r, lab: Labels) -> dict:
    return {
        "prefecture": lab.geo(r.prefecture_code, r.prefecture_name_zh),
        "county": lab.geo(r.county_code, r.county_name_zh),
        "forms": int(r.forms_received),
        "missing": _forms_text(r.forms_missing, lab.lang),
        "files": int(r.files_received),
        "rejected": int(r.files_rejected),
        "rows": f"{int(r.rows_loaded):,}",
        "quarantined": int(r.rows_quarantined),
        "warnings": int(r.warnings),
        "mismatches": int(r.total_mismatches),
    }


def _quarantine_rows(data: Data, lab: Labels) -> list[dict]:
    """The quarantined rows shown (at most the load limit), in the report's language."""
    qrows = []
    for r in data.qrows.itertuples():
        msg = r.message_zh if lab.lang == "zh" else r.message_en
        qrows.append(
            {
                "file": r.file_name,
                "sheet": r.sheet,
                "row": "" if pd.isna(r.excel_row) else int(r.excel_row),
                "where": _row_label(r.cells),
                "problem": "" if msg is None or pd.isna(msg) else msg,
            }
        )
    return qrows


DQ_LEDGER = (
    ("reconciliation_differences", "q_recon"),
    ("ledger_villages_missing_from_population", "q_ledger_only"),
    ("population_villages_missing_from_ledger", "q_population_only"),
    ("duplicate_id_households", "q_dup_id"),
)
RECON_COLUMNS = {
    "county_name_zh": ("县（市、区）", "County"),
    "township": ("乡（镇）", "Township"),
    "village": ("行政村", "Village"),
    "village_code": ("村代码", "Village code"),
    "status": ("核对结果", "Status"),
    "ledger_registered": ("台账户数", "Ledger households"),
    "population_registered": ("表1建档立卡户数", "Form: registered"),
    "diff_registered": ("差", "Diff."),
    "ledger_exited": ("台账已脱贫户", "Ledger exited"),
    "population_exited": ("表1已脱贫户数", "Form: exited"),
    "diff_exited": ("差", "Diff."),
    "ledger_remaining": ("台账未脱贫户", "Ledger remaining"),
    "population_remaining": ("表1未脱贫户数", "Form: remaining"),
    "diff_remaining": ("差", "Diff."),
}


RECON_STATUS = {
    "zh": {"both": "两表均有", "ledger_only": "仅台账有", "population_only": "仅人口表有"},
    "en": {"both": "both", "ledger_only": "ledger only", "population_only": "form only"},
}


def _recon_table(recon: pd.DataFrame | None, lab: Labels, limit: int = 50):
    """Villages whose ledger and population-form counts differ (marts.reconciliation):
    (headers, rows, rows not shown). Villages only on the form are counted in the summary,
    not listed (a sample ledger leaves many)."""
    if recon is None or recon.empty:
        return [], [], 0
    rc = recon
    if "has_difference" in rc.columns:
        rc = rc[rc["has_difference"].fillna(False).astype(bool)]
    if "status" in rc.columns:
        rc = rc[rc["status"] != "population_only"]
    diff = [c for c in rc.columns if c.startswith("diff")]
    if diff:
        rc = rc.assign(_abs=rc[diff].abs().max(axis=1)).sort_values("_abs", ascending=False)
    cols = [c for c in RECON_COLUMNS if c in rc.columns] or [
        c for c in rc.columns if c not in ("period", "_abs")
    ]
    i = 0 if lab.lang == "zh" else 1
    headers = [RECON_COLUMNS[c][i] if c in RECON_COLUMNS else c for c in cols]
    status = RECON_STATUS[lab.lang]

    def cell(col: str, v) -> dict:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return {"v": "", "n": False}
        if col == "status":
            return {"v": status.get(v, v), "n": False}
        if isinstance(v, numbers.Number) and not isinstance(v, bool | np.bool_):
            return {"v": f"{v:,.0f}", "n": True}
        return {"v": str(v), "n": False}

    rows = [
        [cell(c, v) for c, v in zip(cols, row, strict=True)]
        for row in rc[cols].head(limit).itertuples(index=False)
    ]
    return headers, rows, max(0, len(rc) - limit)


def _dtick(top: int) -> int:
    """A whole-number tick step (1, 2, 5, 10, 20, 50 …) giving at most six ticks up to ``top``."""
    step = 1
    while top / step > 6:
        for m in (2, 5, 10):
            if top / (step * m) <= 6:
                return step * m
        step *= 10
    return step


def _reason(r, lang: str) -> str:
    """The message of a rejected or not-read file in the report's language (issue 12)."""
    zh = r.reject_message if isinstance(r.reject_message, str) else None
    en = getattr(r, "message_en", None)
    if lang == "en" and isinstance(en, str):
        return en
    return zh or (r.reason if isinstance(r.reason, str) else "")


def _rejected_only(dq: pd.DataFrame, files: pd.DataFrame, lab: Labels) -> list[dict]:
    """Counties that sent files of the period, every one rejected or not read: they did
    send something (issue 12 item 8), with the reasons."""
    if "submission_state" not in dq:
        return []
    out = []
    for r in dq[dq["submission_state"] == "rejected"].itertuples():
        mine = files[(files["county_code"] == r.county_code)
                     & files["status"].isin(["rejected", "not_read"])]  # fmt: skip
        reasons = [_reason(f, lab.lang) for f in mine.itertuples()]
        out.append(
            {
                "county": lab.geo(r.county_code, r.county_name_zh),
                "reasons": "；".join(reasons) if lab.lang == "zh" else "; ".join(reasons),
            }
        )
    return out


def _not_submitted(not_sub: pd.DataFrame, dq: pd.DataFrame, lab: Labels) -> list[dict]:
    """Counties that sent nothing, one line per prefecture."""
    sep = "、" if lab.lang == "zh" else ", "
    totals = dq.groupby("prefecture_code")["county_code"].count()
    out = []
    for (code, name), g in not_sub.groupby(["prefecture_code", "prefecture_name_zh"], sort=True):
        out.append(
            {
                "prefecture": lab.geo(code, name),
                "n": f"{len(g)} / {int(totals.get(code, len(g)))}",
                "counties": sep.join(
                    lab.geo(c, n)
                    for c, n in zip(g["county_code"], g["county_name_zh"], strict=True)
                ),
            }
        )
    return out


_LABEL_KEYS = (
    "行政村",
    "村",
    "安置点名称",
    "乡（镇）",
    "乡(镇)",
    "乡镇",
    "所在乡（镇）",
    "户编号",
)


def _row_label(cells) -> str:
    """Village / township (or site, household) of a quarantined row, from its cells JSON."""
    if cells is None:
        return ""
    try:
        d = json.loads(cells) if isinstance(cells, str) else dict(cells)
    except (TypeError, ValueError):
        return ""
    parts = []
    for key in d:
        norm = str(key).replace(" ", "").replace("\n", "")
        if any(norm.startswith(k) for k in _LABEL_KEYS) and d[key] not in (None, ""):
            parts.append(str(d[key]))
    return " / ".join(parts[:2])


def _forms_text(forms: str | None, lang: str) -> str:
    if not forms or (isinstance(forms, float) and pd.isna(forms)):
        return ""
    out = []
    for f in str(forms).split(","):
        f = f.strip()
        if f in FORMS:
            spec = FORMS[f]
            out.append(
                f"{spec.table_no}{spec.title_zh}" if lang == "zh" else FORM_NAMES_EN.get(f, f)
            )
        elif f:
            out.append(f)
    return "、".join(out) if lang == "zh" else ", ".join(out)


# ---------------------------------------------------------------------------- rendering


def _fig_html(fig: go.Figure, div_id: str) -> Markup:
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 13, "color": "#1f2933"},
        margin={"l": 10, "r": 40, "t": 70, "b": 40},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
    )
    return Markup(
        pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config=PLOT_CONFIG,
            default_width="100%",
        )
    )


def render(data: Data, lang: str = "zh", step: Callable[[str], None] | None = None) -> str:
    """The report as one HTML document (str)."""
    if lang not in T:
        raise ReportError(f"unknown language {lang!r}: zh or en")
    step = step or (lambda _msg: None)
    lab = Labels(data, lang)
    t = lab.t
    step("headline")
    head = headline(data, lab)
    fams = []
    for form, codes in families(data):
        step(f"chart: {form}")
        fig = family_figure(data, lab, form, codes)
        spec = FORMS.get(form)
        fams.append(
            {
                "id": f"family-{form}",
                "name": FAMILY_NAMES[lang].get(form, form),
                "form": (f"{spec.table_no} {spec.title_zh}" if spec and lang == "zh" else ""),
                "chart": _fig_html(fig, f"chart-{form}") if fig is not None else None,
                "multi": len(codes) > 1,
            }
        )
    step("trend")
    trend = trend_figure(data, lab)
    step("exit line")
    ex = exit_section(data, lab)
    step("data quality")
    q = quality_section(data, lab)
    step("page")
    reporting = int((data.dq["files_received"] > 0).sum()) if len(data.dq) else 0
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(
        t=t,
        lang=lang,
        html_lang="zh-CN" if lang == "zh" else "en",
        period=period_label(data.period, lang),
        period_code=data.period,
        previous=period_label(data.previous, lang) if data.previous else None,
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"),
        built=data.built_at.strftime("%Y-%m-%d %H:%M") if data.built_at else "—",
        reporting=reporting,
        n_counties=len(data.dq),
        plotly_js=Markup(get_plotlyjs()),
        font=FONT,
        head=head,
        fams=fams,
        trend=_fig_html(trend, "chart-trend") if trend is not None else None,
        one_period=len(data.periods) == 1,
        ex=ex,
        exit_chart=_fig_html(ex["figure"], "chart-exit") if ex["figure"] is not None else None,
        q=q,
        q_chart=_fig_html(q["figure"], "chart-quality"),
    )


def default_path(out_dir: Path, period: str, lang: str) -> Path:
    suffix = "" if lang == "zh" else f"_{lang}"
    return Path(out_dir) / f"report_{period}{suffix}.html"


def write_report(
    warehouse: Path,
    out_dir: Path,
    period: str | None = None,
    lang: str = "zh",
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write ``out_dir/report_<period>.html`` (``_en`` before ``.html`` for English) from the
    published warehouse, read-only; return its path. Raises ReportError."""
    step = progress or (lambda _msg: None)
    step("reading the warehouse")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        data = load(con, period)
    finally:
        con.close()
    text = render(data, lang, step)
    step("writing")
    path = default_path(out_dir, data.period, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


STEPS = 6 + len(FAMILIES)  # for a progress bar: reading, headline, families, trend, …, writing


TEMPLATE = r"""<!DOCTYPE html>
<html lang="{{ html_lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tpa">
<title>{{ t.title }} {{ period }}</title>
<style>
  :root { --ink:#1f2933; --muted:#5b6f82; --line:#d9dee4; --accent:#a61b1b; --bg:#f6f7f9;
          --good:#1f7a4d; --bad:#b8312f; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--ink); font-family: {{ font|safe }};
         font-size:14px; line-height:1.55; }
  main { max-width:1200px; margin:0 auto; padding:0 24px 48px; background:#fff;
         box-shadow:0 0 0 1px var(--line); }
  header.masthead { border-bottom:3px solid var(--accent); padding:28px 0 14px; margin-bottom:8px; }
  header.masthead h1 { margin:0; font-size:26px; letter-spacing:1px; color:var(--accent); }
  header.masthead .period { font-size:20px; margin-top:4px; font-weight:600; }
  .meta { color:var(--muted); font-size:12.5px; margin-top:8px; display:flex; flex-wrap:wrap;
          gap:4px 22px; }
  nav.toc { margin:12px 0 4px; font-size:13px; }
  nav.toc a { color:var(--ink); margin-right:16px; text-decoration:none;
              border-bottom:1px dotted var(--muted); }
  h2 { font-size:19px; border-left:5px solid var(--accent); padding-left:10px;
       margin:34px 0 12px; }
  h3 { font-size:16px; margin:22px 0 6px; }
  .cards { display:grid; grid-template-columns:repeat(4, 1fr); gap:12px; }
  .card { border:1px solid var(--line); border-radius:6px; padding:12px 14px; background:#fbfcfd; }
  .card .name { font-size:12.5px; color:var(--muted); min-height:2.4em; }
  .card .v { font-size:24px; font-weight:700; margin:2px 0; font-variant-numeric:tabular-nums; }
  .card .c { font-size:12.5px; }
  .better { color:var(--good); } .worse { color:var(--bad); } .flat { color:var(--muted); }
  table { border-collapse:collapse; width:100%; font-size:13px; margin:6px 0 10px; }
  th, td { border:1px solid var(--line); padding:4px 8px; vertical-align:top; }
  th { background:#eef1f4; font-weight:600; text-align:left; }
  td.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
  tr:nth-child(even) td { background:#fafbfc; }
  tr.group td { background:#f4eded; font-weight:600; color:var(--accent); }
  .note { color:var(--muted); font-size:12.5px; margin:4px 0; }
  .family { border-top:1px solid var(--line); padding-top:6px; margin-top:18px; }
  .family .form { color:var(--muted); font-size:12.5px; font-weight:400; margin-left:8px; }
  .summary { display:grid; grid-template-columns:repeat(auto-fill, minmax(170px, 1fr)); gap:8px; }
  .summary div { border:1px solid var(--line); border-radius:5px; padding:6px 10px; }
  .summary b { display:block; font-size:18px; font-variant-numeric:tabular-nums; }
  .summary span { color:var(--muted); font-size:12px; }
  .clerk { white-space:pre-wrap; word-break:break-all; }
  details summary { cursor:pointer; color:var(--muted); margin:6px 0; }
  footer { color:var(--muted); font-size:12px; border-top:1px solid var(--line); margin-top:36px;
           padding-top:10px; }
  .modebar { opacity:0.35; }
  @media print { body { background:#fff; } main { box-shadow:none; } .modebar { display:none; }
                 .family, .section { break-inside:avoid; } }
  @media (max-width: 900px) { .cards { grid-template-columns:repeat(2, 1fr); } }
</style>
<script type="text/javascript">{{ plotly_js }}</script>
</head>
<body>
<main>
<header class="masthead">
  <h1>{{ t.title }}</h1>
  <div class="period">{{ period }}</div>
  <div class="meta">
    <span>{{ t.source }}：{{ t.source_text }}</span>
    <span>{{ t.counties_reporting }}：{{ reporting }} / {{ n_counties }}</span>
    <span>{{ t.built }}：{{ built }}</span>
    <span>{{ t.generated }}：{{ generated }}</span>
  </div>
  <nav class="toc">
    <a href="#headline">{{ t.s_headline }}</a><a href="#families">{{ t.s_families }}</a>
    <a href="#trend">{{ t.s_trend }}</a><a href="#exit">{{ t.s_exit }}</a>
    <a href="#quality">{{ t.s_quality }}</a>
  </nav>
</header>

<section id="headline" class="section">
<h2>{{ t.s_headline }}</h2>
<div class="cards">
{% for c in head.cards %}
  <div class="card">
    <div class="name">{{ c.name }}</div>
    <div class="v">{{ c.value }}</div>
    <div class="c {{ c.cls }}">
      {% if previous %}{% if c.change %}{{ t.change }} {{ c.change }}{% else %}{{ t.no_prev }}{% endif %}{% else %}{{ t.no_prev }}{% endif %}
    </div>
  </div>
{% endfor %}
</div>
<table>
  <thead><tr><th>{{ t.indicator }}</th><th>{{ t.value }}</th>
  {% if previous %}<th>{{ t.prev_value }}（{{ previous }}）</th><th>{{ t.change }}</th>{% endif %}
  <th>{{ t.numerator }}</th><th>{{ t.denominator }}</th><th>{{ t.unit }}</th></tr></thead>
  <tbody>
  {% for r in head.rows %}
    {% if loop.changed(r.family) %}<tr class="group"><td colspan="{{ 7 if previous else 5 }}">{{ r.family }}</td></tr>{% endif %}
    <tr><td title="{{ r.definition }}">{{ r.name }}</td><td class="n">{{ r.value }}</td>
    {% if previous %}<td class="n">{{ r.prev }}</td><td class="n {{ r.cls }}">{{ r.change }}</td>{% endif %}
    <td class="n">{{ r.num }}</td><td class="n">{{ r.den }}</td><td>{{ r.unit }}</td></tr>
  {% endfor %}
  </tbody>
</table>
</section>

<section id="families" class="section">
<h2>{{ t.s_families }}</h2>
<p class="note">{{ t.family_note }}</p>
{% for f in fams %}
<div class="family" id="{{ f.id }}">
  <h3>{{ f.name }}{% if f.form %}<span class="form">{{ f.form }}</span>{% endif %}</h3>
  {% if f.chart %}{{ f.chart }}{% else %}<p class="note">{{ t.no_family_data }}</p>{% endif %}
</div>
{% endfor %}
</section>

<section id="trend" class="section">
<h2>{{ t.s_trend }}</h2>
{% if one_period %}<p class="note">{{ t.one_period.format(p=period) }}</p>{% endif %}
{% if trend %}{{ trend }}{% endif %}
</section>

<section id="exit" class="section">
<h2>{{ t.s_exit }}</h2>
{% if ex.rows %}
<p>{{ t.exit_intro }} {{ t.exit_count.format(n=ex.rows|length) }}</p>
{{ exit_chart }}
<table>
  <thead><tr><th>{{ t.prefecture }}</th><th>{{ t.county }}</th><th>{{ t.incidence }}</th>
  {% if previous %}<th>{{ t.prev_value }}</th>{% endif %}
  <th>{{ t.remaining }}</th><th>{{ t.villages_above }}</th>
  {% if ex.has_ve %}<th>{{ t.villages_above_all }}</th>{% endif %}
  <th>{{ t.poverty_county }}</th></tr></thead>
  <tbody>
  {% for r in ex.rows %}
    <tr><td>{{ r.prefecture }}</td><td>{{ r.county }}</td><td class="n">{{ r.incidence }}</td>
    {% if previous %}<td class="n">{{ r.prev }}</td>{% endif %}
    <td class="n">{{ r.remaining }}</td><td class="n">{{ r.villages }}</td>
    {% if ex.has_ve %}<td class="n">{{ r.villages_all }}</td>{% endif %}
    <td>{{ r.poverty_county }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p>{{ t.exit_none }}</p>
{% endif %}
</section>

<section id="quality" class="section">
<h2>{{ t.s_quality }}</h2>
<h3>{{ t.q_summary }}</h3>
<div class="summary">
{% for label, value in q.summary %}<div><b>{{ value }}</b><span>{{ label }}</span></div>{% endfor %}
</div>
{{ q_chart }}

<h3>{{ t.q_not_submitted }}</h3>
{% if q.not_submitted %}
<table>
  <thead><tr><th>{{ t.prefecture }}</th><th>{{ t.q_not_submitted_n }}</th><th>{{ t.county }}</th></tr></thead>
  <tbody>{% for r in q.not_submitted %}<tr><td style="white-space:nowrap">{{ r.prefecture }}</td><td class="n">{{ r.n }}</td><td>{{ r.counties }}</td></tr>{% endfor %}</tbody>
</table>
{% else %}<p>{{ t.q_all_submitted.format(n=q.n_counties) }}</p>{% endif %}

{% if q.rejected_only %}
<h3>{{ t.q_rejected_only }}</h3>
<table>
  <thead><tr><th>{{ t.county }}</th><th>{{ t.reason }}</th></tr></thead>
  <tbody>{% for r in q.rejected_only %}<tr><td style="white-space:nowrap">{{ r.county }}</td><td class="clerk">{{ r.reasons }}</td></tr>{% endfor %}</tbody>
</table>
{% endif %}

{% if q.rejected %}
<h3>{{ t.q_rejected_files }}</h3>
<table>
  <thead><tr><th>{{ t.file }}</th><th>{{ t.county }}</th><th>{{ t.status }}</th><th>{{ t.reason }}</th></tr></thead>
  <tbody>{% for r in q.rejected %}<tr><td class="clerk">{{ r.path }}</td><td>{{ r.county }}</td><td>{{ r.status }}</td><td class="clerk">{{ r.reason }}</td></tr>{% endfor %}</tbody>
</table>
{% endif %}

{% if q.rejected_sheets %}
<h3>{{ t.q_rejected_sheets }}</h3>
<table>
  <thead><tr><th>{{ t.file }}</th><th>{{ t.sheet }}</th><th>{{ t.q_rows_lost }}</th><th>{{ t.reason }}</th></tr></thead>
  <tbody>{% for r in q.rejected_sheets %}<tr><td class="clerk">{{ r.file }}</td><td class="clerk">{{ r.sheet }}</td><td class="n">{{ r.rows }}</td><td class="clerk">{{ r.reason }}</td></tr>{% endfor %}</tbody>
</table>
{% endif %}

<h3>{{ t.q_quarantined_rows }}</h3>
{% if q.qrows %}
<table>
  <thead><tr><th>{{ t.file }}</th><th>{{ t.sheet }}</th><th>{{ t.row }}</th><th>{{ t.where }}</th><th>{{ t.problem }}</th></tr></thead>
  <tbody>
  {% for r in q.qrows %}
    <tr><td class="clerk">{{ r.file }}</td><td class="clerk">{{ r.sheet }}</td><td class="n">{{ r.row }}</td>
    <td class="clerk">{{ r.where }}</td><td class="clerk">{{ r.problem }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% if q.qrows_more %}<p class="note">{{ t.q_more.format(n=q.qrows_more) }}</p>{% endif %}
{% else %}<p>{{ t.q_none_quarantined }}</p>{% endif %}

{% if q.mismatch %}
<h3>{{ t.q_mismatch_title }}</h3>
<table>
  <thead><tr><th>{{ t.prefecture }}</th><th>{{ t.county }}</th><th>{{ t.mismatches }}</th></tr></thead>
  <tbody>{% for r in q.mismatch %}<tr><td>{{ r.prefecture }}</td><td>{{ r.county }}</td><td class="n">{{ r.mismatches }}</td></tr>{% endfor %}</tbody>
</table>
{% endif %}

{% if q.has_recon %}
<h3>{{ t.q_recon_title }}</h3>
{% if q.recon_rows %}
<table>
  <thead><tr>{% for c in q.recon_cols %}<th>{{ c }}</th>{% endfor %}</tr></thead>
  <tbody>{% for row in q.recon_rows %}<tr>{% for c in row %}<td class="{{ 'n' if c.n else 'clerk' }}">{{ c.v }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
{% if q.recon_more %}<p class="note">{{ t.q_more.format(n=q.recon_more) }}</p>{% endif %}
{% else %}<p class="note">—</p>{% endif %}
{% endif %}

{% macro county_table(rows) %}
<table>
  <thead><tr><th>{{ t.prefecture }}</th><th>{{ t.county }}</th><th>{{ t.forms_received }}</th>
  <th>{{ t.forms_missing }}</th><th>{{ t.files }}</th><th>{{ t.q_rejected }}</th><th>{{ t.rows_loaded }}</th>
  <th>{{ t.rows_quarantined }}</th><th>{{ t.warnings }}</th><th>{{ t.mismatches }}</th></tr></thead>
  <tbody>
  {% for r in rows %}
    <tr><td>{{ r.prefecture }}</td><td>{{ r.county }}</td><td class="n">{{ r.forms }}</td>
    <td>{{ r.missing }}</td><td class="n">{{ r.files }}</td><td class="n">{{ r.rejected }}</td>
    <td class="n">{{ r.rows }}</td><td class="n">{{ r.quarantined }}</td>
    <td class="n">{{ r.warnings }}</td><td class="n">{{ r.mismatches }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endmacro %}
{% if q.issues %}
<h3>{{ t.q_county_table }}</h3>
{{ county_table(q.issues) }}
{% endif %}
<details><summary>{{ t.q_county_all }}（{{ q.all|length }}）</summary>
{{ county_table(q.all) }}
</details>
</section>

<footer>{{ t.footer }}</footer>
</main>
</body>
</html>
"""
