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

Periods and forms (``TARGETS``):

- ``2019-12``: all nine forms. Published (exact): housing, water (37 counties),
  relocation (53 counties), medical coverage 100%, 8,502 poverty villages. Not
  published, plausible and invented: education, employment, infrastructure (every
  poverty village keeps every facility it had in 2018), medical reimbursement in
  88–92%.
- ``2018-12``: all nine forms. Published (exact): medical reimbursement 90.50%, the
  8,502 poverty villages all with every facility (infrastructure), employment's five
  totals. Derived from the 2019 plan so the two periods tell one story: the
  population form has the same villages, poverty villages and registered households
  and persons, with more households still poor (higher incidence); water's 2018
  end = 2019 start village by village (plus counties already at zero in 2018);
  relocation has the same sites at their 2018 progress. Invented (not published):
  housing's 2018 tasks, education, the water counts resolved in 2018.

The household ledger (表9) is not part of this plan: ``devkit.sample.ledger``
builds it from the population forms of both periods.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from devkit.sample.alloc import allocate, county_weights, normalise_share, rng
from devkit.sample.geo import County, counties
from schemas.housing import KEY_GROUPS
from schemas.infrastructure import FACILITIES

Rows = list[dict]
FormPlan = dict[str, Rows]  # county code -> data rows (counties without the form absent)

# Counties whose registered households are set to a documented size, not drawn: 镇雄县
# had 560,000 registered poor persons, the most of any county in China
# (reference/yunnan_county_figures.csv), about 133,000 households. Without it no county
# would reach the province-scale ledger's 50,000 households (issue 6).
COUNTY_REGISTERED_HOUSEHOLDS = {"530627": 133_000}

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
        # not published: plausible, invented
        "education": {
            "children_share": (0.14, 0.20),
            "dropout_rate": (0.0005, 0.004),
            "return_rate": (0.92, 1.0),
        },
        "employment": {  # invented 2019 totals, a little above 2018's
            "ecological_rangers": 60_900,
            "workshops": 412,
            "workshop_employed": 7_640,
            "public_welfare_jobs": 121_500,
            "migrant_employed": 745_800,
        },
        "infrastructure": {"all_facilities": True},
    },
    "2018-12": {
        # same villages, poverty villages and registered poor as 2019; more remaining
        "population": {"poverty_villages": 8502, "from": "2019-12"},
        # the 2019 sites at their progress on 2018-12-31
        "relocation": {"counties": 53, "sites": 201, "from": "2019-12"},
        # invented (not published): the 2018 renovation tasks
        "housing": {
            "key_completed": 191_700,
            "key_rate": 0.9815,
            "other_completed": 96_400,
            "other_rate": 0.8123,
        },
        "medical": {"reimbursement_rate": 0.9050},  # published
        # 2018 end = 2019 start per village; invented: resolved in 2018, counties
        # that reached zero in 2018 (and so do not report in 2019)
        "water": {"from": "2019-12", "extra_counties": 9, "resolved_households": 43_600},
        "education": {  # invented
            "children_share": (0.14, 0.20),
            "dropout_rate": (0.001, 0.008),
            "return_rate": (0.75, 0.95),
        },
        "employment": {  # published
            "ecological_rangers": 56_200,
            "workshops": 306,
            "workshop_employed": 5_285,
            "public_welfare_jobs": 104_300,
            "migrant_employed": 693_300,
        },
        "infrastructure": {"all_facilities": True},  # published: all 8,502 complete
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


def _village_row(
    gen, c: County, prefix: str, twn, vil, is_pov: bool, year: int, scale: float = 1.0
) -> dict:
    """One village: households, population, registered/exited/remaining (rules of
    forms.md hold by construction) and the incidence in percentage points. ``scale``
    multiplies the village's households (same draws, so the stream is not shifted)."""
    hh = round(int(np.clip(gen.lognormal(np.log(550), 0.45), 80, 3000)) * scale)
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
    """Every village of every county; exactly ``poverty_villages`` marked 是.

    A county of ``COUNTY_REGISTERED_HOUSEHOLDS`` is drawn twice from the same stream
    state: once as usual, then with its villages' households scaled so that its
    registered households come to about the documented number.
    """
    if "from" in ctx.targets:
        return _population_from(ctx, build(ctx.seed, ctx.targets["from"])["population"])
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
        state = gen.bit_generator.state
        rows = [
            _village_row(gen, c, prefix, t, v, f, ctx.year)
            for (t, v), f in zip(c.villages, flags, strict=True)
        ]
        if c.code in COUNTY_REGISTERED_HOUSEHOLDS:
            scale = COUNTY_REGISTERED_HOUSEHOLDS[c.code] / sum(
                r["registered_households"] for r in rows
            )
            gen.bit_generator.state = state
            rows = [
                _village_row(gen, c, prefix, t, v, f, ctx.year, scale)
                for (t, v), f in zip(c.villages, flags, strict=True)
            ]
        out[c.code] = rows
    return out


def _population_from(ctx: Context, base: FormPlan) -> FormPlan:
    """An earlier period of ``base``: same villages, flags, households, population and
    registered poor; remaining households at least ``base``'s (the period's remaining
    share of ``_remaining_share``). The households that exit between the two periods
    take the village's mean household size, bounded so exited persons ≥ exited
    households on both sides."""
    gen = ctx.rng("population")
    out: FormPlan = {}
    for c in ctx.counties:
        lo, hi = _remaining_share(c, ctx.year)
        prefix = c.code_in(ctx.period)
        rows = []
        for r in base[c.code]:
            reg_h, reg_p = r["registered_households"], r["registered_persons"]
            rem_h = max(r["remaining_households"], round(reg_h * gen.uniform(lo, hi)))
            moved = rem_h - r["remaining_households"]  # households that exit later
            slack = r["exited_persons"] - r["exited_households"]
            p_moved = min(max(round(moved * reg_p / reg_h) if reg_h else 0, moved), moved + slack)
            rem_p = r["remaining_persons"] + p_moved
            rows.append(
                r
                | {
                    "village_code": prefix + r["village_code"][6:],
                    "exited_households": reg_h - rem_h,
                    "exited_persons": reg_p - rem_p,
                    "remaining_households": rem_h,
                    "remaining_persons": rem_p,
                    "poverty_incidence": round(rem_p / r["total_population"] * 100, 2),
                }
            )
        out[c.code] = rows
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


def _township_registered(ctx: Context, c: County) -> dict[str, int]:
    """Registered poor persons per township of the period's population form."""
    reg: dict[str, int] = {}
    for r in ctx.built["population"][c.code]:
        reg[r["township"]] = reg.get(r["township"], 0) + r["registered_persons"]
    return reg


def build_medical(ctx: Context) -> FormPlan:
    """One row per township; registered persons = the population form's township sum,
    fully insured (100% coverage); inpatient money in whole hundreds of yuan.

    With a target ``reimbursement_rate`` (2018) the province's reimbursed total is
    ``round(rate × expense)`` exactly, re-split over townships (each ≤ its expense)."""
    gen = ctx.rng("medical")
    rate = ctx.targets.get("reimbursement_rate")
    lo, hi = ctx.targets.get("reimbursement_range", (rate - 0.03, rate + 0.03) if rate else None)
    out: FormPlan = {}
    for c in ctx.counties:
        reg = _township_registered(ctx, c)
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
    if rate is not None:
        rows = [r for c in ctx.counties for r in out[c.code]]
        expense_h = np.array([r["inpatient_expense"] // 100 for r in rows])
        weights = np.array([r["inpatient_reimbursed"] for r in rows], dtype=float)
        total_h = round(rate * int(expense_h.sum()))
        for r, h in zip(rows, allocate(total_h, weights, caps=expense_h), strict=True):
            r["inpatient_reimbursed"] = int(h) * 100
    return out


# ---------------------------------------------------------------- water (表5)


def build_water(ctx: Context) -> FormPlan:
    """``counties`` counties, one row per village with unsafe households at the start.

    ``zero_counties`` of them resolve everything (end = 0 on every row); the others
    share ``unsafe_households_end``; all share ``resolved_households``. Per row
    end = start − resolved, persons = households × a household size ≥ 1.
    """
    t = ctx.targets
    if "from" in t:
        return _water_before(ctx, build(ctx.seed, t["from"])["water"])
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


def _water_before(ctx: Context, later: FormPlan) -> FormPlan:
    """The period before ``later``: every village of ``later`` ends where ``later``
    starts; ``extra_counties`` other counties resolve all their unsafe households in
    this period (end 0, so they do not report later); ``resolved_households`` is
    split over all rows (≥ 1 in the extra counties' rows)."""
    t = ctx.targets
    gen = ctx.rng("water")
    others = tuple(c for c in ctx.counties if c.code not in later)
    extra = _pick(gen, others, t["extra_counties"])
    cells: list[tuple[County, dict | None, tuple | None]] = []
    for c in ctx.counties:
        if c.code in later:
            cells += [(c, r, None) for r in later[c.code]]
        elif c in extra:
            n = int(gen.integers(1, 7))
            for k in sorted(gen.choice(len(c.villages), size=n, replace=False).tolist()):
                cells.append((c, None, c.villages[k]))
    end = np.array([r["unsafe_households_start"] if r else 0 for _, r, _ in cells])
    floor = np.array([0 if r else 1 for _, r, _ in cells])
    resolved = allocate(
        t["resolved_households"], (end + 20) * gen.lognormal(0, 0.6, len(cells)), floor=floor
    )
    out: FormPlan = {}
    for (c, r, vil), res in zip(cells, resolved, strict=True):
        res = int(res)
        size = gen.uniform(3.2, 4.4)
        res_p = round(res * size)
        if r is None:
            twn, v = vil
            row = {
                "township": twn.name,
                "village": v.name,
                "unsafe_households_end": 0,
                "unsafe_persons_end": 0,
            }
        else:
            row = {
                "township": r["township"],
                "village": r["village"],
                "unsafe_households_end": r["unsafe_households_start"],
                "unsafe_persons_end": r["unsafe_persons_start"],
            }
        row |= {
            "unsafe_households_start": row["unsafe_households_end"] + res,
            "unsafe_persons_start": row["unsafe_persons_end"] + res_p,
            "resolved_households": res,
            "resolved_persons": res_p,
        }
        out.setdefault(c.code, []).append({k: row[k] for k in _WATER_COLUMNS})
    return out


_WATER_COLUMNS = (
    "township",
    "village",
    "unsafe_households_start",
    "unsafe_persons_start",
    "resolved_households",
    "resolved_persons",
    "unsafe_households_end",
    "unsafe_persons_end",
)


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
    if "from" in t:
        return _relocation_before(ctx, build(ctx.seed, t["from"])["relocation"])
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


def _relocation_before(ctx: Context, later: FormPlan) -> FormPlan:
    """The sites of ``later`` at the end of this period: a site completed (竣工时间)
    by the period end is as later (fewer moved in); any other site has fewer units
    started and completed (never all), no completion date. Scattered rows complete
    later are complete now with odds 1/2."""
    gen = ctx.rng("relocation")
    end = ctx.period_end
    out: FormPlan = {}
    for code, rows in later.items():
        new = []
        for r in rows:
            hh, done = r["planned_households"], r["completed_units"]
            complete = done == r["planned_units"] and (
                r["completion_date"] <= end
                if r["completion_date"] is not None
                else gen.random() < 0.5
            )
            if complete:
                moved = round(r["moved_in_households"] * gen.uniform(0.8, 1.0))
                row = r | {"moved_in_households": moved}
            else:
                started = min(r["started_units"], round(r["started_units"] * gen.uniform(0.5, 1.0)))
                done = min(done, hh - 1, round(started * gen.uniform(0.0, 0.85)))
                moved = min(r["moved_in_households"], round(done * gen.uniform(0.3, 0.9)))
                row = r | {
                    "started_units": started,
                    "completed_units": max(done, 0),
                    "moved_in_households": moved,
                    "completion_date": None,
                }
            row["moved_in_persons"] = round(row["moved_in_households"] * r["planned_persons"] / hh)
            new.append(row)
        out[code] = new
    return out


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


# ---------------------------------------------------------------- education (表6)


def build_education(ctx: Context) -> FormPlan:
    """One row per township: compulsory-age children of registered households (a
    share of the township's registered persons), dropouts identified (a small rate),
    returned (a rate of those), remaining = identified − returned. Not published."""
    t = ctx.targets
    gen = ctx.rng("education")
    out: FormPlan = {}
    for c in ctx.counties:
        reg = _township_registered(ctx, c)
        rows = []
        for twn in c.townships:
            children = round(reg.get(twn.name, 0) * gen.uniform(*t["children_share"]))
            found = int(gen.binomial(children, gen.uniform(*t["dropout_rate"])))
            back = int(gen.binomial(found, gen.uniform(*t["return_rate"])))
            rows.append(
                {
                    "township": twn.name,
                    "compulsory_age_children": children,
                    "dropouts_identified": found,
                    "dropouts_returned": back,
                    "dropouts_remaining": found - back,
                }
            )
        out[c.code] = rows
    return out


# ---------------------------------------------------------------- employment (表7)

EMPLOYMENT_TOTALS = (
    "ecological_rangers",
    "workshops",
    "workshop_employed",
    "public_welfare_jobs",
    "migrant_employed",
)


def build_employment(ctx: Context) -> FormPlan:
    """One row per township; the five totals of the targets exactly.

    Labour force: 50–62% of the township's registered persons. Migrant workers,
    public welfare jobs and rangers are split over townships by registered persons
    (lognormal noise), migrants capped by the labour force. Workshops sit in about a
    quarter of the townships (at most 4 each); each workshop employs ≥ 1 person.
    """
    t = ctx.targets
    gen = ctx.rng("employment")
    cells = [(c, twn) for c in ctx.counties for twn in c.townships]
    regs = {c.code: _township_registered(ctx, c) for c in ctx.counties}
    n = np.array([regs[c.code].get(twn.name, 0) for c, twn in cells], dtype=float)
    labour = np.round(n * gen.uniform(0.50, 0.62, len(cells))).astype(np.int64)

    def noisy(sigma: float) -> np.ndarray:
        return n * gen.lognormal(0, sigma, len(cells))

    migrant = allocate(t["migrant_employed"], noisy(0.3), caps=labour)
    welfare = allocate(t["public_welfare_jobs"], noisy(0.5), caps=labour)
    rangers = allocate(t["ecological_rangers"], noisy(0.8), caps=labour)
    has_ws = (gen.random(len(cells)) < 0.25) & (n > 0)
    workshops = allocate(
        t["workshops"], np.where(has_ws, noisy(0.5), 0.0), caps=np.where(has_ws, 4, 0)
    )
    employed = allocate(
        t["workshop_employed"],
        workshops * gen.lognormal(0, 0.4, len(cells)),
        caps=workshops * 60,
        floor=workshops,
    )
    out: FormPlan = {c.code: [] for c in ctx.counties}
    for i, (c, twn) in enumerate(cells):
        out[c.code].append(
            {
                "township": twn.name,
                "labor_force": int(labour[i]),
                "migrant_employed": int(migrant[i]),
                "workshops": int(workshops[i]),
                "workshop_employed": int(employed[i]),
                "public_welfare_jobs": int(welfare[i]),
                "ecological_rangers": int(rangers[i]),
            }
        )
    return out


# ---------------------------------------------------------------- infrastructure (表8)


def build_infrastructure(ctx: Context) -> FormPlan:
    """One row per poverty village (是否贫困村 = 是) of the period's population form,
    in the same order, every facility 是 (``all_facilities``)."""
    has = bool(ctx.targets["all_facilities"])
    out: FormPlan = {}
    for c in ctx.counties:
        out[c.code] = [
            {"township": r["township"], "village": r["village"], "village_code": r["village_code"]}
            | dict.fromkeys(FACILITIES, has)
            for r in ctx.built["population"][c.code]
            if r["is_poverty_village"]
        ]
    return out


# ---------------------------------------------------------------- the plan

# Build order (the order of TARGETS[period]) matters: medical, education, employment
# and infrastructure read the population form of the same period.
BUILDERS: dict[str, Callable[[Context], FormPlan]] = {
    "population": build_population,
    "relocation": build_relocation,
    "housing": build_housing,
    "medical": build_medical,
    "water": build_water,
    "education": build_education,
    "employment": build_employment,
    "infrastructure": build_infrastructure,
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
    edu, emp, inf = (plan.get(f, {}) for f in ("education", "employment", "infrastructure"))
    if edu:
        for col in ("compulsory_age_children", "dropouts_identified", "dropouts_returned"):
            out[f"education_{col}"] = _sum(edu, col)
        out["education_dropouts_remaining"] = _sum(edu, "dropouts_remaining")
    if emp:
        for col in ("labor_force", *EMPLOYMENT_TOTALS):
            out[f"employment_{col}"] = _sum(emp, col)
    if inf:
        out["infrastructure_villages"] = sum(len(r) for r in inf.values())
        out["infrastructure_complete"] = sum(
            all(r[f] for f in FACILITIES) for rows in inf.values() for r in rows
        )
    if pop:
        out["population_registered_households"] = _sum(pop, "registered_households")
        out["population_exited_households"] = _sum(pop, "exited_households")
        out["population_remaining_households"] = _sum(pop, "remaining_households")
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
