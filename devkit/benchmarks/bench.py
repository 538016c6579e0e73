"""`make bench`: the whole pipeline at 100k, 300k and 1M households, against three
references measured in the same run on the same files (issue 6):

(a) parse floor: only reading every sheet with the fastest reader (fastexcel -> Arrow),
    both cores; (b) the naive pipeline (``devkit.benchmarks.naive``); (c) a no-change re-run.

Writes devkit/benchmarks/results.json and devkit/benchmarks/results.md. Stage timings come from the
run itself (``TPA_TIMINGS_FILE``: wall and CPU seconds per stage, pipeline work
without interpreter and Prefect start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from devkit.benchmarks import latency
from flows.api import wait_for_api

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"
# read/coerce/validate/cache: CPU summed over the extract workers (wall = their sum too);
# extract: the wall time of the whole parallel extract step
STAGES = ["discover", "read", "coerce", "validate", "cache", "extract", "build", "models",
          "tests", "publish"]  # fmt: skip


def _read_floor_one(path: str) -> int:
    import fastexcel

    rd = fastexcel.read_excel(path)
    n = 0
    for name in rd.sheet_names:
        n += rd.load_sheet(name, header_row=None).to_arrow().num_rows
    return n


def parse_floor(files: list[Path], workers: int) -> dict:
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as ex:
        rows = sum(ex.map(_read_floor_one, [str(f) for f in files], chunksize=1))
    return {"seconds": time.perf_counter() - t0, "rows": rows}


def _measured(cmd: list[str], env: dict) -> dict:
    """Run ``cmd`` in a child that reports its own children's peak RSS."""
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': p.returncode, 'wall': time.perf_counter() - t,\n"
        "  'cpu': ru.ru_utime + ru.ru_stime, 'maxrss_kib': ru.ru_maxrss,\n"
        "  'out': p.stdout[-3000:], 'err': p.stderr[-3000:]}))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env
    )
    return json.loads(p.stdout)


def tpa_run(raw: Path, wh: Path, timings: Path, env: dict) -> dict:
    env = {**env, "TPA_TIMINGS_FILE": str(timings)}
    cmd = [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(raw), "--warehouse", str(wh),
           "--trigger", "bench", "--publish-wait", "5"]  # fmt: skip
    res = _measured(cmd, env)
    if res["rc"] != 0:
        raise RuntimeError(f"tpa run failed: {res['out']}\n{res['err']}")
    res["stages"] = json.loads(timings.read_text()) if timings.exists() else {}
    return res


def ensure_data(households: int, seed: int) -> Path:
    out = DATA / f"h{households}"
    stamp = out / ".done"
    if stamp.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    from devkit.sample import generate

    t0 = time.perf_counter()
    generate(out, seed=seed, periods=("2019-12",), households=households)
    stamp.write_text(f"{time.perf_counter() - t0:.1f}")
    return out


def bench_size(households: int, seed: int, naive: bool, workers: int, env: dict) -> dict:
    raw = ensure_data(households, seed)
    files = sorted(p for p in raw.rglob("*.xlsx"))
    work = ROOT / "benchmarks" / "work" / f"h{households}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    wh = work / "warehouse.duckdb"
    floor = parse_floor(files, workers)
    served = env.get("PREFECT_API_URL")  # a running server, as in production (make server)
    first = tpa_run(raw, wh, work / "timings1.json", env)
    again = tpa_run(raw, wh, work / "timings2.json", env)
    temp_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    again_temp = tpa_run(raw, wh, work / "timings3.json", temp_env) if served else again
    out = {
        "households": households,
        "files": len(files),
        "sheet_rows": floor["rows"],
        "generate_s": float((raw / ".done").read_text()),
        "parse_floor_s": floor["seconds"],
        "total_s": first["wall"],
        "cpu_s": first["cpu"],
        "pipeline_s": first["stages"].get("pipeline", {}).get("wall"),
        "peak_rss_mib": first["maxrss_kib"] / 1024,
        "stages": first["stages"],
        "no_change_total_s": again["wall"],
        "no_change_s": again["stages"].get("pipeline", {}).get("wall"),
        "no_change_stages": again["stages"],
        "prefect": "running server" if served else "temporary server",
        "no_change_total_temporary_server_s": again_temp["wall"],
    }
    if naive:
        n = naive_timed(files, work / "naive.duckdb")
        out["naive_s"] = n["seconds"]
        out["naive_rows"] = n["rows"]
    p = out["pipeline_s"] or out["total_s"]
    out["ratio_to_parse_floor"] = p / out["parse_floor_s"]
    if "naive_s" in out:
        out["speedup_vs_naive"] = out["naive_s"] / p
    out["rows_per_s"] = floor["rows"] / p
    return out


def naive_timed(files, db):
    from devkit.benchmarks.naive import naive_run

    return naive_run(files, db)


def write_results(
    results: list[dict], path_json: Path, path_md: Path, lat: dict | None = None
) -> None:
    largest = max(results, key=lambda r: r["households"])
    top = {k: largest.get(k) for k in ("households", "total_s", "parse_floor_s", "naive_s",
                                       "ratio_to_parse_floor", "speedup_vs_naive", "peak_rss_mib",
                                       "no_change_s", "pipeline_s", "no_change_total_s")}  # fmt: skip
    top["machine"] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    top["sizes"] = results
    top["projection_30m"] = projection(results)
    top["latency"] = lat
    path_json.write_text(json.dumps(top, indent=2, ensure_ascii=False, default=str))
    path_md.write_text(markdown(top) + ("\n".join(latency.markdown(lat)) + "\n" if lat else ""))


def _fit(pts: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares line through ``pts``: (slope, intercept)."""
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    slope = sum((x - mx) * (y - my) for x, y in pts) / max(sum((x - mx) ** 2 for x, _ in pts), 1)
    return slope, my - slope * mx


def projection(results: list[dict], workers: int = 16) -> dict:
    """Linear fits of pipeline seconds on households, projected to 30 million: on this
    machine, and on a Dask cluster of ``workers`` such machines, where the extract step
    (per workbook) divides by the workers and the rest (one DuckDB writer) does not."""
    if len(results) < 2:
        return {}
    pts = [(r["households"], r["pipeline_s"] or r["total_s"]) for r in results]
    slope, icpt = _fit(pts)
    ext = [(r["households"], r["stages"].get("extract", {}).get("wall", 0.0)) for r in results]
    e_slope, e_icpt = _fit(ext)
    rest_slope, rest_icpt = slope - e_slope, icpt - e_icpt
    n = 30_000_000
    return {
        "seconds_per_million_households": slope * 1e6,
        "intercept_s": icpt,
        "extract_seconds_per_million": e_slope * 1e6,
        "rest_seconds_per_million": rest_slope * 1e6,
        "one_machine_2_cores_s": icpt + slope * n,
        "dask_workers": workers,
        "dask_cluster_s": rest_icpt + rest_slope * n + e_icpt + e_slope * n / workers,
        "dask_cluster_note": f"extract (per workbook) divides by {workers} workers of 2 cores; "
        "build, models and publish (one DuckDB writer) stay on one machine",
    }


TARGETS = [  # (label, key, comparison, bound) from issue 6, checked on the largest size
    ("pipeline ≤ 1.5 × parse floor", "ratio_to_parse_floor", "<=", 1.5),
    ("≥ 30 × faster than naive", "speedup_vs_naive", ">=", 30),
    ("whole tpa run < 15 s", "total_s", "<", 15),
    ("no-change pipeline ≤ 3 s", "no_change_s", "<=", 3),
    ("peak RSS ≤ 2 GiB", "peak_rss_mib", "<=", 2048),
]


def _met(value, cmp: str, bound: float) -> str:
    if value is None:
        return "not measured"
    ok = {"<=": value <= bound, ">=": value >= bound, "<": value < bound}[cmp]
    factor = bound / value if cmp == ">=" else value / bound
    return "met" if ok else f"missed by {factor:.1f}×"


def markdown(top: dict) -> str:
    lines = ["# tpa benchmarks", "", f"Machine: {top['machine']}", "",
             "| households | files | sheet rows | parse floor s | tpa pipeline s | tpa total s | naive s | "
             "tpa/floor | naive/tpa | peak RSS MiB | no-change pipeline s | no-change total s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in top["sizes"]:
        f = lambda k, d=2, r=r: "—" if r.get(k) is None else f"{r[k]:,.{d}f}"  # noqa: E731
        lines.append(
            f"| {r['households']:,} | {r['files']} | {r['sheet_rows']:,} | {f('parse_floor_s')} | "
            f"{f('pipeline_s')} | {f('total_s')} | {f('naive_s')} | {f('ratio_to_parse_floor')} | "
            f"{f('speedup_vs_naive', 1)} | {f('peak_rss_mib', 0)} | {f('no_change_s')} | {f('no_change_total_s')} |"
        )
    big = max(top["sizes"], key=lambda r: r["households"])
    lines += ["", f"Prefect: the runs used a {big.get('prefect', 'temporary server')}; "
              "a no-change run with Prefect's temporary server instead took "
              f"{big.get('no_change_total_temporary_server_s', 0):.2f} s in all. "
              "'pipeline' is the run without interpreter and Prefect start-up; 'total' is "
              "the whole `tpa run` process.",
              "", "## Stages (largest size): wall s, CPU s, rows/s, peak RSS MiB", "",
              "read, coerce, validate and cache run in the extract workers: their wall and CPU "
              "are summed over workbooks (both cores), so they add up to about twice the "
              "extract step's wall time. build/models/tests CPU counts DuckDB's threads.", "",
              "| stage | wall s | CPU s | rows/s | peak RSS MiB |", "|---|---|---|---|---|"]  # fmt: skip
    for s in STAGES + ["pipeline"]:
        st = big["stages"].get(s, {})
        lines.append(f"| {s} | {st.get('wall', 0):.2f} | {st.get('cpu', 0):.2f} | "
                     f"{st.get('rows_per_s', 0):,.0f} | {st.get('peak_rss_mib', 0):,.0f} |")  # fmt: skip
    lines += ["", "## Targets (largest size)", "", "| target | measured | |", "|---|---|---|"]
    for label, key, cmp, bound in TARGETS:
        v = top.get(key)
        lines.append(f"| {label} | {'—' if v is None else f'{v:,.2f}'} | {_met(v, cmp, bound)} |")
    p = top.get("projection_30m") or {}
    if p:
        lines += ["", "## Growth and projection", "",
                  f"- {p['seconds_per_million_households']:.2f} s per million households (linear fit), "
                  f"intercept {p['intercept_s']:.2f} s; extract {p['extract_seconds_per_million']:.2f} s "
                  f"and the rest {p['rest_seconds_per_million']:.2f} s per million",
                  f"- 30 million households on one 2-core machine: ~{p['one_machine_2_cores_s']:,.0f} s",
                  f"- on a Dask cluster of {p['dask_workers']} such machines: "
                  f"~{p['dask_cluster_s']:,.0f} s", f"- {p['dask_cluster_note']}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--naive", choices=["all", "largest", "none"], default="all")
    ap.add_argument("--prefect", choices=["server", "temporary"], default="server",
                    help="runs against a Prefect server started for the benchmark (as the "
                    "nightly deployment), or each with Prefect's temporary server")  # fmt: skip
    args = ap.parse_args()
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.setdefault("TPA_ID_KEY", "benchmark-key")
    workers = os.cpu_count() or 1
    results = []
    with prefect_server(env, args.prefect) as env:
        for n in sorted(args.sizes):
            naive = args.naive == "all" or (args.naive == "largest" and n == max(args.sizes))
            print(f"benchmark: {n:,} households …", flush=True)
            results.append(bench_size(n, args.seed, naive, workers, env))
            write_results(
                results, ROOT / "benchmarks" / "results.json", ROOT / "benchmarks" / "results.md"
            )
        smallest = min(results, key=lambda r: r["households"])
        print("benchmark: latency of the commands people type …", flush=True)
        data = ensure_data(smallest["households"], args.seed)
        wh = ROOT / "benchmarks" / "work" / f"h{smallest['households']}" / "warehouse.duckdb"
        lat = latency.measure(wh, latency.median_workbook(sorted(data.rglob("*.xlsx"))), env)
        lat.update({k: smallest.get(k) for k in (
            "no_change_s", "no_change_total_s", "no_change_total_temporary_server_s")})  # fmt: skip
        lat["households"] = smallest["households"]
        write_results(
            results, ROOT / "benchmarks" / "results.json", ROOT / "benchmarks" / "results.md", lat
        )
    print((ROOT / "benchmarks" / "results.md").read_text())


@contextmanager
def prefect_server(env: dict, mode: str):
    """``mode`` 'server': a Prefect server for the runs (own PREFECT_HOME, a free port),
    as the nightly deployment has (``make server``); 'temporary': each run starts
    Prefect's temporary server, as a bare ``tpa run`` does."""
    if mode != "server" or env.get("PREFECT_API_URL"):
        yield env
        return
    home = Path(tempfile.mkdtemp(prefix="tpa-bench-prefect-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    prefect = Path(sys.executable).with_name("prefect")
    proc = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "PREFECT_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        if not wait_for_api(url, lambda: proc.poll() is None):
            raise RuntimeError("the Prefect server for the benchmark did not start")
        yield {**env, "PREFECT_API_URL": url, "PREFECT_HOME": str(home)}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    main()
