"""Bad input through the Python API: a real dataset in a project, training as a real job.

Whole-session problems are refused with a message naming the setting or column and
leave no session behind; per-model problems fail that model while the session
completes; columns that cannot help are auto-rejected with their reason, and forced
back in they train with a warning naming them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.core.errors import InvalidInputError

ROWS = 3000
LEVELS = 1500
K_TOO_LARGE = 5000


def messy(rows: int = ROWS, seed: int = 5) -> pd.DataFrame:
    """Three groups in x and y, plus every kind of column a clustering cannot use as is."""
    rng = np.random.default_rng(seed)
    group = np.arange(rows) % 3
    x = rng.normal(group * 6.0, 0.5)
    x[::10] = np.nan
    country = np.array(["France", "Spain", "Italy"], dtype=object)[group]
    country[::7] = None
    return pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(rows)],
            "x": x,
            "y": rng.normal((group == 1) * 6.0, 0.5),
            "country": pd.Series(country, dtype="str"),
            "plan": "basic",
            # One row in 3,000 differs: over 99% equal values is constant too.
            "score": np.where(np.arange(rows) == 0, 2.0, 1.0),
            "notes": pd.Series([None] * rows, dtype="str"),
            "refund": np.nan,
            # Each level seen twice: too many categories, yet not a unique ID.
            "referrer": [f"site-{i % LEVELS:04d}" for i in range(rows)],
        }
    )


def roles(task) -> dict[str, tuple[str, str | None]]:
    return {f.name: (f.role.value, f.reject_reason) for f in task.design.features}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """One real training of the messy dataset with the rejected columns forced back in.

    Trained once for the module (a training job is a subprocess): the guess as it was,
    the task, and its session.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CLUSTERLAB_HOME", raising=False)
        ws = cl.Workspace(Path(tmp_path_factory.mktemp("lab_bad_input")) / "home")
        project = ws.create_project("BAD")
        project.create_dataset("messy", messy())
        task = project.create_clustering_task("messy")
        guessed = roles(task)
        for column in ("plan", "notes", "refund", "referrer"):
            task.use_feature(column)
        task.set_algorithm("kmeans", k=[3, 5, K_TOO_LARGE])
        yield guessed, task, task.train()


def test_unusable_columns_are_auto_rejected_with_their_reason(trained) -> None:
    guessed, _, _ = trained
    assert guessed == {
        "id": ("reject", "unique ID"),
        "x": ("input", None),
        "y": ("input", None),
        "country": ("input", None),
        "plan": ("reject", "constant (too many equal values)"),
        "score": ("reject", "constant (too many equal values)"),
        "notes": ("reject", "too many missing values"),
        "refund": ("reject", "too many missing values"),
        "referrer": ("reject", "too many categories"),
    }


def test_forced_back_in_they_train_with_warnings_naming_them(trained) -> None:
    _, _, session = trained
    warnings = session.summary.diagnostics
    assert (
        f"Feature 'plan' has a single value over the {ROWS} rows: it cannot tell clusters "
        "apart. Reject it (the design guess rejects constant columns)." in warnings
    )
    assert (
        "Feature 'notes' is missing in 100% of the rows; its imputed values may drive the "
        "clusters. Consider rejecting it." in warnings
    )
    assert any(w.startswith("Feature 'refund' is missing in 100% of the rows") for w in warnings)
    (capped,) = [w for w in warnings if "dummy encoding" in w]
    assert capped.startswith(
        f"Feature 'referrer' has {LEVELS:,} distinct levels: its dummy encoding keeps 100 of "
        f"them (cap: max categories = 100) and gathers the other {LEVELS - 100:,} in "
        "referrer=other."
    )


def test_k_larger_than_the_rows_fails_that_model_and_the_session_completes(trained) -> None:
    _, _, session = trained
    by_k = {m.params["k"]: m for m in session.models}
    assert by_k[3].error is None
    assert by_k[5].error is None
    assert f"asks for {K_TOO_LARGE:,} clusters" in (by_k[K_TOO_LARGE].error or "")
    assert f"trains on {ROWS:,} rows" in (by_k[K_TOO_LARGE].error or "")
    assert by_k[K_TOO_LARGE].metrics == {}
    assert session.best("silhouette").params["k"] == 3
    with pytest.raises(InvalidInputError, match=rf"K-means \(k={K_TOO_LARGE}\) failed to train"):
        by_k[K_TOO_LARGE].report  # noqa: B018 - the property is what refuses


def test_missing_values_are_imputed_and_new_levels_scored(trained) -> None:
    _, task, session = trained
    model = next(m for m in session.models if m.params["k"] == 3)
    frame = task.project.dataset("messy").to_pandas()
    labels = model.predict(frame)
    assert labels.notna().all()
    # The three groups are found although a tenth of x and a seventh of country is missing
    # (a row missing x gets the mean of x, which can put it in a neighbour group).
    truth = np.arange(ROWS) % 3
    has_x = frame["x"].notna().to_numpy()
    assert pd.crosstab(labels[has_x], truth[has_x]).max(axis=1).sum() == has_x.sum()
    unseen = model.predict(frame.head(3).assign(referrer="never-seen", country="Peru"))
    assert unseen.tolist() == labels.head(3).tolist()
    heatmap = model.report.heatmap_table()
    assert "country=(missing)" in set(heatmap["feature"])


def test_all_columns_rejected_is_refused_up_front(trained) -> None:
    _, task, _ = trained
    before = len(task.sessions())
    jobs = len(task.project.workspace.runtime.list_jobs())
    for f in task.design.features:
        task.reject_feature(f.name)
    try:
        with pytest.raises(
            InvalidInputError, match=r"Every column is rejected.*use_feature"
        ) as err:
            task.train()
        # Users of the CLI and the UI are told their way too.
        assert "--use COLUMN" in str(err.value)
        assert "UI:" in str(err.value)
    finally:
        for column in ("x", "y", "country"):
            task.use_feature(column)
    assert len(task.sessions()) == before
    assert len(task.project.workspace.runtime.list_jobs()) == jobs


def test_a_one_row_dataset_is_rejected_then_refused_with_the_row_count(
    project: cl.Project,
) -> None:
    project.create_dataset("one", pd.DataFrame({"x": [1.0], "y": [2.0]}))
    task = project.create_clustering_task("one")
    assert roles(task) == {
        "x": ("reject", "constant (too many equal values)"),
        "y": ("reject", "constant (too many equal values)"),
    }
    with pytest.raises(InvalidInputError, match=r"has 1 row\(s\): clustering needs at least 2"):
        task.train()
    task.use_feature("x")
    with pytest.raises(InvalidInputError, match=r"has 1 row\(s\)"):
        task.train()
    assert task.sessions() == []
    assert project.jobs() == []  # refused before any job starts


def test_infinities_train_as_missing_with_a_warning_naming_the_column(
    project: cl.Project,
) -> None:
    frame = messy(300)[["x", "y"]]
    frame.loc[[1, 2], "x"] = np.inf
    frame.loc[[4], "x"] = -np.inf
    project.create_dataset("points", frame)
    task = project.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[3])
    session = task.train()
    assert session.models[0].error is None
    assert any(
        w.startswith("Feature 'x' has 3 infinite values (+inf or -inf) in 300 rows")
        for w in session.summary.diagnostics
    )
    observations = session.models[0].report.observations()
    assert not observations["sentence"].str.contains("inf|nan").any()


def test_custom_code_through_the_api(project: cl.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.create_dataset("points", messy(300)[["x", "y"]])
    task = project.create_clustering_task("points")
    task.disable_algorithm("kmeans")
    task.set_algorithm("custom", name="Raises", code="x = 1\nclf = 1 / 0\n")
    session = task.train()
    assert "CLUSTERLAB_ALLOW_CUSTOM_CODE=1" in (session.models[0].error or "")
    monkeypatch.setenv("CLUSTERLAB_ALLOW_CUSTOM_CODE", "1")
    session = task.train()
    assert "line 2" in (session.models[0].error or "")
    assert "ZeroDivisionError" in (session.models[0].error or "")
    task.set_algorithm("custom", name="No clf", code="model = None\n")
    assert "clf" in (task.train().models[0].error or "")
    code = (
        "from sklearn.cluster import KMeans\nclf = KMeans(n_clusters=3, n_init=1, random_state=0)\n"
    )
    task.set_algorithm("custom", name="Mine", code=code)
    model = task.train().models[0]
    assert model.error is None
    assert model.metrics["n_clusters"] == 3
