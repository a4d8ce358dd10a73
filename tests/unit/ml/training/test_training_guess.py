"""The design guess from column statistics: roles, types and every auto-reject reason."""

from __future__ import annotations

import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.explore import ColumnStats, DatasetStats, TopValue
from clusterlab.core.mltask import AlgorithmType, FeatureRole, FeatureType, RejectReason
from clusterlab.ml.guess import guess_design

ROWS = 1000


def col(name, type_, *, missing=0, distinct=50, top=(), meaning=None):
    return ColumnStats(
        name=name,
        type=type_,
        meaning=meaning or {"string": "text", "decimal": "decimal"}.get(type_, type_),
        count=ROWS,
        missing=missing,
        distinct=distinct,
        top_values=tuple(TopValue(value=v, count=n) for v, n in top),
    )


SENTENCE = "the delivery was late and the box was damaged when it arrived"
STATS = DatasetStats(
    rows=ROWS,
    columns=(
        col("customer_id", "integer", distinct=ROWS),
        col("email_key", "string", distinct=ROWS, top=[("a1b2", 1), ("c3d4", 1)]),
        col("age", "integer", distinct=60, top=[(35, 40)]),
        col("amount", "decimal", distinct=ROWS),
        col("country", "string", distinct=12, top=[("fr", 400), ("us", 300)]),
        col("vip", "boolean", distinct=2, top=[(False, 900), (True, 100)]),
        col("mostly_empty", "decimal", missing=600, distinct=30),
        col("all_empty", "string", missing=ROWS, distinct=0),
        col("single", "string", distinct=1, top=[("x", ROWS)]),
        col("almost_single", "integer", distinct=3, top=[(0, 995), (1, 4)]),
        col("comment", "string", distinct=900, top=[(SENTENCE, 3), (SENTENCE + "!", 2)]),
        col("city", "string", distinct=400, top=[("Paris", 30), ("Lyon", 20)]),
        col("signup", "date", distinct=300, meaning="date"),
    ),
)


def test_each_column_gets_the_expected_role_type_and_reason():
    design = guess_design(STATS)
    got = {f.name: (f.role, f.type, f.reject_reason) for f in design.features}
    reject, inp = FeatureRole.REJECT, FeatureRole.INPUT
    num, cat = FeatureType.NUMERIC, FeatureType.CATEGORICAL
    assert got == {
        "customer_id": (reject, num, RejectReason.UNIQUE_ID.value),
        "email_key": (reject, cat, RejectReason.UNIQUE_ID.value),
        "age": (inp, num, None),
        # Decimals with all-distinct values are measures, not identifiers.
        "amount": (inp, num, None),
        "country": (inp, cat, None),
        "vip": (inp, cat, None),
        "mostly_empty": (reject, num, RejectReason.TOO_MANY_MISSING.value),
        "all_empty": (reject, cat, RejectReason.TOO_MANY_MISSING.value),
        "single": (reject, cat, RejectReason.CONSTANT.value),
        "almost_single": (reject, num, RejectReason.CONSTANT.value),
        "comment": (reject, FeatureType.TEXT, RejectReason.TEXT.value),
        "city": (reject, cat, RejectReason.TOO_MANY_CATEGORIES.value),
        "signup": (reject, cat, RejectReason.DATE.value),
    }
    assert [f.name for f in design.features] == [c.name for c in STATS.columns]


def test_inputs_get_the_default_handling():
    design = guess_design(STATS)
    age, country = design.feature("age"), design.feature("country")
    assert (age.numeric.rescaling, age.numeric.missing) == ("standard", "mean")
    assert (country.categorical.cap, country.categorical.max_categories) == ("max_categories", 100)
    assert country.categorical.missing == "own_level"


def test_kmeans_preset_trains_k_3_5_7_and_lists_the_others_disabled():
    design = guess_design(STATS)
    assert [(p.algorithm, p.k, p.pca) for p in design.grid()] == [
        (AlgorithmType.KMEANS, 3, False),
        (AlgorithmType.KMEANS, 5, False),
        (AlgorithmType.KMEANS, 7, False),
    ]
    assert len(design.algorithms) == 9
    assert design.outliers.method == "none"
    assert design.reduction.mode == "off"


def test_anomaly_preset_trains_an_isolation_forest():
    grid = guess_design(STATS, "anomaly").grid()
    assert [p.algorithm for p in grid] == [AlgorithmType.ISOLATION_FOREST]


def test_unknown_preset_is_refused():
    with pytest.raises(InvalidInputError, match="kmeans"):
        guess_design(STATS, "ward")


@pytest.mark.parametrize(
    ("rows", "reason"),
    [(0, RejectReason.TOO_MANY_MISSING), (1, RejectReason.CONSTANT)],
)
def test_empty_and_one_row_datasets_reject_every_column_with_a_reason(rows, reason):
    columns = tuple(
        ColumnStats(
            name=name,
            type=type_,
            meaning=type_,
            count=rows,
            missing=0,
            distinct=rows,
            top_values=(TopValue(value=1, count=1),) if rows else (),
        )
        for name, type_ in (("x", "decimal"), ("n", "integer"), ("s", "string"))
    )
    design = guess_design(DatasetStats(rows=rows, columns=columns))
    assert [(f.role, f.reject_reason) for f in design.features] == [
        (FeatureRole.REJECT, reason.value)
    ] * 3
    assert design.input_names == ()
