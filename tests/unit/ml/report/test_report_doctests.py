"""The examples in the report modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "clusterlab.ml.report",
    "clusterlab.ml.report.cluster_report",
    "clusterlab.ml.report.figures",
    "clusterlab.ml.report.formatting",
    "clusterlab.ml.report.heatmap",
    "clusterlab.ml.report.importance",
    "clusterlab.ml.report.inputs",
    "clusterlab.ml.report.observations",
    "clusterlab.ml.report.profiles",
    "clusterlab.ml.report.queries",
    "clusterlab.ml.report.stats",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
