"""Cross-column rules of a form, declared beside its columns (``Form.rules``) [issue 14].

A rule is a test over the typed frame returning a boolean Series (True = the row
passes; a row with a NULL operand passes: rules that need a missing value are not
evaluated, ``docs/forms.md``), the columns it involves (so a finding names every
cell), its severity (an ``error`` quarantines the row, a ``warning`` keeps and flags
it) and its messages in Chinese and English. The pandera schema runs each rule as a
dataframe check named after it (``schemas.validation``); the name is the ``rule`` of
the finding. The two common shapes are one line each::

    le("started_units", "planned_units", "已开工套数", "计划建设套数"),
    difference("dropouts_remaining", "dropouts_identified", "dropouts_returned",
               "未劝返数", "辍学学生数", "已劝返复学数"),
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

SEVERITIES = ("error", "warning")

Test = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Rule:
    """A cross-column rule: its name (the finding's ``rule``), the columns it names,
    its messages (zh, en), its test (typed frame -> bool Series) and severity."""

    name: str
    columns: tuple[str, ...]
    message_zh: str
    message_en: str
    test: Test
    severity: str = "error"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name}: severity {self.severity!r}")


def num(df: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as numbers (nullable: NULL stays missing)."""
    return pd.to_numeric(df[col])


@dataclass(frozen=True)
class at_most:  # noqa: N801 - read as a function: at_most("a", "b")
    """The test ``a <= b``; a row where either is NULL passes. (A class, not a closure,
    so that a ``Form`` pickles into worker processes.)"""

    a: str
    b: str

    def __call__(self, df: pd.DataFrame) -> pd.Series:
        return (num(df, self.a) <= num(df, self.b)).fillna(True).astype(bool)


@dataclass(frozen=True)
class equals_difference:  # noqa: N801 - read as a function
    """The test ``result == a - b``; a row where any operand is NULL passes."""

    result: str
    a: str
    b: str

    def __call__(self, df: pd.DataFrame) -> pd.Series:
        diff = num(df, self.a) - num(df, self.b)
        return (num(df, self.result) == diff).fillna(True).astype(bool)


def le(a: str, b: str, zh_a: str, zh_b: str, warn: bool = False) -> Rule:
    """``a <= b`` (``a_le_b``; a warning ``warn_a_le_b``): "<zh_a>大于<zh_b>，请核对"."""
    return Rule(
        ("warn_" if warn else "") + f"{a}_le_{b}",
        (a, b),
        f"{zh_a}大于{zh_b}，请核对",
        f"{a} is greater than {b}; please check",
        at_most(a, b),
        "warning" if warn else "error",
    )


def difference(result: str, a: str, b: str, zh_r: str, zh_a: str, zh_b: str) -> Rule:
    """``result = a - b`` (``result_eq_a_minus_b``), an error."""
    return Rule(
        f"{result}_eq_{a}_minus_{b}",
        (result, a, b),
        f"{zh_r}应等于{zh_a}减{zh_b}，请核对",
        f"{result} must equal {a} minus {b}; please check",
        equals_difference(result, a, b),
    )
