"""Training sessions end to end: K-means on blobs, elbow, diagnostics, sampling, reports."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import (
    CategoricalHandling,
    FeatureHandling,
    GaussianMixtureSpec,
    KMeansSpec,
    MetricsSpec,
    ReductionSpec,
    SamplingSpec,
    TaskDesign,
)
from clusterlab.ml.report import build_report
from clusterlab.ml.sampling import sample_frame
from clusterlab.ml.training import elbow_points, train_session

from .conftest import blobs, numeric_design


@pytest.fixture(scope="module")
def kmeans_session():
    design = numeric_design(
        KMeansSpec(k=(2, 3, 4, 5), seed=0), reduction=ReductionSpec(mode="both")
    )
    return train_session(blobs(), design)


def test_kmeans_on_three_blobs_recovers_them_and_silhouette_picks_k_3(kmeans_session):
    truth = blobs()["truth"]
    best = kmeans_session.sorted_models()[0]
    assert best.params.k == 3
    assert adjusted_rand_score(truth, best.labels) == pytest.approx(1.0)
    assert best.metrics.silhouette > 0.8
    silhouettes = {(m.params.k, m.params.pca): m.metrics.silhouette for m in kmeans_session.models}
    for pca in (False, True):
        assert max((k for k in (2, 3, 4, 5)), key=lambda k: silhouettes[(k, pca)]) == 3
    assert kmeans_session.factor_names == ("factor_0", "factor_1")


def test_sorting_by_a_lower_is_better_metric(kmeans_session):
    by_inertia = kmeans_session.sorted_models("inertia")
    inertias = [m.metrics.inertia for m in by_inertia]
    assert inertias == sorted(inertias)
    assert by_inertia[0].params.k == 5


def test_elbow_points_follow_one_family(kmeans_session):
    points = elbow_points(kmeans_session, metrics=("silhouette", "inertia"))
    assert [(p.k, p.metric) for p in points][:4] == [
        (2, "silhouette"),
        (2, "inertia"),
        (3, "silhouette"),
        (3, "inertia"),
    ]
    assert len(points) == 8
    without_pca = {m.params.k: m for m in kmeans_session.models if not m.params.pca}
    assert points[1].value == without_pca[2].metrics.inertia
    with_pca = elbow_points(kmeans_session, metrics=("silhouette",), pca=True)
    pca_models = {m.params.k: m for m in kmeans_session.models if m.params.pca}
    assert [p.value for p in with_pca] == [pca_models[k].metrics.silhouette for k in (2, 3, 4, 5)]
    inertia = [p.value for p in points if p.metric == "inertia"]
    assert inertia == sorted(inertia, reverse=True)


def test_elbow_with_gmm_includes_bic_and_aic():
    design = numeric_design(GaussianMixtureSpec(components=(2, 3), seed=0))
    session = train_session(blobs(n_per_blob=40), design)
    points = elbow_points(session)
    assert {p.metric for p in points} >= {"bic", "aic", "silhouette"}
    assert "inertia" not in {p.metric for p in points}


def test_progress_is_reported_for_each_step():
    calls = []
    design = numeric_design(KMeansSpec(k=(2, 3), seed=0))
    train_session(blobs(n_per_blob=20), design, on_progress=lambda *a: calls.append(a))
    assert [c[:2] for c in calls] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert calls[1][2] == "Training K-means (k=2)"


def test_silhouette_sample_size_is_reported_by_the_session():
    design = numeric_design(
        KMeansSpec(k=(3,), seed=0),
        metrics=MetricsSpec(silhouette_exact_threshold=200, silhouette_sample_size=150),
    )
    metrics = train_session(blobs(), design).models[0].metrics
    assert metrics.silhouette_exact is False
    assert metrics.silhouette_sample_size == 150


def test_diagnostics_flag_few_rows_missing_feature_and_unbalanced_clusters():
    frame = blobs(n_per_blob=100, seed=3)
    frame.loc[:199, "y"] = np.nan
    frame = pd.concat([frame, pd.DataFrame({"x": [30.0, 31.0], "y": [0.0, 0.0]})])
    design = numeric_design(KMeansSpec(k=(2,), seed=0))
    session = train_session(frame, design)
    assert {d.code for d in session.diagnostics} == {"too_few_rows", "feature_missing"}
    codes = {d.code for d in session.models[0].diagnostics}
    assert "small_cluster" in codes
    dominant = train_session(
        pd.concat([blobs(n_per_blob=200)[:200], pd.DataFrame({"x": [90.0], "y": [90.0]})]),
        numeric_design(KMeansSpec(k=(2,), seed=0)),
    )
    assert "dominant_cluster" in {d.code for d in dominant.models[0].diagnostics}


def test_sampling_is_applied_and_reproducible():
    frame = blobs()
    spec = SamplingSpec(method="random_n", n=120, seed=9)
    design = numeric_design(KMeansSpec(k=(3,), seed=0), sampling=spec)
    first, second = train_session(frame, design), train_session(frame, design)
    assert len(first.frame) == 120
    assert first.frame.index.equals(sample_frame(frame, spec).index)
    assert first.data_hash == second.data_hash
    assert first.data_hash != train_session(frame, numeric_design(KMeansSpec(k=(3,)))).data_hash
    whole = train_session(frame, design, sample=False)
    assert len(whole.frame) == len(frame)


def test_stratified_sampling_keeps_every_stratum():
    frame = blobs().assign(g=["a"] * 200 + ["b"] * 100)
    spec = SamplingSpec(method="stratified", ratio=0.1, column="g")
    assert sample_frame(frame, spec)["g"].value_counts().to_dict() == {"a": 20, "b": 10}
    with pytest.raises(InvalidInputError, match="'nope'"):
        sample_frame(frame, SamplingSpec(method="stratified", column="nope"))


def test_mixed_data_session_feeds_the_report_builders(customers):
    design = TaskDesign(
        features=(
            FeatureHandling(name="age"),
            FeatureHandling(name="spend"),
            FeatureHandling(
                name="country",
                type="categorical",
                categorical=CategoricalHandling(max_categories=2),
            ),
            FeatureHandling(name="plan", type="categorical", role="display"),
        ),
        algorithms=(KMeansSpec(k=(3,), seed=0),),
        reduction=ReductionSpec(mode="pca"),
    )
    session = train_session(customers, design)
    model = session.models[0]
    assert model.ok, model.error
    assert session.preprocessing.feature_names == (
        "age",
        "spend",
        "country=fr",
        "country=us",
        "country=other",
    )
    assert [f.name for f in session.report_features()] == ["age", "spend", "country", "plan"]
    scored = session.scored_frame(model)
    report = build_report(ibis.memtable(scored), session.report_features())
    assert sorted(c.name for c in report.clusters) == model.cluster_names
    assert sum(c.size for c in report.clusters) == len(customers)
    importances = session.importances(model, random_state=0)
    assert {i.feature for i in importances} == set(session.preprocessing.feature_names)
    assert sum(i.importance for i in importances) == pytest.approx(100.0)


def test_sessions_without_rows_or_algorithms_fail_clearly():
    with pytest.raises(InvalidInputError, match="no row"):
        train_session(blobs().iloc[:0], numeric_design(KMeansSpec()))
    with pytest.raises(InvalidInputError, match="No algorithm"):
        train_session(blobs(), numeric_design(KMeansSpec(enabled=False)))


def test_a_session_above_the_kmeans_sample_labels_every_row_with_an_honest_inertia():
    from sklearn.cluster import KMeans

    from clusterlab.ml.algorithms import KMEANS_SAMPLE_ROWS

    frame = blobs(n_per_blob=KMEANS_SAMPLE_ROWS // 3 + 2_000, seed=6, spread=3.0)
    session = train_session(frame, numeric_design(KMeansSpec(k=(3,), seed=0)))
    model = session.models[0]
    assert model.labels is not None
    assert model.labels.notna().all()
    assert len(model.labels) == len(frame) > KMEANS_SAMPLE_ROWS
    # The inertia metric is on every row: recompute it from the labels and the matrix.
    ids = pd.factorize(model.labels)[0]
    means = np.vstack([session.matrix[ids == c].mean(axis=0) for c in range(3)])
    recomputed = float(((session.matrix - means[ids]) ** 2).sum())
    assert model.metric("inertia") == pytest.approx(recomputed, rel=1e-9)
    bare = KMeans(n_clusters=3, random_state=0).fit(session.matrix)
    assert model.metric("inertia") <= bare.inertia_ * 1.01
    # The groups overlap: the model finds them as well as the full fit does.
    found = adjusted_rand_score(frame["truth"], model.labels)
    assert found >= adjusted_rand_score(frame["truth"], bare.labels_) - 0.01


def test_many_rows_train_two_models_at_a_time_with_the_results_of_one_at_a_time():
    # 60,000 rows: above SINGLE_THREAD_MAX_ROWS, so K-means models train two at once.
    frame = blobs(n_per_blob=20_000, seed=4, spread=2.0)
    design = numeric_design(KMeansSpec(k=(2, 3, 4, 5), seed=0))
    seen: list[str] = []
    together = train_session(frame, design, on_progress=lambda d, t, m: seen.append(m))
    alone = train_session(frame, design, threads=1)
    assert "Training 4 models, two at a time" in seen
    assert [m.params.k for m in together.models] == [2, 3, 4, 5]
    for a, b in zip(together.models, alone.models, strict=True):
        assert a.error is None
        assert a.labels is not None
        assert b.labels is not None
        assert a.labels.equals(b.labels)
        assert a.metrics == b.metrics
