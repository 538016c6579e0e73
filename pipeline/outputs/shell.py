"""``tpa shell``: an interactive SQL prompt on the published warehouse, read-only.

Uses Harlequin (a terminal SQL IDE, ``pip install -e '.[shell]'``) when it is installed,
else a small built-in prompt: statements end with ``;`` (several lines allowed),
results print as rich tables, history is kept with readline, and a few dot commands
help find one's way (``.help``). The connection is ``read_only=True`` either way, so
a shell never blocks a nightly run from publishing and cannot change the data, and
external access is off (``pipeline.warehouse.safesql``, issue 11): no statement reads or writes
files, attaches databases or loads extensions; Harlequin gets the same settings as its
initialisation script.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from pipeline.warehouse import safesql

MAX_ROWS = 200
HISTORY = Path.home() / ".local" / "state" / "tpa" / "shell_history"

EXAMPLES = """\
-- province headline, latest period
SELECT i.indicator_code, d.name_zh, i.value, i.numerator, i.denominator, i.unit
FROM marts.indicators i JOIN ref.indicator_definitions d USING (indicator_code)
WHERE i.geo_level = 'province' AND i.period = (SELECT max(period) FROM marts.indicators)
ORDER BY 1;

-- counties still above the 3% exit line
SELECT geo_code, geo_name_zh, round(value * 100, 2) AS incidence_pct
FROM marts.indicators
WHERE indicator_code = 'poverty_incidence' AND geo_level = 'county' AND value > 0.03
  AND period = '2019-12'
ORDER BY value DESC;

-- what a column means
SELECT column_name, comment FROM duckdb_columns()
WHERE schema_name = 'marts' AND table_name = 'data_quality';
"""

HELP = """\
Statements end with ';' and may span lines. Read-only: the warehouse cannot be changed.
  .tables              list tables with their descriptions
  .describe TABLE      columns of a table (e.g. .describe marts.indicators)
  .examples            example queries
  .help                this text
  .quit                leave (or Ctrl-D)
"""


def harlequin_command(warehouse: Path, init: Path) -> list[str] | None:
    """The Harlequin command line for the warehouse, read-only, running the script
    ``init`` (``safesql.harlequin_init_sql``: external access off, configuration locked)
    before the prompt, when Harlequin is installed beside this Python (or on PATH);
    else None."""
    here = Path(sys.executable).parent / "harlequin"
    exe = str(here) if here.exists() else shutil.which("harlequin")
    if exe is None:
        return None
    return [exe, "--read-only", "--init-path", str(init), str(warehouse)]


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Read-only, external access off (``pipeline.warehouse.safesql.connect``)."""
    return safesql.connect(warehouse)


def statements(lines: Iterable[str]) -> Iterator[str]:
    """Split input lines into statements: a dot command is one line; SQL ends with ';'."""
    buf: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not buf and stripped.startswith("."):
            yield stripped
            continue
        if not buf and not stripped:
            continue
        buf.append(line)
        if stripped.endswith(";"):
            yield "\n".join(buf).strip()
            buf = []
    if buf and "\n".join(buf).strip():
        yield "\n".join(buf).strip()


def result_table(columns: list[str], rows: list[tuple], total: int) -> Table:
    t = Table(show_lines=False, header_style="bold", caption_justify="left")
    for j, c in enumerate(columns):
        numeric = bool(rows) and all(
            isinstance(r[j], int | float | Decimal) and not isinstance(r[j], bool)
            for r in rows
            if r[j] is not None
        )
        t.add_column(str(c), overflow="fold", justify="right" if numeric else "left")
    for row in rows:
        t.add_row(*("NULL" if v is None else str(v) for v in row))
    if total > len(rows):
        t.caption = f"{len(rows)} of {total} rows shown"
    else:
        t.caption = f"{total} row{'s' if total != 1 else ''}"
    return t


def execute(con: duckdb.DuckDBPyConnection, text: str, console: Console) -> bool:
    """Run one statement or dot command; print the outcome. Returns False to quit."""
    if text.startswith("."):
        cmd, _, arg = text.partition(" ")
        arg = arg.strip().rstrip(";")
        if cmd in (".quit", ".exit", ".q"):
            return False
        if cmd == ".help":
            console.print(HELP, highlight=False, markup=False)
            return True
        if cmd == ".examples":
            console.print(EXAMPLES, highlight=False, markup=False)
            return True
        if cmd == ".tables":
            text = (
                "SELECT schema_name || '.' || table_name AS \"table\", estimated_size AS rows, "
                "comment FROM duckdb_tables() WHERE database_name = current_database() "
                "UNION ALL SELECT schema_name || '.' || view_name, NULL, comment "
                "FROM duckdb_views() WHERE NOT internal AND database_name = current_database() "
                "ORDER BY 1"
            )
        elif cmd == ".describe" and arg:
            schema, _, table = arg.rpartition(".")
            lit = table.replace("'", "''")
            cond = f"table_name = '{lit}'"
            if schema:
                cond += " AND schema_name = '" + schema.replace("'", "''") + "'"
            text = (
                "SELECT column_name, data_type, comment FROM duckdb_columns() "
                f"WHERE database_name = current_database() AND {cond} ORDER BY column_index"
            )
        else:
            console.print(f"unknown command {cmd}; .help lists the commands", style="red")
            return True
    why = safesql.refusal(con, text)
    if why:
        console.print(why, style="red", highlight=False, markup=False)
        return True
    try:
        cur = con.execute(text)
        if cur.description is None:
            console.print("OK")
            return True
        columns = [d[0] for d in cur.description]
        rows = cur.fetchmany(MAX_ROWS)
        extra = len(cur.fetchall())  # fetch to the end: an unfinished result blocks the next
    except duckdb.Error as exc:
        console.print(str(exc), style="red", highlight=False, markup=False)
        return True
    console.print(result_table(columns, rows, len(rows) + extra))
    return True


def run(con: duckdb.DuckDBPyConnection, lines: Iterable[str], console: Console) -> None:
    """Execute every statement of ``lines`` (the REPL's core, also used with piped input)."""
    for text in statements(lines):
        if not execute(con, text, console):
            return


def _interactive_lines(prompt: str, more: str) -> Iterator[str]:
    try:
        import readline
    except ImportError:  # pragma: no cover - not on Windows
        readline = None
    if readline is not None:
        HISTORY.parent.mkdir(parents=True, exist_ok=True)
        try:
            readline.read_history_file(HISTORY)
        except OSError:
            pass
        readline.set_history_length(2000)
    pending = False
    try:
        while True:
            try:
                line = input(more if pending else prompt)
            except EOFError:
                print()
                return
            except KeyboardInterrupt:
                print()
                pending = False
                continue
            s = line.strip()
            pending = bool(s) and not s.endswith(";") and not (not pending and s.startswith("."))
            yield line
    finally:
        if readline is not None:
            try:
                readline.write_history_file(HISTORY)
            except OSError:
                pass


def repl(warehouse: Path, console: Console, plain: bool = False) -> int:
    """Open the shell; returns an exit status."""
    if not plain:
        with tempfile.TemporaryDirectory(prefix="tpa-shell-") as tmp:
            init = Path(tmp) / "init.sql"
            init.write_text(safesql.harlequin_init_sql(), encoding="utf-8")
            cmd = harlequin_command(warehouse, init)
            if cmd is not None:
                return subprocess.call(cmd)
    con = connect(warehouse)
    try:
        if sys.stdin.isatty():
            console.print(
                f"tpa shell on {warehouse} (read-only). "
                "End statements with ';'. .help for commands, Ctrl-D to leave.",
                highlight=False,
            )
            run(con, _interactive_lines("tpa> ", "...> "), console)
        else:
            run(con, sys.stdin, console)
    finally:
        con.close()
    return 0
