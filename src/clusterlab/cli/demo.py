"""`clusterlab demo`: the tutorial, headless, as far as ClusterLab goes today."""

from __future__ import annotations

from clusterlab.cli.context import state
from clusterlab.cli.flow import job_progress
from clusterlab.cli.output import console, print_table
from clusterlab.services.starter import create_starter

GROUPED = "weblogs_prepared_by_visitor_id"


def run_demo(key: str) -> None:
    """Create (or reuse) the starter project, build the Flow, and show the grouped dataset."""
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
    console.print(
        "Next: explore it with "
        f"`clusterlab dataset show {key} {GROUPED}`; the Lab, deploy and the web UI come next."
    )
