"""The Prefect API a run talks to: waiting for a running one (``make server``) to answer,
for whatever starts next to it (``make serve`` after a reboot, the benchmark, the tests),
and starting the temporary one a run without ``PREFECT_API_URL`` needs."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.config import Settings


def wait_for_api(
    url: str, alive: Callable[[], bool] = lambda: True, timeout_s: float = 180
) -> bool:
    """True once ``<url>/health`` answers 200 (``url`` ends in ``/api``); False when
    ``alive()`` turns False (the server process died) or ``timeout_s`` seconds pass."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.5)


class PrefectStartError(RuntimeError):
    """Prefect's temporary API server could not be started; the message is one line naming
    the cause and the fix (``tpa run`` prints it and exits with status 6)."""


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Point this process's stdout/stderr file descriptors at ``log`` while a child is
    spawned: the temporary server inherits them, and a server that outlives a crashed run
    must not hold the caller's pipe open (a ``subprocess.run(capture_output=True)`` of
    ``tpa run`` would then never return)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (*saved, fd):
            os.close(f)


def start_temporary_server(timeout_s: float, retries: int = 1, log: Path | None = None):
    """Start Prefect's temporary API server (``SubprocessASGIServer.start(timeout=…)``, the
    interface Prefect documents for it), waiting up to ``timeout_s`` seconds per attempt and
    trying ``retries`` more times; return the started server.

    A first start migrates Prefect's SQLite database, and a busy machine makes both slow:
    Prefect's own 20 s default failed 7 runs in 30 there (issue 13). An attempt that times
    out is stopped before the next one, so no half-started server is left behind.

    Raises ``PrefectStartError`` (one line: what failed and what to do) when every attempt
    failed."""
    from prefect.server.api.server import SubprocessASGIServer

    problem = ""
    for _ in range(1 + retries):
        server = SubprocessASGIServer()
        try:
            with _output_to(log) if log else nullcontext():
                server.start(timeout=max(1, int(timeout_s)))
            return server
        except Exception as exc:  # Prefect raises RuntimeError, httpx errors, OSError
            problem = " ".join(str(exc).split())[:300] or type(exc).__name__
            server.stop()
    where = f"; its output is in {log}" if log else ""
    raise PrefectStartError(
        f"Prefect's temporary API server did not start ({1 + retries} attempts of "
        f"{timeout_s:g} s: {problem}){where}. The machine may be overloaded or PREFECT_HOME "
        "not writable: raise TPA_PREFECT_START_TIMEOUT_S, or run `make server` and set "
        "PREFECT_API_URL=http://127.0.0.1:4200/api"
    )


def drain_prefect_workers(timeout_s: float = 60) -> None:
    """Let Prefect's background workers send what they hold (run logs, events) while the
    temporary server still answers. Stopped first, the server leaves them retrying a
    dead address at exit for a minute or more ("All connection attempts failed"); the
    test harness drains them the same way before it stops its server."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        try:
            service.drain_all(timeout=timeout_s, at_exit=False)
        except Exception:  # nothing to drain, or already stopped: the run is over anyway
            pass


@contextmanager
def temporary_server(warehouse: Path, settings: Settings) -> Iterator[None]:
    """Without ``PREFECT_API_URL`` a run needs Prefect's temporary API server. Start it here
    (``start_temporary_server``: a generous timeout, one retry), note its PID in
    the state folder (the next run stops it if this one is killed: ``pipeline.run.recovery.recover``),
    name it in PREFECT_API_URL for the duration of the run, so that process and Dask workers
    report to it instead of each starting a server of their own, and stop it when the run
    ends, however it ends. Raises ``flows.api.PrefectStartError``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipeline.run import recovery
    from pipeline.run.state import state_dir

    if PREFECT_API_URL.value():
        yield
        return
    log = state_dir(warehouse) / "prefect-server.log"
    server = start_temporary_server(settings.prefect_start_timeout_s, retries=1, log=log)
    if server.server_process is not None and server.port is not None:
        recovery.note_server(warehouse, server.server_process.pid, server.port)
    old = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
    finally:
        if old is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = old
        drain_prefect_workers()  # before the server goes: else they retry it at exit
        server.stop()
        recovery.forget_server(warehouse)
