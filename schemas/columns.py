"""Column specifications shared by every form: kinds, DuckDB types, header aliases.

A form module (``schemas/<form>.py``) lists its canonical columns (``forms.md``) as
``Col`` entries, and says what one of its rows is (``Form.row_unit``). ``aliases`` are header texts as clerks write them, *after*
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

# Storable range of each numeric staging type, in the unit the extract keeps (counts;
# money in fen; percentage points): a value outside it is an error at the cell, so
# nothing reaches DuckDB that its type cannot hold [issue 11].
BIGINT_MAX = 2**63 - 1
# A count is stored as BIGINT but accepted only up to 15 digits: Excel keeps 15
# significant digits (a longer number has lost its last ones), and the models add a
# row's counts together (BIGINT + BIGINT overflows near 2**63) [issue 11].
COUNT_MAX = 10**15 - 1
FEN_MAX = 10**18 - 1  # DECIMAL(18,2) holds at most 9,999,999,999,999,999.99 yuan
DATE_MIN_YEAR, DATE_MAX_YEAR = 1900, 2100  # dates and years outside are errors

ROW_UNITS = ("village", "township", "site", "household")

# Plausible range per column kind and what one row of the form is (``Form.row_unit``),
# in the staged unit: counts, yuan (not fen), percentage points, years (a date: its
# year). A value outside is a warning at the cell; a column may declare its own
# (``Col.plausible``) and ``TPA_COLUMN_LIMITS`` overrides either [issue 11].
PLAUSIBLE: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("count", "village"): (0, 100_000),
    ("count", "site"): (0, 100_000),
    ("count", "township"): (0, 1_000_000),
    ("count", "household"): (0, 100),
    ("money", "village"): (0, 1e9),
    ("money", "site"): (0, 1e10),
    ("money", "township"): (0, 1e10),
    ("money", "household"): (0, 1e7),
    ("yuan", "village"): (0, 1e9),
    ("yuan", "site"): (0, 1e10),
    ("yuan", "township"): (0, 1e10),
    ("yuan", "household"): (0, 1e6),  # per capita income of a registered household
    **{("percent", u): (0, 100) for u in ROW_UNITS},
    **{("year", u): (2000, 2030) for u in ROW_UNITS},
    **{("date", u): (2000, 2030) for u in ROW_UNITS},
}


@dataclass(frozen=True)
class Col:
    """One canonical column of a form.

    name: canonical snake_case name (forms.md); kind: a key of ``DUCKDB_TYPES``;
    header_zh: the header as the template writes it; aliases: other normalised
    header texts; parents: for grouped columns, the accepted parent texts (the
    child must then match ``header_zh`` or an alias); required: the sheet is
    rejected when the column is missing; row_required: a data row without a value
    is quarantined; choices: accepted values of an ``enum`` column; plausible:
    ``(low, high)`` in the staged unit (yuan for money, years for a date) when the
    default of the column's kind and the form's row unit (``PLAUSIBLE``) does not fit.
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
    plausible: tuple[float | None, float | None] | None = None

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
    row_unit: str = "township"  # what one data row is: one of ROW_UNITS [issue 11]
    # headers of columns that hold no data (issue 12): counted, never warned about
    not_data: tuple[str, ...] = ("序号", "序", "编号", "备注", "说明", "备考")

    def plausible(self, col: Col) -> tuple[float | None, float | None] | None:
        """The declared plausible range of ``col`` (see ``PLAUSIBLE``), or None."""
        if col.plausible is not None:
            return col.plausible
        return PLAUSIBLE.get((col.kind, self.row_unit))

    def col(self, name: str) -> Col:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]
