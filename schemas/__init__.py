"""The county report forms (``docs/forms.md``): one module per form, each declaring its
``Form`` once — columns, header aliases, cross-column rules [issue 14].

``FORMS`` maps the form code to its ``Form``; ``SCHEMAS`` to the pandera schema built
from it (``schemas.validation.pandera_schema``). Adding a form: a module here with its
``FORM``, listed in ``_MODULES``.
"""

from __future__ import annotations

from schemas import (
    education,
    employment,
    households,
    housing,
    infrastructure,
    medical,
    population,
    relocation,
    water,
)
from schemas.columns import Col, Form
from schemas.validation import pandera_schema

_MODULES = (
    population,
    relocation,
    housing,
    medical,
    water,
    education,
    employment,
    infrastructure,
    households,
)

FORMS: dict[str, Form] = {m.FORM.code: m.FORM for m in _MODULES}
SCHEMAS = {code: pandera_schema(form) for code, form in FORMS.items()}


def staged_columns(form: str) -> list[tuple[str, str]]:
    """``(name, duckdb_type)`` of the ``raw.<form>`` / ``staging.<form>`` data columns
    (``Form.staged_columns``): personal names left out, ``head_id_hash`` for the ID."""
    return FORMS[form].staged_columns()


__all__ = ["FORMS", "SCHEMAS", "Col", "Form", "staged_columns"]
