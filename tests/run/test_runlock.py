"""One run at a time per warehouse: the run lock, exercised with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.run.lock import RunLocked, read_holder, run_lock
from pipeline.run.state import run_lock_path
from tests.builders.paths import ROOT

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# argv: warehouse, hold seconds (-1: until stdin closes). Waits for "go" on stdin, then
# prints "acquired" or "locked <holder pid>".
HOLDER = r"""
import sys, time
from pathlib import Path
from pipeline.run.lock import RunLocked, run_lock
wh, hold = Path(sys.argv[1]), float(sys.argv[2])
print("started", flush=True)
sys.stdin.readline()
try:
    with run_lock(wh, wait_s=0):
        print("acquired", flush=True)
        if hold < 0:
            sys.stdin.readline()
        else:
            time.sleep(hold)
except RunLocked as exc:
    print("locked", exc.holder.get("pid"), flush=True)
"""


@pytest.fixture
def children():
    procs: list[subprocess.Popen] = []

    def start(wh: Path, hold: float) -> subprocess.Popen:
        p = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(wh), str(hold)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        procs.append(p)
        assert p.stdout.readline().strip() == "started"
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=120)


def go(p: subprocess.Popen) -> None:
    p.stdin.write("go\n")
    p.stdin.flush()


def holding(p: subprocess.Popen) -> subprocess.Popen:
    go(p)
    assert p.stdout.readline().strip() == "acquired"
    return p


def test_lock_file_lives_in_the_state_folder(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    with run_lock(wh) as me:
        assert run_lock_path(wh) == tmp_path / "warehouse.duckdb.d" / "run.lock"
        assert read_holder(run_lock_path(wh))["pid"] == os.getpid() == me["pid"]
    assert read_holder(run_lock_path(wh)) == {}  # released and cleared
    with run_lock(wh):  # and reusable
        pass


def test_held_by_a_child_refuses_naming_it(tmp_path, children):
    wh = tmp_path / "warehouse.duckdb"
    child = holding(children(wh, -1))
    with pytest.raises(RunLocked) as ei:
        with run_lock(wh, wait_s=0):
            pytest.fail("acquired a lock another process holds")
    assert ei.value.holder["pid"] == child.pid
    msg = str(ei.value)
    assert f"PID {child.pid}" in msg and ei.value.holder["started_at"] in msg
    child.stdin.close()
    child.wait(timeout=120)


@pytest.mark.slow
def test_waiting_gets_the_lock_when_the_holder_finishes(tmp_path, children):
    wh = tmp_path / "warehouse.duckdb"
    holding(children(wh, 1.0))
    t0 = time.monotonic()
    with run_lock(wh, wait_s=300) as me:  # generous: the holder lets go after 1 s
        waited = time.monotonic() - t0
        assert me["pid"] == os.getpid()
    assert waited > 0.5  # it did wait for the holder (a lower bound: load only adds)


def test_a_killed_holder_does_not_block_the_next_run(tmp_path, children):
    wh = tmp_path / "warehouse.duckdb"
    child = holding(children(wh, -1))
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=120)
    assert read_holder(run_lock_path(wh))["pid"] == child.pid  # its record is left behind
    with run_lock(wh, wait_s=0) as me:
        assert read_holder(run_lock_path(wh))["pid"] == me["pid"] == os.getpid()


@pytest.mark.parametrize("attempt", range(3))
def test_two_runs_started_at_once_exactly_one_gets_the_lock(tmp_path, children, attempt):
    wh = tmp_path / "warehouse.duckdb"
    p1, p2 = children(wh, 0.5), children(wh, 0.5)
    go(p1)
    go(p2)
    out = {p.pid: p.stdout.readline().split() for p in (p1, p2)}
    winners = [pid for pid, words in out.items() if words == ["acquired"]]
    losers = [words for words in out.values() if words and words[0] == "locked"]
    assert len(winners) == 1 and len(losers) == 1, out
    assert losers[0][1] == str(winners[0])  # the refused one names the winner
