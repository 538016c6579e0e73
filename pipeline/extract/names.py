"""File and archive member names as a person would read them (issue 11 item 3, issue 12 item 6).

A name on a Linux file system is bytes. Python hands undecodable bytes over as lone
surrogates (``os.fsdecode``), which no UTF-8 writer accepts (DuckDB, JSON files, the
console): unpacking an archive made on Chinese Windows gives GBK names like that. Zip
archives store a name as UTF-8 only when a flag says so; otherwise in the creator's code
page (GBK on Chinese Windows), which Python decodes as cp437 (mojibake).

Rule, everywhere: the bytes are decoded as UTF-8, then as GB18030 (a superset of GBK);
bytes neither accepts are shown as ``\\xNN`` escapes (never silently dropped). The real
path is kept apart for opening the file; only the display name is stored or printed.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib

_UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8
_UNICODE_PATH_EXTRA = 0x7075  # Info-ZIP Unicode Path extra field


def decode_bytes(raw: bytes) -> str:
    """``raw`` decoded as UTF-8, else GB18030, else UTF-8 with ``\\xNN`` escapes."""
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="backslashreplace")


def display_name(name: str | bytes) -> str:
    """A file name or path as returned by the OS (``str`` possibly holding surrogate
    escapes, or ``bytes``) turned into text that any UTF-8 writer accepts."""
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    return decode_bytes(raw)


def safe_text(text: str) -> str:
    """``text`` (e.g. an error message quoting a path) with any undecodable file-name
    bytes (surrogate escapes) decoded as ``display_name`` does: writable as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return decode_bytes(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _unicode_path_extra(info: zipfile.ZipInfo, raw_name: bytes) -> str | None:
    """The UTF-8 name of Info-ZIP's Unicode Path extra field, when it matches the header
    name (its CRC-32 is of the name it replaces)."""
    extra, i = info.extra or b"", 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        i += 4 + size
        if tag != _UNICODE_PATH_EXTRA or len(body) < 5 or body[0] != 1:
            continue
        if struct.unpack_from("<I", body, 1)[0] != zlib.crc32(raw_name):
            continue
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def member_name(info: zipfile.ZipInfo) -> str:
    """The name of a zip member as its author wrote it.

    UTF-8 when the archive's flag says so (``zipfile`` has decoded it already); else
    the Unicode Path extra field when present; else the raw bytes (``zipfile`` decoded
    them as cp437, a bijection, so they are recovered exactly) as UTF-8, then GB18030.
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.filename.replace("\\", "/")  # Windows tools may use either separator
    raw = info.orig_filename.encode("cp437")
    return _unicode_path_extra(info, raw) or decode_bytes(raw).replace("\\", "/")
