"""``make clean`` removes what tpa generated and never a county's submission (issue 13,
item 9)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devkit.sample import SAMPLE_MARK, mark_sample, remove_sample
from tests.builders.paths import ROOT


def _site(base: Path) -> dict[str, Path]:
    raw, wh = base / "raw dir's", base / "processed" / "warehouse.duckdb"
    files = {
        "sample": raw / "2019-12" / "530128_禄劝彝族苗族自治县_2019-12.xlsx",
        "sample_only_folder": raw / "2018-12" / "530129_寻甸回族彝族自治县_2018-12.xlsx",
        "changed_sample": raw / "2019-12" / "530129_寻甸回族彝族自治县_2019-12.xlsx",
        "county": raw / "2019-12" / "530621_鲁甸县_2019-12.xlsx",
        "county_top": raw / "530622_巧家县_2019-12.xlsx",
        "county_folder": raw / "from_county" / "530623_盐津县_2019-12.xls",
        "wh": wh,
        "wal": wh.with_name("warehouse.duckdb.wal"),
        "state": wh.with_name("warehouse.duckdb.d") / "extracts" / "x.parquet",
        "report": wh.parent / "reports" / "report_2019-12.html",
        "export": wh.parent / "exports" / "tpa_2019-12.xlsx",
    }
    for name, p in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(name.encode())
    mark_sample(raw, [files["sample"], files["sample_only_folder"], files["changed_sample"]])
    files["changed_sample"].write_bytes(b"a clerk's own file under the sample's name")
    return {"raw": raw, **files}


def _left(site) -> set[str]:
    return {k for k, p in site.items() if k != "raw" and p.exists()}


def test_remove_sample_deletes_only_unchanged_marked_files(tmp_path):
    site = _site(tmp_path)
    removed, kept = remove_sample(site["raw"])
    assert sorted(removed) == sorted([site["sample"], site["sample_only_folder"]])
    assert kept == [site["changed_sample"]]
    assert not (site["raw"] / "2018-12").exists()  # emptied by the sample: removed
    assert not (site["raw"] / SAMPLE_MARK).exists()
    assert {"county", "county_top", "county_folder", "changed_sample"} <= _left(site)


@pytest.mark.slow
def test_make_clean_keeps_every_submission(tmp_path):
    site = _site(tmp_path)
    out = subprocess.run(
        ["make", "-s", "clean", "STAMP=", f"RAW={site['raw']}", f"WAREHOUSE={site['wh']}"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert _left(site) == {"county", "county_top", "county_folder", "changed_sample"}
    assert "removed 2 sample workbooks" in out.stdout
    assert "changed since tpa wrote it" in out.stdout
    assert site["raw"].is_dir() and (site["raw"] / "from_county").is_dir()


def test_the_sample_mark_is_not_a_submission(tmp_path):
    """``.tpa-sample.json`` is tpa's own record: discovery leaves it out (no raw.files row),
    while a county's hidden file beside it is still recorded as not read."""
    from pipeline.run.discover import discover

    site = _site(tmp_path)
    (site["raw"] / ".hidden.xlsx").write_bytes(b"x")
    rels = {d.rel_path: d.kind for d in discover(site["raw"])}
    assert SAMPLE_MARK not in rels
    assert rels[".hidden.xlsx"] == "not_read"
    assert f"2019-12/{site['county'].name}" in rels
