"""Opening the warehouse for what a user types (``tpa query``, ``tpa shell``, ``tpa
county``) so that nothing typed reaches beyond the warehouse (issue 11, item 7).

The connection is read-only and has DuckDB's external access off
(``enable_external_access=false``): ``COPY … TO``, ``read_text``/``read_csv`` on paths,
``glob``, ``ATTACH``, ``INSTALL``, ``LOAD`` of an extension file, ``EXPORT DATABASE`` and
``CREATE SECRET`` fail with DuckDB's permission error; extensions are neither
auto-installed nor auto-loaded, and the configuration is locked, so a ``SET`` cannot
turn access back on. On top, statements whose kind only touches files or extensions
(``COPY``, ``EXPORT``, ``ATTACH``, ``DETACH``, ``LOAD``/``INSTALL``, ``SET``) are refused
before they run, with one line naming the kind (``refusal``).

Harlequin (``tpa shell`` when installed) opens the file itself: it is given the same
settings as an initialisation script (``harlequin_init_sql``), run before the prompt.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# DuckDB settings of every connection that runs typed SQL.
CONFIG: dict[str, object] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}

# Statement kinds that touch files, extensions or other databases (never needed to read).
REFUSED = {
    duckdb.StatementType.COPY: "COPY",
    duckdb.StatementType.COPY_DATABASE: "COPY FROM DATABASE",
    duckdb.StatementType.EXPORT: "EXPORT",
    duckdb.StatementType.ATTACH: "ATTACH",
    duckdb.StatementType.DETACH: "DETACH",
    duckdb.StatementType.LOAD: "LOAD/INSTALL",
    duckdb.StatementType.SET: "SET",
}


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to ``warehouse`` with external access off (``CONFIG``).

    Raises:
        duckdb.Error: the file does not open (missing, not a database, held read-write).
    """
    return duckdb.connect(str(warehouse), read_only=True, config=dict(CONFIG))


def refusal(con: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    """One line saying why ``sql`` is refused (a statement of a kind in ``REFUSED``), or
    None. SQL that does not parse is not refused here: running it reports the error."""
    try:
        kinds = [st.type for st in con.extract_statements(sql)]
    except duckdb.Error:
        return None
    bad = sorted({REFUSED[k] for k in kinds if k in REFUSED})
    if not bad:
        return None
    return (
        f"refused: {', '.join(bad)} is not allowed here (the warehouse is opened read-only, "
        "without access to files or extensions); use SELECT, then `tpa export` for files"
    )


def harlequin_init_sql() -> str:
    """The initialisation script given to Harlequin: the settings of ``CONFIG`` that can
    be set on an open database (external access can be turned off, never back on)."""
    lines = [
        "SET autoinstall_known_extensions = false;",
        "SET autoload_known_extensions = false;",
        "SET enable_external_access = false;",
        "SET lock_configuration = true;",
    ]
    return "\n".join(lines) + "\n"
