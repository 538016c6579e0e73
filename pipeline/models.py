"""Run the SQL models of ``sql/`` and the SQL data tests of ``sql/tests/``.

A model is one ``SELECT`` in ``sql/<layer>/<name>.sql`` and is materialised as the
table ``<layer>.<name>``. Layers run in the order staging -> intermediate -> marts;
within a layer, files run in name order, so a model that needs another of its own
layer sorts after it (prefix ``10_``, ``20_`` ... where needed; the prefix is
stripped from the table name).

A data test is one query in ``sql/tests/<rule>.sql`` that returns offending rows;
any row fails the build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
LAYERS = ("staging", "intermediate", "marts")
_ORDER_PREFIX = re.compile(r"^\d+_")


@dataclass(frozen=True)
class TestResult:
    """Outcome of one SQL data test: ``rows`` offending rows (0 = pass), ``sample`` up to 5."""

    name: str
    rows: int
    sample: list[tuple]


def model_files(sql_dir: Path = SQL_DIR) -> list[tuple[str, str, Path]]:
    """List ``(layer, table, path)`` for every model, in run order."""
    out = []
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            out.append((layer, _ORDER_PREFIX.sub("", path.stem), path))
    return out


def first_comment(path: Path) -> str:
    """The model's leading ``--`` comment lines joined: its grain and description."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("--"):
            lines.append(line[2:].strip())
        elif line.strip():
            break
    return " ".join(lines)


# A model whose SQL holds this line is created as a view, not a table: one that fans rows
# out (a household per geography level) costs more to write than its readers take to scan.
VIEW_MARK = "-- materialised: view"


def run_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Materialise every model as a table (a view where its SQL holds ``VIEW_MARK``), in
    layer order; return the table names.

    Raises ``duckdb.Error`` (with the model's file name added) when a model fails.
    """
    done = []
    for layer in LAYERS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    for layer, table, path in model_files(sql_dir):
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        kind = "VIEW" if VIEW_MARK in sql else "TABLE"
        try:
            con.execute(f"CREATE OR REPLACE {kind} {layer}.{table} AS {sql}")
        except duckdb.Error as exc:
            raise type(exc)(f"model {path.relative_to(sql_dir)}: {exc}") from exc
        comment = first_comment(path).replace("'", "''")
        if comment:
            con.execute(f"COMMENT ON {kind} {layer}.{table} IS '{comment}'")
        done.append(f"{layer}.{table}")
    return done


def run_tests(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[TestResult]:
    """Run every ``sql/tests/*.sql``; each returns offending rows (none = pass)."""
    results = []
    for path in sorted((sql_dir / "tests").glob("*.sql")):
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        rows = con.execute(f"SELECT * FROM ({sql}) LIMIT 1000").fetchall()
        results.append(TestResult(path.stem, len(rows), rows[:5]))
    return results
