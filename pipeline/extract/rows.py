"""Classify the rows below a header: data, blank, column-number, total/subtotal, footer."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_COLNUM_TOKENS = set("甲乙丙丁戊己庚辛壬癸")
_TOTAL = re.compile(r"(合计|总计|共计|小计)")
_TOTAL_CHARS = re.compile(r"[计全本总]")  # one of them is in every match of the two below
_TOTAL_ALONE = re.compile(r"^(全县|全市|全区|全州|全乡|全镇|本县|总数)$")
_FOOTER = re.compile(
    r"^(注[:：\d、.（(]|注释|说明[:：]|备注[:：]|填表人|填报人|审核人|联系电话|单位负责人|"
    r"负责人[:：]|制表人|制表[:：]|统计负责人|填表日期|报出日期|填报日期|审核[:：])"
)


def _text(v) -> str:
    if isinstance(v, str):
        return "".join(v.split()) if v.isascii() else _text_cached(v)  # NFKC keeps ASCII
    return ""


@lru_cache(maxsize=1 << 14)
def _text_cached(v: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", v))


def is_blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def is_column_number_row(values: list) -> bool:
    """``甲 乙 1 2 3 …`` or ``1 2 3 …``: at least three labels, numbers in sequence."""
    cells = [v for v in values if not is_blank(v)]
    if len(cells) < 3:
        return False
    nums = []
    for v in cells:
        t = _text(v) if isinstance(v, str) else v
        if isinstance(t, str) and t in _COLNUM_TOKENS:
            continue
        try:
            f = float(t)
        except (TypeError, ValueError):
            return False
        if not f.is_integer():
            return False
        nums.append(int(f))
    return all(b == a + 1 for a, b in zip(nums, nums[1:], strict=False)) and (
        not nums or nums[0] <= 1 or len(nums) < len(cells)
    )


def total_kind(labels: list) -> str | None:
    """``'subtotal'`` (小计), ``'total'`` (合计, 总计, 全县合计, 全县) or None."""
    for v in labels:
        if not isinstance(v, str) or v.isascii():
            continue  # the words of a total are Chinese: ASCII text never is one
        if not _TOTAL_CHARS.search(v) and unicodedata.is_normalized("NFKC", v):
            continue  # every total word has one of these characters (names rarely do)
        t = _text(v)
        if not t or len(t) > 14:
            continue
        if "小计" in t:
            return "subtotal"
        if _TOTAL.search(t) or _TOTAL_ALONE.match(t):
            return "total"
    return None


def is_footer(values: list) -> bool:
    """A footer line: ``注：…``, ``填表人：…``, ``审核人``, ``联系电话`` … in its first text."""
    for v in values:
        if is_blank(v):
            continue
        return bool(_FOOTER.match(_text(v))) if isinstance(v, str) else False
    return False
