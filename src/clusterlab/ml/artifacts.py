"""Save and load trained models: a skops artifact and a JSON manifest, never plain pickle.

A model folder holds ``model.skops`` (the fitted scikit-learn objects) and
``manifest.json`` (algorithm, params, features, metrics, library versions, seed, data
hash and the artifact's sha256). Loading checks the sha256 first, then asks skops
which types the artifact would create and accepts only scikit-learn and NumPy ones,
so a tampered or foreign file is refused before any of it is turned into objects.

Our own estimators (two-step clustering, the outliers detector) are stored as their
parameters and fitted attributes, all scikit-learn objects and arrays, and rebuilt on
load from a fixed list of classes: the artifact never names a class of ours. What
training recorded beside the estimator (training centroids, the drift baseline) is
stored as arrays and a JSON string; artifacts saved before it existed load without it.

Examples
--------
>>> import tempfile, pandas as pd
>>> from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign
>>> from clusterlab.ml.training import train_session
>>> frame = pd.DataFrame({"x": [0.0, 0.1, 0.2, 5.0, 5.1, 5.2]})
>>> design = TaskDesign(features=(FeatureHandling(name="x"),),
...                     algorithms=(KMeansSpec(k=(2,), seed=0),))
>>> trained = train_session(frame, design).models[0]
>>> folder = tempfile.mkdtemp()
>>> save_model(trained, folder).algorithm.value
'kmeans'
>>> load_model(folder).predict(frame)["cluster_labels"].tolist() == trained.labels.tolist()
True
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from clusterlab.core.errors import StorageError, UnsupportedError
from clusterlab.core.mltask import ModelManifest
from clusterlab.ml.drift import DriftBaseline
from clusterlab.ml.model import ClusteringModel, TrainingState
from clusterlab.ml.outliers import MiniClusterOutliers
from clusterlab.ml.preprocess import FittedPreprocessing, factor_names
from clusterlab.ml.twostep import TwoStepClustering

if TYPE_CHECKING:
    from clusterlab.ml.training import TrainedModel

ARTIFACT = "model.skops"
MANIFEST = "manifest.json"
TRUSTED_PREFIXES = ("sklearn.", "numpy.")
"""Only types from these packages may be created when an artifact is loaded."""

_STATE_KEY = "__clusterlab_estimator__"
_OWN_ESTIMATORS: dict[str, type[Any]] = {
    "TwoStepClustering": TwoStepClustering,
    "MiniClusterOutliers": MiniClusterOutliers,
}
# Per-row training attributes: not needed to score, and as large as the data.
_TRANSIENT = frozenset({"labels_"})
_LIBRARIES = ("clusterlab", "scikit-learn", "numpy", "pandas", "scipy", "skops")


def _to_state(obj: Any) -> Any:
    name = type(obj).__name__
    if _OWN_ESTIMATORS.get(name) is not type(obj):
        return obj
    fitted = {
        key: _to_state(value)
        for key, value in vars(obj).items()
        if key.endswith("_") and not key.startswith("_") and key not in _TRANSIENT
    }
    return {_STATE_KEY: name, "params": obj.get_params(deep=False), "fitted": fitted}


def _from_state(obj: Any) -> Any:
    if not (isinstance(obj, dict) and _STATE_KEY in obj):
        return obj
    cls = _OWN_ESTIMATORS.get(str(obj[_STATE_KEY]))
    if cls is None:
        raise StorageError(f"The model artifact names an unknown estimator {obj[_STATE_KEY]!r}.")
    estimator = cls(**obj["params"])
    for key, value in obj["fitted"].items():
        if not (isinstance(key, str) and key.endswith("_")):
            raise StorageError(f"The model artifact holds an unexpected attribute {key!r}.")
        setattr(estimator, key, _from_state(value))
    return estimator


def _training_to_payload(state: TrainingState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "label_ids": state.label_ids,
        "centroids": state.centroids,
        "baseline": None if state.baseline is None else state.baseline.model_dump_json(),
    }


def _training_from_payload(raw: Any, path: Path) -> TrainingState | None:
    if raw is None:
        return None  # saved before training state was recorded
    try:
        baseline = raw["baseline"]
        return TrainingState(
            label_ids=np.asarray(raw["label_ids"], dtype=np.int64),
            centroids=np.asarray(raw["centroids"], dtype=np.float64),
            baseline=None if baseline is None else DriftBaseline.model_validate_json(baseline),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(
            f"The model artifact {path} holds unreadable training state ({exc}); save or "
            "deploy the model again."
        ) from exc


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model depends on."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> dict[str, str]:
    # Asked once per process: each lookup reads package metadata from disk (~20 ms for
    # the set, paid by every model a session wrote).
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def _untrusted(path: Path) -> tuple[list[str], list[str]]:
    import skops.io as sio

    types = sorted(sio.get_untrusted_types(file=path))
    refused = [t for t in types if not t.startswith(TRUSTED_PREFIXES)]
    return types, refused


def save_model(trained: TrainedModel, folder: str | Path) -> ModelManifest:
    """Write ``trained``'s model to ``folder`` (artifact + manifest) and return the manifest.

    Raises
    ------
    UnsupportedError
        When the model failed to train, or holds objects that are not scikit-learn or
        NumPy ones (e.g. a custom clusterer class defined in custom code).
    """
    import skops.io as sio

    model = trained.model
    if model is None or trained.metrics is None:
        raise UnsupportedError(f"{trained.params.label} failed to train, so it cannot be saved.")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": 1,
        "transformer": model.preprocessing.transformer,
        "outlier_detector": None
        if model.outlier_detector is None
        else _to_state(model.outlier_detector),
        "pca": model.pca,
        # Algorithms without predict label new rows through their assigner alone; their
        # fitted estimator (e.g. spectral's n x n affinity matrix) is not kept.
        "estimator": None if model.assigner is not None else _to_state(model.estimator),
        "assigner": model.assigner,
        "training": _training_to_payload(model.training),
    }
    temporary = target / f".{ARTIFACT}.tmp"
    sio.dump(payload, temporary)
    _, refused = _untrusted(temporary)
    if refused:
        temporary.unlink()
        raise UnsupportedError(
            f"{trained.params.label} holds objects that are not scikit-learn or NumPy ones "
            f"({', '.join(refused)}), so it cannot be saved safely. Use a scikit-learn "
            "clusterer in custom code."
        )
    seed = trained.params.params.get("seed")
    manifest = ModelManifest(
        algorithm=trained.params.algorithm,
        params=trained.params,
        features=model.preprocessing.features,
        feature_names=model.preprocessing.feature_names,
        factor_names=()
        if model.pca is None
        else factor_names(model.pca.named_steps["pca"].n_components_),
        outliers=model.outliers,
        cluster_names={str(i): name for i, name in sorted(model.names.items())},
        metrics=trained.metrics.as_dict(),
        library_versions=library_versions(),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        data_hash=trained.data_hash,
        approximate=model.approximate,
        artifact=ARTIFACT,
        artifact_sha256=file_sha256(temporary),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    os.replace(temporary, target / ARTIFACT)
    manifest_tmp = target / f".{MANIFEST}.tmp"
    manifest_tmp.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    os.replace(manifest_tmp, target / MANIFEST)
    return manifest


def verified_artifact(
    folder: str | Path,
    manifest: ModelManifest,
    digest: Callable[[Path], str],
    *,
    is_folder: bool = False,
) -> Path:
    """The path of ``manifest``'s artifact in ``folder``, once checked: inside the
    folder, a file (a folder if ``is_folder``), and with the manifest's sha256 by
    ``digest``."""
    # The manifest is data from disk: never let it point outside the model folder.
    if Path(manifest.artifact).name != manifest.artifact or manifest.artifact.startswith("."):
        raise StorageError(f"The manifest names an invalid artifact {manifest.artifact!r}.")
    path = Path(folder) / manifest.artifact
    if not (path.is_dir() if is_folder else path.is_file()):
        raise StorageError(f"The model artifact {path} is missing.")
    found = digest(path)
    if found != manifest.artifact_sha256:
        raise StorageError(
            f"The model artifact {path} does not match its manifest (sha256 {found}, "
            f"expected {manifest.artifact_sha256}): it was modified or corrupted. It is "
            "not loaded; save or deploy the model again."
        )
    return path


def read_manifest(folder: str | Path) -> ModelManifest:
    """The manifest of the model saved in ``folder``."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise StorageError(f"No saved model in {folder}: {MANIFEST} is missing.")
    return ModelManifest.model_validate_json(path.read_text(encoding="utf-8"))


def load_model(folder: str | Path) -> ClusteringModel:
    """Read back a model saved by `save_model`, refusing any tampered artifact.

    Raises
    ------
    StorageError
        When the artifact is missing, its sha256 differs from the manifest's, or it
        would create objects other than scikit-learn and NumPy ones.
    """
    import skops.io as sio

    manifest = read_manifest(folder)
    path = verified_artifact(folder, manifest, file_sha256)
    types, refused = _untrusted(path)
    if refused:
        raise StorageError(
            f"The model artifact {path} would create objects that are not scikit-learn or "
            f"NumPy ones ({', '.join(refused)}); it is not loaded."
        )
    payload = sio.load(path, trusted=types)
    if not isinstance(payload, dict) or payload.get("format") != 1:
        raise StorageError(f"The model artifact {path} is not a ClusterLab model.")
    return ClusteringModel(
        params=manifest.params,
        preprocessing=FittedPreprocessing(
            manifest.features, payload["transformer"], manifest.feature_names
        ),
        estimator=_from_state(payload["estimator"]),
        names={int(i): name for i, name in manifest.cluster_names.items()},
        outliers=manifest.outliers,
        outlier_detector=_from_state(payload["outlier_detector"]),
        pca=payload["pca"],
        assigner=payload["assigner"],
        manifest=manifest,
        training=_training_from_payload(payload.get("training"), path),
    )
