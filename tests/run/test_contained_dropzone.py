"""A suspicious drop zone does not publish (issue 11, item 4): compared with the last
published warehouse, an empty drop zone or one that lost more than TPA_MAX_SHRINK of
its workbooks or of a form's staging rows is refused (exit 5, one line naming what
shrank, the run recorded ``not_published``), unless the run allows it; ``make run``
writes the sample only into the default data/raw, and only before any publish.

Flows run in this process (tests/builders/runs.py); one whole ``make run``
(and so one ``tpa run``) runs as a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.config import Settings
from pipeline.run import dropzone
from pipeline.run.dropzone import Counts, sample_refusal, shrinkage
from pipeline.run.state import state_dir
from tests.builders.paths import ROOT
from tests.builders.runs import q, snapshot, stage

# ---------------------------------------------------------------- the rule


def test_shrinkage_names_what_lost_more_than_the_limit():
    old = Counts(10, {"population": 100, "water": 40, "housing": 0})
    new = Counts(8, {"population": 79, "water": 32})  # -20%, -21%, -20%
    assert shrinkage(old, new, 0.2) == ["staging.population 100 → 79 (-21%)"]
    assert shrinkage(old, Counts(7, {"population": 100, "water": 40}), 0.2) == [
        "workbooks 10 → 7 (-30%)"
    ]
    assert shrinkage(old, Counts(0, {}), 1.0) == []  # a limit of 100% never refuses
    assert shrinkage(None, Counts(0, {}), 0.2) == []  # first run: nothing to lose
    assert shrinkage(old, Counts(12, {"population": 500, "water": 40}), 0.2) == []


def test_the_allowance_is_read_once(tmp_path):
    wh = tmp_path / "w.duckdb"
    assert dropzone.take_allowance(wh) is None
    marker = dropzone.allow_next(wh)
    assert marker.parent == state_dir(wh)
    assert "tpa allow-shrink" in dropzone.take_allowance(wh)
    assert dropzone.take_allowance(wh) is None and not marker.exists()


def test_allow_shrink_command_writes_the_marker(tmp_path):
    from pipeline.cli import app

    wh = tmp_path / "w.duckdb"
    res = CliRunner().invoke(app, ["allow-shrink", "--warehouse", str(wh)])
    assert res.exit_code == 0 and (state_dir(wh) / dropzone.ALLOW_MARKER).is_file()


def test_make_runs_sample_only_into_an_untouched_default_raw(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw, wh = Path("data/raw"), Path("data/processed/warehouse.duckdb")
    assert sample_refusal(raw, wh) is None  # fresh checkout: the sample is written
    assert "not the default" in sample_refusal(Path("elsewhere"), wh)
    assert "not the default" in sample_refusal(tmp_path / "share", wh)
    raw.mkdir(parents=True)
    (raw / "sub").mkdir()
    (raw / "sub" / "530128_x_2019-12.XLSX").write_bytes(b"x")
    assert "holds workbooks" in sample_refusal(raw, wh)
    (raw / "sub" / "530128_x_2019-12.XLSX").unlink()
    runs = Path(str(wh) + ".d") / "runs"
    runs.mkdir(parents=True)
    (runs / "r1.json").write_text(json.dumps({"published": False}))
    assert sample_refusal(raw, wh) is None  # a run that never published does not count
    (runs / "r2.json").write_text(json.dumps({"published": True}))
    assert "published" in sample_refusal(raw, wh)  # the warehouse may be deleted since
    (runs / "r2.json").unlink()
    wh.write_bytes(b"")
    assert "published" in sample_refusal(raw, wh)


def test_sample_first_run_writes_nothing_when_refused(tmp_path, monkeypatch):
    import devkit.sample as sample_mod
    from pipeline.cli import app

    calls = []
    monkeypatch.setattr(sample_mod, "generate", lambda out, **kw: calls.append(out) or [])
    monkeypatch.chdir(tmp_path)
    share = tmp_path / "share"
    share.mkdir()
    monkeypatch.setenv("TPA_RAW_DIR", str(share))
    res = CliRunner().invoke(app, ["sample", "--first-run"])
    assert res.exit_code == 0 and "not the default" in res.output and calls == []
    monkeypatch.setenv("TPA_RAW_DIR", "data/raw")
    res = CliRunner().invoke(app, ["sample", "--first-run"])
    assert res.exit_code == 0 and calls == [Path("data/raw")]


# ---------------------------------------------------------------- through the flow


def run(raw: Path, wh: Path, **kw):
    from flows.nightly import run_flow

    kw = {"task_runner": "serial", "id_key": "k", "publish_wait_s": 5, **kw}
    return run_flow(raw, wh, Settings(raw_dir=raw, warehouse=wh, **kw))


def empty(raw: Path) -> None:
    for p in list(raw.rglob("*.xlsx")):
        p.unlink()


def record(wh: Path, run_id: str) -> dict:
    return json.loads((state_dir(wh) / "runs" / f"{run_id}.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.usefixtures("harness")  # the flow runs in this process
def test_an_emptied_or_shrunken_drop_zone_does_not_publish(books, tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    stage(raw, books, ["A1", "B", "C1", "D"])
    assert run(raw, wh).exit_code == 0
    published = snapshot(wh)
    (files,) = q(wh, "SELECT count(*) FROM raw.files WHERE status <> 'removed'")
    assert files == (4,)

    empty(raw)  # an unmounted share
    o = run(raw, wh)
    assert o.exit_code == 5 and o.record.status == "not_published" and not o.record.published
    assert "no workbook in the drop zone" in o.record.message
    assert "published warehouse has 4 workbooks" in o.record.message
    assert "\n" not in o.record.message
    assert record(wh, o.record.run_id)["status"] == "not_published"
    assert record(wh, o.record.run_id)["message"] == o.record.message
    assert snapshot(wh) == published  # untouched
    assert list((state_dir(wh) / "builds").glob("*.duckdb")) == []  # the build discarded

    stage(raw, books, ["A1", "B"])  # half of the workbooks came back
    o = run(raw, wh)
    assert o.exit_code == 5 and "workbooks 4 → 2 (-50%)" in o.record.message
    assert "TPA_MAX_SHRINK (20%)" in o.record.message
    assert snapshot(wh) == published

    o = run(raw, wh, max_shrink=1.0)  # TPA_MAX_SHRINK=1: any loss but all is accepted
    assert o.exit_code == 0 and o.record.notes == []
    assert q(wh, "SELECT count(*) FROM raw.files WHERE status <> 'removed'") == [(2,)]

    empty(raw)
    dropzone.allow_next(wh)  # tpa allow-shrink: the next run, whoever starts it
    o = run(raw, wh)
    assert o.exit_code == 0 and o.record.published
    assert any("accepted" in n and "no workbook" in n for n in o.record.notes)
    assert q(wh, "SELECT count(*) FROM raw.files WHERE status <> 'removed'") == [(0,)]
    stage(raw, books, ["A1", "B", "C1", "D"])
    assert run(raw, wh).exit_code == 0  # growing is never refused
    empty(raw)
    assert run(raw, wh).exit_code == 5  # the allowance was used up
    assert run(raw, wh, allow_shrink=True).exit_code == 0  # tpa run --allow-shrink


@pytest.mark.slow
@pytest.mark.usefixtures("harness")  # the flow runs in this process
def test_a_first_run_on_an_empty_drop_zone_is_refused_unless_allowed(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    raw.mkdir()
    o = run(raw, wh)
    assert o.exit_code == 5 and "no workbook in the drop zone" in o.record.message
    assert "published warehouse" not in o.record.message and not wh.exists()
    o = run(raw, wh, allow_shrink=True)
    assert o.exit_code == 0 and wh.exists()


@pytest.mark.slow
@pytest.mark.usefixtures("harness")  # the flow runs in this process
def test_make_run_on_an_empty_share_writes_no_sample_and_exits_5(tmp_path):
    """A whole ``make run`` (one ``tpa run`` subprocess) with RAW= an empty folder."""
    share, wh = tmp_path / "share", tmp_path / "out" / "warehouse.duckdb"
    share.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TPA_LOCK_WAIT_S": "0"}
    env.pop("PREFECT_API_URL", None)
    p = subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "run", "STAMP=",
         f"TPA={sys.executable} -m pipeline", f"RAW={share}", f"WAREHOUSE={wh}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert p.returncode != 0, p.stdout + p.stderr
    assert "not the default data/raw" in p.stderr and list(share.iterdir()) == []
    assert "no workbook in the drop zone" in p.stderr and "Traceback" not in p.stderr
    assert "Error 5" in p.stderr  # make reports tpa run's exit status
    assert not wh.exists() and not (tmp_path / "data").exists()
