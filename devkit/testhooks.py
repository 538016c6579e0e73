"""The test suite's hooks, injected into a run by ``TPA_HOOKS=devkit.testhooks``
(``pipeline.hooks``); inert unless ``TPA_TEST_PAUSE_AT`` or ``TPA_TEST_CRASH`` is set.

``TPA_TEST_PAUSE_AT=extract|build|publish`` makes a run stop at that stage: it prints
``TPA_TEST_PAUSED <stage> <pid>`` on stderr and sleeps (up to ``TPA_TEST_PAUSE_S``
seconds, default 600), so that a test can SIGKILL it at that exact moment:

* ``extract``: inside ``pipeline.run.cache.save``, with a half-written ``.tmp-*`` extract;
* ``build``: inside ``pipeline.warehouse.build.build``, with the new DuckDB file half-written and open;
* ``publish``: the build is complete and closed, just before it is renamed over the warehouse.

Never set it in production: a paused run holds the run lock until it is killed.

``TPA_TEST_CRASH=<file name>:<how>`` makes the contained extraction child
(``pipeline.run.contain``) fail on that file: ``abort`` (SIGABRT), ``segv`` (SIGSEGV),
``panic`` (a BaseException, as pyo3's PanicException), ``oserror`` (an I/O error,
EIO), ``enospc`` (disk full), ``memory`` (allocates until the
memory limit stops it) or ``sleep`` (past the time limit). The parent's ``TPA_*`` variables
go to the child with each job.
"""

from __future__ import annotations

import os
import sys
import time

ENV = "TPA_TEST_PAUSE_AT"
CRASH_ENV = "TPA_TEST_CRASH"
MARKER = "TPA_TEST_PAUSED"


def at(point: str, run_stderr: int | None = None, path: str | None = None) -> None:
    """``pipeline.hooks`` calls this at each point: ``parse`` may crash on ``path``;
    ``extract``, ``build`` and ``publish`` may pause."""
    if point == "parse":
        crash(path or "", os.environ.get(CRASH_ENV))
    else:
        pause(point, run_stderr)


def pause(stage: str, run_stderr: int | None = None) -> None:
    """Pause here if ``TPA_TEST_PAUSE_AT`` names ``stage``; otherwise return at once.
    ``run_stderr``: where the marker line goes from a contained child."""
    if os.environ.get(ENV) != stage:
        return
    line = f"{MARKER} {stage} {os.getpid()}\n"
    if run_stderr is not None:  # in a contained child, whose own output goes to a file
        os.write(run_stderr, line.encode())
    else:
        print(line, end="", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("TPA_TEST_PAUSE_S", "600")))


class SimulatedPanic(BaseException):
    """Stands for pyo3's PanicException (a BaseException, not an Exception)."""


def crash(path: str, hook: str | None) -> None:
    """Fail as ``hook`` says when it names ``path``'s file; otherwise return at once."""
    if not hook:
        return
    name, _, how = hook.rpartition(":")
    if os.path.basename(path) != name:
        return
    if how == "abort":
        os.abort()
    if how == "segv":
        import ctypes

        ctypes.string_at(0)
    if how == "oserror":
        raise OSError(5, "Input/output error", path)
    if how == "enospc":  # the disk fills up while the extract is written
        raise OSError(28, "No space left on device", path)
    if how == "panic":
        raise SimulatedPanic("simulated reader panic")
    if how == "memory":
        hog = []
        while True:
            hog.append(bytearray(64 * 2**20))
    if how == "sleep":
        time.sleep(3600)
