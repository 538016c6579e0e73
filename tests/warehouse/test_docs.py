"""The data dictionary in the database (every table and column has a COMMENT), `tpa docs`,
and the analyst tools on the published warehouse: `tpa query` and `tpa shell`."""

from __future__ import annotations

import json

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.outputs import shell
from pipeline.warehouse import comments
from tests.builders.runs import q
from tests.builders.warehouse import small_warehouse


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return small_warehouse(tmp_path_factory)


@pytest.mark.slow
def test_every_table_and_column_has_a_comment(wh):
    schemas = list(comments.DOCUMENTED_SCHEMAS)
    marks = ", ".join("?" for _ in schemas)
    tables = q(
        wh,
        f"SELECT schema_name || '.' || table_name FROM ({comments.RELATIONS}) "
        f"WHERE schema_name IN ({marks}) AND coalesce(trim(comment), '') = ''",
        schemas,
    )
    columns = q(
        wh,
        f"SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        f"WHERE schema_name IN ({marks}) AND coalesce(trim(comment), '') = ''",
        schemas,
    )
    missing = [r[0] for r in tables + columns]
    assert not missing, (
        "no description for these; add a '-- column <name>: <text>' line to the SQL model's "
        "header, or to pipeline/warehouse/comments.py (tables the build creates), or to the form spec: "
        + ", ".join(missing)
    )
    n = q(wh, "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'marts'")[0][0]
    assert n > 50
    for s in ("ref", "raw", "staging", "marts", "quarantine"):
        assert q(wh, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ?", [s])[0][0]


@pytest.mark.slow
def test_comments_come_from_the_sources(wh):
    def comment(schema, table, column):
        return q(
            wh,
            "SELECT comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
            "AND column_name = ?",
            [schema, table, column],
        )[0][0]

    c = comment("staging", "population", "total_population")
    assert "总人口" in c and "人" in c and "表1" in c  # schemas.FORMS: header, unit, form
    assert "万元" in comment("staging", "medical", "inpatient_expense")
    assert "HMAC" in comment("staging", "households", "head_id_hash")
    assert "贫困发生率" in comment("marts", "county_indicators", "poverty_incidence")
    assert "ratio" in comment("marts", "indicators", "value")
    table = q(
        wh,
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' "
        "AND table_name = 'indicators'",
    )[0][0]
    assert table.startswith("one row per indicator code")  # the SQL model's leading comment


def test_apply_comments_reports_what_it_cannot_describe():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.indicators (indicator_code VARCHAR, brand_new_column INT)")
    con.execute("COMMENT ON TABLE marts.indicators IS 'x'")
    con.execute("CREATE TABLE marts.brand_new_table (period VARCHAR)")
    missing = comments.apply_comments(con)
    assert missing == ["marts.brand_new_table", "marts.indicators.brand_new_column"]
    got = con.execute(
        "SELECT comment FROM duckdb_columns() WHERE column_name = 'indicator_code'"
    ).fetchone()[0]
    assert got


@pytest.mark.slow
def test_docs_markdown(wh, tmp_path):
    res = CliRunner().invoke(app, ["docs", "--warehouse", str(wh), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "data_dictionary.md").read_text(encoding="utf-8")
    for heading in ("## ref", "## staging", "## marts", "### marts.indicators", "### raw.files"):
        assert heading in text
    assert "| `indicator_code` | VARCHAR |" in text


@pytest.mark.slow
def test_query_formats(wh):
    runner = CliRunner()
    sql = (
        "SELECT geo_code, value FROM marts.indicators WHERE indicator_code = "
        "'poverty_incidence' AND geo_level = 'province'"
    )
    res = runner.invoke(app, ["query", sql, "--warehouse", str(wh), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert rows[0]["geo_code"] == "530000" and 0 < rows[0]["value"] < 1
    res = runner.invoke(app, ["query", sql, "--warehouse", str(wh), "--format", "csv"])
    assert res.output.splitlines()[0] == "geo_code,value"
    res = runner.invoke(app, ["query", sql, "--warehouse", str(wh)])
    assert "530000" in res.output
    res = runner.invoke(app, ["query", "CREATE TABLE x (a INT)", "--warehouse", str(wh)])
    assert res.exit_code == 2  # read-only


def test_shell_statements_split():
    lines = [".tables", "SELECT 1", "  + 1;", "", "SELECT 2; ", ".quit"]
    assert list(shell.statements(lines)) == [".tables", "SELECT 1\n  + 1;", "SELECT 2;", ".quit"]


@pytest.mark.slow
def test_shell_read_only(wh):
    console = Console(record=True, width=200)
    con = shell.connect(wh)
    try:
        shell.run(
            con,
            [
                "SELECT count(*) AS n",
                "FROM marts.indicators;",
                "CREATE TABLE marts.x (a INT);",
                ".describe marts.data_quality",
                ".tables",
                ".nope",
                ".quit",
                "SELECT 'never reached';",
            ],
            console,
        )
    finally:
        con.close()
    out = console.export_text()
    assert "read-only" in out  # the CREATE was refused
    assert "files_received" in out and "workbooks received" in out  # .describe with comments
    assert "marts.indicators" in out  # .tables
    assert "unknown command .nope" in out
    assert "never reached" not in out
    assert q(wh, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'x'")[0][0] == 0


@pytest.mark.slow
def test_shell_cli_piped(wh):
    res = CliRunner().invoke(
        app,
        ["shell", "--plain", "--warehouse", str(wh)],
        input="SELECT geo_name_zh FROM marts.indicators WHERE geo_level = 'province' LIMIT 1;\n",
    )
    assert res.exit_code == 0, res.output
    assert "云南省" in res.output


@pytest.mark.slow
def test_shell_prefers_harlequin_read_only(wh, monkeypatch, tmp_path):
    monkeypatch.setattr(shell.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(shell.shutil, "which", lambda name: None)
    init = tmp_path / "init.sql"
    assert shell.harlequin_command(wh, init) is None  # not installed: the built-in prompt
    monkeypatch.setattr(shell.shutil, "which", lambda name: "/opt/bin/harlequin")
    assert shell.harlequin_command(wh, init) == [
        "/opt/bin/harlequin", "--read-only", "--init-path", str(init), str(wh)
    ]  # fmt: skip
