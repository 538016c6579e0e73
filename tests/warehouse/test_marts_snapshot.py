"""The marts of the small warehouse are bit-identical to a snapshot taken before the SQL
was restated (issue 14 item 4: one roll-up through ref.geographies, one wide pivot, models
ordered by their references).

``tests/warehouse/data/marts_snapshot.json`` holds, per mart, its columns (name and type, in order),
its row count and the SHA-256 of the ``repr`` of its rows read in the mart's own order
over those columns. A column added to a mart later does not change the checksum (only the
snapshot's columns are read); a changed value, type, row or row order does. The three
wide contract tables must have exactly the snapshot's columns (warehouse.md).

Regenerate, only when a change of the figures is intended, with
``.venv/bin/python -m tests.warehouse.test_marts_snapshot <warehouse.duckdb>``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import duckdb
import pytest

from tests.builders.warehouse import small_warehouse

pytestmark = pytest.mark.slow  # builds the small warehouse (~40 s on an idle machine)

SNAPSHOT = Path(__file__).parent / "data" / "marts_snapshot.json"
EXACT_COLUMNS = ("county_indicators", "prefecture_indicators", "province_indicators")

MARTS = (
    "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
    "UNION SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts' AND NOT internal"
)


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """``name TYPE`` of every column of ``marts.<table>``, in order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'marts' "
        "AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [f"{name} {typ}" for name, typ in rows]


def checksum(con: duckdb.DuckDBPyConnection, table: str, cols: list[str]) -> tuple[int, str]:
    """(rows, SHA-256 of their reprs) of ``marts.<table>`` over ``cols`` in its own order."""
    names = ", ".join('"' + c.split(" ", 1)[0] + '"' for c in cols)
    rows = con.execute(f"SELECT {names} FROM marts.{table}").fetchall()
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(row).encode())
        h.update(b"\n")
    return len(rows), h.hexdigest()


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Every mart's columns, row count and checksum."""
    out = {}
    for (table,) in sorted(con.execute(MARTS).fetchall()):
        cols = columns(con, table)
        n, digest = checksum(con, table, cols)
        out[table] = {"columns": cols, "rows": n, "sha256": digest}
    return out


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = duckdb.connect(str(small_warehouse(tmp_path_factory)), read_only=True)
    yield c
    c.close()


def test_every_mart_of_the_snapshot_is_unchanged(con):
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert set(expected) >= {"indicators", "data_quality", *EXACT_COLUMNS}
    present = {t for (t,) in con.execute(MARTS).fetchall()}
    assert set(expected) <= present, f"marts missing: {set(expected) - present}"
    for table, snap in expected.items():
        cols = columns(con, table)
        if table in EXACT_COLUMNS:
            assert cols == snap["columns"], table
        else:  # later issues may add columns; the snapshot's keep their order and type
            assert [c for c in cols if c in snap["columns"]] == snap["columns"], table
        n, digest = checksum(con, table, snap["columns"])
        assert (n, digest) == (snap["rows"], snap["sha256"]), f"marts.{table} differs"


def test_the_checksum_sees_one_changed_value(tmp_path):
    """The comparison can fail: one value changed in a copy changes the checksum."""
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    c.execute("CREATE SCHEMA marts")
    c.execute("CREATE TABLE marts.t AS SELECT range AS a, range / 2 AS b FROM range(5)")
    before = snapshot(c)["t"]
    c.execute("UPDATE marts.t SET b = b + 1e-12 WHERE a = 3")  # the last bits of one double
    after = snapshot(c)["t"]
    c.close()
    assert before["columns"] == after["columns"] == ["a BIGINT", "b DOUBLE"]
    assert before["rows"] == after["rows"] == 5
    assert before["sha256"] != after["sha256"]


if __name__ == "__main__":  # write the snapshot from a warehouse built by the current code
    db = duckdb.connect(sys.argv[1], read_only=True)
    SNAPSHOT.write_text(
        json.dumps(snapshot(db), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    db.close()
