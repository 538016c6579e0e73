"""Nightly operations, in one process (issue 5): content-addressed extracts, resubmissions
and removed workbooks, run history and the Prefect artifact, determinism over file
orders, the Dask task runner, retries, and a scheduled flow run twice.

Real workbooks (a few counties written by the sample generator), real DuckDB files and
a temporary Prefect API (``prefect_test_harness``; PREFECT_HOME is a temporary folder,
tests/conftest.py). The flows run in this process so that parsing can be counted;
tests/flows/test_nightly_cli.py runs ``tpa run`` as real processes.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.config import Settings
from tests.builders.paths import ROOT
from tests.builders.runs import (
    PERIOD,
    T0,
    assert_same,
    forms_of,
    q,
    run,
    sha,
    snapshot,
    stage,
    unstage,
)

# over 10 s on an idle machine (make test-fast skips it); the flows run in this process
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("harness")]

# ---------------------------------------------------------------- fixtures


class Counter:
    """Counts workbooks parsed and extract steps started from this process (each in a
    contained child: ``pipeline.run.contain``)."""

    def __init__(self, mp: pytest.MonkeyPatch):
        from pipeline.run import contain

        self.opened = self.extracts = 0
        real_one = contain.extract_contained

        def counting_one(*a, **k):
            self.extracts += 1
            out = real_one(*a, **k)
            self.opened += out.parsed
            return out

        mp.setattr(contain, "extract_contained", counting_one)

    def take(self) -> tuple[int, int]:
        out = (self.opened, self.extracts)
        self.opened = self.extracts = 0
        return out


@pytest.fixture(scope="module")
def nights(tmp_path_factory, books):
    """Six nights on one warehouse; returns what each did.

    1 A1 B C1 D junk arrive  2 nothing new  3 resubmissions A2 and C2 arrive (later)
    4 D and junk leave the raw folder  5 D comes back  6 ``rebuild`` (make rebuild)
    """
    base = tmp_path_factory.mktemp("nights")
    raw, wh = base / "raw", base / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    out = {"raw": raw, "wh": wh, "runs": []}
    with pytest.MonkeyPatch.context() as mp:
        count = Counter(mp)

        def night():
            n = len(out["runs"])  # night 4 loses 2 of 7 workbooks: a shrink (issue 11)
            o = run(raw, wh, rebuild=n == 5, allow_shrink=n == 3)
            out["runs"].append((o, *count.take(), snapshot(wh)))

        stage(raw, books, ["A1", "B", "C1", "D", "junk"])
        night()
        night()
        stage(raw, books, ["A2", "C2"], mtime=T0 + 86400)
        night()
        unstage(raw, books, ["D", "junk"])
        night()
        stage(raw, books, ["D"])
        night()
        night()
    return out


# ---------------------------------------------------------------- 1. content-addressed extracts


def test_a_night_with_no_new_file_opens_no_workbook(nights):
    (o1, opened1, ex1, s1), (o2, opened2, ex2, s2) = nights["runs"][:2]
    assert (o1.record.files_seen, o1.record.files_new, opened1, ex1) == (5, 5, 5, 5)
    assert (o2.record.files_seen, o2.record.files_new, opened2, ex2) == (5, 0, 0, 0)
    assert_same(s1, s2)
    o3, opened3, ex3, _ = nights["runs"][2]
    assert (o3.record.files_new, opened3, ex3) == (2, 2, 2)  # only the two resubmissions


def test_a_night_with_nothing_changed_copies_the_published_warehouse(nights):
    """Night 2 changed nothing: the published file was copied with raw.runs replaced
    (same tables, checked above); every other night changed an input and built anew,
    and night 6 (rebuild) never copies."""
    assert [o.build_reused for o, *_ in nights["runs"]] == [False, True, False, False, False, False]


def test_a_changed_input_or_a_touched_warehouse_is_built_anew(books, tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B"])
    assert not run(raw, wh).build_reused
    built = snapshot(wh)
    assert run(raw, wh).build_reused  # nothing changed since the first run
    assert_same(built, snapshot(wh))
    b = raw / PERIOD / books["B"].name
    os.utime(b, (T0 + 3600, T0 + 3600))  # B received later: an input of raw.files
    assert not run(raw, wh).build_reused
    assert run(raw, wh).build_reused
    con = duckdb.connect(str(wh))  # an analyst writes into the published file
    con.execute("CREATE TABLE marts.scratch AS SELECT 1 AS x")
    con.close()
    assert not run(raw, wh).build_reused
    assert "marts.scratch" not in snapshot(wh, ("marts",))
    assert not run(raw, wh, rebuild=True).build_reused
    runs = q(wh, "SELECT count(*) FROM raw.runs")[0][0]
    assert runs == 6  # every run is in raw.runs, copied or built


def test_rebuild_parses_everything_and_gives_the_same_warehouse(nights):
    o5, _, _, s5 = nights["runs"][4]
    o6, opened6, _, s6 = nights["runs"][5]
    assert (o5.record.files_new, o6.record.files_new, opened6) == (0, 6, 6)
    assert_same(s5, s6)


def test_from_scratch_equals_incremental(nights, books, tmp_path):
    """Night 3 had A1 A2 B C1 C2 D junk after three runs; one run on a new warehouse with
    the same files gives the same tables."""
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B", "C1", "D", "junk"])
    stage(raw, books, ["A2", "C2"], mtime=T0 + 86400)
    o = run(raw, wh, runner="threads")
    assert o.record.files_new == 7
    assert_same(nights["runs"][2][3], snapshot(wh))


def test_parser_version_and_id_key_are_in_the_cache_key(books, tmp_path, monkeypatch):
    import pipeline.extract.workbook as wbmod

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B"])
    assert run(raw, wh).record.files_new == 2
    assert run(raw, wh).record.files_new == 0
    extracts = wh.with_name(wh.name + ".d") / "extracts"
    old = sorted(p.name for p in extracts.iterdir())
    assert all(n.startswith(f"v{wbmod.PARSER_VERSION}-") for n in old)

    monkeypatch.setattr(wbmod, "PARSER_VERSION", "test-bump")
    assert run(raw, wh).record.files_new == 2  # parsing code changed: parse again
    new = sorted(p.name for p in extracts.iterdir())
    assert len(new) == 2 and all(n.startswith("vtest-bump-") for n in new)  # old ones pruned
    assert run(raw, wh).record.files_new == 0
    assert run(raw, wh, id_key="another key").record.files_new == 2  # pseudonyms change


# ---------------------------------------------------------------- 2. resubmissions, removals


def test_resubmission_supersedes_and_keeps_the_earlier_file(nights, books):
    wh = nights["wh"]
    a1, a2, c1, c2 = (sha(books[n]) for n in ("A1", "A2", "C1", "C2"))
    files = {
        r[0]: r[1:]
        for r in q(
            wh,
            "SELECT file_sha256, path, size_bytes, received_at, reader, status, reason, "
            "superseded_by FROM raw.files",
        )
    }
    path, size, received, reader, status, reason, by = files[a1]
    assert (status, by) == ("superseded", a2)
    assert books["A2"].name in reason and a2[:12] in reason
    assert path == f"{PERIOD}/{books['A1'].name}" and size == books["A1"].stat().st_size
    assert reader.startswith("calamine") and received.year == 2020
    assert files[a2][4:] == ("loaded", None, None)
    assert files[c1][4] == "loaded"  # its water form is still the current one
    assert files[c2][4] == "loaded"
    staged = dict(
        q(wh, "SELECT county_code, list(DISTINCT file_sha256) FROM staging.population GROUP BY 1")
    )
    assert staged["530103"] == [a2] and staged["530128"] == [c2]
    for form in set(forms_of(books, "C1")) - set(forms_of(books, "C2")):  # C1's water
        sql = f"SELECT DISTINCT file_sha256 FROM staging.{form} WHERE county_code='530128'"
        assert q(wh, sql) == [(c1,)]
    subs = q(
        wh,
        "SELECT form, is_current, superseded_by FROM raw.submissions WHERE file_sha256 = ? "
        "ORDER BY form",
        [c1],
    )
    resent = set(forms_of(books, "C2"))
    assert subs == [
        (f, f not in resent, c2 if f in resent else None) for f in forms_of(books, "C1")
    ]
    assert any(f not in resent for f in forms_of(books, "C1"))


def test_an_older_resubmission_does_not_win(books, tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "A2"], mtime={"A1": T0 + 60, "A2": T0})  # A2 received earlier
    run(raw, wh)
    a1, a2 = sha(books["A1"]), sha(books["A2"])
    assert q(wh, "SELECT DISTINCT file_sha256 FROM staging.population") == [(a1,)]
    assert q(wh, "SELECT status, superseded_by FROM raw.files WHERE file_sha256 = ?", [a2]) == [
        ("superseded", a1)
    ]


def test_a_workbook_that_left_the_raw_folder_is_marked_removed(nights, books):
    d, junk = sha(books["D"]), sha(books["junk"])
    s4 = nights["runs"][3][3]
    assert not any(r for r in s4["staging.population"] if "530102" in r)  # D's rows went
    assert any(r[0] == junk for r in s4["quarantine.files"])  # junk's records stayed
    assert any(r[0] == junk for r in s4["quarantine.findings"])
    wh = nights["wh"]
    status = dict(q(wh, "SELECT file_sha256, status FROM raw.files"))
    assert status[junk] == "removed" and status[d] == "loaded"  # D came back on night 5
    ((reason, rows_read),) = q(
        wh, "SELECT reason, rows_read FROM raw.files WHERE file_sha256 = ?", [junk]
    )
    assert reason.startswith("no longer in the raw folder")
    assert len(status) == 7  # one row per workbook ever seen
    o5, opened5, _, s5 = nights["runs"][4]
    assert (o5.record.files_new, opened5) == (0, 0)  # D's extract was kept in the cache
    assert any(r for r in s5["staging.population"] if "530102" in r)
    manifest = json.loads((wh.with_name(wh.name + ".d") / "manifest.json").read_text())
    assert set(manifest["files"]) == set(status)


# ---------------------------------------------------------------- 3. run history, artifact


def test_raw_runs_has_one_row_per_run(nights):
    wh = nights["wh"]
    rows = q(
        wh,
        "SELECT run_id, started_at, finished_at, trigger, files_seen, files_new, "
        "files_rejected, rows_loaded, rows_quarantined, tests_passed, tests_failed, "
        "published, status FROM raw.runs ORDER BY started_at, run_id",
    )
    ids = [o.record.run_id for o, *_ in nights["runs"]]
    assert sorted(r[0] for r in rows) == sorted(ids)
    by_id = {r[0]: r for r in rows}
    assert [by_id[i][4:6] for i in ids] == [(5, 5), (5, 0), (7, 2), (5, 0), (6, 0), (6, 6)]
    assert [by_id[i][6] for i in ids] == [1, 1, 1, 0, 0, 0]  # junk, while it was there
    for i in ids[:-1]:
        r = by_id[i]
        assert r[12] == "published" and r[11] is True and r[2] >= r[1] and r[9] > 0
        assert r[3] == "manual" and r[7] > 0 and r[10] == 0
    last = by_id[ids[-1]]  # the building run: published, finished (issue 13)
    assert (last[12], last[11]) == ("published", True) and last[2] >= last[1]


def test_run_summary_is_a_prefect_artifact(nights):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["tpa-run-summary"]))
        )
        assert len(arts) >= len(nights["runs"])
        assert all(a.type == "markdown" and a.flow_run_id for a in arts)
        text = "\n".join(str(a.data) for a in arts)
        for o, *_ in nights["runs"]:
            assert f"# tpa run {o.record.run_id}" in text
        fr = client.read_flow_run(arts[-1].flow_run_id)
        assert client.read_flow(fr.flow_id).name == "tpa-nightly"


# ---------------------------------------------------------------- determinism, Dask


@pytest.fixture(scope="module")
def orders(tmp_path_factory, books):
    """The same six files, all received at the same second (ties: the greater SHA-256
    wins), loaded in three different orders; and once more on a 2-worker Dask cluster."""
    names = ["A1", "A2", "B", "C1", "C2", "junk"]
    perms = [names, names[::-1], random.Random(5).sample(names, len(names))]
    out = []
    for i, perm in enumerate(perms):
        base = tmp_path_factory.mktemp(f"order{i}")
        raw, wh = base / "raw", base / "w.duckdb"
        # folders 00.., 01.. make discovery (sorted by path) follow the permutation
        stage(raw, books, perm, folders={n: f"{k:02d}" for k, n in enumerate(perm)})
        out.append((perm, wh, run(raw, wh, runner="threads" if i == 2 else "serial")))
    return out


def test_three_orders_give_the_same_warehouse(orders, books):
    snaps = [snapshot(wh) for _, wh, _ in orders]
    assert len({tuple(p) for p, _, _ in orders}) == 3
    assert_same(snaps[0], snaps[1])
    assert_same(snaps[0], snaps[2])
    winner = max(sha(books["A1"]), sha(books["A2"]))
    wh = orders[0][1]
    assert q(
        wh, "SELECT DISTINCT file_sha256 FROM staging.population WHERE county_code='530103'"
    ) == [(winner,)]


def test_dask_cluster_gives_the_same_warehouse(orders, tmp_path, monkeypatch):
    """The six workbooks parsed on a 2-worker Dask LocalCluster (none in this process)."""
    from flows.runners import make_runner

    runner = make_runner(Settings(task_runner="dask", workers=2))
    assert runner.cluster_kwargs["n_workers"] == 2
    monkeypatch.setattr("flows.runners.inline_below", lambda settings: 0)  # 6 files: use Dask
    count = Counter(monkeypatch)
    perm, wh_single, _ = orders[0]
    raw = wh_single.parent / "raw"
    wh = tmp_path / "w.duckdb"
    o = run(raw, wh, runner="dask", workers=2)
    assert o.record.files_new == 6 and count.take() == (0, 0)  # parsed by the workers
    assert_same(snapshot(wh_single), snapshot(wh))


# ---------------------------------------------------------------- 7. retries, schedule


def test_extract_retries_a_transient_io_error_only(monkeypatch, tmp_path, books):
    """Per file: a transient I/O error is tried again, a vanished file is not; the task
    completes with each file's own outcome."""

    from prefect import flow

    import flows.tasks as tasks
    from pipeline.run import contain
    from pipeline.run.discover import Discovered
    from pipeline.run.submission import Submission

    calls = {"n": 0}

    def flaky(path, sha256, folder, settings, key):
        calls["n"] += 1
        if calls["n"] == 1:
            return contain.Outcome(None, reason="read_error", error="p: EIO", transient=True)
        return contain.Outcome(folder, parsed=True)

    def gone(path, sha256, folder, settings, key):
        calls["n"] += 1
        return contain.Outcome(None, reason="read_error", error="p: gone", transient=False)

    @flow
    def one():
        found = Discovered(Path("p"), "p", "p", 1, datetime(2020, 1, 1), "s")
        fut = tasks.extract_task.submit([Submission(found, "f")], Settings(), b"k")
        fut.wait()
        return fut.state.type.value, fut.result()

    monkeypatch.setattr(contain, "RETRY_DELAY_S", 0)
    monkeypatch.setattr(contain, "extract_contained", flaky)
    state, out = one()
    assert (state, calls["n"], out["s"].folder) == ("COMPLETED", 2, "f")
    calls["n"] = 0
    monkeypatch.setattr(contain, "extract_contained", gone)
    state, out = one()
    assert (state, calls["n"], out["s"].error) == ("COMPLETED", 1, "p: gone")


def test_unreadable_workbook_is_reported_and_read_again_next_run(monkeypatch, tmp_path, books):

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B"])
    bad = sha(books["B"])
    from pipeline.run import contain

    # the contained child raises EIO on B (devkit.testhooks), every attempt
    monkeypatch.setattr(contain, "RETRY_DELAY_S", 0)
    monkeypatch.setenv("TPA_TEST_CRASH", f"{books['B'].name}:oserror")
    o = run(raw, wh, id_key="distinctive-secret-4711")
    assert (o.record.files_new, o.record.files_rejected) == (1, 1)
    ((status, reason, msg),) = q(
        wh, "SELECT status, reason, message FROM raw.files WHERE file_sha256 = ?", [bad]
    )
    assert (status, reason) == ("rejected", "read_error") and "Input/output error" in msg
    assert books["B"].name in msg
    monkeypatch.delenv("TPA_TEST_CRASH")
    o = run(raw, wh, id_key="distinctive-secret-4711")
    assert (o.record.files_new, o.record.files_rejected) == (1, 0)

    # the ID key is never a flow parameter (the Prefect API stores and shows them)
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=200)
    params = json.dumps([r.parameters for r in runs])
    assert "distinctive-secret-4711" not in params and '"id_key": null' in params


def test_a_scheduled_run_twice_is_harmless(books, tmp_path):
    from flows.deploy import scheduled

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B", "C1"])
    assert scheduled(str(raw), str(wh)) == 0
    first = snapshot(wh)
    assert scheduled(str(raw), str(wh)) == 0
    assert_same(first, snapshot(wh))
    rows = q(wh, "SELECT trigger, files_new, status FROM raw.runs")
    assert sorted(rows) == [("schedule", 0, "published"), ("schedule", 3, "published")]


def test_timings_file_has_every_stage(books, tmp_path, monkeypatch):
    """``TPA_TIMINGS_FILE`` (``make bench``): wall, CPU, rows and peak RSS per stage; the
    extract stages count every data row read."""
    out = tmp_path / "timings.json"
    monkeypatch.setenv("TPA_TIMINGS_FILE", str(out))
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B"])
    o = run(raw, wh)
    t = json.loads(out.read_text())
    stages = ["discover", "read", "coerce", "validate", "cache", "extract", "build", "models",
              "tests", "publish", "pipeline"]  # fmt: skip
    assert set(stages) <= set(t)
    rows = o.record.rows_loaded + o.record.rows_quarantined
    assert rows > 0
    for s in stages:
        assert set(t[s]) >= {"wall", "cpu", "rows", "peak_rss_mib", "rows_per_s"}, s
        assert t[s]["wall"] > 0 and t[s]["peak_rss_mib"] > 0, s
    assert t["read"]["rows"] == t["coerce"]["rows"] == t["validate"]["rows"] == rows
    assert t["pipeline"]["wall"] >= t["extract"]["wall"] + t["build"]["wall"]
    assert not out.with_name(out.name + ".parts").exists()


def test_extract_left_on_disk_counts_its_rows(books, tmp_path):
    """``cache.load(frames=False)`` (the build's way) gives the same counts as loading
    the frames, also for an extract written before meta.json recorded them (a removed
    workbook keeps its old extract)."""
    from pipeline.extract.workbook import extract_workbook
    from pipeline.run import cache

    src = books["A1"]
    r = extract_workbook(src, sha(src), max_bytes=2**30, max_unzipped=2**30, id_key=b"k")
    folder = cache.save(r, tmp_path, "x")
    full, lazy = cache.load(folder), cache.load(folder, frames=False)
    assert full.rows_loaded == lazy.rows_loaded == r.rows_loaded > 0
    assert all(sr.valid.empty and sr.parquet for sr in lazy.forms.values())
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    for fm in meta["forms"].values():
        del fm["rows_loaded"]
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    assert cache.load(folder, frames=False).rows_loaded == r.rows_loaded


def test_run_statuses_tell_the_truth(books, tmp_path, monkeypatch):
    """Issue 13, item 4: an unexpected error ends the run as ``failed`` with one line
    (never relabelled ``killed`` by the next run's tidy-up); a build that cannot be
    published is ``not_published`` in the history, and the next build carries that."""
    from flows.nightly import run_flow
    from pipeline.run import history, recovery
    from pipeline.run.publish import PublishResult

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B"])
    settings = Settings(raw_dir=raw, warehouse=wh, task_runner="serial", id_key="k")

    def boom(*a, **kw):
        raise RuntimeError("disk said no\nsecond line")

    with monkeypatch.context() as m:
        m.setattr("pipeline.run.reuse.build_warehouse", boom)
        failed = run_flow(raw, wh, settings)
    assert failed.exit_code == 1
    assert failed.record.status == "failed"
    assert failed.record.message.startswith("RuntimeError: disk said no")
    assert "\n" not in failed.record.message
    assert failed.record.finished_at is not None
    recovery.recover(wh)  # the next run's tidy-up, under the lock
    hist = {r["run_id"]: r["status"] for r in history.run_history(wh)}
    assert hist == {failed.record.run_id: "failed"}

    with monkeypatch.context() as m:  # a writer holds the warehouse for the whole wait
        m.setattr(
            "flows.tasks.publish",
            lambda build, w, wait_s: PublishResult(published=False, warehouse=w, build_kept=build),
        )
        held = run_flow(raw, wh, settings)
    assert (held.exit_code, held.record.status, held.record.published) == (
        3,
        "not_published",
        False,
    )
    assert not wh.exists()

    done = run_flow(raw, wh, settings)
    assert done.exit_code == 0
    rows = q(wh, "SELECT run_id, status, published, finished_at IS NOT NULL FROM raw.runs")
    assert sorted(rows) == sorted(
        [
            (failed.record.run_id, "failed", False, True),
            (held.record.run_id, "not_published", False, True),
            (done.record.run_id, "published", True, True),
        ]
    )


DUCKDB1 = ROOT / ".venv-duckdb1" / "bin" / "python"


@pytest.mark.skipif(
    not DUCKDB1.exists(),
    reason="no DuckDB 1.x side environment (.venv-duckdb1: `make test` and .ci/run set it up)",
)
def test_duckdb_1x_clients_open_the_published_warehouse(books, tmp_path):
    """Issue 13, item 7: the published file (and a no-change night's copy of it, whose
    raw.runs is rewritten) opens read-only in DuckDB 1.x, with the same marts and comments."""
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    stage(raw, books, ["A1", "B", "C1"])
    sql = (
        "SELECT (SELECT count(*) FROM marts.indicators),"
        " (SELECT sum(value)::VARCHAR FROM marts.indicators WHERE geo_level = 'province'),"
        " (SELECT count(*) FROM raw.runs),"
        " (SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts'"
        "  AND table_name = 'indicators')"
    )
    code = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(duckdb.__version__, json.dumps(con.execute(sys.argv[2]).fetchone()))\n"
    )
    for nights in (1, 2):  # the second night copies the first build and rewrites raw.runs
        run(raw, wh)
        out = subprocess.run(
            [str(DUCKDB1), "-c", code, str(wh), sql], capture_output=True, text=True, timeout=300
        )
        assert out.returncode == 0, out.stderr
        version, got = out.stdout.split(" ", 1)
        assert version.startswith("1.")
        assert json.loads(got) == [*q(wh, sql)[0][:2], nights, q(wh, sql)[0][3]]
