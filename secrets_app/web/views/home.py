from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from secrets_app.accounts.roles import is_approver


def home(request: HttpRequest) -> HttpResponse:
    # Approvers start at their queue; everyone else at their requests.
    return redirect("approval-queue" if is_approver(request.user) else "request-list")


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})
