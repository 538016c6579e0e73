"""表4 建档立卡贫困人口医疗保障 — medical form: one row per township. Money: 万元 on
the sheet, yuan (DECIMAL, exact to the fen) once coerced."""

from __future__ import annotations

from schemas.columns import Col, Form, township
from schemas.rules import le

FORM = Form(
    code="medical",
    table_no="表4",
    title_zh="建档立卡贫困人口医疗保障",
    grain="one row per township",
    row_unit="township",
    columns=(
        township(),
        Col(
            "registered_persons",
            "count",
            "建档立卡贫困人口数",
            ("建档立卡人口数", "贫困人口数"),
            required=True,
            unit="人",
        ),
        Col(
            "basic_insured_persons",
            "count",
            "参加基本医疗保险人数",
            ("参加基本医保人数", "基本医疗保险参保人数"),
            unit="人",
        ),
        Col(
            "serious_illness_insured_persons",
            "count",
            "参加大病保险人数",
            ("大病保险参保人数",),
            unit="人",
        ),
        Col("medical_assistance_cases", "count", "医疗救助人次", ("医疗救助人数",), unit="人次"),
        Col(
            "inpatient_expense",
            "money",
            "住院总费用",
            ("住院费用总额", "住院医疗总费用"),
            unit="万元",
        ),
        Col(
            "inpatient_reimbursed",
            "money",
            "住院实际报销金额",
            ("住院报销金额", "实际报销金额"),
            unit="万元",
        ),
    ),
    rules=(
        le(
            "basic_insured_persons",
            "registered_persons",
            "参加基本医疗保险人数",
            "建档立卡贫困人口数",
        ),
        le(
            "serious_illness_insured_persons",
            "registered_persons",
            "参加大病保险人数",
            "建档立卡贫困人口数",
        ),
        le("inpatient_reimbursed", "inpatient_expense", "住院实际报销金额", "住院总费用"),
    ),
    report_title="建档立卡贫困人口医疗保障情况统计表",
    note="注：金额单位为万元，保留两位小数。",
)
