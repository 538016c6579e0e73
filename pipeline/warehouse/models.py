"""Run the SQL models of ``sql/`` and the SQL data tests of ``sql/tests/``.

A model is one ``SELECT`` in ``sql/<layer>/<name>.sql``, materialised as ``<layer>.<name>``.
Its leading comment block is a header the runner reads (issue 14)::

    -- grain: one row per county and period …      (required; indented lines continue it)
    -- materialized: table                          (required: table or view)
    -- free text: what the model means (the rest of the table's COMMENT)
    -- column numerator: what this column holds      (the column's COMMENT, pipeline.warehouse.comments)

The run order is derived from the tables each model reads, parsed with sqlglot (every
``schema.table`` outside a CTE): a model runs after the models it references, ties broken
by layer (staging, intermediate, marts) and name. A reference to a model that does not
exist, to a schema that is neither a model layer nor a source schema, or a cycle, fails
before anything runs (``ModelError``).

A data test is one query in ``sql/tests/<rule>.sql`` that returns offending rows;
any row fails the build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
LAYERS = ("staging", "intermediate", "marts")
# tables the Python build creates before the models run
SOURCE_SCHEMAS = ("ref", "raw", "quarantine")
KINDS = ("table", "view")

_KEY = re.compile(r"^(grain|materialized):\s*(.*)$")
_COLUMN = re.compile(r"^column\s+([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$")


class ModelError(ValueError):
    """A model's header or references are wrong (names the file and what to fix)."""


@dataclass(frozen=True)
class TestResult:
    """Outcome of one SQL data test: ``rows`` offending rows (0 = pass), ``sample`` up to 5."""

    name: str
    rows: int
    sample: list[tuple]


@dataclass(frozen=True)
class Header:
    """What a model's leading comment declares."""

    grain: str
    materialized: str  # 'table' or 'view'
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def comment(self) -> str:
        """The table's COMMENT: the grain, then the description."""
        return f"{self.grain}: {self.description}" if self.description else self.grain


@dataclass(frozen=True)
class Model:
    """One SQL model: ``layer.name`` from ``path``, its header, SQL and references."""

    layer: str
    name: str
    path: Path
    header: Header
    sql: str
    refs: tuple[str, ...]  # 'schema.table' it reads, sorted

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"


def _comment_block(text: str) -> list[str]:
    """The leading ``--`` lines with the ``--`` (and one space) removed."""
    out = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:]
        out.append(body[1:] if body.startswith(" ") else body)
    return out


def parse_header(text: str, where: str = "model") -> Header:
    """Read the header of a model's SQL text. Raises ``ModelError`` without a grain or with a
    ``materialized`` other than table/view."""
    items: dict[str, list[str]] = {"grain": [], "materialized": [], "description": []}
    columns: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _comment_block(text):
        if not line.strip():
            current = None
        elif line[:1].isspace() and current is not None:  # an indented line continues
            current.append(line.strip())
        elif m := _KEY.match(line):
            current = items[m.group(1)]
            current.append(m.group(2).strip())
        elif m := _COLUMN.match(line):
            current = columns.setdefault(m.group(1), [])
            current.append(m.group(2).strip())
        else:
            current = items["description"]
            current.append(line.strip())
    grain = " ".join(items["grain"]).strip()
    kind = " ".join(items["materialized"]).strip().lower()
    if not grain:
        raise ModelError(f"{where}: no '-- grain: one row per …' line in its header")
    if kind not in KINDS:
        raise ModelError(f"{where}: '-- materialized:' must be table or view, not {kind!r}")
    return Header(
        grain,
        kind,
        " ".join(items["description"]).strip(),
        {name: " ".join(parts).strip() for name, parts in columns.items()},
    )


def references(sql: str, where: str = "model") -> tuple[str, ...]:
    """Every ``schema.table`` the SQL reads (sqlglot, DuckDB dialect), CTE names left out.

    Raises ``ModelError`` when the SQL does not parse or names an unqualified table that is
    not one of its CTEs (models always write ``schema.table``).
    """
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ModelError(f"{where}: sqlglot cannot parse it: {exc}") from exc
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    refs = set()
    for t in tree.find_all(exp.Table):
        if not t.name:  # a table function (unnest, range, …)
            continue
        if t.db:
            refs.add(f"{t.db}.{t.name}")
        elif t.name not in ctes:
            raise ModelError(f"{where}: reads {t.name!r}, not schema-qualified nor a CTE")
    return tuple(sorted(refs))


def _load(sql_dir: Path) -> list[Model]:
    out = []
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            text = path.read_text(encoding="utf-8")
            where = f"model {path.relative_to(sql_dir)}"
            sql = text.strip().rstrip(";")
            out.append(
                Model(
                    layer, path.stem, path, parse_header(text, where), sql, references(sql, where)
                )
            )
    return out


def _check_references(found: list[Model]) -> None:
    tables = {m.table for m in found}
    for m in found:
        for ref in m.refs:
            schema = ref.split(".", 1)[0]
            if schema in LAYERS and ref not in tables:
                raise ModelError(
                    f"model {m.layer}/{m.path.name}: reads {ref}, which no model creates "
                    f"(no file sql/{schema}/{ref.split('.', 1)[1]}.sql)"
                )
            if schema not in LAYERS and schema not in SOURCE_SCHEMAS:
                raise ModelError(
                    f"model {m.layer}/{m.path.name}: reads {ref}; schema {schema!r} is neither "
                    f"a model layer {LAYERS} nor a source schema {SOURCE_SCHEMAS}"
                )


def _ordered(found: list[Model]) -> list[Model]:
    """Topological order over the references; ties by (layer, name) so it is stable."""
    by_table = {m.table: m for m in found}
    graph = {m.table: [r for r in m.refs if r in by_table] for m in found}
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ModelError(f"models reference each other in a cycle: {cycle}") from exc
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    out = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda t: (rank[by_table[t].layer], t))
        out += [by_table[t] for t in ready]
        sorter.done(*ready)
    return out


@cache
def _models_cached(sql_dir: Path, stamp: tuple) -> tuple[Model, ...]:
    found = _load(sql_dir)
    _check_references(found)
    return tuple(_ordered(found))


def load_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Every model of ``sql_dir``, in run order. Raises ``ModelError`` (file named) on a bad
    header, SQL sqlglot cannot parse, an unknown reference or a cycle."""
    sql_dir = Path(sql_dir)
    stamp = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for layer in LAYERS
        for p in sorted((sql_dir / layer).glob("*.sql"))
    )
    return list(_models_cached(sql_dir, stamp))


def model_files(sql_dir: Path = SQL_DIR) -> list[tuple[str, str, Path]]:
    """List ``(layer, table, path)`` for every model, in run order."""
    return [(m.layer, m.name, m.path) for m in load_models(sql_dir)]


def _check_sources(con: duckdb.DuckDBPyConnection, found: list[Model]) -> None:
    """Every source table a model reads exists in the warehouse (else ``ModelError``)."""
    present = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE database_name = current_database()"
        ).fetchall()
    }
    for m in found:
        for ref in m.refs:
            if ref.split(".", 1)[0] in SOURCE_SCHEMAS and ref not in present:
                raise ModelError(
                    f"model {m.layer}/{m.path.name}: reads {ref}, which is neither a model nor "
                    f"a table the build created"
                )


def run_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Materialise every model as its header says (table or view), in dependency order, with
    its header as the table's COMMENT; return the table names.

    Raises ``ModelError`` before anything runs when the models are inconsistent, and
    ``duckdb.Error`` (with the model's file name added) when a model fails.
    """
    found = load_models(sql_dir)
    _check_sources(con, found)
    for layer in LAYERS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    done = []
    for m in found:
        kind = m.header.materialized.upper()
        try:
            con.execute(f"CREATE OR REPLACE {kind} {m.table} AS {m.sql}")
        except duckdb.Error as exc:
            raise type(exc)(f"model {m.path.relative_to(sql_dir)}: {exc}") from exc
        comment = m.header.comment.replace("'", "''")
        con.execute(f"COMMENT ON {kind} {m.table} IS '{comment}'")
        done.append(m.table)
    return done


def run_tests(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[TestResult]:
    """Run every ``sql/tests/*.sql``; each returns offending rows (none = pass)."""
    results = []
    for path in sorted((sql_dir / "tests").glob("*.sql")):
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        rows = con.execute(f"SELECT * FROM ({sql}) LIMIT 1000").fetchall()
        results.append(TestResult(path.stem, len(rows), rows[:5]))
    return results
