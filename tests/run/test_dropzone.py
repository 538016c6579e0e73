"""What arrives in the drop zone (issue 12 items 6-8, issue 11 item 3): every file is
accounted for in raw.files, workbooks are read by their bytes whatever their name, zips
are read in place (GBK member names decoded), another county's workbook is rejected
whole, a clock ahead does not keep a file current, a rejected file belongs to the
county its name or folder says, and any file name or path is processed or rejected on
its own. Fixtures are written by code; the steps run without Prefect (one whole run is
in ``test_whole_run_of_an_odd_drop_zone``)."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.tasks import build_task
from pipeline.config import Settings
from pipeline.extract import personal
from pipeline.extract.names import decode_bytes, display_name, member_name
from pipeline.run import cache, history, manifest, parse, reuse, submission, unread
from pipeline.run.discover import Discovered, Limits, discover
from schemas import FORMS
from tests.builders.dropzone import encrypt_flag, write_ods, write_xlsb, write_zip
from tests.builders.mess import (
    COUNTY,
    Layout,
    errors,
    expected,
    extract,
    loaded,
    records,
    write_xls,
    write_xlsx,
)
from tests.builders.runs import q

PERIOD = "2019-12"
FILES = ("path, status, reason, county_code, period, identified_from, member_name, archive_path, "
         "archive_sha256, rows_loaded, message")  # fmt: skip


def _layout(form: str = "population", seed: int = 1, n: int = 3, **kw) -> Layout:
    lay = Layout(form, **kw)
    for r in records(form, n, seed=seed):
        lay.add(r)
    return lay


def run_steps(raw: Path, wh: Path, limits: Limits | None = None) -> Path:
    """discover -> plan -> extract -> manifest -> build, as the nightly flow does, without
    Prefect; returns the built (unpublished) warehouse file."""
    cfg = Settings(raw_dir=raw, warehouse=wh, id_key="k")
    key = personal.id_key(cfg)
    found = submission.unique_by_hash(discover(raw, limits or Limits.of(cfg)))
    subs = submission.plan_extracts(found, wh, key)
    for s in subs:
        if not s.cached:
            parse.extract_one(str(s.found.path), s.sha256, s.folder, cfg, key, s.found.member)
    path, _, _ = build_task.fn(subs, str(wh), history.RunRecord())
    return Path(path)


def files(db: Path) -> dict[str, tuple]:
    """raw.files by path: (status, reason, county_code, period, identified_from,
    member_name, archive_path, archive_sha256, rows_loaded, message)."""
    return {r[0]: r[1:] for r in q(db, f"SELECT {FILES} FROM raw.files ORDER BY path")}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ 12.6 formats by bytes


WRITERS = {
    "xlsx named .et": (write_xlsx, "530128_禄劝_2019-12.et", "calamine+xml"),
    "xls named .et (WPS)": (write_xls, "530128_禄劝_2019-12.et", "calamine+biff"),
    "ods": (write_ods, "530128_禄劝_2019-12.ods", "calamine (ods: no format metadata)"),
    "xlsb": (write_xlsb, "530128_禄劝_2019-12.xlsb", "calamine (xlsb: no format metadata)"),
    "trailing space": (write_xlsx, "530128_禄劝_2019-12.xlsx ", "calamine+xml"),
    "wrong suffix": (write_xlsx, "530128_禄劝_2019-12.dat", "calamine+xml"),
    "no suffix": (write_xls, "530128_禄劝_2019-12", "calamine+biff"),
}


@pytest.mark.parametrize("case", list(WRITERS))
def test_a_workbook_is_read_by_its_bytes(tmp_path, case):
    writer, name, reader = WRITERS[case]
    lay = _layout()
    path = writer(tmp_path / "raw" / name, [lay.sheet])
    (found,) = discover(tmp_path / "raw")
    assert (found.kind, found.file_name) == ("workbook", name)
    res = extract(path)
    assert (res.status, res.reader, res.county_code, res.period) == ("loaded", reader, COUNTY,
                                                                     PERIOD)  # fmt: skip
    assert not errors(res)
    assert loaded(res, "population") == expected(lay)


@pytest.mark.parametrize("fmt", ["ods", "xlsb"])
@pytest.mark.parametrize("form", list(FORMS))
def test_ods_and_xlsb_with_merged_headers_read_like_xlsx(tmp_path, form, fmt):
    """The template's merged parent headers and merged township cells: calamine gives no
    merges for ODS and XLSB; they come from the files (``readers.spans``)."""
    lay = Layout(form, two_rows=True)
    recs = records(form, 4, seed=15)
    rows = [lay.add(r) for r in recs]
    lay.merge_townships(rows[0], rows[1])
    writer = write_ods if fmt == "ods" else write_xlsb
    res = extract(writer(tmp_path / f"530128_禄劝_2019-12.{fmt}", [lay.sheet]))
    assert res.status == "loaded" and not errors(res), [f.message_en for f in errors(res)]
    assert res.forms[form].header_rows == lay.header_rows
    assert loaded(res, form) == expected(lay)


# ------------------------------------------------------------------ 12.6 not read, with a row


def _docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return path


@pytest.mark.slow
def test_every_file_gets_a_row(tmp_path):
    raw = tmp_path / "raw"
    d = raw / PERIOD
    good = write_xlsx(d / "530128_禄劝_2019-12.xlsx", [_layout().sheet])
    shutil.copy(good, d / "530128_禄劝_2019-12.xlsx.bak")  # same bytes: the workbook wins
    write_xlsx(d / "old.xlsx.bak", [_layout(seed=2).sheet])
    (d / "~$530128_禄劝_2019-12.xlsx").write_bytes(b"\x0bowner")
    (d / ".530128.xlsx").write_bytes(b"hidden")
    (d / "530622_巧家县_2019-12.csv").write_text("乡镇,户数\n", encoding="gb18030")
    (d / "说明.txt").write_text("see attachment", encoding="utf-8")
    _docx(d / "530622_巧家县_说明.docx")
    (d / "530623_盐津县_2019-12.pdf").write_bytes(b"%PDF-1.7\n")
    write_xlsx(d / ".Trash-0" / "旧.xlsx", [_layout(seed=9).sheet])  # a hidden folder
    got = files(run_steps(raw, tmp_path / "w.duckdb"))
    p = PERIOD + "/"
    assert {k: v[:5] for k, v in got.items()} == {
        p + "530128_禄劝_2019-12.xlsx": ("loaded", None, COUNTY, PERIOD, "cover"),
        p + "old.xlsx.bak": ("not_read", "backup_file", None, PERIOD, "folder"),
        p + "~$530128_禄劝_2019-12.xlsx": ("not_read", "lock_file", COUNTY, PERIOD, "file_name"),
        p + ".530128.xlsx": ("not_read", "hidden_file", COUNTY, PERIOD, "file_name"),
        p + ".Trash-0/旧.xlsx": ("not_read", "hidden_file", None, PERIOD, "folder"),
        p + "530622_巧家县_2019-12.csv": ("not_read", "not_a_workbook", "530622", PERIOD,
                                          "file_name"),
        p + "说明.txt": ("not_read", "not_a_workbook", None, PERIOD, "folder"),
        p + "530622_巧家县_说明.docx": ("not_read", "not_a_workbook", "530622", PERIOD,
                                        "file_name"),
        p + "530623_盐津县_2019-12.pdf": ("not_read", "not_a_workbook", "530623", PERIOD,
                                          "file_name"),
    }  # fmt: skip
    assert got[p + "530622_巧家县_2019-12.csv"][-1] == (
        "530622_巧家县_2019-12.csv：不是工作簿（文本文件（如CSV）），未读取；请报送Excel工作簿"
    )
    assert "PDF" in got[p + "530623_盐津县_2019-12.pdf"][-1]
    assert "其他Office文档" in got[p + "530622_巧家县_说明.docx"][-1]
    assert got[p + "530128_禄劝_2019-12.xlsx"][8] == 3


def test_a_hidden_or_backup_copy_never_hides_the_workbook(tmp_path):
    """The same bytes as a hidden copy (sorted first) and a workbook: one entry, the
    workbook; a .bak copy does not count as sending the file again."""
    raw = tmp_path / "raw"
    good = write_xlsx(raw / "b" / "530128_禄劝_2019-12.xlsx", [_layout().sheet])
    (raw / "a").mkdir()
    shutil.copy(good, raw / "a" / ".~530128.xlsx")
    shutil.copy(good, raw / "c.xlsx.bak")
    os.utime(good, (1_577_000_000, 1_577_000_000))
    os.utime(raw / "c.xlsx.bak", (1_600_000_000, 1_600_000_000))
    (d,) = submission.unique_by_hash(discover(raw))
    assert (d.kind, d.rel_path) == ("workbook", "b/530128_禄劝_2019-12.xlsx")
    assert d.modified_at == datetime(2019, 12, 22, 7, 33, 20)


# ------------------------------------------------------------------ 12.6 zips read in place


@pytest.mark.slow
def test_zip_with_gbk_names_is_read_in_place(tmp_path):
    raw = tmp_path / "raw"
    a, b = _layout(seed=3), _layout("water", seed=4)
    book_a = write_xlsx(tmp_path / "src" / "a.xlsx", [a.sheet]).read_bytes()
    book_b = write_xls(tmp_path / "src" / "b.xls", [b.sheet]).read_bytes()
    members = {
        "禄劝县报表/表1_人口.xlsx": book_a,
        "禄劝县报表/表5_饮水.xls": book_b,
        "禄劝县报表/填报说明.txt": "请查收".encode("gbk"),
    }
    arc = write_zip(raw / PERIOD / "530128_禄劝县_2019-12.zip", members, gbk=True)
    before = sorted(p.relative_to(raw) for p in raw.rglob("*"))
    db = run_steps(raw, tmp_path / "w.duckdb")
    assert sorted(p.relative_to(raw) for p in raw.rglob("*")) == before  # nothing extracted
    got = files(db)
    zp = f"{PERIOD}/530128_禄劝县_2019-12.zip"
    arc_sha = sha(arc.read_bytes())
    assert got[zp][:5] == ("expanded", None, COUNTY, PERIOD, "file_name")
    assert got[zp][-1] == "530128_禄劝县_2019-12.zip：压缩包已展开：3 个文件，其中工作簿 2 个"
    for name, status, reason, rows in [
        ("禄劝县报表/表1_人口.xlsx", "loaded", None, 3),
        ("禄劝县报表/表5_饮水.xls", "loaded", None, 3),
        ("禄劝县报表/填报说明.txt", "not_read", "not_a_workbook", 0),
    ]:
        row = got[f"{zp}/{name}"]
        assert row[:3] == (status, reason, COUNTY)
        assert row[5:9] == (name, zp, arc_sha, rows)
    shas = dict(
        q(db, "SELECT member_name, file_sha256 FROM raw.files WHERE member_name IS NOT NULL")
    )
    assert shas == {n: sha(v) for n, v in members.items()}
    pop = q(db, "SELECT excel_row, village_code, total_population FROM raw.population "
                "ORDER BY excel_row")  # fmt: skip
    want = expected(a)
    assert pop == [(r, v["village_code"], v["total_population"]) for r, v in sorted(want.items())]
    assert q(db, "SELECT count(*) FROM raw.water") == [(3,)]
    assert not any("╟" in str(v) or "Â" in str(v) for r in got.values() for v in r)  # no mojibake


@pytest.mark.slow
def test_a_zip_that_leaves_keeps_its_rows_as_removed(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    book = write_xlsx(tmp_path / "src" / "a.xlsx", [_layout(seed=13).sheet]).read_bytes()
    arc = write_zip(raw / "禄劝.zip", {"表/禄劝.xlsx": book}, gbk=True)
    arc_sha = sha(arc.read_bytes())
    run_steps(raw, wh)
    arc.unlink()
    write_xlsx(raw / "530622_巧家县_2019-12.xlsx", [_layout(seed=14).sheet])
    got = files(run_steps(raw, wh))
    assert got["禄劝.zip"][0] == "removed" and "no longer in the raw folder" in got["禄劝.zip"][1]
    assert got["禄劝.zip/表/禄劝.xlsx"][0] == "removed"
    member = got["禄劝.zip/表/禄劝.xlsx"]
    assert member[2:8] == (COUNTY, PERIOD, "cover", "表/禄劝.xlsx", "禄劝.zip", arc_sha)


def test_member_names_utf8_flag_and_unicode_path_field(tmp_path):
    path = write_zip(tmp_path / "u.zip", {"报表/表1.xlsx": b"x"})  # zipfile sets the flag
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
    assert info.flag_bits & 0x800 and member_name(info) == "报表/表1.xlsx"
    path = write_zip(tmp_path / "g.zip", {"报表/表1.xlsx": b"x"}, gbk=True)
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
    assert not info.flag_bits & 0x800 and info.filename != "报表/表1.xlsx"  # cp437 mojibake
    assert member_name(info) == "报表/表1.xlsx"


def _rows(db: Path) -> dict[str, tuple]:
    return {k: v[:3] for k, v in files(db).items()}


@pytest.mark.slow
def test_nested_encrypted_and_oversized_archives_are_rejected(tmp_path):
    raw = tmp_path / "raw"
    book = write_xlsx(tmp_path / "src" / "a.xlsx", [_layout(seed=5).sheet]).read_bytes()
    inner = write_zip(tmp_path / "src" / "inner.zip", {"a.xlsx": book}).read_bytes()
    write_zip(raw / "nested.zip", {"530128_禄劝_2019-12.xlsx": book, "more.zip": inner})
    encrypt_flag(write_zip(raw / "locked.zip", {"a.xlsx": book}))
    write_zip(raw / "many.zip", {f"{i}.txt": b"x" for i in range(4)})
    write_zip(raw / "big.zip", {"big.txt": b"0" * 30000})
    (raw / "broken.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    limits = Limits(max_members=3, max_total_bytes=20000, max_member_bytes=2**26)
    db = run_steps(raw, tmp_path / "w.duckdb", limits)
    got = _rows(db)
    assert got == {
        "nested.zip": ("expanded", None, None),
        "nested.zip/530128_禄劝_2019-12.xlsx": ("loaded", None, COUNTY),
        "nested.zip/more.zip": ("rejected", "nested_archive", None),
        "locked.zip": ("rejected", "encrypted", None),
        "many.zip": ("rejected", "too_large", None),
        "big.zip": ("rejected", "too_large", None),
        "broken.zip": ("rejected", "damaged", None),
    }
    msg = dict(q(db, "SELECT path, message FROM raw.files"))
    assert "压缩包中又有压缩包" in msg["nested.zip/more.zip"]
    assert "密码" in msg["locked.zip"]
    assert "4 个文件，超过上限 3 个" in msg["many.zip"]
    qf = {r[0] for r in q(db, "SELECT file_name FROM quarantine.files")}
    assert {"more.zip", "locked.zip", "many.zip", "big.zip", "broken.zip"} <= qf


# ------------------------------------------------------------------ 12.7 another county's book


def _claims(name: str, codes: list[str], seed: int = 6) -> Layout:
    """A population sheet whose cover says ``name`` and whose villages carry ``codes``."""
    lay = Layout("population", cover=f"填报单位：{name}（盖章）    统计截止时间：2019年12月31日")
    for rec, code in zip(records("population", len(codes), seed=seed), codes, strict=True):
        rec.values["village_code"] = code
        lay.add(rec)
    return lay


def test_another_countys_workbook_is_rejected_whole(tmp_path):
    theirs = [f"530102{i:06d}" for i in range(101, 104)] + ["530621001001"]  # 3 of 4: 五华区
    res = extract(write_xlsx(tmp_path / "鲁甸县.xlsx", [_claims("鲁甸县", theirs).sheet]))
    assert (res.status, res.reason, res.county_code, res.period) == (
        "rejected", "county_conflict", "530621", PERIOD)  # fmt: skip
    assert res.message == (
        "鲁甸县.xlsx：封面填报单位为530621 鲁甸县，但 4 个村代码中有 3 个属于530102 五华区："
        "这可能是其他县的报表，整个文件未读取；请核对后重新报送本县的报表"
    )
    assert res.forms == {} and [f.rule for f in res.findings] == ["county_conflict"]


@pytest.mark.slow
def test_a_changed_cover_does_not_replace_the_countys_figures(tmp_path):
    """The example of issue 12: 五华区's workbook (population and medical) with its cover
    changed to 鲁甸县, received after 鲁甸县's own: rejected whole, so 鲁甸县's township
    figures stay those it sent, and the file still counts as sent by 鲁甸县."""
    raw = tmp_path / "raw"
    ludian = "填报单位：鲁甸县（盖章）    统计截止时间：2019年12月31日"
    own_pop = _claims("鲁甸县", [f"530621{i:06d}" for i in range(101, 104)], seed=20)
    own_med = _layout("medical", seed=21, cover=ludian)
    own = write_xlsx(raw / "a" / "鲁甸县.xlsx", [own_pop.sheet, own_med.sheet])
    fake_pop = _claims("鲁甸县", [f"530102{i:06d}" for i in range(101, 105)], seed=22)
    fake_med = _layout("medical", seed=23, cover=ludian)
    fake = write_xlsx(raw / "b" / "鲁甸县.xlsx", [fake_pop.sheet, fake_med.sheet])
    os.utime(own, (1_577_000_000, 1_577_000_000))
    os.utime(fake, (1_578_000_000, 1_578_000_000))  # later: it would have won
    db = run_steps(raw, tmp_path / "w.duckdb")
    got = {k: v[:5] for k, v in files(db).items()}
    assert got == {
        "a/鲁甸县.xlsx": ("loaded", None, "530621", PERIOD, "cover"),
        "b/鲁甸县.xlsx": ("rejected", "county_conflict", "530621", PERIOD, "cover"),
    }
    med = q(db, "SELECT excel_row, inpatient_expense FROM staging.medical ORDER BY excel_row")
    want = expected(own_med)
    assert med == [(r, Decimal(v["inpatient_expense"]) / 100) for r, v in sorted(want.items())]
    (dq,) = q(db, "SELECT files_received, files_loaded, files_rejected, submission_state "
                  "FROM marts.data_quality WHERE county_code = '530621'")  # fmt: skip
    assert dq == (2, 1, 1, "loaded")


def test_an_isolated_wrong_village_code_stays_a_row_quarantine(tmp_path):
    codes = ["530621101201", "530621101202", "530621102203", "530102101204", "530102101205"]
    lay = _claims("鲁甸县", codes)
    res = extract(write_xlsx(tmp_path / "鲁甸县.xlsx", [lay.sheet]))
    assert (res.status, res.county_code) == ("loaded", "530621")  # 2 of 5: not most
    assert [f.excel_row for f in errors(res, "village_code_county")] == lay.rows_of[3:]
    assert sorted(loaded(res, "population")) == lay.rows_of[:3]


def test_code_changes_are_respected(tmp_path):
    """澄江 was 530422 until 2019-10 (ref.county_code_changes): 2019 villages of 澄江 under
    its old code are its own; under another county's cover they name 澄江市 (530481)."""
    old = [f"530422{i:06d}" for i in range(101, 105)]
    own = extract(write_xlsx(tmp_path / "a" / "澄江.xlsx", [_claims("澄江市", old).sheet]))
    assert (own.status, own.county_code) == ("loaded", "530481")
    other = extract(write_xlsx(tmp_path / "b" / "鲁甸.xlsx", [_claims("鲁甸县", old).sheet]))
    assert other.reason == "county_conflict" and "530481 澄江市" in other.message


# ------------------------------------------------------------------ 12.7 received_at


@pytest.mark.slow
def test_a_clock_ahead_does_not_keep_a_file_current(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    a = write_xlsx(raw / "a" / "530128_禄劝_2019-12.xlsx", [_layout(seed=7).sheet])
    ahead = datetime.now(UTC) + timedelta(days=365)
    os.utime(a, (ahead.timestamp(), ahead.timestamp()))
    first = run_steps(raw, wh)
    (row,) = q(first, "SELECT received_at, warnings FROM raw.files")
    assert row[0] < (ahead - timedelta(days=364)).replace(tzinfo=None) and row[1] == 1
    (warn,) = q(first, "SELECT rule, severity, message_en FROM quarantine.findings")
    assert warn[:2] == ("clock_ahead", "warning") and "ahead of the run" in warn[2]
    b = write_xlsx(raw / "b" / "530128_禄劝_2019-12.xlsx", [_layout(seed=8).sheet])
    later = datetime.now(UTC) + timedelta(seconds=1)
    os.utime(b, (later.timestamp(), later.timestamp()))
    second = run_steps(raw, wh)
    status = dict(q(second, "SELECT path, status FROM raw.files"))
    assert status == {"a/530128_禄劝_2019-12.xlsx": "superseded",
                      "b/530128_禄劝_2019-12.xlsx": "loaded"}  # fmt: skip


def test_first_sight_is_kept_by_rebuild_and_clean_cache(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    a = write_xlsx(raw / "530128_禄劝_2019-12.xlsx", [_layout().sheet])
    ahead = (datetime.now(UTC) + timedelta(days=30)).timestamp()
    os.utime(a, (ahead, ahead))
    (d,) = discover(raw)
    first = submission.plan_extracts([d], wh, b"k")[0].found.received_at
    shutil.rmtree(wh.with_name(wh.name + ".d") / "extracts")  # make clean-cache
    again = submission.plan_extracts([d], wh, b"k", rebuild=True)[0].found  # make rebuild
    assert again.received_at == first and again.mtime_ahead_s > 29 * 86400
    past = datetime(2020, 1, 10, 9, 0)
    os.utime(a, (past.replace(tzinfo=UTC).timestamp(),) * 2)
    (d,) = discover(raw)
    assert submission.plan_extracts([d], wh, b"k")[0].found.received_at == past  # the earlier


# ------------------------------------------------------------------ 12.8 attribution


def test_a_cover_without_its_county_takes_the_file_name(tmp_path):
    lay = _layout(cover="统计截止时间：2019年12月31日")
    res = extract(write_xlsx(tmp_path / "530128_禄劝彝族苗族自治县_2019-12.xlsx", [lay.sheet]))
    assert (res.status, res.county_code, res.identified_from) == ("loaded", COUNTY, "file_name")
    assert loaded(res, "population") == expected(lay)


@pytest.mark.slow
def test_a_rejected_file_belongs_to_the_county_it_names(tmp_path):
    raw = tmp_path / "raw"
    write_xlsx(raw / PERIOD / "530128_禄劝_2019-12.xlsx", [_layout().sheet])
    (raw / PERIOD / "530622_巧家县_2019-12.xlsx").write_bytes(b"PK\x03\x04broken")
    (raw / PERIOD / "盐津县").mkdir()
    (raw / PERIOD / "盐津县" / "报表.xlsx").write_bytes(b"")
    db = run_steps(raw, tmp_path / "w.duckdb")
    got = {k: v[:5] for k, v in files(db).items()}
    assert got[f"{PERIOD}/530622_巧家县_2019-12.xlsx"] == (
        "rejected", "damaged", "530622", PERIOD, "file_name")  # fmt: skip
    assert got[f"{PERIOD}/盐津县/报表.xlsx"] == ("rejected", "damaged", "530623", PERIOD, "folder")
    dq = q(db, "SELECT county_code, files_received, files_rejected, submission_state, "
               "rejected_reasons FROM marts.data_quality WHERE county_code IN "
               "('530128', '530622', '530623', '530624') ORDER BY 1")  # fmt: skip
    assert [r[:4] for r in dq] == [
        ("530128", 1, 0, "loaded"),
        ("530622", 1, 1, "rejected"),
        ("530623", 1, 1, "rejected"),
        ("530624", 0, 0, "nothing"),
    ]
    assert dq[1][4].startswith("530622_巧家县_2019-12.xlsx：文件已损坏")
    assert dq[2][4] == "报表.xlsx：文件为空（0字节），请重新报送"


@pytest.mark.slow
def test_report_and_export_say_the_county_sent_a_rejected_file(tmp_path):
    from pipeline.outputs.export import write_xlsx as export_xlsx
    from pipeline.outputs.report import write_report

    raw = tmp_path / "raw"
    write_xlsx(raw / PERIOD / "530128_禄劝_2019-12.xlsx", [_layout().sheet])
    (raw / PERIOD / "530622_巧家县_2019-12.csv").write_text("a,b\n", encoding="utf-8")
    db = run_steps(raw, tmp_path / "w.duckdb")
    html = write_report(db, tmp_path / "report").read_text(encoding="utf-8")
    section = html.split("报送了文件但均被退回或未读取的县（市、区）", 1)[1].split("</table>")[0]
    assert "巧家县" in section and "请报送Excel工作簿" in section
    html = write_report(db, tmp_path / "report", lang="en").read_text(encoding="utf-8")
    section = html.split("Counties that sent files, all rejected or not read", 1)[1]
    assert "Qiaojia" in section.split("</table>")[0]
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = export_xlsx(con, tmp_path, PERIOD)
    finally:
        con.close()
    ws = openpyxl.load_workbook(out)["数据质量"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    head = next(r for r in rows if "报送情况" in r)
    qj = next(r for r in rows if "巧家县" in r)
    assert qj[head.index("报送情况")] == "报送了文件，但均被退回或未读取"
    assert "请报送Excel工作簿" in qj[head.index("退回或未读取原因")]


# ------------------------------------------------------------------ 11.3 any name, any path


def test_names_decode_utf8_then_gb18030():
    assert display_name("表1.xlsx".encode("gbk")) == "表1.xlsx"
    assert display_name(os.fsdecode("巧家县.xlsx".encode("gb18030"))) == "巧家县.xlsx"
    assert display_name("巧家县.xlsx") == "巧家县.xlsx"
    assert decode_bytes(b"\xff\xfe\x80.xlsx") == "\\xff\\xfe\\x80.xlsx"  # neither: escaped


_NAME_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00")
_NAMES = st.one_of(
    st.text(_NAME_CHARS, min_size=1, max_size=40).map(lambda s: ("text", s)),
    st.text(st.sampled_from("巧家县鲁甸报表统计一二三"), min_size=1, max_size=20).map(
        lambda s: ("gbk", s)
    ),
    st.integers(100, 200).map(lambda n: ("long", "县" * (n // 3) + "x" * (n % 3))),
)


class _Book:
    """One small workbook's bytes, written once (not a fixture: hypothesis would print it)."""

    data: bytes | None = None

    @classmethod
    def get(cls, base: Path) -> bytes:
        if cls.data is None:
            cls.data = write_xlsx(base / "b.xlsx", [_layout().sheet]).read_bytes()
        return cls.data


def _shown(raw: bytes) -> str:
    """The rule, stated apart from the code: bytes that are valid UTF-8 read as UTF-8
    (GBK bytes sometimes are), others as GB18030."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


@pytest.mark.slow
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(named=st.lists(_NAMES, min_size=1, max_size=3, unique_by=lambda x: x[1]))
def test_any_file_name_is_processed_on_its_own(tmp_path_factory, named):
    """Random names (quotes, newlines, any script), names stored as GBK bytes and names
    near the 255-byte limit: each workbook is found, read and recorded under the name a
    person would read, in the manifest (JSON) and in raw.files (DuckDB)."""
    from pipeline.warehouse.build import _create, _files_frame, current_submissions

    base = tmp_path_factory.mktemp("names")
    raw, wh = base / "raw", base / "w.duckdb"
    raw.mkdir()
    book_bytes = _Book.get(tmp_path_factory.getbasetemp())
    want = {}
    for i, (kind, text) in enumerate(named):
        name = f"{i}{text}.xlsx"
        if name in (".", "..") or name.startswith(("~$", ".")):
            continue
        raw_name = name.encode("gbk") if kind == "gbk" else os.fsencode(name)
        if len(raw_name) > 255:
            continue
        data = book_bytes + bytes([i])  # distinct contents (a zip tolerates trailing bytes)
        with open(os.path.join(os.fsencode(raw), raw_name), "wb") as fh:
            fh.write(data)
        want[_shown(raw_name)] = sha(data)
    cfg = Settings(raw_dir=raw, warehouse=wh, id_key="k")
    found = discover(raw)
    assert {d.file_name: d.sha256 for d in found} == want
    assert all(d.kind == "workbook" for d in found)
    items = submission.plan_extracts(found, wh, b"k")
    for s in items:
        folder, _ = parse.extract_one(str(s.found.path), s.sha256, s.folder, cfg, b"k")
        s.result = cache.load(Path(folder))
    assert {s.result.file_name: (s.result.status, s.result.rows_loaded) for s in items} == {
        n: ("loaded", 3) for n in want
    }
    manifest.update_manifest(wh, items, "run")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    _create(con, "raw.files", _files_frame(items, current_submissions(items)))
    assert dict(con.execute("SELECT file_name, file_sha256 FROM raw.files").fetchall()) == want


def test_a_read_error_quoting_an_undecodable_name_is_recorded(tmp_path):
    """An I/O error's text quotes the path as the OS gave it (GBK bytes as surrogate
    escapes): the raw.files message and the run's fingerprint still take it."""
    path = os.fsdecode(os.path.join(os.fsencode(tmp_path), "巧家县.xlsx".encode("gbk")))
    d = Discovered(
        path=Path(path), rel_path="巧家县.xlsx", file_name="巧家县.xlsx", size_bytes=1,
        received_at=datetime(2020, 1, 1), sha256="0" * 64,
    )  # fmt: skip
    error = str(FileNotFoundError(2, "No such file or directory", path)) + " " + path
    s = submission.Submission(d, error=error)
    res = unread.unread(s)
    assert res.message.encode("utf-8") and str(tmp_path / "巧家县.xlsx") in res.message
    assert reuse.build_inputs([s], {})


def test_a_path_longer_than_the_system_allows_is_rejected_on_its_own(tmp_path):
    raw = tmp_path / "raw"
    write_xlsx(raw / "530128_禄劝_2019-12.xlsx", [_layout().sheet])
    fd = os.open(raw, os.O_RDONLY)
    try:
        for _ in range(20):  # 20 x 250 bytes: past PATH_MAX (4096), one level at a time
            os.mkdir("d" * 250, dir_fd=fd)
            nxt = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open("deep.xlsx", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"deep bytes")
        os.close(leaf)
    finally:
        os.close(fd)
    got = {d.file_name: (d.kind, d.reason, d.sha256) for d in discover(raw)}
    assert got == {
        "530128_禄劝_2019-12.xlsx": ("workbook", None, got["530128_禄劝_2019-12.xlsx"][2]),
        "deep.xlsx": ("rejected", "path_too_long", sha(b"deep bytes")),
    }
    deep = next(d for d in discover(raw) if d.file_name == "deep.xlsx")
    res = unread.unread(submission.Submission(deep))
    assert (res.status, res.reason) == ("rejected", "path_too_long") and "路径过长" in res.message


# ------------------------------------------------------------------ one whole run


@pytest.mark.slow
def test_whole_run_of_an_odd_drop_zone(tmp_path):
    """``tpa run``'s flow over a zip with GBK member names, a workbook whose file name is
    GBK bytes, a name with a quote and a newline, and a CSV: it publishes, and every file
    has its row (today: UnicodeEncodeError, or files leaving no trace)."""
    from flows.nightly import run_flow

    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    pop = _layout(seed=11)
    book = write_xlsx(tmp_path / "src" / "p.xlsx", [pop.sheet]).read_bytes()
    write_zip(raw / PERIOD / "禄劝县.zip", {"禄劝县/表1.xlsx": book}, gbk=True)
    cover = "填报单位：五华区（盖章）    统计截止时间：2019年12月31日"
    med = _layout("medical", seed=12, cover=cover)
    gbk_name = os.path.join(os.fsencode(raw / PERIOD), "五华区_医疗.xlsx".encode("gbk"))
    with open(gbk_name, "wb") as fh:
        fh.write(write_xlsx(tmp_path / "src" / "m.xlsx", [med.sheet]).read_bytes())
    (raw / PERIOD / 'a"b\nc.xlsx').write_bytes(b"not a workbook")
    (raw / PERIOD / "530622_巧家县_2019-12.csv").write_text("a,b\n", encoding="utf-8")
    cfg = Settings(raw_dir=raw, warehouse=wh, task_runner="serial", id_key="k",
                   publish_wait_s=5)  # fmt: skip
    outcome = run_flow(raw, wh, cfg)
    assert (outcome.exit_code, outcome.record.status) == (0, "published"), outcome.record.message
    got = {k: v[:6] for k, v in files(wh).items()}
    p = PERIOD + "/"
    assert got == {
        p + "禄劝县.zip": ("expanded", None, COUNTY, PERIOD, "file_name", None),
        p + "禄劝县.zip/禄劝县/表1.xlsx": ("loaded", None, COUNTY, PERIOD, "cover", "禄劝县/表1.xlsx"),
        p + "五华区_医疗.xlsx": ("loaded", None, "530102", PERIOD, "cover", None),
        p + 'a"b\nc.xlsx': ("rejected", "not_a_workbook", None, PERIOD, "folder", None),
        p + "530622_巧家县_2019-12.csv": ("not_read", "not_a_workbook", "530622", PERIOD,
                                          "file_name", None),
    }  # fmt: skip
    staged = q(wh, "SELECT county_code, count(*) FROM staging.population GROUP BY 1")
    assert staged == [(COUNTY, 3)]
    assert q(wh, "SELECT county_code, count(*) FROM staging.medical GROUP BY 1") == [("530102", 3)]
    dq = q(wh, "SELECT county_code, submission_state FROM marts.data_quality "
               "WHERE county_code IN ('530102', '530128', '530622') ORDER BY 1")  # fmt: skip
    assert dq == [("530102", "loaded"), ("530128", "loaded"), ("530622", "rejected")]
