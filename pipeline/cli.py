"""The ``tpa`` command line (typer + rich).

``tpa run`` exit status (docs/warehouse.md, a stable contract): listed in its help.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.config import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="tpa: targeted poverty alleviation statistics pipeline",
)
# Wide when piped (CI, logs), so indicator codes are never cut.
console = Console() if sys.stdout.isatty() else Console(width=160)
err = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=160)

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
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


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
            help="extract step: threads | processes | serial | dask | dask:<scheduler address>"
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
    6  Prefect could not start (raise TPA_PREFECT_START_TIMEOUT_S, or run make server)"""
    settings = _settings(
        raw_dir=raw_dir,
        warehouse=warehouse,
        task_runner=task_runner,
        publish_wait_s=publish_wait,
        lock_wait_s=lock_wait,
    )
    if not settings.raw_dir.is_dir():
        err.print(f"[red]raw folder not found:[/red] {settings.raw_dir}")
        raise typer.Exit(2)
    tr = settings.task_runner
    if tr not in ("threads", "processes", "serial", "dask") and not tr.startswith("dask:"):
        err.print(
            f"[red]unknown task runner:[/red] {tr} (threads | processes | serial | dask | dask:<address>)"
        )
        raise typer.Exit(2)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    from flows.api import PrefectStartError
    from pipeline.runlock import RunLocked, run_lock

    try:
        with run_lock(settings.warehouse, wait_s=settings.lock_wait_s):
            from pipeline.steps import recover

            for line in recover(settings.warehouse):  # builds, extracts of killed runs
                err.print(f"[yellow]tidied after an interrupted run:[/yellow] {line}")
            with console.status("tpa: reading workbooks, building the warehouse…"):
                from flows.nightly import run_flow

                outcome = run_flow(
                    settings.raw_dir, settings.warehouse, settings, trigger, rebuild=rebuild
                )
    except RunLocked as exc:
        err.print(f"[red]another run is in progress:[/red] {exc}")
        raise typer.Exit(4) from exc
    except PrefectStartError as exc:
        err.print(f"[red]Prefect could not start:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(6) from exc
    _print_summary(outcome, settings)
    raise typer.Exit(outcome.exit_code)


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
    t.add_row("warehouse", str(settings.warehouse))
    console.print(t)
    if outcome.exit_code == 1:
        err.print(f"[red]build failed; the previous warehouse is kept:[/red] {rec.message}")
        return
    if outcome.exit_code == 3:
        err.print(
            f"[yellow]built but not published:[/yellow] {outcome.writer}\n"
            f"The new build is kept at {outcome.build_path} and will be published by the next run."
        )
        return
    _print_rejections(settings.warehouse)
    from pipeline.steps import headline

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

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rejected = con.execute(
            "SELECT path, message, status FROM raw.files WHERE status IN ('rejected', 'not_read') "
            "ORDER BY path"
        ).fetchall()
        q = con.execute(
            "SELECT file_name, count(*) FROM quarantine.rows GROUP BY file_name ORDER BY file_name"
        ).fetchall()
    finally:
        con.close()
    for path, msg, status in rejected:
        label = "[red]rejected[/red]" if status == "rejected" else "[yellow]not read[/yellow]"
        console.print(f"{label} {escape(repr(path)[1:-1])}: {escape(msg or '')}", soft_wrap=True)
    for name, n in q:
        console.print(
            f"[yellow]{n} row(s) quarantined[/yellow] in {name} (see quarantine.findings)"
        )


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
) -> None:
    """Write the seeded sample workbooks: one per Yunnan county and period, all nine forms."""
    from pipeline.sample import DEFAULT_HOUSEHOLDS, DEFAULT_PERIODS, PROVINCE_HOUSEHOLDS, generate

    if scale not in (None, "province"):
        err.print(f"[red]unknown --scale {scale}[/red] (known: province)")
        raise typer.Exit(2)
    n = households or (PROVINCE_HOUSEHOLDS if scale == "province" else DEFAULT_HOUSEHOLDS)
    with console.status("writing sample workbooks…"):
        try:
            paths = generate(out, seed=seed, periods=tuple(period or DEFAULT_PERIODS), households=n)
        except ValueError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    console.print(f"wrote {len(paths)} workbooks under {out}")


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="workbooks to check")],
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    feedback: Annotated[
        Path | None, typer.Option("--feedback", help="write a marked-up copy of each workbook here")
    ] = None,
) -> None:
    """Check workbooks exactly as the pipeline reads them, without touching any warehouse.
    Exit status 1 when any file has errors."""
    from pipeline.discover import sha256_of
    from pipeline.extract.workbook import extract_workbook
    from pipeline.names import display_name
    from pipeline.steps import id_key

    settings = Settings()
    errors = 0
    for f in files:
        if not f.is_file():
            err.print(f"[red]not a file:[/red] {escape(display_name(str(f)))}")
            raise typer.Exit(2)
        res = extract_workbook(
            f,
            sha256_of(f),
            max_bytes=settings.max_file_bytes,
            max_unzipped=settings.max_unzipped_bytes,
            id_key=id_key(settings),
            max_cells=settings.max_cells,
        )
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
                from pipeline.feedback import write_feedback

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
            from pipeline.feedback import write_feedback

            out = write_feedback(f, res.findings, feedback, lang)
            console.print(f"  feedback workbook: {escape(str(out))}", soft_wrap=True)
    raise typer.Exit(1 if errors else 0)


@app.command()
def template(
    forms: Annotated[list[str] | None, typer.Argument(help="forms (default: all nine)")] = None,
    county: Annotated[str, typer.Option("--county", help="6-digit county code")] = ...,
    period: Annotated[str, typer.Option("--period", help="YYYY-MM")] = ...,
    out: Annotated[Path | None, typer.Option("--out", help="file to write")] = None,
) -> None:
    """Write a blank county workbook with standard headers, cover line and data validation."""
    from pipeline.refdata import counties
    from pipeline.template import write_template
    from schemas import FORMS

    bad = [f for f in forms or [] if f not in FORMS]
    if bad:
        err.print(f"[red]unknown form(s):[/red] {', '.join(bad)}; known: {', '.join(FORMS)}")
        raise typer.Exit(2)
    df = counties()
    hit = df[df["county_code"] == county]
    if hit.empty:
        err.print(f"[red]unknown county code:[/red] {county}")
        raise typer.Exit(2)
    out = out or Path(f"{county}_{hit['county_name_zh'].iloc[0]}_{period}.xlsx")
    try:
        write_template(out, county, period, forms or None)
    except ValueError as exc:
        err.print(f"[red]bad period (YYYY-MM):[/red] {period}")
        raise typer.Exit(2) from exc
    console.print(f"wrote {out}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run on the published warehouse (read-only)")],
    warehouse: Warehouse = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
) -> None:
    """Run one SQL query read-only on the published warehouse."""
    import duckdb

    settings = _settings(warehouse=warehouse)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        df = con.execute(sql).df()
    except duckdb.Error as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        con.close()
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", force_ascii=False, date_format="iso") + "\n")
    else:
        t = Table()
        for c in df.columns:
            t.add_column(str(c))
        for rec in df.astype(object).where(df.notna(), None).itertuples(index=False):
            t.add_row(*("" if v is None else str(v) for v in rec))
        console.print(t)


def _published(settings: Settings) -> Path:
    """The published warehouse, or exit 2 with a message when there is none."""
    if not settings.warehouse.is_file():
        err.print(f"[red]no warehouse at[/red] {settings.warehouse} (run `tpa run` first)")
        raise typer.Exit(2)
    return settings.warehouse


@app.command()
def report(
    period: Annotated[
        str | None, typer.Option("--period", help="YYYY-MM (default: the latest period)")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="folder to write report_<period>.html into")
    ] = Path("data/processed/reports"),
    lang: Annotated[str, typer.Option("--lang", help="zh | en")] = "zh",
    warehouse: Warehouse = None,
) -> None:
    """Write the period's self-contained HTML report (charts, exit line, data quality)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.report import STEPS, ReportError, write_report

    if lang not in ("zh", "en"):
        err.print(f"[red]unknown language:[/red] {lang} (zh | en)")
        raise typer.Exit(2)
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
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
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
    """Export the indicators: xlsx (sheets 省/州市/县, Chinese headers), csv or parquet."""
    from pipeline.export import ExportError
    from pipeline.export import export as do_export

    wh = _published(_settings(warehouse=warehouse))
    try:
        with console.status(f"exporting {fmt}…"):
            paths = do_export(wh, fmt, out, period)
    except ExportError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
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
    from pipeline.docs import write_markdown

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
    from pipeline.shell import repl

    wh = _published(_settings(warehouse=warehouse))
    raise typer.Exit(repl(wh, console, plain=plain))


def main() -> None:  # pragma: no cover
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    app()
