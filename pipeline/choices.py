"""The typed choices of settings and CLI options (issue 13), in a module without pydantic so
that ``tpa --help`` and other quick commands need not import the settings machinery."""

from __future__ import annotations

import re
from enum import StrEnum


class Lang(StrEnum):
    """Language of printed findings, reports and messages."""

    zh = "zh"
    en = "en"


class RunnerKind(StrEnum):
    """Task runners of the extract step (``dask:<address>`` names an existing cluster)."""

    processes = "processes"
    threads = "threads"
    serial = "serial"
    dask = "dask"


# dask:<scheduler address>: tcp://host:port, tls://host:port, or host:port (IPv6 in brackets)
_DASK_ADDRESS = re.compile(
    r"^dask:((tcp|tls|inproc|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[\w.-]+)(:\d{1,5})?$"
)
RUNNER_CHOICES = ", ".join([*(k.value for k in RunnerKind), "dask:<scheduler address>"])


def check_task_runner(value: str) -> str:
    """``value`` when it is a ``RunnerKind`` or ``dask:<address>`` (e.g.
    ``dask:tcp://10.0.0.5:8786``). Raises ValueError naming the choices otherwise."""
    text = str(value).strip()
    if text in RunnerKind.__members__ or _DASK_ADDRESS.match(text):
        return text
    raise ValueError(f"unknown task runner {text!r}; use one of {RUNNER_CHOICES}")
