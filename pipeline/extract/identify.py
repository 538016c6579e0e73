"""County and period of a workbook: from the sheets' cover line and from the file name.

The period comes only from the cover's statistics date (统计截止时间, 统计时间, 报告期),
never from a 填报日期 in a footer or a number in a title (forms.md). Where the file
name carries a county code or period too and they disagree with the cover, the
workbook is rejected naming both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from pipeline.extract.coerce import Cell, CellError, parse_period
from pipeline.refdata import counties, resolver, valid_village_prefixes

_UNIT_LABEL = re.compile(r"填报单位[:：]?")
_DATE_LABEL = re.compile(
    r"(统计截止时间|统计截止日期|统计时间|统计期|报告期|截止时间|截止日期)[:：]?"
)
_UNIT_END = re.compile(r"([(（]\s*(盖章|公章|章)\s*[)）]|\s{2,}|统计|单位[:：]|报告期|截止)")
_AFTER_DATE_END = re.compile(r"(\s{2,}|单位[:：]|填报单位|计量单位)")
_NAME_PERIOD = re.compile(r"(?<!\d)(20\d{2})\s*[-_.年]?\s*(0[1-9]|1[0-2])(?!\d)")
_NAME_CODE = re.compile(r"^(\d{6})(?!\d)")


@dataclass
class Cover:
    """What a sheet's cover line says: county text, statistics date text, period."""

    county_text: str | None = None
    date_text: str | None = None
    period: str | None = None
    row: int | None = None  # 0-based
    error: str | None = None  # the date text could not be read


def _s(v) -> str:
    return unicodedata.normalize("NFKC", v) if isinstance(v, str) else ""


def read_cover(grid, last_row: int, date1904: bool) -> Cover:
    """Scan rows above the header (``< last_row``) for 填报单位 and the statistics date.

    The date may sit in the same cell as its label, or in a following cell of the
    same row (a date cell, a General serial such as 43830, or text).
    """
    cover = Cover()
    for r in range(grid.first_row, min(last_row, grid.first_row + grid.height)):
        row = grid.row(r)
        for j, v in enumerate(row):
            t = _s(v)
            if not t:
                continue
            if cover.county_text is None and (m := _UNIT_LABEL.search(t)):
                rest = t[m.end() :].strip()
                if not rest:
                    rest = next((_s(x).strip() for x in row[j + 1 :] if _s(x).strip()), "")
                end = _UNIT_END.search(rest)
                name = rest[: end.start()] if end else rest
                cover.county_text = name.strip() or None
                cover.row = r
            if cover.period is None and (m := _DATE_LABEL.search(t)):
                rest = t[m.end() :]
                end = _AFTER_DATE_END.search(rest.strip())
                rest = rest.strip()[: end.start()] if end else rest.strip()
                target: object = rest
                if not rest:
                    target = next((x for x in row[j + 1 :] if x not in (None, "")), None)
                if target is None:
                    continue
                cover.date_text = str(target)
                cover.row = r
                try:
                    y, mth = parse_period(
                        target if isinstance(target, str) else Cell(target), date1904
                    )
                    cover.period = f"{y:04d}-{mth:02d}"
                except CellError:
                    cover.error = cover.date_text
    return cover


def from_file_name(name: str) -> tuple[str | None, str | None]:
    """``(county_code, period)`` from a name like ``530128_禄劝彝族苗族自治县_2019-12.xlsx``."""
    stem = unicodedata.normalize("NFKC", name.rsplit(".", 1)[0])
    code = m.group(1) if (m := _NAME_CODE.match(stem)) else None
    rest = stem[6:] if code else stem
    periods = {f"{a}-{b}" for a, b in _NAME_PERIOD.findall(rest)}
    period = periods.pop() if len(periods) == 1 else None
    return code, period


@cache
def prefix_owners(period: str) -> dict[str, str]:
    """Village-code prefix (6 digits) -> the county it belongs to in ``period``: each
    county's code and its old codes still valid then (``ref.county_code_changes``)."""
    out: dict[str, str] = {}
    for code in counties()["county_code"]:
        for p in valid_village_prefixes(code, period):
            out.setdefault(p, code)
    return out


def village_conflict(codes: set[str], county: str, period: str) -> tuple[str, int, int] | None:
    """``(other county, its village codes, village codes present)`` when more than half of
    the distinct village codes ``codes`` (at least 3) belong to one county other than
    ``county`` in ``period`` (issue 12 item 7); else None (isolated mismatches stay
    row-level quarantines)."""
    if len(codes) < 3:
        return None
    owners = prefix_owners(period)
    own = valid_village_prefixes(county, period)
    tally: dict[str, int] = {}
    for c in codes:
        p = c[:6]
        if p not in own and (other := owners.get(p)) is not None and other != county:
            tally[other] = tally.get(other, 0) + 1
    if not tally:
        return None
    other, n = max(tally.items(), key=lambda kv: (kv[1], kv[0]))
    return (other, n, len(codes)) if n >= 3 and 2 * n > len(codes) else None


_SEGMENTS = re.compile(r"[\s_\-.、，,（）()\[\]【】]+")


def _county_of(text: str) -> str | None:
    """Today's county code named by ``text`` (a file stem or a folder name): a leading
    6-digit code, else a segment that is a county's code or name (``巧家县``)."""
    text = unicodedata.normalize("NFKC", text)
    m = _NAME_CODE.match(text)
    if m and (code := resolver().resolve(m.group(1))):
        return code
    for seg in _SEGMENTS.split(text):
        if len(seg) >= 2 and (code := resolver().resolve(seg)):
            return code
    return None


def _period_of(text: str) -> str | None:
    periods = {f"{a}-{b}" for a, b in _NAME_PERIOD.findall(unicodedata.normalize("NFKC", text))}
    return periods.pop() if len(periods) == 1 else None


def attribute(parts: list[str]) -> tuple[str | None, str | None, str | None]:
    """``(county_code, period, identified_from)`` of a rejected or not-read file from its
    path's ``parts`` (folders of the raw folder, an archive's name and its member's folders,
    then the file's own name), for attributing it only: nothing is ever loaded on this
    basis (issue 12 item 8). The file's name is looked at first (``file_name``), then the
    folders from the nearest out (``folder``); identified_from names where the county
    came from (where the period came from when no county was found; None for neither)."""
    if not parts:
        return None, None, None
    *folders, name = parts
    stem = name.rsplit(".", 1)[0] if "." in name.strip(" .") else name
    county, period = _county_of(stem), _period_of(stem)
    county_src = "file_name" if county else None
    period_src = "file_name" if period else None
    for folder in reversed(folders):
        if county is None and (county := _county_of(folder)):
            county_src = "folder"
        if period is None and (period := _period_of(folder)):
            period_src = "folder"
    return county, period, county_src or period_src
