"""Exit eligibility (western 3% rule) and ledger ↔ population-form reconciliation, by hand.

Period 2019-12. County A = 530128 禄劝 sends the population form, the infrastructure form
and the ledger:

  village (code)        total remaining incidence  infrastructure row         eligible
  甲村 (…001)            1000  30  0.03 (at 3%)  code …001 all 是 (a row named  TRUE
                                                  甲村 with code …091 lacks
                                                  broadband: the code wins)
  乙村 (…002)             500  16  0.032         all 是                        FALSE (above 3%)
  丙村 (…003)             300   3  0.01          broadband 否                  FALSE (facilities)
  丁村 (no code)          200   2  0.01          by name, all 是               TRUE
  戊村 (…005, not poor)   400   4  0.01          not on the form               TRUE (incidence)
  己村 (…006)             100   1  0.01          clinic blank                  NULL (not confirmed)
  庚村 (…007)           blank   5  NULL          all 是                        NULL
  A: (30+16+3+2+4+1) / (1000+500+300+200+400+100) = 56/2500 = 0.0224 ≤ 0.03.

Other counties' population forms: B = 530129 寻甸 31/1000 = 0.031 (above);
C = 530621 鲁甸 60/2000 = exactly 0.03 (at the threshold); 五华 530102 (not a poverty
county) 0/1000; 晋宁 530115 5/500, which also sends a ledger. 昭阳 530602 sends only a ledger.

Reconciliation for A (population form households registered/exited/remaining vs ledger):
  甲村  form 3/2/1  ledger 3 (exit 2018, exit 2019, none) = 3/2/1   no difference
  乙村  form 2/1/1  ledger 3/1/2                                    +1 / 0 / +1
  丙村  form 1/1/0  ledger 1/1/0 by name (the household has no code)  no difference
  丁村  form 2/0/2  no ledger household                             missing from ledger
  戊村  form 0/0/0  no ledger household (none registered)           nothing to report
  己村  form 1/blank/1  ledger 1/0/1                                 unknown (blank cell)
  庚村  form 1/0/1  ledger 1/0/1                                    no difference
  辛村 (…008)  ledger 2 households, not on the form                  missing from form
  壬村 (530129100009: 寻甸's code) ledger 1 household, not on the form  missing, wrong code
  -> differences 1, ledger villages missing 2, form villages missing 1, wrong codes 1.
晋宁 uses its former code 530122 in village codes: accepted.
"""

from __future__ import annotations

import pytest

from tests.builders.sql import (
    JINNING,
    WUHUA,
    A,
    B,
    C,
    build,
    facilities,
    failed_tests,
    household,
    village,
)

P = "2019-12"
ZHAOYANG = "530602"


def code(n: int, county: str = A) -> str:
    return f"{county}100{n:03d}"


def sheets() -> dict:
    return {
        ("population", A, P): [
            village("甲村", code(1), 1000, 30, households=(3, 2, 1)),
            village("乙村", code(2), 500, 16, households=(2, 1, 1)),
            village("丙村", code(3), 300, 3, households=(1, 1, 0)),
            village("丁村", None, 200, 2, households=(2, 0, 2)),
            village("戊村", code(5), 400, 4, poor=False, households=(0, 0, 0)),
            village("己村", code(6), 100, 1, households=(1, None, 1)),
            village("庚村", code(7), None, 5, households=(1, 0, 1)),
        ],
        ("infrastructure", A, P): [
            facilities("甲村（新）", code(1)),
            facilities("甲村", code(91), "1110111"),
            facilities("乙村", code(2)),
            facilities("丙村", code(3), "1110111"),
            facilities("丁村", None),
            facilities("己村", code(6), "1111?11"),
            facilities("庚村", code(7)),
        ],
        ("households", A, P): [
            household("a1", code(1), "甲村", exit_year=2018),
            household("a2", code(1), "甲村", exit_year=2019),
            household("a3", code(1), "甲村"),
            household("a4", code(2), "乙村", exit_year=2017),
            household("a5", code(2), "乙村"),
            household("a6", code(2), "乙村"),
            household("a7", None, "丙村", exit_year=2018),
            household("a8", code(6), "己村"),
            household("a9", code(7), "庚村"),
            household("a10", code(8), "辛村"),
            household("a11", code(8), "辛村"),
            household("a12", code(9, B), "壬村"),
        ],
        ("population", B, P): [village("寻一", code(1, B), 1000, 31)],
        ("population", C, P): [village("鲁一", code(1, C), 2000, 60)],
        ("population", WUHUA, P): [village("华一", code(1, WUHUA), 1000, 0, poor=False)],
        ("population", JINNING, P): [
            village("晋一", "530122100001", 500, 5, households=(1, 0, 1)),
        ],
        ("households", JINNING, P): [household("j1", "530122100001", "晋一")],
        ("households", ZHAOYANG, P): [household("z1", "530602100001", "昭一")],
    }


@pytest.fixture(scope="module")
def con():
    c = build(sheets())
    yield c
    c.close()


def test_village_exit(con):
    rows = con.execute(
        "SELECT village, poverty_incidence, below_threshold, facilities_complete, eligible, "
        "infrastructure_reported FROM marts.village_exit WHERE county_code = ? ORDER BY excel_row",
        [A],
    ).fetchall()
    assert rows == [
        ("甲村", 0.03, True, True, True, True),  # exactly 3%: eligible
        ("乙村", 0.032, False, True, False, True),
        ("丙村", 0.01, True, False, False, True),  # a facility missing: not eligible
        ("丁村", 0.01, True, True, True, True),  # no code: matched by name
        ("戊村", 0.01, True, None, True, False),  # not on the infrastructure form
        ("己村", 0.01, True, None, None, True),  # a blank facility: not confirmed
        ("庚村", None, None, True, None, True),  # population blank: incidence unknown
    ]
    cols = [r[0] for r in con.execute("DESCRIBE marts.village_exit").fetchall()]
    assert cols[:9] == ["county_code", "village_code", "village", "period", "is_poverty_village",
                        "poverty_incidence", "below_threshold", "facilities_complete",
                        "eligible"]  # fmt: skip
    assert con.execute("SELECT count(*) FROM marts.village_exit").fetchall() == [(11,)]


def test_county_exit_is_never_eligible(con):
    rows = con.execute(
        "SELECT county_code, is_poverty_county, poverty_incidence, below_threshold, "
        "survey_criteria, eligible, official_exit_year FROM marts.county_exit ORDER BY 1"
    ).fetchall()
    assert rows == [
        (WUHUA, False, 0.0, True, "not assessed", None, None),
        (JINNING, False, 0.01, True, "not assessed", None, None),
        (A, True, 56 / 2500, True, "not assessed", None, 2018),
        (B, True, 0.031, False, "not assessed", None, 2017),
        (C, True, 0.03, True, "not assessed", None, 2019),  # exactly 3%: below, still NULL
    ]
    # 昭阳 sent no population form: no row
    cols = [r[0] for r in con.execute("DESCRIBE marts.county_exit").fetchall()]
    assert cols[:7] == ["county_code", "period", "is_poverty_county", "poverty_incidence",
                        "below_threshold", "survey_criteria", "eligible"]  # fmt: skip


def test_reconciliation(con):
    rows = con.execute(
        "SELECT village, status, matched_by, ledger_registered, ledger_exited, ledger_remaining, "
        "population_registered, population_exited, population_remaining, diff_registered, "
        "diff_exited, diff_remaining, has_difference, code_matches_county "
        "FROM marts.reconciliation WHERE county_code = ? ORDER BY village_code NULLS LAST",
        [A],
    ).fetchall()
    assert rows == [
        ("甲村", "both", "code", 3, 2, 1, 3, 2, 1, 0, 0, 0, False, True),
        ("乙村", "both", "code", 3, 1, 2, 2, 1, 1, 1, 0, 1, True, True),
        ("丙村", "both", "name", 1, 1, 0, 1, 1, 0, 0, 0, 0, False, True),
        ("戊村", "population_only", None, 0, 0, 0, 0, 0, 0, 0, 0, 0, False, True),
        ("己村", "both", "code", 1, 0, 1, 1, None, 1, 0, None, 0, None, True),
        ("庚村", "both", "code", 1, 0, 1, 1, 0, 1, 0, 0, 0, False, True),
        ("辛村", "ledger_only", None, 2, 0, 2, None, None, None, None, None, None, True, True),
        ("壬村", "ledger_only", None, 1, 0, 1, None, None, None, None, None, None, True, False),
        ("丁村", "population_only", None, 0, 0, 0, 2, 0, 2, -2, 0, -2, True, None),
    ]
    jinning = con.execute(
        "SELECT status, has_difference, code_matches_county FROM marts.reconciliation "
        "WHERE county_code = ?",
        [JINNING],
    ).fetchall()
    assert jinning == [("both", False, True)]  # the former code 530122 is the county's
    # only counties with both forms are reconciled
    assert con.execute(
        "SELECT DISTINCT county_code FROM marts.reconciliation ORDER BY 1"
    ).fetchall() == [(JINNING,), (A,)]


def test_data_quality_reconciliation_columns(con):
    def dq(county):
        return con.execute(
            "SELECT reconciliation_differences, ledger_villages_missing_from_population, "
            "population_villages_missing_from_ledger, village_codes_not_matching_county, "
            "duplicate_id_households FROM marts.data_quality WHERE county_code = ? "
            "AND period = ?",
            [county, P],
        ).fetchall()

    assert dq(A) == [(1, 2, 1, 1, 0)]
    assert dq(JINNING) == [(0, 0, 0, 0, 0)]
    assert dq(B) == [(None, None, None, None, None)]  # population form only
    assert dq(ZHAOYANG) == [(None, None, None, None, 0)]  # ledger only
    # every existing column is still there
    cols = [r[0] for r in con.execute("DESCRIBE marts.data_quality").fetchall()]
    assert cols[:17] == [
        "county_code", "county_name_zh", "prefecture_code", "prefecture_name_zh", "period",
        "forms_received", "forms_received_list", "forms_missing", "files_received",
        "files_loaded", "files_superseded", "files_rejected", "rows_loaded",
        "rows_quarantined", "errors", "warnings", "total_mismatches",
    ]  # fmt: skip


def test_sql_data_tests_pass(con):
    assert failed_tests(con) == []


def test_data_tests_catch_a_passed_county_and_a_wrong_difference():
    con = build(sheets())
    try:
        con.execute("UPDATE marts.county_exit SET eligible = true WHERE county_code = ?", [C])
        con.execute("UPDATE marts.reconciliation SET diff_registered = 0 WHERE village = '乙村'")
        con.execute("UPDATE marts.village_exit SET eligible = true WHERE village = '丙村'")
        failed = dict(failed_tests(con))
    finally:
        con.close()
    assert {"exit_marts_consistent", "reconciliation_consistent"} <= set(failed)
