"""The nightly deployment: every night at 02:00 Asia/Shanghai, one run at a time.

``make serve`` (``python -m flows.deploy``) serves it against the Prefect API named by
``PREFECT_API_URL`` (``make server`` starts one on 127.0.0.1:4200 with its UI). A run
that starts late, or twice, is harmless: runs take the run lock in turn and each
builds the warehouse from the raw folder as it is.
"""

from __future__ import annotations

import os
from datetime import timedelta

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from prefect import flow, serve  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows.nightly import nightly  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.runlock import run_lock  # noqa: E402

CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"
LOCK_WAIT_S = timedelta(hours=1).total_seconds()


@flow(name="tpa-nightly-scheduled", retries=1, retry_delay_seconds=300)
def scheduled(raw_dir: str = "data/raw", warehouse: str = "data/processed/warehouse.duckdb") -> int:
    """Take the run lock (waiting up to an hour), run the pipeline, fail the flow run
    when the build failed or could not be published (exit status 1 or 3)."""
    settings = Settings(raw_dir=raw_dir, warehouse=warehouse)
    with run_lock(settings.warehouse, wait_s=LOCK_WAIT_S):
        outcome = nightly(raw_dir, warehouse, "schedule", settings)
    if outcome.exit_code:
        raise RuntimeError(
            f"tpa run ended with status {outcome.exit_code}: {outcome.record.message}"
        )
    return outcome.exit_code


def deployment(raw_dir: str = "data/raw", warehouse: str = "data/processed/warehouse.duckdb"):
    """The deployment object (cron, timezone and concurrency checked by the tests)."""
    return scheduled.to_deployment(
        name="nightly",
        schedule=Cron(CRON, timezone=TIMEZONE),
        concurrency_limit=1,
        parameters={
            "raw_dir": str(os.path.abspath(raw_dir)),
            "warehouse": str(os.path.abspath(warehouse)),
        },
        description="tpa nightly: county workbooks -> DuckDB warehouse",
        tags=["tpa", "nightly"],
    )


if __name__ == "__main__":  # pragma: no cover
    serve(
        deployment(
            os.environ.get("TPA_RAW_DIR", "data/raw"),
            os.environ.get("TPA_WAREHOUSE", "data/processed/warehouse.duckdb"),
        )
    )
