"""Nothing runs what a user typed (issue 11, item 7): make variables reach tpa as data,
``tpa county`` passes its code and period as query parameters, and ``tpa query`` /
``tpa shell`` (and Harlequin's initialisation) open the warehouse without access to
files or extensions.

The warehouse here is a small DuckDB file with the two tables ``make county`` reads,
written by the test; "no file written" is checked by listing the working folder (and the
worktree) before and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.outputs import shell
from pipeline.warehouse import safesql
from tests.builders.paths import ROOT

# What a hostile or careless user may type, each a way out of the warehouse.
ESCAPES = {
    "COPY TO": "COPY (SELECT 42) TO 'out.csv'",
    "read_text": "SELECT * FROM read_text('secret.txt')",
    "read_csv": "SELECT * FROM read_csv('secret.txt')",
    "glob": "SELECT * FROM glob('*')",
    "ATTACH": "ATTACH 'other.duckdb' AS other",
    "INSTALL": "INSTALL httpfs",
    "LOAD": "LOAD 'evil.duckdb_extension'",
    "LOAD built-in": "LOAD parquet",
    "EXPORT": "EXPORT DATABASE 'dump'",
    "SET back on": "SET enable_external_access = true",
    "after a SELECT": "SELECT 1; COPY (SELECT 42) TO 'out.csv'",
}


@pytest.fixture()
def site(tmp_path, monkeypatch):
    """A warehouse with one county's indicator and file rows; cwd is a scratch folder
    holding a file an attacker would like to read."""
    wh = tmp_path / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    con = duckdb.connect(str(wh))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE marts.indicators AS SELECT * FROM (VALUES "
        "('poverty_incidence', 'county', '530128', '2019-12', 0.0123, 123, 10000, 'ratio'), "
        "('poverty_incidence', 'county', '530129', '2019-12', 0.5, 1, 2, 'ratio')) "
        "t(indicator_code, geo_level, geo_code, period, value, numerator, denominator, unit)"
    )
    con.execute(
        "CREATE TABLE raw.files AS SELECT * FROM (VALUES ('2019-12/530128_禄劝.xlsx', "
        "TIMESTAMP '2020-01-01 09:00:00', 'loaded', 'population', 10, 0, NULL, '530128', "
        "'2019-12', 'abc', 'cover', NULL)) t(path, received_at, status, forms, rows_loaded, "
        "rows_quarantined, reason, county_code, period, file_sha256, identified_from, message)"
    )
    con.close()
    work = tmp_path / "work"
    work.mkdir()
    (work / "secret.txt").write_text("the secret\n")
    monkeypatch.chdir(work)
    return {"wh": wh, "work": work, "tmp": tmp_path}


# caches other test workers write into the worktree at any moment (pytest-xdist)
TOOL_CACHES = {".pytest_cache", ".hypothesis", "__pycache__", ".ruff_cache"}


def files_under(*folders: Path) -> set[Path]:
    """Every file and folder under ``folders``, test tools' caches left out."""
    return {p for f in folders for p in f.rglob("*") if not TOOL_CACHES & set(p.parts)}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_tpa_query_refuses_every_way_out(site, name):
    before = files_under(site["tmp"])
    res = CliRunner().invoke(app, ["query", ESCAPES[name], "--warehouse", str(site["wh"])])
    assert res.exit_code == 2, res.output
    assert "the secret" not in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
    assert files_under(site["tmp"]) == before


@pytest.mark.parametrize("name", sorted(set(ESCAPES) - {"LOAD built-in", "SET back on"}))
def test_the_connection_itself_refuses_files_without_the_statement_check(site, name):
    """Even a statement that slipped past ``safesql.refusal`` cannot leave the warehouse:
    DuckDB refuses it because external access is off."""
    before = files_under(site["tmp"])
    con = safesql.connect(site["wh"])
    try:
        with pytest.raises(duckdb.Error, match="disabled|Permission"):
            con.execute(ESCAPES[name]).fetchall()
        with pytest.raises(duckdb.Error, match="configuration"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    assert files_under(site["tmp"]) == before


def test_tpa_query_still_answers_selects(site):
    sql = "SELECT numerator FROM marts.indicators WHERE geo_code = '530128'"
    res = CliRunner().invoke(app, ["query", sql, "--warehouse", str(site["wh"]), "--format", "csv"])
    assert res.exit_code == 0 and res.output.splitlines() == ["numerator", "123"]


def test_the_plain_shell_refuses_them_too(site):
    before = files_under(site["tmp"])
    console = Console(record=True, width=300)
    con = shell.connect(site["wh"])
    try:
        shell.run(con, [s + ";" for s in ESCAPES.values()], console)
    finally:
        con.close()
    out = console.export_text()
    assert out.count("refused") + out.count("disabled") >= len(ESCAPES)
    assert "the secret" not in out and files_under(site["tmp"]) == before


def test_harlequin_init_script_closes_a_plain_connection(site):
    """What Harlequin runs before its prompt turns external access off for good."""
    con = duckdb.connect(str(site["wh"]), read_only=True)
    try:
        con.execute(safesql.harlequin_init_sql())
        for name in ("COPY TO", "read_text", "ATTACH", "INSTALL", "LOAD"):
            with pytest.raises(duckdb.Error):
                con.execute(ESCAPES[name]).fetchall()
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    assert not (site["work"] / "out.csv").exists()


def test_tpa_county_uses_parameters(site):
    res = CliRunner().invoke(
        app, ["county", "530128", "--period", "2019-12", "--warehouse", str(site["wh"])]
    )
    assert res.exit_code == 0, res.output
    assert "poverty_incidence" in res.output and "0.0123" in res.output
    assert "530128_禄劝.xlsx" in res.output and "0.5" not in res.output  # only 530128


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    code=st.one_of(
        st.text(min_size=0, max_size=40),
        st.builds(
            "".join,
            st.lists(st.sampled_from(["530128", "'", '"', ";", "--", " OR 1=1", "$(id)",
                                      "`id`", "\n", "COPY (SELECT 1) TO 'x.csv'"]),
                     min_size=2, max_size=5),
        ),
    )
)  # fmt: skip
def test_tpa_county_refuses_anything_but_six_digits(site, code):
    before = files_under(site["tmp"])
    res = CliRunner().invoke(
        app, ["county", code, "--period", "2019-12", "--warehouse", str(site["wh"])]
    )
    if code.isascii() and code.isdigit() and len(code) == 6:
        assert res.exit_code == 0
    else:
        assert res.exit_code == 2 and "poverty_incidence" not in res.output
    assert files_under(site["tmp"]) == before


def make(site, *variables: str) -> subprocess.CompletedProcess:
    """``make county`` of this worktree's Makefile, run from the scratch folder."""
    tpa = f"TPA={sys.executable} -m pipeline"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "county", "STAMP=", tpa,
         f"WAREHOUSE={site['wh']}", *variables],
        cwd=site["work"], env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_make_county_passes_its_variables_as_data(site):
    ok = make(site, "COUNTY=530128", "PERIOD=2019-12")
    assert ok.returncode == 0, ok.stderr
    assert "0.0123" in ok.stdout and "530128_禄劝.xlsx" in ok.stdout

    before = files_under(site["tmp"], ROOT)
    hostile = [
        ("COUNTY=x'; COPY (select 42) TO 'out.csv'; --", "PERIOD=2019-12"),
        ('COUNTY=530128"; touch pwned_shell; echo "', "PERIOD=2019-12"),
        ("COUNTY=$(shell touch pwned_make)", "PERIOD=2019-12"),
        ("COUNTY=530128", "PERIOD=2019-12' OR '1'='1"),
        ("COUNTY=530128", "PERIOD=$$(touch pwned_dollar)"),
    ]
    for county, period in hostile:
        p = make(site, county, period)
        assert p.returncode != 0, (county, period, p.stdout)
        assert "0.0123" not in p.stdout and "Traceback" not in p.stderr
        assert "bad county code" in p.stderr or "bad period" in p.stderr, p.stderr
    after = files_under(site["tmp"], ROOT)
    assert not [p for p in after if p.name.startswith("pwned") or p.name == "out.csv"]
    assert after == before
