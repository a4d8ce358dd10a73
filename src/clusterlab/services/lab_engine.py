"""Which engine a Lab task trains on, and what its design may ask of that engine.

A task names an engine, or inherits its project's. A design item the engine cannot
train (an algorithm, a covariance type, text features, outliers detection) is refused
when it is added, with the engine's declared reason, and a task whose design holds
such items is refused at training, before any job starts. Items that were already
there (the project's engine changed since) can still be removed one at a time.

Examples
--------
>>> from clusterlab.core.mltask import DBSCANSpec, KMeansSpec, TaskDesign
>>> design_problems("spark", TaskDesign(algorithms=(KMeansSpec(),)))
[]
>>> print(unsupported_text("spark", design_problems("spark",
...     TaskDesign(algorithms=(DBSCANSpec(),))))[:51])
DBSCAN is not available on the Spark engine: Spark
"""

from __future__ import annotations

from clusterlab.core.errors import UnsupportedError
from clusterlab.core.mltask import TaskDesign
from clusterlab.engines.capabilities import capabilities_for
from clusterlab.services.engine_choice import added_design_problems


def design_problems(engine: str, design: TaskDesign) -> list[str]:
    """What ``design`` asks that ``engine`` cannot train, as ``item: reason`` texts."""
    return capabilities_for(engine).design_problems(design)


def unsupported_text(engine: str, problems: list[str]) -> str:
    """``DBSCAN is not available on the Spark engine: <reason>``, one sentence each."""
    shown = engine.capitalize()
    sentences = []
    for problem in problems:
        item, _, reason = problem.partition(": ")
        sentences.append(f"{item} is not available on the {shown} engine: {reason}")
    return ". ".join(sentences)


def check_design_change(engine: str, before: TaskDesign, after: TaskDesign) -> None:
    """Refuse a design change that adds something ``engine`` cannot train."""
    if added := added_design_problems(engine, before, after):
        raise UnsupportedError(
            f"{unsupported_text(engine, added)}. Nothing was changed; choose another "
            "option, or train this task on the local engine (task.set_engine('local'))."
        )


def refuse_unsupported(engine: str, design: TaskDesign, situation: str, remedy: str) -> None:
    """Raise `UnsupportedError` (``situation: items. remedy``) if ``engine`` cannot train
    everything ``design`` asks for."""
    if found := design_problems(engine, design):
        raise UnsupportedError(f"{situation}: {unsupported_text(engine, found)}. {remedy}")
