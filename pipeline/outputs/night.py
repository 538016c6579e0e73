"""The night's outputs (issue 13): after a publish, the HTML report and the xlsx export of
the latest period with at least one submission, beside the warehouse::

    <warehouse folder>/reports/report_<period>_<release_id>.html
    <warehouse folder>/exports/indicators_<period>_<release_id>.xlsx

named by the release they show (``pipeline.run.releases``), so a night that changed nothing
keeps the files it already has, and the files of a release removed by retention go with
it (``prune``). Files written by hand (``tpa report``, ``tpa export``: no release id in
the name) are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.warehouse import catalog

_RELEASE_FILE = re.compile(r"_(?P<id>\d{8}T\d{6}-[0-9a-f]{6})\.(html|xlsx)$")


@dataclass
class Outputs:
    """What the night's outputs step did: ``written`` (new files) or kept (already there)."""

    period: str | None = None
    report: Path | None = None
    export: Path | None = None
    written: bool = False
    removed: list[Path] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.report, self.export) if p is not None]


def folders(warehouse: Path) -> tuple[Path, Path]:
    """(reports/, exports/) beside the warehouse."""
    base = Path(warehouse).resolve().parent
    return base / "reports", base / "exports"


def latest_submitted_period(warehouse: Path) -> str | None:
    """The latest period with at least one current submission and indicators, or None."""
    row = catalog.rows(
        warehouse,
        "SELECT max(period) FROM raw.submissions WHERE is_current "
        "AND period IN (SELECT period FROM marts.indicators)",
    )
    return row[0][0] if row else None


def paths_for(warehouse: Path, period: str, release_id: str, lang: str = "zh") -> tuple[Path, Path]:
    """(report, export) paths of ``release_id`` for ``period``."""
    reports, exports = folders(warehouse)
    suffix = "" if lang == "zh" else f"_{lang}"
    return (
        reports / f"report_{period}{suffix}_{release_id}.html",
        exports / f"indicators_{period}_{release_id}.xlsx",
    )


def _write_into(target: Path, make) -> None:
    """Run ``make(tmp_folder) -> written path`` and move the result to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tpa-", dir=target.parent))
    try:
        os.replace(make(tmp), target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write(warehouse: Path, release_id: str, lang: str = "zh") -> Outputs:
    """Write the report and the xlsx export of the latest submitted period for
    ``release_id`` unless both exist already (a night that changed nothing keeps them).
    Raises ReportError, ExportError, duckdb.Error or OSError."""
    from pipeline.outputs.export import write_xlsx
    from pipeline.outputs.report import write_report

    wh = Path(warehouse)
    period = latest_submitted_period(wh)
    if period is None:
        return Outputs()
    report, export = paths_for(wh, period, release_id, lang)
    out = Outputs(period, report, export)
    if not report.is_file():
        _write_into(report, lambda tmp: write_report(wh, tmp, period, lang))
        out.written = True
    if not export.is_file():

        def xlsx(tmp: Path) -> Path:
            with duckdb.connect(str(wh), read_only=True) as con:
                return write_xlsx(con, tmp, period)

        _write_into(export, xlsx)
        out.written = True
    return out


def prune(warehouse: Path, kept_releases: set[str]) -> list[Path]:
    """Delete the night's outputs of releases not in ``kept_releases``; return them."""
    gone = []
    for folder in folders(warehouse):
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            m = _RELEASE_FILE.search(p.name)
            if m and m["id"] not in kept_releases and p.is_file():
                p.unlink()
                gone.append(p)
    return gone
