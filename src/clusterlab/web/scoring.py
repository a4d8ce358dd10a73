"""Real-time scoring over HTTP: records checked against the model's inputs, models cached.

Loading a skops artifact costs far more than scoring one record, so the app keeps the
loaded models of the versions it recently scored with. A version folder never changes
once published, and activating another version changes the key, so a cached model
is never stale; the key still includes the files' modification times so that a saved
model deleted and deployed again under the same id is loaded afresh.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pandas as pd

from clusterlab.core.errors import InvalidInputError, LimitExceededError
from clusterlab.core.mltask import FeatureHandling, FeatureType
from clusterlab.services.saved_models import score_frame
from clusterlab.web.serialize import plain

if TYPE_CHECKING:
    from clusterlab.ml.model import ClusteringModel
    from clusterlab.services.saved_models import SavedModel, SavedModelVersion

MAX_RECORDS = 10_000
CACHED_MODELS = 8
# One message listing a few problems helps more than the first alone, and stays readable.
MAX_PROBLEMS = 5
SCALARS = (str, int, float, bool)


class ModelCache:
    """Loaded models and their cluster names, by version folder; least recently used out."""

    def __init__(self, size: int = CACHED_MODELS) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, int], tuple[ClusteringModel, dict[str, str]]]
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, version: SavedModelVersion) -> tuple[ClusteringModel, dict[str, str]]:
        """The loaded model of ``version`` and its cluster id → name mapping."""
        folder = version.folder
        key = (
            str(folder),
            (folder / "manifest.json").stat().st_mtime_ns,
            (folder / "clusters.json").stat().st_mtime_ns,
        )
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        # Loaded outside the lock: two first requests may both load, which is harmless.
        loaded = (version.load(), version.names())
        with self._lock:
            self._items[key] = loaded
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return loaded


def input_features(model: ClusteringModel) -> list[FeatureHandling]:
    """The features a record must have: the model's inputs, in design order."""
    return [f for f in model.preprocessing.features if f.is_input]


def _number(value: Any) -> float | str | None:
    """The float of a numeric value, None for missing, or the problem as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return f"{value!r} is a boolean, not a number"
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return f"{value!r} is not a number"
    else:
        return f"a {type(value).__name__} is not a number"
    if not math.isfinite(number):
        return f"{value!r} is not a finite number (send null for a missing value)"
    return number


def records_frame(
    records: list[dict[str, Any]], features: list[FeatureHandling], model_name: str
) -> pd.DataFrame:
    """The records as a frame of the input features; `InvalidInputError` naming each problem.

    Numeric features take numbers, numeric text ("3.5") or null; other features take
    text, numbers, booleans or null. Columns that are not input features are ignored.

    Examples
    --------
    >>> f = [FeatureHandling(name="age")]
    >>> records_frame([{"age": "41"}, {"age": None}], f, "m")["age"].tolist()
    [41.0, nan]
    >>> try:
    ...     records_frame([{"age": "old"}], f, "m")
    ... except InvalidInputError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    record 0, column 'age': 'old' is not a number (a numeric input feature).
    """
    if not records:
        raise InvalidInputError('Send at least one record: {"records": [{"column": value}]}.')
    if len(records) > MAX_RECORDS:
        raise LimitExceededError(
            f"At most {MAX_RECORDS:,} records can be scored per request, not {len(records):,}: "
            "send them in several requests, or score a dataset with an Apply recipe."
        )
    problems: list[str] = []
    columns: dict[str, list[Any]] = {f.name: [] for f in features}
    for index, record in enumerate(records):
        for feature in features:
            if feature.name not in record:
                problems.append(f"record {index} has no column {feature.name!r}")
                continue
            value = record[feature.name]
            if feature.type is FeatureType.NUMERIC:
                number = _number(value)
                if isinstance(number, str):
                    problems.append(
                        f"record {index}, column {feature.name!r}: {number} "
                        "(a numeric input feature)"
                    )
                columns[feature.name].append(number)
            elif value is not None and not isinstance(value, SCALARS):
                problems.append(
                    f"record {index}, column {feature.name!r}: a {type(value).__name__} is not "
                    "a value (send text, a number or null)"
                )
            else:
                columns[feature.name].append(value)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        more = "; and maybe more" if len(problems) >= MAX_PROBLEMS else ""
        inputs = ", ".join(f.name for f in features)
        raise InvalidInputError(
            f"Saved model {model_name} cannot score these records: "
            + "; ".join(problems[:MAX_PROBLEMS])
            + more
            + (f". Its input features are: {inputs}." if "has no column" in problems[0] else ".")
        )
    frame = pd.DataFrame(columns)
    for feature in features:
        if feature.type is FeatureType.NUMERIC:
            frame[feature.name] = frame[feature.name].astype("float64")
        else:
            frame[feature.name] = frame[feature.name].astype(object)
    return frame


def score_records(
    cache: ModelCache, saved: SavedModel, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Score ``records`` with the active version: one result per record, in order."""
    version = saved.active
    model, names = cache.get(version)
    frame = records_frame(records, input_features(model), repr(saved.id))
    scored = score_frame(model, names, frame, with_distance=True)
    results = [
        {str(k): plain(v) for k, v in row.items()} for row in scored.to_dict(orient="records")
    ]
    return {"saved_model": saved.id, "version": version.id, "results": results}
