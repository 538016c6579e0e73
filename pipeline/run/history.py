"""Run history: one record per run (``raw.runs``), kept as JSON in the state folder's
``runs/`` and stamped into each build just before it is published."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipeline.run.state import runs_dir


@dataclass
class RunRecord:
    """One row of ``raw.runs`` (also kept as JSON in the state folder's runs/)."""

    run_id: str = field(
        default_factory=lambda: (
            datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        )
    )
    started_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    finished_at: datetime | None = None
    trigger: str = "manual"
    files_seen: int = 0
    files_new: int = 0
    files_rejected: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    published: bool = False
    status: str = "running"
    message: str | None = None
    # what the run did besides its counts, one line each (damaged extracts parsed again,
    # a shrink accepted): printed in the run summary; not a column of raw.runs
    notes: list[str] = field(default_factory=list)

    def as_row(self) -> dict:
        return asdict(self)


def save_run(warehouse: Path, rec: RunRecord) -> None:
    path = runs_dir(warehouse) / f"{rec.run_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec.as_row(), default=str, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def stamp_runs(build_path: Path, warehouse: Path, rec: RunRecord) -> None:
    """Write the build's ``raw.runs`` as the last step before it is published: the run
    history with this run as ``published``, finished now (issue 13: the published file
    must not show its own run as ``running``). If the publish then fails or waits, the
    history in the state folder records the real outcome and the next build carries it."""
    from pipeline.warehouse.build import write_runs

    rec.finished_at = datetime.now().replace(microsecond=0)
    done = {**rec.as_row(), "status": "published", "published": True, "message": None}
    runs = [r for r in run_history(warehouse) if r.get("run_id") != rec.run_id]
    write_runs(build_path, sorted([*runs, done], key=lambda r: str(r.get("run_id"))))


def run_history(warehouse: Path) -> list[dict]:
    rows = []
    for p in sorted(runs_dir(warehouse).glob("*.json")):
        try:
            rows.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return rows


def headline(warehouse: Path, period: str | None = None) -> list[tuple]:
    """Province rows of marts.indicators for the latest period (read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if period is None:
            row = con.execute("SELECT max(period) FROM marts.indicators").fetchone()
            period = row[0] if row else None
        return con.execute(
            """SELECT i.indicator_code, d.name_zh, i.period, i.numerator, i.denominator, i.value, i.unit
               FROM marts.indicators i LEFT JOIN ref.indicator_definitions d USING (indicator_code)
               WHERE i.geo_level = 'province' AND i.period = ? ORDER BY i.indicator_code""",
            [period],
        ).fetchall()
    finally:
        con.close()
