from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_approver_group(sender, **kwargs):
    from django.conf import settings
    from django.contrib.auth.models import Group

    Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)


class SecretsAppConfig(AppConfig):
    name = "secrets_app"
    verbose_name = "Secrets access"

    def ready(self) -> None:
        post_migrate.connect(_ensure_approver_group, sender=self)
        from django.conf import settings

        if getattr(settings, "PORTAL_DEMO", False):
            # Before the tasks register theirs: the demo's "terraform apply"
            # must run before verification looks at the role.
            from secrets_app import workflow
            from secrets_app.demo.apply import apply_infra_for_binding

            workflow.on_binding_activated(apply_infra_for_binding)
        # Tasks register their workflow hooks (enqueue on approval, verify on
        # activation) at import; web processes must have them too.
        from secrets_app import tasks  # noqa: F401
        from secrets_app.observability import tasks as _observability  # noqa: F401
