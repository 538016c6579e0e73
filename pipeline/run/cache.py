"""Content-addressed extract cache: ``<state>/extracts/v<version>-<code>-<key>-<sha256>/``.

A workbook's parsed, validated result is kept under the SHA-256 of its bytes, so a
night with no new files parses nothing. The folder name also holds

* ``PARSER_VERSION`` (``pipeline.extract.workbook``; bump it when parsing changes) and
  a fingerprint of the parsing code itself (the sources of ``pipeline/extract``,
  ``pipeline/extract/readers``, ``schemas``, the findings/personal/refdata modules, the
  reference CSVs and the reader libraries' versions), so that any change to how a
  workbook is read invalidates the cache even when nobody bumped the version;
* a fingerprint of the ID key (pseudonyms depend on it).

Frames are Parquet; the file-level record is JSON, written last; it holds the SHA-256
of every other file and a seal over its own text (``verify`` checks them before an
extract is used: issue 11, a damaged extract is parsed again, or moved aside by
``set_aside`` when its workbook is gone). Writes go to a ``.tmp-*`` folder
renamed into place, so a killed run never leaves a half-written extract under a real
key; ``clean_temp`` removes what a killed run left (call it under the run lock).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict
from functools import cache
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline import hooks
from pipeline.config import Settings
from pipeline.extract import limits as _limits
from pipeline.extract import workbook as _workbook
from pipeline.extract.findings import FINDING_COLUMNS, Finding
from pipeline.extract.sheet import SheetResult, empty_frame
from pipeline.extract.workbook import ExtractResult

QUARANTINE_COLUMNS = ["form", "sheet", "excel_row", "cells"]
TMP_PREFIX = ".tmp-"

_PKG = Path(__file__).resolve().parents[1]
_ROOT = _PKG.parent
# What decides how a workbook is parsed (besides PARSER_VERSION): hashed into the key.
_CODE_GLOBS = [
    (_PKG / "extract", "**/*.py"),
    (_ROOT / "schemas", "*.py"),
    (_PKG / "reference", "*.csv"),
]
_CODE_FILES = ["refdata.py", "run/cache.py"]
_LIBRARIES = ["python-calamine", "pandas", "pandera", "pyarrow"]


@cache
def code_fingerprint() -> str:
    """12 hex digits over the parsing code, reference data and reader library versions."""
    h = hashlib.sha256()
    files = [p for folder, pattern in _CODE_GLOBS for p in sorted(folder.glob(pattern))]
    files += [_PKG / name for name in _CODE_FILES]
    for p in files:
        h.update(p.relative_to(_ROOT).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib}=={metadata.version(lib)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib}==?\0".encode())
    return h.hexdigest()[:12]


def cache_prefix(id_key: bytes | None) -> str:
    """The key without the file hash: every extract made by this code with this ID key
    (and, when ``TPA_COLUMN_LIMITS`` is set, these plausible ranges [issue 11])."""
    fp = hashlib.sha256(b"tpa-key-fingerprint:" + (id_key or b"")).hexdigest()[:12]
    if limits_fp := _limits.fingerprint(Settings().column_limits):
        fp = hashlib.sha256(f"{fp}:{limits_fp}".encode()).hexdigest()[:12]
    return f"v{_workbook.PARSER_VERSION}-{code_fingerprint()}-{fp}"


def cache_key(sha256: str, id_key: bytes | None) -> str:
    """Folder name of the extract of the workbook whose bytes hash to ``sha256``."""
    return f"{cache_prefix(id_key)}-{sha256}"


def is_cached(folder: Path) -> bool:
    """True when ``folder`` holds a complete extract (``meta.json`` is written last)."""
    return (Path(folder) / "meta.json").is_file()


def save(result: ExtractResult, root: Path, key: str) -> Path:
    """Write ``result`` under ``root/key`` atomically; return the folder.

    An existing complete extract under ``key`` is kept as it is (same bytes, same code,
    same result); with ``replace=True`` semantics wanted, remove it first.
    """
    final = root / key
    if is_cached(final):
        return final
    tmp = root / f"{TMP_PREFIX}{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        meta = {k: v for k, v in asdict(result).items() if k not in ("forms", "findings")}
        meta["forms"] = {}
        quarantine = []
        for form, sr in result.forms.items():
            meta["forms"][form] = {
                "sheet": sr.sheet,
                "header_rows": sr.header_rows,
                "rows_read": sr.rows_read,
                "rows_loaded": sr.rows_loaded,
                "rejected": sr.rejected,
            }
            valid = sr.valid.copy()
            for c, v in (("county_code", result.county_code), ("period", result.period),
                         ("file_sha256", result.file_sha256)):  # fmt: skip
                valid[c] = pd.Series([v] * len(valid), dtype="str")
            valid.to_parquet(tmp / f"{form}.parquet", index=False)
            quarantine.extend(sr.quarantine)
        hooks.at("extract")  # tests kill the run here: a half-written .tmp-* folder
        if quarantine:  # no file for none (most workbooks): ``load`` reads that as empty
            pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS).astype(
                {"excel_row": "Int64"}
            ).to_parquet(tmp / "quarantine.parquet", index=False)
        if result.findings:
            findings = pd.DataFrame([f.as_dict() for f in result.findings], columns=FINDING_COLUMNS)
            findings.astype({"excel_row": "Int64"}).to_parquet(
                tmp / "findings.parquet", index=False
            )
        meta["checksums"] = {f.name: file_sha256(f) for f in sorted(tmp.iterdir())}
        (tmp / "meta.json").write_bytes(sealed_meta(meta))
        if final.exists():  # an incomplete folder under the real key (should not happen)
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:  # another process wrote the same key first
            if not is_cached(final):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


# ------------------------------------------------------------------ proof (issue 11)

META_SEAL = "meta_sha256"  # in meta.json: SHA-256 of meta.json's canonical text without it


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _canonical(meta: dict) -> bytes:
    return json.dumps(meta, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sealed_meta(meta: dict) -> bytes:
    """The bytes of meta.json: ``meta`` in canonical JSON with ``META_SEAL``, the SHA-256 of
    its canonical text without the seal (so a flipped bit in meta.json is seen too)."""
    body = {k: v for k, v in meta.items() if k != META_SEAL}
    return _canonical({**body, META_SEAL: hashlib.sha256(_canonical(body)).hexdigest()})


def verify(folder: Path) -> str | None:
    """Check a complete extract before it is used; None when it is sound, else one line
    saying what is wrong.

    An extract written with checksums (``save``): meta.json must be exactly its canonical
    sealed text, and every file listed in ``checksums`` must be there with its SHA-256;
    cost: one read of the extract's bytes (~100 MB for 1M households, well under a second).
    An older extract without checksums is checked by reading meta.json and every Parquet
    file whole (a flipped bit in a data value cannot be seen there)."""
    folder = Path(folder)
    try:
        raw = (folder / "meta.json").read_bytes()
        meta = json.loads(raw.decode("utf-8"))
        if not isinstance(meta, dict):
            return "meta.json is not a JSON object"
        if META_SEAL not in meta:
            return _verify_legacy(folder, meta)
        if sealed_meta(meta) != raw:
            return "meta.json does not match its checksum"
        sums = meta.get("checksums")
        if not isinstance(sums, dict):
            return "meta.json has no checksums"
        for name, digest in sorted(sums.items()):
            if file_sha256(folder / name) != digest:
                return f"{name} does not match its checksum"
    except FileNotFoundError as exc:
        return f"{Path(exc.filename or '?').name} is missing"
    except (OSError, ValueError) as exc:  # unreadable bytes, not JSON, not UTF-8
        return f"unreadable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
    return None


def _verify_legacy(folder: Path, meta: dict) -> str | None:
    names = [f"{form}.parquet" for form in meta.get("forms", {})]
    names += [n for n in ("quarantine.parquet", "findings.parquet") if (folder / n).exists()]
    for name in names:
        try:
            pq.read_table(folder / name)
        except Exception as exc:  # pyarrow raises several kinds for a damaged file
            return f"{name} is unreadable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
    return None


def set_aside(folder: Path, damaged_root: Path) -> Path:
    """Move a damaged extract into ``damaged_root`` (never deleted: it may help find what
    damaged it); return its new path. Raises OSError when the move fails."""
    damaged_root.mkdir(parents=True, exist_ok=True)
    dest = damaged_root / f"{Path(folder).name}-{uuid.uuid4().hex[:8]}"
    os.replace(folder, dest)
    return dest


def remove(folder: Path) -> None:
    """Remove one extract (``--rebuild`` re-parses the workbooks of the raw folder)."""
    shutil.rmtree(folder, ignore_errors=True)


def clean_temp(root: Path) -> list[Path]:
    """Remove half-written extracts (``.tmp-*``) left by killed runs; return them.

    Call it only under the run lock: a running run's temporary folders look the same.
    """
    removed = []
    if not Path(root).is_dir():
        return removed
    for p in Path(root).glob(TMP_PREFIX + "*"):
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def prune(root: Path, keep: set[str], prefix: str) -> list[Path]:
    """Remove extracts made by other code or another ID key (not ``prefix``) that are not
    in ``keep`` (the extracts the manifest still needs). Returns the removed folders."""
    removed = []
    if not Path(root).is_dir():
        return removed
    for p in Path(root).iterdir():
        if p.name.startswith(TMP_PREFIX) or p.name in keep or p.name.startswith(prefix + "-"):
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


@cache
def _dtypes(form: str) -> dict:
    return empty_frame(form).dtypes.to_dict()


def _rows_loaded(form_meta: dict, path: Path) -> int:
    """Valid rows of one form; extracts written before meta.json recorded the count (kept
    for workbooks that have left the raw folder) give it from the Parquet footer."""
    if "rows_loaded" in form_meta:
        return form_meta["rows_loaded"]
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0


PROVENANCE_COLUMNS = ["county_code", "period", "file_sha256"]  # beside the rows in Parquet


def load(folder: Path, frames: bool = True) -> ExtractResult:
    """Read an extract written by ``save``.

    ``frames=False``: leave each form's valid rows in their Parquet file (``SheetResult
    .parquet``, with ``PROVENANCE_COLUMNS``; ``valid`` empty, ``loaded`` the row count):
    the build reads them straight into DuckDB and memory stays flat.
    """
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    forms_meta = meta.pop("forms")
    meta.pop("checksums", None)  # checked by ``verify``, before the build
    meta.pop(META_SEAL, None)
    res = ExtractResult(**meta)
    qp, fp = folder / "quarantine.parquet", folder / "findings.parquet"
    q = pd.read_parquet(qp) if qp.exists() else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    f = pd.read_parquet(fp) if fp.exists() else None
    res.findings = (
        [
            Finding(**{k: (None if pd.isna(v) else v) for k, v in rec.items()})
            for rec in f.astype(object).to_dict("records")
        ]
        if f is not None
        else []
    )
    for form, fm in forms_meta.items():
        path = folder / f"{form}.parquet"
        if frames:
            valid = pd.read_parquet(path).drop(columns=PROVENANCE_COLUMNS, errors="ignore")
            dtypes = _dtypes(form)
            if valid.dtypes.to_dict() != dtypes:
                valid = valid.astype(dtypes)
        else:
            valid = empty_frame(form)
        qrows = (
            [
                {**r, "excel_row": int(r["excel_row"])}
                for r in q[q["form"] == form].astype(object).to_dict("records")
            ]
            if len(q)
            else []
        )
        res.forms[form] = SheetResult(
            form=form,
            sheet=fm["sheet"],
            header_rows=fm["header_rows"],
            valid=valid,
            quarantine=qrows,
            findings=[x for x in res.findings if x.form == form],
            rows_read=fm["rows_read"],
            rejected=fm["rejected"],
            parquet=None if frames else str(path),
            loaded=None if frames else _rows_loaded(fm, path),
        )
    return res
