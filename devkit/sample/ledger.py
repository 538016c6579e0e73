"""The household ledger (表9): one row per registered household, for a sample of villages.

The population form counts every registered household of the province (about 2.4
million); the ledger lists households one by one for a *sample of villages* per county
(``ledger_villages``), chosen so that the ledger totals ``households`` rows (50,000 by
default; 1,000,000 at province scale). For every ledger village the ledger agrees with
the population form of the same period exactly: households listed = registered
households, households with an exit year ≤ the period's year = exited households —
except for the deliberate ``DISCREPANCIES`` below, which the pipeline's reconciliation
must find.

One household is one household in both periods: the same household id, head, size,
cause and registration year; its exit year is blank in a period before it exits; its
income and its five guarantees are those of the period's year. Everything about a
county's households is drawn from one stream ``(seed, "ledger", county code)`` that does
not depend on the period, so the 2018 and 2019 ledgers describe the same households.

Planted cases (all invented people; listed by ``known_totals``):

- ``DISCREPANCIES``: ledger vs population form, per village.
- ``DUPLICATE_ID``: the same person (same ID number and name) heads a household in two
  counties; every other ID number of the province is unique.
- ``WRONG_EXITS`` per period: exited households whose income is at or below the 2019
  line (3,218 yuan) or that lack one guarantee (risk of wrong exit, 错退). Every other
  exited household has income above 3,218 yuan in both years and every guarantee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np

from devkit.sample import plan
from devkit.sample.alloc import allocate, rng
from devkit.sample.geo import County, counties
from pipeline.extract.personal import check_char
from schemas.households import ATTRIBUTES, CAUSES

DEFAULT_HOUSEHOLDS = 50_000
# The ledger describes these periods; exit statuses come from both population forms.
LEDGER_PERIODS = ("2018-12", "2019-12")
POVERTY_LINE_2019 = 3218  # yuan (reference/exit_criteria.md); 2018 has no sourced line
GUARANTEES = (
    "food_clothing_secure",
    "education_secured",
    "medical_secured",
    "housing_secured",
    "water_secured",
)


@dataclass(frozen=True)
class Discrepancy:
    """A deliberate difference between the ledger and the population form.

    kind ``extra_household``: the ledger lists one household more than the form's
    registered households in one of the county's ledger villages (``exited``: the
    extra household exited in 2017, so exited households differ by one too; else it
    has not exited, so remaining households differ by one). ``missing_household``: one
    household fewer, an exited one (registered and exited differ by one). Both hold in
    both periods. ``unknown_village``: ``households`` households in a village whose
    code and name the population form does not have (7 exited by 2018, 10 by 2019).
    """

    county: str
    kind: str
    exited: bool = False
    households: int = 0
    note: str = ""

    @property
    def delta(self) -> int:
        """Ledger rows this discrepancy adds (negative: removes)."""
        return {"extra_household": 1, "missing_household": -1}.get(self.kind, self.households)


DISCREPANCIES: tuple[Discrepancy, ...] = (
    Discrepancy(
        "530627",
        "extra_household",
        note="镇雄县: one household more than the population form, not exited "
        "(registered after the form was compiled)",
    ),
    Discrepancy(
        "530627",
        "missing_household",
        exited=True,
        note="镇雄县: one exited household fewer than the population form (dropped from the ledger)",
    ),
    Discrepancy(
        "530628",
        "extra_household",
        exited=True,
        note="彝良县: one household more than the population form, exited in 2017",
    ),
    Discrepancy(
        "533323",
        "unknown_village",
        households=12,
        note="福贡县: 12 households in a village code the population form does not list",
    ),
)
_UNKNOWN_EXITED = {"2018-12": 7, "2019-12": 10}

# (county of the ID's region code, the other county): the same head in both.
DUPLICATE_ID = ("530602", "530111")

# Per period: exited households planted with income at or below POVERTY_LINE_2019
# ("income") or one guarantee not met ("guarantee").
WRONG_EXITS = {"income": 5, "guarantee": 5}

# --- household attributes (invented distributions) ---
_REG_YEARS = np.arange(2014, 2019)
_REG_P = np.array([0.72, 0.09, 0.08, 0.06, 0.05])
_EXIT_P = np.array([0.04, 0.10, 0.20, 0.28, 0.38])  # exit years 2014–2018
_ATTR_P = np.array([0.75, 0.22, 0.03])
_CAUSE_P = np.array([0.24, 0.10, 0.08, 0.04, 0.05, 0.03, 0.15, 0.09, 0.12, 0.04, 0.04, 0.02])
# P(guarantee not met) for a household not exited in the period's year
_LACK_P = {
    2019: np.array([0.01, 0.03, 0.02, 0.06, 0.04]),
    2018: np.array([0.03, 0.06, 0.05, 0.15, 0.10]),
}
_SURNAMES = (
    "李王张杨刘陈赵罗何周段普朱黄吴马字施鲁岩刀沙和毕苏孔徐郭胡高林邓"
    "郑蒋谢宋唐许韩冯曹彭董袁潘田杜熊余付钟汪陆姚卢"
)
_GIVEN = (
    "明华国英文秀兰芳建军玉珍光荣德志春梅海林成学忠丽红云发福寿贵才连正永"
    "金银家友顺昌兴富强开自有仙琼美珠花香凤桂祥元树清应朝啊波所保"
)
_BIRTH_FIRST = dt.date(1940, 1, 1)
_BIRTH_DAYS = (dt.date(2000, 12, 31) - _BIRTH_FIRST).days + 1
_W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])


@dataclass(frozen=True)
class LedgerVillage:
    """A village of a county's ledger: names, code suffix and household counts."""

    township: str
    village: str
    code_suffix: str
    households: int
    exited: dict[str, int]  # period -> exited by the period's year
    size_mean: float  # persons per household (population form)
    in_population: bool = True


@dataclass(frozen=True)
class LedgerPlan:
    """The ledger of the province: villages per county, discrepancies and planted cases."""

    villages: dict[str, tuple[LedgerVillage, ...]]  # county code -> villages in sheet order
    discrepancies: tuple[dict, ...]  # resolved: county, village code suffix, kind, ...
    wrong_exits: dict[str, dict[str, list[tuple[int, str]]]]  # period -> county -> [(i, kind)]

    def households(self, code: str) -> int:
        return sum(v.households for v in self.villages[code])


def _select(order, reg: np.ndarray, target: int, min_villages: int, eligible) -> list[int]:
    """Villages (indices) in ``order`` greedily while they fit in ``target``; then the
    smallest others until ``min_villages`` (``eligible`` ones first)."""
    chosen, total = [], 0
    for i in order:
        if reg[i] > 0 and total + reg[i] <= target:
            chosen.append(int(i))
            total += int(reg[i])
    while len(chosen) < min_villages or (eligible and not any(eligible(i) for i in chosen)):
        rest = [int(i) for i in order if reg[i] > 0 and i not in chosen]
        good = [i for i in rest if not eligible or eligible(i)]
        if not good:
            break
        chosen.append(min(good, key=lambda i: reg[i]))
    return chosen


@cache
def ledger_plan(seed: int, households: int = DEFAULT_HOUSEHOLDS) -> LedgerPlan:
    """Choose the ledger villages so the ledger totals ``households`` rows.

    County targets are proportional to the county's registered households (so the
    ledger is as uneven as the population form: 镇雄县 carries about 5.5%); villages
    are taken in a seeded order while they fit, each county's shortfall carried to the
    next; a last pass adds (or drops) whole villages to hit the total exactly, which
    succeeds unless no village is small enough (then the total is off by a few)."""
    cs = counties(seed)
    pop = {p: plan.build(seed, p)["population"] for p in LEDGER_PERIODS}
    base = pop["2019-12"]
    reg = {c.code: np.array([r["registered_households"] for r in base[c.code]]) for c in cs}
    ex18 = {c.code: np.array([r["exited_households"] for r in pop["2018-12"][c.code]]) for c in cs}
    total_reg = sum(int(v.sum()) for v in reg.values())
    wanted = households - sum(d.delta for d in DISCREPANCIES)
    extra = households - wanted
    if not len(cs) <= wanted <= total_reg:
        raise ValueError(
            f"households must be between {len(cs) + extra} and {total_reg + extra} for seed {seed}"
        )
    need = {c.code: 0 for c in cs}
    must_exit = set()  # counties that need a ledger village with an exited household
    for d in DISCREPANCIES:
        if d.kind != "unknown_village":
            need[d.county] += 1
        if d.kind == "missing_household":
            must_exit.add(d.county)
    targets = allocate(wanted, [int(reg[c.code].sum()) for c in cs])
    chosen: dict[str, list[int]] = {}
    orders = {
        c.code: rng(seed, "ledger", "select", c.code).permutation(len(reg[c.code])) for c in cs
    }
    carry = 0
    for c, t in zip(cs, targets, strict=True):
        r, e = reg[c.code], ex18[c.code]
        ok = (lambda i, e=e: e[i] > 0) if c.code in must_exit else None
        chosen[c.code] = _select(orders[c.code], r, int(t) + carry, max(1, need[c.code]), ok)
        carry = int(t) + carry - int(r[chosen[c.code]].sum())
    carry = _exact_total(cs, reg, chosen, need, carry)
    if carry:
        _swap_for_exact(cs, reg, chosen, need, must_exit, carry)
    villages = _ledger_villages(cs, pop, chosen)
    resolved = _apply_discrepancies(seed, {c.code: c for c in cs}, villages)
    frozen = {k: tuple(v) for k, v in villages.items()}
    return LedgerPlan(frozen, resolved, _plan_wrong_exits(seed, cs, frozen))


def _exact_total(cs, reg, chosen, need, carry: int) -> int:
    """Add the largest village that fits, or drop the smallest that covers, until the
    shortfall ``carry`` is 0 or no village helps; returns what is left of it."""
    for _ in range(1000):
        if carry == 0:
            break
        best = None
        for c in cs:
            r, got = reg[c.code], chosen[c.code]
            if carry > 0:
                cand = [
                    (int(r[i]), c.code, i)
                    for i in range(len(r))
                    if i not in got and 0 < r[i] <= carry
                ]
                pick = max(cand, default=None)
            else:
                if len(got) <= max(1, need[c.code]):
                    continue
                cand = [(int(r[i]), c.code, i) for i in got if r[i] <= -carry]
                pick = max(cand, default=None)
            if pick and (best is None or pick[0] > best[0]):
                best = pick
        if best is None:
            break
        size, code, i = best
        if carry > 0:
            chosen[code].append(i)
            carry -= size
        else:
            chosen[code].remove(i)
            carry += size
    return carry


def _swap_for_exact(cs, reg, chosen, need, must_exit, carry: int) -> None:
    """Swap a chosen village for an unchosen one ``carry`` households larger (in place)."""
    free = {}
    for c in cs:
        got = set(chosen[c.code])
        for i, n in enumerate(reg[c.code].tolist()):
            if i not in got and n > 0:
                free.setdefault(n, (c.code, i))
    for c in cs:
        if c.code in must_exit:
            continue
        hit = next((i for i in chosen[c.code] if int(reg[c.code][i]) + carry in free), None)
        if hit is not None:
            code, i = free[int(reg[c.code][hit]) + carry]
            if code != c.code and len(chosen[c.code]) <= max(1, need[c.code]):
                continue
            chosen[c.code].remove(hit)
            chosen[code].append(i)
            return


def _ledger_villages(cs, pop, chosen) -> dict[str, list[LedgerVillage]]:
    """The chosen villages of each county, as LedgerVillage in sheet order."""
    villages: dict[str, list[LedgerVillage]] = {}
    for c in cs:
        rows18, rows19 = pop["2018-12"][c.code], pop["2019-12"][c.code]
        villages[c.code] = [
            LedgerVillage(
                rows19[i]["township"],
                rows19[i]["village"],
                rows19[i]["village_code"][6:],
                rows19[i]["registered_households"],
                {
                    "2018-12": rows18[i]["exited_households"],
                    "2019-12": rows19[i]["exited_households"],
                },
                rows19[i]["registered_persons"] / max(1, rows19[i]["registered_households"]),
            )
            for i in sorted(chosen[c.code])
        ]
    return villages


def _apply_discrepancies(seed: int, by_code: dict[str, County], villages) -> tuple[dict, ...]:
    """Change the chosen villages' ledger counts as ``DISCREPANCIES`` say (each on a
    different village of its county, first in sheet order that fits); add the unknown
    village. Returns the resolved discrepancies (what the reconciliation must find)."""
    out = []
    used: set[tuple[str, str]] = set()
    for d in DISCREPANCIES:
        vs = villages[d.county]
        if d.kind == "unknown_village":
            c = by_code[d.county]
            twn = c.townships[-1]
            taken = {v.name for _, v in c.villages}
            name = next(
                a + b + "村" for a in "新上下" for b in "光合作团结" if a + b + "村" not in taken
            )
            last = max(int(v.code_suffix[3:]) for v in twn.villages)
            suffix = twn.villages[0].code_suffix[:3] + f"{last + 1:03d}"
            ex = dict(_UNKNOWN_EXITED)
            vs.append(
                LedgerVillage(twn.name, name, suffix, d.households, ex, 4.0, in_population=False)
            )
            out.append(
                {"county": d.county, "kind": d.kind, "village": name, "code_suffix": suffix,
                 "township": twn.name, "ledger_households": d.households,
                 "ledger_exited": ex, "note": d.note}
            )  # fmt: skip
            continue
        k = next(
            k
            for k, v in enumerate(vs)
            if (d.county, v.code_suffix) not in used
            and (d.kind != "missing_household" or v.exited["2018-12"] > 0)
        )
        v = vs[k]
        used.add((d.county, v.code_suffix))
        step = d.delta
        ex = {p: n + (step if d.exited else 0) for p, n in v.exited.items()}
        vs[k] = LedgerVillage(
            v.township, v.village, v.code_suffix, v.households + step, ex, v.size_mean
        )
        out.append(
            {"county": d.county, "kind": d.kind, "village": v.village, "code_suffix": v.code_suffix,
             "township": v.township, "population_households": v.households,
             "population_exited": dict(v.exited), "ledger_households": v.households + step,
             "ledger_exited": ex, "note": d.note}
        )  # fmt: skip
    return tuple(out)


def _plan_wrong_exits(seed: int, cs, villages) -> dict:
    """Per period, ``WRONG_EXITS`` exited ledger households: county ∝ its exited
    households, index uniform among them (ledger order), distinct."""
    out: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for p in LEDGER_PERIODS:
        gen = rng(seed, "ledger", "wrong", p)
        exited = np.array([sum(v.exited[p] for v in villages[c.code]) for c in cs], dtype=float)
        picks: dict[str, list[tuple[int, str]]] = {}
        seen = set()
        for kind, n in WRONG_EXITS.items():
            k = 0
            while k < n:
                ci = int(gen.choice(len(cs), p=exited / exited.sum()))
                i = int(gen.integers(int(exited[ci])))
                if (ci, i) in seen:
                    continue
                seen.add((ci, i))
                g = GUARANTEES[int(gen.integers(len(GUARANTEES)))] if kind == "guarantee" else ""
                picks.setdefault(cs[ci].code, []).append((i, kind + (":" + g if g else "")))
                k += 1
        out[p] = picks
    return out


# ------------------------------------------------------------------ the households


def _ids(gen, prefix: str, n: int, exclude: set[int]) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct (birth day, sequence) keys (day × 1000 + seq), none in ``exclude``."""
    keys = gen.integers(0, _BIRTH_DAYS * 1000, n)
    while True:
        uniq, first = np.unique(keys, return_index=True)
        bad = np.ones(n, dtype=bool)
        bad[first] = False
        bad |= np.isin(keys, list(exclude)) if exclude else False
        if not bad.any():
            return keys, uniq
        keys[bad] = gen.integers(0, _BIRTH_DAYS * 1000, int(bad.sum()))


def id_numbers(prefix: str, keys: np.ndarray, lower: np.ndarray) -> list[str]:
    """18-character ID numbers for (birth day × 1000 + sequence) keys: region ``prefix``,
    birth date, 3-digit sequence, MOD 11-2 check character (``x`` where ``lower``)."""
    days = (keys // 1000).astype("timedelta64[D]")
    dates = (np.datetime64(_BIRTH_FIRST) + days).astype(str)
    seq = keys % 1000
    out = []
    for d, s, lo in zip(dates.tolist(), seq.tolist(), lower.tolist(), strict=True):
        body = f"{prefix}{d[:4]}{d[5:7]}{d[8:]}{s:03d}"
        ch = check_char(body)
        out.append(body + ("x" if lo and ch == "X" else ch))
    return out


def _names(gen, n: int) -> list[str]:
    sur = gen.integers(len(_SURNAMES), size=n)
    two = gen.random(n) < 0.7
    g1 = gen.integers(len(_GIVEN), size=n)
    g2 = gen.integers(len(_GIVEN), size=n)
    return [
        _SURNAMES[a] + _GIVEN[b] + (_GIVEN[c] if t else "")
        for a, b, c, t in zip(sur.tolist(), g1.tolist(), g2.tolist(), two.tolist(), strict=True)
    ]


@cache
def _duplicate_person(seed: int) -> tuple[str, int]:
    """The name and ID key of the head listed in both ``DUPLICATE_ID`` counties."""
    gen = rng(seed, "ledger", "duplicate")
    return _names(gen, 1)[0], int(gen.integers(0, _BIRTH_DAYS * 1000))


def county_households(
    seed: int,
    code: str,
    period: str,
    households: int = DEFAULT_HOUSEHOLDS,
    personal: bool = True,
) -> dict:
    """The ledger columns of county ``code`` for ``period``: ``{column: list}`` in the
    form's column order (years as int or None, guarantees as bool). ``personal=False``
    leaves out head_name and head_id_number (drawn last, so the rest is the same)."""
    lp = ledger_plan(seed, households)
    year = int(period[:4])
    c = next(x for x in counties(seed) if x.code == code)
    vs = lp.villages[code]
    gen = rng(seed, "ledger", code)
    n_v = np.array([v.households for v in vs])
    n = int(n_v.sum())
    vidx = np.repeat(np.arange(len(vs)), n_v)
    pos = np.arange(n) - np.repeat(np.cumsum(n_v) - n_v, n_v)
    e18 = np.repeat([v.exited["2018-12"] for v in vs], n_v)
    e19 = np.repeat([v.exited["2019-12"] for v in vs], n_v)
    status = np.where(pos < e18, 0, np.where(pos < e19, 1, 2))  # exit by 2018 / 2019 / not
    status = status[np.lexsort((gen.random(n), vidx))]  # shuffled within each village
    exit_y = np.where(
        status == 0, gen.choice(_REG_YEARS, size=n, p=_EXIT_P), np.where(status == 1, 2019, 0)
    )
    reg_y = gen.choice(_REG_YEARS, size=n, p=_REG_P)
    reg_y = np.where(status == 0, np.minimum(reg_y, exit_y), reg_y)
    mean = np.repeat([v.size_mean for v in vs], n_v)
    size = 1 + gen.binomial(7, np.clip((mean - 1) / 7, 0.0, 1.0))
    attr = gen.choice(len(ATTRIBUTES), size=n, p=_ATTR_P)
    cause = gen.choice(len(CAUSES), size=n, p=_CAUSE_P)
    inc19 = np.select(
        [status == 0, status == 1],
        [
            np.maximum(gen.lognormal(np.log(8200), 0.35, n), 3900),
            np.maximum(gen.lognormal(np.log(5600), 0.25, n), 3400),
        ],
        np.clip(gen.lognormal(np.log(2900), 0.35, n), 600, 9000),
    )
    growth = np.select(
        [status == 0, status == 1],
        [gen.uniform(1.05, 1.15, n), gen.uniform(1.2, 1.7, n)],
        gen.uniform(1.03, 1.2, n),
    )
    u = gen.random((n, len(GUARANTEES)))
    # -- the period's view
    exited = status == 0 if year <= 2018 else status <= 1
    income = np.round(inc19 if year >= 2019 else inc19 / growth).astype(np.int64)
    lack = (~exited)[:, None] & (u < _LACK_P[min(max(year, 2018), 2019)])
    _make_wrong_exits(seed, code, period, lp, exited, income, lack)
    names, ids = _personal(seed, gen, code, n) if personal else ([], [])
    width = max(4, len(str(n)))
    prefix = c.code_in(period)
    town = [v.township for v in vs]
    vil = [v.village for v in vs]
    vcode = [prefix + v.code_suffix for v in vs]
    vi = vidx.tolist()
    out = {
        "household_id": [f"{k + 1:0{width}d}" for k in range(n)],
        **({"head_name": names, "head_id_number": ids} if personal else {}),
        "township": [town[k] for k in vi],
        "village": [vil[k] for k in vi],
        "village_code": [vcode[k] for k in vi],
        "household_size": size.tolist(),
        "poverty_attribute": [ATTRIBUTES[k] for k in attr.tolist()],
        "main_cause": [CAUSES[k] for k in cause.tolist()],
        "registered_year": reg_y.tolist(),
        "exit_year": [
            y if e else None for y, e in zip(exit_y.tolist(), exited.tolist(), strict=True)
        ],
        "income_per_capita": income.tolist(),
    }
    for j, g in enumerate(GUARANTEES):
        out[g] = (~lack[:, j]).tolist()
    return out


def _make_wrong_exits(seed, code, period, lp: LedgerPlan, exited, income, lack) -> None:
    """Make the planned wrongly exited households of ``code`` wrong (in place): income
    below the line, or one guarantee lacking."""
    for i, kind in lp.wrong_exits.get(period, {}).get(code, []):
        row = int(np.flatnonzero(exited)[i])
        if kind == "income":
            income[row] = int(
                rng(seed, "ledger", "wrong", period, code, str(i)).integers(
                    2400, POVERTY_LINE_2019 + 1
                )
            )
        else:
            lack[row, GUARANTEES.index(kind.split(":")[1])] = True


def _personal(seed: int, gen, code: str, n: int) -> tuple[list, list]:
    """(head names, ID numbers) of ``n`` households, drawn from ``gen`` (last, so the
    other columns do not depend on them); the planned duplicate ID goes first."""
    names = _names(gen, n)
    dup_name, dup_key = _duplicate_person(seed)
    keys, _ = _ids(gen, code, n, {dup_key} if code == DUPLICATE_ID[0] else set())
    ids = id_numbers(code, keys, gen.random(n) < 0.3)
    if code in DUPLICATE_ID:
        names[0] = dup_name
        ids[0] = id_numbers(DUPLICATE_ID[0], np.array([dup_key]), np.array([False]))[0]
    return names, ids


# ------------------------------------------------------------------ what tests assert


def summary(seed: int, period: str, households: int = DEFAULT_HOUSEHOLDS) -> dict:
    """The ledger's counts for ``period`` from the generator (not the files).

    ``households``/``exited``/``not_exited``; ``lacking``: households lacking each
    guarantee; ``exited_lacking_guarantee``, ``exited_income_at_or_below_line``,
    ``exited_not_meeting`` (either; line = 3,218 yuan, the 2019 line — for 2018 the
    pipeline does not assess income), ``not_exited_meeting_standard`` (income above the
    line, every guarantee); ``causes``; Alkire–Foster at k = 1/3 with equal weights
    (``af_poor``: ≥ 2 of 5 deprivations, ``af_deprivations_of_poor``); ``counties``:
    code -> households, exited; ``villages``: ledger village code -> counts of the
    ledger and of the population form (None where the form lacks the village);
    ``discrepancies``, ``duplicate_id``, ``wrong_exits`` (county, household id, kind).
    """
    lp = ledger_plan(seed, households)
    pop = plan.build(seed, period)["population"]
    out: dict = {"households": 0, "exited": 0, "lacking": dict.fromkeys(GUARANTEES, 0)}
    out |= dict.fromkeys(
        ("exited_lacking_guarantee", "exited_income_at_or_below_line", "exited_not_meeting",
         "not_exited_meeting_standard", "af_poor", "af_deprivations_of_poor"), 0
    )  # fmt: skip
    out["causes"] = dict.fromkeys(CAUSES, 0)
    out["counties"], out["villages"], out["wrong_exits"] = {}, {}, []
    for c in counties(seed):
        cols = county_households(seed, c.code, period, households, personal=False)
        exited = np.array([y is not None for y in cols["exit_year"]])
        lack = ~np.array([cols[g] for g in GUARANTEES], dtype=bool).T
        low = np.array(cols["income_per_capita"]) <= POVERTY_LINE_2019
        d = lack.sum(axis=1)
        out["households"] += len(exited)
        out["exited"] += int(exited.sum())
        for j, g in enumerate(GUARANTEES):
            out["lacking"][g] += int(lack[:, j].sum())
        out["exited_lacking_guarantee"] += int((exited & (d > 0)).sum())
        out["exited_income_at_or_below_line"] += int((exited & low).sum())
        out["exited_not_meeting"] += int((exited & ((d > 0) | low)).sum())
        out["not_exited_meeting_standard"] += int((~exited & (d == 0) & ~low).sum())
        out["af_poor"] += int((d >= 2).sum())
        out["af_deprivations_of_poor"] += int(d[d >= 2].sum())
        for k in cols["main_cause"]:
            out["causes"][k] += 1
        out["counties"][c.code] = {"households": len(exited), "exited": int(exited.sum())}
        form = {r["village_code"]: r for r in pop[c.code]}
        for v in lp.villages[c.code]:
            code = c.code_in(period) + v.code_suffix
            f = form.get(code)
            out["villages"][code] = {
                "county": c.code,
                "township": v.township,
                "village": v.village,
                "registered": v.households,
                "exited": v.exited[period],
                "remaining": v.households - v.exited[period],
                "population": None
                if f is None
                else {
                    "registered": f["registered_households"],
                    "exited": f["exited_households"],
                    "remaining": f["remaining_households"],
                },
            }
        ids = cols["household_id"]
        for i, kind in lp.wrong_exits[period].get(c.code, []):
            row = int(np.flatnonzero(exited)[i])
            out["wrong_exits"].append({"county": c.code, "household_id": ids[row], "kind": kind})
    out["not_exited"] = out["households"] - out["exited"]
    by_code = {c.code: c for c in counties(seed)}
    out["discrepancies"] = [
        d | {"village_code": by_code[d["county"]].code_in(period) + d["code_suffix"]}
        for d in lp.discrepancies
    ]
    width = {c: max(4, len(str(n["households"]))) for c, n in out["counties"].items()}
    out["duplicate_id"] = {
        "counties": list(DUPLICATE_ID),
        "household_ids": {c: f"{1:0{width[c]}d}" for c in DUPLICATE_ID},
    }
    return out
