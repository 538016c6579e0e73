"""Reuse of the published warehouse: a night whose inputs (workbooks, extracts, code)
are those the published file was built from copies it with the new run history
instead of building again."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.run.history import RunRecord, run_history, save_run
from pipeline.run.state import state_dir
from pipeline.run.submission import Submission
from pipeline.warehouse.build import BuildReport, build, refresh_runs


def build_warehouse(
    items: list[Submission],
    build_path: Path,
    warehouse: Path,
    rec: RunRecord,
    inputs: str | None = None,
    storage_version: str = "v1.0.0",
) -> BuildReport:
    """Build into ``build_path`` from ``items`` (every submission with its ``result``,
    those no longer in the raw folder included) with the run history (this run as of
    now) in raw.runs.

    ``inputs`` (``build_inputs``): when the published warehouse was built from the same
    inputs and is untouched since (``published_from``), it is copied with raw.runs
    replaced instead of built again (``pipeline.warehouse.build.refresh_runs``): a night with
    nothing new costs a file copy, not a rebuild.
    """
    save_run(warehouse, rec)
    if inputs is not None and published_from(warehouse, inputs):
        report = refresh_runs(Path(warehouse), build_path, run_history(warehouse))
    else:
        report = build(items, build_path, run_history(warehouse), storage_version)
    report.inputs = inputs
    return report


PUBLISHED_INPUTS = "published_inputs.json"

_ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def build_code_fingerprint() -> str:
    """What decides a build besides its inputs: the sources of ``pipeline`` (with the
    reference data), ``schemas`` and ``sql``, and the DuckDB and pandas versions."""
    h = hashlib.sha256()
    files = [*(_ROOT / "pipeline").rglob("*.py"), *(_ROOT / "pipeline" / "reference").glob("*"),
             *(_ROOT / "schemas").rglob("*.py"), *(_ROOT / "sql").rglob("*.sql")]  # fmt: skip
    for p in sorted(f for f in files if f.is_file()):
        h.update(p.relative_to(_ROOT).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(f"duckdb=={duckdb.__version__}\0pandas=={pd.__version__}".encode())
    return h.hexdigest()


def build_inputs(
    items: list[Submission], manifest: dict[str, dict], storage_version: str = "v1.0.0"
) -> str:
    """Fingerprint (hex) of everything a build reads except the run history: each present
    submission (path, name, size, received time, SHA-256, extract folder or read error),
    each removed one (its manifest record and reason) and ``build_code_fingerprint``.
    Extract folder names hold the parser's fingerprint and the ID key's."""
    present = [(s.found, s.folder, s.error) for s in items if s.removed is None]
    removed = {s.sha256: s.removed for s in items if s.removed is not None}
    body = {
        "code": build_code_fingerprint(),
        "storage_version": storage_version,
        "present": [
            [
                d.rel_path,
                d.file_name,
                d.size_bytes,
                d.received_at.isoformat(),
                d.sha256,
                Path(folder).name if folder else None,
                error,
                d.kind,
                d.mtime_ahead_s > 0,
            ]  # fmt: skip
            for d, folder, error in present
        ],
        "removed": [[sha, reason, manifest.get(sha)] for sha, reason in sorted(removed.items())],
    }
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _identity(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def published_from(warehouse: Path, inputs: str) -> bool:
    """True when the published warehouse was built from ``inputs`` by this run's code and
    the file is still the one published (same inode, size and modification time: nobody
    has written to it since) and no WAL lies beside it."""
    wh = Path(warehouse)
    try:
        noted = json.loads((state_dir(wh) / PUBLISHED_INPUTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if Path(str(wh) + ".wal").exists():
        return False
    return noted.get("inputs") == inputs and noted.get("file") == _identity(wh)


def note_published(warehouse: Path, inputs: str | None) -> None:
    """Record what the warehouse just published was built from (``published_from``)."""
    path = state_dir(Path(warehouse)) / PUBLISHED_INPUTS
    if inputs is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    body = {"inputs": inputs, "file": _identity(Path(warehouse))}
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, path)
