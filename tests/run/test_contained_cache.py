"""The cache proves itself (issue 11, item 5): every cached extract carries the SHA-256
of its files and a seal over meta.json; a flipped bit anywhere is seen before the build
reads it, the workbook is parsed again and the published figures are those of before;
when the workbook is gone, its raw.files row stays ``removed`` with the reason "cached
extract damaged; rows no longer available" and the extract is moved aside.

Bit flips are drawn by hypothesis (file, byte offset, bit) over a real extract of a
sample workbook; the flows run in this process (tests/builders/runs.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.run import cache
from pipeline.run.state import state_dir
from tests.builders.runs import q, sha, snapshot, stage


@pytest.fixture(scope="module")
def good(books, tmp_path_factory) -> Path:
    """A sound extract of workbook A1 (written by ``cache.save``)."""
    from pipeline.extract.workbook import extract_workbook

    src = books["A1"]
    r = extract_workbook(src, sha(src), max_bytes=2**30, max_unzipped=2**30, id_key=b"k")
    folder = cache.save(r, tmp_path_factory.mktemp("extract"), "x")
    assert cache.verify(folder) is None
    return folder


def flip(path: Path, offset: int, bit: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_meta_records_a_checksum_of_every_file(good):
    meta = json.loads((good / "meta.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in good.iterdir() if p.name != "meta.json")
    assert sorted(meta["checksums"]) == files and len(files) >= 2
    for name, digest in meta["checksums"].items():
        assert digest == cache.file_sha256(good / name)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_single_bit_flip_is_seen(good, tmp_path_factory, data):
    names = sorted(p.name for p in good.iterdir())
    name = data.draw(st.sampled_from(names), label="file")
    size = (good / name).stat().st_size
    offset = data.draw(st.integers(0, size - 1), label="offset")
    bit = data.draw(st.integers(0, 7), label="bit")
    copy = tmp_path_factory.mktemp("flip") / "x"
    shutil.copytree(good, copy)
    flip(copy / name, offset, bit)
    assert cache.verify(copy) is not None, (name, offset, bit)


@pytest.mark.slow
def test_a_missing_file_or_a_truncated_meta_is_seen(good, tmp_path):
    a = tmp_path / "a"
    shutil.copytree(good, a)
    victim = sorted(p for p in a.iterdir() if p.suffix == ".parquet")[0]
    victim.unlink()
    assert f"{victim.name} is missing" in cache.verify(a)
    b = tmp_path / "b"
    shutil.copytree(good, b)
    (b / "meta.json").write_bytes((b / "meta.json").read_bytes()[:-10])
    assert "unreadable" in cache.verify(b)


@pytest.mark.slow
def test_an_old_extract_without_checksums_is_read_whole(good, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(good, old)
    meta = json.loads((old / "meta.json").read_text(encoding="utf-8"))
    del meta["checksums"], meta[cache.META_SEAL]
    (old / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    assert cache.verify(old) is None
    victim = sorted(old.glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:40])  # a torn file does not parse
    assert "unreadable" in cache.verify(old)


# ---------------------------------------------------------------- through the flow


def run(raw: Path, wh: Path, **kw):
    from flows.nightly import run_flow

    kw = {"task_runner": "serial", "id_key": "k", "publish_wait_s": 5, **kw}
    s = Settings(raw_dir=raw, warehouse=wh, **kw)
    outcome = run_flow(raw, wh, s)
    assert outcome.exit_code == 0, outcome.record.message
    return outcome


def extract_of(wh: Path, path: Path) -> Path:
    manifest = json.loads((state_dir(wh) / "manifest.json").read_text(encoding="utf-8"))
    return state_dir(wh) / "extracts" / manifest["files"][sha(path)]["extract"]


@pytest.mark.slow
@pytest.mark.usefixtures("harness")  # the flow runs in this process
def test_damaged_extracts_are_parsed_again_or_set_aside(books, tmp_path):
    """Night 1: A1, B, C1 published. Night 2: a bit flipped in A1's staged rows and in
    B's meta.json: both parsed again, same figures. Night 3: C1 has left the raw folder
    and its kept extract is damaged: removed with the reason, the extract moved aside."""
    raw, wh = tmp_path / "raw", tmp_path / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    stage(raw, books, ["A1", "B", "C1"])
    run(raw, wh)
    before = snapshot(wh)
    a1, b = extract_of(wh, books["A1"]), extract_of(wh, books["B"])
    rows_file = max(a1.glob("*.parquet"), key=lambda p: p.stat().st_size)
    flip(rows_file, rows_file.stat().st_size // 3, 2)  # inside a data page
    flip(b / "meta.json", 40, 0)
    # without this the night would copy the published warehouse (nothing changed)
    (state_dir(wh) / "published_inputs.json").unlink()

    o = run(raw, wh)
    assert o.record.files_new == 2  # parsed again from their workbooks
    assert len(o.record.notes) == 2 and all("damaged" in n for n in o.record.notes)
    assert any(a1.name[-12:] in n for n in o.record.notes)
    assert snapshot(wh) == before  # the published figures are those of before the flips
    assert cache.verify(a1) is None and cache.verify(b) is None
    damaged = sorted(p.name for p in (state_dir(wh) / "damaged").iterdir())
    assert len(damaged) == 2 and all(n.startswith((a1.name, b.name)) for n in damaged)

    c1 = extract_of(wh, books["C1"])
    for p in raw.rglob(books["C1"].name):
        p.unlink()
    flip(c1 / "meta.json", 10, 3)
    o = run(raw, wh, allow_shrink=True)  # one of three workbooks gone: a shrink
    (note,) = [n for n in o.record.notes if "damaged" in n]
    assert books["C1"].name in note
    (row,) = q(wh, "SELECT status, reason FROM raw.files WHERE file_sha256 = ?", [sha(books["C1"])])
    assert row == ("removed", "cached extract damaged; rows no longer available")
    assert not c1.exists() and len(list((state_dir(wh) / "damaged").iterdir())) == 3
    assert q(
        wh, "SELECT count(*) FROM quarantine.rows WHERE file_sha256 = ?", [sha(books["C1"])]
    ) == [(0,)]

    o = run(raw, wh)  # the next night: still removed for that reason, nothing more to say
    assert o.record.notes == []
    (row,) = q(wh, "SELECT status, reason FROM raw.files WHERE file_sha256 = ?", [sha(books["C1"])])
    assert row == ("removed", "cached extract damaged; rows no longer available")
