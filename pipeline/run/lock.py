"""One run at a time per warehouse: an exclusive ``flock`` on ``<state>/run.lock``.

The kernel releases a ``flock`` when its holder exits for any reason (crash, SIGKILL,
power loss of the process), so a dead run's lock is simply taken by the next run: there
is no stale-lock cleanup and no PID guessing. Exactly one of several runs started at the
same moment gets the lock. The holder writes its PID, host and start time into the file
so that a refused run can name it; the file itself is never deleted (deleting a lock
file while others wait on it would let two runs hold "the" lock on different inodes).

Child processes forked by the holder inherit the lock (same open file description) and
keep it until they exit too; that is intended (they are part of the run).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pipeline.run.state import run_lock_path

POLL_S = 0.1


class RunLocked(Exception):
    """Another run holds the warehouse's run lock (the CLI exits with status 4).

    ``holder`` is what the holder wrote into the lock file (pid, hostname, started_at,
    argv), possibly empty if it had not written it yet.
    """

    def __init__(self, holder: dict, lock_path: Path | None = None):
        self.holder = holder
        self.lock_path = lock_path
        super().__init__(self._message())

    def _message(self) -> str:
        h = self.holder or {}
        pid = h.get("pid", "?")
        host = h.get("hostname")
        started = h.get("started_at", "?")
        other_host = bool(host) and host != socket.gethostname()
        where = f" on {host}" if other_host else ""
        where_zh = f"（主机 {host}）" if other_host else ""
        return (
            f"another tpa run holds the lock on this warehouse: PID {pid}{where}, started "
            f"{started} ({self.lock_path}); wait for it to finish | 另一个 tpa 运行正在占用此仓库："
            f"PID {pid}{where_zh}，开始于 {started}；请等待其结束"
        )


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(lock_path: Path) -> dict:
    """What the current (or last) holder wrote into ``lock_path``; {} if empty or unreadable."""
    try:
        text = Path(lock_path).read_text(encoding="utf-8")
        data = json.loads(text) if text.strip() else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _holder_for_message(lock_path: Path) -> dict:
    """Read the holder's record; retry briefly while it is empty or names a dead process
    (the new holder may not have written its record yet)."""
    end = time.monotonic() + 1.0
    while True:
        h = read_holder(lock_path)
        local = h.get("hostname") == socket.gethostname()
        if h and (not local or _pid_alive(h.get("pid"))):
            return h
        if time.monotonic() >= end:
            return h
        time.sleep(0.05)


@contextmanager
def run_lock(warehouse: Path, wait_s: float = 0) -> Iterator[dict]:
    """Hold the warehouse's run lock for the ``with`` block; yields the holder record.

    Tries ``flock(LOCK_EX | LOCK_NB)`` on ``<state>/run.lock``, polling every 0.1 s for up
    to ``wait_s`` seconds (0: one try). On success the file holds this process's pid,
    hostname, start time and argv (JSON) until release.

    Raises:
        RunLocked: another process holds the lock after ``wait_s``; its message names the
            holder's PID and start time.
        OSError: the state folder or lock file cannot be created or locked (e.g. ENOLCK).
    """
    path = run_lock_path(Path(warehouse))
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + max(wait_s, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLocked(_holder_for_message(path), path) from None
                time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
        holder = {
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "argv": sys.argv,
        }
        data = json.dumps(holder, ensure_ascii=False).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)  # a refused run never reads a finished holder's record
    finally:
        os.close(fd)  # releases the flock
