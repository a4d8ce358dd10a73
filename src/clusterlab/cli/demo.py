"""`clusterlab demo`: the tutorial, headless, then the web UI."""

from __future__ import annotations

from clusterlab.cli.context import state
from clusterlab.cli.flow import job_progress
from clusterlab.cli.output import console, print_table
from clusterlab.samples.crm import CHANNELS
from clusterlab.services.tutorial import (
    CRM_SEGMENTED,
    SEGMENTED,
    TUTORIAL_K,
    TutorialResult,
    channel_dataset,
    open_or_create_starter,
    run_tutorial,
)


def run_demo(key: str) -> TutorialResult:
    """Run the whole tutorial on the starter project ``key`` and print what it made."""
    ws = state.workspace()

    def say(message: str) -> None:
        console.print(message, highlight=False)

    project = open_or_create_starter(ws, key, say)
    with job_progress(True) as on_update:
        result = run_tutorial(project, say, on_update)
    _print_session(result)
    _print_segments(result)
    return result


def _print_session(result: TutorialResult) -> None:
    print_table(
        f"Session {result.session.summary.number} (higher silhouette is better)",
        ["Model", "Silhouette", "Davies-Bouldin", "Clusters"],
        [
            (
                m.summary.label,
                f"{m.metrics.get('silhouette', 0):.3f}",
                f"{m.metrics.get('davies_bouldin', 0):.3f}",
                m.metrics.get("n_clusters"),
            )
            for m in result.session.models
        ],
    )
    observations = result.model.report.observations()
    print_table(
        f"K-means (k={TUTORIAL_K}): clusters named after their top observation",
        ["Cluster", "Size", "Observation"],
        [
            (r["cluster"], f"{r['size']:,} ({r['share']:.1%})", r["sentence"])
            for r in observations.groupby("cluster", sort=False).head(1).to_dict("records")
        ],
    )


def _print_segments(result: TutorialResult) -> None:
    project = result.project
    visitors = project.dataset(SEGMENTED).to_pandas(["cluster_labels"])["cluster_labels"]
    crm = project.dataset(CRM_SEGMENTED).to_pandas(["cluster_labels", "channel"])
    by_channel = crm.groupby(["cluster_labels", "channel"]).size()
    rows = []
    for name, count in visitors.value_counts().items():
        per = [int(by_channel.get((name, c), 0)) for c in CHANNELS]
        rows.append((name, f"{count:,}", *(f"{n:,}" for n in per)))
    saved = result.saved_model
    print_table(
        f"{SEGMENTED} (saved model {saved.id} {saved.active.id}) and CRM customers per channel",
        ["Segment", "Visitors", *(channel_dataset(c) for c in CHANNELS)],
        rows,
    )
