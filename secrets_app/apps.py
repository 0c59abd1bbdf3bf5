from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SecretsAppConfig(AppConfig):
    name = "secrets_app"
    verbose_name = "Secrets access"

    def ready(self) -> None:
        from secrets_app.accounts.roles import ensure_approver_group

        post_migrate.connect(ensure_approver_group, sender=self)
        from django.conf import settings

        if getattr(settings, "PORTAL_DEMO", False):
            # Before the tasks register theirs: the demo's "terraform apply"
            # must run before verification looks at the role.
            from secrets_app.demo.apply import apply_infra_for_binding
            from secrets_app.requests import workflow

            workflow.on_binding_activated(apply_infra_for_binding)
        # Tasks register their workflow hooks (enqueue on approval, verify on
        # activation) at import; web processes must have them too.
        from secrets_app import tasks  # noqa: F401
        from secrets_app.observability import tasks as _observability  # noqa: F401
