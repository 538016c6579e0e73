"""Contained extraction (issue 11): every workbook is parsed in a child process with
memory and time limits, whatever the task runner (serial, threads, processes, Dask),
so that no file can stop the night or take the others with it.

* One child per calling thread, forked from a forkserver that has the parsing modules
  imported (a new child costs a fork, not pandas' imports). It parses file after file
  and is replaced when it dies, when a file hit a limit or crashed the reader, and
  after ``MAX_JOBS`` files (its heap does not grow for ever).
* Limits, applied in the child: ``Settings.extract_memory_mib`` of address space
  (``RLIMIT_AS``: a Python allocation past it raises MemoryError, a Rust one aborts);
  ``Settings.extract_timeout_s`` of wall time per file (the parent kills the child),
  backed by ``RLIMIT_CPU`` (the child dies on its own if the parent is gone).
* What the child prints (a Rust panic, an allocator's last words) goes to a file,
  never to the run's output; its last line helps name the cause.
* The outcome of each file is its own (``Outcome``): a folder, or a one-line error
  with a reason: ``resource_limit`` (memory or time: not cached, the next run tries
  again), ``reader_crashed`` (a panic, segfault or abort: not cached either),
  ``read_error`` (an OSError: the file vanished, changed or could not be read).

Before each parse the child passes the ``parse`` point of ``pipeline.hooks``: the test
suite injects ``devkit.testhooks`` there (``TPA_TEST_CRASH``) to fail on a chosen file.
The parent's ``TPA_*`` variables go to the child with each job.
"""

from __future__ import annotations

import importlib.machinery
import multiprocessing
import os
import resource
import signal
import sys
import tempfile
import threading
import time
import types
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings
from pipeline.run import cache

MAX_JOBS = 64  # files parsed by one child before it is replaced
TRANSIENT_RETRIES = 2  # further attempts on a transient OSError, RETRY_DELAY_S apart
RETRY_DELAY_S = 2.0
_PRELOAD = ["pipeline.run.parse", "pipeline.run.contain_warm"]  # imported once by the forkserver


@dataclass(frozen=True)
class Outcome:
    """What became of one workbook.

    ``folder``: its complete extract (None when it was not read); ``parsed``: parsed now
    (not from the cache); ``reason``: ``resource_limit``, ``reader_crashed`` or
    ``read_error`` when unread; ``limit``: ``memory`` or ``time`` for
    ``resource_limit``; ``error``: one line naming the file; ``transient``: an I/O
    error that a retry may cure.
    """

    folder: str | None
    parsed: bool = False
    reason: str | None = None
    limit: str | None = None
    error: str | None = None
    transient: bool = False


# ------------------------------------------------------------------ the child


def _child_setup(memory_bytes: int, stderr_path: str) -> None:
    fd = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
    os.unlink(stderr_path)  # the parent holds it open: gone with both, whatever happens
    from pipeline import hooks

    hooks.run_stderr = os.dup(2)  # the run's stderr, for an injected test hook only
    os.dup2(fd, 1)  # nothing the reader prints reaches the run's output
    os.dup2(fd, 2)
    os.close(fd)
    try:  # Arrow's own allocator reserves address space up front: use malloc's
        import pyarrow

        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    except Exception:  # pragma: no cover - pyarrow is a dependency
        pass
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _cpu_deadline(timeout_s: float) -> None:
    """Let this process use ``timeout_s`` more CPU seconds (SIGXCPU past them)."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(use.ru_utime + use.ru_stime + timeout_s) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))


def _tpa_env() -> dict[str, str]:
    """The parent's ``TPA_*`` variables, sent with each job: the forkserver's environment
    is the one it was started with (timings, test hooks and checks set later count)."""
    return {k: v for k, v in os.environ.items() if k.startswith("TPA_")}


def _sync_env(env: dict[str, str]) -> None:
    for k in [k for k in os.environ if k.startswith("TPA_") and k not in env]:
        del os.environ[k]
    os.environ.update(env)


def _run_job(job: tuple) -> tuple:
    """One job in the child: ``("extract", path, sha256, folder, settings, key, env,
    member)`` or ``("check", path, sha256, None, settings, key, env, None)``; ``env``:
    ``_tpa_env``; ``member``: a zip member of ``path`` read in place, or None."""
    from pipeline import hooks
    from pipeline.run import parse

    kind, path, sha256, folder, settings, key, env, member = job
    _sync_env(env)
    try:
        hooks.at("parse", path=path)
        if kind == "check":
            return ("result", parse.extract_result(path, sha256, settings, key)[0])
        out, parsed = parse.extract_one(path, sha256, folder, settings, key, member)
        return ("ok", out, parsed)
    except MemoryError:
        return ("memory", "MemoryError")
    except OSError as exc:
        from pipeline.errors import one_line  # disk full, permission denied: what to do

        return ("oserror", type(exc).__name__, one_line(exc), _transient(exc))
    except Exception as exc:
        return ("crash", type(exc).__name__, _one_line(str(exc)))
    except BaseException as exc:  # pyo3's PanicException is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return ("crash", type(exc).__name__, _one_line(str(exc)))


def _child_main(conn, memory_bytes: int, timeout_s: float, stderr_path: str) -> None:
    _child_setup(memory_bytes, stderr_path)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if job is None:
            return
        _cpu_deadline(timeout_s)
        conn.send(_run_job(job))


# ------------------------------------------------------------------ the parent side


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and not isinstance(
        exc, FileNotFoundError | IsADirectoryError | NotADirectoryError
    )


def _context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


class _Child:
    """One child process and its pipe; ``jobs`` counts the files it has parsed."""

    def __init__(self, memory_bytes: int, timeout_s: float):
        self.limits = (memory_bytes, timeout_s)
        fd, self.stderr_path = tempfile.mkstemp(prefix="tpa-extract-", suffix=".log")
        self.stderr = os.fdopen(fd, "rb")  # what the child prints, read after it dies
        ctx = _context()
        self.conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(
            target=_child_main,
            args=(child_conn, memory_bytes, timeout_s, self.stderr_path),
            daemon=True,
            name="tpa-extract",
        )
        with _children_allowed():
            self.proc.start()
        child_conn.close()
        self.jobs = 0

    def ask(self, job: tuple, timeout_s: float) -> tuple:
        """Send ``job``; its reply, ``("timeout",)`` or ``("died", exitcode, last line)``."""
        self.jobs += 1
        try:
            self.conn.send(job)
            ready = self.conn.poll(timeout_s)
            if ready:
                return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            return self._died()
        self.kill()
        return ("timeout",)

    def _died(self) -> tuple:
        self.proc.join(10)
        code, last = self.proc.exitcode, self._last_line()
        self.close()
        return ("died", code, last)

    def _last_line(self) -> str:
        try:
            size = os.fstat(self.stderr.fileno()).st_size
            tail = os.pread(self.stderr.fileno(), 4096, max(0, size - 4096))
        except (OSError, ValueError):
            return ""
        lines = tail.decode("utf-8", "replace").strip().splitlines()
        return _one_line(lines[-1]) if lines else ""

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(10)
        self.close()

    def close(self) -> None:
        self.conn.close()
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self.stderr.close()
        Path(self.stderr_path).unlink(missing_ok=True)  # a child that died first


class _children_allowed:
    """While a child is started:

    * Dask's worker processes are daemonic, and multiprocessing refuses children to a
      daemonic process (so that they are not orphaned). Ours die with their pipe and
      their CPU limit, so the flag is lifted.
    * A forkserver child imports the parent's ``__main__`` again (the ``tpa`` script,
      pytest, a user's script without a main guard). Everything it needs is in
      ``pipeline``, so ``__main__`` is shown as a module named ``__main__``, which
      multiprocessing does not import again.
    """

    def __enter__(self):
        cfg = multiprocessing.current_process()._config
        self.was = cfg.get("daemon")
        cfg.pop("daemon", None)
        self.main = sys.modules.get("__main__")
        stand_in = types.ModuleType("__main__")
        stand_in.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
        sys.modules["__main__"] = stand_in

    def __exit__(self, *exc):
        if self.main is not None:
            sys.modules["__main__"] = self.main
        if self.was is not None:
            multiprocessing.current_process()._config["daemon"] = self.was


_local = threading.local()


def _child(settings: Settings) -> _Child:
    """This thread's child, started anew when there is none, it has died, its limits
    are not these, or it has parsed ``MAX_JOBS`` files."""
    limits = (settings.extract_memory_mib * 2**20, float(settings.extract_timeout_s))
    child = getattr(_local, "child", None)
    if child is not None and (
        child.limits != limits or child.jobs >= MAX_JOBS or not child.proc.is_alive()
    ):
        child.close()
        child = None
    if child is None:
        child = _local.child = _Child(*limits)
    return child


def _drop_child() -> None:
    child = getattr(_local, "child", None)
    if child is not None:
        child.kill()
        _local.child = None


def _signal_name(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def _died_outcome(name: str, code: int | None, last: str, settings: Settings) -> Outcome:
    """A child that died: out of memory (the allocator said so, or the kernel killed
    it), out of CPU time (SIGXCPU), or a crash of the reader."""
    mem = f"{settings.extract_memory_mib:,} MiB"
    if code == -signal.SIGXCPU:
        return _limit(name, "time", f"more than {settings.extract_timeout_s:g} s of CPU")
    if "memory allocation" in last or "MemoryError" in last or code == -signal.SIGKILL:
        return _limit(name, "memory", f"more than {mem} of memory ({_signal_name(code)})")
    what = f"{_signal_name(code)}" + (f": {last}" if last else "")
    return Outcome(None, reason="reader_crashed", error=f"{name}: the reader crashed ({what})")


def _limit(name: str, limit: str, detail: str) -> Outcome:
    return Outcome(
        None, reason="resource_limit", limit=limit, error=f"{name}: reading it needed {detail}"
    )


def _outcome(reply: tuple, name: str, settings: Settings) -> Outcome:
    kind = reply[0]
    if kind == "ok":
        return Outcome(reply[1], parsed=reply[2])
    if kind == "timeout":
        return _limit(name, "time", f"more than {settings.extract_timeout_s:g} s")
    if kind == "memory":
        return _limit(name, "memory", f"more than {settings.extract_memory_mib:,} MiB of memory")
    if kind == "oserror":
        _, cls, text, transient = reply
        if cls == "FileNotFoundError":
            text = "the file vanished: it is no longer there (moved or deleted during the run)"
        return Outcome(
            None, reason="read_error", error=f"{name}: {cls}: {text}", transient=transient
        )
    if kind == "died":
        return _died_outcome(name, reply[1], reply[2], settings)
    _, cls, text = reply  # "crash"
    return Outcome(
        None, reason="reader_crashed", error=f"{name}: the reader failed ({cls}: {text})"
    )


def _ask(job: tuple, settings: Settings) -> tuple:
    child = _child(settings)
    reply = child.ask(job, float(settings.extract_timeout_s))
    if reply[0] not in ("ok", "oserror", "result"):
        _drop_child()  # after a limit or a crash, a fresh child for the next file
    return reply


def extract_contained(
    path: str,
    sha256: str,
    folder: str,
    settings: Settings,
    key: bytes,
    member: str | None = None,
) -> Outcome:
    """Extract one workbook into ``folder`` (``pipeline.run.parse.extract_one``; ``member``: a
    zip member of ``path``) in a contained child; never raises for anything the file
    does. One attempt."""
    if cache.is_cached(Path(folder)):
        return Outcome(folder)
    job = ("extract", path, sha256, folder, settings, key, _tpa_env(), member)
    name = member.rsplit("/", 1)[-1] if member else Path(path).name
    return _outcome(_ask(job, settings), name, settings)


def extract_files(files: list[tuple], settings: Settings, key: bytes) -> dict[str, Outcome]:
    """``extract_contained`` for each (path, sha256, folder[, zip member]); a transient I/O
    error is tried again ``TRANSIENT_RETRIES`` times, ``RETRY_DELAY_S`` apart. SHA-256 ->
    Outcome."""
    out = {}
    for path, sha256, folder, *member in files:
        for attempt in range(TRANSIENT_RETRIES + 1):
            o = extract_contained(path, sha256, folder, settings, key, *member)
            if not o.transient or attempt == TRANSIENT_RETRIES:
                break
            time.sleep(RETRY_DELAY_S)
        out[sha256] = o
    return out


def check_contained(path: Path, sha256: str, settings: Settings, key: bytes):
    """The ``ExtractResult`` of ``path`` (``tpa check``), parsed in a contained child; a
    file that hits a limit or crashes the reader comes back rejected with that reason."""
    from pipeline.run import unread

    job = ("check", str(path), sha256, None, settings, key, _tpa_env(), None)
    reply = _ask(job, settings)
    if reply[0] == "result":
        return reply[1]
    o = _outcome(reply, path.name, settings)
    return unread.unread_result(sha256, path.name, o.error or "", o.reason, o.limit)
