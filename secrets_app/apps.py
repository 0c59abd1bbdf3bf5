from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SecretsAppConfig(AppConfig):
    name = "secrets_app"
    verbose_name = "Secrets access"

    def ready(self) -> None:
        from secrets_app.accounts.roles import ensure_approver_group

        post_migrate.connect(ensure_approver_group, sender=self)
        # Every connection reports its writes to the page cache's generations.
        from django.db.backends.signals import connection_created

        from secrets_app.pagecache import tracking

        connection_created.connect(tracking.install, dispatch_uid="pagecache-tracking")
        # The tasks (for autodiscovery) and the follow-ups of committed
        # changes, in web and worker processes alike.
        from secrets_app import tasks  # noqa: F401
        from secrets_app.events import bus, followups
        from secrets_app.observability import tasks as _observability  # noqa: F401

        bus.install(followups.table())
