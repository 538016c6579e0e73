"""The data dictionary: a description (``COMMENT ON``) for every table and column of the
warehouse, and its Markdown rendering (``tpa docs`` -> ``docs/data_dictionary.md``).

One source of truth per kind of column:

- ``raw.<form>`` / ``staging.<form>`` data columns: the form specs of ``schemas`` (Chinese
  header, kind, unit), plus the standard columns of every staged row (``STANDARD``);
- wide indicator tables (one column per indicator code): ``ref.indicator_definitions``;
- everything else: ``TABLE_COLUMNS`` (per table) and then ``COLUMNS`` (per column name)
  below. Table comments of the SQL models come from each model's leading comment
  (``pipeline.models``); those of ``ref``, ``raw`` and ``quarantine`` from ``TABLES``.

``apply_comments`` returns what it could not describe; ``tests/test_docs.py`` fails on
any such column, so a new column needs a line here (or in its form spec).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from schemas import FORMS
from schemas.columns import PERSONAL_KINDS, Col

DOCUMENTED_SCHEMAS = ("ref", "raw", "staging", "intermediate", "marts", "quarantine")
# Schemas where every column must carry a description (the intermediate layer is
# described where its columns are known, best effort).
REQUIRED_SCHEMAS = ("ref", "raw", "staging", "marts", "quarantine")

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
    "530000 for the province",
    "geo_name_zh": "geography name in Chinese",
    "indicator_code": "indicator code (ref.indicator_definitions.indicator_code)",
    "form": "report form code: population, relocation, housing, medical, water, education, "
    "employment, infrastructure or households",
    "numerator": "numerator: the sum (or count) over the geography's reporting counties",
    "denominator": "denominator: the sum over the geography's reporting counties; NULL for a "
    "plain count",
    "value": "numerator / denominator (a ratio 0–1) where there is a denominator, else the "
    "numerator; NULL when the denominator is 0",
    "unit": "unit of value: ratio, persons, households, villages, sites, counties or yuan",
    "file_name": "file name as received",
    "message": "message in Chinese: what is wrong and what to do",
    "message_en": "the same message in English",
    "reason": "reason code",
    "village": "administrative village (行政村) name as written by the county",
    "village_code": "12-digit village code (村代码) as written by the county",
    "township": "township (乡镇) name as written by the county",
    "is_poverty_village": "poverty village (是否贫困村 = 是)",
    "is_poverty_county": "nationally designated poverty county (ref.poverty_counties)",
    "below_threshold": "poverty incidence at or below 3% (ratio ≤ 0.03, no rounding); NULL "
    "where the incidence is unknown",
    "facilities_complete": "every facility of the infrastructure form in place; NULL where the "
    "village is not on an infrastructure form",
    "eligible": "meets every exit criterion; NULL where any criterion is not assessed",
    "survey_criteria": "exit criteria from surveys (wrong-exit, missed-registration rates, "
    "satisfaction): not carried by the forms, always 'not assessed'",
    "main_cause": "main cause of poverty (主要致贫原因) as on the ledger",
    "households": "number of ledger households",
    "dimension": "Alkire–Foster dimension: food_clothing, education, medical, housing or water",
    "contribution": "share of the adjusted headcount ratio M0 due to this dimension (0–1)",
    "k": "Alkire–Foster poverty cut-off: a household is poor when its weighted deprivation "
    "score reaches k",
    "w_food_clothing": "Alkire–Foster weight of the food and clothing dimension",
    "w_education": "Alkire–Foster weight of the compulsory education dimension",
    "w_medical": "Alkire–Foster weight of the basic medical care dimension",
    "w_housing": "Alkire–Foster weight of the housing safety dimension",
    "w_water": "Alkire–Foster weight of the drinking water dimension",
    "rows_quarantined": "data rows not loaded (in quarantine.rows)",
    "rows_loaded": "data rows loaded",
    "rows_read": "data rows read (rows_loaded + rows_quarantined)",
    "warnings": "findings of severity warning (the row was loaded)",
    "errors": "findings of severity error (the row was quarantined)",
    "error_findings": "findings of severity error in this submission",
    "is_complete": "true when nothing of the submission was quarantined",
    "is_current": "true for the current submission of (county_code, period, form)",
    "superseded_by": "SHA-256 of the later workbook that replaced this one",
    "received_at": "when the file arrived (UTC): the earlier of its modification time (a zip's "
    "for its files) and when tpa first saw its SHA-256 [issue 12]",
    "source": "where the figure or definition comes from",
    "period_year": "year of the period (its first four characters)",
    "difference": "difference between the two sources (ledger minus form)",
    "share": "share of the geography's ledger households (0–1)",
    # ledger tests per household (intermediate.int_households and its geographies)
    "poverty_line_yuan": "national poverty line of the period's year (ref.poverty_lines), yuan; "
    "NULL where no sourced figure exists",
    "is_exited": "exited: exit_year reported and not after the period's year",
    "income_above_line": "income_per_capita above the year's poverty line; NULL where the year "
    "has no line or the income cell is blank (not assessed)",
    "guarantees_met": "all five guarantees met (food and clothing, compulsory education, basic "
    "medical care, housing safety, drinking water)",
    "meets_standard": "meets the exit standard: income above the line and every guarantee met; "
    "NULL where not assessable",
    "meets_standard_not_exited": "not exited, yet meeting the exit standard",
    "exited_not_meeting": "exited, yet not meeting the exit standard (risk of wrong exit, 错退)",
    "lacking_food_clothing": "不愁吃不愁穿 not met",
    "lacking_education": "义务教育有保障 not met",
    "lacking_medical": "基本医疗有保障 not met",
    "lacking_housing": "住房安全有保障 not met",
    "lacking_water": "饮水安全有保障 not met",
    "af_assessable": "every guarantee reported, so the Alkire–Foster score can be computed",
    "af_score": "Alkire–Foster weighted deprivation score c_i = Σ w_j d_ij (0–1)",
    "af_poor": "multidimensionally poor: af_score ≥ k",
    "af_censored_score": "af_score where poor, else 0 (the censored score)",
    "head_id_shared": "the household head's pseudonym (head_id_hash) also heads another "
    "household of the same period",
    "parameter_rows": "rows of ref.af_parameters (exactly 1 expected)",
    "weight_total": "sum of the five weights before normalising",
}

TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "ref.counties": {
        "county_code": "county code (GB/T 2260, 6 digits), as of today's code set",
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
        "files_not_read": "files not read: lock, hidden or backup files, files that are not "
        "workbooks (send the workbook) [issue 12]",
        "submission_state": "loaded (some form current), rejected (the county sent files, all "
        "rejected or not read: it did send something) or nothing [issue 12]",
        "rejected_reasons": "messages of the county's rejected and not-read files [issue 12]",
        "rows_loaded": "data rows loaded",
        "rows_quarantined": "data rows quarantined",
        "tests_passed": "SQL data tests passed",
        "tests_failed": "SQL data tests failed",
        "published": "whether the run published a new warehouse",
        "status": "outcome: running, published, failed, not published …",
        "message": "error or note of the run",
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
    "marts.indicators": {
        "geo_name_zh": "geography name in Chinese (village as written in the ledger)",
        "period": "reporting period, YYYY-MM",
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
        "files_not_read": "files not read: lock, hidden or backup files, files that are not "
        "workbooks (send the workbook) [issue 12]",
        "submission_state": "loaded (some form current), rejected (the county sent files, all "
        "rejected or not read: it did send something) or nothing [issue 12]",
        "rejected_reasons": "messages of the county's rejected and not-read files [issue 12]",
        "rows_loaded": "data rows loaded (current rows in staging)",
        "rows_quarantined": "data rows quarantined (files still loaded)",
        "errors": "findings of severity error",
        "warnings": "findings of severity warning",
        "total_mismatches": "reported totals that differ from the sum of their detail rows "
        "(rule total_mismatch)",
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
    "marts.af_contributions": {
        "period": "reporting period, YYYY-MM",
        "weight": "normalised weight of the dimension (intermediate.int_af_parameters)",
        "poor_deprived_households": "poor households deprived in this dimension",
        "households_assessed": "households with all five guarantees reported (n)",
        "poor_households": "multidimensionally poor households",
        "censored_headcount_ratio": "poor households deprived in the dimension / n",
        "adjusted_headcount": "adjusted headcount ratio M0 of the geography",
    },
    "marts.reconciliation": {
        "county_name_zh": "county name in Chinese",
        "period": "reporting period, YYYY-MM",
        "township": "township as written (population form, else ledger)",
        "village": "village as written (population form, else ledger)",
        "village_code": "12-digit village code (population form, else ledger)",
        "status": "both, population_only (no ledger household) or ledger_only (village not on "
        "the population form)",
        "matched_by": "how ledger and form villages were matched: village_code, or township "
        "and village name",
        "ledger_registered": "ledger households of the village",
        "ledger_exited": "ledger households exited (exit_year ≤ the period's year)",
        "ledger_remaining": "ledger households not exited",
        "population_registered": "建档立卡贫困户数 on the population form (表1)",
        "population_exited": "已脱贫户数 on the population form",
        "population_remaining": "未脱贫户数 on the population form",
        "diff_registered": "ledger_registered − population_registered",
        "diff_exited": "ledger_exited − population_exited",
        "diff_remaining": "ledger_remaining − population_remaining",
        "has_difference": "any difference ≠ 0 (NULL when a form cell is blank and the others "
        "agree); always true for ledger_only",
        "code_matches_county": "every village code of the row starts with the county's code "
        "(or a former code); NULL without a code",
    },
    "marts.household_causes": {
        "period": "reporting period, YYYY-MM",
        "households": "ledger households whose main cause is main_cause",
        "main_cause": "main cause of poverty (主要致贫原因) as on the ledger; NULL where blank",
    },
    "marts.village_exit": {
        "village": "administrative village name as written on the population form",
        "period": "reporting period, YYYY-MM",
        "poverty_incidence": "poverty incidence as a ratio 0–1 (remaining persons / total "
        "population)",
        "eligible": "meets the village exit criteria: incidence ≤ 3% and, where the "
        "infrastructure form covers the village, every facility; NULL where not assessed",
        "infrastructure_reported": "the county's infrastructure form (表8) has the village",
        "total_population": "总人口 of the village (population form)",
        "remaining_persons": "未脱贫人口数 of the village (population form)",
    },
    "marts.county_exit": {
        "period": "reporting period, YYYY-MM",
        "poverty_incidence": "poverty incidence as a ratio 0–1 (remaining persons / total "
        "population over villages with both reported)",
        "remaining_persons": "Σ 未脱贫人口数 over the county's villages with both counts",
        "total_population": "Σ 总人口 over the county's villages with both counts",
        "official_exit_year": "year of the county's official exit (ref.poverty_counties); "
        "NULL for a county that was not a poverty county",
    },
}

_WIDE_TABLES = {"county_indicators", "prefecture_indicators", "province_indicators"}


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
    return f"{header}: {kind}; {f.table_no} {f.title_zh}"


def _form_columns(form: str) -> dict[str, str]:
    out = {}
    for c in FORMS[form].columns:
        if c.kind in PERSONAL_KINDS:
            if c.kind == "id_number":
                out["head_id_hash"] = (
                    "户主身份证号 pseudonym: HMAC-SHA256 (hex) of the normalised ID number "
                    "under the installation's key; the ID number itself is never stored"
                )
            continue
        out[c.name] = form_column_comment(form, c)
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


def column_comment(
    schema: str,
    table: str,
    column: str,
    indicators: dict[str, str],
    any_form: dict[str, str] | None = None,
) -> str | None:
    """The description of one column, or None when the dictionary has none."""
    key = f"{schema}.{table}"
    if column in TABLE_COLUMNS.get(key, {}):
        return TABLE_COLUMNS[key][column]
    if schema in ("raw", "staging") and table in FORMS:
        own = _form_columns(table)
        if column in own:
            return own[column]
        if column in STANDARD:
            return STANDARD[column]
    if column in indicators and (table in _WIDE_TABLES or schema != "ref"):
        return indicators[column]
    if column in COLUMNS:
        return COLUMNS[column]
    any_form = any_form if any_form is not None else _any_form_columns()
    return any_form.get(column)


# Tables and the models kept as views (``pipeline.models.VIEW_MARK``), alike.
RELATIONS = (
    "SELECT database_name, schema_name, table_name, comment, 'TABLE' AS kind FROM duckdb_tables() "
    "UNION ALL SELECT database_name, schema_name, view_name, comment, 'VIEW' FROM duckdb_views() "
    "WHERE NOT internal"
)


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
        text = column_comment(schema, table, column, indicators, any_form)
        if text:
            statements.append(
                f"COMMENT ON COLUMN {_q(schema)}.{_q(table)}.{_q(column)} IS {_lit(text)}"
            )
        else:
            missing.append(f"{schema}.{table}.{column}")
    if statements:
        con.execute(";\n".join(statements))
    return missing


def _md(text) -> str:
    if text is None:
        return ""
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = DOCUMENTED_SCHEMAS) -> str:
    """The data dictionary of the connected warehouse as Markdown (from duckdb_tables() and
    duckdb_columns(), so it shows what the database itself says)."""
    marks = ", ".join("?" for _ in schemas)
    tables = con.execute(
        f"SELECT schema_name, table_name, comment FROM ({RELATIONS}) "
        f"WHERE database_name = current_database() AND schema_name IN ({marks})",
        list(schemas),
    ).fetchall()
    cols = con.execute(
        f"SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns() "
        f"WHERE database_name = current_database() AND schema_name IN ({marks}) "
        f"ORDER BY column_index",
        list(schemas),
    ).fetchall()
    by_table: dict[tuple[str, str], list] = {}
    for s, t, c, typ, comment in cols:
        by_table.setdefault((s, t), []).append((c, typ, comment))
    order = {s: i for i, s in enumerate(schemas)}
    tables.sort(key=lambda r: (order[r[0]], r[1]))
    lines = [
        "# tpa data dictionary",
        "",
        "Generated by `tpa docs` from the warehouse's own comments (`duckdb_tables()`, "
        "`duckdb_columns()`); the source of truth is `pipeline/docs.py`, the form specs in "
        "`schemas/` and the SQL models' leading comments. Do not edit by hand.",
        "",
        "Read it inside DuckDB too:",
        "",
        "```sql",
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts';",
        "SELECT column_name, data_type, comment FROM duckdb_columns()",
        " WHERE schema_name = 'marts' AND table_name = 'indicators';",
        "```",
        "",
        "## Contents",
        "",
    ]
    for s in schemas:
        names = [t for ts, t, _ in tables if ts == s]
        if not names:
            continue
        links = ", ".join(f"[{t}](#{s}{t})" for t in names)
        lines.append(f"- **{s}** — {SCHEMA_DESCRIPTIONS.get(s, '')} {links}")
    current = None
    for s, t, comment in tables:
        if s != current:
            lines += ["", f"## {s}", "", SCHEMA_DESCRIPTIONS.get(s, "")]
            current = s
        lines += ["", f"### {s}.{t}", "", _md(comment) or "_(no description)_", ""]
        lines += ["| column | type | description |", "|---|---|---|"]
        for c, typ, cc in by_table.get((s, t), []):
            lines.append(f"| `{_md(c)}` | {_md(typ)} | {_md(cc)} |")
    return "\n".join(lines) + "\n"


def write_markdown(warehouse: Path, out_dir: Path) -> Path:
    """Write ``out_dir/data_dictionary.md`` from the published warehouse (read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        text = markdown(con)
    finally:
        con.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "data_dictionary.md"
    path.write_text(text, encoding="utf-8")
    return path
