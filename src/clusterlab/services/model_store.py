"""Write a trained model's folder: artifact, report, cluster metadata.

A Lab session writes each model's summary panels (observations, heatmap, detailed
metrics, training information) and defers the others (profiles, variables importance,
scatter plot, rules) to the first time the model is opened: on many rows they cost
several times the model's fit, and most models of a session are compared by their
metrics and never opened. Such a folder keeps the cluster of every training row
(`LABELS_FILE`); `complete_report` builds the deferred panels from it and the
session's cached training rows, then deletes it. Other writers (re-scoring a two-step
tree, retraining in a build) write the whole report at once, with the same builders.

The report builders read the scored training rows through Ibis (the profiles' bins and
box statistics, above `PROFILE_ROWS`, a sample of them). The rows are turned into one
Arrow table per session (±inf read as missing, like training does) and each model only
adds its label column as a dictionary array, so a session of three models on 1M rows
converts the data once, not three times.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.parquet as pq

from clusterlab.core.lab import ClusterMeta, ModelSummary
from clusterlab.engines.local.duck import arrow_tables
from clusterlab.ml.artifacts import load_model, save_model
from clusterlab.ml.preprocess import FittedPreprocessing, Matrix
from clusterlab.ml.report import DEFAULT_CLUSTER_COLUMN, ClusterReport, FeatureInfo, build_report
from clusterlab.ml.report.anomalies import SCORE_COLUMN, build_anomalies
from clusterlab.ml.report.cluster_report import report_profiles
from clusterlab.ml.report.hierarchy import session_hierarchy
from clusterlab.ml.report.importance import variables_importance
from clusterlab.ml.report.panels import build_detailed_metrics, build_training_info
from clusterlab.ml.report.rules import build_rules
from clusterlab.ml.report.scatter import build_scatter, fit_projection, row_preprocessor
from clusterlab.ml.sampling import stratified_positions
from clusterlab.ml.training import SessionResult, TrainedModel
from clusterlab.storage.atomic import write_text_atomic

REPORT_FILE = "report.json"
CLUSTERS_FILE = "clusters.json"
LABELS_FILE = "labels.arrow"
"""A model folder whose report is deferred keeps here the cluster of each training row
(``cluster``, null for rows in none) and whether the model was fitted on it
(``fitted``), as an LZ4 Arrow IPC file: written once, read back whole, never queried
(on 1M rows, 8 ms to write against 40 ms as Parquet)."""
_LEGACY_LABELS_FILE = "labels.parquet"
"""Where sessions written before the IPC format keep their labels; still read."""
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


def _report_column(values: pd.Series[Any]) -> pa.ChunkedArray:
    """A frame column as the report reads it: NaN and ±inf are missing, as in training."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        # One pass finds both, and a column without any is taken without a copy:
        # pyarrow's NaN scan and then a scan for infinities cost 6x more on 1M rows.
        array = values.to_numpy()
        finite = np.isfinite(array)
        return pa.chunked_array(
            [pa.array(array) if finite.all() else pa.array(array, mask=~finite)]
        )
    column = pa.chunked_array([pa.Array.from_pandas(values)])
    # Rewriting a column copies it: only do so when it holds an infinity.
    if not pa.types.is_floating(column.type) or not pc.any(pc.is_inf(column)).as_py():
        return column
    return pc.if_else(pc.is_inf(column), pa.scalar(None, column.type), column)


class FitRows:
    """The preprocessed matrix of the rows a model was fitted on, built only where read.

    A model's first view reads few of them: the importance's sample (20,000 rows) and
    the scatter projection's (50,000). Preprocessing all the rows again, as the view
    did before, cost ~0.3 s and a second copy of the matrix on 1M rows.
    """

    def __init__(
        self, preprocessing: FittedPreprocessing, frame: pd.DataFrame, positions: Any
    ) -> None:
        self.preprocessing = preprocessing
        self.frame = frame
        self.positions = np.asarray(positions)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.positions), len(self.preprocessing.feature_names)

    def __len__(self) -> int:
        return len(self.positions)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Matrix:
        # Read whole (few rows: the readers sample only above their thresholds).
        return np.asarray(self[:], dtype=dtype)

    def __getitem__(self, rows: Any) -> Matrix:
        """The matrix rows at ``rows`` (a slice or positions), preprocessed now."""
        matrix, kept = self.preprocessing.transform(self.frame.iloc[self.positions[rows]])
        if not kept.all():  # these rows were kept when the model was trained
            raise AssertionError("a fitted row was dropped by its own preprocessing")
        return matrix


class TrainingRows:
    """The training rows a session's models are reported on, shared by its models.

    ``matrix`` is the preprocessed matrix (before PCA) of the rows the models were
    fitted on, ``frame.iloc[fit_positions]``: an array, or `FitRows`.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        features: Sequence[FeatureInfo],
        preprocessing: FittedPreprocessing,
        matrix: Matrix | FitRows,
        fit_positions: np.ndarray[Any, Any],
    ) -> None:
        self.frame = frame
        self.features = list(features)
        self.preprocessing = preprocessing
        self.matrix = matrix
        self.fit_positions = fit_positions
        # Column by column: a numeric column of the frame is a view of its block and
        # becomes an Arrow array without a copy (selecting columns as a frame copied
        # them all, a second copy of the rows in the job's peak memory).
        self.base = pa.table({f.name: _report_column(frame[f.name]) for f in self.features})

    @classmethod
    def of_session(cls, result: SessionResult) -> TrainingRows:
        return cls(
            result.frame,
            result.report_features(),
            result.preprocessing,
            result.matrix,
            result.fit_positions,
        )

    @cached_property
    def projection(self) -> Any:
        """The scatter plot's 2-D projection, fitted once for every model."""
        step = max(1, len(self.matrix) // PROJECTION_ROWS)
        return fit_projection(self.matrix[::step])

    @contextmanager
    def tables(
        self,
        labels: pd.Series[Any] | pd.Categorical,
        clusters: Sequence[str],
        extra: dict[str, Any] | None = None,
        *,
        profile_sample: bool = False,
    ) -> Iterator[tuple[Any, Any]]:
        """The rows scored with ``labels`` (cluster names, in the order ``clusters``) and
        ``extra`` columns, as an Ibis table, and with ``profile_sample`` at most
        `PROFILE_ROWS` of them stratified on the clusters (else None, as when there are
        no more rows than that); both are freed when the block ends."""
        codes, dictionary = _cluster_column(labels, clusters)
        scored = self.base.append_column(DEFAULT_CLUSTER_COLUMN, dictionary)
        for name, values in (extra or {}).items():
            scored = scored.append_column(name, pa.array(np.asarray(values), from_pandas=True))
        tables = {"scored": scored}
        if profile_sample and self.base.num_rows > PROFILE_ROWS:
            rows = pa.array(stratified_positions(codes, PROFILE_ROWS, 0, PROFILE_MIN_ROWS))
            tables["profile_sample"] = scored.take(rows)
        with arrow_tables(tables) as found:
            yield found["scored"], found.get("profile_sample")

    def complete(self, report: ClusterReport, labels: pd.Series[Any], pca: Any) -> ClusterReport:
        """``report`` with its deferred panels: profiles, importance, scatter plot, rules.

        ``labels`` holds each row's cluster name; ``pca`` is the model's PCA, if any.
        """
        clusters = [c.name for c in report.clusters]
        kinds: dict[bool, list[str]] = {True: [], False: []}
        for feature in self.features:
            kinds[feature.is_numeric].append(feature.name)
        # The forest and then the rules' trees grow in a thread of their own (without
        # the GIL for the most part), beside the profiles' DuckDB queries and the
        # scatter plot: on 1M rows the rules no longer wait for the other panels.
        with ThreadPoolExecutor(1, thread_name_prefix="trees") as pool:
            importances = pool.submit(
                variables_importance,
                self.matrix,
                labels.to_numpy()[self.fit_positions],
                self.preprocessing.feature_names,
            )
            # Rules read the original feature values: the frame's, not the matrix.
            rules = pool.submit(build_rules, self.frame, labels, kinds[True], kinds[False])
            with self.tables(labels, clusters, profile_sample=True) as (scored, sample):
                profiles = report_profiles(
                    scored, self.features, cluster_order=clusters, profile_sample=sample
                )
            # Outlier rows are not in the matrix: the sampled rows are preprocessed again.
            scatter = build_scatter(
                self.frame,
                labels,
                kinds[True],
                preprocess=row_preprocessor(self.preprocessing),
                pca=pca,
                projection=self.projection,
            )
            return report.completed(profiles, importances.result()).with_panels(
                scatter=scatter, rules=rules.result()
            )


class ModelStore:
    """Writes the models of one session, sharing what they have in common.

    ``defer_panels`` leaves the profiles, importance, scatter plot and rules to
    `complete_report` (what a Lab session does); otherwise the report is whole.
    """

    def __init__(
        self, result: SessionResult, log: Callable[[str], None], *, defer_panels: bool = False
    ) -> None:
        self.result = result
        self.log = log
        self.defer_panels = defer_panels
        self.rows = TrainingRows.of_session(result)

    def panels(self, model: TrainedModel) -> dict[str, Any]:
        """The panels written with the summary, besides observations and heatmap."""
        assert model.metrics is not None
        result, params = self.result, model.params
        panels: dict[str, Any] = {
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
            assert model.labels is not None
            extra = {SCORE_COLUMN: model.anomaly_scores}
            with self.rows.tables(model.categorical, model.cluster_names, extra) as (scored, _):
                panels["anomalies"] = build_anomalies(
                    scored,
                    self.rows.features,
                    top=int(params.params.get("anomalies_to_display", 100) or 100),
                )
        return panels

    def write(self, model: TrainedModel, folder: Path) -> ModelSummary:
        """Write ``model`` into ``folder``; a failed model gets its summary only.

        The summary's timings add, to the model's fit and metrics, the seconds spent
        here on its ``artifact``, ``report`` (summary panels) and, unless deferred,
        ``panels`` (profiles, importance, scatter plot and rules).
        """
        folder.mkdir(parents=True, exist_ok=True)
        timings = dict(model.timings)
        if not model.ok:
            self.log(f"{model.params.label}: failed: {model.error}")
            return _summary(model, folder, timings)
        assert model.labels is not None
        assert model.model is not None
        lap = _laps(timings)
        save_model(model, folder)
        lap("artifact")
        clusters = model.cluster_names
        with self.rows.tables(model.categorical, clusters) as (scored, _):
            report = build_report(
                scored, self.rows.features, cluster_order=clusters, with_profiles=False
            )
        report = report.with_panels(**self.panels(model))
        lap("report")
        if self.defer_panels:
            write_labels(folder, model.categorical, clusters, self.rows.fit_positions)
        else:
            report = self.rows.complete(report, model.labels, model.model.pca)
            lap("panels")
        write_report(folder, report)
        summary = _summary(model, folder, timings)
        self.log(f"{model.params.label}: silhouette {summary.metrics.get('silhouette')}")
        return summary


def write_labels(
    folder: Path,
    labels: pd.Series[Any] | pd.Categorical,
    clusters: Sequence[str],
    fit_positions: Any,
) -> None:
    """Keep each training row's cluster and whether it was fitted (`LABELS_FILE`)."""
    fitted = np.zeros(len(labels), dtype=bool)
    fitted[fit_positions] = True
    _, cluster = _cluster_column(labels, clusters)
    table = pa.table({"cluster": cluster, "fitted": fitted})
    feather.write_feather(table, folder / LABELS_FILE, compression="lz4")


def _cluster_column(
    labels: pd.Series[Any] | pd.Categorical, clusters: Sequence[str]
) -> tuple[np.ndarray[Any, Any], pa.DictionaryArray]:
    """Each row's position in ``clusters`` (-1 for none), and the same as an Arrow
    dictionary column of the names (null for none)."""
    codes = pd.Categorical(labels, categories=list(clusters)).codes
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=codes < 0, type=pa.int32()), pa.array(clusters, pa.string())
    )
    return codes, dictionary


def read_labels(folder: Path, index: pd.Index) -> tuple[pd.Series[Any], np.ndarray[Any, Any]]:
    """The training rows' cluster names (None for rows in no cluster), indexed like the
    training frame, and the positions of the rows the model was fitted on."""
    path = folder / LABELS_FILE
    table = feather.read_table(path) if path.is_file() else pq.read_table(_legacy_labels(folder))
    cluster = table["cluster"].combine_chunks()
    codes = cluster.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    names = np.array([*cluster.dictionary.to_pylist(), None], dtype=object)
    fitted = table["fitted"].to_numpy()
    labels = pd.Series(names[codes], index=index, dtype=object, name="cluster")
    return labels, np.flatnonzero(fitted)


def _legacy_labels(folder: Path) -> Path:
    return folder / _LEGACY_LABELS_FILE


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    # Two viewers opening the same model at once build its panels once.
    with open(folder / ".panels.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_report(folder: Path) -> ClusterReport:
    """The model report stored in ``folder``, deferred panels or not."""
    return ClusterReport.model_validate_json((folder / REPORT_FILE).read_text(encoding="utf-8"))


def complete_report(
    folder: Path, training_frame: Callable[[], pd.DataFrame], features: Sequence[FeatureInfo]
) -> ClusterReport:
    """The whole report of the model in ``folder``, its deferred panels built and stored
    first if they were not (from the rows ``training_frame()`` reads, reported on
    ``features``)."""
    with _locked(folder):
        report = read_report(folder)
        if not report.deferred:
            return report
        frame = training_frame()
        labels, fit_positions = read_labels(folder, frame.index)
        model = load_model(folder)
        preprocessing = model.preprocessing
        matrix = FitRows(preprocessing, frame, fit_positions)
        rows = TrainingRows(frame, features, preprocessing, matrix, fit_positions)
        report = rows.complete(report, labels, model.pca)
        write_text_atomic(folder / REPORT_FILE, report.model_dump_json())
        (folder / LABELS_FILE).unlink(missing_ok=True)
        _legacy_labels(folder).unlink(missing_ok=True)
    return report


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
