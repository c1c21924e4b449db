"""Funding pages through the client: the list by deadline with "closes in N days" and a closed
tab, times in the hub's time zone (typed and shown), the form's messages for a bad link and a
past deadline with nothing typed lost, following and unfollowing (twice included), the page of
followed opportunities, and list queries that do not grow with rows."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub.community import stories
from hub.community.models import FundingFollow, FundingOpportunity
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def editor():
    org = OrganisationFactory(name="Canal Police", slug="canal", is_partner=True)
    return MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user


@pytest.fixture
def member():
    return UserFactory()


def make(editor, title="Bridges Fund", days=20.0, **extra):
    data = {"title": title, "funder": "The Canal Trust", "amount": "Up to £5,000",
            "summary": "For projects that bring neighbours together.",
            "eligibility": "Community groups.", "deadline": timezone.now() + days * DAY,
            "link": "https://funding.example.org/b", "status": "published"} | extra
    return stories.funding_create(actor=editor, **data)


def post_data(**extra):
    return {"title": "Bridges Fund", "funder": "The Canal Trust", "amount": "£5,000",
            "summary": "Typed summary", "eligibility": "Typed eligibility",
            "deadline": (timezone.localtime() + 30 * DAY).strftime("%Y-%m-%dT%H:%M"),
            "link": "https://funding.example.org/b", "status": "published"} | extra


def test_list_orders_open_ones_by_deadline_and_says_how_long_is_left(client, editor):
    make(editor, "Later fund", days=40.5)
    make(editor, "Soon fund", days=3.5)
    make(editor, "Today fund", days=0.25)
    closed = make(editor, "Closed fund", days=1)
    FundingOpportunity.objects.filter(pk=closed.pk).update(deadline=timezone.now() - DAY)
    response = client.get(reverse("community:funding_list"))
    rows = response.context["opportunities"]
    assert [r.title for r in rows] == ["Today fund", "Soon fund", "Later fund"]
    page = response.content.decode()
    assert "closes in 3 days" in page and "closes in 40 days" in page
    assert "closes in 6 hours" in page or "closes in 5 hours" in page
    assert "Closed fund" not in page and "Closed (1)" in page and "Open (3)" in page
    closed_page = client.get(reverse("community:funding_list"), {"show": "closed"})
    assert [r.title for r in closed_page.context["opportunities"]] == ["Closed fund"]


def test_times_are_shown_in_the_hubs_time_zone(client, editor, settings):
    """A deadline stored in UTC is shown in London time, with its abbreviation (BST in
    summer), and the zone is named on the list and the page."""
    with time_machine.travel(datetime(2027, 6, 1, 9, 0, tzinfo=UTC)):
        item = make(editor, deadline=datetime(2027, 7, 1, 16, 0, tzinfo=UTC))
        page = client.get(item.get_absolute_url()).content.decode()
        assert "Thursday 1 July 2027, 17:00 BST" in page and "Europe/London" in page
        listing = client.get(reverse("community:funding_list")).content.decode()
        assert "17:00 BST" in listing and "closes in 30 days" in listing


def test_deadline_typed_is_read_in_the_hubs_time_zone(client, editor):
    with time_machine.travel(datetime(2027, 6, 1, 9, 0, tzinfo=UTC)):
        client.force_login(editor)  # inside the travel, or the session has expired
        response = client.post(reverse("community:funding_new"),
                               post_data(deadline="2027-07-01T17:00"))
    assert response.status_code == 302, response.content
    assert response["Location"] == FundingOpportunity.objects.get().get_absolute_url()
    assert FundingOpportunity.objects.get().deadline == datetime(2027, 7, 1, 16, 0,
                                                                 tzinfo=UTC)


@pytest.mark.parametrize("link", ["ftp://files.example.org/x", "javascript:alert(1)",
                                  "http://"])
def test_a_bad_link_is_explained_and_nothing_typed_is_lost(client, editor, link):
    client.force_login(editor)
    response = client.post(reverse("community:funding_new"), post_data(link=link))
    assert response.status_code == 400
    assert "link" in response.context["form"].errors
    page = response.content.decode()
    assert "Typed summary" in page and "Typed eligibility" in page
    assert not FundingOpportunity.objects.exists()


def test_a_past_deadline_is_explained_when_publishing(client, editor):
    client.force_login(editor)
    past = (timezone.localtime() - DAY).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("community:funding_new"), post_data(deadline=past))
    assert response.status_code == 400
    assert "This deadline has passed" in response.content.decode()
    assert f'value="{past}"' in response.content.decode()
    assert not FundingOpportunity.objects.exists()
    # As a draft it may wait for a new date.
    response = client.post(reverse("community:funding_new"),
                           post_data(deadline=past, status="draft"))
    assert response.status_code == 302
    assert FundingOpportunity.objects.get().status == "draft"


def test_nul_characters_are_explained(client, editor):
    client.force_login(editor)
    response = client.post(reverse("community:funding_new"), post_data(funder="Can\x00al"))
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()


def test_edit_form_shows_the_deadline_in_local_time(client, editor):
    with time_machine.travel(datetime(2027, 6, 1, 9, 0, tzinfo=UTC)):
        item = make(editor, deadline=datetime(2027, 7, 1, 16, 0, tzinfo=UTC))
        client.force_login(editor)
        page = client.get(reverse("community:funding_edit", args=[item.slug])).content
    assert b'value="2027-07-01T17:00"' in page


def test_member_follows_and_unfollows_and_following_twice_is_explained(client, editor,
                                                                        member):
    item = make(editor)
    client.force_login(member)
    url = reverse("community:funding_follow", args=[item.slug])
    page = client.post(url, {"action": "follow"}, follow=True).content.decode()
    assert "Following. We will email you 7 days before the deadline." in page
    assert "Stop following" in page
    again = client.post(url, {"action": "follow"}, follow=True).content.decode()
    assert "You already follow this opportunity." in again
    assert FundingFollow.objects.count() == 1
    mine = client.get(reverse("community:funding_following"))
    assert [o.title for o in mine.context["opportunities"]] == ["Bridges Fund"]
    listing = client.get(reverse("community:funding_list")).content.decode()
    assert "Following</span>" in listing
    done = client.post(url, {"action": "unfollow", "next": "following"}, follow=True)
    assert b"You no longer follow this opportunity." in done.content
    assert not FundingFollow.objects.exists()
    bad = client.post(url, {"action": "shout"}, follow=True)
    assert b"Choose to follow or to stop following." in bad.content


def test_following_a_closed_opportunity_is_explained(client, editor, member):
    item = make(editor)
    FundingOpportunity.objects.filter(pk=item.pk).update(deadline=timezone.now() - DAY)
    client.force_login(member)
    page = client.get(item.get_absolute_url()).content.decode()
    assert "Closed" in page and "Follow and remind me" not in page
    response = client.post(reverse("community:funding_follow", args=[item.slug]),
                           {"action": "follow"}, follow=True)
    assert b"closed or not published" in response.content
    assert not FundingFollow.objects.exists()


def test_follow_needs_post(client, editor, member):
    client.force_login(member)
    item = make(editor)
    assert client.get(reverse("community:funding_follow", args=[item.slug])).status_code == 405


def _count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["visitor", "member", "editor"])
def test_funding_list_queries_do_not_grow_with_rows(client, editor, member, viewer):
    people = {"member": member, "editor": editor}
    if viewer != "visitor":
        client.force_login(people[viewer])

    def add(n):
        for _ in range(n):
            count = FundingOpportunity.objects.count()
            item = make(editor, f"Fund {count}", days=count + 1)
            stories.funding_follow(actor=member, opportunity=item)
            make(editor, f"Draft {count}", status="draft")
            closed = make(editor, f"Closed {count}")
            FundingOpportunity.objects.filter(pk=closed.pk).update(
                deadline=timezone.now() - DAY)

    add(2)
    urls = [reverse("community:funding_list"), reverse("community:funding_list") + "?show=closed"]
    if viewer == "member":
        urls.append(reverse("community:funding_following"))
    few = [_count(client, url) for url in urls]
    add(5)
    assert [_count(client, url) for url in urls] == few
