"""Releases and revision history (issue 13): what was published, kept read-only.

Each publish that changes the data keeps a dated release under the state folder::

    <warehouse>.d/releases/<release_id>/          release_id = the run's id (dated)
        manifest.json                              id, run, time, fingerprint, tables, periods
        marts/<table>.parquet, ref/<table>.parquet the published marts and reference tables
        raw/submissions.parquet                    which submissions were current

Files are chmod read-only (0444, folders 0555). ``tpa query --release ID`` reads one
(``open_release``: views over the Parquet files in an in-memory DuckDB, file access then
switched off). Retention (``prune``) keeps the newest ``TPA_KEEP_RELEASES`` and every
release holding a first-published value.

Revision history is state, not a mart: ``<warehouse>.d/revisions.parquet``, one row per
value published for (indicator_code, geo_level, geo_code, period): revision 0 is the
value first published, each later row a changed value (NULL: no longer published), with
the release that carried it and the submissions (file_sha256) new in that release for
that geography and period. Each build gets a copy as ``raw.indicator_revisions`` (with
the rows this build would add, ``stage``), outside the determinism promise like
``raw.runs``; the rows are committed to the state only once the build is published
(``keep``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipeline.run.state import state_dir

REVISIONS = "revisions.parquet"
PENDING = "revisions.pending.parquet"
RELEASE_SCHEMAS = ("marts", "ref")
_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,80}$")
KEY = ("indicator_code", "geo_level", "geo_code", "period")
# raw.indicator_revisions: columns and DuckDB types (an empty history keeps them)
COLUMNS = {
    "indicator_code": "VARCHAR",
    "geo_level": "VARCHAR",
    "geo_code": "VARCHAR",
    "period": "VARCHAR",
    "revision": "INTEGER",
    "value": "DOUBLE",
    "previous_value": "DOUBLE",
    "first_value": "DOUBLE",
    "first_release_id": "VARCHAR",
    "release_id": "VARCHAR",
    "published_at": "TIMESTAMP",
    "file_sha256s": "VARCHAR[]",
}


class ReleaseError(Exception):
    """No such release, or it cannot be read."""


@dataclass
class Staged:
    """What ``stage`` prepared for ``keep``: this build's release id, the fingerprint of
    its marts and ref tables (None: a copied build, the data is the published data) and
    how many revision rows it adds."""

    release_id: str
    fingerprint: str | None
    new_revisions: int


def releases_dir(warehouse: Path) -> Path:
    """``<state>/releases/`` (created)."""
    d = state_dir(Path(warehouse)) / "releases"
    d.mkdir(exist_ok=True)
    return d


def _connect(path: Path | str = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never draws a progress bar (tpa run owns the terminal)."""
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    return con


def _lit(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _history_sql(path: Path) -> str:
    """A SELECT of the revision history at ``path`` (an empty, typed one when missing)."""
    if path.is_file():
        return f"SELECT * FROM read_parquet({_lit(path)})"
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in COLUMNS.items())
    return f"SELECT {cols} WHERE false"


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Order-independent fingerprint of every table of ``RELEASE_SCHEMAS``: table names,
    row counts and the sum of row hashes (two builds of the same data agree)."""
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
        "current_database() AND schema_name IN ('marts', 'ref') ORDER BY 1, 2"
    ).fetchall()
    parts = []
    for s, t in tables:
        n, h = con.execute(f'SELECT count(*), sum(hash(x)::HUGEINT) FROM "{s}"."{t}" x').fetchone()
        parts.append(f"{s}.{t}:{n}:{h}")
    import hashlib

    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def latest(warehouse: Path) -> dict | None:
    """The manifest of the newest release, or None."""
    rows = list_releases(warehouse)
    return rows[-1] if rows else None


def _changes_sql(prev_subs: str) -> str:
    """New revision rows: values of the build's marts.indicators that differ from the last
    published ones (``last``), with the submissions new since the last release."""
    return f"""
    WITH cur AS (SELECT indicator_code, geo_level, geo_code, period, value FROM marts.indicators),
    changed AS (
      SELECT coalesce(c.indicator_code, l.indicator_code) AS indicator_code,
             coalesce(c.geo_level, l.geo_level) AS geo_level,
             coalesce(c.geo_code, l.geo_code) AS geo_code,
             coalesce(c.period, l.period) AS period,
             c.value, l.value AS previous_value, l.revision, l.first_value, l.first_release_id
      FROM cur c FULL JOIN last l USING (indicator_code, geo_level, geo_code, period)
      WHERE l.revision IS NULL OR (c.indicator_code IS NULL AND l.value IS NOT NULL)
         OR (c.indicator_code IS NOT NULL AND c.value IS DISTINCT FROM l.value)),
    newsubs AS (
      SELECT DISTINCT s.county_code, s.period, s.file_sha256, r.prefecture_code
      FROM raw.submissions s LEFT JOIN ref.counties r USING (county_code)
      WHERE s.is_current AND s.file_sha256 NOT IN (SELECT file_sha256 FROM ({prev_subs}))),
    -- a submission counts for its county (and its villages), its prefecture, the province;
    -- one list per scope and period, joined to the changed rows (no 1M-group aggregate)
    scoped AS (
      SELECT period, scope, list(DISTINCT file_sha256 ORDER BY file_sha256) AS file_sha256s
      FROM (SELECT period, file_sha256, 'county:' || county_code AS scope FROM newsubs
            UNION ALL SELECT period, file_sha256, 'prefecture:' || prefecture_code FROM newsubs
            UNION ALL SELECT period, file_sha256, 'province' FROM newsubs)
      GROUP BY ALL)
    SELECT ch.indicator_code, ch.geo_level, ch.geo_code, ch.period,
           CAST(coalesce(ch.revision + 1, 0) AS INTEGER) AS revision,
           ch.value, ch.previous_value, coalesce(ch.first_value, ch.value) AS first_value,
           coalesce(ch.first_release_id, $rid) AS first_release_id,
           $rid AS release_id, CAST($now AS TIMESTAMP) AS published_at,
           coalesce(n.file_sha256s, []) AS file_sha256s
    FROM changed ch LEFT JOIN scoped n ON n.period = ch.period AND n.scope = CASE ch.geo_level
         WHEN 'village' THEN 'county:' || left(ch.geo_code, 6)
         WHEN 'county' THEN 'county:' || ch.geo_code
         WHEN 'prefecture' THEN 'prefecture:' || ch.geo_code ELSE 'province' END"""


def _prev_submissions(warehouse: Path) -> str:
    rel = latest(warehouse)
    path = (
        releases_dir(warehouse) / rel["release_id"] / "raw" / "submissions.parquet" if rel else None
    )
    if path is not None and path.is_file():
        return f"SELECT file_sha256 FROM read_parquet({_lit(path)}) WHERE is_current"
    return "SELECT CAST(NULL AS VARCHAR) AS file_sha256 WHERE false"


def stage(build_path: Path, warehouse: Path, release_id: str, reused: bool = False) -> Staged:
    """Before publishing ``build_path``: work out the revision rows it adds (pending in the
    state folder until ``keep``) and write ``raw.indicator_revisions`` (history + those rows)
    into it. A copied build (``reused``) that already has the table is left alone: nothing
    it was built from changed. Raises duckdb.Error or OSError."""
    st = state_dir(Path(warehouse))
    (st / PENDING).unlink(missing_ok=True)
    con = _connect(build_path)
    try:
        has = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'raw' AND table_name = 'indicator_revisions'"
        ).fetchone()[0]
        if reused and has and latest(warehouse) is not None:
            return Staged(release_id, None, 0)
        con.execute(f"CREATE TEMP TABLE hist AS {_history_sql(st / REVISIONS)}")
        con.execute(  # the last value published per figure (a hash aggregate: no sort)
            "CREATE TEMP TABLE last AS SELECT indicator_code, geo_level, geo_code, period, "
            "max(revision) AS revision, arg_max_null(value, revision) AS value, "
            "any_value(first_value) AS first_value, any_value(first_release_id) AS "
            "first_release_id FROM hist GROUP BY ALL"
        )
        now = datetime.now().replace(microsecond=0)
        con.execute(
            f"CREATE TEMP TABLE pending AS {_changes_sql(_prev_submissions(warehouse))}",
            {"rid": release_id, "now": now},
        )
        n = con.execute("SELECT count(*) FROM pending").fetchone()[0]
        if n:
            tmp = st / (PENDING + ".tmp")
            con.execute(f"COPY pending TO {_lit(tmp)} (FORMAT parquet)")
            os.replace(tmp, st / PENDING)
        cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in COLUMNS.items())
        con.execute(
            f"CREATE OR REPLACE TABLE raw.indicator_revisions AS SELECT {cols} FROM "
            "(SELECT * FROM hist UNION ALL BY NAME SELECT * FROM pending)"
        )
        from pipeline.warehouse import comments

        comments.apply_comments(con, ("raw",))
        fp = fingerprint(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return Staged(release_id, fp, n)


def _readonly(root: Path) -> None:
    for p in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
        os.chmod(p, 0o444 if p.is_file() else 0o555)
    os.chmod(root, 0o555)


def _writable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        os.chmod(p, (stat.S_IMODE(p.stat().st_mode) | 0o200) if p.is_file() else 0o755)


def keep(warehouse: Path, staged: Staged) -> dict | None:
    """After ``staged``'s build was published: keep it as a release when its data differ
    from the newest release's (or there is none), and commit its revision rows. Returns
    the new release's manifest, or None when nothing changed. Raises duckdb.Error/OSError."""
    wh = Path(warehouse)
    st, prev = state_dir(wh), latest(wh)
    pending = st / PENDING
    unchanged = staged.fingerprint is None or (prev and prev["fingerprint"] == staged.fingerprint)
    if prev is not None and unchanged and not pending.is_file():
        return None
    root = releases_dir(wh)
    final, tmp = root / staged.release_id, root / f".{staged.release_id}.tmp"
    if final.exists():  # a release of this run exists already (kept by a killed run)
        return json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    if tmp.exists():
        _writable(tmp)
        shutil.rmtree(tmp)
    manifest = _write_release(wh, tmp, staged)
    os.replace(tmp, final)
    _readonly(final)
    if pending.is_file():
        _commit_revisions(st, pending)
    return manifest


def _write_release(wh: Path, folder: Path, staged: Staged) -> dict:
    con = _connect(wh, read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
            "current_database() AND (schema_name IN ('marts', 'ref') OR (schema_name = 'raw' "
            "AND table_name = 'submissions')) ORDER BY 1, 2"
        ).fetchall()
        counts = {}
        for s, t in tables:
            (folder / s).mkdir(parents=True, exist_ok=True)
            out = folder / s / f"{t}.parquet"
            con.execute(f'COPY (SELECT * FROM "{s}"."{t}") TO {_lit(out)} (FORMAT parquet)')
            counts[f"{s}.{t}"] = con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]
        periods = [r[0] for r in con.execute(
            "SELECT DISTINCT period FROM marts.indicators ORDER BY 1").fetchall()]  # fmt: skip
        fp = staged.fingerprint or fingerprint(con)
    finally:
        con.close()
    firsts = 0
    pending = state_dir(wh) / PENDING
    if pending.is_file():
        with _connect() as mem:
            firsts = mem.execute(
                f"SELECT count(*) FROM read_parquet({_lit(pending)}) WHERE revision = 0"
            ).fetchall()[0][0]
    manifest = {
        "release_id": staged.release_id,
        "created_at": datetime.now().replace(microsecond=0).isoformat(),
        "warehouse": str(wh.resolve()),
        "fingerprint": fp,
        "periods": periods,
        "tables": counts,
        "revisions": staged.new_revisions,
        "first_published": firsts,
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return manifest


def _commit_revisions(st: Path, pending: Path) -> None:
    path, tmp = st / REVISIONS, st / (REVISIONS + ".tmp")
    cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in COLUMNS.items())
    con = _connect()
    try:
        con.execute(
            f"COPY (SELECT {cols} FROM ({_history_sql(path)} UNION ALL BY NAME "
            f"SELECT * FROM read_parquet({_lit(pending)}))) TO {_lit(tmp)} "
            "(FORMAT parquet)"
        )
    finally:
        con.close()
    os.replace(tmp, path)
    pending.unlink()


def list_releases(warehouse: Path) -> list[dict]:
    """Manifests of the kept releases, oldest first (a folder without one is skipped)."""
    out = []
    for d in sorted(releases_dir(Path(warehouse)).iterdir()):
        if d.name.startswith(".") or not (d / "manifest.json").is_file():
            continue
        try:
            out.append(json.loads((d / "manifest.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def first_published_in(warehouse: Path) -> set[str]:
    """Release ids holding a first-published value (revision 0 of some figure)."""
    path = state_dir(Path(warehouse)) / REVISIONS
    if not path.is_file():
        return set()
    with _connect() as mem:
        rows = mem.execute(
            f"SELECT DISTINCT first_release_id FROM read_parquet({_lit(path)})"
        ).fetchall()
    return {r[0] for r in rows}


def prune(warehouse: Path, keep_n: int) -> tuple[list[str], list[str]]:
    """Retention: keep the newest ``keep_n`` releases and every release holding a
    first-published value; delete the others. Returns (kept ids, deleted ids)."""
    ids = [m["release_id"] for m in list_releases(warehouse)]
    protected = first_published_in(warehouse)
    newest = set(ids[-keep_n:]) if keep_n > 0 else set()
    kept = [i for i in ids if i in newest or i in protected]
    gone = [i for i in ids if i not in kept]
    root = releases_dir(Path(warehouse))
    for i in gone:
        _writable(root / i)
        shutil.rmtree(root / i)
    for tmp in root.glob(".*.tmp"):  # a release a killed run was writing
        _writable(tmp)
        shutil.rmtree(tmp)
    return kept, gone


def release_path(warehouse: Path, release_id: str) -> Path:
    """The folder of release ``release_id``. Raises ReleaseError when there is none."""
    folder = releases_dir(Path(warehouse)) / release_id
    if not _ID.match(release_id) or not (folder / "manifest.json").is_file():
        known = ", ".join(m["release_id"] for m in list_releases(warehouse)[-5:]) or "none"
        raise ReleaseError(f"no release {release_id!r} (latest: {known}; see `tpa releases`)")
    return folder


def open_release(warehouse: Path, release_id: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table of the release (``marts.*``, ``ref.*``,
    ``raw.submissions``) and ``raw.indicator_revisions`` (the history up to this release,
    from the state folder), then file access switched off and the configuration locked:
    queries read the release and nothing else, and write nowhere (``COPY … TO`` is
    refused). Raises ReleaseError."""
    folder = release_path(warehouse, release_id)
    files = sorted(folder.glob("*/*.parquet"))
    history = state_dir(Path(warehouse)) / REVISIONS
    con = duckdb.connect()
    for f in files:
        schema, table = f.parent.name, f.stem
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'CREATE VIEW "{schema}"."{table}" AS SELECT * FROM read_parquet({_lit(f)})')
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(  # release ids are dated: the ones up to this release, this one included
        f"CREATE OR REPLACE VIEW raw.indicator_revisions AS SELECT * FROM ({_history_sql(history)}) "
        f"WHERE release_id <= {_lit(release_id)}"
    )
    allowed = [*files, history] if history.is_file() else files
    con.execute("SET allowed_paths = [" + ", ".join(_lit(f) for f in allowed) + "]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
