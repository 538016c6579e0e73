"""Seeded, deterministic sample data: one workbook per Yunnan county per period.

``generate`` writes the 129 county workbooks of each period (2018-12 and 2019-12 by
default), each with the nine forms it reports: the data rows add up exactly to the
published province figures (indicators.md) and the household ledger (表9) agrees with
the population form except for documented discrepancies (``ledger.DISCREPANCIES``).
``known_totals`` gives those totals, the ledger's counts and the data-row counts per
file from the generator's own plan, without reading the files. The numbers live in
``plan`` and ``ledger``, the county geography in ``geo``, the sheet layout in
``layout``.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
from pathlib import Path

from devkit.sample import ledger, plan
from devkit.sample.alloc import rng
from devkit.sample.geo import County, counties
from devkit.sample.layout import write_workbook
from pipeline.run.discover import TPA_SAMPLE_MARK

DEFAULT_PERIODS = ("2018-12", "2019-12")
DEFAULT_HOUSEHOLDS = ledger.DEFAULT_HOUSEHOLDS
PROVINCE_HOUSEHOLDS = 1_000_000  # ``tpa sample --scale province``


def file_name(county: County, period: str) -> str:
    """``<county_code>_<official name>_<YYYY-MM>.xlsx`` (forms.md's recommended name)."""
    return f"{county.code}_{county.name}_{period}.xlsx"


def _county_forms(built: dict, code: str) -> dict[str, list[dict]]:
    return {form: rows[code] for form, rows in built.items() if code in rows}


def _write_one(task: tuple) -> Path:
    """Write one county workbook (runs in a worker process or in-line)."""
    out_dir, seed, period, index, households = task
    c = counties(seed)[index]
    forms = _county_forms(plan.build(seed, period), c.code)
    if period in ledger.LEDGER_PERIODS:
        forms["households"] = ledger.county_households(seed, c.code, period, households)
    path = Path(out_dir) / period / file_name(c, period)
    path.parent.mkdir(parents=True, exist_ok=True)
    gen = rng(seed, period, "layout", c.code)
    write_workbook(path, c, plan.period_end(period), forms, gen)
    return path


def generate(
    out_dir: Path,
    seed: int = 2019,
    periods: tuple[str, ...] = DEFAULT_PERIODS,
    households: int = DEFAULT_HOUSEHOLDS,
    workers: int | None = None,
) -> list[Path]:
    """Write one workbook per Yunnan county per period into
    ``out_dir/<period>/<code>_<name>_<period>.xlsx``; return the paths (sorted).

    ``households``: rows of the household ledger over the province per period (the
    ledger covers a sample of villages; 1,000,000 for province scale, the largest
    county then above 50,000). ``workers``: processes writing workbooks (default: the
    machine's cores; 1 writes in-line). Same seed, periods and households give
    byte-identical files whatever the workers. Raises ValueError for a period without
    sample targets or a ``households`` the villages cannot hold.
    """
    out_dir = Path(out_dir)
    for period in periods:
        plan.build(seed, period)  # validates the period; cached for the workers (fork)
        (out_dir / period).mkdir(parents=True, exist_ok=True)
    lp = ledger.ledger_plan(seed, households)
    cs = counties(seed)
    # biggest ledgers first, so the processes finish together
    tasks = sorted(
        ((str(out_dir), seed, p, i, households) for p in periods for i in range(len(cs))),
        key=lambda t: -lp.households(cs[t[3]].code),
    )
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        paths = [_write_one(t) for t in tasks]
    else:
        with mp.get_context("fork").Pool(workers) as pool:
            paths = pool.map(_write_one, tasks, chunksize=1)
    mark_sample(out_dir, paths)
    return sorted(paths)


def write_counties(
    out_dir: Path,
    codes: list[str],
    seed: int = 2019,
    periods: tuple[str, ...] = DEFAULT_PERIODS,
    households: int = DEFAULT_HOUSEHOLDS,
) -> list[Path]:
    """The workbooks ``generate`` would write for the counties ``codes`` only (the same
    bytes), in-line; return their paths (sorted). Raises KeyError for an unknown code."""
    index = {c.code: i for i, c in enumerate(counties(seed))}
    tasks = [(str(out_dir), seed, p, index[code], households) for p in periods for code in codes]
    paths = [_write_one(t) for t in tasks]
    mark_sample(Path(out_dir), paths)
    return sorted(paths)


# in the raw folder: the workbooks tpa wrote, by SHA-256 (discovery leaves it out)
SAMPLE_MARK = TPA_SAMPLE_MARK


def mark_sample(out_dir: Path, paths: list[Path]) -> None:
    """Record ``paths`` (under ``out_dir``) with their SHA-256 in ``out_dir/.tpa-sample.json``
    (merged with what is recorded already), so that ``remove_sample`` deletes only what
    tpa wrote, never a county's submission (issue 13, item 9)."""
    mark = Path(out_dir) / SAMPLE_MARK
    files = _marked(mark)
    for p in paths:
        files[Path(p).relative_to(out_dir).as_posix()] = hashlib.sha256(
            Path(p).read_bytes()
        ).hexdigest()
    tmp = mark.with_name(mark.name + ".tmp")
    tmp.write_text(json.dumps({"files": files}, indent=0, sort_keys=True), encoding="utf-8")
    os.replace(tmp, mark)


def _marked(mark: Path) -> dict[str, str]:
    try:
        return dict(json.loads(mark.read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def remove_sample(out_dir: Path) -> tuple[list[Path], list[Path]]:
    """Delete the sample workbooks recorded in ``out_dir/.tpa-sample.json`` that are still
    byte for byte what tpa wrote, then the mark and the folders left empty; return
    (removed, kept): a recorded file that has changed since is kept (someone put their
    own file there). Nothing that is not recorded is touched."""
    out_dir = Path(out_dir)
    mark = out_dir / SAMPLE_MARK
    removed, kept = [], []
    for rel, sha in sorted(_marked(mark).items()):
        p = out_dir / rel
        try:
            same = hashlib.sha256(p.read_bytes()).hexdigest() == sha
        except OSError:
            continue  # already gone
        if same:
            p.unlink()
            removed.append(p)
        else:
            kept.append(p)
    mark.unlink(missing_ok=True)
    for folder in sorted({p.parent for p in removed}, key=lambda f: -len(f.parts)):
        while folder != out_dir and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return removed, kept


def known_totals(
    seed: int = 2019,
    periods: tuple[str, ...] = DEFAULT_PERIODS,
    households: int = DEFAULT_HOUSEHOLDS,
) -> dict:
    """The province totals the generated data reproduces, from the plan (not the files).

    ``{period: {"housing_key_completed": 374900, ..., "counties": {form: n},
    "ledger": ledger.summary(...)}, "rows": {file name: {form: data rows}}}``; money
    totals in yuan.
    """
    out: dict = {"rows": {}}
    lp = ledger.ledger_plan(seed, households)
    for period in periods:
        built = plan.build(seed, period)
        out[period] = plan.summarise(built)
        has_ledger = period in ledger.LEDGER_PERIODS
        if has_ledger:
            out[period]["ledger"] = ledger.summary(seed, period, households)
            out[period]["counties"]["households"] = len(counties(seed))
        for c in counties(seed):
            forms = _county_forms(built, c.code)
            rows = {f: len(r) for f, r in forms.items()}
            if has_ledger:
                rows["households"] = lp.households(c.code)
            out["rows"][file_name(c, period)] = rows
    return out


__all__ = [
    "generate",
    "known_totals",
    "DEFAULT_PERIODS",
    "DEFAULT_HOUSEHOLDS",
    "PROVINCE_HOUSEHOLDS",
]
