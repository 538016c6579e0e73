"""A factory for tiny hand-built warehouses that exercise the ledger models.

``source_tables`` creates what the Python build makes first (ref.* from the real CSVs,
empty raw.* and quarantine.*), then loads the sheets a test lists — one current file per
county and period holding every form given for it — and runs the SQL models.
"""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from pipeline.warehouse import models
from pipeline.warehouse.build import create_reference
from schemas import FORMS, staged_columns


def insert_rows(con, table: str, rows: list[dict]) -> None:
    """Insert dicts; columns a row leaves out are NULL."""
    for row in rows:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def source_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables the Python build creates before the models run: ref.* from the real CSVs
    of pipeline/reference/, empty raw.* and quarantine.* tables."""
    for schema in ("ref", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA {schema}")
    create_reference(con)  # ref.* exactly as the build makes them
    for form in FORMS:
        cols = [f"{name} {typ}" for name, typ in staged_columns(form)]
        cols += [
            "county_code VARCHAR",
            "period VARCHAR",
            "file_sha256 VARCHAR",
            "sheet VARCHAR",
            "excel_row INTEGER",
        ]
        con.execute(f"CREATE TABLE raw.{form} ({', '.join(cols)})")
    con.execute(
        "CREATE TABLE raw.submissions (file_sha256 VARCHAR, form VARCHAR, county_code VARCHAR, "
        "period VARCHAR, received_at TIMESTAMP, is_current BOOLEAN, superseded_by VARCHAR)"
    )
    con.execute(
        "CREATE TABLE raw.files (file_sha256 VARCHAR, file_name VARCHAR, path VARCHAR, "
        "size_bytes BIGINT, received_at TIMESTAMP, county_code VARCHAR, period VARCHAR, "
        "reader VARCHAR, status VARCHAR, reason VARCHAR, rows_read BIGINT, "
        "rows_loaded BIGINT, rows_quarantined BIGINT, message VARCHAR)"
    )
    con.execute(
        "CREATE TABLE quarantine.files (file_sha256 VARCHAR, file_name VARCHAR, "
        "reason VARCHAR, message VARCHAR)"
    )
    con.execute(
        "CREATE TABLE quarantine.rows (file_sha256 VARCHAR, file_name VARCHAR, form VARCHAR, "
        "sheet VARCHAR, excel_row INTEGER, cells JSON)"
    )
    con.execute(
        "CREATE TABLE quarantine.findings (file_sha256 VARCHAR, file_name VARCHAR, "
        "form VARCHAR, sheet VARCHAR, excel_row INTEGER, cell_ref VARCHAR, "
        "column_header VARCHAR, cell_text VARCHAR, rule VARCHAR, severity VARCHAR, "
        "message VARCHAR)"
    )


A, B, C = "530128", "530129", "530621"  # 禄劝, 寻甸 (昆明市); 鲁甸 (昭通市)
JINNING, WUHUA = "530115", "530102"  # 晋宁区 (former code 530122), 五华区 (not a poverty county)
KUNMING, ZHAOTONG, PROVINCE = "530100", "530600", "530000"
DIMENSIONS = ("food_clothing", "education", "medical", "housing", "water")
GUARANTEES = (
    "food_clothing_secure",
    "education_secured",
    "medical_secured",
    "housing_secured",
    "water_secured",
)


def pid(n: int) -> str:
    """A 64-hex stand-in for a head_id_hash."""
    return f"{n:064x}"


def household(
    hid: str,
    village_code: str | None,
    village: str,
    *,
    exit_year: int | None = None,
    income: str | None = "5000.00",
    guarantees: str = "11111",
    head: int | None = None,
    cause: str | None = "因病",
    township: str = "T",
) -> dict:
    """One ledger row. ``guarantees``: five characters for food & clothing, education,
    medical, housing, water — ``1`` met (是), ``0`` not met (否), ``?`` blank."""
    flags = {"1": True, "0": False, "?": None}
    row = {
        "household_id": hid,
        "head_id_hash": (
            pid(head) if head is not None else hashlib.sha256(hid.encode()).hexdigest()
        ),
        "township": township,
        "village": village,
        "village_code": village_code,
        "household_size": 3,
        "poverty_attribute": "一般贫困户",
        "main_cause": cause,
        "registered_year": 2014,
        "exit_year": exit_year,
        "income_per_capita": income,
    }
    row.update({g: flags[ch] for g, ch in zip(GUARANTEES, guarantees, strict=True)})
    return row


def village(
    name: str,
    code: str | None,
    total: int | None,
    remaining: int | None,
    *,
    poor: bool = True,
    households: tuple[int | None, int | None, int | None] = (None, None, None),
    township: str = "T",
) -> dict:
    """One population-form row; ``households`` = (registered, exited, remaining)."""
    reg, ex, rem = households
    return {
        "township": township,
        "village": name,
        "village_code": code,
        "is_poverty_village": poor,
        "total_population": total,
        "remaining_persons": remaining,
        "registered_households": reg,
        "exited_households": ex,
        "remaining_households": rem,
    }


def facilities(name: str, code: str | None, cells: str = "1111111", township: str = "T") -> dict:
    """One infrastructure-form row; ``cells``: road, power, fibre, broadband, clinic,
    activity site, service station as ``1``/``0``/``?`` (blank)."""
    flags = {"1": True, "0": False, "?": None}
    names = ("hardened_road", "power_grid", "optical_fiber", "broadband", "standard_clinic",
             "activity_site", "service_station")  # fmt: skip
    row = {"township": township, "village": name, "village_code": code}
    row.update({n: flags[ch] for n, ch in zip(names, cells, strict=True)})
    return row


def sha(county: str, period: str) -> str:
    return hashlib.sha256(f"{county}/{period}".encode()).hexdigest()


def load(con: duckdb.DuckDBPyConnection, sheets: dict[tuple[str, str, str], list[dict]]) -> None:
    """Insert ``{(form, county, period): rows}``: one loaded file per county and period,
    a current submission per form listed (an empty list = the sheet sent with no rows)."""
    files: dict[tuple[str, str], int] = {}
    for (form, county, period), rows in sheets.items():
        digest = sha(county, period)
        files[(county, period)] = files.get((county, period), 0) + len(rows)
        insert_rows(con, f"raw.{form}", [
            {**r, "county_code": county, "period": period, "file_sha256": digest,
             "sheet": FORMS[form].table_no, "excel_row": 6 + i}
            for i, r in enumerate(rows)
        ])  # fmt: skip
        insert_rows(con, "raw.submissions", [
            {"file_sha256": digest, "form": form, "county_code": county, "period": period,
             "received_at": "2020-01-10 09:00:00", "is_current": True, "superseded_by": None}
        ])  # fmt: skip
    insert_rows(con, "raw.files", [
        {"file_sha256": sha(county, period), "file_name": f"{county}_{period}.xlsx",
         "county_code": county, "period": period, "status": "loaded", "rows_read": n,
         "rows_loaded": n, "rows_quarantined": 0}
        for (county, period), n in files.items()
    ])  # fmt: skip


def set_af_parameters(con: duckdb.DuckDBPyConnection, k: float, weights=(1, 1, 1, 1, 1)) -> None:
    """Replace the one row of ref.af_parameters (weights are normalised by the models)."""
    con.execute("DELETE FROM ref.af_parameters")
    con.execute("INSERT INTO ref.af_parameters VALUES (?, ?, ?, ?, ?, ?)", [k, *weights])


def build(sheets: dict[tuple[str, str, str], list[dict]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    source_tables(con)
    load(con, sheets)
    models.run_models(con)
    return con


def ind(con, code: str, level: str, geo: str, period: str) -> tuple | None:
    """(numerator, denominator, value, unit) of one row of marts.indicators, or None."""
    rows = con.execute(
        "SELECT numerator, denominator, value, unit FROM marts.indicators "
        "WHERE indicator_code = ? AND geo_level = ? AND geo_code = ? AND period = ?",
        [code, level, geo, period],
    ).fetchall()
    assert len(rows) <= 1
    return rows[0] if rows else None


def failed_tests(con) -> list[tuple[str, list]]:
    return [(t.name, t.sample) for t in models.run_tests(con) if t.rows]


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-15)
