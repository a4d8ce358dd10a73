"""Rows per second of recipes on the Spark engine (local[2]) beside the local DuckDB engine.

Both engines run the same recipe on the same Parquet input and their outputs are
checked to agree before any figure is printed:

1. group: page views by visitor (count, distinct sessions, sum, first url by time);
2. web prepare: GeoIP and user-agent steps, the row-wise Python processors (pandas
   UDFs on Spark, Arrow batch UDFs on DuckDB), plus URL splitting;
3. apply: K-means (k = 5), trained in the Lab on generated customers and deployed as a
   saved model, scores ``--apply-rows`` more customers (one imported Parquet dataset)
   through two apply recipes, one built with ``engine="spark"`` (the scikit-learn
   model runs on the executors, in Arrow batches), one with the local engine (DuckDB
   batches).

Group and web prepare call the engines' ``run_recipe`` (read, compute, write Parquet,
schema) in this process: Spark's session start (JVM launch) is timed apart, each
engine gets one warm-up run, then the two take turns for ``--repeat`` runs and medians
are compared. Apply goes through the public Python API as a user would: each run is a
build job, so a worker process of its own, and the Spark one launches its own JVM,
which its figure includes. There is no warm-up run then; the engines take turns for
``--repeat`` jobs each, the outputs of the first two must agree, and the medians of
the time from the recipe's "scoring" log line to the engine's "Scored N rows" line
(read, predict, write) are compared, beside the whole jobs' (worker start, model load,
drift measures, publishing). Spark's is also given without its start (JVM launch,
input count, scorer probe: the time to its first progress report), which is what a
long-running session would spare.

On one small machine Spark is expected to be slower than DuckDB (it pays for a JVM,
task scheduling and Python workers): the figures say by how much, and what a cluster
has to win back. Spark here is local[2], DuckDB uses its default threads.

    python benchmarks/spark.py [--rows 2000000] [--weblogs 200000] [--apply-rows 200000]
                               [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import clusterlab as cl
from clusterlab.core.dataset import DatasetKind
from clusterlab.core.recipes import RecipeSpec, parse_recipe
from clusterlab.engines.base import Engine, InputData
from clusterlab.engines.local.engine import LocalEngine
from clusterlab.engines.spark import SparkEngine, SparkSettings
from clusterlab.storage.runtime import Job

GROUP = parse_recipe(
    {
        "name": "group_pageviews",
        "type": "group",
        "inputs": ["pageviews"],
        "outputs": ["by_visitor"],
        "params": {
            "keys": ["visitor_id"],
            "order_by": ["ts"],
            "aggregations": [
                {"column": "session_id", "aggregations": ["distinct"]},
                {"column": "amount", "aggregations": ["sum"]},
                {"column": "url", "aggregations": ["first"]},
            ],
        },
    }
)
WEB = parse_recipe(
    {
        "name": "prepare_weblogs",
        "type": "prepare",
        "inputs": ["weblogs"],
        "outputs": ["weblogs_prepared"],
        "params": {
            "steps": [
                {"type": "geoip", "column": "ip", "outputs": ["country", "city"]},
                {"type": "classify_user_agent", "column": "user_agent"},
                {"type": "split_url", "column": "url", "parts": ["host", "path"]},
            ]
        },
    }
)
USER_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
]
PATHS = ["/", "/blog/a", "/blog/b", "/products/x", "/products/y", "/pricing", "/about"]
FEATURES, CENTRES, K = 8, 5, 5
TRAIN_ROWS = 20_000
APPLY_ENGINES = ("local", "spark")


def page_views(rows: int, seed: int = 7) -> pa.Table:
    """Generated page views: ~rows/10 visitors, microsecond timestamps, a few URLs."""
    rng = np.random.default_rng(seed)
    visitors = rng.integers(0, max(rows // 10, 1), rows)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    ts = start + rng.integers(0, 90 * 86_400 * 10**6, rows).astype("timedelta64[us]")
    return pa.table(
        {
            "visitor_id": pa.array([f"v{v:08d}" for v in visitors]),
            "session_id": pa.array([f"s{s:09d}" for s in visitors * 7 + rng.integers(0, 7, rows)]),
            "ts": pa.array(ts),
            "amount": pa.array(np.round(rng.exponential(20.0, rows), 2)),
            "url": pa.array(np.asarray(PATHS, dtype=object)[rng.integers(0, len(PATHS), rows)]),
        }
    )


def web_logs(rows: int, seed: int = 11) -> pa.Table:
    """Generated web logs: ~rows/20 distinct addresses, five user agents, a few URLs."""
    rng = np.random.default_rng(seed)
    hosts = rng.integers(0, max(rows // 20, 1), rows)
    ips = [f"{81 + h % 100}.{(h >> 8) % 256}.{h % 256}.{(h * 7) % 250 + 1}" for h in hosts]
    agents = np.asarray(USER_AGENTS, dtype=object)[rng.integers(0, len(USER_AGENTS), rows)]
    paths = np.asarray(PATHS, dtype=object)[rng.integers(0, len(PATHS), rows)]
    return pa.table(
        {
            "ip": pa.array(ips),
            "user_agent": pa.array(agents),
            "url": pa.array([f"https://shop.example.com{p}" for p in paths]),
        }
    )


def customers(rows: int, seed: int) -> pa.Table:
    """Generated customers: an id and FEATURES numbers on unequal scales around CENTRES
    fixed centres (``seed`` draws the rows, never the centres)."""
    fixed = np.random.default_rng(5)
    centres = fixed.normal(0.0, 3.0, (CENTRES, FEATURES))
    scales = np.geomspace(0.1, 1_000.0, FEATURES)
    rng = np.random.default_rng(seed)
    members = rng.integers(0, CENTRES, rows)
    values = (centres[members] + rng.normal(0.0, 1.0, (rows, FEATURES))) * scales
    columns = {"customer_id": pa.array(np.arange(rows, dtype=np.int64))}
    columns |= {f"f{j}": pa.array(values[:, j]) for j in range(FEATURES)}
    return pa.table(columns)


def run_once(
    engine: Engine, recipe: RecipeSpec, source: Path, root: Path, tag: str
) -> tuple[float, pd.DataFrame]:
    """Seconds one run_recipe takes, and its (only) output."""
    out = root / f"{engine.name}-{tag}-{time.time_ns()}"
    out.mkdir()
    inputs = {recipe.inputs[0]: InputData(recipe.inputs[0], DatasetKind.MANAGED, source)}
    started = time.perf_counter()
    engine.run_recipe(recipe, inputs, {recipe.outputs[0]: out}, lambda _m: None)
    seconds = time.perf_counter() - started
    return seconds, pd.read_parquet(sorted(out.glob("part-*.parquet")))


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def compare(
    name: str,
    recipe: RecipeSpec,
    source: Path,
    rows: int,
    engines: list[Engine],
    repeat: int,
    root: Path,
) -> dict[str, float]:
    """Median seconds per engine after a warm-up run whose outputs must agree."""
    outputs = {}
    for engine in engines:
        _, outputs[engine.name] = run_once(engine, recipe, source, root, "warm")
    local, spark = (canonical(outputs[e.name]) for e in engines)
    pd.testing.assert_frame_equal(local, spark, check_dtype=False, rtol=1e-9)
    times: dict[str, list[float]] = {e.name: [] for e in engines}
    for i in range(repeat):
        for engine in engines if i % 2 == 0 else engines[::-1]:
            seconds, _ = run_once(engine, recipe, source, root, str(i))
            times[engine.name].append(seconds)
    medians = {n: statistics.median(t) for n, t in times.items()}
    print(f"\n{name}: {rows:,} rows, outputs agree ({len(local):,} rows)")
    for engine_name, seconds in medians.items():
        print(f"  {engine_name:6s} {seconds:7.2f} s  {rows / seconds:12,.0f} rows/s")
    ratio = medians["spark"] / medians["local"]
    print(f"  spark / local time: {ratio:.2f}x")
    return medians


def worker_env(settings: SparkSettings) -> dict[str, str]:
    """The CLUSTERLAB_SPARK_* variables that give a build job's worker these settings."""
    return {
        "CLUSTERLAB_SPARK_MASTER": settings.master,
        "CLUSTERLAB_SPARK_CONF": json.dumps(dict(settings.conf)),
        "CLUSTERLAB_SPARK_DRIVER_MEMORY": settings.driver_memory,
    }


def deploy_and_add_apply(project: cl.Project, train: Path, source: Path) -> None:
    """Train K-means in the Lab on ``train``, deploy it as ``segments``, import ``source``
    as ``customers`` and add one apply recipe per engine (``scored_local``, ``scored_spark``)."""
    project.import_dataset("customers_train", train)
    task = project.create_clustering_task("customers_train")
    task.reject_feature("customer_id")
    task.set_algorithm("kmeans", k=[K])
    [model] = task.train().models
    if model.error:
        raise RuntimeError(f"K-means training failed: {model.error}")
    model.deploy("segments")
    project.import_dataset("customers", source)
    for engine in APPLY_ENGINES:
        project.create_apply_recipe(
            "customers", "segments", f"scored_{engine}", name=f"apply_{engine}"
        )


def apply_once(project: cl.Project, engine: str) -> dict[str, float]:
    """Seconds of one build job of the apply recipe on ``engine``.

    ``job`` is the whole job. ``scoring`` runs from the recipe's "scoring" log line to
    the engine's "Scored N rows" one (read, predict, write). ``start`` is its part before
    the recipe's first progress report, which Spark makes once its session is up, the
    input counted and the scorer probed (the local engine reports after each batch).
    """
    recipe = f"apply_{engine}"
    reported: list[datetime] = []

    def watch(job: Job) -> None:
        # Seen at the build's next poll, 0.2 s later at most.
        if not reported and (job.progress_text or "").startswith(f"{recipe}: "):
            reported.append(datetime.now(UTC))

    job = project.build(
        f"scored_{engine}", engine=engine, force=True, upstream=False, on_update=watch
    )
    lines = project.workspace.runtime.logs(job.id)
    try:
        began = next(ln.at for ln in lines if ln.message.endswith(f"on the {engine} engine"))
        ended = next(ln.at for ln in lines if ln.message.startswith("Scored "))
    except StopIteration:
        raise RuntimeError(f"job {job.id} logged no scoring line or no Scored line") from None
    assert job.finished_at is not None
    return {
        "job": (job.finished_at - job.created_at).total_seconds(),
        "scoring": (ended - began).total_seconds(),
        "start": (reported[0] - began).total_seconds() if reported else float("nan"),
    }


def compare_apply(project: cl.Project, rows: int, repeat: int) -> dict[str, float]:
    """Median scoring seconds per engine over ``repeat`` build jobs each, taking turns;
    the outputs of the first two must agree."""
    runs: dict[str, list[dict[str, float]]] = {e: [] for e in APPLY_ENGINES}
    agreed = 0
    for i in range(repeat):
        for engine in APPLY_ENGINES if i % 2 == 0 else APPLY_ENGINES[::-1]:
            runs[engine].append(apply_once(project, engine))
        if i == 0:
            local, spark = (
                project.dataset(f"scored_{e}").to_pandas().sort_values("customer_id")
                for e in APPLY_ENGINES
            )
            pd.testing.assert_frame_equal(
                local.reset_index(drop=True), spark.reset_index(drop=True), rtol=1e-9
            )
            agreed = len(local)

    def median(engine: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[engine])

    print(f"\napply (K-means k={K}): {rows:,} rows, outputs agree ({agreed:,} rows)")
    for engine in APPLY_ENGINES:
        seconds = median(engine, "scoring")
        print(
            f"  {engine:6s} {seconds:7.2f} s  {rows / seconds:12,.0f} rows/s"
            f"  (whole build job {median(engine, 'job'):.2f} s)"
        )
    local_s = median("local", "scoring")
    ratio = median("spark", "scoring") / local_s
    print(
        f"  spark / local time: {ratio:.2f}x "
        f"(whole build jobs {median('spark', 'job') / median('local', 'job'):.2f}x)"
    )
    # Each job is a fresh worker, so Spark's scoring includes launching its JVM.
    start = median("spark", "start")
    net = statistics.median(run["scoring"] - run["start"] for run in runs["spark"])
    print(
        f"  spark without its start ({start:.2f} s: JVM launch, input count, probe): "
        f"{net:.2f} s, {rows / net:,.0f} rows/s, {net / local_s:.2f}x local"
    )
    return {engine: median(engine, "scoring") for engine in APPLY_ENGINES}


def timed(label: str, action: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.1f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="page views to group")
    parser.add_argument("--weblogs", type=int, default=200_000, help="web log rows to prepare")
    parser.add_argument(
        "--apply-rows", type=int, default=200_000, help="customers to score with K-means"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small data, one repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.weblogs, args.apply_rows, args.repeat = 200_000, 20_000, 50_000, 1
    settings = SparkSettings(
        master="local[2]",
        conf={"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"},
        driver_memory="2g",
    )
    # Build jobs' workers read the Spark settings from the environment they inherit.
    os.environ.update(worker_env(settings))
    spark = SparkEngine(settings)
    engines: list[Engine] = [LocalEngine(), spark]
    with tempfile.TemporaryDirectory(prefix="clusterlab-bench-spark-") as tmp:
        root = Path(tmp)
        for folder, table in (
            ("pageviews", timed("generate page views", lambda: page_views(args.rows))),
            ("weblogs", timed("generate web logs", lambda: web_logs(args.weblogs))),
            ("customers", timed("generate customers", lambda: customers(args.apply_rows, 2))),
            ("train", customers(TRAIN_ROWS, 1)),
        ):
            (root / folder).mkdir()
            pq.write_table(table, root / folder / "part-0.parquet")
        project = cl.Workspace(root / "workspace").create_project("BENCH")
        timed(
            f"train K-means on {TRAIN_ROWS:,} customers (Lab job), deploy, import "
            f"{args.apply_rows:,} to score",
            lambda: deploy_and_add_apply(
                project, root / "train" / "part-0.parquet", root / "customers" / "part-0.parquet"
            ),
        )
        timed("Spark session start (local[2], JVM launch)", lambda: spark.session)
        compare("group", GROUP, root / "pageviews", args.rows, engines, args.repeat, root)
        compare("web prepare", WEB, root / "weblogs", args.weblogs, engines, args.repeat, root)
        compare_apply(project, args.apply_rows, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
