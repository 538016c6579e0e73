"""One whole ``tpa run`` (the nightly flow in this process) over hostile values and
misplaced personal data [issue 11, items 2 and 6]: the build publishes, the other rows
load, the warehouse's findings are those ``tpa check`` prints for the same workbooks,
and no ID number or name is left in clear in any file of the state folder, the
extracts, the warehouse, Prefect's home or the captured output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.config import Settings
from schemas import FORMS
from tests.builders.mess import COVER, FILE_NAME, Layout, extract, records, write_xlsx
from tests.builders.runs import q
from tests.builders.values import gb11643_check, hostile_workbook

pytestmark = pytest.mark.slow

NAMES = ["欧阳测试甲", "司马测试乙", "诸葛测试丙"]
# the personal-data workbooks are of another period: they supersede nothing
COVER_2020 = COVER.replace("2019年12月31日", "2020年6月30日")
NAME_2020 = FILE_NAME.replace("2019-12", "2020-06")
CLEAN = 2  # clean rows after the hostile ones in each form's workbook


def _id(body17: str) -> str:
    return body17 + gb11643_check(body17)


IDS = {
    "ledger": [_id("53012819800101001"), _id("53012819750505002"), _id("53012819900909003")],
    "remarks": _id("11010519491231004"),  # in an extra 备注 column of the ledger
    "township": _id("44052419800101005"),  # in a medical township cell
    "count": "530128850101123",  # a 15-digit ID as a number in a population count
}


def personal_workbooks(folder: Path) -> list[Path]:
    """The ledger under legal headers (公民身份号码, 户主名称) with an ID in a remark;
    a medical sheet with an ID in a township cell; a population sheet with a 15-digit
    ID typed as a number into a count."""
    lay = Layout("households", cover=COVER_2020)
    hdr = lay.sheet.rows[lay.header_rows[-1] - 1]
    hdr[lay.col("head_id_number")] = "公民身份号码"
    hdr[lay.col("head_name")] = "户主名称"
    hdr.append("备注")
    recs = records("households", 3, seed=11)
    for rec, ident, name in zip(recs, IDS["ledger"], NAMES, strict=True):
        rec.values["head_id_number"], rec.values["head_name"] = ident, name
    rows = [lay.add(r) for r in recs]
    lay.sheet.rows[rows[2] - 1].append(f"户主之妻身份证{IDS['remarks']}")
    med = Layout("medical", cover=COVER_2020)
    mrows = [med.add(r) for r in records("medical", 3, seed=12)]
    med.set(mrows[0], "township", IDS["township"])
    pop = Layout("population", cover=COVER_2020)
    prow = [pop.add(r) for r in records("population", 3, seed=13)]
    pop.set(prow[1], "total_households", int(IDS["count"]))
    return [
        write_xlsx(folder / f"ledger_{NAME_2020}", [lay.sheet]),
        write_xlsx(folder / f"other_{NAME_2020}", [med.sheet, pop.sheet]),
    ]


def clear_values() -> list[str]:
    ids = [*IDS["ledger"], IDS["remarks"], IDS["township"], IDS["count"]]
    return [*ids, *(i[:14] for i in ids), *NAMES]


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    from prefect.testing.utilities import prefect_test_harness

    from flows.nightly import run_flow

    base = tmp_path_factory.mktemp("contained")
    raw, wh = base / "raw", base / "wh" / "warehouse.duckdb"
    raw.mkdir()
    wh.parent.mkdir()
    for form in FORMS:
        hostile_workbook(raw, form, clean=CLEAN)
    personal_workbooks(raw)
    with prefect_test_harness(server_startup_timeout=180):  # a busy machine
        settings = Settings(raw_dir=raw, warehouse=wh, task_runner="serial", id_key="k")
        outcome = run_flow(raw, wh, settings)
    return raw, wh, outcome


def test_the_build_publishes_and_the_other_rows_load(night):
    raw, wh, outcome = night
    assert outcome.exit_code == 0, outcome.record.message
    for form in FORMS:  # the clean rows of each hostile workbook are loaded
        n = q(
            wh,
            f"SELECT count(*) FROM staging.{form} s JOIN raw.files f USING (file_sha256) "
            f"WHERE f.file_name = '{form}_{FILE_NAME}'",
        )[0][0]
        assert n >= CLEAN, form
    files = q(wh, "SELECT file_name, status FROM raw.files ORDER BY file_name")
    assert {s for _, s in files} == {"loaded"} and len(files) == len(list(raw.iterdir()))
    # every data row is loaded or quarantined, per file (the counts add up)
    bad = q(
        wh,
        "SELECT file_name FROM raw.files WHERE rows_read != rows_loaded + rows_quarantined",
    )
    assert not bad


def _finding_key(f: dict) -> tuple:
    return (f["file_name"], f["sheet"], f["excel_row"], f["cell_ref"], f["rule"], f["severity"],
            f["message"])  # fmt: skip


def test_run_and_check_give_the_same_findings(night, monkeypatch):
    raw, wh, _ = night
    con = duckdb.connect(str(wh), read_only=True)
    try:
        got = con.execute("SELECT * FROM quarantine.findings").fetchdf().to_dict("records")
    finally:
        con.close()
    stored = {_finding_key(f) for f in got}
    monkeypatch.setenv("TPA_ID_KEY", "k")
    checked = set()
    for path in sorted(raw.iterdir()):
        res = extract(path, id_key=b"k")
        checked |= {_finding_key(f.as_dict()) for f in res.findings}
    assert stored == checked
    from pipeline.cli import app

    monkeypatch.setenv("COLUMNS", "400")
    out = CliRunner().invoke(app, ["check", *map(str, sorted(raw.iterdir()))])
    assert out.exit_code == 1 and "Traceback" not in out.output
    printed = " ".join(out.output.split())
    for f in got:
        assert " ".join(f["message"].split()) in printed
    for value in clear_values():
        assert value not in out.output


def _text_of(path: Path) -> str:
    """Everything a file could show: its bytes as text and, for Parquet, its values."""
    data = path.read_bytes()
    text = data.decode("utf-8", "replace") + data.decode("utf-16-le", "replace")
    if path.suffix == ".parquet":
        text += json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)
    return text


def test_no_personal_value_in_clear_anywhere(night, capfd):
    raw, wh, _ = night
    state = wh.with_name(wh.name + ".d")
    files = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    home = Path(os.environ["PREFECT_HOME"])
    files += [p for p in home.rglob("*") if p.is_file()]
    files += [p for p in wh.parent.iterdir() if p.is_file()]
    blobs = {str(p): _text_of(p) for p in files}
    con = duckdb.connect(str(wh), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
        ).fetchall()
        for schema, table in tables:
            df = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchdf()
            blobs[f"{schema}.{table}"] = df.astype(str).to_csv()
    finally:
        con.close()
    captured = capfd.readouterr()
    blobs["output"] = captured.out + captured.err
    assert {"quarantine.rows", "quarantine.findings", "staging.households"} <= set(blobs)
    for value in clear_values():
        leaks = [where for where, text in blobs.items() if value in text]
        assert not leaks, (value, leaks)
    rows = q(
        wh,
        f"SELECT cells FROM quarantine.rows WHERE file_name = 'ledger_{NAME_2020}'",
    )
    assert len(rows) == 1 and None in json.loads(rows[0][0]).values()  # the remark, withheld
    named = q(
        wh,
        "SELECT cell_ref, cell_text, severity FROM quarantine.findings "
        "WHERE rule = 'personal_data_misplaced' ORDER BY cell_ref",
    )
    assert len(named) == 3 and all(t is None and s == "error" for _, t, s in named)
