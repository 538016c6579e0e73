"""Configuration (pydantic-settings): defaults, overridden by ``TPA_*`` environment variables
or CLI options. One warehouse path keeps one installation's state together.

Choices are typed (issue 13): ``Lang`` and ``RunnerKind`` are Enums (the CLI lists their
values in ``--help``), a task runner is one of ``RunnerKind`` or ``dask:<scheduler
address>`` (checked by ``check_task_runner``), and the ID key is a ``SecretStr``: it
prints and serialises as ``**********`` and is read only through ``id_key_text``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.choices import RUNNER_CHOICES, Lang, RunnerKind, check_task_runner

__all__ = ["RUNNER_CHOICES", "Lang", "RunnerKind", "Settings", "check_task_runner"]

Limit = float | tuple[float | None, float | None]


TaskRunner = Annotated[str, AfterValidator(check_task_runner)]


class Settings(BaseSettings):
    """Run settings. Sizes in MiB, times in seconds."""

    model_config = SettingsConfigDict(env_prefix="TPA_", env_file=None, validate_assignment=True)

    raw_dir: Path = Path("data/raw")
    warehouse: Path = Path("data/processed/warehouse.duckdb")
    lang: Lang = Lang.zh  # language of printed findings
    max_file_mib: int = 200  # a workbook larger than this is rejected
    max_unzipped_mib: int = 1024  # an .xlsx expanding beyond this is rejected (zip bomb)
    max_cells: int = 5_000_000  # per sheet: rows x columns spanned by cells with values
    # characters all text cells of a workbook expand to (a shared string counts once per
    # cell that refers to it): 100,000 cells x one 32,000-character string is refused
    max_expanded_chars: int = 200_000_000
    # each workbook is parsed in a child process (pipeline/run/contain.py) with these limits;
    # a file hitting one is rejected for this run (resource_limit) and tried again next run
    extract_memory_mib: int = 3072  # address space of the child
    extract_timeout_s: float = 600.0  # wall time per workbook
    # a zip in the drop zone is read in place: at most this many files in it, and at most
    # max_unzipped_mib expanded in all (issue 12 item 6)
    max_archive_members: int = 200
    publish_wait_s: float = 60.0  # wait for a read-write session on the warehouse to close
    lock_wait_s: float = 0.0  # wait for another run to finish
    # per attempt (one retry) for Prefect's temporary API server; a first start migrates its
    # database and a busy machine is slow (issue 13): Prefect's own default of 20 s fails there
    prefect_start_timeout_s: float = 120.0
    # DuckDB storage format of each build: DuckDB 1.x clients (the CLI, DBeaver, R) cannot
    # read 2.x's own format ("version number 69"); v1.0.0 is read by every 1.x and 2.x
    storage_version: str = Field("v1.0.0", pattern=r"^v\d+\.\d+\.\d+$")
    # extract step: a RunnerKind or dask:<scheduler address>; processes parse in worker
    # processes only when 64+ workbooks are new (flows/nightly.py)
    task_runner: TaskRunner = RunnerKind.processes.value
    workers: int = 0  # 0: one per core
    # issue 11: a build that lost more than this fraction of the published warehouse's
    # workbooks or of any form's staging rows is not published (exit 5) unless allowed
    max_shrink: float = 0.2
    allow_shrink: bool = False  # accept such a build in this run (tpa run --allow-shrink)
    # HMAC key for ID numbers (hex or text); else id_key_file. A secret: never printed,
    # serialised or passed as a flow parameter (flows.nightly.public_settings)
    id_key: SecretStr | None = None
    id_key_file: Path | None = None  # default: ~/.config/tpa/id_key (created 0600)
    # plausible ranges overriding the form specs [issue 11]: JSON {"form.column": high} or
    # {"form.column": [low, high]} in the staged unit (yuan for money, years for dates),
    # e.g. TPA_COLUMN_LIMITS='{"medical.inpatient_expense": 1e11}'
    column_limits: dict[str, Limit] = {}
    # issue 13: after a publish, the HTML report and xlsx export of the latest period with a
    # submission go to reports/ and exports/ beside the warehouse (tpa run --no-outputs: off)
    outputs: bool = True
    keep_releases: int = 30  # newest releases kept; a release holding a first-published value stays
    # apprise URLs (comma or space separated) told of every exit status but 0 and 2, and of
    # nights passing the thresholds below; empty: nobody is told
    notify_urls: SecretStr = SecretStr("")  # webhook URLs carry tokens: a secret too
    notify_rejected_files: int = 1  # files newly rejected in a run to notify about (0: never)
    notify_quarantined_rows: int = (
        1000  # rows newly quarantined in a run to notify about (0: never)
    )
    # issue 14: a module whose at(point, **context) a run calls at its test points
    # (pipeline.hooks reads TPA_HOOKS itself: contained children have no Settings); the
    # test suite sets devkit.testhooks. Never set in production.
    hooks: str | None = None

    @field_validator("column_limits")
    @classmethod
    def _known_columns(cls, value: dict[str, Limit]) -> dict[str, Limit]:
        if not value:  # the usual case: no need to import the form specs (and pandas)
            return value
        from pipeline.extract.limits import check_overrides

        return check_overrides(value)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mib * 2**20

    @property
    def max_unzipped_bytes(self) -> int:
        return self.max_unzipped_mib * 2**20

    @property
    def id_key_text(self) -> str | None:
        """The ID key in clear (only for ``pipeline.extract.personal.load_key``), or None."""
        return self.id_key.get_secret_value() if self.id_key is not None else None

    @property
    def notify_list(self) -> list[str]:
        """``notify_urls`` split on commas and white space."""
        return [u for u in re.split(r"[,\s]+", self.notify_urls.get_secret_value()) if u]
