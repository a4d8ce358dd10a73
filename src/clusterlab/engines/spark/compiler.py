"""Ibis's PySpark SQL compiler, extended with ordered ``first`` and ``last``, and with
whitespace trimming that trims whitespace only.

Spark SQL has no ``ORDER BY`` inside an aggregate, so Ibis 12 refuses
``column.first(order_by=...)`` on PySpark, which the group recipe uses for its
``first``/``last`` aggregations with ``order_by``. Spark does have ``min_by(value, key)``
and ``max_by(value, key)``: the value at the smallest (largest) key. Ordering by a
struct of the sort keys, each preceded by a "key is null" flag, gives exactly the
order DuckDB uses (ascending with nulls last, descending with nulls first), and a
filter on the value keeps the "first non-empty value" meaning.

Ibis trims ``string.whitespace``, which sqlglot writes as ``' \\t\\n\\r\\v\\f'``; Spark
does not know the ``\\v`` and ``\\f`` escapes and reads them as the letters ``v`` and
``f``, so ``strip()`` of ``ftp://x`` gave ``tp://x``. Vertical tab and form feed are
built with ``chr`` instead.
"""

from __future__ import annotations

import string
from typing import Any

import sqlglot.expressions as sge
from ibis.backends.sql.compilers.pyspark import PySparkCompiler
from ibis.common.exceptions import UnsupportedOperationError


class ClusterLabPySparkCompiler(PySparkCompiler):  # type: ignore[misc]
    """`PySparkCompiler` that compiles ordered first/last to ``min_by``/``max_by``."""

    __slots__ = ()

    def _whitespace(self) -> Any:
        """``string.whitespace`` as a Spark expression without unknown escapes."""
        plain = "".join(c for c in string.whitespace if c not in "\x0b\x0c")
        vt, ff = (sge.Anonymous(this="chr", expressions=[sge.convert(n)]) for n in (11, 12))
        return self.f.concat(sge.convert(plain), vt, ff)

    def visit_Strip(  # noqa: N802 (Ibis dispatches on this name)
        self, op: Any, *, arg: Any
    ) -> Any:
        return self.f.trim(arg, self._whitespace())

    def _ordered_pick(
        self, pick_first: bool, arg: Any, where: Any, order_by: Any, include_null: bool
    ) -> Any:
        directions = {bool(o.args.get("desc")) for o in order_by}
        if len(directions) > 1:
            raise UnsupportedOperationError(
                "first/last ordered by keys of mixed directions is not supported on Spark; "
                "sort every key the same way."
            )
        descending = directions.pop()
        keys = []
        for ordered in order_by:
            key = ordered.this
            nulls_first = bool(ordered.args.get("nulls_first"))
            # Where nulls sort decides whether they compare as the largest keys (the
            # flag is "key is null") or the smallest ("key is not null").
            is_null = sge.Is(this=key, expression=sge.Null())
            keys.extend([is_null if nulls_first == descending else sge.Not(this=is_null), key])
        struct = self.f.struct(*keys)
        condition = where
        if not include_null:
            present = sge.Not(this=sge.Is(this=arg, expression=sge.Null()))
            condition = present if where is None else sge.And(this=where, expression=present)
        if pick_first != descending:
            return self.agg.min_by(arg, struct, where=condition)
        return self.agg.max_by(arg, struct, where=condition)

    def visit_First(  # noqa: N802 (Ibis dispatches on this name)
        self, op: Any, *, arg: Any, where: Any, order_by: Any, include_null: bool
    ) -> Any:
        if not order_by:
            return super().visit_First(
                op, arg=arg, where=where, order_by=order_by, include_null=include_null
            )
        return self._ordered_pick(True, arg, where, order_by, include_null)

    def visit_Last(  # noqa: N802 (Ibis dispatches on this name)
        self, op: Any, *, arg: Any, where: Any, order_by: Any, include_null: bool
    ) -> Any:
        if not order_by:
            return super().visit_Last(
                op, arg=arg, where=where, order_by=order_by, include_null=include_null
            )
        return self._ordered_pick(False, arg, where, order_by, include_null)
