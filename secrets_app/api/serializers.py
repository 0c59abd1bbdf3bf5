"""Read serializers: what the API shows of requests, bindings, clusters and
health. Every nested list is prefetched by the view's queryset, so a page
costs the same few queries however many rows it holds."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from secrets_app.bindings.usage import usage
from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    BindingSecret,
    Cluster,
    Comment,
    Decision,
    HealthSnapshot,
    SecretGrant,
    Verdict,
)
from secrets_app.ownership.team_names import team_name_of


class ErrorSerializer(serializers.Serializer):
    """A refusal: what went wrong for people, and a code for scripts."""

    detail = serializers.CharField()
    code = serializers.CharField()


class VerifyAskedSerializer(serializers.Serializer):
    """What asking for a verification did."""

    status = serializers.ChoiceField(choices=["queued", "already queued"])


class ClusterRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cluster
        fields = ["id", "name"]


class ClusterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cluster
        # Connection details (kube context, roles to assume, repositories)
        # are admin configuration, not something automation needs.
        fields = [
            "id",
            "name",
            "environment",
            "aws_account_id",
            "region",
            "oidc_issuer",
            "identity_mode",
            "required_approvals",
            "active",
        ]


class SecretGrantSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecretGrant
        fields = ["position", *SecretGrant.FILED_FIELDS]


class DecisionSerializer(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username")

    class Meta:
        model = Decision
        fields = ["approver", "verdict", "comment", "created_at"]


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "created_at"]


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", help_text="Empty for the system.")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "message", "before", "after", "created_at"]


class RequestListSerializer(serializers.ModelSerializer):
    requester = serializers.CharField(source="requester.username")
    cluster = ClusterRefSerializer()
    secret_count = serializers.IntegerField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "requester",
            "cluster",
            "service",
            "namespace",
            "workload_kind",
            "workload_name",
            "service_account",
            "kind",
            "revokes",
            "extends",
            "state",
            "secret_count",
            "expires_on",
            "created_at",
            "submitted_at",
            "decided_at",
        ]


class ApprovalsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    required = serializers.IntegerField()


class RequestDetailSerializer(serializers.ModelSerializer):
    requester = serializers.CharField(source="requester.username")
    cluster = ClusterRefSerializer()
    secrets = SecretGrantSerializer(many=True)
    decisions = DecisionSerializer(many=True)
    comments = CommentSerializer(many=True)
    timeline = TimelineEventSerializer(many=True, source="audit_events")
    approvals = serializers.SerializerMethodField()
    binding = serializers.SerializerMethodField()
    deletes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        read_only=True,
        help_text="A revocation's paths to delete, per repository (infra, deploy), fixed "
        "when it was filed; empty for a grant.",
    )

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "requester",
            *AccessRequest.FILED_FIELDS,
            "kind",
            "revokes",
            "extends",
            "deletes",
            "state",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "approvals",
            "binding",
            "secrets",
            "decisions",
            "comments",
            "timeline",
        ]

    @extend_schema_field(ApprovalsSerializer)
    def get_approvals(self, obj: AccessRequest) -> dict[str, int]:
        count = sum(1 for d in obj.decisions.all() if d.verdict == Verdict.APPROVE)
        return {"count": count, "required": obj.cluster.required_approvals}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_binding(self, obj: AccessRequest) -> int | None:
        binding = getattr(obj, "binding", None)
        return binding.pk if binding is not None else None


class RequestCreatedSerializer(RequestDetailSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(),
        source="api_warnings",
        help_text="What needs attention, the request was saved all the same: AWS lookup "
        "warnings (e.g. AWS unreachable), a patch replacing the ServiceAccount the "
        "workload's pods run as today.",
    )

    class Meta(RequestDetailSerializer.Meta):
        fields = [*RequestDetailSerializer.Meta.fields, "warnings"]


class BindingSecretSerializer(serializers.ModelSerializer):
    class Meta:
        model = BindingSecret
        fields = ["arn", "name", "alias"]


class HealthSnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthSnapshot
        fields = [
            "status",
            "pods_expected",
            "pods_mounted",
            "last_error",
            "diagnosis_code",
            "details",
            "taken_at",
        ]


class BindingSerializer(serializers.ModelSerializer):
    cluster = ClusterRefSerializer()
    request = serializers.IntegerField(source="request_id", allow_null=True)
    secrets = BindingSecretSerializer(many=True)
    health = serializers.SerializerMethodField(help_text="The latest health snapshot, if any.")
    standing = serializers.CharField(
        source="standing.word",
        read_only=True,
        help_text='The state refined: "working" (active, verified and healthy at the '
        'latest sweep), "active", "revoking" or "revoked".',
    )
    waiting_for = serializers.CharField(
        source="standing.waiting_for",
        read_only=True,
        help_text='What it waits for, e.g. "waiting for verification" or "waiting for the '
        'cluster / AWS"; empty when nothing.',
    )
    team = serializers.SerializerMethodField(
        help_text="The team that owns the binding's namespace (its name); null when none does."
    )
    leftovers = serializers.JSONField(
        read_only=True,
        help_text="While revoking: what the last sweep and AWS check still found, as "
        '[{"where": "cluster" or "aws", "what": ...}].',
    )
    versions = serializers.JSONField(
        read_only=True,
        help_text="Per secret its pods mount: state (current, stale-grace, stale, unknown), "
        "current_version, stale_pods [[pod, version]], rotated_at, rotation_enabled, "
        "schedule, next_rotation.",
    )
    unused = serializers.SerializerMethodField(
        help_text="True when active and no pod has mounted it for PORTAL_UNUSED_DAYS days "
        "(counted from last_mounted_at, or from created_at when never seen mounted)."
    )

    class Meta:
        model = Binding
        fields = [
            "id",
            "cluster",
            "namespace",
            "team",
            "service",
            "service_account",
            "secret_provider_class",
            "role_arn",
            "workload_kind",
            "workload_name",
            "synced_secret_names",
            "source",
            "state",
            "standing",
            "waiting_for",
            "health_status",
            "health_checked_at",
            "stale_since",
            "versions",
            "last_mounted_at",
            "unused",
            "verification_ok",
            "verified_at",
            "has_drift",
            "drift",
            "drift_checked_at",
            "created_at",
            "removal_merged_at",
            "leftovers",
            "revoked_at",
            "request",
            "secrets",
            "health",
        ]

    def get_unused(self, obj: Binding) -> bool:
        return usage(obj).unused

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_team(self, obj: Binding) -> str | None:
        return team_name_of(obj)

    @extend_schema_field(HealthSnapshotSerializer(allow_null=True))
    def get_health(self, obj: Binding) -> dict | None:
        # ``latest`` is the view's windowed prefetch (at most one row).
        latest = getattr(obj, "latest", None)
        if latest is None:
            latest = list(obj.snapshots.order_by("-taken_at", "-id")[:1])
        return HealthSnapshotSerializer(latest[0]).data if latest else None
