"""The sample's geography: the 129 Yunnan counties (reference CSVs shipped with the
package) and, per county, seeded townships and villages with plausible Chinese names.

The geography depends only on the seed and the county, never on the period, so a
village keeps its name and code across periods.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from devkit.sample.alloc import rng
from pipeline.refdata import REF_DIR

# Characters common in Yunnan place names; none forms 合计/小计/总计 or starts a footer.
_SYLLABLES = (
    "大小新老龙马石河山水平安和兴丰云金银凤鹤松竹梅花桥坝田沙江溪湾坡岩林营"
    "铺街寨箐哨甸塘黑白红青长高中东西南北上下者普阿拉木古德宁顺福禄永乐秀"
    "翠华茂盛鸡鹿象虎鱼羊牛草谷麦米茶果桃李柏杉"
)
_TOWN_SEATS = ("城关", "中心", "新城")


@dataclass(frozen=True)
class Village:
    """An administrative village: name (…村 or …社区), 6-digit code suffix."""

    name: str
    code_suffix: str  # 3 township digits + 3 village digits


@dataclass(frozen=True)
class Township:
    """A township (…镇 / …乡) and its villages, in sheet order."""

    name: str
    villages: tuple[Village, ...]


@dataclass(frozen=True)
class County:
    """A county of ``yunnan_counties.csv`` with its poverty status and seeded townships."""

    code: str  # today's GB/T 2260 code
    name: str  # official name, as on the cover line
    county_type: str
    poverty: bool  # one of the 88 national poverty counties
    exit_year: int | None  # year the poverty county exited (None: not a poverty county)
    townships: tuple[Township, ...]

    @property
    def villages(self) -> list[tuple[Township, Village]]:
        return [(t, v) for t in self.townships for v in t.villages]

    def code_in(self, period: str) -> str:
        """The county code valid in ``period`` (``YYYY-MM``): a village code of the
        period starts with it (a 2019 village of 澄江市 starts 530422, not 530481)."""
        for row in _read("yunnan_code_changes.csv"):
            first_new = row["first_nbs_code_set_with_new_code"][:7]
            if row["new_code"] == self.code and first_new and period < first_new:
                return row["old_code"]
        return self.code


def _read(name: str) -> list[dict[str, str]]:
    with open(REF_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _names(gen, n: int, suffixes: tuple[str, ...], taken: set[str]) -> list[str]:
    """``n`` new two-syllable names with a suffix drawn from ``suffixes``, unique in ``taken``."""
    out: list[str] = []
    while len(out) < n:
        a, b = gen.choice(len(_SYLLABLES), size=2, replace=False)
        name = _SYLLABLES[a] + _SYLLABLES[b] + suffixes[gen.integers(len(suffixes))]
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _townships(seed: int, code: str) -> tuple[Township, ...]:
    """6–16 townships of 5–14 villages; the first township is the county seat (镇 with
    社区). Codes: 1xx for 镇, 2xx for 乡; villages 2xx (社区 0xx) as in NBS codes."""
    gen = rng(seed, "geo", code)
    n_town = int(gen.integers(6, 17))
    taken: set[str] = set()
    kinds = ["镇"] + [("镇", "乡")[int(gen.random() < 0.45)] for _ in range(n_town - 1)]
    seat = _TOWN_SEATS[int(gen.integers(len(_TOWN_SEATS)))] + "镇"
    taken.add(seat)
    names = [seat] + [_names(gen, 1, (k,), taken)[0] for k in kinds[1:]]
    out = []
    n_zhen = n_xiang = 0
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        if kind == "镇":
            n_zhen += 1
            tcode = 100 + n_zhen
        else:
            n_xiang += 1
            tcode = 200 + n_xiang
        n_vil = int(gen.integers(5, 15))
        n_comm = int(gen.integers(2, 5)) if i == 0 else 0  # county seat: a few 社区
        vnames = _names(gen, n_comm, ("社区",), taken) + _names(gen, n_vil - n_comm, ("村",), taken)
        codes = [1 + j for j in range(n_comm)] + [201 + j for j in range(n_vil - n_comm)]
        villages = tuple(
            Village(v, f"{tcode:03d}{c:03d}") for v, c in zip(vnames, codes, strict=True)
        )
        out.append(Township(name, villages))
    return tuple(out)


@cache
def counties(seed: int) -> tuple[County, ...]:
    """The 129 counties in CSV order (by code), with their seeded townships."""
    pov = {r["county_code"]: r for r in _read("yunnan_poverty_counties.csv")}
    out = []
    for r in _read("yunnan_counties.csv"):
        code = r["county_code"]
        p = pov.get(code)
        out.append(
            County(
                code=code,
                name=r["county_name_zh"],
                county_type=r["county_type"],
                poverty=p is not None,
                exit_year=int(p["exit_year"]) if p and p["exit_year"] else None,
                townships=_townships(seed, code),
            )
        )
    return tuple(out)
