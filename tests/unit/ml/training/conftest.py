"""Data of the training tests: well-separated blobs and a mixed-type customer table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.mltask import FeatureHandling, TaskDesign

CENTERS = ((0.0, 0.0), (10.0, 0.0), (0.0, 10.0))


def blobs(n_per_blob: int = 100, seed: int = 0, spread: float = 0.5) -> pd.DataFrame:
    """Three round blobs far apart, with the true blob in column ``truth``."""
    rng = np.random.default_rng(seed)
    parts = [
        pd.DataFrame(
            {
                "x": rng.normal(cx, spread, n_per_blob),
                "y": rng.normal(cy, spread, n_per_blob),
                "truth": i,
            }
        )
        for i, (cx, cy) in enumerate(CENTERS)
    ]
    return pd.concat(parts, ignore_index=True)


def numeric_design(*algorithms, **options) -> TaskDesign:
    """A design over the blob columns x and y."""
    return TaskDesign(
        features=(FeatureHandling(name="x"), FeatureHandling(name="y")),
        algorithms=tuple(algorithms),
        **options,
    )


@pytest.fixture
def blob_frame() -> pd.DataFrame:
    return blobs()


@pytest.fixture
def customers() -> pd.DataFrame:
    """Numbers and categories with missing values in both."""
    rng = np.random.default_rng(3)
    n = 200
    age = rng.normal(40, 10, n)
    age[::10] = np.nan
    country = rng.choice(["fr", "us", "de"], n, p=[0.5, 0.3, 0.2]).astype(object)
    country[::7] = None
    return pd.DataFrame(
        {
            "age": age,
            "spend": rng.gamma(2.0, 50.0, n),
            "country": pd.Series(country, dtype="str"),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
