"""Find a form's header on any row and map the clerk's header text to canonical columns.

A header is one row, or two rows where a parent is shown over its children (housing:
建档立卡贫困户 / 任务数, 竣工数): merged over them, centred across them (Center Across
Selection) or typed once in the left cell of its group with the cells to its right
empty; or ``parent``, a line break and ``child`` in one cell. Header text is matched
by meaning, not typography (``normalise``, issue 12) against each column's aliases
(``schemas``). The form is recognised from its header columns; the sheet name is only
a hint.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import NamedTuple

from schemas import FORMS
from schemas.columns import PERSONAL_KINDS, Col, Form

MAX_HEADER_SEARCH_ROWS = 40
SIMILAR = 0.6  # difflib ratio on normalised text above which a header "looks like" a column
_UNITS = (
    "户", "人", "个", "万元", "元", "套", "人次", "处", "所", "名", "亩", "户、人",
    "人、户", "户/人", "12位", "元/人", "年", "是/否", "是或否", "天", "间", "km", "公里",
)  # fmt: skip
_NUMERALS = "一二三四五六七八九十"
# circled numbers (①, ❶): NFKC makes ① a bare ``1`` that no punctuation follows
_CIRCLED = {*range(0x2460, 0x2474), *range(0x24EA, 0x2500), *range(0x2776, 0x2794)}


def _ignored(ch: str) -> bool:
    """Ignored for matching (issue 12): Unicode categories P* (punctuation), Z*
    (separators), Cf (format: zero-width characters), and Cc (line breaks, tabs)."""
    cat = unicodedata.category(ch)
    return cat[0] in "PZ" or cat in ("Cf", "Cc")


def _blank(ch: str) -> bool:
    """Separators, format and control characters: ignored everywhere, before the
    punctuation that still delimits numbering and unit brackets is looked at."""
    cat = unicodedata.category(ch)
    return cat[0] == "Z" or cat in ("Cf", "Cc")


def _drop(text: str, pred) -> str:
    """``text`` without the characters ``pred`` selects, and without a combining mark left
    orphaned by one (NFKC turns ``‗`` into a space and a combining low line)."""
    out = []
    dropped = False
    for ch in text:
        if pred(ch) or (dropped and unicodedata.category(ch) == "Mn"):
            dropped = True
            continue
        dropped = False
        out.append(ch)
    return "".join(out)


def _strip(text: str) -> str:
    return _drop(text, _ignored)


@cache
def _unit_keys() -> dict[str, str]:
    """Unit without punctuation (``户人`` for ``户、人``) -> the unit as listed."""
    return {_strip(u): u for u in reversed(_UNITS)}


def _bracket_unit(content: str) -> str | None:
    """The unit a bracket's content states (``万元``, ``单位：户``, ``%``), ``""`` for a
    bracket of punctuation only, None for any other content (``镇`` in ``乡（镇）``)."""
    key = _strip(content)
    if key.startswith("单位"):
        key = key[2:]
    if not key:
        return "%" if "%" in content else ""
    return _unit_keys().get(key)


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "P"


def _lstrip_punct(t: str) -> str:
    """Leading punctuation other than an opening bracket (``*``, a quote)."""
    i = 0
    while i < len(t) and _is_punct(t[i]) and unicodedata.category(t[i]) != "Ps":
        i += 1
    return t[i:]


def _drop_numbering(t: str) -> str:
    """A numbering prefix: opening brackets, one or two digits (or up to three Chinese
    numerals), then punctuation: ``1.``, ``（2）``, ``一、`` (``2019年`` stays)."""
    i = 0
    while i < len(t) and unicodedata.category(t[i]) == "Ps":
        i += 1
    j = i
    if t[i : i + 1].isascii() and t[i : i + 1].isdigit():
        while j < len(t) and j - i < 2 and t[j].isascii() and t[j].isdigit():
            j += 1
    else:
        while j < len(t) and j - i < 3 and t[j] in _NUMERALS:
            j += 1
    k = j
    while k < len(t) and _is_punct(t[k]):
        k += 1
    return t[k:] if j > i and k > j else t


def _trailing_group(t: str) -> tuple[int, str] | None:
    """``(start, content)`` of the bracket group (any Ps … Pe) that ends ``t``."""
    if not t or unicodedata.category(t[-1]) != "Pe":
        return None
    for i in range(len(t) - 2, -1, -1):
        if unicodedata.category(t[i]) == "Ps":
            return i, t[i + 1 : -1]
    return None


def normalise(text: object) -> str:
    """Header text -> matching key (issue 12: by meaning, not typography).

    NFKC; every character of the categories P* (punctuation: quotes, brackets of any
    kind, dashes, dots, colons, ``*``, ``%``), Z* (spaces of any width), Cf (zero-width
    characters) and Cc (line breaks) ignored; before that, numbering prefixes (``1.``,
    ``（2）``, ``一、``, ``①``), ``其中：`` prefixes and trailing unit brackets
    (``（户）``, ``【万元】``, ``（%）``, ``(单位：户)``) dropped.
    """
    return keys(text)[0]


def keys(text: object) -> tuple[str, str]:
    """``(normalise(text), text without prefixes and ignored characters but with its unit
    brackets)``: the second key matches a header whose brackets were not a unit
    (``建档立卡贫困(户)``)."""
    if text is None:
        return "", ""
    return _keys(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=1 << 14)
def _keys(text: str) -> tuple[str, str]:
    if text and ord(text[0]) in _CIRCLED:
        text = text[1:]
    t = _drop(unicodedata.normalize("NFKC", text), _blank)
    t = _lstrip_punct(t)
    for _ in range(2):
        t = _lstrip_punct(_drop_numbering(t))
        if t.startswith("其中"):
            t = _lstrip_punct(t[2:])
    whole = _strip(t)
    while True:
        end = len(t)
        while end and _is_punct(t[end - 1]) and unicodedata.category(t[end - 1]) != "Pe":
            end -= 1  # trailing ``*``, ``:``, ``%``
        t = t[:end]
        group = _trailing_group(t)
        if group is None or group[0] == 0 or _bracket_unit(group[1]) is None:
            break
        t = t[: group[0]]
    return _strip(t), whole


def header_unit(text: object) -> str | None:
    """The unit a header states in brackets of any kind (``住院总费用（元）`` -> ``元``,
    ``住院费用【万元】/住院总费用`` -> ``万元``), else ``%`` where the header has a percent
    sign anywhere (``贫困发生率%``), else None."""
    t = _drop(unicodedata.normalize("NFKC", str(text or "")), _blank)
    start = None
    for i, ch in enumerate(t):
        cat = unicodedata.category(ch)
        if cat == "Ps":
            start = i
        elif cat == "Pe" and start is not None:
            unit = _bracket_unit(t[start + 1 : i])
            if unit:
                return unit
            start = None
    return "%" if "%" in t else None


class Label(NamedTuple):
    """One labelled column of a header: 0-based column, parent and child keys (``keys``;
    parent ``("", "")`` for a one-level label), the text as the clerk wrote it (parent /
    child joined with ``/``) and the 0-based row of the cell that holds the label."""

    col: int
    parent: tuple[str, str]
    child: tuple[str, str]
    original: str
    row: int

    @property
    def text(self) -> str:
        return self.original.replace("\n", " ").strip()


@dataclass
class HeaderMatch:
    """A recognised header: which form, where, and which column is which.

    header_rows: 0-based absolute rows (one or two); columns: canonical name ->
    0-based column; header_text: canonical name -> header as the clerk wrote it
    (parent / child joined with ``/``); found: every non-empty header label seen;
    labels: every labelled column; unmatched: the labels that matched no column;
    duplicates: canonical name -> every column matching it (two or more).
    """

    form: Form
    header_rows: list[int]
    columns: dict[str, int]
    header_text: dict[str, str]
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    spans: bool = False  # two rows tied by a matched cell merged over both
    labels: list[Label] = field(default_factory=list)
    unmatched: list[Label] = field(default_factory=list)

    @property
    def found(self) -> list[str]:
        return [lb.text for lb in self.labels]

    @property
    def missing_required(self) -> list[str]:
        return [c.name for c in self.form.columns if c.required and c.name not in self.columns]

    @property
    def missing_optional(self) -> list[str]:
        return [c.name for c in self.form.columns if not c.required and c.name not in self.columns]

    @property
    def score(self) -> tuple[int, int]:
        return (len(self.columns), -len(self.header_rows))


def _col_keys(c: Col) -> set[str]:
    return {k for text in (c.header_zh, *c.aliases) for k in keys(text) if k}


def _add(table: dict, key, name: str, form: str) -> None:
    """One key, one column: a key two columns share would make matching depend on order."""
    if table.setdefault(key, name) != name:
        raise ValueError(f"{form}: header key {key!r} is an alias of {table[key]} and {name}")


@cache
def _alias_tables() -> dict[str, tuple[dict[str, str], dict[tuple[str, str], str]]]:
    """Per form: plain key -> column, and (parent, child) -> column for grouped columns.

    A grouped column is also matched by its parent and child written in one cell
    (``建档立卡贫困户\\n任务数``): the concatenated keys are plain keys. Raises
    ValueError where two columns of a form share a key.
    """
    out = {}
    for code, form in FORMS.items():
        plain: dict[str, str] = {}
        grouped: dict[tuple[str, str], str] = {}
        for c in form.columns:
            ks = _col_keys(c)
            if not c.parents:
                for k in ks:
                    _add(plain, k, c.name, code)
                continue
            for p in c.parents:
                for pk in keys(p):
                    for k in ks:
                        _add(grouped, (pk, k), c.name, code)
                        _add(plain, pk + k, c.name, code)
        out[code] = (plain, grouped)
    return out


def _personal_by_rule(form: Form, unmatched: list, columns: dict, text: dict) -> list:
    """Map headers no alias matched to the form's personal column of their kind when the
    personal rule recognises them (公民身份号码 -> head_id_number, 户主名称 -> head_name) and
    that column is still unmapped; the first such header wins [issue 11]. Returns the
    labels still unmatched."""
    from pipeline.extract.personal import header_kind

    for col in form.columns:
        if col.kind not in PERSONAL_KINDS or col.name in columns:
            continue
        for label in unmatched:
            if label.col not in columns.values() and header_kind(label.original) == col.kind:
                columns[col.name] = label.col
                text[col.name] = label.text
                break
    taken = set(columns.values())
    return [label for label in unmatched if label.col not in taken]


@cache
def _standard_keys(form_code: str) -> dict[str, list[str]]:
    """Column -> the normalised texts a header of it may have (parent + child for grouped
    columns), for the "looks like" suggestion."""
    plain, _ = _alias_tables()[form_code]
    out: dict[str, list[str]] = {}
    for k, name in plain.items():
        out.setdefault(name, []).append(k)
    return out


def similar_column(form: Form, label: Label, exclude=()) -> Col | None:
    """The column of ``form`` (not in ``exclude``) whose standard header the label
    resembles most, if the difflib similarity of the normalised texts is ≥ ``SIMILAR``."""
    text = label.parent[0] + label.child[0]
    best, score = None, SIMILAR
    for name, ks in _standard_keys(form.code).items():
        if name in exclude:
            continue
        for k in ks:
            s = difflib.SequenceMatcher(None, text, k).ratio()
            if s >= score and (best is None or s > score):
                best, score = name, s
    return form.col(best) if best else None


def _merge_at(merges, r: int, c: int):
    """The merged range ``((r0, c0), (r1, c1))`` covering (r, c), or None."""
    for m in merges:
        (r0, c0), (r1, c1) = m
        if r0 <= r <= r1 and c0 <= c <= c1:
            return m
    return None


def _merged_value(grid, merges, r: int, c: int):
    """Value shown at (r, c): a merged range shows its top-left value everywhere."""
    m = _merge_at(merges, r, c)
    return grid.value(*m[0]) if m else grid.value(r, c)


def _empty(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _typed_once_parent(grid, merges, r: int, c: int):
    """The parent shown over column ``c`` without a merge: typed once in the left cell of
    its group (or centred across the group: the text is in the left cell) with the
    upper cells to its right empty. Walks left over empty, unmerged upper cells with a
    child below; the first upper text there is the parent if a child is under it too."""
    for k in range(c - 1, -1, -1):
        if _merge_at(merges, r, k) or _empty(grid.value(r + 1, k)):
            return None
        top = grid.value(r, k)
        if not _empty(top):
            return top
    return None


def _labels(grid, merges, r: int, two_rows: bool) -> list[Label]:
    """Each labelled column of the header at row ``r`` (and ``r + 1``)."""
    out = []
    for c in range(grid.width):
        top = _merged_value(grid, merges, r, c)
        if not two_rows:
            if not _empty(top):
                out.append(Label(c, ("", ""), keys(top), str(top), r))
            continue
        bottom = grid.value(r + 1, c)
        if _empty(bottom) and _merged_value(grid, merges, r + 1, c) == top:
            bottom = None  # merged vertically: one label
        if _empty(top) and not _empty(bottom) and not _merge_at(merges, r, c):
            top = _typed_once_parent(grid, merges, r, c)
        if _empty(top) and _empty(bottom):
            continue
        if _empty(bottom):
            out.append(Label(c, ("", ""), keys(top), str(top), r))
        elif _empty(top):
            out.append(Label(c, ("", ""), keys(bottom), str(bottom), r + 1))
        else:
            out.append(Label(c, keys(top), keys(bottom), f"{top}/{bottom}", r + 1))
    return out


def _lookup(form_code: str, label: Label) -> str | None:
    """The column a label names: (parent, child) among grouped columns, parent + child,
    the child alone, or the parent alone (a label over a column-number row); the
    normalised keys first, then the keys that kept their brackets. A one-level label
    with line breaks is then read as ``parent`` + line break + ``child``."""
    broken = label.original if not label.parent[0] and "\n" in label.original else ""
    return _lookup_memo(form_code, label.parent, label.child, broken)


@lru_cache(maxsize=1 << 16)
def _lookup_memo(form_code: str, parent, child, broken: str) -> str | None:
    """``_lookup`` by keys (every row of the first forty is tried as a header: the same
    texts come again and again); ``broken``: the text of a one-level label with line
    breaks, else ``""``."""
    name = _lookup_keys(form_code, parent, child)
    if name is not None or not broken:
        return name
    lines = [x for x in broken.splitlines() if x.strip()]
    for i in range(1, len(lines)):
        split = keys("".join(lines[:i])), keys("".join(lines[i:]))
        if (name := _lookup_keys(form_code, *split)) is not None:
            return name
    return None


def _lookup_keys(form_code: str, parent: tuple[str, str], child: tuple[str, str]) -> str | None:
    plain, grouped = _alias_tables()[form_code]
    parents = [p for p in dict.fromkeys(parent) if p]
    children = [k for k in dict.fromkeys(child) if k]
    for p in parents:
        for k in children:
            if (p, k) in grouped:
                return grouped[(p, k)]
            if p + k in plain:
                return plain[p + k]
    for k in children:
        if k in plain:
            return plain[k]
    for p in parents:
        if p in plain and p not in _group_parents(form_code):
            return plain[p]
    return None


@cache
def _group_parents(form_code: str) -> frozenset[str]:
    return frozenset(p for p, _ in _alias_tables()[form_code][1])


def _match(form_code: str, labels: list[Label], header_rows: list[int]) -> HeaderMatch:
    columns: dict[str, int] = {}
    text: dict[str, str] = {}
    dups: dict[str, list[int]] = {}
    unmatched = []
    for label in labels:
        name = _lookup(form_code, label)
        if name is None:
            unmatched.append(label)
            continue
        if name in columns:
            dups.setdefault(name, [columns[name]]).append(label.col)
            continue
        columns[name] = label.col
        text[name] = label.text
    unmatched = _personal_by_rule(FORMS[form_code], unmatched, columns, text)
    return HeaderMatch(
        FORMS[form_code], header_rows, columns, text, dups, labels=labels, unmatched=unmatched
    )


def find_header(grid, merges) -> HeaderMatch | None:
    """The best header of any form in the first rows of ``grid``, or None.

    ``grid`` offers ``value(r, c)``, ``height``, ``width`` and ``first_row`` (absolute,
    0-based); ``merges`` is calamine's ``merged_cell_ranges``. A candidate needs at
    least three matched columns; the one with most matched columns wins (fewer
    header rows on a tie). The match may still miss required columns: the caller
    rejects the sheet naming the headers found.
    """
    best: HeaderMatch | None = None
    last = min(grid.first_row + MAX_HEADER_SEARCH_ROWS, grid.first_row + grid.height)
    for r in range(grid.first_row, last):
        for two in (False, True):
            if two and r + 1 >= grid.first_row + grid.height:
                continue
            labels = _labels(grid, merges, r, two)
            if len(labels) < 2:
                continue
            rows = [r, r + 1] if two else [r]
            for code in FORMS:
                m = _match(code, labels, rows)
                if len(m.columns) < 3:
                    continue
                if two:
                    m.spans = _spans_both(merges, r, set(m.columns.values()))
                if best is None or _better(m, best):
                    best = m
    return best


def _spans_both(merges, r: int, cols: set[int]) -> bool:
    """A matched column's cell is merged vertically over rows ``r`` and ``r + 1``."""
    for (r0, c0), (r1, c1) in merges:
        if r0 <= r and r1 >= r + 1 and any(c0 <= c <= c1 for c in cols):
            return True
    return False


def _better(a: HeaderMatch, b: HeaderMatch) -> bool:
    """More columns wins; on a tie a two-row header tied by vertical merges (乡（镇）
    merged over both rows) beats the one row below it, otherwise fewer rows wins (a
    title merged across the top is no parent)."""

    def key(m: HeaderMatch):
        return (not m.missing_required, len(m.columns), m.spans, -len(m.header_rows),
                -m.header_rows[0])  # fmt: skip

    return key(a) > key(b)
