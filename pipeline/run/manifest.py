"""The manifest (``<state>/manifest.json``): every workbook ever seen, by SHA-256 — where
it was, its size, received time, reader and status, and which extract holds its rows —
so that a workbook that has left the raw folder keeps its ``raw.files`` row (status
``removed``) and its quarantine records."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from pipeline.extract.workbook import ExtractResult
from pipeline.run import cache
from pipeline.run.discover import Discovered
from pipeline.run.state import extracts_dir, state_dir
from pipeline.run.submission import DAMAGED_REASON, Submission, set_aside_damaged

MANIFEST = "manifest.json"


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
    present: list[Submission],
    run_id: str,
) -> dict[str, dict]:
    """Record this run's submissions (with their extract folder, None when unread, and
    their ``result``); keep every entry of workbooks no longer present. Returns the
    manifest ({sha256: entry})."""
    files = load_manifest(warehouse)
    now = datetime.now().replace(microsecond=0).isoformat()
    for s in present:
        d, r, folder = s.found, s.result, s.folder
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
) -> list[Submission]:
    """The workbooks of the manifest that are no longer in the raw folder, as submissions
    whose ``result`` is their kept extract (or the manifest's record when the extract is
    gone) and whose ``removed`` is the reason for ``raw.files``.

    A kept extract that fails ``cache.verify`` cannot be parsed again (its workbook is
    gone): it is moved aside, its manifest entry loses it for good, the reason becomes
    ``DAMAGED_REASON``, and a line is appended to ``notes``."""
    root = extracts_dir(Path(warehouse))
    items = []
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
        why = f"no longer in the raw folder (last seen by run {e['last_seen_run']})"
        if e.get("damaged") or sha in damaged:
            why = DAMAGED_REASON
        items.append(Submission(d, None, cached=True, result=r, removed=why))
    return items


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
            line = set_aside_damaged(warehouse, folder, problem)
            (notes if notes is not None else []).append(f"{line}; {e['path']}: {DAMAGED_REASON}")
            e["extract"], e["damaged"] = None, problem
            damaged.add(sha)
    if damaged:
        save_manifest(warehouse, manifest)
    return damaged
