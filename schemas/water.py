"""表5 农村饮水安全 — water form: one row per administrative village with any unsafe household."""

from __future__ import annotations

from schemas.columns import Col, Form, township, village
from schemas.rules import difference, le

FORM = Form(
    code="water",
    table_no="表5",
    title_zh="农村饮水安全",
    grain="one row per administrative village with any unsafe household",
    row_unit="village",
    label_columns=("township", "village"),
    columns=(
        township(),
        village("村", "行政村名称", "村委会"),
        Col(
            "unsafe_households_start",
            "count",
            "期初饮水不安全户数",
            ("期初不安全户数",),
            required=True,
            unit="户",
        ),
        Col(
            "unsafe_persons_start",
            "count",
            "期初饮水不安全人数",
            ("期初不安全人数", "期初饮水不安全人口数"),
            unit="人",
        ),
        Col(
            "resolved_households",
            "count",
            "本期已解决户数",
            ("已解决户数", "本期解决户数"),
            required=True,
            unit="户",
        ),
        Col(
            "resolved_persons", "count", "本期已解决人数", ("已解决人数", "本期解决人数"), unit="人"
        ),
        Col(
            "unsafe_households_end",
            "count",
            "期末饮水不安全户数",
            ("期末不安全户数",),
            required=True,
            unit="户",
        ),
        Col(
            "unsafe_persons_end",
            "count",
            "期末饮水不安全人数",
            ("期末不安全人数", "期末饮水不安全人口数"),
            unit="人",
        ),
    ),
    rules=(
        le(
            "resolved_households", "unsafe_households_start", "本期已解决户数", "期初饮水不安全户数"
        ),
        le("resolved_persons", "unsafe_persons_start", "本期已解决人数", "期初饮水不安全人数"),
        difference(
            "unsafe_households_end",
            "unsafe_households_start",
            "resolved_households",
            "期末饮水不安全户数",
            "期初饮水不安全户数",
            "本期已解决户数",
        ),
        difference(
            "unsafe_persons_end",
            "unsafe_persons_start",
            "resolved_persons",
            "期末饮水不安全人数",
            "期初饮水不安全人数",
            "本期已解决人数",
        ),
    ),
    report_title="农村饮水安全情况统计表",
    note="注：仅填报期初存在饮水不安全农户的行政村。",
)
