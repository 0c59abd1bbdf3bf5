from django import forms
from django.contrib import admin, messages
from django.db import models

from secrets_app.aws_portal import cluster_refresh_from_aws
from secrets_app.aws_portal.cluster_form import ClusterAdminForm
from secrets_app.bindings.extension import binding_set_expiry, expiry_problem
from secrets_app.events.audit import audit_record
from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    Cluster,
    Comment,
    Decision,
    Namespace,
    Notification,
    SecretGrant,
    Upgrade,
    UpgradeBinding,
)
from secrets_app.notifications import notifications_resend
from secrets_app.ownership import teams


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "environment",
        "aws_account_id",
        "region",
        "identity_mode",
        "required_approvals",
        "active",
    )
    list_filter = ("environment", "identity_mode", "active")
    search_fields = ("name", "aws_account_id", "oidc_issuer")
    # An API server URL typed without a scheme is https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # AWS: a blank OIDC issuer is filled from EKS on save (the form does it,
    # before validation); "Refresh from AWS" re-reads it and checks IAM.
    form = ClusterAdminForm
    actions = ["refresh_from_aws"]

    @admin.action(description="Refresh from AWS", permissions=["change"])
    def refresh_from_aws(self, request, queryset):
        for cluster in queryset:
            report = cluster_refresh_from_aws(cluster=cluster)
            if report.changed:
                self.log_change(request, cluster, report.message)
            self.message_user(request, report.message, report.level)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        report = getattr(form, "aws_report", None)
        if report is not None:
            self.message_user(request, report.message, report.level)


@admin.register(Namespace)
class NamespaceAdmin(admin.ModelAdmin):
    """Who owns each namespace. The health sweep adds the namespaces it sees
    with their team label; an admin sets an owner ("team override"), which
    wins over the label, or adds a namespace the sweep has not seen yet.
    The label, the workloads' ServiceAccounts and ``seen_at`` are the
    sweep's: shown, not edited."""

    list_display = ("name", "cluster", "label_team", "team", "team_override", "seen_at")
    list_filter = ("cluster", "team")
    search_fields = ("name",)
    list_select_related = ("cluster", "team", "team_override")
    fields = (
        "cluster",
        "name",
        "team_override",
        "label_team",
        "team",
        "workload_accounts",
        "seen_at",
    )
    readonly_fields = ("label_team", "team", "workload_accounts", "seen_at")

    def get_readonly_fields(self, request, obj=None):
        # A row names one namespace of one cluster for good; the sweep finds it by both.
        if obj is not None:
            return ("cluster", "name", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        before = Namespace.objects.filter(pk=obj.pk).select_related("team").first()
        if not change:
            super().save_model(request, obj, form, change)
        # ``team`` follows: the override, else the group the label names.
        teams.set_override(obj, obj.team_override)
        audit_record(
            actor=request.user,
            action="namespace.owner_set",
            obj=obj,
            before={"team": _team_name(before)} if before is not None else None,
            after={"team": _team_name(obj), "override": obj.team_override_id is not None},
            message=f"Owner of {obj}: {_team_name(obj) or 'nobody'}.",
        )


def _team_name(namespace: Namespace) -> str:
    return namespace.team.name if namespace.team_id else ""


class ReadOnly:
    """Shown, never added, changed or deleted here, by anyone: the services
    that own these rows (workflow, audit, notifications) are their only
    writers. Admin actions still run. (``obj`` is optional: a ModelAdmin asks
    without it, an inline with it.)"""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


class SecretGrantInline(ReadOnlyInline):
    model = SecretGrant
    fields = ("position", "secret", "alias", "any_suffix", "kms_key_arn", "sync_secret_name")


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ("approver", "verdict", "comment", "created_at")
    readonly_fields = ("created_at",)


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ("author", "body", "created_at")
    readonly_fields = ("created_at",)


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnly, admin.ModelAdmin):
    """Requests change state only through the workflow (the portal's pages),
    so that every change has its audit event; the admin shows them."""

    list_display = ("id", "service", "cluster", "namespace", "requester", "state", "created_at")
    list_filter = ("state", "cluster")
    search_fields = ("service", "namespace", "service_account", "requester__username")
    list_select_related = ("cluster", "requester")
    inlines = [SecretGrantInline, DecisionInline, CommentInline]
    actions = ["retry_provisioning"]

    @admin.action(description="Retry opening the pull requests")
    def retry_provisioning(self, request, queryset):
        from secrets_app.requests import workflow

        for access_request in queryset:
            try:
                workflow.request_retry(request_id=access_request.pk, actor=request.user)
            except workflow.WorkflowError as error:
                self.message_user(request, error.message, level=messages.WARNING)
            else:
                self.message_user(request, f"Request #{access_request.pk} will be retried.")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnly, admin.ModelAdmin):
    """The audit log, read-only: no add, change or delete, for anyone."""

    list_display = ("created_at", "actor_name", "action", "object_type", "object_id", "request")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "action", "object_repr", "message")
    date_hierarchy = "created_at"
    list_select_related = ("request",)
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    # Newest first: what just happened is what an admin comes to read.
    ordering = ("-created_at", "-id")


@admin.register(Notification)
class NotificationAdmin(ReadOnly, admin.ModelAdmin):
    """Notifications as recorded and sent, read-only; failed ones can be sent
    again (a fresh set of attempts)."""

    list_display = ("created_at", "event", "channel", "state", "attempts", "subject", "error")
    list_filter = ("state", "channel", "event")
    search_fields = ("key", "subject", "last_error")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["resend"]

    @admin.display(description="last error")
    def error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Send the failed ones again", permissions=["resend"])
    def resend(self, request, queryset):
        count = notifications_resend(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed notification(s) will be sent again.")

    def has_resend_permission(self, request):
        return request.user.has_perm("secrets_app.change_notification")


class UpgradeBindingInline(ReadOnlyInline):
    model = UpgradeBinding
    fields = ("binding", "request", "writes", "deletes", "overwrites", "applied", "note")


@admin.register(Upgrade)
class UpgradeAdmin(ReadOnly, admin.ModelAdmin):
    """Fleet upgrades as recorded, read-only: opened from the Upgrades page
    (``/fleet/``) or ``manage.py upgrade_bindings --open-prs``, moved by the
    webhook and the poll."""

    list_display = ("id", "cluster", "repository", "number", "state", "forced", "opened_at")
    list_filter = ("state", "repository", "cluster")
    list_select_related = ("cluster",)
    readonly_fields = [f.name for f in Upgrade._meta.fields]
    inlines = [UpgradeBindingInline]


class BindingAdminForm(forms.ModelForm):
    class Meta:
        model = Binding
        fields = ("expires_on",)

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on != self.instance.expires_on:
            problem = expiry_problem(self.instance, expires_on)
            if problem:
                raise forms.ValidationError(problem)
        return expires_on


@admin.register(Binding)
class BindingAdmin(admin.ModelAdmin):
    """Bindings, read-only but for the expiry date: an admin moves it (a
    rejected expiry revocation is not asked again, so this is how access
    the platform team kept gets a new date). Never in the past, only while
    the binding is active; every move is in the audit log. Everything else
    is the workflow's (requests, pull requests, sweeps)."""

    form = BindingAdminForm
    list_display = ("id", "cluster", "namespace", "service_account", "state", "owner", "expires_on")
    list_filter = ("state", "source", "cluster")
    search_fields = ("namespace", "service", "service_account", "owner__username")
    list_select_related = ("cluster", "owner")
    fields = (
        "cluster",
        "namespace",
        "service",
        "service_account",
        "role_arn",
        "source",
        "state",
        "owner",
        "request",
        "expires_on",
        "created_at",
        "revoked_at",
    )
    readonly_fields = tuple(f for f in fields if f != "expires_on")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service, which locks the row and writes the audit event;
        # the admin's own log entry follows (``log_change``).
        if "expires_on" in form.changed_data:
            binding_set_expiry(
                binding_id=obj.pk,
                expires_on=form.cleaned_data["expires_on"],
                actor=request.user,
                how=" in the admin",
            )
