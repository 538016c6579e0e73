"""表6 控辍保学 — education form: one row per township."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.columns import Col, Form
from schemas.common import FormSchema, diff_rule, eq_diff, le, le_rule, nonneg

FORM = Form(
    code="education",
    table_no="表6",
    title_zh="控辍保学",
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
        Col(
            "compulsory_age_children",
            "count",
            "建档立卡户义务教育适龄儿童数",
            ("义务教育适龄儿童数", "适龄儿童数"),
            required=True,
            unit="人",
        ),
        Col(
            "dropouts_identified",
            "count",
            "辍学学生数",
            ("辍学人数", "摸排辍学学生数"),
            required=True,
            unit="人",
        ),
        Col("dropouts_returned", "count", "已劝返复学数", ("劝返复学数", "已劝返数"), unit="人"),
        Col("dropouts_remaining", "count", "未劝返数", ("未劝返人数", "尚未劝返数"), unit="人"),
    ),
)


class EducationSchema(FormSchema):
    """Validated education rows; children (Int64, NULL = missing)."""

    township: Series[str] = pa.Field(nullable=False)
    compulsory_age_children: Series[pd.Int64Dtype] = nonneg()
    dropouts_identified: Series[pd.Int64Dtype] = nonneg()
    dropouts_returned: Series[pd.Int64Dtype] = nonneg()
    dropouts_remaining: Series[pd.Int64Dtype] = nonneg()

    @pa.dataframe_check(
        name=le_rule(
            "dropouts_identified", "compulsory_age_children", "辍学学生数", "义务教育适龄儿童数"
        ),
        ignore_na=False,
    )
    def _r1(cls, df):
        return le(df, "dropouts_identified", "compulsory_age_children")

    @pa.dataframe_check(
        name=le_rule("dropouts_returned", "dropouts_identified", "已劝返复学数", "辍学学生数"),
        ignore_na=False,
    )
    def _r2(cls, df):
        return le(df, "dropouts_returned", "dropouts_identified")

    @pa.dataframe_check(
        name=diff_rule(
            "dropouts_remaining",
            "dropouts_identified",
            "dropouts_returned",
            "未劝返数",
            "辍学学生数",
            "已劝返复学数",
        ),
        ignore_na=False,
    )
    def _r3(cls, df):
        return eq_diff(df, "dropouts_remaining", "dropouts_identified", "dropouts_returned")
