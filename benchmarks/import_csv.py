"""Import a 1M-row, 20-column CSV with ClusterLab and with DuckDB alone, in one run.

Prints each run's time and peak memory (RSS of a fresh process), and the ratio of
ClusterLab's median time to DuckDB's `read_csv` -> Parquet on the same file. Goal:
within 1.5x.

    python benchmarks/import_csv.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

# VmHWM is the process's own peak RSS; a child's ru_maxrss starts at its parent's peak.
PEAK = textwrap.dedent(
    """
    def peak_mib():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    """
)
BASELINE = textwrap.dedent(
    """
    import json, sys, time, duckdb
    src, dest = sys.argv[1], sys.argv[2]
    start = time.perf_counter()
    duckdb.connect().sql(f"COPY (SELECT * FROM read_csv('{src}')) TO '{dest}' (FORMAT parquet)")
    took = time.perf_counter() - start
    peak = peak_mib()
    print(json.dumps({"seconds": took, "peak_mib": peak}))
    """
)
CLUSTERLAB = textwrap.dedent(
    """
    import json, sys, time
    import clusterlab as cl
    src, home = sys.argv[1], sys.argv[2]
    project = cl.Workspace(home).create_project("BENCH")
    start = time.perf_counter()
    ds = project.import_dataset("data", src)
    took = time.perf_counter() - start
    assert ds.rows == int(sys.argv[3]), ds.rows
    peak = peak_mib()
    print(json.dumps({"seconds": took, "peak_mib": peak}))
    """
)


def make_csv(path: Path, rows: int) -> None:
    """Ten numeric, five text, three categorical, a date and an IP column."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({f"num_{i}": rng.normal(i, 1 + i, rows).round(4) for i in range(8)})
    frame["int_a"] = rng.integers(0, 1_000_000, rows)
    frame["int_b"] = rng.integers(0, 100, rows)
    for i in range(5):
        frame[f"text_{i}"] = pd.Series(rng.integers(0, 50_000, rows)).map(
            lambda v, i=i: f"t{i}-{v}"
        )
    for i in range(3):
        frame[f"cat_{i}"] = rng.choice(["red", "green", "blue", "black"], rows)
    frame["day"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), "D")
    octets = rng.integers(1, 255, (rows, 2))
    frame["ip"] = [f"81.{a}.{b}.7" for a, b in octets]
    frame.to_csv(path, index=False)


def run(script: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PEAK + script, *args], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clusterlab-bench-"))
    try:
        src = work / "input.csv"
        make_csv(src, args.rows)
        print(f"input: {args.rows:,} rows x 20 columns, {src.stat().st_size / 2**20:.0f} MiB CSV")
        base, ours = [], []
        for i in range(args.repeat):
            base.append(run(BASELINE, str(src), str(work / f"duck-{i}.parquet")))
            ours.append(run(CLUSTERLAB, str(src), str(work / f"home-{i}"), str(args.rows)))
            print(
                f"run {i + 1}: duckdb {base[-1]['seconds']:.2f} s {base[-1]['peak_mib']:.0f} MiB | "
                f"clusterlab {ours[-1]['seconds']:.2f} s {ours[-1]['peak_mib']:.0f} MiB"
            )
        b = statistics.median(r["seconds"] for r in base)
        o = statistics.median(r["seconds"] for r in ours)
        print(f"median: duckdb {b:.2f} s, clusterlab {o:.2f} s, ratio {o / b:.2f}x (goal <= 1.5x)")
        print(
            f"peak memory: duckdb {max(r['peak_mib'] for r in base):.0f} MiB, "
            f"clusterlab {max(r['peak_mib'] for r in ours):.0f} MiB"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
