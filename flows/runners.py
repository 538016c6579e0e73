"""Where the extract step runs: the task runner named by ``Settings.task_runner`` and how
the new workbooks of a night are cut into batches for it.

``processes`` (the default), ``threads``, ``serial``, ``dask`` (a local Dask cluster of
``Settings.workers`` processes) or ``dask:<scheduler address>`` (an existing cluster,
e.g. ``dask:tcp://10.0.0.5:8786``; its workers must see the raw and state folders).
``Settings.workers`` = 0 means one worker per core. Threads run one workbook per task
(parsing holds the GIL: no faster than serial); processes and Dask run batches of
workbooks (``batch_size``) and only when at least ``INLINE_BELOW`` are new — fewer are
parsed in the flow's thread, since starting workers costs more.
"""

from __future__ import annotations

import heapq
import os

from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.config import Settings

RUNNERS = ("threads", "processes", "serial", "dask", "dask:<address>")
INLINE_BELOW = 64


def workers(settings: Settings) -> int:
    """Worker processes (or threads) of the task runner: ``Settings.workers``, else cores."""
    return settings.workers or (os.cpu_count() or 1)


def make_runner(settings: Settings):
    """The task runner of the extract step (see the module docstring).

    Raises ``ValueError`` naming the choices for an unknown ``task_runner``."""
    kind, n = settings.task_runner, workers(settings)
    if kind in ("threads", "serial"):
        return ThreadPoolTaskRunner(max_workers=n if kind == "threads" else 1)
    if kind == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=n)
    if kind == "dask" or kind.startswith("dask:"):
        from prefect_dask import DaskTaskRunner

        address = kind.partition(":")[2]
        if address:
            return DaskTaskRunner(address=address)
        cluster = {"n_workers": n, "threads_per_worker": 1, "processes": True,
                   "dashboard_address": None}  # fmt: skip
        return DaskTaskRunner(cluster_kwargs=cluster)
    raise ValueError(f"unknown task runner {kind!r}; use one of {', '.join(RUNNERS)}")


def batch_size(settings: Settings, n: int) -> int:
    """Workbooks per extract task: one on threads (a task run per file in the UI); on
    processes and Dask about four tasks per worker, since every task run there pays
    Prefect's start-up in the worker (≈ 0.1–0.2 s, more than parsing a small workbook)."""
    if settings.task_runner in ("threads", "serial"):
        return 1
    return max(1, -(-n // (workers(settings) * 4)))


def balanced_batches(todo: list, k: int) -> list[list]:
    """``todo`` (submissions) in ``k`` batches of about equal bytes, largest batch first:
    the biggest county then starts at once instead of last (greedy longest-first)."""
    k = max(1, min(k, len(todo)))
    bins: list[tuple[int, int, list]] = [(0, i, []) for i in range(k)]
    for s in sorted(todo, key=lambda s: -s.found.size_bytes):
        total, i, items = heapq.heappop(bins)
        items.append(s)
        heapq.heappush(bins, (total + s.found.size_bytes, i, items))
    return [items for _, _, items in sorted(bins, key=lambda b: (-b[0], b[1])) if items]


def inline_below(settings: Settings) -> int:
    """On processes and Dask, fewer new workbooks than this (``INLINE_BELOW``) are parsed
    in the flow's own thread, as one task: starting worker processes (≈ 3 s) costs more
    than it saves (measured on 2 cores: the break-even is ≈ 70 sample workbooks). A usual
    night brings a few workbooks; a first load or ``--rebuild`` brings them all."""
    if settings.task_runner in ("threads", "serial"):
        return 0
    return INLINE_BELOW
