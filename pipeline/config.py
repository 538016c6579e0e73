"""Configuration (pydantic-settings): defaults, overridden by ``TPA_*`` environment variables
or CLI options. One warehouse path keeps one installation's state together."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Run settings. Sizes in MiB, times in seconds."""

    model_config = SettingsConfigDict(env_prefix="TPA_", env_file=None)

    raw_dir: Path = Path("data/raw")
    warehouse: Path = Path("data/processed/warehouse.duckdb")
    lang: str = "zh"  # zh | en: language of printed findings
    max_file_mib: int = 200  # a workbook larger than this is rejected
    max_unzipped_mib: int = 1024  # an .xlsx expanding beyond this is rejected (zip bomb)
    max_cells: int = 5_000_000  # per sheet: rows x columns spanned by cells with values
    # a zip in the drop zone is read in place: at most this many files in it, and at most
    # max_unzipped_mib expanded in all (issue 12 item 6)
    max_archive_members: int = 200
    publish_wait_s: float = 60.0  # wait for a read-write session on the warehouse to close
    lock_wait_s: float = 0.0  # wait for another run to finish
    # per attempt (one retry) for Prefect's temporary API server; a first start migrates its
    # database and a busy machine is slow (issue 13): Prefect's own default of 20 s fails there
    prefect_start_timeout_s: float = 120.0
    # extract step: processes | threads | serial | dask | dask:<scheduler address>; processes
    # parse in worker processes only when 64+ workbooks are new (flows/nightly.py)
    task_runner: str = "processes"
    workers: int = 0  # 0: one per core
    id_key: str | None = None  # HMAC key for ID numbers (hex or text); else id_key_file
    id_key_file: Path | None = None  # default: ~/.config/tpa/id_key (created 0600)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mib * 2**20

    @property
    def max_unzipped_bytes(self) -> int:
        return self.max_unzipped_mib * 2**20
