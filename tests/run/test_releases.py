"""Releases and revision history on small hand-made warehouses (issue 13, item 6), without
Prefect: a figure first published is kept, each later value carries its release and the
submissions that changed it, retention never removes a release holding a first-published
value, and ``tpa query --release`` reads a release and writes nowhere."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.outputs import night
from pipeline.run import releases

R = [f"2020010{i}T020000-00000{i}" for i in range(1, 6)]  # dated release ids, oldest first


def make_build(path: Path, values: dict[tuple, float], subs: list[tuple[str, str, str]]) -> Path:
    """A warehouse with the tables releases read: ``values`` {(indicator, level, geo,
    period): value}; ``subs`` current submissions (file_sha256, county_code, period)."""
    con = duckdb.connect(str(path))
    try:
        for s in ("ref", "raw", "marts"):
            con.execute(f"CREATE SCHEMA {s}")
        con.execute(
            "CREATE TABLE ref.counties AS SELECT * FROM (VALUES ('530102', '530100', '五华区'), "
            "('530103', '530100', '盘龙区'), ('530321', '530300', '马龙区')) "
            "t(county_code, prefecture_code, county_name_zh)"
        )
        con.execute(
            "CREATE TABLE raw.submissions (file_sha256 VARCHAR, form VARCHAR, county_code "
            "VARCHAR, period VARCHAR, received_at TIMESTAMP, is_current BOOLEAN, "
            "superseded_by VARCHAR)"
        )
        for sha, county, period in subs:
            con.execute(
                "INSERT INTO raw.submissions VALUES (?, 'population', ?, ?, now(), true, NULL)",
                [sha, county, period],
            )
        con.execute(
            "CREATE TABLE marts.indicators (indicator_code VARCHAR, geo_level VARCHAR, "
            "geo_code VARCHAR, geo_name_zh VARCHAR, period VARCHAR, numerator DOUBLE, "
            "denominator DOUBLE, value DOUBLE, unit VARCHAR)"
        )
        for (code, level, geo, period), v in values.items():
            con.execute(
                "INSERT INTO marts.indicators VALUES (?, ?, ?, NULL, ?, NULL, NULL, ?, 'ratio')",
                [code, level, geo, period, v],
            )
    finally:
        con.close()
    return path


def publish(tmp: Path, wh: Path, rid: str, values: dict, subs: list) -> dict | None:
    """Stage, 'publish' (rename over the warehouse) and keep, as the nightly flow does."""
    build = make_build(tmp / f"build-{rid}.duckdb", values, subs)
    staged = releases.stage(build, wh, rid)
    os.replace(build, wh)
    return releases.keep(wh, staged)


INC = "poverty_incidence"
P = "2019-12"


def revisions(wh: Path) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(
            "SELECT geo_level, geo_code, revision, value, previous_value, first_value, "
            "first_release_id, release_id, file_sha256s FROM raw.indicator_revisions "
            "ORDER BY geo_level, geo_code, revision"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def history(tmp_path):
    """R1: two counties and their prefecture; R2: 530102 resubmitted (its value and the
    prefecture's change); R3 nothing changed; R4: 530102 revised again; R5: a new county."""
    wh = tmp_path / "warehouse.duckdb"
    v1 = {(INC, "county", "530102", P): 0.05, (INC, "county", "530103", P): 0.02,
          (INC, "prefecture", "530100", P): 0.035}  # fmt: skip
    s1 = [("a1", "530102", P), ("b1", "530103", P)]
    out = {"wh": wh, "kept": [publish(tmp_path, wh, R[0], v1, s1)]}
    v2 = {**v1, (INC, "county", "530102", P): 0.04, (INC, "prefecture", "530100", P): 0.03}
    s2 = [("a2", "530102", P), ("b1", "530103", P)]
    out["kept"].append(publish(tmp_path, wh, R[1], v2, s2))
    out["kept"].append(publish(tmp_path, wh, R[2], v2, s2))  # same data: no release
    v4 = {**v2, (INC, "county", "530102", P): 0.045, (INC, "prefecture", "530100", P): 0.0325}
    s4 = [("a3", "530102", P), ("b1", "530103", P)]
    out["kept"].append(publish(tmp_path, wh, R[3], v4, s4))
    v5 = {**v4, (INC, "county", "530321", P): 0.01, (INC, "prefecture", "530300", P): 0.01}
    out["kept"].append(publish(tmp_path, wh, R[4], v5, [*s4, ("c1", "530321", P)]))
    return out


@pytest.mark.slow
def test_first_published_value_is_kept_and_each_change_says_why(history):
    wh = history["wh"]
    assert [m["release_id"] if m else None for m in history["kept"]] == [
        R[0],
        R[1],
        None,
        R[3],
        R[4],
    ]
    rows = revisions(wh)
    c102 = [r for r in rows if r[1] == "530102"]
    assert c102 == [
        ("county", "530102", 0, 0.05, None, 0.05, R[0], R[0], ["a1"]),
        ("county", "530102", 1, 0.04, 0.05, 0.05, R[0], R[1], ["a2"]),
        ("county", "530102", 2, 0.045, 0.04, 0.05, R[0], R[3], ["a3"]),
    ]
    # the prefecture's figure changed with 530102's submissions; 530103 never changed
    pref = [r for r in rows if r[1] == "530100"]
    assert [(r[2], r[3], r[7], r[8]) for r in pref] == [
        (0, 0.035, R[0], ["a1", "b1"]), (1, 0.03, R[1], ["a2"]), (2, 0.0325, R[3], ["a3"])
    ]  # fmt: skip
    assert [r[2:4] for r in rows if r[1] == "530103"] == [(0, 0.02)]
    assert [r[2:4] + r[6:] for r in rows if r[1] == "530321"] == [(0, 0.01, R[4], R[4], ["c1"])]
    m = history["kept"][1]
    assert (m["revisions"], m["first_published"]) == (2, 0)  # two changed, none new


@pytest.mark.slow
def test_a_release_reproduces_the_figure_sent_upward(history):
    wh = history["wh"]
    sql = f"SELECT value FROM marts.indicators WHERE geo_code = '530102' AND period = '{P}'"
    got = {}
    for rid in (R[0], R[1], R[3]):
        con = releases.open_release(wh, rid)
        got[rid] = con.execute(sql).fetchall()[0][0]
        con.close()
    assert got == {R[0]: 0.05, R[1]: 0.04, R[3]: 0.045}
    folder = releases.release_path(wh, R[0])
    assert all(not os.access(p, os.W_OK) or os.geteuid() == 0 for p in folder.rglob("*.parquet"))
    assert all((p.stat().st_mode & 0o222) == 0 for p in folder.rglob("*"))  # read-only


@pytest.mark.slow
def test_retention_keeps_first_published_releases(history, tmp_path):
    wh = history["wh"]
    reports, exports = night.folders(wh)
    reports.mkdir()
    for rid in (R[0], R[1], R[3], R[4]):
        (reports / f"report_{P}_{rid}.html").write_text("x")
    (reports / f"report_{P}.html").write_text("written by hand: tpa report")
    kept, gone = releases.prune(wh, 1)
    # R1 and R5 first published values; R5 is also the newest; R2 and R4 only revised
    assert (kept, gone) == ([R[0], R[4]], [R[1], R[3]])
    assert sorted(p.name for p in releases.releases_dir(wh).iterdir()) == [R[0], R[4]]
    removed = night.prune(wh, set(kept))
    assert sorted(p.name for p in removed) == [f"report_{P}_{R[1]}.html", f"report_{P}_{R[3]}.html"]
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [f"report_{P}.html", f"report_{P}_{R[0]}.html", f"report_{P}_{R[4]}.html"]
    )
    # the history still names the revisions of the pruned releases
    assert [r[7] for r in revisions(wh) if r[1] == "530102"] == [R[0], R[1], R[3]]


@pytest.mark.slow
def test_tpa_releases_and_query_release(history, tmp_path):
    wh = history["wh"]
    runner = CliRunner()
    res = runner.invoke(app, ["releases", "--warehouse", str(wh)])
    assert res.exit_code == 0, res.output
    for rid in (R[0], R[1], R[3], R[4]):
        assert rid in res.output
    sql = f"SELECT value FROM marts.indicators WHERE geo_code = '530102' AND period = '{P}'"
    res = runner.invoke(
        app, ["query", "--release", R[1], "--warehouse", str(wh), "--format", "csv", sql]
    )
    assert res.exit_code == 0, res.output
    assert res.output.split() == ["value", "0.04"]
    folder = releases.release_path(wh, R[1])
    for target in (folder / "copy.parquet", tmp_path / "elsewhere.csv"):
        res = runner.invoke(
            app,
            ["query", "--release", R[1], "--warehouse", str(wh),
             f"COPY (SELECT * FROM marts.indicators) TO '{target}'"],
        )  # fmt: skip
        assert res.exit_code == 2 and not target.exists()
        assert (
            "COPY is not allowed" in res.output
        )  # refused before it runs (pipeline.warehouse.safesql)
    res = runner.invoke(app, ["query", "--release", "nope", "--warehouse", str(wh), "select 1"])
    assert res.exit_code == 2 and "no release 'nope'" in res.output


@pytest.mark.slow
def test_a_withdrawn_figure_is_a_revision_to_null_and_can_come_back(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    both = {(INC, "county", "530102", P): 0.05, (INC, "county", "530103", P): 0.02}
    only = {(INC, "county", "530103", P): 0.02}
    subs = [("a1", "530102", P), ("b1", "530103", P)]
    kept = [
        publish(tmp_path, wh, R[0], both, subs),
        publish(tmp_path, wh, R[1], only, subs[1:]),  # 530102's workbook left the raw folder
        publish(tmp_path, wh, R[2], only, subs[1:]),  # nothing changed
        publish(tmp_path, wh, R[3], both, [("a2", "530102", P), *subs[1:]]),
    ]
    assert [m["release_id"] if m else None for m in kept] == [R[0], R[1], None, R[3]]
    assert [r[2:8] for r in revisions(wh) if r[1] == "530102"] == [
        (0, 0.05, None, 0.05, R[0], R[0]),
        (1, None, 0.05, 0.05, R[0], R[1]),
        (2, 0.05, None, 0.05, R[0], R[3]),
    ]
