"""The site's own plumbing: the health check and robots.txt (pages belong to the apps)."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .health import broker_status, cache_status, database_status


@never_cache
@require_safe
def healthz(request):
    """JSON naming each service; 503 when the database or the broker is down."""
    services = {
        "database": database_status(),
        "broker": broker_status(),
        "cache": cache_status(),
    }
    healthy = services["database"]["ok"] and services["broker"]["ok"]
    body = {"status": "ok" if healthy else "unavailable", **services}
    return JsonResponse(body, status=200 if healthy else 503)


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        *(f"Disallow: {path}" for path in ("/admin/", "/accounts/", "/appointments/", "/book/")),
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
