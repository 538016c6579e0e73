"""Imported once by the forkserver of ``pipeline.run.contain``: does the work every parsing
process would otherwise repeat on its first workbook (≈ 1 s: pandera builds its
schemas and imports its Dask typing lazily; the reference data and county names are
read), so that each child forked from the server starts warm. Pure warm-up: results
are the caches of the functions called."""

from __future__ import annotations

from pipeline import refdata
from pipeline.run import cache
from schemas import SCHEMAS


def warm() -> None:
    """Fill the caches a parse uses (schemas, reference data, code fingerprint)."""
    for schema in SCHEMAS.values():
        to_schema = getattr(schema, "to_schema", None)
        if to_schema is not None:
            to_schema()
    refdata.counties()
    refdata.county_code_changes()
    refdata.resolver()
    cache.code_fingerprint()


try:
    warm()
except Exception:  # a warm-up only: the child does the work itself then
    pass
