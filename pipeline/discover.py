"""Find every workbook under the raw folder and identify it by the SHA-256 of its bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

EXTENSIONS = {".xlsx", ".xlsm", ".xls"}


@dataclass(frozen=True)
class Discovered:
    """A workbook in the drop zone: path relative to the raw folder, size in bytes,
    received_at = modification time (UTC, naive), sha256 hex of its content."""

    path: Path
    rel_path: str
    file_name: str
    size_bytes: int
    received_at: datetime
    sha256: str


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def discover(raw_dir: Path) -> list[Discovered]:
    """Every ``.xlsx``/``.xlsm``/``.xls`` below ``raw_dir`` (recursive, any case), sorted
    by relative path; Excel's ``~$`` lock files and hidden files are skipped."""
    out = []
    raw_dir = Path(raw_dir)
    if not raw_dir.exists():
        return out
    for p in sorted(raw_dir.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in EXTENSIONS:
            continue
        if p.name.startswith(("~$", ".")):
            continue
        st = p.stat()
        out.append(
            Discovered(
                path=p,
                rel_path=p.relative_to(raw_dir).as_posix(),
                file_name=p.name,
                size_bytes=st.st_size,
                received_at=datetime.fromtimestamp(st.st_mtime, UTC).replace(tzinfo=None),
                sha256=sha256_of(p),
            )
        )
    return out
