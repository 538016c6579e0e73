"""The nightly deployment: every night at 02:00 Asia/Shanghai, one run at a time.

``make serve`` (``python -m flows.deploy``) serves it against the Prefect API named by
``PREFECT_API_URL`` (``make server`` starts one on 127.0.0.1:4200 with its UI). The
raw folder and warehouse come from ``TPA_RAW_DIR`` and ``TPA_WAREHOUSE`` (defaults
``data/raw`` and ``data/processed/warehouse.duckdb``, made absolute); every other
``TPA_*`` setting (task runner, workers, ID key file…) is read by the serving process.

A run that starts late, or twice, is harmless: the deployment's concurrency limit is 1
(a second run is queued, not dropped), each run takes the warehouse's run lock
(waiting up to an hour for a manual ``tpa run``), tidies what a killed run left, and
builds the warehouse from the raw folder as it is — the same files give the same
warehouse. A failed run (build failed, or not published because an analyst holds the
warehouse read-write) fails the flow run and is retried once after five minutes.
"""

from __future__ import annotations

import os
from datetime import timedelta

from prefect import flow, serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.api import wait_for_api
from flows.run import run_night
from pipeline.config import Settings

CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"
LOCK_WAIT_S = timedelta(hours=1).total_seconds()
DEPLOYMENT = "nightly"


@flow(name="tpa-nightly-scheduled", retries=1, retry_delay_seconds=300, log_prints=True)
def scheduled(raw_dir: str = "data/raw", warehouse: str = "data/processed/warehouse.duckdb") -> int:
    """One run through ``flows.run.run_night`` (the same function as ``tpa run``: lock,
    recovery, flow, notification, exit status), waiting up to an hour for the lock; fail
    the flow run when the run did not publish (any status but 0)."""
    # TPA_ALLOW_SHRINK would outlive one run in the serving process: `tpa allow-shrink`
    # lets the next scheduled run through instead (pipeline.run.dropzone)
    settings = Settings(raw_dir=raw_dir, warehouse=warehouse, allow_shrink=False,
                        lock_wait_s=LOCK_WAIT_S)  # fmt: skip
    ended = run_night(settings, "schedule", on_tidied=print)
    _say(ended.notify_problem)
    outcome = ended.outcome
    for line in outcome.after.problems if outcome is not None and outcome.after else []:
        print(line)
    if ended.exit_code:
        raise RuntimeError(f"tpa run ended with status {ended.exit_code}: {ended.message}")
    return ended.exit_code


def _say(line: str | None) -> None:
    if line:  # one line in the flow run's log; never a failure
        print(line)


def deployment(raw_dir: str = "data/raw", warehouse: str = "data/processed/warehouse.duckdb"):
    """The deployment object (cron, timezone, concurrency and parameters checked by the tests)."""
    return scheduled.to_deployment(
        name=DEPLOYMENT,
        schedule=Cron(CRON, timezone=TIMEZONE),
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        ),
        parameters={
            "raw_dir": str(os.path.abspath(raw_dir)),
            "warehouse": str(os.path.abspath(warehouse)),
        },
        description="tpa nightly: county workbooks -> DuckDB warehouse",
        tags=["tpa", "nightly"],
    )


if __name__ == "__main__":  # pragma: no cover
    api = os.environ.get("PREFECT_API_URL")
    if api and not wait_for_api(api, timeout_s=300):  # the server may still be starting
        raise SystemExit(f"no Prefect API answers at {api}: start it with `make server`")
    serve(
        deployment(
            os.environ.get("TPA_RAW_DIR", "data/raw"),
            os.environ.get("TPA_WAREHOUSE", "data/processed/warehouse.duckdb"),
        )
    )
