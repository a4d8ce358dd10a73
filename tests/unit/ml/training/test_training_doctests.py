"""The examples in the training modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "clusterlab.core.mltask",
    "clusterlab.ml.algorithms",
    "clusterlab.ml.artifacts",
    "clusterlab.ml.custom",
    "clusterlab.ml.diagnostics",
    "clusterlab.ml.guess",
    "clusterlab.ml.metrics",
    "clusterlab.ml.model",
    "clusterlab.ml.outliers",
    "clusterlab.ml.preprocess",
    "clusterlab.ml.sampling",
    "clusterlab.ml.threads",
    "clusterlab.ml.training",
    "clusterlab.ml.twostep",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
