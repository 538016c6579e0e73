"""Configuration (pydantic-settings): defaults, overridden by ``TPA_*`` environment variables
or CLI options. One warehouse path keeps one installation's state together."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Limit = float | tuple[float | None, float | None]


class Settings(BaseSettings):
    """Run settings. Sizes in MiB, times in seconds."""

    model_config = SettingsConfigDict(env_prefix="TPA_", env_file=None)

    raw_dir: Path = Path("data/raw")
    warehouse: Path = Path("data/processed/warehouse.duckdb")
    lang: str = "zh"  # zh | en: language of printed findings
    max_file_mib: int = 200  # a workbook larger than this is rejected
    max_unzipped_mib: int = 1024  # an .xlsx expanding beyond this is rejected (zip bomb)
    max_cells: int = 5_000_000  # per sheet: rows x columns spanned by cells with values
    publish_wait_s: float = 60.0  # wait for a read-write session on the warehouse to close
    lock_wait_s: float = 0.0  # wait for another run to finish
    # per attempt (one retry) for Prefect's temporary API server; a first start migrates its
    # database and a busy machine is slow (issue 13): Prefect's own default of 20 s fails there
    prefect_start_timeout_s: float = 120.0
    # DuckDB storage format of each build: DuckDB 1.x clients (the CLI, DBeaver, R) cannot
    # read 2.x's own format ("version number 69"); v1.0.0 is read by every 1.x and 2.x
    storage_version: str = "v1.0.0"
    # extract step: processes | threads | serial | dask | dask:<scheduler address>; processes
    # parse in worker processes only when 64+ workbooks are new (flows/nightly.py)
    task_runner: str = "processes"
    workers: int = 0  # 0: one per core
    # issue 11: a build that lost more than this fraction of the published warehouse's
    # workbooks or of any form's staging rows is not published (exit 5) unless allowed
    max_shrink: float = 0.2
    allow_shrink: bool = False  # accept such a build in this run (tpa run --allow-shrink)
    id_key: str | None = None  # HMAC key for ID numbers (hex or text); else id_key_file
    id_key_file: Path | None = None  # default: ~/.config/tpa/id_key (created 0600)
    # plausible ranges overriding the form specs [issue 11]: JSON {"form.column": high} or
    # {"form.column": [low, high]} in the staged unit (yuan for money, years for dates),
    # e.g. TPA_COLUMN_LIMITS='{"medical.inpatient_expense": 1e11}'
    column_limits: dict[str, Limit] = {}

    @field_validator("column_limits")
    @classmethod
    def _known_columns(cls, value: dict[str, Limit]) -> dict[str, Limit]:
        from pipeline.extract.limits import check_overrides

        return check_overrides(value)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mib * 2**20

    @property
    def max_unzipped_bytes(self) -> int:
        return self.max_unzipped_mib * 2**20
