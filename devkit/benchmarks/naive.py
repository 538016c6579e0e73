"""The naive reference pipeline of issue 6: what a typical first implementation does.

Per sheet: ``pandas.read_excel(engine="openpyxl")``, the header row found by a simple
scan, columns renamed by exact header text, ``pd.to_numeric(errors="coerce")``, the
same pandera schemas (lazy), each DataFrame inserted into DuckDB. It is measured,
never used for real data (it silently loses rows and guesses numbers).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb
import pandas as pd
import pandera.errors

from schemas import FORMS, SCHEMAS

_UNIT = re.compile(r"[（(][^）)]*[）)]$")


def _key(text) -> str:
    return _UNIT.sub("", re.sub(r"\s+", "", str(text)))


def _headers() -> dict[str, dict[str, str]]:
    out = {}
    for code, form in FORMS.items():
        out[code] = {_key(c.header_zh): c.name for c in form.columns if not c.parents}
    return out


def naive_run(files: list[Path], db_path: Path) -> dict:
    """Load ``files`` the naive way into ``db_path``; return rows and seconds."""
    t0 = time.perf_counter()
    headers = _headers()
    con = duckdb.connect(str(db_path))
    rows = 0
    for path in files:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
        for _name, df in sheets.items():
            for i in range(min(len(df), 12)):
                labels = [_key(v) for v in df.iloc[i].tolist()]
                form = max(headers, key=lambda f: sum(lab in headers[f] for lab in labels))
                hits = sum(lab in headers[form] for lab in labels)
                if hits >= 3:
                    break
            else:
                continue
            cols = {j: headers[form][lab] for j, lab in enumerate(labels) if lab in headers[form]}
            data = df.iloc[i + 1 :, list(cols)].rename(columns=cols)
            first = data.iloc[:, 0].astype(str)
            data = data[~first.str.contains("合计|小计|注|填表人|nan", regex=True)]
            for c in data.columns:
                kind = FORMS[form].col(c).kind
                if kind in ("count", "year"):
                    data[c] = pd.to_numeric(data[c], errors="coerce").round().astype("Int64")
                elif kind in ("money", "yuan"):  # fen, as the schemas expect
                    scale = 1_000_000 if kind == "money" else 100
                    num = pd.to_numeric(data[c], errors="coerce") * scale
                    data[c] = num.round().astype("Int64")
                elif kind == "bool":
                    data[c] = data[c].map({"是": True, "否": False}).astype("boolean")
                elif kind == "percent":
                    data[c] = pd.to_numeric(data[c], errors="coerce")
                else:
                    data[c] = data[c].astype("str")
            try:
                SCHEMAS[form].validate(data, lazy=True)
            except (pandera.errors.SchemaErrors, pandera.errors.SchemaError):
                pass
            con.register("_d", data)
            con.execute(f"CREATE TABLE IF NOT EXISTS naive_{form} AS SELECT * FROM _d LIMIT 0")
            con.execute(f"INSERT INTO naive_{form} BY NAME SELECT * FROM _d")
            con.unregister("_d")
            rows += len(data)
    con.close()
    return {"rows": rows, "seconds": time.perf_counter() - t0}
