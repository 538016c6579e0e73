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

from pipeline.extract.coerce import Cell, CellError, parse_period

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
