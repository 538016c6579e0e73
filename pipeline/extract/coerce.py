"""Per-cell coercion of county workbook cells into typed values ("never guess").

Every ``parse_*`` function takes a :class:`Cell` (the value python-calamine returned
plus side information from the sheet XML) and returns the typed value, ``None`` for a
blank (missing) cell, or raises :class:`CellError` with a machine rule code and a
clerk-facing message (Chinese first). Messages never contain the cell's text: the
caller adds the cell address, header and original text (and hides personal data).

Shared rules (forms.md, "What real workbooks contain" 5, 9, 11 and "Decisions"):

* A formula saved without a cached value raises ``formula_without_value`` in every
  parser, before anything else.
* Text is NFKC-normalised for numbers, codes, dates, booleans and choices (full-width
  digits, ``，`` and ``．`` become ASCII), then trimmed of all whitespace (NBSP,
  U+3000, tabs, line breaks) and invisible zero-width characters. Characters whose
  NFKC form would silently become other digits (superscripts ``²``, circled ``①``,
  fractions ``½``, Roman numerals) are refused, not converted.
* Thousands separators are accepted only in valid 3-digit groups (``1,234``,
  ``1,234,567.5``; a single space works the same way: ``1 234``). Anything else that
  looks like a number (``3,5079``, ``15,40``, ``1.234.5``) is ``malformed_number``;
  other text (``12O``, ``三千五百``, ``约3000``) is ``not_a_number``. Nothing is dropped.
* ``—``, ``–``, ``-``, ``－``, ``/``, ``／``, ``无`` (any run of dashes) alone mean "nothing
  to report": 0 for counts, money, decimals and percentages; ``None`` (not applicable)
  for dates, years, codes and choices; an error for booleans.
* Floats from the reader are read as the decimal Excel shows: the shortest
  round-trip ``repr``; when that has more than 15 significant digits (binary noise of
  a formula such as ``0.30000000000000004``) it is rounded to 15 significant digits,
  Excel's own precision. Codes never use this: they must be exact whole numbers.
* Text longer than Excel's cell limit (32,767 characters) is ``text_too_long``.
* A value its staging type cannot hold is ``out_of_storable_range`` [issue 11]: a count
  of more than 15 digits (Excel's precision; BIGINT sums stay in range), money beyond DECIMAL(18,2) (±9,999,999,999,999,999.99 yuan), a
  percentage that is not a finite DOUBLE. Dates lie in 1900..2100 (``bad_date``); a
  date *cell* before 1900-03-01 is ``bad_date`` too: Excel's 1900 calendar counts a
  fictitious 1900-02-29 (serial 60) that the reader turns into 1900-02-28, so such a
  date cannot be told. Non-finite numbers (``inf``, ``nan`` text) are ``not_a_number``.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from schemas.columns import COUNT_MAX, DATE_MAX_YEAR, DATE_MIN_YEAR, FEN_MAX

__all__ = [
    "Cell",
    "CellError",
    "EXCEL_MAX_TEXT",
    "is_blank",
    "is_date_format",
    "is_percent_format",
    "parse_bool",
    "parse_choice",
    "parse_code",
    "parse_count",
    "parse_date",
    "parse_decimal",
    "parse_many",
    "parse_money_fen",
    "parse_percent_points",
    "parse_period",
    "parse_text",
    "parse_year",
    "serial_to_date",
    "zero_pad_width",
]

EXCEL_MAX_TEXT = 32767
MAX_CODE_DIGITS = 15  # Excel keeps 15 significant digits of a number

# --------------------------------------------------------------------------- cell and error


@dataclass(frozen=True, slots=True)
class Cell:
    """One worksheet cell as the extractor sees it.

    ``value``: what python-calamine returned (``str``, ``float``/``int``, ``bool``,
    ``datetime``/``date``/``time``/``timedelta``; ``''`` or ``None`` = empty).
    ``is_text``: stored as a string in the file. ``number_format``: the Excel number
    format code (``'0.00%'``, ``'0000'``, ``'yyyy-mm-dd'``, ``'General'``) or ``None``.
    ``formula_without_value``: a formula saved without its cached value.
    """

    value: object
    is_text: bool = False
    number_format: str | None = None
    formula_without_value: bool = False


class CellError(ValueError):
    """A cell that cannot be read as its column's type.

    ``rule``: machine code (``not_a_number``, ``malformed_number``, ``not_whole_number``,
    ``negative``, ``not_boolean``, ``bad_date``, ``date_without_year``,
    ``code_digits_lost``, ``bad_code``, ``not_a_choice``, ``formula_without_value``,
    ``bad_year``, ``text_too_long``). ``message_zh`` / ``message_en``: what is wrong and
    what to do, without the cell's text (callers add address and original text).
    """

    def __init__(self, rule: str, message_zh: str, message_en: str) -> None:
        super().__init__(rule, message_zh, message_en)
        self.rule = rule
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.rule}: {self.message_en}"


# --------------------------------------------------------------------------- messages

_MSG: dict[str, tuple[str, str]] = {
    "formula_without_value": (
        "该单元格是公式，但文件中没有保存计算结果。请用 Excel 或 WPS 打开该文件，"
        "保存后重新报送（或直接填写数值）",
        "formula saved without a value: open the file in Excel or WPS, save it and resend "
        "(or type the value)",
    ),
    "text_too_long": (
        "内容超过 Excel 单元格上限（32767 个字符），请核对该单元格",
        "text longer than Excel's cell limit (32,767 characters); check the cell",
    ),
    "not_a_number": (
        "不是有效的数字，请填写阿拉伯数字（如 1234 或 1,234）",
        "not a valid number; write Arabic digits (e.g. 1234 or 1,234)",
    ),
    "not_a_number_date": (
        "这里应填数字，但单元格是日期（或时间），请改为数字",
        "a number is expected here but the cell holds a date or time; enter the number",
    ),
    "not_a_number_bool": (
        "这里应填数字，但单元格是逻辑值（TRUE/FALSE），请改为数字",
        "a number is expected here but the cell holds TRUE/FALSE; enter the number",
    ),
    "not_a_number_letter": (
        "数字中夹有字母（如把数字 0 写成字母 O、把 1 写成字母 l），请改为阿拉伯数字",
        "letters among the digits (e.g. letter O for zero); write Arabic digits only",
    ),
    "not_a_number_chinese": (
        "不能用汉字写数字，请填写阿拉伯数字（如 3500）",
        "numbers written in Chinese characters are not accepted; write Arabic digits (e.g. 3500)",
    ),
    "not_a_number_approx": (
        "请填写确切的数字，不要写“约”“左右”“多”等字样",
        "write the exact number, without 'about' or similar words",
    ),
    "not_a_number_symbol": (
        "只能填写数字，不要带单位、百分号或其他文字符号（如 1234 或 1,234）",
        "write the number only, without units, % or other words (e.g. 1234 or 1,234)",
    ),
    "not_a_number_special": (
        "含有上标、带圈数字或分数等特殊字符，请改为普通阿拉伯数字",
        "contains superscript, circled or fraction characters; write plain Arabic digits",
    ),
    "malformed_number": (
        "数字格式有误（千位分隔符或小数点位置不对），无法确定数值，请改正"
        "（千位分隔符只能每三位一个，如 1,234；小数点只能有一个，如 1234.5）",
        "malformed number (misplaced thousands separator or decimal point); the value "
        "cannot be determined: separators go every 3 digits (1,234), one decimal point",
    ),
    "malformed_number_sci": (
        "数字是科学计数法文本（如 1.2E+5），可能已丢失数位，请填写完整的数字",
        "number in scientific notation text (e.g. 1.2E+5); digits may be lost: write it out",
    ),
    "malformed_number_fen": (
        "金额的小数位超过了“分”的精度（以万元为单位最多 6 位小数，以元为单位最多 2 位），"
        "无法准确到分，请核对后填写",
        "amount more precise than a fen (at most 6 decimals in 万元, 2 in 元); check it",
    ),
    "not_whole_number": (
        "应为整数，不能有小数，请核对后填写整数",
        "must be a whole number; check and enter a whole number",
    ),
    "negative": ("不能为负数，请核对", "must not be negative; check the value"),
    "out_of_storable_range": (
        "数值过大，超出系统能保存的范围，请核对是否多写了数位或填错了单位",
        "value too large to be stored; check for extra digits or a wrong unit",
    ),
    "bad_date_1900": (
        "日期早于1900年3月1日，Excel 的日期系统在此之前有误（含不存在的1900年2月29日），"
        "无法确定是哪一天，请核对后填写",
        "a date before 1900-03-01, where Excel's calendar is wrong (it has a fictitious "
        "1900-02-29); the day cannot be told: check it",
    ),
    "not_boolean": (
        "应填“是”或“否”（也可填 √/×、Y/N、1/0），请修改",
        "must be 是 or 否 (also accepted: √/×, Y/N, 1/0)",
    ),
    "bad_date": (
        "不是有效的日期，请按“2019年12月31日”或“2019-12-31”的格式填写完整日期",
        "not a valid date; write a full date such as 2019年12月31日 or 2019-12-31",
    ),
    "bad_date_missing_day": (
        "日期缺少“日”，请填写完整日期（如 2019年12月31日）",
        "the date has no day; write a full date such as 2019年12月31日",
    ),
    "bad_date_range": (
        "日期不存在（月份或日超出范围），请核对后填写（如 2019年12月31日）",
        "no such date (month or day out of range); check it (e.g. 2019年12月31日)",
    ),
    "bad_date_number": (
        "日期不能写成数字（如 2019.10 在 Excel 中会变成 2019.1），"
        "请设置为日期格式或按“2019年10月1日”填写",
        "a date typed as a plain number (Excel turns 2019.10 into 2019.1); "
        "use a date format or write 2019年10月1日",
    ),
    "date_without_year": (
        "日期缺少年份，请填写完整日期（如 2019年11月20日）",
        "the date has no year; write a full date such as 2019年11月20日",
    ),
    "code_digits_lost": (
        "代码位数已丢失（被 Excel 当作数字存为科学计数法，或超过 15 位只保留了 15 位），"
        "请将单元格设为“文本”格式后重新输入完整代码",
        "code digits lost (stored as a number in scientific notation or over 15 digits); "
        "format the cell as Text and type the full code again",
    ),
    "bad_code": (
        "代码只能由数字组成（身份证号最后一位可为 X），请核对",
        "a code consists of digits only (an ID number may end in X); check it",
    ),
    "bad_year": (
        "不是有效的年份，请填写4位年份（如 2019 或 2019年）",
        "not a valid year; write a 4-digit year (e.g. 2019 or 2019年)",
    ),
    "not_a_choice": ("不是可选的值，请填写以下之一：{}", "not an allowed value; use one of: {}"),
}


def _err(rule: str, variant: str | None = None) -> CellError:
    zh, en = _MSG[variant or rule]
    return CellError(rule, zh, en)


# --------------------------------------------------------------------------- text helpers

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_WS_RE = re.compile(r"\s+")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_PLACEHOLDER_RE = re.compile(f"[{re.escape(_DASHES)}]+|/|无")
_QUOTES = ("'", "\u2018", "\u2019")


def _has_special_digits(s: str) -> bool:
    """Characters NFKC would turn into other digits or letters (², ①, ½, Ⅻ)."""
    for ch in s:
        if ord(ch) > 127 and unicodedata.category(ch) in ("No", "Nl") and ch != "\u3007":
            return True
    return False


def _norm(s: str) -> str:
    """NFKC, drop zero-width characters, trim every kind of whitespace at both ends."""
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s).translate(_INVISIBLE)
    return s.strip()


def _check_len(s: str) -> None:
    if len(s) > EXCEL_MAX_TEXT:
        raise _err("text_too_long")


def _check_number_text(s: str, rule: str, variant: str | None = None) -> None:
    """Text read as a number, code or year: ``text_too_long`` past Excel's limit, and
    ``CellError(rule, variant)`` for characters NFKC would turn into other digits (²,
    ①): a clerk's ``①`` is never read as 1."""
    _check_len(s)
    if not s.isascii() and _has_special_digits(s):
        raise _err(rule, variant)


def _is_placeholder(s: str) -> bool:
    """``s`` already normalised: a dash run, ``/`` or ``无`` alone."""
    return _PLACEHOLDER_RE.fullmatch(s) is not None


def _is_number(v: object) -> bool:
    return isinstance(v, (numbers.Real, Decimal)) and not isinstance(v, bool)


def _blank_value(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v or not v.translate(_INVISIBLE).strip()
    return isinstance(v, float) and math.isnan(v)


def is_blank(cell: Cell) -> bool:
    """True for an empty cell: ``None``, ``''``, NaN, or text of only whitespace.

    Whitespace includes NBSP, U+3000, tabs, line breaks and zero-width characters.
    A formula saved without a cached value is *not* blank (it has content whose
    value is unknown).
    """
    if cell.formula_without_value:
        return False
    return _blank_value(cell.value)


def _start(cell: Cell) -> object:
    """Common prologue: formula check. Returns the value, or ``None`` when blank."""
    if cell.formula_without_value:
        raise _err("formula_without_value")
    v = cell.value
    if _blank_value(v):
        return None
    return v


# --------------------------------------------------------------------------- numbers

_NUM_RE = re.compile(
    r"([+-]?)(?:([0-9]{1,3}(?:,[0-9]{3})+)|([0-9]{1,3}(?: [0-9]{3})+)|([0-9]+))?(?:\.([0-9]+))?",
    re.ASCII,
)
_LOOKS_NUMERIC_RE = re.compile(r"[+-]?[0-9,. ]*[0-9][0-9,. ]*", re.ASCII)
_SCI_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+", re.ASCII)
_CN_NUMERALS = set("零〇一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟萬億")
_APPROX = ("约", "大约", "左右", "多", "余", "近", "超过", "以上", "以下", "不到")


def _float_decimal(x: float) -> Decimal:
    """The decimal Excel shows for a finite float (shortest repr, ≤ 15 significant digits)."""
    d = Decimal(repr(x))
    if len(d.as_tuple().digits) > MAX_CODE_DIGITS:
        d = Decimal(format(x, ".15g"))
    return d


def _number_error(s: str) -> CellError:
    """Choose the rule and message for normalised text that is not a valid number."""
    if _LOOKS_NUMERIC_RE.fullmatch(s):
        return _err("malformed_number")
    if _SCI_RE.fullmatch(s):
        return _err("malformed_number", "malformed_number_sci")
    if any(ch in _CN_NUMERALS for ch in s):
        return _err("not_a_number", "not_a_number_chinese")
    if any(a in s for a in _APPROX):
        return _err("not_a_number", "not_a_number_approx")
    has_digit = any("0" <= ch <= "9" for ch in s)
    if has_digit and any(ch.isascii() and ch.isalpha() for ch in s):
        return _err("not_a_number", "not_a_number_letter")
    if has_digit:
        return _err("not_a_number", "not_a_number_symbol")
    return _err("not_a_number")


def _text_decimal(raw: str) -> Decimal | None:
    """Exact decimal of numeric text; ``Decimal(0)`` for a placeholder; raises otherwise.

    Returns ``None`` for whitespace-only text.
    """
    _check_len(raw)
    if raw.isascii() and raw.isdigit():  # fast path: plain digits
        return Decimal(raw)
    if not raw.isascii() and _has_special_digits(raw):
        raise _err("not_a_number", "not_a_number_special")
    s = _norm(raw)
    if not s:
        return None
    if s[0] in _QUOTES and len(s) > 1:
        s = s[1:].strip()
    if _is_placeholder(s):
        return Decimal(0)
    m = _NUM_RE.fullmatch(s)
    if m is None:
        raise _number_error(s)
    sign, grouped_c, grouped_s, plain, frac = m.groups()
    whole = grouped_c or grouped_s
    if whole is not None:
        if whole[0] == "0":  # '0,123' could be a decimal comma: never guess
            raise _err("malformed_number")
        whole = whole.replace(",", "").replace(" ", "")
    else:
        whole = plain
    if whole is None and frac is None:
        raise _number_error(s)
    return Decimal(f"{sign}{whole or '0'}.{frac or '0'}")


def _value_decimal(v: object) -> Decimal:
    """Exact decimal of a non-blank, non-text reader value; raises for other types."""
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _err("not_a_number")
        return _float_decimal(v)
    if isinstance(v, bool):
        raise _err("not_a_number", "not_a_number_bool")
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise _err("not_a_number")
        return v
    if isinstance(v, (_dt.date, _dt.time, _dt.timedelta)):
        raise _err("not_a_number", "not_a_number_date")
    if isinstance(v, numbers.Integral):
        return Decimal(int(v))
    if isinstance(v, numbers.Real):
        return _value_decimal(float(v))
    raise _err("not_a_number")


def _cell_decimal(cell: Cell) -> Decimal | None:
    v = _start(cell)
    if v is None:
        return None
    if isinstance(v, str):
        return _text_decimal(v)
    return _value_decimal(v)


def _scaled_int(d: Decimal, power: int) -> int | None:
    """``d × 10**power`` as an exact int, or ``None`` if it is not whole."""
    sign, digits, exp = d.as_tuple()
    coeff = int("".join(map(str, digits))) if digits else 0
    e = exp + power
    if e >= 0:
        n = coeff * 10**e
    else:
        n, rem = divmod(coeff, 10**-e)
        if rem:
            return None
    return -n if sign else n


def parse_decimal(cell: Cell) -> Decimal | None:
    """Exact :class:`~decimal.Decimal` of a number cell or numeric text (no unit scaling).

    Floats become the decimal Excel shows (see module notes); placeholders give
    ``Decimal(0)``; blank gives ``None``. Raises ``CellError`` with ``not_a_number``,
    ``malformed_number``, ``formula_without_value`` or ``text_too_long``.
    """
    return _cell_decimal(cell)


def parse_count(cell: Cell) -> int | None:
    """A count (persons, households, units): whole number ≥ 0, or ``None`` if blank.

    ``3.0`` → 3; ``—``/``-``/``/``/``无`` → 0. Raises ``CellError``: ``not_whole_number``
    (3.5), ``negative`` (-5), ``not_a_number``, ``malformed_number``,
    ``formula_without_value``, ``text_too_long``.
    """
    if cell.formula_without_value:
        raise _err("formula_without_value")
    v = cell.value
    if type(v) is float and v.is_integer() and 0.0 <= v <= COUNT_MAX:  # fast path
        return int(v)
    if type(v) is int and 0 <= v <= COUNT_MAX:
        return v
    d = _cell_decimal(cell)
    if d is None:
        return None
    if d.adjusted() > 30:  # far beyond any type: never build its digits
        raise _err("negative" if d < 0 else "out_of_storable_range")
    n = _scaled_int(d, 0)
    if d < 0 and (n is None or n != 0):
        raise _err("negative")
    if n is None:
        raise _err("not_whole_number")
    if n > COUNT_MAX:
        raise _err("out_of_storable_range")
    return n


_MONEY_POWER = {"万元": 6, "元": 2}


def parse_money_fen(cell: Cell, unit: str = "万元") -> int | None:
    """Money as whole fen (1 yuan = 100 fen), exact; ``None`` if blank.

    ``unit`` is the sheet's unit: ``'万元'`` (10,000 yuan; 1.13 → 1,130,000 fen) or
    ``'元'``. Placeholders give 0; negative amounts are returned as they are (range
    rules live in the schemas). A value more precise than a fen is refused, never
    rounded. Raises ``CellError``: ``malformed_number`` (bad separators, or finer than
    a fen), ``out_of_storable_range`` (beyond DECIMAL(18,2): more than 10**18 - 1 fen
    either way), ``not_a_number``, ``formula_without_value``, ``text_too_long``;
    ``ValueError`` for an unknown ``unit``.
    """
    try:
        power = _MONEY_POWER[unit]
    except KeyError:
        raise ValueError(f"unknown money unit {unit!r} (expected '万元' or '元')") from None
    v = cell.value
    if type(v) is float and -1e9 < v < 1e9 and not cell.formula_without_value:
        # Fast path. Below 1e9 two values with at most 6 decimals are further apart than a
        # float's spacing, so if a whole fen count divides back to exactly this float it
        # is the decimal that repr() gives: the same answer as the exact path below.
        scale = 10**power
        fen = round(v * scale)
        if fen / scale == v:
            return fen
    d = _cell_decimal(cell)
    if d is None:
        return None
    if d.adjusted() > 30:  # far beyond DECIMAL(18,2): never build its digits
        raise _err("out_of_storable_range")
    n = _scaled_int(d, power)
    if n is None:
        raise _err("malformed_number", "malformed_number_fen")
    if abs(n) > FEN_MAX:
        raise _err("out_of_storable_range")
    return n


def parse_percent_points(cell: Cell) -> float | None:
    """A percentage in percentage points (99.67 means 99.67 %); ``None`` if blank.

    A number with a ``%`` number format holds a fraction (0.9967 → 99.67); any other
    number is already in points; text ``'99.67%'`` or ``'99.67'`` → 99.67; placeholders
    → 0.0. Raises ``CellError``: ``not_a_number``, ``malformed_number``,
    ``out_of_storable_range`` (not a finite DOUBLE), ``formula_without_value``,
    ``text_too_long``.
    """
    v = _start(cell)
    if v is None:
        return None
    if isinstance(v, str):
        _check_number_text(v, "not_a_number", "not_a_number_special")
        s = _norm(v)
        if s.endswith("%"):
            body = s[:-1].rstrip()
            if not body or body.endswith("%") or _is_placeholder(body):
                raise _err("not_a_number")
            d = _text_decimal(body)
        else:
            d = _text_decimal(v)
        if d is None:
            return None
        return _finite(d)
    d = _value_decimal(v)
    if is_percent_format(cell.number_format):
        d = d.scaleb(2)
    return _finite(d)


def _finite(d: Decimal) -> float:
    """``d`` as a DOUBLE; ``out_of_storable_range`` when it is too large for one."""
    x = float(d)
    if not math.isfinite(x):
        raise _err("out_of_storable_range")
    return x


# --------------------------------------------------------------------------- booleans

_TRUE = frozenset({"是", "√", "✓", "✔", "y", "1", "true"})
_FALSE = frozenset({"否", "×", "✗", "✘", "n", "0", "false"})


def parse_bool(cell: Cell) -> bool | None:
    """A yes/no cell; ``None`` if blank.

    True: ``是``, ``√``/``✓``/``✔``, ``Y``/``y``, ``1`` (number or text), ``true``
    (any case). False: ``否``, ``×``/``✗``/``✘``, ``N``/``n``, ``0``, ``false``.
    Whitespace around is ignored; full-width forms are accepted. Anything else
    (``是的``, ``有``, ``—``, 2) raises ``CellError('not_boolean')``; also
    ``formula_without_value``, ``text_too_long``.
    """
    v = _start(cell)
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        _check_len(v)
        s = _norm(v).casefold()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise _err("not_boolean")
    if _is_number(v):
        if v == 1:
            return True
        if v == 0:
            return False
    raise _err("not_boolean")


# --------------------------------------------------------------------------- codes

_CODE_RE = re.compile(r"[0-9]+[Xx]?", re.ASCII)
_CODE_SCI_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+", re.ASCII)
_FMT_STRIP_RE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


@lru_cache(maxsize=1024)
def _fmt_sections(fmt: str) -> tuple[str, ...]:
    """Format sections with quoted literals, escapes, ``[...]`` and padding removed."""
    return tuple(_FMT_STRIP_RE.sub("", sec) for sec in fmt.split(";"))


@lru_cache(maxsize=1024)
def zero_pad_width(number_format: str | None) -> int:
    """Width of a zero-padding format such as ``'0000'`` (→ 4); 0 for anything else."""
    if not number_format:
        return 0
    first = _fmt_sections(number_format)[0].strip()
    return len(first) if first and set(first) == {"0"} else 0


@lru_cache(maxsize=1024)
def is_percent_format(number_format: str | None) -> bool:
    """True when the (first section of the) number format shows the value as a percentage."""
    if not number_format:
        return False
    return "%" in _fmt_sections(number_format)[0]


@lru_cache(maxsize=1024)
def is_date_format(number_format: str | None) -> bool:
    """True when the number format displays a date (has year, day, or month without time)."""
    if not number_format:
        return False
    raw = number_format.lower()
    if raw == "general" or raw == "@":
        return False
    f = _fmt_sections(raw)[0]
    if "y" in f or "d" in f:
        return True
    return "m" in f and "h" not in f and "s" not in f and "0" not in f and "#" not in f


def parse_code(cell: Cell) -> str | None:
    """A code (village code, household id, ID number) as text; ``None`` if blank.

    Text: NFKC-normalised, trimmed, one leading apostrophe removed; it must then be
    digits, optionally ending in ``X``/``x`` (kept as typed; length and check digits
    are validated elsewhere). A number: a whole number of at most 15 digits becomes
    its digits (530128101201.0 → ``'530128101201'``), left-padded to the width of a
    zero-padding format (``'0000'``: 2 → ``'0002'``). Placeholders (``—``, ``/``, ``无``)
    mean no code: ``None``. Raises ``CellError``: ``code_digits_lost`` (a number of 16+
    digits; text in scientific notation such as ``5.30128E+11``), ``bad_code`` (any other
    text, a fraction, a negative number, a date), ``formula_without_value``,
    ``text_too_long``.
    """
    v = _start(cell)
    if v is None:
        return None
    if isinstance(v, str):
        _check_number_text(v, "bad_code")
        if v.isascii() and v.isdigit():  # fast path
            return v
        s = _norm(v)
        if s and s[0] in _QUOTES:
            s = s[1:].strip()
        if not s:
            return None
        if _CODE_RE.fullmatch(s):
            return s
        if _is_placeholder(s):
            return None
        if _CODE_SCI_RE.fullmatch(s):
            raise _err("code_digits_lost")
        raise _err("bad_code")
    if isinstance(v, bool) or not _is_number(v):
        raise _err("bad_code")
    if isinstance(v, numbers.Integral):
        n = int(v)
    else:
        x = float(v)
        if not math.isfinite(x):
            raise _err("bad_code")
        if abs(x) >= 1e15:
            raise _err("code_digits_lost")
        if not x.is_integer():
            raise _err("bad_code")
        n = int(x)
    if n < 0:
        raise _err("bad_code")
    digits = str(n)
    if len(digits) > MAX_CODE_DIGITS:
        raise _err("code_digits_lost")
    width = zero_pad_width(cell.number_format)
    return digits.zfill(width) if width else digits


# --------------------------------------------------------------------------- dates

_EPOCH_1900 = _dt.date(1899, 12, 30)
_EPOCH_1904 = _dt.date(1904, 1, 1)
SERIAL_MIN, SERIAL_MAX = 20000, 80000  # General numbers taken as serials (1954..2119)
YEAR_MIN, YEAR_MAX = 1900, 2100

_TIME_SUFFIX_RE = re.compile(
    r"(.*?[0-9日号])(?:\s+|T)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?", re.ASCII
)
_D_CN_RE = re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})[日号]?", re.ASCII)
_D_SEP_RE = re.compile(r"([0-9]{4})([./-])([0-9]{1,2})\2([0-9]{1,2})", re.ASCII)
_YM_CN_RE = re.compile(r"([0-9]{4})年([0-9]{1,2})月份?", re.ASCII)
_YM_SEP_RE = re.compile(r"([0-9]{4})[./-]([0-9]{1,2})", re.ASCII)
_YM_RANGE_RE = re.compile(r"([0-9]{4})年([0-9]{1,2})[-~至—–]([0-9]{1,2})月份?", re.ASCII)
_MD_RE = re.compile(r"([0-9]{1,2})月([0-9]{1,2})[日号]?|([0-9]{1,2})[./-]([0-9]{1,2})", re.ASCII)


def serial_to_date(serial: float, date1904: bool = False) -> _dt.date:
    """The date of an Excel serial (fraction = time of day, dropped).

    1900 system: day 1 = 1900-01-01, day 60 is Excel's non-existent 1900-02-29.
    1904 system: day 0 = 1904-01-01 (the 1900 serial minus 1462). Raises
    ``CellError('bad_date')`` for serials before day 1 (day 0 in 1904), 1900-02-29 or
    beyond 9999-12-31.
    """
    if not math.isfinite(serial):
        raise _err("bad_date")
    days = math.floor(serial)
    try:
        if date1904:
            if days < 0:
                raise _err("bad_date")
            return _EPOCH_1904 + _dt.timedelta(days=days)
        if days < 1 or days == 60:
            raise _err("bad_date", "bad_date_range")
        if days < 60:
            return _dt.date(1899, 12, 31) + _dt.timedelta(days=days)
        return _EPOCH_1900 + _dt.timedelta(days=days)
    except OverflowError:
        raise _err("bad_date") from None


def _number_date(v: object, number_format: str | None, date1904: bool) -> _dt.date:
    """Date from a number cell: a serial if date-formatted or a plausible whole serial."""
    x = float(v)  # type: ignore[arg-type]
    if not math.isfinite(x):
        raise _err("bad_date")
    if is_date_format(number_format):
        return _date_in_range(serial_to_date(x, date1904))
    if x.is_integer() and SERIAL_MIN <= x <= SERIAL_MAX:
        return serial_to_date(x, date1904)
    raise _err("bad_date", "bad_date_number")


def _date_in_range(d: _dt.date) -> _dt.date:
    """``d`` if its year is in 1900..2100, else ``bad_date`` (``bad_date_range``)."""
    if not DATE_MIN_YEAR <= d.year <= DATE_MAX_YEAR:
        raise _err("bad_date", "bad_date_range")
    return d


_EXCEL_1900_FIRST_TRUE = _dt.date(1900, 3, 1)


def _reader_date(v: _dt.date, date1904: bool) -> _dt.date:
    """A date the reader made of a date cell: in 1900..2100, and not before 1900-03-01
    in the 1900 system (the reader gives serial 60, Excel's fictitious 1900-02-29, as
    1900-02-28 like serial 59: the day cannot be told)."""
    d = v.date() if isinstance(v, _dt.datetime) else v
    if not date1904 and d < _EXCEL_1900_FIRST_TRUE:
        raise _err("bad_date", "bad_date_1900")
    return _date_in_range(d)


def _ymd(y: str, m: str, d: str) -> _dt.date:
    year, month, day = int(y), int(m), int(d)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise _err("bad_date", "bad_date_range")
    try:
        return _dt.date(year, month, day)
    except ValueError:
        raise _err("bad_date", "bad_date_range") from None


def _date_text(raw: str) -> str:
    """Normalised date text: NFKC, no whitespace at all, a trailing time of day dropped."""
    _check_len(raw)
    if not raw.isascii() and _has_special_digits(raw):
        raise _err("bad_date")
    s = _norm(raw)
    if (m := _TIME_SUFFIX_RE.fullmatch(s)) is not None:
        hh, mm, ss = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
        if hh > 23 or mm > 59 or ss > 59:
            raise _err("bad_date")
        s = m.group(1)
    return _WS_RE.sub("", s)


def _full_date(s: str) -> _dt.date | None:
    if (m := _D_CN_RE.fullmatch(s)) is not None:
        return _ymd(*m.groups())
    if (m := _D_SEP_RE.fullmatch(s)) is not None:
        return _ymd(m.group(1), m.group(3), m.group(4))
    return None


def parse_date(cell: Cell, date1904: bool = False) -> _dt.date | None:
    """A calendar date; ``None`` if blank or a placeholder (``—``, ``/``, ``无``).

    A ``datetime``/``date`` from the reader → its date. A number → an Excel serial
    when its format is a date format or it is a whole number in 20000..80000
    (1900 system; ``date1904=True``: 1904 system). A date outside 1900..2100, or a date
    cell before 1900-03-01 in the 1900 system, is ``bad_date``. Text (spaces anywhere, full-width
    digits): ``2019年11月20日`` (also 号 or no 日), ``2019.11.20``, ``2019/11/20``,
    ``2019-11-20``, optionally followed by a time of day. Raises ``CellError``:
    ``date_without_year`` (``11月20日``, ``11/20``), ``bad_date`` (year-month only,
    2019.1 as a General number, month 13, day 32, a year outside 1900..2100,
    two-digit years, ``10/8/2019``, a time without date), ``formula_without_value``,
    ``text_too_long``.
    """
    v = _start(cell)
    if v is None:
        return None
    if isinstance(v, _dt.date):  # datetime is a date subclass
        return _reader_date(v, date1904)
    if isinstance(v, str):
        s = _date_text(v)
        if not s:
            return None
        if (d := _full_date(s)) is not None:
            return d
        if _is_placeholder(s):
            return None
        if _YM_CN_RE.fullmatch(s) or _YM_SEP_RE.fullmatch(s) or _YM_RANGE_RE.fullmatch(s):
            raise _err("bad_date", "bad_date_missing_day")
        if _MD_RE.fullmatch(s):
            raise _err("date_without_year")
        raise _err("bad_date")
    if isinstance(v, bool) or not _is_number(v):
        raise _err("bad_date")
    return _number_date(v, cell.number_format, date1904)


def _check_period(year: int, month: int) -> tuple[int, int]:
    if not (YEAR_MIN <= year <= YEAR_MAX and 1 <= month <= 12):
        raise _err("bad_date", "bad_date_range")
    return year, month


def parse_period(cell_or_text: Cell | str | object, date1904: bool = False) -> tuple[int, int]:
    """``(year, month)`` of a cover's statistics date (统计截止时间).

    Accepts a :class:`Cell` or a plain value/text. Text (spaces anywhere): a full
    date as in :func:`parse_date` (``2019年12月31日``, ``2019.12.31``, ``2019/12/31``,
    ``2019-12-31``), a year-month (``2019年12月``, ``2019年12月份``, ``2019-12``,
    ``2019.12``, ``2019/12``) or a cumulative range ``2019年1-12月`` (its last month).
    A date cell → its month; a number → an Excel serial as in :func:`parse_date`
    (43830 → 2019-12; 1904 system 42368 → 2019-12). Raises ``CellError('bad_date')``
    for anything else (blank included), ``formula_without_value``, ``text_too_long``.
    """
    cell = cell_or_text if isinstance(cell_or_text, Cell) else Cell(cell_or_text)
    v = _start(cell)
    if v is None:
        raise _err("bad_date")
    if isinstance(v, _dt.date):  # datetime is a date subclass
        return v.year, v.month
    if isinstance(v, str):
        s = _date_text(v)
        if (d := _full_date(s)) is not None:
            return d.year, d.month
        if (m := _YM_CN_RE.fullmatch(s)) is not None or (m := _YM_SEP_RE.fullmatch(s)):
            return _check_period(int(m.group(1)), int(m.group(2)))
        if (m := _YM_RANGE_RE.fullmatch(s)) is not None:
            first, last = int(m.group(2)), int(m.group(3))
            if not 1 <= first <= last:
                raise _err("bad_date", "bad_date_range")
            return _check_period(int(m.group(1)), last)
        if _MD_RE.fullmatch(s):
            raise _err("date_without_year")
        raise _err("bad_date")
    if isinstance(v, bool) or not _is_number(v):
        raise _err("bad_date")
    d = _number_date(v, cell.number_format, date1904)
    return d.year, d.month


# --------------------------------------------------------------------------- years

_YEAR_RE = re.compile(r"([0-9]{4})(?:年度?)?", re.ASCII)


def parse_year(cell: Cell) -> int | None:
    """A 4-digit year in 1900..2100 from a number (2019, 2019.0) or text (``2019``,
    ``2019年``, ``2019年度``, full-width digits); ``None`` if blank or a placeholder.

    Raises ``CellError``: ``bad_year`` (2019.5, 19, a date, other text),
    ``formula_without_value``, ``text_too_long``.
    """
    v = _start(cell)
    if v is None:
        return None
    if isinstance(v, str):
        _check_number_text(v, "bad_year")
        s = _WS_RE.sub("", _norm(v))
        if not s or _is_placeholder(s):
            return None
        m = _YEAR_RE.fullmatch(s)
        if m is None:
            raise _err("bad_year")
        year = int(m.group(1))
    elif isinstance(v, bool) or not _is_number(v):
        raise _err("bad_year")
    else:
        x = float(v)  # type: ignore[arg-type]
        if not (math.isfinite(x) and x.is_integer()):
            raise _err("bad_year")
        year = int(x)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise _err("bad_year")
    return year


# --------------------------------------------------------------------------- text and choices


def _strip_text(s: str) -> str:
    return s.strip().strip("\u200b\u200c\u200d\u2060\ufeff").strip()


def parse_text(cell: Cell) -> str | None:
    """Free text (township, village, site name) trimmed at both ends; ``None`` if empty.

    Whitespace (NBSP, U+3000, tabs, line breaks) and zero-width characters are trimmed
    at the ends only; the inner text is kept as typed (no NFKC). A number gives its
    digits as Excel shows them (3.0 → ``'3'``, 3.5 → ``'3.5'``); a bool ``TRUE``/``FALSE``;
    a date ``YYYY-MM-DD``. Raises ``CellError``: ``formula_without_value``,
    ``text_too_long``.
    """
    v = _start(cell)
    if v is None:
        return None
    if isinstance(v, str):
        _check_len(v)
        return _strip_text(v) or None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if _is_number(v):
        if isinstance(v, numbers.Integral):
            return str(int(v))
        x = float(v)  # type: ignore[arg-type]
        if not math.isfinite(x):
            return None if math.isnan(x) else str(x)
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return format(_float_decimal(x), "f") if abs(x) < 1e15 else str(_float_decimal(x))
    return str(v).strip() or None


def _choice_key(s: str) -> str:
    return _WS_RE.sub("", unicodedata.normalize("NFKC", s)).casefold()


@lru_cache(maxsize=256)
def _choice_map(choices: tuple[str, ...]) -> dict[str, str]:
    return {_choice_key(c): c for c in choices}


def parse_choice(cell: Cell, choices: tuple[str, ...]) -> str | None:
    """One of ``choices`` (returned exactly as spelled in ``choices``); ``None`` if blank.

    Matching ignores whitespace anywhere, full-width/half-width differences (NFKC) and
    Latin case. Placeholders (``—``, ``/``, ``无``) mean not applicable → ``None``
    unless they are themselves a choice. Raises ``CellError``: ``not_a_choice`` (the
    message lists the choices), ``formula_without_value``, ``text_too_long``.
    """
    v = _start(cell)
    if v is None:
        return None
    text = v if isinstance(v, str) else parse_text(cell)
    if text is None:
        return None
    _check_len(text)
    key = _choice_key(text)
    mapping = _choice_map(tuple(choices))
    if key in mapping:
        return mapping[key]
    if not key:
        return None
    if _is_placeholder(key):
        return None
    listed = "、".join(choices)
    zh, en = _MSG["not_a_choice"]
    raise CellError("not_a_choice", zh.format(listed), en.format(", ".join(choices)))


# --------------------------------------------------------------------------- many cells


def parse_many(
    cells: Iterable[Cell], parser: Callable[..., object], /, **kwargs: object
) -> tuple[list[object], dict[int, CellError]]:
    """Apply ``parser`` to each cell: ``(values, errors)``.

    ``values[i]`` is the parsed value (``None`` for blank or failed cells) and
    ``errors[i]`` the :class:`CellError` of each failed cell, by position.
    """
    values: list[object] = []
    errors: dict[int, CellError] = {}
    for i, cell in enumerate(cells):
        try:
            values.append(parser(cell, **kwargs))
        except CellError as e:
            values.append(None)
            errors[i] = e
    return values, errors
