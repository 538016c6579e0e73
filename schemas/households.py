"""表9 建档立卡贫困户台账 — household ledger: one row per registered household (microdata).

Personal data: ``head_name`` is dropped and ``head_id_number`` replaced by
``head_id_hash`` (HMAC-SHA256) before validation; neither reaches the warehouse.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.columns import Col, Form
from schemas.common import FormSchema, register

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
        Col("township", "text", "乡（镇）", ("乡镇", "乡镇名称"), required=True, row_required=True),
        Col("village", "text", "行政村", ("村", "行政村名称"), required=True, row_required=True),
        Col("village_code", "code", "村代码", ("行政村代码", "区划代码")),
        Col("household_size", "count", "家庭人口数", ("家庭人口", "户人口数", "人口数"), unit="人"),
        Col("poverty_attribute", "enum", "贫困户属性", ("属性",), choices=ATTRIBUTES),
        Col("main_cause", "enum", "主要致贫原因", ("致贫原因",), choices=CAUSES),
        Col("registered_year", "year", "识别年度", ("识别年份", "建档立卡年度")),
        Col("exit_year", "year", "脱贫年度", ("脱贫年份",)),
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
)

EXIT_RULE = register(
    "exit_year_ge_registered_year",
    ("exit_year", "registered_year"),
    "脱贫年度早于识别年度，请核对",
    "exit year is before the registration year; please check",
)


class HouseholdsSchema(FormSchema):
    """Validated ledger rows (pseudonymised): sizes in persons, income in fen (Int64)."""

    household_id: Series[str] = pa.Field(nullable=False)
    head_id_hash: Series[str] = pa.Field(nullable=False, str_matches=r"^[0-9a-f]{64}$")
    township: Series[str] = pa.Field(nullable=False)
    village: Series[str] = pa.Field(nullable=False)
    village_code: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{12}$")
    household_size: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1, le=20)
    poverty_attribute: Series[str] = pa.Field(nullable=True, isin=list(ATTRIBUTES))
    main_cause: Series[str] = pa.Field(nullable=True, isin=list(CAUSES))
    registered_year: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=2013, le=2020)
    exit_year: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=2013, le=2020)
    income_per_capita: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    food_clothing_secure: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    education_secured: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    medical_secured: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    housing_secured: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    water_secured: Series[pd.BooleanDtype] = pa.Field(nullable=True)

    @pa.dataframe_check(name=EXIT_RULE, ignore_na=False)
    def _r1(cls, df):
        res = pd.to_numeric(df["exit_year"]) >= pd.to_numeric(df["registered_year"])
        return res.fillna(True).astype(bool)
