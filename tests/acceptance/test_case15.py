"""Case 15: three nights of `tpa run` while analysts hold the warehouse open.

Real processes throughout: `tpa run` as a subprocess, readers A/B/C/D/E and the
read-write session W as child processes (DuckDB reuses an open database within one
process, so every "new process" is a fresh child).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders.paths import ROOT
from tests.builders.sessions import fresh_query

pytestmark = pytest.mark.slow  # over 10 s on an idle machine (make test-fast skips it)

NAME = "530128_禄劝彝族苗族自治县_2019-12.xlsx"
SUM = "SELECT sum(remaining_persons) FROM staging.population"


def _run(raw: Path, wh: Path, home: Path, wait: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(home), "TPA_ID_KEY": "k"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(raw), "--warehouse", str(wh),
         "--publish-wait", str(wait)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )  # fmt: skip


def _drop(cases_dir: Path, night: str, raw: Path) -> None:
    raw.mkdir(exist_ok=True)
    dst = raw / NAME
    shutil.copyfile(cases_dir / "15_duckdb_lock_while_reading" / night / NAME, dst)
    st = dst.stat()
    os.utime(dst, (st.st_atime, st.st_mtime + {"night1": 0, "night2": 10, "night3": 20}[night]))


def test_case15_nights(cases_dir, tmp_path, sessions):
    raw, wh, home = tmp_path / "raw", tmp_path / "wh" / "warehouse.duckdb", tmp_path / "ph"
    wh.parent.mkdir()
    _drop(cases_dir, "night1", raw)
    p = _run(raw, wh, home, 5)
    assert p.returncode == 0, p.stdout + p.stderr
    a, b = sessions(wh, "ro"), sessions(wh, "ro")
    assert a.ask(SUM) == [[186]] and b.ask(SUM) == [[186]]

    _drop(cases_dir, "night2", raw)
    p = _run(raw, wh, home, 5)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "lock" not in (p.stdout + p.stderr).lower()
    assert a.ask(SUM) == [[186]] and b.ask(SUM) == [[186]]  # their snapshot
    assert fresh_query(wh, SUM) == ("ok", [[163]])  # C, a new process
    a.close()
    b.close()

    w = sessions(wh, "rw")
    w.ask("CREATE TABLE scratch AS SELECT 1 AS x")
    _drop(cases_dir, "night3", raw)
    p = _run(raw, wh, home, 2)
    assert p.returncode == 3, p.stdout + p.stderr
    assert str(w.pid) in p.stdout + p.stderr  # names the holding process
    status, _ = fresh_query(wh, SUM)  # D: never an unopenable warehouse
    assert status == "error" or fresh_query(wh, SUM)[1] == [[163]]
    w.close()
    assert fresh_query(wh, SUM) == ("ok", [[163]])  # the previous warehouse was kept
    p = _run(raw, wh, home, 5)  # the next night publishes
    assert p.returncode == 0, p.stdout + p.stderr
    assert fresh_query(wh, SUM) == ("ok", [[115]])  # E
    beside = ("warehouse.duckdb", "warehouse.duckdb.d", "reports", "exports")  # issue 13
    leftovers = [x for x in (wh.parent).iterdir() if x.name not in beside]
    assert leftovers == []
    builds = list((wh.parent / "warehouse.duckdb.d" / "builds").glob("*.duckdb"))
    assert builds == []
