"""The nightly flow: discover -> extract (new workbooks only, in parallel, cached by
SHA-256) -> build a new DuckDB file -> publish atomically -> report.

Runs with no Prefect server and no network (a temporary local API is started by
Prefect when ``PREFECT_API_URL`` is unset); ``tpa run`` calls ``run_flow``.

* Only workbooks without a cached extract are handed to the task runner, so a night
  with no new file parses nothing (``files_new`` = 0) and starts no extract task.
* The extract tasks run on the task runner named by ``Settings.task_runner``:
  ``processes`` (the default), ``threads``, ``serial``, ``dask`` (a local Dask cluster
  of ``Settings.workers`` processes) or ``dask:<scheduler address>`` (an existing
  cluster, e.g. ``dask:tcp://10.0.0.5:8786``; its workers must see the raw and state
  folders). ``Settings.workers`` = 0 means one worker per core. Threads run one
  workbook per task (parsing holds the GIL: no faster than serial); processes and Dask
  run batches of workbooks (``batch_size``) and only when at least ``INLINE_BELOW`` are
  new — fewer are parsed in the flow's thread, since starting workers costs more.
* Every workbook is parsed in a contained child process (``pipeline.run.contain``: memory
  and time limits, replaced when it dies), whatever the task runner; each file has its
  own outcome. A transient OSError (a network share that hiccups, a file still being
  copied) is tried twice more; a workbook that still cannot be read, that hit a memory
  or time limit, or that crashed the reader is reported as rejected (``read_error``,
  ``resource_limit``, ``reader_crashed``) with a one-line reason naming it, for this
  run only: it is not cached, so the next run tries again (``resource_limits.json`` in
  the state folder counts the runs in a row a file has hit a limit).
* The personal-data key never becomes a flow parameter (flow parameters are stored by
  the Prefect API and shown in its UI): ``run_flow`` hands it to the flow in memory.
"""

from __future__ import annotations

import heapq
import os
import time

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from contextvars import ContextVar  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, task, unmapped  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from flows.after import After, after_publish, summary_rows  # noqa: E402
from flows.after import stage as stage_release  # noqa: E402
from flows.api import PrefectStartError  # noqa: E402
from pipeline import (
    errors,
    hooks,  # noqa: E402
)
from pipeline.config import Settings  # noqa: E402
from pipeline.run import cache, contain, dropzone, progress, steps, timing
from pipeline.run.discover import Discovered, Limits, discover  # noqa: E402
from pipeline.run.publish import PublishError, new_build_path, publish  # noqa: E402
from pipeline.warehouse.build import BuildFailed  # noqa: E402

RUNNERS = ("threads", "processes", "serial", "dask", "dask:<address>")

# The ID key of the run in progress: set by run_flow, never a flow parameter.
_ID_KEY: ContextVar[bytes | None] = ContextVar("tpa_id_key", default=None)


def _current_key() -> bytes | None:
    # A function, not the ContextVar itself, in the flow's code: process and Dask task
    # runners pickle the flow with the run context, and a ContextVar cannot be pickled.
    return _ID_KEY.get()


@dataclass
class FlowOutcome:
    """What a run did; ``exit_code`` follows warehouse.md (0, 1, 3, 5)."""

    record: steps.RunRecord
    exit_code: int
    build_path: str | None = None
    writer: str | None = None
    test_failures: list | None = None
    build_reused: bool = False  # nothing changed: the published warehouse was copied
    raw_dir: str | None = None
    warehouse: str | None = None
    after: After | None = None  # release, outputs, problems (flows.after, issue 13)
    error: Exception | None = None  # what ended a `failed` run unexpectedly (tpa run --debug)


def _failure(state) -> BaseException | None:
    """The exception of a failed Prefect state (None if it is not one)."""
    exc = state.result(raise_on_failure=False)
    return exc if isinstance(exc, BaseException) else None


def _transient(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and not isinstance(
        exc, FileNotFoundError | IsADirectoryError | NotADirectoryError
    )


def transient_io_error(task, task_run, state) -> bool:
    """``retry_condition_fn`` (Prefect 3.9 calls it with (task, task_run, state)): retry
    an OSError, but not a file that is gone (FileNotFoundError: retrying cannot help)."""
    return _transient(_failure(state))


def any_io_error(task, task_run, state) -> bool:
    """``retry_condition_fn`` for discovery: any OSError (a file vanishing while the
    folder is listed is retried: the next listing does not have it)."""
    return isinstance(_failure(state), OSError)


@task(
    name="discover",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=any_io_error,
)
def discover_task(raw_dir: str, settings: Settings | None = None) -> list[Discovered]:
    limits = Limits.of(settings) if settings is not None else None
    return steps.unique_by_hash(discover(Path(raw_dir), limits))


def _extract_run_name() -> str:
    from prefect.runtime import task_run

    files = task_run.parameters.get("files") or [("?", "", "")]
    more = f" (+{len(files) - 1})" if len(files) > 1 else ""
    return f"extract {Path(files[0][0]).name}{more}"


@task(
    name="extract",
    task_run_name=_extract_run_name,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=transient_io_error,
)
def extract_task(files: list[tuple], settings: Settings, key: bytes) -> dict[str, contain.Outcome]:
    """Extract a batch of workbooks, (path, sha256, extract folder[, zip member]) each, each in a
    contained child (``pipeline.run.contain.extract_files``); return the outcome of every
    file by SHA-256. Never fails for what a file does."""
    return contain.extract_files(files, settings, key)


def _job(p: steps.Planned) -> tuple:
    """An extract task's item: (path, sha256, folder), plus the member for a workbook read
    in place from a zip (issue 12)."""
    return (
        str(p.found.path),
        p.found.sha256,
        p.folder,
        *([p.found.member] if p.found.member else []),
    )


def _workers(settings: Settings) -> int:
    return settings.workers or (os.cpu_count() or 1)


def batch_size(settings: Settings, n: int) -> int:
    """Workbooks per extract task: one on threads (a task run per file in the UI); on
    processes and Dask about four tasks per worker, since every task run there pays
    Prefect's start-up in the worker (≈ 0.1–0.2 s, more than parsing a small workbook)."""
    if settings.task_runner in ("threads", "serial"):
        return 1
    return max(1, -(-n // (_workers(settings) * 4)))


def balanced_batches(todo: list, k: int) -> list[list]:
    """``todo`` (planned workbooks) in ``k`` batches of about equal bytes, largest batch
    first: the biggest county then starts at once instead of last (greedy longest-first)."""
    k = max(1, min(k, len(todo)))
    bins: list[tuple[int, int, list]] = [(0, i, []) for i in range(k)]
    for p in sorted(todo, key=lambda p: -p.found.size_bytes):
        total, i, items = heapq.heappop(bins)
        items.append(p)
        heapq.heappush(bins, (total + p.found.size_bytes, i, items))
    return [items for _, _, items in sorted(bins, key=lambda b: (-b[0], b[1])) if items]


INLINE_BELOW = 64


def _batch_outcomes(batch: list, state) -> dict:
    """Planned workbook -> ``contain.Outcome`` for one extract task. A complete extract
    is a result whatever the task's state; a file the task has no outcome for (the task
    itself failed: a worker lost) gets the task's error, in one line."""
    outs = state.result(raise_on_failure=False) if state.is_completed() else None
    outs = outs if isinstance(outs, dict) else {}
    exc = _failure(state) if state.is_failed() else None
    task_error = errors.one_line(exc) if exc else str(state.message)
    result = {}
    for p in batch:
        o = outs.get(p.found.sha256)
        if cache.is_cached(Path(p.folder)):
            o = contain.Outcome(p.folder, parsed=True)
        elif o is None or o.folder is None and o.error is None:
            line = " ".join(task_error.split())[:200]
            o = contain.Outcome(None, reason="read_error", error=f"{p.found.file_name}: {line}")
        result[p] = o
    return result


def _unread_reasons(wh: Path, unread: dict) -> dict[str, tuple[str | None, str | None, int]]:
    """SHA-256 -> (reason, limit, runs in a row at a resource limit) of the workbooks not
    read; records this run's resource-limit hits in the state folder."""
    hit = {sha: o.limit or "resource" for sha, o in unread.items() if o.reason == "resource_limit"}
    runs = steps.note_resource_limits(wh, hit)
    return {sha: (o.reason, o.limit, runs.get(sha, 1)) for sha, o in unread.items()}


def inline_below(settings: Settings) -> int:
    """On processes and Dask, fewer new workbooks than this (``INLINE_BELOW``) are parsed
    in the flow's own thread, as one task: starting worker processes (≈ 3 s) costs more
    than it saves (measured on 2 cores: the break-even is ≈ 70 sample workbooks). A usual
    night brings a few workbooks; a first load or ``--rebuild`` brings them all."""
    if settings.task_runner in ("threads", "serial"):
        return 0
    return INLINE_BELOW


@task(name="build", cache_policy=NO_CACHE)
def build_task(
    present: list[tuple[Discovered, str | None, str | None]],
    warehouse: str,
    rec: steps.RunRecord,
    rebuild: bool = False,
    storage_version: str = "v1.0.0",
    unread_why: dict[str, tuple[str | None, str | None, int]] | None = None,
):
    """Load the extracts of the workbooks present (folder, or None with the read error),
    record them in the manifest, add the workbooks that have left the raw folder, build
    (or copy the published warehouse when nothing it was built from has changed, unless
    ``rebuild``), in DuckDB's ``storage_version`` format. ``unread_why``: SHA-256 ->
    (reason, limit, runs in a row) of the workbooks not read (``pipeline.run.steps.unread``)."""
    wh = Path(warehouse)
    why = unread_why or {}
    items = [
        (
            d,
            cache.load(Path(folder), frames=False)
            if folder
            else steps.unread(d, error, *why.get(d.sha256, (None, None, 1))),
        )
        for d, folder, error in present
    ]
    manifest = steps.update_manifest(
        wh,
        [(d, r, folder) for (d, r), (_, folder, _) in zip(items, present, strict=True)],
        rec.run_id,
    )
    gone, removed = steps.removed_items(wh, manifest, {d.sha256 for d, _, _ in present}, rec.notes)
    rec.files_rejected = sum(1 for _, r in items if r.status == "rejected")
    rec.rows_loaded = sum(r.rows_loaded for _, r in items)
    rec.rows_quarantined = sum(r.rows_quarantined for _, r in items)
    path = new_build_path(wh, rec.run_id)
    inputs = steps.build_inputs(present, manifest, removed, storage_version)
    report = steps.build_warehouse(
        items + gone,
        path,
        wh,
        rec,
        removed,
        inputs=None if rebuild else inputs,
        storage_version=storage_version,
    )
    report.inputs = inputs
    return str(path), report, manifest


@task(name="check drop zone", cache_policy=NO_CACHE)
def dropzone_task(build_path: str, warehouse: str, raw_dir: str, files_seen: int, settings):
    """Compare the build with the published warehouse (``pipeline.run.dropzone.check``); a
    refused build is discarded (the next run builds again from the drop zone as it is)."""
    from pipeline.run.publish import discard_build

    verdict = dropzone.check(
        Path(build_path), Path(warehouse), Path(raw_dir), files_seen,
        settings.max_shrink, settings.allow_shrink,
    )  # fmt: skip
    if verdict.refused:
        discard_build(Path(build_path))
    return verdict


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(build_path: str, warehouse: str, wait_s: float):
    hooks.at("publish")  # tests kill the run here: built, closed, not yet renamed
    return publish(Path(build_path), Path(warehouse), wait_s=wait_s)


def _cell(v) -> str:
    return "" if v is None else str(v).replace("|", "\\|").replace("\n", "<br>")


def summary_markdown(rec: steps.RunRecord, extra: dict | None = None) -> str:
    """The run summary artifact: the run record, then ``extra`` (raw folder, warehouse,
    release, outputs: ``flows.after.summary_rows``)."""
    return "\n".join(
        [
            f"# tpa run {rec.run_id}",
            "",
            "| | |",
            "|---|---|",
            *(f"| {k} | {_cell(v)} |" for k, v in {**rec.as_row(), **(extra or {})}.items()),
        ]
    )


@task(name="report", cache_policy=NO_CACHE)
def report_task(rec: steps.RunRecord, extra: dict | None = None) -> None:
    try:
        create_markdown_artifact(
            summary_markdown(rec, extra),
            key="tpa-run-summary",
            description="tpa nightly run summary",
        )
    except Exception:  # the artifact is a convenience; never fail a run on it
        pass


def make_runner(settings: Settings):
    """The task runner of the extract step (see the module docstring)."""
    kind = settings.task_runner
    workers = settings.workers or (os.cpu_count() or 1)
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "serial":
        return ThreadPoolTaskRunner(max_workers=1)
    if kind == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers)
    if kind == "dask" or kind.startswith("dask:"):
        from prefect_dask import DaskTaskRunner

        address = kind.partition(":")[2]
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    raise ValueError(f"unknown task runner {kind!r}; use one of {', '.join(RUNNERS)}")


def _finish(outcome: FlowOutcome, warehouse: str) -> FlowOutcome:
    rec = outcome.record
    rec.finished_at = rec.finished_at or datetime.now().replace(microsecond=0)
    steps.save_run(Path(warehouse), rec)
    report_task(rec, summary_rows(outcome))
    return outcome


@flow(name="tpa-nightly", log_prints=False)
def nightly(
    raw_dir: str,
    warehouse: str,
    trigger: str = "manual",
    settings: Settings | None = None,
    rebuild: bool = False,
) -> FlowOutcome:
    """Run the whole pipeline once: discover → extract → build → publish. Never raises:
    bad input is reported, and anything unexpected ends the run as ``failed`` with a
    one-line message (exit 1), recorded in the run history.

    ``rebuild``: parse every workbook again instead of using cached extracts (workbooks
    no longer in the raw folder keep theirs). Call it through ``run_flow``, which keeps
    the ID key out of the flow's parameters.
    """
    settings = settings or Settings()
    wh = Path(warehouse)
    rec = steps.RunRecord(trigger=trigger)
    steps.save_run(wh, rec)  # in the history from the start: a killed run shows as such
    outcome = FlowOutcome(rec, 0, raw_dir=raw_dir, warehouse=warehouse)
    try:
        key = _current_key() or steps.id_key(settings)
        clock = {"start": time.perf_counter(), "cpu": time.process_time()}
        timing.discard_parts()  # a killed run's worker tallies are not this run's
        present, unread_why = _discover_and_extract(raw_dir, wh, settings, key, rec, rebuild, clock)
        report = _build(
            present, unread_why, wh, rec, rebuild, key, outcome, settings.storage_version
        )
        if report is not None:
            _publish(raw_dir, wh, settings, rec, report, outcome, clock)
    except Exception as exc:  # one line in the history; the traceback goes to the log
        import logging

        logging.getLogger("tpa").debug("run failed", exc_info=True)
        rec.status, rec.published = "failed", False
        rec.message = errors.one_line(exc)
        outcome.exit_code, outcome.error = 1, exc
    return _finish(outcome, warehouse)


def _discover_and_extract(raw_dir, wh: Path, settings, key, rec, rebuild, clock):
    """Discover the drop zone and extract the workbooks without a cached extract; return
    ([(Discovered, extract folder or None, read error or None) per workbook present],
    {SHA-256: (reason, limit, runs in a row)} of the workbooks not read)."""
    found = discover_task(raw_dir, settings)
    clock["discover"], clock["cpu_discover"] = time.perf_counter(), time.process_time()
    clock["rss_discover"] = timing.peak_rss_mib()
    rec.files_seen = len(found)
    plan = steps.plan_extracts(found, wh, key, rebuild)
    rec.notes += [p.damaged for p in plan if p.damaged]  # issue 11: said once per extract
    todo = [p for p in plan if not p.cached]
    outcome_of = {p.found.sha256: (p.folder, None) for p in plan if p.cached}
    unread: dict[str, contain.Outcome] = {}
    if todo:
        progress.start(len(todo))
        for p, o in _extract_todo(todo, settings, key).items():
            outcome_of[p.found.sha256] = (o.folder, o.error)
            rec.files_new += o.folder is not None
            if o.folder is None:
                unread[p.found.sha256] = o
    clock["extract"], clock["cpu_extract"] = time.perf_counter(), time.process_time()
    clock["rss_extract"] = timing.peak_rss_mib()
    present = [(p.found, *outcome_of[p.found.sha256]) for p in plan]
    return present, _unread_reasons(wh, unread)


def _extract_todo(todo: list, settings, key) -> dict:
    """Run the extract tasks over ``todo`` (planned workbooks); planned -> its
    ``contain.Outcome`` (an extract folder, or why the workbook was not read)."""
    files = [_job(p) for p in todo]
    if len(todo) < inline_below(settings):
        batches = [todo]
        states = [extract_task(files, settings, key, return_state=True)]
        progress.done(p.found.sha256 for p in todo)
    else:
        size = batch_size(settings, len(todo))
        batches = balanced_batches(todo, -(-len(todo) // size))
        futures = extract_task.map(
            [[_job(p) for p in b] for b in batches],
            unmapped(settings),
            unmapped(key),
        )
        states = []
        for fut, b in zip(futures, batches, strict=True):
            fut.wait()
            states.append(fut.state)
            progress.done(p.found.sha256 for p in b)
    out = {}
    for batch, state in zip(batches, states, strict=True):
        out.update(_batch_outcomes(batch, state))
    return out


def _build(present, unread_why, wh: Path, rec, rebuild, key, outcome: FlowOutcome, storage: str):
    """Build (or reuse) the warehouse into a new file; the build report, or None when
    the build failed (the run is then ``failed``, exit 1)."""
    progress.stage("building the warehouse")
    try:
        build_path, report, manifest = build_task(
            present, str(wh), rec, rebuild, storage, unread_why
        )
    except BuildFailed as exc:
        rec.status, rec.message = "failed", str(exc)
        outcome.exit_code = 1
        return None
    rec.tests_passed = len(report.tests) - report.tests_failed
    outcome.build_path = build_path
    outcome.build_reused = report.reused
    steps.prune_extracts(wh, manifest, key)
    return report


def _publish(raw_dir, wh: Path, settings, rec, report, outcome: FlowOutcome, clock) -> None:
    """Refuse a drop zone that emptied or shrank (exit 5), stamp the build's ``raw.runs``
    with this run as published (the last write before the rename), publish it, and record
    the real outcome in the run history."""
    verdict = dropzone_task(outcome.build_path, str(wh), raw_dir, rec.files_seen, settings)
    if verdict.refused:  # issue 11: an emptied or shrunken drop zone does not publish
        rec.status, rec.message = "not_published", verdict.refused
        outcome.exit_code = 5
        return
    if verdict.note:
        rec.notes.append(verdict.note)
    # raw.indicator_revisions into the build (never fails it: a problem is one line)
    outcome.after = stage_release(outcome.build_path, str(wh), rec.run_id, outcome.build_reused)
    steps.stamp_runs(Path(outcome.build_path), wh, rec)
    try:
        pub = publish_task(outcome.build_path, str(wh), settings.publish_wait_s)
    except PublishError as exc:
        rec.status, rec.published = "failed", False
        rec.message = f"publish refused the build: {exc}"
        rec.finished_at, outcome.exit_code = None, 1
        return
    _write_timings(clock, report, rec)
    rec.published = bool(pub.published)
    if pub.published and pub.verified is False:
        rec.status, outcome.exit_code = "not_published", 3
        rec.message = f"published file did not open: {pub.problem}"
        steps.note_published(wh, None)
    elif pub.published:
        rec.status = "published"
        steps.note_published(wh, report.inputs)  # the next night may copy it (build_inputs)
        dropzone.remember(wh, verdict.counts)
        # release, report and export, retention, artifacts: never fail the publish
        outcome.after = after_publish(outcome.after, str(wh), settings)
    else:
        rec.status, outcome.exit_code = "not_published", 3
        outcome.writer = pub.writer.describe() if pub.writer else None
        rec.message = outcome.writer
    if rec.status != "published":
        rec.finished_at = None  # it finishes now, not when the build was stamped


def _write_timings(clock: dict, report, rec) -> None:
    """Stage wall (and CPU) seconds for ``make bench`` (only when ``TPA_TIMINGS_FILE`` is
    set); the extract workers' read/coerce/validate/cache tallies are added to them."""
    if not timing.enabled():
        return
    end = time.perf_counter()
    rows = rec.rows_loaded + rec.rows_quarantined
    build = report.timings
    stages = {
        "discover": clock["discover"] - clock["start"],
        "extract": clock["extract"] - clock["discover"],
        **build,
        "publish": end - clock["extract"] - sum(build.values()),
        "pipeline": end - clock["start"],
    }
    cpu_end, rss_end = time.process_time(), timing.peak_rss_mib()
    cpu = {
        "discover": clock["cpu_discover"] - clock["cpu"],
        "extract": clock["cpu_extract"] - clock["cpu_discover"],  # this process: workers apart
        **report.cpu,
        "publish": cpu_end - clock["cpu_extract"] - sum(report.cpu.values()),
        "pipeline": cpu_end - clock["cpu"],
    }
    # peak RSS of this process by the end of the stage (the workers' is in read..cache)
    rss = {"discover": clock["rss_discover"], "extract": clock["rss_extract"]}
    out = {
        k: {"wall": v, "rows": rows, "cpu": cpu.get(k, 0.0), "peak_rss_mib": rss.get(k, rss_end)}
        for k, v in stages.items()
    }
    timing.write_summary(out)  # adds the read/coerce/validate/cache tallies of the workers


def public_settings(settings: Settings) -> Settings:
    """``settings`` without the ID key and notification URLs (what may be shown as a
    flow parameter)."""
    return settings.model_copy(update={"id_key": None, "notify_urls": SecretStr("")})


@contextmanager
def _temporary_server(warehouse: Path, settings: Settings) -> Iterator[None]:
    """Without ``PREFECT_API_URL`` a run needs Prefect's temporary API server. Start it here
    (``flows.api.start_temporary_server``: a generous timeout, one retry), note its PID in
    the state folder (the next run stops it if this one is killed: ``pipeline.run.steps.recover``),
    name it in PREFECT_API_URL for the duration of the run, so that process and Dask workers
    report to it instead of each starting a server of their own, and stop it when the run
    ends, however it ends. Raises ``flows.api.PrefectStartError``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.api import drain_prefect_workers, start_temporary_server
    from pipeline.run.state import state_dir

    if PREFECT_API_URL.value():
        yield
        return
    log = state_dir(warehouse) / "prefect-server.log"
    server = start_temporary_server(settings.prefect_start_timeout_s, retries=1, log=log)
    if server.server_process is not None and server.port is not None:
        steps.note_server(warehouse, server.server_process.pid, server.port)
    old = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
    finally:
        if old is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = old
        drain_prefect_workers()  # before the server goes: else they retry it at exit
        server.stop()
        steps.forget_server(warehouse)


def run_flow(
    raw_dir: Path,
    warehouse: Path,
    settings: Settings,
    trigger: str = "manual",
    rebuild: bool = False,
) -> FlowOutcome:
    """Run the nightly flow on ``settings.task_runner`` (the caller holds the run lock).

    Raises ``flows.api.PrefectStartError`` when Prefect's temporary API server cannot be
    started (the run is recorded as ``failed`` with that reason)."""
    token = _ID_KEY.set(steps.id_key(settings))
    try:
        runner = make_runner(settings)
        with _temporary_server(Path(warehouse), settings):
            return nightly.with_options(task_runner=runner)(
                str(raw_dir), str(warehouse), trigger, public_settings(settings), rebuild
            )
    except PrefectStartError as exc:  # the run never started: its history says why
        rec = steps.RunRecord(trigger=trigger, status="failed", message=str(exc))
        rec.finished_at = datetime.now().replace(microsecond=0)
        steps.save_run(Path(warehouse), rec)
        raise
    finally:
        _ID_KEY.reset(token)
