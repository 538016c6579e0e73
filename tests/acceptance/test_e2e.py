"""End to end: ``tpa sample`` -> the nightly flow -> the province rows of marts.indicators
equal every published 2019 figure (indicators.md), and row accounting adds up per file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.builders.paths import ROOT
from tests.builders.runs import q

pytestmark = pytest.mark.slow  # over 10 s on an idle machine (make test-fast skips it)


PUBLISHED_2019 = {
    # indicator_code: (numerator, denominator or None, value rounded to 4 places)
    "housing_key_completion_rate": (374900, None, 0.9967),
    "housing_other_completion_rate": (208100, None, 0.7525),
    "water_unsafe_households": (41393, None, 41393),
    "water_resolved_households": (10321, None, 10321),
    "water_zero_counties": (12, 37, 0.3243),
    "relocation_sites_completed": (121, 201, 0.6020),
    "relocation_clear_zero": (26, 53, 0.4906),
    "medical_basic_coverage": (None, None, 1.0),
    "medical_serious_illness_coverage": (None, None, 1.0),
}
PUBLISHED_2018 = {
    "medical_reimbursement_rate": (None, None, 0.9050),
    "infrastructure_complete_rate": (8502, 8502, 1.0),
    "employment_ecological_rangers": (56200, None, 56200),
    "employment_workshops": (306, None, 306),
    "employment_workshop_employed": (5285, None, 5285),
    "employment_public_welfare_jobs": (104300, None, 104300),
    "employment_migrant_employed": (693300, None, 693300),
}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """The real command in a fresh process on the whole seeded sample: ``tpa run`` (no
    cached extracts, its own Prefect home and temporary server, as a bare run starts it)."""
    from devkit.sample import generate

    base = tmp_path_factory.mktemp("e2e")
    raw = base / "raw"
    paths = generate(raw, seed=2019)
    wh = base / "processed" / "warehouse.duckdb"
    wh.parent.mkdir()
    env = {**os.environ, "PREFECT_HOME": str(base / "ph"), "TPA_ID_KEY": "k"}
    p = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(raw), "--warehouse", str(wh)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800,
    )  # fmt: skip
    return base, raw, wh, paths, p


@pytest.mark.parametrize(
    "period,published", [("2019-12", PUBLISHED_2019), ("2018-12", PUBLISHED_2018)]
)
def test_published(sample_run, period, published):
    _, _, wh, paths, p = sample_run
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(paths) == 2 * 129
    rows = {
        r[0]: r[1:]
        for r in q(
            wh,
            "SELECT indicator_code, numerator, denominator, value FROM marts.indicators "
            "WHERE geo_level = 'province' AND geo_code = '530000' AND period = ?",
            [period],
        )
    }
    for code, (num, den, value) in published.items():
        assert code in rows, code
        n, d, v = rows[code]
        if num is not None:
            assert n == num, code
        if den is not None:
            assert d == den, code
        assert round(v, 4) == pytest.approx(value, abs=1e-12), code


def test_medical_numerator_equals_denominator(sample_run):
    _, _, wh, _, _ = sample_run
    for code in ("medical_basic_coverage", "medical_serious_illness_coverage"):
        ((n, d),) = q(
            wh,
            "SELECT numerator, denominator FROM marts.indicators WHERE geo_level='province' "
            "AND indicator_code = ? AND period = '2019-12'",
            [code],
        )
        assert n == d and n > 0


def test_row_accounting(sample_run):
    """Every sample file: rows read = loaded + quarantined = the data rows the generator wrote."""
    from devkit.sample import known_totals

    _, _, wh, _, _ = sample_run
    written = known_totals(2019)["rows"]
    files = q(
        wh, "SELECT file_name, status, rows_read, rows_loaded, rows_quarantined FROM raw.files"
    )
    assert len(files) == 2 * 129
    for name, status, read, loaded, quarantined in files:
        assert status == "loaded", name
        assert read == loaded + quarantined, name
        assert read == sum(written[name].values()), name
    staged = dict(
        q(
            wh,
            "SELECT file_name, count(*) FROM quarantine.findings WHERE severity='error' GROUP BY 1",
        )
    )
    assert staged == {}


def test_forms_per_county(sample_run):
    _, _, wh, _, _ = sample_run
    sql = (
        "SELECT form, count(DISTINCT county_code) FROM raw.submissions "
        "WHERE period = '2019-12' GROUP BY form"
    )
    counts = dict(q(wh, sql))
    core = {k: counts[k] for k in ("population", "housing", "medical", "water", "relocation")}
    assert core == {
        "population": 129,
        "housing": 129,
        "medical": 129,
        "water": 37,
        "relocation": 53,
    }
    assert counts["households"] == counts["education"] == 129


def test_cli_run_exit_status_and_summary(sample_run):
    """The real command exits 0 and prints the province summary, without a traceback."""
    _, _, wh, _, p = sample_run
    assert p.returncode == 0, p.stdout + p.stderr
    assert "housing_key_completion_rate" in p.stdout
    assert "99.67%" in p.stdout
    assert "Traceback" not in p.stderr and "ERROR" not in p.stderr
    assert wh.exists()


def test_cli_bad_usage(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(tmp_path / "nope")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert p.returncode == 2


def _ledger_clear_values(raw: Path) -> tuple[set[str], set[str]]:
    """Head names and ID numbers as the counties wrote them (read independently)."""
    import python_calamine as pc

    names, ids = set(), set()
    for path in sorted(raw.rglob("*.xlsx")):
        wb = pc.CalamineWorkbook.from_path(str(path))
        if "表9" not in wb.sheet_names:
            continue
        rows = wb.get_sheet_by_name("表9").to_python()
        header = next(i for i, r in enumerate(rows) if "户主姓名" in [str(v).strip() for v in r])
        cols = [str(v).strip() for v in rows[header]]
        n, i = cols.index("户主姓名"), cols.index("户主身份证号")
        for r in rows[header + 1 :]:
            if isinstance(r[i], str) and len(r[i].strip()) == 18:
                ids.add(r[i].strip().upper())
                names.add(str(r[n]).strip())
    return names, ids


def test_no_personal_data_in_clear(sample_run):
    """No generated name or 18-character ID appears in any text column of the warehouse
    or in any extract (Parquet/JSON) of the state folder."""
    import re

    import pandas as pd

    _, raw, wh, _, _ = sample_run
    names, ids = _ledger_clear_values(raw)
    assert len(ids) > 40_000 and len(names) > 100
    id_re = re.compile(r"\d{17}[\dXx]")

    def check_text(values, where):
        for v in values:
            if v is None:
                continue
            s = str(v)
            assert s not in names, where
            for m in id_re.findall(s):
                assert m.upper() not in ids, where

    con = duckdb.connect(str(wh), read_only=True)
    try:
        cols = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type IN ('VARCHAR', 'JSON') AND NOT internal"
        ).fetchall()
        assert len(cols) > 50
        for schema, table, col in cols:
            vals = con.execute(f'SELECT DISTINCT "{col}" FROM {schema}."{table}"').fetchall()
            check_text([v[0] for v in vals], f"{schema}.{table}.{col}")
    finally:
        con.close()
    state = Path(str(wh) + ".d") / "extracts"
    files = list(state.rglob("*"))
    assert any(f.suffix == ".parquet" for f in files)
    for f in files:
        if f.suffix == ".parquet":
            df = pd.read_parquet(f)
            for c in df.columns:
                if df[c].dtype == object or str(df[c].dtype) in ("str", "string"):
                    check_text(df[c].dropna().unique().tolist(), f"{f}:{c}")
        elif f.suffix == ".json":
            text = f.read_text(encoding="utf-8")
            assert not any(m.upper() in ids for m in id_re.findall(text)), f
