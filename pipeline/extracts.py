"""Content-addressed extract cache: ``<state>/extracts/<version>-<key>-<sha256>/``.

A workbook's parsed, validated result is kept under the hash of its bytes, the
parser version and a fingerprint of the ID key (pseudonyms depend on it), so a
night with no new files parses nothing and changing the parser invalidates the
cache. Frames are Parquet; the file-level record is JSON. Writes go to a temporary
folder renamed into place, so a killed run never leaves a half-written extract.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from pipeline.extract.sheet import SheetResult, empty_frame
from pipeline.extract.workbook import PARSER_VERSION, ExtractResult
from pipeline.findings import FINDING_COLUMNS, Finding

QUARANTINE_COLUMNS = ["form", "sheet", "excel_row", "cells"]


def cache_key(sha256: str, id_key: bytes | None) -> str:
    fp = hashlib.sha256(b"tpa-key-fingerprint:" + (id_key or b"")).hexdigest()[:12]
    return f"v{PARSER_VERSION}-{fp}-{sha256}"


def save(result: ExtractResult, root: Path, key: str) -> Path:
    """Write ``result`` under ``root/key`` atomically; return the folder."""
    final = root / key
    if final.exists():
        return final
    tmp = root / f".tmp-{key}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    meta = {k: v for k, v in asdict(result).items() if k not in ("forms", "findings")}
    meta["forms"] = {}
    quarantine = []
    for form, sr in result.forms.items():
        meta["forms"][form] = {
            "sheet": sr.sheet,
            "header_rows": sr.header_rows,
            "rows_read": sr.rows_read,
            "rejected": sr.rejected,
        }
        sr.valid.to_parquet(tmp / f"{form}.parquet", index=False)
        quarantine.extend(sr.quarantine)
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS).astype({"excel_row": "Int64"}).to_parquet(
        tmp / "quarantine.parquet", index=False
    )
    findings = pd.DataFrame([f.as_dict() for f in result.findings], columns=FINDING_COLUMNS)
    findings.astype({"excel_row": "Int64"}).to_parquet(tmp / "findings.parquet", index=False)
    try:
        os.replace(tmp, final)
    except OSError:  # another process wrote the same key first
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def load(folder: Path) -> ExtractResult:
    """Read an extract written by ``save``."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    forms_meta = meta.pop("forms")
    res = ExtractResult(**meta)
    q = pd.read_parquet(folder / "quarantine.parquet")
    f = pd.read_parquet(folder / "findings.parquet")
    res.findings = [
        Finding(**{k: (None if pd.isna(v) else v) for k, v in rec.items()})
        for rec in f.astype(object).to_dict("records")
    ]
    for form, fm in forms_meta.items():
        valid = pd.read_parquet(folder / f"{form}.parquet")
        valid = valid.astype(empty_frame(form).dtypes.to_dict())
        qrows = [
            {**r, "excel_row": int(r["excel_row"])}
            for r in q[q["form"] == form].astype(object).to_dict("records")
        ]
        res.forms[form] = SheetResult(
            form=form,
            sheet=fm["sheet"],
            header_rows=fm["header_rows"],
            valid=valid,
            quarantine=qrows,
            findings=[x for x in res.findings if x.form == form],
            rows_read=fm["rows_read"],
            rejected=fm["rejected"],
        )
    return res
