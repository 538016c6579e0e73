"""It speaks up (issue 13, item 5): a JSON webhook on 127.0.0.1 receives the message of a
run that needs a person, from ``tpa run`` and from the deployment's flow alike; a
notification that cannot be sent is one line and never fails the run."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from typer.testing import CliRunner

from pipeline.config import Settings


class Hook:
    """A JSON webhook on 127.0.0.1: every POST body, decoded, in ``received``."""

    def __init__(self):
        self.received: list[dict] = []
        self.got = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                n = int(self.headers.get("Content-Length", 0))
                hook.received.append(
                    {"path": self.path, **json.loads(self.rfile.read(n).decode("utf-8"))}
                )
                self.send_response(200)
                self.end_headers()
                hook.got.set()

            def log_message(self, *args):  # quiet
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_port}/tpa-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, timeout: float = 60) -> dict:
        assert self.got.wait(timeout), "no message reached the webhook"
        return self.received[-1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def _outcome(code: int, message: str, status: str = "build_failed"):
    from flows.stages import FlowOutcome
    from pipeline.run.history import RunRecord

    return FlowOutcome(RunRecord(trigger="schedule", status=status, message=message), code)


@pytest.mark.slow
def test_tpa_run_tells_the_webhook_when_another_run_holds_the_lock(hook, tmp_path, monkeypatch):
    from pipeline.cli import app
    from pipeline.run.lock import run_lock

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    raw.mkdir()
    monkeypatch.setenv("TPA_NOTIFY_URLS", hook.url)
    with run_lock(wh, wait_s=0):
        res = CliRunner().invoke(app, ["run", "--raw-dir", str(raw), "--warehouse", str(wh)])
    assert res.exit_code == 4, res.output
    msg = hook.wait()
    assert msg["path"] == "/tpa-hook" and msg["type"] == "failure"
    assert msg["title"] == "tpa nightly run failed (exit 4)"
    body = msg["message"]
    assert "status 4: not started: another run holds the lock" in body
    assert f"warehouse: {wh.resolve()}" in body and f"raw folder: {raw.resolve()}" in body


@pytest.mark.slow
def test_the_deployment_tells_the_webhook_of_a_failed_build(hook, tmp_path, monkeypatch):
    import flows.deploy as deploy
    import flows.nightly as nightly

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    raw.mkdir()
    monkeypatch.setenv("TPA_NOTIFY_URLS", hook.url)
    monkeypatch.setattr(
        nightly, "run_flow", lambda *a, **k: _outcome(1, "SQL data tests failed: x: 2 rows")
    )
    with pytest.raises(RuntimeError, match="status 1"):
        deploy.scheduled.fn(str(raw), str(wh))  # the flow's body, as the deployment runs it
    body = hook.wait()["message"]
    assert "status 1: the build failed; the previous warehouse is kept" in body
    assert "why: SQL data tests failed: x: 2 rows" in body
    assert "(schedule)" in body and f"warehouse: {wh.resolve()}" in body


@pytest.mark.slow
def test_published_nights_are_quiet_unless_over_a_threshold(hook, tmp_path, monkeypatch):
    """A published night: nothing under the thresholds; over them, the counties."""
    from pipeline.run import notify

    wh = tmp_path / "w.duckdb"
    news = notify.CountyNews(
        rejected={"530103": 2}, quarantined={"530103": 5, "530102": 40}, names={"530103": "盘龙区"}
    )
    monkeypatch.setattr(notify, "news_of_run", lambda w, run_id: news)
    ok = _outcome(0, None, "published")
    base = {"warehouse": wh, "notify_urls": hook.url}
    quiet = Settings(**base, notify_rejected_files=3, notify_quarantined_rows=46)
    assert notify.compose(quiet, 0, ok) is None and notify.notify_run(quiet, 0, ok) is None
    assert notify.compose(Settings(**base), 2) is None  # bad usage: the person saw it
    loud = Settings(**base, notify_rejected_files=0, notify_quarantined_rows=45)
    assert notify.notify_run(loud, 0, ok) is None
    msg = hook.wait()
    assert (
        msg["title"]
        == "tpa nightly run: published, with 2 workbook(s) rejected and 45 row(s) quarantined"
    )
    assert (
        "counties: 530102 (40 row(s) quarantined); "
        "530103 盘龙区 (2 file(s) rejected, 5 row(s) quarantined)"
    ) in msg["message"]
    assert "quarantine.findings" in msg["message"]


def test_a_notification_that_cannot_be_sent_is_one_line(tmp_path):
    import socket

    from pipeline.run.notify import notify_run

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(warehouse=tmp_path / "w.duckdb", notify_urls=f"json://127.0.0.1:{port}/x")
    line = notify_run(settings, 3, _outcome(3, "held read-write by PID 1", "not_published"))
    assert line is not None and "\n" not in line and line.startswith("notification not sent")
    bad = Settings(warehouse=tmp_path / "w.duckdb", notify_urls="nosuchscheme://token@host")
    line = notify_run(bad, 1, _outcome(1, "x"))
    assert "nosuchscheme://…" in line and "token" not in line
    assert notify_run(Settings(warehouse=tmp_path / "w.duckdb"), 1, _outcome(1, "x")) is None


def test_notify_urls_are_split_on_commas_and_spaces():
    s = Settings(notify_urls="json://a:1/x, dingtalk://t@s  mailto://u:p@h.example")
    assert s.notify_list == ["json://a:1/x", "dingtalk://t@s", "mailto://u:p@h.example"]
    assert "dingtalk" not in repr(s) and "dingtalk" not in s.model_dump_json()
