"""Alkire–Foster over the five ledger guarantees, worked by hand (Alkire & Foster 2011).

Dimensions food & clothing (F), education (E), medical (M), housing (H), water (W);
deprived = guarantee not met; default weights 1/5 each, cut-off k = 1/3.

County A = 530128 禄劝, village 530128100001, period 2019-12:

    household  deprived in   score c_i   poor (c_i >= 1/3)   censored c_i(k)
    h1         —             0           no                  0
    h2         E             0.2         no                  0
    h3         E H           0.4         yes                 0.4
    h4         M H W         0.6         yes                 0.6
    h5         F E M H W     1.0         yes                 1.0
    h6         F             0.2         no                  0
    h7         E, water blank            not assessable: out of n and q (but registered)

    n = 6, q = 3:  H = 3/6 = 0.5;  Σ c_i(k) = 2.0;  A = 2.0/3;  M0 = 2.0/6 = 1/3 = H × A.
    Poor and deprived: F 1 (h5), E 2 (h3 h5), M 2 (h4 h5), H 3 (h3 h4 h5), W 2 (h4 h5):
    contribution_j = w_j × count_j / n / M0 = 0.2 × count_j / 2.0:
    F 0.1, E 0.2, M 0.2, H 0.3, W 0.2 (sum 1).

County B = 530129 寻甸 (also 昆明市): b1 deprived in H W (0.4, poor), b2 and b3 none:
    n = 3, q = 1, Σ = 0.4: H = 1/3, A = 0.4, M0 = 0.4/3.
昆明市 = A + B: n = 9, q = 4, Σ = 2.4: H = 4/9 (not the mean of 0.5 and 1/3 = 5/12),
    A = 2.4/4 = 0.6, M0 = 2.4/9.

k at its edges (same households):
    k = 0.2 (any deprivation):  poor h2..h6, q = 5, Σ = 0.2+0.4+0.6+1.0+0.2 = 2.4:
                                H = 5/6, A = 0.48, M0 = 0.4
    k = 1   (all five):         poor h5 only: H = 1/6, A = 1, M0 = 1/6
    k = 0.4 (= 2/5):            h3 at exactly two deprivations (0.4) is poor: q = 3 as for 1/3
    k = 0.41:                   h3 no longer poor: q = 2 (h4 h5), Σ = 1.6
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from pipeline import refdata
from pipeline.warehouse import models
from tests.builders.sql import (
    KUNMING,
    PROVINCE,
    A,
    B,
    approx,
    build,
    failed_tests,
    household,
    ind,
    set_af_parameters,
)

P = "2019-12"
V = "530128100001"

#                   FEMHW  (1 = met, 0 = deprived, ? = blank)
DEPRIVATIONS = {
    "h1": "11111",
    "h2": "10111",
    "h3": "10101",
    "h4": "11000",
    "h5": "00000",
    "h6": "01111",
    "h7": "1011?",
}


def sheets() -> dict:
    return {
        ("households", A, P): [
            household(h, V, "甲村", guarantees=g) for h, g in DEPRIVATIONS.items()
        ],
        ("households", B, P): [
            household("b1", "530129100001", "戊村", guarantees="11100"),
            household("b2", "530129100001", "戊村"),
            household("b3", "530129100001", "戊村"),
        ],
    }


@pytest.fixture(scope="module")
def con():
    c = build(sheets())
    yield c
    c.close()


def af(con, level, geo):
    """{code: (numerator, denominator, value)} of the three AF indicators."""
    return {
        code: ind(con, code, level, geo, P)[:3]
        for code in ("af_headcount_ratio", "af_intensity", "af_adjusted_headcount")
    }


def with_k(k: float, weights=(1, 1, 1, 1, 1)):
    con = build(sheets())
    set_af_parameters(con, k, weights)
    models.run_models(con)
    return con


def test_default_parameters_are_exact_fractions():
    params = refdata.af_parameters()
    assert params.loc[0, "k"] == 1 / 3
    assert [params.loc[0, c] for c in params.columns[1:]] == [0.2] * 5
    assert Fraction(params.loc[0, "k"]).limit_denominator(1000) == Fraction(1, 3)


def test_scores_per_household(con):
    rows = con.execute(
        "SELECT household_id, af_assessable, af_score, af_poor, af_censored_score "
        "FROM intermediate.int_households WHERE county_code = ? ORDER BY household_id",
        [A],
    ).fetchall()
    got = {h: (ok, None if s is None else float(s), poor, None if c is None else float(c))
           for h, ok, s, poor, c in rows}  # fmt: skip
    assert got == {
        "h1": (True, 0.0, False, 0.0),
        "h2": (True, 0.2, False, 0.0),
        "h3": (True, 0.4, True, 0.4),
        "h4": (True, 0.6, True, 0.6),
        "h5": (True, 1.0, True, 1.0),
        "h6": (True, 0.2, False, 0.0),
        "h7": (False, None, None, None),  # blank water: not assessable
    }


def test_hand_worked_example(con):
    got = af(con, "county", A)
    assert got["af_headcount_ratio"] == (3, 6, 0.5)
    assert got["af_intensity"][:2] == (2.0, 3) and got["af_intensity"][2] == approx(2 / 3)
    assert got["af_adjusted_headcount"][:2] == (2.0, 6)
    assert got["af_adjusted_headcount"][2] == approx(1 / 3)
    assert got["af_adjusted_headcount"][2] == approx(0.5 * (2 / 3))  # M0 = H × A
    # the village has the same households; h7 is still registered (7) but not assessed
    assert af(con, "village", V) == got
    assert ind(con, "households_registered", "county", A, P)[2] == 7
    assert ind(con, "households_lacking_education", "county", A, P)[:2] == (4, 7)  # h7 too
    assert ind(con, "af_headcount_ratio", "county", A, P)[3] == "ratio"


def test_contributions(con):
    rows = con.execute(
        "SELECT dimension, contribution, weight, poor_deprived_households, "
        "censored_headcount_ratio FROM marts.af_contributions "
        "WHERE geo_level = 'county' AND geo_code = ? AND period = ?",
        [A, P],
    ).fetchall()
    assert [(d, c, w, n) for d, c, w, n, _ in rows] == [
        ("food_clothing", approx(0.1), 0.2, 1),
        ("education", approx(0.2), 0.2, 2),
        ("medical", approx(0.2), 0.2, 2),
        ("housing", approx(0.3), 0.2, 3),
        ("water", approx(0.2), 0.2, 2),
    ]
    assert sum(c for _, c, *_ in rows) == approx(1.0)
    assert rows[3][4] == approx(3 / 6)  # housing: poor and deprived / n
    # B: b1 deprived in housing and water -> half each
    b = con.execute(
        "SELECT dimension, contribution FROM marts.af_contributions "
        "WHERE geo_level = 'county' AND geo_code = ? ORDER BY dimension",
        [B],
    ).fetchall()
    assert b == [("education", 0.0), ("food_clothing", 0.0), ("housing", approx(0.5)),
                 ("medical", 0.0), ("water", approx(0.5))]  # fmt: skip
    # 昆明市: poor-deprived F 1, E 2, M 2, H 3+1, W 2+1 -> 0.2 × (1, 2, 2, 4, 3) / 2.4
    kunming = dict(con.execute(
        "SELECT dimension, contribution FROM marts.af_contributions "
        "WHERE geo_level = 'prefecture' AND geo_code = ?",
        [KUNMING],
    ).fetchall())  # fmt: skip
    assert kunming == {"food_clothing": approx(0.2 / 2.4), "education": approx(0.4 / 2.4),
                       "medical": approx(0.4 / 2.4), "housing": approx(0.8 / 2.4),
                       "water": approx(0.6 / 2.4)}  # fmt: skip


def test_rollup_is_a_ratio_of_sums(con):
    assert af(con, "county", B)["af_headcount_ratio"][:2] == (1, 3)
    got = af(con, "prefecture", KUNMING)
    assert got["af_headcount_ratio"][:3] == (4, 9, approx(4 / 9))
    assert got["af_headcount_ratio"][2] != approx((0.5 + 1 / 3) / 2)
    assert got["af_intensity"][:3] == (approx(2.4), 4, approx(0.6))
    assert got["af_adjusted_headcount"][2] == approx(2.4 / 9)
    assert af(con, "province", PROVINCE) == got


def test_k_any_deprivation():
    con = with_k(0.2)
    try:
        got = af(con, "county", A)
        assert got["af_headcount_ratio"][:3] == (5, 6, approx(5 / 6))
        assert got["af_intensity"][:3] == (approx(2.4), 5, approx(0.48))
        assert got["af_adjusted_headcount"][2] == approx(0.4)
        assert failed_tests(con) == []
    finally:
        con.close()


def test_k_all_five():
    con = with_k(1.0)
    try:
        got = af(con, "county", A)
        assert got["af_headcount_ratio"][:3] == (1, 6, approx(1 / 6))
        assert got["af_intensity"][:3] == (1.0, 1, 1.0)
        assert got["af_adjusted_headcount"][2] == approx(1 / 6)
        # only h5, deprived everywhere: each dimension contributes its weight
        contributions = con.execute(
            "SELECT contribution FROM marts.af_contributions WHERE geo_level = 'county' "
            "AND geo_code = ?",
            [A],
        ).fetchall()
        assert contributions == [(approx(0.2),)] * 5
        assert failed_tests(con) == []
    finally:
        con.close()


def test_k_at_exactly_two_deprivations():
    con = with_k(0.4)  # h3 scores exactly 2/5
    try:
        assert af(con, "county", A)["af_headcount_ratio"][:2] == (3, 6)
    finally:
        con.close()
    con = with_k(0.41)  # just above: h3 drops out
    try:
        got = af(con, "county", A)
        assert got["af_headcount_ratio"][:2] == (2, 6)
        assert got["af_intensity"][:3] == (approx(1.6), 2, approx(0.8))
    finally:
        con.close()


def test_score_equal_to_k_despite_floating_point():
    # weights 0.7, 0.1, 0.1, 0.05, 0.05 and k = 0.8: a household deprived in F and E scores
    # 0.7 + 0.1 = 0.7999999999999999 in floating point, and must count as poor at k = 0.8
    # (the 1e-9 tolerance); its censored score is stored rounded to 12 decimals: 0.8.
    con = build({("households", A, P): [household("x", V, "甲村", guarantees="00111")]})
    try:
        set_af_parameters(con, 0.8, (0.7, 0.1, 0.1, 0.05, 0.05))
        models.run_models(con)
        assert af(con, "county", A)["af_headcount_ratio"][:2] == (1, 1)
        assert float(con.execute(
            "SELECT af_censored_score FROM intermediate.int_households"
        ).fetchone()[0]) == 0.8  # fmt: skip
    finally:
        con.close()


def test_configured_weights_are_normalised():
    # weights 2, 1, 1, 1, 0 -> 0.4, 0.2, 0.2, 0.2, 0 (water does not count); k = 1/3
    # h2 (E) 0.2 no; h3 (E H) 0.4 yes; h4 (M H W) 0.4 yes; h5 1.0 yes; h6 (F) 0.4 yes
    # q = 4, Σ = 0.4 + 0.4 + 1.0 + 0.4 = 2.2
    con = with_k(1 / 3, (2, 1, 1, 1, 0))
    try:
        got = af(con, "county", A)
        assert got["af_headcount_ratio"][:2] == (4, 6)
        assert got["af_intensity"][:3] == (approx(2.2), 4, approx(0.55))
        water = con.execute(
            "SELECT weight, contribution FROM marts.af_contributions WHERE geo_level = 'county' "
            "AND geo_code = ? AND dimension = 'water'",
            [A],
        ).fetchall()
        assert water == [(0.0, 0.0)]
        assert failed_tests(con) == []
    finally:
        con.close()


def test_no_poor_household_leaves_contributions_null():
    con = with_k(1.0)
    try:
        # B has nobody deprived in all five: M0 = 0 -> contributions NULL, A NULL (q = 0)
        assert af(con, "county", B)["af_intensity"] == (0, 0, None)
        assert af(con, "county", B)["af_adjusted_headcount"] == (0, 3, 0.0)
        assert con.execute(
            "SELECT count(*), count(contribution) FROM marts.af_contributions "
            "WHERE geo_level = 'county' AND geo_code = ?",
            [B],
        ).fetchall() == [(5, 0)]
    finally:
        con.close()


def test_sql_data_tests(con):
    assert failed_tests(con) == []


def test_data_tests_catch_bad_parameters_and_inconsistent_measures():
    con = build(sheets())
    try:
        con.execute("INSERT INTO ref.af_parameters VALUES (1.5, 1, 1, 1, 1, 1)")  # 2 rows, k>1
        models.run_models(con)
        con.execute(
            "UPDATE marts.indicators SET value = 0.9 WHERE indicator_code = "
            "'af_adjusted_headcount' AND geo_level = 'county' AND geo_code = ?",
            [A],
        )
        con.execute(
            "UPDATE marts.af_contributions SET contribution = 0.5 WHERE geo_level = 'county' "
            "AND geo_code = ? AND dimension = 'water'",
            [A],
        )
        failed = dict(failed_tests(con))
    finally:
        con.close()
    assert {"af_parameters_valid", "af_measures_consistent", "af_contributions_sum_to_one"} <= set(
        failed
    )
