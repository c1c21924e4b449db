"""Discussion spaces' access rules as a matrix, asked through every surface, and the promise
that a pseudonymous author cannot be linked to the person by anyone else.

Twelve actors × two spaces (one open to all members, one by invitation only). The expected
answers are written out below from the policy's comment, in plain Python, then compared with
the predicates, their queryset twins, the list, search, space, thread and log pages, the
moderation queue and notifications. A space someone may not see answers exactly like a
missing one (404).
"""

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.test import Client
from django.urls import reverse

from hub import policy
from hub.community import spaces
from hub.community.models import Notification, Post, Space, SpaceMembership, Thread
from hub.community.tests.test_spaces_services import join, make_space, post_in
from hub.core.models import OutgoingEmail
from hub.members import personal_data
from hub.members.models import User
from hub.members.tests.factories import UserFactory, enrol_mfa

pytestmark = pytest.mark.django_db

ACTORS = ["visitor", "applicant", "deactivated", "member", "open_member", "invited",
          "closed_member", "former", "space_moderator", "hub_moderator", "staff",
          "staff_no_mfa"]
SIGNED_OUT = {"visitor", "applicant", "deactivated"}
# Who sees the invitation-only space: its members, the invited, its moderator and staff with
# two-step sign-in. Hub moderators moderate open spaces only.
SEES_CLOSED = {"invited", "closed_member", "space_moderator", "staff"}
MODERATES = {"open": {"space_moderator", "hub_moderator", "staff"},
             "closed": {"space_moderator", "staff"}}


def sees(actor: str, kind: str) -> bool:
    if actor in SIGNED_OUT:
        return False
    return kind == "open" or actor in SEES_CLOSED


@pytest.fixture
def world():
    a = {"visitor": None}
    a["applicant"] = UserFactory(standing=User.Standing.APPLICANT)
    a["deactivated"] = UserFactory(is_active=False)
    a["member"] = UserFactory(profile__display_name="Plain Outsider")
    a["space_moderator"] = UserFactory(is_moderator=True)
    enrol_mfa(a["space_moderator"])
    a["hub_moderator"] = UserFactory(is_moderator=True)
    enrol_mfa(a["hub_moderator"])
    a["staff"] = UserFactory(is_staff=True)
    enrol_mfa(a["staff"])
    a["staff_no_mfa"] = UserFactory(is_staff=True)
    open_space = make_space(by=a["space_moderator"], name="Open square")
    closed = make_space(by=a["space_moderator"], name="Closed room",
                        visibility=Space.Visibility.INVITATION)
    a["open_member"] = join(open_space)
    a["invited"] = UserFactory()
    spaces.space_invite(actor=a["space_moderator"], space=closed, users=[a["invited"]])
    a["closed_member"] = join(closed)
    a["former"] = join(closed)
    threads = {
        "open": post_in(open_space, a["open_member"], title="Openthread",
                        body="Zebrawords everyone may read").thread,
        "closed": post_in(closed, a["closed_member"], title="Closedthread",
                          body="Quokkawords @Plain Outsider cannot read").thread,
    }
    # The former member was told of a reply before leaving.
    spaces.post_create(actor=a["space_moderator"], thread=threads["closed"],
                       body="A reply while the former member was here")
    spaces.post_create(actor=a["former"], thread=threads["closed"], body="Me too")
    spaces.post_create(actor=a["closed_member"], thread=threads["closed"],
                       body="Quokkawords again")
    assert Notification.objects.filter(user=a["former"]).exists()
    spaces.space_leave(actor=a["former"], space=closed)
    return {"actors": a, "spaces": {"open": open_space, "closed": closed}, "threads": threads}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _shape(response, path: str) -> tuple:
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, body.replace(path, "PATH")


def test_policy_predicates_and_queryset_twins_agree_with_the_table(world):
    wrong = []
    for actor in ACTORS:
        user = world["actors"][actor] or AnonymousUser()
        listed = set(policy.visible_spaces(user, Space.objects.all()).values_list("name",
                                                                                   flat=True))
        threads = set(policy.visible_threads(user, Thread.objects.all()).values_list(
            "title", flat=True))
        moderated = set(policy.moderated_spaces(user, Space.objects.all()).values_list(
            "name", flat=True))
        for kind, space in world["spaces"].items():
            policy.forget_space_memberships(user)
            thread = world["threads"][kind]
            got = {"view": policy.can_view_space(user, space), "list": space.name in listed,
                   "thread": policy.can_view_thread(user, thread),
                   "threads": thread.title in threads,
                   "moderate": policy.can_moderate_space(user, space),
                   "moderated": space.name in moderated}
            want = {"view": sees(actor, kind), "list": sees(actor, kind),
                    "thread": sees(actor, kind), "threads": sees(actor, kind),
                    "moderate": actor in MODERATES[kind], "moderated": actor in MODERATES[kind]}
            if got != want:
                wrong.append(f"{actor} × {kind}: got {got}, want {want}")
    assert not wrong, "\n".join(wrong)


def test_pages_search_and_notifications_answer_as_the_table_says(world):
    """List, search, space, thread and log pages, the queue and notifications: each actor
    gets what the table says; a hidden space is a 404 exactly like a missing one."""
    wrong, checked = [], 0
    for actor in ACTORS:
        user = world["actors"][actor]
        client = client_for(user)
        listing = client.get(reverse("community:space_list"))
        search = client.get(reverse("community:space_list"), {"q": "words"})
        notes = client.get(reverse("community:notifications"))
        for kind, space in world["spaces"].items():
            thread = world["threads"][kind]
            expected = sees(actor, kind)
            pages = {
                "detail": space.get_absolute_url(), "thread": thread.get_absolute_url(),
                "log": reverse("community:space_log", args=[space.slug]),
                "join": reverse("community:space_join", args=[space.slug]),
            }
            for name, url in pages.items():
                status = client.get(url).status_code
                checked += 1
                if actor in SIGNED_OUT:
                    good = status in (302, 403, 404)
                elif name == "join":
                    good = status in (200, 302) if expected else status == 404
                else:
                    good = status == (200 if expected else 404)
                if not good:
                    wrong.append(f"{actor} × {kind} {name}: {status}")
            queue = client.get(reverse("community:space_queue", args=[space.slug])).status_code
            if (queue == 200) != (actor in MODERATES[kind]):
                wrong.append(f"{actor} × {kind} queue: {queue}")
            if actor in SIGNED_OUT:
                continue
            for name, response, needle in (("list", listing, space.name),
                                           ("search", search, thread.title),
                                           ("notifications", notes, space.name)):
                shown = needle in response.content.decode()
                if shown and not expected:
                    wrong.append(f"{actor} × {kind} {name}: leaked")
                if name in ("list", "search") and expected and not shown:
                    wrong.append(f"{actor} × {kind} {name}: missing")
    print(f"{checked} page requests checked")
    assert not wrong, "\n".join(wrong)


def test_a_hidden_space_answers_exactly_like_a_missing_one(world):
    client = client_for(world["actors"]["member"])
    space, thread = world["spaces"]["closed"], world["threads"]["closed"]
    pairs = [
        (space.get_absolute_url(), "/community/spaces/no-such-space/"),
        (thread.get_absolute_url(), f"/community/spaces/no-such-space/t/{thread.pk}/"),
        (reverse("community:space_log", args=[space.slug]),
         "/community/spaces/no-such-space/log/"),
        (reverse("community:post_flag", args=[thread.posts.first().pk]),
         "/community/spaces/posts/999999/flag/"),
    ]
    for hidden, missing in pairs:
        one, two = client.get(hidden), client.get(missing)
        assert one.status_code == 404
        assert _shape(one, hidden) == _shape(two, missing)


def test_non_members_get_no_notification_from_an_invitation_only_space(world):
    """The outsider was @-mentioned by name in the closed space: nothing reaches them, and
    the former member's old notifications from it are gone from their list."""
    a = world["actors"]
    assert not Notification.objects.filter(user=a["member"]).exists()
    html = client_for(a["former"]).get(reverse("community:notifications")).content.decode()
    assert "Closed room" not in html


# --- Pseudonymous authors cannot be linked ----------------------------------------------------

NAME = "Zora Quince-Blackwood"
EMAIL = "zora.quince@example.org"


@pytest.fixture
def pseudonymous():
    """Zora takes part in two invitation-only pseudonymous spaces (one also under the
    Chatham House rule): her first posts wait and are approved, she mentions and is
    mentioned, replies, is flagged until a post is hidden, and a moderator acts on it."""
    moderator = UserFactory(is_moderator=True, profile__display_name="Mod Erator")
    enrol_mfa(moderator)
    plain = make_space(by=moderator, name="Plain talk", pseudonymous=True, flag_threshold=2,
                       visibility=Space.Visibility.INVITATION)
    chatham = make_space(by=moderator, name="Quiet talk", pseudonymous=True,
                         chatham_house=True, visibility=Space.Visibility.INVITATION)
    zora = UserFactory(email=EMAIL, profile__display_name=NAME,
                       profile__visibility="public")
    others = {key: UserFactory() for key in ("other", "flagger", "second_flagger")}
    for space in (plain, chatham):
        join(space, zora, trusted=False)
        for user in others.values():
            join(space, user)
    first = post_in(plain, zora, title="Trust after the raid", body="I was there that night.")
    spaces.post_moderate(actor=moderator, post=first, action="approve")
    second = spaces.post_create(actor=zora, thread=first.thread, body="And again.")
    spaces.post_moderate(actor=moderator, post=second, action="approve")
    mine = SpaceMembership.objects.get(space=plain, user=zora).pseudonym
    theirs = SpaceMembership.objects.get(space=plain, user=others["other"]).pseudonym
    spaces.post_create(actor=others["other"], thread=first.thread, body=f"@{mine} thank you")
    flagged = spaces.post_create(actor=zora, thread=first.thread,
                                 body=f"@{theirs} you are welcome, vexillology")
    spaces.post_flag(actor=others["flagger"], post=flagged, reason="off_topic")
    spaces.post_flag(actor=others["second_flagger"], post=flagged, reason="spam")
    spaces.post_moderate(actor=moderator, post=flagged, action="restore")
    quiet = post_in(chatham, zora, title="What we cannot say", body="Quietly, vexillology.")
    spaces.post_create(actor=others["other"], thread=quiet.thread, body="Heard.")
    spaces.post_create(actor=zora, thread=quiet.thread, body="Thank you, vexillology.")
    hub_moderator = UserFactory(is_moderator=True)
    enrol_mfa(hub_moderator)
    staff = UserFactory(is_staff=True)
    enrol_mfa(staff)
    viewers = {**others, "moderator": moderator, "hub_moderator": hub_moderator,
               "staff": staff, "outsider": UserFactory()}
    return {"zora": zora, "spaces": [plain, chatham], "viewers": viewers,
            "posts": list(Post.objects.filter(author__user=zora))}


def _urls(space: Space, posts) -> list[str]:
    urls = [reverse("community:space_list"), reverse("community:notifications"),
            reverse("community:space_list") + "?q=vexillology",
            reverse("community:space_list") + "?q=" + NAME.split()[0],
            space.get_absolute_url(), reverse("community:space_log", args=[space.slug]),
            reverse("community:space_queue", args=[space.slug]),
            reverse("community:space_members", args=[space.slug]),
            reverse("community:space_join", args=[space.slug]),
            reverse("community:thread_new", args=[space.slug])]
    for thread in space.threads.all():
        urls += [thread.get_absolute_url(), thread.get_absolute_url() + "?page=last",
                 reverse("community:thread_export", args=[space.slug, thread.pk])]
    for post in posts:
        urls += [reverse("community:post_flag", args=[post.pk]),
                 reverse("community:post_quote", args=[post.pk]),
                 reverse("community:post_reveal", args=[post.pk]),
                 reverse("community:thread_new", args=[space.slug]) + f"?quote={post.pk}",
                 post.thread.get_absolute_url() + f"?quote={post.pk}"]
    return urls


def test_a_pseudonymous_author_appears_in_no_output_seen_by_anyone_else(pseudonymous):
    """Every page, export, feed, search, notification, mail and personal-data export seen by
    other members, moderators (of the space and of the hub), staff (without a reveal) and an
    outsider: 0 occurrences of her email address, account name, display name or profile
    address."""
    zora = pseudonymous["zora"]
    needles = [EMAIL, EMAIL.split("@")[0], NAME, NAME.split()[0] + " Quince",
               f'"/members/{zora.pk}/', f"{settings.SITE_URL}/members/{zora.pk}/"]
    outputs, statuses = [], {}
    for key, viewer in pseudonymous["viewers"].items():
        client = client_for(viewer)
        for space in pseudonymous["spaces"]:
            for url in _urls(space, [p for p in pseudonymous["posts"]
                                     if p.thread.space_id == space.pk]):
                response = client.get(url)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                body = b"".join(response.streaming_content) if response.streaming \
                    else response.content
                outputs.append((f"{key} GET {url}", body.decode()))
        outputs.append((f"{key} personal data",
                        json.dumps(personal_data.export(viewer), default=str)))
    for email in OutgoingEmail.objects.exclude(to=[EMAIL]):
        outputs.append((f"queued mail to {email.to}", email.subject + email.body))
    for message in mail.outbox:
        if message.to != [EMAIL]:
            outputs.append((f"mail to {message.to}", message.subject + message.body))
    hits = [(where, needle) for where, text in outputs for needle in needles
            if needle.lower() in text.lower()]
    print(f"{len(outputs)} outputs searched ({statuses}); {len(hits)} occurrences")
    assert statuses.get(200, 0) > 50
    assert not hits, hits[:10]
    # The pages do show her posts, under her pseudonym.
    pseudonym = SpaceMembership.objects.get(space=pseudonymous["spaces"][0], user=zora).pseudonym
    other = client_for(pseudonymous["viewers"]["other"])
    assert pseudonym in other.get(pseudonymous["posts"][0].thread.get_absolute_url()) \
        .content.decode()


def test_the_author_still_sees_her_own_pseudonym_and_staff_learn_her_name_only_by_reveal(
        pseudonymous):
    zora, staff = pseudonymous["zora"], pseudonymous["viewers"]["staff"]
    post = pseudonymous["posts"][0]
    client = client_for(staff)
    url = reverse("community:post_reveal", args=[post.pk])
    assert NAME not in client.get(url).content.decode()
    html = client.post(url, {"reason": "A credible threat was reported."}).content.decode()
    assert NAME in html and zora.email in html
