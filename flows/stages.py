"""The stages of a night, in the order the flow calls them: discover → extract → build →
publish → outputs. Each takes the ``Night`` in progress and records what it did in the
run record (``raw.runs``) and the outcome; none raises for what a county's file does.

* Only workbooks without a cached extract are extracted, so a night with no new file
  parses nothing (``files_new`` = 0) and starts no extract task.
* Every workbook is parsed in a contained child process (``pipeline.run.contain``: memory
  and time limits, replaced when it dies), whatever the task runner; each file has its
  own outcome. A transient OSError (a network share that hiccups, a file still being
  copied) is tried twice more; a workbook that still cannot be read, that hit a memory
  or time limit, or that crashed the reader is reported as rejected (``read_error``,
  ``resource_limit``, ``reader_crashed``) with a one-line reason naming it, for this
  run only: it is not cached, so the next run tries again (``resource_limits.json`` in
  the state folder counts the runs in a row a file has hit a limit).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prefect import unmapped

from flows import runners, tasks
from flows.after import After, after_publish, summary_rows
from flows.after import stage as stage_release
from pipeline import errors
from pipeline.config import Settings
from pipeline.run import cache, contain, dropzone, history, progress, reuse, timing
from pipeline.run.publish import PublishError
from pipeline.run.submission import Submission, plan_extracts, prune_extracts
from pipeline.run.unread import note_resource_limits
from pipeline.warehouse.build import BuildFailed, BuildReport


@dataclass
class FlowOutcome:
    """What a run did; ``exit_code`` follows warehouse.md (0, 1, 3, 5)."""

    record: history.RunRecord
    exit_code: int
    build_path: str | None = None
    writer: str | None = None
    test_failures: list | None = None
    build_reused: bool = False  # nothing changed: the published warehouse was copied
    raw_dir: str | None = None
    warehouse: str | None = None
    after: After | None = None  # release, outputs, problems (flows.after, issue 13)
    error: Exception | None = None  # what ended a `failed` run unexpectedly (tpa run --debug)


@dataclass
class Night:
    """A run in progress: where it reads and writes, its settings and ID key, what it has
    done so far (``outcome``, whose ``record`` is its ``raw.runs`` row), the build report
    and the stage clock (``make bench``)."""

    raw_dir: str
    warehouse: Path
    settings: Settings
    key: bytes
    rebuild: bool
    outcome: FlowOutcome
    report: BuildReport | None = None
    clock: dict = field(default_factory=dict)

    @property
    def rec(self) -> history.RunRecord:
        return self.outcome.record


def begin(raw_dir: str, warehouse: str, trigger: str, settings: Settings, rebuild: bool,
          key: bytes) -> Night:  # fmt: skip
    """A new night, in the run history from the start (a killed run shows as such)."""
    rec = history.RunRecord(trigger=trigger)
    history.save_run(Path(warehouse), rec)
    outcome = FlowOutcome(rec, 0, raw_dir=raw_dir, warehouse=warehouse)
    timing.discard_parts()  # a killed run's worker tallies are not this run's
    clock = {"start": time.perf_counter(), "cpu": time.process_time()}
    return Night(raw_dir, Path(warehouse), settings, key, rebuild, outcome, clock=clock)


def _tick(night: Night, stage: str) -> None:
    clock = night.clock
    clock[stage], clock[f"cpu_{stage}"] = time.perf_counter(), time.process_time()
    clock[f"rss_{stage}"] = timing.peak_rss_mib()


def discover(night: Night) -> list[Submission]:
    """The night's submissions: one per distinct content in the drop zone, each with the
    extract folder that holds (or will hold) its rows."""
    found = tasks.discover_task(night.raw_dir, night.settings)
    _tick(night, "discover")
    night.rec.files_seen = len(found)
    subs = plan_extracts(found, night.warehouse, night.key, night.rebuild)
    night.rec.notes += [s.damaged for s in subs if s.damaged]  # issue 11: said once
    return subs


def extract(night: Night, subs: list[Submission]) -> None:
    """Parse the submissions without a cached extract; each gets its folder, or why it
    was not read (``Submission.error``/``reason``/``limit``/``runs_at_limit``)."""
    todo = [s for s in subs if not s.cached]
    if todo:
        progress.start(len(todo))
        outcomes = _extract_todo(todo, night.settings, night.key)
        for s in todo:
            o = outcomes[s]
            s.folder, s.error, s.reason, s.limit = o.folder, o.error, o.reason, o.limit
            night.rec.files_new += o.folder is not None
        hit = {s.sha256: s.limit or "resource" for s in todo if s.reason == "resource_limit"}
        runs = note_resource_limits(night.warehouse, hit)
        for s in todo:
            s.runs_at_limit = runs.get(s.sha256, 1)
    _tick(night, "extract")


def _extract_todo(todo: list[Submission], settings: Settings, key: bytes) -> dict:
    """Run the extract tasks over ``todo``: submission -> its ``contain.Outcome``."""
    if len(todo) < runners.inline_below(settings):
        batches = [todo]
        states = [tasks.extract_task(todo, settings, key, return_state=True)]
        progress.done(s.sha256 for s in todo)
    else:
        size = runners.batch_size(settings, len(todo))
        batches = runners.balanced_batches(todo, -(-len(todo) // size))
        futures = tasks.extract_task.map(batches, unmapped(settings), unmapped(key))
        states = []
        for fut, b in zip(futures, batches, strict=True):
            fut.wait()
            states.append(fut.state)
            progress.done(s.sha256 for s in b)
    out = {}
    for batch, state in zip(batches, states, strict=True):
        out.update(_batch_outcomes(batch, state))
    return out


def _batch_outcomes(batch: list[Submission], state) -> dict:
    """Submission -> ``contain.Outcome`` for one extract task. A complete extract is a
    result whatever the task's state; a file the task has no outcome for (the task
    itself failed: a worker lost) gets the task's error, in one line."""
    outs = state.result(raise_on_failure=False) if state.is_completed() else None
    outs = outs if isinstance(outs, dict) else {}
    exc = tasks.failure(state) if state.is_failed() else None
    task_error = errors.one_line(exc) if exc else str(state.message)
    result = {}
    for s in batch:
        o = outs.get(s.sha256)
        if cache.is_cached(Path(s.folder)):
            o = contain.Outcome(s.folder, parsed=True)
        elif o is None or o.folder is None and o.error is None:
            line = " ".join(task_error.split())[:200]
            o = contain.Outcome(None, reason="read_error", error=f"{s.found.file_name}: {line}")
        result[s] = o
    return result


def build(night: Night, subs: list[Submission]) -> bool:
    """Build (or reuse) the warehouse into a new file; False when the build failed (the
    run is then ``failed``, exit 1)."""
    progress.stage("building the warehouse")
    rec, outcome = night.rec, night.outcome
    try:
        outcome.build_path, night.report, kept = tasks.build_task(
            subs, str(night.warehouse), rec, night.rebuild, night.settings.storage_version
        )
    except BuildFailed as exc:
        rec.status, rec.message = "failed", str(exc)
        outcome.exit_code = 1
        return False
    rec.tests_passed = len(night.report.tests) - night.report.tests_failed
    outcome.build_reused = night.report.reused
    prune_extracts(night.warehouse, kept, night.key)
    return True


def publish(night: Night) -> bool:
    """Refuse a drop zone that emptied or shrank (exit 5), stamp the build's ``raw.runs``
    with this run as published (the last write before the rename), publish it, and record
    the real outcome in the run history. True when the new warehouse is published."""
    rec, outcome, wh, settings = night.rec, night.outcome, night.warehouse, night.settings
    verdict = tasks.dropzone_task(
        outcome.build_path, str(wh), night.raw_dir, rec.files_seen, settings
    )
    if verdict.refused:  # issue 11: an emptied or shrunken drop zone does not publish
        rec.status, rec.message, outcome.exit_code = "not_published", verdict.refused, 5
        return False
    if verdict.note:
        rec.notes.append(verdict.note)
    # raw.indicator_revisions into the build (never fails it: a problem is one line)
    outcome.after = stage_release(outcome.build_path, str(wh), rec.run_id, outcome.build_reused)
    history.stamp_runs(Path(outcome.build_path), wh, rec)
    try:
        pub = tasks.publish_task(outcome.build_path, str(wh), settings.publish_wait_s)
    except PublishError as exc:
        rec.status, rec.published, rec.finished_at = "failed", False, None
        rec.message, outcome.exit_code = f"publish refused the build: {exc}", 1
        return False
    timing.write_stages(night.clock, night.report, rec)
    rec.published = bool(pub.published)
    if pub.published and pub.verified is not False:
        rec.status = "published"
        reuse.note_published(wh, night.report.inputs)  # the next night may copy it
        dropzone.remember(wh, verdict.counts)
        return True
    rec.status, outcome.exit_code, rec.finished_at = "not_published", 3, None
    if pub.published:
        rec.message = f"published file did not open: {pub.problem}"
        reuse.note_published(wh, None)
    else:
        outcome.writer = pub.writer.describe() if pub.writer else None
        rec.message = outcome.writer
    return False


def outputs(night: Night) -> None:
    """Release, report and export, retention, artifacts (``flows.after``): never fails
    the publish."""
    outcome = night.outcome
    outcome.after = after_publish(outcome.after, str(night.warehouse), night.settings)


def failed(night: Night, exc: Exception) -> None:
    """An unexpected error ends the run as ``failed``: one line in the history (exit 1),
    the traceback in the log and in ``FlowOutcome.error`` (``tpa run --debug``)."""
    logging.getLogger("tpa").debug("run failed", exc_info=True)
    night.rec.status, night.rec.published = "failed", False
    night.rec.message = errors.one_line(exc)
    night.outcome.exit_code, night.outcome.error = 1, exc


def finish(night: Night) -> FlowOutcome:
    """Record the end of the run (history, summary artifact) and return its outcome."""
    outcome = night.outcome
    rec = outcome.record
    rec.finished_at = rec.finished_at or datetime.now().replace(microsecond=0)
    history.save_run(night.warehouse, rec)
    tasks.report_task(rec, summary_rows(outcome))
    return outcome
