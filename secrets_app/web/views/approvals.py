from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django_tables2 import SingleTableView

from secrets_app.accounts.roles import is_approver
from secrets_app.models import AccessRequest, Decision, RequestState, Verdict
from secrets_app.ownership.team_names import with_team_name
from secrets_app.web.tables import ApprovalQueueTable


class ApprovalQueueView(SingleTableView):
    """Pending requests, oldest first: the platform team's work list, each
    marked when the viewer has approved it already, with the approvals it
    still needs."""

    template_name = "secrets_app/approval_queue.html"
    table_class = ApprovalQueueTable
    table_pagination = {"per_page": 50}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_approver(request.user):
            raise PermissionDenied("The approval queue is for the platform team.")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        # Annotations in the page's one query: no query per row.
        mine = Decision.objects.filter(
            request=OuterRef("pk"), approver=self.request.user, verdict=Verdict.APPROVE
        )
        return with_team_name(
            AccessRequest.objects.filter(state=RequestState.PENDING)
            .select_related("cluster", "requester")
            .annotate(
                approvals=Count("decisions", filter=Q(decisions__verdict=Verdict.APPROVE)),
                approved_by_me=Exists(mine),
            )
            .order_by("submitted_at", "id")
        )
