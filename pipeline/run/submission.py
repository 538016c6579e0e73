"""One submission through a run: what discovery found, the extract folder that holds (or
will hold) its rows, and what reading it gave. The flow makes one ``Submission`` per
distinct content right after discovery (``plan``) and hands the same value to every
stage: extract, manifest, build fingerprint and build (issue 14, item 3)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from pipeline.extract.workbook import ExtractResult
from pipeline.run import cache
from pipeline.run.discover import Discovered
from pipeline.run.state import damaged_dir, extracts_dir, state_dir


@dataclass(eq=False)
class Submission:
    """A drop-zone entry of this run (``found``) and what the run made of it.

    ``folder``: the extract folder that holds (or will hold) its rows; None for an entry
    that is not a workbook to read, and for a workbook that could not be read this run.
    ``cached``: a sound extract existed before the run (or the entry needs no parsing).
    ``damaged``: one line when the cached extract failed its check and was parsed again.
    ``error``/``reason``/``limit``/``runs_at_limit``: why a workbook was not read (one
    line; ``read_error``, ``resource_limit`` with ``memory``/``time`` and the runs in a
    row, or ``reader_crashed``). ``result``: its record for the build (the extract, or
    the record of a file not read). ``removed``: for a workbook of the manifest that has
    left the raw folder, why (its ``raw.files`` reason); None for one present.
    """

    found: Discovered
    folder: str | None = None
    cached: bool = False
    damaged: str | None = None
    error: str | None = None
    reason: str | None = None
    limit: str | None = None
    runs_at_limit: int = 1
    result: ExtractResult | None = None
    removed: str | None = None

    @property
    def sha256(self) -> str:
        return self.found.sha256

    def job(self) -> tuple:
        """The contained child's job for it: (path, sha256, folder), plus the zip member
        for a workbook read in place from an archive (issue 12)."""
        found = self.found
        return (
            str(found.path),
            found.sha256,
            self.folder,
            *([found.member] if found.member else []),
        )


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


DAMAGED_REASON = "cached extract damaged; rows no longer available"


def set_aside_damaged(warehouse: Path, folder: Path, problem: str) -> str:
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
) -> list[Submission]:
    """Which workbooks need parsing: those without a sound complete extract for this code
    and key (``cache.verify``: a damaged one is moved aside and the workbook parsed
    again, ````Submission.damaged```` saying so). ``rebuild``: every one (their old extracts are
    dropped first). Entries that are not workbooks (not read, expanded archives, rejected
    by discovery) need no parsing. Received times are settled here (``received``)."""
    root = extracts_dir(Path(warehouse))
    out = []
    for d in received(found, warehouse):
        if d.kind != "workbook":
            out.append(Submission(d, None, cached=True))
            continue
        folder = root / cache.cache_key(d.sha256, key)
        if rebuild and folder.exists():
            cache.remove(folder)
        damaged = None
        if cache.is_cached(folder):
            problem = cache.verify(folder)
            if problem:
                damaged = (
                    f"{set_aside_damaged(warehouse, folder, problem)}; {d.rel_path} parsed again"
                )
        out.append(Submission(d, str(folder), cache.is_cached(folder), damaged))
    return out


def prune_extracts(warehouse: Path, manifest: dict[str, dict], key: bytes) -> list[Path]:
    """Drop extracts made by older parsing code or another ID key that no workbook of the
    manifest needs any more."""
    keep = {e["extract"] for e in manifest.values() if e.get("extract")}
    return cache.prune(extracts_dir(Path(warehouse)), keep, cache.cache_prefix(key))
