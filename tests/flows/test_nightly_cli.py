"""Nightly operations with real processes (issue 5): one run at a time, SIGKILL at every
stage, two runs at the same moment, the make targets, and the served deployment.

Every ``tpa run`` is a real subprocess against a real local Prefect server started with
``make server`` (a temporary PREFECT_HOME; ≈ 2–3 s per run instead of ≈ 8 s with a
temporary server per process). The crash tests use the test-only pause hook
(``devkit.testhooks``: ``TPA_TEST_PAUSE_AT=extract|build|publish``) to SIGKILL a run at
an exact stage. The tests of this module build on each other, in file order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.api import wait_for_api
from tests.builders.paths import ROOT
from tests.builders.runs import snapshot, stage, write_books
from tests.builders.sessions import fresh_query

pytestmark = pytest.mark.slow  # over 10 s on an idle machine (make test-fast skips it)

COUNT = "SELECT count(*) FROM raw.files"


def wait_until(cond, timeout: float = 120, every: float = 0.1) -> bool:
    """True once ``cond()`` holds; False after ``timeout`` seconds (generous: a busy
    machine is slow, and a test waits on a condition, never on a clock)."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(every)
    return True


class Proc:
    """A child process whose stdout and stderr are collected as they come."""

    started: list[Proc] = []  # killed at the end of the module, whatever happened

    def __init__(self, cmd: list[str], env: dict, cwd: Path = ROOT):
        self.p = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: nothing is left behind
        )
        self.pid = self.p.pid
        Proc.started.append(self)
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._drain, args=(s, b), daemon=True)
            for s, b in ((self.p.stdout, self.out), (self.p.stderr, self.err))
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _drain(stream, buf):
        for line in stream:
            buf.append(line)

    @property
    def text(self) -> str:
        return "".join(self.out) + "".join(self.err)

    def wait_for(self, marker: str, timeout: float = 600) -> None:
        end = time.monotonic() + timeout
        while marker not in "".join(self.err):
            if self.p.poll() is not None or time.monotonic() > end:
                self.kill()
                raise AssertionError(f"no {marker!r} (exit {self.p.returncode}):\n{self.text}")
            time.sleep(0.05)

    def finish(self, timeout: float = 900) -> int:
        try:
            self.p.wait(timeout)
        finally:
            self.kill()
        for t in self._threads:
            t.join(5)
        return self.p.returncode

    def crash(self) -> None:
        """SIGKILL the process alone, as a crash would (its children live on)."""
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.p.wait(30)

    def kill(self) -> None:
        """SIGKILL the process, then whatever is left of its process group."""
        self.crash()
        self._killpg(signal.SIGKILL)

    def stop(self) -> None:
        """Stop a server: SIGINT to its process group, SIGKILL after 20 s."""
        self._killpg(signal.SIGINT)
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def _killpg(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture(scope="module", autouse=True)
def _reap():
    yield
    for p in Proc.started:
        p.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``make server`` on a free port with a temporary PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect_home_cli")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        TPA_ID_KEY="k",
    )
    srv = Proc(["make", "-s", "server", "STAMP=", f"PREFECT_PORT={port}"], env)
    url = f"http://127.0.0.1:{port}/api"
    if not wait_for_api(url, lambda: srv.p.poll() is None, timeout_s=600):
        srv.kill()
        pytest.fail(f"make server did not start:\n{srv.text}")
        time.sleep(0.5)
    yield {"url": url, "port": port, "env": {**env, "PREFECT_API_URL": url}}
    srv.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, server):
    base = tmp_path_factory.mktemp("site")
    books = write_books(base / "books")
    raw, wh = base / "raw", base / "wh" / "warehouse.duckdb"
    stage(raw, books, ["A1", "B", "C1"])
    return {"books": books, "raw": raw, "wh": wh, "env": server["env"]}


def tpa(site, *args: str, pause: str | None = None, ephemeral: bool = False) -> Proc:
    """``tpa run`` on the site; ``ephemeral``: without PREFECT_API_URL (the run starts its
    own temporary Prefect server, in its own PREFECT_HOME)."""
    env = dict(site["env"])
    env.pop("TPA_TEST_PAUSE_AT", None)
    if pause:
        env["TPA_TEST_PAUSE_AT"] = pause
    if ephemeral:
        del env["PREFECT_API_URL"]
        env["PREFECT_HOME"] = str(site["wh"].parent.parent / "prefect_home_ephemeral")
    cmd = [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(site["raw"])]
    return Proc([*cmd, "--warehouse", str(site["wh"]), "--publish-wait", "5", *args], env)


def state(site) -> Path:
    return site["wh"].with_name(site["wh"].name + ".d")


def leftovers(site) -> list[str]:
    """Temporary files a run must not leave behind."""
    st = state(site)
    found = [p.name for p in (st / "extracts").glob(".tmp-*")]
    found += [p.name for p in (st / "builds").iterdir()] if (st / "builds").exists() else []
    found += [p.name for p in (st / "runs").glob("*.tmp")]
    found += [p.name for p in st.glob("manifest.json.tmp-*")]
    # no WAL, no stray build next to the warehouse; the night's outputs (issue 13) have
    # their folders there, with no half-written file in them
    beside = {"warehouse.duckdb", st.name, "reports", "exports"}
    for d in ("reports", "exports"):
        out = site["wh"].parent / d
        found += [p.name for p in out.iterdir() if p.name.startswith(".")] if out.exists() else []
    return found + [p.name for p in site["wh"].parent.iterdir() if p.name not in beside]


def runs(site) -> dict[str, tuple]:
    from tests.builders.runs import q

    return {
        r[0]: r[1:]
        for r in q(site["wh"], "SELECT run_id, status, files_seen, files_new FROM raw.runs")
    }


def newest(site) -> tuple:
    """(status, files_seen, files_new) of the newest run in the published raw.runs."""
    history = runs(site)
    assert "running" not in {v[0] for v in history.values()}  # issue 13: never as of the build
    return history[max(history)]


# ---------------------------------------------------------------- the story, step by step
# Each step is a module fixture that asks for the step before it, so the tests can run in
# any order: a test asserts what its step saw at the time (the warehouse moves on after).


@pytest.fixture(scope="module")
def first_run(site) -> dict:
    """The first ``tpa run`` on A1 B C1: its exit code, output, snapshot and row count."""
    p = tpa(site)
    code = p.finish()
    return {"code": code, "text": p.text, "S0": snapshot(site["wh"]),
            "count": fresh_query(site["wh"], COUNT)}  # fmt: skip


def test_first_run(first_run):
    assert first_run["code"] == 0, first_run["text"]
    assert "Traceback" not in first_run["text"]
    assert first_run["count"] == ("ok", [[3]])


@pytest.fixture(scope="module")
def killed_runs(site, first_run) -> dict:
    """A pauses mid-extract (a new workbook arrived); B is refused with status 4 naming A;
    C waits for the lock with --lock-wait and pauses mid-build after A is SIGKILLed; E
    waits, and pauses mid-publish after C is killed; E is killed. The published warehouse
    stays the first run's and opens after every kill; F then completes normally.
    A runs with its own temporary Prefect server (no PREFECT_API_URL, as from cron): C
    stops it, since a killed process leaves its server running."""
    import json

    from pipeline.run.recovery import _proc

    assert first_run["code"] == 0, first_run["text"]
    s0 = first_run["S0"]
    stage(site["raw"], site["books"], ["D"])

    a = tpa(site, pause="extract", ephemeral=True)
    a.wait_for("TPA_TEST_PAUSED extract")
    assert list((state(site) / "extracts").glob(".tmp-*"))  # a half-written extract
    a_server = json.loads((state(site) / "prefect-server.json").read_text())["pid"]
    assert _proc(a_server)[1]

    b = tpa(site)
    assert b.finish() == 4, b.text
    assert "another run is in progress" in b.text and f"PID {a.pid}" in b.text

    c = tpa(site, "--lock-wait", "300", pause="build")
    time.sleep(2)
    assert c.p.poll() is None and "TPA_TEST_PAUSED" not in c.text  # waiting for the lock
    a.crash()  # SIGKILL mid-extract: C takes the lock over
    c.wait_for("TPA_TEST_PAUSED build")
    assert "removed half-written extract" in c.text
    assert f"stopped the temporary Prefect server (PID {a_server})" in c.text
    assert wait_until(lambda: not _proc(a_server)[1])  # SIGTERM takes a moment
    a.kill()  # nothing left: the test's own clean-up
    assert not list((state(site) / "extracts").glob(".tmp-*"))
    assert fresh_query(site["wh"], COUNT) == ("ok", [[3]])
    assert snapshot(site["wh"]) == s0
    assert list((state(site) / "builds").glob("*.duckdb"))  # C's half-written build

    e = tpa(site, "--lock-wait", "300", pause="publish")
    time.sleep(1)
    assert e.p.poll() is None
    c.crash()  # SIGKILL mid-build
    e.wait_for("TPA_TEST_PAUSED publish")
    assert "removed abandoned build" in e.text
    assert fresh_query(site["wh"], COUNT) == ("ok", [[3]])
    assert snapshot(site["wh"]) == s0
    e.crash()  # SIGKILL mid-publish: built, not yet renamed
    assert fresh_query(site["wh"], COUNT) == ("ok", [[3]])
    assert snapshot(site["wh"]) == s0

    f = tpa(site)
    code = f.finish()
    return {"code": code, "text": f.text, "count": fresh_query(site["wh"], COUNT),
            "leftovers": leftovers(site), "history": runs(site), "S1": snapshot(site["wh"])}  # fmt: skip


def test_second_run_refused_then_killed_runs_at_each_stage(killed_runs):
    """F, after the refused and killed runs above (``killed_runs``), completes normally."""
    f = killed_runs
    assert f["code"] == 0, f["text"]
    assert "Traceback" not in f["text"]
    assert f["count"] == ("ok", [[4]])
    assert f["leftovers"] == []
    history = f["history"]
    statuses = sorted(s for s, *_ in history.values())
    assert statuses == ["killed", "killed", "killed", "published", "published"]
    last = history[max(history)]  # the newest run: published, as its own build says
    assert last == ("published", 4, 0)  # D was parsed by C before it was killed: cached


def test_two_runs_at_the_same_moment(site, killed_runs):
    g, h = tpa(site), tpa(site)
    codes = sorted([g.finish(), h.finish()])
    assert codes == [0, 4], g.text + h.text
    loser = g if g.p.returncode == 4 else h
    assert "another run is in progress" in loser.text and "Traceback" not in loser.text
    assert snapshot(site["wh"]) == killed_runs["S1"]
    assert fresh_query(site["wh"], COUNT) == ("ok", [[4]])
    assert leftovers(site) == []


def make(site, *args: str) -> Proc:
    vars_ = [f"RAW={site['raw']}", f"WAREHOUSE={site['wh']}", "STAMP="]
    return Proc(["make", "-s", *args, *vars_], site["env"])


def test_make_targets(site, killed_runs):
    p = make(site, "rebuild")
    assert p.finish() == 0, p.text
    assert newest(site) == ("published", 4, 4)  # every workbook parsed again
    assert snapshot(site["wh"]) == killed_runs["S1"]

    p = make(site, "run")
    assert p.finish() == 0, p.text
    assert newest(site) == ("published", 4, 0)

    p = make(site, "county", "COUNTY=530128", "PERIOD=2019-12")
    assert p.finish() == 0, p.text
    assert site["books"]["C1"].name in p.text and "poverty_incidence" in p.text

    p = make(site, "clean-cache")
    assert p.finish() == 0, p.text
    assert not (state(site) / "extracts").exists()
    p = make(site, "run")
    assert p.finish() == 0, p.text
    assert newest(site) == ("published", 4, 4)
    assert snapshot(site["wh"]) == killed_runs["S1"]


def test_make_serve_registers_the_nightly_deployment(site, server, killed_runs, tmp_path):
    """``make serve`` against the server: the deployment has the 02:00 Asia/Shanghai cron
    and a concurrency limit of 1, and a run of it builds the warehouse."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    wh = tmp_path / "served" / "warehouse.duckdb"
    serve = Proc(
        ["make", "-s", "serve", "STAMP=", f"PREFECT_PORT={server['port']}",
         f"RAW={site['raw']}", f"WAREHOUSE={wh}"],
        site["env"],
    )  # fmt: skip
    try:
        with temporary_settings(updates={PREFECT_API_URL: server["url"]}):
            with get_client(sync_client=True) as client:
                end = time.monotonic() + 600
                while True:
                    try:
                        dep = client.read_deployment_by_name("tpa-nightly-scheduled/nightly")
                        break
                    except Exception:
                        if serve.p.poll() is not None or time.monotonic() > end:
                            raise AssertionError(serve.text) from None
                        time.sleep(0.5)
                (sched,) = dep.schedules
                assert (sched.schedule.cron, sched.schedule.timezone) == (
                    "0 2 * * *",
                    "Asia/Shanghai",
                )
                assert sched.active
                assert dep.global_concurrency_limit.limit == 1
                assert dep.concurrency_options.collision_strategy.value == "ENQUEUE"
                assert dep.parameters == {"raw_dir": str(site["raw"]), "warehouse": str(wh)}
            fr = run_deployment("tpa-nightly-scheduled/nightly", timeout=900)
            assert fr.state.is_completed(), (fr.state, serve.text)
    finally:
        serve.stop()
    from tests.builders.runs import q

    assert q(wh, "SELECT trigger, files_seen, status FROM raw.runs") == [
        ("schedule", 4, "published")
    ]
