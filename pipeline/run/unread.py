"""The record of a submission that was not parsed: an entry that is not a workbook to
read, or a workbook that could not be read this run (not cached: the next run tries
again), and the count of runs in a row a workbook has hit a resource limit."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.extract.names import safe_text
from pipeline.extract.workbook import ExtractResult
from pipeline.run.discover import Discovered
from pipeline.run.state import state_dir
from pipeline.run.submission import Submission


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


def unread(s: Submission) -> ExtractResult:
    """The record of a submission that was not parsed: for a workbook that could not be
    read this run, ``unread_result`` (not cached, the next run tries again); for an entry
    that is not a workbook, ``not_read``."""
    d = s.found
    if d.kind != "workbook":
        return not_read(d)
    # the error may quote a path holding undecodable bytes
    return unread_result(
        d.sha256, d.file_name, safe_text(str(s.error)), s.reason, s.limit, s.runs_at_limit
    )


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
