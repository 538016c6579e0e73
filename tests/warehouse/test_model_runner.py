"""The model runner (issue 14 item 4): headers read from each model, run order derived from
the tables each model references (sqlglot), clear errors on a cycle or an unknown reference,
and the SQL stated once (no province literal, no hand list of forms)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipeline import refdata
from pipeline.warehouse import models
from schemas import FORMS

HEADER = "-- grain: one row per x\n-- materialized: {kind}\n"


def _write(sql_dir: Path, table: str, body: str, kind: str = "table") -> None:
    layer, name = table.split(".")
    (sql_dir / layer).mkdir(parents=True, exist_ok=True)
    (sql_dir / layer / f"{name}.sql").write_text(HEADER.format(kind=kind) + body, encoding="utf-8")


# ------------------------------------------------------------------ the current models


def test_every_current_model_parses_and_names_only_known_tables():
    found = models.load_models()
    assert len(found) == len(list(models.SQL_DIR.glob("[sim]*/*.sql")))
    by_table = {m.table: m for m in found}
    # what sqlglot finds in a few models, written out by hand from their SQL
    assert by_table["marts.indicators"].refs == (
        "intermediate.int_county_indicators",
        "intermediate.int_household_indicators",
        "ref.geographies",
        "ref.indicator_definitions",
    )
    assert by_table["marts.county_indicators"].refs == ("marts.wide_indicators",)
    assert by_table["staging.water"].refs == ("raw.submissions", "raw.water")
    assert by_table["intermediate.int_household_geographies"].header.materialized == "view"
    assert by_table["marts.wide_indicators"].header.materialized == "table"


def test_run_order_follows_the_references():
    found = models.load_models()
    position = {m.table: i for i, m in enumerate(found)}
    for m in found:
        for ref in m.refs:
            if ref in position:
                assert position[ref] < position[m.table], f"{m.table} runs before {ref}"
    # wide_indicators (marts) runs before the views that read it though it sorts after them
    assert position["marts.wide_indicators"] < position["marts.county_indicators"]


def test_no_model_file_carries_an_order_prefix():
    names = [p.name for p in models.SQL_DIR.glob("*/*.sql")]
    assert names and not [n for n in names if re.match(r"\d", n)]


def test_the_models_create_what_their_headers_say():
    con = duckdb.connect()
    from tests.builders.sql import source_tables

    source_tables(con)
    made = models.run_models(con)
    views = {
        f"{s}.{v}"
        for s, v in con.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    }
    assert views == {m.table for m in models.load_models() if m.header.materialized == "view"}
    assert {"marts.county_indicators", "intermediate.int_household_geographies"} <= views
    assert len(made) == len(models.load_models())
    comment = con.execute(
        "SELECT comment FROM duckdb_views() WHERE view_name = 'province_indicators'"
    ).fetchone()[0]
    assert comment.startswith("one row per province and period")
    assert "materialized" not in comment
    con.close()


# ------------------------------------------------------------------ the runner on toy models


def test_order_is_derived_not_alphabetical(tmp_path):
    _write(tmp_path, "marts.a", "select * from marts.b")
    _write(tmp_path, "marts.b", "select * from intermediate.c")
    _write(tmp_path, "intermediate.c", "with x as (select 1 as v) select v from x")
    assert [m.table for m in models.load_models(tmp_path)] == [
        "intermediate.c",
        "marts.b",
        "marts.a",
    ]
    con = duckdb.connect()
    assert models.run_models(con, tmp_path) == ["intermediate.c", "marts.b", "marts.a"]
    assert con.execute("SELECT v FROM marts.a").fetchall() == [(1,)]


def test_a_cycle_is_refused_with_its_path(tmp_path):
    _write(tmp_path, "marts.a", "select * from marts.b")
    _write(tmp_path, "marts.b", "select * from marts.a")
    with pytest.raises(models.ModelError, match=r"cycle: marts\.(a|b) -> marts\.(a|b)"):
        models.load_models(tmp_path)


def test_an_unknown_model_is_refused(tmp_path):
    _write(tmp_path, "marts.a", "select * from intermediate.nope")
    with pytest.raises(models.ModelError, match=r"marts/a\.sql: reads intermediate\.nope"):
        models.load_models(tmp_path)


def test_an_unknown_schema_is_refused(tmp_path):
    _write(tmp_path, "marts.a", "select * from elsewhere.t")
    with pytest.raises(models.ModelError, match="schema 'elsewhere'"):
        models.load_models(tmp_path)


def test_an_unqualified_table_is_refused(tmp_path):
    _write(tmp_path, "marts.a", "select * from counties")
    with pytest.raises(models.ModelError, match="'counties', not schema-qualified"):
        models.load_models(tmp_path)


def test_a_missing_source_table_is_refused_before_anything_runs(tmp_path):
    _write(tmp_path, "marts.a", "select 1 as v")
    _write(tmp_path, "marts.b", "select * from ref.nope")
    con = duckdb.connect()
    with pytest.raises(models.ModelError, match=r"reads ref\.nope, which is neither a model"):
        models.run_models(con, tmp_path)
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- materialized: table\nselect 1", "no '-- grain"),
        ("-- grain: one row per x\nselect 1", "must be table or view"),
        ("-- grain: one row per x\n-- materialized: index\nselect 1", "not 'index'"),
    ],
)
def test_a_header_without_grain_or_kind_is_refused(text, message):
    with pytest.raises(models.ModelError, match=message):
        models.parse_header(text)


def test_header_fields_and_continuations():
    h = models.parse_header(
        "-- grain: one row per county\n"
        "--   and period\n"
        "-- materialized: View\n"
        "-- What it means.\n"
        "-- More of it.\n"
        "-- column n: a count\n"
        "--   of things\n"
        "-- column share: n / total\n"
        "select 1\n"
        "-- column later: not in the header\n"
    )
    assert h.grain == "one row per county and period"
    assert h.materialized == "view"
    assert h.description == "What it means. More of it."
    assert h.columns == {"n": "a count of things", "share": "n / total"}
    assert h.comment == "one row per county and period: What it means. More of it."


# ------------------------------------------------------------------ SQL stated once


def _sql_files() -> list[Path]:
    return sorted(models.SQL_DIR.glob("*/*.sql"))


def test_no_province_code_or_name_is_a_literal_in_sql():
    """ref.geographies (from refdata) is the only place the province is named."""
    for path in _sql_files():
        text = path.read_text(encoding="utf-8")
        for literal in (refdata.PROVINCE_CODE, refdata.PROVINCE_NAME_ZH):
            assert literal not in text, f"{path.name} writes {literal}"


def test_geographies_roll_every_county_up_three_levels():
    g = refdata.geographies()
    counties = refdata.counties()
    assert len(g) == 3 * len(counties) == 3 * 129
    kunming = g[g["county_code"] == "530128"].set_index("geo_level")  # 禄劝, 昆明市
    assert kunming.loc["county", "geo_code"] == "530128"
    assert kunming.loc["prefecture", ["geo_code", "geo_name_zh"]].tolist() == ["530100", "昆明市"]
    assert kunming.loc["province", ["geo_code", "geo_name_zh"]].tolist() == ["530000", "云南省"]
    assert g.groupby("geo_level")["geo_code"].nunique().to_dict() == {
        "county": 129,
        "prefecture": 16,
        "province": 1,
    }


def form_lists(sql: str) -> set[str]:
    """Form codes ``sql`` lists by hand: compared with a ``form`` column (``=``, ``IN``) or
    written in a ``VALUES`` list with a ``form`` column (the AF dimensions share four names
    with forms; they are neither)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    found = set()
    for node in tree.find_all(exp.EQ, exp.In):
        if any(isinstance(c, exp.Column) and c.name == "form" for c in node.iter_expressions()):
            found |= {lit.this for lit in node.find_all(exp.Literal) if lit.is_string}
    for values in tree.find_all(exp.Values):
        alias = values.args.get("alias")
        if alias is not None and "form" in {c.name for c in alias.columns}:
            found |= {lit.this for lit in values.find_all(exp.Literal) if lit.is_string}
    return found & set(FORMS)


def test_no_model_hand_lists_the_forms():
    """A model may name the one or two forms its logic is about; the list of forms (their
    order, which are expected) comes from ref.forms."""
    for m in models.load_models():
        assert len(form_lists(m.sql)) <= 2, (m.path.name, form_lists(m.sql))
    assert "ref.forms" in {r for m in models.load_models() for r in m.refs}
    # the check sees a hand list: data_quality's before issue 14
    old = "select * from (values ('population', 1), ('relocation', 2), ('water', 5)) as f (form, o)"
    assert form_lists(old) == {"population", "relocation", "water"}
    assert form_lists("select 1 from t where form in ('water', 'housing', 'medical')") == {
        "water",
        "housing",
        "medical",
    }


def test_the_unions_over_per_form_tables_cover_every_form():
    """Where SQL must name one table per form (a union), the set is bound to schemas.FORMS."""
    by_table = {m.table: m for m in models.load_models()}
    staged = {
        r.split(".")[1] for r in by_table["marts.data_quality"].refs if r.startswith("staging.")
    }
    assert staged == set(FORMS)
    county = {
        r.removeprefix("intermediate.int_county_")
        for r in by_table["intermediate.int_county_indicators"].refs
        if r.startswith("intermediate.int_county_") and r != "intermediate.int_county_submissions"
    }
    assert county == set(FORMS) - {"households"}  # the ledger has its own indicators model
    assert {m.name for m in by_table.values() if m.layer == "staging"} == set(FORMS)


# ------------------------------------------------------------------ column descriptions


def test_column_descriptions_are_read_from_the_model_and_passed_downstream(tmp_path):
    from pipeline.warehouse import comments

    _write(
        tmp_path,
        "intermediate.base",
        "-- column score: the household's score\n--   (0–1)\nselect 1 as score, 2 as n",
    )
    _write(
        tmp_path, "marts.top", "-- column n: its own text\nselect score, n from intermediate.base"
    )
    described = comments.described_columns(tmp_path)

    def text(table, column):
        schema, name = table.split(".")
        return comments.column_comment(schema, name, column, {}, {}, described)

    assert text("intermediate.base", "score") == "the household's score (0–1)"
    assert text("marts.top", "score") == "the household's score (0–1)"  # passed through
    assert text("marts.top", "n") == "its own text"
    assert text("intermediate.base", "n") is None  # nothing describes it


def test_the_real_models_describe_their_columns():
    from pipeline.warehouse import comments

    described = comments.described_columns()
    own = described[0]
    assert own["marts.reconciliation"]["diff_registered"] == (
        "ledger_registered − population_registered"
    )
    assert "exit standard" in own["intermediate.int_households"]["meets_standard"]
    inherited = comments.column_comment(
        "intermediate", "int_household_geographies", "is_exited", {}, {}, described
    )
    assert inherited == own["intermediate.int_households"]["is_exited"]
    # the marts' own columns are no longer in pipeline/warehouse/comments.py
    assert not {k for k in comments.TABLE_COLUMNS if k.startswith("marts.")} - {
        "marts.data_quality"
    }
