"""Database sessions (SESSION_ENGINE), read with one statement written once.

Every signed-in request reads its session first. Django's database backend reads it
through the ORM, and compiling `Session.objects.get(...)` anew on every request
costs more Python time than PostgreSQL takes to answer it. This backend reads the
same row on the same conditions (this key, not yet expired) with SQL made once per
database. Everything else is Django's: the table, saving, the expiry date, signing
out (which deletes the row) and `manage.py clearsessions`.
"""

from __future__ import annotations

import functools

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone


@functools.cache
def _load_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = Session._meta
    return (
        f"SELECT {quote(meta.get_field('session_data').column)}"
        f" FROM {quote(meta.db_table)}"
        f" WHERE {quote(meta.get_field('session_key').column)} = %s"
        f" AND {quote(meta.get_field('expire_date').column)} > %s"
    )


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        """The session's data; {} and no key when it does not exist or has expired,
        as Django's own load()."""
        connection = connections[router.db_for_read(self.model)]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_load_sql(connection.alias), [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
