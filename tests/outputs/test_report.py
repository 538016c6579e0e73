"""`tpa report`: one self-contained HTML file that renders offline in headless Chromium,
with marks in every chart, no request leaving the file, and clerk text shown as text."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.outputs.report import write_report
from tests.builders.warehouse import (
    BAD_FILE_NAME,
    SCRIPT_ESCAPED,
    SCRIPT_VILLAGE,
    small_warehouse,
)

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium not installed (/usr/bin/chromium; Debian package `chromium`, "
    "which .ci/run installs): the in-browser report checks are skipped",
)
QUIET = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    wh = small_warehouse(tmp_path_factory)
    zh = write_report(wh, base / "reports")
    en = write_report(wh, base / "reports", lang="en")
    return base, wh, zh, en


def _chromium(url: str, tmp: Path, *extra: str) -> tuple[str, list[str]]:
    """Open ``url``, let scripts run, return (DOM after scripts, URLs the page requested).

    The NetLog records every request; the browser's own background requests carry the
    initiator 'not an origin', the page's have its (file://, opaque) origin."""
    netlog = tmp / f"netlog-{len(list(tmp.glob('netlog-*')))}.json"
    out = subprocess.run(
        [
            str(CHROMIUM),
            *QUIET,
            f"--user-data-dir={tmp / 'profile'}",
            "--virtual-time-budget=10000",
            f"--log-net-log={netlog}",
            *extra,
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout, page_requests(netlog)


def page_requests(netlog: Path) -> list[str]:
    text = netlog.read_text(encoding="utf-8", errors="replace")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # Chromium killed before closing the file
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for e in log.get("events", []):
        p = e.get("params") or {}
        if e.get("type") != start or "url" not in p:
            continue
        if p.get("initiator") == "not an origin":  # the browser's own traffic
            continue
        if not p["url"].startswith(("file:", "data:", "blob:")):
            urls.append(p["url"])
    return urls


@pytest.mark.slow
def test_self_contained(built):
    _, _, zh, en = built
    for path in (zh, en):
        text = path.read_text(encoding="utf-8")
        assert text.count("plotly.js v") == 1, "plotly.js must be inlined exactly once"
        # nothing fetched from outside: no remote script, style, font, image or frame
        assert not re.search(
            r"""<(script|img|iframe|link)[^>]+(src|href)=["']?(https?:)?//""", text
        )
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
        assert "@import" not in text
        assert text.count('class="plotly-graph-div"') >= 5


@pytest.mark.slow
def test_clerk_text_escaped(built):
    _, _, zh, en = built
    for path in (zh, en):
        text = path.read_text(encoding="utf-8")
        assert SCRIPT_ESCAPED in text  # the village name shows as text ...
        assert SCRIPT_VILLAGE not in text  # ... and never as markup
        assert "<script>alert(1)" not in text
        assert "<img src=x" not in text and "&lt;img src=x onerror=alert(2)&gt;" in text


@pytest.mark.slow
def test_sections(built):
    _, _, zh, en = built
    text = zh.read_text(encoding="utf-8")
    for heading in ("全省主要指标", "分领域指标排名", "历期趋势", "仍高于3%的县", "数据质量"):
        assert heading in text
    assert "2019年12月" in text
    assert "贫困发生率" in text and "福贡县" in text  # a Nujiang county above 3%
    assert "未报送的县（市、区）" in text and "盘龙区" in text  # not in the subset
    assert BAD_FILE_NAME.replace("<", "&lt;").replace(">", "&gt;") in text
    en_text = en.read_text(encoding="utf-8")
    assert "Poverty incidence" in en_text and "Counties that have not submitted" in en_text


@pytest.mark.slow
def test_cli(built, tmp_path):
    _, wh, _, _ = built
    runner = CliRunner()
    res = runner.invoke(app, ["report", "--warehouse", str(wh), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "report_2019-12.html").is_file()
    res = runner.invoke(app, ["report", "--warehouse", str(wh), "--period", "2001-01"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["report", "--warehouse", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 2


@pytest.mark.slow
@needs_chromium
def test_renders_in_chromium(built, tmp_path):
    _, _, zh, _ = built
    dom, requests = _chromium(zh.as_uri(), tmp_path)
    assert requests == [], f"the report fetched from outside: {requests}"
    static = re.findall(r'<div id="(chart-[\w-]+)" class="plotly-graph-div"', zh.read_text())
    assert {"chart-population", "chart-trend", "chart-quality", "chart-exit"} <= set(static)
    # Plotly adds js-plotly-plot to a div it has drawn
    ids = re.findall(r'<div id="(chart-[\w-]+)" class="plotly-graph-div js-plotly-plot"', dom)
    assert ids == static
    for i, div in enumerate(ids):
        start = dom.index(f'id="{div}"')
        end = dom.index(f'id="{ids[i + 1]}"') if i + 1 < len(ids) else len(dom)
        chunk = dom[start:end]
        assert 'class="main-svg"' in chunk, f"{div} did not render"
        marks = re.findall(r'class="point"[^>]*>\s*<path[^>]* d="M|<path class="point"', chunk)
        marks += re.findall(r'<g class="point"><path d="M', chunk)
        assert marks, f"{div} has no marks"
    # the clerk's text is a text node, not an element
    assert SCRIPT_ESCAPED in dom
    assert "<script>alert(1)" not in dom


@pytest.mark.slow
@needs_chromium
def test_network_check_is_not_vacuous(tmp_path):
    """The request log catches a page that loads from outside (so an empty list means it)."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<html><head><script src="https://cdn.example.invalid/a.js"></script></head>'
        '<body><img src="http://example.invalid/x.png"></body></html>',
        encoding="utf-8",
    )
    _, requests = _chromium(page.as_uri(), tmp_path)
    assert "https://cdn.example.invalid/a.js" in requests
    assert "http://example.invalid/x.png" in requests


@pytest.mark.slow
@needs_chromium
def test_screenshot(built, tmp_path):
    _, _, zh, _ = built
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            str(CHROMIUM),
            *QUIET,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--window-size=1280,4000",
            f"--screenshot={shot}",
            zh.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one


@pytest.mark.slow
def test_change_since_previous_period(built, tmp_path):
    """The headline shows the change since the previous period (percentage points for
    rates, a fall in incidence as an improvement) and the trend has a point per period."""
    import shutil

    import duckdb

    _, wh, _, _ = built
    copy = tmp_path / "later.duckdb"
    shutil.copy(wh, copy)
    con = duckdb.connect(str(copy))
    first = con.execute("SELECT min(period) FROM marts.indicators").fetchone()[0]
    con.execute(
        "INSERT INTO marts.indicators SELECT * REPLACE ('2030-12' AS period, "
        "value / 2 AS value) FROM marts.indicators WHERE period = '2019-12'"
    )
    con.close()
    text = write_report(copy, tmp_path / "out", period="2030-12").read_text(encoding="utf-8")
    assert "上期值（2019年12月）" in text
    assert "较上期 −" in text and "个百分点" in text  # incidence halved: a fall in points
    assert 'class="c better"' in text
    assert "2030年12月" in text
    earliest = write_report(copy, tmp_path / "out", period=first).read_text(encoding="utf-8")
    assert "无上期数据" in earliest


@pytest.mark.slow
def test_sheet_rejected_whole_shows_its_reason(built, tmp_path):
    """A sheet rejected as a whole (a finding with no row and no cell): its quarantined
    rows carry the sheet's reason, and the sheet is listed with the rows it lost."""
    import shutil

    import duckdb

    _, wh, _, _ = built
    copy = tmp_path / "rejected_sheet.duckdb"
    shutil.copy(wh, copy)
    con = duckdb.connect(str(copy))
    period = con.execute("SELECT max(period) FROM marts.indicators").fetchone()[0]
    sha, name = con.execute(
        "SELECT file_sha256, file_name FROM raw.files WHERE status = 'loaded' AND period = ? "
        "ORDER BY county_code LIMIT 1",
        [period],
    ).fetchone()
    reason_zh = "缺少必需的列：辍学学生数。请按标准表头修改后重新报送"
    reason_en = "required columns not found: dropouts_identified"
    con.execute(
        "INSERT INTO quarantine.findings (file_sha256, file_name, form, sheet, excel_row, "
        "cell_ref, rule, severity, message, message_en) VALUES "
        "(?, ?, 'education', '表6', NULL, NULL, 'sheet_rejected', 'error', ?, ?)",
        [sha, name, reason_zh, reason_en],
    )
    for row in (7, 8):
        con.execute(
            "INSERT INTO quarantine.rows (file_sha256, file_name, form, sheet, excel_row, cells) "
            "VALUES (?, ?, 'education', '表6', ?, ?)",
            [sha, name, row, json.dumps({"乡（镇）": f"测试镇{row}"}, ensure_ascii=False)],
        )
    con.close()
    zh = write_report(copy, tmp_path / "out").read_text(encoding="utf-8")
    en = write_report(copy, tmp_path / "out", lang="en").read_text(encoding="utf-8")
    # both quarantined rows show the sheet's reason (it was empty before)
    rows = re.findall(r"<td class=\"clerk\">(测试镇\d)</td><td class=\"clerk\">([^<]*)</td>", zh)
    assert rows == [("测试镇7", reason_zh), ("测试镇8", reason_zh)]
    # the rejected sheets are listed: file, sheet, 2 rows lost, the reason
    assert "被整表退回的工作表" in zh
    listed = re.search(r"<td class=\"clerk\">表6</td><td class=\"n\">2</td><td class=\"clerk\">"
                       r"([^<]*)</td>", zh)  # fmt: skip
    assert listed and listed.group(1) == reason_zh
    assert "Sheets rejected whole" in en and reason_en in en
