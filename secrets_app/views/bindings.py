"""Binding pages. Sections that other capabilities own (health, verification,
pull requests) are template includes fed by context built here."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from secrets_app.models import Binding, BindingSecret, HealthSnapshot, VerificationResult


def binding_queryset():
    return Binding.objects.select_related("cluster", "request", "request__requester")


def binding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    binding = get_object_or_404(
        binding_queryset().prefetch_related(
            Prefetch("secrets", queryset=BindingSecret.objects.order_by("alias"))
        ),
        pk=pk,
    )
    context = {
        "binding": binding,
        "secrets": binding.secrets.all(),
        "snapshot": HealthSnapshot.objects.filter(binding=binding).first(),
        "verification": VerificationResult.objects.filter(binding=binding).first(),
    }
    return render(request, "secrets_app/binding_detail.html", context)
