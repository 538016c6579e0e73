"""Building blocks shared by the form schemas: base model, field helpers, rule registry.

Cross-column rules are ``pandera`` dataframe checks returning a boolean Series
(True = row passes; a row with a NULL operand passes: rules that need a missing
value are not evaluated, forms.md). Each rule is registered in ``RULES`` with the
columns it involves (so a finding names every cell) and its severity: a rule whose
name starts with ``warn_`` keeps the row and flags it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa


class FormSchema(pa.DataFrameModel):
    """Base of every form schema: extra columns allowed (sheet, excel_row), no coercion.

    Cells are coerced by ``pipeline.extract.coerce`` before validation, so a
    wrong dtype here is a programming error, not bad input.
    """

    class Config:
        strict = False
        coerce = False


@dataclass(frozen=True)
class Rule:
    """A cross-column rule: the columns it names and its message (zh, en)."""

    name: str
    columns: tuple[str, ...]
    message_zh: str
    message_en: str

    @property
    def severity(self) -> str:
        return "warning" if self.name.startswith("warn_") else "error"


RULES: dict[str, Rule] = {}


def register(name: str, columns: tuple[str, ...], zh: str, en: str) -> str:
    RULES[name] = Rule(name, columns, zh, en)
    return name


def nonneg(nullable: bool = True):
    """A count column: whole number >= 0, NULL allowed (missing) unless told."""
    return pa.Field(nullable=nullable, ge=0)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col])


def le(df: pd.DataFrame, a: str, b: str) -> pd.Series:
    """True where ``a <= b`` or either is NULL."""
    res = _num(df, a) <= _num(df, b)
    return res.fillna(True).astype(bool)


def eq_diff(df: pd.DataFrame, result: str, a: str, b: str) -> pd.Series:
    """True where ``result == a - b`` or any operand is NULL."""
    res = _num(df, result) == (_num(df, a) - _num(df, b))
    return res.fillna(True).astype(bool)


def le_rule(a: str, b: str, zh_a: str, zh_b: str, warn: bool = False) -> str:
    name = ("warn_" if warn else "") + f"{a}_le_{b}"
    return register(
        name,
        (a, b),
        f"{zh_a}大于{zh_b}，请核对",
        f"{a} is greater than {b}; please check",
    )


def diff_rule(result: str, a: str, b: str, zh_r: str, zh_a: str, zh_b: str) -> str:
    name = f"{result}_eq_{a}_minus_{b}"
    return register(
        name,
        (result, a, b),
        f"{zh_r}应等于{zh_a}减{zh_b}，请核对",
        f"{result} must equal {a} minus {b}; please check",
    )
