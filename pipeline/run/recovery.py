"""Recovery after a killed or crashed run: what it left behind is tidied by the next
run, under the run lock (abandoned builds, half-written extracts and state files, run
records still ``running``, the temporary Prefect server it started)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psutil

from pipeline.run import cache
from pipeline.run.manifest import MANIFEST
from pipeline.run.state import extracts_dir, runs_dir, state_dir
from pipeline.run.submission import FIRST_SEEN

SERVER_NOTE = "prefect-server.json"  # the temporary Prefect server of the run in progress


def note_server(warehouse: Path, pid: int, port: int) -> None:
    """Record the temporary Prefect server this run started (``recover`` stops it if the
    run is killed: a killed process does not stop its server, which would run on)."""
    note = {"pid": pid, "port": port, "owner": os.getpid()}
    (state_dir(Path(warehouse)) / SERVER_NOTE).write_text(json.dumps(note), encoding="utf-8")


def forget_server(warehouse: Path) -> None:
    """The run stopped its temporary Prefect server itself: drop the note."""
    (state_dir(Path(warehouse)) / SERVER_NOTE).unlink(missing_ok=True)


def _proc(pid: int) -> tuple[str, bool]:
    """(command line, alive) of a local process; ("", False) when it is gone. A zombie
    (killed, not yet reaped) is not alive."""
    try:
        proc = psutil.Process(pid)
        alive = proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return "", False
    except psutil.AccessDenied:
        alive = True
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        cmd = ""
    return cmd, alive


def _stop_orphaned_server(warehouse: Path) -> list[str]:
    note = state_dir(warehouse) / SERVER_NOTE
    if not note.is_file():
        return []
    done = []
    try:
        info = json.loads(note.read_text(encoding="utf-8"))
        pid, port, owner = int(info["pid"]), int(info["port"]), int(info["owner"])
    except (OSError, ValueError, KeyError, TypeError):
        pid = port = owner = 0
    cmd, alive = _proc(pid) if pid else ("", False)
    is_server = "prefect.server.api.server:create_app" in cmd and f"--port {port} " in cmd + " "
    if alive and is_server and not _proc(owner)[1]:
        os.kill(pid, signal.SIGTERM)
        done.append(f"stopped the temporary Prefect server (PID {pid}) of a killed run")
    note.unlink(missing_ok=True)
    return done


def recover(warehouse: Path) -> list[str]:
    """Tidy what killed or crashed runs left behind; return what was done (one line each).

    Removes abandoned builds (``pipeline.run.publish.discard_abandoned_builds``), half-written
    extracts (``.tmp-*``) and temporary run/manifest files, marks run records still
    ``running`` as ``killed``, and stops the temporary Prefect server a killed run left
    running (by the PID it noted, checked against the process's command line). Call it
    only while holding the run lock (``pipeline.run.lock.run_lock``): without it, a live
    run looks abandoned.
    """
    from pipeline.run.publish import discard_abandoned_builds

    warehouse = Path(warehouse)
    done = _stop_orphaned_server(warehouse)
    done += [f"removed abandoned build {b.name}" for b in discard_abandoned_builds(warehouse)]
    done += [
        f"removed half-written extract {p.name}" for p in cache.clean_temp(extracts_dir(warehouse))
    ]
    temp = [
        *state_dir(warehouse).glob(MANIFEST + ".tmp-*"),
        *state_dir(warehouse).glob(FIRST_SEEN + ".tmp-*"),
    ]
    for p in [*runs_dir(warehouse).glob("*.tmp"), *temp]:
        p.unlink(missing_ok=True)
        done.append(f"removed temporary file {p.name}")
    for p in sorted(runs_dir(warehouse).glob("*.json")):
        try:
            row = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if row.get("status") == "running":
            row["status"] = "killed"
            row["message"] = "the run ended without recording its end (killed or crashed)"
            tmp = p.with_suffix(".tmp")
            tmp.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, p)
            done.append(f"marked run {row.get('run_id')} as killed")
    return done
