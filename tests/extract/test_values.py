"""No value can fail the build [issue 11, item 2]: huge and non-finite numbers in every
column kind of every form give exact findings at the cell (error when the staging type
cannot hold the value, warning when it is merely implausible), dates lie in 1900..2100
and exist (Excel's serial 60 is an error), plausible ranges come from the form specs and
``TPA_COLUMN_LIMITS``, and ``tpa check`` prints what the pipeline records."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from pipeline.config import Settings
from pipeline.extract import limits
from schemas import FORMS
from schemas.columns import PLAUSIBLE, ROW_UNITS
from tests.builders.mess import FILE_NAME, Layout, extract, records, ref, write_xlsx
from tests.builders.values import ERR, HOSTILE, SCHEMA_RANGE, cases, hostile_workbook


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    out = {}
    for form in FORMS:
        if cases(form):
            path, lay, rows, todo = hostile_workbook(folder, form)
            out[form] = (path, lay, rows, todo, extract(path))
    return out


def test_every_ranged_kind_is_covered(hostile):
    kinds = {c.kind for f in FORMS.values() for c in f.columns} & set(HOSTILE)
    assert kinds == {"count", "money", "yuan", "percent", "year", "date", "bool"}
    assert set(hostile) == set(FORMS)  # every form has a numeric, date or yes/no column


@pytest.mark.parametrize("form", list(FORMS))
def test_hostile_values_give_exact_findings_at_the_cell(hostile, form):
    path, lay, rows, todo, res = hostile[form]
    assert res.status == "loaded"
    sr = res.forms[form]
    quarantined = {q["excel_row"] for q in sr.quarantine}
    loaded_rows = set(sr.valid["excel_row"].astype(int))
    assert quarantined | loaded_rows == set(rows) and not quarantined & loaded_rows
    for r, (name, value, _fmt, expect) in zip(rows, todo, strict=True):
        cell = ref(r, lay.col(name))
        at_cell = [(f.severity, f.rule) for f in res.findings if f.cell_ref == cell]
        header = {f.column_header for f in res.findings if f.cell_ref == cell}
        what = f"{form}.{name} = {value!r}"
        if expect is None:
            assert not at_cell and r in loaded_rows, what
            continue
        assert header == {lay.written[name]}, what
        if (form, name) in SCHEMA_RANGE and expect == SCHEMA_RANGE[(form, name)]:
            assert expect in at_cell and r in quarantined, what
        elif expect[0] == ERR:
            in_row = [(f.severity, f.rule, f.cell_ref) for f in res.findings if f.excel_row == r]
            assert in_row == [(*expect, cell)], what
            assert r in quarantined, what
        else:
            assert expect in at_cell, what


def test_storable_edges_load_exactly(hostile):
    """The largest storable count and amount load as written (and are flagged)."""
    for form, name, text, staged in [
        ("medical", "registered_persons", "999999999999999", 10**15 - 1),
        ("medical", "inpatient_expense", "999999999999.999999", 10**18 - 1),
        ("households", "income_per_capita", "9999999999999999.99", 10**18 - 1),
    ]:
        path, lay, rows, todo, res = hostile[form]
        (r,) = [r for r, c in zip(rows, todo, strict=True) if c[0] == name and c[1] == text]
        valid = res.forms[form].valid
        got = valid.loc[valid["excel_row"] == r, name]
        assert list(got) == [staged], (form, name)


def test_serial_60_and_far_dates_never_load_as_another_day(hostile):
    path, lay, rows, todo, res = hostile["relocation"]
    valid = res.forms["relocation"].valid
    date_rows = {r for r, c in zip(rows, todo, strict=True) if c[0] == "completion_date"}
    mine = valid[valid["excel_row"].astype(int).isin(date_rows)]
    assert sorted(str(d.date()) for d in mine["completion_date"]) == ["2030-06-01", "2040-06-01"]


def test_money_message_names_the_bound_in_the_sheet_unit(hostile):
    path, lay, rows, todo, res = hostile["medical"]
    (r,) = [
        r
        for r, c in zip(rows, todo, strict=True)
        if c[:2] == ("inpatient_expense", "999999999999.999999")
    ]
    (f,) = [f for f in res.findings if f.cell_ref == ref(r, lay.col("inpatient_expense"))]
    # 10^10 yuan per township row = 1,000,000 万元
    assert "不超过 1,000,000万元" in f.message and "at most 1,000,000 万元" in f.message_en


def test_plausible_ranges_declared_per_kind_and_row_unit():
    for form in FORMS.values():
        assert form.row_unit in ROW_UNITS
    assert PLAUSIBLE[("count", "village")] == (0, 100_000)
    assert PLAUSIBLE[("money", "township")] == (0, 1e10)
    assert limits.ranges("medical")["inpatient_expense"] == (0, 1e10)
    assert limits.ranges("population")["total_households"] == (0, 100_000)


def test_column_limits_override_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TPA_COLUMN_LIMITS", json.dumps({"medical.inpatient_expense": 1e11}))
    s = Settings()
    assert s.column_limits == {"medical.inpatient_expense": (None, 1e11)}
    assert limits.ranges("medical", s.column_limits)["inpatient_expense"] == (0, 1e11)
    lay = Layout("medical")
    recs = records("medical", 2, seed=3)
    r0, r1 = lay.add(recs[0]), lay.add(recs[1])
    lay.set(r0, "inpatient_expense", 2_000_000)  # 2*10^10 yuan: above 1e10, below 1e11
    lay.set(r1, "inpatient_expense", 20_000_000)  # 2*10^11 yuan: above both
    path = write_xlsx(tmp_path / FILE_NAME, [lay.sheet])
    flagged = {}
    for overrides in ({}, s.column_limits):
        res = extract(path, column_limits=overrides)
        flagged[bool(overrides)] = sorted(
            f.excel_row for f in res.findings if f.rule == "implausible_value"
        )
    assert flagged == {False: [r0, r1], True: [r1]}


@pytest.mark.parametrize(
    "bad",
    ['{"medical.township": 5}', '{"nosuch.col": 5}', '{"medical.inpatient_expense": "x"}',
     '{"medical.inpatient_expense": [10, 1]}'],
)  # fmt: skip
def test_bad_column_limits_are_refused(monkeypatch, bad):
    monkeypatch.setenv("TPA_COLUMN_LIMITS", bad)
    with pytest.raises(ValueError, match="TPA_COLUMN_LIMITS|column_limits"):
        Settings()


def test_column_limits_are_part_of_the_cache_key(monkeypatch):
    from pipeline.run import cache

    plain = cache.cache_prefix(b"k")
    monkeypatch.setenv("TPA_COLUMN_LIMITS", '{"medical.inpatient_expense": 1e11}')
    assert cache.cache_prefix(b"k") != plain


def test_check_prints_what_the_pipeline_records(hostile, monkeypatch):
    """``tpa check`` runs the same extraction: every finding's message is printed, the
    exit status is 1, and there is no traceback."""
    from pipeline.cli import app

    monkeypatch.setenv("COLUMNS", "400")
    path, lay, rows, todo, res = hostile["medical"]
    out = CliRunner().invoke(app, ["check", str(path)], env={**os.environ})
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output
    printed = " ".join(out.output.split())
    for f in res.findings:
        assert " ".join(f.message.split()) in printed, f.message
