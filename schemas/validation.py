"""The pandera schema of a form, built from its spec (``schemas.columns.Form``) [issue 14].

One column per staged column (``Form.staged_columns``), typed as the extract types it
(``pipeline.extract.sheet``: Int64 for counts, years and money in fen, ``str`` for
text, nullable booleans, ``float`` percentage points, dates), nullable unless a data
row requires it (``Col.row_required``), with the checks its spec states: the valid
range (``Col.valid_range``: an error outside), the choices of an ``enum`` and the
pattern of a code (``Col.valid_pattern``). Each cross-column rule (``Form.rules``)
is a dataframe check named after the rule. Cells are coerced before validation, so
a wrong dtype here is a programming error, not bad input; extra columns (``sheet``,
``excel_row``) are allowed.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from schemas.columns import Col, Form

# staged DuckDB type -> dtype of the typed frame (money: whole fen, hence Int64)
DTYPES = {
    "VARCHAR": str,
    "BIGINT": pd.Int64Dtype,
    "INTEGER": pd.Int64Dtype,
    "DECIMAL(18,2)": pd.Int64Dtype,
    "DOUBLE": float,
    "BOOLEAN": pd.BooleanDtype,
    "DATE": pa.DateTime,
}


def column_checks(col: Col) -> list[pa.Check]:
    """The checks of one column, in the order pandera reports them: range, choices,
    pattern. Their names map to the finding rules ``negative``/``out_of_range``,
    ``not_a_choice`` and ``bad_code`` (``pipeline.extract.sheet``)."""
    checks = []
    low, high = col.valid_range
    if low is not None:
        checks.append(pa.Check.ge(low))
    if high is not None:
        checks.append(pa.Check.le(high))
    if col.kind == "enum" and col.choices:
        checks.append(pa.Check.isin(list(col.choices)))
    if col.valid_pattern:
        checks.append(pa.Check.str_matches(col.valid_pattern))
    return checks


def pandera_schema(form: Form) -> pa.DataFrameSchema:
    """The ``DataFrameSchema`` validating ``form``'s typed frame (lazily, by the caller).

    Columns: exactly ``form.staged_columns()``; dataframe checks: ``form.rules`` in
    declaration order, each named after its rule and run on NULLs too (the rule
    decides: a NULL operand passes).
    """
    columns = {}
    for name, duckdb_type in form.staged_columns():
        col = form.staged[name]
        columns[name] = pa.Column(
            DTYPES[duckdb_type],
            checks=column_checks(col),
            nullable=not col.row_required,
        )
    checks = [pa.Check(rule.test, name=rule.name, ignore_na=False) for rule in form.rules]
    return pa.DataFrameSchema(
        columns, checks=checks, strict=False, coerce=False, name=f"{form.code} rows"
    )
