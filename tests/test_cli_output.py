"""Piped output of the ``tpa`` command (pipeline/cli.py): what cron mail, CI and log files
see. A printed line is never broken, however long the paths in it (a clerk greps a log
for a file name; a broken line hides it), while tables stay 160 columns wide."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.builders.paths import ROOT


def tpa(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "ph"), "TPA_ID_KEY": "k"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip


def deep(tmp_path: Path, name: str) -> Path:
    """A folder whose path alone is far over 160 characters."""
    path = tmp_path.joinpath(name, *[f"a_rather_long_folder_name_{i}" for i in range(8)])
    assert len(str(path)) > 200
    return path


def test_a_long_path_on_stdout_stays_on_its_line(tmp_path):
    base = deep(tmp_path, "clean")
    (base / "raw").mkdir(parents=True)
    (base / "w.duckdb").write_bytes(b"")
    p = tpa("clean", "--raw-dir", str(base / "raw"), "--warehouse", str(base / "w.duckdb"),
            tmp_path=tmp_path)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"removed {base / 'w.duckdb'}\n" in p.stdout


def test_a_long_path_on_stderr_stays_on_its_line(tmp_path):
    raw = deep(tmp_path, "nope")
    p = tpa("run", "--raw-dir", str(raw), "--warehouse", str(tmp_path / "w.duckdb"),
            tmp_path=tmp_path)  # fmt: skip
    assert p.returncode == 2
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert lines == [f"raw folder not found: {raw}"]
