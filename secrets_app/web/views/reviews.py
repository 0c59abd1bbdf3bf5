"""Access review pages: the reviews, one review's work for the user's teams,
confirm / revoke per binding, and the CSV for auditors. Writes go through
``reviews.decisions``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from secrets_app.requests.states import WorkflowError
from secrets_app.reviews import decisions, export, pages
from secrets_app.reviews.opening import open_review


@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "secrets_app/review_list.html",
        {"reviews": pages.reviews()[:40], "current": open_review()},
    )


@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, pk)


def _review_page(request: HttpRequest, pk: int, *, status: int = 200) -> HttpResponse:
    review = get_object_or_404(pages.reviews(), pk=pk)
    context = {
        "review": review,
        "teams": pages.to_confirm(review, request.user),
        "progress": pages.progress(review),
    }
    return render(request, "secrets_app/review_detail.html", context, status=status)


@require_POST
def review_decide(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    try:
        done = decisions.decide(
            review_id=pk,
            item_id=item,
            user=request.user,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
        )
    except WorkflowError as refused:
        messages.error(request, refused.message)
        return _review_page(request, pk, status=refused.status)
    if done.revocation_id:
        messages.success(
            request,
            f"Revocation request #{done.revocation_id} for {done.binding} is waiting for "
            "the platform team's approval.",
        )
    else:
        messages.success(request, f"Confirmed: {done.binding} keeps its access.")
    return redirect("review-detail", pk=pk)


@require_GET
def review_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    review = get_object_or_404(pages.reviews(), pk=pk)
    response = StreamingHttpResponse(export.csv_lines(review), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="access-review-{review.pk}.csv"'
    return response
