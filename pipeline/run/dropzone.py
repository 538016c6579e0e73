"""A suspicious drop zone does not publish (issue 11, item 4).

An unmounted network share looks like an empty folder: built from it, the warehouse
would lose every row and every workbook would show as ``removed``. So before a build
replaces the published warehouse, it is compared with it:

* a drop zone with no workbook at all is refused, also on a first run (nothing
  published yet): an empty warehouse published from an empty folder tells nobody
  anything, and a wrong ``--raw-dir`` on a first run is the likely cause;
* otherwise, on a first run nothing is refused;
* after that, the build is refused when it lost more than ``Settings.max_shrink``
  (``TPA_MAX_SHRINK``, default 0.2 = 20%) of the published warehouse's workbooks
  (``raw.files`` rows not ``removed``) or of any form's staging rows.

A refused build is not published: the run exits with status 5 and one line naming what
shrank, and is recorded ``not_published`` with that line. A shrink is accepted by
``tpa run --allow-shrink`` or ``TPA_ALLOW_SHRINK=1`` (that one run), or by the marker
``<state>/allow-shrink`` that ``tpa allow-shrink`` writes: the next run that builds,
scheduled or not, consumes it, whatever it finds.

The counts of the published warehouse are read from it (read-only); when it cannot be
opened (a read-write session holds it), from ``<state>/published_counts.json``, written
after each publish.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from schemas import FORMS

ALLOW_MARKER = "allow-shrink"
COUNTS_NOTE = "published_counts.json"
DEFAULT_RAW = Path("data/raw")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


@dataclass
class Counts:
    """What a warehouse holds: workbooks (``raw.files`` rows not ``removed``) and staging
    rows per form."""

    files: int = 0
    forms: dict[str, int] = field(default_factory=dict)


@dataclass
class Verdict:
    """``refused``: the one line saying why the build must not be published (None: it
    may). ``note``: a shrink that was accepted, for the run summary. ``counts``: the
    build's, to remember once it is published."""

    refused: str | None
    counts: Counts
    note: str | None = None


def _state(warehouse: Path) -> Path:
    # the state folder's path without creating it (pipeline.run.state.state_dir creates it)
    return Path(str(warehouse) + ".d")


def counts_of(db: Path) -> Counts:
    """Counts of the DuckDB file ``db``, opened read-only without external access.

    Raises:
        duckdb.Error: the file does not open (missing, held read-write, not a warehouse).
    """
    from pipeline.warehouse.safesql import connect

    con = connect(db)
    try:
        files = con.execute("SELECT count(*) FROM raw.files WHERE status <> 'removed'").fetchall()
        tables = {
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging'"
            ).fetchall()
        }
        forms = {
            f: con.execute(f'SELECT count(*) FROM staging."{f}"').fetchall()[0][0]
            for f in FORMS
            if f in tables
        }
    finally:
        con.close()
    return Counts(int(files[0][0]), {k: int(v) for k, v in forms.items()})


def published_counts(warehouse: Path) -> Counts | None:
    """Counts of the published warehouse; None when nothing was published yet."""
    wh = Path(warehouse)
    if wh.is_file():
        try:
            return counts_of(wh)
        except duckdb.Error:
            pass  # held read-write, or damaged: the note of the last publish says
    try:
        data = json.loads((_state(wh) / COUNTS_NOTE).read_text(encoding="utf-8"))
        return Counts(int(data["files"]), {k: int(v) for k, v in data["forms"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def remember(warehouse: Path, counts: Counts) -> None:
    """Note the counts of the warehouse just published (``published_counts``' fallback)."""
    path = _state(Path(warehouse)) / COUNTS_NOTE
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(asdict(counts), sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _drop(old: int, new: int) -> float:
    return (old - new) / old if old > 0 else 0.0


def shrinkage(old: Counts | None, new: Counts, max_shrink: float) -> list[str]:
    """What lost more than ``max_shrink`` (a fraction) from ``old`` to ``new``, one item
    each (e.g. ``workbooks 258 → 0 (-100%)``); [] for a first run (``old`` None)."""
    if old is None:
        return []
    out = []
    pairs = [("workbooks", old.files, new.files)]
    pairs += [(f"staging.{f}", n, new.forms.get(f, 0)) for f, n in sorted(old.forms.items())]
    for name, before, after in pairs:
        if _drop(before, after) > max_shrink:
            out.append(f"{name} {before:,} → {after:,} (-{_drop(before, after):.0%})")
    return out


def take_allowance(warehouse: Path) -> str | None:
    """Consume the marker written by ``allow_next``; return what it says (None: none)."""
    marker = _state(Path(warehouse)) / ALLOW_MARKER
    try:
        text = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    marker.unlink(missing_ok=True)
    return text or "tpa allow-shrink"


def allow_next(warehouse: Path) -> Path:
    """Write the marker that lets the next run (scheduled or not) publish a shrunken
    drop zone; return its path. Raises OSError when the state folder is not writable."""
    from pipeline.run.state import state_dir

    marker = state_dir(Path(warehouse)) / ALLOW_MARKER
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    marker.write_text(f"tpa allow-shrink at {stamp} (PID {os.getpid()})\n", encoding="utf-8")
    return marker


def check(
    build: Path, warehouse: Path, raw_dir: Path, files_seen: int, max_shrink: float, allow: bool
) -> Verdict:
    """Compare the finished ``build`` with the published ``warehouse`` (see the module
    docstring); ``files_seen``: workbooks discovered in ``raw_dir``; ``allow``: the run
    accepts a shrink (the marker of ``allow_next`` is consumed here either way)."""
    new = counts_of(Path(build))
    marker = take_allowance(Path(warehouse))
    old = published_counts(Path(warehouse))
    if files_seen == 0:
        before = f"; the published warehouse has {old.files:,} workbooks" if old else ""
        what = [f"no workbook in the drop zone {raw_dir}{before}"]
    else:
        what = shrinkage(old, new, max_shrink)
    if not what:
        return Verdict(None, new)
    if allow or marker:
        how = marker or "--allow-shrink / TPA_ALLOW_SHRINK"
        return Verdict(None, new, note=f"drop zone shrank, accepted ({how}): {'; '.join(what)}")
    limit = f"more than TPA_MAX_SHRINK ({max_shrink:.0%}): " if files_seen else ""
    return Verdict(
        f"not published, the drop zone looks wrong: {limit}{'; '.join(what)}; check that "
        f"{raw_dir} is the right folder and is mounted, or accept it with "
        "`tpa run --allow-shrink` (or `tpa allow-shrink` for the next scheduled run)",
        new,
    )


# ------------------------------------------------------------------ make run's sample


def has_workbook(folder: Path) -> bool:
    """True when ``folder`` (recursively) holds a file with a workbook suffix."""
    if not Path(folder).is_dir():
        return False
    return any(
        p.suffix.lower() in WORKBOOK_SUFFIXES and p.is_file() for p in Path(folder).rglob("*")
    )


def ever_published(warehouse: Path) -> bool:
    """True when a warehouse was ever published at ``warehouse``: the file exists, or
    its state folder remembers a publish (counts note, or a published run record)."""
    wh = Path(warehouse)
    state = _state(wh)
    if wh.exists() or (state / COUNTS_NOTE).exists():
        return True
    for p in (state / "runs").glob("*.json"):
        try:
            if json.loads(p.read_text(encoding="utf-8")).get("published"):
                return True
        except (OSError, ValueError, AttributeError):
            continue
    return False


def sample_refusal(raw_dir: Path, warehouse: Path) -> str | None:
    """Why ``make run`` must not write the sample into ``raw_dir`` (None: it may): only
    into the default ``data/raw``, only while it holds no workbook, and only when no
    warehouse was ever published at ``warehouse`` (an emptied drop zone is then a
    mishap to report, not a place for invented figures)."""
    raw = Path(raw_dir)
    if raw.resolve() != DEFAULT_RAW.resolve():
        return f"{raw} is not the default {DEFAULT_RAW}: no sample is written into it"
    if has_workbook(raw):
        return f"{raw} holds workbooks: no sample is written"
    if ever_published(warehouse):
        return (
            f"a warehouse was published at {warehouse} already: no sample is written into "
            f"the empty {raw}"
        )
    return None
