"""Publish a finished build over the warehouse analysts read, without ever leaving a
warehouse nobody can open (case 15).

A build is a new DuckDB file in ``<state>/builds/`` (``pipeline.run.state``), on the same
filesystem as the published file, so publishing is one ``os.replace`` (atomic) plus an
fsync of the folders. Analysts who hold the old file open keep reading their snapshot
(the old inode lives until they close it); new connections see the new file.

What DuckDB 2.0.1 does here (measured on this machine):

* Readers (``read_only=True``) hold a POSIX whole-file READ lock; a read-write session
  holds a WRITE lock and, after its first write, a ``<warehouse>.wal`` beside the file
  (open for writing in that process; readers never keep the WAL open). A read-write
  session that has not written yet has no WAL but still holds the lock.
* Opening read-only while a writer holds the file fails at once with ``IO Error: Could
  not set lock on file "<path>": Conflicting lock is held in <program> (PID <n>)`` (``…
  by user <u>`` when another user; ``held in PID -1`` for an open-file-description lock).
* If a file is renamed over the path while a writer's WAL is beside it, every new
  connection fails with ``Failure while replaying WAL file "<path>.wal": WAL does not
  match database file`` until the writer closes (its close checkpoints into the old inode
  and deletes the WAL by name). A WAL left by a killed session stays for ever: read-only
  opens replay it in memory and leave it, and a file renamed over it cannot be opened.

So publishing (1) checks the build opens read-only and has tables, (2) waits while a
read-write session holds the published file (detected by test-opening it read-only in a
child process, which takes only a shared lock and disturbs no reader, and by the WAL),
(3) swaps the files while holding a shared open-file-description lock on the published
file, so a writer cannot slip in between the last check and the rename (a writer trying
to open in those milliseconds gets DuckDB's lock error; readers are not affected), and
(4) checks from a child process that the new warehouse opens. A WAL that no process
holds (a crashed session's) is moved to ``<state>/stale-wal/`` together with a hard link
to the file it belongs to, so nothing the analyst wrote is destroyed.

When a writer does not go away within the wait, nothing is published: the previous
warehouse stays as it is, the build is kept (marked ``<build>.kept``) and
``pending_build`` finds it for the next run.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil

from pipeline.run.state import builds_dir, stale_wal_dir

log = logging.getLogger(__name__)

KEPT_SUFFIX = ".kept"  # marker beside a build kept because it could not be published
PROBE_TIMEOUT_S = 120.0  # a read-only test open; generous, since a busy machine is slow

# The child that test-opens a DuckDB file read-only and prints one JSON line.
_PROBE = r"""
import json, sys
try:
    import duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    try:
        n = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()[0][0]
    finally:
        con.close()
    print(json.dumps({"ok": True, "tables": int(n)}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
"""

_LOCK_RE = re.compile(
    r"Conflicting lock is held in (?:(?P<prog>.+?) \(PID (?P<pid1>-?\d+)\)|PID (?P<pid2>-?\d+))"
    r"(?: by user (?P<user>[^\s.]+))?"
)


class PublishError(Exception):
    """Publishing could not be attempted (bad build, different filesystem, I/O error)."""


class BuildInvalid(PublishError):
    """The build does not open read-only, has no tables, or was not closed by its writer."""


@dataclass(frozen=True)
class WriterInfo:
    """A read-write session (or what it left) on the published warehouse.

    ``pid``/``program`` name the holder when known; ``evidence`` says how it was found;
    ``stale`` is True for a WAL that no process holds (a session that ended without
    closing: crash, kill, power loss).
    """

    pid: int | None
    program: str | None
    evidence: str
    cmdline: str | None = None
    user: str | None = None
    stale: bool = False
    path: str | None = None

    def describe(self) -> str:
        """One line, English then Chinese, naming the file and the holding process."""
        name = Path(self.path).name if self.path else "the warehouse"
        if self.stale:
            return (
                f"{name}.wal was left by a read-write session that ended without closing "
                f"(no process holds it); open {name} once read-write and close it, or move "
                f"the .wal away, then run again | {name}.wal 是一个未正常关闭的读写会话留下的"
                f"（没有进程持有它）；请以读写方式打开 {name} 一次再关闭，或移走该 .wal 文件，然后重新运行"
            )
        who = f"PID {self.pid}" if self.pid is not None else "another process (PID unknown)"
        prog = self.program or (self.cmdline.split(" ")[0] if self.cmdline else None)
        if prog:
            who += f" ({prog})"
        if self.user:
            who += f" of user {self.user}"
        who_zh = f"进程 PID {self.pid}" if self.pid is not None else "另一个进程（PID 未知）"
        if prog:
            who_zh += f"（{prog}）"
        return (
            f"{name} is open read-write by {who}; the new build was not published and is kept "
            f"for the next run; analysts should open the warehouse read-only (duckdb -readonly, "
            f"read_only=True) | {name} 正被{who_zh}以读写方式打开；新构建未发布，已保留待下次运行发布；"
            f"请以只读方式打开仓库（duckdb -readonly 或 read_only=True）"
        )


@dataclass
class PublishResult:
    """What ``publish`` did.

    ``published``: the build is now the warehouse. ``verified``: a new process opened
    it read-only afterwards. ``problem``: why verification failed (e.g. a writer's WAL
    appeared in a race). ``build_kept``: the unpublished build, kept for the next run.
    ``stale_wal``: folder where a crashed session's WAL was set aside.
    """

    published: bool
    warehouse: Path
    build_kept: Path | None = None
    writer: WriterInfo | None = None
    waited_s: float = 0.0
    verified: bool = False
    problem: str | None = None
    stale_wal: Path | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the run summary."""
        if not self.published:
            base = self.writer.describe() if self.writer else "not published"
            return f"{base} [build kept: {self.build_kept}]"
        msg = f"published {self.warehouse}"
        if self.stale_wal:
            msg += f"; a stale WAL was set aside in {self.stale_wal}"
        if not self.verified:
            msg += f"; but the new warehouse did not open: {self.problem}"
        return msg


# ---------------------------------------------------------------- paths and builds


def wal_path(db: Path) -> Path:
    """DuckDB's write-ahead log beside ``db`` (``<db>.wal``)."""
    db = Path(db)
    return db.with_name(db.name + ".wal")


def _marker(build: Path) -> Path:
    return build.with_name(build.name + KEPT_SUFFIX)


def new_build_path(warehouse: Path, run_id: str) -> Path:
    """Path for this run's new build: ``<state>/builds/<run_id>.duckdb``.

    It is on the warehouse's filesystem, so publishing it is an atomic rename. A file
    left at that exact path (the same run id retried) is removed with its WAL and marker.

    Raises:
        ValueError: ``run_id`` is empty or contains a path separator.
        OSError: the builds folder cannot be created or the leftover removed.
    """
    if not run_id or "/" in run_id or "\\" in run_id or run_id in {".", ".."}:
        raise ValueError(f"bad run id for a build file name: {run_id!r}")
    path = builds_dir(warehouse) / f"{run_id}.duckdb"
    discard_build(path)
    return path


def discard_build(build: Path) -> None:
    """Remove a build file, its WAL and its kept marker (missing files are fine).

    Raises:
        OSError: a file exists but cannot be removed.
    """
    for p in (Path(build), wal_path(build), _marker(Path(build))):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _kept_builds(warehouse: Path) -> list[Path]:
    out = []
    for m in builds_dir(warehouse).glob("*.duckdb" + KEPT_SUFFIX):
        b = m.with_name(m.name[: -len(KEPT_SUFFIX)])
        if b.is_file() and not wal_path(b).exists():
            out.append(b)
    return sorted(out, key=lambda b: (b.stat().st_mtime_ns, b.name))


def pending_build(warehouse: Path) -> Path | None:
    """The newest build kept by an earlier run that could not publish it, or None.

    A later run may publish it (``publish(pending_build(w), w)``) when it has nothing
    newer, or ``discard_build`` it. Builds in progress (no marker) are never returned.

    Raises:
        OSError: the builds folder cannot be created or listed.
    """
    kept = _kept_builds(warehouse)
    return kept[-1] if kept else None


def _discard_kept_except(warehouse: Path, keep: Path) -> None:
    """Remove every kept build but ``keep`` (only the newest build is worth publishing)."""
    for b in _kept_builds(warehouse):
        if b != keep:
            try:
                discard_build(b)
            except OSError as exc:  # a leftover is untidy, not a failure
                log.warning("could not remove old kept build %s: %s", b, exc)


def discard_abandoned_builds(warehouse: Path) -> list[Path]:
    """Remove builds left by killed runs: no kept marker and no process holding them.

    Call it only while holding ``pipeline.run.lock.run_lock`` for the warehouse: without
    the lock, another run's finished-but-not-yet-published build looks abandoned.
    Returns the removed builds.

    Raises:
        OSError: the builds folder cannot be listed.
    """
    removed = []
    for b in builds_dir(warehouse).glob("*.duckdb"):
        if _marker(b).exists() or _locked_by_other(b):
            continue
        try:
            discard_build(b)
            removed.append(b)
        except OSError as exc:
            log.warning("could not remove abandoned build %s: %s", b, exc)
    for w in builds_dir(warehouse).glob("*.duckdb.wal"):  # a WAL whose build is gone
        if not w.with_name(w.name[: -len(".wal")]).exists():
            w.unlink(missing_ok=True)
    return removed


# ---------------------------------------------------------------- probing


@dataclass
class _Probe:
    status: str  # ok | locked | error | missing | timeout
    tables: int = 0
    error: str | None = None
    pid: int | None = None
    program: str | None = None
    user: str | None = None


def _parse_lock_error(msg: str) -> tuple[int | None, str | None, str | None]:
    m = _LOCK_RE.search(msg)
    if not m:
        return None, None, None
    pid = int(m.group("pid1") or m.group("pid2"))
    return (pid if pid > 0 else None), m.group("prog"), m.group("user")


def _probe(path: Path, timeout: float = PROBE_TIMEOUT_S) -> _Probe:
    """Open ``path`` read-only in a child process (a shared lock only) and report."""
    if not Path(path).exists():
        return _Probe("missing")
    try:
        cp = subprocess.run(
            [sys.executable, "-P", "-c", _PROBE, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return _Probe("timeout", error=f"a read-only test open did not finish in {timeout:g} s")
    lines = cp.stdout.strip().splitlines()
    try:
        res = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (cp.stderr or cp.stdout).strip()[-500:]
        return _Probe("error", error=f"test open failed (exit {cp.returncode}): {tail}")
    if res.get("ok"):
        return _Probe("ok", tables=int(res.get("tables", 0)))
    err = str(res.get("error"))
    if "Could not set lock on file" in err:
        pid, prog, user = _parse_lock_error(err)
        return _Probe("locked", error=err, pid=pid, program=prog, user=user)
    return _Probe("error", error=err)


def _proc_available() -> bool:
    """Whether processes' open files can be listed here (psutil; on Linux from /proc)."""
    try:
        psutil.Process().open_files()
    except (psutil.Error, NotImplementedError):
        return False
    return True


def _fd_holders(path: Path, *, writers_only: bool = False) -> list[int]:
    """PIDs (visible to us) with ``path`` open (psutil's open files; with
    ``writers_only``, opened for writing); [] where that cannot be listed."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    if not _proc_available():
        return []
    target = (st.st_dev, st.st_ino)
    pids = []
    for proc in psutil.process_iter():
        try:
            files = proc.open_files()
        except psutil.Error:
            continue
        for f in files:
            if writers_only and f.flags & os.O_ACCMODE == os.O_RDONLY:
                continue
            try:
                s = os.stat(f.path)
            except OSError:
                continue
            if (s.st_dev, s.st_ino) == target:
                pids.append(proc.pid)
                break
    return pids


def _write_lock_holders(path: Path) -> list[int]:
    """PIDs holding a POSIX WRITE lock on ``path`` according to /proc/locks (Linux): the
    one /proc read left, psutil has no view of file locks."""
    try:
        st = os.stat(path)
        text = Path("/proc/locks").read_text()
    except OSError:
        return []
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids = []
    for line in text.splitlines():
        parts = line.split()
        # "1: POSIX  ADVISORY  WRITE 5397 fe:00:2146344 0 EOF"
        if len(parts) >= 6 and parts[3] == "WRITE" and parts[5] == ident and parts[4].isdigit():
            pid = int(parts[4])
            if pid > 0:
                pids.append(pid)
    return pids


def _program(pid: int | None) -> tuple[str | None, str | None]:
    """(executable, command line) of ``pid`` (psutil), where readable."""
    if pid is None:
        return None, None
    exe = cmd = None
    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return None, None
    try:
        exe = proc.exe() or None
    except psutil.Error:
        pass
    try:
        cmd = " ".join(proc.cmdline())[:300] or None
    except psutil.Error:
        pass
    return exe, cmd


def find_writer(warehouse: Path, *, timeout: float = PROBE_TIMEOUT_S) -> WriterInfo | None:
    """Detect a read-write session on the published warehouse without disturbing readers.

    1. The warehouse is test-opened read-only in a child process (a shared lock, like
       any reader's). DuckDB's lock error names the holder: ``Conflicting lock is held
       in <program> (PID <n>)``; its PID and program are returned (from /proc/locks and
       /proc/<pid> when the message has no usable PID).
    2. Otherwise a ``<warehouse>.wal`` beside it means a read-write session's log: the
       process that has it open (via /proc/*/fd) is named; if none does, the WAL is
       ``stale`` (left by a session that ended without closing).
    A test open that does not finish within ``timeout`` is reported as a writer of
    unknown PID (publishing is not safe to attempt). A missing or otherwise unreadable
    warehouse with no WAL is not a writer: None.

    Raises nothing for probe failures (they are reported); OSError only from /proc oddities
    that escape the guards.
    """
    warehouse = Path(warehouse)
    wal = wal_path(warehouse)
    pr = _probe(warehouse, timeout)
    if pr.status == "locked":
        pid = pr.pid
        if pid is None:
            holders = _write_lock_holders(warehouse) or _fd_holders(warehouse, writers_only=True)
            pid = holders[0] if holders else None
        exe, cmd = _program(pid)
        return WriterInfo(
            pid=pid,
            program=pr.program or exe,
            evidence=pr.error or "lock error",
            cmdline=cmd,
            user=pr.user,
            path=str(warehouse),
        )
    if pr.status == "timeout":
        return WriterInfo(None, None, evidence=pr.error or "timeout", path=str(warehouse))
    if wal.exists():
        holders = _fd_holders(wal)
        if holders:
            exe, cmd = _program(holders[0])
            ev = f"{wal.name} is open in PID {', '.join(map(str, holders))}"
            if pr.status == "error":
                ev += f"; a read-only open fails: {pr.error}"
            return WriterInfo(holders[0], exe, evidence=ev, cmdline=cmd, path=str(warehouse))
        ev = f"{wal.name} exists but no process holds the warehouse or the WAL"
        if pr.status == "error":
            ev += f"; a read-only open fails: {pr.error}"
        # Without /proc we cannot tell a stale WAL from one held elsewhere: say not stale.
        return WriterInfo(None, None, evidence=ev, stale=_proc_available(), path=str(warehouse))
    return None


# ---------------------------------------------------------------- publishing


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _ofd_lock(fd: int, exclusive: bool) -> bool:
    """Try a non-blocking whole-file open-file-description lock; False if held by others.

    OFD locks conflict with DuckDB's POSIX locks in other processes but, unlike POSIX
    locks, are not dropped when this process closes another descriptor of the file.
    Where OFD locks do not exist (non-Linux) this returns True without locking.
    """
    cmd = getattr(fcntl, "F_OFD_SETLK", None)
    if cmd is None:
        return True
    kind = fcntl.F_WRLCK if exclusive else fcntl.F_RDLCK
    try:
        fcntl.fcntl(fd, cmd, struct.pack("hhqqi4x", kind, os.SEEK_SET, 0, 0, 0))
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        log.warning("cannot lock %s (%s); publishing without the swap guard", fd, exc)
    return True


_FLOCK = "hhqqi4x"  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid


def _lock_holder(path: Path) -> tuple[bool, int | None]:
    """(held, pid) for a whole-file lock another process holds on ``path``, asked with
    ``F_OFD_GETLK`` (``F_GETLK`` where OFD locks do not exist): the kernel reports the
    first lock that would conflict with a WRITE lock, without taking anything, so a
    read-only descriptor is enough (asking to *set* a WRITE lock on one fails with EBADF).
    ``pid`` is None for an open-file-description lock (the kernel reports -1).

    Raises:
        OSError: the file cannot be opened or the lock query fails (e.g. ENOLCK).
    """
    cmd = getattr(fcntl, "F_OFD_GETLK", fcntl.F_GETLK)
    fd = os.open(path, os.O_RDONLY)
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        kind, _, _, _, pid = struct.unpack(_FLOCK, fcntl.fcntl(fd, cmd, query))
    finally:
        os.close(fd)
    if kind == fcntl.F_UNLCK:
        return False, None
    return True, (pid if pid > 0 else None)


def _locked_by_other(path: Path) -> bool:
    """True when another process holds a lock on ``path`` (a DuckDB session, reader or
    writer, holds a POSIX lock on its file). A file that is gone is not locked; when the
    lock cannot be queried, the answer is True: a build is never deleted on a guess."""
    try:
        return _lock_holder(path)[0]
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("cannot tell whether %s is in use (%s); keeping it", path, exc)
        return True


@contextmanager
def _swap_guard(warehouse: Path) -> Iterator[bool]:
    """Hold a shared lock on the published file: readers go on, writers cannot open.

    Yields False when a writer holds the file (the lock could not be taken).
    """
    try:
        fd = os.open(warehouse, os.O_RDONLY)
    except FileNotFoundError:
        yield True
        return
    try:
        yield _ofd_lock(fd, exclusive=False)
    finally:
        os.close(fd)  # releases the lock


def _set_aside_wal(warehouse: Path, writer: WriterInfo) -> Path:
    """Move a stale WAL (and a hard link to its database) into <state>/stale-wal/."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    dest = stale_wal_dir(warehouse) / f"{stamp}-{os.getpid()}"
    dest.mkdir()
    if warehouse.exists():
        try:
            os.link(warehouse, dest / warehouse.name)
        except OSError:
            shutil.copy2(warehouse, dest / warehouse.name)
    os.replace(wal_path(warehouse), dest / wal_path(warehouse).name)
    (dest / "README.txt").write_text(
        f"Set aside by tpa publish at {stamp}: {writer.evidence}.\n"
        f"The database is the warehouse as it was; open the pair read-only to see what the "
        f"session wrote: duckdb -readonly {dest / warehouse.name}\n",
        encoding="utf-8",
    )
    _fsync_dir(warehouse.parent)
    return dest


def _check_build(build: Path, timeout: float) -> None:
    if not build.is_file():
        raise BuildInvalid(f"build {build} does not exist")
    if wal_path(build).exists():
        raise BuildInvalid(
            f"build {build} has a WAL beside it: its writer has not closed it (or was killed)"
        )
    pr = _probe(build, timeout)
    if pr.status == "locked":
        raise BuildInvalid(f"build {build} is still open read-write (PID {pr.pid}): {pr.error}")
    if pr.status != "ok":
        raise BuildInvalid(f"build {build} does not open read-only: {pr.error}")
    if pr.tables == 0:
        raise BuildInvalid(f"build {build} has no tables")


def _keep(build: Path, warehouse: Path, writer: WriterInfo, waited: float) -> PublishResult:
    _marker(build).write_text(
        json.dumps(
            {"kept_at": datetime.now().isoformat(timespec="seconds"), "reason": writer.describe()},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    _discard_kept_except(warehouse, keep=build)
    log.warning("not published: %s", writer.describe())
    return PublishResult(False, warehouse, build_kept=build, writer=writer, waited_s=waited)


def publish(
    build: Path,
    warehouse: Path,
    *,
    wait_s: float = 60,
    poll_s: float = 1.0,
    set_aside_stale_wal: bool = True,
    probe_timeout_s: float = PROBE_TIMEOUT_S,
) -> PublishResult:
    """Make ``build`` the published ``warehouse`` unless a read-write session holds it.

    Checks the build (opens read-only in a child process, has tables, no WAL), fsyncs
    it, then waits up to ``wait_s`` (polling every ``poll_s``) while ``find_writer``
    reports a live read-write session. When none is left, swaps the files under a shared
    lock (``os.replace`` + fsync of both folders) and checks from a child process that
    the new warehouse opens. Readers of the old file keep their snapshot.

    A stale WAL (no process holds it) is set aside in ``<state>/stale-wal/`` when
    ``set_aside_stale_wal``; otherwise it counts as a writer that never goes away.

    Returns ``PublishResult(published=False, writer=…, build_kept=build)`` when a writer
    is still there after ``wait_s``: the previous warehouse is untouched and the build is
    kept (marked for ``pending_build``); older kept builds are removed. After a publish,
    ``verified`` is False (and ``problem`` says why) if the new file does not open, which
    only a writer that escaped detection (e.g. another host over NFS) can cause.

    Raises:
        BuildInvalid: the build is missing, does not open, has no tables or a WAL.
        PublishError: the build is on another filesystem than the warehouse.
        OSError: the rename, fsync or the stale-WAL move failed (the previous warehouse
            is then still in place: ``os.replace`` either happens or not).
    """
    build, warehouse = Path(build), Path(warehouse)
    _check_build(build, probe_timeout_s)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    if os.stat(build).st_dev != os.stat(warehouse.parent).st_dev:
        raise PublishError(
            f"build {build} is not on the filesystem of {warehouse}; an atomic rename is impossible"
        )
    _fsync_file(build)

    start = time.monotonic()
    deadline = start + max(wait_s, 0.0)
    while True:
        swapped, writer, stale_dest = _try_swap(build, warehouse, probe_timeout_s,
                                                set_aside_stale_wal)  # fmt: skip
        if swapped:
            break
        now = time.monotonic()
        if now >= deadline:
            return _keep(build, warehouse, writer, now - start)
        log.info("waiting for the writer to close %s: %s", warehouse, writer.describe())
        time.sleep(max(0.0, min(poll_s, deadline - now)))

    waited = time.monotonic() - start
    result = PublishResult(True, warehouse, waited_s=waited, stale_wal=stale_dest)
    _marker(build).unlink(missing_ok=True)
    _discard_kept_except(warehouse, keep=build)
    _verify(result, warehouse, probe_timeout_s)
    return result


def _try_swap(build: Path, warehouse: Path, probe_timeout_s: float, set_aside: bool):
    """One attempt to put ``build`` in place of ``warehouse`` under the swap guard.

    Returns (swapped, the writer still holding the warehouse or None, where a stale
    WAL was set aside or None).
    """
    writer = find_writer(warehouse, timeout=probe_timeout_s)
    if not (writer is None or (writer.stale and set_aside)):
        return False, writer, None
    with _swap_guard(warehouse) as guarded:
        if not guarded:  # a writer opened it between the check and the guard
            writer = find_writer(warehouse, timeout=probe_timeout_s) or WriterInfo(
                None, None, "the published file is locked by a writer", path=str(warehouse)
            )
            return False, writer, None
        stale_dest = None
        if wal_path(warehouse).exists():  # a WAL with no lock holder: stale unless someone has it
            writer = find_writer(warehouse, timeout=probe_timeout_s)
            if writer is not None and writer.stale and set_aside:
                stale_dest = _set_aside_wal(warehouse, writer)
                log.warning("stale WAL set aside in %s", stale_dest)
                writer = None
        if writer is None or (writer.stale and set_aside):
            os.replace(build, warehouse)
            _fsync_dir(warehouse.parent)
            _fsync_dir(build.parent)
            return True, None, stale_dest
        return False, writer, stale_dest


def _verify(result: PublishResult, warehouse: Path, probe_timeout_s: float) -> None:
    """Open the newly published file from a child process: sets ``result.verified``, or
    ``result.problem`` (and the writer that escaped detection, if one is found)."""
    pr = _probe(warehouse, probe_timeout_s)
    if pr.status == "ok" and pr.tables > 0:
        result.verified = True
    else:
        result.problem = pr.error or f"test open: {pr.status}"
        result.writer = find_writer(warehouse, timeout=probe_timeout_s)
        if result.writer:
            result.problem += f" ({result.writer.describe()})"
        log.error("published %s but it does not open: %s", warehouse, result.problem)
