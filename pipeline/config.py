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
    # characters all text cells of a workbook expand to (a shared string counts once per
    # cell that refers to it): 100,000 cells x one 32,000-character string is refused
    max_expanded_chars: int = 200_000_000
    # each workbook is parsed in a child process (pipeline/contain.py) with these limits;
    # a file hitting one is rejected for this run (resource_limit) and tried again next run
    extract_memory_mib: int = 3072  # address space of the child
    extract_timeout_s: float = 600.0  # wall time per workbook
    publish_wait_s: float = 60.0  # wait for a read-write session on the warehouse to close
    lock_wait_s: float = 0.0  # wait for another run to finish
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
