"""The pipeline's steps as plain functions (the Prefect flow in ``flows/`` calls them;
tests and ``tpa check`` call them directly, without Prefect).

State kept beside the warehouse (``pipeline.run.state``) besides builds and the lock:

* ``extracts/``: one folder per workbook content (``pipeline.run.cache``);
* ``manifest.json``: every workbook ever seen, by SHA-256 — where it was, its size,
  received time, reader and status, and which extract holds its rows — so that a
  workbook that has left the raw folder keeps its ``raw.files`` row (status
  ``removed``) and its quarantine records;
* ``runs/<run_id>.json``: run history, copied into ``raw.runs``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import psutil

from pipeline.config import Settings
from pipeline.extract.names import display_name, safe_text
from pipeline.extract.personal import load_key
from pipeline.extract.workbook import ExtractResult, extract_workbook
from pipeline.run import cache, timing
from pipeline.run.discover import Discovered, sha256_of
from pipeline.run.state import damaged_dir, extracts_dir, runs_dir, state_dir
from pipeline.warehouse.build import BuildReport, build, refresh_runs

MANIFEST = "manifest.json"
SERVER_NOTE = "prefect-server.json"  # the temporary Prefect server of the run in progress


@dataclass
class RunRecord:
    """One row of ``raw.runs`` (also kept as JSON in the state folder's runs/)."""

    run_id: str = field(
        default_factory=lambda: (
            datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        )
    )
    started_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    finished_at: datetime | None = None
    trigger: str = "manual"
    files_seen: int = 0
    files_new: int = 0
    files_rejected: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    published: bool = False
    status: str = "running"
    message: str | None = None
    # what the run did besides its counts, one line each (damaged extracts parsed again,
    # a shrink accepted): printed in the run summary; not a column of raw.runs
    notes: list[str] = field(default_factory=list)

    def as_row(self) -> dict:
        return asdict(self)


def id_key(settings: Settings) -> bytes:
    """The HMAC key of ``settings`` (``TPA_ID_KEY`` or the key file, created if missing)."""
    return load_key(settings.id_key_text, settings.id_key_file)


# ------------------------------------------------------------------ discovery


def unique_by_hash(found: list[Discovered]) -> list[Discovered]:
    """One entry per content: the same bytes under several paths are one submission.

    A workbook entry is preferred over a copy that is not read (a ``.bak`` or hidden copy
    of the same bytes); then the first path (by relative path). The modification time is
    the latest of the copies read (a county that sends the same file again has sent it
    last). Sorted by path.
    """
    rank = {"workbook": 0, "expanded": 1, "rejected": 2, "not_read": 3}
    by_sha: dict[str, Discovered] = {}
    for d in sorted(found, key=lambda x: (rank.get(x.kind, 9), x.rel_path, x.sha256)):
        seen = by_sha.get(d.sha256)
        if seen is None:
            by_sha[d.sha256] = d
        elif d.kind == seen.kind and d.received_at > seen.received_at:
            by_sha[d.sha256] = replace(seen, received_at=d.received_at, modified_at=d.modified_at)
    return sorted(by_sha.values(), key=lambda x: (x.rel_path, x.sha256))


# ------------------------------------------------------------------ extraction


@dataclass(frozen=True)
class Planned:
    """A drop-zone entry of this run and the extract folder that holds (or will hold) its
    rows; ``folder`` is None (and ``cached`` True) for an entry that is not read."""

    found: Discovered
    folder: str | None
    cached: bool
    damaged: str | None = None  # one line: the cached extract failed its check, parsed again


DAMAGED_REASON = "cached extract damaged; rows no longer available"


def _set_aside(warehouse: Path, folder: Path, problem: str) -> str:
    """Move a damaged extract to ``<state>/damaged/``; the one line that says so."""
    try:
        where = cache.set_aside(folder, damaged_dir(Path(warehouse)))
    except OSError as exc:  # cannot move it: remove it rather than trust it
        cache.remove(folder)
        where = f"nowhere ({exc.strerror}: removed)"
    return f"cached extract {folder.name[-12:]} damaged ({problem}); moved to {where}"


FIRST_SEEN = "first_seen.json"
CLOCK_AHEAD_S = 600  # a modification time further ahead of the run gets a warning


def first_seen(warehouse: Path, shas: list[str], now: datetime) -> dict[str, datetime]:
    """When tpa first saw each SHA-256 (UTC, naive): recorded once, at first sight, in the
    state folder (``first_seen.json``, kept by ``make rebuild`` and ``make clean-cache``)."""
    path = state_dir(Path(warehouse)) / FIRST_SEEN
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    new = {sha: now.isoformat() for sha in shas if sha not in known}
    if new:
        known.update(new)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(known, sort_keys=True, indent=0), encoding="utf-8")
        os.replace(tmp, path)
    return {sha: datetime.fromisoformat(known[sha]) for sha in shas}


def received(found: list[Discovered], warehouse: Path, now: datetime | None = None):
    """``found`` with ``received_at`` = the earlier of the modification time and the first
    time tpa saw the SHA-256, and ``mtime_ahead_s`` set where the modification time lies
    more than ``CLOCK_AHEAD_S`` ahead of ``now`` (UTC, naive) (issue 12 item 7: a file
    dated in the future must not stay current over a correction sent today)."""
    now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    seen = first_seen(warehouse, [d.sha256 for d in found], now)
    out = []
    for d in found:
        mtime = d.modified_at or d.received_at
        ahead = (mtime - now).total_seconds()
        out.append(
            replace(
                d,
                received_at=min(mtime, seen[d.sha256]),
                mtime_ahead_s=ahead if ahead > CLOCK_AHEAD_S else 0.0,
            )
        )
    return out


def plan_extracts(
    found: list[Discovered], warehouse: Path, key: bytes, rebuild: bool = False
) -> list[Planned]:
    """Which workbooks need parsing: those without a sound complete extract for this code
    and key (``cache.verify``: a damaged one is moved aside and the workbook parsed
    again, ``Planned.damaged`` saying so). ``rebuild``: every one (their old extracts are
    dropped first). Entries that are not workbooks (not read, expanded archives, rejected
    by discovery) need no parsing. Received times are settled here (``received``)."""
    root = extracts_dir(Path(warehouse))
    out = []
    for d in received(found, warehouse):
        if d.kind != "workbook":
            out.append(Planned(d, None, True))
            continue
        folder = root / cache.cache_key(d.sha256, key)
        if rebuild and folder.exists():
            cache.remove(folder)
        damaged = None
        if cache.is_cached(folder):
            problem = cache.verify(folder)
            if problem:
                damaged = f"{_set_aside(warehouse, folder, problem)}; {d.rel_path} parsed again"
        out.append(Planned(d, str(folder), cache.is_cached(folder), damaged))
    return out


class FileChanged(OSError):
    """The workbook's bytes changed between discovery and parsing (still being copied?)."""


def extract_result(
    path: str,
    sha256: str,
    settings: Settings,
    key: bytes | None = None,
    member: str | None = None,
) -> tuple[ExtractResult, str]:
    """``extract_workbook`` of ``path`` (or of the zip member ``member`` of it, read in
    place) with the limits of ``settings`` (not contained: call it through
    ``pipeline.run.contain``); return it with the SHA-256 of the bytes it read now."""
    data, name = _member_bytes(path, member, settings) if member else (None, None)
    result = extract_workbook(
        Path(path),
        sha256,
        max_bytes=settings.max_file_bytes,
        max_unzipped=settings.max_unzipped_bytes,
        id_key=key if key is not None else id_key(settings),
        max_cells=settings.max_cells,
        max_chars=settings.max_expanded_chars,
        column_limits=settings.column_limits,
        data=data,
        name=name,
    )
    return result, hashlib.sha256(data).hexdigest() if member else sha256_of(Path(path))


def extract_one(
    path: str,
    sha256: str,
    folder: str,
    settings: Settings,
    key: bytes | None = None,
    member: str | None = None,
) -> tuple[str, bool]:
    """Extract one workbook into ``folder`` unless it holds a complete extract already;
    return (folder, was_parsed). ``member``: the workbook is that member of the zip at
    ``path`` (``Discovered.member``), read in place.

    The file is hashed again after parsing: if its bytes are no longer ``sha256`` the
    result is not cached and ``FileChanged`` (an OSError, retried by the flow) is raised.

    Raises:
        OSError: the file could not be read (transient I/O, vanished, changed).
    """
    out = Path(folder)
    if cache.is_cached(out):
        return str(out), False
    result, now = extract_result(path, sha256, settings, key, member)
    if now != sha256:
        raise FileChanged(
            f"{display_name(path)} changed while it was read (sha256 {sha256[:12]} -> {now[:12]})"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with timing.stage("cache", rows=result.rows_read):
        saved = cache.save(result, out.parent, out.name)
    timing.flush_part()
    return str(saved), True


def _member_bytes(path: str, member: str, settings: Settings) -> tuple[bytes, str]:
    """The bytes and display name of a zip member; a changed archive is ``FileChanged``."""
    import zipfile

    from pipeline.extract.names import member_name
    from pipeline.run.discover import read_member

    try:
        data = read_member(Path(path), member, settings.max_file_bytes)
        with zipfile.ZipFile(path) as zf:
            name = member_name(zf.getinfo(member))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise FileChanged(f"{path} changed while it was read ({exc})") from exc
    return data, name.rsplit("/", 1)[-1]


def not_read(d: Discovered) -> ExtractResult:
    """The record of a drop-zone entry that is not a workbook to read: not read (lock,
    hidden, backup, not a workbook), an archive read in place (``expanded``) or one
    rejected by discovery (with a file-level finding, like any rejected file)."""
    from pipeline.extract.findings import compose
    from pipeline.extract.workbook import _reject

    res = ExtractResult(d.sha256, d.file_name, status=d.kind, reason=d.reason)
    if d.kind != "rejected":
        zh, en = d.message or "", d.message_en or ""
        res.message, res.message_en = compose(d.file_name, None, None, None, None, zh, en)
        return res

    return _reject(res, d.reason or "rejected", d.message or "", d.message_en or "")


def unread(d: Discovered, error: str | None, reason: str | None = None, limit=None, runs=1):
    """The record of a workbook that could not be read this run (``unread_result``: not
    cached, the next run tries again); for an entry that is not a workbook, ``not_read``."""
    if d.kind != "workbook":
        return not_read(d)
    # the error may quote a path holding undecodable bytes
    return unread_result(d.sha256, d.file_name, safe_text(str(error)), reason, limit, runs)


def unread_result(
    sha256: str,
    file_name: str,
    error: str,
    reason: str | None = "read_error",
    limit: str | None = None,
    runs: int = 1,
) -> ExtractResult:
    """The record of a workbook that could not be read this run (not cached: the next run
    tries again). ``reason``: ``read_error``, ``resource_limit`` (``limit``: memory or
    time; ``runs``: how many runs in a row it has hit one) or ``reader_crashed``."""
    reason = reason or "read_error"
    if reason == "resource_limit":
        what_zh = {"memory": "内存", "time": "时间"}.get(limit or "", "资源")
        zh = f"读取该文件超出{what_zh}上限（{error}），本次运行不读取，下次运行将重新尝试"
        en = f"hit the {limit or 'resource'} limit while being read ({error}); rejected for this run, the next run tries again"
        if runs > 1:
            zh += f"；已连续 {runs} 次运行超出上限，请检查文件是否过大或已损坏"
            en += f"; {runs} runs in a row have hit it: check whether the file is too large or damaged"
    elif reason == "reader_crashed":
        zh = f"读取程序在该文件上崩溃（{error}），本次运行不读取，下次运行将重新尝试；请用Excel打开并另存后重新报送"
        en = f"the reader crashed on it ({error}); rejected for this run, the next run tries again; open it in Excel, save it and resend"
    else:
        zh = f"本次运行无法读取该文件（{error}），下次运行将重新读取"
        en = f"could not be read in this run ({error}); the next run reads it again"
    return ExtractResult(
        sha256, file_name, status="rejected", reason=reason, message=zh, message_en=en
    )


RESOURCE_LIMITS = "resource_limits.json"


def note_resource_limits(warehouse: Path, hit: dict[str, str]) -> dict[str, int]:
    """Record which workbooks hit a memory or time limit this run (SHA-256 -> limit) and
    return, for each, how many runs in a row have. Workbooks that did not hit one this
    run are forgotten: the record stays as small as the night's trouble."""
    path = state_dir(Path(warehouse)) / RESOURCE_LIMITS
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    now = {sha: int(before.get(sha, {}).get("runs", 0)) + 1 for sha in hit}
    body = {sha: {"runs": n, "limit": hit[sha]} for sha, n in now.items()}
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return now


# ------------------------------------------------------------------ manifest


def manifest_path(warehouse: Path) -> Path:
    return state_dir(Path(warehouse)) / MANIFEST


def load_manifest(warehouse: Path) -> dict[str, dict]:
    """Every workbook ever seen: {sha256: entry} ({} before the first run)."""
    p = manifest_path(warehouse)
    if not p.is_file():
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    return data.get("files", {})


def save_manifest(warehouse: Path, files: dict[str, dict]) -> None:
    p = manifest_path(warehouse)
    tmp = p.with_name(f"{p.name}.tmp-{os.getpid()}")
    body = {"version": 1, "files": dict(sorted(files.items()))}
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, p)


def update_manifest(
    warehouse: Path,
    present: list[tuple[Discovered, ExtractResult, str | None]],
    run_id: str,
) -> dict[str, dict]:
    """Record this run's workbooks (with their extract folder, None when unread); keep
    every entry of workbooks no longer present. Returns the manifest."""
    files = load_manifest(warehouse)
    now = datetime.now().replace(microsecond=0).isoformat()
    for d, r, folder in present:
        old = files.get(d.sha256, {})
        files[d.sha256] = {
            "path": d.rel_path,
            "file_name": d.file_name,
            "size_bytes": d.size_bytes,
            "received_at": d.received_at.isoformat(),
            "kind": d.kind,
            "archive_path": d.archive_path,
            "archive_sha256": d.archive_sha256,
            "member_name": d.member_name,
            "county_code": r.county_code,
            "period": r.period,
            "reader": r.reader,
            "status": r.status,
            "reason": r.reason,
            "message": r.message,
            "message_en": r.message_en,
            "extract": Path(folder).name if folder else old.get("extract"),
            "first_seen_run": old.get("first_seen_run", run_id),
            "first_seen_at": old.get("first_seen_at", now),
            "last_seen_run": run_id,
            "last_seen_at": now,
        }
    save_manifest(warehouse, files)
    return files


def removed_items(
    warehouse: Path,
    manifest: dict[str, dict],
    present: set[str],
    notes: list[str] | None = None,
) -> tuple[list[tuple[Discovered, ExtractResult]], dict[str, str]]:
    """The workbooks of the manifest that are no longer in the raw folder, with their
    kept extracts (or the manifest's record when the extract is gone), and the reason
    per SHA-256 for ``raw.files``.

    A kept extract that fails ``cache.verify`` cannot be parsed again (its workbook is
    gone): it is moved aside, its manifest entry loses it for good, the reason becomes
    ``DAMAGED_REASON``, and a line is appended to ``notes``."""
    root = extracts_dir(Path(warehouse))
    items, reasons = [], {}
    damaged = _check_removed_extracts(warehouse, manifest, present, notes)
    for sha, e in sorted(manifest.items(), key=lambda kv: (kv[1]["path"], kv[0])):
        if sha in present:
            continue
        d = Discovered(
            path=Path(e["path"]),
            rel_path=e["path"],
            file_name=e["file_name"],
            size_bytes=int(e["size_bytes"]),
            received_at=datetime.fromisoformat(e["received_at"]),
            sha256=sha,
            kind=e.get("kind") or "workbook",
            archive_path=e.get("archive_path"),
            archive_sha256=e.get("archive_sha256"),
            member_name=e.get("member_name"),
        )
        folder = root / e["extract"] if e.get("extract") else None
        if folder is not None and cache.is_cached(folder):
            r = cache.load(folder, frames=False)  # its rows are not staged any more
        else:
            r = ExtractResult(
                sha,
                e["file_name"],
                county_code=e.get("county_code"),
                period=e.get("period"),
                reader=e.get("reader"),
                status=e.get("status") or "loaded",
                reason=e.get("reason"),
                message=e.get("message"),
                message_en=e.get("message_en"),
            )
        items.append((d, r))
        reasons[sha] = f"no longer in the raw folder (last seen by run {e['last_seen_run']})"
        if e.get("damaged") or sha in damaged:
            reasons[sha] = DAMAGED_REASON
    return items, reasons


def _check_removed_extracts(
    warehouse: Path, manifest: dict[str, dict], present: set[str], notes: list[str] | None
) -> set[str]:
    """Verify the kept extracts of removed workbooks; set the damaged ones aside and mark
    their manifest entries (saved). Returns their SHA-256s."""
    root = extracts_dir(Path(warehouse))
    damaged = set()
    for sha, e in manifest.items():
        folder = root / e["extract"] if sha not in present and e.get("extract") else None
        if folder is None or not cache.is_cached(folder):
            continue
        problem = cache.verify(folder)
        if problem:
            line = _set_aside(warehouse, folder, problem)
            (notes if notes is not None else []).append(f"{line}; {e['path']}: {DAMAGED_REASON}")
            e["extract"], e["damaged"] = None, problem
            damaged.add(sha)
    if damaged:
        save_manifest(warehouse, manifest)
    return damaged


# ------------------------------------------------------------------ run history


def save_run(warehouse: Path, rec: RunRecord) -> None:
    path = runs_dir(warehouse) / f"{rec.run_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec.as_row(), default=str, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def stamp_runs(build_path: Path, warehouse: Path, rec: RunRecord) -> None:
    """Write the build's ``raw.runs`` as the last step before it is published: the run
    history with this run as ``published``, finished now (issue 13: the published file
    must not show its own run as ``running``). If the publish then fails or waits, the
    history in the state folder records the real outcome and the next build carries it."""
    from pipeline.warehouse.build import write_runs

    rec.finished_at = datetime.now().replace(microsecond=0)
    done = {**rec.as_row(), "status": "published", "published": True, "message": None}
    runs = [r for r in run_history(warehouse) if r.get("run_id") != rec.run_id]
    write_runs(build_path, sorted([*runs, done], key=lambda r: str(r.get("run_id"))))


def run_history(warehouse: Path) -> list[dict]:
    rows = []
    for p in sorted(runs_dir(warehouse).glob("*.json")):
        try:
            rows.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return rows


def note_server(warehouse: Path, pid: int, port: int) -> None:
    """Record the temporary Prefect server this run started (``recover`` stops it if the
    run is killed: a killed process does not stop its server, which would run on)."""
    note = {"pid": pid, "port": port, "owner": os.getpid()}
    (state_dir(Path(warehouse)) / SERVER_NOTE).write_text(json.dumps(note), encoding="utf-8")


def forget_server(warehouse: Path) -> None:
    """The run stopped its temporary Prefect server itself: drop the note."""
    (state_dir(Path(warehouse)) / SERVER_NOTE).unlink(missing_ok=True)


def _proc(pid: int) -> tuple[str, bool]:
    """(command line, alive) of a local process; ("", False) when it is gone. A zombie
    (killed, not yet reaped) is not alive."""
    try:
        proc = psutil.Process(pid)
        alive = proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return "", False
    except psutil.AccessDenied:
        alive = True
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        cmd = ""
    return cmd, alive


def _stop_orphaned_server(warehouse: Path) -> list[str]:
    note = state_dir(warehouse) / SERVER_NOTE
    if not note.is_file():
        return []
    done = []
    try:
        info = json.loads(note.read_text(encoding="utf-8"))
        pid, port, owner = int(info["pid"]), int(info["port"]), int(info["owner"])
    except (OSError, ValueError, KeyError, TypeError):
        pid = port = owner = 0
    cmd, alive = _proc(pid) if pid else ("", False)
    is_server = "prefect.server.api.server:create_app" in cmd and f"--port {port} " in cmd + " "
    if alive and is_server and not _proc(owner)[1]:
        os.kill(pid, signal.SIGTERM)
        done.append(f"stopped the temporary Prefect server (PID {pid}) of a killed run")
    note.unlink(missing_ok=True)
    return done


def recover(warehouse: Path) -> list[str]:
    """Tidy what killed or crashed runs left behind; return what was done (one line each).

    Removes abandoned builds (``pipeline.run.publish.discard_abandoned_builds``), half-written
    extracts (``.tmp-*``) and temporary run/manifest files, marks run records still
    ``running`` as ``killed``, and stops the temporary Prefect server a killed run left
    running (by the PID it noted, checked against the process's command line). Call it
    only while holding the run lock (``pipeline.run.lock.run_lock``): without it, a live
    run looks abandoned.
    """
    from pipeline.run.publish import discard_abandoned_builds

    warehouse = Path(warehouse)
    done = _stop_orphaned_server(warehouse)
    done += [f"removed abandoned build {b.name}" for b in discard_abandoned_builds(warehouse)]
    done += [
        f"removed half-written extract {p.name}" for p in cache.clean_temp(extracts_dir(warehouse))
    ]
    temp = [
        *state_dir(warehouse).glob(MANIFEST + ".tmp-*"),
        *state_dir(warehouse).glob(FIRST_SEEN + ".tmp-*"),
    ]
    for p in [*runs_dir(warehouse).glob("*.tmp"), *temp]:
        p.unlink(missing_ok=True)
        done.append(f"removed temporary file {p.name}")
    for p in sorted(runs_dir(warehouse).glob("*.json")):
        try:
            row = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if row.get("status") == "running":
            row["status"] = "killed"
            row["message"] = "the run ended without recording its end (killed or crashed)"
            tmp = p.with_suffix(".tmp")
            tmp.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, p)
            done.append(f"marked run {row.get('run_id')} as killed")
    return done


def prune_extracts(warehouse: Path, manifest: dict[str, dict], key: bytes) -> list[Path]:
    """Drop extracts made by older parsing code or another ID key that no workbook of the
    manifest needs any more."""
    keep = {e["extract"] for e in manifest.values() if e.get("extract")}
    return cache.prune(extracts_dir(Path(warehouse)), keep, cache.cache_prefix(key))


def build_warehouse(
    items,
    build_path: Path,
    warehouse: Path,
    rec: RunRecord,
    removed: dict[str, str] | None = None,
    inputs: str | None = None,
    storage_version: str = "v1.0.0",
) -> BuildReport:
    """Build into ``build_path`` with the run history (this run as of now) in raw.runs;
    ``removed``: SHA-256 -> reason of the workbooks no longer in the raw folder.

    ``inputs`` (``build_inputs``): when the published warehouse was built from the same
    inputs and is untouched since (``published_from``), it is copied with raw.runs
    replaced instead of built again (``pipeline.warehouse.build.refresh_runs``): a night with
    nothing new costs a file copy, not a rebuild.
    """
    save_run(warehouse, rec)
    if inputs is not None and published_from(warehouse, inputs):
        report = refresh_runs(Path(warehouse), build_path, run_history(warehouse))
    else:
        report = build(
            items,
            build_path,
            run_history(warehouse),
            removed=removed or {},
            storage_version=storage_version,
        )
    report.inputs = inputs
    return report


# ------------------------------------------------------------------ reuse of the published file

PUBLISHED_INPUTS = "published_inputs.json"
_ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def build_code_fingerprint() -> str:
    """What decides a build besides its inputs: the sources of ``pipeline`` (with the
    reference data), ``schemas`` and ``sql``, and the DuckDB and pandas versions."""
    h = hashlib.sha256()
    files = [*(_ROOT / "pipeline").rglob("*.py"), *(_ROOT / "pipeline" / "reference").glob("*"),
             *(_ROOT / "schemas").rglob("*.py"), *(_ROOT / "sql").rglob("*.sql")]  # fmt: skip
    for p in sorted(f for f in files if f.is_file()):
        h.update(p.relative_to(_ROOT).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(f"duckdb=={duckdb.__version__}\0pandas=={pd.__version__}".encode())
    return h.hexdigest()


def build_inputs(
    present: list[tuple[Discovered, str | None, str | None]],
    manifest: dict[str, dict],
    removed: dict[str, str],
    storage_version: str = "v1.0.0",
) -> str:
    """Fingerprint (hex) of everything a build reads except the run history: each present
    workbook (path, name, size, received time, SHA-256, extract folder or read error),
    each removed one (its manifest record and reason) and ``build_code_fingerprint``.
    Extract folder names hold the parser's fingerprint and the ID key's."""
    body = {
        "code": build_code_fingerprint(),
        "storage_version": storage_version,
        "present": [
            [
                d.rel_path,
                d.file_name,
                d.size_bytes,
                d.received_at.isoformat(),
                d.sha256,
                Path(folder).name if folder else None,
                error,
                d.kind,
                d.mtime_ahead_s > 0,
            ]  # fmt: skip
            for d, folder, error in present
        ],
        "removed": [[sha, reason, manifest.get(sha)] for sha, reason in sorted(removed.items())],
    }
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _identity(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def published_from(warehouse: Path, inputs: str) -> bool:
    """True when the published warehouse was built from ``inputs`` by this run's code and
    the file is still the one published (same inode, size and modification time: nobody
    has written to it since) and no WAL lies beside it."""
    wh = Path(warehouse)
    try:
        noted = json.loads((state_dir(wh) / PUBLISHED_INPUTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if Path(str(wh) + ".wal").exists():
        return False
    return noted.get("inputs") == inputs and noted.get("file") == _identity(wh)


def note_published(warehouse: Path, inputs: str | None) -> None:
    """Record what the warehouse just published was built from (``published_from``)."""
    path = state_dir(Path(warehouse)) / PUBLISHED_INPUTS
    if inputs is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    body = {"inputs": inputs, "file": _identity(Path(warehouse))}
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, path)


def headline(warehouse: Path, period: str | None = None) -> list[tuple]:
    """Province rows of marts.indicators for the latest period (read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if period is None:
            row = con.execute("SELECT max(period) FROM marts.indicators").fetchone()
            period = row[0] if row else None
        return con.execute(
            """SELECT i.indicator_code, d.name_zh, i.period, i.numerator, i.denominator, i.value, i.unit
               FROM marts.indicators i LEFT JOIN ref.indicator_definitions d USING (indicator_code)
               WHERE i.geo_level = 'province' AND i.period = ? ORDER BY i.indicator_code""",
            [period],
        ).fetchall()
    finally:
        con.close()
