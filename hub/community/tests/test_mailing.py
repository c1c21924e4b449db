"""The mailing list through a real SMTP server (aiosmtpd on loopback) and the real task worker:
double opt-in, one-click leaving, the weekly digest, and every way a link can fail."""

import email
import re
import socket
from datetime import timedelta
from email import policy as email_policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hub.community import mailing
from hub.community.models import Digest, Event, Subscription
from hub.community.tasks import digest_weekly
from hub.community.tests.factories import EventFactory
from hub.core.models import OutgoingEmail
from hub.library.models import Tier
from hub.library.tests.factories import ResourceFactory
from hub.members.tests.factories import OrganisationFactory
from hub.members.tests.test_services import run_worker

ADDRESS = "reader@example.org"


class Inbox:
    """An SMTP server's handler that keeps every message it is given."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email_policy.default))
        return "250 OK"

    def body(self, index: int = -1) -> str:
        message = self.messages[index]
        part = message.get_body(preferencelist=("plain",))
        return part.get_content()


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                               EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False,
                               EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD=""):
            yield inbox
    finally:
        controller.stop()


def link_in(text: str, name: str) -> str:
    """The path of the first link in ``text`` to the named page."""
    pattern = re.escape(reverse(name, args=["TOKEN"])).replace("TOKEN", r"[^/\s]+")
    return re.search(pattern, text).group(0)


@pytest.mark.django_db(transaction=True)
def test_subscribe_confirm_receive_the_digest_and_leave_in_one_click(smtp):
    client = Client()
    page = client.post(reverse("community:subscribe"), {"email": " Reader@Example.org "})
    assert page.status_code == 200 and b"Check your inbox" in page.content
    run_worker()
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == ADDRESS
    confirm = link_in(smtp.body(), "community:subscription_confirm")

    # Opening the link only asks; a mail scanner fetching it subscribes nobody.
    assert b"Yes, subscribe me" in client.get(confirm).content
    assert Subscription.objects.get().status == Subscription.Status.PENDING
    assert b"Subscribed" in client.post(confirm).content
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED
    # Confirming scheduled the weekly digest, once however often it is asked.
    mailing.digest_ensure_scheduled()
    waiting = DBTaskResult.objects.filter(task_path=digest_weekly.module_path,
                                          status=TaskResultStatus.READY)
    assert waiting.count() == 1
    assert timezone.localtime(waiting.get().run_after).weekday() == 0  # Monday

    org = OrganisationFactory(name="Harbour Police")
    ResourceFactory(title="Trust in the neighbourhood", organisation=org)
    ResourceFactory(title="Members-only toolkit", organisation=org, metadata_tier=Tier.MEMBERS)
    EventFactory(title="Launch conference", organisation=org,
                 starts_at=timezone.now() + timedelta(days=20))
    EventFactory(title="Members-only briefing", organisation=org,
                 audience=Event.Audience.MEMBERS)
    EventFactory(title="Draft workshop", organisation=org, status=Event.Status.DRAFT)
    Digest.objects.create(period_start=timezone.now() - timedelta(days=14),
                          period_end=timezone.now() - timedelta(days=7, minutes=1), items=0,
                          recipients=0)
    digest = mailing.digest_send()
    assert digest.items == 2 and digest.recipients == 1
    run_worker()
    message = smtp.messages[-1]
    text = smtp.body()
    assert "Trust in the neighbourhood" in text and "Launch conference" in text
    for hidden in ("Members-only toolkit", "Members-only briefing", "Draft workshop"):
        assert hidden not in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_link = re.search(r"<([^>]+)>", message["List-Unsubscribe"]).group(1)
    leave = link_in(text, "community:unsubscribe")
    assert header_link.endswith(leave)

    # A mail program's one-click POST carries no session and no CSRF token.
    one_click = Client(enforce_csrf_checks=True).post(
        leave, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and b"You have left the list" in one_click.content
    assert not Subscription.objects.exists()  # deleted, not marked
    # Leaving twice is harmless, and the next digest goes to nobody.
    assert Client().post(leave).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=1)):
        later = mailing.digest_send()
    assert later.recipients == 0


@pytest.mark.django_db
def test_a_bad_address_is_explained_and_nothing_is_sent(client):
    page = client.post(reverse("community:subscribe"), {"email": "not an address"})
    assert page.status_code == 400
    assert b"Enter a valid email address" in page.content
    assert not Subscription.objects.exists() and not OutgoingEmail.objects.exists()


@pytest.mark.django_db
def test_the_form_does_not_tell_who_is_subscribed_or_flood_anyone(client):
    Subscription.objects.create(email=ADDRESS, status=Subscription.Status.CONFIRMED,
                                asked_at=timezone.now(), confirmed_at=timezone.now())
    subscribed = client.post(reverse("community:subscribe"), {"email": ADDRESS})
    fresh = client.post(reverse("community:subscribe"), {"email": "new@example.org"})
    assert subscribed.status_code == fresh.status_code == 200
    strip = lambda page, address: page.content.decode().replace(address, "")  # noqa: E731
    assert strip(subscribed, ADDRESS) == strip(fresh, "new@example.org")
    assert OutgoingEmail.objects.filter(to=[ADDRESS]).count() == 0
    for _ in range(5):
        client.post(reverse("community:subscribe"), {"email": "new@example.org"})
    assert OutgoingEmail.objects.filter(to=["new@example.org"]).count() == 1
    with time_machine.travel(timezone.now() + mailing.RESEND_AFTER + timedelta(seconds=1)):
        client.post(reverse("community:subscribe"), {"email": "new@example.org"})
    assert OutgoingEmail.objects.filter(to=["new@example.org"]).count() == 2


@pytest.mark.django_db
def test_an_expired_or_altered_confirmation_link_is_refused(client):
    mailing.subscribe(ADDRESS)
    body = OutgoingEmail.objects.get().body
    confirm = link_in(body, "community:subscription_confirm")
    with time_machine.travel(timezone.now() + mailing.CONFIRM_WITHIN + timedelta(minutes=1)):
        page = client.post(confirm)
        assert page.status_code == 410 and b"has expired" in page.content
        # The unconfirmed address is forgotten once its link has expired.
        assert mailing.pending_purge() == 1
    assert not Subscription.objects.exists()
    assert client.post(confirm).status_code == 404  # nothing left to confirm
    mailing.subscribe(ADDRESS)
    altered = confirm[:-3] + ("aaa" if not confirm.endswith("aaa/") else "bbb") + "/"
    page = client.post(altered)
    assert page.status_code == 404 and b"not valid" in page.content
    assert Subscription.objects.get().status == Subscription.Status.PENDING
    # A leaving link cannot confirm, nor the other way round.
    leave_token = mailing.unsubscribe_url(ADDRESS).rstrip("/").rsplit("/", 1)[1]
    assert client.post(reverse("community:subscription_confirm",
                               args=[leave_token])).status_code == 404


@pytest.mark.django_db
def test_the_digest_is_sent_once_a_week_and_not_when_empty(client):
    Subscription.objects.create(email=ADDRESS, status=Subscription.Status.CONFIRMED,
                                asked_at=timezone.now(), confirmed_at=timezone.now())
    first = mailing.digest_send()  # nothing new: recorded, nobody mailed
    assert first.items == 0 and first.recipients == 0
    assert mailing.digest_send() is None  # not due again yet
    ResourceFactory(title="Fresh report")
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        second = mailing.digest_send()
        assert second.items == 1 and second.recipients == 1
        assert mailing.digest_send() is None
    assert OutgoingEmail.objects.filter(to=[ADDRESS]).count() == 1
    mail.outbox.clear()
