"""Demo users, groups and clusters for the one-command demo. Idempotent: run
at every demo start. Refuses to run outside the demo settings."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from secrets_app.models import Cluster

DEMO_USERS = [
    # username, password, approver, admin, what they do in the demo
    ("alice", "alice-demo-pass", False, False, "requester: files requests"),
    ("pat", "pat-demo-pass", True, False, "approver (platform team)"),
    ("quinn", "quinn-demo-pass", True, False, "second approver, for production"),
    ("admin", "admin-demo-pass", False, True, "admin: clusters and audit log"),
]

DEMO_CLUSTERS = [
    {
        "name": "janus-dev",
        "environment": "dev",
        "aws_account_id": "287796791794",
        "region": "us-west-2",
        "oidc_issuer": "oidc.eks.us-west-2.amazonaws.com/id/C0EB4AEEDFD18CBBCBD0686222057E0A",
        "required_approvals": 1,
    },
    {
        "name": "janus-prod",
        "environment": "prod",
        "aws_account_id": "287796791794",
        "region": "us-west-2",
        "oidc_issuer": "oidc.eks.us-west-2.amazonaws.com/id/9A1B2C3D4E5F60718293A4B5C6D7E8F9",
        "required_approvals": 2,
    },
]


class Command(BaseCommand):
    help = "Create the demo users and clusters (demo settings only)."

    def handle(self, *args, **options):
        if not getattr(settings, "PORTAL_DEMO", False):
            raise CommandError("seed_demo only runs with the demo settings (portal.settings.demo).")
        approvers, _ = Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)
        user_model = get_user_model()
        for username, password, approver, admin, _role in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if created:
                user.set_password(password)
            user.is_staff = user.is_superuser = admin
            user.save()
            if approver:
                user.groups.add(approvers)
        for values in DEMO_CLUSTERS:
            Cluster.objects.update_or_create(name=values["name"], defaults=values)
        if options["verbosity"] < 1:
            return
        self.stdout.write("\nDemo users (log in at http://127.0.0.1:8000/):")
        for username, password, _approver, _admin, role in DEMO_USERS:
            self.stdout.write(f"  {username:<6} / {password:<16} {role}")
        self.stdout.write("")
