"""The numbers of the sample: per period, per form, per county, the data rows.

A plan row is a dict keyed by the form's canonical column names (``schemas``):
counts are ``int``, money is ``int`` yuan (whole hundreds: 万元 with 2 decimals),
``is_poverty_village`` a ``bool``, ``completion_date`` a ``datetime.date`` or None,
``poverty_incidence`` percentage points (float, 2 decimals), text a ``str``.

Province totals come from ``TARGETS`` (the published figures, indicators.md) and are
split over counties, townships and rows by ``alloc.allocate``, so the data rows add
up to them exactly. Each (period, form) draws from its own random stream: a form or
period added later (register it in ``BUILDERS`` and ``TARGETS``) leaves the others'
numbers unchanged.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from pipeline.sample.alloc import allocate, county_weights, normalise_share, rng
from pipeline.sample.geo import County, counties

Rows = list[dict]
FormPlan = dict[str, Rows]  # county code -> data rows (counties without the form absent)

KEY_GROUPS = ("registered", "subsistence", "extreme_poor", "disabled")

# Published province figures per period (indicators.md, "Published reference figures").
TARGETS: dict[str, dict[str, dict]] = {
    "2019-12": {
        "population": {"poverty_villages": 8502},
        "relocation": {"counties": 53, "sites": 201, "sites_completed": 121, "clear_zero": 26},
        "housing": {
            "key_completed": 374_900,
            "key_rate": 0.9967,
            "other_completed": 208_100,
            "other_rate": 0.7525,
        },
        "medical": {"reimbursement_range": (0.88, 0.92)},
        "water": {
            "counties": 37,
            "zero_counties": 12,
            "resolved_households": 10_321,
            "unsafe_households_end": 41_393,
        },
    },
}


@dataclass(frozen=True)
class Context:
    """What a form builder sees: seed, period, counties, targets, forms built so far."""

    seed: int
    period: str
    counties: tuple[County, ...]
    targets: dict
    built: dict[str, FormPlan]

    def rng(self, form: str, *keys: str) -> np.random.Generator:
        return rng(self.seed, self.period, form, *keys)

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def period_end(self) -> dt.date:
        return period_end(self.period)


def period_end(period: str) -> dt.date:
    """The statistics date of a period: its last day (``2019-12`` -> 2019-12-31)."""
    y, m = int(period[:4]), int(period[5:7])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def planned_for_rate(completed: int, rate: float) -> int:
    """The whole-number denominator nearest ``completed / rate`` for which
    ``round(completed / planned, 4) == rate`` (e.g. 374900, 0.9967 -> 376141)."""
    guess = round(completed / rate)
    for d in sorted(range(-50, 51), key=abs):
        if round(completed / (guess + d), 4) == rate:
            return guess + d
    raise ValueError(f"no denominator gives {completed}/x = {rate}")


def _pick(gen, cs: tuple[County, ...], n: int, poverty_odds: float = 8.0) -> list[County]:
    """``n`` counties without replacement, poverty counties ``poverty_odds`` times as
    likely as other counties, city districts half as likely; returned in code order."""
    p = np.array(
        [poverty_odds if c.poverty else 0.5 if c.county_type == "district" else 1.0 for c in cs]
    )
    idx = gen.choice(len(cs), size=n, replace=False, p=p / p.sum())
    return [cs[i] for i in sorted(idx)]


# ---------------------------------------------------------------- population (表1)


def _remaining_share(c: County, year: int) -> tuple[float, float]:
    """Range of the not-yet-lifted share of registered households in a county's
    villages: small once the county has exited, larger for the last batches."""
    left = (c.exit_year or 2018) - year
    if left < 0:
        return (0.005, 0.03)
    if left == 0:
        return (0.01, 0.06)
    if left == 1:
        return (0.12, 0.3)
    return (0.2, 0.4)


def _village_row(gen, c: County, prefix: str, twn, vil, is_pov: bool, year: int) -> dict:
    """One village: households, population, registered/exited/remaining (rules of
    forms.md hold by construction) and the incidence in percentage points."""
    hh = int(np.clip(gen.lognormal(np.log(550), 0.45), 80, 3000))
    pop = round(hh * gen.uniform(3.4, 4.3))
    if is_pov:
        share = gen.uniform(0.25, 0.55)
    else:
        share = gen.uniform(0.06, 0.22) if c.poverty else gen.uniform(0.01, 0.08)
    reg_h = round(hh * share)
    reg_p = min(pop, max(reg_h, round(reg_h * gen.uniform(3.6, 4.5))))
    rem_h = round(reg_h * gen.uniform(*_remaining_share(c, year)))
    ex_h = reg_h - rem_h
    rem_p = round(rem_h * reg_p / reg_h) if reg_h else 0
    rem_p = min(max(rem_p, rem_h), reg_p - ex_h)  # persons ≥ households on both sides
    return {
        "township": twn.name,
        "village": vil.name,
        "village_code": prefix + vil.code_suffix,
        "is_poverty_village": bool(is_pov),
        "total_households": hh,
        "total_population": pop,
        "registered_households": reg_h,
        "registered_persons": reg_p,
        "exited_households": ex_h,
        "exited_persons": reg_p - rem_p,
        "remaining_households": rem_h,
        "remaining_persons": rem_p,
        "poverty_incidence": round(rem_p / pop * 100, 2),
    }


def build_population(ctx: Context) -> FormPlan:
    """Every village of every county; exactly ``poverty_villages`` marked 是."""
    gen = ctx.rng("population")
    cs = ctx.counties
    n_vil = np.array([len(c.villages) for c in cs])
    w = n_vil * np.array([1.0 if c.poverty else 0.12 for c in cs]) * gen.lognormal(0, 0.2, len(cs))
    n_pov = allocate(ctx.targets["poverty_villages"], w, caps=n_vil)
    out: FormPlan = {}
    for c, nv, k in zip(cs, n_vil, n_pov, strict=True):
        flags = np.zeros(nv, dtype=bool)
        flags[gen.choice(nv, size=int(k), replace=False)] = True
        prefix = c.code_in(ctx.period)
        out[c.code] = [
            _village_row(gen, c, prefix, t, v, f, ctx.year)
            for (t, v), f in zip(c.villages, flags, strict=True)
        ]
    return out


# ---------------------------------------------------------------- housing (表3)


def build_housing(ctx: Context) -> FormPlan:
    """One row per township in every county.

    Planned totals follow from the published completed counts and rates
    (``planned_for_rate``); planned is split over (county, township, group) cells,
    then the shortfall (planned − completed) over the same cells, capped by each
    cell's planned, so completed ≤ planned everywhere and all sums are exact.
    """
    t = ctx.targets
    gen = ctx.rng("housing")
    cs = ctx.counties
    pov = [c.poverty for c in cs]
    cw = normalise_share(county_weights(gen, pov), pov)
    cw_other = normalise_share(cw * gen.lognormal(0, 0.3, len(cs)), pov)
    cells: list[tuple[int, int, str]] = []  # (county index, township index, group)
    w_key: list[float] = []
    w_other: list[float] = []
    for i, c in enumerate(cs):
        tw = gen.lognormal(0, 0.5, len(c.townships))
        tw /= tw.sum()
        mix = gen.dirichlet([12.0, 4.0, 1.2, 2.4])  # registered, 低保, 特困, 残疾
        for j in range(len(c.townships)):
            for g, share in zip(KEY_GROUPS, mix, strict=True):
                cells.append((i, j, g))
                w_key.append(cw[i] * tw[j] * share)
                w_other.append(0.0)
            cells.append((i, j, "other"))
            w_key.append(0.0)
            w_other.append(cw_other[i] * tw[j])
    out: FormPlan = {c.code: [_housing_row(tw.name) for tw in c.townships] for c in cs}
    for kind, weights in (("key", w_key), ("other", w_other)):
        completed = t[f"{kind}_completed"]
        planned = allocate(planned_for_rate(completed, t[f"{kind}_rate"]), weights)
        gap_w = planned * gen.lognormal(0, 1.2, len(planned))
        gap = allocate(int(planned.sum()) - completed, gap_w, caps=planned)
        for (i, j, g), p, s in zip(cells, planned, gap, strict=True):
            if (g == "other") != (kind == "other"):
                continue
            row = out[cs[i].code][j]
            row[f"{g}_planned"] = int(p)
            row[f"{g}_completed"] = int(p - s)
    return out


def _housing_row(township: str) -> dict:
    row: dict = {"township": township}
    for g in (*KEY_GROUPS, "other"):
        row[f"{g}_planned"] = 0
        row[f"{g}_completed"] = 0
    return row


# ---------------------------------------------------------------- medical (表4)


def build_medical(ctx: Context) -> FormPlan:
    """One row per township; registered persons = the population form's township sum,
    fully insured (100% coverage); inpatient money in whole hundreds of yuan."""
    gen = ctx.rng("medical")
    lo, hi = ctx.targets["reimbursement_range"]
    out: FormPlan = {}
    for c in ctx.counties:
        reg: dict[str, int] = {}
        for r in ctx.built["population"][c.code]:
            reg[r["township"]] = reg.get(r["township"], 0) + r["registered_persons"]
        rows = []
        for twn in c.townships:
            n = reg.get(twn.name, 0)
            admissions = n * gen.uniform(0.10, 0.18)
            expense_h = round(admissions * gen.uniform(4000, 7000) / 100)  # hundreds of yuan
            reimbursed_h = int(expense_h * gen.uniform(lo, hi))
            rows.append(
                {
                    "township": twn.name,
                    "registered_persons": n,
                    "basic_insured_persons": n,
                    "serious_illness_insured_persons": n,
                    "medical_assistance_cases": round(n * gen.uniform(0.08, 0.2)),
                    "inpatient_expense": expense_h * 100,
                    "inpatient_reimbursed": reimbursed_h * 100,
                }
            )
        out[c.code] = rows
    return out


# ---------------------------------------------------------------- water (表5)


def build_water(ctx: Context) -> FormPlan:
    """``counties`` counties, one row per village with unsafe households at the start.

    ``zero_counties`` of them resolve everything (end = 0 on every row); the others
    share ``unsafe_households_end``; all share ``resolved_households``. Per row
    end = start − resolved, persons = households × a household size ≥ 1.
    """
    t = ctx.targets
    gen = ctx.rng("water")
    picked = _pick(gen, ctx.counties, t["counties"])
    zero_idx = set(gen.choice(len(picked), size=t["zero_counties"], replace=False).tolist())
    is_zero = np.array([i in zero_idx for i in range(len(picked))])
    w = county_weights(gen, [c.poverty for c in picked])
    resolved = allocate(t["resolved_households"], w, floor=1)
    end = np.zeros(len(picked), dtype=np.int64)
    end[~is_zero] = allocate(
        t["unsafe_households_end"], w[~is_zero] * gen.lognormal(0, 0.5, (~is_zero).sum()), floor=10
    )
    out: FormPlan = {}
    for c, res_c, end_c in zip(picked, resolved, end, strict=True):
        out[c.code] = _water_rows(gen, c, int(res_c), int(end_c))
    return out


def _water_rows(gen, c: County, resolved: int, end: int) -> Rows:
    start = resolved + end
    villages = c.villages
    n = int(np.clip(round(start / gen.uniform(15, 60)), 1, min(len(villages), start)))
    chosen = sorted(gen.choice(len(villages), size=n, replace=False).tolist())
    start_r = allocate(start, gen.lognormal(0, 0.7, n), floor=1)
    res_r = allocate(resolved, start_r * gen.lognormal(0, 0.7, n), caps=start_r)
    rows = []
    for k, s, r in zip(chosen, start_r, res_r, strict=True):
        twn, vil = villages[k]
        size = gen.uniform(3.2, 4.4)
        res_p, end_p = round(int(r) * size), round(int(s - r) * size)
        rows.append(
            {
                "township": twn.name,
                "village": vil.name,
                "unsafe_households_start": int(s),
                "unsafe_persons_start": res_p + end_p,
                "resolved_households": int(r),
                "resolved_persons": res_p,
                "unsafe_households_end": int(s - r),
                "unsafe_persons_end": end_p,
            }
        )
    return rows


# ---------------------------------------------------------------- relocation (表2)

_URBAN_SUFFIXES = ("幸福家园", "安居苑", "康居小区", "新区安置点", "易地扶贫搬迁安置区")


def build_relocation(ctx: Context) -> FormPlan:
    """``counties`` counties with ``sites`` centralized sites, ``sites_completed`` of
    them complete, ``clear_zero`` counties with every row complete.

    The clear-zero counties get S_c sites (all complete); the others 201 − S_c, of
    which 80 (= sites − sites_completed) are incomplete, at least one per county, so
    those counties are not at clear zero. Some counties add one scattered row per
    township for a few townships.
    """
    t = ctx.targets
    gen = ctx.rng("relocation")
    picked = _pick(gen, ctx.counties, t["counties"])
    w = county_weights(gen, [c.poverty for c in picked])
    # smaller programmes are likelier to be finished
    p_clear = (1 / w) / (1 / w).sum()
    clear_idx = gen.choice(len(picked), size=t["clear_zero"], replace=False, p=p_clear)
    clear = np.isin(np.arange(len(picked)), clear_idx)
    n_open, n_incomplete = (~clear).sum(), t["sites"] - t["sites_completed"]
    s_clear = round(t["sites"] * w[clear].sum() / w.sum())
    s_clear = int(np.clip(s_clear, clear.sum(), t["sites_completed"]))
    sites = np.zeros(len(picked), dtype=np.int64)
    sites[clear] = allocate(s_clear, w[clear], floor=1)
    sites[~clear] = allocate(t["sites"] - s_clear, w[~clear], floor=1)
    incomplete = np.zeros(len(picked), dtype=np.int64)
    incomplete[~clear] = allocate(n_incomplete, w[~clear], caps=sites[~clear], floor=1)
    if n_open and (incomplete[~clear] == 0).any():
        raise AssertionError("a county not at clear zero needs an incomplete site")
    out: FormPlan = {}
    for i, c in enumerate(picked):
        out[c.code] = _relocation_rows(gen, ctx, c, int(sites[i]), int(incomplete[i]), clear[i])
    return out


def _relocation_rows(gen, ctx: Context, c: County, n_sites: int, n_incomplete: int, clear) -> Rows:
    towns = c.townships
    bad = set(gen.choice(n_sites, size=n_incomplete, replace=False).tolist())
    sites = []
    for k in range(n_sites):
        j = 0 if k == 0 else int(gen.integers(len(towns)))  # first site at the county seat
        urban = k == 0 or gen.random() < 0.5
        sites.append((j, not urban, k, urban, k not in bad))
    sites.sort()  # by township, urban first, then draw order
    taken: set[str] = set()
    rows = []
    for j, _, _, urban, complete in sites:
        twn = towns[j]
        if urban:
            name = twn.name[:-1] + _URBAN_SUFFIXES[int(gen.integers(len(_URBAN_SUFFIXES)))]
            hh = int(np.clip(gen.lognormal(np.log(350), 0.8), 30, 6000))
        else:
            vil = twn.villages[int(gen.integers(len(twn.villages)))]
            name = vil.name.removesuffix("村").removesuffix("社区") + "安置点"
            hh = int(np.clip(gen.lognormal(np.log(60), 0.5), 10, 400))
        rows.append(
            _site_row(gen, ctx, _unique(name, taken), twn.name, "集中", urban, hh, complete)
        )
    if gen.random() < 0.55:  # scattered resettlement, one row per township
        n = int(gen.integers(1, min(4, len(towns)) + 1))
        for j in sorted(gen.choice(len(towns), size=n, replace=False).tolist()):
            hh = int(gen.integers(5, 121))
            complete = bool(clear) or gen.random() < 0.6
            name = _unique(towns[j].name + "分散安置", taken)
            rows.append(_site_row(gen, ctx, name, towns[j].name, "分散", None, hh, complete))
    return rows


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name`` + 二期/三期/… where a site of that name already exists."""
    stem, n = name, 1
    while name in taken:
        n += 1
        name = stem + ("二期", "三期", "四期", "五期")[n - 2] if n <= 5 else f"{stem}{n}期"
    taken.add(name)
    return name


def _site_row(gen, ctx: Context, name, township, mode, urban, hh: int, complete: bool) -> dict:
    """One site or scattered row; one housing unit per household. A complete row has
    every unit started and completed (centralized: with a completion date); an
    incomplete one has completed < planned."""
    persons = round(hh * gen.uniform(3.5, 4.6))
    if complete:
        started = done = hh
        moved = round(hh * gen.uniform(0.9, 1.0))
        days = int(gen.integers(10, 640))
        date = ctx.period_end - dt.timedelta(days=days) if mode == "集中" else None
    else:
        started = max(1, round(hh * gen.uniform(0.6, 1.0)))
        done = min(hh - 1, round(started * gen.uniform(0.0, 0.95)))
        moved = round(done * gen.uniform(0.5, 1.0))
        date = None
    return {
        "site_name": name,
        "township": township,
        "resettlement_mode": mode,
        "resettlement_area": None if urban is None else ("城镇" if urban else "乡村"),
        "planned_households": hh,
        "planned_persons": persons,
        "registered_persons": round(persons * gen.uniform(0.8, 1.0)),
        "planned_units": hh,
        "started_units": started,
        "completed_units": done,
        "moved_in_households": moved,
        "moved_in_persons": round(moved * persons / hh),
        "completion_date": date,
    }


# ---------------------------------------------------------------- the plan

# Build order matters: medical reads the population form of the same period.
BUILDERS: dict[str, Callable[[Context], FormPlan]] = {
    "population": build_population,
    "relocation": build_relocation,
    "housing": build_housing,
    "medical": build_medical,
    "water": build_water,
}


@cache
def build(seed: int, period: str) -> dict[str, FormPlan]:
    """``{form: {county_code: rows}}`` for one period (cached: treat as read-only)."""
    if period not in TARGETS:
        raise ValueError(f"no sample targets for period {period!r}; known: {sorted(TARGETS)}")
    built: dict[str, FormPlan] = {}
    cs = counties(seed)
    for form, targets in TARGETS[period].items():
        built[form] = BUILDERS[form](Context(seed, period, cs, targets, built))
    return built


def _sum(plan: FormPlan, col: str) -> int:
    return sum(r[col] for rows in plan.values() for r in rows)


def summarise(plan: dict[str, FormPlan]) -> dict:
    """Province totals of one period's plan (sums of data rows; money in yuan)."""
    pop, hou, med, wat, rel = (
        plan.get(f, {}) for f in ("population", "housing", "medical", "water", "relocation")
    )
    out: dict = {"counties": {f: len(p) for f, p in plan.items()}}
    if pop:
        out |= {
            "population_villages": sum(len(r) for r in pop.values()),
            "population_poverty_villages": _sum(pop, "is_poverty_village"),
            **{
                f"population_{c}": _sum(pop, c)
                for c in ("total_population", "registered_persons", "remaining_persons")
            },
        }
    if hou:
        for s in ("planned", "completed"):
            out[f"housing_key_{s}"] = sum(_sum(hou, f"{g}_{s}") for g in KEY_GROUPS)
            out[f"housing_other_{s}"] = _sum(hou, f"other_{s}")
    if med:
        for col in (
            "registered_persons",
            "basic_insured_persons",
            "serious_illness_insured_persons",
            "inpatient_expense",
            "inpatient_reimbursed",
        ):
            out[f"medical_{col}"] = _sum(med, col)
    if wat:
        for col in ("unsafe_households_start", "resolved_households", "unsafe_households_end"):
            out[f"water_{col}"] = _sum(wat, col)
        out["water_zero_counties"] = sum(
            1 for rows in wat.values() if sum(r["unsafe_households_end"] for r in rows) == 0
        )
    if rel:
        central = [r for rows in rel.values() for r in rows if r["resettlement_mode"] == "集中"]
        out["relocation_sites"] = len(central)
        out["relocation_sites_completed"] = sum(
            r["completed_units"] == r["planned_units"] for r in central
        )
        out["relocation_clear_zero"] = sum(
            _sum({"": rows}, "completed_units") == _sum({"": rows}, "planned_units")
            for rows in rel.values()
        )
        out["relocation_planned_units"] = _sum(rel, "planned_units")
        out["relocation_completed_units"] = _sum(rel, "completed_units")
    return out
