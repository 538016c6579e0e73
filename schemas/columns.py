"""The one declaration of a form: columns (kind, unit, required, choices, aliases, parent
groups, valid and plausible ranges), what one row is, and its cross-column rules.

A form module (``schemas/<form>.py``) declares one ``Form`` (``docs/forms.md``): its
canonical columns as ``Col`` entries and its rules (``schemas.rules``) beside them.
Everything else is derived from it [issue 14]: the pandera schema
(``schemas.validation.pandera_schema``), the staged columns (``Form.staged_columns``),
the blank template (``pipeline.outputs.template``), the sample layout
(``devkit.sample.layout``) and the data dictionary (``pipeline.warehouse.comments``).

``aliases`` are header texts as clerks write them, *after* normalisation
(``pipeline.extract.header.normalise``): no spaces, no units in brackets, no ``其中：``
or numbering prefixes. A column under a merged parent cell (housing) is matched by
``(parent, child)`` pairs in ``parents``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schemas.rules import Rule

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

# The unit a header states when its column declares none (``Col.shown_unit``).
KIND_UNITS = {"money": "万元", "yuan": "元", "percent": "%"}

# Valid range of a column kind in the unit of the typed frame (counts; money in fen;
# percentage points): a value outside is an error (the row is quarantined). A column
# may declare its own (``Col.bounds``).
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "count": (0, None),
    "money": (0, None),
    "yuan": (0, None),
    "percent": (0, 100),
}

# The village code (村代码, the statistical division code of a village): 12 digits, the
# first 6 the county's code. The one statement of the rule: the extract
# (``pipeline.extract.sheet``), the pandera schema and the data dictionary use these.
VILLAGE_CODE_DIGITS = 12
VILLAGE_CODE_PATTERN = rf"^\d{{{VILLAGE_CODE_DIGITS}}}$"
VILLAGE_CODE_MESSAGE = (
    f"村代码应为{VILLAGE_CODE_DIGITS}位数字，请核对",
    f"a village code has {VILLAGE_CODE_DIGITS} digits",
)
# What replaces an ID number in staging: HMAC-SHA256 in lower-case hex.
ID_HASH_PATTERN = r"^[0-9a-f]{64}$"


def is_village_code(text: str) -> bool:
    """``text`` is a well-formed village code: exactly 12 digits (``VILLAGE_CODE_PATTERN``)."""
    return len(text) == VILLAGE_CODE_DIGITS and text.isdigit()


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
    default of the column's kind and the form's row unit (``PLAUSIBLE``) does not fit;
    bounds: ``(low, high)`` of a valid value in the typed frame's unit (fen for money),
    outside it an error, when the default of the kind (``BOUNDS``) does not fit;
    pattern: a regular expression a text value must match (an error otherwise).
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
    bounds: tuple[float | None, float | None] | None = None
    pattern: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]

    @property
    def shown_unit(self) -> str:
        """The unit the header states: the declared one (户, 人, 套, 万元, …), else the
        kind's (``KIND_UNITS``: 万元, 元, %), else ''."""
        return self.unit or KIND_UNITS.get(self.kind, "")

    @property
    def staged_name(self) -> str | None:
        """The staged column holding this one's value: its name; for an ID number its
        pseudonym (``head_id_number`` -> ``head_id_hash``); None for a name (dropped)."""
        if self.kind == "person_name":
            return None
        if self.kind == "id_number":
            return self.name.removesuffix("_number") + "_hash"
        return self.name

    @property
    def valid_range(self) -> tuple[float | None, float | None]:
        """``(low, high)`` of a valid value (``bounds`` or the kind's ``BOUNDS``)."""
        return self.bounds if self.bounds is not None else BOUNDS.get(self.kind, (None, None))

    @property
    def valid_pattern(self) -> str | None:
        """The pattern a staged value must match (an ID number's pseudonym: hex)."""
        return ID_HASH_PATTERN if self.kind == "id_number" else self.pattern


TOWNSHIP_ALIASES = ("乡镇", "乡镇名称", "乡(镇、街道)")


def township(*aliases: str) -> Col:
    """The required 乡（镇） column (``TOWNSHIP_ALIASES`` unless other aliases are given)."""
    return Col(
        "township",
        "text",
        "乡（镇）",
        aliases or TOWNSHIP_ALIASES,
        required=True,
        row_required=True,
    )


def village(*aliases: str) -> Col:
    """The required 行政村 column of a village form."""
    return Col("village", "text", "行政村", aliases, required=True, row_required=True)


def village_code(*aliases: str) -> Col:
    """The optional 村代码 column of a village form (``VILLAGE_CODE_PATTERN``)."""
    return Col("village_code", "code", "村代码", aliases, pattern=VILLAGE_CODE_PATTERN)


@dataclass(frozen=True, eq=False)
class Form:
    """A county report form: its code, sheet title, columns, row-level meaning and rules.

    rules: its cross-column rules (``schemas.rules.Rule``), each with its severity and
    messages; report_title and note: the title line and footnote a county's printed
    report carries (the sample generator writes them). Hashed by identity.
    """

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
    rules: tuple[Rule, ...] = ()
    report_title: str = ""  # 农村危房改造进度统计表: as on a county's printed report
    note: str = ""  # 注：… the footnote of the printed report

    def __post_init__(self) -> None:
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"{self.code}: a column is declared twice")
        for rule in self.rules:
            missing = [c for c in rule.columns if c not in names]
            if missing:
                raise ValueError(f"{self.code}: rule {rule.name} names unknown {missing}")
        rule_names = [r.name for r in self.rules]
        if len(set(rule_names)) != len(rule_names):
            raise ValueError(f"{self.code}: a rule is declared twice")

    def rule(self, name: str) -> Rule | None:
        """The cross-column rule called ``name``, or None (a column check's name)."""
        return self._rules_by_name.get(name)

    @cached_property
    def _rules_by_name(self) -> dict[str, Rule]:
        return {r.name: r for r in self.rules}

    def staged_columns(self) -> list[tuple[str, str]]:
        """``(name, duckdb_type)`` of the ``raw.<form>`` / ``staging.<form>`` data columns,
        in column order: a name is left out, an ID number becomes its pseudonym."""
        return [
            (c.staged_name, "VARCHAR" if c.kind == "id_number" else c.duckdb_type)
            for c in self.columns
            if c.staged_name is not None
        ]

    @cached_property
    def staged(self) -> dict[str, Col]:
        """Staged column name -> the column it comes from."""
        return {c.staged_name: c for c in self.columns if c.staged_name is not None}

    @property
    def units(self) -> list[str]:
        """The units of the columns in column order, once each (``%`` included)."""
        return list(dict.fromkeys(u for c in self.columns if (u := c.shown_unit)))

    @property
    def groups(self) -> list[tuple[str, list[Col]]]:
        """Columns in sheet order, grouped: ``(parent, columns)`` for a run of columns
        under one parent cell, ``("", [column])`` for a column on its own."""
        out: list[tuple[str, list[Col]]] = []
        for c in self.columns:
            parent = c.parents[0] if c.parents else ""
            if parent and out and out[-1][0] == parent:
                out[-1][1].append(c)
            else:
                out.append((parent, [c]))
        return out

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
