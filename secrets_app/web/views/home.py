from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from secrets_app.web.overview import EXPIRING_DAYS, overview_for


def home(request: HttpRequest) -> HttpResponse:
    """The overview: a person's bindings and requests, and what waits for them."""
    context = {"overview": overview_for(request.user), "expiring_days": EXPIRING_DAYS}
    return render(request, "secrets_app/overview.html", context)


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})
