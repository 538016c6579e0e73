"""Scale data (issue 6): the province generator's 129 county workbooks, parsed in worker
processes and serially, give the same warehouse, holding the generator's known totals."""

from __future__ import annotations

import pytest

import flows.nightly as nightly
from devkit.sample import generate, known_totals
from pipeline.config import Settings
from tests.builders.runs import assert_same, q, snapshot

pytestmark = pytest.mark.slow  # over 10 s on an idle machine (make test-fast skips it)

HOUSEHOLDS = 5_000
SEED = 2019
PERIOD = "2019-12"


@pytest.fixture(scope="module")
def scale(tmp_path_factory):
    raw = tmp_path_factory.mktemp("scale")
    generate(raw, seed=SEED, periods=(PERIOD,), households=HOUSEHOLDS)
    return raw


def _run(raw, wh, runner: str):
    settings = Settings(raw_dir=raw, warehouse=wh, task_runner=runner, workers=2, id_key="k",
                        publish_wait_s=5)  # fmt: skip
    outcome = nightly.run_flow(raw, wh, settings)
    assert outcome.exit_code == 0, outcome.record.message
    return outcome


def test_parallel_build_equals_serial_build(scale, tmp_path, monkeypatch):
    serial = _run(scale, tmp_path / "serial.duckdb", "serial")
    monkeypatch.setattr("flows.runners.inline_below", lambda settings: 0)  # worker processes
    parallel = _run(scale, tmp_path / "parallel.duckdb", "processes")
    assert serial.record.files_new == parallel.record.files_new == 129
    assert serial.record.rows_quarantined == parallel.record.rows_quarantined
    assert_same(snapshot(tmp_path / "serial.duckdb"), snapshot(tmp_path / "parallel.duckdb"))

    known = known_totals(SEED, (PERIOD,), households=HOUSEHOLDS)[PERIOD]["ledger"]
    wh = tmp_path / "parallel.duckdb"
    assert q(wh, "SELECT count(*) FROM staging.households") == [(HOUSEHOLDS,)]
    exited = "SELECT count(*) FROM staging.households WHERE exit_year <= 2019"
    assert q(wh, exited) == [(known["exited"],)]
    per_county = dict(q(wh, "SELECT county_code, count(*) FROM staging.households GROUP BY 1"))
    assert per_county == {c: v["households"] for c, v in known["counties"].items()}
    # every data row of every workbook is accounted for: loaded + quarantined = read
    assert q(
        wh,
        "SELECT sum(rows_read) = sum(rows_loaded) + sum(rows_quarantined), count(*) FROM raw.files",
    ) == [(True, 129)]
