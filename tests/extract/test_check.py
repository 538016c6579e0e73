"""`tpa check FILE…` as a clerk runs it (a subprocess of ``python -m pipeline``): findings
grouped by sheet, each naming file, sheet!cell, the header, the original text (never
personal data) and what to do, in Chinese or English (``--lang en``); exit status 1 when
there are errors; ``--feedback DIR`` writes a marked-up copy per workbook (a summary-only
workbook for a rejected file), with clerk text never turned into a live formula. Also run
on every workbook of ../shared/cases: the expected findings are printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import openpyxl
import pytest

from tests.builders.mess import BIG, FILE_NAME, Layout, Sheet, records, write_xlsx
from tests.builders.paths import ROOT

# every test runs `tpa check` in a child process (seconds each; make test-fast skips them)
pytestmark = pytest.mark.slow

STEM = FILE_NAME.removesuffix(".xlsx")


def _check(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "TPA_ID_KEY": "check-test-key", "COLUMNS": "300"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "check", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300, env=env,
    )  # fmt: skip


def _block_list(stdout: str) -> list[tuple[str, str]]:
    """``(file name, output)`` per checked file, in order (a block starts with the file
    name at column 0)."""
    out: list[tuple[str, list[str]]] = []
    for line in stdout.splitlines():
        if line and not line.startswith(" ") and ": " in line:
            out.append((line.split(": ", 1)[0], []))
        if out:
            out[-1][1].append(line)
    return [(k, "\n".join(v)) for k, v in out]


def _blocks(stdout: str) -> dict[str, str]:
    return dict(_block_list(stdout))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A workbook with errors and warnings on two forms, a clean one, a rejected one."""
    d = tmp_path_factory.mktemp("check")
    pop = Layout("population", name="表1")
    recs = records("population", 4, seed=51)
    rows = [pop.add(r) for r in recs]
    pop.set(rows[1], "total_population", "3,5079")
    pop.set(rows[2], "village", '=HYPERLINK("http://x.invalid","点我")')
    pop.set(rows[2], "total_households", "12O")
    total = pop.total("合计", recs)
    hh = Layout("households", name="表9")
    hrec = records("households", 2, seed=52)
    hrows = [hh.add(r) for r in hrec]
    ident = hrec[0].values["head_id_number"]
    hh.set(hrows[0], "head_id_number", ident[:17] + ("0" if ident[17] != "0" else "1"))
    hh.set(hrows[1], "household_size", "-5")
    bad = write_xlsx(d / FILE_NAME, [pop.sheet, hh.sheet])
    clean_lay = Layout("housing", name="表3")
    for r in records("housing", 3, seed=53):
        clean_lay.add(r)
    clean = write_xlsx(d / "530128_禄劝彝族苗族自治县_2019-12_housing.xlsx", [clean_lay.sheet])
    rejected = d / "530128_禄劝_2019-12.xls"
    rejected.write_bytes(b"<html><table><tr><td>1</td></tr></table></html>")
    info = {
        "pop_rows": rows,
        "total": total,
        "pop": pop,
        "hh": hh,
        "hh_rows": hrows,
        "id": hrec[0].values["head_id_number"],
        "name": hrec[0].values["head_name"],
    }
    return d, bad, clean, rejected, info


@pytest.fixture(scope="module")
def zh(files):
    d, bad, clean, rejected, info = files
    return _check(bad, clean, rejected, "--feedback", d / "fb")


def test_exit_status_and_files(zh, files):
    d, bad, clean, rejected, _ = files
    assert zh.returncode == 1, zh.stdout + zh.stderr
    blocks = _blocks(zh.stdout)
    assert set(blocks) == {bad.name, clean.name, rejected.name}, zh.stdout
    assert "rows read 3, loaded 3, quarantined 0" in blocks[clean.name]
    assert "rows read 6, loaded 2, quarantined 4" in blocks[bad.name]


def test_clean_file_alone_exits_zero(files, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    _, _, clean, _, _ = files
    monkeypatch.setenv("TPA_ID_KEY", "check-test-key")
    r = CliRunner().invoke(app, ["check", str(clean)])
    assert r.exit_code == 0, r.output
    assert f"{clean.name}: 530128 2019-12" in r.output


def test_findings_grouped_by_sheet_with_cell_header_text_and_advice(zh, files):
    _, bad, _, _, info = files
    block = _blocks(zh.stdout)[bad.name]
    lines = block.splitlines()
    i1, i9 = lines.index("  表1"), lines.index("  表9")
    sheet1, sheet9 = "\n".join(lines[i1:i9]), "\n".join(lines[i9:])
    pop, r = info["pop"], info["pop_rows"]
    c_pop = f"{pop.letter('total_population')}{r[1]}"
    assert f"error {bad.name} 表1!{c_pop}「总人口」原文“3,5079”：数字格式有误" in sheet1
    c_hh = f"{pop.letter('total_households')}{r[2]}"
    assert f"表1!{c_hh}「总户数」原文“12O”：数字中夹有字母" in sheet1
    assert (
        f"warning {bad.name} 表1 第{info['total']}行原文“合计”：该合计/小计所含的行有错误被暂存，未核对"
        in sheet1
    )
    hh, hr = info["hh"], info["hh_rows"]
    assert (
        f"表9!{hh.letter('head_id_number')}{hr[0]}「户主身份证号」：身份证号码不是有效的18位号码"
        in sheet9
    )
    assert f"表9!{hh.letter('household_size')}{hr[1]}「家庭人口数」原文“-5”：不能为负数" in sheet9
    assert info["id"][:10] not in zh.stdout and info["name"] not in zh.stdout


def test_rejected_file_one_line(zh, files):
    _, _, _, rejected, _ = files
    block = _blocks(zh.stdout)[rejected.name]
    assert block.startswith(f"{rejected.name}: rejected — {rejected.name}：不是Excel文件")
    assert "网页" in block.splitlines()[0]


def test_english(files):
    _, bad, _, rejected, info = files
    p = _check(bad, rejected, "--lang", "en")
    assert p.returncode == 1
    pop, r = info["pop"], info["pop_rows"]
    c = f"{pop.letter('total_population')}{r[1]}"
    assert f"表1!{c} \"总人口\" original text '3,5079': malformed number" in p.stdout
    assert "not a spreadsheet: the content is a web page (HTML)" in p.stdout
    assert "数字格式有误" not in p.stdout


def test_feedback_workbooks(zh, files):
    d, bad, _, rejected, info = files
    fb = d / "fb"
    out = fb / f"{STEM}_反馈.xlsx"
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["检查结果", "表1", "表9"]
    pop, r = info["pop"], info["pop_rows"]
    for ref, text in (
        (f"{pop.letter('total_population')}{r[1]}", "数字格式有误"),
        (f"{pop.letter('total_households')}{r[2]}", "字母"),
    ):
        cell = wb["表1"][ref]
        assert cell.fill.fgColor.rgb.endswith("FFC7CE"), ref
        assert text in cell.comment.text
    # a whole-row finding (the total not checked) marks the row's first cell
    assert "未核对" in wb["表1"][f"A{info['total']}"].comment.text
    # the clerk's formula-looking text stays text, in the copy and in the summary
    vref = f"{pop.letter('village')}{r[2]}"
    assert wb["表1"][vref].data_type == "s"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate)
    summary = wb["检查结果"]
    texts = [c.value for c in summary["F"]]
    assert "3,5079" in texts and "12O" in texts
    assert not any(
        info["id"][:10] in str(v) for row in summary.iter_rows(values_only=True) for v in row
    )
    # a rejected file: a workbook with just the summary
    (rej,) = fb.glob(f"{rejected.stem}_反馈.xlsx")
    rw = openpyxl.load_workbook(rej)
    assert rw.sheetnames == ["检查结果"]
    assert rw["检查结果"]["A2"].value == "error" and "网页" in rw["检查结果"]["G2"].value


def test_feedback_dangerous_text_from_generated_cells(tmp_path):
    """Every text that could start a formula comes back as text (issue 3 item 6)."""
    lay = Layout("medical", name="表4")
    recs = records("medical", 4, seed=54)
    danger = ["=1+1", "+86-871-6000", "-5", "@SUM(A1)"]
    rows = [lay.add(r, {BIG["medical"]: t}) for r, t in zip(recs, danger, strict=True)]
    path = write_xlsx(tmp_path / FILE_NAME, [lay.sheet, Sheet("说明", [["=2+2"]])])
    p = _check(path, "--feedback", tmp_path / "fb", "--lang", "en")
    assert p.returncode == 1
    wb = openpyxl.load_workbook(tmp_path / "fb" / f"{STEM}_feedback.xlsx")
    assert wb.sheetnames[0] == "findings"
    col = lay.letter(BIG["medical"])
    for r, t in zip(rows, danger, strict=True):
        cell = wb["表4"][f"{col}{r}"]
        assert (cell.value, cell.data_type) == (t, "s")
        assert cell.comment is not None
    summary = {c.value: c.data_type for c in wb["findings"]["F"] if c.value}
    for t in danger:
        if t != "-5":  # -5 is a number in the clerk's cell, negative: quarantined all the same
            assert summary.get(t) == "s", (t, summary)
    assert wb["说明"]["A1"].data_type == "s"


# --------------------------------------------------------------------------- shared cases


def _case_files(cases_dir):
    out = []
    for exp_path in sorted(cases_dir.glob("*/expected.json")):
        exp = json.loads(exp_path.read_text(encoding="utf-8"))
        for f in exp.get("files", []):
            if "file" not in f:
                continue
            path = exp_path.parent / f["file"]
            if path.is_file():
                out.append((path, f))
    return out


def test_check_on_every_shared_case(cases_dir, tmp_path):
    """`tpa check` prints, per case workbook, the rejection reason or each quarantined
    row's expected message content and each reported-total difference."""
    items = _case_files(cases_dir)
    assert items
    p = _check(*[path for path, _ in items])
    blocks = _block_list(p.stdout)  # in the order given (names repeat: night1/2/3)
    assert [b[0] for b in blocks] == [path.name for path, _ in items], p.stderr[-2000:]
    errors_expected = False
    for (path, exp), (_, block) in zip(items, blocks, strict=True):
        if exp["outcome"] == "rejected":
            errors_expected = True
            first = block.splitlines()[0]
            assert "rejected" in first
            for s in exp.get("reject_must_mention", []):
                assert s in first, (path.name, s, first)
            continue
        assert "rejected" not in block.splitlines()[0], block
        for form in exp.get("forms", {}).values():
            for q in form.get("quarantined", []):
                errors_expected = True
                lines = [
                    ln for ln in block.splitlines() if "error" in ln and f"{q['excel_row']}" in ln
                ]
                joined = "\n".join(lines)
                for s in q.get("message_must_mention", []):
                    assert s in joined, (path.name, q["excel_row"], s, joined)
                for s in q.get("message_must_not_contain", []):
                    assert s not in block, (path.name, s)
            for t in form.get("total_rows", []):
                for dif in t["differences"]:
                    assert str(dif["reported"]) in block and str(dif["sum_of_detail_rows"]) in block
    assert p.returncode == (1 if errors_expected else 0)
