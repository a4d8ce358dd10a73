"""Run the Flow's ML recipes (train, apply, cluster) inside a build, smartly.

Like the Ibis recipes, an ML recipe is skipped when what it read last time has not
changed: a train recipe's signature (its spec and the input's version) is stored in
the saved-model version it made; an apply or cluster recipe's beside its output
version, with the active saved-model version it scored with.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from clusterlab.core.dataset import DatasetSpec
from clusterlab.core.recipes import RecipeSpec
from clusterlab.services.build import SIGNATURE_FILE, _up_to_date, input_data
from clusterlab.services.deploy import (
    ml_signature,
    run_apply_recipe,
    run_cluster_recipe,
    run_train_recipe,
    train_parts,
)
from clusterlab.services.saved_models import open_saved_model

if TYPE_CHECKING:
    from clusterlab.services.project import Project

Log = Callable[[str], None]


def run_ml_recipe(
    project: Project,
    recipe: RecipeSpec,
    *,
    force: bool,
    log: Log,
    progress: Callable[[float, str], None] | None = None,
    engine: str = "local",
) -> bool:
    """Run ``recipe`` on ``engine`` unless it is up to date; returns whether it ran.

    ``progress`` gets the share of the apply recipe's rows scored so far. On Spark, train
    and cluster recipes train with pyspark.ml.
    """
    data = input_data(project, recipe.inputs[0], recipe.name)
    parts = {"data": project.dataset(recipe.inputs[0]).fingerprint()}
    if recipe.type == "train":
        saved = open_saved_model(project, recipe.outputs[0])
        # The engine decides the version's flavor: a Spark run does not reuse a local one.
        sig = ml_signature(recipe, train_parts(parts, engine))
        if not force and saved.spec.active and saved.active.info.signature == sig:
            log(f"{recipe.name}: up to date, skipped (data and recipe unchanged)")
            return False
        run_train_recipe(project, recipe, sig, log, engine)
        return True
    if recipe.type == "apply":
        saved = open_saved_model(project, recipe.inputs[1])
        parts["model"] = f"{saved.id}:{saved.active.id}"
    sig = ml_signature(recipe, parts)
    if not force and _up_to_date(project, recipe, sig):
        log(f"{recipe.name}: up to date, skipped (inputs and recipe unchanged)")
        return False
    output = recipe.outputs[0]
    if not project.has_dataset(output):
        project.workspace.definitions.write_dataset(project.key, DatasetSpec(name=output))
    with project.dataset(output).versions.new_version() as folder:
        if recipe.type == "apply":

            def scored(done: int, total: int) -> None:
                if progress:
                    progress(done / max(total, 1), f"{recipe.name}: {done:,} / {total:,} rows")

            result = run_apply_recipe(project, recipe, data, folder, log, scored, engine)
        else:
            result = run_cluster_recipe(project, recipe, data, folder, log, engine)
        (folder / SIGNATURE_FILE).write_text(json.dumps({"signature": sig, "recipe": recipe.name}))
    log(f"{recipe.name}: wrote {result.rows:,} rows to {output}")
    return True
