"""The data dictionary inside the warehouse: a description (``COMMENT ON``) for every
table and column (its Markdown rendering, ``tpa docs``, is ``pipeline.outputs.dictionary``).

One source of truth per kind of column:

- the SQL models' columns: the model's own header, ``-- column <name>: <text>`` lines
  beside its SQL (``pipeline.warehouse.models``), else the same column of a model it reads (a column
  passed through keeps its description); the table comment is the header's grain and text;
- ``raw.<form>`` / ``staging.<form>`` data columns: the form specs of ``schemas`` (Chinese
  header, kind, unit), plus the standard columns of every staged row (``STANDARD``);
- wide indicator tables (one column per indicator code): ``ref.indicator_definitions``;
- the tables the build creates in Python (``ref``, ``raw``, ``quarantine``): ``TABLES`` and
  ``TABLE_COLUMNS`` below; then, for any table, the shared vocabulary ``COLUMNS`` (names
  such as county_code or period that mean the same everywhere).

``apply_comments`` returns what it could not describe; ``tests/warehouse/test_docs.py`` fails on
any such column, so a new column needs a ``-- column`` line in its model (or a line here,
or in its form spec).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline import refdata
from pipeline.warehouse import models
from pipeline.warehouse.catalog import RELATIONS
from schemas import FORMS
from schemas.columns import VILLAGE_CODE_DIGITS, VILLAGE_CODE_PATTERN, Col

DOCUMENTED_SCHEMAS = ("ref", "raw", "staging", "intermediate", "marts", "quarantine")

SCHEMA_DESCRIPTIONS = {
    "ref": "Reference data shipped with the product (codes, names, poverty lines, "
    "indicator definitions).",
    "raw": "What arrived: one row per workbook ever seen, per run, per submission, and the "
    "validated rows of every submission (current or superseded).",
    "staging": "Validated rows of the current submission per county, period and form; "
    "one table per form, no aggregation.",
    "intermediate": "Building blocks of the marts (per county and indicator, per household).",
    "marts": "What analysts read: indicators per geography and period, data quality, "
    "exit assessment.",
    "quarantine": "Nothing lost: rejected workbooks, rows that were not loaded, and every "
    "problem found, with the cell it is in.",
}

# Table comments for the tables the SQL models do not create.
TABLES = {
    "ref.counties": "one row per county-level division of Yunnan (GB/T 2260, 129): code, "
    "names in Chinese and English, type, prefecture (州/市).",
    "ref.geographies": "one row per county and geography it counts in (itself, its "
    "prefecture, the province): every roll-up of the models joins it.",
    "ref.forms": "one row per county report form (schemas.FORMS, forms.md): code, order, "
    "table number and title.",
    "ref.poverty_counties": "one row per nationally designated poverty county of Yunnan "
    "(国家扶贫开发工作重点县 / 片区县, 88): exit year, batch and approval.",
    "ref.county_code_changes": "one row per county code change (old code -> new code) with "
    "the NBS code sets that show it; clerks may still write old codes.",
    "ref.poverty_lines": "one row per year: the national rural poverty line (yuan per person "
    "per year, 2010 prices adjusted); line_yuan NULL where no sourced figure exists.",
    "ref.indicator_definitions": "one row per indicator code of marts.indicators: names, "
    "unit, numerator, denominator, source form and definition (indicators.md).",
    "ref.af_parameters": "one row: the Alkire–Foster poverty cut-off k and the weight of each "
    "of the five ledger dimensions (pipeline/reference/af_parameters.csv).",
    "raw.files": "one row per file ever seen in the raw folder, and per file inside a zip read "
    "in place (identity: SHA-256 of its bytes): where it lies, what it was identified as, its "
    "status and row accounting (rows_read = rows_loaded + rows_quarantined).",
    "raw.runs": "one row per pipeline run: when, how triggered, files and rows processed, "
    "SQL data tests, whether it published.",
    "raw.indicator_revisions": "[issue 13] one row per value published for an indicator, "
    "geography and period: revision 0 the value first published, each later row a changed "
    "value (NULL: no longer published), the release that carried it and the submissions new "
    "in it. Copied from the state folder's revision history; outside the determinism promise.",
    "raw.submissions": "one row per loaded workbook and form it carries: which submission "
    "is current per (county_code, period, form) (latest received_at wins).",
    "quarantine.files": "one row per workbook rejected whole (not identified, unreadable, "
    "too large, no known form ...), with the reason and message in Chinese and English.",
    "quarantine.rows": "one row per data row that was not loaded, with its original cells as "
    "JSON (header -> text as written; personal data left out).",
    "quarantine.findings": "one row per problem found in a workbook: severity error (the row "
    "is in quarantine.rows) or warning (the row was loaded), the cell and the message.",
}
for _form in FORMS.values():
    TABLES[f"raw.{_form.code}"] = (
        f"one row per data row ({_form.grain}) of every loaded submission of the "
        f"{_form.code} form ({_form.table_no} {_form.title_zh}), current or superseded; "
        f"staging.{_form.code} keeps the current ones."
    )

# Columns every staged row carries besides its form's columns.
STANDARD = {
    "county_code": "county code (GB/T 2260, 6 digits) the workbook was identified as",
    "period": "reporting period, YYYY-MM (统计截止时间 of the workbook)",
    "file_sha256": "SHA-256 of the workbook this row comes from (raw.files.file_sha256)",
    "sheet": "worksheet the row was read from",
    "excel_row": "row number on that worksheet (1-based, as Excel shows it)",
}

KIND_TEXT = {
    "text": "text as written by the county (trimmed)",
    "code": "code; digits kept as text (leading zeros kept)",
    "count": "whole number ≥ 0; NULL where the cell was blank",
    "money": "yuan, exact to the fen (the sheet writes 万元)",
    "yuan": "yuan",
    "percent": "percentage points as written on the sheet (1.92 means 1.92%)",
    "bool": "是 -> true, 否 -> false; NULL where blank",
    "date": "date",
    "year": "year (4 digits)",
    "enum": "one of a fixed list",
}

# Per-column-name descriptions, used wherever a table has no entry of its own.
COLUMNS = {
    **STANDARD,
    "county_code": "county code (GB/T 2260, 6 digits)",
    "period": "reporting period, YYYY-MM",
    "county_name_zh": "county name in Chinese (ref.counties)",
    "county_name_en": "county name in English (ref.counties)",
    "county_type": "county-level type: 县, 自治县, 市 (county-level city) or 区 (district)",
    "prefecture_code": "prefecture (州/市) code, GB/T 2260, 6 digits",
    "prefecture_name_zh": "prefecture (州/市) name in Chinese",
    "prefecture_name_en": "prefecture (州/市) name in English",
    "geo_level": "geography level: village, county, prefecture or province",
    "geo_code": "geography code: 12-digit village code, 6-digit county or prefecture code, "
    f"{refdata.PROVINCE_CODE} for the province (ref.geographies)",
    "geo_name_zh": "geography name in Chinese",
    "indicator_code": "indicator code (ref.indicator_definitions.indicator_code)",
    "form": "report form code: population, relocation, housing, medical, water, education, "
    "employment, infrastructure or households",
    "numerator": "numerator: the sum (or count) over the geography's known units of its "
    "reporting counties; NULL when none is known (unknown is never 0)",
    "denominator": "denominator: the sum over the same known units; NULL for a plain count "
    "or when none is known",
    "units_total": "units (villages, townships, sites, households or counties, as the "
    "indicator counts them) the figure is over, quarantined rows included",
    "units_unknown": "of units_total, those whose value is unknown (a blank cell, a "
    "quarantined row): above 0, the figure covers the known units only",
    "file_name": "file name as received",
    "message": "message in Chinese: what is wrong and what to do",
    "message_en": "the same message in English",
    "reason": "reason code",
    "village": "administrative village (行政村) name as written by the county",
    "village_code": "12-digit village code (村代码) as written by the county",
    "township": "township (乡镇) name as written by the county",
    "is_poverty_village": "poverty village (是否贫困村 = 是)",
    "main_cause": "main cause of poverty (主要致贫原因) as on the ledger",
    "rows_quarantined": "data rows not loaded (in quarantine.rows)",
    "rows_loaded": "data rows loaded",
    "rows_read": "data rows read (rows_loaded + rows_quarantined)",
    "warnings": "findings of severity warning (the row was loaded)",
    "errors": "findings of severity error (the row was quarantined)",
    "is_current": "true for the current submission of (county_code, period, form)",
    "superseded_by": "SHA-256 of the later workbook that replaced this one",
    "received_at": "when the file arrived (UTC): the earlier of its modification time (a zip's "
    "for its files) and when tpa first saw its SHA-256 [issue 12]",
    "source": "where the figure or definition comes from",
}

# the county's submission state, the same columns in raw.runs and marts.data_quality
_SUBMISSION_STATE = {
    "files_not_read": "files not read: lock, hidden or backup files, files that are not "
    "workbooks (send the workbook) [issue 12]",
    "submission_state": "loaded (some form current), rejected (the county sent files, all "
    "rejected or not read: it did send something) or nothing [issue 12]",
    "rejected_reasons": "messages of the county's rejected and not-read files [issue 12]",
}

TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "ref.counties": {
        "county_code": "county code (GB/T 2260, 6 digits), as of today's code set",
    },
    "ref.geographies": {
        "county_code": "county code (GB/T 2260, 6 digits) of the county that counts in geo_code",
        "level_rank": "1 county, 2 prefecture, 3 province",
    },
    "ref.forms": {
        "ordinal": "position of the form (1 = 表1 population … 9 = 表9 households)",
        "table_no": "table number on the workbook (表1 …)",
        "title_zh": "title of the form in Chinese",
        "grain": "what one data row of the form is",
    },
    "ref.af_parameters": {
        "k": "Alkire–Foster poverty cut-off: a household is poor when its weighted deprivation "
        "score reaches k",
        "w_food_clothing": "Alkire–Foster weight of the food and clothing dimension",
        "w_education": "Alkire–Foster weight of the compulsory education dimension",
        "w_medical": "Alkire–Foster weight of the basic medical care dimension",
        "w_housing": "Alkire–Foster weight of the housing safety dimension",
        "w_water": "Alkire–Foster weight of the drinking water dimension",
    },
    "ref.poverty_counties": {
        "exit_year": "year the county exited poverty (摘帽)",
        "exit_batch": "batch of the provincial exit announcement",
        "exit_approved_date": "date the exit was approved (YYYY-MM-DD where known)",
        "deep_poverty": "deeply impoverished county (深度贫困县): yes/no",
        "former_county_code": "the county's code before a code change, if any",
    },
    "ref.county_code_changes": {
        "old_code": "county code before the change",
        "old_name_zh": "county name before the change",
        "new_code": "county code after the change (today's code)",
        "new_name_zh": "county name after the change",
        "last_nbs_code_set_with_old_code": "last NBS code set (year) listing the old code",
        "first_nbs_code_set_with_new_code": "first NBS code set (year) listing the new code",
        "evidence": "where the change is documented",
    },
    "ref.poverty_lines": {
        "year": "calendar year",
        "line_yuan": "national rural poverty line, yuan per person per year (current prices); "
        "NULL where no sourced figure exists",
        "price_basis": "price basis of the figure (e.g. current prices, 2010 constant prices)",
        "source": "publication the figure comes from",
        "confidence": "how firmly the figure is sourced",
    },
    "ref.indicator_definitions": {
        "indicator_code": "indicator code (the key of marts.indicators)",
        "name_zh": "indicator name in Chinese (as on official tables)",
        "name_en": "indicator name in English",
        "unit": "unit of value: ratio (0–1) or what is counted",
        "numerator": "what the numerator sums or counts",
        "denominator": "what the denominator sums or counts (empty for a plain count)",
        "form": "report form the indicator is computed from",
        "description": "definition in words",
        "source": "where the definition comes from (indicators.md, official documents)",
        "ordinal": "position of the indicator (the column order of the wide marts)",
    },
    "raw.files": {
        "path": "path relative to the raw folder (e.g. 2019-12/530128_禄劝….xlsx)",
        "size_bytes": "file size in bytes",
        "county_code": "county as identified; for a file rejected before identification or not "
        "read, from its name or folder (identified_from), for attribution only",
        "period": "period as identified, YYYY-MM; for a file rejected before identification or "
        "not read, from its name or folder",
        "identified_from": "where county_code came from: cover, file_name or folder (the last "
        "two only for rejected or not-read files, or a cover without 填报单位) [issue 12]",
        "reader": "which reader parsed the workbook",
        "status": "loaded, rejected, superseded (a later file replaced every form of it), "
        "removed (no longer in the raw folder), not_read (lock, hidden or backup file, or not a "
        "workbook) or expanded (a zip read in place: its files have rows of their own)",
        "reason": "why rejected or not read (reason code) or by which file superseded",
        "archive_path": "for a file inside a zip: the zip's path relative to the raw folder",
        "archive_sha256": "for a file inside a zip: the SHA-256 of the zip",
        "member_name": "for a file inside a zip: its name in the zip (decoded as UTF-8, else "
        "GB18030)",
        "forms": "forms found in the workbook, comma-separated",
        "message": "message in Chinese for a rejected, not-read or expanded file",
    },
    "raw.runs": {
        "run_id": "run identifier (start time and a random suffix)",
        "started_at": "when the run started (local time)",
        "finished_at": "when the run finished (NULL while running)",
        "trigger": "what started the run: manual, schedule, watch …",
        "files_seen": "files in the raw folder, and in the zips read in place (one per content)",
        "files_new": "workbooks parsed in this run (not cached from an earlier run)",
        "files_rejected": "workbooks rejected whole",
        **_SUBMISSION_STATE,
        "rows_loaded": "data rows loaded",
        "rows_quarantined": "data rows quarantined",
        "tests_passed": "SQL data tests passed",
        "tests_failed": "SQL data tests failed",
        "published": "whether the run published a new warehouse",
        "status": "outcome: running, published, failed, not published …",
        "message": "error or note of the run",
    },
    "raw.indicator_revisions": {
        "revision": "0 for the value first published, then 1, 2 … for each change",
        "value": "the value this release published (NULL: no longer published)",
        "previous_value": "the value published before this revision (NULL for revision 0)",
        "first_value": "the value first published (revision 0)",
        "first_release_id": "the release that first published a value (kept by retention)",
        "release_id": "the release that carried this value (tpa query --release ID)",
        "published_at": "when this release was built (local time)",
        "file_sha256s": "submissions (SHA-256) new in this release for the geography's "
        "counties and the period: what changed the value",
    },
    "raw.submissions": {
        "received_at": "when the workbook arrived; the latest per (county_code, period, form) "
        "is current",
    },
    "quarantine.files": {
        "reason": "reason code of the rejection",
        "message": "message in Chinese: why the workbook was rejected and what to do",
    },
    "quarantine.rows": {
        "form": "form of the sheet the row is on",
        "cells": "the row's original cells as JSON: header -> text as written (personal "
        "data left out)",
    },
    "quarantine.findings": {
        "form": "form of the sheet (NULL for a problem with the whole workbook)",
        "sheet": "worksheet (NULL for a problem with the whole workbook)",
        "excel_row": "row number (NULL for a problem with a whole sheet)",
        "cell_ref": "cell address(es), e.g. F12 or F12,G12 (NULL for a whole sheet)",
        "column_header": "header of the column as written on the sheet",
        "cell_text": "the cell's text as written (NULL for personal data)",
        "rule": "rule that found the problem (e.g. not_a_number, total_mismatch)",
        "severity": "error (row quarantined) or warning (row loaded)",
    },
    "marts.data_quality": {
        "period": "reporting period, YYYY-MM",
        "forms_received": "forms of the nine with a current submission",
        "forms_received_list": "those forms, comma-separated",
        "forms_missing": "forms without a submission, comma-separated",
        "files_received": "workbooks received for the county and period (any status), and files "
        "not read; a zip counts through its files; a rejected or not-read file counts for the "
        "county its name or folder gives",
        "files_loaded": "workbooks loaded",
        "files_superseded": "workbooks replaced by a later one",
        "files_rejected": "workbooks rejected whole",
        **_SUBMISSION_STATE,
        "rows_loaded": "data rows loaded (current rows in staging)",
        "rows_quarantined": "data rows quarantined (files still loaded)",
        "errors": "findings of severity error",
        "warnings": "findings of severity warning",
        "total_mismatches": "reported totals that differ from the sum of their detail rows "
        "(rule total_mismatch)",
        "columns_not_read": "columns holding data whose header matched no standard column "
        "(rule column_not_read; files still loaded)",
        "columns_missing": "optional standard columns a loaded sheet lacks (rule column_missing)",
        "reconciliation_differences": "villages whose household counts differ between the "
        "ledger and the population form (NULL unless the county sent both)",
        "ledger_villages_missing_from_population": "ledger villages not on the population form",
        "population_villages_missing_from_ledger": "villages of the population form with "
        "registered households but none in the ledger",
        "village_codes_not_matching_county": "villages whose code does not start with the "
        "county's code",
        "duplicate_id_households": "households whose head's pseudonym also heads another "
        "household of the period, in any county (NULL without a ledger)",
    },
}

_WIDE_TABLES = {
    "wide_indicators",
    "county_indicators",
    "prefecture_indicators",
    "province_indicators",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def form_column_comment(form: str, col: Col) -> str:
    """``总人口（人）: whole number ≥ 0 …; form 表1 建档立卡贫困人口情况``."""
    f = FORMS[form]
    header = col.header_zh
    if col.parents:
        header = f"{col.parents[0]} {header}"
    if col.unit:
        header += f"（{col.unit}）"
    kind = KIND_TEXT.get(col.kind, col.kind)
    if col.kind == "enum" and col.choices:
        kind += ": " + "、".join(col.choices)
    if col.kind == "money":
        kind = "yuan, exact to the fen (the sheet writes 万元)"
    return f"{header}: {kind}{_valid_text(col)}{_range_text(form, col)}; {f.table_no} {f.title_zh}"


def _valid_text(col: Col) -> str:
    """What the spec declares beyond the kind (``Col.bounds``, ``Col.pattern``): outside
    it the row is quarantined [issue 14]."""
    out = ""
    if col.bounds is not None:
        low, high = col.bounds
        out += f"; valid range {low} to {high}, outside it the row is quarantined"
    if col.pattern == VILLAGE_CODE_PATTERN:
        out += f"; {VILLAGE_CODE_DIGITS} digits starting with the county code, else the row is quarantined"
    elif col.pattern:
        out += f"; must match {col.pattern}, else the row is quarantined"
    return out


def _range_text(form: str, col: Col) -> str:
    """``; plausible …, else a warning (TPA_COLUMN_LIMITS key …); storable …`` [issue 11]."""
    from pipeline.extract.limits import ranges, storable_text

    out = ""
    if (limit := ranges(form).get(col.name)) is not None:
        fmt = "{:.0f}" if col.kind in ("year", "date") else "{:,.0f}"
        low, high = (None if b is None else fmt.format(b) for b in limit)
        unit = {"money": " yuan", "yuan": " yuan", "date": " (year)", "percent": " points"}
        bounds = f"{low} to {high}" if low is not None else f"at most {high}"
        out += (
            f"; plausible range {bounds}{unit.get(col.kind, '')}, outside it a warning "
            f"(TPA_COLUMN_LIMITS key {form}.{col.name})"
        )
    if storable := storable_text(col):
        out += f"; storable range {storable}, outside it the row is quarantined"
    return out


def _form_columns(form: str) -> dict[str, str]:
    """Staged column -> description, from the form's spec (``Form.staged``): a name is
    not staged; an ID number is staged as its pseudonym."""
    out = {}
    for name, c in FORMS[form].staged.items():
        if c.kind == "id_number":
            out[name] = (
                f"{c.header_zh} pseudonym: HMAC-SHA256 (hex) of the normalised ID number "
                "under the installation's key; the ID number itself is never stored"
            )
        else:
            out[name] = form_column_comment(form, c)
    return out


def _any_form_columns() -> dict[str, str]:
    """Every form column name -> its description (first form that has it)."""
    out: dict[str, str] = {}
    for form in FORMS:
        for name, text in _form_columns(form).items():
            out.setdefault(name, text)
    return out


def _indicator_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        rows = con.execute(
            "SELECT indicator_code, name_zh, name_en, unit FROM ref.indicator_definitions"
        ).fetchall()
    except duckdb.Error:
        return {}
    out = {}
    for code, zh, en, unit in rows:
        what = "ratio 0–1" if unit == "ratio" else unit
        out[code] = f"{zh} ({en}); value of indicator {code} in marts.indicators, {what}"
    return out


def described_columns(
    sql_dir: Path = models.SQL_DIR,
) -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, ...]]]:
    """``(own, reads)``: per ``schema.table``, the columns it describes itself (each model's
    ``-- column`` lines, ``TABLE_COLUMNS`` for the tables the build creates), and per model
    the tables it reads (``pipeline.warehouse.models``: parsed from its SQL)."""
    own = {key: dict(cols) for key, cols in TABLE_COLUMNS.items()}
    reads: dict[str, tuple[str, ...]] = {}
    for m in models.load_models(sql_dir):
        own.setdefault(m.table, {}).update(m.header.columns)
        reads[m.table] = m.refs
    return own, reads


def _inherited(
    key: str, column: str, own: dict[str, dict[str, str]], reads: dict[str, tuple[str, ...]]
) -> str | None:
    """The description of ``column`` in the nearest model upstream of ``key`` (breadth
    first over the models it reads; source tables are not followed: their columns of the
    same name may mean something narrower, e.g. raw.files.county_code)."""
    seen, queue = {key}, [r for r in reads.get(key, ()) if r in reads]
    while queue:
        table = queue.pop(0)
        if table in seen:
            continue
        seen.add(table)
        if column in own.get(table, {}):
            return own[table][column]
        queue += [r for r in reads.get(table, ()) if r in reads]
    return None


def column_comment(
    schema: str,
    table: str,
    column: str,
    indicators: dict[str, str],
    any_form: dict[str, str] | None = None,
    described: tuple[dict, dict] | None = None,
) -> str | None:
    """The description of one column, or None when the dictionary has none.

    ``described`` is ``described_columns()`` (computed when not given)."""
    key = f"{schema}.{table}"
    own, reads = described if described is not None else described_columns()
    if column in own.get(key, {}):
        return own[key][column]
    if schema in ("raw", "staging") and table in FORMS:
        mine = _form_columns(table)
        if column in mine:
            return mine[column]
        if column in STANDARD:
            return STANDARD[column]
    if column in indicators and table in _WIDE_TABLES:
        return indicators[column]
    if (text := _inherited(key, column, own, reads)) is not None:
        return text
    if column in indicators and schema != "ref":
        return indicators[column]
    if column in COLUMNS:
        return COLUMNS[column]
    any_form = any_form if any_form is not None else _any_form_columns()
    return any_form.get(column)


# Tables and the models kept as views (``-- materialized: view``), alike.
def apply_comments(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = DOCUMENTED_SCHEMAS
) -> list[str]:
    """Set ``COMMENT ON TABLE`` / ``COMMENT ON COLUMN`` for every table and column of
    ``schemas`` that the dictionary describes (a model's own table comment is kept).

    Returns what has no description: ``schema.table`` for a table, ``schema.table.column``
    for a column (empty when everything is described).
    """
    indicators = _indicator_columns(con)
    any_form = _any_form_columns()
    described = described_columns()
    marks = ", ".join("?" for _ in schemas)
    tables = con.execute(
        f"SELECT schema_name, table_name, comment, kind FROM ({RELATIONS}) "
        f"WHERE database_name = current_database() AND schema_name IN ({marks}) "
        f"ORDER BY 1, 2",
        list(schemas),
    ).fetchall()
    columns = con.execute(
        f"SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        f"WHERE database_name = current_database() AND schema_name IN ({marks}) "
        f"ORDER BY schema_name, table_name, column_index",
        list(schemas),
    ).fetchall()
    statements, missing = [], []
    for schema, table, comment, kind in tables:
        text = TABLES.get(f"{schema}.{table}")
        if text and not comment:
            statements.append(f"COMMENT ON {kind} {_q(schema)}.{_q(table)} IS {_lit(text)}")
        elif not text and not comment:
            missing.append(f"{schema}.{table}")
    for schema, table, column in columns:
        text = column_comment(schema, table, column, indicators, any_form, described)
        if text:
            statements.append(
                f"COMMENT ON COLUMN {_q(schema)}.{_q(table)}.{_q(column)} IS {_lit(text)}"
            )
        else:
            missing.append(f"{schema}.{table}.{column}")
    if statements:
        con.execute(";\n".join(statements))
    return missing
