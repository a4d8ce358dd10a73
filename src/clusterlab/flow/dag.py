"""The Flow as a graph: datasets produced and consumed by recipes, in build order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import RecipeSpec


class FlowCycleError(InvalidInputError):
    """Recipes that feed each other in a loop."""


@dataclass(frozen=True)
class FlowGraph:
    """Recipes by name, and which recipe writes each dataset.

    Examples
    --------
    >>> from clusterlab.core.recipes import RecipeSpec
    >>> r = RecipeSpec(name="copy", type="sync", inputs=["a"], outputs=["b"])
    >>> FlowGraph.of([r]).recipes_for(["b"])
    ['copy']
    """

    recipes: dict[str, RecipeSpec]
    producer: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, recipes: Iterable[RecipeSpec]) -> FlowGraph:
        """Build and check the graph: one writer per dataset, no cycles."""
        by_name = {r.name: r for r in recipes}
        producer: dict[str, str] = {}
        for recipe in by_name.values():
            for out in recipe.outputs:
                if out in producer:
                    raise InvalidInputError(
                        f"Dataset {out!r} is written by two recipes, {producer[out]!r} and "
                        f"{recipe.name!r}: a dataset has one recipe writing it."
                    )
                producer[out] = recipe.name
        graph = cls(by_name, producer)
        graph.order(by_name)
        return graph

    def parents(self, recipe: str) -> list[str]:
        """Recipes writing the inputs of ``recipe``."""
        inputs = self.recipes[recipe].inputs
        return [self.producer[i] for i in inputs if i in self.producer]

    def order(self, names: Iterable[str]) -> list[str]:
        """``names`` in dependency order (parents first); raises `FlowCycleError`."""
        wanted = set(names)
        ordered: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "active":
                loop = [*path[path.index(name) :], name]
                raise FlowCycleError(
                    f"The Flow has a cycle: {' → '.join(loop)}. Change a recipe's inputs or "
                    "outputs so that no dataset depends on itself."
                )
            state[name] = "active"
            for parent in self.parents(name):
                visit(parent, [*path, name])
            state[name] = "done"
            if name in wanted:
                ordered.append(name)

        for name in sorted(self.recipes):
            visit(name, [])
        return ordered

    def recipes_for(self, datasets: Iterable[str], *, upstream: bool = True) -> list[str]:
        """Recipes to run to build ``datasets``, with their upstream recipes if asked."""
        chosen: set[str] = set()
        pending = [self.producer[d] for d in datasets if d in self.producer]
        while pending:
            name = pending.pop()
            if name in chosen:
                continue
            chosen.add(name)
            if upstream:
                pending.extend(self.parents(name))
        return self.order(chosen)

    def datasets(self) -> set[str]:
        """Every dataset the recipes read or write."""
        names = set(self.producer)
        for recipe in self.recipes.values():
            names.update(recipe.inputs)
        return names
