"""A small warehouse for the output tests (report, export, docs), built in seconds.

The seeded sample for a subset of counties (the other counties then count as "not
submitted"), with clerk text that must never run: one county's population sheet has
a village named ``<script>alert(1)</script>村`` on a quarantined row and formula-like
texts (``=1+1``, ``+86 871 6000``, ``@SUM(1,1)``) in cells that fail validation, and a
rejected workbook whose file name holds markup. Built with ``pipeline.warehouse.build.build``
directly (no Prefect), so ``docs.apply_comments`` runs as in a real build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl

SCRIPT_VILLAGE = "<script>alert(1)</script>村"
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;村"
FORMULA_TEXTS = ("=1+1", "+86 871 6000", "@SUM(1,1)")
BAD_FILE_NAME = "<img src=x onerror=alert(2)>.xlsx"
TAMPERED = "530129"  # its latest-period workbook is tampered
# every 16th county of the sample plus the tampered one and Nujiang's counties (high incidence)
NUJIANG = ("533301", "533323", "533324", "533325")


def _tamper(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]  # 表1 population
    header_row, cols = None, {}
    for r in range(1, 15):
        values = [ws.cell(row=r, column=c).value for c in range(1, ws.max_column + 1)]
        if "行政村" in values:
            header_row = r
            cols = {str(v): i + 1 for i, v in enumerate(values) if v is not None}
            break
    assert header_row is not None, "population header not found"
    total_pop = next(c for h, c in cols.items() if h.startswith("总人口"))
    households = next(c for h, c in cols.items() if h.startswith("总户数"))
    village = cols["行政村"]
    township = next(c for h, c in cols.items() if h.startswith("乡"))
    r1, r2, r3 = header_row + 1, header_row + 2, header_row + 3
    ws.cell(row=r1, column=village, value=SCRIPT_VILLAGE)
    ws.cell(row=r1, column=total_pop, value="12O")  # not a number: the row is quarantined
    for r, col, text in (
        (r2, total_pop, FORMULA_TEXTS[0]),
        (r2, households, FORMULA_TEXTS[1]),
        (r3, township, FORMULA_TEXTS[2]),
        (r3, total_pop, "abc"),
    ):
        cell = ws.cell(row=r, column=col, value=text)
        cell.data_type = "s"  # clerk text, not a formula
    wb.save(path)


def _write_sample(raw: Path, every: int) -> None:
    """The seeded sample workbooks of every ``every``-th county plus the tampered one and
    Nujiang's, for every sample period (writing only these keeps the fixture fast)."""
    import devkit.sample as sample
    from devkit.sample.geo import counties

    cs = counties(2019)
    keep = [i for i, c in enumerate(cs) if i % every == 0 or c.code in (TAMPERED, *NUJIANG)]
    write_one = getattr(sample, "_write_one", None)
    if write_one is None:  # the generator's internals changed: write them all, keep some
        full = raw.parent / "sample_all"
        codes = {cs[i].code for i in keep}
        for path in sample.generate(full, seed=2019):
            if path.name[:6] in codes:
                dest = raw / path.parent.name / path.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
        shutil.rmtree(full)
        return
    for period in sample.DEFAULT_PERIODS:
        (raw / period).mkdir(parents=True, exist_ok=True)
        for i in keep:
            write_one((str(raw), 2019, period, i, sample.DEFAULT_HOUSEHOLDS))


def extracted(raw: Path) -> list:
    """Every workbook under ``raw`` discovered and extracted in this process (no Prefect,
    no cache, ID key ``k``): the ``Submission`` list ``pipeline.warehouse.build.build``
    takes."""
    from pipeline.extract.workbook import extract_workbook
    from pipeline.run.discover import discover
    from pipeline.run.submission import Submission

    return [
        Submission(d, result=extract_workbook(d.path, d.sha256, max_bytes=2**27,
                                              max_unzipped=2**29, id_key=b"k"))
        for d in discover(raw)
    ]  # fmt: skip


def build_small_warehouse(base: Path, every: int = 16) -> Path:
    """Build ``base/warehouse.duckdb`` from a fresh raw folder; return its path."""
    from pipeline.warehouse.build import build

    raw = base / "raw"
    _write_sample(raw, every)
    latest = sorted(p for p in raw.iterdir() if p.is_dir())[-1]
    _tamper(next(latest.glob(f"{TAMPERED}_*.xlsx")))
    (latest / BAD_FILE_NAME).write_bytes(b"not a workbook")
    wh = base / "warehouse.duckdb"
    build(extracted(raw), wh)
    return wh


def small_warehouse(tmp_path_factory) -> Path:
    """The small warehouse, built once per test session and shared by the output tests
    (they only read it; a test that changes it works on a copy)."""
    base = tmp_path_factory.getbasetemp() / "small_warehouse"
    wh = base / "warehouse.duckdb"
    if not wh.exists():
        if base.exists():
            shutil.rmtree(base)
        base.mkdir(parents=True)
        build_small_warehouse(base)
    return wh
