"""表8 贫困村基础设施 — infrastructure form: one row per poverty village (是/否 cells)."""

from __future__ import annotations

from schemas.columns import Col, Form, township, village, village_code

FACILITIES = (
    "hardened_road",
    "power_grid",
    "optical_fiber",
    "broadband",
    "standard_clinic",
    "activity_site",
    "service_station",
)

FORM = Form(
    code="infrastructure",
    table_no="表8",
    title_zh="贫困村基础设施",
    grain="one row per poverty village",
    row_unit="village",
    label_columns=("township", "village"),
    columns=(
        township(),
        village("村", "贫困村", "贫困村名称", "行政村名称"),
        village_code("行政村代码", "区划代码"),
        Col("hardened_road", "bool", "通硬化路", ("是否通硬化路", "通硬化道路"), required=True),
        Col("power_grid", "bool", "通动力电", ("是否通动力电",), required=True),
        Col("optical_fiber", "bool", "通光纤", ("是否通光纤",), required=True),
        Col("broadband", "bool", "通宽带", ("是否通宽带",), required=True),
        Col(
            "standard_clinic",
            "bool",
            "有标准化卫生室",
            ("标准化卫生室", "是否有标准化卫生室"),
            required=True,
        ),
        Col(
            "activity_site",
            "bool",
            "有村级活动场所",
            ("村级活动场所", "是否有村级活动场所"),
            required=True,
        ),
        Col(
            "service_station",
            "bool",
            '有"云岭先锋"综合服务站',
            ("有云岭先锋综合服务站", "云岭先锋综合服务站", "综合服务站"),
            required=True,
        ),
    ),
    report_title="贫困村基础设施建设情况统计表",
    note="注：按贫困村逐村填报，具备的填“是”，不具备的填“否”。",
)
