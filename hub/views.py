from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub.health import health_report


@require_GET
def home(request):
    """The root page: where the back office, the API reference and the health check are."""
    return render(request, "hub/home.html", {"schema_url": reverse("api-schema")})


@never_cache
@require_GET
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
