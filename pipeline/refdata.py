"""Reference data shipped with the product (``pipeline/reference/``, sources in SOURCES.md).

Loads the CSVs as DataFrames for ``ref.*`` and resolves the county text a clerk
writes on a cover line (official name, short name, old name, 6-digit code) to
today's GB/T 2260 code. Never reads the shared spec folder at run time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import pandas as pd

REF_DIR = Path(__file__).resolve().parent / "reference"
PROVINCE_CODE = "530000"
PROVINCE_NAME_ZH = "云南省"
# How each unit code of indicator_definitions.csv is written after a Chinese figure.
UNIT_ZH = {
    "ratio": "%",
    "persons": "人",
    "households": "户",
    "villages": "个",
    "sites": "个",
    "counties": "个",
    "workshops": "个",
    "yuan": "元",
}

# Ethnic-group names that make up autonomous-county names (禄劝彝族苗族自治县 -> 禄劝).
_ETHNIC = (
    "彝族 苗族 回族 哈尼族 傣族 白族 纳西族 傈僳族 拉祜族 佤族 景颇族 布朗族 普米族 怒族 "
    "独龙族 藏族 壮族 瑶族 布依族 阿昌族 德昂族 基诺族 蒙古族 水族 满族"
).split()
_ETHNIC_RE = re.compile("(" + "|".join(sorted(_ETHNIC, key=len, reverse=True)) + ")+$")
_SEAL = re.compile(r"[(（]\s*(盖章|公章|章)\s*[)）]")


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype=str, keep_default_na=False).replace({"": None})


@cache
def counties() -> pd.DataFrame:
    """``ref.counties``: county_code, county_name_zh, county_name_en, county_type,
    prefecture_code, prefecture_name_zh, prefecture_name_en (129 rows, all text)."""
    return _read("yunnan_counties.csv")


@cache
def poverty_counties() -> pd.DataFrame:
    """``ref.poverty_counties``: the 88 national poverty counties of Yunnan, exit year/batch."""
    return _read("yunnan_poverty_counties.csv")


@cache
def county_code_changes() -> pd.DataFrame:
    """``ref.county_code_changes``: old_code/old_name_zh -> new_code/new_name_zh with dates."""
    return _read("yunnan_code_changes.csv")


@cache
def poverty_lines() -> pd.DataFrame:
    """``ref.poverty_lines`` (year INTEGER, line_yuan yuan/person/year or NULL where no
    sourced figure exists, price_basis, source, confidence) from national_poverty_line.csv."""
    df = _read("national_poverty_line.csv")
    line = pd.to_numeric(df["rural_poverty_line_yuan_per_person_year"], errors="coerce")
    return pd.DataFrame(
        {
            "year": df["year"].astype(int),
            "line_yuan": line,
            "price_basis": df["price_basis"],
            "source": df["source"],
            "confidence": df["confidence"],
        }
    )


@cache
def indicator_definitions() -> pd.DataFrame:
    """``ref.indicator_definitions``: one row per indicator code of indicators.md, plus
    ``ordinal`` (1, 2, … in the CSV's order: the column order of the wide marts)."""
    df = _read("indicator_definitions.csv")
    df["ordinal"] = range(1, len(df) + 1)
    return df


GEO_LEVELS = ("county", "prefecture", "province")


@cache
def geographies() -> pd.DataFrame:
    """``ref.geographies``: one row per county and geography it counts in — itself, its
    prefecture, the province — as (county_code, geo_level, geo_code, geo_name_zh, level_rank
    1/2/3); 3 × 129 rows. Every roll-up of the models joins it, so the province's code and
    name are stated here only (``PROVINCE_CODE``, ``PROVINCE_NAME_ZH``)."""
    c = counties()
    parts = [
        (c["county_code"], c["county_name_zh"]),
        (c["prefecture_code"], c["prefecture_name_zh"]),
        (PROVINCE_CODE, PROVINCE_NAME_ZH),
    ]
    frames = [
        pd.DataFrame(
            {
                "county_code": c["county_code"],
                "geo_level": level,
                "geo_code": code,
                "geo_name_zh": name,
                "level_rank": rank,
            }
        )
        for rank, (level, (code, name)) in enumerate(zip(GEO_LEVELS, parts, strict=True), 1)
    ]
    return pd.concat(frames, ignore_index=True)


def forms() -> pd.DataFrame:
    """``ref.forms``: one row per report form of ``schemas.FORMS`` (form, ordinal 1–9 in
    the forms' order, table_no, title_zh, grain), so that no model lists the forms."""
    from schemas import FORMS

    return pd.DataFrame(
        [
            (f.code, i, f.table_no, f.title_zh, f.grain)
            for i, f in enumerate(FORMS.values(), start=1)
        ],
        columns=["form", "ordinal", "table_no", "title_zh", "grain"],
    )


AF_PARAMETER_COLUMNS = ("k", "w_food_clothing", "w_education", "w_medical", "w_housing", "w_water")


@cache
def af_parameters() -> pd.DataFrame:
    """``ref.af_parameters``: the one-row Alkire–Foster settings of af_parameters.csv —
    poverty cut-off ``k`` and the weight of each of the five ledger dimensions, all
    DOUBLE. The CSV may write exact fractions (``1/3``, ``1/5``) or decimals; the models
    normalise the weights by their sum."""
    df = _read("af_parameters.csv")
    if len(df) != 1 or tuple(df.columns) != AF_PARAMETER_COLUMNS:
        raise ValueError(f"af_parameters.csv: one row of {', '.join(AF_PARAMETER_COLUMNS)}")
    return pd.DataFrame({c: [float(Fraction(df.at[0, c].strip()))] for c in AF_PARAMETER_COLUMNS})


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    text = _SEAL.sub("", text)
    return re.sub(r"\s+", "", text).strip(":：")


def short_names(official: str) -> set[str]:
    """Names a clerk may write for a county: 禄劝彝族苗族自治县 -> {禄劝县, 禄劝}."""
    names = {official}
    stem = official
    if stem.endswith("自治县"):
        stem = _ETHNIC_RE.sub("", stem[: -len("自治县")])
    elif stem[-1:] in ("县", "区", "市"):
        stem = stem[:-1]
    if len(stem) >= 2:  # 云县 -> 云 would be ambiguous
        names |= {stem, stem + "县"}
    return names


@dataclass(frozen=True)
class CountyResolver:
    """Maps cover-line county text to today's 6-digit code (``ref.counties``)."""

    by_name: dict[str, str]
    codes: frozenset[str]
    old_codes: dict[str, str]

    def resolve(self, text: str | None) -> str | None:
        """Today's county code for ``text``, or None when it cannot be resolved exactly."""
        if text is None:
            return None
        t = _clean(text)
        if not t:
            return None
        if re.fullmatch(r"\d{6}", t):
            return t if t in self.codes else self.old_codes.get(t)
        if t in self.by_name:
            return self.by_name[t]
        # "云南省昆明市禄劝县": take the longest known name the text ends with
        for cut in range(1, len(t) - 1):
            if t[cut:] in self.by_name:
                return self.by_name[t[cut:]]
        return None


@cache
def resolver() -> CountyResolver:
    """Build the resolver; a short name claimed by two counties is dropped (ambiguous)."""
    seen: dict[str, set[str]] = {}
    for code, name in counties()[["county_code", "county_name_zh"]].itertuples(index=False):
        for n in short_names(name):
            seen.setdefault(n, set()).add(code)
    old: dict[str, str] = {}
    for row in county_code_changes().itertuples(index=False):
        old[row.old_code] = row.new_code
        for n in short_names(row.old_name_zh):
            seen.setdefault(n, set()).add(row.new_code)
    by_name = {n: next(iter(c)) for n, c in seen.items() if len(c) == 1}
    return CountyResolver(by_name, frozenset(counties()["county_code"]), old)


@cache
def valid_village_prefixes(county_code: str, period: str) -> frozenset[str]:
    """County codes a village code may start with in ``period`` ('YYYY-MM').

    Today's code, and an old code where the change had not happened yet: a 2019
    village of 澄江 starts 530422 though the county is 530481 today
    (``ref.county_code_changes``; between the last snapshot with the old code and
    the first with the new one both are accepted).
    """
    out = {county_code}
    for row in county_code_changes().itertuples(index=False):
        if row.new_code != county_code:
            continue
        first_new = (row.first_nbs_code_set_with_new_code or "")[:7]
        if not first_new or period <= first_new:
            out.add(row.old_code)
    return frozenset(out)
