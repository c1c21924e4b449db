"""Erase a person's data for someone who asked by other means than the My data page."""

from django.core.management.base import BaseCommand, CommandError

from hub.members import services
from hub.members.models import User


class Command(BaseCommand):
    help = ("Close an account and erase or anonymise everything the hub holds about the "
            "person, as the My data page does. Records the erasure in the audit trail.")

    def add_arguments(self, parser):
        parser.add_argument("email", help="The account's sign-in email address.")
        parser.add_argument("--yes", action="store_true",
                            help="Do it. Without this the command only says what it would do.")

    def handle(self, *args, email, yes, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account has the email address {email!r}.")
        if not yes:
            self.stdout.write(f"Would erase account {user.pk}. Run again with --yes to do it.")
            return
        counts = services.person_erase(user=user, actor=None, via="command")
        touched = sum(counts.values())
        self.stdout.write(self.style.SUCCESS(
            f"Erased account {user.pk}: {touched} records removed, unlinked or anonymised."))
