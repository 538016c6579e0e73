"""Each form is declared once (issue 14 item 2): the pandera schema, the staged columns,
the staging SQL, the rules and the village-code rule all follow the ``Form`` spec.

The last tests build a modified spec (one column and one rule more, each one line) and
show that the new column is typed, validated by the derived pandera schema, staged and
checked by the new rule through the real extract of a sheet.
"""

from __future__ import annotations

import dataclasses
import pickle
import re

import duckdb
import pandas as pd
import pandera.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.header import find_header
from pipeline.extract.readers.workbook import open_workbook
from pipeline.extract.sheet import FileContext, _field_message, _field_rule, extract_sheet
from schemas import FORMS, SCHEMAS, staged_columns
from schemas.columns import VILLAGE_CODE_PATTERN, Col, Form, is_village_code
from schemas.rules import Rule, at_most, difference, le
from schemas.validation import pandera_schema
from tests.builders.paths import ROOT
from tests.builders.sql import source_tables
from tests.builders.workbooks import COVER, SheetSpec, write_workbook

STANDARD = ("county_code", "period", "file_sha256", "sheet", "excel_row")


@pytest.fixture(scope="module")
def staging_sql_columns() -> dict[str, list[str]]:
    """Form -> the data columns ``sql/staging/<form>.sql`` selects, as DuckDB describes
    the model run over the empty source tables (standard columns left out)."""
    con = duckdb.connect()
    source_tables(con)
    out = {}
    for form in FORMS:
        sql = (ROOT / "sql" / "staging" / f"{form}.sql").read_text(encoding="utf-8")
        con.execute(f"CREATE VIEW stg_{form} AS {sql}")
        cols = [r[0] for r in con.execute(f"DESCRIBE stg_{form}").fetchall()]
        out[form] = [c for c in cols if c not in STANDARD]
    con.close()
    return out


@pytest.mark.parametrize("form", list(FORMS))
def test_schema_spec_and_staging_sql_have_the_same_columns(form, staging_sql_columns):
    spec = [c.staged_name for c in FORMS[form].columns if c.staged_name]
    assert list(SCHEMAS[form].columns) == spec
    assert [n for n, _ in staged_columns(form)] == spec
    assert staging_sql_columns[form] == spec


def test_personal_columns_are_staged_as_the_spec_says():
    hh = FORMS["households"]
    assert "head_name" not in SCHEMAS["households"].columns  # a name is never staged
    assert hh.col("head_id_number").staged_name == "head_id_hash"
    assert dict(staged_columns("households"))["head_id_hash"] == "VARCHAR"


@pytest.mark.parametrize("form", list(FORMS))
def test_every_rule_referenced_exists(form):
    """Each dataframe check of the schema is a rule of the form, each rule names columns
    of the form, and each column check has its own finding rule and message."""
    spec, schema = FORMS[form], SCHEMAS[form]
    assert [c.name for c in schema.checks] == [r.name for r in spec.rules]
    for check in schema.checks:
        rule = spec.rule(check.name)
        assert rule is not None and rule.message_zh and rule.message_en
        assert set(rule.columns) <= set(spec.names)
        # the severity stays what the rule's name has always said
        assert (rule.severity == "warning") == rule.name.startswith("warn_")
    for column in schema.columns.values():
        for check in column.checks:
            rule = _field_rule(check.name)
            assert rule in ("negative", "out_of_range", "not_a_choice", "bad_code"), check
            assert not _field_message(check.name)[0].startswith("未通过检查")


def test_a_rule_on_an_unknown_column_is_refused():
    water = FORMS["water"]
    with pytest.raises(ValueError, match="unknown"):
        dataclasses.replace(water, rules=(le("spare_taps", "resolved_households", "甲", "乙"),))
    with pytest.raises(ValueError, match="twice"):
        dataclasses.replace(water, rules=water.rules + water.rules[:1])
    with pytest.raises(ValueError, match="severity"):
        Rule("x", ("township",), "甲", "a", at_most("a", "b"), severity="fatal")


def test_rule_messages_and_names_are_unchanged():
    """Three rules written by hand as they read before the spec held them."""
    pop, housing, hh = FORMS["population"], FORMS["housing"], FORMS["households"]
    r = pop.rule("registered_households_le_total_households")
    assert (r.message_zh, r.message_en, r.severity) == (
        "建档立卡贫困户数大于总户数，请核对",
        "registered_households is greater than total_households; please check",
        "error",
    )
    r = housing.rule("warn_other_completed_le_other_planned")
    assert (r.message_zh, r.severity) == ("非四类重点对象竣工数大于任务数，请核对", "warning")
    r = hh.rule("exit_year_ge_registered_year")
    assert r.columns == ("exit_year", "registered_year") and r.severity == "error"


_INT = st.one_of(st.none(), st.integers(min_value=0, max_value=50))


@given(st.lists(st.tuples(_INT, _INT, _INT), min_size=1, max_size=8))
def test_rule_tests_follow_their_definition(rows):
    """``le``: a <= b; ``difference``: r = a - b; a NULL operand passes."""
    df = pd.DataFrame(rows, columns=["r", "a", "b"], dtype="Int64")
    got_le = list(le("a", "b", "甲", "乙").test(df))
    got_diff = list(difference("r", "a", "b", "丙", "甲", "乙").test(df))
    for (r, a, b), x, y in zip(rows, got_le, got_diff, strict=True):
        assert x == (a is None or b is None or a <= b)
        assert y == (r is None or a is None or b is None or r == a - b)


@given(st.text(alphabet="0123456789Xx５", max_size=14))
def test_village_code_pattern_and_test_agree(text):
    """The one village-code rule: the extract's test and the schema's pattern agree."""
    assert is_village_code(text) == bool(re.match(VILLAGE_CODE_PATTERN, text))


def test_village_code_rule_is_written_once():
    """No other source file states 12 digits for a code (issue 14)."""
    pattern = re.compile(r"\\d\{12\}|len\([^)]*\)\s*[!=]=\s*12\b|\{12\}")
    hits = []
    for folder in ("pipeline", "schemas", "flows"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "columns.py" and path.parent.name == "schemas":
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert hits == []
    village_forms = [f for f in FORMS.values() if "village_code" in f.names]
    assert [f.code for f in village_forms] == ["population", "infrastructure", "households"]
    for f in village_forms:
        checks = SCHEMAS[f.code].columns["village_code"].checks
        assert [c.statistics["pattern"] for c in checks] == [VILLAGE_CODE_PATTERN]


# --------------------------------------------------------------- a column added to the spec

SPARE = Col("spare_taps", "count", "备用水龙头数", unit="个", bounds=(0, 10))  # one line
SPARE_RULE = le("spare_taps", "unsafe_households_start", "备用水龙头数", "期初饮水不安全户数")


def _water_plus() -> Form:
    water = FORMS["water"]
    return dataclasses.replace(
        water, columns=(*water.columns, SPARE), rules=(*water.rules, SPARE_RULE)
    )


def test_a_column_added_to_the_spec_is_in_the_derived_schema():
    plus = _water_plus()
    schema = pandera_schema(plus)
    assert list(schema.columns)[-1] == "spare_taps"
    assert plus.staged_columns()[-1] == ("spare_taps", "BIGINT")
    counts = {
        "unsafe_households_start": 2,
        "unsafe_persons_start": 6,
        "resolved_households": 1,
        "resolved_persons": 3,
        "unsafe_households_end": 1,
        "unsafe_persons_end": 3,
        "spare_taps": 11,
    }  # fmt: skip  (11: above its bound 10 and above 2 households)
    frame = pd.DataFrame(
        {"township": pd.Series(["甲乡"], dtype="str"), "village": pd.Series(["乙村"], dtype="str")}
        | {n: pd.array([v], dtype="Int64") for n, v in counts.items()}
    )
    with pytest.raises(pandera.errors.SchemaErrors) as exc:
        schema.validate(frame, lazy=True)
    fc = exc.value.failure_cases
    assert sorted(set(fc["check"])) == [
        "less_than_or_equal_to(10)",
        "spare_taps_le_unsafe_households_start",
    ]
    assert set(fc.loc[fc["check"] == "less_than_or_equal_to(10)", "column"]) == {"spare_taps"}
    SCHEMAS["water"].validate(frame.drop(columns="spare_taps"), lazy=True)  # unchanged form


def test_a_column_added_to_the_spec_is_validated_by_the_extract(tmp_path):
    """A water sheet with one column more, read as the modified spec: the new column is
    coerced, staged and validated (bound 0-10, rule ≤ 期初饮水不安全户数)."""
    water = FORMS["water"]
    header = [c.header_zh for c in water.columns] + ["备用水龙头数"]
    rows = [
        ["甲乡", "一村", 10, 30, 4, 12, 6, 18, 5],  # fine
        ["甲乡", "二村", 20, 60, 4, 12, 16, 48, 11],  # 11 > its bound 10
        ["甲乡", "三村", 3, 9, 1, 3, 2, 6, 4],  # 4 > 3 unsafe households: the new rule
    ]
    path = write_workbook(tmp_path / "w.xlsx", [SheetSpec("表5", [[COVER], header, *rows])])
    sheet = open_workbook(path, 2**26, 2**28).sheets[0]
    m = find_header(sheet.grid, sheet.merges)
    assert m.form is water and "spare_taps" not in m.columns
    j = len(water.columns)  # the extra column, 0-based
    m_plus = dataclasses.replace(
        m,
        form=_water_plus(),
        columns={**m.columns, "spare_taps": j},
        header_text={**m.header_text, "spare_taps": "备用水龙头数"},
        unmatched=[lb for lb in m.unmatched if lb.col != j],
    )
    ctx = FileContext("0" * 64, "w.xlsx", "530128", "2019-12")
    res = extract_sheet(sheet, m_plus, ctx)
    got = sorted((f.excel_row, f.rule, f.severity, f.cell_ref) for f in res.findings)
    assert got == [
        (4, "out_of_range", "error", "I4"),
        (5, "spare_taps_le_unsafe_households_start", "error", "I5,C5"),
    ]
    assert list(res.valid["excel_row"]) == [3]
    assert list(res.valid["spare_taps"]) == [5]
    assert [q["excel_row"] for q in res.quarantine] == [4, 5]
    # the same sheet read with the form as declared: the column is not staged
    plain = extract_sheet(sheet, m, ctx)
    assert "spare_taps" not in plain.valid.columns and len(plain.valid) == 3


def test_forms_pickle_with_their_rules():
    """A spec crosses into worker processes: its rules' tests pickle and still work."""
    plus = pickle.loads(pickle.dumps(_water_plus()))
    df = pd.DataFrame(
        {"spare_taps": [3, 5, None], "unsafe_households_start": [4, 4, 4]}, dtype="Int64"
    )
    assert list(plus.rule("spare_taps_le_unsafe_households_start").test(df)) == [True, False, True]
    for form in FORMS.values():
        assert pickle.loads(pickle.dumps(form)).staged_columns() == form.staged_columns()
