"""No column disappears silently (issue 12, item 2).

Every column of a recognised sheet that holds data and matched no standard column gets
a warning at its header cell naming its header text (and the standard header it looks
like, if any); columns the form declares as not data (序号, 备注) are only counted.
Every optional standard column the sheet lacks gets a warning naming it and the
indicators (``ref.indicator_definitions``) that cannot be computed from the sheet.
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.extract import rows as rowkind
from pipeline.extract.header import HeaderMatch, Label, normalise, similar_column
from pipeline.extract.readers.xlsx_meta import cell_ref, col_letters
from schemas.columns import Col, Form

RULE_NOT_READ = "column_not_read"
RULE_MISSING = "column_missing"


def standard_header(col: Col) -> str:
    """The header a template writes for ``col`` (``建档立卡贫困户/任务数`` when grouped)."""
    return f"{col.parents[0]}/{col.header_zh}" if col.parents else col.header_zh


@cache
def _indicator_columns() -> dict[str, dict[str, frozenset[str]]]:
    """Form -> indicator code -> the canonical columns its numerator or denominator names,
    directly or through another indicator it names (``households_not_exited``)."""
    from pipeline.refdata import indicator_definitions

    defs = indicator_definitions()
    text = {r.indicator_code: f"{r.numerator} {r.denominator}" for r in defs.itertuples() if r.form}
    form_of = dict(zip(defs["indicator_code"], defs["form"], strict=True))
    from schemas import FORMS

    deps: dict[str, set[str]] = {}
    for code, t in text.items():
        form = FORMS.get(form_of[code])
        names = form.names if form else []
        deps[code] = {n for n in names if re.search(rf"\b{n}\b", t)}
    changed = True
    while changed:  # through indicators named in a definition
        changed = False
        for code, t in text.items():
            for other in text:
                if (
                    other != code
                    and re.search(rf"\b{other}\b", t)
                    and not deps[other] <= deps[code]
                ):
                    deps[code] |= deps[other]
                    changed = True
    out: dict[str, dict[str, frozenset[str]]] = {}
    for code, cols in deps.items():
        out.setdefault(form_of[code], {})[code] = frozenset(cols)
    return out


@cache
def _indicator_names() -> dict[str, str]:
    from pipeline.refdata import indicator_definitions

    defs = indicator_definitions()
    return dict(zip(defs["indicator_code"], defs["name_zh"], strict=True))


def indicators_needing(form: str, column: str) -> list[str]:
    """Indicator codes of ``form`` that need ``column`` (sorted)."""
    return sorted(c for c, cols in _indicator_columns().get(form, {}).items() if column in cols)


def _holds_data(grid, c: int, rows: list[int]) -> bool:
    return any(not rowkind.is_blank(grid.value(r, c)) for r in rows)


def unread_columns(grid, match: HeaderMatch, data_rows: list[int]):
    """``(not_read, not_data)``: the unmatched columns that hold a value in a data row, as
    ``(col, label or None)`` (None: a blank header), and the header texts of the
    columns the form declares as not data (``Form.not_data``)."""
    taken = set(match.columns.values()) | {c for cs in match.duplicates.values() for c in cs}
    by_col = {lb.col: lb for lb in match.unmatched}
    skip = {normalise(t) for t in match.form.not_data}
    not_read, not_data = [], []
    for c in range(grid.first_col, grid.width):
        if c in taken:
            continue
        label = by_col.get(c)
        if label is not None and label.child[0] in skip and not label.parent[0]:
            not_data.append(label.text)
            continue
        if _holds_data(grid, c, data_rows):
            not_read.append((c, label))
    return not_read, not_data


def not_read_message(form: Form, match: HeaderMatch, label: Label | None) -> tuple[str, str]:
    """(zh, en) for a column that was not read; names the standard header it looks like."""
    if label is None:
        return (
            "此列有数据但表头为空，未读取；请填写标准表头",
            "this column holds data but its header is blank; it was not read",
        )
    like = similar_column(form, label, exclude=set(match.columns))
    zh = f"此列“{label.text}”不是本表的标准列，未读取"
    en = f"this column '{label.text}' matches no standard column; it was not read"
    if like is not None:
        zh += f"；看起来像“{standard_header(like)}”，如是请改为该表头"
        en += f"; it looks like {like.name} ('{standard_header(like)}')"
    return zh + "；如不应上报请删除此列", en


def missing_message(form: Form, name: str) -> tuple[str, str]:
    """(zh, en) for an optional standard column the sheet lacks."""
    col = form.col(name)
    header = standard_header(col)
    inds = indicators_needing(form.code, name)
    if inds:
        names = _indicator_names()
        zh = "、".join(f"{names.get(i, i)}（{i}）" for i in inds)
        return (
            f"本表没有“{header}”列，以下指标无法由本表计算：{zh}；请补上此列",
            f"column {name} ('{header}') not found: the indicators {', '.join(inds)} "
            "cannot be computed from this sheet",
        )
    return (
        f"本表没有“{header}”列，该项按空值处理；请补上此列",
        f"column {name} ('{header}') not found; it loads as empty",
    )


def header_cell(match: HeaderMatch, c: int, label: Label | None) -> tuple[int, str]:
    """``(excel_row, cell_ref)`` of a column's header cell (the last header row when the
    header is blank)."""
    r = label.row if label is not None else match.header_rows[-1]
    return r + 1, cell_ref(r, c)


def letter(c: int) -> str:
    return col_letters(c)
