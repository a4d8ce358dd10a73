"""The Flow drawn on the server as SVG: datasets, recipes and saved models, left to right.

Layout is by depth: a dataset nobody writes sits in the first column, a recipe one
column right of its deepest input, its outputs one column further. Within a column,
nodes are ordered by the average row of their parents, which keeps most edges from
crossing in flows of the size people draw by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape

from clusterlab.flow.dag import FlowGraph

COLUMN_WIDTH = 220
ROW_HEIGHT = 90
MARGIN = 30
DATASET_W, DATASET_H = 150, 40
RECIPE_R = 20
MODEL_R = 24
ML_RECIPES = frozenset({"train", "apply", "cluster"})
RECIPE_ICONS = {
    "prepare": "P",
    "group": "G",
    "join": "J",
    "split": "S",
    "sync": "→",
    "stack": "≡",
    "train": "T",
    "apply": "A",
    "cluster": "C",
}


@dataclass
class FlowNode:
    """One item of the Flow: ``kind`` is ``dataset``, ``recipe`` or ``saved_model``."""

    kind: str
    name: str
    href: str
    subtype: str = ""
    built: bool = True
    column: int = 0
    row: float = 0.0
    title: str = ""

    @property
    def label(self) -> str:
        """What the Flow writes under the node: a saved model's display name, else its name."""
        return self.title or self.name

    @property
    def id(self) -> str:
        """A key unique across kinds (a recipe and a dataset may share a name)."""
        return f"{self.kind}:{self.name}"

    @property
    def x(self) -> float:
        return MARGIN + self.column * COLUMN_WIDTH

    @property
    def y(self) -> float:
        return MARGIN + self.row * ROW_HEIGHT


@dataclass
class FlowLayout:
    """Nodes with their column and row, and edges as (source id, target id)."""

    nodes: dict[str, FlowNode] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def width(self) -> int:
        columns = max((n.column for n in self.nodes.values()), default=0)
        return int(2 * MARGIN + columns * COLUMN_WIDTH + DATASET_W)

    @property
    def height(self) -> int:
        rows = max((n.row for n in self.nodes.values()), default=0)
        return int(2 * MARGIN + rows * ROW_HEIGHT + DATASET_H + 20)


def layout_flow(
    graph: FlowGraph,
    datasets: Iterable[tuple[str, bool]],
    base_url: str,
    saved_models: Mapping[str, str] | None = None,
) -> FlowLayout:
    """Place every node of the Flow.

    Parameters
    ----------
    graph : FlowGraph
        Recipes and who writes each dataset (or saved model: a train recipe's output).
    datasets : iterable of (name, built)
        Every dataset of the project (also those no recipe touches).
    base_url : str
        The project's page URL; nodes link to ``{base_url}/datasets/<name>`` etc.
    saved_models : mapping of id to display name, optional
        The project's saved models. Recipes name them among their inputs (apply) and
        outputs (train) like datasets; these names are drawn as diamonds instead.

    Examples
    --------
    >>> from clusterlab.core.recipes import RecipeSpec
    >>> g = FlowGraph.of([RecipeSpec(name="copy", type="sync", inputs=["a"], outputs=["b"])])
    >>> lay = layout_flow(g, [("a", True), ("b", False)], "/projects/P")
    >>> [(n.name, n.column) for n in lay.nodes.values()]
    [('a', 0), ('b', 2), ('copy', 1)]
    """
    models = dict(saved_models or {})
    lay = FlowLayout()

    def key(name: str) -> str:
        return f"saved_model:{name}" if name in models else f"dataset:{name}"

    for model_id, title in models.items():
        lay.nodes[key(model_id)] = FlowNode(
            "saved_model", model_id, f"{base_url}/saved-models/{model_id}", title=title
        )
    for name, built in datasets:
        lay.nodes[key(name)] = FlowNode("dataset", name, f"{base_url}/datasets/{name}", built=built)
    for name in graph.datasets():
        lay.nodes.setdefault(
            key(name), FlowNode("dataset", name, f"{base_url}/datasets/{name}", built=False)
        )
    for name in graph.order(graph.recipes):
        recipe = graph.recipes[name]
        node = FlowNode("recipe", name, f"{base_url}/recipes/{name}", subtype=recipe.type)
        inputs = [lay.nodes[key(i)] for i in recipe.inputs]
        node.column = 1 + max((i.column for i in inputs), default=0)
        lay.nodes[node.id] = node
        lay.edges.extend((i.id, node.id) for i in inputs)
        for out in recipe.outputs:
            lay.nodes[key(out)].column = node.column + 1
            lay.edges.append((node.id, key(out)))
    _assign_rows(lay)
    lay.nodes = dict(sorted(lay.nodes.items()))
    return lay


def _assign_rows(lay: FlowLayout) -> None:
    parents: dict[str, list[str]] = {}
    for source, target in lay.edges:
        parents.setdefault(target, []).append(source)
    columns = sorted({n.column for n in lay.nodes.values()})
    for column in columns:
        members = [n for n in lay.nodes.values() if n.column == column]

        def rank(node: FlowNode) -> tuple[float, str]:
            above = [lay.nodes[p].row for p in parents.get(node.id, [])]
            return (sum(above) / len(above) if above else float("inf"), node.name)

        for row, node in enumerate(sorted(members, key=rank)):
            node.row = row


def _anchor(node: FlowNode, side: str) -> tuple[float, float]:
    cy = node.y + DATASET_H / 2
    if node.kind == "dataset":
        return (node.x + (DATASET_W if side == "out" else 0), cy)
    r = RECIPE_R if node.kind == "recipe" else MODEL_R
    cx = node.x + DATASET_W / 2
    return (cx + (r if side == "out" else -r), cy)


def _label(text: str, limit: int = 22) -> str:
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _node_svg(node: FlowNode) -> str:
    attrs = (
        f'class="node node-{node.kind}{"" if node.built else " unbuilt"}" '
        f'data-kind="{node.kind}" data-name="{escape(node.name)}" '
        f'data-subtype="{escape(node.subtype)}" tabindex="0"'
    )
    title = f"<title>{escape(node.kind.replace('_', ' '))} {escape(node.label)}</title>"
    cx, cy = node.x + DATASET_W / 2, node.y + DATASET_H / 2
    if node.kind == "dataset":
        shape = (
            f'<rect x="{node.x}" y="{node.y}" width="{DATASET_W}" height="{DATASET_H}" rx="6"/>'
            f'<text x="{cx}" y="{cy + 4}" text-anchor="middle">{_label(node.name)}</text>'
        )
    elif node.kind == "recipe":
        family = "ml" if node.subtype in ML_RECIPES else "visual"
        attrs = attrs.replace('class="node ', f'class="node recipe-{family} ')
        icon = escape(RECIPE_ICONS.get(node.subtype, "R"))
        shape = (
            f'<circle cx="{cx}" cy="{cy}" r="{RECIPE_R}"/>'
            f'<text class="icon" x="{cx}" y="{cy + 5}" text-anchor="middle">{icon}</text>'
            f'<text x="{cx}" y="{cy + RECIPE_R + 16}" text-anchor="middle">'
            f"{_label(node.name, 30)}</text>"
        )
    else:
        r = MODEL_R
        points = f"{cx},{cy - r} {cx + r},{cy} {cx},{cy + r} {cx - r},{cy}"
        shape = (
            f'<polygon points="{points}"/>'
            f'<text x="{cx}" y="{cy + r + 16}" text-anchor="middle">{_label(node.label, 30)}</text>'
        )
    return f'<a href="{escape(node.href)}" {attrs}>{title}{shape}</a>'


def render_flow_svg(lay: FlowLayout) -> str:
    """The Flow as one ``<svg>`` element; each node is a link with ``data-kind``/``data-name``.

    Examples
    --------
    >>> render_flow_svg(FlowLayout()).startswith('<svg')
    True
    """
    parts = [
        f'<svg class="flow" xmlns="http://www.w3.org/2000/svg" width="{lay.width}" '
        f'height="{lay.height}" viewBox="0 0 {lay.width} {lay.height}" role="img" '
        'aria-label="The Flow of this project">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
    ]
    for source, target in lay.edges:
        x1, y1 = _anchor(lay.nodes[source], "out")
        x2, y2 = _anchor(lay.nodes[target], "in")
        bend = (x2 - x1) / 2
        parts.append(
            f'<path class="edge" marker-end="url(#arrow)" d="M{x1},{y1} '
            f'C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"/>'
        )
    parts.extend(_node_svg(n) for n in lay.nodes.values())
    parts.append("</svg>")
    return "".join(parts)
