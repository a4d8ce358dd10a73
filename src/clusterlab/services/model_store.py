"""Write a trained model's folder: artifact, report with every panel, cluster metadata.

The report builders read the scored training rows through Ibis (the profiles' bins and
box statistics, above `PROFILE_ROWS`, a sample of them). The rows are turned into one
Arrow table per session (±inf read as missing, like training does) and each model only
adds its label column as a dictionary array, so a session of three models on 1M rows
converts the data once, not three times.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clusterlab.core.lab import ClusterMeta, ModelSummary
from clusterlab.engines.local.duck import arrow_tables
from clusterlab.ml.artifacts import save_model
from clusterlab.ml.report import DEFAULT_CLUSTER_COLUMN, ClusterReport, build_report
from clusterlab.ml.report.anomalies import SCORE_COLUMN, build_anomalies
from clusterlab.ml.report.hierarchy import session_hierarchy
from clusterlab.ml.report.panels import build_detailed_metrics, build_training_info
from clusterlab.ml.report.rules import build_rules
from clusterlab.ml.report.scatter import fit_projection, session_scatter
from clusterlab.ml.sampling import stratified_positions
from clusterlab.ml.training import SessionResult, TrainedModel
from clusterlab.storage.atomic import write_text_atomic

REPORT_FILE = "report.json"
CLUSTERS_FILE = "clusters.json"
PROJECTION_ROWS = 50_000
"""Rows the scatter plot's 2-D projection is fitted on: two components of a large
matrix come out the same from an evenly spaced sample, at a fraction of the cost."""
PROFILE_ROWS = 200_000
"""Rows the profiles' bins and box statistics are read from, stratified on the clusters:
a share is then within about 0.5/sqrt(cluster's rows in the sample) of the exact one
(±0.35 points for a tenth of the sample), and the panel costs a fifth at 1M rows."""
PROFILE_MIN_ROWS = 200
"""Rows a small cluster keeps in the profile sample (all of them when it has fewer)."""


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def _finite(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Rewriting a column copies it: only do so when it holds an infinity.
    if not pa.types.is_floating(column.type) or not pc.any(pc.is_inf(column)).as_py():
        return column
    return pc.if_else(pc.is_inf(column), pa.scalar(None, column.type), column)


class ModelStore:
    """Writes the models of one session, sharing what they have in common."""

    def __init__(self, result: SessionResult, log: Callable[[str], None]) -> None:
        self.result = result
        self.log = log
        self.features = result.report_features()
        # Column by column: a numeric column of the frame is a view of its block and
        # becomes an Arrow array without a copy (selecting columns as a frame copied
        # them all, a second copy of the rows in the job's peak memory).
        frame = result.frame
        self.base = pa.table(
            {
                f.name: _finite(pa.chunked_array([pa.Array.from_pandas(frame[f.name])]))
                for f in self.features
            }
        )
        step = max(1, len(result.matrix) // PROJECTION_ROWS)
        self.projection = fit_projection(result.matrix[::step])

    def _labels(self, model: TrainedModel) -> pa.DictionaryArray:
        assert model.labels is not None
        names = model.cluster_names
        codes = pd.Categorical(model.labels, categories=names).codes
        return pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=codes < 0, type=pa.int32()), pa.array(names, pa.string())
        )

    @contextmanager
    def tables(self, model: TrainedModel, **extra: Any) -> Iterator[tuple[Any, Any]]:
        """The model's scored training rows (with ``extra`` columns), as an Ibis table,
        and at most `PROFILE_ROWS` of them stratified on its clusters (None when there
        are no more rows than that); both are freed when the block ends."""
        labels = self._labels(model)
        scored = self.base.append_column(DEFAULT_CLUSTER_COLUMN, labels)
        for name, values in extra.items():
            scored = scored.append_column(name, pa.array(np.asarray(values), from_pandas=True))
        tables = {"scored": scored}
        if self.base.num_rows > PROFILE_ROWS:
            codes = labels.indices.fill_null(-1).to_numpy()
            rows = pa.array(stratified_positions(codes, PROFILE_ROWS, 0, PROFILE_MIN_ROWS))
            tables["profile_sample"] = scored.take(rows)
        with arrow_tables(tables) as found:
            yield found["scored"], found.get("profile_sample")

    def panels(self, model: TrainedModel) -> dict[str, Any]:
        """The panels besides summary, heatmap, profiles and importance."""
        assert model.metrics is not None
        result, params = self.result, model.params
        panels: dict[str, Any] = {
            "scatter": session_scatter(result, model, projection=self.projection),
            "detailed_metrics": build_detailed_metrics(
                model.metrics.as_dict(), model.metrics.cluster_sizes
            ),
            "training_info": build_training_info(
                params.label,
                params.params,
                timings={**result.timings, **model.timings},
                outliers=result.design.outliers.model_dump(mode="json"),
                pca={
                    "enabled": params.pca,
                    "variance": result.design.reduction.variance,
                    "factors": len(result.factor_names) if params.pca else 0,
                },
                diagnostics=[*result.diagnostics, *model.diagnostics],
                features=result.design.features,
                n_rows=len(result.frame),
            ),
        }
        # Rules read the original feature values: the frame's, not the matrix.
        kinds: dict[bool, list[str]] = {True: [], False: []}
        for feature in self.features:
            kinds[feature.is_numeric].append(feature.name)
        panels["rules"] = build_rules(result.frame, model.labels, kinds[True], kinds[False])
        if model.hierarchy is not None:
            panels["hierarchy"] = session_hierarchy(result, model)
        if model.anomaly_scores is not None:
            with self.tables(model, **{SCORE_COLUMN: model.anomaly_scores}) as (scored, _):
                panels["anomalies"] = build_anomalies(
                    scored,
                    self.features,
                    top=int(params.params.get("anomalies_to_display", 100) or 100),
                )
        return panels

    def write(self, model: TrainedModel, folder: Path) -> ModelSummary:
        """Write ``model`` into ``folder``; a failed model gets its summary only.

        The summary's timings add, to the model's fit and metrics, the seconds spent
        here on its ``artifact``, ``importance``, ``report`` and other ``panels``.
        """
        folder.mkdir(parents=True, exist_ok=True)
        timings = dict(model.timings)
        if not model.ok:
            self.log(f"{model.params.label}: failed: {model.error}")
            return _summary(model, folder, timings)
        lap = _laps(timings)
        save_model(model, folder)
        lap("artifact")
        importances = self.result.importances(model)
        lap("importance")
        with self.tables(model) as (scored, profile_sample):
            report = build_report(
                scored,
                self.features,
                cluster_order=model.cluster_names,
                importances=importances,
                profile_sample=profile_sample,
            )
        lap("report")
        report = report.with_panels(**self.panels(model))
        lap("panels")
        write_report(folder, report)
        summary = _summary(model, folder, timings)
        self.log(f"{model.params.label}: silhouette {summary.metrics.get('silhouette')}")
        return summary


def write_report(folder: Path, report: ClusterReport) -> None:
    """Write a model's report, and its clusters' first metadata: the names the algorithm
    gave, default colors and the suggested names."""
    (folder / REPORT_FILE).write_text(report.model_dump_json(), encoding="utf-8")
    clusters = [
        ClusterMeta(id=c.name, name=c.name, color=c.color, suggested_name=c.suggested_name)
        for c in report.clusters
    ]
    write_json(folder / CLUSTERS_FILE, [c.model_dump() for c in clusters])


def _laps(timings: dict[str, float]) -> Callable[[str], None]:
    """``lap(name)`` records in ``timings`` the seconds since the previous lap."""
    last = [perf_counter()]

    def lap(name: str) -> None:
        now = perf_counter()
        timings[name] = now - last[0]
        last[0] = now

    return lap


def _summary(model: TrainedModel, folder: Path, timings: dict[str, float]) -> ModelSummary:
    return ModelSummary(
        id=folder.name,
        label=model.params.label,
        algorithm=model.params.algorithm.value,
        params=dict(model.params.params),
        pca=model.params.pca,
        error=model.error,
        metrics=model.metrics.as_dict() if model.metrics else {},
        timings=timings,
        diagnostics=[d.message for d in model.diagnostics],
    )
