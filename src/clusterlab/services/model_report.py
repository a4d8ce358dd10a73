"""A model report as users read it: every panel's data and figure, with their names.

The stored report keeps the names the algorithm gave (``cluster_0``…); the analyst's
names are applied here, when the report is read, so renaming never rewrites it.
Figures are Plotly figures: ``model.report.heatmap_figure().show()`` in a notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from clusterlab.core.errors import NotFoundError
from clusterlab.ml.report import ClusterReport
from clusterlab.ml.report import figures as fig
from clusterlab.ml.report.importance import importances_table
from clusterlab.ml.report.profiles import profile_for

DEFERRED_PANELS = frozenset({"profiles", "importances", "scatter", "rules"})
"""The panels a Lab session leaves to the first view of a model."""


class ModelReport:
    """Report panels with the analyst's cluster names applied.

    ``summary`` is the report as stored, which may have deferred panels; ``data`` is
    the whole report: reading it first builds the deferred panels with ``complete``.
    """

    def __init__(
        self,
        report: ClusterReport,
        names: dict[str, str],
        complete: Callable[[], ClusterReport] | None = None,
    ) -> None:
        self.summary = report
        self.names = names
        self._complete = complete

    @property
    def data(self) -> ClusterReport:
        """Every panel's data (the deferred ones built and stored on first read)."""
        if self.summary.deferred and self._complete is not None:
            self.summary = self._complete()
        return self.summary

    def _name(self, cluster: Any) -> Any:
        return self.names.get(cluster, cluster) if isinstance(cluster, str) else cluster

    def _colors(self) -> dict[str, str]:
        return {self._name(c.name): c.color for c in self.summary.clusters}

    def _panel(self, name: str) -> Any:
        panel = getattr(self.data if name in DEFERRED_PANELS else self.summary, name)
        if panel is None:
            if name == "rules":
                raise NotFoundError(
                    "This model's report has no rules: it was built before rules were "
                    "added. Train a new session to get them."
                )
            kind = {"hierarchy": "two-step", "anomalies": "Isolation Forest"}.get(name, "this")
            raise NotFoundError(f"This model's report has no {name} panel ({kind} models do).")
        return panel

    def observations(self) -> pd.DataFrame:
        """Top observations per cluster: ``cluster``, ``size``, ``share``, ``sentence``."""
        sizes = {c.name: c for c in self.summary.clusters}
        rows = [
            {
                "cluster": self._name(group.cluster),
                "size": sizes[group.cluster].size,
                "share": sizes[group.cluster].share,
                "sentence": obs.text,
            }
            for group in self.summary.observations.clusters
            for obs in group.observations
        ]
        return pd.DataFrame(rows, columns=["cluster", "size", "share", "sentence"])

    def heatmap_table(self) -> pd.DataFrame:
        """The heatmap as a table with the reference export columns."""
        table = self.summary.heatmap.to_table()
        table["cluster_label"] = table["cluster_label"].map(self._name)
        return table

    def heatmap_figure(self) -> Any:
        """The heatmap (features × clusters, relative importance)."""
        return fig.heatmap_figure(self.summary.heatmap)

    def profile_figure(self, feature: str) -> Any:
        """Overall and per-cluster distributions of ``feature`` on one scale."""
        return fig.profile_figure(profile_for(self.data.profiles, feature))

    def importance_table(self) -> pd.DataFrame:
        """Variables importance in percent: ``feature``, ``importance``."""
        return importances_table(self.data.importances)

    def importance_figure(self) -> Any:
        """Variables importance as bars."""
        return fig.importance_figure(self.data.importances)

    def scatter_points(self, include_outliers: bool = True) -> pd.DataFrame:
        """The balanced sample of rows of the scatter plot, with the cluster names."""
        panel = self._panel("scatter")
        points = panel.frame(include_outliers)
        column = panel.cluster_column
        points[column] = points[column].map(self._name)
        return points

    def scatter_figure(self, x: str | None = None, y: str | None = None) -> Any:
        """The scatter plot on axes ``x`` and ``y`` (default: the panel's default axes)."""
        panel = self._panel("scatter")
        return fig.scatter_figure(
            self.scatter_points(),
            x or panel.default_x,
            y or panel.default_y,
            self._colors(),
            cluster_column=panel.cluster_column,
        )

    def rules(self) -> pd.DataFrame:
        """Each cluster as 1-3 rules: ``cluster``, ``rule``, ``coverage``, ``precision``,
        ``support`` (rows the rule matches)."""
        rows = [
            {
                "cluster": self._name(group.cluster),
                "rule": rule.text,
                "coverage": rule.coverage,
                "precision": rule.precision,
                "support": rule.support,
            }
            for group in self._panel("rules")
            for rule in group.rules
        ]
        return pd.DataFrame(rows, columns=["cluster", "rule", "coverage", "precision", "support"])

    def anomalies(self) -> pd.DataFrame:
        """Isolation Forest: the top anomalies with their score and strength."""
        return self._panel("anomalies").table()

    def hierarchy_figure(self) -> Any:
        """Two-step: the dendrogram of the pre-clusters, clusters colored."""
        colors = {c.name: c.color for c in self.summary.clusters}
        return fig.dendrogram_figure(self._panel("hierarchy"), colors)
