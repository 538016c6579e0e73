"""The night does the whole job (issue 13, items 3 and 6), in one process on a temporary
Prefect API: after publishing changed data the flow keeps a release, writes the report
and the xlsx export of the latest submitted period beside the warehouse and records
them as Prefect artifacts; a night with nothing new keeps them; ``--no-outputs`` skips
them; a resubmission revises figures, and the revision names its release and submission.
"""

from __future__ import annotations

import os

import openpyxl
import pytest

from pipeline.run import progress, releases
from tests.builders.runs import PERIOD, T0, q, run, sha, stage, write_books

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("harness")]


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """1: A1 B C1 and a junk file arrive  2: nothing new  3: A2 resubmits 530103 (later)
    4: D arrives, run with outputs off."""
    books = write_books(tmp_path_factory.mktemp("books"))
    base = tmp_path_factory.mktemp("nights13")
    raw, wh = base / "raw", base / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    out = {"raw": raw, "wh": wh, "books": books, "runs": []}
    stage(raw, books, ["A1", "B", "C1", "junk"])
    out["progress"] = []
    with progress.attached(lambda *a: out["progress"].append(a)):
        out["runs"].append(run(raw, wh, outputs=True))  # explicit: whatever TPA_OUTPUTS says
    files = [p for d in ("reports", "exports") for p in (wh.parent / d).rglob("*")]
    out["mtimes"] = {p: p.stat().st_mtime_ns for p in files}
    out["runs"].append(run(raw, wh, outputs=True))
    stage(raw, books, ["A2"], mtime=T0 + 86400)
    out["runs"].append(run(raw, wh, outputs=True))
    stage(raw, books, ["D"])
    out["runs"].append(run(raw, wh, outputs=False))
    return out


def _ids(nights) -> list[str]:
    return [o.record.run_id for o in nights["runs"]]


def test_a_publish_writes_report_and_export_for_the_latest_period(nights):
    wh, o1 = nights["wh"], nights["runs"][0]
    rid = o1.record.run_id
    assert o1.after.release["release_id"] == rid and not o1.after.problems
    report = wh.parent / "reports" / f"report_{PERIOD}_{rid}.html"
    export = wh.parent / "exports" / f"indicators_{PERIOD}_{rid}.xlsx"
    assert o1.after.outputs.paths == [report, export] and o1.after.outputs.written
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and PERIOD in html
    wb = openpyxl.load_workbook(export, read_only=True)
    assert "省" in wb.sheetnames[0] or wb.sheetnames[0] == "省"
    province = [r for r in wb[wb.sheetnames[0]].iter_rows(values_only=True) if "530000" in r]
    assert province, "the province row is in the export"


def test_a_night_with_nothing_new_keeps_them_and_says_so(nights):
    o1, o2 = nights["runs"][:2]
    assert o2.build_reused and o2.after.release is None
    assert o2.after.latest_release == o1.record.run_id
    assert not o2.after.outputs.written and o2.after.outputs.paths == o1.after.outputs.paths
    assert o2.after.outputs_note.startswith("kept")
    for p, mtime in nights["mtimes"].items():  # untouched
        assert p.stat().st_mtime_ns == mtime


def test_a_resubmission_is_a_new_release_and_a_visible_revision(nights):
    wh, books = nights["wh"], nights["books"]
    r1, _, r3, r4 = _ids(nights)
    assert [m["release_id"] for m in releases.list_releases(wh)] == [r1, r3, r4]
    # the figures of 530103 as released on night 1, and as published now, read independently
    sql = (
        "SELECT indicator_code, value FROM marts.indicators WHERE geo_level = 'county' "
        "AND geo_code = '530103' AND period = ? AND value IS NOT NULL"
    )
    con = releases.open_release(wh, r1)
    before = dict(con.execute(sql, [PERIOD]).fetchall())
    con.close()
    now = dict(q(wh, sql, [PERIOD]))
    changed = sorted(k for k in before if now.get(k) != before[k])
    assert changed, "A2 revises some figures of 530103"
    a1, a2 = sha(books["A1"]), sha(books["A2"])
    for code in changed:
        rows = q(
            wh,
            "SELECT revision, value, first_value, release_id, file_sha256s "
            "FROM raw.indicator_revisions WHERE indicator_code = ? AND geo_level = 'county' "
            "AND geo_code = '530103' AND period = ? ORDER BY revision",
            [code, PERIOD],
        )
        assert rows == [
            (0, before[code], before[code], r1, [a1]),
            (1, now[code], before[code], r3, [a2]),
        ]
    # 530111 (B) was not resubmitted: its figures were published once
    assert q(
        wh,
        "SELECT max(revision), count(DISTINCT release_id) FROM raw.indicator_revisions "
        "WHERE geo_level = 'county' AND geo_code = '530111'",
    ) == [(0, 1)]


def test_no_outputs_skips_them(nights):
    wh, o4 = nights["wh"], nights["runs"][3]
    r4 = o4.record.run_id
    assert o4.after.release["release_id"] == r4 and o4.after.outputs is None
    assert o4.after.outputs_note == "skipped (--no-outputs)"
    assert not [p for p in (wh.parent / "reports").iterdir() if r4 in p.name]


def test_outputs_and_counts_are_prefect_artifacts(nights):
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    raw, wh = nights["raw"], nights["wh"]
    r1, _, r3, _ = _ids(nights)

    def read(key):
        with get_client(sync_client=True) as client:
            return client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )

    links = read("tpa-report")  # Prefect 3.9 stores a link artifact as a markdown link
    report = wh.parent / "reports" / f"report_{PERIOD}_{r3}.html"
    assert any(f"({report.resolve().as_uri()})" in str(a.data) for a in links)
    assert any(f"report_{PERIOD}_{r1}.html" in str(a.data) for a in links)
    assert any(f"indicators_{PERIOD}_{r1}.xlsx" in str(a.data) for a in read("tpa-export"))
    tables = read("tpa-files-per-county")
    assert tables and {a.type for a in tables} == {"table"}
    last = tables[0] if len(tables) == 1 else max(tables, key=lambda a: a.created)
    rows = {r["county_code"]: r for r in json.loads(last.data)}
    # night 4: A1 (superseded) and A2 for 530103, one each for the others, junk rejected
    assert rows["530103"]["files_loaded"] == 2 and rows["530102"]["files_loaded"] == 1
    assert rows["(unidentified)"]["files_rejected"] == 1
    published = dict(q(wh, "SELECT county_code, sum(rows_quarantined) FROM raw.files "
                           "WHERE status <> 'removed' AND county_code IS NOT NULL GROUP BY 1"))  # fmt: skip
    assert {k: v["rows_quarantined"] for k, v in rows.items() if k in published} == published
    summaries = "\n".join(str(a.data) for a in read("tpa-run-summary"))
    assert f"| raw folder | {raw} |" in summaries and f"| warehouse | {wh} |" in summaries
    revised = {a.description.rsplit(" ", 1)[-1]: json.loads(a.data) for a in read("tpa-revisions")}
    assert r1 not in revised  # night 1 published figures for the first time: none revised
    assert {(r["geo_level"], r["geo_code"]) for r in revised[r3]} >= {("county", "530103")}


def test_releases_are_read_only_files(nights):
    folder = releases.release_path(nights["wh"], _ids(nights)[0])
    files = list(folder.rglob("*.parquet"))
    assert {p.parent.name for p in files} == {"marts", "ref", "raw"}
    assert all(os.stat(p).st_mode & 0o222 == 0 for p in [folder, *folder.rglob("*")])


def test_a_failure_in_the_outputs_is_one_line_never_a_failed_publish(nights, monkeypatch):
    from flows.after import After, after_publish
    from pipeline.config import Settings
    from pipeline.outputs import night

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(night, "write", broken)
    wh = nights["wh"]
    after = after_publish.fn(After(), str(wh), Settings(warehouse=wh))
    assert after.latest_release == _ids(nights)[3] and after.outputs is None
    assert after.problems == [
        "writing the report and export failed: OSError: [Errno 28] No space left on device"
    ]


def test_the_flow_reports_files_parsed_of_files_new(nights):
    seen = nights["progress"]
    parsing = [(n, total) for stage_, n, total in seen if stage_ == "parsing new workbooks"]
    assert parsing[0] == (0, 4) and parsing[-1] == (4, 4)  # A1 B C1 and the junk file
    assert [n for n, _ in parsing] == sorted(n for n, _ in parsing)
    assert seen[-1][0] == "building the warehouse"


def test_a_night_over_the_rejected_threshold_names_the_file(nights):
    from pipeline.config import Settings
    from pipeline.run.notify import compose

    wh, o1 = nights["wh"], nights["runs"][0]
    settings = Settings(warehouse=wh, raw_dir=nights["raw"], notify_rejected_files=1)
    title, body, failure = compose(settings, 0, o1)
    assert not failure
    assert (
        title == "tpa nightly run: published, with 1 workbook(s) rejected and 0 row(s) quarantined"
    )
    assert "counties: unidentified (1 file(s) rejected)" in body
    assert f"rejected: {PERIOD}/readme_not_a_workbook.xlsx" in body
    assert f"report: {o1.after.outputs.report}" in body and f"warehouse: {wh}" in body
    # night 3 brought no new rejected file: nobody is told
    assert compose(settings, 0, nights["runs"][2]) is None
    assert compose(Settings(warehouse=wh, notify_rejected_files=2), 0, o1) is None


def test_the_committed_data_dictionary_is_what_tpa_docs_writes(nights, tmp_path):
    """docs/data_dictionary.md is generated (`tpa docs` on a published warehouse, which
    has every table a night makes, raw.indicator_revisions included); a change to a model
    header, a form spec or comments.py without regenerating it fails here."""
    from pipeline.outputs.dictionary import write_markdown
    from tests.builders.paths import ROOT

    text = write_markdown(nights["wh"], tmp_path).read_text(encoding="utf-8")
    committed = (ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert "### raw.indicator_revisions" in text and "### marts.indicators" in text
    assert text == committed, "docs/data_dictionary.md is stale: run `tpa docs` and commit it"
