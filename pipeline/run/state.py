"""Where a run keeps its state: one folder beside the warehouse, ``<warehouse>.d/``.

Everything a run keeps besides the published file lives there (warehouse.md, "Where
state lives"), so two warehouse paths never share state and everything stays on the
warehouse's filesystem (a build renamed over the warehouse is an atomic ``os.replace``)::

    data/processed/warehouse.duckdb        the published file (analysts read it)
    data/processed/warehouse.duckdb.d/
        extracts/    parsed workbooks, by content hash (pipeline.run.cache)
        builds/      builds in progress, and a build kept when it could not be published
        runs/        run history, one JSON per run (copied into raw.runs)
        stale-wal/   a crashed session's WAL set aside by publish, with the file it belonged to
        damaged/     cached extracts that failed their checksums, moved aside (issue 11)
        run.lock     one run at a time (pipeline.run.lock); never delete it while a run is going

The folders are created on demand by the helpers below.
"""

from __future__ import annotations

from pathlib import Path

STATE_SUFFIX = ".d"


def state_dir(warehouse: Path) -> Path:
    """Return the state folder of ``warehouse`` (``<warehouse>.d``), creating it.

    The path is the warehouse path with ``.d`` appended, so ``a/w.duckdb`` and
    ``b/w.duckdb`` (or ``w.duckdb`` and ``w2.duckdb``) never share state.

    Raises:
        OSError: the folder cannot be created (e.g. permissions, or a file in the way).
    """
    warehouse = Path(warehouse)
    d = warehouse.with_name(warehouse.name + STATE_SUFFIX)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _sub(warehouse: Path, name: str) -> Path:
    d = state_dir(warehouse) / name
    d.mkdir(exist_ok=True)
    return d


def extracts_dir(warehouse: Path) -> Path:
    """``<state>/extracts/`` (created). Raises OSError if it cannot be created."""
    return _sub(warehouse, "extracts")


def builds_dir(warehouse: Path) -> Path:
    """``<state>/builds/``: builds in progress and kept builds (created).

    Raises OSError if it cannot be created."""
    return _sub(warehouse, "builds")


def runs_dir(warehouse: Path) -> Path:
    """``<state>/runs/``: run history (created). Raises OSError if it cannot be created."""
    return _sub(warehouse, "runs")


def stale_wal_dir(warehouse: Path) -> Path:
    """``<state>/stale-wal/``: WAL files of crashed sessions set aside by publish (created).

    Raises OSError if it cannot be created."""
    return _sub(warehouse, "stale-wal")


def damaged_dir(warehouse: Path) -> Path:
    """``<state>/damaged/``: cached extracts that failed ``pipeline.run.cache.verify``, moved
    aside rather than deleted (created). Raises OSError if it cannot be created."""
    return _sub(warehouse, "damaged")


def run_lock_path(warehouse: Path) -> Path:
    """Path of the run lock file ``<state>/run.lock`` (the state folder is created).

    Raises OSError if the state folder cannot be created."""
    return state_dir(warehouse) / "run.lock"
