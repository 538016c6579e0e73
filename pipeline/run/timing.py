"""Stage timings for benchmarks, switched on by ``TPA_TIMINGS_FILE`` (off: no cost).

``stage(name)`` adds wall and CPU seconds (CPU of the calling thread, so threads
and processes both count their own work) to the current thread's tally. Extract
workers append their tally as one JSON line to ``<file>.parts``; the flow sums the
parts with its own stages and writes ``<file>`` (``write_summary``).
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from contextlib import contextmanager
from pathlib import Path

_local = threading.local()


def enabled() -> bool:
    return bool(os.environ.get("TPA_TIMINGS_FILE"))


def _tally() -> dict:
    if not hasattr(_local, "tally"):
        _local.tally = {}
    return _local.tally


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stage(name: str, rows: int = 0):
    if not enabled():
        yield
        return
    w0, c0 = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        t = _tally().setdefault(name, {"wall": 0.0, "cpu": 0.0, "rows": 0, "peak_rss_mib": 0.0})
        t["wall"] += time.perf_counter() - w0
        t["cpu"] += time.thread_time() - c0
        t["rows"] += rows
        t["peak_rss_mib"] = max(t["peak_rss_mib"], peak_rss_mib())


def start() -> tuple[float, float] | None:
    """A clock for ``stop`` (None when timings are off)."""
    return (time.perf_counter(), time.thread_time()) if enabled() else None


def stop(name: str, clock: tuple[float, float] | None, rows: int = 0) -> None:
    """Add the time since ``start()`` to stage ``name`` (for stages with early returns)."""
    if clock is None:
        return
    t = _tally().setdefault(name, {"wall": 0.0, "cpu": 0.0, "rows": 0, "peak_rss_mib": 0.0})
    t["wall"] += time.perf_counter() - clock[0]
    t["cpu"] += time.thread_time() - clock[1]
    t["rows"] += rows
    t["peak_rss_mib"] = max(t["peak_rss_mib"], peak_rss_mib())


def add_rows(name: str, rows: int) -> None:
    if enabled():
        _tally().setdefault(name, {"wall": 0.0, "cpu": 0.0, "rows": 0, "peak_rss_mib": 0.0})[
            "rows"
        ] += rows


def flush_part() -> None:
    """Append this thread's tally to ``<file>.parts`` and reset it."""
    if not enabled():
        return
    tally, _local.tally = _tally(), {}
    if tally:
        with open(os.environ["TPA_TIMINGS_FILE"] + ".parts", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(tally) + "\n")


def discard_parts() -> None:
    """Forget worker tallies left by an earlier run that did not finish."""
    if enabled():
        Path(os.environ["TPA_TIMINGS_FILE"] + ".parts").unlink(missing_ok=True)


def write_summary(flow_stages: dict) -> None:
    """Sum the worker parts and the flow's own stages into ``TPA_TIMINGS_FILE``."""
    if not enabled():
        return
    path = Path(os.environ["TPA_TIMINGS_FILE"])
    total: dict = {}
    parts = path.with_name(path.name + ".parts")
    lines = parts.read_text(encoding="utf-8").splitlines() if parts.exists() else []
    for line in [*lines, json.dumps(flow_stages)]:
        for name, t in json.loads(line).items():
            s = total.setdefault(name, {"wall": 0.0, "cpu": 0.0, "rows": 0, "peak_rss_mib": 0.0})
            s["wall"] += t["wall"]
            s["cpu"] += t.get("cpu", 0.0)
            s["rows"] += t.get("rows", 0)
            s["peak_rss_mib"] = max(s["peak_rss_mib"], t.get("peak_rss_mib", 0.0))
    for s in total.values():
        s["rows_per_s"] = s["rows"] / s["wall"] if s["wall"] and s["rows"] else 0
    path.write_text(json.dumps(total, indent=1))
    parts.unlink(missing_ok=True)


def write_stages(clock: dict, report, rec) -> None:
    """Stage wall (and CPU) seconds of a run for ``make bench`` (only when
    ``TPA_TIMINGS_FILE`` is set): ``clock`` holds the flow's stage marks
    (``flows.stages``), ``report`` the build's own timings, ``rec`` the row counts; the
    extract workers' read/coerce/validate/cache tallies are added to them."""
    if not enabled():
        return
    end = time.perf_counter()
    rows = rec.rows_loaded + rec.rows_quarantined
    build = report.timings
    stages = {
        "discover": clock["discover"] - clock["start"],
        "extract": clock["extract"] - clock["discover"],
        **build,
        "publish": end - clock["extract"] - sum(build.values()),
        "pipeline": end - clock["start"],
    }
    cpu_end, rss_end = time.process_time(), peak_rss_mib()
    cpu = {
        "discover": clock["cpu_discover"] - clock["cpu"],
        "extract": clock["cpu_extract"] - clock["cpu_discover"],  # this process: workers apart
        **report.cpu,
        "publish": cpu_end - clock["cpu_extract"] - sum(report.cpu.values()),
        "pipeline": cpu_end - clock["cpu"],
    }
    # peak RSS of this process by the end of the stage (the workers' is in read..cache)
    rss = {"discover": clock["rss_discover"], "extract": clock["rss_extract"]}
    out = {
        k: {"wall": v, "rows": rows, "cpu": cpu.get(k, 0.0), "peak_rss_mib": rss.get(k, rss_end)}
        for k, v in stages.items()
    }
    write_summary(out)  # adds the read/coerce/validate/cache tallies of the workers
