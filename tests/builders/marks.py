"""Marks for parametrized families: ``make test-fast`` keeps a representative few
parameters, ``make test`` runs them all."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest


def slow_except(values: Iterable, keep: Callable[[object], bool], spread: bool = False) -> list:
    """``values`` for ``pytest.mark.parametrize``, each one ``keep`` rejects marked slow.

    ``spread``: each value is a tuple filling several argnames ("form,name,alias")."""
    out = []
    for v in values:
        if keep(v):
            out.append(v)
        else:
            args = v if spread else (v,)
            out.append(pytest.param(*args, marks=pytest.mark.slow))
    return out
