"""A project: its datasets (and, later, recipes, analyses and saved models)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import pyarrow as pa

from clusterlab.core.dataset import CsvOptions, DatasetKind, DatasetSpec, FileFormat, ProjectSpec
from clusterlab.core.errors import (
    AlreadyExistsError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
)
from clusterlab.core.ids import validate_name
from clusterlab.core.recipes import RecipeSpec, parse_recipe
from clusterlab.engines.capabilities import engine_name
from clusterlab.engines.local.duck import connect
from clusterlab.engines.local.reader import (
    Source,
    dataframe_to_arrow,
    guess_format,
    open_arrow,
    open_file,
)
from clusterlab.engines.local.store import write_version
from clusterlab.flow.dag import FlowGraph
from clusterlab.services.build import check_recipe
from clusterlab.services.dataset import Dataset, missing
from clusterlab.services.jobs import run_job, start_job
from clusterlab.services.progress import ProgressCallback, with_query_progress
from clusterlab.storage.atomic import remove_tree_atomic
from clusterlab.storage.runtime import Job

if TYPE_CHECKING:
    from clusterlab.services.lab import ClusteringTask
    from clusterlab.services.saved_models import SavedModel
    from clusterlab.services.workspace import Workspace


class Project:
    """A project of a workspace.

    Examples
    --------
    >>> import clusterlab as cl, tempfile
    >>> p = cl.Workspace(tempfile.mkdtemp()).create_project("CLUSTERING")
    >>> p.key, p.datasets()
    ('CLUSTERING', [])
    """

    def __init__(self, workspace: Workspace, spec: ProjectSpec) -> None:
        self.workspace = workspace
        self.spec = spec

    def __repr__(self) -> str:
        return f"Project({self.key!r}, name={self.name!r})"

    @property
    def key(self) -> str:
        """The project KEY."""
        return self.spec.key

    @property
    def name(self) -> str:
        """The project's display name."""
        return self.spec.name

    @property
    def engine(self) -> str:
        """The engine recipes and Lab tasks run on unless they name their own."""
        return self.spec.engine

    def set_engine(self, engine: str) -> Project:
        """Run recipes and Lab tasks on ``engine`` (``local`` or ``spark``) unless they
        name their own; a build given an engine still overrides it.

        Examples
        --------
        >>> import clusterlab as cl, tempfile
        >>> p = cl.Workspace(tempfile.mkdtemp()).create_project("SHOP")
        >>> p.set_engine("spark").engine
        'spark'
        """
        defs = self.workspace.definitions
        # Re-read: another process may have renamed the project since this one loaded it.
        spec = defs.read_project(self.key).model_copy(update={"engine": engine_name(engine)})
        defs.write_project(spec)
        self.spec = spec
        return self

    def set_recipe_engine(self, recipe: str, engine: str | None) -> RecipeSpec:
        """Run ``recipe`` on ``engine``; None: on the project's. Refused, with the
        reasons, when that engine cannot run the recipe."""
        from clusterlab.services.engine_choice import set_recipe_engine

        return set_recipe_engine(self, recipe, engine)

    # -- datasets ---------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        """The project's datasets, by name."""
        defs = self.workspace.definitions
        return [Dataset(self, defs.read_dataset(self.key, n)) for n in defs.dataset_names(self.key)]

    def dataset(self, name: str) -> Dataset:
        """The dataset called ``name``; `NotFoundError` if there is none."""
        validate_name(name)
        defs = self.workspace.definitions
        if name not in defs.dataset_names(self.key):
            raise missing(self.key, name, defs.dataset_names(self.key))
        return Dataset(self, defs.read_dataset(self.key, name))

    def has_dataset(self, name: str) -> bool:
        """Whether a dataset called ``name`` exists."""
        return validate_name(name) in self.workspace.definitions.dataset_names(self.key)

    def import_dataset(
        self,
        name: str,
        path: str | Path,
        *,
        format: FileFormat | str | None = None,
        delimiter: str | None = None,
        encoding: str | None = None,
        quote: str | None = None,
        header: bool | None = None,
        external: bool = False,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Dataset:
        """Import a CSV/TSV (gzip accepted), Parquet, JSON lines or Excel file as a dataset.

        Format details not given are detected. With ``external=True`` the file is read in
        place at every use instead of being copied to managed Parquet. Bad input raises a
        `ClusterLabError` and leaves the project unchanged.
        """
        source = Path(path).expanduser()
        self._check_new(name, overwrite)
        if not source.is_file():
            raise InvalidInputError(f"File not found: {source}. Check the path and try again.")
        size = source.stat().st_size
        limit = self.workspace.settings.max_upload_bytes
        if size > limit:
            raise LimitExceededError(
                f"{source.name} is {size:,} bytes, over the upload limit of {limit:,} bytes; "
                "raise CLUSTERLAB_MAX_UPLOAD_BYTES or import it as an external dataset."
            )
        fmt = FileFormat(format) if format else guess_format(source)
        options = CsvOptions(delimiter=delimiter, encoding=encoding, quote=quote, header=header)
        spec = DatasetSpec(name=name, format=fmt, csv=options)
        if external:
            spec = spec.model_copy(
                update={"kind": DatasetKind.EXTERNAL, "path": str(source.resolve())}
            )
            dataset = Dataset(self, spec)
            dataset.schema  # reads the file once, so a bad file is refused now  # noqa: B018
            self.workspace.definitions.write_dataset(self.key, spec)
            return dataset
        scratch = self.workspace.scratch_dir()
        try:
            con = connect()
            with open_file(con, source, fmt, options, scratch) as src:
                self._write(spec, src, con, progress)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return self.dataset(name)

    def create_dataset(
        self,
        name: str,
        data: pd.DataFrame | pa.Table,
        *,
        overwrite: bool = False,
    ) -> Dataset:
        """Create a managed dataset from a pandas DataFrame or an Arrow table."""
        self._check_new(name, overwrite)
        if isinstance(data, pd.DataFrame):
            table = dataframe_to_arrow(data)
        elif isinstance(data, pa.Table):
            table = data
        else:
            raise InvalidInputError(
                f"Cannot create dataset {name!r} from a {type(data).__name__}: "
                "pass a pandas DataFrame or a pyarrow Table."
            )
        con = connect()
        self._write(DatasetSpec(name=name), open_arrow(con, table), con, None)
        return self.dataset(name)

    def delete_dataset(self, name: str) -> None:
        """Delete a dataset, its definition first so it is never half-visible."""
        self.dataset(name)
        layout = self.workspace.layout
        self.workspace.definitions.delete_dataset(self.key, name)
        remove_tree_atomic(layout.dataset_data_dir(self.key, name), layout.trash_dir)

    # -- recipes and builds -------------------------------------------------------

    def recipes_specs(self) -> list[RecipeSpec]:
        """Every recipe definition of the project."""
        defs = self.workspace.definitions
        return [defs.read_recipe(self.key, n) for n in defs.recipe_names(self.key)]

    def recipe(self, name: str) -> RecipeSpec:
        """The recipe called ``name``."""
        names = self.workspace.definitions.recipe_names(self.key)
        if name not in names:
            listed = ", ".join(names) or "none yet"
            raise NotFoundError(f"Project {self.key} has no recipe {name!r} (recipes: {listed}).")
        return self.workspace.definitions.read_recipe(self.key, name)

    def flow(self) -> FlowGraph:
        """The Flow: recipes and the datasets they read and write."""
        return FlowGraph.of(self.recipes_specs())

    def create_recipe(
        self, recipe: RecipeSpec | dict[str, Any], *, overwrite: bool = False
    ) -> RecipeSpec:
        """Add (or replace) a recipe; its output datasets are created empty if new.

        The Flow is checked first: a cycle or a dataset with two writers is refused and
        nothing is written.
        """
        spec = recipe if isinstance(recipe, RecipeSpec) else parse_recipe(recipe)
        defs = self.workspace.definitions
        if spec.name in defs.recipe_names(self.key) and not overwrite:
            raise AlreadyExistsError(
                f"Recipe {spec.name!r} already exists in project {self.key}: choose another "
                "name or ask to overwrite it."
            )
        others = [r for r in self.recipes_specs() if r.name != spec.name]
        FlowGraph.of([*others, spec])
        check_recipe(self, spec)
        if spec.type != "train":  # a train recipe writes a saved model, not a dataset
            for out in spec.outputs:
                if not self.has_dataset(out):
                    defs.write_dataset(self.key, DatasetSpec(name=out))
        defs.write_recipe(self.key, spec)
        return spec

    def delete_recipe(self, name: str) -> None:
        """Delete a recipe (its output datasets stay)."""
        self.recipe(name)
        self.workspace.definitions.delete_recipe(self.key, name)

    def build(
        self,
        *datasets: str,
        force: bool = False,
        upstream: bool = True,
        engine: str | None = None,
        on_update: Callable[[Job], None] | None = None,
    ) -> Job:
        """Build datasets (and what they depend on) as a job; waits and returns the job.

        A smart build skips recipes whose inputs and spec did not change since their
        outputs were built; ``force=True`` rebuilds. ``engine`` runs every recipe on
        ``local`` or ``spark``; None runs each on its own engine, else the project's.
        Raises `JobFailedError` on failure, leaving every output at its previous version.
        """
        if not datasets:
            raise InvalidInputError("Name at least one dataset to build, or use build_all().")
        for name in datasets:
            self.flow_item(name)
        payload = {
            "datasets": list(datasets),
            "force": force,
            "upstream": upstream,
            "engine": engine and engine_name(engine),
        }
        return run_job(self.workspace, "build", self.key, payload, on_update)

    def start_build(
        self,
        datasets: list[str] | None = None,
        *,
        force: bool = False,
        upstream: bool = True,
        engine: str | None = None,
    ) -> Job:
        """Start a build of ``datasets`` (all when None) as a job and return at once."""
        for name in datasets or []:
            self.flow_item(name)
        payload = {
            "datasets": datasets,
            "force": force,
            "upstream": upstream,
            "engine": engine and engine_name(engine),
        }
        return start_job(self.workspace, "build", self.key, payload)

    def build_all(
        self,
        *,
        force: bool = False,
        engine: str | None = None,
        on_update: Callable[[Job], None] | None = None,
    ) -> Job:
        """Build every dataset of the Flow in dependency order, as a job (``engine``: as
        in `build`)."""
        payload = {"datasets": None, "force": force, "engine": engine and engine_name(engine)}
        return run_job(self.workspace, "build", self.key, payload, on_update)

    # -- the Lab ------------------------------------------------------------------

    def create_clustering_task(
        self, dataset: str, preset: str = "kmeans", engine: str | None = None
    ) -> ClusteringTask:
        """Lab → AutoML Clustering on ``dataset``: a design guessed from its statistics.

        ``preset`` is ``"kmeans"`` (K-means k = 3, 5, 7) or ``"anomaly"`` (Isolation Forest).
        ``engine`` is where its sessions train: ``"local"`` (scikit-learn), ``"spark"``
        (pyspark.ml), or None for the project's engine (`task.engine` resolves it).
        """
        if preset not in ("kmeans", "anomaly"):
            raise InvalidInputError(f"Unknown preset {preset!r}: choose 'kmeans' or 'anomaly'.")
        from clusterlab.services import lab  # scikit-learn loads only when the Lab is used

        return lab.create_task(self, dataset, preset, engine)

    def clustering_task(self, task_id: str) -> ClusteringTask:
        """The Lab task with this id."""
        from clusterlab.services import lab

        return lab.open_task(self, task_id)

    def clustering_tasks(self) -> list[ClusteringTask]:
        """The project's Lab tasks."""
        from clusterlab.services import lab

        return lab.list_tasks(self)

    # -- saved models ---------------------------------------------------------------

    def saved_models(self) -> list[SavedModel]:
        """The project's saved models (deployed from the Lab), by id."""
        from clusterlab.services import saved_models

        return saved_models.list_saved_models(self)

    def saved_model(self, id_or_name: str) -> SavedModel:
        """The saved model with this id or display name."""
        from clusterlab.services import saved_models

        return saved_models.open_saved_model(self, id_or_name)

    def flow_item(self, name: str) -> Dataset | SavedModel:
        """The dataset or saved model called ``name`` (what a build can target)."""
        if self.has_dataset(name):
            return self.dataset(name)
        if any(m.id == name for m in self.saved_models()):
            return self.saved_model(name)
        known = [d.name for d in self.datasets()] + [m.id for m in self.saved_models()]
        raise NotFoundError(
            f"Project {self.key} has no dataset or saved model {name!r} "
            f"(it has: {', '.join(known) or 'nothing yet'})."
        )

    def create_apply_recipe(
        self,
        dataset: str,
        saved_model: str,
        output: str,
        *,
        name: str | None = None,
        columns: list[str] | None = None,
        distance: bool = True,
    ) -> RecipeSpec:
        """Add an apply recipe: ``dataset`` scored by ``saved_model`` into ``output``.

        ``output`` holds the input columns (or ``columns``) plus ``cluster_labels`` with
        the cluster names, ``cluster_id``, ``cluster_distance`` (unless ``distance`` is
        False) and, for Isolation Forest, ``anomaly_score``. Build it to run it.
        """
        model = self.saved_model(saved_model)
        params = {"type": "apply", "columns": columns, "distance": distance}
        return self.create_recipe(
            {
                "name": name or f"apply_{model.id}_on_{dataset}",
                "type": "apply",
                "inputs": [dataset, model.id],
                "outputs": [output],
                "params": params,
            }
        )

    def jobs(self, limit: int = 50) -> list[Job]:
        """The project's jobs, newest first."""
        return self.workspace.runtime.list_jobs(project=self.key, limit=limit)

    def _check_new(self, name: str, overwrite: bool) -> None:
        if self.has_dataset(name) and not overwrite:
            raise AlreadyExistsError(
                f"Dataset {name!r} already exists in project {self.key}: choose another name "
                "or ask to overwrite it (overwrite=True, --overwrite)."
            )

    def _write(
        self,
        spec: DatasetSpec,
        src: Source,
        con: duckdb.DuckDBPyConnection,
        progress: ProgressCallback | None,
    ) -> None:
        dataset = Dataset(self, spec)
        with dataset.versions.new_version() as folder:
            with_query_progress(con, lambda: write_version(con, src.relation, folder), progress)
        if self.has_dataset(spec.name):
            old = self.workspace.definitions.read_dataset(self.key, spec.name)
            spec = spec.model_copy(update={"created_at": old.created_at})
        spec = spec.model_copy(update={"import_warnings": tuple(src.warnings)})
        self.workspace.definitions.write_dataset(self.key, spec)
