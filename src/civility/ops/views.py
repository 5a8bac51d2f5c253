"""/healthz and /metrics: thin views over ops.health and ops.metrics."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civility.ops import health, metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the cache and the broker all answer; 503 naming what failed."""
    results = health.run_checks()
    failed = [r.name for r in results if not r.ok]
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checks": {r.name: r.to_dict() for r in results},
    }
    response = JsonResponse(body, status=503 if failed else 200)
    if failed:
        response["Retry-After"] = str(settings.CIVILITY_RETRY_AFTER_SECONDS)
    return response


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. Restrict it with CIVILITY_METRICS_ALLOWED_IPS or the proxy."""
    allowed = settings.CIVILITY_METRICS_ALLOWED_IPS
    if allowed and request.META.get("REMOTE_ADDR", "") not in allowed:
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    if not metrics.AVAILABLE:
        return HttpResponse(
            "prometheus_client is not installed\n", status=503, content_type="text/plain"
        )
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)
