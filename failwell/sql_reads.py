"""Model instances read with SQL written once, for the reads that nearly every request makes.

Every signed-in request reads its user, every institution view the institution
in its URL, and the status poll (every 2 seconds while a recompute is pending)
the latest assessment too. Through the ORM each of these compiles its queryset
anew on every request, and that costs more Python time than PostgreSQL takes to
answer: on the bench host 0.36 ms (the user), 0.87 ms (an institution with its
parent) and 0.71 ms (the latest assessment), against about 0.1 ms for the same
row read here. `Model.objects.raw()` skips the compiling, but still inspects the
cursor's columns and looks up every field's converters on each call (0.16-0.24
ms). Here the SQL names its columns, in the model's field order, and the
converters (a JSON field's decoding; SQLite's dates and booleans) are looked up
once per model and database, then applied as the ORM applies them.

Only for reads by key on a hot path; everything else uses the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models

M = TypeVar("M", bound=models.Model)


@functools.cache
def columns(model: type[models.Model], table: str, alias: str = DEFAULT_DB_ALIAS) -> str:
    """The model's columns for a SELECT, as `table.column, ...` in its fields' order:
    the order `instance` reads them in."""
    quote = connections[alias].ops.quote_name
    return ", ".join(f"{table}.{quote(field.column)}" for field in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[models.Model], alias: str) -> tuple:
    """(position, column, converters) for each of the model's columns that has any,
    as the ORM's compiler finds them (SQLCompiler.get_converters)."""
    connection = connections[alias]
    found = []
    for position, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            found.append((position, column, converters))
    return tuple(found)


@functools.cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def instance(model: type[M], values: Sequence, alias: str = DEFAULT_DB_ALIAS) -> M:
    """A model instance from the values of `columns(model, ...)`, converted and
    marked as read from the database, as a queryset would return it."""
    values = list(values)
    connection = connections[alias]
    for position, column, converters in _converters(model, alias):
        for converter in converters:
            values[position] = converter(values[position], column, connection)
    return model.from_db(alias, _attnames(model), values)


@functools.cache
def _select(model: type[models.Model], rest: str, alias: str) -> str:
    table = connections[alias].ops.quote_name(model._meta.db_table)
    return f"SELECT {columns(model, table, alias)} FROM {table} {rest}"


def first(model: type[M], rest: str, params: Sequence, alias: str = DEFAULT_DB_ALIAS) -> M | None:
    """The first row of `SELECT <the model's columns> FROM <its table> <rest>`, as a
    model instance; None for no row. `rest` is a constant (WHERE ... ORDER BY ...),
    so the statement is put together once."""
    with connections[alias].cursor() as cursor:
        cursor.execute(_select(model, rest, alias), params)
        row = cursor.fetchone()
    return None if row is None else instance(model, row, alias)
