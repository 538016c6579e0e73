"""The SQL models of ``sql/`` on the tiny hand-built warehouse of
``tests/builders/handbuilt.py`` (three counties in two prefectures, period 2019-12; its
docstring tells what each county sent). Every expected number below is computed by hand
in the comment beside it."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.warehouse import models
from schemas import staged_columns
from tests.builders import sql
from tests.builders.handbuilt import (
    KUNMING,
    PERIOD,
    PROVINCE,
    SHA,
    WUHUA,
    ZHAOTONG,
    ZHAOYANG,
    A,
    B,
    C,
    build,
)
from tests.builders.sql import insert_rows, source_tables


@pytest.fixture(scope="module")
def con():
    c = build()
    yield c
    c.close()


def ind(con, code: str, level: str, geo: str) -> tuple | None:
    """(numerator, denominator, value, unit) of one row of marts.indicators in PERIOD."""
    return sql.ind(con, code, level, geo, PERIOD)


def approx(x):
    return pytest.approx(x, rel=1e-12)


# --------------------------------------------------------------------------- the tests


def test_every_model_has_a_grain_comment():
    for m in models.load_models():
        assert m.header.grain.lower().startswith("one row per"), m.table
        assert m.header.comment.startswith(m.header.grain)


def test_staging_keeps_current_submissions_only(con):
    # A's superseded a1 held 1 population row and 1 water row: none of them are staged.
    staged = con.execute(
        "SELECT file_sha256, count(*) FROM staging.population WHERE county_code = ? GROUP BY 1",
        [A],
    ).fetchall()
    assert staged == [(SHA["a2"], 5)]
    assert con.execute(
        "SELECT count(*) FROM staging.water WHERE file_sha256 = ?", [SHA["a1"]]
    ).fetchall() == [(0,)]
    # columns: the data columns of the form, then county_code, period, file_sha256, sheet, row
    cols = [r[0] for r in con.execute("DESCRIBE staging.housing").fetchall()]
    assert cols == [n for n, _ in staged_columns("housing")] + [
        "county_code", "period", "file_sha256", "sheet", "excel_row",
    ]  # fmt: skip


def test_population_county_values(con):
    # A: registered 300+200+50+100+90 = 740; remaining 20+20+40+10+9 = 99 (v4 counts here)
    assert ind(con, "registered_persons", "county", A) == (740, None, 740, "persons")
    assert ind(con, "remaining_persons", "county", A) == (99, None, 99, "persons")
    # A incidence: v4 (total blank) leaves both sums: (20+20+40+9) / (1000+500+400+300)
    num, den, value, unit = ind(con, "poverty_incidence", "county", A)
    assert (num, den, unit) == (89, 2200, "ratio")
    assert value == approx(89 / 2200)
    # B: w2's remaining is blank -> 100 / 800; registered 400 + 50
    assert ind(con, "poverty_incidence", "county", B)[:3] == (100, 800, 0.125)
    assert ind(con, "remaining_persons", "county", B)[0] == 100
    # C: 60 / 2000 = exactly 3%
    assert ind(con, "poverty_incidence", "county", C)[2] == approx(0.03)
    # villages above 3%: A only v2 (v3 is not a poverty village, v5 is exactly 3%,
    # v4 has no total); B w1; C none (exactly 3% is at the threshold)
    assert ind(con, "poverty_villages_remaining", "county", A) == (1, None, 1, "villages")
    assert ind(con, "poverty_villages_remaining", "county", B)[2] == 1
    assert ind(con, "poverty_villages_remaining", "county", C)[2] == 0


def test_rollup_is_a_ratio_of_sums_not_an_average(con):
    # 昆明市 incidence = (89 + 100) / (2200 + 800) = 189 / 3000 = 0.063
    num, den, value, _ = ind(con, "poverty_incidence", "prefecture", KUNMING)
    assert (num, den) == (189, 3000)
    assert value == approx(0.063)
    average = (89 / 2200 + 100 / 800) / 2  # 0.08273 - what averaging ratios would give
    assert value != approx(average)
    # province = (189 + 60) / (3000 + 2000) = 249 / 5000 = 0.0498
    assert ind(con, "poverty_incidence", "province", PROVINCE)[:2] == (249, 5000)
    assert ind(con, "poverty_incidence", "province", PROVINCE)[2] == approx(0.0498)
    # housing key: 昆明市 (20 + 38) / (20 + 40) = 58/60, not (1.0 + 0.95) / 2 = 0.975
    value = ind(con, "housing_key_completion_rate", "prefecture", KUNMING)[2]
    assert value == approx(58 / 60)
    assert value != approx(0.975)
    # sums of counts: registered 740 + 450 + 600 = 1790; villages above 3%: 1 + 1 + 0 = 2
    assert ind(con, "registered_persons", "province", PROVINCE)[2] == 1790
    assert ind(con, "poverty_villages_remaining", "province", PROVINCE)[2] == 2
    assert ind(con, "registered_persons", "province", PROVINCE)[3] == "persons"
    names = con.execute(
        "SELECT DISTINCT geo_level, geo_code, geo_name_zh FROM marts.indicators "
        "WHERE geo_level <> 'county' ORDER BY 1, 2"
    ).fetchall()
    assert names == [
        ("prefecture", KUNMING, "昆明市"),
        ("prefecture", ZHAOTONG, "昭通市"),
        ("province", PROVINCE, "云南省"),
    ]


def test_null_cell_left_out_of_both_sums(con):
    # housing A: row 2 has registered_completed blank -> the whole row leaves both key sums:
    # (10+5+2+3) / (10+5+2+3) = 20/20. (Were the blank 0: 24/30; were it dropped from the
    # numerator only: 24/30 as well - neither is what we get.)
    assert ind(con, "housing_key_completion_rate", "county", A)[:3] == (20, 20, 1.0)
    # A's other renovation has no blank: (10 + 10) / (20 + 10)
    assert ind(con, "housing_other_completion_rate", "county", A)[:2] == (20, 30)
    # C: other_planned blank -> its only row is unknown: unknown, not 0 / 0 [issue 12]
    assert ind(con, "housing_other_completion_rate", "county", C)[:3] == (None, None, None)
    # province key: (20 + 38 + 30) / (20 + 40 + 30) = 88/90; other (20+20+0)/(30+40+0)
    assert ind(con, "housing_key_completion_rate", "province", PROVINCE)[:2] == (88, 90)
    assert ind(con, "housing_other_completion_rate", "province", PROVINCE)[2] == approx(4 / 7)
    # education A: identified blank in row 2 -> 8/10; remaining sums both rows: 2 + 1
    assert ind(con, "education_return_rate", "county", A)[:2] == (8, 10)
    assert ind(con, "education_dropouts_remaining", "county", A)[2] == 3
    # relocation move-in A: the scattered row's moved_in is blank -> (90+20) / (100+50)
    assert ind(con, "relocation_move_in_rate", "county", A)[:2] == (110, 150)


def test_zero_denominator_gives_null(con):
    # B's only medical row has serious-illness insured blank: its one unit is unknown, so
    # the county's coverage is unknown (NULL), not 0/0 [issue 12]
    assert ind(con, "medical_serious_illness_coverage", "county", B) == (
        None, None, None, "ratio",
    )  # fmt: skip
    # ... while 昆明市 has A's 990 / 1000
    assert ind(con, "medical_serious_illness_coverage", "prefecture", KUNMING)[2] == 0.99
    # C has no relocation tasks (planned 0): clear zero 0/0 for C and for 昭通市
    assert ind(con, "relocation_clear_zero", "county", C)[:3] == (0, 0, None)
    assert ind(con, "relocation_clear_zero", "prefecture", ZHAOTONG)[:3] == (0, 0, None)
    assert ind(con, "relocation_units_completion_rate", "county", C)[:3] == (0, 0, None)


def test_relocation_sites_and_clear_zero(con):
    # sites: A has 2 centralized (S1 complete, S2 10/20); B 1 (complete); C none
    assert ind(con, "relocation_sites_completed", "county", A)[:3] == (1, 2, 0.5)
    assert ind(con, "relocation_sites_completed", "county", B)[:3] == (1, 1, 1.0)
    assert ind(con, "relocation_sites_completed", "county", C)[:3] == (0, 0, None)
    sites = ind(con, "relocation_sites_completed", "province", PROVINCE)
    assert sites[:2] == (2, 3) and sites[2] == approx(2 / 3)
    # clear zero: A 50 of 60 units (0/1), B 58 of 58 (1/1), C no tasks (0/0) -> 1 of 2
    assert ind(con, "relocation_clear_zero", "county", A)[:3] == (0, 1, 0.0)
    assert ind(con, "relocation_clear_zero", "county", B)[:3] == (1, 1, 1.0)
    assert ind(con, "relocation_clear_zero", "province", PROVINCE)[:3] == (1, 2, 0.5)
    # units: (30+10+10 + 50+8 + 0) / (30+20+10 + 50+8 + 0) = 108/118
    assert ind(con, "relocation_units_completion_rate", "province", PROVINCE)[:2] == (108, 118)
    # urban share of centralized persons: A 100/150, B 200/200 -> 300/350
    assert ind(con, "relocation_urban_share", "county", A)[:2] == (100, 150)
    assert ind(con, "relocation_urban_share", "province", PROVINCE)[:2] == (300, 350)


def test_water_zero_counties(con):
    # A (current a2): end 0 + 0 -> at zero (the superseded a1 said 10); B: end 12 -> not;
    # C: water sheet with no village rows -> no unsafe household, at zero.
    assert ind(con, "water_zero_counties", "county", A)[:3] == (1, 1, 1.0)
    assert ind(con, "water_zero_counties", "county", B)[:3] == (0, 1, 0.0)
    assert ind(con, "water_zero_counties", "county", C)[:3] == (1, 1, 1.0)
    assert ind(con, "water_zero_counties", "prefecture", KUNMING)[:3] == (1, 2, 0.5)
    zero = ind(con, "water_zero_counties", "province", PROVINCE)
    assert zero[:3] == (2, 3, approx(2 / 3)) and zero[3] == "ratio"
    # unsafe 0 + 12 + 0 = 12; resolved (10+5) + 8 + 0 = 23
    assert ind(con, "water_unsafe_households", "province", PROVINCE) == (
        12, None, 12, "households",
    )  # fmt: skip
    assert ind(con, "water_resolved_households", "province", PROVINCE)[2] == 23
    assert ind(con, "water_unsafe_households", "county", C)[2] == 0


def test_medical_employment_infrastructure(con):
    # basic coverage 昆明市 (1000 + 490) / (1000 + 500); province = 昆明市 (C sent no medical)
    assert ind(con, "medical_basic_coverage", "province", PROVINCE)[:2] == (1490, 1500)
    # reimbursement in yuan: (90000.00 + 40000.25) / (100000.00 + 50000.50)
    num, den, value, _ = ind(con, "medical_reimbursement_rate", "province", PROVINCE)
    assert (num, den) == (130000.25, 150000.50)
    assert value == approx(130000.25 / 150000.50)
    # employment sums (A's blank workshops cell adds nothing): 2 + 1 = 3 workshops
    expected = {"employment_migrant_employed": 350, "employment_workshops": 3,
                "employment_workshop_employed": 42, "employment_public_welfare_jobs": 18,
                "employment_ecological_rangers": 17}  # fmt: skip
    for code, total in expected.items():
        assert ind(con, code, "province", PROVINCE)[2] == total, code
    assert ind(con, "employment_workshops", "province", PROVINCE)[3] == "workshops"
    # infrastructure: v1 has every facility, v2 has no broadband; v3's clinic is blank and
    # nothing else 否, so v3 is unknown and in neither sum [issue 12]: 1/2
    assert ind(con, "infrastructure_complete_rate", "county", A)[:2] == (1, 2)


def test_empty_form_with_quarantined_rows_is_unknown_not_zero():
    # C's water sheet loaded no row; had one of its rows been quarantined, "no row" no
    # longer means "no unsafe household": the sums are unknown and C is not at zero.
    con = build()
    try:
        insert_rows(con, "quarantine.rows", [
            {"file_sha256": SHA["c1"], "file_name": "c1.xlsx", "form": "water",
             "sheet": "表5", "excel_row": 6, "cells": '{"行政村": "y1"}'},
        ])  # fmt: skip
        models.run_models(con)
        assert ind(con, "water_unsafe_households", "county", C)[:3] == (None, None, None)
        # whether C is at zero is unknown: it counts in neither sum [issue 12]
        assert ind(con, "water_zero_counties", "county", C)[:3] == (None, None, None)
        # the province sums what is known: unsafe 0 + 12; zero counties A of A, B: 1 of 2
        assert ind(con, "water_unsafe_households", "province", PROVINCE)[2] == 12
        assert ind(con, "water_zero_counties", "province", PROVINCE)[:2] == (1, 2)
        assert [t.name for t in models.run_tests(con) if t.rows] == []
    finally:
        con.close()


def test_models_and_data_tests_run_on_an_empty_warehouse():
    con = duckdb.connect(":memory:")
    try:
        source_tables(con)
        built = models.run_models(con)
        assert "marts.indicators" in built and "marts.data_quality" in built
        for table in ("marts.indicators", "marts.county_indicators", "marts.data_quality"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)]
        assert [t.name for t in models.run_tests(con) if t.rows] == []
    finally:
        con.close()


def test_no_rows_for_a_form_nobody_in_the_geography_submitted(con):
    rows = con.execute(
        "SELECT DISTINCT indicator_code FROM marts.indicators "
        "WHERE geo_level = 'prefecture' AND geo_code = ? ORDER BY 1",
        [ZHAOTONG],
    ).fetchall()
    codes = {r[0] for r in rows}
    assert not any(c.startswith(("medical_", "education_", "employment_")) for c in codes)
    assert "infrastructure_complete_rate" not in codes
    assert {"poverty_incidence", "relocation_clear_zero", "housing_key_completion_rate",
            "water_zero_counties"} <= codes  # fmt: skip
    # only the three reporting counties have county rows; nothing for ledger indicators
    counties = con.execute(
        "SELECT DISTINCT geo_code FROM marts.indicators WHERE geo_level = 'county' ORDER BY 1"
    ).fetchall()
    assert counties == [(A,), (B,), (C,)]
    assert con.execute(
        "SELECT count(*) FROM marts.indicators WHERE indicator_code LIKE 'households%' "
        "OR indicator_code LIKE 'af%'"
    ).fetchall() == [(0,)]


def test_wide_tables(con):
    codes = [r[0] for r in con.execute(
        "SELECT indicator_code FROM ref.indicator_definitions"
    ).fetchall()]  # fmt: skip
    assert len(codes) == 37
    for level in ("county", "prefecture", "province"):
        cols = [r[0] for r in con.execute(f"DESCRIBE marts.{level}_indicators").fetchall()]
        assert cols == ["geo_code", "geo_name_zh", "period", *codes], level
    row = con.execute(
        "SELECT geo_name_zh, poverty_incidence, medical_basic_coverage, af_headcount_ratio "
        "FROM marts.prefecture_indicators WHERE geo_code = ?",
        [ZHAOTONG],
    ).fetchall()
    # 昭通市: incidence 60/2000; no medical form; ledger indicators not built -> NULL
    assert row == [("昭通市", approx(0.03), None, None)]
    assert con.execute(
        "SELECT geo_code, period, water_zero_counties FROM marts.province_indicators"
    ).fetchall() == [(PROVINCE, PERIOD, approx(2 / 3))]
    assert con.execute("SELECT count(*) FROM marts.county_indicators").fetchall() == [(3,)]


def test_data_quality(con):
    assert con.execute("SELECT count(*) FROM marts.data_quality").fetchall() == [(129,)]
    cols = ("forms_received, forms_received_list, forms_missing, files_received, files_loaded, "
            "files_superseded, files_rejected, rows_loaded, rows_quarantined, errors, warnings, "
            "total_mismatches")  # fmt: skip

    def dq(county):
        return con.execute(
            f"SELECT {cols} FROM marts.data_quality WHERE county_code = ? AND period = ?",
            [county, PERIOD],
        ).fetchall()

    everything = ("population,relocation,housing,medical,water,education,employment,"
                  "infrastructure,households")  # fmt: skip
    # 五华 sent nothing: a row all the same, every form missing
    assert dq(WUHUA) == [(0, "", everything, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    # 昭阳: one rejected file
    assert dq(ZHAOYANG) == [(0, "", everything, 1, 0, 0, 1, 0, 0, 0, 0, 0)]
    # A: 8 forms; 2 files (a1 superseded); rows in staging 5+3+2+1+2+2+2+3 = 20; a1's
    # warning does not count
    assert dq(A) == [(8, everything.removesuffix(",households"), "households",
                      2, 1, 1, 0, 20, 0, 0, 0, 0)]  # fmt: skip
    # B: 7 forms; rows 2+2+1+1+1+1+1 = 9; 1 quarantined row; 1 error, 2 warnings of which
    # 1 total_mismatch
    assert dq(B) == [(7, "population,relocation,housing,medical,water,education,employment",
                      "infrastructure,households", 1, 1, 0, 0, 9, 1, 1, 2, 1)]  # fmt: skip
    # C: 4 forms (the water sheet had no rows); rows 1 + 1 + 1 + 0 = 3
    assert dq(C) == [(4, "population,relocation,housing,water",
                      "medical,education,employment,infrastructure,households",
                      1, 1, 0, 0, 3, 0, 0, 0, 0)]  # fmt: skip
    assert con.execute(
        "SELECT county_name_zh, prefecture_code FROM marts.data_quality WHERE county_code = ?",
        [C],
    ).fetchall() == [("鲁甸县", ZHAOTONG)]


def test_sql_data_tests_pass_on_the_fixture(con):
    results = models.run_tests(con)
    assert len(results) >= 5
    assert [(t.name, t.sample) for t in results if t.rows] == []


def test_a_broken_mart_row_fails_the_data_tests():
    con = build()
    try:
        # a ratio above 1 whose value no longer equals numerator / denominator
        con.execute(
            "UPDATE marts.indicators SET value = 1.5 WHERE indicator_code = "
            "'water_zero_counties' AND geo_level = 'province'"
        )
        # a duplicate key
        con.execute(
            "INSERT INTO marts.indicators SELECT * FROM marts.indicators "
            "WHERE indicator_code = 'registered_persons' AND geo_level = 'county' LIMIT 1"
        )
        # a province numerator that is not the sum of its counties
        con.execute(
            "UPDATE marts.indicators SET numerator = numerator + 1, value = value + 1 "
            "WHERE indicator_code = 'remaining_persons' AND geo_level = 'province'"
        )
        failed = {t.name: t.rows for t in models.run_tests(con) if t.rows}
    finally:
        con.close()
    assert failed.get("indicators_ratio_in_range") == 1
    assert failed.get("indicators_value_consistent") == 1
    assert failed.get("indicators_unique_key") == 1
    assert failed.get("indicators_rollup_additive", 0) >= 1
    assert failed.get("wide_tables_match_long", 0) >= 1
