import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.members import demo


class Command(BaseCommand):
    help = "Print the current two-step sign-in code of a demo account (demo accounts only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if settings.SECURE or not demo.is_demo_email(email):
            raise CommandError("Only demo accounts have codes that can be printed.")
        counter = int(time.time()) // mfa_settings.TOTP_PERIOD
        self.stdout.write(format_hotp_value(hotp_value(demo.demo_totp_secret(email.lower()),
                                                       counter)))
