"""The sample generator: files read back with python-calamine / openpyxl (not with the
pipeline) reproduce the published 2019 province figures exactly, follow the rules of
forms.md row by row, are laid out like county sheets, and are byte-deterministic."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc

from pipeline.sample import generate, known_totals
from schemas import FORMS

REF = Path(__file__).resolve().parent.parent / "pipeline" / "reference"
PERIOD = "2019-12"
SHEETS = {
    "表1": "population",
    "表2": "relocation",
    "表3": "housing",
    "表4": "medical",
    "表5": "water",
}
KEY = ("建档立卡贫困户", "低保户", "农村分散供养特困人员", "贫困残疾人家庭")
OTHER = "非四类重点对象"
HEADERS = {
    "population": [
        "乡（镇）", "行政村", "村代码", "是否贫困村", "总户数", "总人口", "建档立卡贫困户数",
        "建档立卡贫困人口数", "已脱贫户数", "已脱贫人口数", "未脱贫户数", "未脱贫人口数",
        "贫困发生率（%）",
    ],
    "relocation": [
        "安置点名称", "所在乡（镇）", "安置方式", "安置区域", "计划搬迁户数", "计划搬迁人数",
        "建档立卡贫困人口", "计划建设套数", "已开工套数", "已竣工套数", "已入住户数",
        "已入住人数", "竣工时间",
    ],
    "housing": ["乡（镇）"] + [f"{p}/{c}" for p in (*KEY, OTHER) for c in ("任务数", "竣工数")],
    "medical": [
        "乡（镇）", "建档立卡贫困人口数", "参加基本医疗保险人数", "参加大病保险人数",
        "医疗救助人次", "住院总费用（万元）", "住院实际报销金额（万元）",
    ],
    "water": [
        "乡（镇）", "行政村", "期初饮水不安全户数", "期初饮水不安全人数", "本期已解决户数",
        "本期已解决人数", "期末饮水不安全户数", "期末饮水不安全人数",
    ],
}  # fmt: skip


def _ref(name: str) -> list[dict[str, str]]:
    with open(REF / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Sheet:
    """One form sheet as read back: lines above the header, header labels (housing:
    ``parent/child``), data rows as dicts, the 合计 row and the lines below it."""

    def __init__(self, rows: list[list]):
        top = next(i for i, r in enumerate(rows) if r[0] in ("乡（镇）", "安置点名称"))
        self.above = rows[:top]
        head = list(rows[top])
        if rows[top + 1][0] == "" and rows[top + 1][1] == "任务数":  # two-row header
            parent = ""
            for j in range(1, len(head)):
                parent = head[j] or parent
                head[j] = f"{parent}/{rows[top + 1][j]}"
            top += 1
        self.header = head
        end = next(i for i in range(top + 1, len(rows)) if rows[i][0] == "合计")
        self.data = [dict(zip(head, r, strict=True)) for r in rows[top + 1 : end]]
        self.total = dict(zip(head, rows[end], strict=True))
        self.below = rows[end + 1 :]

    def sum(self, col: str) -> float:
        return sum(r[col] for r in self.data)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    return generate(tmp_path_factory.mktemp("sample"), seed=2019)


@pytest.fixture(scope="module")
def books(generated) -> dict[str, dict[str, Sheet]]:
    """file name -> form -> Sheet, read with python-calamine."""
    out = {}
    for p in generated:
        wb = pc.CalamineWorkbook.from_path(str(p))
        out[p.name] = {
            SHEETS[s]: Sheet(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names
        }
    return out


def _form(books, form: str) -> dict[str, Sheet]:
    return {name: b[form] for name, b in books.items() if form in b}


def _code(name: str) -> str:
    return name[:6]


def test_one_file_per_county(generated):
    counties = {r["county_code"]: r["county_name_zh"] for r in _ref("yunnan_counties.csv")}
    assert len(counties) == 129
    assert generated == sorted(generated)
    assert all(p.parent.name == PERIOD for p in generated)
    assert sorted(p.name for p in generated) == sorted(
        f"{c}_{n}_{PERIOD}.xlsx" for c, n in counties.items()
    )


def test_forms_per_county(books):
    counts = {f: len(_form(books, f)) for f in HEADERS}
    assert counts == {
        "population": 129,
        "relocation": 53,
        "housing": 129,
        "medical": 129,
        "water": 37,
    }
    for b in books.values():
        assert list(b) == sorted(b, key=lambda f: FORMS[f].table_no)


def test_layout(books):
    names = {r["county_code"]: r["county_name_zh"] for r in _ref("yunnan_counties.csv")}
    for name, b in books.items():
        for form, sh in b.items():
            assert sh.header == HEADERS[form], (name, form)
            titles, cover = sh.above[:-1], sh.above[-1]
            assert 1 <= len(titles) <= 3
            assert f"{FORMS[form].table_no} " in " ".join(t[0] for t in titles)
            assert all(c == "" for c in cover[1:]), "cover line is one cell in column A"
            assert re.fullmatch(
                rf"填报单位：{names[_code(name)]}（盖章）\s+统计截止时间：2019年12月31日\s+单位：\S+",
                cover[0],
            ), cover[0]
            assert sh.below[0][0].startswith("注：")
            assert re.match(r"填表人：\S+\s+审核人：\S+\s+联系电话：0\d{3}-\d{7}", sh.below[1][0])
            assert sh.data, (name, form)


def test_totals_rows_are_sums(books):
    for name, b in books.items():
        for form, sh in b.items():
            for col in sh.header[1:]:
                if isinstance(sh.data[0][col], float) and "贫困发生率" not in col:
                    assert sh.total[col] == pytest.approx(sh.sum(col), abs=1e-6), (name, form, col)


def test_counts_are_whole_numbers(books):
    for name, b in books.items():
        for form, sh in b.items():
            for r in sh.data:
                for col, v in r.items():
                    if isinstance(v, float) and "万元" not in col and "%" not in col:
                        assert v.is_integer() and v >= 0, (name, form, col, v)


def test_housing_published(books):
    sheets = _form(books, "housing").values()
    key_done = sum(sh.sum(f"{g}/竣工数") for sh in sheets for g in KEY)
    key_plan = sum(sh.sum(f"{g}/任务数") for sh in sheets for g in KEY)
    other_done = sum(sh.sum(f"{OTHER}/竣工数") for sh in sheets)
    other_plan = sum(sh.sum(f"{OTHER}/任务数") for sh in sheets)
    assert key_done == 374_900 and round(key_done / key_plan, 4) == 0.9967
    assert other_done == 208_100 and round(other_done / other_plan, 4) == 0.7525
    for sh in sheets:
        for r in sh.data:
            for g in (*KEY, OTHER):
                assert r[f"{g}/竣工数"] <= r[f"{g}/任务数"]


def test_water_published(books):
    sheets = _form(books, "water")
    end = {n: sh.sum("期末饮水不安全户数") for n, sh in sheets.items()}
    assert sum(end.values()) == 41_393
    assert sum(sh.sum("本期已解决户数") for sh in sheets.values()) == 10_321
    assert sum(sh.sum("期初饮水不安全户数") for sh in sheets.values()) == 51_714
    assert len(sheets) == 37 and sum(v == 0 for v in end.values()) == 12
    for sh in sheets.values():
        villages = [(r["乡（镇）"], r["行政村"]) for r in sh.data]
        assert len(set(villages)) == len(villages)
        for r in sh.data:
            assert r["期初饮水不安全户数"] >= 1
            assert r["本期已解决户数"] <= r["期初饮水不安全户数"]
            for k in ("户数", "人数"):
                assert r[f"期末饮水不安全{k}"] == r[f"期初饮水不安全{k}"] - r[f"本期已解决{k}"]
            for k in ("期初饮水不安全", "本期已解决", "期末饮水不安全"):
                assert r[f"{k}人数"] >= r[f"{k}户数"]


def test_relocation_published(books):
    sheets = _form(books, "relocation")
    central = [r for sh in sheets.values() for r in sh.data if r["安置方式"] == "集中"]
    assert len(central) == 201
    assert sum(r["已竣工套数"] == r["计划建设套数"] for r in central) == 121
    clear = 0
    for name, sh in sheets.items():
        planned, done = sh.sum("计划建设套数"), sh.sum("已竣工套数")
        assert planned > 0, name
        complete = [r["已竣工套数"] == r["计划建设套数"] for r in sh.data]
        assert (planned == done) == all(complete), name
        clear += planned == done
        names = [r["安置点名称"] for r in sh.data]
        assert len(set(names)) == len(names), name
        for r in sh.data:
            assert r["已竣工套数"] <= r["已开工套数"] <= r["计划建设套数"]
            assert r["建档立卡贫困人口"] <= r["计划搬迁人数"]
            assert r["已入住人数"] <= r["计划搬迁人数"]
            assert r["安置方式"] in ("集中", "分散")
            done_site = r["已竣工套数"] == r["计划建设套数"]
            if r["安置方式"] == "集中":
                assert r["安置区域"] in ("城镇", "乡村")
                assert isinstance(r["竣工时间"], dt.date) == done_site
                if done_site:
                    assert r["已开工套数"] == r["计划建设套数"]
                    assert r["竣工时间"] <= dt.date(2019, 12, 31)
            else:
                assert r["安置区域"] == "" and r["竣工时间"] == ""
    assert len(sheets) == 53 and clear == 26


def test_medical_published(books):
    sheets = _form(books, "medical").values()
    reg = sum(sh.sum("建档立卡贫困人口数") for sh in sheets)
    assert reg > 0
    assert sum(sh.sum("参加基本医疗保险人数") for sh in sheets) == reg
    assert sum(sh.sum("参加大病保险人数") for sh in sheets) == reg
    expense = sum(sh.sum("住院总费用（万元）") for sh in sheets)
    reimbursed = sum(sh.sum("住院实际报销金额（万元）") for sh in sheets)
    assert 0.88 <= reimbursed / expense <= 0.92
    for sh in sheets:
        for r in sh.data:
            assert r["参加基本医疗保险人数"] == r["参加大病保险人数"] == r["建档立卡贫困人口数"]
            assert r["住院实际报销金额（万元）"] <= r["住院总费用（万元）"]
            for col in ("住院总费用（万元）", "住院实际报销金额（万元）"):
                assert abs(r[col] * 100 - round(r[col] * 100)) < 1e-6, "at most 2 decimals"


def test_population_rules(books):
    changes = {
        r["new_code"]: r["old_code"]
        for r in _ref("yunnan_code_changes.csv")
        if PERIOD < r["first_nbs_code_set_with_new_code"][:7]
    }
    medical = _form(books, "medical")
    for name, sh in _form(books, "population").items():
        prefix = changes.get(_code(name), _code(name))  # 澄江市 villages start 530422 in 2019
        villages = [r["行政村"] for r in sh.data]
        assert len(set(villages)) == len(villages), name
        for r in sh.data:
            assert re.fullmatch(rf"{prefix}\d{{6}}", r["村代码"]), r["村代码"]
            assert r["是否贫困村"] in ("是", "否")
            assert r["建档立卡贫困户数"] <= r["总户数"]
            assert r["建档立卡贫困户数"] <= r["建档立卡贫困人口数"] <= r["总人口"]
            assert r["已脱贫户数"] <= r["建档立卡贫困户数"]
            assert r["已脱贫人口数"] <= r["建档立卡贫困人口数"]
            assert r["未脱贫户数"] == r["建档立卡贫困户数"] - r["已脱贫户数"]
            assert r["未脱贫人口数"] == r["建档立卡贫困人口数"] - r["已脱贫人口数"]
            assert r["贫困发生率（%）"] == round(r["未脱贫人口数"] / r["总人口"] * 100, 2)
        county = sh.sum("未脱贫人口数") / sh.sum("总人口") * 100
        assert sh.total["贫困发生率（%）"] == round(county, 2)
        # the medical form counts the same registered poor, township by township
        by_town: dict[str, float] = {}
        for r in sh.data:
            by_town[r["乡（镇）"]] = by_town.get(r["乡（镇）"], 0) + r["建档立卡贫困人口数"]
        assert {r["乡（镇）"]: r["建档立卡贫困人口数"] for r in medical[name].data} == by_town


def test_poverty_counties_carry_most_load(books):
    poverty = {r["county_code"] for r in _ref("yunnan_poverty_counties.csv")}
    assert len(poverty) == 88
    sheets = _form(books, "housing")
    total = {n: sum(sh.sum(f"{g}/任务数") for g in KEY) for n, sh in sheets.items()}
    share = sum(v for n, v in total.items() if _code(n) in poverty) / sum(total.values())
    assert 0.75 <= share <= 0.95
    assert len(set(total.values())) > 100, "uneven spread"


def test_known_totals_agree(books):
    kt = known_totals(2019)
    t = kt[PERIOD]
    sheets = {f: _form(books, f) for f in HEADERS}
    assert t["counties"] == {f: len(s) for f, s in sheets.items()}
    assert t["housing_key_completed"] == 374_900
    assert t["housing_key_planned"] == sum(
        sh.sum(f"{g}/任务数") for sh in sheets["housing"].values() for g in KEY
    )
    assert t["housing_other_completed"] == 208_100
    assert t["housing_other_planned"] == sum(
        sh.sum(f"{OTHER}/任务数") for sh in sheets["housing"].values()
    )
    assert t["water_unsafe_households_end"] == 41_393
    assert t["water_resolved_households"] == 10_321
    assert t["water_zero_counties"] == 12
    assert (t["relocation_sites"], t["relocation_sites_completed"]) == (201, 121)
    assert t["relocation_clear_zero"] == 26
    reg = sum(sh.sum("建档立卡贫困人口数") for sh in sheets["medical"].values())
    assert t["medical_registered_persons"] == t["medical_basic_insured_persons"] == reg
    expense = sum(sh.sum("住院总费用（万元）") for sh in sheets["medical"].values())
    assert t["medical_inpatient_expense"] == round(expense * 10000)  # yuan
    assert t["population_remaining_persons"] == sum(
        sh.sum("未脱贫人口数") for sh in sheets["population"].values()
    )
    assert t["population_poverty_villages"] == sum(
        r["是否贫困村"] == "是" for sh in sheets["population"].values() for r in sh.data
    )
    read = {n: {f: len(sh.data) for f, sh in b.items()} for n, b in books.items()}
    assert kt["rows"] == read


def test_openpyxl_view(generated):
    """Cell types and merges as Excel sees them: numbers not text, a real date, the
    housing parents merged over their two children, fixed document times."""
    by_name = {p.name: p for p in generated}
    wb = openpyxl.load_workbook(by_name[f"530128_禄劝彝族苗族自治县_{PERIOD}.xlsx"])
    assert wb.properties.created == wb.properties.modified
    ws = wb["表3"]
    top = next(r for r in range(1, 10) if ws.cell(r, 1).value == "乡（镇）")
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert f"A{top}:A{top + 1}" in merged
    assert {f"B{top}:C{top}", f"J{top}:K{top}"} <= merged
    assert isinstance(ws.cell(top + 2, 2).value, int)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row), "no formulas"
    pop = wb["表1"]
    top = next(r for r in range(1, 10) if pop.cell(r, 1).value == "乡（镇）")
    assert isinstance(pop.cell(top + 1, 3).value, str)  # village code kept as text
    site = next(p for n, p in by_name.items() if "表2" in openpyxl.load_workbook(p).sheetnames)
    rel = openpyxl.load_workbook(site)["表2"]
    dates = [c.value for c in rel["M"] if c.value is not None and not isinstance(c.value, str)]
    assert dates and all(isinstance(d, dt.datetime) for d in dates)


def test_deterministic(generated, tmp_path):
    again = generate(tmp_path, seed=2019)
    assert [p.name for p in again] == [p.name for p in generated]
    for a, b in zip(generated, again, strict=True):
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_other_seed_same_figures():
    a, b = known_totals(2019)[PERIOD], known_totals(7)[PERIOD]
    for k in (
        "housing_key_completed",
        "housing_other_completed",
        "water_unsafe_households_end",
        "water_resolved_households",
        "water_zero_counties",
        "relocation_sites",
        "relocation_sites_completed",
        "relocation_clear_zero",
        "population_poverty_villages",
    ):
        assert a[k] == b[k], k
    assert a["population_total_population"] != b["population_total_population"]


def test_unknown_period(tmp_path):
    with pytest.raises(ValueError, match="2031-12"):
        generate(tmp_path, periods=("2031-12",))
