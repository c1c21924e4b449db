"""The space pages through the client: lists and search, joining, posting with bad input,
flags, the moderation queue, exports, notifications, reveals, members, and the demo."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from hub.community import spaces
from hub.community.models import (
    Flag,
    IdentityReveal,
    Notification,
    Post,
    Space,
    SpaceMembership,
    Thread,
)
from hub.community.tests.test_spaces_services import (
    join,
    make_space,
    moderator_of,
    post_in,
    staff_user,
)
from hub.members.models import User
from hub.members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_spaces_are_for_members_only(client):
    url = reverse("community:space_list")
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(standing=User.Standing.APPLICANT))
    assert client.get(url).status_code in (403, 404)


def test_list_shows_open_and_invited_spaces_and_searches_threads(client):
    open_space = make_space(name="Safety forum")
    closed = make_space(name="Closed circle", visibility=Space.Visibility.INVITATION)
    post_in(open_space, moderator_of(open_space), title="Canal lights", body="Broken lamps")
    post_in(closed, moderator_of(closed), title="Canal secrets", body="Hidden lamps")
    member = UserFactory()
    client.force_login(member)
    html = page(client, reverse("community:space_list"))
    assert "Safety forum" in html and "Closed circle" not in html
    html = page(client, reverse("community:space_list"), q="lamps")
    assert "Canal lights" in html and "Canal secrets" not in html
    spaces.space_invite(actor=moderator_of(closed), space=closed, users=[member])
    html = page(client, reverse("community:space_list"))
    assert "Closed circle" in html and "You are invited" in html


def test_join_start_a_thread_and_reply_through_the_pages(client):
    space = make_space(ground_rules="**Be kind** to each other.")
    person = UserFactory()
    client.force_login(person)
    html = page(client, space.get_absolute_url())
    assert "<strong>Be kind</strong>" in html and "Join this space" in html
    join_url = reverse("community:space_join", args=[space.slug])
    response = client.post(join_url, {})
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    assert client.post(join_url, {"accept": "on"}).status_code == 302
    new_url = reverse("community:thread_new", args=[space.slug])
    response = client.post(new_url, {"title": "Evening buses", "body": ""})
    html = response.content.decode()
    assert response.status_code == 400 and 'value="Evening buses"' in html
    response = client.post(new_url, {"title": "Evening buses", "body": "Too few *buses*."},
                           follow=True)
    html = response.content.decode()
    assert "Waiting for approval" in html and "<em>buses</em>" in html
    thread = Thread.objects.get()
    assert thread.state == Thread.State.AWAITING
    reply_url = reverse("community:post_reply", args=[space.slug, thread.pk])
    response = client.post(reply_url, {"body": "   "})
    assert response.status_code == 400


def test_others_do_not_see_a_newcomers_waiting_thread(client):
    space = make_space()
    newcomer = join(space, trusted=False)
    post = post_in(space, newcomer, title="Newcomer's question")
    client.force_login(join(space))
    assert "Newcomer" not in page(client, space.get_absolute_url())
    assert client.get(post.thread.get_absolute_url()).status_code == 404
    assert client.get(reverse("community:post_flag", args=[post.pk])).status_code == 404


def test_flag_page_says_why_a_flag_is_refused(client):
    space = make_space()
    author = join(space)
    post = post_in(space, author)
    url = reverse("community:post_flag", args=[post.pk])
    client.force_login(author)
    response = client.post(url, {"reason": "spam"})
    assert response.status_code == 400 and "your own post" in response.content.decode()
    flagger = join(space)
    client.force_login(flagger)
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert client.post(url, {"reason": "spam", "note": "An advert"}).status_code == 302
    response = client.post(url, {"reason": "offensive"})
    assert response.status_code == 400 and "already flagged" in response.content.decode()
    assert Flag.objects.count() == 1


def test_moderation_queue_shows_pseudonyms_and_reasons_not_people(client):
    space = make_space(pseudonymous=True, flag_threshold=1)
    author = join(space, profile__display_name="Fatima Secret")
    flagger = join(space, profile__display_name="Flagging Person")
    post = post_in(space, author, body="Something rude")
    spaces.post_flag(actor=flagger, post=post, reason="offensive", note="Unkind words")
    client.force_login(moderator_of(space))
    html = page(client, reverse("community:space_queue", args=[space.slug]))
    assert post.author.pseudonym in html and "Unkind words" in html
    assert "Something rude" in html
    for leak in ("Fatima Secret", author.email, "Flagging Person", flagger.email):
        assert leak not in html
    response = client.post(reverse("community:post_moderate", args=[post.pk]),
                           {"action": "remove", "reason": "", "next": "queue"}, follow=True)
    assert "Give a reason" in response.content.decode()
    client.post(reverse("community:post_moderate", args=[post.pk]),
                {"action": "remove", "reason": "Insulting.", "next": "queue"})
    post.refresh_from_db()
    assert post.state == Post.State.REMOVED
    client.force_login(flagger)
    html = page(client, reverse("community:space_log", args=[space.slug]))
    assert "removed a post" in html and "Insulting." in html and "A moderator" in html
    html = page(client, post.thread.get_absolute_url())
    assert "Removed by a moderator" in html and "Something rude" not in html


def test_members_cannot_reach_the_queue(client):
    space = make_space()
    client.force_login(join(space))
    assert client.get(reverse("community:space_queue", args=[space.slug])).status_code == 404


def test_export_is_offered_except_under_the_chatham_house_rule(client):
    open_space = make_space(name="Open", pseudonymous=True)
    closed = make_space(name="Closed", chatham_house=True)
    member = join(open_space)
    join(closed, member)
    one = post_in(open_space, member, body="Open words").thread
    two = post_in(closed, member, body="Closed words").thread
    client.force_login(member)
    response = client.get(reverse("community:thread_export", args=[open_space.slug, one.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "Open words" in body
    assert response["Content-Disposition"].startswith("attachment")
    assert SpaceMembership.objects.get(space=open_space, user=member).pseudonym in body
    assert "Download the thread" in page(client, one.get_absolute_url())
    assert client.get(reverse("community:thread_export",
                              args=[closed.slug, two.pk])).status_code == 404
    html = page(client, two.get_absolute_url())
    assert "Download the thread" not in html and "Quote in another space" not in html
    assert "Chatham House rule" in html


def test_quote_in_another_space(client):
    first, second = make_space(name="First"), make_space(name="Second")
    member = join(first)
    join(second, member)
    post = post_in(first, member, body="Worth repeating")
    client.force_login(member)
    html = page(client, reverse("community:post_quote", args=[post.pk]))
    assert "Second" in html
    new_url = reverse("community:thread_new", args=[second.slug])
    assert "Worth repeating" in page(client, new_url, quote=post.pk)
    client.post(new_url, {"title": "Quoted", "body": "I agree", "quote": post.pk})
    assert "> Worth repeating" in Thread.objects.get(title="Quoted").posts.get().body_markdown


def test_notifications_page_lists_and_marks_read(client):
    space = make_space()
    starter = join(space)
    post = post_in(space, starter, title="Buses")
    spaces.post_create(actor=join(space, profile__display_name="Rhys Jones"),
                       thread=post.thread, body="Agreed")
    client.force_login(starter)
    html = page(client, reverse("community:notifications"))
    assert "Rhys Jones" in html and "replied in" in html and "New:" in html
    assert "1 new" in page(client, reverse("community:space_list"))
    client.post(reverse("community:notifications"))
    assert not Notification.objects.filter(user=starter, read_at=None).exists()


def test_reveal_page_for_staff_only_with_a_reason(client):
    space = make_space(pseudonymous=True)
    author = join(space, profile__display_name="Kofi Mensah")
    post = post_in(space, author)
    url = reverse("community:post_reveal", args=[post.pk])
    client.force_login(moderator_of(space) if not moderator_of(space).is_staff
                       else join(space))
    assert client.get(url).status_code == 404
    client.force_login(staff_user())
    html = page(client, url)
    assert "Kofi Mensah" not in html
    response = client.post(url, {"reason": "short"})
    assert response.status_code == 400 and "Kofi Mensah" not in response.content.decode()
    response = client.post(url, {"reason": "A credible threat against a member."})
    html = response.content.decode()
    assert "Kofi Mensah" in html and author.email in html
    assert IdentityReveal.objects.count() == 1


def test_members_page_invites_and_hides_names_in_pseudonymous_spaces(client):
    space = make_space(pseudonymous=True, visibility=Space.Visibility.INVITATION)
    member = join(space, profile__display_name="Amira Noor")
    client.force_login(moderator_of(space))
    url = reverse("community:space_members", args=[space.slug])
    html = page(client, url)
    assert SpaceMembership.objects.get(user=member, space=space).pseudonym in html
    assert "Amira Noor" not in html
    response = client.post(url, {"emails": "nobody@example.org"})
    assert response.status_code == 400 and "nobody@example.org" in response.content.decode()
    newcomer = UserFactory(profile__display_name="Invited Person")
    client.post(url, {"emails": newcomer.email.upper()})
    html = page(client, url)
    assert "1 invitation not yet accepted" in html and "Invited Person" not in html
    membership = SpaceMembership.objects.get(user=member, space=space)
    client.post(reverse("community:space_member_change", args=[space.slug, membership.pk]),
                {"action": "moderator"})
    membership.refresh_from_db()
    assert membership.role == SpaceMembership.Role.MODERATOR


def test_create_and_edit_a_space_through_the_pages(client):
    staff = staff_user()
    client.force_login(staff)
    url = reverse("community:space_new")
    response = client.post(url, {"name": "Youth voices", "visibility": "open",
                                 "flag_threshold": 3})
    assert response.status_code == 400 and 'value="Youth voices"' in response.content.decode()
    response = client.post(url, {"name": "Youth voices", "visibility": "invitation",
                                 "ground_rules": "Listen first.", "pseudonymous": "on",
                                 "flag_threshold": 3})
    space = Space.objects.get(name="Youth voices")
    assert response.status_code == 302 and space.pseudonymous
    post_in(space, staff)
    response = client.post(reverse("community:space_edit", args=[space.slug]), {
        "name": "Youth voices", "visibility": "invitation", "ground_rules": "Listen first.",
        "flag_threshold": 3})
    assert response.status_code == 400 and "cannot change now" in response.content.decode()
    assert client.get(reverse("community:space_new")).status_code == 200
    client.force_login(UserFactory())
    assert client.get(reverse("community:space_new")).status_code in (403, 404)


def test_demo_spaces_load(client):
    from hub.community import demo
    from hub.members import demo as members_demo

    members_demo.load()
    demo.load_spaces()
    assert demo.load_spaces() == 2
    hard = Space.objects.get(name=demo.HARD_SPACE)
    assert hard.pseudonymous and hard.chatham_house and not hard.is_open
    assert Post.objects.filter(thread__space=hard, state=Post.State.HIDDEN).count() == 1
    call_command("check")
