"""The nightly flow: discover -> extract (new workbooks only, in parallel, cached by
SHA-256) -> build a new DuckDB file -> publish atomically -> outputs. The stages are
``flows.stages``; the tasks Prefect sees are ``flows.tasks``; where the extract step runs
is ``flows.runners``.

Runs with no Prefect server and no network: ``run_flow`` starts Prefect's temporary
API server when ``PREFECT_API_URL`` is unset (``flows.api.temporary_server``). Callers
go through ``flows.run.run_night``, which owns the run lock, recovery and exit status.
The personal-data key never becomes a flow parameter (flow parameters are stored by
the Prefect API and shown in its UI): ``run_flow`` hands it to the flow in memory.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

from prefect import flow
from pydantic import SecretStr

from flows import stages
from flows.api import PrefectStartError, temporary_server
from flows.runners import make_runner
from flows.stages import FlowOutcome
from pipeline.config import Settings
from pipeline.extract.personal import id_key
from pipeline.run import history

# The ID key of the run in progress: set by run_flow, never a flow parameter.
_ID_KEY: ContextVar[bytes | None] = ContextVar("tpa_id_key", default=None)


def _current_key() -> bytes | None:
    # A function, not the ContextVar itself, in the flow's code: process and Dask task
    # runners pickle the flow with the run context, and a ContextVar cannot be pickled.
    return _ID_KEY.get()


@flow(name="tpa-nightly", log_prints=False)
def nightly(
    raw_dir: str,
    warehouse: str,
    trigger: str = "manual",
    settings: Settings | None = None,
    rebuild: bool = False,
) -> FlowOutcome:
    """Run the whole pipeline once: discover → extract → build → publish → outputs.
    Never raises: bad input is reported, and anything unexpected ends the run as
    ``failed`` with a one-line message (exit 1), recorded in the run history.

    ``rebuild``: parse every workbook again instead of using cached extracts (workbooks
    no longer in the raw folder keep theirs)."""
    settings = settings or Settings()
    night = stages.begin(raw_dir, warehouse, trigger, settings, rebuild,
                         _current_key() or id_key(settings))  # fmt: skip
    try:
        subs = stages.discover(night)
        stages.extract(night, subs)
        if stages.build(night, subs) and stages.publish(night):
            stages.outputs(night)
    except Exception as exc:  # one line in the history; the traceback goes to the log
        stages.failed(night, exc)
    return stages.finish(night)


def public_settings(settings: Settings) -> Settings:
    """``settings`` without the ID key and notification URLs (what may be shown as a
    flow parameter)."""
    return settings.model_copy(update={"id_key": None, "notify_urls": SecretStr("")})


def run_flow(
    raw_dir: Path,
    warehouse: Path,
    settings: Settings,
    trigger: str = "manual",
    rebuild: bool = False,
) -> FlowOutcome:
    """Run the nightly flow on ``settings.task_runner`` (the caller holds the run lock:
    ``flows.run.run_night``).

    Raises ``flows.api.PrefectStartError`` when Prefect's temporary API server cannot be
    started (the run is recorded as ``failed`` with that reason)."""
    token = _ID_KEY.set(id_key(settings))
    try:
        runner = make_runner(settings)
        with temporary_server(Path(warehouse), settings):
            return nightly.with_options(task_runner=runner)(
                str(raw_dir), str(warehouse), trigger, public_settings(settings), rebuild
            )
    except PrefectStartError as exc:  # the run never started: its history says why
        rec = history.RunRecord(trigger=trigger, status="failed", message=str(exc))
        rec.finished_at = datetime.now().replace(microsecond=0)
        history.save_run(Path(warehouse), rec)
        raise
    finally:
        _ID_KEY.reset(token)
