"""Where a person waits (issue 13, item 2): the latency of the commands people type,
measured by ``make bench`` (never asserted in tests). Each command runs ``REPEAT`` times
in a fresh process; the median wall time is reported beside its target."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPEAT = 5

# (label, key, bound in seconds): targets on an idle 2-core machine (issue 13, item 2)
TARGETS = [
    ("`tpa --help` ≤ 0.3 s", "help_s", 0.3),
    ('`tpa query "select 1"` ≤ 0.8 s', "query_s", 0.8),
    ("`tpa check` one county workbook ≤ 3 s", "check_s", 3.0),
    ("no-change `tpa run`: the run's own work ≤ 1 s", "no_change_s", 1.0),
    ("no-change `tpa run`, whole process, running Prefect server ≤ 5 s", "no_change_total_s", 5.0),
    (
        "no-change `tpa run`, whole process, temporary Prefect server ≤ 12 s",
        "no_change_total_temporary_server_s",
        12.0,
    ),
]


def _median_wall(cmd: list[str], env: dict) -> float:
    walls = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        walls.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd} failed ({p.returncode}): {p.stderr[-2000:]}")
    return statistics.median(walls)


def measure(warehouse: Path, workbook: Path, env: dict) -> dict:
    """Median seconds of ``tpa --help``, ``tpa query "select 1"`` on ``warehouse`` and
    ``tpa check`` on ``workbook``, each in a fresh interpreter."""
    tpa = [sys.executable, "-m", "pipeline"]
    return {
        "help_s": _median_wall([*tpa, "--help"], env),
        "query_s": _median_wall([*tpa, "query", "select 1", "--warehouse", str(warehouse)], env),
        "check_s": _median_wall([*tpa, "check", str(workbook)], env),
        "repeat": REPEAT,
    }


def median_workbook(files: list[Path]) -> Path:
    """The county workbook of median size: what a clerk typically checks."""
    return sorted(files, key=lambda p: p.stat().st_size)[len(files) // 2]


def markdown(lat: dict) -> list[str]:
    """The 'where a person waits' table: each measured value beside its target."""
    lines = [
        "",
        "## Where a person waits (idle 2-core machine, median of "
        f"{lat.get('repeat', REPEAT)} fresh processes)",
        "",
        "| target | measured s | |",
        "|---|---|---|",
    ]
    for label, key, bound in TARGETS:
        v = lat.get(key)
        verdict = (
            "not measured"
            if v is None
            else ("met" if v <= bound else f"missed by {v / bound:.1f}×")
        )
        lines.append(f"| {label} | {'—' if v is None else f'{v:.2f}'} | {verdict} |")
    return lines
