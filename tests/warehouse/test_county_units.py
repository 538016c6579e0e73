"""intermediate.int_county_units: the unknown-units rule of the forms' indicators, stated once
(issue 14 item 4), on the hand-built warehouse of ``tests/builders/handbuilt.py``.

County A's relocation sheet (hand-built there): S1 集中 城镇, 100 persons, 30 of 30 units,
90 moved in; S2 集中 乡村, 50 persons, 10 of 20 units, 20 moved in; T分散 分散, 40 persons,
10 of 10 units, moved-in cell blank. Nothing of A was quarantined.
"""

from __future__ import annotations

import pytest

from pipeline.warehouse import models
from tests.builders.handbuilt import A, C, build


@pytest.fixture(scope="module")
def con():
    c = build()
    models.run_models(c)
    yield c
    c.close()


def units(con, county: str, code: str) -> tuple | None:
    """(numerator, denominator, units_total, units_unknown) of one county's indicator."""
    row = con.execute(
        "SELECT numerator, denominator, units_total, units_unknown "
        "FROM intermediate.int_county_units WHERE county_code = ? AND indicator_code = ?",
        [county, code],
    ).fetchone()
    return None if row is None else tuple(None if v is None else float(v) for v in row)


def test_units_are_the_rows_the_indicator_counts_over(con):
    # sites: only the centralized S1 and S2 are units; S1 is completed (30 = 30): 1 of 2
    assert units(con, A, "relocation_sites_completed") == (1, 2, 2, 0)
    # urban share: the centralized sites' persons, 100 of them in town, of 100 + 50
    assert units(con, A, "relocation_urban_share") == (100, 150, 2, 0)


def test_a_blank_cell_makes_its_row_unknown_and_leaves_it_out_of_both_sums(con):
    # move-in: T分散's moved-in cell is blank: 90 + 20 over 100 + 50; 3 rows, 1 unknown
    assert units(con, A, "relocation_move_in_rate") == (110, 150, 3, 1)
    # units completed: every cell reported: 30 + 10 + 10 over 30 + 20 + 10
    assert units(con, A, "relocation_units_completion_rate") == (50, 60, 3, 0)


def test_a_form_sent_without_rows_has_no_unit_and_sums_zero(con):
    # C sent the water sheet with no village row: a plain count, 0 over 0 units
    assert units(con, C, "water_unsafe_households") == (0, None, 0, 0)


def test_the_county_level_indicators_are_not_here(con):
    codes = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT indicator_code FROM intermediate.int_county_units"
        ).fetchall()
    }
    assert "relocation_clear_zero" not in codes and "water_zero_counties" not in codes
    assert {"poverty_incidence", "infrastructure_complete_rate"} <= codes
