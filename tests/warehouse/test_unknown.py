"""Unknown is never zero (issue 12, item 3): every count-of-condition indicator on a
hand-built three-county warehouse with one unknown unit, numbers worked out by hand.

Period 2019-12 (national line 3,218 yuan). A = 530128 禄劝 and B = 530129 寻甸 are in 昆明市
(530100), C = 530621 鲁甸 in 昭通市 (530600). The unknown unit of every indicator is in B.

Population (poverty villages above 3%; units: poverty villages):
  A  p1 poor 1000/50 (5%, above)   p2 poor 1000/30 (3%, not above)   p3 not poor 100/50
  B  q1 poor total blank/10 (unknown)   q2 poor 500/30 (6%, above)   q3 poor 200/0
  C  r1 poor 400/20 (5%, above)   r2 poor 0/0 (no population: not above)
Relocation (sites: centralized sites completed; clear zero: counties with tasks):
  A  S1 集中 30/30   S2 集中 20 planned, 10 completed   D1 分散 10/10     -> sites 1/2, not clear
  B  S3 集中 40 planned, completed blank (unknown)   S4 集中 50/50       -> sites 1/1, unknown
  C  S5 集中 25/25   D2 分散 5/5                                         -> sites 1/1, clear
Water (counties at zero; units: counties):
  A  end 0, 0 -> at zero   B  end blank, 0 -> unknown   C  end 3, blank -> not at zero (3 > 0)
Infrastructure (villages with every facility; a blank with no 否 is unknown):
  A  all 是; station 否 -> 1/2   B  all 是; clinic blank -> 1/1 (+1 unknown)
  C  clinic blank but station 否 (known incomplete); all 是 -> 1/2
Ledger (guarantees food/education/medical/housing/water; dimension j as parametrised):
  A  a1 not exited 5000 all met (meets)   a2 not exited 2000 all met (fails: income)
     a3 exited 2019 5000 all met          a4 exited 2018 3000 all met (wrong exit: income)
  B  b1 not exited 5000, j blank (unknown)   b2 not exited 5000, j not met (fails)
     b3 exited 2019 income blank, all met (unknown)   b4 exited 2019 2000 all met (wrong)
  C  c1 not exited 5000 all met (meets)     c2 exited 2019 9000 food and education not met
     (wrong exit; AF poor: 2 of 5 dimensions = 0.4 ≥ 1/3)
"""

from __future__ import annotations

import pytest

from pipeline.warehouse import models
from tests.builders.marks import slow_except
from tests.builders.sql import (
    DIMENSIONS,
    KUNMING,
    PROVINCE,
    ZHAOTONG,
    A,
    B,
    C,
    approx,
    build,
    facilities,
    failed_tests,
    household,
    insert_rows,
    sha,
    village,
)

P = "2019-12"


def site(name, mode, planned, completed, area="城镇"):
    return {"township": "T", "site_name": name, "resettlement_mode": mode,
            "resettlement_area": area if mode == "集中" else None, "planned_persons": 4 * planned,
            "planned_units": planned, "started_units": completed, "completed_units": completed,
            "moved_in_persons": None}  # fmt: skip


def water(end):
    return {"township": "T", "village": "V", "unsafe_households_start": 5,
            "resolved_households": 1, "unsafe_households_end": end}  # fmt: skip


def guarantees(j: int, ch: str) -> str:
    """All five met (``1``) but dimension ``j``, which is ``ch``."""
    return "".join(ch if i == j else "1" for i in range(5))


def sheets(j: int = 2, c_total: tuple = (400, 0)) -> dict:
    """The fixture of the module docstring; ``c_total``: C's two total_population cells."""
    return {
        ("population", A, P): [
            village("p1", None, 1000, 50), village("p2", None, 1000, 30),
            village("p3", None, 100, 50, poor=False),
        ],
        ("population", B, P): [
            village("q1", None, None, 10), village("q2", None, 500, 30), village("q3", None, 200, 0),
        ],
        ("population", C, P): [village("r1", None, c_total[0], 20), village("r2", None, c_total[1], 0)],
        ("relocation", A, P): [
            site("S1", "集中", 30, 30), site("S2", "集中", 20, 10), site("D1", "分散", 10, 10),
        ],
        ("relocation", B, P): [site("S3", "集中", 40, None), site("S4", "集中", 50, 50)],
        ("relocation", C, P): [site("S5", "集中", 25, 25), site("D2", "分散", 5, 5)],
        ("water", A, P): [water(0), water(0)],
        ("water", B, P): [water(None), water(0)],
        ("water", C, P): [water(3), water(None)],
        ("infrastructure", A, P): [facilities("i1", None), facilities("i2", None, "1111110")],
        ("infrastructure", B, P): [facilities("j1", None), facilities("j2", None, "1111?11")],
        ("infrastructure", C, P): [facilities("k1", None, "1111?10"), facilities("k2", None)],
        ("households", A, P): [
            household("a1", None, "甲村"), household("a2", None, "甲村", income="2000.00"),
            household("a3", None, "甲村", exit_year=2019),
            household("a4", None, "甲村", exit_year=2018, income="3000.00"),
        ],
        ("households", B, P): [
            household("b1", None, "乙村", guarantees=guarantees(j, "?")),
            household("b2", None, "乙村", guarantees=guarantees(j, "0")),
            household("b3", None, "乙村", exit_year=2019, income=None),
            household("b4", None, "乙村", exit_year=2019, income="2000.00"),
        ],
        ("households", C, P): [
            household("c1", None, "丙村"),
            household("c2", None, "丙村", exit_year=2019, income="9000.00", guarantees="00111"),
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def con():
    c = build(sheets())
    yield c
    c.close()


def row(con, code: str, level: str, geo: str) -> tuple:
    """(numerator, denominator, value, units_total, units_unknown) of one row."""
    rows = con.execute(
        "SELECT numerator, denominator, value, units_total, units_unknown FROM marts.indicators "
        "WHERE indicator_code = ? AND geo_level = ? AND geo_code = ? AND period = ?",
        [code, level, geo, P],
    ).fetchall()
    assert len(rows) == 1, (code, level, geo)
    return rows[0]


def test_poverty_villages_remaining(con):
    code = "poverty_villages_remaining"
    assert row(con, code, "county", A) == (1, None, 1, 2, 0)  # p3 is not a poverty village
    assert row(con, code, "county", B) == (1, None, 1, 3, 1)  # q1 unknown, q2 above
    assert row(con, code, "county", C) == (1, None, 1, 2, 0)  # r2: no population, not above
    assert row(con, code, "prefecture", KUNMING) == (2, None, 2, 5, 1)
    assert row(con, code, "province", PROVINCE) == (3, None, 3, 7, 1)


def test_a_population_sheet_without_total_population_is_unknown_not_zero():
    # The observed case: C's sheet lacks 总人口 (every cell NULL). Its villages above 3%
    # and its incidence are unknown: NULL at county level and for 昭通市, never 0; the
    # province covers A and B and says 3 of its 7 units are unknown (B's q1, C's two).
    con = build(sheets(c_total=(None, None)))
    try:
        assert row(con, "poverty_villages_remaining", "county", C) == (None, None, None, 2, 2)
        assert row(con, "poverty_villages_remaining", "prefecture", ZHAOTONG) == (
            None, None, None, 2, 2,
        )  # fmt: skip
        assert row(con, "poverty_villages_remaining", "province", PROVINCE) == (2, None, 2, 7, 3)
        assert row(con, "poverty_incidence", "county", C) == (None, None, None, 2, 2)
        # remaining persons are known (20 + 0): the sum stays
        assert row(con, "remaining_persons", "county", C) == (20, None, 20, 2, 0)
        wide = con.execute(
            "SELECT poverty_villages_remaining, poverty_incidence, remaining_persons "
            "FROM marts.county_indicators WHERE geo_code = ?",
            [C],
        ).fetchall()
        assert wide == [(None, None, 20)]
        assert con.execute(
            "SELECT poverty_villages_remaining FROM marts.prefecture_indicators WHERE geo_code = ?",
            [ZHAOTONG],
        ).fetchall() == [(None,)]
        exit_ = con.execute(
            "SELECT poverty_incidence, below_threshold, remaining_persons, total_population "
            "FROM marts.county_exit WHERE county_code = ?",
            [C],
        ).fetchall()
        assert exit_ == [(None, None, None, None)]
        assert failed_tests(con) == []
    finally:
        con.close()


def test_relocation_sites_completed(con):
    code = "relocation_sites_completed"
    assert row(con, code, "county", A) == (1, 2, 0.5, 2, 0)  # 分散 D1 is not a site
    assert row(con, code, "county", B) == (1, 1, 1.0, 2, 1)  # S3 unknown: in neither sum
    assert row(con, code, "county", C) == (1, 1, 1.0, 1, 0)
    assert row(con, code, "prefecture", KUNMING)[:2] == (2, 3)
    assert row(con, code, "province", PROVINCE) == (3, 4, 0.75, 5, 1)


def test_relocation_clear_zero(con):
    code = "relocation_clear_zero"
    assert row(con, code, "county", A) == (0, 1, 0.0, 1, 0)  # 50 of 60 units
    assert row(con, code, "county", B) == (None, None, None, 1, 1)  # S3's cell is blank
    assert row(con, code, "county", C) == (1, 1, 1.0, 1, 0)  # 30 of 30
    assert row(con, code, "prefecture", KUNMING) == (0, 1, 0.0, 2, 1)
    # 1 of the 2 known counties with tasks (B would have made it 1 of 3 as "not clear")
    assert row(con, code, "province", PROVINCE) == (1, 2, 0.5, 3, 1)


def test_water_zero_counties(con):
    code = "water_zero_counties"
    assert row(con, code, "county", A) == (1, 1, 1.0, 1, 0)
    assert row(con, code, "county", B) == (None, None, None, 1, 1)  # blank, none above 0
    assert row(con, code, "county", C) == (0, 1, 0.0, 1, 0)  # 3 > 0 decides despite a blank
    assert row(con, code, "prefecture", KUNMING) == (1, 1, 1.0, 2, 1)
    assert row(con, code, "province", PROVINCE) == (1, 2, 0.5, 3, 1)
    # the sums cover the reported cells and say how many rows are unknown
    assert row(con, "water_unsafe_households", "county", B) == (0, None, 0, 2, 1)
    assert row(con, "water_unsafe_households", "province", PROVINCE) == (3, None, 3, 6, 2)


def test_infrastructure_complete_rate(con):
    code = "infrastructure_complete_rate"
    assert row(con, code, "county", A) == (1, 2, 0.5, 2, 0)
    assert row(con, code, "county", B) == (1, 1, 1.0, 2, 1)  # j2's clinic blank, no 否
    assert row(con, code, "county", C) == (1, 2, 0.5, 2, 0)  # k1: a 否 decides
    assert row(con, code, "province", PROVINCE) == (3, 5, 0.6, 6, 1)


@pytest.mark.parametrize("j", slow_except(range(5), lambda j: j == 0), ids=DIMENSIONS)
def test_households_lacking(j):
    # B: b2 lacking, b1 unknown, b3 b4 met -> 1 of 3 known (4 units, 1 unknown);
    # C: c2 lacks food and education
    code = f"households_lacking_{DIMENSIONS[j]}"
    c_lacking = 1 if DIMENSIONS[j] in ("food_clothing", "education") else 0
    con = build(sheets(j))
    try:
        assert row(con, code, "county", A) == (0, 4, 0.0, 4, 0)
        assert row(con, code, "county", B) == (1, 3, approx(1 / 3), 4, 1)
        assert row(con, code, "county", C) == (c_lacking, 2, c_lacking / 2, 2, 0)
        assert row(con, code, "prefecture", KUNMING) == (1, 7, approx(1 / 7), 8, 1)
        assert row(con, code, "province", PROVINCE) == (
            1 + c_lacking, 9, approx((1 + c_lacking) / 9), 10, 1,
        )  # fmt: skip
        # the blank guarantee leaves b1 out of the AF measures too: n = 4 + 3 + 2, q = c2
        assert row(con, "af_headcount_ratio", "county", B) == (0, 3, 0.0, 4, 1)
        assert row(con, "af_headcount_ratio", "province", PROVINCE) == (
            1, 9, approx(1 / 9), 10, 1,
        )  # fmt: skip
        assert failed_tests(con) == []
    finally:
        con.close()


def test_households_meeting_standard_not_exited(con):
    code = "households_meeting_standard_not_exited"  # units: households not exited
    assert row(con, code, "county", A) == (1, 2, 0.5, 2, 0)  # a1 meets, a2 income
    assert row(con, code, "county", B) == (0, 1, 0.0, 2, 1)  # b1 unknown, b2 fails
    assert row(con, code, "county", C) == (1, 1, 1.0, 1, 0)
    assert row(con, code, "prefecture", KUNMING) == (1, 3, approx(1 / 3), 4, 1)
    assert row(con, code, "province", PROVINCE) == (2, 4, 0.5, 5, 1)


def test_households_exited_not_meeting(con):
    code = "households_exited_not_meeting"  # units: exited households
    assert row(con, code, "county", A) == (1, 2, 0.5, 2, 0)  # a4 income 3000 ≤ 3218
    assert row(con, code, "county", B) == (1, 1, 1.0, 2, 1)  # b3 unknown, b4 2000
    assert row(con, code, "county", C) == (1, 1, 1.0, 1, 0)  # c2 by its guarantees
    assert row(con, code, "prefecture", KUNMING) == (2, 3, approx(2 / 3), 4, 1)
    assert row(con, code, "province", PROVINCE) == (3, 4, 0.75, 5, 1)


def test_every_unit_unknown_and_quarantined_rows_count_as_unknown_units():
    # B's population sheet had two more rows, quarantined: they are villages whose values
    # are unknown. B's remaining persons (10 + 30 + 0) now cover 3 of 5 units.
    con = build(sheets())
    try:
        insert_rows(con, "quarantine.rows", [
            {"file_sha256": sha(B, P), "file_name": "b.xlsx", "form": "population",
             "sheet": "表1", "excel_row": 20 + i, "cells": "{}"}
            for i in range(2)
        ])  # fmt: skip
        models.run_models(con)
        assert row(con, "remaining_persons", "county", B) == (40, None, 40, 5, 2)
        assert row(con, "poverty_villages_remaining", "county", B) == (1, None, 1, 5, 3)
        assert row(con, "poverty_villages_remaining", "province", PROVINCE) == (3, None, 3, 9, 3)
        assert failed_tests(con) == []
    finally:
        con.close()


def test_data_tests_pass(con):
    assert failed_tests(con) == []
