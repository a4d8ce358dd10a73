"""Parameters of the Flow's machine-learning recipes: train, apply and cluster.

A *train* recipe reads a dataset and writes a saved model: each run trains the one
model it was deployed with and makes a new active version. An *apply* recipe reads a
dataset and a saved model and writes the dataset's rows with their cluster names. A
*cluster* recipe re-clusters its input from scratch at every run (its cluster names
are not kept from one run to the next).

Examples
--------
>>> from clusterlab.core.mltask import ModelParams, TaskDesign
>>> ApplyParams().label_column
'cluster_labels'
>>> TrainParams(design=TaskDesign().for_models(ModelParams(algorithm="kmeans"))).type
'train'
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clusterlab.core.mltask import TaskDesign

ColumnName = Annotated[str, Field(min_length=1, max_length=512)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _OneModel(_Spec):
    design: TaskDesign

    @model_validator(mode="after")
    def _exactly_one_model(self) -> _OneModel:
        if len(self.design.grid()) != 1:
            raise ValueError(
                f"the design must train exactly one model, it trains {len(self.design.grid())}"
            )
        return self


class TrainParams(_OneModel):
    """Retrain the deployed model on the input dataset; ``task`` is where it came from."""

    type: Literal["train"] = "train"
    task: str | None = None


class ClusterParams(_OneModel):
    """Re-cluster the input at every run with the design's one model."""

    type: Literal["cluster"] = "cluster"


class ApplyParams(_Spec):
    """Score the input rows with the saved model's active version.

    ``columns`` keeps a subset of the input columns (all by default); ``distance``
    adds ``cluster_distance``; ``batch_rows`` bounds the rows held in memory at once.
    """

    type: Literal["apply"] = "apply"
    columns: list[ColumnName] | None = None
    distance: bool = True
    batch_rows: int = Field(default=100_000, ge=1_000, le=10_000_000)
    label_column: Literal["cluster_labels"] = "cluster_labels"
