"""Bulk writes for the stream drainers: PostgreSQL COPY, with an ON CONFLICT fallback."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Field, JSONField, Model
from psycopg import sql

logger = logging.getLogger(__name__)


_UUID_LIST = re.compile(r"[0-9a-fA-F-]{32,36}(?:,[0-9a-fA-F-]{32,36})*")


def _json_text(value: Any) -> str:
    """A JSON column's value as COPY's text input (PostgreSQL parses it; an empty object, the common case, is free)."""
    return "{}" if value == {} else json.dumps(value, separators=(",", ":"))


def uuid_array(values: Sequence[Any]) -> str:
    """``values`` (UUIDs, or their text) as one ``uuid[]`` literal parameter.

    psycopg dumps a list parameter element by element in Python; thousands of ids as one string cost a
    fraction of that. Each element must look like a UUID, so nothing else can reach the array's syntax.
    """
    text = ",".join(map(str, values))
    if not _UUID_LIST.fullmatch(text):
        raise ValueError("not a list of UUIDs")
    return "{" + text + "}"


def copy_insert(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) with COPY: several times faster than a multi-row INSERT.

    COPY cannot skip conflicting rows; callers filter known keys first. Should a row conflict anyway
    (a concurrent writer), the batch falls back to ``INSERT ... ON CONFLICT DO NOTHING``.
    """
    if not rows:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    json_columns = {f.column for f in model._meta.concrete_fields if isinstance(f, JSONField)}
    json_at = [i for i, c in enumerate(columns) if c in json_columns]
    try:
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        if row[i] is not None:  # SQL NULL, not JSON null
                            row[i] = _json_text(row[i])
                copy.write_row(row)
    except IntegrityError:
        logger.warning("copy conflicted; inserting with ON CONFLICT DO NOTHING", extra={"table": model._meta.db_table})
        attnames = {f.column: f.attname for f in model._meta.concrete_fields}
        model._default_manager.bulk_create(
            [model(**{attnames[c]: v for c, v in zip(columns, row, strict=True)}) for row in rows],
            ignore_conflicts=True,
            batch_size=1000,
        )


def select_any(model: type[Model], columns: Sequence[str], key: str, values: Sequence[Any], where: str = "") -> list:
    """``SELECT columns FROM model WHERE key = ANY(values) [AND where]``: rows as tuples.

    For the drains' lookups of thousands of ids: ``key__in`` compiles one placeholder per value and
    psycopg splits the whole statement client-side, which cost more than the query; an array is one
    parameter. ``where`` is a fixed SQL condition of the caller's, never user input.
    """
    if not values:
        return []
    table = model._meta.db_table
    field = model._meta.get_field(key)
    column_type = field.db_type(connection) if isinstance(field, Field) else None
    if not isinstance(field, Field) or field.column is None or column_type is None:
        raise ValueError(f"{model.__name__}.{key} is not a column")
    statement = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s::{}[])").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.Identifier(table),
        sql.Identifier(field.column),
        sql.SQL(column_type),
    )
    if where:
        statement = sql.Composed([statement, sql.SQL(" AND " + where)])
    parameter = uuid_array(values) if column_type == "uuid" else [str(v) for v in values]
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.connection), [parameter])
        return cursor.fetchall()
