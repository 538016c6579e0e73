"""The nightly deployment and the task runners as declared in the repository (no server:
the objects are loaded and checked). tests/flows/test_nightly_cli.py serves the deployment on
a real server and runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.config import Settings
from tests.builders.paths import ROOT


@pytest.mark.slow
def test_deployment_definition(tmp_path):
    from flows.deploy import deployment, scheduled

    raw, wh = tmp_path / "raw", tmp_path / "wh" / "w.duckdb"
    dep = deployment(str(raw), str(wh))
    assert dep.name == "nightly" and dep.flow_name == "tpa-nightly-scheduled"
    (sched,) = dep.schedules
    assert sched.schedule.cron == "0 2 * * *"
    assert sched.schedule.timezone == "Asia/Shanghai"
    assert sched.active
    assert dep.concurrency_limit == 1
    assert dep.concurrency_options.collision_strategy.value == "ENQUEUE"  # queued, not dropped
    assert dep.parameters == {"raw_dir": str(raw), "warehouse": str(wh)}
    assert scheduled.retries == 1 and scheduled.retry_delay_seconds == 300


def test_relative_paths_are_made_absolute(monkeypatch, tmp_path):
    from flows.deploy import deployment

    monkeypatch.chdir(tmp_path)
    dep = deployment("data/raw", "data/processed/warehouse.duckdb")
    assert dep.parameters["raw_dir"] == str(tmp_path / "data" / "raw")


def test_extract_task_retries_transient_io_errors():
    from flows.tasks import any_io_error, discover_task, extract_task, transient_io_error

    assert extract_task.retries == 2 and extract_task.retry_condition_fn is transient_io_error
    assert discover_task.retries == 2 and discover_task.retry_condition_fn is any_io_error


def test_retry_condition_signature_and_decisions():
    """Prefect 3.9 calls retry_condition_fn(task, task_run, state) with a Failed state
    whose data is the exception."""
    from prefect.states import Completed, Failed

    from flows.tasks import any_io_error, transient_io_error
    from pipeline.run.parse import FileChanged

    def failed(exc):
        return Failed(data=exc, message=repr(exc))

    assert transient_io_error(None, None, failed(OSError(5, "Input/output error")))
    assert transient_io_error(None, None, failed(TimeoutError("share timed out")))
    assert transient_io_error(None, None, failed(FileChanged("still being copied")))
    assert not transient_io_error(None, None, failed(FileNotFoundError(2, "gone")))
    assert not transient_io_error(None, None, failed(ValueError("a bug")))
    assert not transient_io_error(None, None, Completed(data=("f", True)))
    assert any_io_error(None, None, failed(FileNotFoundError(2, "vanished while listing")))


@pytest.mark.parametrize(
    "kind, cls",
    [
        ("threads", "ThreadPoolTaskRunner"),
        ("serial", "ThreadPoolTaskRunner"),
        ("processes", "ProcessPoolTaskRunner"),
        ("dask", "DaskTaskRunner"),
        ("dask:tcp://127.0.0.1:8786", "DaskTaskRunner"),
    ],
)
def test_task_runners(kind, cls):
    from flows.runners import make_runner

    runner = make_runner(Settings(task_runner=kind, workers=2))
    assert type(runner).__name__ == cls
    if kind == "serial":
        assert runner._max_workers == 1
    if kind == "dask":
        assert runner.cluster_kwargs["n_workers"] == 2
    if kind.startswith("dask:"):
        assert runner.address == "tcp://127.0.0.1:8786"


def test_unknown_task_runner():
    from flows.runners import make_runner

    with pytest.raises(ValueError, match="unknown task runner"):
        make_runner(Settings(task_runner="gpu"))


def test_pause_hook_is_inert_unless_asked(monkeypatch, capsys):
    from devkit import testhooks
    from pipeline import hooks

    monkeypatch.setenv("TPA_TEST_PAUSE_S", "0")
    monkeypatch.setenv(testhooks.ENV, "extract")
    monkeypatch.delenv(hooks.ENV, raising=False)
    hooks.at("extract")  # no hook module injected: nothing happens
    monkeypatch.setenv(hooks.ENV, "devkit.testhooks")
    hooks.at("build")  # another stage: no pause
    assert capsys.readouterr().err == ""
    hooks.at("extract")
    assert "TPA_TEST_PAUSED extract" in capsys.readouterr().err


@pytest.mark.slow
def test_the_run_never_imports_the_test_hooks():
    """Issue 14, item 1: hooks are injected, never imported by the flow."""
    code = (
        "import os, sys; os.environ.pop('TPA_HOOKS', None); import flows.nightly, pipeline.cli,"
        " pipeline.run.contain, pipeline.warehouse.build; assert not [m for m in sys.modules"
        " if m.startswith('devkit')], sorted(m for m in sys.modules if m.startswith('devkit'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_makefile_targets_exist():
    text = (ROOT / "Makefile").read_text()
    for target in ("run", "rebuild", "county", "clean-cache", "server", "serve"):
        assert f"\n{target}:" in text, target
    # the port reaches the recipe as data (issue 11: TPA_PREFECT_PORT), never as recipe text
    assert 'prefect server start --host 127.0.0.1 --port "$$TPA_PREFECT_PORT"' in text
    assert 'PREFECT_API_URL="http://127.0.0.1:$$TPA_PREFECT_PORT/api"' in text
    assert "-m flows.deploy" in text
    assert "PREFECT_SERVER_ANALYTICS_ENABLED ?= false" in text


def test_batch_size():
    from flows.runners import batch_size

    assert batch_size(Settings(task_runner="threads", workers=2), 129) == 1
    assert batch_size(Settings(task_runner="processes", workers=2), 129) == 17
    assert batch_size(Settings(task_runner="dask", workers=2), 3) == 1
