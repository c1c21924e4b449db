import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory

from hub.core import views
from hub.core.models import AppendOnlyError, AuditEvent
from hub.core.services import audit_record
from hub.members import demo
from hub.members.models import Organisation, User
from hub.members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_audit_event_cannot_be_changed_or_deleted():
    """The audit trail is append-only at the model level."""
    event = audit_record(actor=None, action="test.thing")
    event.action = "test.other"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.thing"


@pytest.mark.parametrize("path", ["/", "/your-data/", "/organisations/", "/library/",
                                  "/assessment/", "/research/", "/community/",
                                  "/accounts/login/", "/accounts/signup/"])
def test_public_pages_render_in_layout(client, path):
    """Public pages answer 200 with the landmarks and skip link of the layout."""
    body = client.get(path).content.decode()
    assert 'class="skip-link" href="#main"' in body
    assert '<main id="main"' in body and '<nav aria-label="Main"' in body


def test_unknown_page_is_friendly(client):
    """An unknown address gets a 404 page in the site's layout, not Django's."""
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "skip-link" in response.content.decode()


def test_server_error_page_is_friendly():
    """The 500 page stands alone (no database or context needed) and says nothing is lost."""
    response = views.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Nothing you had already saved has been lost" in response.content.decode()


def test_csrf_failure_is_friendly():
    """A form sent without its token is refused with a page that explains what to do."""
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "x"})
    assert response.status_code == 403
    assert "Please try again" in response.content.decode()


def test_your_data_page_says_what_is_stored(client):
    """The plain-language data page names what is kept, why and who sees it."""
    body = client.get("/your-data/").content.decode()
    for phrase in ("email address", "Who can see it", "never people", "pseudonyms"):
        assert phrase in body


def test_demo_load_is_idempotent(capsys):
    """Loading the demo twice leaves one copy of everything and prints the sign-ins."""
    call_command("demo_load")
    counts = (User.objects.count(), Organisation.objects.count())
    call_command("demo_load")
    assert (User.objects.count(), Organisation.objects.count()) == counts
    assert Organisation.objects.count() == 7
    out = capsys.readouterr().out
    assert f"staff@{demo.DEMO_DOMAIN}" in out and demo.DEMO_PASSWORD in out


def test_demo_load_refuses_real_content():
    """A database holding real accounts is left alone unless --force is given."""
    UserFactory(email="real.person@example.net")
    with pytest.raises(CommandError, match="not part of the demo"):
        call_command("demo_load")
    assert not User.objects.filter(email__endswith=demo.DEMO_DOMAIN).exists()
    call_command("demo_load", "--force")
    assert User.objects.filter(email__endswith=demo.DEMO_DOMAIN).exists()


def test_demo_refused_on_a_secure_deployment(settings):
    """With HUB_SECURE on, the demo's accounts are never created."""
    settings.SECURE = True
    with pytest.raises(CommandError, match="real deployment"):
        call_command("demo_load")
    assert not User.objects.exists()


def test_demo_code_matches_enrolled_secret(capsys):
    """The printed code is accepted by allauth for that demo account."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    call_command("demo_load")
    capsys.readouterr()
    email = f"staff@{demo.DEMO_DOMAIN}"
    call_command("demo_code", email)
    code = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d{6}", code)
    authenticator = Authenticator.objects.get(user__email=email, type="totp")
    assert TOTP(authenticator).validate_code(code)
    with pytest.raises(CommandError):
        call_command("demo_code", "someone@example.net")


def _signed_in_client(user):
    client = Client()
    client.force_login(user)
    assert client.get("/members/me/").status_code == 200
    return client


def test_session_ends_after_twelve_hours_even_when_active():
    """However busy, a session lasts twelve hours at most."""
    import time_machine

    with time_machine.travel("2026-01-05 08:00", tick=False) as traveller:
        client = _signed_in_client(UserFactory())
        for hour in range(1, 12):
            traveller.move_to(f"2026-01-05 {8 + hour:02d}:00")
            assert client.get("/members/me/").status_code == 200, hour
        traveller.move_to("2026-01-05 20:01")
        response = client.get("/members/me/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert "_auth_user_id" not in client.session


def test_people_with_powers_are_signed_out_after_thirty_idle_minutes(staff):
    """Staff idle for over thirty minutes must sign in again; a member idle as long need not."""
    import time_machine

    with time_machine.travel("2026-01-05 08:00", tick=False) as traveller:
        staff_client = _signed_in_client(staff)
        member_client = _signed_in_client(UserFactory())
        traveller.move_to("2026-01-05 08:29")
        assert staff_client.get("/members/me/").status_code == 200
        traveller.move_to("2026-01-05 09:00")
        assert staff_client.get("/members/me/").status_code == 302
        assert member_client.get("/members/me/").status_code == 200


def test_signed_in_pages_are_not_cached(client, member):
    """Pages for a signed-in person say private, no-store; public pages for visitors do not."""
    assert "no-store" not in client.get("/").get("Cache-Control", "")
    client.force_login(member)
    for path in ("/", "/members/me/", "/members/me/edit/"):
        cache_control = client.get(path)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, path


def test_admin_pages_of_hub_models_open_for_staff(client, staff):
    """Every hub model's list and detail pages open in the admin for enrolled staff."""
    from django.contrib import admin
    from django.urls import reverse

    from conftest import build_world

    build_world()
    client.force_login(staff)
    for model in admin.site._registry:
        if not model.__module__.startswith("hub."):
            continue
        opts = model._meta
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200, opts.label
        obj = model.objects.first()
        if obj is not None:
            change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change",
                                        args=[obj.pk]))
            assert change.status_code == 200, opts.label


def test_failed_mail_is_retried_then_dropped(settings):
    """A mail server that refuses gets further tries; after the last the message is deleted,
    so no confirmation link is kept for ever."""
    from django_tasks_db.models import DBTaskResult

    from hub.core.models import OutgoingEmail
    from hub.core.tasks import email_send

    settings.EMAIL_BACKEND = "hub.core.tests.failing_mail.Backend"
    email = OutgoingEmail.objects.create(subject="s", body="link", to=["a@example.org"])
    email_send.call(email_id=email.pk)
    email.refresh_from_db()
    assert email.attempts == 1
    retry = DBTaskResult.objects.get()
    assert retry.run_after is not None and retry.args_kwargs["kwargs"] == {"email_id": email.pk}
    for _ in range(OutgoingEmail.MAX_ATTEMPTS - 1):
        email_send.call(email_id=email.pk)
    assert not OutgoingEmail.objects.filter(pk=email.pk).exists()


def test_log_redaction_handles_every_argument_shape():
    """Tokens in paths are hidden in messages, tuple arguments and mapping arguments alike."""
    import logging

    from hub.core.redaction import RedactingFilter

    secret = "/invitations/abc123secret/"
    for msg, args in [(f"Gone: {secret}", ()), ("Gone: %s", (secret,)),
                      ("Gone: %(path)s", ({"path": secret},))]:
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args,
                                   None)
        RedactingFilter().filter(record)
        assert "abc123secret" not in record.getMessage()
        assert "/invitations/[redacted]/" in record.getMessage()


def test_serve_refuses_a_secure_deployment_that_fails_its_checks(settings):
    """With HUB_SECURE on, serve runs the deployment checklist first and refuses to start
    while it fails (here: insecure cookies and mail going to the console), or while demo
    accounts exist."""
    from django.core.management.base import SystemCheckError

    settings.SECURE = True
    with pytest.raises((SystemCheckError, CommandError)):
        call_command("serve", "--port", "1")
