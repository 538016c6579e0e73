"""A tiny hand-built warehouse for the SQL model tests, with numbers worked out by hand.

Three counties in two prefectures, period 2019-12:
- A = 530128 禄劝 and B = 530129 寻甸 (昆明市 530100), C = 530621 鲁甸 (昭通市 530600).
- A sent two files: ``a1`` (population + water) was superseded by ``a2`` (every form but
  the ledger); a1's rows would change the numbers if staging kept them.
- B sent every form but infrastructure and the ledger; one population row was quarantined.
- C sent population, relocation, housing and an empty water sheet (no unsafe village);
  昭通市 therefore has no medical, education, employment or infrastructure rows.
- 530602 昭阳 sent one rejected file; 530102 五华 sent nothing.

Every expected number below is computed by hand in the comment beside it.
"""

from __future__ import annotations

import duckdb

from pipeline.warehouse import models
from schemas import FORMS
from tests.builders.sql import insert_rows, source_tables

PERIOD = "2019-12"
A, B, C = "530128", "530129", "530621"
KUNMING, ZHAOTONG, PROVINCE = "530100", "530600", "530000"
ZHAOYANG, WUHUA = "530602", "530102"  # a rejected file only / nothing at all

SHA = {name: name * 32 for name in ("a1", "a2", "b1", "c1", "r1")}  # 64 hex-looking chars


# --------------------------------------------------------------------------- the factory


def _rows(form: str, county: str, sha: str, rows: list[dict]) -> list[dict]:
    """Data rows of one sheet: add county, period, file, sheet and Excel row (from 6)."""
    return [
        {**r, "county_code": county, "period": PERIOD, "file_sha256": SHA[sha],
         "sheet": FORMS[form].table_no, "excel_row": 6 + i}
        for i, r in enumerate(rows)
    ]  # fmt: skip


def _village(name, poor, total, registered, remaining):
    return {"township": "T", "village": name, "is_poverty_village": poor,
            "total_population": total, "registered_persons": registered,
            "remaining_persons": remaining}  # fmt: skip


def _site(name, mode, area, persons, units, completed, moved_in):
    return {"site_name": name, "resettlement_mode": mode, "resettlement_area": area,
            "planned_persons": persons, "planned_units": units, "started_units": completed,
            "completed_units": completed, "moved_in_persons": moved_in}  # fmt: skip


def _township_housing(key: list[tuple], other: tuple):
    out = {"township": "T"}
    for prefix, (planned, completed) in zip(
        ("registered", "subsistence", "extreme_poor", "disabled"), key, strict=True
    ):
        out[f"{prefix}_planned"], out[f"{prefix}_completed"] = planned, completed
    out["other_planned"], out["other_completed"] = other
    return out


def _water(start, resolved, end):
    return {"township": "T", "village": "V", "unsafe_households_start": start,
            "resolved_households": resolved, "unsafe_households_end": end}  # fmt: skip


def _facilities(road, power, fiber, broadband, clinic, site, station):
    return {"township": "T", "village": "V", "hardened_road": road, "power_grid": power,
            "optical_fiber": fiber, "broadband": broadband, "standard_clinic": clinic,
            "activity_site": site, "service_station": station}  # fmt: skip


CURRENT_FORMS = {
    "a2": (A, ["population", "relocation", "housing", "medical", "water", "education",
               "employment", "infrastructure"]),
    "b1": (B, ["population", "relocation", "housing", "medical", "water", "education",
               "employment"]),
    "c1": (C, ["population", "relocation", "housing", "water"]),
}  # fmt: skip


def hand_built_input(con: duckdb.DuckDBPyConnection) -> None:
    """The tiny input described in the module docstring."""
    P = "population"
    insert_rows(con, "raw.population", _rows(P, A, "a1", [
        _village("旧村", True, 100, 100, 100),  # superseded: would lift A's incidence
    ]) + _rows(P, A, "a2", [
        _village("v1", True, 1000, 300, 20),  # 2%: below the threshold
        _village("v2", True, 500, 200, 20),  # 4%: above 3%, counted
        _village("v3", False, 400, 50, 40),  # 10% but not a poverty village
        _village("v4", True, None, 100, 10),  # total blank: out of incidence, not counted
        _village("v5", True, 300, 90, 9),  # exactly 3%: at the threshold, not counted
    ]) + _rows(P, B, "b1", [
        _village("w1", True, 800, 400, 100),  # 12.5%: counted
        _village("w2", True, 200, 50, None),  # remaining blank: out of incidence
    ]) + _rows(P, C, "c1", [
        _village("x1", True, 2000, 600, 60),  # exactly 3%
    ]))  # fmt: skip

    R = "relocation"
    insert_rows(con, "raw.relocation", _rows(R, A, "a2", [
        _site("S1", "集中", "城镇", 100, 30, 30, 90),  # all planned units completed
        _site("S2", "集中", "乡村", 50, 20, 10, 20),
        _site("T分散", "分散", None, 40, 10, 10, None),  # moved_in blank
    ]) + _rows(R, B, "b1", [
        _site("S3", "集中", "城镇", 200, 50, 50, 200),
        _site("U分散", "分散", None, 30, 8, 8, 30),
    ]) + _rows(R, C, "c1", [
        _site("无任务", "分散", None, 0, 0, 0, 0),  # a county without relocation tasks
    ]))  # fmt: skip

    H = "housing"
    insert_rows(con, "raw.housing", _rows(H, A, "a2", [
        _township_housing([(10, 10), (5, 5), (2, 2), (3, 3)], (20, 10)),
        _township_housing([(8, None), (2, 2), (0, 0), (0, 0)], (10, 10)),  # one key cell blank
    ]) + _rows(H, B, "b1", [
        _township_housing([(20, 18), (10, 10), (5, 5), (5, 5)], (40, 20)),
    ]) + _rows(H, C, "c1", [
        _township_housing([(30, 30), (0, 0), (0, 0), (0, 0)], (None, 5)),  # other_planned blank
    ]))  # fmt: skip

    insert_rows(con, "raw.medical", _rows("medical", A, "a2", [
        {"township": "T", "registered_persons": 1000, "basic_insured_persons": 1000,
         "serious_illness_insured_persons": 990, "inpatient_expense": "100000.00",
         "inpatient_reimbursed": "90000.00"},
    ]) + _rows("medical", B, "b1", [
        {"township": "T", "registered_persons": 500, "basic_insured_persons": 490,
         "serious_illness_insured_persons": None, "inpatient_expense": "50000.50",
         "inpatient_reimbursed": "40000.25"},
    ]))  # fmt: skip

    W = "water"  # C sent the water sheet with no village rows: no row of C here
    insert_rows(con, "raw.water", _rows(W, A, "a1", [
        _water(10, 0, 10),  # superseded: would keep A off zero
    ]) + _rows(W, A, "a2", [
        _water(10, 10, 0),
        _water(5, 5, 0),
    ]) + _rows(W, B, "b1", [
        _water(20, 8, 12),
    ]))  # fmt: skip

    insert_rows(con, "raw.education", _rows("education", A, "a2", [
        {"township": "T", "dropouts_identified": 10, "dropouts_returned": 8,
         "dropouts_remaining": 2},
        {"township": "U", "dropouts_identified": None, "dropouts_returned": 3,
         "dropouts_remaining": 1},  # identified blank: out of the return rate
    ]) + _rows("education", B, "b1", [
        {"township": "T", "dropouts_identified": 5, "dropouts_returned": 5,
         "dropouts_remaining": 0},
    ]))  # fmt: skip

    def jobs(migrant, workshops, employed, welfare, rangers):
        return {"township": "T", "migrant_employed": migrant, "workshops": workshops,
                "workshop_employed": employed, "public_welfare_jobs": welfare,
                "ecological_rangers": rangers}  # fmt: skip

    insert_rows(con, "raw.employment", _rows("employment", A, "a2", [
        jobs(100, 2, 30, 10, 5), jobs(50, None, 0, 5, 5),
    ]) + _rows("employment", B, "b1", [jobs(200, 1, 12, 3, 7)]))  # fmt: skip

    insert_rows(con, "raw.infrastructure", _rows("infrastructure", A, "a2", [
        _facilities(True, True, True, True, True, True, True),
        _facilities(True, True, True, False, True, True, True),
        _facilities(True, True, True, True, None, True, True),  # blank is not 是
    ]))  # fmt: skip

    subs = [
        {"file_sha256": SHA["a1"], "form": f, "county_code": A, "period": PERIOD,
         "received_at": "2020-01-05 09:00:00", "is_current": False, "superseded_by": SHA["a2"]}
        for f in ("population", "water")
    ]  # fmt: skip
    for sha, (county, forms) in CURRENT_FORMS.items():
        subs += [
            {"file_sha256": SHA[sha], "form": f, "county_code": county, "period": PERIOD,
             "received_at": "2020-01-10 09:00:00", "is_current": True, "superseded_by": None}
            for f in forms
        ]  # fmt: skip
    insert_rows(con, "raw.submissions", subs)

    def file(sha, county, status, loaded, quarantined):
        return {"file_sha256": SHA[sha], "file_name": f"{county}_{sha}.xlsx",
                "county_code": county, "period": PERIOD, "status": status,
                "rows_read": loaded + quarantined, "rows_loaded": loaded,
                "rows_quarantined": quarantined}  # fmt: skip

    insert_rows(con, "raw.files", [
        file("a1", A, "superseded", 2, 0),
        file("a2", A, "loaded", 20, 0),
        file("b1", B, "loaded", 9, 1),
        file("c1", C, "loaded", 3, 0),
        file("r1", ZHAOYANG, "rejected", 0, 0),
    ])  # fmt: skip
    insert_rows(con, "quarantine.files", [
        {"file_sha256": SHA["r1"], "file_name": "r1.xlsx", "reason": "password",
         "message": "文件有密码"},
    ])  # fmt: skip
    insert_rows(con, "quarantine.rows", [
        {"file_sha256": SHA["b1"], "file_name": "b1.xlsx", "form": "population",
         "sheet": "表1", "excel_row": 9, "cells": '{"行政村": "w3"}'},
    ])  # fmt: skip

    def finding(sha, form, row, rule, severity):
        return {"file_sha256": SHA[sha], "file_name": f"{sha}.xlsx", "form": form,
                "sheet": "表1", "excel_row": row, "cell_ref": f"F{row}", "rule": rule,
                "severity": severity, "message": "…"}  # fmt: skip

    insert_rows(con, "quarantine.findings", [
        finding("b1", "population", 9, "bad_number", "error"),
        finding("b1", "population", 7, "hidden_row", "warning"),
        finding("b1", "population", 10, "total_mismatch", "warning"),
        finding("a1", "population", 6, "hidden_row", "warning"),  # superseded file: ignored
    ])  # fmt: skip


def build() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    source_tables(con)
    hand_built_input(con)
    models.run_models(con)
    return con
