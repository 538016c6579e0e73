"""Seeded random streams and exact integer allocation (largest remainder).

Every province total of the sample is split over counties, townships and rows by
``allocate``, so the parts always add up to the published whole exactly.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

# Poverty counties carry this share of a province-wide load (88 of 129 counties).
POVERTY_SHARE = 0.85


def rng(seed: int, *keys: str) -> np.random.Generator:
    """An independent, reproducible stream for ``(seed, *keys)``.

    Keys name what the stream is for (``"2019-12", "housing"``), so adding a form or
    a period later never shifts the numbers of the existing ones.
    """
    words = [seed & 0xFFFFFFFF] + [zlib.crc32(k.encode("utf-8")) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


def allocate(
    total: int,
    weights: Sequence[float] | np.ndarray,
    caps: Sequence[int] | np.ndarray | None = None,
    floor: int | Sequence[int] | np.ndarray = 0,
) -> np.ndarray:
    """Split the whole number ``total`` into ``len(weights)`` whole parts ≥ ``floor``.

    Parts are proportional to ``weights`` (after the floors), never above ``caps``,
    and sum to ``total`` exactly: shares are floored and the remaining units go to
    the largest fractional remainders (ties: lower index first). A part whose
    proportional share exceeds its cap is fixed at the cap and the rest re-split
    (water filling). Returns an int64 array.
    """
    w = np.asarray(weights, dtype=float)
    n = len(w)
    base = np.broadcast_to(np.asarray(floor, dtype=np.int64), (n,)).copy()
    cap = (
        np.full(n, max(int(total), 0), dtype=np.int64)  # no part can exceed the total
        if caps is None
        else np.asarray(caps, dtype=np.int64).copy()
    )
    if (base > cap).any() or (w < 0).any():
        raise ValueError("floor above cap or negative weight")
    rest = int(total) - int(base.sum())
    room = cap - base
    if rest < 0 or rest > int(room.sum()):
        raise ValueError(f"cannot allocate {total} within floors/caps")
    out = base
    active = (w > 0) & (room > 0)
    while rest > 0:
        if not active.any():
            # only zero-weight parts have room left: spread evenly over them
            active = room > 0
            w = np.where(active, 1.0, 0.0)
        share = np.zeros(n)
        share[active] = rest * w[active] / w[active].sum()
        over = active & (share >= room)
        if over.any():  # fix the capped parts, re-split the remainder over the others
            out[over] += room[over]
            rest -= int(room[over].sum())
            room[over] = 0
            active &= ~over
            continue
        whole = np.floor(share).astype(np.int64)
        out += whole
        room -= whole
        rest -= int(whole.sum())
        frac = np.where(active & (room > 0), share - whole, -1.0)
        order = np.lexsort((np.arange(n), -frac))  # largest remainder, then lower index
        take = [i for i in order[:rest] if frac[i] >= 0]
        out[take] += 1
        room[take] -= 1
        rest -= len(take)
        active &= room > 0
    return out


def county_weights(gen: np.random.Generator, poverty: Sequence[bool], sigma: float = 0.6):
    """Lognormal load weights for counties, poverty counties scaled up.

    ``poverty``: one flag per county. The multiplier makes poverty counties carry
    ``POVERTY_SHARE`` of the load in expectation when all 129 counties take part, and
    keeps a county's weight comparable when only a subset reports a form.
    """
    flags = np.asarray(poverty, dtype=bool)
    n_pov, n_other = int(flags.sum()), int((~flags).sum())
    mult = POVERTY_SHARE / (1 - POVERTY_SHARE) * n_other / n_pov if n_pov and n_other else 1.0
    base = gen.lognormal(0.0, sigma, size=len(flags))
    return base * np.where(flags, mult, 1.0)


def normalise_share(weights: np.ndarray, poverty: Sequence[bool]) -> np.ndarray:
    """Rescale so poverty counties hold exactly ``POVERTY_SHARE`` of the weight (both
    groups present), for forms every county reports."""
    flags = np.asarray(poverty, dtype=bool)
    w = np.asarray(weights, dtype=float).copy()
    if flags.any() and (~flags).any():
        w[flags] *= POVERTY_SHARE / w[flags].sum()
        w[~flags] *= (1 - POVERTY_SHARE) / w[~flags].sum()
    return w
