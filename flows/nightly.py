"""The nightly flow: discover -> extract (one task per workbook, parallel, cached by
SHA-256) -> build a new DuckDB file -> publish atomically -> report.

Runs with no Prefect server and no network (a temporary local API is started by
Prefect when ``PREFECT_API_URL`` is unset); ``tpa run`` calls ``run_flow``.
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from dataclasses import dataclass  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, task, unmapped  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from pipeline import steps  # noqa: E402
from pipeline.build import BuildFailed  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.discover import Discovered, discover  # noqa: E402
from pipeline.publish import PublishError, new_build_path, publish  # noqa: E402


@dataclass
class FlowOutcome:
    """What a run did; ``exit_code`` follows warehouse.md (0, 1, 3)."""

    record: steps.RunRecord
    exit_code: int
    build_path: str | None = None
    writer: str | None = None
    test_failures: list | None = None


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(raw_dir: str) -> list[Discovered]:
    return discover(Path(raw_dir))


@task(
    name="extract",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=lambda task, run, state: isinstance(
        state.result(raise_on_failure=False), OSError
    ),
)
def extract_task(path: str, sha256: str, warehouse: str, settings: Settings) -> tuple[str, bool]:
    return steps.extract_one(path, sha256, warehouse, settings)


@task(name="build", cache_policy=NO_CACHE)
def build_task(found, folders, warehouse: str, rec: steps.RunRecord):
    items = steps.load_extracts(found, folders)
    rec.files_rejected = sum(1 for _, r in items if r.status == "rejected")
    rec.rows_loaded = sum(r.rows_loaded for _, r in items)
    rec.rows_quarantined = sum(r.rows_quarantined for _, r in items)
    path = new_build_path(Path(warehouse), rec.run_id)
    report = steps.build_warehouse(items, path, Path(warehouse), rec)
    return str(path), report


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(build_path: str, warehouse: str, wait_s: float):
    return publish(Path(build_path), Path(warehouse), wait_s=wait_s)


@task(name="report", cache_policy=NO_CACHE)
def report_task(rec: steps.RunRecord) -> None:
    md = "\n".join(
        [
            f"# tpa run {rec.run_id}",
            "",
            "| | |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in rec.as_row().items()),
        ]
    )
    try:
        create_markdown_artifact(md, key="tpa-run-summary", description="tpa nightly run summary")
    except Exception:  # the artifact is a convenience; never fail a run on it
        pass


def _runner(settings: Settings):
    workers = settings.workers or (os.cpu_count() or 1)
    if settings.task_runner == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers)
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1})
    if settings.task_runner == "serial":
        return ThreadPoolTaskRunner(max_workers=1)
    return ThreadPoolTaskRunner(max_workers=max(workers, 2))


@flow(name="tpa-nightly", log_prints=False)
def nightly(
    raw_dir: str, warehouse: str, trigger: str = "manual", settings: Settings | None = None
) -> FlowOutcome:
    """Run the whole pipeline once; never raises for bad input (it is reported)."""
    settings = settings or Settings()
    rec = steps.RunRecord(trigger=trigger)
    found = discover_task(raw_dir)
    rec.files_seen = len(found)
    futures = extract_task.map(
        [str(d.path) for d in found],
        [d.sha256 for d in found],
        unmapped(warehouse),
        unmapped(settings),
    )
    results = [f.result() for f in futures]
    folders = [r[0] for r in results]
    rec.files_new = sum(1 for r in results if r[1])
    outcome = FlowOutcome(rec, 0)
    try:
        build_path, report = build_task(found, folders, warehouse, rec)
        rec.tests_passed = len(report.tests) - report.tests_failed
        outcome.build_path = build_path
    except BuildFailed as exc:
        rec.status, rec.message = "build_failed", str(exc)
        outcome.exit_code = 1
        rec.finished_at = datetime.now().replace(microsecond=0)
        steps.save_run(Path(warehouse), rec)
        report_task(rec)
        return outcome
    try:
        pub = publish_task(build_path, warehouse, settings.publish_wait_s)
    except PublishError as exc:
        rec.status, rec.message = "build_failed", f"publish refused the build: {exc}"
        outcome.exit_code = 1
        rec.finished_at = datetime.now().replace(microsecond=0)
        steps.save_run(Path(warehouse), rec)
        report_task(rec)
        return outcome
    rec.published = bool(pub.published)
    if pub.published and pub.verified is False:
        rec.status = "not_published"
        rec.message = f"published file did not open: {pub.problem}"
        outcome.exit_code = 3
    elif pub.published:
        rec.status = "published"
    else:
        rec.status = "not_published"
        outcome.exit_code = 3
        outcome.writer = pub.writer.describe() if pub.writer else None
        rec.message = outcome.writer
    rec.finished_at = datetime.now().replace(microsecond=0)
    steps.save_run(Path(warehouse), rec)
    report_task(rec)
    return outcome


def run_flow(
    raw_dir: Path, warehouse: Path, settings: Settings, trigger: str = "manual"
) -> FlowOutcome:
    return nightly(str(raw_dir), str(warehouse), trigger, settings)
