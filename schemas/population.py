"""表1 建档立卡贫困人口情况 — population form: one row per administrative village."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.columns import Col, Form
from schemas.common import FormSchema, _num, diff_rule, eq_diff, le, le_rule, nonneg, register

INCIDENCE_RULE = register(
    "warn_poverty_incidence_recomputed",
    ("poverty_incidence", "remaining_persons", "total_population"),
    "贫困发生率与未脱贫人口数/总人口相差超过0.05个百分点，请核对",
    "poverty incidence differs from remaining persons / total population by more than 0.05 points",
)

FORM = Form(
    code="population",
    table_no="表1",
    title_zh="建档立卡贫困人口情况",
    grain="one row per administrative village",
    row_unit="village",
    label_columns=("township", "village"),
    columns=(
        Col(
            "township",
            "text",
            "乡（镇）",
            ("乡镇", "乡镇名称", "乡(镇)名称", "乡镇(街道)", "乡(镇、街道)"),
            required=True,
            row_required=True,
        ),
        Col(
            "village",
            "text",
            "行政村",
            ("村", "行政村名称", "村委会", "村(社区)", "行政村(社区)"),
            required=True,
            row_required=True,
        ),
        Col(
            "village_code", "code", "村代码", ("行政村代码", "村级代码", "区划代码", "村代码(12位)")
        ),
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
)


class PopulationSchema(FormSchema):
    """Validated population rows; counts in persons/households (Int64, NULL = missing)."""

    township: Series[str] = pa.Field(nullable=False)
    village: Series[str] = pa.Field(nullable=False)
    village_code: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{12}$")
    is_poverty_village: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    total_households: Series[pd.Int64Dtype] = nonneg()
    total_population: Series[pd.Int64Dtype] = nonneg()
    registered_households: Series[pd.Int64Dtype] = nonneg()
    registered_persons: Series[pd.Int64Dtype] = nonneg()
    exited_households: Series[pd.Int64Dtype] = nonneg()
    exited_persons: Series[pd.Int64Dtype] = nonneg()
    remaining_households: Series[pd.Int64Dtype] = nonneg()
    remaining_persons: Series[pd.Int64Dtype] = nonneg()
    poverty_incidence: Series[float] = pa.Field(nullable=True, ge=0, le=100)

    @pa.dataframe_check(
        name=le_rule("registered_households", "total_households", "建档立卡贫困户数", "总户数"),
        ignore_na=False,
    )
    def _r1(cls, df):
        return le(df, "registered_households", "total_households")

    @pa.dataframe_check(
        name=le_rule("registered_persons", "total_population", "建档立卡贫困人口数", "总人口"),
        ignore_na=False,
    )
    def _r2(cls, df):
        return le(df, "registered_persons", "total_population")

    @pa.dataframe_check(
        name=le_rule(
            "registered_households", "registered_persons", "建档立卡贫困户数", "建档立卡贫困人口数"
        ),
        ignore_na=False,
    )
    def _r3(cls, df):
        return le(df, "registered_households", "registered_persons")

    @pa.dataframe_check(
        name=le_rule(
            "exited_households", "registered_households", "已脱贫户数", "建档立卡贫困户数"
        ),
        ignore_na=False,
    )
    def _r4(cls, df):
        return le(df, "exited_households", "registered_households")

    @pa.dataframe_check(
        name=le_rule("exited_persons", "registered_persons", "已脱贫人口数", "建档立卡贫困人口数"),
        ignore_na=False,
    )
    def _r5(cls, df):
        return le(df, "exited_persons", "registered_persons")

    @pa.dataframe_check(
        name=diff_rule(
            "remaining_households",
            "registered_households",
            "exited_households",
            "未脱贫户数",
            "建档立卡贫困户数",
            "已脱贫户数",
        ),
        ignore_na=False,
    )
    def _r6(cls, df):
        return eq_diff(df, "remaining_households", "registered_households", "exited_households")

    @pa.dataframe_check(
        name=diff_rule(
            "remaining_persons",
            "registered_persons",
            "exited_persons",
            "未脱贫人口数",
            "建档立卡贫困人口数",
            "已脱贫人口数",
        ),
        ignore_na=False,
    )
    def _r7(cls, df):
        return eq_diff(df, "remaining_persons", "registered_persons", "exited_persons")

    @pa.dataframe_check(name=INCIDENCE_RULE, ignore_na=False)
    def _r8(cls, df):
        recomputed = (
            _num(df, "remaining_persons")
            / _num(df, "total_population").replace(0, float("nan"))
            * 100
        )
        diff = (_num(df, "poverty_incidence") - recomputed).abs()
        return ~(diff > 0.05 + 1e-9).fillna(False).astype(bool)
