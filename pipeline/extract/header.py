"""Find a form's header on any row and map the clerk's header text to canonical columns.

A header is one row, or two rows where a parent cell is merged over its children
(housing: 建档立卡贫困户 / 任务数, 竣工数). Header text is normalised before
matching (``normalise``) and matched against each column's aliases (``schemas``).
The form is recognised from its header columns; the sheet name is only a hint.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

from schemas import FORMS
from schemas.columns import PERSONAL_KINDS, Form

MAX_HEADER_SEARCH_ROWS = 40
_UNITS = (
    "户", "人", "个", "万元", "元", "%", "套", "人次", "处", "所", "名", "亩", "户、人",
    "人、户", "户/人", "12位", "元/人", "年", "是/否", "是或否", "天", "间", "km", "公里",
)  # fmt: skip
_UNIT_RE = re.compile(r"\((?:单位:)?(" + "|".join(re.escape(u) for u in _UNITS) + r")\)")
_NUMBERING = re.compile(r"^(?:\(?\d{1,2}\)?[.、)．]|[一二三四五六七八九十]{1,3}[、.])")
_SPACE = re.compile(r"\s+")


def normalise(text: object) -> str:
    """Header text -> matching key.

    NFKC (full-width brackets, digits and colons become ASCII), all whitespace and
    line breaks removed, numbering prefixes (``1.``, ``（2）``, ``一、``), ``其中：``
    prefixes, trailing ``*`` and unit brackets (``（户）``, ``(万元)``, ``（%）``) dropped.
    """
    if text is None:
        return ""
    return _normalise(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=1 << 14)
def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    t = _SPACE.sub("", t).replace("\u200b", "")
    t = t.strip("*＊※")
    for _ in range(2):
        t = _NUMBERING.sub("", t)
        t = re.sub(r"^其中[:：]?", "", t)
    t = _UNIT_RE.sub("", t)
    t = t.rstrip("%").strip("*").rstrip(":")
    return t


def header_unit(text: object) -> str | None:
    """The unit a header states in brackets (``住院总费用（元）`` -> ``元``), if any."""
    m = _UNIT_RE.search(_SPACE.sub("", unicodedata.normalize("NFKC", str(text or ""))))
    return m.group(1) if m else None


@dataclass
class HeaderMatch:
    """A recognised header: which form, where, and which column is which.

    header_rows: 0-based absolute rows (one or two); columns: canonical name ->
    0-based column; header_text: canonical name -> header as the clerk wrote it
    (parent / child joined with ``/``); found: every non-empty header label seen.
    """

    form: Form
    header_rows: list[int]
    columns: dict[str, int]
    header_text: dict[str, str]
    found: list[str] = field(default_factory=list)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    spans: bool = False  # two rows tied by a matched cell merged over both

    @property
    def missing_required(self) -> list[str]:
        return [c.name for c in self.form.columns if c.required and c.name not in self.columns]

    @property
    def score(self) -> tuple[int, int]:
        return (len(self.columns), -len(self.header_rows))


@cache
def _alias_tables() -> dict[str, tuple[dict[str, str], dict[tuple[str, str], str]]]:
    """Per form: plain alias -> column, and (parent, child) -> column for grouped columns."""
    out = {}
    for code, form in FORMS.items():
        plain: dict[str, str] = {}
        grouped: dict[tuple[str, str], str] = {}
        for c in form.columns:
            keys = {normalise(c.header_zh), *(normalise(a) for a in c.aliases)}
            if c.parents:
                for p in c.parents:
                    for k in keys:
                        grouped[(normalise(p), k)] = c.name
            else:
                for k in keys:
                    plain[k] = c.name
        out[code] = (plain, grouped)
    return out


def _personal_by_rule(form: Form, unmatched, columns: dict, text: dict) -> None:
    """Map headers no alias matched to the form's personal column of their kind when the
    personal rule recognises them (公民身份号码 -> head_id_number, 户主名称 -> head_name) and
    that column is still unmapped; the first such header wins [issue 11]."""
    from pipeline.personal import header_kind

    for col in form.columns:
        if col.kind not in PERSONAL_KINDS or col.name in columns:
            continue
        for c, original in unmatched:
            if c not in columns.values() and header_kind(original) == col.kind:
                columns[col.name] = c
                text[col.name] = original.replace("\n", " ").strip()
                break


def _merged_value(grid, merges, r: int, c: int):
    """Value shown at (r, c): a merged range shows its top-left value everywhere."""
    for (r0, c0), (r1, c1) in merges:
        if r0 <= r <= r1 and c0 <= c <= c1:
            return grid.value(r0, c0)
    return grid.value(r, c)


def _labels(grid, merges, r: int, two_rows: bool) -> list[tuple[int, str, str, str]]:
    """``(col, parent_key, child_key, original text)`` for each labelled column of the header."""
    out = []
    for c in range(grid.width):
        top = _merged_value(grid, merges, r, c)
        if not two_rows:
            if top not in (None, ""):
                out.append((c, "", normalise(top), str(top)))
            continue
        bottom = grid.value(r + 1, c)
        bottom_shown = _merged_value(grid, merges, r + 1, c)
        if bottom in (None, "") and bottom_shown == top:  # merged vertically: one label
            bottom = None
        if top in (None, "") and bottom in (None, ""):
            continue
        if bottom in (None, ""):
            out.append((c, "", normalise(top), str(top)))
        elif top in (None, ""):
            out.append((c, "", normalise(bottom), str(bottom)))
        else:
            out.append((c, normalise(top), normalise(bottom), f"{top}/{bottom}"))
    return out


def _match(form_code: str, labels, header_rows: list[int]) -> HeaderMatch:
    plain, grouped = _alias_tables()[form_code]
    columns: dict[str, int] = {}
    text: dict[str, str] = {}
    dups: dict[str, list[int]] = {}
    unmatched = []
    for c, parent, child, original in labels:
        name = None
        if parent and (parent, child) in grouped:
            name = grouped[(parent, child)]
        elif parent and (parent + child) in plain:
            name = plain[parent + child]
        elif child in plain:
            name = plain[child]
        elif parent and parent in plain and not any(p == parent for p, _ in grouped):
            name = plain[parent]
        if name is None:
            unmatched.append((c, original))
            continue
        if name in columns:
            dups.setdefault(name, [columns[name]]).append(c)
            continue
        columns[name] = c
        text[name] = original.replace("\n", " ").strip()
    _personal_by_rule(FORMS[form_code], unmatched, columns, text)
    found = [o.replace("\n", " ").strip() for _, _, _, o in labels]
    return HeaderMatch(FORMS[form_code], header_rows, columns, text, found, dups)


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
