"""The sample generator: files read back with python-calamine / openpyxl (not with the
pipeline) reproduce the published 2018 and 2019 province figures exactly, follow the
rules of forms.md row by row, are laid out like county sheets, and are
byte-deterministic; the household ledger agrees with the population form except for
the documented discrepancies, its ID numbers are valid and unique but for the one
documented duplicate."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc

from devkit.sample import generate, known_totals, ledger
from schemas import FORMS
from tests.builders.paths import ROOT

pytestmark = pytest.mark.slow  # over 10 s on an idle machine (make test-fast skips it)

REF = ROOT / "pipeline" / "reference"
PERIOD = "2019-12"
PERIODS = ("2018-12", "2019-12")
SHEETS = {
    "表1": "population",
    "表2": "relocation",
    "表3": "housing",
    "表4": "medical",
    "表5": "water",
    "表6": "education",
    "表7": "employment",
    "表8": "infrastructure",
    "表9": "households",
}
GUARANTEE_HEADERS = (
    "不愁吃不愁穿",
    "义务教育有保障",
    "基本医疗有保障",
    "住房安全有保障",
    "饮水安全有保障",
)
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
    "education": ["乡（镇）", "建档立卡户义务教育适龄儿童数", "辍学学生数", "已劝返复学数", "未劝返数"],
    "employment": [
        "乡（镇）", "建档立卡贫困劳动力数", "转移就业人数", "扶贫车间数", "扶贫车间吸纳贫困人口就业数",
        "公益性岗位安置人数", "生态护林员人数",
    ],
    "infrastructure": [
        "乡（镇）", "行政村", "村代码", "通硬化路", "通动力电", "通光纤", "通宽带", "有标准化卫生室",
        "有村级活动场所", '有"云岭先锋"综合服务站',
    ],
    "households": [
        "户编号", "户主姓名", "户主身份证号", "乡（镇）", "行政村", "村代码", "家庭人口数", "贫困户属性",
        "主要致贫原因", "识别年度", "脱贫年度", "人均纯收入（元）", *GUARANTEE_HEADERS,
    ],
}  # fmt: skip
NO_TOTAL = ("infrastructure", "households")


def _ref(name: str) -> list[dict[str, str]]:
    with open(REF / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Sheet:
    """One form sheet as read back: lines above the header, header labels (housing:
    ``parent/child``), data rows as dicts, the 合计 row and the lines below it."""

    def __init__(self, rows: list[list]):
        top = next(i for i, r in enumerate(rows) if r[0] in ("乡（镇）", "安置点名称", "户编号"))
        self.above = rows[:top]
        head = list(rows[top])
        if rows[top + 1][0] == "" and rows[top + 1][1] == "任务数":  # two-row header
            parent = ""
            for j in range(1, len(head)):
                parent = head[j] or parent
                head[j] = f"{parent}/{rows[top + 1][j]}"
            top += 1
        self.header = head
        end = next(i for i in range(top + 1, len(rows)) if rows[i][0] in ("合计", "") or
                   str(rows[i][0]).startswith("注："))  # fmt: skip
        self.data = [dict(zip(head, r, strict=True)) for r in rows[top + 1 : end]]
        has_total = rows[end][0] == "合计"
        self.total = dict(zip(head, rows[end], strict=True)) if has_total else None
        self.below = rows[end + 1 :] if has_total else rows[end:]

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


def _form(books, form: str, period: str = PERIOD) -> dict[str, Sheet]:
    """file name -> Sheet of ``form`` in the period's files."""
    return {name: b[form] for name, b in books.items() if form in b and period in name}


def _code(name: str) -> str:
    return name[:6]


def test_one_file_per_county(generated):
    counties = {r["county_code"]: r["county_name_zh"] for r in _ref("yunnan_counties.csv")}
    assert len(counties) == 129
    assert generated == sorted(generated)
    assert sorted((p.parent.name, p.name) for p in generated) == sorted(
        (p, f"{c}_{n}_{p}.xlsx") for c, n in counties.items() for p in PERIODS
    )


def test_forms_per_county(books):
    for period, water in (("2019-12", 37), ("2018-12", 46)):
        counts = {f: len(_form(books, f, period)) for f in HEADERS}
        assert counts == dict.fromkeys(HEADERS, 129) | {"relocation": 53, "water": water}
    for b in books.values():
        assert list(b) == sorted(b, key=lambda f: int(FORMS[f].table_no[1:]))


def test_layout(books):
    names = {r["county_code"]: r["county_name_zh"] for r in _ref("yunnan_counties.csv")}
    for name, b in books.items():
        for form, sh in b.items():
            assert sh.header == HEADERS[form], (name, form)
            titles, cover = sh.above[:-1], sh.above[-1]
            assert 1 <= len(titles) <= 3
            assert f"{FORMS[form].table_no} " in " ".join(t[0] for t in titles)
            assert all(c == "" for c in cover[1:]), "cover line is one cell in column A"
            year = name[-12:-8]
            assert re.fullmatch(
                rf"填报单位：{names[_code(name)]}（盖章）\s+统计截止时间：{year}年12月31日\s+单位：\S+",
                cover[0],
            ), cover[0]
            assert sh.below[0][0].startswith("注：")
            assert re.match(r"填表人：\S+\s+审核人：\S+\s+联系电话：0\d{3}-\d{7}", sh.below[1][0])
            assert sh.data, (name, form)


def test_totals_rows_are_sums(books):
    for name, b in books.items():
        for form, sh in b.items():
            assert (sh.total is None) == (form in NO_TOTAL), (name, form)
            if sh.total is None:
                continue
            for col in sh.header[1:]:
                if isinstance(sh.data[0][col], float) and "贫困发生率" not in col:
                    assert sh.total[col] == pytest.approx(sh.sum(col), abs=1e-6), (name, form, col)


def test_counts_are_whole_numbers(books):
    for name, b in books.items():
        for form, sh in b.items():
            if form == "households":  # test_ledger_values
                continue
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


def _changes(period: str) -> dict[str, str]:
    return {
        r["new_code"]: r["old_code"]
        for r in _ref("yunnan_code_changes.csv")
        if period < r["first_nbs_code_set_with_new_code"][:7]
    }


@pytest.mark.parametrize("period", PERIODS)
def test_population_rules(books, period):
    changes = _changes(period)
    medical = _form(books, "medical", period)
    for name, sh in _form(books, "population", period).items():
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
    """Same seed, same bytes: a dozen workbooks of both periods written again in-line
    (the fixture's were written by worker processes), with the discrepancy, duplicate
    and largest counties among them."""
    from devkit.sample import _write_one
    from devkit.sample.geo import counties

    codes = [c.code for c in counties(2019)]
    picked = {"530627", "530628", "533323", *ledger.DUPLICATE_ID, *codes[::20]}
    by_name = {(p.parent.name, p.name): p for p in generated}
    for period in PERIODS:
        for code in sorted(picked):
            again = _write_one((str(tmp_path), 2019, period, codes.index(code), 50_000))
            first = by_name[(period, again.name)]
            assert hashlib.sha256(again.read_bytes()).digest() == (
                hashlib.sha256(first.read_bytes()).digest()
            ), again.name


def test_other_seed_same_figures():
    a18, b18 = known_totals(2019, ("2018-12",))["2018-12"], known_totals(7, ("2018-12",))["2018-12"]
    for k in (
        "employment_ecological_rangers",
        "employment_workshops",
        "employment_workshop_employed",
        "employment_public_welfare_jobs",
        "employment_migrant_employed",
        "infrastructure_complete",
        "population_poverty_villages",
    ):
        assert a18[k] == b18[k], k
    assert a18["ledger"]["households"] == b18["ledger"]["households"] == 50_000
    ratio = a18["medical_inpatient_reimbursed"] / a18["medical_inpatient_expense"]
    assert round(ratio, 4) == round(
        b18["medical_inpatient_reimbursed"] / b18["medical_inpatient_expense"], 4
    )
    a, b = known_totals(2019, (PERIOD,))[PERIOD], known_totals(7, (PERIOD,))[PERIOD]
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


# ---------------------------------------------------------------- 2018 and the new forms


def test_published_2018(books):
    """indicators.md's 2018 figures: reimbursement 90.50%, 8,502 poverty villages with
    every facility, and the five employment totals."""
    med = _form(books, "medical", "2018-12").values()
    expense = sum(sh.sum("住院总费用（万元）") for sh in med)
    reimbursed = sum(sh.sum("住院实际报销金额（万元）") for sh in med)
    assert round(reimbursed / expense, 4) == 0.9050
    infra = [r for sh in _form(books, "infrastructure", "2018-12").values() for r in sh.data]
    assert len(infra) == 8502
    assert all(r[h] == "是" for r in infra for h in HEADERS["infrastructure"][3:])
    emp = _form(books, "employment", "2018-12").values()
    totals = {h: sum(sh.sum(h) for sh in emp) for h in HEADERS["employment"][1:]}
    assert totals["生态护林员人数"] == 56_200
    assert totals["扶贫车间数"] == 306
    assert totals["扶贫车间吸纳贫困人口就业数"] == 5_285
    assert totals["公益性岗位安置人数"] == 104_300
    assert totals["转移就业人数"] == 693_300


@pytest.mark.parametrize("period", PERIODS)
def test_new_forms_rules(books, period):
    """Employment: migrants ≤ labour force; education: returned ≤ identified ≤ children,
    remaining = identified − returned; infrastructure lists exactly the population
    form's poverty villages (the 8,502), by code."""
    for sh in _form(books, "employment", period).values():
        for r in sh.data:
            assert r["转移就业人数"] <= r["建档立卡贫困劳动力数"]
            assert r["扶贫车间吸纳贫困人口就业数"] >= r["扶贫车间数"]
    for sh in _form(books, "education", period).values():
        for r in sh.data:
            assert r["已劝返复学数"] <= r["辍学学生数"] <= r["建档立卡户义务教育适龄儿童数"]
            assert r["未劝返数"] == r["辍学学生数"] - r["已劝返复学数"]
    pop = _form(books, "population", period)
    for name, sh in _form(books, "infrastructure", period).items():
        poor = [
            (r["乡（镇）"], r["行政村"], r["村代码"])
            for r in pop[name].data
            if r["是否贫困村"] == "是"
        ]
        assert [(r["乡（镇）"], r["行政村"], r["村代码"]) for r in sh.data] == poor


def test_2018_consistent_with_2019(books):
    """Same villages, poverty villages and registered poor; more poor remaining in 2018
    in every village (incidence higher); water's 2018 end is 2019's start."""
    pop18, pop19 = _form(books, "population", "2018-12"), _form(books, "population", PERIOD)
    rem = {}
    for name18, sh18 in pop18.items():
        sh19 = pop19[name18.replace("2018-12", PERIOD)]
        for a, b in zip(sh18.data, sh19.data, strict=True):
            for h in (
                "乡（镇）",
                "行政村",
                "是否贫困村",
                "总户数",
                "总人口",
                "建档立卡贫困户数",
                "建档立卡贫困人口数",
            ):
                assert a[h] == b[h], (name18, h)
            assert a["未脱贫户数"] >= b["未脱贫户数"] and a["未脱贫人口数"] >= b["未脱贫人口数"]
        for p, sh in (("2018", sh18), ("2019", sh19)):
            rem[p] = rem.get(p, 0) + sh.sum("未脱贫人口数")
    total = sum(sh.sum("总人口") for sh in pop19.values())
    assert rem["2018"] / total > 2 * rem["2019"] / total
    w18, w19 = _form(books, "water", "2018-12"), _form(books, "water", PERIOD)
    for name, sh in w19.items():
        end = {
            (r["乡（镇）"], r["行政村"]): r["期末饮水不安全户数"]
            for r in w18[name.replace(PERIOD, "2018-12")].data
        }
        assert end == {(r["乡（镇）"], r["行政村"]): r["期初饮水不安全户数"] for r in sh.data}


# ---------------------------------------------------------------- the household ledger


def _check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2, written out here independently of pipeline.extract.personal."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def _ledger_counts(sh: Sheet, year: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in sh.data:
        n = out.setdefault(r["村代码"], [0, 0])
        n[0] += 1
        n[1] += r["脱贫年度"] != "" and r["脱贫年度"] <= year
    return out


@pytest.mark.parametrize("period", PERIODS)
def test_ledger_matches_population(books, period):
    """Per ledger village: households = registered, exited = exited of the population
    form, except the documented discrepancies, which are exactly the differences."""
    lt = known_totals(2019, (period,))[period]["ledger"]
    expected = {d["village_code"]: d for d in lt["discrepancies"]}
    assert len(expected) == len(ledger.DISCREPANCIES) == 4
    pop = _form(books, "population", period)
    found, total = {}, 0
    for name, sh in _form(books, "households", period).items():
        form = {r["村代码"]: r for r in pop[name].data}
        for code, (n, ex) in _ledger_counts(sh, int(period[:4])).items():
            total += n
            assert lt["villages"][code]["registered"] == n and lt["villages"][code]["exited"] == ex
            f = form.get(code)
            if f is None or (n, ex) != (f["建档立卡贫困户数"], f["已脱贫户数"]):
                found[code] = (n, ex, f and (f["建档立卡贫困户数"], f["已脱贫户数"]))
    assert total == lt["households"] == 50_000
    assert set(found) == set(expected)
    for code, (n, ex, f) in found.items():
        d = expected[code]
        assert (n, ex) == (d["ledger_households"], d["ledger_exited"][period])
        if d["kind"] == "unknown_village":
            assert f is None and lt["villages"][code]["population"] is None
        else:
            assert f == (d["population_households"], d["population_exited"][period])
            assert abs(n - f[0]) == 1


@pytest.mark.parametrize("period", PERIODS)
def test_ledger_ids(books, period):
    """Every ID number: 18 characters, valid check character, region = the county (but
    the documented duplicate), birth 1940–2000; a few lowercase x; unique in the
    province but for the one documented person in two counties. Household ids unique
    per county."""
    seen: dict[str, list[tuple[str, str, str]]] = {}
    lower = 0
    for name, sh in _form(books, "households", period).items():
        ids = [r["户编号"] for r in sh.data]
        assert len(set(ids)) == len(ids) and all(re.fullmatch(r"\d{4,}", i) for i in ids)
        for r in sh.data:
            pid = r["户主身份证号"]
            assert re.fullmatch(r"\d{17}[\dXx]", pid), name
            assert _check_char(pid[:17]) == pid[17].upper(), name
            assert 1940 <= int(pid[6:10]) <= 2000
            dt.date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
            assert 2 <= len(r["户主姓名"]) <= 3
            lower += pid.endswith("x")
            seen.setdefault(pid.upper(), []).append((_code(name), r["户编号"], r["户主姓名"]))
    assert lower > 0
    dups = {k: v for k, v in seen.items() if len(v) > 1}
    assert len(dups) == 1
    ((pid, where),) = dups.items()
    assert sorted(c for c, _, _ in where) == sorted(ledger.DUPLICATE_ID)
    assert pid[:6] == ledger.DUPLICATE_ID[0] and len({n for _, _, n in where}) == 1
    for code, ids in seen.items():
        if code != pid:
            assert code[:6] == ids[0][0]


@pytest.mark.parametrize("period", PERIODS)
def test_ledger_values(books, period):
    """Value ranges; exited households have income above 3,218 yuan and every guarantee
    except the documented wrong exits; some not-exited households lack a guarantee;
    因病 is the most common cause; the counts known_totals gives."""
    year = int(period[:4])
    lt = known_totals(2019, (period,))[period]["ledger"]
    wrong = {(w["county"], w["household_id"]) for w in lt["wrong_exits"]}
    assert len(wrong) == sum(ledger.WRONG_EXITS.values())
    found, causes, lacking, not_exited = set(), {}, dict.fromkeys(GUARANTEE_HEADERS, 0), 0
    for name, sh in _form(books, "households", period).items():
        for r in sh.data:
            assert 1 <= r["家庭人口数"] <= 8
            assert r["贫困户属性"] in ("一般贫困户", "低保贫困户", "特困供养贫困户")
            assert 2014 <= r["识别年度"] <= 2018
            assert r["人均纯收入（元）"] >= 0 and float(r["人均纯收入（元）"]).is_integer()
            causes[r["主要致贫原因"]] = causes.get(r["主要致贫原因"], 0) + 1
            for h in GUARANTEE_HEADERS:
                assert r[h] in ("是", "否")
                lacking[h] += r[h] == "否"
            if r["脱贫年度"] == "":
                not_exited += 1
                continue
            assert r["识别年度"] <= r["脱贫年度"] <= year
            ok = r["人均纯收入（元）"] > 3218 and all(r[h] == "是" for h in GUARANTEE_HEADERS)
            if not ok:
                found.add((_code(name), r["户编号"]))
    assert found == wrong
    assert set(causes) == set(FORMS["households"].col("main_cause").choices)
    assert max(causes, key=causes.get) == "因病"
    assert lt["not_exited"] == not_exited and lt["causes"] == causes
    assert list(lt["lacking"].values()) == list(lacking.values())
    assert 0 < sum(lacking.values()) < not_exited


def test_ledger_openpyxl_view(generated):
    """The ledger as Excel sees it: ids and ID numbers are text, counts are numbers."""
    path = next(p for p in generated if p.name.startswith("530128_") and PERIOD in p.name)
    ws = openpyxl.load_workbook(path, read_only=True)["表9"]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "户编号")
    first = rows[top + 1]
    assert isinstance(first[0], str) and isinstance(first[2], str) and len(first[2]) == 18
    assert isinstance(first[6], int) and isinstance(first[9], int)
    assert rows[-1][0].startswith("填表人：")


def test_scale_households(tmp_path):
    """``households`` sets the ledger's total; 1,000,000 puts 镇雄县 above 50,000."""
    paths = generate(tmp_path, seed=2019, periods=("2018-12",), households=5_000)
    total = 0
    for p in paths:
        rows = pc.CalamineWorkbook.from_path(str(p)).get_sheet_by_name("表9").to_python()
        total += len(Sheet(rows).data)
    assert len(paths) == 129 and total == 5_000
    assert (
        known_totals(2019, ("2018-12",), households=5_000)["2018-12"]["ledger"]["households"]
        == 5_000
    )
    big = ledger.ledger_plan(2019, 1_000_000)
    sizes = {c: big.households(c) for c in big.villages}
    assert sum(sizes.values()) == 1_000_000
    assert max(sizes.values()) > 50_000 and min(sizes.values()) < 5_000
