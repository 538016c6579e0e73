"""Seeded, deterministic sample data: one workbook per Yunnan county per period.

``generate`` writes the 129 county workbooks whose data rows add up exactly to the
published 2019 province figures (indicators.md); ``known_totals`` gives those totals
and the data-row counts per file from the generator's own plan, without reading the
files. The numbers live in ``plan``, the county geography in ``geo``, the sheet
layout in ``layout``.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.sample import plan
from pipeline.sample.alloc import rng
from pipeline.sample.geo import County, counties
from pipeline.sample.layout import write_workbook

DEFAULT_PERIODS = ("2019-12",)


def file_name(county: County, period: str) -> str:
    """``<county_code>_<official name>_<YYYY-MM>.xlsx`` (forms.md's recommended name)."""
    return f"{county.code}_{county.name}_{period}.xlsx"


def _county_forms(built: dict, code: str) -> dict[str, list[dict]]:
    return {form: rows[code] for form, rows in built.items() if code in rows}


def generate(
    out_dir: Path, seed: int = 2019, periods: tuple[str, ...] = DEFAULT_PERIODS
) -> list[Path]:
    """Write one workbook per Yunnan county per period into
    ``out_dir/<period>/<code>_<name>_<period>.xlsx``; return the paths (sorted).

    Same seed and periods give byte-identical files. Raises ValueError for a period
    without sample targets.
    """
    out_dir = Path(out_dir)
    paths = []
    for period in periods:
        built = plan.build(seed, period)
        folder = out_dir / period
        folder.mkdir(parents=True, exist_ok=True)
        for c in counties(seed):
            path = folder / file_name(c, period)
            gen = rng(seed, period, "layout", c.code)
            write_workbook(path, c, plan.period_end(period), _county_forms(built, c.code), gen)
            paths.append(path)
    return sorted(paths)


def known_totals(seed: int = 2019, periods: tuple[str, ...] = DEFAULT_PERIODS) -> dict:
    """The province totals the generated data reproduces, from the plan (not the files).

    ``{period: {"housing_key_completed": 374900, ..., "counties": {form: n}},
    "rows": {file name: {form: data rows}}}``; money totals in yuan.
    """
    out: dict = {"rows": {}}
    for period in periods:
        built = plan.build(seed, period)
        out[period] = plan.summarise(built)
        for c in counties(seed):
            forms = _county_forms(built, c.code)
            out["rows"][file_name(c, period)] = {f: len(rows) for f, rows in forms.items()}
    return out


__all__ = ["generate", "known_totals"]
