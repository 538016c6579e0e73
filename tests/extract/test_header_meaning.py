"""Issue 12, item 1: header text is matched by meaning, not typography.

Header variants are drawn by Unicode category, independently of the implementation:
characters of the categories P* (punctuation), Z* (separators) and Cf (format) inserted
anywhere or removed, characters replaced by any character NFKC maps to them (full-width
forms, Kangxi radicals, compatibility brackets), a numbering prefix and a unit in brackets
of any kind. Every alias of every column of every form must still be recognised as that
column, on a whole header of the form (so no variant is taken for another column).
"""

from __future__ import annotations

import sys
import unicodedata
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract.header import find_header, header_unit, normalise
from pipeline.extract.readers.workbook import Grid
from schemas import FORMS
from tests.builders.marks import slow_except


def _cat_ignored(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "PZ" or cat == "Cf"


@cache
def _ignorable() -> list[str]:
    """Characters of P*, Z*, Cf whose NFKC form is again only such characters (the spec
    ignores characters *after* NFKC: ``‗`` becomes a space and a combining mark)."""
    out = []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or not _cat_ignored(ch):
            continue
        if all(_cat_ignored(x) for x in unicodedata.normalize("NFKC", ch)):
            out.append(ch)
    return out


@cache
def _nfkc_sources() -> dict[str, list[str]]:
    """Character -> the other characters NFKC turns into it (``Ａ`` -> ``A``, ``⼈`` -> ``人``)."""
    out: dict[str, list[str]] = {}
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        n = unicodedata.normalize("NFKC", ch)
        if len(n) == 1 and n != ch:
            out.setdefault(n, []).append(ch)
    return out


IGNORABLE = st.sampled_from(_ignorable())
SPACES = st.sampled_from([" ", "\u3000", "\u00a0", "\u200b", "\ufeff", "\n", "\u2028"])
BRACKETS = [("(", ")"), ("（", "）"), ("【", "】"), ("[", "]"), ("〔", "〕"), ("「", "」"),
            ("﹙", "﹚"), ("︵", "︶")]  # fmt: skip
UNITS = ["户", "人", "个", "万元", "元", "%", "％", "套", "人次", "户、人", "单位：户", "是/否"]
NUMBERING = ["1.", "2、", "（3）", "(4)", "一、", "十二、", "⑴", "⒈", "①", "5．"]


@st.composite
def typography(draw, text: str) -> str:
    """``text`` with ignorable characters removed and inserted and characters replaced
    by NFKC-equivalents."""
    chars = [c for c in text if not (_cat_ignored(c) and draw(st.booleans()))]
    sources = _nfkc_sources()
    chars = [
        draw(st.sampled_from(sources[c])) if c in sources and draw(st.booleans()) else c
        for c in chars
    ]
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(chars)))
        chars.insert(at, draw(IGNORABLE))
    return "".join(chars)


@st.composite
def decorated(draw, text: str) -> str:
    """A header as a clerk may write it: numbering, the text, a unit in brackets; spaces
    and zero-width characters between the parts."""
    out = draw(typography(text))
    if draw(st.booleans()):
        out = draw(st.sampled_from(NUMBERING)) + draw(st.sampled_from(["", " ", "\u200b"])) + out
    if draw(st.booleans()):
        lb, rb = draw(st.sampled_from(BRACKETS))
        out += draw(st.sampled_from(["", " ", "\n"])) + lb + draw(st.sampled_from(UNITS)) + rb
    if draw(st.booleans()):
        out += draw(st.sampled_from(["*", "＊", ":", "："]))
    return out


def _aliases(col) -> list[str]:
    return [col.header_zh, *col.aliases]


def _grid(form, draw) -> tuple[Grid, list, dict[str, int]]:
    """A two-row header of every column of ``form`` (parents merged over grouped
    columns), each header drawn from a random alias, decorated."""
    cols = FORMS[form].columns
    upper, lower, merges = [], [], []
    j = 0
    while j < len(cols):
        c = cols[j]
        if not c.parents:
            upper.append(draw(decorated(draw(st.sampled_from(_aliases(c))))))
            lower.append("")
            merges.append(((0, j), (1, j)))
            j += 1
            continue
        group = [x for x in cols[j:] if x.parents == c.parents]
        upper.append(draw(typography(draw(st.sampled_from(c.parents)))))
        upper.extend([""] * (len(group) - 1))
        merges.append(((0, j), (0, j + len(group) - 1)))
        for x in group:
            lower.append(draw(decorated(draw(st.sampled_from(_aliases(x))))))
        j += len(group)
    return Grid([upper, lower]), merges, {c.name: i for i, c in enumerate(cols)}


@pytest.mark.slow
@pytest.mark.parametrize("form", list(FORMS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_alias_matched_whatever_the_typography(form, data):
    grid, merges, want = _grid(form, data.draw)
    m = find_header(grid, merges)
    assert m is not None and m.form.code == form, grid.rows
    assert m.columns == want, (grid.rows, m.columns)
    assert not m.duplicates and not m.unmatched


ALIASES = [(f, c.name, a) for f in FORMS for c in FORMS[f].columns for a in _aliases(c)]


@pytest.mark.parametrize(
    "form,name,alias", slow_except(ALIASES, lambda a: a[0] == "population", spread=True)
)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_each_alias_alone(form, name, alias, data):
    """Every alias of every column, decorated, in a one-row header of the form's other
    columns as the template writes them (grouped columns: parent, line break, child)."""
    cols = FORMS[form].columns
    col = FORMS[form].col(name)
    text = data.draw(decorated(alias))
    if col.parents:
        text = data.draw(typography(data.draw(st.sampled_from(col.parents)))) + "\n" + text
    row = []
    for c in cols:
        if c.name == name:
            row.append(text)
        else:
            row.append(f"{c.parents[0]}\n{c.header_zh}" if c.parents else c.header_zh)
    m = find_header(Grid([row]), [])
    assert m is not None and m.form.code == form
    assert m.columns.get(name) == [c.name for c in cols].index(name), (text, m.columns)


@pytest.mark.parametrize("a,b", [
    ('有“云岭先锋”综合服务站', '有"云岭先锋"综合服务站'),
    ("有‘云岭先锋’综合服务站", "有云岭先锋综合服务站"),
    ("乡（镇）", "乡镇"),
    ("乡【镇】", "乡-镇"),
    ("已脱贫\u200b户数", "已脱贫户数"),
    ("已脱贫·户数", "已脱贫 户数"),
    ("贫困发生率（%）", "贫困发生率％"),
    ("住院总费用【万元】", "住院总费用（万元）"),
    ("1. 未脱贫人口数", "（1）未脱贫人口数"),
])  # fmt: skip
def test_same_key(a, b):
    assert normalise(a) == normalise(b)


@pytest.mark.parametrize("text,unit", [
    ("住院总费用（元）", "元"),
    ("住院总费用【万元】", "万元"),
    ("住院费用〔万元〕/住院总费用", "万元"),
    ("贫困发生率（%）", "%"),
    ("贫困发生率％", "%"),
    ("贫困发生率", None),
    ("总户数(单位：户)", "户"),
    ("乡（镇）", None),
])  # fmt: skip
def test_header_unit(text, unit):
    """The percent sign is punctuation (ignored for matching) but still a unit."""
    assert header_unit(text) == unit
