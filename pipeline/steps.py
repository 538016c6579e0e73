"""The pipeline's steps as plain functions (the Prefect flow in ``flows/`` calls them;
tests and ``tpa check`` call them directly, without Prefect)."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipeline import extracts
from pipeline.build import BuildReport, build
from pipeline.config import Settings
from pipeline.discover import Discovered
from pipeline.extract.workbook import ExtractResult, extract_workbook
from pipeline.personal import load_key
from pipeline.state import runs_dir, state_dir


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

    def as_row(self) -> dict:
        return asdict(self)


def id_key(settings: Settings) -> bytes:
    return load_key(settings.id_key, settings.id_key_file)


def extract_one(path: str, sha256: str, warehouse: str, settings: Settings) -> tuple[str, bool]:
    """Extract one workbook unless its extract is cached; return (extract folder, was_new)."""
    key_bytes = id_key(settings)
    root = state_dir(Path(warehouse)) / "extracts"
    root.mkdir(parents=True, exist_ok=True)
    key = extracts.cache_key(sha256, key_bytes)
    folder = root / key
    if (folder / "meta.json").exists():
        return str(folder), False
    result = extract_workbook(
        Path(path),
        sha256,
        max_bytes=settings.max_file_bytes,
        max_unzipped=settings.max_unzipped_bytes,
        id_key=key_bytes,
    )
    return str(extracts.save(result, root, key)), True


def load_extracts(
    found: list[Discovered], folders: list[str]
) -> list[tuple[Discovered, ExtractResult]]:
    return [(d, extracts.load(Path(f))) for d, f in zip(found, folders, strict=True)]


def save_run(warehouse: Path, rec: RunRecord) -> None:
    path = runs_dir(warehouse) / f"{rec.run_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec.as_row(), default=str, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def run_history(warehouse: Path) -> list[dict]:
    rows = []
    for p in sorted(runs_dir(warehouse).glob("*.json")):
        try:
            rows.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return rows


def build_warehouse(items, build_path: Path, warehouse: Path, rec: RunRecord) -> BuildReport:
    """Build into ``build_path`` with the run history (this run as of now) in raw.runs."""
    save_run(warehouse, rec)
    return build(items, build_path, run_history(warehouse))


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
