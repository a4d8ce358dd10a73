"""`clusterlab demo`: the tutorial, headless, as far as ClusterLab goes today."""

from __future__ import annotations

from clusterlab.cli.context import state
from clusterlab.cli.flow import job_progress
from clusterlab.cli.output import console, print_table
from clusterlab.services.starter import create_starter

GROUPED = "weblogs_prepared_by_visitor_id"


def run_demo(key: str) -> None:
    """Create (or reuse) the starter project, build the Flow, train K-means 3/5/7, show k = 5."""
    ws = state.workspace()
    if key in [p.key for p in ws.projects()]:
        project = ws.project(key)
        console.print(f"Using project [bold]{key}[/] in {ws.home}")
    else:
        console.print(f"Creating the web-logs starter project [bold]{key}[/] in {ws.home}")
        project = create_starter(ws, key, "weblogs")
    with job_progress(True) as on_update:
        job = project.build_all(on_update=on_update)
    for line in ws.runtime.logs(job.id):
        console.print(f"  {line.message}", highlight=False)
    grouped = project.dataset(GROUPED)
    stats = grouped.stats()
    print_table(
        f"{key}.{GROUPED}: {stats.rows:,} visitors, {len(stats.columns)} columns",
        ["Column", "Type", "Mean", "Max", "Top value"],
        [
            (
                c.name,
                c.type,
                "" if c.mean is None else f"{c.mean:.3g}",
                c.max,
                c.top_values[0].value if c.top_values else "",
            )
            for c in stats.columns
        ],
    )
    tasks = [t for t in project.clustering_tasks() if t.spec.dataset == GROUPED]
    task = tasks[0] if tasks else project.create_clustering_task(GROUPED)
    console.print(f"Lab: AutoML clustering task {task.id}, training K-means k = 3, 5, 7")
    with job_progress(True) as on_update:
        session = task.train(on_update=on_update)
    print_table(
        f"Session {session.summary.number} (higher silhouette is better)",
        ["Model", "Silhouette", "Inertia", "Clusters"],
        [
            (
                m.summary.label,
                f"{m.metrics.get('silhouette', 0):.3f}",
                f"{m.metrics.get('inertia', 0):.0f}",
                m.metrics.get("n_clusters"),
            )
            for m in session.models
        ],
    )
    k5 = next(m for m in session.models if m.params.get("k") == 5)
    observations = k5.report.observations()
    print_table(
        "K-means (k=5): clusters and their top observation",
        ["Cluster", "Size", "Observation"],
        [
            (r["cluster"], f"{r['size']:,} ({r['share']:.1%})", r["sentence"])
            for r in observations.groupby("cluster", sort=False).head(1).to_dict("records")
        ],
    )
    console.print(
        f"Next: `clusterlab lab report {key} {task.id} {k5.id}` and "
        f"`clusterlab lab rename {key} {task.id} {k5.id} cluster_0 NAME`; "
        "deploy, apply and the web UI come next."
    )
