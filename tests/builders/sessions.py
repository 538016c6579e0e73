"""DuckDB sessions in child processes: ``Session`` keeps one connection open between
commands (read-only, read-write, or a writer that crashes leaving its WAL), and
``fresh_query`` reads a file from a brand-new process. DuckDB reuses an open database
within one process, so "another process" has to be a real one. The ``sessions`` fixture
(tests/conftest.py) starts them and kills them all at the end.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tests.builders.paths import ROOT

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# A DuckDB session in a child process: argv = path, mode (ro | rw | crash).
SESSION = r"""
import duckdb, json, os, sys
path, mode = sys.argv[1], sys.argv[2]
con = duckdb.connect(path, read_only=(mode == "ro"))
if mode == "crash":
    con.execute("CREATE TABLE scratch AS SELECT 1 AS x")
    os._exit(0)  # dies without closing: the WAL stays
print(json.dumps({"ready": os.getpid()}), flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "close":
        con.close()
        print(json.dumps({"closed": True}), flush=True)
        break
    try:
        print(json.dumps({"rows": con.execute(cmd).fetchall()}, default=str), flush=True)
    except Exception as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
"""

SUM = "SELECT sum(v) FROM t"


class Session:
    """A child process holding one DuckDB connection open until ``close()``."""

    def __init__(self, path: Path, mode: str = "ro"):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SESSION, str(path), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self.pid = self.proc.pid
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        first = self._next()
        assert first.get("ready") == self.pid, first

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # the child's stdout closed: it exited

    def _next(self, timeout: float = 180) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"session {self.pid} silent for {timeout} s") from None
        if not line:  # EOF: the child died; show why
            self.proc.wait(timeout=120)
            raise AssertionError(f"session {self.pid} exited: {self.proc.stderr.read()[-2000:]}")
        return json.loads(line)

    def ask(self, sql: str):
        self.proc.stdin.write(sql + "\n")
        self.proc.stdin.flush()
        reply = self._next()
        assert "rows" in reply, reply
        return reply["rows"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("close\n")
            self.proc.stdin.flush()
            assert self._next().get("closed")
            self.proc.wait(timeout=120)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=120)


def fresh_query(path: Path, sql: str = SUM):
    """Run ``sql`` read-only in a brand-new process: ('ok', rows) or ('error', text)."""
    code = (
        "import duckdb, json, sys\n"
        "try:\n"
        "    con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "    print(json.dumps(['ok', con.execute(sys.argv[2]).fetchall()], default=str))\n"
        "except Exception as exc:\n"
        "    print(json.dumps(['error', str(exc)]))\n"
    )
    cp = subprocess.run(
        [sys.executable, "-c", code, str(path), sql], capture_output=True, text=True, timeout=180
    )
    status, value = json.loads(cp.stdout.strip().splitlines()[-1])
    return status, value
