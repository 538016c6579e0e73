"""表9 建档立卡贫困户台账 — household ledger: one row per registered household (microdata).

Personal data: ``head_name`` is dropped and ``head_id_number`` replaced by
``head_id_hash`` (HMAC-SHA256) before validation; neither reaches the warehouse.
"""

from __future__ import annotations

from schemas.columns import Col, Form, township, village, village_code
from schemas.rules import Rule, at_most

CAUSES = (
    "因病",
    "因残",
    "因学",
    "因灾",
    "缺土地",
    "缺水",
    "缺技术",
    "缺劳力",
    "缺资金",
    "交通条件落后",
    "自身发展动力不足",
    "其他",
)
ATTRIBUTES = ("一般贫困户", "低保贫困户", "特困供养贫困户")
YEARS = (2013, 2020)  # registration and exit years (forms.md: 识别年度 2013–2020)

FORM = Form(
    code="households",
    table_no="表9",
    title_zh="建档立卡贫困户台账",
    grain="one row per registered household",
    row_unit="household",
    label_columns=("household_id", "township"),
    columns=(
        Col(
            "household_id",
            "code",
            "户编号",
            ("户号", "贫困户编号"),
            required=True,
            row_required=True,
        ),
        Col("head_name", "person_name", "户主姓名", ("户主", "姓名")),
        Col(
            "head_id_number",
            "id_number",
            "户主身份证号",
            ("户主身份证号码", "身份证号", "身份证号码"),
            required=True,
            row_required=True,
        ),
        township("乡镇", "乡镇名称"),
        village("村", "行政村名称"),
        village_code("行政村代码", "区划代码"),
        Col(
            "household_size",
            "count",
            "家庭人口数",
            ("家庭人口", "户人口数", "人口数"),
            unit="人",
            bounds=(1, 20),
        ),
        Col("poverty_attribute", "enum", "贫困户属性", ("属性",), choices=ATTRIBUTES),
        Col("main_cause", "enum", "主要致贫原因", ("致贫原因",), choices=CAUSES),
        Col("registered_year", "year", "识别年度", ("识别年份", "建档立卡年度"), bounds=YEARS),
        Col("exit_year", "year", "脱贫年度", ("脱贫年份",), bounds=YEARS),
        Col(
            "income_per_capita",
            "yuan",
            "人均纯收入",
            ("人均纯收入元", "人均收入", "家庭人均纯收入"),
            unit="元",
        ),
        Col(
            "food_clothing_secure",
            "bool",
            "不愁吃不愁穿",
            ("不愁吃、不愁穿", "两不愁"),
            required=True,
        ),
        Col("education_secured", "bool", "义务教育有保障", ("义务教育保障",), required=True),
        Col("medical_secured", "bool", "基本医疗有保障", ("基本医疗保障",), required=True),
        Col("housing_secured", "bool", "住房安全有保障", ("住房安全保障",), required=True),
        Col("water_secured", "bool", "饮水安全有保障", ("饮水安全保障",), required=True),
    ),
    rules=(
        Rule(
            "exit_year_ge_registered_year",
            ("exit_year", "registered_year"),
            "脱贫年度早于识别年度，请核对",
            "exit year is before the registration year; please check",
            at_most("registered_year", "exit_year"),
        ),
    ),
    report_title="建档立卡贫困户台账",
    note="注：本台账按户填报，户主身份证号为18位。",
)
