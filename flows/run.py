"""One run, start to end, the same for every way a run starts (``tpa run`` and the
nightly deployment, ``flows.deploy``): check the folders, take the warehouse's run lock,
tidy what killed runs left, run the nightly flow, tell ``TPA_NOTIFY_URLS``, and settle
the exit status of ``docs/warehouse.md``:

====  =====================================================================
0     published (or nothing to do)
1     failed: the build failed, publishing was refused, or an unexpected error
2     the raw folder does not exist
3     built but not published (an analyst holds the warehouse; or it did not open)
4     another run holds the lock
5     not published: the drop zone emptied or shrank (issue 11)
6     Prefect could not start (issue 13)
====  =====================================================================

Nothing here changes the environment at import; ``run_night`` sets Prefect's quiet,
offline defaults (when unset) before Prefect is first imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from pipeline.config import Settings

PREFECT_DEFAULTS = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}


@dataclass
class Ended:
    """How a run ended: its exit status, its outcome when the flow ran
    (``flows.stages.FlowOutcome``), one line when it could not run or failed
    unexpectedly, the unexpected exception itself (``tpa run --debug``), what was tidied
    after killed runs, and the one-line problem of a notification that failed."""

    exit_code: int
    outcome: object | None = None
    message: str | None = None
    error: BaseException | None = None
    tidied: list[str] = field(default_factory=list)
    notify_problem: str | None = None


def prefect_defaults() -> None:
    """Prefect quiet and offline unless the caller said otherwise (read by Prefect when
    it is imported: call before)."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


def run_night(
    settings: Settings,
    trigger: str = "manual",
    rebuild: bool = False,
    on_tidied: Callable[[str], None] | None = None,
    progress: Callable[[], AbstractContextManager] = nullcontext,
) -> Ended:
    """Run the pipeline once on ``settings`` (raw folder, warehouse, ``lock_wait_s``…)
    and say how it ended (``Ended``); notify whatever the end. ``on_tidied`` is told each
    line of recovery; ``progress`` wraps the flow (a terminal progress bar).

    Never raises but ``KeyboardInterrupt``: an unexpected error is exit status 1 with
    one line, recorded ``failed`` in the run history."""
    from pipeline.run.notify import notify_run

    ended = _run_locked(settings, trigger, rebuild, on_tidied or (lambda line: None), progress)
    ended.notify_problem = notify_run(settings, ended.exit_code, ended.outcome, ended.message)
    return ended


def _run_locked(settings: Settings, trigger: str, rebuild: bool, on_tidied, progress) -> Ended:
    if not settings.raw_dir.is_dir():
        return Ended(2, message=f"raw folder not found: {settings.raw_dir}")
    prefect_defaults()
    from flows.api import PrefectStartError
    from pipeline.errors import one_line
    from pipeline.run.lock import RunLocked, run_lock
    from pipeline.run.recovery import recover

    tidied: list[str] = []
    try:
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with run_lock(settings.warehouse, wait_s=settings.lock_wait_s):
            tidied = recover(settings.warehouse)  # builds, extracts of killed runs
            for line in tidied:
                on_tidied(line)
            outcome = _flow(settings, trigger, rebuild, progress)
    except RunLocked as exc:
        return Ended(4, message=str(exc), tidied=tidied)
    except PrefectStartError as exc:
        return Ended(6, message=str(exc), tidied=tidied)
    except Exception as exc:  # recorded `failed` in the history (issue 11): one line
        return Ended(1, message=one_line(exc), error=exc, tidied=tidied)
    code = 1 if outcome.error is not None else outcome.exit_code
    return Ended(code, outcome, outcome.record.message, outcome.error, tidied)


def _flow(settings: Settings, trigger: str, rebuild: bool, progress):
    """``flows.nightly.run_flow`` under the lock; an unexpected error is recorded as a
    ``failed`` run before it goes up (Prefect's own start failure is recorded there)."""
    from flows.api import PrefectStartError
    from flows.nightly import run_flow

    try:
        with progress():
            return run_flow(settings.raw_dir, settings.warehouse, settings, trigger, rebuild)
    except Exception as exc:
        if not isinstance(exc, PrefectStartError):
            _record_failure(settings, exc)
        raise


def _record_failure(settings: Settings, exc: Exception) -> None:
    from pipeline.errors import one_line, record_failure
    from pipeline.run.state import runs_dir

    try:
        record_failure(runs_dir(settings.warehouse), one_line(exc))
    except OSError:
        pass  # the state folder itself may be what failed: the one line still goes out
