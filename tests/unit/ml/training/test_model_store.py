"""Writing a model's folder: the report's profiles of many rows come from a sample."""

from __future__ import annotations

import ibis
import numpy as np
import pytest

from clusterlab.core.mltask import KMeansSpec
from clusterlab.ml.report import ClusterReport, build_report
from clusterlab.ml.training import train_session
from clusterlab.services import model_store
from clusterlab.services.model_store import REPORT_FILE, ModelStore

from .conftest import blobs, numeric_design


def test_profiles_of_many_rows_come_from_a_stratified_sample_with_exact_counts(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(model_store, "PROFILE_ROWS", 300)
    monkeypatch.setattr(model_store, "PROFILE_MIN_ROWS", 60)
    frame = blobs(n_per_blob=400, seed=3)
    frame.loc[frame.index[::7], "x"] = np.nan
    result = train_session(frame, numeric_design(KMeansSpec(k=(3,), seed=0)))
    model = result.models[0]
    ModelStore(result, lambda _message: None).write(model, tmp_path / "m0")
    stored = ClusterReport.model_validate_json((tmp_path / "m0" / REPORT_FILE).read_text())
    exact = build_report(
        ibis.memtable(result.scored_frame(model)),
        result.report_features(),
        cluster_order=model.cluster_names,
    )
    # Observations and heatmap are of every row, untouched by the profile sample.
    assert stored.heatmap == exact.heatmap
    assert stored.observations == exact.observations
    differ = False
    for got, want in zip(stored.profiles, exact.profiles, strict=True):
        assert got.bin_edges == want.bin_edges
        for row, truth in zip(got.rows, want.rows, strict=True):
            assert row.count == truth.count
            assert row.mean == pytest.approx(truth.mean)
            assert row.missing_share == pytest.approx(truth.missing_share)
            assert sum(row.shares) + row.missing_share == pytest.approx(1.0)
            # 300 of 1,200 rows: each bar within a few points of the exact one.
            assert np.abs(np.subtract(row.shares, truth.shares)).max() < 0.1
            differ = differ or row.shares != pytest.approx(truth.shares, abs=1e-9)
    assert differ, "the profiles were read from every row, not from the sample"
