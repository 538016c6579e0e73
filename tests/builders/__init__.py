"""Shared test builders: plain, seeded functions that generate test inputs by code (no
committed binaries). Test modules import from here, never from one another.

- ``paths``: ROOT (the checkout), CASES and CORPUS (optional shared folders beside it).
- ``workbooks``: a simple well-formed workbook of form sheets (``SheetSpec``, ``write_workbook``).
- ``mess``: messy real-world workbooks (layouts, merged headers, formats, totals rows),
  seeded records, and helpers that extract them and look up findings.
- ``values``: hostile cell values per column kind (``hostile_workbook``) and an independent
  GB 11643 ID check character (``gb11643_check``).
- ``dropzone``: other containers a county may send (.ods, .xlsb, zip, encrypted flags).
- ``sql``: tiny hand-built warehouses for the SQL models (``source_tables``, ``insert_rows``,
  the ledger factory).
- ``warehouse``: a small warehouse built by the real pipeline from generated workbooks.
- ``runs``: the BOOKS sample submissions, staging them into a raw folder, reading a
  warehouse back (``q``, ``snapshot``), an in-process nightly ``run``.
- ``sessions``: DuckDB sessions held open in child processes, ``fresh_query``.

Fixtures shared by several folders (``harness``, ``books``, ``sessions``, ``cases_dir``) are
in tests/conftest.py.
"""
