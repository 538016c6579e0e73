"""表3 农村危房改造 — housing form: one row per township, two-row header.

The four key categories (四类重点对象) and the others each have 任务数 (planned)
and 竣工数 (completed) under a merged parent cell; columns are matched as
(parent, child) pairs.
"""

from __future__ import annotations

from schemas.columns import Col, Form, township
from schemas.rules import le

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
        township(),
        *(c for g in GROUPS for c in _group_cols(g)),
    ),
    rules=(
        le(
            "registered_completed",
            "registered_planned",
            "建档立卡贫困户竣工数",
            "任务数",
            warn=True,
        ),
        le("subsistence_completed", "subsistence_planned", "低保户竣工数", "任务数", warn=True),
        le("extreme_poor_completed", "extreme_poor_planned", "特困人员竣工数", "任务数", warn=True),
        le("disabled_completed", "disabled_planned", "贫困残疾人家庭竣工数", "任务数", warn=True),
        le("other_completed", "other_planned", "非四类重点对象竣工数", "任务数", warn=True),
    ),
    report_title="农村危房改造进度统计表",
    note="注：四类重点对象指建档立卡贫困户、低保户、农村分散供养特困人员和贫困残疾人家庭。",
)
