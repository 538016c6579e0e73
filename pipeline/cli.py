"""The ``tpa`` command line (typer + rich).

``tpa run`` exit status (docs/warehouse.md, a stable contract): listed in its help.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.choices import RUNNER_CHOICES, Lang, check_task_runner

if TYPE_CHECKING:
    from pipeline.config import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="tpa: targeted poverty alleviation statistics pipeline",
)
# Piped (CI, logs, cron mail): tables 160 wide so indicator codes are never cut, and a
# printed line is never broken (a long path keeps its message on its line, for grep).
console = Console() if sys.stdout.isatty() else Console(width=160, soft_wrap=True)
err = (
    Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=160, soft_wrap=True)
)


def _usage_error(message, exc: BaseException | None = None, **style) -> NoReturn:
    """Print ``message`` on stderr (``style``: rich print options) and exit with status 2,
    the status of a command that cannot do what it was asked (bad argument, no data)."""
    err.print(message, **style)
    if exc is None:
        raise typer.Exit(2)
    raise typer.Exit(2) from exc


RawDir = Annotated[
    Path | None, typer.Option("--raw-dir", help="drop zone of county workbooks (default data/raw)")
]
Warehouse = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="published DuckDB file (default data/processed/warehouse.duckdb)"
    ),
]


def _settings(**overrides) -> Settings:
    """Settings from ``TPA_*`` with the options given; exit 2 naming a bad value."""
    from pydantic import ValidationError

    from pipeline.config import Settings  # not at import: quick commands need no pydantic

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for e in exc.errors():
            name = "TPA_" + "_".join(str(x) for x in e["loc"]).upper()
            err.print(f"[red]bad setting {name}:[/red] {escape(e['msg'])}", soft_wrap=True)
        raise typer.Exit(2) from exc


def _runner_option(value: str | None) -> str | None:
    """Check ``--task-runner`` (typer turns BadParameter into exit status 2)."""
    if value is None:
        return None
    try:
        return check_task_runner(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _fmt_value(value, unit) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "yuan":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


@app.command()
def run(
    raw_dir: RawDir = None,
    warehouse: Warehouse = None,
    trigger: Annotated[str, typer.Option(help="recorded in raw.runs")] = "manual",
    task_runner: Annotated[
        str | None,
        typer.Option(
            help=f"extract step: {RUNNER_CHOICES.replace(', ', ' | ')}",
            callback=_runner_option,
            metavar="[processes|threads|serial|dask|dask:ADDRESS]",
        ),
    ] = None,
    publish_wait: Annotated[
        float | None, typer.Option(help="seconds to wait for a read-write session to close")
    ] = None,
    lock_wait: Annotated[
        float | None, typer.Option(help="seconds to wait for another run to finish")
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="parse every workbook again instead of using cached extracts (make rebuild)",
        ),
    ] = False,
    allow_shrink: Annotated[
        bool,
        typer.Option(
            "--allow-shrink",
            help="publish even if the drop zone lost more than TPA_MAX_SHRINK (or is empty)",
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="print the traceback of an unexpected failure")
    ] = False,
    no_outputs: Annotated[
        bool,
        typer.Option(
            "--no-outputs",
            help="publish only: no HTML report or xlsx export (reports/, exports/ beside the warehouse)",
        ),
    ] = False,
) -> None:
    """Run the pipeline: discover, extract, validate, build, publish, summarise.

    Only one run per warehouse at a time: a second one exits with status 4 (or waits
    --lock-wait seconds). What a killed run left behind is tidied first.

    \b
    Exit status:
    0  published (rejected files and quarantined rows are reported, not failures)
    1  the build failed; the previous warehouse is kept
    2  bad usage
    3  built but not published: a read-write session holds the warehouse
    4  another run holds the lock
    5  not published: the drop zone looks wrong (empty, or lost more than
       TPA_MAX_SHRINK of its workbooks or of a form's rows); --allow-shrink accepts it
    6  Prefect could not start (raise TPA_PREFECT_START_TIMEOUT_S, or run make server)

    Any failure is one line naming the file or resource and what to do; --debug adds
    the traceback."""
    settings = _settings(
        raw_dir=raw_dir,
        warehouse=warehouse,
        task_runner=task_runner,
        publish_wait_s=publish_wait,
        lock_wait_s=lock_wait,
        allow_shrink=allow_shrink or None,
        outputs=False if no_outputs else None,
    )
    _run_one_line_failures(settings, trigger, rebuild, debug)


def _run_one_line_failures(settings: Settings, trigger: str, rebuild: bool, debug: bool) -> None:
    """``_run``; an unexpected failure is one line and exit status 1 (issue 11), with
    its traceback only when ``debug``."""
    from contextlib import nullcontext

    from pipeline.errors import quiet_run_failures

    try:
        with nullcontext() if debug else quiet_run_failures():
            _run(settings, trigger, rebuild)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # issue 11: one line, the traceback only with --debug
        from pipeline.errors import one_line

        if debug:
            err.print_exception()
        err.print(f"tpa run failed: {one_line(exc)}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _run(settings: Settings, trigger: str, rebuild: bool) -> None:
    """One run through ``flows.run.run_night`` (lock, recovery, flow, notification, exit
    status: the same function as the nightly deployment), told on the terminal."""
    from flows.run import run_night
    from pipeline.run.progress import terminal_progress

    def tidied(line: str) -> None:
        err.print(f"[yellow]tidied after an interrupted run:[/yellow] {escape(line)}")

    ended = run_night(settings, trigger, rebuild, tidied, lambda: terminal_progress(err))
    if ended.notify_problem:
        err.print(f"[yellow]{escape(ended.notify_problem)}[/yellow]", soft_wrap=True)
    lead = {2: "raw folder not found", 4: "another run is in progress",
            6: "Prefect could not start"}.get(ended.exit_code)  # fmt: skip
    if lead:
        message = (ended.message or "").removeprefix("raw folder not found: ")
        err.print(f"[red]{lead}:[/red] {escape(message)}", soft_wrap=True)
        raise typer.Exit(ended.exit_code)
    if ended.error is not None:  # recorded `failed`: one line (or the traceback, --debug)
        raise ended.error
    _print_summary(ended.outcome, settings)
    raise typer.Exit(ended.exit_code)


def _print_summary(outcome, settings: Settings) -> None:
    rec = outcome.record
    t = Table(title=f"tpa run {rec.run_id}", show_header=False)
    t.add_row(
        "files seen / new / rejected", f"{rec.files_seen} / {rec.files_new} / {rec.files_rejected}"
    )
    t.add_row("rows loaded / quarantined", f"{rec.rows_loaded:,} / {rec.rows_quarantined:,}")
    t.add_row("SQL data tests passed / failed", f"{rec.tests_passed} / {rec.tests_failed}")
    t.add_row("status", rec.status)
    if outcome.build_reused:
        t.add_row("build", "nothing changed: the published warehouse, raw.runs updated")
    from flows.after import summary_rows

    problems = []
    for k, v in summary_rows(outcome).items():  # raw folder, warehouse, release, outputs
        if k.startswith("problem"):
            problems.append(v)
        elif v is not None:
            t.add_row(k, escape(str(v)))
    console.print(t)
    for note in rec.notes:  # damaged extracts parsed again, a shrink accepted
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    for line in problems:  # after the publish: reported, never a failure
        err.print(f"[yellow]{escape(line)}[/yellow]", soft_wrap=True)
    if outcome.exit_code == 1:
        err.print(f"[red]build failed; the previous warehouse is kept:[/red] {rec.message}")
        return
    if outcome.exit_code == 5:
        err.print(rec.message, markup=False, highlight=False, soft_wrap=True)
        return
    if outcome.exit_code == 3:
        err.print(
            f"[yellow]built but not published:[/yellow] {outcome.writer}\n"
            f"The new build is kept at {outcome.build_path} and will be published by the next run."
        )
        return
    _print_rejections(settings.warehouse)
    from pipeline.run.history import headline

    rows = headline(settings.warehouse)
    if rows:
        h = Table(title=f"Province indicators, {rows[0][2]}")
        for col in ("indicator", "名称", "numerator", "denominator", "value"):
            h.add_column(
                col, justify="right" if col in ("numerator", "denominator", "value") else "left"
            )
        for code, name, _p, num, den, value, unit in rows:
            h.add_row(
                code,
                name or "",
                _fmt_value(num, None if unit == "ratio" else unit),
                _fmt_value(den, None) if den is not None else "",
                _fmt_value(value, unit),
            )
        console.print(h)


def _print_rejections(warehouse: Path) -> None:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rejected = con.execute(
            "SELECT path, message, status FROM raw.files WHERE status IN ('rejected', 'not_read') "
            "ORDER BY path"
        ).fetchall()
        q = con.execute(
            "SELECT file_name, count(*) FROM quarantine.rows GROUP BY file_name ORDER BY file_name"
        ).fetchall()
    for path, msg, status in rejected:
        label = "[red]rejected[/red]" if status == "rejected" else "[yellow]not read[/yellow]"
        console.print(f"{label} {escape(repr(path)[1:-1])}: {escape(msg or '')}", soft_wrap=True)
    for name, n in q:
        console.print(
            f"[yellow]{n} row(s) quarantined[/yellow] in {name} (see quarantine.findings)"
        )


@app.command("allow-shrink")
def allow_shrink_next(warehouse: Warehouse = None) -> None:
    """Let the next run (scheduled or not) publish although the drop zone shrank.

    The next run that builds consumes the permission, whatever it finds; a run with
    `tpa run --allow-shrink` or TPA_ALLOW_SHRINK=1 accepts a shrink for itself only."""
    from pipeline.run.dropzone import allow_next

    marker = allow_next(_settings(warehouse=warehouse).warehouse)
    console.print(f"the next run may publish a shrunken drop zone ({marker})", highlight=False)


@app.command()
def clean(raw_dir: RawDir = None, warehouse: Warehouse = None) -> None:
    """Remove what tpa generated: the warehouse, its state folder, reports, exports and the
    sample workbooks tpa wrote (only those still unchanged). Never other files of the raw
    folder: those are the counties' submissions."""
    from pipeline.run.clean import clean as do_clean

    settings = _settings(raw_dir=raw_dir, warehouse=warehouse)
    for line in do_clean(settings.raw_dir, settings.warehouse):
        console.print(line, markup=False, highlight=False)


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", help="folder to write the workbooks into")] = Path(
        "data/raw"
    ),
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 2019,
    households: Annotated[
        int | None, typer.Option(help="ledger households in all (default 50,000)")
    ] = None,
    scale: Annotated[
        str | None, typer.Option(help="'province': 1,000,000 ledger households")
    ] = None,
    period: Annotated[
        list[str] | None, typer.Option(help="periods to write (default 2018-12 and 2019-12)")
    ] = None,
    first_run: Annotated[
        bool,
        typer.Option(
            "--first-run",
            help="(make run) write into TPA_RAW_DIR only if it is the default data/raw, holds "
            "no workbook, and no warehouse was ever published at TPA_WAREHOUSE",
        ),
    ] = False,
) -> None:
    """Write the seeded sample workbooks: one per Yunnan county and period, all nine forms."""
    from devkit.sample import DEFAULT_HOUSEHOLDS, DEFAULT_PERIODS, PROVINCE_HOUSEHOLDS, generate

    if first_run:
        from pipeline.run.dropzone import sample_refusal

        settings = _settings()
        why = sample_refusal(settings.raw_dir, settings.warehouse)
        if why:
            err.print(f"sample: {why}", markup=False, highlight=False, soft_wrap=True)
            return
        out = settings.raw_dir

    if scale not in (None, "province"):
        _usage_error(f"[red]unknown --scale {scale}[/red] (known: province)")
    n = households or (PROVINCE_HOUSEHOLDS if scale == "province" else DEFAULT_HOUSEHOLDS)
    with console.status("writing sample workbooks…"):
        try:
            paths = generate(out, seed=seed, periods=tuple(period or DEFAULT_PERIODS), households=n)
        except ValueError as exc:
            _usage_error(f"[red]{exc}[/red]", exc=exc)
    console.print(f"wrote {len(paths)} workbooks under {out}")


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="workbooks to check")],
    lang: Annotated[Lang, typer.Option(help="language of the findings")] = Lang.zh,
    feedback: Annotated[
        Path | None,
        typer.Option(
            "--feedback",
            help="write a marked-up copy of each workbook here. It keeps the county's own "
            "personal data (names, ID numbers): send it back only to the county that sent "
            "the workbook. Refused inside the warehouse's state folder or the raw folder.",
        ),
    ] = None,
) -> None:
    """Check workbooks exactly as the pipeline reads them, without touching any warehouse.
    Exit status 1 when any file has errors, 2 on bad usage."""
    from pipeline.extract.names import display_name
    from pipeline.extract.personal import id_key
    from pipeline.run.contain import check_contained
    from pipeline.run.discover import sha256_of

    settings = _settings()
    if feedback is not None and (where := _forbidden_feedback_dir(feedback, settings)):
        _usage_error(
            f"[red]--feedback {escape(str(feedback))} is inside {escape(where)}[/red]: feedback "
            "workbooks keep the county's personal data and go back to that county only; "
            "choose a folder outside it"
        )
    lang = Lang(lang).value
    key = id_key(settings)
    errors = 0
    for f in files:
        if not f.is_file():
            _usage_error(f"[red]not a file:[/red] {escape(display_name(str(f)))}")
        # the same contained path as tpa run (issue 11): limits, a crash is one file's
        res = check_contained(f, sha256_of(f), settings, key)
        head = escape(
            f"{res.file_name}: " + (f"{res.county_code} {res.period} " if res.county_code else "")
        )
        if res.status == "rejected":
            console.print(
                f"[red]{head}rejected[/red] — "
                + escape(res.message if lang == "zh" else res.message_en),
                soft_wrap=True,
                highlight=False,
            )
            errors += 1
            if feedback is not None:  # the summary only: a rejected file is never opened
                from pipeline.outputs.feedback import write_feedback

                out = write_feedback(f, res.findings, feedback, lang, copy=False)
                console.print(f"  feedback workbook: {escape(str(out))}", soft_wrap=True)
            continue
        console.print(
            f"[bold]{head}[/bold] rows read {res.rows_read}, loaded {res.rows_loaded}, quarantined {res.rows_quarantined}",
            soft_wrap=True,
            highlight=False,
        )
        by_sheet: dict = {}
        for fd in res.findings:
            by_sheet.setdefault(fd.sheet or "", []).append(fd)
        for sheet, fds in by_sheet.items():
            console.print(f"  [bold]{escape(sheet or '(workbook)')}[/bold]", soft_wrap=True)
            for fd in fds:
                color = "red" if fd.severity == "error" else "yellow"
                console.print(
                    f"    [{color}]{fd.severity}[/{color}] {escape(fd.text(lang))}",
                    markup=True,
                    highlight=False,
                    soft_wrap=True,
                )
        errors += sum(1 for fd in res.findings if fd.severity == "error")
        if feedback is not None and res.findings:
            from pipeline.outputs.feedback import write_feedback

            out = write_feedback(f, res.findings, feedback, lang)
            console.print(f"  feedback workbook: {escape(str(out))}", soft_wrap=True)
    raise typer.Exit(1 if errors else 0)


def _forbidden_feedback_dir(folder: Path, settings: Settings) -> str | None:
    """The protected folder ``folder`` lies in (the warehouse's state folder, where
    nothing personal may be kept, or the raw folder, whose workbooks the next run
    reads), or None [issue 11]."""
    target = folder.resolve()
    wh = settings.warehouse.resolve()
    for what, root in (
        ("the warehouse's state folder", wh.with_name(wh.name + ".d")),
        ("the raw folder", settings.raw_dir.resolve()),
    ):
        if target == root or root in target.parents:
            return f"{what} {root}"
    return None


@app.command()
def template(
    forms: Annotated[list[str] | None, typer.Argument(help="forms (default: all nine)")] = None,
    county: Annotated[str, typer.Option("--county", help="6-digit county code")] = ...,
    period: Annotated[str, typer.Option("--period", help="YYYY-MM")] = ...,
    out: Annotated[Path | None, typer.Option("--out", help="file to write")] = None,
) -> None:
    """Write a blank county workbook with standard headers, cover line and data validation."""
    from pipeline.outputs.template import write_template
    from pipeline.refdata import counties
    from schemas import FORMS

    bad = [f for f in forms or [] if f not in FORMS]
    if bad:
        _usage_error(f"[red]unknown form(s):[/red] {', '.join(bad)}; known: {', '.join(FORMS)}")
    df = counties()
    hit = df[df["county_code"] == county]
    if hit.empty:
        _usage_error(f"[red]unknown county code:[/red] {county}")
    out = out or Path(f"{county}_{hit['county_name_zh'].iloc[0]}_{period}.xlsx")
    try:
        write_template(out, county, period, forms or None)
    except ValueError as exc:
        _usage_error(f"[red]bad period (YYYY-MM):[/red] {period}", exc=exc)
    console.print(f"wrote {out}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run on the published warehouse (read-only)")],
    warehouse: Warehouse = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    release: Annotated[
        str | None,
        typer.Option(
            "--release",
            help="query a kept release (tpa releases) instead: its marts, ref tables, "
            "raw.submissions and raw.indicator_revisions, with file access switched off",
        ),
    ] = None,
) -> None:
    """Run one SQL query read-only on the published warehouse, or on a kept release (no
    access to files or extensions: COPY, ATTACH, LOAD, INSTALL, read_text/read_csv on
    paths are refused)."""
    settings = _settings(warehouse=warehouse)
    if release is not None:
        from pipeline.run.releases import ReleaseError, open_release

        try:
            con = open_release(settings.warehouse, release)
        except ReleaseError as exc:
            _usage_error(f"[red]{escape(str(exc))}[/red]", soft_wrap=True, exc=exc)
        _print_frame(_query_on(con, sql), fmt)
        return
    _print_frame(_safe_query(_published(settings), sql), fmt)


def _safe_query(wh: Path, sql: str, params: list | None = None):
    """``sql`` on ``wh`` through ``pipeline.warehouse.safesql`` as (column names, rows); exit 2 with one line
    when it is refused or fails."""
    import duckdb

    from pipeline.warehouse.safesql import connect

    try:
        con = connect(wh)
    except duckdb.Error as exc:
        _usage_error(
            f"cannot open {wh}: {exc}", markup=False, highlight=False, soft_wrap=True, exc=exc
        )
    return _query_on(con, sql, params)


def _query_on(con, sql: str, params: list | None = None):
    """``sql`` on an open, locked-down connection (closed afterwards) as (column names,
    rows); exit 2
    with one line when it is refused or fails."""
    import duckdb

    from pipeline.warehouse.safesql import refusal

    try:
        why = refusal(con, sql)
        if why:
            _usage_error(why, markup=False, highlight=False, soft_wrap=True)
        cur = con.execute(sql, params or [])
        rows = cur.fetchall()
        return [d[0] for d in cur.description or []], rows
    except duckdb.PermissionException as exc:  # external access is off (pipeline.warehouse.safesql)
        line = str(exc).splitlines()[0]
        _usage_error(f"refused: {line}", markup=False, highlight=False, soft_wrap=True, exc=exc)
    except duckdb.Error as exc:
        _usage_error(str(exc), markup=False, highlight=False, style="red", soft_wrap=True, exc=exc)
    finally:
        con.close()


def _cell_json(v):
    """A value for JSON: numbers and text as they are, dates ISO, the rest as text."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return str(v)


def _print_frame(result: tuple[list[str], list[tuple]], fmt: str) -> None:
    """Print (column names, rows) as ``table``, ``csv`` or ``json`` (records). Plain
    Python, not pandas: a quick command need not import it (issue 13)."""
    columns, rows = result
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(["" if v is None else v for v in r] for r in rows)
    elif fmt == "json":
        import json

        records = [dict(zip(columns, map(_cell_json, r), strict=True)) for r in rows]
        sys.stdout.write(json.dumps(records, ensure_ascii=False) + "\n")
    else:
        t = Table()
        for c in columns:
            t.add_column(str(c))
        for r in rows:
            t.add_row(*("" if v is None else str(v) for v in r))
        console.print(t)


COUNTY_SQL = (
    "SELECT indicator_code, value, numerator, denominator, unit FROM marts.indicators "
    "WHERE geo_code = ? AND period = ? ORDER BY 1"
)
COUNTY_FILES_SQL = (
    "SELECT path, received_at, status, identified_from, forms, rows_loaded, rows_quarantined, "
    "reason, message FROM raw.files WHERE county_code = ? AND period = ? "
    "AND status <> 'expanded' ORDER BY received_at, file_sha256"
)


@app.command()
def county(
    code: Annotated[
        str, typer.Argument(envvar="TPA_COUNTY", help="6-digit county code (or TPA_COUNTY)")
    ],
    period: Annotated[
        str, typer.Option("--period", envvar="TPA_PERIOD", help="YYYY-MM (or TPA_PERIOD)")
    ],
    warehouse: Warehouse = None,
) -> None:
    """One county's indicators for a period and the files that fed them (make county).

    The code and period are checked (6 digits; YYYY-MM) and passed to the queries as
    parameters, never pasted into SQL. Exit 2 on a bad code or period."""
    import re

    if not re.fullmatch(r"[0-9]{6}", code):
        _usage_error(f"bad county code {code!r}: six digits, e.g. 530128", markup=False)
    if not re.fullmatch(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])", period):
        _usage_error(f"bad period {period!r}: YYYY-MM, e.g. 2019-12", markup=False)
    wh = _published(_settings(warehouse=warehouse))
    _print_frame(_safe_query(wh, COUNTY_SQL, [code, period]), "table")
    console.print(
        f"files received for {code} {period} (status rejected or not_read: the county sent a "
        "file that was not loaded; message: why; identified_from: cover, file_name or folder):",
        highlight=False,
    )
    _print_frame(_safe_query(wh, COUNTY_FILES_SQL, [code, period]), "csv")


@app.command()
def releases(warehouse: Warehouse = None) -> None:
    """List the kept releases (one per publish that changed the data), oldest first; read
    one with `tpa query --release ID "SQL"`."""
    from pipeline.run.releases import first_published_in, list_releases

    settings = _settings(warehouse=warehouse)
    rows = list_releases(settings.warehouse)
    firsts = first_published_in(settings.warehouse)
    t = Table(title=f"releases of {settings.warehouse}")
    for col in ("release", "created", "periods", "indicator rows", "values changed", "kept"):
        t.add_column(col)
    for m in rows:
        t.add_row(
            m["release_id"],
            m["created_at"],
            ", ".join(m.get("periods", [])),
            f"{m.get('tables', {}).get('marts.indicators', 0):,}",
            f"{m.get('revisions', 0) - m.get('first_published', 0):,}",
            "first-published values" if m["release_id"] in firsts else "retention",
        )
    console.print(t)
    if not rows:
        console.print("no release yet: each publish that changes the data keeps one")


def _published(settings: Settings) -> Path:
    """The published warehouse, or exit 2 with a message when there is none."""
    if not settings.warehouse.is_file():
        _usage_error(f"[red]no warehouse at[/red] {settings.warehouse} (run `tpa run` first)")
    return settings.warehouse


@app.command()
def report(
    period: Annotated[
        str | None, typer.Option("--period", help="YYYY-MM (default: the latest period)")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="folder to write report_<period>.html into")
    ] = Path("data/processed/reports"),
    lang: Annotated[Lang, typer.Option("--lang", help="language of the report")] = Lang.zh,
    warehouse: Warehouse = None,
) -> None:
    """Write the period's self-contained HTML report (charts, exit line, data quality)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.outputs.report import STEPS, ReportError, write_report

    lang = Lang(lang).value
    wh = _published(_settings(warehouse=warehouse))
    with Progress(
        TextColumn("[bold]tpa report[/bold]"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=STEPS)

        def step(msg: str) -> None:
            bar.update(task, description=msg, advance=1)

        try:
            path = write_report(wh, out, period, lang, progress=step)
        except ReportError as exc:
            _usage_error(f"[red]{exc}[/red]", exc=exc)
    console.print(f"report written: {path}")


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="xlsx | csv | parquet")] = "xlsx",
    out: Annotated[Path, typer.Option("--out", help="folder to write into")] = Path(
        "data/processed/exports"
    ),
    period: Annotated[
        str | None,
        typer.Option(
            "--period", help="YYYY-MM (xlsx default: the latest; csv/parquet default: all)"
        ),
    ] = None,
    warehouse: Warehouse = None,
) -> None:
    """Export the indicators: xlsx (sheets 省, 州市, 县, 村, 数据质量, 问题清单, 说明; Chinese headers), csv or parquet."""
    from pipeline.outputs.export import ExportError
    from pipeline.outputs.export import export as do_export

    wh = _published(_settings(warehouse=warehouse))
    try:
        with console.status(f"exporting {fmt}…"):
            paths = do_export(wh, fmt, out, period)
    except ExportError as exc:
        _usage_error(f"[red]{exc}[/red]", exc=exc)
    for p in paths:
        console.print(f"wrote {p}")


@app.command()
def docs(
    out: Annotated[Path, typer.Option("--out", help="folder for data_dictionary.md")] = Path(
        "docs"
    ),
    warehouse: Warehouse = None,
) -> None:
    """Write the data dictionary (every table and column with its description) as Markdown."""
    from pipeline.outputs.dictionary import write_markdown

    wh = _published(_settings(warehouse=warehouse))
    console.print(f"wrote {write_markdown(wh, out)}")


@app.command()
def shell(
    warehouse: Warehouse = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="the built-in prompt even if Harlequin is installed")
    ] = False,
) -> None:
    """Interactive SQL on the published warehouse, read-only (Harlequin if installed)."""
    from pipeline.outputs.shell import repl

    wh = _published(_settings(warehouse=warehouse))
    raise typer.Exit(repl(wh, console, plain=plain))


def main() -> None:  # pragma: no cover
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    app()
