"""Subscribing to the weekly news in a real browser: a bad address is explained, the
confirmation link asks before it confirms, and leaving takes one press. axe-core checks
every page."""

import re

import pytest
from django.core import mail

from hub.community.models import Subscription
from hub.members.tests.test_services import run_worker
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_subscribe_confirm_and_leave(new_page, live_server):
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="Weekly news by email").click()
    page.wait_for_url("**/community/news-by-email/")
    assert_accessible(page)

    page.get_by_label("Your email address").fill("reader@example")
    page.get_by_role("button", name="Subscribe").click()
    assert page.get_by_text("Enter a valid email address").is_visible()
    assert page.get_by_label("Your email address").input_value() == "reader@example"
    assert_accessible(page)

    page.get_by_label("Your email address").fill("reader@example.org")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert_accessible(page)
    run_worker()
    [message] = [m for m in mail.outbox if m.to == ["reader@example.org"]]
    confirm = re.search(r"https?://\S+/confirm/\S+/", message.body).group(0)
    path = confirm.split("://", 1)[1].split("/", 1)[1]

    page.goto("/" + path)
    assert page.get_by_role("button", name="Yes, subscribe me").is_visible()
    assert_accessible(page)
    assert Subscription.objects.get().status == Subscription.Status.PENDING
    page.get_by_role("button", name="Yes, subscribe me").click()
    page.get_by_role("heading", name="Subscribed").wait_for()
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED

    from hub.community import mailing

    leave = mailing.unsubscribe_url("reader@example.org").split("://", 1)[1].split("/", 1)[1]
    page.goto("/" + leave)
    assert_accessible(page)
    page.get_by_role("button", name="Leave the list").click()
    page.get_by_role("heading", name="You have left the list").wait_for()
    assert not Subscription.objects.exists()
    assert_accessible(page)
