"""Publishing a build over a warehouse that other processes have open (case 15).

Everything here uses real processes and real DuckDB files: readers and writers are
child processes that keep their connection open between steps (commands on stdin,
one JSON line back per command), and "a new process" is a fresh child each time,
because DuckDB reuses an open database within one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.run.publish import (
    BuildInvalid,
    WriterInfo,
    _parse_lock_error,
    discard_abandoned_builds,
    find_writer,
    new_build_path,
    pending_build,
    publish,
    wal_path,
)
from pipeline.run.state import builds_dir, state_dir
from tests.builders.sessions import ENV, SESSION, fresh_query

SUM = "SELECT sum(v) FROM t"


def make_db(path: Path, value: int) -> Path:
    """A small DuckDB file with ``t(v)`` summing to ``value`` (closed afterwards)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE TABLE t AS SELECT {value} AS v")
    finally:
        con.close()
    return path


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    """A published warehouse whose content sums to 1."""
    return make_db(tmp_path / "warehouse.duckdb", 1)


def a_build(wh: Path, run_id: str, value: int) -> Path:
    return make_db(new_build_path(wh, run_id), value)


# ------------------------------------------------------------------ state and paths


def test_state_folder_per_warehouse_and_build_on_same_filesystem(tmp_path):
    a, b = tmp_path / "w.duckdb", tmp_path / "w2.duckdb"
    assert state_dir(a) == tmp_path / "w.duckdb.d" and state_dir(a).is_dir()
    assert state_dir(a) != state_dir(b)
    build = new_build_path(a, "r1")
    assert build.parent == builds_dir(a) == tmp_path / "w.duckdb.d" / "builds"
    assert os.stat(build.parent).st_dev == os.stat(tmp_path).st_dev
    with pytest.raises(ValueError):
        new_build_path(a, "../x")


def test_parse_lock_error_variants():
    m1 = 'IO Error: Could not set lock on file "/x/w.duckdb": Conflicting lock is held in /usr/bin/python3.11 (PID 4675). See also https://duckdb.org/docs'
    assert _parse_lock_error(m1) == (4675, "/usr/bin/python3.11", None)
    m2 = "Conflicting lock is held in /opt/My Apps/duckdb (PID 12) by user ana. See"
    assert _parse_lock_error(m2) == (12, "/opt/My Apps/duckdb", "ana")
    m3 = 'Could not set lock on file "/x": Conflicting lock is held in PID -1. However, you'
    assert _parse_lock_error(m3) == (None, None, None)
    assert _parse_lock_error("something else") == (None, None, None)


# ------------------------------------------------------------------ readers keep reading


@pytest.mark.slow
def test_publish_while_two_readers_hold_the_old_file(wh, sessions):
    a, b = sessions(wh), sessions(wh)
    assert a.ask(SUM) == [[1]] and b.ask(SUM) == [[1]]
    assert find_writer(wh) is None  # readers are not writers

    build = a_build(wh, "r2", 2)
    res = publish(build, wh, wait_s=5, poll_s=0.2)

    assert res.published and res.verified and res.writer is None, res
    assert a.ask(SUM) == [[1]] and b.ask(SUM) == [[1]]  # their snapshot, same connection
    assert fresh_query(wh) == ("ok", [[2]])
    assert not build.exists() and not wal_path(wh).exists()
    assert list(builds_dir(wh).iterdir()) == []  # no temp files left
    assert pending_build(wh) is None


@pytest.mark.slow
def test_first_publish_without_a_warehouse(tmp_path):
    wh = tmp_path / "sub" / "warehouse.duckdb"
    res = publish(a_build(wh, "r1", 7), wh, wait_s=0)
    assert res.published and res.verified
    assert fresh_query(wh) == ("ok", [[7]])


# ------------------------------------------------------------------ a read-write session


@pytest.mark.slow
def test_writer_blocks_publish_keeps_old_warehouse_and_build(wh, sessions):
    w = sessions(wh, "rw")
    w.ask("CREATE TABLE scratch AS SELECT 1 AS x")
    assert wal_path(wh).exists()

    info = find_writer(wh)
    assert isinstance(info, WriterInfo) and info.pid == w.pid and not info.stale
    assert info.program and str(w.pid) in info.describe() and "读写" in info.describe()

    build = a_build(wh, "r3", 3)
    res = publish(build, wh, wait_s=2, poll_s=0.25)
    assert res.waited_s >= 2  # it waited the whole wait_s (a lower bound: load only adds)
    assert not res.published and res.build_kept == build and build.exists()
    assert res.writer is not None and res.writer.pid == w.pid
    assert pending_build(wh) == build

    # D, a new process while W is open: the usual lock error, never a WAL mismatch
    status, text = fresh_query(wh)
    assert status == "error" and "lock" in text.lower() and "WAL does not match" not in text

    w.close()
    assert not wal_path(wh).exists()
    assert fresh_query(wh) == ("ok", [[1]])  # still the OLD content
    assert fresh_query(wh, "SELECT count(*) FROM scratch") == ("ok", [[1]])

    res2 = publish(pending_build(wh), wh, wait_s=2, poll_s=0.25)
    assert res2.published and res2.verified
    assert fresh_query(wh) == ("ok", [[3]])  # E sees the new content
    assert pending_build(wh) is None and list(builds_dir(wh).iterdir()) == []


@pytest.mark.slow
def test_writer_closing_during_the_wait_lets_publish_through(wh, sessions, monkeypatch):
    """The writer closes once publish has seen it (a condition, not a timer: on a busy
    machine a timer may fire before publish even looks)."""
    import pipeline.run.publish as pub

    w = sessions(wh, "rw")
    w.ask("CREATE TABLE scratch AS SELECT 1 AS x")
    build = a_build(wh, "r4", 4)
    seen = []
    real = pub.find_writer

    def find_then_close(*a, **kw):
        found = real(*a, **kw)
        seen.append(found is not None)
        if found is not None and len(seen) == 1:
            w.close()  # publish saw the writer: now it goes away
        return found

    monkeypatch.setattr(pub, "find_writer", find_then_close)
    res = publish(build, wh, wait_s=300, poll_s=0.2)
    assert seen[0] and not seen[-1]  # it saw the writer, then saw it gone
    assert res.published and res.verified and res.waited_s > 0, res
    assert fresh_query(wh) == ("ok", [[4]])


@pytest.mark.slow
def test_read_write_session_without_wal_is_a_writer_too(wh, sessions):
    """Connected read-write but nothing written yet: no WAL, still holds the lock (its
    first write would create a WAL that breaks a file renamed over it)."""
    w = sessions(wh, "rw")
    assert not wal_path(wh).exists()
    info = find_writer(wh)
    assert info is not None and info.pid == w.pid
    res = publish(a_build(wh, "r5", 5), wh, wait_s=0)
    assert not res.published
    w.close()
    assert fresh_query(wh) == ("ok", [[1]])


# ------------------------------------------------------------------ a crashed session


@pytest.mark.slow
def test_stale_wal_of_a_crashed_session_is_set_aside(wh, sessions):
    crashed = subprocess.run(
        [sys.executable, "-c", SESSION, str(wh), "crash"], env=ENV, timeout=180
    )
    assert crashed.returncode == 0 and wal_path(wh).exists()
    info = find_writer(wh)
    assert info is not None and info.stale and info.pid is None

    kept = publish(a_build(wh, "r6", 6), wh, wait_s=0, set_aside_stale_wal=False)
    assert not kept.published and kept.writer.stale and wal_path(wh).exists()

    res = publish(pending_build(wh), wh, wait_s=0)
    assert res.published and res.verified and res.stale_wal is not None
    assert fresh_query(wh) == ("ok", [[6]])
    # the crashed session's work is still there, paired with the file it belongs to
    pair = res.stale_wal / wh.name
    assert (res.stale_wal / (wh.name + ".wal")).exists()
    assert fresh_query(pair, "SELECT count(*) FROM scratch") == ("ok", [[1]])


# ------------------------------------------------------------------ bad builds


@pytest.mark.slow
def test_bad_builds_are_refused_and_the_warehouse_untouched(wh, tmp_path, sessions):
    with pytest.raises(BuildInvalid, match="does not exist"):
        publish(tmp_path / "nope.duckdb", wh, wait_s=0)

    empty = new_build_path(wh, "empty")
    duckdb.connect(str(empty)).close()
    with pytest.raises(BuildInvalid, match="no tables"):
        publish(empty, wh, wait_s=0)

    junk = new_build_path(wh, "junk")
    junk.write_bytes(b"not a duckdb file" * 100)
    with pytest.raises(BuildInvalid, match="does not open"):
        publish(junk, wh, wait_s=0)

    open_build = a_build(wh, "open", 8)
    holder = sessions(open_build, "rw")
    with pytest.raises(BuildInvalid, match="still open"):
        publish(open_build, wh, wait_s=0)
    holder.close()

    assert fresh_query(wh) == ("ok", [[1]])


@pytest.mark.slow
def test_pending_build_is_the_newest_kept_and_abandoned_builds_are_cleaned(wh, sessions):
    w = sessions(wh, "rw")
    b1 = a_build(wh, "r1", 11)
    assert not publish(b1, wh, wait_s=0).published
    time.sleep(0.01)
    b2 = a_build(wh, "r2", 12)
    assert not publish(b2, wh, wait_s=0).published
    assert pending_build(wh) == b2 and not b1.exists()  # only the newest is kept
    abandoned = a_build(wh, "killed", 13)  # a build whose run died before publishing
    assert discard_abandoned_builds(wh) == [abandoned]
    assert pending_build(wh) == b2 and b2.exists()
    w.close()


# ------------------------------------------------------------------ the swap guard


@pytest.mark.slow
def test_swap_guard_lets_readers_in_and_keeps_writers_out(wh, sessions):
    from pipeline.run.publish import _swap_guard

    reader = sessions(wh)
    with _swap_guard(wh) as guarded:
        assert guarded  # a reader does not stop the guard
        assert fresh_query(wh) == ("ok", [[1]])  # nor the guard a new reader
        code = "import duckdb, sys; duckdb.connect(sys.argv[1])"
        cp = subprocess.run([sys.executable, "-c", code, str(wh)], capture_output=True, text=True)
        assert cp.returncode != 0 and "Could not set lock" in cp.stderr
    assert reader.ask(SUM) == [[1]]
    reader.close()
    w = sessions(wh, "rw")  # once released, a writer can open again
    with _swap_guard(wh) as guarded:
        assert not guarded  # and a writer stops the guard
    w.close()


@pytest.mark.slow
def test_a_writer_missed_by_the_check_is_still_caught_by_the_guard(wh, sessions, monkeypatch):
    import pipeline.run.publish as pub

    w = sessions(wh, "rw")
    w.ask("CREATE TABLE scratch AS SELECT 1 AS x")
    monkeypatch.setattr(pub, "find_writer", lambda *a, **k: None)  # the check "misses" W
    res = publish(a_build(wh, "r9", 9), wh, wait_s=0)
    assert not res.published and res.build_kept.exists()
    w.close()
    assert fresh_query(wh) == ("ok", [[1]])


@pytest.mark.slow
def test_rename_over_a_live_wal_is_reported_not_called_a_success(wh, sessions, monkeypatch):
    """What the guard prevents (case 15's trap), forced: a rename while W has a WAL
    beside the file leaves a warehouse nobody can open until W closes; publish says so."""
    import pipeline.run.publish as pub

    w = sessions(wh, "rw")
    w.ask("CREATE TABLE scratch AS SELECT 1 AS x")
    real_find = pub.find_writer
    monkeypatch.setattr(pub, "find_writer", lambda *a, **k: None)
    monkeypatch.setattr(pub, "_ofd_lock", lambda fd, exclusive: True)
    res = publish(a_build(wh, "r10", 10), wh, wait_s=0)
    assert res.published and not res.verified
    assert "WAL does not match" in res.problem
    info = real_find(wh)
    assert info is not None and info.pid == w.pid  # named through /proc/*/fd of the WAL
    status, text = fresh_query(wh)
    assert status == "error" and "WAL does not match" in text
    w.close()  # W's close removes its WAL: the new file opens
    assert fresh_query(wh) == ("ok", [[10]])
