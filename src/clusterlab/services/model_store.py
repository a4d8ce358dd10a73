"""Write a trained model's folder: artifact, report with every panel, cluster metadata.

The report builders read the scored training rows through Ibis. The rows are turned
into one Arrow table per session (±inf read as missing, like training does) and each
model only adds its label column as a dictionary array, so a session of three models
on 1M rows converts the data once, not three times.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clusterlab.core.lab import ClusterMeta, ModelSummary
from clusterlab.ml.artifacts import save_model
from clusterlab.ml.report import DEFAULT_CLUSTER_COLUMN, build_report
from clusterlab.ml.report.anomalies import SCORE_COLUMN, build_anomalies
from clusterlab.ml.report.hierarchy import session_hierarchy
from clusterlab.ml.report.panels import build_detailed_metrics, build_training_info
from clusterlab.ml.report.scatter import fit_projection, session_scatter
from clusterlab.ml.training import SessionResult, TrainedModel
from clusterlab.storage.atomic import write_text_atomic

REPORT_FILE = "report.json"
CLUSTERS_FILE = "clusters.json"
PROJECTION_ROWS = 50_000
"""Rows the scatter plot's 2-D projection is fitted on: two components of a large
matrix come out the same from an evenly spaced sample, at a fraction of the cost."""


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
        frame = result.frame[[f.name for f in self.features]]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        self.base = pa.table({n: _finite(table[n]) for n in table.column_names})
        del table
        # Arrow's allocator keeps freed blocks for reuse; give them back before the
        # report queries so that they do not add to the job's peak memory.
        pa.default_memory_pool().release_unused()
        step = max(1, len(result.matrix) // PROJECTION_ROWS)
        self.projection = fit_projection(result.matrix[::step])

    def scored(self, model: TrainedModel, **extra: Any) -> Any:
        """The Ibis table of the training rows with the model's labels (and ``extra``)."""
        assert model.labels is not None
        names = model.cluster_names
        codes = pd.Categorical(model.labels, categories=names).codes
        labels = pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=codes < 0, type=pa.int32()), pa.array(names, pa.string())
        )
        table = self.base.append_column(DEFAULT_CLUSTER_COLUMN, labels)
        for name, values in extra.items():
            table = table.append_column(name, pa.array(np.asarray(values), from_pandas=True))
        return ibis.memtable(table)

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
        if model.hierarchy is not None:
            panels["hierarchy"] = session_hierarchy(result, model)
        if model.anomaly_scores is not None:
            panels["anomalies"] = build_anomalies(
                self.scored(model, **{SCORE_COLUMN: model.anomaly_scores}),
                self.features,
                top=int(params.params.get("anomalies_to_display", 100) or 100),
            )
        return panels

    def write(self, model: TrainedModel, folder: Path) -> ModelSummary:
        """Write ``model`` into ``folder``; a failed model gets its summary only."""
        folder.mkdir(parents=True, exist_ok=True)
        summary = ModelSummary(
            id=folder.name,
            label=model.params.label,
            algorithm=model.params.algorithm.value,
            params=dict(model.params.params),
            pca=model.params.pca,
            error=model.error,
            metrics=model.metrics.as_dict() if model.metrics else {},
            timings=dict(model.timings),
            diagnostics=[d.message for d in model.diagnostics],
        )
        if not model.ok:
            self.log(f"{model.params.label}: failed: {model.error}")
            return summary
        save_model(model, folder)
        report = build_report(
            self.scored(model),
            self.features,
            cluster_order=model.cluster_names,
            importances=self.result.importances(model),
        ).with_panels(**self.panels(model))
        (folder / REPORT_FILE).write_text(report.model_dump_json(), encoding="utf-8")
        clusters = [
            ClusterMeta(id=c.name, name=c.name, color=c.color, suggested_name=c.suggested_name)
            for c in report.clusters
        ]
        write_json(folder / CLUSTERS_FILE, [c.model_dump() for c in clusters])
        self.log(f"{model.params.label}: silhouette {summary.metrics.get('silhouette')}")
        return summary
