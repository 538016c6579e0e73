"""Settings typed and safe (issue 13, item 10): choices are Enums or a validated
``dask:<address>``, refused with exit status 2 by the CLI and listed in ``--help``; the ID
key never prints, serialises or becomes a flow parameter; creating the key file says
where, in one line; ``tpa run``'s progress appears on a terminal only."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from rich.console import Console
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import Lang, RunnerKind, Settings
from pipeline.run import progress

SECRET = "distinctive-key-0420"


@pytest.mark.parametrize(
    "value", ["processes", "threads", "serial", "dask", "dask:tcp://10.0.0.5:8786",
              "dask:tls://sched.example:8786", "dask:127.0.0.1:8786", "dask:[::1]:8786"],
)  # fmt: skip
def test_task_runner_choices_are_accepted(value):
    assert Settings(task_runner=value).task_runner == value


@pytest.mark.slow
@given(st.text(min_size=1, max_size=20))
def test_anything_else_is_refused(text):
    ok = text in {k.value for k in RunnerKind} or (
        text.startswith("dask:")
        and text[5:].replace(".", "").replace("-", "").isalnum()
        and text[5:].isascii()  # fmt: skip
    )
    if ok:
        return  # valid forms are the test above's
    with pytest.raises(ValidationError, match="unknown task runner"):
        Settings(task_runner=text)


@pytest.mark.parametrize("bad", ["gpu", "dask:", "dask:tcp://a b:1", "Dask", "dask;rm -rf /"])
def test_bad_choices_exit_2_from_the_cli_and_env(bad, tmp_path, monkeypatch):
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--raw-dir", str(tmp_path), "--task-runner", bad])
    assert res.exit_code == 2 and "unknown task runner" in res.output
    monkeypatch.setenv("TPA_TASK_RUNNER", bad)
    res = runner.invoke(app, ["run", "--raw-dir", str(tmp_path)])
    assert res.exit_code == 2 and "TPA_TASK_RUNNER" in res.output
    monkeypatch.delenv("TPA_TASK_RUNNER")
    monkeypatch.setenv("TPA_LANG", "fr")
    assert runner.invoke(app, ["run", "--raw-dir", str(tmp_path)]).exit_code == 2


def test_choices_are_listed_in_help():
    runner = CliRunner()
    run_help = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).output
    assert "processes|threads|serial|dask|dask:ADDRESS" in run_help and "--no-outputs" in run_help
    report_help = runner.invoke(app, ["report", "--help"], env={"COLUMNS": "200"}).output
    assert "zh|en" in report_help
    assert Settings(lang="en").lang is Lang.en
    res = runner.invoke(app, ["report", "--lang", "fr"])
    assert res.exit_code == 2


@pytest.mark.slow
def test_the_id_key_never_prints_serialises_or_becomes_a_parameter(monkeypatch):
    from flows.nightly import public_settings
    from pipeline.extract.personal import id_key

    monkeypatch.setenv("TPA_ID_KEY", SECRET)
    s = Settings(notify_urls="json://127.0.0.1:1/token-xyz")
    assert id_key(s) == SECRET.encode()  # what the pseudonyms use
    for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump()), f"{s.id_key}"):
        assert SECRET not in text and "token-xyz" not in text
    pub = public_settings(s)
    assert pub.id_key is None and pub.notify_list == []
    assert SECRET not in pub.model_dump_json()


def test_creating_the_key_file_says_where_in_one_line(tmp_path, capsys):
    from pipeline.extract.personal import load_key

    path = tmp_path / "cfg" / "id_key"
    key = load_key(None, path)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "losing it breaks the link" in err
    assert (path.stat().st_mode & 0o777) == 0o600 and key.decode() not in err
    assert load_key(None, path) == key and capsys.readouterr().err == ""  # said once


def test_progress_counts_files_once_and_only_on_a_terminal():
    seen = []
    with progress.attached(lambda *a: seen.append(a)):
        progress.start(3)
        progress.done(["a"])
        progress.done(["a", "b"])  # the flow reports a batch the task reported already
        progress.stage("building the warehouse")
    assert seen[-2] == ("parsing new workbooks", 2, 3)
    assert seen[-1] == ("building the warehouse", 2, 3)
    progress.done(["c"])  # detached: nothing, no error
    assert len(seen) == 4

    piped = io.StringIO()
    with progress.terminal_progress(Console(file=piped, force_terminal=False)):
        progress.start(2)
        progress.done(["x"])
    assert piped.getvalue() == ""
    tty = io.StringIO()
    with progress.terminal_progress(Console(file=tty, force_terminal=True, width=100)):
        progress.start(2)
        progress.done(["x"])
    assert "1/2" in tty.getvalue()


def test_no_outputs_reaches_the_flow_and_the_summary_names_the_folders(tmp_path, monkeypatch):
    import flows.nightly as nightly
    from flows.after import After
    from flows.stages import FlowOutcome
    from pipeline.run.history import RunRecord

    seen = {}

    def fake_run_flow(raw_dir, warehouse, settings, trigger="manual", rebuild=False):
        seen["settings"] = settings
        rec = RunRecord(status="build_failed", message="stopped by the test")
        after = After(problems=["writing the report and export failed: OSError: disk full"])
        return FlowOutcome(rec, 1, raw_dir=str(raw_dir), warehouse=str(warehouse),
                                   after=after)  # fmt: skip

    monkeypatch.setattr(nightly, "run_flow", fake_run_flow)
    raw, wh = tmp_path / "raw", tmp_path / "wh" / "w.duckdb"
    raw.mkdir()
    args = ["run", "--raw-dir", str(raw), "--warehouse", str(wh)]
    res = CliRunner().invoke(app, [*args, "--no-outputs"], env={"COLUMNS": "300"})
    assert res.exit_code == 1 and seen["settings"].outputs is False
    assert "raw folder" in res.output and str(raw) in res.output
    assert str(wh) in res.output and "OSError: disk full" in res.output
    CliRunner().invoke(app, args)
    assert seen["settings"].outputs is True
