"""Saved model pages: versions with activate and roll back, changes, drift; version reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clusterlab.core.errors import NotFoundError
from clusterlab.web import deps
from clusterlab.web.pages.models import report_context
from clusterlab.web.templating import render

router = APIRouter()
# The metrics the versions table shows; the version report has them all.
VERSION_METRICS = (
    ("n_clusters", "Clusters"),
    ("silhouette", "Silhouette"),
    ("davies_bouldin", "Davies-Bouldin"),
)
CHANGE_KINDS = ("continues", "births", "deaths", "splits", "merges")


def change_counts(matching: dict[str, Any] | None) -> dict[str, int] | None:
    """How many clusters continue, are born, die, split or merge (None: no matching).

    Examples
    --------
    >>> change_counts({"links": [{"old": "a"}, {"old": None}], "births": ["y"],
    ...                "deaths": [], "splits": [], "merges": []})
    {'continues': 1, 'births': 1, 'deaths': 0, 'splits': 0, 'merges': 0}
    """
    if not matching:
        return None
    counts = {"continues": sum(1 for link in matching.get("links", []) if link.get("old"))}
    counts.update({kind: len(matching.get(kind, [])) for kind in CHANGE_KINDS[1:]})
    return counts


def version_rows(saved: Any) -> list[dict[str, Any]]:
    """The versions table, newest first: info, metrics, source link and changes."""
    key = saved.project.key
    rows = []
    for version in reversed(saved.versions):
        info = version.info
        lineage = info.lineage
        source_href = None
        if info.source == "deploy" and {"task", "session", "model"} <= lineage.keys():
            source_href = (
                f"/projects/{key}/lab/{lineage['task']}/sessions/{lineage['session']}"
                f"/models/{lineage['model']}"
            )
        elif lineage.get("recipe"):
            source_href = f"/projects/{key}/recipes/{lineage['recipe']}"
        rows.append(
            {
                "id": version.id,
                "active": version.active,
                "info": info,
                "source_href": source_href,
                "metrics": [(label, info.metrics.get(name)) for name, label in VERSION_METRICS],
                "counts": change_counts(version.matching),
                "report": f"/projects/{key}/saved-models/{saved.id}/versions/{version.id}",
            }
        )
    return rows


def apply_run_rows(saved: Any) -> list[dict[str, Any]]:
    """Apply runs, newest first, with shares under the cluster names of their version."""
    names_by_version = {v.id: v.names() for v in saved.versions}
    rows = []
    for run in reversed(saved.apply_runs()):
        names = names_by_version.get(run.get("version"), {})
        shares = run.get("run", {}).get("shares", {})
        rows.append(
            {
                "at": str(run.get("at", ""))[:19].replace("T", " "),
                "recipe": run.get("recipe"),
                "dataset": run.get("dataset"),
                "version": run.get("version"),
                "rows": run.get("rows"),
                "shares": [(names.get(c, c), share) for c, share in shares.items()],
                "warnings": run.get("warnings", []),
            }
        )
    return rows


@router.get("/projects/{key}/saved-models/{model_id}")
def saved_model_page(request: Request, key: str, model_id: str) -> Response:
    """A saved model: versions (activate, roll back, reports), apply recipes and their drift."""
    project = deps.project(request, key)
    saved = deps.saved_model(request, key, model_id)
    applies = [r for r in project.recipes_specs() if r.type == "apply" and saved.id in r.inputs]
    ids = [v.id for v in saved.versions]
    crumbs = [("Projects", "/"), (project.name, f"/projects/{key}/flow"), (saved.name, None)]
    return render(
        request,
        "saved_model.html",
        {
            "project": project,
            "section": "flow",
            "crumbs": crumbs,
            "saved": saved,
            "versions": version_rows(saved),
            "can_roll_back": bool(saved.spec.active in ids[1:]),
            "applies": applies,
            "runs": apply_run_rows(saved),
            "datasets": [d.name for d in project.datasets() if d.has_data()],
            "api": f"/api/projects/{key}/saved-models/{saved.id}",
        },
    )


@router.get("/projects/{key}/saved-models/{model_id}/versions/{version_id}")
def version_page(
    request: Request,
    key: str,
    model_id: str,
    version_id: str,
    panel: str = Query("summary"),
) -> Response:
    """The report of one saved model version (read only: names are kept per version)."""
    project = deps.project(request, key)
    saved = deps.saved_model(request, key, model_id)
    version = saved.version(version_id)
    if not (version.folder / "report.json").is_file():
        raise NotFoundError(f"Version {version_id} of {saved.id} has no report.")
    info = version.info
    crumbs = [
        ("Projects", "/"),
        (project.name, f"/projects/{key}/flow"),
        (saved.name, f"/projects/{key}/saved-models/{saved.id}"),
        (version.id, None),
    ]
    api = f"/api/projects/{key}/saved-models/{saved.id}/versions/{version.id}"
    context = report_context(version, panel, label=f"{saved.name} {version.id}", api=api)
    active = " (active)" if version.active else ""
    context.update(
        {
            "project": project,
            "section": "flow",
            "crumbs": crumbs,
            "editable": False,
            "subtitle": f"{info.label} · {info.source} · {info.rows:,} rows{active}",
            "dataset": saved.spec.dataset,
            "metrics": info.metrics,
            "params": info.params,
            "deploy": None,
        }
    )
    return render(request, "model.html", context)
