"""Build a NEW DuckDB warehouse file from the current extracts (one writer).

Loads ``ref.*`` (reference data), ``raw.files`` (manifest), ``raw.submissions`` (which
submission is current per county, period and form), ``raw.<form>`` (validated rows of
every submission), ``quarantine.*``, then runs the SQL models and data tests. The
file built here is published by ``pipeline.run.publish``; it is never the file analysts
have open.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import hooks, refdata
from pipeline.extract.findings import FINDING_COLUMNS, Finding, compose
from pipeline.extract.identify import attribute
from pipeline.extract.sheet import empty_frame
from pipeline.extract.workbook import ExtractResult
from pipeline.run.discover import Discovered
from pipeline.run.submission import Submission
from pipeline.warehouse import comments, models
from schemas import FORMS, staged_columns

FILES_COLUMNS = [
    "file_sha256", "file_name", "path", "size_bytes", "received_at", "county_code", "period",
    "identified_from", "reader", "status", "reason", "superseded_by", "forms", "rows_read",
    "rows_loaded", "rows_quarantined", "warnings", "message", "archive_path", "archive_sha256",
    "member_name",
]  # fmt: skip
RUNS_COLUMNS = [
    "run_id", "started_at", "finished_at", "trigger", "files_seen", "files_new",
    "files_rejected", "rows_loaded", "rows_quarantined", "tests_passed", "tests_failed",
    "published", "status", "message",
]  # fmt: skip


class BuildFailed(Exception):
    """The build could not be completed (a model or a data test failed)."""


@dataclass
class BuildReport:
    path: Path
    models: list[str] = field(default_factory=list)
    tests: list[models.TestResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds: build, models, tests
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds (all threads), same keys
    reused: bool = False  # made by ``refresh_runs`` from the published warehouse
    inputs: str | None = (
        None  # fingerprint of what it was built from (pipeline.run.reuse.build_inputs)
    )

    @property
    def tests_failed(self) -> int:
        return sum(1 for t in self.tests if t.rows)


def current_submissions(items: list[Submission]) -> pd.DataFrame:
    """One row per (file, form) of loaded files with is_current and superseded_by.

    The latest ``received_at`` per (county_code, period, form) is current; between
    equal times the greater SHA-256 (hex) wins (forms.md), so the result does not
    depend on the order files were processed.
    """
    rows = []
    for s in items:
        d, r = s.found, s.result
        if r.status != "loaded":
            continue
        for form in r.forms:
            rows.append((d.sha256, form, r.county_code, r.period, d.received_at, d.rel_path))
    df = pd.DataFrame(
        rows, columns=["file_sha256", "form", "county_code", "period", "received_at", "path"]
    )
    if df.empty:
        df["is_current"] = pd.Series(dtype=bool)
        df["superseded_by"] = pd.Series(dtype="str")
        return df.drop(columns="path")
    df = df.sort_values(["county_code", "period", "form", "received_at", "file_sha256"])
    last = df.groupby(["county_code", "period", "form"])["file_sha256"].transform("last")
    df["is_current"] = df["file_sha256"] == last
    df["superseded_by"] = last.where(~df["is_current"], None)
    return df.drop(columns="path").reset_index(drop=True)


def attribution(d: Discovered, r: ExtractResult) -> tuple[str | None, str | None, str | None]:
    """``(county_code, period, identified_from)`` of a ``raw.files`` row: as identified
    from the workbook; for a file rejected before identification or not read, from its
    name or folder (issue 12 item 8; for attributing it only, nothing is loaded)."""
    if r.county_code is not None or r.status == "loaded":
        return r.county_code, r.period, r.identified_from
    county, period, source = attribute(d.parts)
    return county, r.period or period, source


def clock_warning(d: Discovered) -> Finding:
    """The warning of a file whose modification time lies ahead of the run (issue 12
    item 7): its received time is when tpa first saw it instead."""
    hours = d.mtime_ahead_s / 3600
    zh, en = compose(
        d.file_name, None, None, None, None,
        f"文件的修改时间 {d.modified_at} （UTC）比本次运行晚 {hours:,.1f} 小时，系统时钟可能有误；"
        f"接收时间按首次收到的时间 {d.received_at}（UTC）计",
        f"its modification time {d.modified_at} (UTC) lies {hours:,.1f} h ahead of the run (a "
        f"wrong clock?); it counts as received when tpa first saw it, {d.received_at} (UTC)",
    )  # fmt: skip
    return Finding(d.sha256, d.file_name, None, None, None, None, None, None, "clock_ahead",
                   "warning", zh, en)  # fmt: skip


def _files_frame(items: list[Submission], subs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    paths = {s.sha256: s.found.rel_path for s in items}
    for s in items:
        d, r = s.found, s.result
        county, period, source = attribution(d, r)
        status, superseded_by, reason = r.status, None, r.reason
        if s.removed is not None:  # left the raw folder: its staging rows are gone
            status, reason = "removed", s.removed
        elif r.status == "loaded":
            mine = subs[subs["file_sha256"] == d.sha256]
            if len(mine) and not mine["is_current"].any():
                status = "superseded"
                superseded_by = sorted(set(mine["superseded_by"].dropna()))[-1]
                reason = f"superseded by {paths.get(superseded_by, '?')} ({superseded_by[:12]})"
        rows.append(
            {
                "file_sha256": d.sha256,
                "file_name": d.file_name,
                "path": d.rel_path,
                "size_bytes": d.size_bytes,
                "received_at": d.received_at,
                "county_code": county,
                "period": period,
                "identified_from": source,
                "reader": r.reader,
                "status": status,
                "reason": reason,
                "superseded_by": superseded_by,
                "forms": ",".join(sorted(r.forms)),
                "rows_read": r.rows_read,
                "rows_loaded": r.rows_loaded,
                "rows_quarantined": r.rows_quarantined,
                "warnings": sum(1 for f in r.findings if f.severity == "warning"),
                "message": r.message,
                "archive_path": d.archive_path,
                "archive_sha256": d.archive_sha256,
                "member_name": d.member_name,
            }
        )
    return pd.DataFrame(rows, columns=FILES_COLUMNS)


def _create(con, table: str, df: pd.DataFrame, casts: dict[str, str] | None = None) -> None:
    casts = casts or {}
    con.register("_df", df)
    cols = ", ".join(
        f"{casts[c].format(c=f'_df.{_q(c)}')} AS {_q(c)}" if c in casts else f"_df.{_q(c)}"
        for c in df.columns
    )
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM _df")
    con.unregister("_df")


def _create_runs(con, runs: list[dict] | None) -> None:
    _create(
        con,
        "raw.runs",
        pd.DataFrame(runs or [], columns=RUNS_COLUMNS),
        {
            "started_at": "CAST({c} AS TIMESTAMP)",
            "finished_at": "CAST({c} AS TIMESTAMP)",
            "trigger": "CAST({c} AS VARCHAR)",
            "status": "CAST({c} AS VARCHAR)",
            "message": "CAST({c} AS VARCHAR)",
            "run_id": "CAST({c} AS VARCHAR)",
            "published": "CAST({c} AS BOOLEAN)",
            **{c: "CAST({c} AS BIGINT)" for c in RUNS_COLUMNS[4:11]},
        },
    )


def write_runs(build_path: Path, runs: list[dict]) -> None:
    """Replace ``raw.runs`` (with its comments) in a finished, closed build."""
    con = duckdb.connect(str(build_path))
    try:
        _create_runs(con, runs)
        comments.apply_comments(con, ("raw",))
        con.execute("CHECKPOINT")
    finally:
        con.close()


def refresh_runs(published: Path, build_path: Path, runs: list[dict] | None) -> BuildReport:
    """A build made by copying ``published`` (a warehouse built from exactly the inputs
    this build would use) with ``raw.runs`` replaced: the only table that differs
    between two builds of the same inputs (warehouse.md). The SQL data tests run again
    on the copy. Raises ``BuildFailed`` when one returns rows."""
    build_path = Path(build_path)
    build_path.unlink(missing_ok=True)
    report = BuildReport(build_path)
    c0, t0 = time.process_time(), time.perf_counter()
    shutil.copyfile(published, build_path)
    con = duckdb.connect(str(build_path))
    try:
        _create_runs(con, runs)
        comments.apply_comments(con, ("raw",))
        report.models = [f"{layer}.{table}" for layer, table, _ in models.model_files()]
        t1 = time.perf_counter()
        report.tests = models.run_tests(con)
        t2 = time.perf_counter()
        failed = [t for t in report.tests if t.rows]
        if failed:
            detail = "; ".join(f"{t.name}: {t.rows} rows, e.g. {t.sample[:2]}" for t in failed)
            raise BuildFailed(f"SQL data tests failed: {detail}")
        con.execute("CHECKPOINT")
        report.timings = {"build": t1 - t0 + time.perf_counter() - t2, "models": 0.0,
                          "tests": t2 - t1}  # fmt: skip
        report.cpu = {"build": time.process_time() - c0, "models": 0.0, "tests": 0.0}
        report.reused = True
    finally:
        con.close()
    return report


def create_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``ref.*`` tables (schema ``ref`` must exist) from ``pipeline.refdata``:
    what the models join (counties, their geographies at every level, forms, poverty
    lines, indicator definitions, AF parameters)."""
    _create(con, "ref.counties", refdata.counties())
    _create(con, "ref.geographies", refdata.geographies(), {"level_rank": "CAST({c} AS INTEGER)"})
    _create(con, "ref.forms", refdata.forms(), {"ordinal": "CAST({c} AS INTEGER)"})
    _create(con, "ref.poverty_counties", refdata.poverty_counties())
    _create(con, "ref.county_code_changes", refdata.county_code_changes())
    _create(
        con,
        "ref.poverty_lines",
        refdata.poverty_lines(),
        {"year": "CAST({c} AS INTEGER)", "line_yuan": "CAST({c} AS DECIMAL(18,2))"},
    )
    _create(
        con,
        "ref.indicator_definitions",
        refdata.indicator_definitions(),
        {"ordinal": "CAST({c} AS INTEGER)"},
    )
    _create(con, "ref.af_parameters", refdata.af_parameters())


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_form(con, form: str, items, casts: dict[str, str]) -> None:
    """``raw.<form>``: the valid rows of every loaded workbook, in the order of ``items``.

    Extracts left in Parquet (``extracts.load(frames=False)``) are read by DuckDB
    directly, one scan over all their files; frames held in memory go through pandas.
    """
    parts = [
        s.result.forms[form]
        for s in items
        if s.result.status == "loaded"
        and form in s.result.forms
        and s.result.forms[form].rows_loaded
    ]
    files = [sr.parquet for sr in parts if sr.parquet]
    if not files or len(files) < len(parts):
        _create(con, f"raw.{form}", _form_frame(form, items), casts)
        return
    base = _form_frame(form, [])
    cols = ", ".join(f"{casts[c].format(c=_q(c)) if c in casts else _q(c)} AS {_q(c)}"
                     for c in base.columns)  # fmt: skip
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con.execute(
        f"CREATE OR REPLACE TABLE raw.{form} AS SELECT {cols} "
        f"FROM read_parquet([{listed}], union_by_name = true)"
    )


def _form_frame(form: str, items) -> pd.DataFrame:
    parts = []
    for s in items:
        d, r = s.found, s.result
        if r.status != "loaded" or form not in r.forms:
            continue
        sr = r.forms[form]
        if sr.parquet:  # left on disk by extracts.load(frames=False): provenance included
            if sr.rows_loaded:
                parts.append(pd.read_parquet(sr.parquet))
            continue
        v = sr.valid.copy()
        if v.empty:
            continue
        v["county_code"] = pd.Series([r.county_code] * len(v), dtype="str")
        v["period"] = pd.Series([r.period] * len(v), dtype="str")
        v["file_sha256"] = pd.Series([d.sha256] * len(v), dtype="str")
        parts.append(v)
    base = empty_frame(form)
    for c in ("county_code", "period", "file_sha256"):
        base[c] = pd.Series(dtype="str")
    if not parts:
        return base
    return pd.concat(parts, ignore_index=True)[base.columns]


def build(
    items: list[Submission],
    build_path: Path,
    runs: list[dict] | None = None,
    storage_version: str = "v1.0.0",
) -> BuildReport:
    """Create the warehouse file at ``build_path`` (must not exist) from the extracts, in
    DuckDB's ``storage_version`` format (``v1.0.0``: readable by DuckDB 1.x clients).

    ``items``: every submission with its ``result``; one with ``removed`` set (no longer
    in the raw folder) keeps its ``raw.files`` row (status ``removed``) and quarantine
    records, not its staging rows, and does not compete as a submission.

    Raises ``BuildFailed`` when a model fails or a SQL data test returns rows.
    """
    build_path = Path(build_path)
    if build_path.exists():
        build_path.unlink()
    report = BuildReport(build_path)
    c0 = time.process_time()
    t0 = time.perf_counter()
    con = duckdb.connect(str(build_path), config={"storage_compatibility_version": storage_version})
    try:
        for s in ("ref", "raw", "quarantine", "staging", "intermediate", "marts"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
        create_reference(con)
        for s in items:  # a clock ahead: said once per run, never cached in the extract
            d, r = s.found, s.result
            if d.mtime_ahead_s > 0 and not any(f.rule == "clock_ahead" for f in r.findings):
                r.findings.append(clock_warning(d))
        present = [s for s in items if s.removed is None]
        _load_raw(con, items, present, runs)
        for form in FORMS:
            _create_form(con, form, present, _staging_casts(form))
        _load_quarantine(con, items)

        hooks.at("build")  # tests kill the run here: a half-written build
        c1, t1 = time.process_time(), time.perf_counter()
        try:
            report.models = models.run_models(con)
        except (duckdb.Error, models.ModelError) as exc:
            raise BuildFailed(str(exc)) from exc
        c2, t2 = time.process_time(), time.perf_counter()
        report.tests = models.run_tests(con)
        c3, t3 = time.process_time(), time.perf_counter()
        comments.apply_comments(con)  # the data dictionary (COMMENT ON every column)
        failed = [t for t in report.tests if t.rows]
        if failed:
            detail = "; ".join(f"{t.name}: {t.rows} rows, e.g. {t.sample[:2]}" for t in failed)
            raise BuildFailed(f"SQL data tests failed: {detail}")
        con.execute("CHECKPOINT")
        report.timings = {
            "build": t1 - t0 + time.perf_counter() - t3,
            "models": t2 - t1,
            "tests": t3 - t2,
        }
        report.cpu = {
            "build": c1 - c0 + time.process_time() - c3,
            "models": c2 - c1,
            "tests": c3 - c2,
        }
    finally:
        con.close()
    return report


def _load_raw(con, items, present, runs) -> None:
    """raw.submissions (from the workbooks present), raw.files (every workbook), raw.runs."""
    subs = current_submissions(present)
    _create(
        con,
        "raw.submissions",
        subs,
        {
            "received_at": "CAST({c} AS TIMESTAMP)",
            "is_current": "CAST({c} AS BOOLEAN)",
            "superseded_by": "CAST({c} AS VARCHAR)",
        },
    )
    text = ("county_code", "period", "identified_from", "reader", "reason", "superseded_by",
            "message", "archive_path", "archive_sha256", "member_name")  # fmt: skip
    _create(
        con,
        "raw.files",
        _files_frame(items, subs),
        {
            "size_bytes": "CAST({c} AS BIGINT)",
            "received_at": "CAST({c} AS TIMESTAMP)",
            "rows_read": "CAST({c} AS BIGINT)",
            "rows_loaded": "CAST({c} AS BIGINT)",
            "rows_quarantined": "CAST({c} AS BIGINT)",
            "warnings": "CAST({c} AS BIGINT)",
            **{c: "CAST({c} AS VARCHAR)" for c in text},
        },
    )
    _create_runs(con, runs)


def _staging_casts(form: str) -> dict[str, str]:
    """{column: SQL cast template} for ``form``'s staging table (money: fen to yuan)."""
    casts = {}
    for name, typ in staged_columns(form):
        if typ.startswith("DECIMAL"):
            casts[name] = "CAST(CAST({c} AS DECIMAL(20,0)) * 0.01 AS " + typ + ")"
        else:
            casts[name] = "CAST({c} AS " + typ + ")"
    casts["excel_row"] = "CAST({c} AS INTEGER)"
    for c in ("county_code", "period", "file_sha256", "sheet"):
        casts[c] = "CAST({c} AS VARCHAR)"
    return casts


def _load_quarantine(con, items) -> None:
    """quarantine.files (rejected workbooks), quarantine.rows, quarantine.findings."""
    qfiles = pd.DataFrame(
        [
            (s.sha256, s.found.file_name, s.result.reason, s.result.message, s.result.message_en)
            for s in items
            if s.result.status == "rejected"
        ],
        columns=["file_sha256", "file_name", "reason", "message", "message_en"],
    )
    _create(con, "quarantine.files", qfiles, {c: "CAST({c} AS VARCHAR)" for c in qfiles.columns})
    qrows = [
        {"file_sha256": s.sha256, "file_name": s.found.file_name, **q}
        for s in items
        for sr in s.result.forms.values()
        for q in sr.quarantine
    ]
    qdf = pd.DataFrame(
        qrows, columns=["file_sha256", "file_name", "form", "sheet", "excel_row", "cells"]
    )
    _create(
        con,
        "quarantine.rows",
        qdf,
        {
            "excel_row": "CAST({c} AS INTEGER)",
            "cells": "CAST({c} AS JSON)",
            **{c: "CAST({c} AS VARCHAR)" for c in ("file_sha256", "file_name", "form", "sheet")},
        },
    )
    fdf = pd.DataFrame(
        [f.as_dict() for s in items for f in s.result.findings], columns=FINDING_COLUMNS
    )
    _create(
        con,
        "quarantine.findings",
        fdf,
        {
            c: ("CAST({c} AS INTEGER)" if c == "excel_row" else "CAST({c} AS VARCHAR)")
            for c in FINDING_COLUMNS
        },
    )
