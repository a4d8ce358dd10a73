"""The tutorial of the web-logs starter, end to end, as one service call.

Starter project → build all → AutoML clustering (K-means 3, 5, 7) → name the k = 5
clusters from their top observations → deploy → apply to the visitors
(``weblogs_segmented``) → join the CRM with it (``crm_segmented``) → split that into
one dataset per channel → build all. `clusterlab demo` (and so `make run`) runs it;
running it again refreshes the project: a new session, a new saved-model version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clusterlab.samples.crm import CHANNELS
from clusterlab.services.starter import create_starter

if TYPE_CHECKING:
    from clusterlab.services.lab import Model, Session
    from clusterlab.services.project import Project
    from clusterlab.services.saved_models import SavedModel
    from clusterlab.services.workspace import Workspace
    from clusterlab.storage.runtime import Job

GROUPED = "weblogs_prepared_by_visitor_id"
SAVED_MODEL = "weblogs_segments"
SEGMENTED = "weblogs_segmented"
CRM_SEGMENTED = "crm_segmented"
TUTORIAL_K = 5

Say = Callable[[str], None]
OnUpdate = Callable[["Job"], None] | None


def channel_dataset(channel: str) -> str:
    """The dataset holding the CRM customers of one channel."""
    return f"crm_{channel}"


DOWNSTREAM: list[dict[str, Any]] = [
    {
        "name": "join_crm_with_segments",
        "type": "join",
        "inputs": ["crm", SEGMENTED],
        "outputs": [CRM_SEGMENTED],
        "params": {
            "how": "left",
            "on": [{"left": "visitor_id", "right": "visitor_id"}],
            "right_columns": ["visitor_id", "cluster_labels"],
        },
    },
    {
        "name": "split_crm_by_channel",
        "type": "split",
        "inputs": [CRM_SEGMENTED],
        "outputs": [channel_dataset(c) for c in CHANNELS],
        "params": {
            "mode": "values",
            "column": "channel",
            "mapping": {c: channel_dataset(c) for c in CHANNELS},
        },
    },
]


@dataclass
class TutorialResult:
    """What the tutorial made: the project, the session, the chosen model, the saved model."""

    project: Project
    session: Session
    model: Model
    saved_model: SavedModel


def open_or_create_starter(ws: Workspace, key: str, say: Say) -> Project:
    """The starter project ``key``, created when it does not exist yet."""
    if key in [p.key for p in ws.projects()]:
        say(f"Using project {key} in {ws.home}")
        return ws.project(key)
    say(f"Creating the web-logs starter project {key} in {ws.home}")
    return create_starter(ws, key, "weblogs")


def run_tutorial(project: Project, say: Say, on_update: OnUpdate = None) -> TutorialResult:
    """Run every step of the tutorial on the starter ``project``.

    ``on_update`` is called with each job's state as it runs (a progress bar in the CLI).
    """
    say("Build all: prepare the web logs and group them by visitor")
    project.build_all(on_update=on_update)
    tasks = [t for t in project.clustering_tasks() if t.spec.dataset == GROUPED]
    task = tasks[0] if tasks else project.create_clustering_task(GROUPED)
    say(f"Lab: AutoML clustering task {task.id}, training K-means k = 3, 5, 7")
    session = task.train(on_update=on_update)
    model = next(m for m in session.models if m.params.get("k") == TUTORIAL_K)
    model.apply_suggested_names()
    exists = any(m.id == SAVED_MODEL for m in project.saved_models())
    say(f"Deploy K-means (k={TUTORIAL_K}) to the Flow as {SAVED_MODEL}")
    saved = model.deploy(SAVED_MODEL, name="Web visitor segments", update=exists)
    recipes = {r.name for r in project.recipes_specs()}
    if not any(r.type == "apply" and r.outputs == [SEGMENTED] for r in project.recipes_specs()):
        project.create_apply_recipe(GROUPED, SAVED_MODEL, SEGMENTED)
    for recipe in DOWNSTREAM:
        if recipe["name"] not in recipes:
            project.create_recipe(recipe)
    say("Build all: apply the model, join the CRM, split it by channel")
    project.build_all(on_update=on_update)
    return TutorialResult(project, session, model, saved)
