"""The fast regex scan of a worksheet's XML (``readers.xlsx_meta._fast_sheet_meta``) must
say exactly what the streaming parser says, or decline (None) so that the parser is used.
Random sheets mix every shape a writer may produce: styles that matter and styles that do
not, formulas with and without values, inline strings, hidden rows and columns, blank
styled cells and rows, pretty-printed XML, columns beyond Z, rows out of order, cells
without ``r``, single quotes, comments, prefixed tags."""

from __future__ import annotations

import random

import pytest
from openpyxl.utils import get_column_letter

from pipeline.extract.readers.xlsx_meta import _fast_sheet_meta, _read_sheet_meta_bytes

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XFS = ["General", "0.00%", "yyyy-mm-dd", "@", "0", "0000"]  # style index -> number format


def _col(k: int) -> str:
    """0-based column -> letters, by openpyxl (not the scanner's own helper)."""
    return get_column_letter(k + 1)


def _cell(rng: random.Random, r: int, c: int, feats: set[str]) -> str:
    ref = f' r="{_col(c)}{r}"' if "no_r" not in feats or rng.random() < 0.7 else ""
    s = f' s="{rng.randrange(len(XFS))}"' if rng.random() < 0.5 else ""
    kind = rng.choice(["num", "num", "str", "inline", "blank", "formula", "formula_nv"])
    sp = "\n  " if "pretty" in feats else ""
    if kind == "blank":
        return f"<c{ref}{s}/>"
    if kind == "num":
        v = '<v xml:space="preserve">' if "v_attr" in feats and rng.random() < 0.3 else "<v>"
        return f"<c{ref}{s}>{sp}{v}{rng.randint(0, 999)}</v>{sp}</c>"
    if kind == "str":
        return f'<c{ref}{s} t="s"><v>{rng.randint(0, 9)}</v></c>'
    if kind == "inline":
        return f'<c{ref}{s} t="inlineStr"><is><t>乡&lt;{r}&gt;</t></is></c>'
    if kind == "formula":
        return f"<c{ref}{s}>{sp}<f>SUM(A1:A{r})</f>{sp}<v>{r}</v></c>"
    empty = rng.choice(["", "<v></v>", "<v/>"])
    return f'<c{ref}{s}><f t="shared" si="0"/>{empty}</c>'


def _sheet(seed: int, feats: set[str]) -> bytes:
    rng = random.Random(seed)
    ncols = rng.randint(1, 40 if "wide" in feats else 12)
    rows = sorted(rng.sample(range(1, 400), rng.randint(0, 30)))
    if "unsorted" in feats and len(rows) > 2:
        rows[0], rows[-1] = rows[-1], rows[0]
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">']
    if "comment" in feats:
        parts.append("<!-- written by hand -->")
    if rng.random() < 0.4:
        parts.append(
            '<cols><col min="2" max="3" hidden="1" width="0"/><col min="5" max="5"/></cols>'
        )
    parts.append("<sheetData>")
    for r in rows:
        hidden = ' hidden="1"' if rng.random() < 0.2 else ""
        spans = f' spans="1:{ncols}"' if rng.random() < 0.5 else ""
        cols = sorted(rng.sample(range(ncols), rng.randint(0, ncols)))
        cells = "".join(_cell(rng, r, c, feats) for c in cols)
        row = f'<row r="{r}"{spans}{hidden}>{cells}</row>'
        if "quotes" in feats:
            row = row.replace('hidden="1"', "hidden='1'")
        parts.append(row + ("\n" if "pretty" in feats else ""))
    if "styled_tail" in feats:
        last = (rows[-1] if rows else 0) + 1
        parts.extend(f'<row r="{r}"><c r="A{r}" s="1"/></row>' for r in range(last, last + 1500))
    parts.append("</sheetData><mergeCells/></worksheet>")
    xml = "".join(parts)
    if "prefixed" in feats:
        xml = xml.replace(f'xmlns="{NS}"', f'xmlns:x="{NS}"').replace("<", "<x:")
        xml = xml.replace("<x:/", "</x:").replace("<x:?", "<?").replace("<x:!", "<!")
    return xml.encode()


FEATURES = ["plain", "pretty", "v_attr", "wide", "unsorted", "no_r", "quotes", "comment",
            "styled_tail", "prefixed"]  # fmt: skip


@pytest.mark.parametrize("feature", FEATURES)
def test_fast_scan_equals_the_parser_or_declines(feature):
    taken = 0
    for seed in range(60):
        data = _sheet(seed, {feature})
        fast = _fast_sheet_meta(data, "S", "visible", XFS, 5_000_000)
        slow = _read_sheet_meta_bytes(data, "S", "visible", XFS, 5_000_000, {})
        if fast is not None:
            taken += 1
            assert fast == slow, f"seed {seed}, {feature}"
        if feature in ("quotes", "comment", "prefixed") and (b"='" in data or b"<!" in data
                                                                or b"<x:" in data):  # fmt: skip
            assert fast is None, f"seed {seed}, {feature}"
    if feature in ("plain", "pretty", "v_attr", "wide", "styled_tail"):
        assert taken >= 50  # the fast path does these shapes itself


def test_fast_scan_declines_near_the_cell_limit():
    data = _sheet(3, {"plain"})
    slow = _read_sheet_meta_bytes(data, "S", "visible", XFS, None, {})
    span = slow.max_row * 12
    assert _fast_sheet_meta(data, "S", "visible", XFS, 1) is None
    assert _fast_sheet_meta(data, "S", "visible", XFS, span * 100) == slow
