"""The ideas board's access rules as a matrix, asked through every surface.

Every actor of the shared ``world`` (plus a moderator who has not enrolled in two-step sign-in)
× an idea in each status × every page and action. The expected answers are written out below
from the policy's comment, in plain Python, then compared with the predicates, their queryset
twin, the list, the detail pages (a hidden idea answers exactly like a missing one), the forms
and every action, checking in the database that a refused action changed nothing.
"""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from conftest import ACTORS as WORLD_ACTORS
from hub import policy
from hub.community import ideas
from hub.community.models import Idea, IdeaComment, IdeaSupport
from hub.members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACTORS = [*WORLD_ACTORS, "moderator_no_mfa"]
MEMBERS = {"member", "partner_member", "editor_a", "approver_a", "admin_a", "admin_a_no_mfa",
           "admin_b", "moderator", "moderator_no_mfa", "staff", "staff_no_mfa"}
# Signed out for the site: a visitor, and a deactivated account (its session is refused).
SIGNED_OUT = {"visitor", "deactivated"}
DECIDES = {"staff"}
REMOVES = {"moderator", "staff"}
AUTHOR = "member"
STATUSES = [Idea.Status.NEW, Idea.Status.DISCUSSION, Idea.Status.ADOPTED, Idea.Status.DECLINED]
OPEN = {Idea.Status.NEW, Idea.Status.DISCUSSION}


def title(status: str) -> str:
    return f"Idea {status} qz"


@pytest.fixture
def board(world):
    a = world.actors
    a["moderator_no_mfa"] = UserFactory(is_moderator=True, profile__display_name="Mod Unenrolled")
    made = {}
    for status in STATUSES:
        idea = ideas.idea_create(actor=a[AUTHOR], title=title(status),
                                 body_markdown=f"Body of {status}")
        if status != Idea.Status.NEW:
            ideas.idea_status_set(actor=a["staff"], idea=idea, status=status,
                                  reason="Because")
        made[status] = Idea.objects.get(pk=idea.pk)
    comment = ideas.idea_comment_create(actor=a["partner_member"], idea=made["new"],
                                        body_markdown="A comment")
    return {"actors": a, "ideas": made, "comment": comment}


def user_of(board, actor):
    return board["actors"][actor] or AnonymousUser()


def client_for(board, actor) -> Client:
    client = Client()
    if board["actors"][actor] is not None:
        client.force_login(board["actors"][actor])
    return client


def refused(status: int, actor: str) -> bool:
    """What a refusal looks like: sign in for the signed-out, a missing page for the rest."""
    return status == (302 if actor in SIGNED_OUT else 404)


def test_predicates_and_queryset_twin_agree_with_the_matrix(board):
    wrong = []
    for actor in ACTORS:
        user = user_of(board, actor)
        listed = set(policy.visible_ideas(user, Idea.objects.all()).values_list("pk",
                                                                                flat=True))
        for status, idea in board["ideas"].items():
            got = (policy.can_view_idea(user, idea), idea.pk in listed,
                   policy.can_support_idea(user, idea), policy.can_comment_on_idea(user, idea),
                   policy.can_edit_idea(user, idea), policy.can_decide_idea(user, idea))
            want = (actor in MEMBERS, actor in MEMBERS, actor in MEMBERS and status in OPEN,
                    actor in MEMBERS, actor == AUTHOR and status == "new", actor in DECIDES)
            if got != want:
                wrong.append(f"{actor} × {status}: {got} != {want}")
        comment = board["comment"]
        got = (policy.can_delete_idea_comment(user, comment),
               policy.can_remove_idea_comment(user, comment))
        want = (actor == "partner_member", actor in REMOVES)
        if got != want:
            wrong.append(f"{actor} × comment: {got} != {want}")
        assert policy.can_submit_idea(user) == (actor in MEMBERS), actor
    assert not wrong, "\n".join(wrong)


def test_list_and_detail_pages_answer_as_the_matrix_says(board):
    """Members get the list with every idea and each page; the others are asked to sign in
    (signed out) or get a missing page (applicant)."""
    wrong = []
    for actor in ACTORS:
        client = client_for(board, actor)
        listing = client.get(reverse("community:idea_list"))
        if actor in MEMBERS:
            shown = {i.title for i in listing.context["page"].object_list}
            if listing.status_code != 200 or shown != {title(s) for s in STATUSES}:
                wrong.append(f"{actor} list: {listing.status_code} {sorted(shown)}")
        elif not refused(listing.status_code, actor) or b"qz" in listing.content:
            wrong.append(f"{actor} list: {listing.status_code}")
        for status, idea in board["ideas"].items():
            page = client.get(idea.get_absolute_url())
            good = page.status_code == 200 if actor in MEMBERS else refused(
                page.status_code, actor)
            if not good:
                wrong.append(f"{actor} × {status} detail: {page.status_code}")
        new_page = client.get(reverse("community:idea_new")).status_code
        if (new_page == 200) != (actor in MEMBERS) or (
                actor not in MEMBERS and not refused(new_page, actor)):
            wrong.append(f"{actor} new: {new_page}")
    assert not wrong, "\n".join(wrong)


def test_forms_for_editing_deciding_and_removing_answer_as_the_matrix_says(board):
    wrong = []
    comment = board["comment"]
    for actor in ACTORS:
        client = client_for(board, actor)
        for status, idea in board["ideas"].items():
            pages = {
                "edit": (reverse("community:idea_edit", args=[idea.pk]),
                         actor == AUTHOR and status == "new"),
                "status": (reverse("community:idea_status", args=[idea.pk]),
                           actor in DECIDES),
            }
            for name, (url, allowed) in pages.items():
                got = client.get(url).status_code
                if (got == 200) != allowed or (not allowed and not refused(got, actor)):
                    wrong.append(f"{actor} × {status} {name}: {got}")
        got = client.get(reverse("community:idea_comment_remove", args=[comment.pk]))
        allowed = actor in REMOVES
        if (got.status_code == 200) != allowed or (
                not allowed and not refused(got.status_code, actor)):
            wrong.append(f"{actor} remove page: {got.status_code}")
    assert not wrong, "\n".join(wrong)


def test_actions_change_only_what_the_matrix_allows(board):
    """Support, comment, decide, remove and delete, posted by every actor: each either does
    its work or is refused with nothing changed."""
    wrong = []
    a = board["actors"]
    for actor in ACTORS:
        client = client_for(board, actor)
        user = a[actor]
        for status, idea in board["ideas"].items():
            client.post(reverse("community:idea_support", args=[idea.pk]))
            supports = IdeaSupport.objects.filter(idea=idea, user=user).exists() if user else False
            if supports != (actor in MEMBERS and status in OPEN):
                wrong.append(f"{actor} × {status} support: {supports}")
            response = client.post(reverse("community:idea_comment", args=[idea.pk]),
                                   {"body_markdown": f"From {actor}"})
            commented = IdeaComment.objects.filter(idea=idea,
                                                   body_markdown=f"From {actor}").exists()
            if commented != (actor in MEMBERS) or (
                    not commented and not refused(response.status_code, actor)):
                wrong.append(f"{actor} × {status} comment: {response.status_code}")
        target = board["ideas"]["new"]
        response = client.post(reverse("community:idea_status", args=[target.pk]),
                               {"status": "discussion", "status_reason": f"By {actor}"})
        decided = Idea.objects.filter(pk=target.pk, status_reason=f"By {actor}").exists()
        if decided != (actor in DECIDES):
            wrong.append(f"{actor} decide: {response.status_code}")
        if decided:  # put it back for the next actor
            Idea.objects.filter(pk=target.pk).update(status="new", status_reason="")
        mine = ideas.idea_comment_create(actor=a["partner_member"], idea=target,
                                         body_markdown="Another")
        client.post(reverse("community:idea_comment_remove", args=[mine.pk]),
                    {"reason": "Off topic"})
        removed = IdeaComment.objects.get(pk=mine.pk).removed_at is not None
        if removed != (actor in REMOVES):
            wrong.append(f"{actor} remove: {removed}")
        client.post(reverse("community:idea_comment_delete", args=[mine.pk]))
        deleted = not IdeaComment.objects.filter(pk=mine.pk).exists()
        if deleted != (actor == "partner_member" and not removed):
            wrong.append(f"{actor} delete: {deleted}")
    assert not wrong, "\n".join(wrong)


def _shape(response, path: str) -> tuple:
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, body.replace(path, "PATH")


def test_an_idea_answers_an_applicant_exactly_like_a_missing_one(board):
    client = client_for(board, "applicant")
    idea = board["ideas"]["adopted"]
    pairs = [(idea.get_absolute_url(), reverse("community:idea_detail", args=[999999])),
             (reverse("community:idea_status", args=[idea.pk]),
              reverse("community:idea_status", args=[999999]))]
    for hidden, missing in pairs:
        one, two = client.get(hidden), client.get(missing)
        assert one.status_code == 404
        assert _shape(one, hidden) == _shape(two, missing)
