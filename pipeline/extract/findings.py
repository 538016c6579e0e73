"""Findings: one problem in one place of a county workbook, told so a clerk can act.

Every finding names the file, sheet, Excel row and cell (``表3!F12``), the header as
the clerk wrote it and the original text (never for personal data), and says what
to do — in Chinese, with English beside it. A resident ID number in any of these texts
is replaced by ``[身份证号已隐去]`` (``pipeline.extract.personal.redact``) [issue 11]. ``severity`` is ``error`` (row
quarantined, sheet or file rejected) or ``warning`` (row kept, flagged).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.extract.personal import redact

FINDING_COLUMNS = [
    "file_sha256", "file_name", "form", "sheet", "excel_row", "cell_ref", "column_header",
    "cell_text", "rule", "severity", "message", "message_en",
]  # fmt: skip


@dataclass
class Finding:
    file_sha256: str
    file_name: str
    form: str | None
    sheet: str | None
    excel_row: int | None
    cell_ref: str | None  # 'F12' or 'F12,G12'; None for a whole sheet or file
    column_header: str | None
    cell_text: str | None  # None for personal data
    rule: str
    severity: str  # error | warning
    message: str  # Chinese
    message_en: str

    def __post_init__(self) -> None:
        # an ID number never leaves in clear, whatever text it hides in [issue 11]
        self.cell_text = redact(self.cell_text)
        self.column_header = redact(self.column_header)
        self.message = redact(self.message) or ""
        self.message_en = redact(self.message_en) or ""

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self, lang: str = "zh") -> str:
        return self.message if lang == "zh" else self.message_en


def display_text(value: object) -> str:
    """A cell value as the clerk sees it: whole floats without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def compose(
    file_name: str,
    sheet: str | None,
    cell_ref: str | None,
    header: str | None,
    text: str | None,
    what_zh: str,
    what_en: str,
) -> tuple[str, str]:
    """Build the (zh, en) message: where, which header, the original text, what to do."""
    where = file_name
    if sheet:
        where += f" {sheet}" + (f"!{cell_ref}" if cell_ref else "")
    zh = where
    en = where
    if header:
        zh += f"「{header}」"
        en += f' "{header}"'
    if text is not None:
        zh += f"原文“{text}”"
        en += f" original text '{text}'"
    return redact(f"{zh}：{what_zh}") or "", redact(f"{en}: {what_en}") or ""
