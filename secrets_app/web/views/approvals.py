from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django_tables2 import SingleTableView

from secrets_app.accounts.roles import is_approver
from secrets_app.models import AccessRequest, RequestState, Verdict
from secrets_app.ownership.team_names import with_team_name
from secrets_app.web.tables import ApprovalQueueTable


class ApprovalQueueView(SingleTableView):
    """Pending requests, oldest first: the platform team's work list."""

    template_name = "secrets_app/approval_queue.html"
    table_class = ApprovalQueueTable
    table_pagination = {"per_page": 50}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_approver(request.user):
            raise PermissionDenied("The approval queue is for the platform team.")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return with_team_name(
            AccessRequest.objects.filter(state=RequestState.PENDING)
            .select_related("cluster", "requester")
            .annotate(approvals=Count("decisions", filter=Q(decisions__verdict=Verdict.APPROVE)))
            .order_by("submitted_at", "id")
        )
