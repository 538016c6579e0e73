"""Parse one workbook into its extract folder: what a contained child
(``pipeline.run.contain``) runs for each submission, and ``tpa check`` for one file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.config import Settings
from pipeline.extract.names import display_name
from pipeline.extract.personal import id_key
from pipeline.extract.workbook import ExtractResult, extract_workbook
from pipeline.run import cache, timing
from pipeline.run.discover import sha256_of


class FileChanged(OSError):
    """The workbook's bytes changed between discovery and parsing (still being copied?)."""


def extract_result(
    path: str,
    sha256: str,
    settings: Settings,
    key: bytes | None = None,
    member: str | None = None,
) -> tuple[ExtractResult, str]:
    """``extract_workbook`` of ``path`` (or of the zip member ``member`` of it, read in
    place) with the limits of ``settings`` (not contained: call it through
    ``pipeline.run.contain``); return it with the SHA-256 of the bytes it read now."""
    data, name = _member_bytes(path, member, settings) if member else (None, None)
    result = extract_workbook(
        Path(path),
        sha256,
        max_bytes=settings.max_file_bytes,
        max_unzipped=settings.max_unzipped_bytes,
        id_key=key if key is not None else id_key(settings),
        max_cells=settings.max_cells,
        max_chars=settings.max_expanded_chars,
        column_limits=settings.column_limits,
        data=data,
        name=name,
    )
    return result, hashlib.sha256(data).hexdigest() if member else sha256_of(Path(path))


def extract_one(
    path: str,
    sha256: str,
    folder: str,
    settings: Settings,
    key: bytes | None = None,
    member: str | None = None,
) -> tuple[str, bool]:
    """Extract one workbook into ``folder`` unless it holds a complete extract already;
    return (folder, was_parsed). ``member``: the workbook is that member of the zip at
    ``path`` (``Discovered.member``), read in place.

    The file is hashed again after parsing: if its bytes are no longer ``sha256`` the
    result is not cached and ``FileChanged`` (an OSError, retried by the flow) is raised.

    Raises:
        OSError: the file could not be read (transient I/O, vanished, changed).
    """
    out = Path(folder)
    if cache.is_cached(out):
        return str(out), False
    result, now = extract_result(path, sha256, settings, key, member)
    if now != sha256:
        raise FileChanged(
            f"{display_name(path)} changed while it was read (sha256 {sha256[:12]} -> {now[:12]})"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with timing.stage("cache", rows=result.rows_read):
        saved = cache.save(result, out.parent, out.name)
    timing.flush_part()
    return str(saved), True


def _member_bytes(path: str, member: str, settings: Settings) -> tuple[bytes, str]:
    """The bytes and display name of a zip member; a changed archive is ``FileChanged``."""
    import zipfile

    from pipeline.extract.names import member_name
    from pipeline.run.discover import read_member

    try:
        data = read_member(Path(path), member, settings.max_file_bytes)
        with zipfile.ZipFile(path) as zf:
            name = member_name(zf.getinfo(member))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise FileChanged(f"{path} changed while it was read ({exc})") from exc
    return data, name.rsplit("/", 1)[-1]
