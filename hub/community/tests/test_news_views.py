"""News and briefing pages through the client: forms that keep what was typed and say what to
change, the list and its pages, "Updated" on a changed briefing, withdrawal, the organisation's
own list, and the Atom feed."""

from datetime import timedelta

import pytest
from defusedxml import ElementTree
from django.urls import reverse
from django.utils import timezone

from hub.community import mailing, news
from hub.community.models import Briefing, NewsItem

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def signed_in(client, user):
    client.force_login(user)
    return client


def make_briefing(world, **fields):
    data = {"organisation": world.org_b, "title": "Station Road facts",
            "summary": "What happened.", "body_markdown": "The facts.",
            "audience": Briefing.Audience.PUBLIC, "status": "published"} | fields
    return news.briefing_create(actor=world.actors["admin_b"], **data)


def test_briefing_form_keeps_input_and_shows_errors_beside_fields(client, world):
    """A named-organisations briefing with no organisation named comes back with the message
    beside that field, and the title and text typed are still there."""
    signed_in(client, world.actors["admin_b"])
    response = client.post(reverse("community:briefing_new"), {
        "title": "Facts about the arrest", "summary": "Short summary typed",
        "body_markdown": "Text typed <b>here</b>", "organisation": world.org_b.pk,
        "audience": "organisations", "status": "published"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Name at least one organisation" in page
    assert 'value="Facts about the arrest"' in page and "Short summary typed" in page
    assert "Text typed &lt;b&gt;here&lt;/b&gt;" in page
    assert not Briefing.objects.exists()
    form = response.context["form"]
    assert "audience_organisations" in form.errors


def test_briefing_form_refuses_an_empty_title_and_keeps_the_rest(client, world):
    signed_in(client, world.actors["admin_b"])
    response = client.post(reverse("community:briefing_new"), {
        "title": "", "summary": "Kept summary", "body_markdown": "Kept body",
        "organisation": world.org_b.pk, "audience": "public", "status": "draft"})
    assert response.status_code == 400
    assert "title" in response.context["form"].errors
    assert "Kept summary" in response.content.decode()


def test_editor_writes_a_briefing_for_named_organisations(client, world):
    signed_in(client, world.actors["editor_a"])
    response = client.post(reverse("community:briefing_new"), {
        "title": "Patrols near the school", "summary": "More officers next week.",
        "body_markdown": "Officers will **walk** the area.", "organisation": world.org_a.pk,
        "audience": "organisations", "audience_organisations": [world.org_b.pk],
        "status": "published"})
    briefing = Briefing.objects.get()
    assert response.status_code == 302 and response["Location"] == briefing.get_absolute_url()
    assert list(briefing.audience_organisations.all()) == [world.org_b]
    page = client.get(briefing.get_absolute_url()).content.decode()
    assert "<strong>walk</strong>" in page and "Members of Beta Police Unit" in page


def test_news_form_for_staff_only(client, world):
    """Staff see the form and publish; a member is refused."""
    signed_in(client, world.actors["member"])
    assert client.get(reverse("community:news_new")).status_code == 404  # as if missing
    signed_in(client, world.actors["staff"])
    assert client.get(reverse("community:news_new")).status_code == 200
    response = client.post(reverse("community:news_new"), {
        "title": "The hub is open", "summary": "Welcome.", "body_markdown": "Hello.",
        "status": "published"})
    assert response.status_code == 302
    assert NewsItem.objects.get().is_published


def test_edited_published_briefing_shows_updated_with_the_note(client, world):
    briefing = make_briefing(world)
    signed_in(client, world.actors["admin_b"])
    edit = reverse("community:briefing_edit", args=[briefing.slug])
    form_page = client.get(edit).content.decode()
    assert "What changed" in form_page
    response = client.post(edit, {
        "title": briefing.title, "summary": briefing.summary,
        "body_markdown": "The man was released on bail.", "organisation": world.org_b.pk,
        "audience": "public", "status": "published", "update_note": "Released on bail."})
    assert response.status_code == 302
    page = client.get(briefing.get_absolute_url()).content.decode()
    assert "Updated" in page and "Released on bail." in page


def test_withdraw_page_takes_the_item_away(client, world):
    briefing = make_briefing(world)
    signed_in(client, world.actors["admin_b"])
    withdraw = reverse("community:briefing_withdraw", args=[briefing.slug])
    assert client.get(withdraw).status_code == 200
    assert client.post(withdraw).status_code == 302
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.WITHDRAWN
    signed_in(client, world.actors["member"])
    assert client.get(briefing.get_absolute_url()).status_code == 404
    assert client.post(withdraw).status_code == 404


def test_my_organisations_briefings_lists_every_status(client, world):
    make_briefing(world, title="Published one")
    make_briefing(world, title="Draft one", status="draft")
    news.briefing_create(actor=world.actors["editor_a"], organisation=world.org_a,
                         title="Other organisation's", summary="s", body_markdown="b",
                         audience="public", status="draft")
    signed_in(client, world.actors["admin_b"])
    page = client.get(reverse("community:briefing_mine")).content.decode()
    assert "Published one" in page and "Draft one" in page
    assert "Other organisation" not in page
    signed_in(client, world.actors["member"])
    assert client.get(reverse("community:briefing_mine")).status_code == 404


def test_list_is_paginated_newest_first_across_both_kinds(client, world):
    now = timezone.now()
    for number in range(15):
        item = news.news_create(actor=world.actors["staff"], title=f"News {number}",
                                summary="s", body_markdown="b", status="published")
        NewsItem.objects.filter(pk=item.pk).update(published_at=now - timedelta(hours=number))
    for number in range(10):
        briefing = make_briefing(world, title=f"Briefing {number}")
        Briefing.objects.filter(pk=briefing.pk).update(
            published_at=now - timedelta(hours=number, minutes=30))
    first = client.get(reverse("community:news_list"))
    titles = [entry.item.title for entry in first.context["page"].object_list]
    assert len(titles) == 20 and titles[:3] == ["News 0", "Briefing 0", "News 1"]
    second = client.get(reverse("community:news_list"), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert second.context["page"].object_list[-1].item.title == "News 14"
    briefings_only = client.get(reverse("community:news_list"), {"kind": "briefings"})
    assert briefings_only.context["page"].paginator.count == 10
    assert b"Next page" in first.content


def test_home_links_to_news_and_briefings(client, db):
    page = client.get(reverse("community:home")).content.decode()
    assert reverse("community:news_list") in page


def test_feed_is_atom_with_escaped_summaries_and_organisation_as_author(client, world):
    make_briefing(world, title="Facts <script>", summary="Calm & <b>clear</b>")
    news.news_create(actor=world.actors["staff"], title="Hub news", summary="Hello",
                     body_markdown="b", status="published")
    response = client.get(reverse("community:news_feed"))
    root = ElementTree.fromstring(response.content)
    entries = {e.findtext(f"{ATOM}title"): e for e in root.iter(f"{ATOM}entry")}
    assert set(entries) == {"Briefing: Facts <script>", "Hub news"}
    briefing = entries["Briefing: Facts <script>"]
    assert briefing.findtext(f"{ATOM}author/{ATOM}name") == "Beta Police Unit"
    assert "&lt;b&gt;clear&lt;/b&gt;" in briefing.findtext(f"{ATOM}summary")
    assert entries["Hub news"].findtext(f"{ATOM}author/{ATOM}name") == "Engagement Hub"


def test_digest_section_lists_news_and_public_briefings_of_the_week(world):
    """Only items published in the digest's week; members' briefings never."""
    make_briefing(world, title="Public facts")
    make_briefing(world, title="Members' facts", audience="members")
    old = news.news_create(actor=world.actors["staff"], title="Old news", summary="s",
                           body_markdown="b", status="published")
    NewsItem.objects.filter(pk=old.pk).update(published_at=timezone.now() - timedelta(days=9))
    now = timezone.now() + timedelta(minutes=1)
    sections = dict(mailing.digest_sections(now - timedelta(days=7), now))
    [line] = sections["News and briefings"]
    assert line.title == "Public facts" and line.line == "Briefing by Beta Police Unit"


def test_demo_news_loads_once(client, db):
    """The demo has the hub's launch news, a public police briefing with an update and a
    briefing for two named organisations, which the feed leaves out."""
    from hub.community import demo
    from hub.members import demo as members_demo

    members_demo.load()
    demo.load_news()
    demo.load_news()
    assert NewsItem.objects.get().title == demo.LAUNCH_NEWS
    public = Briefing.objects.get(title=demo.STATION_ROAD)
    assert public.updated_at and public.organisation.slug == demo.POLICE
    named = Briefing.objects.get(title=demo.YOUTH_BRIEFING)
    assert set(named.audience_organisations.values_list("slug", flat=True)) == {
        demo.FORUM, demo.YOUTH}
    feed = client.get(reverse("community:news_feed")).content.decode()
    assert demo.STATION_ROAD.split(":")[0] in feed and demo.YOUTH_BRIEFING not in feed
