"""Plausible ranges of the form columns, and the warnings for values outside them [issue 11].

Two limits guard every numeric or date cell (forms.md, "What happens to bad input"):

* the *storable* range of the column's staging type (counts of at most 15 digits in
  ``BIGINT``, ``DECIMAL(18,2)``, ``DOUBLE``, ``DATE`` between 1900 and 2100): enforced by the parsers in
  ``pipeline.extract.coerce`` as an error at the cell (the row is quarantined), so no
  value can make the DuckDB build fail;
* the *plausible* range, declared once per column by its form spec
  (``schemas.columns.PLAUSIBLE`` by kind and row unit, or ``Col.plausible``) and
  overridable with ``TPA_COLUMN_LIMITS``: a value outside it is a warning at the cell
  (the row loads) so that a unit mistake (元 typed into a 万元 column) or extra digits
  are seen before they move a province's figures.

Ranges are in the staged unit: counts, yuan (money is kept in fen), percentage points,
years (for a date: its year).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache

from pipeline.extract.header import header_unit
from schemas import FORMS
from schemas.columns import COUNT_MAX, DATE_MAX_YEAR, DATE_MIN_YEAR, FEN_MAX, Col

Range = tuple[float | None, float | None]
RANGED_KINDS = ("count", "money", "yuan", "percent", "year", "date")
RULE = "implausible_value"


def check_overrides(value: Mapping[str, object]) -> dict[str, Range]:
    """Validate ``TPA_COLUMN_LIMITS``: keys ``form.column`` of a ranged column, values a
    number (the high bound) or ``[low, high]`` (either may be null); returns them as
    ``(low, high)``. Raises ``ValueError`` naming the first bad entry."""
    out: dict[str, Range] = {}
    for key, limit in value.items():
        form, _, name = str(key).partition(".")
        col = (
            next((c for c in FORMS[form].columns if c.name == name), None)
            if form in FORMS
            else None
        )
        if col is None or col.kind not in RANGED_KINDS:
            raise ValueError(
                f"TPA_COLUMN_LIMITS: {key!r} is not a numeric or date column "
                "(write form.column, e.g. medical.inpatient_expense)"
            )
        low, high = (None, limit) if not isinstance(limit, (tuple, list)) else tuple(limit)
        for b in (low, high):
            if b is not None and (isinstance(b, bool) or not isinstance(b, (int, float))):
                raise ValueError(f"TPA_COLUMN_LIMITS: {key!r} needs numbers, got {limit!r}")
        if low is not None and high is not None and low > high:
            raise ValueError(f"TPA_COLUMN_LIMITS: {key!r} low bound above high bound")
        out[str(key)] = (low, high)
    return out


def _frozen(overrides: Mapping[str, Range] | None) -> tuple:
    return tuple(sorted((k, tuple(v)) for k, v in (overrides or {}).items()))


def ranges(form: str, overrides: Mapping[str, Range] | None = None) -> dict[str, Range]:
    """Column name -> plausible ``(low, high)`` of ``form``: the spec's, each bound
    replaced by the override's where that is not None."""
    return _ranges(form, _frozen(overrides))


@lru_cache(maxsize=64)
def _ranges(form: str, frozen: tuple) -> dict[str, Range]:
    spec = FORMS[form]
    out = {c.name: r for c in spec.columns if (r := spec.plausible(c)) is not None}
    for key, limit in frozen:
        f, _, name = key.partition(".")
        if f == form:  # a null (or a bare number's low) keeps the spec's bound
            low, high = out.get(name, (None, None))
            out[name] = (
                low if limit[0] is None else limit[0],
                high if limit[1] is None else limit[1],
            )
    return out


def fingerprint(overrides: Mapping[str, Range] | None) -> str:
    """12 hex digits naming the overrides ('' for none): part of the extract cache key,
    since the warnings of a cached extract depend on them."""
    if not overrides:
        return ""
    text = json.dumps(_frozen(overrides))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _sheet_unit(col: Col, header: str | None) -> str:
    unit = header_unit(header)
    if unit in ("元", "万元"):
        return unit
    return "万元" if col.kind == "money" else ("元" if col.kind == "yuan" else col.unit)


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"


def range_text(col: Col, limit: Range, header: str | None = None) -> tuple[str, str]:
    """``(zh, en)`` of a range in the sheet's unit (money in 万元 or 元)."""
    low, high = limit
    unit = _sheet_unit(col, header)
    scale = 10_000 if col.kind in ("money", "yuan") and unit == "万元" else 1
    if col.kind == "date":
        unit = "年"
    lo = None if low is None or low <= 0 and col.kind != "date" else _number(low / scale)
    hi = None if high is None else _number(high / scale)
    unit_en = {"年": "", "%": "%"}.get(unit, f" {unit}" if unit else "")
    if lo and hi:
        return f"{lo}～{hi}{unit}", f"{lo} to {hi}{unit_en}"
    if hi:
        return f"不超过 {hi}{unit}", f"at most {hi}{unit_en}"
    return f"不少于 {lo}{unit}", f"at least {lo}{unit_en}"


def _staged(col: Col, value: object) -> float:
    """A typed value in the unit of the ranges (fen -> yuan, date -> year)."""
    if col.kind in ("money", "yuan"):
        return value / 100  # type: ignore[operator]
    if isinstance(value, dt.date):
        return value.year
    return value  # type: ignore[return-value]


def implausible(col: Col, value: object, limit: Range) -> bool:
    """True when ``value`` (as typed by the extract) lies outside ``limit``."""
    if value is None:
        return False
    v = _staged(col, value)
    low, high = limit
    return (low is not None and v < low) or (high is not None and v > high)


def flag_implausible(
    form: str, col_specs: dict[str, Col], typed: dict[str, list], data: list,
    header_text: dict[str, str], overrides: Mapping[str, Range] | None,
) -> None:  # fmt: skip
    """Add an ``implausible_value`` warning to each row (``sheet._Row``) whose typed value
    of a ranged column is outside its plausible range, unless that cell already has an
    error of its own (a rule across columns does not hide the warning). ``typed``: column -> values by row position (as ``extract_sheet`` builds)."""
    for name, limit in ranges(form, overrides).items():
        spec = col_specs.get(name)
        values = typed.get(name)
        if spec is None or values is None:
            continue
        hits = [i for i, v in enumerate(values) if v is not None and implausible(spec, v, limit)]
        if not hits:
            continue
        zh_r, en_r = range_text(spec, limit, header_text.get(name))
        entry = (
            (name,),
            RULE,
            f"数值超出合理范围（{zh_r}），请核对单位和位数；如确实无误可保留",
            f"implausible value (expected {en_r}); check the unit and the digits",
        )
        for i in hits:
            row = data[i]
            if not any(tuple(e[0]) == (name,) for e in row.errors):  # its own cell's error
                row.warnings.append(entry)


def storable_text(col: Col) -> str:
    """The storable range of a column's staging type, for the data dictionary."""
    if col.kind == "count":
        return f"0 to {COUNT_MAX:,} (15 digits, stored as BIGINT)"
    if col.kind in ("money", "yuan"):
        return f"±{FEN_MAX // 100:,}.99 yuan (DECIMAL(18,2))"
    if col.kind == "percent":
        return "any finite DOUBLE"
    if col.kind in ("year", "date"):
        return f"{DATE_MIN_YEAR} to {DATE_MAX_YEAR}"
    return ""
