"""The task design specs: validation, JSON round trip and grid expansion."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clusterlab.core.mltask import (
    AlgorithmType,
    CustomSpec,
    DBSCANSpec,
    FeatureHandling,
    GaussianMixtureSpec,
    HDBSCANSpec,
    IsolationForestSpec,
    KMeansSpec,
    ModelParams,
    NumericHandling,
    ReductionSpec,
    SamplingSpec,
    TaskDesign,
    TwoStepSpec,
)


def test_grid_kmeans_three_ks_times_pca_both_is_six_models():
    design = TaskDesign(
        features=(FeatureHandling(name="x"),),
        algorithms=(KMeansSpec(k=(3, 5, 7)),),
        reduction=ReductionSpec(mode="both"),
    )
    grid = design.grid()
    assert len(grid) == 6
    assert [(p.k, p.pca) for p in grid] == [
        (3, False),
        (3, True),
        (5, False),
        (5, True),
        (7, False),
        (7, True),
    ]
    assert {p.algorithm for p in grid} == {AlgorithmType.KMEANS}


def test_grid_expands_every_multi_valued_parameter_and_skips_disabled_algorithms():
    design = TaskDesign(
        algorithms=(
            GaussianMixtureSpec(components=(2, 4), covariance_types=("full", "diag", "tied")),
            DBSCANSpec(eps=(0.3, 0.5, 1.0)),
            HDBSCANSpec(min_cluster_ratio=(0.05, 0.1)),
            KMeansSpec(enabled=False),
            TwoStepSpec(),
            IsolationForestSpec(),
        ),
        reduction=ReductionSpec(mode="pca"),
    )
    grid = design.grid()
    counts = {t: sum(p.algorithm is t for p in grid) for t in AlgorithmType}
    assert counts[AlgorithmType.GMM] == 6
    assert counts[AlgorithmType.DBSCAN] == 3
    assert counts[AlgorithmType.HDBSCAN] == 2
    assert counts[AlgorithmType.KMEANS] == 0
    assert counts[AlgorithmType.TWO_STEP] == counts[AlgorithmType.ISOLATION_FOREST] == 1
    assert all(p.pca for p in grid)
    assert grid[0].params == {"k": 2, "covariance_type": "full", "max_iter": 100, "seed": 1337}


def test_design_json_round_trip_keeps_algorithm_kinds():
    design = TaskDesign(
        features=(
            FeatureHandling(name="age", numeric=NumericHandling(rescaling="minmax")),
            FeatureHandling(name="id", role="reject", reject_reason="unique ID"),
        ),
        algorithms=(
            KMeansSpec(k=(4,)),
            IsolationForestSpec(contamination=0.05, max_samples=256),
            CustomSpec(code="clf = None"),
        ),
    )
    again = TaskDesign.model_validate_json(design.model_dump_json())
    assert again == design
    assert [a.type for a in again.algorithms] == ["kmeans", "isolation_forest", "custom"]
    assert again.algorithms[1].max_samples == 256
    assert again.feature("id").reject_reason == "unique ID"


@pytest.mark.parametrize(
    ("factory", "fragment"),
    [
        (lambda: SamplingSpec(method="stratified"), "column"),
        (lambda: TwoStepSpec(pre_k=3, k=5), "pre-clusters"),
        (lambda: KMeansSpec(k=(1,)), "greater than or equal to 2"),
        (lambda: KMeansSpec(k=()), "at least 1"),
        (lambda: HDBSCANSpec(min_cluster_ratio=(0.7,)), "less than or equal to 0.5"),
        (lambda: IsolationForestSpec(contamination=0.9), "contamination"),
        (lambda: KMeansSpec(kk=(3,)), "Extra inputs"),
        (
            lambda: TaskDesign(features=(FeatureHandling(name="a"), FeatureHandling(name="a"))),
            "listed twice",
        ),
    ],
)
def test_invalid_specs_fail_with_a_clear_message(factory, fragment):
    with pytest.raises(ValidationError, match=fragment):
        factory()


def test_model_params_labels_and_k():
    assert ModelParams(algorithm="kmeans", params={"k": 3}, pca=True).label == "K-means (k=3, PCA)"
    assert ModelParams(algorithm="dbscan", params={"eps": 0.5}).k is None
    custom = ModelParams(algorithm="custom", params={"name": "My model", "code": "..."})
    assert custom.label == "My model"


def test_feature_drops_missing_only_for_inputs_set_to_drop():
    drop = NumericHandling(missing="drop")
    assert FeatureHandling(name="a", numeric=drop).drops_missing
    assert not FeatureHandling(name="a", numeric=drop, role="display").drops_missing
    assert not FeatureHandling(name="a").drops_missing
