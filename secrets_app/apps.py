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
        # Tasks register their workflow hooks (enqueue on approval, verify on
        # activation) at import; web processes must have them too.
        from secrets_app import tasks  # noqa: F401
