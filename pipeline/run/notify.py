"""Telling someone (issue 13): one message per run that needs a person, through apprise.

``TPA_NOTIFY_URLS`` holds apprise URLs (comma or space separated): DingTalk
(``dingtalk://``), WeCom (``wecombot://``), Feishu (``feishu://``), e-mail
(``mailto://``), JSON webhooks (``json://host:port/path``)… A message goes out for every
``tpa run`` exit status but 0 (published) and 2 (bad usage, seen by whoever typed it),
and for a published night that newly rejected at least ``TPA_NOTIFY_REJECTED_FILES``
workbooks or quarantined at least ``TPA_NOTIFY_QUARANTINED_ROWS`` rows (0: never). It
says what happened, for which counties, and where to look (warehouse, report).

``notify_run`` is the one function the CLI (``tpa run``) and the deployment
(``flows.deploy.scheduled``) call after the flow; it never raises: a notification that
cannot be sent is one line, returned for the caller to print.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Settings

MEANING = {
    0: "published",
    1: "the build failed; the previous warehouse is kept",
    3: "built but not published: a read-write session holds the warehouse",
    4: "not started: another run holds the lock",
    5: "not published: the drop zone looks wrong",
    6: "not started: Prefect could not start",
}


@dataclass
class CountyNews:
    """Workbooks newly rejected and rows newly quarantined in one run, per county."""

    rejected: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    rejected_files: list[str] = field(default_factory=list)  # their paths in the raw folder

    @property
    def files(self) -> int:
        return sum(self.rejected.values())

    @property
    def rows(self) -> int:
        return sum(self.quarantined.values())


def news_of_run(warehouse: Path, run_id: str) -> CountyNews:
    """Workbooks first seen by ``run_id`` (state manifest) that were rejected, and the rows
    they had quarantined (published ``raw.files``), per county code ('unidentified' when
    the workbook could not be identified)."""
    from pipeline.run.manifest import load_manifest
    from pipeline.warehouse import catalog

    news = CountyNews()
    new = {
        sha: e for sha, e in load_manifest(warehouse).items() if e.get("first_seen_run") == run_id
    }
    if not new:
        return news
    rows = catalog.rows(
        warehouse,
        "SELECT f.path, coalesce(f.county_code, 'unidentified'), f.status, "
        "f.rows_quarantined, c.county_name_zh FROM raw.files f "
        "LEFT JOIN ref.counties c USING (county_code) "
        "WHERE list_contains(?, f.file_sha256) ORDER BY f.path",
        [list(new)],
    )
    for path, county, status, quarantined, name in rows:
        if name:
            news.names[county] = name
        if status == "rejected":
            news.rejected[county] = news.rejected.get(county, 0) + 1
            news.rejected_files.append(path)
        if quarantined:
            news.quarantined[county] = news.quarantined.get(county, 0) + int(quarantined)
    return news


def _counties(news: CountyNews) -> str:
    parts = []
    for code in sorted(set(news.rejected) | set(news.quarantined)):
        what = []
        if news.rejected.get(code):
            what.append(f"{news.rejected[code]} file(s) rejected")
        if news.quarantined.get(code):
            what.append(f"{news.quarantined[code]} row(s) quarantined")
        name = f" {news.names[code]}" if code in news.names else ""
        parts.append(f"{code}{name} ({', '.join(what)})")
    return "; ".join(parts)


def compose(
    settings: Settings, exit_code: int, outcome=None, message: str | None = None
) -> tuple[str, str, bool] | None:
    """(title, body, is_failure) of the message for this run, or None when nobody needs
    to be told (status 0 under the thresholds, or 2)."""
    if exit_code == 2:
        return None
    rec = outcome.record if outcome is not None else None
    news = CountyNews()
    if exit_code == 0 and rec is not None:
        news = news_of_run(settings.warehouse, rec.run_id)
    over = exit_code == 0 and (
        (settings.notify_rejected_files and news.files >= settings.notify_rejected_files)
        or (settings.notify_quarantined_rows and news.rows >= settings.notify_quarantined_rows)
    )
    if exit_code == 0 and not over:
        return None
    what = MEANING.get(exit_code, "ended unexpectedly")
    if exit_code == 0:
        what = (
            f"published, with {news.files} workbook(s) rejected and {news.rows} row(s) quarantined"
        )
    title = (
        f"tpa nightly run: {what}"
        if exit_code == 0
        else f"tpa nightly run failed (exit {exit_code})"
    )
    lines = [f"{socket.gethostname()}: tpa run ended with status {exit_code}: {what}."]
    if rec is not None:
        lines.append(f"run {rec.run_id} ({rec.trigger}), status {rec.status}")
    detail = message or (rec.message if rec is not None else None)
    if detail:
        lines.append(f"why: {detail}")
    if news.rejected or news.quarantined:
        lines.append(f"counties: {_counties(news)}")
    if news.rejected_files:
        more = len(news.rejected_files) - 5
        lines.append(
            "rejected: "
            + ", ".join(news.rejected_files[:5])
            + (f" and {more} more" if more > 0 else "")
        )
    lines.append(f"warehouse: {Path(settings.warehouse).resolve()}")
    after = getattr(outcome, "after", None)
    o = getattr(after, "outputs", None)
    if o is not None and o.report is not None:
        lines.append(f"report: {o.report}")
    lines.append(f"raw folder: {Path(settings.raw_dir).resolve()}")
    for line in getattr(after, "problems", None) or []:
        lines.append(f"also: {line}")
    if exit_code == 0:
        lines.append("look in raw.files (status rejected) and quarantine.findings")
    return title, "\n".join(lines), exit_code != 0


def notify_run(
    settings: Settings, exit_code: int, outcome=None, message: str | None = None
) -> str | None:
    """Send this run's message to ``settings.notify_list`` when one is due (``compose``).
    Returns None when all went well (or nothing was due), else one line saying what could
    not be sent. Never raises."""
    urls = settings.notify_list
    if not urls:
        return None
    try:
        msg = compose(settings, exit_code, outcome, message)
        if msg is None:
            return None
        return _send(urls, *msg)
    except Exception as exc:  # a notification never fails the run
        return f"notification not sent: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _send(urls: list[str], title: str, body: str, failure: bool) -> str | None:
    import apprise

    ap = apprise.Apprise()
    bad = [u.split("://", 1)[0] + "://…" for u in urls if not ap.add(u)]
    sent = ap.notify(
        title=title,
        body=body,
        notify_type=apprise.NotifyType.FAILURE if failure else apprise.NotifyType.WARNING,
    ) if len(ap) else False  # fmt: skip
    if bad or not sent:
        why = f"unusable URL(s) {', '.join(bad)}" if bad else "a service did not accept it"
        return f"notification not sent to every address: {why} (TPA_NOTIFY_URLS)"
    return None
