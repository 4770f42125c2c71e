"""The health check that container orchestration and load balancers poll.

Public and cheap: no login, no session, no template. It answers 503 when the
database is unreachable, so a web replica that lost its database is taken out of
rotation rather than serving errors. It opts out of ATOMIC_REQUESTS: a probe has
nothing to commit, and must not fail on the transaction rather than the query.
"""

from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
