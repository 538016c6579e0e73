"""表6 控辍保学 — education form: one row per township."""

from __future__ import annotations

from schemas.columns import Col, Form, township
from schemas.rules import difference, le

FORM = Form(
    code="education",
    table_no="表6",
    title_zh="控辍保学",
    grain="one row per township",
    row_unit="township",
    columns=(
        township(),
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
    rules=(
        le("dropouts_identified", "compulsory_age_children", "辍学学生数", "义务教育适龄儿童数"),
        le("dropouts_returned", "dropouts_identified", "已劝返复学数", "辍学学生数"),
        difference(
            "dropouts_remaining",
            "dropouts_identified",
            "dropouts_returned",
            "未劝返数",
            "辍学学生数",
            "已劝返复学数",
        ),
    ),
    report_title="控辍保学工作进展情况统计表",
    note="注：未劝返数=辍学学生数-已劝返复学数。",
)
