"""A run always starts or says why in one line (issue 13, item 1).

Prefect's temporary API server is started with a generous timeout and one retry; a start
that times out is stopped before the retry; when Prefect cannot start at all, ``tpa run``
prints one line naming the cause and the fix, records the run as ``failed`` and exits 6.
Slow starts are simulated (no wall-clock threshold anywhere)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows import api
from tests.builders.paths import ROOT


class FakeServer:
    """Stands in for ``SubprocessASGIServer``: the first ``fail`` starts time out."""

    made: list[FakeServer] = []
    fail = 1

    def __init__(self):
        self.stopped = False
        self.timeout = None
        FakeServer.made.append(self)

    def start(self, timeout=None):
        self.timeout = timeout
        if len(FakeServer.made) <= FakeServer.fail:
            raise RuntimeError(
                "Timed out while attempting to connect to ephemeral Prefect API server."
            )

    def stop(self):
        self.stopped = True


@pytest.fixture
def fake(monkeypatch):
    import prefect.server.api.server as srv

    FakeServer.made = []
    monkeypatch.setattr(srv, "SubprocessASGIServer", FakeServer)
    return FakeServer


@pytest.mark.slow
def test_a_slow_first_start_is_stopped_and_retried(fake):
    fake.fail = 1
    server = api.start_temporary_server(timeout_s=120, retries=1)
    assert server is fake.made[1]
    assert fake.made[0].stopped and not fake.made[1].stopped
    assert [s.timeout for s in fake.made] == [120, 120]


def test_two_failed_starts_raise_one_line_with_cause_and_fix(fake, tmp_path):
    fake.fail = 2
    with pytest.raises(api.PrefectStartError) as e:
        api.start_temporary_server(timeout_s=7.5, retries=1, log=tmp_path / "server.log")
    msg = str(e.value)
    assert "\n" not in msg
    assert "2 attempts of 7.5 s" in msg and "Timed out" in msg
    assert "TPA_PREFECT_START_TIMEOUT_S" in msg and "PREFECT_API_URL" in msg
    assert str(tmp_path / "server.log") in msg
    assert all(s.stopped for s in fake.made)


def test_the_server_inherits_the_log_not_the_callers_output(tmp_path):
    """A child spawned while the server starts writes into the log file, not into the
    caller's stdout: a server outliving a crashed run cannot hold the caller's pipe open."""
    log = tmp_path / "server.log"
    code = (
        "import subprocess, sys; from pathlib import Path; from flows.api import _output_to\n"
        "with _output_to(Path(sys.argv[1])):\n"
        "    subprocess.run([sys.executable, '-c', 'print(\"from the child\")'])\n"
        "print('from the parent')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(log)], capture_output=True, text=True, cwd=ROOT,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == "from the parent\n"
    assert log.read_text() == "from the child\n"


@pytest.mark.slow
def test_tpa_run_exits_6_with_one_line_when_prefect_cannot_start(tmp_path):
    """A Prefect database that cannot be opened: the server never answers. Two short
    attempts, then exit 6, one line, the run recorded as failed, no server left."""
    raw, wh = tmp_path / "raw", tmp_path / "wh" / "warehouse.duckdb"
    raw.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_DATABASE_CONNECTION_URL": "sqlite+aiosqlite:////nonexistent/dir/prefect.db",
        "TPA_PREFECT_START_TIMEOUT_S": "2",
    }
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(raw), "--warehouse", str(wh)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert out.returncode == 6, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Prefect could not start:"), out.stderr
    assert "TPA_PREFECT_START_TIMEOUT_S" in lines[0]
    state = Path(str(wh) + ".d")
    runs = [json.loads(p.read_text()) for p in (state / "runs").glob("*.json")]
    assert [(r["status"], r["finished_at"] is not None) for r in runs] == [("failed", True)]
    assert "did not start" in runs[0]["message"]
    assert not (state / "prefect-server.json").exists()
