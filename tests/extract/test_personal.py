"""Personal data recognised by rule, not by a list [issue 11, item 6].

Headers are generated from a grammar (prefix × term × suffix × typography) written here,
independently of ``pipeline.extract.personal``; ID numbers are generated with their GB 11643
check character computed here (ISO 7064 MOD 11-2 from the powers of 2, not the module's
table). An ID number in any cell outside the ledger's ID column quarantines its row
with the cell named and its text withheld; no clear value is left in findings,
quarantine records or loaded rows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.extract.personal import header_kind, holds_id, redact
from schemas import FORMS
from schemas.columns import PERSONAL_KINDS
from tests.builders.mess import (
    FILE_NAME,
    KEY,
    Layout,
    extract,
    header_text,
    records,
    ref,
    write_xlsx,
)
from tests.builders.values import gb11643_check

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_PROPS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ---------------------------------------------------------------- independent ID numbers


def test_check_character_on_the_standard_example():
    # GB 11643-1999 appendix example: 11010519491231002X
    assert gb11643_check("11010519491231002") == "X"
    assert gb11643_check("44052418800101001") == "4"  # worked by hand: sum 227, 227 % 11 = 7


PROVINCES = ["11", "12", "13", "31", "32", "44", "50", "51", "52", "53", "54", "61", "65"]


@st.composite
def id18(draw) -> str:
    region = draw(st.sampled_from(PROVINCES)) + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)))
    seq = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    body = f"{region}{born:%Y%m%d}{seq}"
    return body + gb11643_check(body)


@st.composite
def id15(draw) -> str:
    region = draw(st.sampled_from(PROVINCES)) + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)))
    seq = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return f"{region}{born:%y%m%d}{seq}"


# ---------------------------------------------------------------- the header grammar

PERSON_PREFIXES = ["户主", "本人", "成员", "家庭成员", "联系人"]
ID_TERMS = ["身份证号", "身份证号码", "身份证", "公民身份号码", "公民身份证号", "证件号码",
            "证件号", "身份号码", "居民身份证号码"]  # fmt: skip
SUFFIXES = ["", "（18位）", "(18位)", "*", "：", "（必填）", "号"]
NUMBERING = ["", "1.", "（2）", "(3)", "一、", "12、"]


@st.composite
def typography(draw, text: str) -> str:
    """Spaces, full-width spaces, NBSP and line breaks between characters; half- or
    full-width brackets; numbering and ``其中：`` in front."""
    chars = []
    for ch in text:
        chars.append(ch)
        chars.append(draw(st.sampled_from(["", "", "", " ", "\u3000", "\n", "\u00a0"])))
    t = "".join(chars)
    if draw(st.booleans()):
        t = t.replace("（", "(").replace("）", ")")
    else:
        t = t.replace("(", "（").replace(")", "）")
    lead = draw(st.sampled_from(NUMBERING)) + draw(st.sampled_from(["", "其中：", "其中:"]))
    return lead + t


@st.composite
def personal_header(draw) -> tuple[str, str]:
    if draw(st.booleans()):
        prefix = draw(st.sampled_from(["", *PERSON_PREFIXES]))
        core, kind = prefix + draw(st.sampled_from(ID_TERMS)), "id_number"
    else:
        prefix = draw(st.sampled_from(PERSON_PREFIXES))
        term = draw(st.sampled_from(["姓名", "名字", "名称"]))
        if draw(st.booleans()) and term != "名称":
            prefix = ""
        core, kind = prefix + term, "person_name"
    return draw(typography(core + draw(st.sampled_from(SUFFIXES)))), kind


@PROPS
@given(personal_header())
def test_every_personal_header_of_the_grammar_is_recognised(header_and_kind):
    header, kind = header_and_kind
    assert header_kind(header) == kind, repr(header)


def standard_headers():
    """Every header a non-personal column of any form is known by, plain and as written."""
    for form in FORMS.values():
        for c in form.columns:
            if c.kind in PERSONAL_KINDS:
                continue
            for h in (c.header_zh, header_text(c), *c.aliases, *c.parents):
                yield form.code, c.name, h


@PROPS
@given(st.sampled_from(list(standard_headers())), st.data())
def test_no_standard_header_is_personal(std, data):
    _, _, header = std
    assert header_kind(data.draw(typography(header))) is None, header


def test_standard_personal_headers_have_their_kind():
    for form in FORMS.values():
        for c in form.columns:
            if c.kind in PERSONAL_KINDS:
                for h in (c.header_zh, *c.aliases):
                    assert header_kind(h) == c.kind, h


# ---------------------------------------------------------------- ID numbers in cells


@PROPS
@given(id18())
@example("110000200104309507")  # shown to 15 digits, the rounding carries into the birth date
@example("314386197807319974")  # the stored double itself carries into it (…0731 -> …0732)
def test_ids_are_recognised_in_text_and_numbers(ident):
    assert holds_id(ident) and holds_id(ident.lower())
    assert holds_id(f"备注：户主身份证{ident}已核实")
    assert holds_id(ident.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")))
    if ident[-1] != "X":
        assert holds_id(int(ident)) and holds_id(float(ident))  # Excel keeps 15 digits
    wrong = ident[:17] + ("0" if ident[17] != "0" else "1")
    assert not holds_id(wrong)  # a wrong check character is not an ID
    assert redact(f"号码{ident}。") == "号码[身份证号已隐去]。"


@PROPS
@given(id15())
def test_15_digit_ids_in_text_and_numbers(ident):
    assert holds_id(ident) and holds_id(int(ident)) and holds_id(float(ident))


@pytest.mark.parametrize(
    "value",
    ["530128101201", "12345678901234", 3106, 1e19, "1,234,567,890,123,456", "2019年12月31日",
     "990128201913320011", "000105194912310021", 123456789012345.5],
)  # fmt: skip
def test_ordinary_values_are_not_ids(value):
    assert not holds_id(value)


# ---------------------------------------------------------------- extraction


def forms_with_columns():
    """``(form, column)`` for every non-personal column of every form."""
    return [
        (f.code, c.name) for f in FORMS.values() for c in f.columns if c.kind not in PERSONAL_KINDS
    ]


def _clear_values(ident: str) -> list[str]:
    """What an ID could look like in clear: its 18 (or 15) characters, and the 14
    digits of region and birth date that survive as a number."""
    return [ident, ident[:14]]


def assert_no_clear_id(res, ident: str) -> None:
    texts = [json.dumps(f.as_dict(), ensure_ascii=False) for f in res.findings]
    for sr in res.forms.values():
        texts += [q["cells"] for q in sr.quarantine]
        texts += [sr.valid.astype(str).to_csv()]
    texts += [res.message or "", res.message_en or ""]
    blob = "\n".join(texts)
    for clear in _clear_values(ident):
        assert clear not in blob and clear.lower() not in blob


@SLOW_PROPS
@given(
    ident=st.one_of(id18(), id15()),
    where=st.sampled_from(forms_with_columns() + [("households", "备注"), ("population", "备注")]),
    shape=st.sampled_from(["text", "embedded", "number"]),
)
def test_an_id_in_any_other_cell_quarantines_its_row(tmp_path_factory, ident, where, shape):
    form, name = where
    if shape == "number" and ident.endswith("X"):
        shape = "text"
    value = int(ident) if shape == "number" else ident
    if shape == "embedded":
        value = f"户主身份证{ident}"
    lay = Layout(form)
    remarks = name == "备注"
    if remarks:  # an extra column no form knows
        lay.sheet.rows[lay.header_rows[-1] - 1].append("备注")
    recs = records(form, 3, seed=5)
    rows = [lay.add(r) for r in recs]
    target = rows[1]
    if remarks:
        col = len(lay.cols)
        lay.sheet.rows[target - 1].append(value)
    else:
        col = lay.col(name)
        lay.set(target, name, value)
    path = write_xlsx(tmp_path_factory.mktemp("id") / FILE_NAME, [lay.sheet])
    res = extract(path)
    sr = res.forms[form]
    assert target in {q["excel_row"] for q in sr.quarantine}
    assert target not in set(sr.valid["excel_row"].astype(int))
    mine = [f for f in res.findings if f.rule == "personal_data_misplaced"]
    assert [(f.excel_row, f.cell_ref, f.severity, f.cell_text) for f in mine] == [
        (target, ref(target, col), "error", None)
    ]
    assert "personal data in a column that should not hold it" in mine[0].message_en
    assert "身份证号码" in mine[0].message
    (q,) = [q for q in sr.quarantine if q["excel_row"] == target]
    assert None in json.loads(q["cells"]).values()  # the cell is kept, withheld
    assert_no_clear_id(res, ident)
    others = set(rows) - {target}
    assert others <= set(sr.valid["excel_row"].astype(int)) | {
        q["excel_row"] for q in sr.quarantine
    }


def _ledger(tmp_path, id_header: str, name_header: str, n: int = 3, bad_size: bool = False):
    lay = Layout("households")
    hdr = lay.sheet.rows[lay.header_rows[-1] - 1]
    hdr[lay.col("head_id_number")] = id_header
    hdr[lay.col("head_name")] = name_header
    recs = records("households", n, seed=9)
    rows = [lay.add(r) for r in recs]
    if bad_size:
        lay.set(rows[0], "household_size", -5)
    path = write_xlsx(tmp_path / FILE_NAME, [lay.sheet])
    return path, recs, rows


@pytest.mark.parametrize(
    "id_header,name_header",
    [("公民身份号码", "户主名称"), ("公民身份证号码（18位）", "户主名字"), ("证件号码", "户主\n姓名")],
)  # fmt: skip
def test_ledger_under_legal_headers_is_pseudonymised(tmp_path, id_header, name_header):
    from pipeline.extract.personal import pseudonym

    path, recs, rows = _ledger(tmp_path, id_header, name_header)
    res = extract(path)
    sr = res.forms["households"]
    assert not sr.quarantine and not [f for f in res.findings if f.severity == "error"]
    assert sorted(sr.valid["head_id_hash"]) == sorted(
        pseudonym(KEY, r.values["head_id_number"]) for r in recs
    )
    for r in recs:
        assert_no_clear_id(res, r.values["head_id_number"])
        assert r.values["head_name"] not in sr.valid.astype(str).to_csv()


def test_rejected_ledger_keeps_no_id_and_no_name(tmp_path):
    """The ID column under a header nobody knows ("号码"): the sheet is rejected (its ID
    column is missing), every row is quarantined, the IDs are withheld (null) and named
    cell by cell; the names (户主名字, personal by rule) are not in the records."""
    path, recs, rows = _ledger(tmp_path, "号码", "户主名字")
    res = extract(path)
    sr = res.forms["households"]
    assert sr.rejected and sorted(q["excel_row"] for q in sr.quarantine) == rows
    for q in sr.quarantine:
        cells = json.loads(q["cells"])
        assert cells["号码"] is None and "户主名字" not in cells
    named = sorted(f.excel_row for f in res.findings if f.rule == "personal_data_misplaced")
    assert named == rows
    for r in recs:
        assert_no_clear_id(res, r.values["head_id_number"])
        assert all(r.values["head_name"] not in q["cells"] for q in sr.quarantine)


def test_household_number_made_of_the_village_code_is_not_an_id(tmp_path):
    """户编号 = 村代码 + 3 digits (530128 101 201 001 reads like a 15-digit ID)."""
    lay = Layout("households")
    recs = records("households", 2, seed=4)
    rows = [lay.add(r) for r in recs]
    code = recs[0].values["village_code"]
    assert holds_id(code + "001")  # it does look like one
    lay.set(rows[0], "household_id", code + "001")
    res = extract(write_xlsx(tmp_path / FILE_NAME, [lay.sheet]))
    assert not res.forms["households"].quarantine
    assert code + "001" in set(res.forms["households"].valid["household_id"])


# ---------------------------------------------------------------- feedback workbooks


def test_feedback_is_refused_inside_the_state_or_raw_folder(tmp_path, monkeypatch):
    """Feedback workbooks keep the county's personal data: never into the state folder
    (nor the raw folder, whose workbooks the next run would read); the help says so."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    path, recs, rows = _ledger(tmp_path, "身份证号码", "户主姓名", bad_size=True)
    wh = tmp_path / "wh" / "warehouse.duckdb"
    monkeypatch.setenv("TPA_WAREHOUSE", str(wh))
    monkeypatch.setenv("TPA_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("COLUMNS", "300")
    runner = CliRunner()
    for inside in (tmp_path / "wh" / "warehouse.duckdb.d" / "fb", tmp_path / "raw" / "x"):
        out = runner.invoke(app, ["check", str(path), "--feedback", str(inside)])
        assert out.exit_code == 2, out.output
        assert not inside.exists()
    ok = runner.invoke(app, ["check", str(path), "--feedback", str(tmp_path / "fb")])
    assert ok.exit_code == 1, ok.output  # the one bad household size
    assert len(list((tmp_path / "fb").iterdir())) == 1
    help_text = " ".join(runner.invoke(app, ["check", "--help"]).output.split())
    assert "personal data" in help_text and "only to the county" in help_text
