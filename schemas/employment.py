"""表7 就业扶贫 — employment form: one row per township."""

from __future__ import annotations

from schemas.columns import Col, Form, township
from schemas.rules import le

FORM = Form(
    code="employment",
    table_no="表7",
    title_zh="就业扶贫",
    grain="one row per township",
    row_unit="township",
    columns=(
        township(),
        Col(
            "labor_force",
            "count",
            "建档立卡贫困劳动力数",
            ("贫困劳动力数", "建档立卡劳动力数"),
            required=True,
            unit="人",
        ),
        Col(
            "migrant_employed",
            "count",
            "转移就业人数",
            ("外出务工人数", "转移就业贫困劳动力数"),
            unit="人",
        ),
        Col("workshops", "count", "扶贫车间数", ("扶贫车间",), unit="个"),
        Col(
            "workshop_employed",
            "count",
            "扶贫车间吸纳贫困人口就业数",
            ("扶贫车间吸纳就业人数", "车间吸纳贫困人口就业数"),
            unit="人",
        ),
        Col(
            "public_welfare_jobs",
            "count",
            "公益性岗位安置人数",
            ("公益性岗位人数", "公益岗位安置人数"),
            unit="人",
        ),
        Col(
            "ecological_rangers", "count", "生态护林员人数", ("生态护林员", "护林员人数"), unit="人"
        ),
    ),
    rules=(
        le("migrant_employed", "labor_force", "转移就业人数", "建档立卡贫困劳动力数", warn=True),
    ),
    report_title="就业扶贫情况统计表",
    note="注：扶贫车间数单位为个，其余为人。",
)
