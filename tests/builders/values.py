"""Hostile cell values and independent ID check characters.

``hostile_workbook`` writes one sheet of a form with one data row per hostile value
(HOSTILE: per column kind, the value, its number format and the expected finding);
``gb11643_check`` computes a GB 11643 check character independently of the package.
"""

from __future__ import annotations

import datetime as dt

from schemas import FORMS
from tests.builders.mess import FILE_NAME, Layout, records, write_xlsx

ERR, WARN = "error", "warning"
IMPLAUSIBLE = (WARN, "implausible_value")
TOO_LARGE = (ERR, "out_of_storable_range")
NAN = (ERR, "not_a_number")

# (value written, number format or None, expected (severity, rule)) per column kind.
# Storable edges worked out by hand: counts up to 15 digits (999999999999999; Excel's
# precision, BIGINT sums stay in range); DECIMAL(18,2) max 9999999999999999.99 yuan =
# 999999999999.999999 万元.
HOSTILE = {
    "count": [
        (1e19, None, TOO_LARGE),
        (1e308, None, TOO_LARGE),
        ("9223372036854775808", None, TOO_LARGE),  # beyond BIGINT
        ("1000000000000000", None, TOO_LARGE),  # 16 digits: more than Excel keeps
        (10**18, None, TOO_LARGE),
        ("999999999999999", None, IMPLAUSIBLE),  # 15 digits: the largest count
        (2**53 + 0.0, None, TOO_LARGE),
        (5e15, None, TOO_LARGE),
        ("inf", None, NAN),
        ("nan", None, NAN),
        ("-inf", None, NAN),
    ],
    "money": [
        ("1000000000000", None, TOO_LARGE),  # 10^12 万元 = 10^16 yuan: one fen too many
        (1e12, None, TOO_LARGE),
        ("999999999999.999999", None, IMPLAUSIBLE),
        (1e308, None, TOO_LARGE),
        ("inf", None, NAN),
        ("NaN", None, NAN),
    ],
    "yuan": [
        ("10000000000000000", None, TOO_LARGE),
        ("9999999999999999.99", None, IMPLAUSIBLE),
        (1e308, None, TOO_LARGE),
        ("inf", None, NAN),
    ],
    "percent": [
        (1e308, None, IMPLAUSIBLE),
        ("1" + "0" * 400, None, TOO_LARGE),  # beyond a DOUBLE
        ("inf", None, NAN),
        ("nan%", None, NAN),
    ],
    "year": [
        (1e19, None, (ERR, "bad_year")),
        (1e308, None, (ERR, "bad_year")),
        (9999, None, (ERR, "bad_year")),
        ("inf", None, (ERR, "bad_year")),
    ],
    "date": [
        (60, "yyyy-mm-dd", (ERR, "bad_date")),  # Excel's fictitious 1900-02-29
        (59, "yyyy-mm-dd", (ERR, "bad_date")),  # read the same as 60: cannot be told
        (dt.datetime(9999, 12, 31), None, (ERR, "bad_date")),
        (2958465, "yyyy-mm-dd", (ERR, "bad_date")),  # 9999-12-31 as a serial
        ("9999-12-31", None, (ERR, "bad_date")),
        (1e308, None, (ERR, "bad_date")),
        ("inf", None, (ERR, "bad_date")),
        (dt.datetime(2101, 1, 1), None, (ERR, "bad_date")),
        (dt.datetime(2030, 6, 1), None, None),  # fine: in range, plausible
        (dt.datetime(2040, 6, 1), None, IMPLAUSIBLE),
    ],
    "bool": [
        (1e19, None, (ERR, "not_boolean")),
        (1e308, None, (ERR, "not_boolean")),
        ("inf", None, (ERR, "not_boolean")),
    ],
}
# a rule of the form's schema that comes before plausibility for that cell
SCHEMA_RANGE = {
    ("households", "household_size"): (ERR, "out_of_range"),  # 1..20
    ("population", "poverty_incidence"): (ERR, "out_of_range"),  # 0..100
}


def cases(form: str) -> list[tuple[str, object, str | None, tuple | None]]:
    """``(column, value, format, expected)`` for every hostile value of every column."""
    out = []
    for col in FORMS[form].columns:
        for value, fmt, expect in HOSTILE.get(col.kind, []):
            if expect == IMPLAUSIBLE:
                expect = SCHEMA_RANGE.get((form, col.name), expect)
            out.append((col.name, value, fmt, expect))
    return out


def hostile_workbook(folder, form: str, clean: int = 0):
    """One sheet of ``form``: one data row per hostile case (the other cells clean), then
    ``clean`` clean rows."""
    todo = cases(form)
    lay = Layout(form)
    rows = []
    recs = records(form, len(todo) + clean, seed=7)
    for rec, (name, value, fmt, _) in zip(recs, todo, strict=False):
        r = lay.add(rec)
        lay.set(r, name, value, fmt)
        rows.append(r)
    for rec in recs[len(todo) :]:
        lay.add(rec)
    path = write_xlsx(folder / f"{form}_{FILE_NAME}", [lay.sheet])
    return path, lay, rows, todo


def gb11643_check(first17: str) -> str:
    """ISO 7064 MOD 11-2: weight of position i (1-based from the left) is 2^(18-i) mod 11;
    the check value makes the weighted sum ≡ 1 (mod 11); 10 is written X."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)
