"""Runs of the whole flow on real sample workbooks: the BOOKS submissions (a few counties
written by the sample generator), staging them into a raw folder with a received time,
reading a warehouse back (``q``, ``snapshot``), and one in-process nightly run (``run``).

Used by the flow, contained-run and scale tests; the Prefect harness and the ``books``
fixture are in tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb

from pipeline.config import Settings

PERIOD = "2019-12"
DETERMINISTIC = ("ref", "staging", "quarantine", "marts")  # warehouse.md
T0 = 1_577_869_200  # 2020-01-01 09:00 UTC: the received time of the first submissions
JUNK = "readme_not_a_workbook.xlsx"

# name -> (seed, county): first submissions (seed 2019) and corrected resubmissions (2020).
# 530103's resubmission has the same three forms (supersedes every one); 530128's has
# relocation instead of water (C1's water stays current, so C1 stays 'loaded').
BOOKS = {
    "A1": (2019, "530103"),
    "B": (2019, "530111"),
    "C1": (2019, "530128"),
    "D": (2019, "530102"),
    "A2": (2020, "530103"),
    "C2": (2020, "530128"),
}


# ---------------------------------------------------------------- workbooks and runs


def write_books(folder: Path) -> dict[str, Path]:
    """Write the BOOKS workbooks (and JUNK, a file that is not a workbook) into
    ``folder/<name>/``; return name -> path."""
    from devkit.sample import file_name, plan
    from devkit.sample.alloc import rng
    from devkit.sample.geo import counties
    from devkit.sample.layout import write_workbook

    out, forms_of = {}, {}
    for seed in sorted({s for s, _ in BOOKS.values()}):
        built = plan.build(seed, PERIOD)
        by_code = {c.code: c for c in counties(seed)}
        for name, (s, code) in BOOKS.items():
            if s != seed:
                continue
            c = by_code[code]
            forms = {f: rows[code] for f, rows in built.items() if code in rows}
            stem = file_name(c, PERIOD).removesuffix(".xlsx")
            path = folder / name / (stem + ("" if seed == 2019 else "_更正") + ".xlsx")
            path.parent.mkdir(parents=True, exist_ok=True)
            rng_ = rng(seed, PERIOD, "layout", code)
            write_workbook(path, c, plan.period_end(PERIOD), forms, rng_)
            out[name] = path
            forms_of[name] = sorted(forms)
    a1, a2, c1, c2 = (set(forms_of[n]) for n in ("A1", "A2", "C1", "C2"))
    assert a1 <= a2 and c1 - c2 and c1 & c2, "the sample generator changed: pick other counties"
    (folder / "forms.json").write_text(json.dumps(forms_of))
    junk = folder / "junk" / JUNK
    junk.parent.mkdir(parents=True, exist_ok=True)
    junk.write_bytes(b"this is a text file, not a workbook\n")
    out["junk"] = junk
    return out


def stage(
    raw: Path,
    books: dict[str, Path],
    names: list[str],
    mtime: int | dict[str, int] = T0,
    folders: dict[str, str] | None = None,
) -> None:
    """Copy ``books[name]`` for each name, in the order given, into ``raw/<folder>/``
    (default the period) with the given modification time (= received time)."""
    for name in names:
        src = books[name]
        dst = raw / (folders or {}).get(name, PERIOD) / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        t = mtime[name] if isinstance(mtime, dict) else mtime
        os.utime(dst, (t, t))


def forms_of(books: dict[str, Path], name: str) -> list[str]:
    """The forms written into ``books[name]``."""
    return json.loads((books["A1"].parent.parent / "forms.json").read_text())[name]


def unstage(raw: Path, books: dict[str, Path], names: list[str]) -> None:
    for name in names:
        for p in raw.rglob(books[name].name):
            p.unlink()


def sha(path: Path) -> str:
    from pipeline.run.discover import sha256_of

    return sha256_of(path)


def q(wh: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _norm(row: tuple) -> tuple:
    return tuple("NaN" if isinstance(v, float) and v != v else v for v in row)


def snapshot(wh: Path, schemas: tuple[str, ...] = DETERMINISTIC) -> dict[str, list[tuple]]:
    """Every table of ``schemas``, rows ordered by all columns."""
    con = duckdb.connect(str(wh), read_only=True)
    try:
        names = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND list_contains(?, schema_name) "
            "ORDER BY 1",
            [list(schemas)],
        ).fetchall()
        return {
            n: [_norm(r) for r in con.execute(f"SELECT * FROM {n} ORDER BY ALL").fetchall()]
            for (n,) in names
        }
    finally:
        con.close()


def assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    assert {s.split(".")[0] for s in a} >= set(DETERMINISTIC)
    for name in a:
        assert a[name] == b[name], f"{name} differs"


def run(raw: Path, wh: Path, runner: str = "serial", rebuild: bool = False, **kw):
    from flows.nightly import run_flow

    kw = {"id_key": "k", "publish_wait_s": 5, **kw}
    settings = Settings(raw_dir=raw, warehouse=wh, task_runner=runner, **kw)
    outcome = run_flow(raw, wh, settings, rebuild=rebuild)
    assert outcome.exit_code == 0, outcome.record.message
    return outcome
