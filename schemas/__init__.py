"""One pandera module per county report form (``forms.md``), each with its header aliases.

``FORMS`` maps the form code to its ``Form`` spec; ``SCHEMAS`` to its DataFrameModel.
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
from schemas.columns import PERSONAL_KINDS, Col, Form

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
SCHEMAS = {
    "population": population.PopulationSchema,
    "relocation": relocation.RelocationSchema,
    "housing": housing.HousingSchema,
    "medical": medical.MedicalSchema,
    "water": water.WaterSchema,
    "education": education.EducationSchema,
    "employment": employment.EmploymentSchema,
    "infrastructure": infrastructure.InfrastructureSchema,
    "households": households.HouseholdsSchema,
}


def staged_columns(form: str) -> list[tuple[str, str]]:
    """``(name, duckdb_type)`` of the ``raw.<form>`` / ``staging.<form>`` data columns.

    Personal columns are left out; the ledger gets ``head_id_hash`` instead.
    """
    out: list[tuple[str, str]] = []
    for c in FORMS[form].columns:
        if c.kind in PERSONAL_KINDS:
            if c.kind == "id_number":
                out.append(("head_id_hash", "VARCHAR"))
            continue
        out.append((c.name, c.duckdb_type))
    return out


__all__ = ["FORMS", "SCHEMAS", "Col", "Form", "staged_columns"]
