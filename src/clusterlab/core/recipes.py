"""Visual recipe specs: what a prepare, group, join, split, sync or stack recipe does.

Specs are data (frozen pydantic models stored as JSON); `clusterlab.flow` compiles
them to Ibis expressions. Every union is discriminated on a ``type`` field so a stored
definition names its own kind, e.g. ``{"type": "remove_columns", "columns": ["a"]}``.

Examples
--------
>>> spec = parse_recipe({
...     "name": "compute_weblogs_prepared", "type": "prepare",
...     "inputs": ["weblogs"], "outputs": ["weblogs_prepared"],
...     "params": {"steps": [{"type": "remove_columns", "columns": ["br_width"]}]},
... })
>>> spec.params.steps[0].type
'remove_columns'
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from clusterlab.core.dataset import EngineName
from clusterlab.core.errors import InvalidInputError
from clusterlab.core.ids import validate_name
from clusterlab.core.ml_recipes import ApplyParams, ClusterParams, TrainParams
from clusterlab.core.schema import StorageType

_S = TypeVar("_S", bound=str)


def _distinct(values: list[_S]) -> list[_S]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{str(value)!r} is listed twice; list it once")
        seen.add(value)
    return values


ColumnName = Annotated[str, Field(min_length=1, max_length=512)]
# A non-empty list of distinct column names: the common parameter of most steps.
Columns = Annotated[list[ColumnName], Field(min_length=1), AfterValidator(_distinct)]
Scalar = str | int | float | bool


class _Spec(BaseModel):
    # extra="forbid" so a misspelled parameter fails loudly instead of being ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Step(_Spec):
    enabled: bool = True
    comment: str | None = None


# ---------------------------------------------------------------- prepare: columns


class RemoveColumns(_Step):
    """Drop ``columns``."""

    type: Literal["remove_columns"] = "remove_columns"
    columns: Columns


class KeepColumns(_Step):
    """Keep only ``columns`` (in the table's order) and drop every other one."""

    type: Literal["keep_columns"] = "keep_columns"
    columns: Columns


class RenameColumns(_Step):
    """Rename columns: ``mapping`` is old name → new name."""

    type: Literal["rename_columns"] = "rename_columns"
    mapping: Annotated[
        dict[ColumnName, ColumnName],
        Field(min_length=1),
        AfterValidator(lambda m: _distinct(list(m.values())) and m),
    ]


class ReorderColumns(_Step):
    """Move ``columns`` to the start or end, or before/after the ``anchor`` column."""

    type: Literal["reorder_columns"] = "reorder_columns"
    columns: Columns
    position: Literal["start", "end", "before", "after"] = "start"
    anchor: ColumnName | None = None

    @model_validator(mode="after")
    def _anchor_given(self) -> ReorderColumns:
        if self.position in ("before", "after") and self.anchor is None:
            raise ValueError(f"position {self.position!r} needs an 'anchor' column")
        if self.anchor is not None and self.anchor in self.columns:
            raise ValueError(f"the anchor {self.anchor!r} cannot be one of the moved columns")
        return self


# ---------------------------------------------------------------- prepare: cleaning


class ClearInvalid(_Step):
    """Empty the cells of ``column`` that are not valid for ``meaning``."""

    type: Literal["clear_invalid"] = "clear_invalid"
    column: ColumnName
    meaning: Literal["ip_address", "email", "url", "number", "date"]


class FillEmpty(_Step):
    """Replace empty cells (null, or ``""`` in text columns) of ``columns`` by ``value``."""

    type: Literal["fill_empty"] = "fill_empty"
    columns: Columns
    value: Scalar


class FilterRows(_Step):
    """Keep (or remove) the rows that match a condition.

    ``by="values"`` matches rows whose ``column`` is one of ``values``; ``by="range"``
    those where ``min <= column <= max`` (either bound may be omitted); ``by="formula"``
    those where the ``formula`` is true. Empty cells never match.
    """

    type: Literal["filter_rows"] = "filter_rows"
    by: Literal["values", "range", "formula"]
    action: Literal["keep", "remove"] = "keep"
    column: ColumnName | None = None
    values: list[Scalar] | None = None
    min: float | None = None
    max: float | None = None
    formula: str | None = None

    @model_validator(mode="after")
    def _params_for_mode(self) -> FilterRows:
        if self.by == "values" and (self.column is None or not self.values):
            raise ValueError("filtering by values needs 'column' and a non-empty 'values'")
        if self.by == "range":
            if self.column is None or (self.min is None and self.max is None):
                raise ValueError("filtering by range needs 'column' and 'min' and/or 'max'")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max})")
        if self.by == "formula" and not (self.formula and self.formula.strip()):
            raise ValueError("filtering by formula needs a non-empty 'formula'")
        return self


class FormulaStep(_Step):
    """Compute ``output`` (new, or replaced in place) from a formula ``expression``."""

    type: Literal["formula"] = "formula"
    output: ColumnName
    expression: Annotated[str, Field(min_length=1)]


class Cast(_Step):
    """Convert ``column`` to storage type ``to``; values that do not convert become empty."""

    type: Literal["cast"] = "cast"
    column: ColumnName
    to: StorageType


class ParseDate(_Step):
    """Parse ``column`` as a timestamp (UTC) into ``output`` (default ``<column>_parsed``).

    ``formats`` are strptime formats (``%Y-%m-%d %H:%M:%S``) tried in order, with
    ``[...]`` marking optional parts; ``None`` tries common formats. Cells no format
    matches become empty.
    """

    type: Literal["parse_date"] = "parse_date"
    column: ColumnName
    formats: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    output: ColumnName | None = None

    @property
    def output_column(self) -> str:
        """The parsed column's name."""
        return self.output or f"{self.column}_parsed"


DatePart = Literal["year", "month", "day", "day_of_week", "hour"]


class ExtractDateParts(_Step):
    """Add one column per part of the date ``column``, named ``<prefix><part>``.

    ``day`` is the day of the month, ``day_of_week`` goes from 1 (Monday) to 7 (Sunday).
    """

    type: Literal["extract_date_parts"] = "extract_date_parts"
    column: ColumnName
    parts: Annotated[list[DatePart], Field(min_length=1), AfterValidator(_distinct)]
    prefix: str = ""


GeoOutput = Literal["country", "city", "geopoint", "latitude", "longitude"]


class GeoIP(_Step):
    """Resolve the IP addresses of ``column`` to ``<prefix>_country``, ``_city``, ....

    ``prefix`` defaults to the column's name; ``geopoint`` is ``POINT(lon lat)`` text.
    """

    type: Literal["geoip"] = "geoip"
    column: ColumnName
    outputs: Annotated[list[GeoOutput], Field(min_length=1)] = ["country", "city", "geopoint"]
    prefix: ColumnName | None = None


class ClassifyUserAgent(_Step):
    """Classify the user-agent strings of ``column`` into ``<prefix>_type``, ``_brand``, ``_os``.

    ``prefix`` defaults to the column's name; the type is ``browser`` or ``mobile``
    (or ``bot``, as the classifier says).
    """

    type: Literal["classify_user_agent"] = "classify_user_agent"
    column: ColumnName
    prefix: ColumnName | None = None


UrlPart = Literal["scheme", "host", "port", "path", "query", "fragment"]


class SplitUrl(_Step):
    """Split the URLs of ``column`` into ``<prefix>_<part>`` columns (prefix: the column)."""

    type: Literal["split_url"] = "split_url"
    column: ColumnName
    parts: Annotated[list[UrlPart], Field(min_length=1)] = ["scheme", "host", "path", "query"]
    prefix: ColumnName | None = None


class FlagUrlSections(_Step):
    """Add a 0/1 column per site section: ``sections`` maps output column → path prefix.

    A path is in section ``"/blog"`` when it is ``/blog`` or starts with ``/blog/``;
    the section ``"/"`` (home) matches only the path ``/`` itself.
    """

    type: Literal["flag_url_sections"] = "flag_url_sections"
    column: ColumnName
    sections: Annotated[dict[ColumnName, str], Field(min_length=1)]

    @field_validator("sections")
    @classmethod
    def _prefixes_are_paths(cls, sections: dict[str, str]) -> dict[str, str]:
        for output, prefix in sections.items():
            if not prefix.startswith("/"):
                raise ValueError(f"section {output!r}: the path {prefix!r} must start with '/'")
        return sections


class SplitColumn(_Step):
    """Split ``column`` on ``delimiter`` into ``<prefix>_0`` … ``<prefix>_<max_parts-1>``.

    Parts past ``max_parts`` are dropped; missing parts are empty.
    """

    type: Literal["split_column"] = "split_column"
    column: ColumnName
    delimiter: Annotated[str, Field(min_length=1)]
    max_parts: Annotated[int, Field(ge=1, le=100)]
    prefix: ColumnName | None = None


class ConcatColumns(_Step):
    """Join the text of ``columns`` with ``separator`` into ``output`` (empty cells as "")."""

    type: Literal["concat_columns"] = "concat_columns"
    columns: Columns
    output: ColumnName
    separator: str = ""


class TransformText(_Step):
    """Lower-case, upper-case or trim (strip surrounding spaces) text ``columns``."""

    type: Literal["lower", "upper", "trim"]
    columns: Columns


class BinNumbers(_Step):
    """Put ``column`` in bins; ``output`` (default ``<column>_bin``) holds a bin's lower edge.

    Give either a bin ``width`` (bins ``[k*width, (k+1)*width)``) or sorted ``edges``
    (values below the first edge get an empty bin, the last bin is open-ended).
    """

    type: Literal["bin_numbers"] = "bin_numbers"
    column: ColumnName
    width: Annotated[float, Field(gt=0)] | None = None
    edges: Annotated[list[float], Field(min_length=1)] | None = None
    output: ColumnName | None = None

    @model_validator(mode="after")
    def _width_or_edges(self) -> BinNumbers:
        if (self.width is None) == (self.edges is None):
            raise ValueError("give exactly one of 'width' and 'edges'")
        edges = self.edges or []
        if any(a >= b for a, b in itertools.pairwise(edges)):
            raise ValueError("'edges' must be strictly increasing")
        return self

    @property
    def output_column(self) -> str:
        """The bin column's name."""
        return self.output or f"{self.column}_bin"


Step = Annotated[
    RemoveColumns
    | KeepColumns
    | RenameColumns
    | ReorderColumns
    | ClearInvalid
    | FillEmpty
    | FilterRows
    | FormulaStep
    | Cast
    | ParseDate
    | ExtractDateParts
    | GeoIP
    | ClassifyUserAgent
    | SplitUrl
    | FlagUrlSections
    | SplitColumn
    | ConcatColumns
    | TransformText
    | BinNumbers,
    Field(discriminator="type"),
]


class PrepareSpec(_Spec):
    """A prepare recipe: steps applied in order (disabled steps are skipped)."""

    type: Literal["prepare"] = "prepare"
    steps: list[Step] = []


# ---------------------------------------------------------------- group


class Aggregation(StrEnum):
    """Per-column aggregations of a group recipe; output columns are ``<column>_<value>``."""

    COUNT = "count"
    DISTINCT = "distinct"
    FIRST = "first"
    LAST = "last"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    AVG = "avg"
    STD = "std"
    MEDIAN = "median"
    CONCAT_DISTINCT = "concat_distinct"


class ColumnAggregations(_Spec):
    """The aggregations computed on one column."""

    column: ColumnName
    aggregations: Annotated[list[Aggregation], Field(min_length=1), AfterValidator(_distinct)]


class GroupSpec(_Spec):
    """A group recipe: one row per distinct ``keys``.

    Outputs ``keys``, then ``count`` (rows per group) if asked, then
    ``<column>_<aggregation>`` in the order given. ``pre_filter`` (a formula on input
    columns) selects rows before grouping; ``post_filter`` (on output columns) selects
    groups. ``first``/``last`` follow ``order_by`` (ascending) when given, else the
    input's natural order.
    """

    type: Literal["group"] = "group"
    keys: Columns
    count: bool = True
    aggregations: list[ColumnAggregations] = []
    order_by: list[ColumnName] = []
    pre_filter: str | None = None
    post_filter: str | None = None

    @property
    def output_columns(self) -> list[str]:
        """Output column names, in order."""
        names = list(self.keys) + (["count"] if self.count else [])
        for col in self.aggregations:
            names.extend(f"{col.column}_{agg.value}" for agg in col.aggregations)
        return names

    @model_validator(mode="after")
    def _outputs_distinct(self) -> GroupSpec:
        try:
            _distinct(self.output_columns)
        except ValueError as exc:
            raise ValueError(f"two output columns would have the same name: {exc}") from None
        return self


# ---------------------------------------------------------------- join, split, sync, stack


class JoinKey(_Spec):
    """One equality condition ``left.<left> == right.<right>``."""

    left: ColumnName
    right: ColumnName


class JoinSpec(_Spec):
    """A join of the recipe's two inputs (first = left, second = right).

    ``left_columns``/``right_columns`` choose the kept columns (``None``: all). A right
    column whose name is already taken is renamed ``<right_prefix><name>``
    (``right_prefix`` defaults to ``<right input>_``). A key with the same name on both
    sides appears once (coalesced for right and outer joins).
    """

    type: Literal["join"] = "join"
    how: Literal["inner", "left", "right", "outer"] = "left"
    on: Annotated[list[JoinKey], Field(min_length=1)]
    left_columns: Columns | None = None
    right_columns: Columns | None = None
    right_prefix: str | None = None


class SplitSpec(_Spec):
    """Dispatch the rows of one input to several outputs.

    ``mode="values"``: ``mapping`` sends rows whose ``column`` (as text) equals a key to
    the mapped output. ``mode="filter"``: rows where ``formula`` is true go to
    ``filter_output``. ``mode="random"``: ``ratios`` maps output → share of rows (sum
    at most 1), drawn deterministically from ``seed``. Rows no rule takes go to
    ``remaining``, or are dropped when it is ``None``.
    """

    type: Literal["split"] = "split"
    mode: Literal["values", "filter", "random"]
    column: ColumnName | None = None
    mapping: dict[str, str] | None = None
    formula: str | None = None
    filter_output: str | None = None
    ratios: dict[str, Annotated[float, Field(gt=0, le=1)]] | None = None
    seed: int = 42
    remaining: str | None = None

    @property
    def targets(self) -> list[str]:
        """Outputs the rules send rows to (without ``remaining``), first-seen order."""
        if self.mode == "values":
            return list(dict.fromkeys((self.mapping or {}).values()))
        if self.mode == "filter":
            return [self.filter_output] if self.filter_output else []
        return list(self.ratios or {})

    @model_validator(mode="after")
    def _params_for_mode(self) -> SplitSpec:
        if self.mode == "values" and (self.column is None or not self.mapping):
            raise ValueError("splitting by values needs 'column' and a non-empty 'mapping'")
        if self.mode == "filter" and not (self.formula and self.filter_output):
            raise ValueError("splitting by filter needs 'formula' and 'filter_output'")
        if self.mode == "random":
            if not self.ratios:
                raise ValueError("a random split needs 'ratios' (output -> share of rows)")
            if sum(self.ratios.values()) > 1 + 1e-9:
                raise ValueError(f"the ratios add up to {sum(self.ratios.values()):g} (> 1)")
        if self.remaining is not None and self.remaining in self.targets:
            raise ValueError(f"{self.remaining!r} is both a rule output and 'remaining'")
        return self


class SyncSpec(_Spec):
    """Copy the input to the output unchanged."""

    type: Literal["sync"] = "sync"


class StackSpec(_Spec):
    """Stack the rows of all inputs, matching columns by name.

    ``columns="union"`` keeps every column (empty where an input lacks it);
    ``"intersection"`` only those all inputs have. ``origin_column`` (optional) records
    which input each row comes from.
    """

    type: Literal["stack"] = "stack"
    columns: Literal["union", "intersection"] = "union"
    origin_column: ColumnName | None = None


RecipeParams = Annotated[
    PrepareSpec
    | GroupSpec
    | JoinSpec
    | SplitSpec
    | SyncSpec
    | StackSpec
    | TrainParams
    | ApplyParams
    | ClusterParams,
    Field(discriminator="type"),
]
RecipeType = Literal[
    "prepare", "group", "join", "split", "sync", "stack", "train", "apply", "cluster"
]
ML_RECIPES = frozenset({"train", "apply", "cluster"})
"""Recipe types run by the ML services rather than compiled to Ibis."""

# Exact numbers of inputs and outputs per recipe type; None: one or more.
_ARITY: dict[str, tuple[int | None, int | None]] = {
    "prepare": (1, 1),
    "group": (1, 1),
    "join": (2, 1),
    "split": (1, None),
    "sync": (1, 1),
    "stack": (None, 1),
    "train": (1, 1),
    "apply": (2, 1),
    "cluster": (1, 1),
}


class RecipeSpec(_Spec):
    """A recipe of the Flow: its name, type, input and output datasets, and params.

    ``params`` may omit its ``type`` (the envelope's is used), and may be omitted
    altogether for ``sync`` and ``stack`` recipes.
    """

    name: str
    type: RecipeType
    inputs: list[str]
    outputs: list[str]
    params: RecipeParams
    engine: EngineName | None = None
    """The engine this recipe runs on; None: the project's (a build may override both)."""

    @model_validator(mode="before")
    @classmethod
    def _params_type_from_envelope(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            params = data.get("params")
            if params is None:
                data = {**data, "params": {"type": data["type"]}}
            elif isinstance(params, dict) and "type" not in params:
                data = {**data, "params": {**params, "type": data["type"]}}
        return data

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return validate_name(name, "recipe")

    @field_validator("inputs", "outputs")
    @classmethod
    def _valid_datasets(cls, names: list[str]) -> list[str]:
        for name in names:
            validate_name(name, "dataset")
        return _distinct(names)

    @model_validator(mode="after")
    def _consistent(self) -> RecipeSpec:
        if self.params.type != self.type:
            raise ValueError(f"a {self.type} recipe cannot have {self.params.type} params")
        for kind, names, wanted in zip(
            ("input", "output"), (self.inputs, self.outputs), _ARITY[self.type], strict=True
        ):
            if len(names) != (wanted or max(1, len(names))):
                expected = f"exactly {wanted} {kind}" if wanted else f"at least one {kind}"
                plural = "s" if wanted and wanted > 1 else ""
                raise ValueError(f"a {self.type} recipe takes {expected}{plural}, got {len(names)}")
        if both := set(self.inputs) & set(self.outputs):
            raise ValueError(f"{sorted(both)} cannot be both an input and an output")
        if isinstance(self.params, SplitSpec):
            self._check_split_outputs(self.params)
        return self

    def _check_split_outputs(self, split: SplitSpec) -> None:
        used = [*split.targets, *([split.remaining] if split.remaining else [])]
        if unknown := [o for o in used if o not in self.outputs]:
            raise ValueError(f"split rules name {unknown}, which are not outputs {self.outputs}")
        if unused := [o for o in self.outputs if o not in used]:
            raise ValueError(f"outputs {unused} receive no rows: add a rule or 'remaining'")


def _problem(loc: tuple[int | str, ...], msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    return f"{' → '.join(map(str, loc))}: {msg}" if loc else msg


def parse_recipe(data: Any) -> RecipeSpec:
    """Validate a recipe definition, raising `InvalidInputError` on any problem.

    The message lists each problem with its location, such as
    ``params → steps → 2 → clear_invalid → meaning``.

    Examples
    --------
    >>> parse_recipe({"name": "copy", "type": "sync", "inputs": ["a"], "outputs": ["b"]}).type
    'sync'
    """
    try:
        return RecipeSpec.model_validate(data)
    except ValidationError as exc:
        name = data.get("name") if isinstance(data, dict) else None
        problems = "; ".join(_problem(e["loc"], e["msg"]) for e in exc.errors())
        raise InvalidInputError(
            f"Invalid recipe {name or ''}: {problems}. Fix these parameters and save again."
        ) from exc
