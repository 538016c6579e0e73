"""The acceptance cases of ../shared/cases (extract level), driven by their expected.json.

Each expected file: outcome, county and period; per form the exact loaded values
by Excel row, the exact quarantined rows with what their messages must (and must
not) mention, and reported-total differences.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from pipeline.extract.personal import load_key
from pipeline.extract.workbook import extract_workbook
from pipeline.run.discover import sha256_of

CASES = [
    "01_merged_two_row_header",
    "03_header_not_on_first_row",
    "04_numbers_as_text",
    "05_malformed_numbers_never_guessed",
    "07_dates_serial_and_chinese_text",
    "11_codes_as_numbers_leading_zeros",
    "13_every_failure_reported",
    "19_formula_injection_in_feedback",
]
MONEY = {"inpatient_expense", "inpatient_reimbursed", "income_per_capita"}
PERSONAL = {"head_name", "head_id_number"}


def _files(cases_dir, case):
    exp = json.loads((cases_dir / case / "expected.json").read_text(encoding="utf-8"))
    return [(cases_dir / case / f["file"], f) for f in exp["files"]]


def _extract(path):
    return extract_workbook(
        path, sha256_of(path), max_bytes=2**28, max_unzipped=2**30, id_key=load_key("k")
    )


def _norm(name, value):
    """Staged value -> the form of expected.json (money in yuan, dates ISO)."""
    if value is None or (hasattr(value, "__class__") and str(value) in ("<NA>", "NaT", "nan")):
        return None
    if name in MONEY:
        return int(value) / 100
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


@pytest.mark.parametrize("case", CASES)
def test_case(cases_dir, case):
    for path, exp in _files(cases_dir, case):
        res = _extract(path)
        msg = "\n".join(f.message for f in res.findings)
        if exp["outcome"] == "rejected":
            assert res.status == "rejected", msg
            for s in exp.get("reject_must_mention", []):
                assert s in res.message, (s, res.message)
            assert res.rows_loaded == 0
            continue
        assert res.status == "loaded", res.message
        assert (res.county_code, res.period) == (exp["county_code"], exp["period"])
        for form, fexp in exp["forms"].items():
            sr = res.forms[form]
            assert sr.sheet == fexp["sheet"]
            if "header_rows" in fexp:
                assert sr.header_rows == fexp["header_rows"]
            got = {int(r["excel_row"]): r for r in sr.valid.astype(object).to_dict("records")}
            want = {r["excel_row"]: r["values"] for r in fexp["loaded"]}
            assert sorted(got) == sorted(want), (form, msg)
            for row, values in want.items():
                for name, v in values.items():
                    if name in PERSONAL:
                        continue
                    g = _norm(name, got[row][name])
                    if isinstance(v, float) and g is not None:
                        assert g == pytest.approx(v, abs=1e-9), (row, name)
                    else:
                        assert g == v, (form, row, name, g, v)
            qrows = sorted(q["excel_row"] for q in sr.quarantine)
            assert qrows == sorted(q["excel_row"] for q in fexp["quarantined"]), (form, msg)
            assert sr.rows_read == len(got) + len(qrows)
            for q in fexp["quarantined"]:
                texts = [
                    f.message
                    for f in sr.findings
                    if f.excel_row == q["excel_row"] and f.severity == "error"
                ]
                assert texts, q
                joined = "\n".join(texts)
                for s in q.get("message_must_mention", []):
                    assert s in joined, (s, joined)
                for s in q.get("message_must_not_contain", []):
                    assert s not in joined
                    assert all(s not in (f.cell_text or "") for f in sr.findings)
                    assert all(s not in qq["cells"] for qq in sr.quarantine)
            for t in fexp.get("total_rows", []):
                diffs = [
                    f
                    for f in sr.findings
                    if f.excel_row == t["excel_row"] and f.rule == "total_mismatch"
                ]
                assert len(diffs) == len(t["differences"]), (t, [f.message for f in diffs])
                for d in t["differences"]:
                    (f,) = [f for f in diffs if f.column_header == d["column_header"]]
                    assert (
                        str(d["reported"]) in f.message
                        and str(d["sum_of_detail_rows"]) in f.message
                    )
        if "counts" in exp:
            assert res.rows_read == exp["counts"]["data_rows"]
            assert res.rows_loaded == exp["counts"]["loaded"]
            assert res.rows_quarantined == exp["counts"]["quarantined"]


def test_case04_text_cells(cases_dir):
    """Every listed text cell of case 04 loads as its exact value (money in yuan)."""
    ((path, exp),) = _files(cases_dir, "04_numbers_as_text")
    res = _extract(path)
    from pipeline.extract.readers.xlsx_meta import col_index

    for tc in exp["text_cells"]:
        form = "medical" if tc["sheet"] == "表4" else "employment"
        sr = res.forms[form]
        row = int(tc["cell"][1:])
        rec = sr.valid[sr.valid["excel_row"] == row].iloc[0]
        # find the canonical column at that letter via the header match
        from pipeline.extract.header import find_header
        from pipeline.extract.readers.workbook import open_workbook

        wb = open_workbook(path, 2**28, 2**30)
        sheet = next(s for s in wb.sheets if s.name == tc["sheet"])
        m = find_header(sheet.grid, sheet.merges)
        name = next(n for n, c in m.columns.items() if c == col_index(tc["cell"][0]))
        assert _norm(name, rec[name]) == tc["loads_as"], tc


def test_case11_household_id_zero_padded(cases_dir):
    ((path, _),) = _files(cases_dir, "11_codes_as_numbers_leading_zeros")
    res = _extract(path)
    v = res.forms["households"].valid
    assert v.loc[v["excel_row"] == 5, "household_id"].iloc[0] == "0002"
