"""Personal data: recognised by rule, ID numbers validated and replaced by a keyed hash.

One rule in one place [issue 11]: ``header_kind`` says whether a column header (after
the header normaliser of ``pipeline.extract.header``) is a person's name or an ID
number; ``holds_id`` whether a cell (text or number) holds a resident ID number;
``redact`` hides every ID number in a text. A cell under a personal header is never
stored in clear (the ledger's ID is pseudonymised, names are dropped); an ID number
anywhere else makes its row quarantined with the cell named and its text withheld.

An ID number (GB 11643-1999) has 17 digits and a check character computed by
ISO 7064 MOD 11-2; lowercase ``x`` is accepted and upper-cased. It is replaced by
HMAC-SHA256(key, normalised ID) in hex, so the same person gets the same pseudonym
across counties and runs with the same key and nobody can reverse it without the
key. The key comes from ``TPA_ID_KEY`` or a key file outside the warehouse, created
with owner-only permissions on first use; it is never committed.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import os
import re
import secrets
import sys
import unicodedata
from decimal import Decimal
from functools import lru_cache
from operator import mul
from pathlib import Path

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_ID = re.compile(r"^\d{17}[\dX]$")
DEFAULT_KEY_FILE = Path.home() / ".config" / "tpa" / "id_key"


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) != 17:
        raise ValueError("17 digits expected")
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def normalise_id(text: str) -> str | None:
    """The 18-character ID upper-cased, or None when its form or check digit is wrong."""
    t = text.strip().upper()
    if not _ID.match(t) or check_char(t[:17]) != t[17]:
        return None
    return t


def load_key(key: str | None = None, key_file: Path | None = None) -> bytes:
    """The HMAC key: ``key`` (from TPA_ID_KEY) if given, else the key file, created
    0600 with 32 random bytes on first use (its folder 0700). Creating it says so in one
    line on stderr, with where it is: losing it breaks the link between periods."""
    if key:
        return key.encode("utf-8")
    path = Path(key_file) if key_file else DEFAULT_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        print(
            f"tpa: created the ID key file {path} (owner-only); back it up: losing it "
            "breaks the link between periods (the same person gets another pseudonym)",
            file=sys.stderr,
        )
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pseudonym(key: bytes, id_number: str) -> str:
    """HMAC-SHA256 of the normalised ID number, hex (64 characters)."""
    return hmac.digest(key, id_number.encode("ascii"), "sha256").hex()


# --------------------------------------------------------------------------- headers

# A person term anywhere in a header; 名称 only right after a word for a person
# (户主名称, 成员名称; 乡镇名称 and 安置点名称 are not people); a header that is only such
# a word (户主, 联系人) names a person too.
_PERSON_WORDS = (
    "户主", "本人", "家庭成员", "成员", "联系人", "申请人", "负责人", "监护人", "配偶",
    "填表人", "填报人", "审核人", "经办人", "帮扶人", "帮扶责任人",
)  # fmt: skip
_NAME_TERMS = ("姓名", "名字")
_NAME_AFTER_PERSON = re.compile("(?:" + "|".join(_PERSON_WORDS) + ")(?:的)?名称")
_PERSON_ALONE = re.compile("(?:" + "|".join(_PERSON_WORDS) + ")(?:人)?")
_ID_TERMS = (
    "身份证", "身份号码", "身份号", "证件号", "证件号码", "公民身份", "居民身份", "证件编号",
    "身份编号",
)  # fmt: skip


@lru_cache(maxsize=1 << 12)
def header_kind(text: object) -> str | None:
    """``'id_number'``, ``'person_name'`` or None for a column header as the clerk wrote it.

    The header is normalised first (``pipeline.extract.header.normalise``: full-width
    brackets, spaces, line breaks, units, ``其中：`` and numbering dropped). ID terms
    (身份证, 身份号码, 证件号, 公民身份 …) win over name terms (姓名, 名字, or 名称 right
    after 户主/本人/成员/联系人 …; or the person word alone, e.g. 户主)."""
    from pipeline.extract.header import normalise  # header.py asks this module back

    t = normalise(text)
    if not t:
        return None
    if any(term in t for term in _ID_TERMS):
        return "id_number"
    if any(term in t for term in _NAME_TERMS) or _NAME_AFTER_PERSON.search(t):
        return "person_name"
    if _PERSON_ALONE.fullmatch(t.strip("()（）:：")):
        return "person_name"
    return None


# --------------------------------------------------------------------------- ID numbers in cells

_ID_IN_TEXT = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])", re.ASCII)
_MIN_BIRTH = dt.date(1900, 1, 1)


def _real_date(yyyy: str, mm: str, dd: str) -> bool:
    try:
        d = dt.date(int(yyyy), int(mm), int(dd))
    except ValueError:
        return False
    return _MIN_BIRTH <= d <= dt.date.today()


def _region(six: str) -> bool:
    """A plausible GB/T 2260 region: province 11..82 (no leading 0 or 9)."""
    return "11" <= six[:2] <= "82"


def is_id_number(digits: str) -> bool:
    """``digits`` (already a bare token) is a resident ID number: 18 characters (region,
    birth date 1900..today, 3 digits, GB 11643 check character) or 15 digits (region,
    YYMMDD of 19YY, 3 digits)."""
    if len(digits) == 18:
        t = digits.upper()
        return (
            t[:17].isdigit()
            and _region(t)
            and _real_date(t[6:10], t[10:12], t[12:14])
            and check_char(t[:17]) == t[17]
        )
    if len(digits) == 15 and digits.isdigit():
        return _region(digits) and _real_date("19" + digits[6:8], digits[8:10], digits[10:12])
    return False


def _lost_digits_id(x: int) -> bool:
    """A number of 18 digits (Excel kept 15): its first 14 still show region and birth
    date, or did before the rounding of the lost digits carried one into them
    (``…19780731|9974`` is stored as ``…197807320000``)."""
    digits = str(x)
    if len(digits) != 18:
        return False
    head = int(digits[:14])
    return any(
        _region(h) and _real_date(h[6:10], h[10:12], h[12:14]) for h in (str(head), str(head - 1))
    )


def holds_id(value: object) -> bool:
    """True when a cell value holds a resident ID number: text containing one (full-width
    digits too), or a whole number of 15 digits, or of 18 digits whose region and birth
    date survive Excel's 15 significant digits (a carry from the lost digits included)."""
    if isinstance(value, str):
        if len(value) < 15:
            return False
        t = value if value.isascii() else unicodedata.normalize("NFKC", value)
        return any(is_id_number(m.group()) for m in _ID_IN_TEXT.finditer(t))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return False
    if not 1e14 <= value < 1e18:
        return False
    if isinstance(value, float):  # the 15 significant digits Excel keeps, not binary noise
        value = int(Decimal(format(value, ".15g")))
    return is_id_number(str(value)) or _lost_digits_id(value)


REDACTED = "[身份证号已隐去]"


def redact(text: str | None) -> str | None:
    """``text`` with every resident ID number in it replaced by ``[身份证号已隐去]``."""
    if not text or len(text) < 15:
        return text
    t = text if text.isascii() else unicodedata.normalize("NFKC", text)
    if not any(is_id_number(m.group()) for m in _ID_IN_TEXT.finditer(t)):
        return text
    return _ID_IN_TEXT.sub(lambda m: REDACTED if is_id_number(m.group()) else m.group(), t)


def id_key(settings) -> bytes:
    """The HMAC key of ``settings`` (``TPA_ID_KEY`` or the key file, created if missing)."""
    return load_key(settings.id_key_text, settings.id_key_file)
