"""The corpus of odd and broken spreadsheets from other projects' test suites
(``../shared/corpus/``: calamine, Apache POI, XlsxWriter, xlrd) goes through one whole
run (issues 11 and 12): every file gets its own ``raw.files`` row, loaded, rejected or
not read, none affecting another, and the run publishes. Every rejection carries a
reason class, checked against a rule computed independently of tpa's readers:

- msoffcrypto-tool says the file is encrypted → ``encrypted``;
- openpyxl or xlrd opens it (an OOXML package whose member names use ``\\`` is read
  with ``/``, as Excel does) → ``no_form_found`` (none of these is a county report);
- it is a zip, OLE2 or BIFF file neither opens → ``damaged``;
- anything else → ``not_a_workbook`` (or, not read at all, ``not_read``).

A file may also be refused for a limit of tpa's own (``too_large``, ``resource_limit``),
and tpa may read a file the rule calls damaged (calamine reads a few that neither
openpyxl nor xlrd opens): then it is ``no_form_found``.
"""

from __future__ import annotations

import io
import shutil
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipeline.config import Settings
from tests.builders.paths import CORPUS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present"),
]
LIMITS = {"too_large", "resource_limit"}


def _encrypted(path: Path) -> bool:
    import msoffcrypto

    try:
        with open(path, "rb") as f:
            return bool(msoffcrypto.OfficeFile(f).is_encrypted())
    except Exception:  # not an Office container at all
        return False


def _opens(path: Path) -> bool:
    """openpyxl or xlrd reads the file (independent of tpa's readers)."""
    import openpyxl
    import xlrd

    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if any("\\" in n for n in zf.namelist()):
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w") as out:
                    for info in zf.infolist():
                        out.writestr(info.filename.replace("\\", "/"), zf.read(info))
                data = buf.getvalue()
    except (zipfile.BadZipFile, ValueError, KeyError, EOFError):
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            openpyxl.load_workbook(io.BytesIO(data), read_only=True).close()
            return True
        except Exception:
            pass
        try:
            xlrd.open_workbook(file_contents=data, logfile=io.StringIO()).release_resources()
            return True
        except Exception:
            return False


def _container(path: Path) -> bool:
    head = path.read_bytes()[:8]
    return head.startswith((b"PK\x03\x04", bytes.fromhex("d0cf11e0a1b11ae1"))) or (
        len(head) >= 4 and head[0] == 0x09 and head[1] in (0, 2, 4) and head[3] == 0
    )


def expected_class(path: Path) -> str:
    if _encrypted(path):
        return "encrypted"
    if _opens(path):
        return "no_form_found"
    return "damaged" if _container(path) else "not_a_workbook"


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    from flows.nightly import run_flow

    base = tmp_path_factory.mktemp("corpus")
    raw, wh = base / "raw", base / "w.duckdb"
    shutil.copytree(CORPUS, raw)
    settings = Settings(raw_dir=raw, warehouse=wh, task_runner="serial", id_key="k")
    outcome = run_flow(raw, wh, settings)  # Prefect's temporary server, as a bare `tpa run`
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rows = con.execute("SELECT path, status, reason, message FROM raw.files").fetchall()
    finally:
        con.close()
    return outcome, raw, {r[0]: r[1:] for r in rows}


def test_every_file_has_its_row_and_the_run_publishes(corpus_run):
    outcome, raw, rows = corpus_run
    assert outcome.exit_code == 0, outcome.record.message
    files = sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())
    assert len(files) > 200
    assert sorted(rows) == files
    assert {s for s, _, _ in rows.values()} <= {"loaded", "rejected", "not_read"}
    for path, (status, reason, message) in rows.items():
        if status != "loaded":
            assert reason and message and "\n" not in message, (path, reason, message)


def test_every_rejection_has_the_independent_reason_class(corpus_run):
    _, raw, rows = corpus_run
    wrong, beyond, seen = [], [], Counter()
    for path, (status, reason, _) in sorted(rows.items()):
        want = expected_class(raw / path)
        got = "not_a_workbook" if status == "not_read" else reason
        seen[got] += 1
        if got == "no_form_found" and want == "damaged":
            beyond.append(path)  # calamine read what neither openpyxl nor xlrd opens
        elif got != want and got not in LIMITS:
            wrong.append((path, got, want))
    assert wrong == []
    assert len(beyond) <= 3, beyond
    assert seen["encrypted"] >= 5 and seen["damaged"] >= 3 and seen["no_form_found"] >= 200
