"""Per-cell coercion (pipeline.extract.coerce): case tables 04, 05, 07, 11, 13 and properties."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipeline.extract.coerce import (
    Cell,
    CellError,
    is_blank,
    is_date_format,
    is_percent_format,
    parse_bool,
    parse_choice,
    parse_code,
    parse_count,
    parse_date,
    parse_decimal,
    parse_many,
    parse_money_fen,
    parse_percent_points,
    parse_period,
    parse_text,
    parse_year,
    serial_to_date,
    zero_pad_width,
)

PROPS = settings(max_examples=200, deadline=None)
FULLWIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


def text(s: str) -> Cell:
    return Cell(s, is_text=True)


def num(x: float, fmt: str | None = "General") -> Cell:
    return Cell(x, number_format=fmt)


def raises_rule(rule: str, fn, *args, **kwargs) -> CellError:
    with pytest.raises(CellError) as info:
        fn(*args, **kwargs)
    assert info.value.rule == rule, (info.value.rule, info.value.message_en)
    assert info.value.message_zh and info.value.message_en
    return info.value


# --------------------------------------------------------------------------- case 04

# (sheet, cell, text, kind, loads_as) — money columns (表4 F, G) load as yuan.
CASE_04 = [
    ("表4", "C4", "１５１６", "count", 1516),
    ("表4", "F4", "581.94", "money", Decimal("5819400.00")),
    ("表4", "G4", "５１８．５５", "money", Decimal("5185500.00")),
    ("表4", "E4", "53\xa0", "count", 53),
    ("表4", "B4", "1,516", "count", 1516),
    ("表4", "D4", " 1516 ", "count", 1516),
    ("表4", "E6", "—", "count", 0),
    ("表4", "B6", "1619", "count", 1619),
    ("表4", "C7", "４，７３２", "count", 4732),
    ("表4", "E7", "无", "count", 0),
    ("表4", "F8", "  86.5 ", "money", Decimal("865000.00")),
    ("表4", "E8", "-", "count", 0),
    ("表4", "E9", "/", "count", 0),
    ("表4", "D9", "\u30004945", "count", 4945),
    ("表7", "B4", "3,687", "count", 3687),
    ("表7", "E5", "0", "count", 0),
    ("表7", "D5", "０", "count", 0),
    ("表7", "F6", "８６", "count", 86),
    ("表7", "G7", "—", "count", 0),
    ("表7", "C7", "5,250 ", "count", 5250),
]


@pytest.mark.parametrize(("sheet", "ref", "raw", "kind", "expected"), CASE_04)
def test_case04_text_cells(sheet, ref, raw, kind, expected):
    if kind == "count":
        got = parse_count(text(raw))
        assert got == expected and type(got) is int
    else:
        fen = parse_money_fen(text(raw), "万元")
        assert type(fen) is int
        assert Decimal(fen) / 100 == expected


@pytest.mark.parametrize(
    ("value", "yuan"),
    [(1.13, Decimal("11300.00")), (0.57, Decimal("5700.00")), (77.97, Decimal("779700.00"))],
)
def test_case04_money_floats_exact(value, yuan):
    fen = parse_money_fen(num(value))
    assert fen == int(yuan * 100)


def test_money_examples_from_brief():
    assert parse_money_fen(num(1.13)) == 1130000
    assert parse_money_fen(num(0.57)) == 570000
    assert parse_money_fen(text("５１８．５５")) == 518550000
    assert parse_money_fen(num(0.000001)) == 1  # 0.01 yuan
    raises_rule("malformed_number", parse_money_fen, num(0.0000001))
    raises_rule("malformed_number", parse_money_fen, text("0.0000001"))
    assert parse_money_fen(text("1,234.56"), unit="元") == 123456
    assert parse_money_fen(num(6520.0), unit="元") == 652000
    raises_rule("malformed_number", parse_money_fen, text("1.234"), unit="元")
    assert parse_money_fen(text("1,234,567.5")) == 1234567500000
    assert parse_money_fen(text("—")) == 0
    assert parse_money_fen(text("")) is None
    assert parse_money_fen(num(-1.5)) == -1500000  # range rules live in the schemas
    # binary noise of a formula is read as Excel shows it (15 significant digits)
    assert parse_money_fen(num(0.1 + 0.2)) == 300000
    with pytest.raises(ValueError):
        parse_money_fen(text("1"), unit="千元")


# --------------------------------------------------------------------------- case 05

CASE_05_BAD = [
    ("F4", "3,5079", "malformed_number"),
    ("H5", "1.234.5", "malformed_number"),
    ("E6", "12O", "not_a_number"),
    ("J7", "15,40", "malformed_number"),
    ("E8", "1,2345", "malformed_number"),
    ("E9", "12,34", "malformed_number"),
    ("H9", "4.5.6", "malformed_number"),
    ("F12", "三千五百", "not_a_number"),
    ("F26", "约3000", "not_a_number"),  # case 13
]
MORE_BAD = [
    ("0,123", "malformed_number"),  # could be a decimal comma
    ("1,23,456", "malformed_number"),  # Indian grouping
    ("1,234.5,6", "malformed_number"),
    ("1.234,5", "malformed_number"),
    ("12 34", "malformed_number"),
    ("5.", "malformed_number"),
    ("1.5E+3", "malformed_number"),
    ("1,234元", "not_a_number"),
    ("50%", "not_a_number"),
    ("10²", "not_a_number"),
    ("①", "not_a_number"),
    ("l23", "not_a_number"),
    ("abc", "not_a_number"),
    ("—5", "not_a_number"),
    ("?", "not_a_number"),
]


@pytest.mark.parametrize(("ref", "raw", "rule"), CASE_05_BAD)
@pytest.mark.parametrize("parser", [parse_count, parse_money_fen, parse_decimal])
def test_case05_malformed_never_guessed(ref, raw, rule, parser):
    err = raises_rule(rule, parser, text(raw))
    assert raw not in err.message_zh and raw not in err.message_en


@pytest.mark.parametrize(("raw", "rule"), MORE_BAD)
def test_more_malformed(raw, rule):
    raises_rule(rule, parse_count, text(raw))
    raises_rule(rule, parse_money_fen, text(raw))


@pytest.mark.parametrize(("raw", "expected"), [("2,001", 2001), ("６２", 62), ("1 234", 1234)])
def test_case05_well_formed_controls(raw, expected):
    assert parse_count(text(raw)) == expected


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (num(3.0), 3),
        (num(3), 3),
        (num(0.0), 0),
        (num(-0.0), 0),
        (text("0012"), 12),
        (text("+7"), 7),
        (text("-0"), 0),
        (text("'1234"), 1234),
        (text("1,234,567"), 1234567),
        (text("３．０"), 3),
        (text("1\u200b234"), 1234),  # zero-width space is invisible: removed
        (text("――"), 0),
        (text("——"), 0),
        (text("–"), 0),
        (text("－"), 0),
        (text("／"), 0),
        (text(" \xa0\u3000\t"), None),
        (text(""), None),
        (Cell(None), None),
        (num(0.1 + 0.2 + 2.7), 3),  # formula noise 3.0000000000000004
    ],
)
def test_count_values(cell, expected):
    assert parse_count(cell) == expected


@pytest.mark.parametrize(
    ("cell", "rule"),
    [
        (num(3.5), "not_whole_number"),
        (text("3.5"), "not_whole_number"),
        (num(-5.0), "negative"),
        (text("-5"), "negative"),
        (text("－５"), "negative"),
        (num(-0.5), "negative"),
        (Cell(True), "not_a_number"),
        (Cell(dt.datetime(2019, 1, 1)), "not_a_number"),
        (Cell(dt.time(10, 0)), "not_a_number"),
        (num(float("nan")), None),
        (num(float("inf")), "not_a_number"),
    ],
)
def test_count_errors(cell, rule):
    if rule is None:  # NaN is pandas' missing marker
        assert parse_count(cell) is None
    else:
        raises_rule(rule, parse_count, cell)


# --------------------------------------------------------------------------- decimals, percent


def test_parse_decimal():
    assert parse_decimal(text("1,234.50")) == Decimal("1234.50")
    assert str(parse_decimal(num(0.1))) == "0.1"
    assert parse_decimal(num(0.1 + 0.2)) == Decimal("0.3")
    assert parse_decimal(text("-")) == 0
    assert parse_decimal(text("")) is None
    assert parse_decimal(Cell(Decimal("2.50"))) == Decimal("2.50")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (num(0.9967, "0.00%"), 99.67),
        (num(0.0065, "0%"), 0.65),
        (num(1, "0.00%"), 100.0),
        (num(99.67, "General"), 99.67),
        (num(0.65, "0.00"), 0.65),
        (text("99.67%"), 99.67),
        (text("99.67"), 99.67),
        (text(" ９９．６７％ "), 99.67),
        (text("99.67 %"), 99.67),
        (text("—"), 0.0),
        (text("/"), 0.0),
        (text(""), None),
    ],
)
def test_percent_points(cell, expected):
    assert parse_percent_points(cell) == expected


@pytest.mark.parametrize("raw", ["%", "99.67%%", "9,96.7%", "约99%", "99.67‰", "10²%"])
def test_percent_errors(raw):
    with pytest.raises(CellError):
        parse_percent_points(text(raw))


# --------------------------------------------------------------------------- booleans (case 13)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (text("√"), True),
        (text("×"), False),
        (text("Y"), True),
        (text("N"), False),
        (text("y"), True),
        (text("n"), False),
        (num(1.0), True),
        (num(0.0), False),
        (text("1"), True),
        (text("０"), False),
        (text(" 是 "), True),
        (text("否 "), False),
        (text("\u3000是"), True),
        (text("true"), True),
        (text("FALSE"), False),
        (text("ｙ"), True),
        (text("✓"), True),
        (text("✗"), False),
        (Cell(True), True),
        (Cell(False), False),
        (text(""), None),
    ],
)
def test_bool_accepted(cell, expected):
    assert parse_bool(cell) is expected


@pytest.mark.parametrize(
    "cell",
    [text("是的"), text("有"), text("—"), text("/"), text("X"), text("1.0"), num(2.0), num(0.5)],
)
def test_bool_refused(cell):
    raises_rule("not_boolean", parse_bool, cell)


# --------------------------------------------------------------------------- codes (case 11)

VILLAGE_CODES = [
    ("C4", num(530128101201.0, "General"), "530128101201"),
    ("C5", num(530128101202.0, "0"), "530128101202"),
    ("C6", text("530128101203"), "530128101203"),
    ("C7", text("530128101204"), "530128101204"),  # quotePrefix: no apostrophe in the text
    ("C7'", text("'530128101204"), "530128101204"),  # apostrophe inside the text
    ("C8", text("5.30128E+11"), "code_digits_lost"),
    ("C9", num(530129101206.0), "530129101206"),  # county prefix checked elsewhere
    ("C10", text("53012810120"), "53012810120"),  # length checked elsewhere
    ("C11", text(" 530128101207 "), "530128101207"),
    ("C12", text("５３０１２８１０１２０８"), "530128101208"),
    ("C13", num(530128101210.0), "530128101210"),
]
HOUSEHOLD_AND_ID = [
    ("A4", text("0001"), "0001"),
    ("A5", num(2.0, "0000"), "0002"),
    ("A5b", num(2.0, "000000"), "000002"),
    ("A5c", num(12345.0, "0000"), "12345"),
    ("C5", text("53012819730902181x"), "53012819730902181x"),
    ("C6", num(5.30128197612093e17), "code_digits_lost"),
    ("C8", text("530128860613900"), "530128860613900"),
    ("C9", text("530128196204146144 "), "530128196204146144"),
    ("sci", text("5.30128e11"), "code_digits_lost"),
    ("sci2", text("５．３０１２８Ｅ＋１１"), "code_digits_lost"),
    ("frac", num(12.5), "bad_code"),
    ("neg", num(-12.0), "bad_code"),
    ("dash", text("5301-28"), "bad_code"),
    ("inner space", text("5301 28"), "bad_code"),
    ("letter", text("53O128"), "bad_code"),
    ("date", Cell(dt.date(2019, 1, 1)), "bad_code"),
    ("bool", Cell(True), "bad_code"),
    ("placeholder", text("—"), None),
    ("blank", text(" "), None),
]


@pytest.mark.parametrize(("ref", "cell", "expected"), VILLAGE_CODES + HOUSEHOLD_AND_ID)
def test_case11_codes(ref, cell, expected):
    if expected in ("code_digits_lost", "bad_code"):
        err = raises_rule(expected, parse_code, cell)
        assert str(cell.value) not in err.message_zh + err.message_en
    else:
        assert parse_code(cell) == expected


def test_zero_pad_width_and_formats():
    assert zero_pad_width("0000") == 4
    assert zero_pad_width("000000;@") == 6
    assert zero_pad_width("0") == 1
    assert zero_pad_width("General") == 0
    assert zero_pad_width("0.00") == 0
    assert zero_pad_width(None) == 0
    assert is_percent_format("0.00%") and is_percent_format("0%")
    assert not is_percent_format('0.00"%"') and not is_percent_format("General")
    for fmt in (
        "yyyy-mm-dd",
        "m/d/yyyy",
        'yyyy"年"m"月"d"日"',
        "[$-804]yyyy年m月",
        "mmm-yy",
        "d-mmm",
    ):
        assert is_date_format(fmt), fmt
    for fmt in ("General", "0", "0.00%", "h:mm", "[h]:mm:ss", "mm:ss", "0.00E+00", "@", None):
        assert not is_date_format(fmt), fmt


# --------------------------------------------------------------------------- dates (case 07)

NOV20 = dt.date(2019, 11, 20)
CASE_07_DATES = [
    ("M4", Cell(NOV20, number_format="yyyy-mm-dd"), NOV20),
    ("M4dt", Cell(dt.datetime(2019, 11, 20), number_format="yyyy-mm-dd"), NOV20),
    ("M5", num(43789.0), NOV20),
    ("M6", text("2019年11月20日"), NOV20),
    ("M7", text("2019.11.20"), NOV20),
    ("M8", text("2019/11/20"), NOV20),
    ("M9", text("2019-11-20"), NOV20),
    ("M10", text(""), None),
    ("M11", text("11月20日"), "date_without_year"),
    ("M12", num(2019.1), "bad_date"),
    ("M13", text("2019.13.05"), "bad_date"),
    ("M14", Cell(dt.datetime(2019, 10, 8), number_format="m/d/yyyy"), dt.date(2019, 10, 8)),
    ("M15", text(" 2019年 9月 5日 "), dt.date(2019, 9, 5)),
    ("day32", text("2019年1月32日"), "bad_date"),
    ("feb30", text("2019-02-30"), "bad_date"),
    ("ym only", text("2019年11月"), "bad_date"),
    ("ym dotted", text("2019.11"), "bad_date"),
    ("year only", num(2019.0), "bad_date"),
    ("yyyymmdd", num(20191120.0), "bad_date"),
    ("two-digit year", text("19.11.20"), "bad_date"),
    ("ambiguous dmy", text("10/8/2019"), "bad_date"),
    ("mixed separators", text("2019.11/20"), "bad_date"),
    ("no year slash", text("11/20"), "date_without_year"),
    ("full-width", text("２０１９年１１月２０日"), NOV20),
    ("hao", text("2019年11月20号"), NOV20),
    ("zero-padded", text("2019-01-05"), dt.date(2019, 1, 5)),
    ("with time", text("2019-11-20 00:00:00"), NOV20),
    ("serial with date format", num(43789.75, "yyyy-mm-dd"), NOV20),
    ("serial non-whole general", num(43789.5), "bad_date"),
    ("serial tiny general", num(5.0), "bad_date"),
    ("placeholder", text("—"), None),
    ("time only", Cell(dt.time(10, 0)), "bad_date"),
    ("chinese numerals", text("二〇一九年十一月二十日"), "bad_date"),
    ("bool", Cell(True), "bad_date"),
]


@pytest.mark.parametrize(("ref", "cell", "expected"), CASE_07_DATES)
def test_case07_dates(ref, cell, expected):
    if isinstance(expected, str):
        raises_rule(expected, parse_date, cell)
    else:
        assert parse_date(cell) == expected


def test_case07_1904_completion_date():
    # 2019-11-20 stored as a 1904-system serial
    serial = (NOV20 - dt.date(1904, 1, 1)).days
    assert serial == 43789 - 1462
    assert parse_date(num(float(serial), "yyyy-mm-dd"), date1904=True) == NOV20
    assert parse_date(num(float(serial)), date1904=True) == NOV20
    # a reader-converted date is returned as it is
    assert parse_date(Cell(NOV20), date1904=True) == NOV20


COVERS = [
    ("2019.12.31", (2019, 12)),
    ("2019/12/31", (2019, 12)),
    ("2019-12", (2019, 12)),
    ("2019年12月31日", (2019, 12)),
    (" 2019 年 12 月 31 日 ", (2019, 12)),
    ("2019年12月", (2019, 12)),
    ("2019年12月份", (2019, 12)),
    ("2019年1-12月", (2019, 12)),
    ("2019.12", (2019, 12)),
    ("２０１９年１２月３１日", (2019, 12)),
    ("2019年11月30日", (2019, 11)),  # 嵩明: the cover disagrees with the file name
    (Cell(dt.date(2019, 12, 31), number_format='yyyy"年"m"月"d"日"'), (2019, 12)),
    (Cell(dt.datetime(2019, 12, 31)), (2019, 12)),
    (num(43830.0), (2019, 12)),
    (43830.0, (2019, 12)),
    (dt.date(2019, 12, 31), (2019, 12)),
]


@pytest.mark.parametrize(("cover", "expected"), COVERS)
def test_case07_cover_periods(cover, expected):
    assert parse_period(cover) == expected


def test_case07_cover_1904():
    assert parse_period(num(42368.0), date1904=True) == (2019, 12)
    assert parse_period(num(42368.0, 'yyyy"年"m"月"d"日"'), date1904=True) == (2019, 12)
    assert parse_period(num(42368.0)) == (2015, 12)  # the trap: 1900 epoch


@pytest.mark.parametrize(
    "cover",
    ["", "2019年", "2019年13月", "2019.13.31", "12月31日", "统计截止时间", "2019-12-32", "19.12"],
)
def test_cover_period_refused(cover):
    with pytest.raises(CellError) as info:
        parse_period(cover)
    assert info.value.rule in ("bad_date", "date_without_year")


def test_serial_to_date_edges():
    assert serial_to_date(1) == dt.date(1900, 1, 1)
    assert serial_to_date(59) == dt.date(1900, 2, 28)
    assert serial_to_date(61) == dt.date(1900, 3, 1)
    assert serial_to_date(0, date1904=True) == dt.date(1904, 1, 1)
    for bad in (0, 60, -1, 1e9):
        with pytest.raises(CellError):
            serial_to_date(bad)


# --------------------------------------------------------------------------- years, text, choices


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (num(2019.0), 2019),
        (num(2013), 2013),
        (text("2019"), 2019),
        (text("2019年"), 2019),
        (text(" ２０１９ 年 "), 2019),
        (text("2019年度"), 2019),
        (text(""), None),
        (text("—"), None),
    ],
)
def test_year(cell, expected):
    assert parse_year(cell) == expected


@pytest.mark.parametrize(
    "cell",
    [
        num(2019.5),
        text("19"),
        num(1899.0),
        text("2101"),
        text("2019年12月"),
        Cell(dt.date(2019, 1, 1)),
    ],
)
def test_year_refused(cell):
    raises_rule("bad_year", parse_year, cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (text(" 仁德街道\u3000"), "仁德街道"),
        (text("\xa0羊街镇\t"), "羊街镇"),
        (text("计划搬迁\n人数"), "计划搬迁\n人数"),
        (text("（甲）"), "（甲）"),  # inner text kept as typed
        (text("  "), None),
        (text(""), None),
        (num(3.0), "3"),
        (num(3.5), "3.5"),
        (num(530128101201.0), "530128101201"),
        (Cell(True), "TRUE"),
        (Cell(dt.datetime(2019, 12, 31)), "2019-12-31"),
    ],
)
def test_text(cell, expected):
    assert parse_text(cell) == expected


MODES = ("集中", "分散")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (text("集中"), "集中"),
        (text(" 集 中 "), "集中"),
        (text("分散\n"), "分散"),
        (text("—"), None),
        (text("/"), None),
        (text(""), None),
    ],
)
def test_choice(cell, expected):
    assert parse_choice(cell, MODES) == expected


def test_choice_refused_lists_choices():
    err = raises_rule("not_a_choice", parse_choice, text("集中安置"), MODES)
    assert "集中、分散" in err.message_zh and "集中安置" not in err.message_zh
    assert parse_choice(text("ｙｅｓ"), ("YES", "NO")) == "YES"


# --------------------------------------------------------------------------- shared rules

ALL_PARSERS = [
    parse_count,
    parse_money_fen,
    parse_decimal,
    parse_percent_points,
    parse_bool,
    parse_code,
    parse_date,
    parse_year,
    parse_text,
    lambda c: parse_choice(c, MODES),
    parse_period,
]


@pytest.mark.parametrize("parser", ALL_PARSERS)
@pytest.mark.parametrize("value", ["", "123", 123.0])
def test_formula_without_value_everywhere(parser, value):
    err = raises_rule("formula_without_value", parser, Cell(value, formula_without_value=True))
    assert "Excel" in err.message_zh and "保存" in err.message_zh


@pytest.mark.parametrize("parser", ALL_PARSERS)
def test_text_too_long_everywhere(parser):
    raises_rule("text_too_long", parser, text("1" * 32768))


def test_is_blank():
    assert is_blank(Cell(""))
    assert is_blank(Cell(None))
    assert is_blank(Cell(" \xa0\u3000\t\n\u200b"))
    assert is_blank(Cell(float("nan")))
    assert not is_blank(Cell("", formula_without_value=True))
    assert not is_blank(Cell(0.0))
    assert not is_blank(Cell("—"))


def test_cell_error_shape_and_pickle():
    err = raises_rule("malformed_number", parse_count, text("3,5079"))
    assert isinstance(err, ValueError)
    back = pickle.loads(pickle.dumps(err))
    assert (back.rule, back.message_zh, back.message_en) == (
        err.rule,
        err.message_zh,
        err.message_en,
    )
    assert "malformed_number" in str(err)


def test_messages_never_echo_the_cell():
    secret = "53012819761209301X"
    for cell in (text(secret + " 号"), text("5.30128197612093E+17")):
        with pytest.raises(CellError) as info:
            parse_code(cell)
        assert secret not in info.value.message_zh + info.value.message_en
        assert "5.30128197612093" not in info.value.message_zh + info.value.message_en


def test_parse_many():
    values, errors = parse_many([text("1"), text("3,5079"), text(""), num(4.0)], parse_count)
    assert values == [1, None, None, 4]
    assert list(errors) == [1] and errors[1].rule == "malformed_number"
    values, errors = parse_many([text("1,5")], parse_money_fen, unit="元")
    assert values == [None] and errors[0].rule == "malformed_number"


# --------------------------------------------------------------------------- properties

SPACES = st.sampled_from(["", " ", "\xa0", "\u3000", "\t", "  \xa0", "\u3000 "])


def _grouped(n: int) -> str:
    return f"{n:,}"


@PROPS
@given(
    n=st.integers(0, 10**12),
    form=st.sampled_from(["plain", "grouped", "fullwidth", "fullwidth_grouped", "float", "int"]),
    left=SPACES,
    right=SPACES,
)
def test_prop_count_roundtrip(n, form, left, right):
    if form == "float":
        cell = num(float(n))
    elif form == "int":
        cell = num(n)
    else:
        s = {
            "plain": str(n),
            "grouped": _grouped(n),
            "fullwidth": str(n).translate(FULLWIDTH),
            "fullwidth_grouped": _grouped(n).translate(FULLWIDTH),
        }[form]
        cell = text(left + s + right)
    got = parse_count(cell)
    assert got == n and type(got) is int


@PROPS
@given(
    cents=st.integers(0, 10**13),
    form=st.sampled_from(["text", "grouped", "fullwidth", "float"]),
    pad=SPACES,
)
def test_prop_money_exact(cents, form, pad):
    value = Decimal(cents).scaleb(-2)  # ≤ 2 decimals, in 万元
    if form == "float":
        cell = num(float(str(value)))
    else:
        s = {"text": str(value), "grouped": f"{value:,}", "fullwidth": str(value)}[form]
        if form == "fullwidth":
            s = s.translate(FULLWIDTH)
        cell = text(pad + s + pad)
    fen = parse_money_fen(cell, "万元")
    assert fen == value * 1000000 and type(fen) is int
    assert parse_money_fen(cell, "元") == value * 100


def _is_valid_grouping(digits: str, commas: set[int]) -> bool:
    expected = set(range(len(digits) - 3, 0, -3))
    return commas == expected and digits[0] != "0"


@st.composite
def bad_numbers(draw):
    digits = draw(st.text(alphabet="0123456789", min_size=2, max_size=13))
    kind = draw(st.sampled_from(["comma", "comma_in_fraction", "double_dot", "letter"]))
    if kind == "comma":
        positions = draw(st.sets(st.integers(1, len(digits) - 1), min_size=1))
        assume(not _is_valid_grouping(digits, positions))
        s = "".join(("," if i in positions else "") + c for i, c in enumerate(digits))
        if draw(st.booleans()):
            s += "." + draw(st.text(alphabet="0123456789", min_size=1, max_size=3))
    elif kind == "comma_in_fraction":
        frac = draw(st.text(alphabet="0123456789", min_size=2, max_size=6))
        cut = draw(st.integers(1, len(frac) - 1))
        s = f"{digits}.{frac[:cut]},{frac[cut:]}"
    elif kind == "double_dot":
        i = draw(st.integers(0, len(digits)))
        j = draw(st.integers(0, len(digits)))
        a, b = sorted((i, j))
        s = digits[:a] + "." + digits[a:b] + "." + digits[b:]
    else:
        letter = draw(st.sampled_from("OolIiSsBZzeEabcxXyYnN"))
        i = draw(st.integers(1, len(digits) - 1))
        s = digits[:i] + letter + digits[i:]
    if draw(st.booleans()):
        s = s.translate(FULLWIDTH)
    return draw(SPACES) + s + draw(SPACES)


@PROPS
@given(raw=bad_numbers())
def test_prop_malformed_never_a_number(raw):
    for parser in (parse_count, parse_money_fen, parse_decimal, parse_percent_points):
        with pytest.raises(CellError) as info:
            parser(text(raw))
        assert info.value.rule in ("malformed_number", "not_a_number")


@PROPS
@given(n=st.integers(0, 10**15 - 1), width=st.integers(0, 16))
def test_prop_code_digits(n, width):
    assert parse_code(num(float(n))) == str(n)
    fmt = "0" * width if width else "General"
    assert parse_code(num(float(n), fmt)) == str(n).zfill(width)


@PROPS
@given(n=st.integers(10**15, 10**20))
def test_prop_code_16_digits_lost(n):
    raises_rule("code_digits_lost", parse_code, num(float(n)))
    raises_rule("code_digits_lost", parse_code, num(n))


@PROPS
@given(
    d=st.dates(dt.date(1950, 1, 1), dt.date(2050, 12, 31)),
    pad=st.booleans(),
    gaps=st.lists(SPACES, min_size=7, max_size=7),
    fullwidth=st.booleans(),
)
def test_prop_dates(d, pad, gaps, fullwidth):
    s1900 = (d - dt.date(1899, 12, 30)).days
    s1904 = (d - dt.date(1904, 1, 1)).days
    assert parse_date(num(float(s1900), "yyyy-mm-dd")) == d
    assert parse_date(num(float(s1904), "yyyy-mm-dd"), date1904=True) == d
    for serial, d1904 in ((s1900, False), (s1904, True)):
        general = num(float(serial))
        if 20000 <= serial <= 80000:
            assert parse_date(general, date1904=d1904) == d
            assert parse_period(general, date1904=d1904) == (d.year, d.month)
        else:
            raises_rule("bad_date", parse_date, general, date1904=d1904)
    assert parse_date(Cell(d)) == d
    assert parse_date(Cell(dt.datetime(d.year, d.month, d.day, 13, 5))) == d
    m, day = (f"{d.month:02d}", f"{d.day:02d}") if pad else (str(d.month), str(d.day))
    g = gaps
    forms = [
        f"{g[0]}{d.year}{g[1]}年{g[2]}{m}{g[3]}月{g[4]}{day}{g[5]}日{g[6]}",
        f"{g[0]}{d.year}.{m}.{day}{g[6]}",
        f"{g[0]}{d.year}/{m}/{day}{g[6]}",
        f"{g[0]}{d.year}-{m}-{day}{g[6]}",
    ]
    for f in forms:
        if fullwidth:
            f = f.translate(str.maketrans("0123456789./-", "０１２３４５６７８９．／－"))
        assert parse_date(text(f)) == d, f
        assert parse_period(f) == (d.year, d.month), f
    assert parse_period(f"{d.year}年{m}月") == (d.year, d.month)
    assert parse_period(f"{d.year}-{m}") == (d.year, d.month)


@PROPS
@given(x=st.floats(-1e12, 1e12, allow_nan=False), unit=st.sampled_from(["万元", "元"]))
def test_prop_money_float_matches_exact_decimal(x, unit):
    """The float fast path agrees with the exact repr-decimal path (or both refuse)."""
    exact = parse_decimal(num(x)) * (10**6 if unit == "万元" else 100)
    try:
        fen = parse_money_fen(num(x), unit)
    except CellError as e:
        if abs(exact) > 10**18 - 1:  # beyond DECIMAL(18,2) [issue 11]
            assert e.rule == "out_of_storable_range"
        else:
            assert e.rule == "malformed_number" and exact != exact.to_integral_value()
    else:
        assert fen == exact and abs(fen) <= 10**18 - 1
