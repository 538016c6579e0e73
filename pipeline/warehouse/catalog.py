"""Reading the warehouse: what it holds (tables, periods with indicators) and one query's
rows from a read-only connection that is closed before the rows are returned."""

from __future__ import annotations

from pathlib import Path

import duckdb


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """The rows of ``sql`` (with ``params``) on ``warehouse`` opened read-only.

    Raises:
        duckdb.Error: the file does not open, or the query fails.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


# every table and (user) view of every attached database, with its comment and kind
RELATIONS = (
    "SELECT database_name, schema_name, table_name, comment, 'TABLE' AS kind FROM duckdb_tables() "
    "UNION ALL SELECT database_name, schema_name, view_name, comment, 'VIEW' FROM duckdb_views() "
    "WHERE NOT internal"
)


def tables(con: duckdb.DuckDBPyConnection, views: bool = False) -> set[str]:
    """The ``schema.table`` names of the connected database's tables, and with ``views``
    of its views too (``RELATIONS``)."""
    source = f"({RELATIONS})" if views else "duckdb_tables()"
    return {
        f"{s}.{t}"
        for s, t in con.execute(
            f"SELECT schema_name, table_name FROM {source} WHERE database_name = current_database()"
        ).fetchall()
    }


def indicator_periods(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The periods of ``marts.indicators``, oldest first (``YYYY-MM`` sorts by time)."""
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT period FROM marts.indicators WHERE period IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
