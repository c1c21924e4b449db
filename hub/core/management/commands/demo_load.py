from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from hub.assessment import demo as assessment_demo
from hub.community import demo as community_demo
from hub.core.models import AuditEvent
from hub.core.services import audit_record
from hub.library import demo as library_demo
from hub.members import demo as members_demo
from hub.members.models import User
from hub.research import coding_demo as research_coding_demo
from hub.research import demo as research_demo

MARKER = "demo.load"


class Command(BaseCommand):
    help = ("Load the demo's fictional organisations, people and content. Safe to run again. "
            "Refuses a database that holds real content unless --force is given.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Load into a database that already holds non-demo content.")

    def handle(self, *args, force=False, **options):
        if settings.SECURE:
            raise CommandError(
                "HUB_SECURE is on, so this looks like a real deployment. The demo's accounts "
                "share a published password and must never exist there.")
        has_marker = AuditEvent.objects.filter(action=MARKER).exists()
        real_people = User.objects.exclude(email__iendswith="@" + members_demo.DEMO_DOMAIN)
        if real_people.exists() and not has_marker and not force:
            raise CommandError(
                "This database already holds accounts that are not part of the demo. "
                "Loading the demo would mix fictional content with real content. "
                "Use an empty data directory (HUB_DATA_DIR), or pass --force if you are sure.")
        with transaction.atomic():
            sign_ins = members_demo.load()
            resources = library_demo.load()
            assessment = assessment_demo.load()
            events = community_demo.load()
            research_demo.load()
            research_coding_demo.load()
            if not has_marker:
                audit_record(actor=None, action=MARKER)
        self.stdout.write(self.style.SUCCESS("Demo content is ready."))
        self.stdout.write(f"Library: {resources} fictional resources on every tier, with example "
                          "access requests and grants.")
        self.stdout.write(f"Assessment: {assessment['initiatives']} initiatives in a programme, "
                          "with rounds, results over time and an open round.")
        self.stdout.write(f"Community: {events} events, among them the launch conference and a "
                          "full workshop with a waiting list.")
        if assessment["link"]:
            self.stdout.write("Answer the open round without an account through this private "
                              "link (it works once):\n  " + settings.SITE_URL
                              + reverse("assessment:link", args=[assessment["link"]]))
        self.stdout.write(f"\nDemo sign-ins (password for all: {members_demo.DEMO_PASSWORD})")
        for row in sign_ins:
            mark = "  [two-step]" if row["mfa"] else ""
            self.stdout.write(f"  {row['email']:<36} {row['who']}{mark}")
        self.stdout.write(
            "\nAccounts marked [two-step] ask for a code after the password. Print the current "
            "code with:\n  make demo-code EMAIL=staff@" + members_demo.DEMO_DOMAIN)
