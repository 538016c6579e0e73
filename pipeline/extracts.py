"""Content-addressed extract cache: ``<state>/extracts/v<version>-<code>-<key>-<sha256>/``.

A workbook's parsed, validated result is kept under the SHA-256 of its bytes, so a
night with no new files parses nothing. The folder name also holds

* ``PARSER_VERSION`` (``pipeline.extract.workbook``; bump it when parsing changes) and
  a fingerprint of the parsing code itself (the sources of ``pipeline/extract``,
  ``pipeline/readers``, ``schemas``, the findings/personal/refdata modules, the
  reference CSVs and the reader libraries' versions), so that any change to how a
  workbook is read invalidates the cache even when nobody bumped the version;
* a fingerprint of the ID key (pseudonyms depend on it).

Frames are Parquet; the file-level record is JSON. Writes go to a ``.tmp-*`` folder
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

from pipeline import testhook
from pipeline.config import Settings
from pipeline.extract import limits as _limits
from pipeline.extract import workbook as _workbook
from pipeline.extract.sheet import SheetResult, empty_frame
from pipeline.extract.workbook import ExtractResult
from pipeline.findings import FINDING_COLUMNS, Finding

QUARANTINE_COLUMNS = ["form", "sheet", "excel_row", "cells"]
TMP_PREFIX = ".tmp-"

_PKG = Path(__file__).resolve().parent
_ROOT = _PKG.parent
# What decides how a workbook is parsed (besides PARSER_VERSION): hashed into the key.
_CODE_GLOBS = [
    (_PKG / "extract", "*.py"),
    (_PKG / "readers", "*.py"),
    (_ROOT / "schemas", "*.py"),
    (_PKG / "reference", "*.csv"),
]
_CODE_FILES = ["findings.py", "personal.py", "refdata.py", "extracts.py"]
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
        testhook.pause("extract")  # tests kill the run here: a half-written .tmp-* folder
        if quarantine:  # no file for none (most workbooks): ``load`` reads that as empty
            pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS).astype(
                {"excel_row": "Int64"}
            ).to_parquet(tmp / "quarantine.parquet", index=False)
        if result.findings:
            findings = pd.DataFrame([f.as_dict() for f in result.findings], columns=FINDING_COLUMNS)
            findings.astype({"excel_row": "Int64"}).to_parquet(
                tmp / "findings.parquet", index=False
            )
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
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
