"""Generated county workbooks with the mess of forms.md ("What real workbooks contain"),
for any of the nine forms, with the exact values the pipeline must load.

``records(form, n, seed)`` gives ``n`` seeded rows that satisfy the form's rules, as
``Rec`` (the clean sheet values by canonical column; ``expect`` gives the staged value).
``Layout`` lays one form's sheet out: title lines, cover, a one- or two-row header
(merged parents, duplicate child labels), a column-number row, data rows, blank and
hidden rows, merged or blank township cells, totals and subtotals, footer lines; it
records the Excel row of every data row. ``write_xlsx`` / ``write_xls`` write sheets
(merges, hidden rows/columns, number formats, formulas without cached values, sheet
states) with openpyxl / xlwt. ``extract`` runs the pipeline's ``extract_workbook``,
``loaded`` returns the staged values by Excel row in plain Python types.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from pipeline.extract.personal import check_char, load_key, pseudonym
from pipeline.extract.workbook import extract_workbook
from pipeline.run.discover import sha256_of
from schemas import FORMS
from schemas.columns import PERSONAL_KINDS, Col

KEY = load_key("mess-test-key")
COUNTY, COUNTY_NAME, PERIOD = "530128", "禄劝彝族苗族自治县", "2019-12"
FILE_NAME = f"{COUNTY}_{COUNTY_NAME}_{PERIOD}.xlsx"
COVER = f"填报单位：{COUNTY_NAME}（盖章）    统计截止时间：2019年12月31日    单位：户、人"
TOWNS = ["屏山街道", "转龙镇", "撒营盘镇", "团街镇", "中屏镇", "翠华镇"]
NUMERIC = ("count", "money", "yuan")

# Two-row headers: per form, parent text -> the columns grouped under it. A child label
# is the column header without the parent's text in front (期初饮水不安全 / 户数), so
# the same child label (户数, 人数) appears under several parents.
GROUPS: dict[str, list[tuple[str, list[str]]]] = {
    "population": [
        ("建档立卡", ["registered_households", "registered_persons"]),
        ("已脱贫", ["exited_households", "exited_persons"]),
        ("未脱贫", ["remaining_households", "remaining_persons"]),
    ],
    "relocation": [
        ("计划搬迁", ["planned_households", "planned_persons"]),
        ("建设进度（套）", ["planned_units", "started_units", "completed_units"]),
        ("已入住", ["moved_in_households", "moved_in_persons"]),
    ],
    "medical": [
        ("参加", ["basic_insured_persons", "serious_illness_insured_persons"]),
        ("住院费用（万元）", ["inpatient_expense", "inpatient_reimbursed"]),
    ],
    "water": [
        ("期初饮水不安全", ["unsafe_households_start", "unsafe_persons_start"]),
        ("本期已解决", ["resolved_households", "resolved_persons"]),
        ("期末饮水不安全", ["unsafe_households_end", "unsafe_persons_end"]),
    ],
    "education": [("辍学情况", ["dropouts_identified", "dropouts_returned", "dropouts_remaining"])],
    "employment": [
        ("就业情况", ["migrant_employed", "public_welfare_jobs", "ecological_rangers"]),
        ("扶贫车间", ["workshops", "workshop_employed"]),
    ],
    "infrastructure": [
        ("基础设施（是/否）", ["hardened_road", "power_grid", "optical_fiber", "broadband"]),
        ("公共服务（是/否）", ["standard_clinic", "activity_site", "service_station"]),
    ],
    "households": [
        (
            "“两不愁三保障”情况",
            [
                "food_clothing_secure",
                "education_secured",
                "medical_secured",
                "housing_secured",
                "water_secured",
            ],
        )
    ],
}


class F(str):
    """A formula (``=SUM(C5:C9)``): written as a formula without a cached value."""


@dataclass
class Rec:
    """One data row: clean values by canonical column (sheet types: bool, date, str, int,
    float in the sheet's unit)."""

    form: str
    values: dict

    def expect(self) -> dict:
        """The staged values: counts int, money/yuan in fen, dates ``date``, the ID as its
        HMAC (``head_id_hash``), the name dropped."""
        out = {}
        for c in FORMS[self.form].columns:
            v = self.values.get(c.name)
            if c.kind == "person_name":
                continue
            if c.kind == "id_number":
                out["head_id_hash"] = pseudonym(KEY, v)
            elif v is None:
                out[c.name] = None
            elif c.kind == "money":
                out[c.name] = int(Decimal(str(v)) * 1_000_000)
            elif c.kind == "yuan":
                out[c.name] = int(Decimal(str(v)) * 100)
            else:
                out[c.name] = v
        return out


def header_text(col: Col) -> str:
    if col.kind == "percent":
        return f"{col.header_zh}（%）"
    if col.kind == "money":
        return f"{col.header_zh}（万元）"
    return col.header_zh


def sheet_value(col: Col, v):
    """How a clean value is typed into the sheet."""
    if v is None:
        return None
    if col.kind == "bool":
        return "是" if v else "否"
    if col.kind == "date":
        return dt.datetime(v.year, v.month, v.day)
    return v


def id_number(rng: random.Random) -> str:
    body = f"530128{rng.randint(1950, 1999)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += f"{rng.randint(0, 999):03d}"
    return body + check_char(body)


def records(form: str, n: int = 6, seed: int = 0, towns: list[str] | None = None) -> list[Rec]:
    """``n`` seeded rows of ``form`` that pass every rule; townships cycle through
    ``towns`` in runs of two (so merged township cells have something to cover)."""
    rng = random.Random(f"{form}-{seed}")
    towns = towns or TOWNS
    out = []
    for i in range(n):
        town = towns[(i // 2) % len(towns)]
        village = f"{rng.choice('大小新老上下')}{rng.choice('河山坪箐沟')}村{i}"
        code = f"{COUNTY}{101 + i // 2:03d}{201 + i:03d}"
        v: dict = {}
        if form == "population":
            h = rng.randint(100, 500)
            p = h * 3 + rng.randint(0, 60)
            rh = rng.randint(5, h // 4)
            rp = rh * 3 + rng.randint(0, rh)
            eh = rng.randint(0, rh)
            ep = min(rp, eh * 3 + rng.randint(0, eh))
            v = dict(township=town, village=village, village_code=code,
                     is_poverty_village=bool(i % 2), total_households=h, total_population=p,
                     registered_households=rh, registered_persons=rp, exited_households=eh,
                     exited_persons=ep, remaining_households=rh - eh, remaining_persons=rp - ep,
                     poverty_incidence=round((rp - ep) / p * 100, 2))  # fmt: skip
        elif form == "relocation":
            ph = rng.randint(20, 300)
            pp = ph * 4 + rng.randint(0, 30)
            pu = ph
            su = rng.randint(0, pu)
            mode = "集中" if i % 3 else "分散"
            v = dict(site_name=f"{town}{village}安置点", township=town, resettlement_mode=mode,
                     resettlement_area=rng.choice(["城镇", "乡村"]) if mode == "集中" else None,
                     planned_households=ph, planned_persons=pp,
                     registered_persons=rng.randint(0, pp), planned_units=pu, started_units=su,
                     completed_units=rng.randint(0, su), moved_in_households=rng.randint(0, ph),
                     moved_in_persons=rng.randint(0, pp),
                     completion_date=dt.date(2019, rng.randint(1, 12), rng.randint(1, 28)))  # fmt: skip
        elif form == "housing":
            v = {"township": f"{town}{i}" if i >= len(towns) * 2 else town}
            for g in ("registered", "subsistence", "extreme_poor", "disabled", "other"):
                planned = rng.randint(0, 80)
                v[f"{g}_planned"] = planned
                v[f"{g}_completed"] = rng.randint(0, planned)
        elif form == "medical":
            reg = rng.randint(1000, 9000)
            exp = round(rng.uniform(100, 900), 2)
            v = dict(township=town, registered_persons=reg,
                     basic_insured_persons=reg - rng.randint(0, 9),
                     serious_illness_insured_persons=reg - rng.randint(0, 40),
                     medical_assistance_cases=rng.randint(0, 3000), inpatient_expense=exp,
                     inpatient_reimbursed=round(exp * rng.uniform(0.6, 0.9), 2))  # fmt: skip
        elif form == "water":
            sh, sp = rng.randint(1, 60), 0
            sp = sh * 4 + rng.randint(0, 9)
            rh, rp = rng.randint(0, sh), 0
            rp = min(sp, rh * 4)
            v = dict(township=town, village=village, unsafe_households_start=sh,
                     unsafe_persons_start=sp, resolved_households=rh, resolved_persons=rp,
                     unsafe_households_end=sh - rh, unsafe_persons_end=sp - rp)  # fmt: skip
        elif form == "education":
            ch = rng.randint(500, 3000)
            di = rng.randint(0, 20)
            dr = rng.randint(0, di)
            v = dict(township=town, compulsory_age_children=ch, dropouts_identified=di,
                     dropouts_returned=dr, dropouts_remaining=di - dr)  # fmt: skip
        elif form == "employment":
            lf = rng.randint(2000, 9000)
            v = dict(township=town, labor_force=lf, migrant_employed=rng.randint(0, lf),
                     workshops=rng.randint(0, 9), workshop_employed=rng.randint(0, 300),
                     public_welfare_jobs=rng.randint(0, 500), ecological_rangers=rng.randint(0, 200))  # fmt: skip
        elif form == "infrastructure":
            v = dict(township=town, village=village, village_code=code)
            for f in ("hardened_road", "power_grid", "optical_fiber", "broadband",
                      "standard_clinic", "activity_site", "service_station"):  # fmt: skip
                v[f] = rng.random() < 0.8
        elif form == "households":
            reg_year = rng.randint(2014, 2018)
            v = dict(household_id=f"{COUNTY}{i + 1:06d}", head_name=rng.choice("张王李赵") + "某",
                     head_id_number=id_number(rng), township=town, village=village,
                     village_code=code, household_size=rng.randint(1, 8),
                     poverty_attribute=rng.choice(["一般贫困户", "低保贫困户", "特困供养贫困户"]),
                     main_cause=rng.choice(["因病", "因残", "缺技术", "缺劳力"]),
                     registered_year=reg_year,
                     exit_year=rng.choice([None, rng.randint(reg_year, 2019)]),
                     income_per_capita=round(rng.uniform(3800, 12000), 2))  # fmt: skip
            for f in ("food_clothing_secure", "education_secured", "medical_secured",
                      "housing_secured", "water_secured"):  # fmt: skip
                v[f] = rng.random() < 0.9
        out.append(Rec(form, v))
    return out


# --------------------------------------------------------------------------- layout


@dataclass
class Sheet:
    """One worksheet to write: rows of values (None = no cell), merges (A1 ranges),
    hidden rows (1-based), hidden columns (letters), number formats by cell, state."""

    name: str
    rows: list[list] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    hidden_rows: list[int] = field(default_factory=list)
    hidden_cols: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    state: str = "visible"


def ref(row: int, col: int) -> str:
    """1-based row, 0-based column -> ``'C5'``."""
    return f"{get_column_letter(col + 1)}{row}"


class Layout:
    """Lay out one form's sheet top to bottom; ``rows_of`` maps each data record (by
    position in ``add``) to its Excel row."""

    def __init__(self, form: str, name: str | None = None, title_lines: int = 1,
                 cover: str | list | None = COVER, two_rows: bool = False,
                 colnum: str | None = None):  # fmt: skip
        self.form = FORMS[form]
        self.cols = list(self.form.columns)
        self.pos = {c.name: j for j, c in enumerate(self.cols)}
        self.sheet = Sheet(name or self.form.table_no)
        for i in range(title_lines):
            self.line([f"{self.form.table_no} {self.form.title_zh}" if i == 0 else f"（{i}）"])
        if cover is not None:
            self.line(cover if isinstance(cover, list) else [cover])
        self.header_rows = self._header(two_rows or any(c.parents for c in self.cols))
        if colnum:
            self._colnum(colnum)
        self.recs: list[Rec] = []
        self.rows_of: list[int] = []

    @property
    def next_row(self) -> int:
        return len(self.sheet.rows) + 1

    def line(self, values: list) -> int:
        self.sheet.rows.append(list(values))
        return len(self.sheet.rows)

    def col(self, name: str) -> int:
        return self.pos[name]

    def letter(self, name: str) -> str:
        return get_column_letter(self.pos[name] + 1)

    def _header(self, two: bool) -> list[int]:
        top = self.next_row
        self.written = {c.name: header_text(c) for c in self.cols}  # as the clerk sees it
        if not two:
            self.line([header_text(c) for c in self.cols])
            return [top]
        upper: list = [None] * len(self.cols)
        lower: list = [None] * len(self.cols)
        grouped = {}
        if self.form.code == "housing":
            from schemas.housing import GROUPS as HG

            for g, (parent, _) in HG.items():
                grouped[f"{g}_planned"] = (parent, "任务数")
                grouped[f"{g}_completed"] = (parent, "竣工数")
        else:
            for parent, names in GROUPS.get(self.form.code, []):
                for n in names:
                    h = header_text(self.form.col(n))
                    key = parent.split("（")[0]
                    child = h[len(key) :] if h.startswith(key) and len(h) > len(key) else h
                    grouped[n] = (parent, child)
        j = 0
        while j < len(self.cols):
            c = self.cols[j]
            if c.name not in grouped:
                upper[j] = header_text(c)
                self.sheet.merges.append(f"{ref(top, j)}:{ref(top + 1, j)}")
                j += 1
                continue
            parent = grouped[c.name][0]
            k = j
            while k < len(self.cols) and grouped.get(self.cols[k].name, (None,))[0] == parent:
                lower[k] = grouped[self.cols[k].name][1]
                self.written[self.cols[k].name] = f"{parent}/{lower[k]}"
                k += 1
            upper[j] = parent
            if k - j > 1:
                self.sheet.merges.append(f"{ref(top, j)}:{ref(top, k - 1)}")
            j = k
        self.line(upper)
        self.line(lower)
        return [top, top + 1]

    def _colnum(self, style: str) -> None:
        stems = iter("甲乙丙丁戊己庚辛壬癸")
        n = 0
        out = []
        for c in self.cols:
            if style == "jiayi" and c.kind in ("text", "code", "enum", "person_name", "id_number"):
                out.append(next(stems))
            else:
                n += 1
                out.append(n)
        self.line(out)

    def row_values(self, rec: Rec, overrides: dict | None = None) -> list:
        out = []
        for c in self.cols:
            if overrides and c.name in overrides:
                out.append(overrides[c.name])
            else:
                out.append(sheet_value(c, rec.values.get(c.name)))
        return out

    def add(self, rec: Rec, overrides: dict | None = None, hidden: bool = False) -> int:
        """A data row; ``overrides``: canonical name -> the value written instead."""
        r = self.line(self.row_values(rec, overrides))
        self.recs.append(rec)
        self.rows_of.append(r)
        if hidden:
            self.sheet.hidden_rows.append(r)
        return r

    def blank(self) -> int:
        return self.line([])

    def total(self, label: str, recs: list[Rec], *, at: str | None = None,
              wrong: dict | None = None, formulas: bool = False,
              extra_labels: dict | None = None) -> int:  # fmt: skip
        """A total row labelled ``label`` in the first label column: exact sums of the
        numeric columns of ``recs`` (``wrong``: name -> delta added); ``formulas``:
        ``=SUM(...)`` over the rows of ``recs`` instead of numbers."""
        at = at or self.form.label_columns[0]
        vals: list = [None] * len(self.cols)
        vals[self.col(at)] = label
        for k, v in (extra_labels or {}).items():
            vals[self.col(k)] = v
        rows = [self.rows_of[self.recs.index(r)] for r in recs] if formulas else []
        for j, c in enumerate(self.cols):
            if c.kind not in ("count", "money"):
                continue
            if formulas:
                letter = get_column_letter(j + 1)
                vals[j] = F("=" + "+".join(f"{letter}{r}" for r in rows) if rows else "=0")
                continue
            total = sum(
                Decimal(str(r.values[c.name])) for r in recs if r.values.get(c.name) is not None
            )
            total += Decimal(str((wrong or {}).get(c.name, 0)))
            vals[j] = int(total) if c.kind == "count" else float(total)
        return self.line(vals)

    def footer(self) -> None:
        self.line(["注：本表数据截至统计截止时间。"])
        self.line(["填表人：李某某    审核人：王某某    联系电话：0871-8891234"])

    def merge_townships(self, first: int, last: int) -> None:
        """Merge the township cells of Excel rows ``first``..``last`` (the value stays in
        the first, the others are emptied)."""
        j = self.col("township")
        for r in range(first + 1, last + 1):
            row = self.sheet.rows[r - 1]
            row[j] = None
        self.sheet.merges.append(f"{ref(first, j)}:{ref(last, j)}")

    def set(self, excel_row: int, name: str, value, fmt: str | None = None) -> None:
        self.sheet.rows[excel_row - 1][self.col(name)] = value
        if fmt:
            self.sheet.formats[ref(excel_row, self.col(name))] = fmt


# --------------------------------------------------------------------------- writers


def write_xlsx(path: Path, sheets: list[Sheet]) -> Path:
    """Write ``sheets`` with openpyxl (inline strings, formulas without cached values)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        ws = wb.create_sheet(spec.name)
        for r, row in enumerate(spec.rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is None:
                    continue
                cell = ws.cell(row=r, column=c, value=v)
                if isinstance(v, str) and v.startswith("=") and not isinstance(v, F):
                    cell.data_type = "s"  # clerk text, not a formula
        for m in spec.merges:
            ws.merge_cells(m)
        for r in spec.hidden_rows:
            ws.row_dimensions[r].hidden = True
        for letter in spec.hidden_cols:
            ws.column_dimensions[letter].hidden = True
        for cref, fmt in spec.formats.items():
            ws[cref].number_format = fmt
        ws.sheet_state = spec.state
    wb.properties.created = wb.properties.modified = dt.datetime(2020, 1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_xls(path: Path, sheets: list[Sheet]) -> Path:
    """Write ``sheets`` as a real BIFF8 ``.xls`` with xlwt (merges, hidden rows and
    columns, number formats, sheet states; formulas get no cached value)."""
    import xlwt
    from openpyxl.utils.cell import column_index_from_string, range_boundaries

    wb = xlwt.Workbook(encoding="utf-8")
    styles: dict[str, object] = {}

    def style(fmt):
        if fmt not in styles:
            styles[fmt] = xlwt.easyxf(num_format_str=fmt)
        return styles[fmt]

    for spec in sheets:
        ws = wb.add_sheet(spec.name, cell_overwrite_ok=True)
        merged = {}
        for m in spec.merges:
            c0, r0, c1, r1 = range_boundaries(m)
            merged[(r0 - 1, c0 - 1)] = (r1 - 1, c1 - 1)
        inside = {
            (r, c)
            for (r0, c0), (r1, c1) in merged.items()
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
            if (r, c) != (r0, c0)
        }
        for r, row in enumerate(spec.rows):
            for c, v in enumerate(row):
                if (r, c) in inside:
                    continue
                fmt = spec.formats.get(ref(r + 1, c))
                if isinstance(v, dt.datetime | dt.date):
                    fmt = fmt or "yyyy-mm-dd"
                if isinstance(v, F):
                    v = xlwt.Formula(v[1:])
                if (r, c) in merged:
                    r1, c1 = merged[(r, c)]
                    ws.write_merge(r, r1, c, c1, "" if v is None else v, style(fmt or "General"))
                elif v is not None:
                    ws.write(r, c, v, style(fmt) if fmt else xlwt.Style.default_style)
        for r in spec.hidden_rows:
            ws.row(r - 1).hidden = True
        for letter in spec.hidden_cols:
            ws.col(column_index_from_string(letter) - 1).hidden = True
        ws.visibility = {"visible": 0, "hidden": 1, "veryHidden": 2}[spec.state]
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


# --------------------------------------------------------------------------- running


def extract(path: Path, **limits):
    """``extract_workbook`` with generous limits (override with ``max_bytes`` …)."""
    kw = dict(max_bytes=2**28, max_unzipped=2**30, id_key=KEY)
    kw.update(limits)
    return extract_workbook(path, sha256_of(path), **kw)


def plain(v):
    if v is None:
        return None
    s = str(v)
    if s in ("<NA>", "NaT", "nan"):
        return None
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime().date()
    if isinstance(v, dt.datetime):
        return v.date()
    if hasattr(v, "item"):
        return v.item()
    return v


def loaded(res, form: str) -> dict[int, dict]:
    """Staged rows of ``form`` by Excel row, values in plain Python types."""
    sr = res.forms[form]
    out = {}
    for rec in sr.valid.astype(object).to_dict("records"):
        row = int(rec.pop("excel_row"))
        rec.pop("sheet")
        out[row] = {k: plain(v) for k, v in rec.items()}
    return out


def expected(layout: Layout) -> dict[int, dict]:
    return {r: rec.expect() for r, rec in zip(layout.rows_of, layout.recs, strict=True)}


def errors(res, rule: str | None = None) -> list:
    return [f for f in res.findings if f.severity == "error" and (rule is None or f.rule == rule)]


def warnings(res, rule: str | None = None) -> list:
    return [f for f in res.findings if f.severity == "warning" and (rule is None or f.rule == rule)]


PERSONAL = {c.name for f in FORMS.values() for c in f.columns if c.kind in PERSONAL_KINDS}


def derive(rec: Rec) -> Rec:
    """Recompute the columns other columns define (remaining = registered − exited, end =
    start − resolved, the poverty incidence) after a value was changed."""
    v = rec.values
    if rec.form == "population":
        v["remaining_households"] = v["registered_households"] - v["exited_households"]
        v["remaining_persons"] = v["registered_persons"] - v["exited_persons"]
        v["poverty_incidence"] = round(v["remaining_persons"] / v["total_population"] * 100, 2)
    elif rec.form == "water":
        v["unsafe_households_end"] = v["unsafe_households_start"] - v["resolved_households"]
        v["unsafe_persons_end"] = v["unsafe_persons_start"] - v["resolved_persons"]
    elif rec.form == "education":
        v["dropouts_remaining"] = v["dropouts_identified"] - v["dropouts_returned"]
    return rec


# A count each form can make large (>= 1,000) or zero without breaking a rule (derive()
# fixes the columns defined from it); None: the form has no such count.
BIG = {
    "population": "total_households",
    "relocation": "planned_persons",
    "housing": "other_planned",
    "medical": "medical_assistance_cases",
    "water": "unsafe_households_start",
    "education": "compulsory_age_children",
    "employment": "labor_force",
    "infrastructure": None,
    "households": None,
}
ZERO = {
    "population": "exited_households",
    "relocation": "completed_units",
    "housing": "other_completed",
    "medical": "medical_assistance_cases",
    "water": "resolved_households",
    "education": "dropouts_returned",
    "employment": "workshops",
    "infrastructure": None,
    "households": None,
}


def to_shared_strings(path: Path) -> Path:
    """Rewrite an openpyxl workbook (inline strings) in Excel's shape: every string cell
    refers to ``xl/sharedStrings.xml`` (stack-facts.md: test both shapes)."""
    import re
    import zipfile

    cell = re.compile(
        r'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>', re.S
    )
    strings: dict[str, int] = {}

    def sub(m):
        idx = strings.setdefault(m.group(3), len(strings))
        return f'<c {m.group(1)}t="s"{m.group(2)}><v>{idx}</v></c>'

    tmp = path.with_suffix(".shared.tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = {i.filename: zin.read(i.filename) for i in zin.infolist()}
        for name, data in parts.items():
            if name.startswith("xl/worksheets/sheet"):
                data = cell.sub(sub, data.decode("utf-8")).encode("utf-8")
            elif name == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSharedStrings" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    b"</Relationships>",
                )
            zout.writestr(name, data)
        sst = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in strings)
        zout.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>',
        )
    tmp.replace(path)
    return path


def patch_parts(path: Path, old: str, new: str, prefix: str = "xl/") -> Path:
    """Replace ``old`` by ``new`` in every XML part under ``prefix`` (what openpyxl will
    not write, e.g. a cell of more than 32,767 characters: it cuts them)."""
    import zipfile

    tmp = path.with_suffix(".patch.tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith(prefix) and item.filename.endswith(".xml"):
                data = data.replace(old.encode("utf-8"), new.encode("utf-8"))
            zout.writestr(item, data)
    tmp.replace(path)
    return path


def build_one(path: Path, res, wh: Path) -> Path:
    """Build the warehouse ``wh`` from one extracted workbook at ``path`` (its extract
    result ``res``), received 2020-01-06, with ``pipeline.warehouse.build.build``."""
    from pipeline.run.discover import Discovered
    from pipeline.run.submission import Submission
    from pipeline.warehouse.build import build

    d = Discovered(path, path.name, path.name, path.stat().st_size, dt.datetime(2020, 1, 6),
                   sha256_of(path))  # fmt: skip
    build([Submission(d, result=res)], wh)
    return wh
