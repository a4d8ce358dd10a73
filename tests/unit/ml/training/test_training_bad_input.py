"""Bad input at the training level: each case refused with a clear message, or handled
with a warning naming the column and what was done."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import (
    CategoricalHandling,
    CustomSpec,
    FeatureHandling,
    KMeansSpec,
    ModelParams,
    NumericHandling,
    TaskDesign,
)
from clusterlab.ml.custom import build_custom_clusterer
from clusterlab.ml.diagnostics import check_model_rows, feature_diagnostics
from clusterlab.ml.preprocess import fit_preprocessing
from clusterlab.ml.training import train_session

from .conftest import blobs, numeric_design


def design(*features: FeatureHandling, k: tuple[int, ...] = (3,)) -> TaskDesign:
    return TaskDesign(features=features, algorithms=(KMeansSpec(k=k, seed=0),))


def categorical(name: str, **handling: object) -> FeatureHandling:
    return FeatureHandling(
        name=name, type="categorical", categorical=CategoricalHandling(**handling)
    )


def codes(session) -> dict[str, str]:
    return {d.code: d.message for d in session.diagnostics}


# ------------------------------------------------------------ whole-session refusals


def test_every_column_rejected_is_refused_before_training():
    frame = blobs(n_per_blob=5)
    rejected = design(FeatureHandling(name="x", role="reject"))
    with pytest.raises(InvalidInputError, match=r"no input feature.*role of at least one"):
        train_session(frame, rejected)


@pytest.mark.parametrize("rows", [0, 1])
def test_fewer_than_two_rows_is_refused(rows):
    frame = pd.DataFrame({"x": [1.5, 2.5][:rows], "y": [0.0, 1.0][:rows]})
    expected = "no row to train on" if rows == 0 else "Only 1 row .* at least 2 rows"
    with pytest.raises(InvalidInputError, match=expected):
        train_session(frame, numeric_design(KMeansSpec(k=(3,))))


def test_dropping_rows_down_to_one_says_so_and_how_to_fix():
    frame = pd.DataFrame({"x": [1.0, None, None], "y": [1.0, 2.0, 3.0]})
    features = (
        FeatureHandling(name="x", numeric=NumericHandling(missing="drop")),
        FeatureHandling(name="y"),
    )
    with pytest.raises(InvalidInputError, match=r"Only 1 row .*\(of 3 rows\).*impute"):
        fit_preprocessing(frame, features)


def test_every_input_constant_is_refused_naming_the_features():
    frame = pd.DataFrame({"a": [4.0] * 20, "b": ["fr"] * 20, "c": [None] * 20})
    features = (FeatureHandling(name="a"), categorical("b"), FeatureHandling(name="c"))
    with pytest.raises(InvalidInputError, match=r"\('a', 'b', 'c'\) has a single value over"):
        train_session(frame, design(*features))


# ------------------------------------------- constant and all-missing forced as input


def test_forced_constant_and_all_missing_columns_train_with_warnings():
    frame = blobs(n_per_blob=20)
    frame["const"] = 7.0
    frame["empty"] = np.nan
    frame["empty_cat"] = pd.Series([None] * len(frame), dtype="str")
    features = (
        FeatureHandling(name="x"),
        FeatureHandling(name="y"),
        FeatureHandling(name="const"),
        FeatureHandling(name="empty"),
        categorical("empty_cat"),
    )
    session = train_session(frame, design(*features))
    assert session.models[0].ok, session.models[0].error
    names = session.preprocessing.feature_names
    assert names == ("x", "y", "const", "empty", "empty_cat=(missing)")
    matrix = session.matrix
    # Standardized constants are 0; the all-missing category is one level every row has.
    assert np.array_equal(matrix[:, 2], np.zeros(len(frame)))
    assert np.array_equal(matrix[:, 3], np.zeros(len(frame)))
    assert np.array_equal(matrix[:, 4], np.ones(len(frame)))
    found = [d.message for d in session.diagnostics]
    assert any("'const' has a single value over the 60 rows" in m for m in found)
    assert any("'empty' is missing in 100% of the rows" in m for m in found)
    assert any("'empty_cat' is missing in 100% of the rows" in m for m in found)


@pytest.mark.parametrize("missing", ["own_level", "most_frequent", "constant"])
def test_an_all_missing_categorical_keeps_its_place_whatever_its_handling(missing):
    frame = pd.DataFrame({"x": np.arange(6.0), "c": pd.Series([None] * 6, dtype="str")})
    prep, matrix, _ = fit_preprocessing(
        frame, (FeatureHandling(name="x"), categorical("c", missing=missing))
    )
    assert len(prep.feature_names) == 2
    assert prep.feature_names[1] in ("c=(missing)", "c=missing")
    assert matrix[:, 1].tolist() == [1.0] * 6


# ------------------------------------------------------- high-cardinality categorical


def test_a_categorical_with_100k_levels_is_capped_with_a_warning():
    frequent = [f"F{i:03d}" for i in range(100)]
    singles = [f"S{i:06d}" for i in range(100_000)]
    values = frequent * 3 + singles
    frame = pd.DataFrame({"code": values, "x": np.arange(len(values), dtype=float)})
    feature = categorical("code")
    prep, matrix, _ = fit_preprocessing(frame, (feature,))
    assert prep.feature_names == (*[f"code={level}" for level in frequent], "code=other")
    # Each frequent level is its own dummy; the 100,000 others all land in "other".
    assert matrix[:, :100].sum(axis=0).tolist() == [3.0] * 100
    assert matrix[:, 100].sum() == 100_000
    scored, _ = prep.transform(pd.DataFrame({"code": ["F007", "never seen", "S000001"]}))
    assert scored.argmax(axis=1).tolist() == [7, 100, 100]
    (warning,) = feature_diagnostics(feature, frame["code"])
    assert warning.code == "categories_capped"
    assert warning.message.startswith(
        "Feature 'code' has 100,100 distinct levels: its dummy encoding keeps 100 of them "
        "(cap: max categories = 100) and gathers the other 100,000 in code=other."
    )


def test_other_caps_name_themselves_in_the_warning():
    values = pd.Series([f"L{i % 300}" for i in range(3000)])
    feature = categorical("city", cap="min_samples", min_samples=11)
    (warning,) = feature_diagnostics(feature, values)
    assert "300 distinct levels" in warning.message
    assert "keeps 0 of them (cap: min samples per level = 11)" in warning.message
    # Under the "too many categories" threshold, gathering rare levels is the cap's job.
    assert feature_diagnostics(feature, values.map(lambda v: v[:2])) == []


# ------------------------------------------------------------------ NaN and infinity


def test_nan_and_infinities_are_imputed_with_a_warning_naming_the_column():
    frame = blobs(n_per_blob=20)
    frame.loc[[0, 21], "x"] = np.inf
    frame.loc[[42], "x"] = -np.inf
    frame.loc[[1, 2], "x"] = np.nan
    frame.loc[[3], "y"] = np.nan
    session = train_session(frame, design(FeatureHandling(name="x"), FeatureHandling(name="y")))
    model = session.models[0]
    assert model.ok, model.error
    assert np.isfinite(session.matrix).all()
    # Imputed with the mean of the finite values, which standardizes to 0.
    assert session.matrix[[0, 1, 2, 21, 42], 0].tolist() == pytest.approx([0.0] * 5, abs=1e-12)
    assert codes(session)["feature_infinite"] == (
        "Feature 'x' has 3 infinite values (+inf or -inf) in 60 rows; they are imputed like "
        "missing values (mean). Fix them upstream (often a division by zero) if they mean "
        "something."
    )
    assert "feature_unparsed" not in codes(session)
    labels = model.predict(frame.iloc[:3])["cluster_labels"]
    assert labels.notna().all()


def test_infinities_drop_the_row_when_missing_values_do():
    frame = blobs(n_per_blob=20)
    frame.loc[[0, 5], "x"] = np.inf
    features = (FeatureHandling(name="x", numeric=NumericHandling(missing="drop")),)
    session = train_session(frame, design(*features, FeatureHandling(name="y")))
    assert session.dropped_rows.nonzero()[0].tolist() == [0, 5]
    assert "the rows holding them are dropped" in codes(session)["feature_infinite"]


def test_numbers_that_are_not_numbers_are_counted():
    feature = FeatureHandling(name="amount")
    (warning,) = feature_diagnostics(feature, pd.Series(["1.5", "n/a", "2", None, "?"]))
    assert warning.code == "feature_unparsed"
    assert warning.message.startswith("Feature 'amount' has 2 values that are not numbers")


# ------------------------------------------------------------ per-model problems


def test_k_at_least_the_number_of_rows_names_k_and_the_rows():
    check_model_rows(ModelParams(algorithm="kmeans", params={"k": 29}), 30)
    with pytest.raises(InvalidInputError) as caught:
        check_model_rows(ModelParams(algorithm="gmm", params={"k": 30}), 30)
    assert str(caught.value) == (
        "Gaussian mixture (k=30) asks for 30 clusters but the session trains on 30 rows: k "
        "must be below the number of rows, so at most 29 here. Lower k in the algorithm's "
        "settings (its k list), or train on more rows."
    )
    check_model_rows(ModelParams(algorithm="dbscan", params={"eps": 0.5}), 2)


def test_k_larger_than_the_rows_fails_only_that_model():
    session = train_session(blobs(n_per_blob=10), numeric_design(KMeansSpec(k=(3, 40), seed=0)))
    ok, failed = session.models
    assert ok.ok
    assert not failed.ok
    assert "40" in failed.error
    assert [m.params.k for m in session.sorted_models()] == [3, 40]


# ---------------------------------------------------------------------- custom code


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "from sklearn.cluster import KMeans\nk = 4\nclf = KMeans(n_clusters=k // 0)",
            "The custom model code failed on line 3: ZeroDivisionError: integer division or "
            "modulo by zero.",
        ),
        ("def make(:\n  pass", "The custom model code failed on line 1: SyntaxError"),
        (
            "from sklearn.cluster import KMeans\nmodel = KMeans()",
            "The custom model code does not define clf",
        ),
        (
            "from sklearn.cluster import KMeans\nclf = KMeans",
            "clf is the class KMeans, not a clusterer: create one, e.g. clf = KMeans(",
        ),
    ],
)
def test_custom_code_that_raises_or_defines_no_clf_is_explained(code, message):
    with pytest.raises(InvalidInputError) as caught:
        build_custom_clusterer(code, allowed=True)
    assert str(caught.value).startswith(message)
    session = train_session(
        blobs(n_per_blob=10),
        numeric_design(CustomSpec(name="Mine", code=code), KMeansSpec(k=(3,), seed=0)),
        allow_custom_code=True,
    )
    custom, kmeans = session.models
    assert custom.error == str(caught.value)
    assert kmeans.ok


def test_a_custom_clusterer_failing_in_fit_fails_its_model_only():
    code = (
        "class Broken:\n"
        "    def fit(self, X):\n"
        "        raise ValueError('no convergence on ' + str(len(X)) + ' rows')\n"
        "clf = Broken()\n"
    )
    session = train_session(
        blobs(n_per_blob=10),
        numeric_design(CustomSpec(code=code), KMeansSpec(k=(3,), seed=0)),
        allow_custom_code=True,
    )
    custom, kmeans = session.models
    assert custom.error == "ValueError: no convergence on 30 rows"
    assert kmeans.ok
