"""Header matching: every header variant of forms.md, for the five core forms, found on any
row, with one or two header rows, and mapped to the canonical columns."""

from __future__ import annotations

import pytest

from pipeline.extract.header import find_header, normalise
from pipeline.extract.readers.workbook import open_workbook
from schemas import FORMS
from tests.builders.marks import slow_except
from tests.builders.workbooks import COVER, SheetSpec, write_workbook

VARIANTS = [
    lambda h: h,
    lambda h: h[:2] + "\n" + h[2:],  # line break inside
    lambda h: " " + h + " ",  # stray spaces
    lambda h: h.replace("（", "(").replace("）", ")"),  # half-width brackets
    lambda h: h + "（户）",  # unit suffix
    lambda h: h + "(人)",
    lambda h: "1." + h,  # numbering prefix
    lambda h: "（2）" + h,
    lambda h: "其中：" + h,
    lambda h: h + "*",  # trailing star
    lambda h: h[:1] + "\u3000" + h[1:],  # ideographic space
]


@pytest.mark.parametrize("text,key", [
    ("是否\n贫困村", "是否贫困村"),
    ("总户数\n（户）", "总户数"),
    ("总人口(人)", "总人口"),
    ("贫困发生率(%)", "贫困发生率"),
    ("贫困发生率（%）", "贫困发生率"),
    ("建档立卡贫困人口数*", "建档立卡贫困人口数"),
    (" 已脱贫户数", "已脱贫户数"),
    ("2.未脱贫人口数", "未脱贫人口数"),
    ("其中：建档立卡贫困人口", "建档立卡贫困人口"),
    ("住院总费用（万元）", "住院总费用"),
    ("乡（镇）", "乡镇"),  # issue 12: brackets are typography
    ("计划搬迁\n人数", "计划搬迁人数"),
])  # fmt: skip
def test_normalise(text, key):
    assert normalise(text) == key


@pytest.mark.parametrize(
    "form",
    slow_except(["population", "relocation", "medical", "water"], lambda f: f == "population"),
)
@pytest.mark.parametrize("variant", range(len(VARIANTS)))
@pytest.mark.parametrize("title_lines", [0, 1, 4])
def test_single_row_header_variants(tmp_path, form, variant, title_lines):
    cols = FORMS[form].columns
    header = [VARIANTS[variant](c.header_zh) for c in cols]
    rows = [[f"表 标题 {i}"] for i in range(title_lines)] + [[COVER], header]
    path = write_workbook(tmp_path / "w.xlsx", [SheetSpec("Sheet1", rows)])
    sheet = open_workbook(path, 2**26, 2**28).sheets[0]
    m = find_header(sheet.grid, sheet.merges)
    assert m is not None and m.form.code == form
    assert m.header_rows == [title_lines + 1]
    assert m.columns == {c.name: i for i, c in enumerate(cols)}
    assert not m.missing_required and not m.duplicates


@pytest.mark.parametrize("parent_variant", range(len(VARIANTS)))
def test_housing_two_row_header_with_total_group(tmp_path, parent_variant):
    """Parents merged over two children; a 合计 group first must not take registered_*."""
    groups = [
        "合计",
        "建档立卡贫困户",
        "低保户",
        "农村分散供养特困人员",
        "贫困残疾人家庭",
        "非四类重点对象",
    ]
    top = ["乡（镇）"]
    bottom = [None]
    merges = ["A3:A4"]
    for i, g in enumerate(groups):
        col = 2 + 2 * i
        top += [VARIANTS[parent_variant](g) if g != "合计" else g, None]
        bottom += ["任务数", "竣工数"]
        merges.append(f"{_letter(col)}3:{_letter(col + 1)}3")
    rows = [["表3 农村危房改造进度统计表"], [COVER], top, bottom, ["甲"] + list(range(1, 13))]
    path = write_workbook(tmp_path / "h.xlsx", [SheetSpec("表3", rows, merges)])
    sheet = open_workbook(path, 2**26, 2**28).sheets[0]
    m = find_header(sheet.grid, sheet.merges)
    assert m.form.code == "housing" and m.header_rows == [2, 3]
    assert m.columns["registered_planned"] == 3 and m.columns["registered_completed"] == 4
    assert m.columns["other_completed"] == 12
    assert len(m.columns) == 11


def test_missing_required_column_reported(tmp_path):
    cols = [c for c in FORMS["water"].columns if c.name != "resolved_households"]
    rows = [[COVER], [c.header_zh for c in cols]]
    path = write_workbook(tmp_path / "w.xlsx", [SheetSpec("表5", rows)])
    sheet = open_workbook(path, 2**26, 2**28).sheets[0]
    m = find_header(sheet.grid, sheet.merges)
    assert m.form.code == "water" and m.missing_required == ["resolved_households"]


def _letter(n: int) -> str:
    from pipeline.extract.readers.xlsx_meta import col_letters

    return col_letters(n - 1)
