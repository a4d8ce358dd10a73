"""Preprocessing: imputation, rescaling, capped dummies, dropped rows, text and PCA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import CategoricalHandling, FeatureHandling, NumericHandling
from clusterlab.ml.numeric_steps import TWO_THREADS_MIN_ROWS
from clusterlab.ml.preprocess import capped_levels, fit_pca, fit_preprocessing, prepare_frame


def numeric(name, **handling):
    return FeatureHandling(name=name, numeric=NumericHandling(**handling))


def categorical(name, **handling):
    return FeatureHandling(
        name=name, type="categorical", categorical=CategoricalHandling(**handling)
    )


def column(prep, matrix, name):
    return matrix[:, prep.feature_names.index(name)]


def test_mixed_numeric_and_categorical_with_missing_values(customers):
    features = (
        numeric("age"),
        numeric("spend", rescaling="minmax"),
        categorical("country"),
        categorical("plan"),
        FeatureHandling(name="ignored", role="reject"),
    )
    prep, matrix, kept = fit_preprocessing(customers, features)
    assert kept.all()
    assert prep.feature_names == (
        "age",
        "spend",
        "country=(missing)",
        "country=de",
        "country=fr",
        "country=us",
        "plan=basic",
        "plan=pro",
    )
    assert not np.isnan(matrix).any()
    age = column(prep, matrix, "age")
    # Missing ages are imputed with the mean, which standardizes to 0.
    assert np.allclose(age[customers["age"].isna().to_numpy()], 0.0)
    assert age.mean() == pytest.approx(0.0, abs=1e-9)
    spend = column(prep, matrix, "spend")
    assert spend.min() == pytest.approx(0.0)
    assert spend.max() == pytest.approx(1.0)
    missing_country = column(prep, matrix, "country=(missing)")
    assert missing_country.sum() == customers["country"].isna().sum()
    dummies = matrix[:, 2:6]
    assert np.array_equal(dummies.sum(axis=1), np.ones(len(customers)))


def test_median_constant_and_most_frequent_imputation():
    frame = pd.DataFrame({"a": [1.0, 2.0, 10.0, None], "b": ["x", "x", "y", None]})
    prep, matrix, _ = fit_preprocessing(
        frame,
        (
            numeric("a", missing="median", rescaling="none"),
            categorical("b", missing="most_frequent"),
        ),
    )
    assert matrix[3, 0] == 2.0
    assert prep.feature_names == ("a", "b=x", "b=y")
    assert matrix[3, 1:].tolist() == [1.0, 0.0]
    prep, matrix, _ = fit_preprocessing(
        frame,
        (
            numeric("a", missing="constant", constant=-1, rescaling="none"),
            categorical("b", missing="constant", constant="unknown"),
        ),
    )
    assert matrix[3, 0] == -1.0
    assert prep.feature_names == ("a", "b=unknown", "b=x", "b=y")


def test_drop_rows_removes_rows_missing_a_drop_feature(customers):
    features = (numeric("age", missing="drop"), categorical("country", missing="drop"))
    prep, matrix, kept = fit_preprocessing(customers, features)
    expected = customers["age"].notna() & customers["country"].notna()
    assert kept.tolist() == expected.tolist()
    assert matrix.shape == (int(expected.sum()), len(prep.feature_names))
    assert "country=(missing)" not in prep.feature_names
    # Scoring drops the same rows.
    again, kept_again = prep.transform(customers)
    assert np.allclose(again, matrix)
    assert kept_again.tolist() == kept.tolist()


def test_every_row_dropped_is_a_clear_error():
    frame = pd.DataFrame({"a": [None, None], "b": [1.0, 2.0]})
    with pytest.raises(InvalidInputError, match="Impute these features"):
        fit_preprocessing(frame, (numeric("a", missing="drop"), numeric("b")))


def test_dummy_caps_gather_rare_levels_in_other():
    levels = ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 4 + ["e"]
    frame = pd.DataFrame({"c": levels})
    cases = {
        "max": (categorical("c", max_categories=2), ["c=a", "c=b", "c=other"]),
        "cumulative": (
            categorical("c", cap="cumulative_proportion", cumulative_proportion=0.9),
            ["c=a", "c=b", "c=c", "c=other"],
        ),
        "min_samples": (categorical("c", cap="min_samples", min_samples=5), None),
    }
    for feature, names in (v for v in cases.values()):
        prep, matrix, _ = fit_preprocessing(frame, (feature,))
        if names is not None:
            assert list(prep.feature_names) == names
        assert prep.feature_names[-1] == "c=other"
        other = column(prep, matrix, "c=other")
        kept_levels = {n.split("=", 1)[1] for n in prep.feature_names[:-1]}
        assert other.sum() == sum(v not in kept_levels for v in levels)
    # An unseen level at scoring time lands in "other".
    prep, _, _ = fit_preprocessing(frame, (categorical("c", max_categories=2),))
    scored, _ = prep.transform(pd.DataFrame({"c": ["zzz", "a"]}))
    assert scored.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_under_the_cap_no_other_dummy_is_made():
    prep, _, _ = fit_preprocessing(pd.DataFrame({"c": ["a", "b", "a"]}), (categorical("c"),))
    assert prep.feature_names == ("c=a", "c=b")


def test_text_feature_is_tfidf_then_svd():
    words = ["red apple pie", "green apple", "blue sky", "sky is blue", "apple and sky"]
    frame = pd.DataFrame({"t": words * 4})
    feature = FeatureHandling(name="t", type="text")
    prep, matrix, _ = fit_preprocessing(frame, (feature,))
    assert prep.feature_names[0] == "t:svd_0"
    assert matrix.shape[0] == 20
    assert 1 <= matrix.shape[1] <= 10


def test_missing_input_column_and_no_input_feature_are_clear_errors():
    frame = pd.DataFrame({"a": [1.0]})
    with pytest.raises(InvalidInputError, match="'b'"):
        prepare_frame(frame, (numeric("b"),))
    with pytest.raises(InvalidInputError, match="no input feature"):
        fit_preprocessing(frame, (FeatureHandling(name="a", role="reject"),))


def test_numbers_stored_as_text_are_parsed_and_junk_is_missing():
    prepared = prepare_frame(pd.DataFrame({"a": ["1.5", "x", "inf"]}), (numeric("a"),))
    assert prepared["a"].tolist()[0] == 1.5
    assert prepared["a"].isna().tolist() == [False, True, True]


def test_pca_keeps_the_requested_variance():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(300, 2))
    matrix = np.column_stack([base, base @ [[1.0], [1.0]] + rng.normal(0, 0.01, (300, 1))])
    pca, projected = fit_pca(matrix, 0.9)
    assert projected.shape == (300, 2)
    assert pca.named_steps["pca"].explained_variance_ratio_.sum() >= 0.9
    _, everything = fit_pca(matrix, 1.0)
    assert everything.shape == (300, 3)


def test_capped_levels_rank_by_count_then_name_and_count_missing_as_filled():
    values = pd.Series(["b", "a", "c", "c", None, None, "d"])
    assert capped_levels(values, CategoricalHandling(max_categories=3)) == (
        ["(missing)", "c", "a"],
        5,
    )
    most = CategoricalHandling(max_categories=1, missing="most_frequent")
    assert capped_levels(values, most) == (["c"], 4)
    drop = CategoricalHandling(cap="min_samples", min_samples=2, missing="drop")
    assert capped_levels(values, drop) == (["c"], 4)
    share = CategoricalHandling(cap="cumulative_proportion", cumulative_proportion=0.5)
    assert capped_levels(values, share) == (["(missing)", "c"], 5)


def test_the_encoder_holds_only_the_kept_levels():
    # The encoder scans its categories at every transform: it must not hold them all.
    frame = pd.DataFrame({"c": [f"L{i}" for i in range(5000)] + ["top"] * 3})
    prep, matrix, _ = fit_preprocessing(frame, (categorical("c", max_categories=10),))
    encoder = prep.transformer.named_transformers_["f0"].named_steps["encode"]
    assert len(encoder.categories_[0]) == 11
    assert prep.feature_names[-1] == "c=other"
    assert prep.feature_names[0] == "c=L0"
    assert "c=top" in prep.feature_names
    assert matrix[:, -1].sum() == 5000 - 9


def test_numeric_runs_share_one_step_and_match_per_column_pipelines():
    from sklearn.compose import ColumnTransformer

    from clusterlab.ml.preprocess import _numeric_step

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 4)) * [1, 10, 100, 1000], columns=list("abcd"))
    frame.loc[rng.integers(0, 300, 20), "b"] = np.nan
    frame["kind"] = rng.choice(["x", "y"], 300)
    # a and b alike, then a categorical, then c and d alike but unlike a and b.
    features = (
        numeric("a"),
        numeric("b"),
        categorical("kind"),
        numeric("c", rescaling="minmax", missing="median"),
        numeric("d", rescaling="minmax", missing="median"),
    )
    prep, matrix, _ = fit_preprocessing(frame, features)
    assert list(prep.transformer.named_transformers_) == ["f0", "f2", "f3"]
    assert prep.feature_names == ("a", "b", "kind=x", "kind=y", "c", "d")
    # The same values, bit for bit, as one pipeline per column (the former layout).
    prepared = prepare_frame(frame, features)
    numeric_features = [f for f in features if f.type == "numeric"]
    per_column = ColumnTransformer(
        [(f.name, _numeric_step(f), [f.name]) for f in numeric_features], sparse_threshold=0.0
    ).fit_transform(prepared)
    assert np.array_equal(matrix[:, [0, 1, 4, 5]], per_column)
    # Scoring rows applies the same steps, and leaves the caller's frame alone.
    before = frame.copy()
    again, kept = prep.transform(frame)
    assert kept.all()
    assert np.array_equal(again, matrix)
    pd.testing.assert_frame_equal(frame, before)


def test_scoring_new_rows_gives_scikit_learns_transform_bit_for_bit():
    rng = np.random.default_rng(1)

    def rows(n, scale):
        frame = pd.DataFrame(rng.normal(size=(n, 5)) * scale, columns=list("abcde"))
        for name in "abcd":
            frame.loc[rng.integers(0, n, n // 10), name] = np.nan
        frame["kind"] = rng.choice(["x", "y", None], n)
        return frame

    features = (
        numeric("a"),
        numeric("b", missing="median", rescaling="minmax"),
        numeric("c", missing="constant", constant=-7.0, rescaling="none"),
        numeric("d", missing="drop"),
        categorical("kind"),
        numeric("e", missing="drop", rescaling="none"),
    )
    prep, _, _ = fit_preprocessing(rows(500, 3.0), features)
    # New rows on other scales: values beyond the training range, other missing rows.
    new = rows(20_000, 50.0)
    matrix, kept = prep.transform(new)
    prepared = prepare_frame(new, features)
    assert np.array_equal(kept, prepared["d"].notna().to_numpy())
    expected = prep.transformer.transform(prepared[kept])
    assert np.array_equal(matrix, expected)
    # A step this module would not have fitted is left to scikit-learn.
    imputer = prep.transformer.named_transformers_["f0"].named_steps["impute"]
    imputer.set_params(keep_empty_features=False)
    assert np.array_equal(prep.transform(new)[0], expected)


def awkward_numbers(n: int, seed: int) -> pd.DataFrame:
    """Numeric columns on unequal scales and offsets, with missing values, an empty
    column, a constant one and numbers stored as text."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, 4)) * [1.0, 100.0, 1e-3, 1e4] + [0.0, 1e4, 3.0, 1e6]
    frame = pd.DataFrame({name: values[:, i] for i, name in enumerate("abcd")})
    frame.loc[rng.integers(0, n, n // 20), "b"] = np.nan
    frame.loc[rng.integers(0, n, n // 3), "d"] = np.nan
    frame["empty"] = np.nan
    frame["constant"] = 3.0
    frame["text"] = rng.choice(["1.5", "2", "x", "inf"], n)
    return frame


def fitted_attributes(transformer) -> dict:
    """Every learned attribute of every step of a fitted ColumnTransformer."""
    found = {}
    for name, step in transformer.named_transformers_.items():
        for part, estimator in getattr(step, "steps", [(name, step)]):
            for key, value in vars(estimator).items():
                if key.endswith("_") and not key.startswith("_"):
                    found[name, part, key] = value
    return found


def assert_same_attributes(got, want):
    assert got.keys() == want.keys()
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            assert got[key].dtype == value.dtype, key
            assert np.array_equal(got[key], value, equal_nan=value.dtype.kind == "f"), key
        else:
            assert type(got[key]) is type(value), key
            assert repr(got[key]) == repr(value), key


@pytest.mark.parametrize("missing", ["mean", "median", "constant", "drop"])
@pytest.mark.parametrize("rescaling", ["standard", "minmax", "none"])
@pytest.mark.parametrize("rows", [3001, TWO_THREADS_MIN_ROWS + 1])  # one thread, then two
def test_numeric_designs_equal_scikit_learns_own_fit_bit_for_bit(missing, rescaling, rows):
    from sklearn.compose import ColumnTransformer

    from clusterlab.ml.preprocess import _numeric_step

    frame = awkward_numbers(rows, seed=len(missing) + len(rescaling))
    features = [
        numeric(name, missing=missing, rescaling=rescaling, constant=-1.5) for name in frame
    ]
    if missing == "drop":
        features = [f for f in features if f.name != "empty"]  # it would drop every row
    # Two runs handled alike around one handled otherwise: three steps.
    features[2] = numeric(features[2].name, missing="median", rescaling="minmax")
    prep, matrix, kept = fit_preprocessing(frame, features)
    # The statistics are those scikit-learn's own fit finds on all the rows.
    prepared = prepare_frame(frame, features)[kept]
    # The same steps (named after their first feature's position), fitted by scikit-learn.
    steps = [
        (n, _numeric_step(features[int(n[1:])]), c) for n, _, c in prep.transformer.transformers
    ]
    reference = ColumnTransformer(steps, sparse_threshold=0.0)
    expected = reference.fit_transform(prepared)
    assert np.array_equal(matrix, expected)
    assert matrix.flags.c_contiguous
    assert_same_attributes(fitted_attributes(prep.transformer), fitted_attributes(reference))
    # Scoring new rows, missing values included, gives what the reference gives.
    new_rows = awkward_numbers(50, seed=99)
    scored, scored_kept = prep.transform(new_rows)
    want = reference.transform(prepare_frame(new_rows, features)[scored_kept])
    assert np.array_equal(scored, want)


def test_a_frame_of_row_major_numbers_gives_scikit_learns_values_to_rounding():
    from sklearn.compose import ColumnTransformer

    from clusterlab.ml.preprocess import _numeric_step

    rng = np.random.default_rng(4)
    values = rng.normal(size=(20_000, 3)) * [1.0, 30.0, 0.5] + [5.0, -40.0, 2.0]
    values[rng.integers(0, 20_000, 500), 1] = np.nan
    # A frame over a C-ordered array: each column is a strided view of its rows.
    frame = pd.DataFrame(values, columns=list("abc"), copy=False)
    assert frame["a"].to_numpy().strides[0] == 24
    features = [numeric(name) for name in "abc"]
    _, matrix, _ = fit_preprocessing(frame, features)
    # scikit-learn sums such a block row by row, we column by column: rounding differs.
    expected = ColumnTransformer([("f0", _numeric_step(features[0]), list("abc"))]).fit_transform(
        frame
    )
    assert np.allclose(matrix, expected, rtol=0, atol=1e-12)
