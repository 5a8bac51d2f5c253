"""Querysets compiled once per process, then run with new values: the post path's SQL
without the ORM's cost of building and compiling the same query on every request.

Building and compiling a queryset costs far more CPU than running it: the query that
``discussion.services.post_context`` sends took 2.7 ms to build and 4.0 ms to compile on an
AVX2 EPYC, and 0.3 ms to run on PostgreSQL. On a busy host every millisecond of a post's CPU
is also a millisecond other requests wait for a core (benchmarks/LOAD.md).

A :class:`PreparedQuery` builds its queryset once per database connection vendor with
placeholder values (*slots*), compiles it, and remembers where each slot's value lands in the
SQL parameters. Each run puts the new values there and lets Django's own iterable turn the rows
into model instances (``select_related`` and annotations included), on the calling thread's
connection.

It refuses to prepare, and runs the plain queryset instead, unless a second compile with other
placeholder values gives the same SQL, the slots at the same places and every other parameter
unchanged: a value that the builder reads from elsewhere (the clock, the current site) would
differ or stay frozen, so every such value has to be a slot.
"""

from __future__ import annotations

import copy
import datetime
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet

logger = logging.getLogger(__name__)

# Kinds of slot and the placeholder values of the two compiles (unlikely to occur in a query
# by chance; a clash makes the preparation fail, never a wrong result).
SLOT_KINDS = ("int", "str", "datetime")


def _placeholder(kind: str, index: int, round_: int) -> Any:
    if kind == "int":
        return -(7_000_000_000 + 1_000 * round_ + index)
    if kind == "str":
        return f"\x1fprepared-slot-{round_}-{index}\x1f"
    if kind == "datetime":
        return datetime.datetime(1901, 2, 3, 4, round_, index, tzinfo=datetime.UTC)
    raise ValueError(f"unknown slot kind {kind!r}; one of {', '.join(SLOT_KINDS)}")


@dataclass(frozen=True)
class _Plan:
    queryset: QuerySet[Any]
    compiler: Any  # django.db.models.sql.compiler.SQLCompiler after as_sql()
    sql: str
    params: tuple[Any, ...]
    positions: dict[str, tuple[int, ...]]


class PreparedQuery[M: Model]:
    """``build(**values)`` returns the queryset (of ``model``); ``slots`` names its values
    and their kinds ("int", "str" or "datetime"). ``fetch(**values)`` returns the rows as
    model instances, exactly as ``list(build(**values))`` would."""

    def __init__(
        self,
        name: str,
        model: type[M],
        build: Callable[..., QuerySet[M]],
        slots: Mapping[str, str],
    ):
        for kind in slots.values():
            if kind not in SLOT_KINDS:
                raise ValueError(f"unknown slot kind {kind!r}; one of {', '.join(SLOT_KINDS)}")
        self.name = name
        self.model = model
        self.build = build
        self.slots = dict(slots)
        self._plans: dict[tuple[str, str], _Plan | None] = {}
        self._lock = threading.Lock()

    def fetch(self, **values: Any) -> list[M]:
        if set(values) != set(self.slots):
            raise TypeError(f"{self.name}: values for {sorted(self.slots)}, got {sorted(values)}")
        plan = self._plan_for()
        if plan is None:
            return list(self.build(**values))
        alias = plan.queryset.db
        connection = connections[alias]
        params = list(plan.params)
        for slot, indices in plan.positions.items():
            value = self._adapt(connection, self.slots[slot], values[slot])
            for index in indices:
                params[index] = value
        compiler = copy.copy(plan.compiler)
        compiler.connection = connection
        ready = (plan.sql, tuple(params))
        compiler.as_sql = lambda *args, **kwargs: ready
        queryset = plan.queryset._chain()  # type: ignore[attr-defined]
        queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
        return list(queryset)

    # -- preparation ---------------------------------------------------------------------------

    def _plan_for(self) -> _Plan | None:
        alias = router.db_for_read(self.model)
        key = (alias, connections[alias].vendor)
        if key in self._plans:
            return self._plans[key]
        with self._lock:
            if key not in self._plans:
                try:
                    self._plans[key] = self._prepare(alias)
                except Exception:
                    logger.exception("prepared query %s: not prepared; runs unprepared", self.name)
                    self._plans[key] = None
            return self._plans[key]

    def _prepare(self, alias: str) -> _Plan | None:
        connection = connections[alias]
        compiled = []
        for round_ in (1, 2):
            placeholders = {
                slot: _placeholder(kind, index, round_)
                for index, (slot, kind) in enumerate(self.slots.items())
            }
            queryset = self.build(**placeholders).using(alias)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            adapted = {
                slot: self._adapt(connection, self.slots[slot], value)
                for slot, value in placeholders.items()
            }
            positions = {
                slot: tuple(i for i, param in enumerate(params) if _same(param, value))
                for slot, value in adapted.items()
            }
            compiled.append((queryset, compiler, sql, tuple(params), positions))
        (queryset, compiler, sql, params, positions), (_, _, sql2, params2, positions2) = compiled
        slotted = {i for indices in positions.values() for i in indices}
        if (
            sql != sql2
            or positions != positions2
            or len(params) != len(params2)
            or any(not indices for indices in positions.values())
            or any(
                not _same(a, b)
                for i, (a, b) in enumerate(zip(params, params2, strict=True))
                if i not in slotted
            )
        ):
            logger.warning(
                "prepared query %s: its SQL depends on more than its slots; runs unprepared",
                self.name,
            )
            return None
        return _Plan(queryset, compiler, sql, params, positions)

    @staticmethod
    def _adapt(connection: Any, kind: str, value: Any) -> Any:
        """The value as Django passes it to the driver for this kind of column."""
        if kind == "datetime" and value is not None:
            return connection.ops.adapt_datetimefield_value(value)
        return value


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
