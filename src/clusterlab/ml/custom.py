"""Custom models: a scikit-learn-compatible clusterer given as Python code defining ``clf``.

The code runs only when the caller explicitly allows custom code (an administrator's
setting), because running it means running arbitrary Python with the server's rights.
The namespace it runs in is restricted (a short list of builtins, imports limited to
numerical libraries) to catch mistakes and casual misuse; it is **not** a security
sandbox, and the allow flag is the real protection.

Examples
--------
>>> clf = build_custom_clusterer(
...     "from sklearn.cluster import KMeans\\nclf = KMeans(n_clusters=2, n_init=1)",
...     allowed=True,
... )
>>> type(clf).__name__
'KMeans'
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from clusterlab.core.errors import InvalidInputError, UnsupportedError

ALLOWED_MODULES = frozenset({"sklearn", "numpy", "scipy", "math", "pandas"})
"""Top-level packages custom code may import."""

_SAFE_BUILTINS = [
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "enumerate",
    "float",
    "frozenset",
    "int",
    "isinstance",
    "issubclass",
    "len",
    "list",
    "map",
    "max",
    "min",
    "object",
    "print",
    "range",
    "reversed",
    "round",
    "set",
    "slice",
    "sorted",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "zip",
    "ValueError",
    "TypeError",
    "RuntimeError",
    "Exception",
    "NotImplementedError",
    "property",
    "staticmethod",
    "classmethod",
    "getattr",
    "hasattr",
    "setattr",
]


def _restricted_import(
    name: str,
    globals: Mapping[str, Any] | None = None,
    locals: Mapping[str, Any] | None = None,
    fromlist: Sequence[str] = (),
    level: int = 0,
) -> Any:
    if level != 0 or name.split(".")[0] not in ALLOWED_MODULES:
        raise ImportError(
            f"custom models may import only {', '.join(sorted(ALLOWED_MODULES))}; not {name!r}"
        )
    return __import__(name, globals, locals, fromlist, level)


def _namespace() -> dict[str, Any]:
    safe = {name: getattr(builtins, name) for name in _SAFE_BUILTINS}
    safe["__import__"] = _restricted_import
    # Classes defined in the code need __build_class__ and a module name.
    safe["__build_class__"] = builtins.__build_class__
    return {"__builtins__": safe, "__name__": "clusterlab_custom_model"}


_FILENAME = "<custom model>"


def _where(exc: BaseException) -> str:
    """The line of the custom code where ``exc`` was raised, as " on line N", if known."""
    if isinstance(exc, SyntaxError) and exc.filename == _FILENAME and exc.lineno:
        return f" on line {exc.lineno}"
    line = None
    tb = exc.__traceback__
    while tb is not None:
        # The innermost frame of the user's code, not of the library it called.
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return "" if line is None else f" on line {line}"


def build_custom_clusterer(code: str, *, allowed: bool) -> Any:
    """Run ``code`` and return the unfitted clusterer it assigns to ``clf``.

    Parameters
    ----------
    code : str
        Python code defining ``clf``, an object with ``fit`` and either ``labels_``
        after fitting, ``fit_predict`` or ``predict``.
    allowed : bool
        Whether custom code may run here; when False nothing runs.

    Raises
    ------
    UnsupportedError
        When custom code is not allowed.
    InvalidInputError
        When the code fails (the message gives the line), or defines no ``clf``, or
        assigns a class rather than an instance, or an object without ``fit``.

    Examples
    --------
    >>> build_custom_clusterer("x = 1\\nclf = 1 / 0", allowed=True)
    Traceback (most recent call last):
    ...
    clusterlab.core.errors.InvalidInputError: The custom model code failed on line 2: ...
    """
    if not allowed:
        raise UnsupportedError(
            "Custom Python models are disabled: running them executes arbitrary code. An "
            "administrator can allow custom code (CLUSTERLAB_ALLOW_CUSTOM_CODE=1 for the server "
            "and its jobs); otherwise use a built-in algorithm."
        )
    namespace = _namespace()
    try:
        exec(compile(code, _FILENAME, "exec"), namespace)
    except Exception as exc:  # any error in user code is reported, not raised as is
        raise InvalidInputError(
            f"The custom model code failed{_where(exc)}: {type(exc).__name__}: {exc}. Fix "
            "the code; it must define clf, e.g. clf = KMeans(n_clusters=4)."
        ) from exc
    clf = namespace.get("clf")
    if clf is None:
        raise InvalidInputError(
            "The custom model code does not define clf; assign the clusterer to clf, e.g. "
            "clf = KMeans(n_clusters=4)."
        )
    if isinstance(clf, type):
        # fit exists on the class too, and would fail later with a confusing "self" error.
        raise InvalidInputError(
            f"clf is the class {clf.__name__}, not a clusterer: create one, e.g. "
            f"clf = {clf.__name__}(n_clusters=4)."
        )
    if not callable(getattr(clf, "fit", None)):
        raise InvalidInputError(
            f"clf is a {type(clf).__name__}, which has no fit method; assign a "
            "scikit-learn-compatible clusterer to clf."
        )
    return clf


def custom_cluster_names(clf: Any, label_ids: Sequence[int]) -> dict[int, str] | None:
    """Names from ``clf.get_cluster_labels()`` (a list by label id, or a mapping), if any.

    Examples
    --------
    >>> class Named:
    ...     def get_cluster_labels(self):
    ...         return ["low", "high"]
    >>> custom_cluster_names(Named(), [0, 1])
    {0: 'low', 1: 'high'}
    """
    getter = getattr(clf, "get_cluster_labels", None)
    if not callable(getter):
        return None
    given = getter()
    names = (
        {int(k): str(v) for k, v in given.items()}
        if isinstance(given, Mapping)
        else {i: str(v) for i, v in enumerate(given)}
    )
    absent = [i for i in label_ids if i >= 0 and i not in names]
    if absent:
        raise InvalidInputError(
            f"get_cluster_labels() names no cluster for label(s) {absent}; return one name "
            "per cluster id."
        )
    if len(set(names.values())) != len(names):
        raise InvalidInputError("get_cluster_labels() returns the same name twice.")
    return names
