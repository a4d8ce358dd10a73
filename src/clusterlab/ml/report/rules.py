"""Clusters explained as rules: 1–3 readable conditions per cluster, with their accuracy.

For each cluster, a shallow decision tree learns to tell the cluster's rows from the
others on the **original** feature values: numeric features as they are (a missing
value is read as the column's median by the tree), categorical ones as one
``feature = level`` indicator per frequent level. Each leaf where the cluster
outweighs the rest is a candidate rule: the conditions on its path, merged per
feature, thresholds moved to a round number that splits the learning rows the same
way, and conditions that do not add precision dropped. Up to ``max_rules`` rules are
kept, by coverage, and measured on every row given:

- **support**: rows matching the rule;
- **coverage**: share of the cluster's rows matching it;
- **precision**: share of the rows matching it that are in the cluster.

A row whose value is missing (±inf counts as missing, as in training) matches no
condition on that feature but ``is not``.

Why one tree per cluster (one-vs-rest) rather than one multi-class tree: a tree of
depth 3 has at most 8 leaves, so one tree for 7 or more clusters would leave some
clusters without a leaf, and small clusters would lose every split to the large
ones. A tree per cluster, with balanced class weights, spends all its splits on that
cluster. The cost stays small: the trees learn from a cluster-stratified sample of at
most `DEFAULT_MAX_ROWS` rows.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"count": [1, 3, 4, 12, 15, 20], "plan": list("aabbba")})
>>> labels = ["low", "low", "low", "high", "high", "high"]
>>> result = build_rules(frame, labels, numeric=["count"], categorical=["plan"])
>>> [(r.cluster, [(rule.text, rule.coverage, rule.precision) for rule in r.rules])
...  for r in result]
[('high', [('count ≥ 10', 1.0, 1.0)]), ('low', [('count < 10', 1.0, 1.0)])]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.report.formatting import format_number
from clusterlab.ml.sampling import stratified_positions

__all__ = [
    "DEFAULT_MAX_ROWS",
    "TOP_LEVELS",
    "ClusterRules",
    "Condition",
    "Rule",
    "build_rules",
    "round_threshold",
]

DEFAULT_MAX_ROWS = 10_000
"""Rows the trees learn from; beyond, a seeded cluster-stratified sample. A depth-3
tree needs few rows; on 1M rows x 15 and 5 clusters, 50,000 cost 2.2 s against 0.6."""
TOP_LEVELS = 10
"""Most frequent levels of a categorical feature that get an indicator."""
PRECISION_TOLERANCE = 0.01
"""A condition is dropped when the rule's precision without it falls by less."""
MIN_NEW_COVERAGE = 0.05
"""A further rule must cover this share of the cluster not covered by earlier ones."""

Op = Literal[">=", "<", "is", "is not"]
_SYMBOLS = {">=": "≥", "<": "<", "is": "is", "is not": "is not"}
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


class Condition(BaseModel):
    """One test on one feature: ``count ≥ 12``, ``country is France``.

    ``value`` is a number for ``>=`` and ``<`` and a level (as text) for ``is`` and
    ``is not``.

    Examples
    --------
    >>> Condition(feature="count", op=">=", value=12.0).text
    'count ≥ 12'
    """

    model_config = ConfigDict(frozen=True)

    feature: str
    op: Op
    value: float | str

    @property
    def text(self) -> str:
        """The condition as read in a rule."""
        value = self.value if isinstance(self.value, str) else format_number(self.value)
        return f"{self.feature} {_SYMBOLS[self.op]} {value}"

    def mask(self, frame: pd.DataFrame) -> BoolArray:
        """Which rows of ``frame`` meet the condition (missing values meet only ``is not``).

        Examples
        --------
        >>> frame = pd.DataFrame({"c": ["fr", None, "us"]})
        >>> Condition(feature="c", op="is not", value="fr").mask(frame).tolist()
        [False, True, True]
        """
        return _Columns(frame).mask(self)


class Rule(BaseModel):
    """Conditions all met by the rows of a rule, and how well it describes its cluster."""

    model_config = ConfigDict(frozen=True)

    text: str
    conditions: list[Condition]
    coverage: float
    precision: float
    support: int


class ClusterRules(BaseModel):
    """The rules of one cluster (``size`` rows); maybe none.

    Rules right more often than wrong (precision above 0.5) come first, then by
    coverage; each covers at least 5% of the cluster's rows not covered before it.
    """

    model_config = ConfigDict(frozen=True)

    cluster: str
    size: int
    rules: list[Rule]


class _Columns:
    """Column values converted once, for evaluating many conditions on one frame."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.cache: dict[tuple[str, bool], Any] = {}

    def numbers(self, feature: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        key = (feature, True)
        if key not in self.cache:
            column = self.frame[feature]
            # A float column is read in place (its missing values are NaN already): a
            # copy per feature held every column of the training rows a second time.
            if column.dtype == np.float64:
                numbers = column.to_numpy()
            else:
                values = pd.to_numeric(column, errors="coerce")
                numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            infinite = np.isinf(numbers)
            if infinite.any():
                # Missing, as in training: a rule on an infinity would read nowhere.
                numbers = np.where(infinite, np.nan, numbers)
            self.cache[key] = numbers
        found: np.ndarray[Any, np.dtype[np.float64]] = self.cache[key]
        return found

    def levels(self, feature: str) -> np.ndarray[Any, np.dtype[np.object_]]:
        key = (feature, False)
        if key not in self.cache:
            column = self.frame[feature]
            # Levels compare as text, so that 1, "1" and True read as the rule shows them.
            text = column.astype(str).to_numpy(dtype=object)
            text[column.isna().to_numpy()] = None
            self.cache[key] = text
        found: np.ndarray[Any, np.dtype[np.object_]] = self.cache[key]
        return found

    def mask(self, condition: Condition) -> BoolArray:
        if condition.op in (">=", "<"):
            values = self.numbers(condition.feature)
            threshold = float(condition.value)
            with np.errstate(invalid="ignore"):
                hit = values >= threshold if condition.op == ">=" else values < threshold
            return np.asarray(hit, dtype=bool)
        same = np.asarray(self.levels(condition.feature) == condition.value, dtype=bool)
        return same if condition.op == "is" else ~same

    def all_of(self, conditions: Sequence[Condition]) -> BoolArray:
        hit = np.ones(len(self.frame), dtype=bool)
        for condition in conditions:
            hit &= self.mask(condition)
        return hit


def _round_sig(value: float, digits: int, *, down: bool = False) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    factor = 10.0 ** (digits - 1 - math.floor(math.log10(abs(value))))
    scaled = math.floor(value * factor) if down else round(value * factor)
    # Through text, so that 0.4 does not come back as 0.39999999999999997.
    return float(f"{scaled / factor:.{digits}g}")


def round_threshold(threshold: float, below: float, above: float) -> float:
    """A round number ``v`` with ``below < v ≤ above``, else ``threshold`` to 3 digits.

    The tree splits between the learning values ``below`` and ``above``; any ``v`` in
    between splits them the same way, so the rule takes the one with fewest digits.

    Examples
    --------
    >>> round_threshold(11.5, 11.0, 12.0), round_threshold(0.39, 0.31, 0.47)
    (12.0, 0.4)
    >>> round_threshold(12.3456, 12.3455, 12.3457)
    12.3
    """
    for digits in (1, 2, 3):
        for candidate in (_round_sig(above, digits), _round_sig(above, digits, down=True)):
            if below < candidate <= above:
                return candidate
    return _round_sig(threshold, 3)


class _Design:
    """The tree's input matrix from the original features, and its column meanings."""

    def __init__(
        self,
        rows: pd.DataFrame,
        numeric: Sequence[str],
        categorical: Sequence[str],
        top_levels: int,
    ) -> None:
        columns = _Columns(rows)
        blocks: list[np.ndarray[Any, Any]] = []
        self.meaning: list[tuple[str, str | None]] = []
        self.distinct: dict[int, np.ndarray[Any, Any]] = {}
        for feature in numeric:
            values = columns.numbers(feature).copy()
            missing = np.isnan(values)
            if missing.any():
                median = np.nanmedian(values) if not missing.all() else 0.0
                values[missing] = median
            self.distinct[len(self.meaning)] = np.unique(values)
            self.meaning.append((feature, None))
            blocks.append(values)
        for feature in categorical:
            text = columns.levels(feature)
            counts = pd.Series(text).value_counts(dropna=True)
            for level in counts.index[:top_levels]:
                self.meaning.append((feature, str(level)))
                blocks.append((text == level).astype(np.float64))
        self.matrix = np.column_stack(blocks) if blocks else np.zeros((len(rows), 0))

    def condition(self, column: int, threshold: float, right: bool) -> Condition:
        feature, level = self.meaning[column]
        if level is not None:
            return Condition(feature=feature, op="is" if right else "is not", value=level)
        values = self.distinct[column]
        at = int(np.searchsorted(values, threshold, side="right"))
        value = round_threshold(threshold, float(values[at - 1]), float(values[at]))
        return Condition(feature=feature, op=">=" if right else "<", value=value)


def _merge(conditions: Sequence[Condition]) -> list[Condition]:
    """One lower and one upper bound per numeric feature; ``is`` makes ``is not`` moot."""
    tightest: dict[tuple[str, str], Condition] = {}
    for c in conditions:
        key = (c.feature, c.op if c.op != "is not" else f"is not {c.value}")
        held = tightest.get(key)
        # The tightest bound implies the others on its side: ≥ the highest, < the lowest.
        sign = {">=": 1.0, "<": -1.0}.get(c.op, 0.0)
        if held is None or (sign and sign * (float(c.value) - float(held.value)) > 0):
            tightest[key] = c
    equal = {c.feature for c in tightest.values() if c.op == "is"}
    merged = [c for c in tightest.values() if c.op != "is not" or c.feature not in equal]
    order = {c.feature: i for i, c in reversed(list(enumerate(conditions)))}
    return sorted(merged, key=lambda c: (order[c.feature], c.op != ">="))


def _leaf_paths(tree: Any) -> list[tuple[int, list[tuple[int, float, bool]]]]:
    """Each leaf of a fitted sklearn tree with its path: (column, threshold, went right)."""
    found: list[tuple[int, list[tuple[int, float, bool]]]] = []
    stack: list[tuple[int, list[tuple[int, float, bool]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            found.append((node, path))
            continue
        column, threshold = int(tree.feature[node]), float(tree.threshold[node])
        stack.append((int(right), [*path, (column, threshold, True)]))
        stack.append((int(left), [*path, (column, threshold, False)]))
    return found


def _precision(hit: BoolArray, member: BoolArray) -> float:
    support = int(hit.sum())
    return float((hit & member).sum()) / support if support else 0.0


def _simplify(conditions: list[Condition], columns: _Columns, member: BoolArray) -> list[Condition]:
    """Drop conditions that add too little precision; say ``is`` rather than ``is not``."""
    floor = _precision(columns.all_of(conditions), member) - PRECISION_TOLERANCE
    kept = list(conditions)
    # Deepest conditions first: they tend to refine what earlier splits already said.
    for condition in reversed(conditions):
        trial = [c for c in kept if c is not condition]
        if trial and _precision(columns.all_of(trial), member) >= floor:
            kept = trial
    return [_affirm(c, kept, columns, member, floor) for c in kept]


def _affirm(
    condition: Condition,
    conditions: list[Condition],
    columns: _Columns,
    member: BoolArray,
    floor: float,
) -> Condition:
    """``country is France`` for ``country is not Spain`` when it holds as well."""
    if condition.op != "is not":
        return condition
    hit = columns.all_of(conditions)
    levels = pd.Series(columns.levels(condition.feature)[hit & member]).value_counts()
    if levels.empty:
        return condition
    positive = Condition(feature=condition.feature, op="is", value=str(levels.index[0]))
    trial = [positive if c is condition else c for c in conditions]
    trial_hit = columns.all_of(trial)
    same_reach = int((trial_hit & member).sum()) >= int((hit & member).sum())
    return positive if same_reach and _precision(trial_hit, member) >= floor else condition


def _candidates(
    design: _Design, member: BoolArray, columns: _Columns, max_depth: int, seed: int
) -> list[list[Condition]]:
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        class_weight="balanced",
        # Leaves under 1% of the cluster describe too few of its rows to be worth a rule.
        min_samples_leaf=max(1, int(member.sum()) // 100),
        random_state=seed,
    ).fit(design.matrix, member)
    structure = tree.tree_
    rules: list[list[Condition]] = []
    for leaf, path in _leaf_paths(structure):
        weights = structure.value[leaf][0]
        if not path or weights[1] <= weights[0]:
            continue
        merged = _merge([design.condition(c, t, right) for c, t, right in path])
        simple = _simplify(merged, columns, member)
        if simple not in rules:
            rules.append(simple)
    return rules


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _check(
    frame: pd.DataFrame,
    labels: Sequence[Any] | np.ndarray[Any, Any],
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> None:
    features = [*numeric, *categorical]
    if len(labels) != len(frame):
        raise InvalidInputError(
            f"build_rules got {len(labels)} cluster labels for {len(frame)} rows: pass one "
            "label per row of the frame, in its order."
        )
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"Features {missing} are not columns of the frame (its columns are "
            f"{list(map(str, frame.columns))}); pass existing column names."
        )
    if not features:
        raise InvalidInputError("build_rules needs at least one numeric or categorical feature.")
    for feature in numeric:
        if not pd.api.types.is_numeric_dtype(frame[feature]):
            raise InvalidInputError(
                f"Feature {feature!r} is given as numeric but holds {frame[feature].dtype} "
                "values; pass it among the categorical features, or convert it to numbers."
            )


def build_rules(
    frame: pd.DataFrame,
    labels: Sequence[Any] | np.ndarray[Any, Any] | pd.Series[Any],
    numeric: Sequence[str],
    categorical: Sequence[str] = (),
    *,
    max_rules: int = 3,
    max_depth: int = 3,
    seed: int = 0,
    max_rows: int = DEFAULT_MAX_ROWS,
    top_levels: int = TOP_LEVELS,
) -> list[ClusterRules]:
    """Describe each cluster by up to ``max_rules`` rules on the original features.

    Parameters
    ----------
    frame : DataFrame
        The rows with their original feature values.
    labels : sequence of shape (n_rows,)
        The cluster name of each row of ``frame``, by position; rows with a missing
        label (dropped by preprocessing) are left out.
    numeric, categorical : sequence of str
        Feature columns read as numbers, and as levels.
    max_rules : int
        Rules per cluster at most.
    max_depth : int
        Depth of each tree, hence conditions per rule at most (before merging).
    seed : int
        Seed of the sample and of the trees.
    max_rows : int
        Rows the trees learn from at most (a cluster-stratified sample); the rules'
        figures are measured on every row.
    top_levels : int
        Most frequent levels per categorical feature that rules may name.

    Returns
    -------
    list of ClusterRules
        One per cluster, clusters in natural name order (``cluster_2`` before
        ``cluster_10``); a cluster the trees cannot tell apart gets no rule.

    Examples
    --------
    >>> frame = pd.DataFrame({"country": ["France"] * 3 + ["Spain"] * 3, "n": range(6)})
    >>> rules = build_rules(frame, list("aaabbb"), numeric=[], categorical=["country"])
    >>> rules[0].rules[0].text, rules[0].rules[0].support
    ('country is France', 3)
    """
    if isinstance(labels, pd.Series):
        labels = labels.to_numpy()
    _check(frame, labels, numeric, categorical)
    # Integer codes by hashing: sorting or comparing a million label strings costs seconds.
    # Missing labels (rows dropped by preprocessing) get code -1.
    codes, uniques = pd.factorize(np.asarray(labels, dtype=object))
    valid = codes >= 0
    # Renumbering copies every column: the training rows are numbered 0..n-1 already.
    numbered = frame.index.equals(pd.RangeIndex(len(frame)))
    rows = frame if numbered else frame.reset_index(drop=True)
    if not valid.all():
        rows, codes = rows[valid].reset_index(drop=True), codes[valid]
    names = [str(u) for u in uniques]
    clusters = sorted((n for j, n in enumerate(names) if (codes == j).any()), key=_natural)
    picked = stratified_positions(codes, max_rows, seed)
    learn = rows.iloc[picked].reset_index(drop=True)
    design = _Design(learn, numeric, categorical, top_levels)
    learn_columns, all_columns = _Columns(learn), _Columns(rows)
    result = []
    for cluster in clusters:
        member = codes == names.index(cluster)
        size = int(member.sum())
        in_sample = member[picked]
        found: list[Rule] = []
        if not in_sample.all():
            candidates = _candidates(design, in_sample, learn_columns, max_depth, seed)
            found = _select(candidates, all_columns, member, max_rules)
        result.append(ClusterRules(cluster=str(cluster), size=size, rules=found))
    return result


def _select(
    candidates: Sequence[list[Condition]],
    columns: _Columns,
    member: BoolArray,
    max_rules: int,
) -> list[Rule]:
    """Measure each candidate on all rows; keep the best, each adding new coverage."""
    size = int(member.sum())
    measured = []
    for conditions in candidates:
        hit = columns.all_of(conditions)
        support = int(hit.sum())
        covered = int((hit & member).sum())
        measured.append((conditions, hit, support, covered))
    # Rules right more often than wrong first, then the ones covering most of the cluster.
    measured.sort(key=lambda m: (m[3] * 2 <= m[2], -m[3], m[2]))
    chosen: list[Rule] = []
    seen = np.zeros(len(member), dtype=bool)
    for conditions, hit, support, covered in measured:
        fresh = int((hit & member & ~seen).sum())
        if len(chosen) == max_rules or fresh < MIN_NEW_COVERAGE * size or not covered:
            continue
        seen |= hit & member
        chosen.append(
            Rule(
                text=" and ".join(c.text for c in conditions),
                conditions=list(conditions),
                coverage=covered / size,
                precision=covered / support,
                support=support,
            )
        )
    return chosen
