"""Personal data: resident ID numbers validated and replaced by a keyed hash.

An ID number (GB 11643-1999) has 17 digits and a check character computed by
ISO 7064 MOD 11-2; lowercase ``x`` is accepted and upper-cased. It is replaced by
HMAC-SHA256(key, normalised ID) in hex, so the same person gets the same pseudonym
across counties and runs with the same key and nobody can reverse it without the
key. The key comes from ``TPA_ID_KEY`` or a key file outside the warehouse, created
with owner-only permissions on first use; it is never committed.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import sys
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
