"""表3 农村危房改造 — housing form: one row per township, two-row header.

The four key categories (四类重点对象) and the others each have 任务数 (planned)
and 竣工数 (completed) under a merged parent cell; columns are matched as
(parent, child) pairs.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.columns import Col, Form
from schemas.common import FormSchema, le, le_rule, nonneg

PLANNED = ("任务数", "计划数", "改造任务数", "任务")
COMPLETED = ("竣工数", "已竣工数", "完成数", "竣工")

GROUPS = {
    "registered": ("建档立卡贫困户", ("建档立卡户", "建档立卡贫困户家庭")),
    "subsistence": ("低保户", ("农村低保户", "低保家庭")),
    "extreme_poor": ("农村分散供养特困人员", ("分散供养特困人员", "特困供养人员", "特困人员")),
    "disabled": ("贫困残疾人家庭", ("残疾人家庭", "贫困残疾人")),
    "other": ("非四类重点对象", ("其他", "其他农户", "非四类重点对象农户")),
}
KEY_GROUPS = ("registered", "subsistence", "extreme_poor", "disabled")


def _group_cols(group: str) -> tuple[Col, Col]:
    parent, parent_aliases = GROUPS[group]
    parents = (parent, *parent_aliases)
    return (
        Col(f"{group}_planned", "count", PLANNED[0], PLANNED[1:], parents=parents, unit="户"),
        Col(f"{group}_completed", "count", COMPLETED[0], COMPLETED[1:], parents=parents, unit="户"),
    )


FORM = Form(
    code="housing",
    table_no="表3",
    title_zh="农村危房改造",
    grain="one row per township",
    row_unit="township",
    columns=(
        Col(
            "township",
            "text",
            "乡（镇）",
            ("乡镇", "乡镇名称", "乡(镇、街道)"),
            required=True,
            row_required=True,
        ),
        *(c for g in GROUPS for c in _group_cols(g)),
    ),
)


class HousingSchema(FormSchema):
    """Validated housing rows; counts of houses (Int64, NULL = missing)."""

    township: Series[str] = pa.Field(nullable=False)
    registered_planned: Series[pd.Int64Dtype] = nonneg()
    registered_completed: Series[pd.Int64Dtype] = nonneg()
    subsistence_planned: Series[pd.Int64Dtype] = nonneg()
    subsistence_completed: Series[pd.Int64Dtype] = nonneg()
    extreme_poor_planned: Series[pd.Int64Dtype] = nonneg()
    extreme_poor_completed: Series[pd.Int64Dtype] = nonneg()
    disabled_planned: Series[pd.Int64Dtype] = nonneg()
    disabled_completed: Series[pd.Int64Dtype] = nonneg()
    other_planned: Series[pd.Int64Dtype] = nonneg()
    other_completed: Series[pd.Int64Dtype] = nonneg()

    @pa.dataframe_check(
        name=le_rule(
            "registered_completed",
            "registered_planned",
            "建档立卡贫困户竣工数",
            "任务数",
            warn=True,
        ),
        ignore_na=False,
    )
    def _r1(cls, df):
        return le(df, "registered_completed", "registered_planned")

    @pa.dataframe_check(
        name=le_rule(
            "subsistence_completed", "subsistence_planned", "低保户竣工数", "任务数", warn=True
        ),
        ignore_na=False,
    )
    def _r2(cls, df):
        return le(df, "subsistence_completed", "subsistence_planned")

    @pa.dataframe_check(
        name=le_rule(
            "extreme_poor_completed", "extreme_poor_planned", "特困人员竣工数", "任务数", warn=True
        ),
        ignore_na=False,
    )
    def _r3(cls, df):
        return le(df, "extreme_poor_completed", "extreme_poor_planned")

    @pa.dataframe_check(
        name=le_rule(
            "disabled_completed", "disabled_planned", "贫困残疾人家庭竣工数", "任务数", warn=True
        ),
        ignore_na=False,
    )
    def _r4(cls, df):
        return le(df, "disabled_completed", "disabled_planned")

    @pa.dataframe_check(
        name=le_rule(
            "other_completed", "other_planned", "非四类重点对象竣工数", "任务数", warn=True
        ),
        ignore_na=False,
    )
    def _r5(cls, df):
        return le(df, "other_completed", "other_planned")
