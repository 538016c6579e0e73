"""forms.md items 5, 9 and 11 and the decisions on codes, for every form where they apply:
numbers as text, thousands separators, full-width digits, stray spaces, `—`/`-`/`/`/`无`
as zero, percentages (a `0.00%` fraction, `99.67%` text, plain points), dates in every
listed form (cell and cover), codes as numbers and zero-padded, booleans and years in
their accepted spellings — each loads as its exact value. Malformed numbers (`3,5079`,
`1.234.5`, `12O`, …), a code typed as `5.30128E+11`, an 18-digit ID typed as a number
and formula cells saved without values are never guessed: the row is quarantined with
the cell, the header, the original text (not for personal data) and what to do."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas import FORMS
from tests.builders.marks import slow_except
from tests.builders.mess import (
    BIG,
    FILE_NAME,
    ZERO,
    F,
    Layout,
    derive,
    errors,
    expected,
    extract,
    loaded,
    records,
    warnings,
    write_xlsx,
)

ALL = list(FORMS)
WITH_BIG = [f for f in ALL if BIG[f]]
WITH_ZERO = [f for f in ALL if ZERO[f]]
FULL = str.maketrans("0123456789,.", "０１２３４５６７８９，．")

NUMBER_TEXT = {
    "text": lambda v: str(v),
    "thousands": lambda v: f"{v:,}",
    "fullwidth": lambda v: f"{v:,}".translate(FULL),
    "spaces": lambda v: f"  {v:,} ",
    "nbsp_u3000": lambda v: f"\u3000{v}\u00a0",
    "float": lambda v: float(v),
}


def _one(tmp_path, form, overrides_by_row, n=3, seed=0, mutate=None, **kw):
    lay = Layout(form, **kw)
    recs = records(form, n, seed=seed)
    if mutate:
        mutate(recs)
    rows = [lay.add(r, overrides_by_row.get(i)) for i, r in enumerate(recs)]
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert res.status == "loaded", res.message
    return lay, rows, res


@pytest.mark.parametrize("form", slow_except(WITH_BIG, lambda f: f == "population"))
@pytest.mark.parametrize("variant", list(NUMBER_TEXT))
def test_counts_as_text_load_exactly(tmp_path, form, variant):
    col = BIG[form]

    def big(recs):
        recs[1].values[col] += 12000
        if form == "water":
            recs[1].values["unsafe_households_end"] += 12000
        derive(recs[1])

    value = records(form, 3, seed=0)[1].values[col] + 12000
    lay2, rows2, res2 = _one(tmp_path, form, {1: {col: NUMBER_TEXT[variant](value)}}, mutate=big)
    assert not errors(res2), [f.message for f in errors(res2)]
    assert loaded(res2, form) == expected(lay2)
    assert loaded(res2, form)[rows2[1]][col] == value >= 12000


@pytest.mark.parametrize("form", slow_except(WITH_ZERO, lambda f: f == "population"))
@pytest.mark.parametrize("placeholder", ["—", "-", "/", "无", "－", "——", " / "])
def test_placeholders_are_zero_and_blank_is_null(tmp_path, form, placeholder):
    col = ZERO[form]

    def zero(recs):
        recs[0].values[col] = 0
        derive(recs[0])

    lay, rows, res = _one(tmp_path, form, {0: {col: placeholder}}, mutate=zero)
    assert not errors(res), [f.message for f in errors(res)]
    assert loaded(res, form) == expected(lay)
    assert loaded(res, form)[rows[0]][col] == 0


@pytest.mark.parametrize("form", WITH_BIG)
def test_blank_count_is_null_not_zero(tmp_path, form):
    lay, rows, res = _one(tmp_path, form, {0: {BIG[form]: None}, 1: {BIG[form]: " \u3000"}})
    assert not errors(res), [f.message for f in errors(res)]
    got = loaded(res, form)
    assert got[rows[0]][BIG[form]] is None and got[rows[1]][BIG[form]] is None


@pytest.mark.parametrize(
    "cell,fmt",
    [
        ("fraction", "0.00%"),
        ("fraction", "0%"),
        ("text", None),
        ("text_fullwidth", None),
        ("points", None),
        ("points_text", None),
    ],
)
def test_percentages_every_form(tmp_path, cell, fmt):
    """population 贫困发生率（%）: a %-formatted fraction ×100; `2.54%` text and plain
    2.54 are points already."""
    lay = Layout("population")
    recs = records("population", 3, seed=7)
    rows = []
    for r in recs:
        p = r.values["poverty_incidence"]
        value = {
            "fraction": p / 100,
            "text": f"{p}%",
            "text_fullwidth": f"{p}％".translate(FULL),
            "points": p,
            "points_text": str(p),
        }[cell]
        rows.append(lay.add(r, {"poverty_incidence": value}))
        if fmt:
            lay.set(rows[-1], "poverty_incidence", value, fmt)
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    got = loaded(res, "population")
    for r, rec in zip(rows, recs, strict=True):
        assert got[r]["poverty_incidence"] == pytest.approx(
            rec.values["poverty_incidence"], abs=1e-9
        )


DATE_CELLS = [
    (dt.datetime(2019, 12, 31), None),
    (dt.datetime(2019, 12, 31), 'yyyy"年"m"月"d"日"'),
    (43830, None),  # a General serial
    (43830, "yyyy/m/d"),
    ("2019年12月31日", None),
    ("2019.12.31", None),
    ("2019/12/31", None),
    ("2019-12-31", None),
    (" 2019 年 12 月 31 日 ", None),
    ("２０１９年１２月３１日", None),
    ("2019年12月31号", None),
]


@pytest.mark.parametrize("value,fmt", DATE_CELLS)
def test_completion_date_every_form(tmp_path, value, fmt):
    lay = Layout("relocation")
    recs = records("relocation", 2, seed=8)
    r = lay.add(recs[0], {"completion_date": value})
    if fmt:
        lay.set(r, "completion_date", value, fmt)
    lay.add(recs[1], {"completion_date": "—"})
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    got = loaded(res, "relocation")
    assert got[r]["completion_date"] == dt.date(2019, 12, 31)
    assert got[r + 1]["completion_date"] is None


COVERS = [
    ["填报单位：禄劝彝族苗族自治县（盖章）  统计截止时间：2019年12月31日  单位：户、人"],
    ["填报单位：禄劝县    统计截止时间：2019.12.31"],
    ["填报单位：禄劝    统计时间：2019/12/31"],
    ["填报单位：禄劝彝族苗族自治县  报告期：2019-12"],
    ["填报单位：", "禄劝彝族苗族自治县", "统计截止时间：", dt.datetime(2019, 12, 31)],
    ["填报单位：禄劝彝族苗族自治县", None, "统计截止时间：", 43830],
    ["填报单位：禄劝彝族苗族自治县（盖章）  统计截止日期：2019年12月"],
]


@pytest.mark.parametrize("form", slow_except(ALL, lambda f: f == "population"))
@pytest.mark.parametrize("cover", range(len(COVERS)))
def test_cover_date_forms_give_the_period(tmp_path, form, cover):
    """The period is the month of the cover's statistics date in any listed form; a
    填报日期 in the footer is not the period."""
    lay = Layout(form, cover=COVERS[cover], title_lines=1 + cover % 3)
    for r in records(form, 2, seed=cover):
        lay.add(r)
    lay.line(["填报日期：2020年1月6日"])
    res = extract(write_xlsx(tmp_path / "禄劝上报.xlsx", [lay.sheet]))
    assert res.status == "loaded", res.message
    assert (res.county_code, res.period) == ("530128", "2019-12")
    assert loaded(res, form) == expected(lay)


@pytest.mark.parametrize("form", ["population", "infrastructure", "households"])
@pytest.mark.parametrize(
    "value,fmt,want",
    [
        (530128101201, None, "530128101201"),  # shows as 5.30128E+11, loads exactly
        (530128101201, "0", "530128101201"),
        ("'530128101201", None, "530128101201"),
        (" 530128101201 ", None, "530128101201"),
    ],
)
def test_village_code_as_number_loads_exactly(tmp_path, form, value, fmt, want):
    lay = Layout(form)
    recs = records(form, 2, seed=11)
    recs[0].values["village_code"] = want
    r = lay.add(recs[0], {"village_code": value})
    if fmt:
        lay.set(r, "village_code", value, fmt)
    lay.add(recs[1])
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    assert loaded(res, form) == expected(lay)


def test_household_id_zero_padded_and_numeric(tmp_path):
    lay = Layout("households")
    recs = records("households", 3, seed=12)
    recs[0].values["household_id"] = "0002"
    recs[1].values["household_id"] = "530128000123"
    r0 = lay.add(recs[0], {"household_id": 2})
    lay.set(r0, "household_id", 2, "0000")
    lay.add(recs[1], {"household_id": 530128000123})
    lay.add(recs[2])
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    assert loaded(res, "households") == expected(lay)


BOOLS = [("是", True), ("否", False), ("√", True), ("×", False), ("Y", True), ("n", False),
         (1, True), (0, False), (True, True), (" 是 ", True), ("１", True)]  # fmt: skip


@pytest.mark.parametrize("form", ["population", "infrastructure", "households"])
def test_booleans_every_spelling(tmp_path, form):
    col = next(c.name for c in FORMS[form].columns if c.kind == "bool")
    lay = Layout(form)
    recs = records(form, len(BOOLS), seed=13)
    for rec, (text, want) in zip(recs, BOOLS, strict=True):
        rec.values[col] = want
        lay.add(rec, {col: text})
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    assert loaded(res, form) == expected(lay)


def test_years_money_and_choices_households(tmp_path):
    lay = Layout("households")
    recs = records("households", 4, seed=14)
    spellings = [("2016年", 2016), (2016.0, 2016), ("２０１６", 2016), ("2016年度", 2016)]
    for rec, (text, want) in zip(recs, spellings, strict=True):
        rec.values["registered_year"] = want
        rec.values["exit_year"] = None
        rec.values["income_per_capita"] = 12345.67
        lay.add(rec, {"registered_year": text, "income_per_capita": "12,345.67",
                      "main_cause": f" {rec.values['main_cause']} "})  # fmt: skip
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    assert loaded(res, "households") == expected(lay)


def test_money_in_wanyuan_to_fen(tmp_path):
    lay = Layout("medical")
    recs = records("medical", 3, seed=15)
    recs[0].values["inpatient_expense"] = 1234.56
    recs[0].values["inpatient_reimbursed"] = 1000.5
    r = lay.add(recs[0], {"inpatient_expense": "1,234.56", "inpatient_reimbursed": "１０００.５"})
    lay.add(recs[1])
    lay.add(recs[2])
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    got = loaded(res, "medical")
    assert got[r]["inpatient_expense"] == 1_234_560_000  # fen: 12,345,600 yuan
    assert got[r]["inpatient_reimbursed"] == 1_000_500_000
    assert got == expected(lay)


# --------------------------------------------------------------------------- never guess

MALFORMED = [
    ("3,5079", "malformed_number", "千位分隔符"),
    ("1.234.5", "malformed_number", "小数点"),
    ("12O", "not_a_number", "字母"),
    ("15,40", "malformed_number", "千位分隔符"),
    ("约300", "not_a_number", "确切"),
    ("三百", "not_a_number", "汉字"),
    ("1.2E+3", "malformed_number", "科学计数法"),
]


@pytest.mark.parametrize("form", slow_except(WITH_BIG, lambda f: f == "population"))
@pytest.mark.parametrize("text,rule,hint", MALFORMED)
def test_malformed_numbers_quarantine_the_row(tmp_path, form, text, rule, hint):
    col = BIG[form]
    lay, rows, res = _one(tmp_path, form, {1: {col: text}})
    sr = res.forms[form]
    assert [q["excel_row"] for q in sr.quarantine] == [rows[1]]
    assert text in sr.quarantine[0]["cells"]
    (e,) = errors(res)
    ref = f"{lay.letter(col)}{rows[1]}"
    assert (e.rule, e.cell_ref, e.cell_text, e.excel_row) == (rule, ref, text, rows[1])
    assert e.column_header == lay.written[col]
    assert f"{lay.sheet.name}!{ref}" in e.message and f"原文“{text}”" in e.message
    assert hint in e.message
    assert f"original text '{text}'" in e.message_en
    assert set(loaded(res, form)) == {rows[0], rows[2]}


@pytest.mark.parametrize("form", ["population", "infrastructure", "households"])
def test_code_typed_as_scientific_text_is_quarantined(tmp_path, form):
    lay, rows, res = _one(tmp_path, form, {0: {"village_code": "5.30128E+11"}})
    (e,) = errors(res)
    ref = f"{lay.letter('village_code')}{rows[0]}"
    assert (e.rule, e.cell_ref, e.cell_text) == ("code_digits_lost", ref, "5.30128E+11")
    assert "文本" in e.message and "Text" in e.message_en
    assert [q["excel_row"] for q in res.forms[form].quarantine] == [rows[0]]


def test_id_number_typed_as_number_is_quarantined_without_its_digits(tmp_path):
    recs = records("households", 2, seed=16)
    ident = recs[0].values["head_id_number"]
    lay, rows, res = _one(
        tmp_path, "households", {0: {"head_id_number": float(ident[:17] + "1")}}, seed=16
    )
    (e,) = errors(res)
    ref = f"{lay.letter('head_id_number')}{rows[0]}"
    assert (e.rule, e.cell_ref, e.cell_text) == ("code_digits_lost", ref, None)
    q = res.forms["households"].quarantine
    assert [x["excel_row"] for x in q] == [rows[0]]
    for text in (e.message, e.message_en, q[0]["cells"]):
        assert ident[:12] not in text and recs[0].values["head_name"] not in text
    assert res.forms["households"].rows_read == 3


@pytest.mark.parametrize("form", ["infrastructure", "population", "households"])
@pytest.mark.parametrize("text", ["是的", "有", "2", "—"])
def test_bad_boolean_is_quarantined(tmp_path, form, text):
    col = next(c.name for c in FORMS[form].columns if c.kind == "bool")
    lay, rows, res = _one(tmp_path, form, {2: {col: text}})
    (e,) = errors(res)
    assert (e.rule, e.cell_ref) == ("not_boolean", f"{lay.letter(col)}{rows[2]}")
    assert "是" in e.message and "否" in e.message


@pytest.mark.parametrize("form", WITH_BIG)
def test_formula_without_value_in_a_data_row(tmp_path, form):
    """openpyxl saves formulas without cached values. **[issue 12]** In a column a row does
    not require, the cell loads as NULL with a warning naming the cell and its formula
    text (the rules that need it are not evaluated); the clerk is told to open and save
    the file in Excel."""
    col = BIG[form]
    lay = Layout(form)
    recs = records(form, 3, seed=17)
    rows = [lay.add(r) for r in recs]
    formula = f"={lay.letter(col)}{rows[0]}+{lay.letter(col)}{rows[1]}"
    lay.set(rows[2], col, F(formula))
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not errors(res), [f.message for f in errors(res)]
    (w,) = warnings(res, "formula_without_value")
    assert (w.excel_row, w.cell_ref, w.cell_text) == (
        rows[2],
        f"{lay.letter(col)}{rows[2]}",
        formula,
    )
    assert f"此格是公式“{formula}”" in w.message and f"formula {formula}" in w.message_en
    assert "Excel" in w.message and "保存" in w.message and "save" in w.message_en
    assert not res.forms[form].quarantine
    want = expected(lay)
    want[rows[2]][col] = None
    assert loaded(res, form) == want


@pytest.mark.parametrize("form,col", [("population", "village"), ("relocation", "site_name"),
                                      ("households", "household_id")])  # fmt: skip
def test_formula_without_value_in_a_required_column(tmp_path, form, col):
    """A formula without a value where a data row requires a value: the row is
    quarantined, the finding names the cell and the formula."""
    lay = Layout(form)
    recs = records(form, 3, seed=17)
    rows = [lay.add(r) for r in recs]
    formula = f'="新村"&{lay.letter(col)}{rows[0]}'
    lay.set(rows[1], col, F(formula))
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    (e,) = errors(res)
    assert (e.rule, e.cell_ref, e.cell_text) == (
        "formula_without_value",
        f"{lay.letter(col)}{rows[1]}",
        formula,
    )
    assert "Excel" in e.message and "保存" in e.message
    assert [q["excel_row"] for q in res.forms[form].quarantine] == [rows[1]]
    assert set(loaded(res, form)) == {rows[0], rows[2]}
