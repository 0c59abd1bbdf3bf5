"""Open an access review now (the hourly job opens one when it is due)."""

from django.core.management.base import BaseCommand, CommandError

from secrets_app.reviews.opening import open_access_review, open_review


class Command(BaseCommand):
    help = "Open an access review of every active binding, unless one is open."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-due",
            action="store_true",
            help="Only when the review interval has passed since the last one.",
        )

    def handle(self, *args, if_due: bool = False, **options):
        review = open_access_review(force=not if_due)
        if review is None:
            current = open_review()
            if current is not None:
                raise CommandError(
                    f"{current} is still open (deadline {current.deadline:%Y-%m-%d})."
                )
            self.stdout.write("No review is due.")
            return
        self.stdout.write(
            f"Opened {review}: {review.items.count()} bindings to confirm by "
            f"{review.deadline:%Y-%m-%d %H:%M} UTC."
        )
