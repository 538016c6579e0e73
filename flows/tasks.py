"""The Prefect tasks of the nightly flow, one per stage that Prefect should see (and
retry): discover, extract, build, check the drop zone, publish, report. Each calls the
plain functions of ``pipeline``; none fails for what a county's file does."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pipeline import hooks
from pipeline.config import Settings
from pipeline.run import cache, contain, dropzone, manifest, reuse
from pipeline.run.discover import Discovered, Limits, discover
from pipeline.run.history import RunRecord
from pipeline.run.publish import discard_build, new_build_path, publish
from pipeline.run.submission import Submission, unique_by_hash
from pipeline.run.unread import unread


def failure(state) -> BaseException | None:
    """The exception of a failed Prefect state (None if it is not one)."""
    exc = state.result(raise_on_failure=False)
    return exc if isinstance(exc, BaseException) else None


def transient_io_error(task, task_run, state) -> bool:
    """``retry_condition_fn`` (Prefect 3.9 calls it with (task, task_run, state)): retry
    an OSError, but not a file that is gone (FileNotFoundError: retrying cannot help)."""
    exc = failure(state)
    return isinstance(exc, OSError) and not isinstance(
        exc, FileNotFoundError | IsADirectoryError | NotADirectoryError
    )


def any_io_error(task, task_run, state) -> bool:
    """``retry_condition_fn`` for discovery: any OSError (a file vanishing while the
    folder is listed is retried: the next listing does not have it)."""
    return isinstance(failure(state), OSError)


@task(name="discover", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2,
      retry_condition_fn=any_io_error)  # fmt: skip
def discover_task(raw_dir: str, settings: Settings | None = None) -> list[Discovered]:
    """Everything in the drop zone, one entry per distinct content (SHA-256)."""
    limits = Limits.of(settings) if settings is not None else None
    return unique_by_hash(discover(Path(raw_dir), limits))


def _extract_run_name() -> str:
    from prefect.runtime import task_run

    subs = task_run.parameters.get("subs") or []
    first = Path(subs[0].found.path).name if subs else "?"
    more = f" (+{len(subs) - 1})" if len(subs) > 1 else ""
    return f"extract {first}{more}"


@task(name="extract", task_run_name=_extract_run_name, cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=2, retry_condition_fn=transient_io_error)  # fmt: skip
def extract_task(
    subs: list[Submission], settings: Settings, key: bytes
) -> dict[str, contain.Outcome]:
    """Extract a batch of submissions, each in a contained child
    (``pipeline.run.contain.extract_files``); return the outcome of every file by
    SHA-256. Never fails for what a file does."""
    return contain.extract_files([s.job() for s in subs], settings, key)


@task(name="build", cache_policy=NO_CACHE)
def build_task(
    subs: list[Submission],
    warehouse: str,
    rec: RunRecord,
    rebuild: bool = False,
    storage_version: str = "v1.0.0",
):
    """Give each submission its ``result`` (its extract, or the record of a file not read),
    record them in the manifest, add the workbooks that have left the raw folder, and
    build (or copy the published warehouse when nothing it was built from has changed,
    unless ``rebuild``) in DuckDB's ``storage_version`` format. Returns (build path,
    report, manifest).

    Raises ``pipeline.warehouse.build.BuildFailed`` (a model or SQL data test failed)."""
    wh = Path(warehouse)
    for s in subs:
        s.result = cache.load(Path(s.folder), frames=False) if s.folder else unread(s)
    kept = manifest.update_manifest(wh, subs, rec.run_id)
    gone = manifest.removed_items(wh, kept, {s.sha256 for s in subs}, rec.notes)
    rec.files_rejected = sum(1 for s in subs if s.result.status == "rejected")
    rec.rows_loaded = sum(s.result.rows_loaded for s in subs)
    rec.rows_quarantined = sum(s.result.rows_quarantined for s in subs)
    path = new_build_path(wh, rec.run_id)
    inputs = reuse.build_inputs(subs + gone, kept, storage_version)
    report = reuse.build_warehouse(subs + gone, path, wh, rec, None if rebuild else inputs,
                                   storage_version)  # fmt: skip
    report.inputs = inputs
    return str(path), report, kept


@task(name="check drop zone", cache_policy=NO_CACHE)
def dropzone_task(build_path: str, warehouse: str, raw_dir: str, files_seen: int, settings):
    """Compare the build with the published warehouse (``pipeline.run.dropzone.check``); a
    refused build is discarded (the next run builds again from the drop zone as it is)."""
    verdict = dropzone.check(
        Path(build_path), Path(warehouse), Path(raw_dir), files_seen,
        settings.max_shrink, settings.allow_shrink,
    )  # fmt: skip
    if verdict.refused:
        discard_build(Path(build_path))
    return verdict


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(build_path: str, warehouse: str, wait_s: float):
    """Rename the build over the warehouse (``pipeline.run.publish.publish``)."""
    hooks.at("publish")  # tests kill the run here: built, closed, not yet renamed
    return publish(Path(build_path), Path(warehouse), wait_s=wait_s)


def _cell(v) -> str:
    return "" if v is None else str(v).replace("|", "\\|").replace("\n", "<br>")


def summary_markdown(rec: RunRecord, extra: dict | None = None) -> str:
    """The run summary artifact: the run record, then ``extra`` (raw folder, warehouse,
    release, outputs: ``flows.after.summary_rows``)."""
    rows = {**rec.as_row(), **(extra or {})}
    return "\n".join([f"# tpa run {rec.run_id}", "", "| | |", "|---|---|",
                      *(f"| {k} | {_cell(v)} |" for k, v in rows.items())])  # fmt: skip


@task(name="report", cache_policy=NO_CACHE)
def report_task(rec: RunRecord, extra: dict | None = None) -> None:
    """The run summary as a Prefect Markdown artifact (never fails a run)."""
    try:
        create_markdown_artifact(
            summary_markdown(rec, extra), key="tpa-run-summary",
            description="tpa nightly run summary",
        )  # fmt: skip
    except Exception:  # the artifact is a convenience; never fail a run on it
        pass
