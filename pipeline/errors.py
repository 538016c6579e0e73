"""One line for every failure (issue 11, item 8): what happened, to which file or
resource, and what to do. Tracebacks are for ``tpa run --debug`` only.

``one_line(exc)`` looks through the exception and its causes for one it knows: an
``OSError`` by errno (disk full, permission denied, a file that vanished, an I/O error
of the disk or share, a read-only filesystem, too many open files), a DuckDB I/O error
(DuckDB reports a full disk as ``IOException: … No space left on device``), a worker
process that died, memory exhausted. Anything else gives its type and the first line
of its message.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

DEBUG_HINT = "run again with --debug for the details"

_DUCKDB_FILE = re.compile(r'(?:file|directory) "([^"]+)"')


def _chain(exc: BaseException) -> list[BaseException]:
    seen, out = set(), []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _os_error(exc: OSError) -> str | None:
    where = exc.filename or "a file"
    if exc.filename2:
        where = f"{exc.filename} -> {exc.filename2}"
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"disk full: no space left writing {where}; free space on that disk "
            "(or move the warehouse with TPA_WAREHOUSE) and run again"
        )
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"permission denied: {where}; give the user running tpa read and write access "
            "to it (or choose other folders with --raw-dir / TPA_WAREHOUSE) and run again"
        )
    if code == errno.ENOENT:
        return (
            f"{where} vanished while tpa was using it (moved or deleted during the run); "
            "the next run reads the drop zone as it is then"
        )
    if code == errno.EROFS:
        return f"read-only file system: cannot write {where}; remount it read-write or move it"
    if code == errno.EMFILE or code == errno.ENFILE:
        return f"too many open files (at {where}); raise the limit (ulimit -n) or lower TPA_WORKERS"
    if code == errno.EIO:
        return f"Input/output error on {where}; check the disk or the network share, run again"
    if code is not None:
        return f"{exc.strerror or type(exc).__name__}: {where}; {DEBUG_HINT}"
    return None


def _duckdb_error(exc: BaseException) -> str | None:
    text = str(exc)
    if "No space left on device" in text:
        m = _DUCKDB_FILE.search(text)
        where = m.group(1) if m else "the warehouse build"
        return (
            f"disk full: no space left writing {where}; free space on that disk "
            "(or move the warehouse with TPA_WAREHOUSE) and run again"
        )
    if "Permission denied" in text:
        m = _DUCKDB_FILE.search(text)
        return f"permission denied: {m.group(1) if m else 'a DuckDB file'}; give tpa access to it"
    return None


def one_line(exc: BaseException) -> str:
    """One line (no newline) saying what ``exc`` means and what to do."""
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, BrokenProcessPool):
            return (
                "a worker process died (killed, or out of memory) while parsing workbooks; "
                "run again (lower TPA_WORKERS if memory is short)"
            )
        if isinstance(e, MemoryError):
            return "out of memory; lower TPA_WORKERS, or run on a machine with more memory"
        if isinstance(e, OSError):
            line = _os_error(e)
            if line:
                return line
        if type(e).__module__.startswith(("duckdb", "_duckdb")):
            line = _duckdb_error(e)
            if line:
                return line
    msg = _first_line(str(exc))
    return (
        f"{type(exc).__name__}: {msg}; {DEBUG_HINT}"
        if msg
        else f"{type(exc).__name__}; {DEBUG_HINT}"
    )


class _RunFailureFilter(logging.Filter):
    """Drops Prefect's ERROR records of failed task and flow runs (each with a
    traceback): ``tpa run`` says what failed in one line of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        noisy = record.name.startswith(("prefect.task_runs", "prefect.flow_runs"))
        return not (noisy and record.levelno >= logging.ERROR)


@contextmanager
def quiet_run_failures() -> Iterator[None]:
    """While the block runs, console handlers of the logging tree drop Prefect's
    tracebacks of failed runs (``tpa run`` without ``--debug``); the records still
    reach Prefect's API (its UI shows them)."""
    import prefect.main  # noqa: F401  (sets up Prefect's logging, as a run would)
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()
    flt = _RunFailureFilter()
    loggers = [logging.getLogger()]
    loggers += [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    handlers = {
        id(h): h
        for lg in loggers
        for h in lg.handlers
        if isinstance(h, logging.StreamHandler) and "api" not in type(h).__name__.lower()
    }
    for h in handlers.values():
        h.addFilter(flt)
    try:
        yield
    finally:
        for h in handlers.values():
            h.removeFilter(flt)


def record_failure(runs_folder: Path, message: str) -> list[str]:
    """Mark the run records of ``runs_folder`` still ``running`` as ``failed`` with
    ``message``; return their run ids. Call it under the run lock, from the run that
    failed: no other run can be in progress then, so a ``running`` record is this run's
    (without it, the next run would relabel it ``killed``)."""
    done = []
    for p in sorted(Path(runs_folder).glob("*.json")):
        try:
            row = json.loads(p.read_text(encoding="utf-8"))
            if row.get("status") != "running":
                continue
            row.update(status="failed", message=message)
            row["finished_at"] = row.get("finished_at") or datetime.now().isoformat(
                sep=" ", timespec="seconds"
            )
            tmp = p.with_suffix(".tmp")
            tmp.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, p)
            done.append(str(row.get("run_id")))
        except (OSError, ValueError, AttributeError):
            continue  # the disk may be the very problem: the one line still goes out
    return done
