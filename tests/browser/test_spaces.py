"""Discussion spaces in a real browser: a newcomer joins a pseudonymous space, accepts its
ground rules and posts; her post waits; a moderator approves it from the queue and later
hides it, never seeing who wrote it; she is told. axe-core checks every page on the way:
the space list, a space, the join page, the new-thread form (with its errors), a thread,
the moderation queue, the log and the notifications."""

import re

import pytest

from hub.community import spaces
from hub.community.models import Space, SpaceMembership
from hub.community.tests.test_spaces_services import make_space, staff_user
from hub.members.tests.factories import UserFactory
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

AUTHOR_NAME = "Leyla Hassan-Ortiz"


@pytest.fixture
def world(db):
    staff = staff_user()
    space = make_space(by=staff, name="Difficult conversations", pseudonymous=True,
                       chatham_house=True, visibility=Space.Visibility.INVITATION,
                       ground_rules="1. Use what you hear, never who said it.\n"
                                    "2. No names of people who are not here.")
    moderator = UserFactory(profile__display_name="Owen Moderator")
    author = UserFactory(profile__display_name=AUTHOR_NAME, email="leyla@example.org")
    spaces.space_invite(actor=staff, space=space, users=[moderator, author])
    spaces.space_accept_rules(actor=moderator, space=space, accept=True)
    spaces.space_member_change(actor=staff, space=space, action="moderator",
                               membership=SpaceMembership.objects.get(user=moderator))
    return {"space": space, "moderator": moderator, "author": author}


def test_post_pseudonymously_and_a_moderator_acts_without_seeing_who(new_page, world):
    space, author = world["space"], world["author"]

    a = new_page()
    sign_in(a, author.email)
    a.goto("/community/spaces/")
    a.get_by_role("heading", name="Discussion spaces").wait_for()
    assert a.get_by_text("You are invited").is_visible()
    assert_accessible(a)
    a.get_by_role("link", name="Difficult conversations").click()
    a.get_by_role("heading", name="Difficult conversations").wait_for()
    assert_accessible(a)
    a.get_by_role("link", name="Accept the invitation and join").click()
    a.get_by_role("heading", name="Join Difficult conversations").wait_for()
    assert_accessible(a)
    a.get_by_role("button", name="Join the space").click()
    a.get_by_text("Tick the box to accept the ground rules").wait_for()
    assert_accessible(a)
    a.get_by_label("I have read the ground rules and I accept them").check()
    a.get_by_role("button", name="Join the space").click()
    a.get_by_text("Welcome. You can post in this space now.").wait_for()
    pseudonym = SpaceMembership.objects.get(space=space, user=author).pseudonym
    assert a.get_by_text(pseudonym).first.is_visible()

    a.get_by_role("link", name="Start a thread").click()
    a.get_by_role("heading", name="Start a thread in Difficult conversations").wait_for()
    assert_accessible(a)
    a.get_by_label("Title").fill("After the festival")
    a.get_by_role("button", name="Post the thread").click()
    a.get_by_text("Please check the form").wait_for()
    assert a.input_value("#id_title") == "After the festival"
    assert_accessible(a)
    a.get_by_label("Your post").fill("Young people felt **targeted**. How do we talk about "
                                     "it?")
    a.get_by_role("button", name="Post the thread").click()
    a.get_by_role("heading", name="After the festival").wait_for()
    assert a.get_by_text("your first posts wait for a moderator").is_visible()
    assert a.locator("strong", has_text="targeted").is_visible()
    assert_accessible(a)

    m = new_page()
    sign_in(m, world["moderator"].email)
    m.goto(space.get_absolute_url())
    m.get_by_role("link", name=re.compile(r"^Moderation queue \(1\)")).click()
    m.get_by_role("heading", name="Moderation queue").wait_for()
    assert_accessible(m)
    queue = m.content()
    assert pseudonym in queue
    for leak in (AUTHOR_NAME, author.email, "Leyla"):
        assert leak not in queue
    m.get_by_text("Moderate this post").click()
    m.get_by_label("Decision").select_option("approve")
    m.get_by_role("button", name="Apply").click()
    m.get_by_text("Done: you approved a post.").wait_for()
    assert_accessible(m)

    m.goto(space.get_absolute_url())
    m.get_by_role("link", name="After the festival").click()
    m.get_by_role("heading", name="After the festival").wait_for()
    assert_accessible(m)
    thread_page = m.content()
    assert pseudonym in thread_page and AUTHOR_NAME not in thread_page
    m.get_by_text("Moderate this post").click()
    m.get_by_label("Decision").select_option("hide")
    m.get_by_label(re.compile("^Reason")).fill("Please rephrase without generalising.")
    m.get_by_role("button", name="Apply").click()
    m.get_by_text("Done: you hid a post.").wait_for()
    m.goto(f"{space.get_absolute_url()}log/")
    assert m.get_by_text("Please rephrase without generalising.").is_visible()
    assert_accessible(m)
    assert AUTHOR_NAME not in m.content()

    a.reload()
    assert a.get_by_text("Hidden while the moderators look at it").is_visible()
    a.goto("/community/notifications/")
    a.get_by_role("heading", name="Notifications").wait_for()
    assert a.get_by_text(re.compile("was approved")).is_visible()
    assert a.get_by_text(re.compile("was hidden by a moderator")).is_visible()
    assert_accessible(a)
