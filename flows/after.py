"""What the nightly flow does around the publish besides publishing (issue 13): stage the
revision history into the build, keep the release, write the night's report and export,
apply retention, and record them as Prefect artifacts. None of it ever fails the publish:
each problem becomes one line in ``After.problems`` (printed by ``tpa run``, in the run
summary artifact and in the notification).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from pipeline.config import Settings
from pipeline.outputs import night
from pipeline.run import releases

FILES_TABLE_KEY = "tpa-files-per-county"
REPORT_KEY, EXPORT_KEY, REVISIONS_KEY = "tpa-report", "tpa-export", "tpa-revisions"


@dataclass
class After:
    """What happened after the build: the release kept (None: the data did not change),
    the newest release, the outputs, and one line per problem."""

    staged: releases.Staged | None = None
    release: dict | None = None
    latest_release: str | None = None
    outputs: night.Outputs | None = None
    outputs_note: str = ""
    pruned: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _line(what: str, exc: BaseException) -> str:
    return f"{what} failed: {type(exc).__name__}: " + " ".join(str(exc).split())[:300]


def stage(build_path: str, warehouse: str, run_id: str, reused: bool) -> After:
    """Before the publish: ``raw.indicator_revisions`` into the build (releases.stage)."""
    after = After()
    try:
        after.staged = releases.stage(Path(build_path), Path(warehouse), run_id, reused)
    except Exception as exc:  # the build stays publishable without its revision table
        after.problems.append(_line("revision history", exc))
    return after


@task(name="release and outputs", cache_policy=NO_CACHE)
def after_publish(after: After, warehouse: str, settings: Settings) -> After:
    """After a publish: keep the release, write (or keep) the outputs, apply retention,
    record artifacts. Never raises."""
    wh = Path(warehouse)
    try:
        if after.staged is not None:
            after.release = releases.keep(wh, after.staged)
        newest = releases.latest(wh)
        after.latest_release = newest["release_id"] if newest else None
    except Exception as exc:
        after.problems.append(_line("keeping the release", exc))
    _outputs(after, wh, settings)
    try:
        kept, after.pruned = releases.prune(wh, settings.keep_releases)
        if after.latest_release:  # nothing is pruned when no release could be read
            gone = night.prune(wh, set(kept))
            if after.outputs is not None:
                after.outputs.removed = gone
    except Exception as exc:
        after.problems.append(_line("retention", exc))
    try:
        record_artifacts(after, wh)
    except Exception as exc:  # the artifacts are a convenience
        after.problems.append(_line("Prefect artifacts", exc))
    return after


def _outputs(after: After, wh: Path, settings: Settings) -> None:
    if not settings.outputs:
        after.outputs_note = "skipped (--no-outputs)"
        return
    if not after.latest_release:
        after.outputs_note = "not written: no release to name them after"
        return
    try:
        after.outputs = night.write(wh, after.latest_release, str(settings.lang))
    except Exception as exc:
        after.problems.append(_line("writing the report and export", exc))
        return
    o = after.outputs
    if o.period is None:
        after.outputs_note = "not written: no period with a submission"
    elif o.written:
        after.outputs_note = f"written for {o.period}"
    else:
        after.outputs_note = f"kept (nothing changed since release {after.latest_release})"


def files_per_county(wh: Path) -> list[dict]:
    """Per county (NULL: not identified), of the workbooks present: files loaded
    (loaded or superseded), files rejected, rows loaded, rows quarantined."""
    from pipeline.warehouse import catalog

    rows = catalog.rows(
        wh,
        """SELECT coalesce(f.county_code, '(unidentified)') AS county_code,
                  any_value(c.county_name_zh) AS county_name_zh,
                  count(*) FILTER (WHERE f.status IN ('loaded', 'superseded')) AS files_loaded,
                  count(*) FILTER (WHERE f.status = 'rejected') AS files_rejected,
                  coalesce(sum(f.rows_loaded), 0) AS rows_loaded,
                  coalesce(sum(f.rows_quarantined), 0) AS rows_quarantined
           FROM raw.files f LEFT JOIN ref.counties c USING (county_code)
           WHERE f.status <> 'removed' GROUP BY 1 ORDER BY 1""",
    )
    cols = ["county_code", "county_name_zh", "files_loaded", "files_rejected", "rows_loaded",
            "rows_quarantined"]  # fmt: skip
    return [dict(zip(cols, [v if v is not None else "" for v in r], strict=True)) for r in rows]


def record_artifacts(after: After, wh: Path) -> None:
    """Link artifacts for the report and the export, a table artifact of files
    loaded/rejected and rows quarantined per county, and one of the revised figures."""
    from prefect.artifacts import create_link_artifact, create_table_artifact

    o = after.outputs
    for key, path, text in (
        (REPORT_KEY, o.report if o else None, "HTML report"),
        (EXPORT_KEY, o.export if o else None, "xlsx export"),
    ):
        if path is not None and path.is_file():
            create_link_artifact(
                link=path.resolve().as_uri(),
                link_text=f"{text} {o.period}: {path.name}",
                key=key,
                description=f"tpa {text} of {o.period} ({after.outputs_note})",
            )
    create_table_artifact(
        table=files_per_county(wh),
        key=FILES_TABLE_KEY,
        description="tpa: workbooks loaded and rejected, rows quarantined, per county",
    )
    if after.release and after.release["revisions"] > after.release["first_published"]:
        create_table_artifact(
            table=revised(wh, after.release["release_id"]),
            key=REVISIONS_KEY,
            description=f"tpa: figures changed by release {after.release['release_id']}",
        )


def revised(wh: Path, release_id: str, limit: int = 500) -> list[dict]:
    """Province, prefecture and county figures a release changed (revision > 0)."""
    import duckdb

    with duckdb.connect(str(wh), read_only=True) as con:
        df = con.execute(
            "SELECT indicator_code, geo_level, geo_code, period, first_value, previous_value, "
            "value, revision FROM raw.indicator_revisions WHERE release_id = ? AND revision > 0 "
            "AND geo_level <> 'village' ORDER BY geo_level DESC, geo_code, indicator_code "
            f"LIMIT {int(limit)}",
            [release_id],
        ).df()
    return df.astype(object).where(df.notna(), None).to_dict("records")


def summary_rows(outcome) -> dict:
    """Rows for the run summary (artifact and ``tpa run``): where the run read and wrote,
    the release, the outputs and any problem after the build."""
    rows = {"raw folder": outcome.raw_dir, "warehouse": outcome.warehouse}
    after: After | None = outcome.after
    if after is None:
        return rows
    if after.release:
        r = after.release
        first, changed = r["first_published"], r["revisions"] - r["first_published"]
        rows["release"] = (
            f"{r['release_id']} (new: {first} values first published, {changed} changed)"
        )
    elif after.latest_release:
        rows["release"] = f"{after.latest_release} (data unchanged)"
    if after.outputs_note:
        paths = ", ".join(str(p) for p in (after.outputs.paths if after.outputs else []))
        rows["outputs"] = after.outputs_note + (f": {paths}" if paths else "")
    if after.pruned:
        rows["retention"] = "removed releases " + ", ".join(after.pruned)
    for i, line in enumerate(after.problems):
        rows[f"problem {i + 1}"] = line
    return rows
