"""Column specifications shared by every form: kinds, DuckDB types, header aliases.

A form module (``schemas/<form>.py``) lists its canonical columns (``forms.md``) as
``Col`` entries. ``aliases`` are header texts as clerks write them, *after*
normalisation (``pipeline.extract.header.normalise``): no spaces, no units in
brackets, no ``其中：`` or numbering prefixes. A column under a merged parent cell
(housing) is matched by ``(parent, child)`` pairs in ``parents``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# kind -> DuckDB type of the staged value
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "code": "VARCHAR",  # digits kept as text (village codes, household ids)
    "count": "BIGINT",  # whole number >= 0; NULL = missing
    "money": "DECIMAL(18,2)",  # yuan, exact to the fen (sheet: 万元)
    "yuan": "DECIMAL(18,2)",  # already yuan on the sheet
    "percent": "DOUBLE",  # percentage points as written on the sheet
    "bool": "BOOLEAN",
    "date": "DATE",
    "year": "INTEGER",
    "enum": "VARCHAR",
    "id_number": "VARCHAR",  # personal: replaced by an HMAC before staging
    "person_name": "VARCHAR",  # personal: dropped before staging
}

PERSONAL_KINDS = {"id_number", "person_name"}


@dataclass(frozen=True)
class Col:
    """One canonical column of a form.

    name: canonical snake_case name (forms.md); kind: a key of ``DUCKDB_TYPES``;
    header_zh: the header as the template writes it; aliases: other normalised
    header texts; parents: for grouped columns, the accepted parent texts (the
    child must then match ``header_zh`` or an alias); required: the sheet is
    rejected when the column is missing; row_required: a data row without a value
    is quarantined; choices: accepted values of an ``enum`` column.
    """

    name: str
    kind: str
    header_zh: str
    aliases: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    required: bool = False
    row_required: bool = False
    choices: tuple[str, ...] = ()
    unit: str = ""

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]


@dataclass(frozen=True)
class Form:
    """A county report form: its code, sheet title, columns and row-level meaning."""

    code: str  # population, relocation, ...
    table_no: str  # 表1 ...
    title_zh: str
    columns: tuple[Col, ...]
    label_columns: tuple[str, ...] = ("township",)  # where 合计/小计 labels appear
    grain: str = ""
    extra: dict = field(default_factory=dict)
    # headers of columns that hold no data (issue 12): counted, never warned about
    not_data: tuple[str, ...] = ("序号", "序", "编号", "备注", "说明", "备考")

    def col(self, name: str) -> Col:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]
