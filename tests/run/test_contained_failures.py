"""Every failure says what happened in one line (issue 11, item 8): the lock check of
abandoned builds, and one-line messages for a full disk, a denied permission, a vanished
file and a dead worker.

Locks are held by real child processes (a DuckDB session, or a bare ``fcntl`` lock);
disk full and permission denied are simulated (tests run as root, which chmod does not
stop), by making one real write raise the errno.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.errors import one_line
from pipeline.run.publish import _lock_holder, _locked_by_other, discard_abandoned_builds
from pipeline.run.state import builds_dir

# A child that takes a lock on argv[1] and waits for a line on stdin: "duckdb" opens the
# file read-write (DuckDB's POSIX WRITE lock), "posix-read" takes a bare POSIX READ lock.
HOLDER = r"""
import fcntl, os, struct, sys
path, kind = sys.argv[1], sys.argv[2]
if kind == "duckdb":
    import duckdb
    con = duckdb.connect(path)
else:
    fd = os.open(path, os.O_RDONLY)
    fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, 0, 0, 0))
print("held", flush=True)
sys.stdin.readline()
"""


def _a_build(wh: Path, name: str) -> Path:
    b = builds_dir(wh) / f"{name}.duckdb"
    con = duckdb.connect(str(b))
    con.execute("CREATE TABLE t AS SELECT 1 AS v")
    con.close()
    return b


@pytest.mark.parametrize("kind", ["duckdb", "posix-read"])
def test_a_build_held_by_another_process_is_seen_and_kept(tmp_path, kind):
    wh = tmp_path / "w.duckdb"
    held, free = _a_build(wh, "held"), _a_build(wh, "free")
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(held), kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "held"
        assert _lock_holder(held) == (True, child.pid)  # a POSIX lock names its process
        assert _locked_by_other(held) and not _locked_by_other(free)
        assert discard_abandoned_builds(wh) == [free]
        assert held.exists() and not free.exists()
    finally:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(timeout=60)
    assert not _locked_by_other(held)  # the holder is gone: abandoned now
    assert discard_abandoned_builds(wh) == [held] and not held.exists()


def test_a_lock_that_cannot_be_asked_about_keeps_the_build(tmp_path, monkeypatch):
    import pipeline.run.publish as pub

    wh = tmp_path / "w.duckdb"
    b = _a_build(wh, "b")
    assert not _locked_by_other(tmp_path / "gone.duckdb")  # nothing to keep

    def no_locks(path):
        raise OSError(37, "No locks available", str(path))

    monkeypatch.setattr(pub, "_lock_holder", no_locks)
    assert _locked_by_other(b) and discard_abandoned_builds(wh) == [] and b.exists()


# ---------------------------------------------------------------- one line per failure


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/srv/w.duckdb.d/manifest.json"),
         ["disk full", "/srv/w.duckdb.d/manifest.json", "free space"]),
        (PermissionError(errno.EACCES, "Permission denied", "/srv/w.duckdb.d"),
         ["permission denied", "/srv/w.duckdb.d", "access"]),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "/raw/530128.xlsx"),
         ["/raw/530128.xlsx", "vanished", "next run"]),
        (OSError(errno.EIO, "Input/output error"), ["Input/output error", "share"]),
        (OSError(errno.EROFS, "Read-only file system", "/srv/w.duckdb"), ["read-only", "/srv/w.duckdb"]),
        (BrokenProcessPool("A process in the process pool was terminated abruptly"),
         ["worker process died", "TPA_WORKERS"]),
        (MemoryError(), ["out of memory"]),
        (duckdb.IOException('IO Error: Could not write file "/srv/b.duckdb": No space left on device'),
         ["disk full", "/srv/b.duckdb"]),
        (RuntimeError("something odd\nwith a second line"), ["RuntimeError: something odd", "--debug"]),
    ],
)  # fmt: skip
def test_one_line_names_the_resource_and_what_to_do(exc, words):
    line = one_line(exc)
    assert "\n" not in line
    for w in words:
        assert w in line, line


def test_the_cause_of_a_wrapped_error_is_found():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/srv/x")
        except OSError as inner:
            raise RuntimeError("task failed") from inner
    except RuntimeError as outer:
        assert one_line(outer).startswith("disk full: no space left writing /srv/x")


def cli_run(raw: Path, wh: Path, capfd, *extra: str) -> tuple[int, str]:
    """``tpa run`` in this process; (exit status, everything written to stdout/stderr)."""
    from pipeline.cli import app

    res = CliRunner().invoke(
        app,
        ["run", "--raw-dir", str(raw), "--warehouse", str(wh), "--task-runner", "serial", *extra],
    )
    out, err_ = capfd.readouterr()
    return res.exit_code, res.output + out + err_


def failure_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if "tpa run failed" in ln]


@pytest.mark.slow
def test_disk_full_and_permission_denied_are_one_line(harness, books, tmp_path, capfd, monkeypatch):
    from pipeline.run import manifest
    from tests.builders.runs import stage

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B"])
    manifest = manifest.manifest_path(wh)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(manifest))

    monkeypatch.setattr("pipeline.run.manifest.save_manifest", full)
    code, text = cli_run(raw, wh, capfd)
    assert code == 1, text
    (line,) = failure_lines(text)
    assert "disk full" in line and str(manifest) in line and "Traceback" not in text
    assert not wh.exists()
    (rec,) = [json.loads(p.read_text()) for p in (state_of(wh) / "runs").glob("*.json")]
    assert rec["status"] == "failed" and "disk full" in rec["message"]  # not left `running`

    code, text = cli_run(raw, wh, capfd, "--debug")  # the traceback, on request
    assert code == 1 and "Traceback" in text and len(failure_lines(text)) == 1
    from pipeline.run.recovery import recover

    assert not any("killed" in x for x in recover(wh))  # a failed run is never relabelled
    statuses = [json.loads(p.read_text())["status"] for p in (state_of(wh) / "runs").glob("*")]
    assert statuses == ["failed", "failed"]

    monkeypatch.undo()
    runs = state_of(wh) / "runs"

    def denied(warehouse, rec):
        raise PermissionError(errno.EACCES, "Permission denied", str(runs))

    monkeypatch.setattr("pipeline.run.history.save_run", denied)
    code, text = cli_run(raw, wh, capfd)
    assert code == 1 and "Traceback" not in text
    (line,) = failure_lines(text)
    assert "permission denied" in line and str(runs) in line


def _staged_name(raw: Path, sha256: str) -> str:
    """The file name, under ``raw``, of the workbook whose SHA-256 is ``sha256``."""
    from tests.builders.runs import sha

    return next(p.name for p in raw.rglob("*.xls*") if sha(p) == sha256)


def state_of(wh: Path) -> Path:
    from pipeline.run.state import state_dir

    return state_dir(wh)


@pytest.mark.slow
def test_a_vanished_workbook_and_a_full_disk_while_caching_name_their_file(
    harness, books, tmp_path, capfd, monkeypatch
):
    """One workbook vanishes after discovery and another cannot be cached (disk full):
    each is rejected for this run with its own one-line reason; the rest is published."""
    import flows.tasks as tasks
    from pipeline.run import contain
    from tests.builders.runs import q, sha, stage

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B", "C1"])
    gone, full = sha(books["B"]), sha(books["C1"])
    real = contain.extract_files

    def vanishing(files, settings, key):  # B leaves after discovery, before its child reads it
        for path, sha256, _ in files:
            if sha256 == gone:
                Path(path).unlink(missing_ok=True)
        return real(files, settings, key)

    monkeypatch.setattr(contain, "extract_files", vanishing)
    # the extract runs in a child process: the disk fills up there (devkit.testhooks)
    monkeypatch.setenv("TPA_TEST_CRASH", f"{_staged_name(raw, full)}:enospc")
    monkeypatch.setattr(
        tasks, "extract_task", tasks.extract_task.with_options(retry_delay_seconds=0)
    )
    code, text = cli_run(raw, wh, capfd, "--allow-shrink")
    assert code == 0, text
    assert "Traceback" not in text
    rows = dict(
        (s, (st, m)) for s, st, m in q(wh, "SELECT file_sha256, status, message FROM raw.files")
    )
    assert rows[sha(books["A1"])][0] == "loaded"
    status, msg = rows[gone]
    assert status == "rejected" and "vanished" in msg and books["B"].name in msg
    status, msg = rows[full]
    assert status == "rejected" and "disk full" in msg and "\n" not in msg
