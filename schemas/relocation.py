"""表2 易地扶贫搬迁安置点建设进度 — relocation form: one row per resettlement site
(scattered resettlement: one row per township)."""

from __future__ import annotations

import pandas as pd

from schemas.columns import Col, Form
from schemas.rules import Rule, le


def _area_given_when_centralized(df: pd.DataFrame) -> pd.Series:
    """A centralized site (集中) states its resettlement area."""
    missing = (df["resettlement_mode"] == "集中") & df["resettlement_area"].isna()
    return ~missing.fillna(False).astype(bool)


FORM = Form(
    code="relocation",
    table_no="表2",
    title_zh="易地扶贫搬迁安置点建设进度",
    grain="one row per resettlement site (scattered: one row per township)",
    row_unit="site",
    label_columns=("site_name", "township"),
    columns=(
        Col(
            "site_name",
            "text",
            "安置点名称",
            ("安置点", "安置点(项目)名称", "项目名称"),
            required=True,
            row_required=True,
        ),
        Col("township", "text", "所在乡（镇）", ("乡（镇）", "乡镇", "所在乡镇")),
        Col(
            "resettlement_mode",
            "enum",
            "安置方式",
            ("安置类型",),
            required=True,
            row_required=True,
            choices=("集中", "分散"),
        ),
        Col(
            "resettlement_area",
            "enum",
            "安置区域",
            ("安置地点", "城镇/乡村"),
            choices=("城镇", "乡村"),
        ),
        Col("planned_households", "count", "计划搬迁户数", ("搬迁户数",), unit="户"),
        Col("planned_persons", "count", "计划搬迁人数", ("搬迁人数", "计划搬迁人口数"), unit="人"),
        Col(
            "registered_persons",
            "count",
            "建档立卡贫困人口",
            ("建档立卡贫困人口数", "建档立卡人数"),
            unit="人",
        ),
        Col("planned_units", "count", "计划建设套数", ("计划套数", "建设任务套数"), unit="套"),
        Col("started_units", "count", "已开工套数", ("开工套数",), unit="套"),
        Col("completed_units", "count", "已竣工套数", ("竣工套数",), unit="套"),
        Col("moved_in_households", "count", "已入住户数", ("入住户数",), unit="户"),
        Col("moved_in_persons", "count", "已入住人数", ("入住人数",), unit="人"),
        Col("completion_date", "date", "竣工时间", ("竣工日期", "完工时间")),
    ),
    rules=(
        le("registered_persons", "planned_persons", "建档立卡贫困人口", "计划搬迁人数"),
        le("started_units", "planned_units", "已开工套数", "计划建设套数"),
        le("completed_units", "started_units", "已竣工套数", "已开工套数"),
        le("moved_in_persons", "planned_persons", "已入住人数", "计划搬迁人数", warn=True),
        Rule(
            "resettlement_area_required_when_centralized",
            ("resettlement_area", "resettlement_mode"),
            "集中安置点须填写安置区域（城镇/乡村）",
            "a centralized site needs its resettlement area (城镇/乡村)",
            _area_given_when_centralized,
        ),
    ),
    report_title="易地扶贫搬迁安置点建设进度统计表",
    note="注：集中安置按安置点填报，分散安置按乡（镇）汇总填报。",
)
