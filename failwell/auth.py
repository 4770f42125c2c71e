"""The sign-in backend (AUTHENTICATION_BACKENDS): Django's ModelBackend, reading the
signed-in user of each request with SQL written once.

Every signed-in request reads its user from the id in the session. Django's
backend compiles `User.objects.get(pk=...)` anew each time: 0.36 ms of Python on
the bench host, against 0.1 ms for the same row read here (failwell/sql_reads.py
says how). Everything else is Django's: signing in and the password check, the
inactive-user refusal (`user_can_authenticate`), permissions, and the session's
check that the password has not changed since sign-in (django.contrib.auth.get_user).

A session records the path of the backend that signed it in, and Django honours only
listed paths: sessions begun under django.contrib.auth.backends.ModelBackend, before
this one replaced it, ended with the change (people signed in then signed in again).
"""

from __future__ import annotations

from django.contrib.auth import backends, get_user_model
from django.db import connection

from failwell import sql_reads


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        """The active user with this id, or None, as Django's ModelBackend.get_user."""
        model = get_user_model()
        pk = model._meta.pk
        where = f"WHERE {connection.ops.quote_name(pk.column)} = %s"
        user = sql_reads.first(model, where, [pk.to_python(user_id)])
        return user if user is not None and self.user_can_authenticate(user) else None
