"""表1 建档立卡贫困人口情况 — population form: one row per administrative village."""

from __future__ import annotations

import pandas as pd

from schemas.columns import Col, Form, township, village, village_code
from schemas.rules import Rule, difference, le, num


def _incidence_matches(df: pd.DataFrame) -> pd.Series:
    """The sheet's incidence is within 0.05 points of remaining / total population x 100
    (a zero population or a NULL operand passes)."""
    recomputed = (
        num(df, "remaining_persons") / num(df, "total_population").replace(0, float("nan")) * 100
    )
    diff = (num(df, "poverty_incidence") - recomputed).abs()
    return ~(diff > 0.05 + 1e-9).fillna(False).astype(bool)


FORM = Form(
    code="population",
    table_no="表1",
    title_zh="建档立卡贫困人口情况",
    grain="one row per administrative village",
    row_unit="village",
    label_columns=("township", "village"),
    columns=(
        township("乡镇", "乡镇名称", "乡(镇)名称", "乡镇(街道)", "乡(镇、街道)"),
        village("村", "行政村名称", "村委会", "村(社区)", "行政村(社区)"),
        village_code("行政村代码", "村级代码", "区划代码", "村代码(12位)"),
        Col(
            "is_poverty_village",
            "bool",
            "是否贫困村",
            ("贫困村", "是否为贫困村"),
            required=True,
            row_required=True,
        ),
        Col("total_households", "count", "总户数", ("户数", "全村总户数"), unit="户"),
        Col("total_population", "count", "总人口", ("总人口数", "全村总人口", "人口数"), unit="人"),
        Col(
            "registered_households",
            "count",
            "建档立卡贫困户数",
            ("建档立卡户数", "贫困户数"),
            unit="户",
        ),
        Col(
            "registered_persons",
            "count",
            "建档立卡贫困人口数",
            ("建档立卡人口数", "贫困人口数", "建档立卡贫困人数"),
            unit="人",
        ),
        Col("exited_households", "count", "已脱贫户数", ("脱贫户数",), unit="户"),
        Col("exited_persons", "count", "已脱贫人口数", ("脱贫人口数", "已脱贫人数"), unit="人"),
        Col("remaining_households", "count", "未脱贫户数", ("剩余贫困户数",), unit="户"),
        Col(
            "remaining_persons",
            "count",
            "未脱贫人口数",
            ("剩余贫困人口数", "未脱贫人数"),
            unit="人",
        ),
        Col("poverty_incidence", "percent", "贫困发生率", ("贫困发生率%",), unit="%"),
    ),
    rules=(
        le("registered_households", "total_households", "建档立卡贫困户数", "总户数"),
        le("registered_persons", "total_population", "建档立卡贫困人口数", "总人口"),
        le("registered_households", "registered_persons", "建档立卡贫困户数", "建档立卡贫困人口数"),
        le("exited_households", "registered_households", "已脱贫户数", "建档立卡贫困户数"),
        le("exited_persons", "registered_persons", "已脱贫人口数", "建档立卡贫困人口数"),
        difference(
            "remaining_households",
            "registered_households",
            "exited_households",
            "未脱贫户数",
            "建档立卡贫困户数",
            "已脱贫户数",
        ),
        difference(
            "remaining_persons",
            "registered_persons",
            "exited_persons",
            "未脱贫人口数",
            "建档立卡贫困人口数",
            "已脱贫人口数",
        ),
        Rule(
            "warn_poverty_incidence_recomputed",
            ("poverty_incidence", "remaining_persons", "total_population"),
            "贫困发生率与未脱贫人口数/总人口相差超过0.05个百分点，请核对",
            "poverty incidence differs from remaining persons / total population by more "
            "than 0.05 points",
            _incidence_matches,
            severity="warning",
        ),
    ),
    report_title="建档立卡贫困人口情况统计表",
    note="注：1.本表按行政村填报；2.贫困发生率=未脱贫人口数÷总人口×100%。",
)
