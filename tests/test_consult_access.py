"""Consultations' and concerns' access rules as a matrix, asked through every surface.

Every actor of the shared ``world`` × consultations of every audience and state, and concerns
public, private and removed. The expected answers are written out below from the policy's
comment, then compared with the predicates, their queryset twins, the pages (a forbidden
object answers exactly like a missing one: 404), the lists, the edit pages and the CSV export.
A private concern's author is then searched for, by name and email, in every output anyone
else can reach: 0 occurrences outside the author and the organisation's editors and admins.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import ACTORS
from hub import policy
from hub.community import consult
from hub.community.consult_forms import QuestionSpec
from hub.community.models import Concern, Consultation
from hub.core.models import AuditEvent, OutgoingEmail
from hub.members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVERYONE = set(ACTORS)
MEMBERS = {"member", "partner_member", "editor_a", "approver_a", "admin_a", "admin_a_no_mfa",
           "admin_b", "moderator", "staff", "staff_no_mfa"}
STAFF = {"staff"}
IN_A = {"partner_member", "editor_a", "approver_a", "admin_a", "admin_a_no_mfa"}
IN_B = {"admin_b"}
EDITS_A = {"editor_a", "admin_a", "admin_a_no_mfa"}
EDITS_B = {"admin_b"}
NOBODY: set = set()

# key: (who sees it, who manages it, who may respond now)
CONSULTATIONS = {
    "c_public": (EVERYONE, EDITS_B | STAFF, MEMBERS),
    "c_members": (MEMBERS, EDITS_B | STAFF, MEMBERS),
    "c_named_a": (IN_A | IN_B | STAFF, EDITS_B | STAFF, IN_A | IN_B),
    "c_named_c": (IN_B | STAFF, EDITS_B | STAFF, IN_B),
    "c_draft": (EDITS_B | STAFF, EDITS_B | STAFF, NOBODY),
    "c_gone": (EDITS_B | STAFF, EDITS_B | STAFF, NOBODY),
    "c_closed": (EVERYONE, EDITS_B | STAFF, NOBODY),
    "c_closed_named_a": (IN_A | IN_B | STAFF, EDITS_B | STAFF, NOBODY),
    "a_members": (MEMBERS, EDITS_A | STAFF, MEMBERS),
}
EDITABLE = {"c_public", "c_members", "c_named_a", "c_named_c", "c_draft", "a_members"}
CLOSED = {"c_closed", "c_closed_named_a"}
LISTED = {"c_public", "c_members", "c_named_a", "c_named_c", "c_closed", "c_closed_named_a",
          "a_members"}

# key: (who sees it, who answers for the organisation, who may remove it)
CONCERNS = {
    "k_public": (EVERYONE, EDITS_A, {"moderator", "staff"}),
    "k_public_named": (EVERYONE, EDITS_A, {"moderator", "staff"}),
    "k_private": ({"member"} | EDITS_A, EDITS_A, NOBODY),
    "k_private_named": ({"member"} | EDITS_A, EDITS_A, NOBODY),
    "k_removed": ({"member"} | EDITS_A, EDITS_A, NOBODY),
    "k_to_b": (EVERYONE, EDITS_B, {"moderator", "staff"}),
}


def title(key: str) -> str:
    return f"Title {key.replace('_', ' ')} zq"


def answer_text(key: str) -> str:
    return f"Answer for {key} zq"


QUESTIONS = [QuestionSpec("What do you think?", True), QuestionSpec("Anything else?")]


@pytest.fixture
def consultations(world):
    a = world.actors
    made = {}
    later = timezone.now() + timedelta(days=10)

    def one(key, by, org, audience, named=(), open_now=True):
        made[key] = consult.consultation_create(
            actor=a[by], organisation=org, title=title(key), summary=f"About {key}",
            body_markdown=f"Body of {key}", audience=audience, audience_organisations=named,
            closes_at=later, questions=QUESTIONS, open_now=open_now)

    one("c_public", "admin_b", world.org_b, "public")
    one("c_members", "admin_b", world.org_b, "members")
    one("c_named_a", "admin_b", world.org_b, "organisations", [world.org_a])
    one("c_named_c", "admin_b", world.org_b, "organisations", [world.org_c])
    one("c_draft", "admin_b", world.org_b, "public", open_now=False)
    one("c_gone", "admin_b", world.org_b, "public")
    one("c_closed", "admin_b", world.org_b, "public")
    one("c_closed_named_a", "admin_b", world.org_b, "organisations", [world.org_a])
    one("a_members", "editor_a", world.org_a, "members")
    # Responses before closing: the partner member answers without a name.
    for key in ("c_named_a", "c_closed", "c_closed_named_a", "c_public"):
        q = made[key].questions.first()
        consult.response_save(actor=a["partner_member"], consultation=made[key],
                              answers={q.pk: answer_text(key)}, show_name=False)
    consult.consultation_withdraw(actor=a["admin_b"], consultation=made["c_gone"])
    Consultation.objects.filter(pk__in=[made["c_closed"].pk, made["c_closed_named_a"].pk]) \
        .update(closes_at=timezone.now() - timedelta(hours=1))
    return {key: Consultation.objects.get(pk=c.pk) for key, c in made.items()}


@pytest.fixture
def concerns(world):
    a = world.actors
    made = {}

    def one(key, org, visibility, show_name=False):
        made[key] = consult.concern_raise(
            actor=a["member"], organisation=org, title=title(key),
            body_markdown=f"Body of {key}", visibility=visibility, show_name=show_name)

    one("k_public", world.org_a, "public")
    one("k_public_named", world.org_a, "public", True)
    one("k_private", world.org_a, "private")
    one("k_private_named", world.org_a, "private", True)
    one("k_removed", world.org_a, "public")
    one("k_to_b", world.org_b, "public")
    consult.concern_remove(actor=a["moderator"], concern=made["k_removed"], reason="Off topic")
    return {key: Concern.objects.get(pk=c.pk) for key, c in made.items()}


def user_of(world, actor):
    return world.actors[actor] or AnonymousUser()


def client_for(world, actor) -> Client:
    client = Client()
    if world.actors[actor] is not None:
        client.force_login(world.actors[actor])
    return client


def signed_in(actor) -> bool:
    return actor in MEMBERS or actor == "applicant"


def test_consultation_predicates_and_querysets_agree_with_the_matrix(world, consultations):
    """can_view/visible, can_manage/managed and can_respond give the written-out answers."""
    wrong = []
    for actor in ACTORS:
        user = user_of(world, actor)
        seen = set(policy.visible_consultations(user, Consultation.objects.all())
                   .values_list("pk", flat=True))
        managed = set(policy.managed_consultations(user, Consultation.objects.all())
                      .values_list("pk", flat=True))
        for key, (sees, manages, responds) in CONSULTATIONS.items():
            c = consultations[key]
            answers = (policy.can_view_consultation(user, c), c.pk in seen,
                       policy.can_manage_consultation(user, c), c.pk in managed,
                       policy.can_respond_consultation(user, c),
                       policy.can_view_consultation_responses(user, c),
                       policy.can_export_consultation(user, c))
            expected = (actor in sees, actor in sees, actor in manages, actor in manages,
                        actor in responds, actor in sees, actor in manages)
            if answers != expected:
                wrong.append(f"{actor} × {key}: {answers} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_consultation_pages_edit_and_export_answer_404_to_those_who_may_not(world,
                                                                           consultations):
    """The page (and its answers) for its audience, 404 for everyone else; edit, outcome and
    CSV export for those who manage it, 404 for other members, sign-in for visitors."""
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        for key, (sees, manages, _) in CONSULTATIONS.items():
            c = consultations[key]
            page = client.get(c.get_absolute_url())
            if page.status_code != (200 if actor in sees else 404):
                wrong.append(f"{actor} × {key} page: {page.status_code}")
            if page.status_code == 200 and key in ("c_named_a", "c_public", "c_closed") and (
                    answer_text(key) not in page.content.decode()):
                wrong.append(f"{actor} × {key}: answers not shown")
            for name, works in (("consultation_export", True),
                                ("consultation_withdraw", True),
                                ("consultation_edit", key in EDITABLE),
                                ("consultation_outcome", key in CLOSED)):
                status = client.get(reverse(f"community:{name}", args=[c.slug])).status_code
                # Managers get the page, or are sent back to the consultation with a message
                # when it is not for this state; other members 404; visitors sign in.
                expected = ((200 if works else 302) if actor in manages
                            else 404 if signed_in(actor) else 302)
                if status != expected:
                    wrong.append(f"{actor} × {key} {name}: {status} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_respond_page_takes_answers_only_from_the_audience_while_open(world, consultations):
    """A member of the audience saves a response; anyone else gets 404 (or a sign-in), and a
    closed consultation refuses with a message and saves nothing."""
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        for key, (sees, _, responds) in CONSULTATIONS.items():
            c = consultations[key]
            q = c.questions.first()
            before = c.responses.count()
            response = client.post(reverse("community:consultation_respond", args=[c.slug]),
                                   {f"q{q.pk}": f"From {actor}"})
            if not signed_in(actor):
                expected = 302
            elif actor not in sees:
                expected = 404
            else:
                expected = 302 if actor in responds else 400
            grew = c.responses.count() - before
            if response.status_code != expected or grew not in (0, 1) or (
                    grew and actor not in responds):
                wrong.append(f"{actor} × {key}: {response.status_code} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_consultation_list_shows_exactly_what_each_actor_may_see(world, consultations):
    """The list holds opened consultations of the actor's audiences (open and closed), never
    drafts or withdrawn ones; managers see their drafts and withdrawn ones apart."""
    wrong = []
    for actor in ACTORS:
        response = client_for(world, actor).get(reverse("community:consultation_list"))
        shown = {c.title for c in response.context["page"].object_list}
        expected = {title(k) for k, (sees, _, _) in CONSULTATIONS.items()
                    if k in LISTED and actor in sees}
        if shown != expected:
            wrong.append(f"{actor}: {sorted(shown ^ expected)}")
        managed = {c.title for c in response.context["managed"]}
        expected_managed = {title(k) for k in ("c_draft", "c_gone")
                            if actor in EDITS_B | STAFF}
        if managed != expected_managed:
            wrong.append(f"{actor} managed: {sorted(managed ^ expected_managed)}")
    assert not wrong, "\n".join(wrong)


def test_concern_predicates_and_querysets_agree_with_the_matrix(world, concerns):
    wrong = []
    for actor in ACTORS:
        user = user_of(world, actor)
        seen = set(policy.visible_concerns(user, Concern.objects.all())
                   .values_list("pk", flat=True))
        for key, (sees, answers, removes) in CONCERNS.items():
            k = concerns[key]
            got = (policy.can_view_concern(user, k), k.pk in seen,
                   policy.can_answer_concern(user, k), policy.can_remove_concern(user, k))
            expected = (actor in sees, actor in sees, actor in answers, actor in removes)
            if got != expected:
                wrong.append(f"{actor} × {key}: {got} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_concern_pages_and_lists_follow_the_matrix(world, concerns):
    """The page is 200 for those who see it and 404 otherwise; the list, unfiltered and
    filtered by organisation, holds exactly the concerns the actor sees."""
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        for key, (sees, _, removes) in CONCERNS.items():
            status = client.get(concerns[key].get_absolute_url()).status_code
            if status != (200 if actor in sees else 404):
                wrong.append(f"{actor} × {key} page: {status}")
            remove = client.get(reverse("community:concern_remove",
                                        args=[concerns[key].pk])).status_code
            expected = 200 if actor in removes else 404 if signed_in(actor) else 302
            if remove != expected:
                wrong.append(f"{actor} × {key} remove: {remove} != {expected}")
        for params, keys in (({}, CONCERNS), ({"organisation": "alpha"},
                                              [k for k in CONCERNS if k != "k_to_b"])):
            response = client.get(reverse("community:concern_list"), params)
            shown = {c.title for c in response.context["page"].object_list}
            expected = {title(k) for k in keys if actor in CONCERNS[k][0]}
            if shown != expected:
                wrong.append(f"{actor} list {params}: {sorted(shown ^ expected)}")
    assert not wrong, "\n".join(wrong)


def test_reply_by_another_organisations_editor_is_refused_and_kept(world, concerns):
    """Admin of B answering A's public concern: a clear message, the text kept, nothing saved;
    A's editor answers and the concern is marked answered."""
    k = concerns["k_public"]
    client = client_for(world, "admin_b")
    response = client.post(reverse("community:concern_reply", args=[k.pk]),
                           {"body_markdown": "Typed by B, kept"})
    assert response.status_code == 400
    assert "Typed by B, kept" in response.content.decode()
    assert "Only the addressed organisation" in response.content.decode()
    assert not k.replies.exists()
    client_for(world, "editor_a").post(reverse("community:concern_reply", args=[k.pk]),
                                       {"body_markdown": "Our answer"})
    k.refresh_from_db()
    assert k.status == "answered" and k.answered_at is not None


PRIVATE_NAME = "Quill Hiddenworth"
PRIVATE_EMAIL = "quill.hiddenworth@example.org"


def test_private_concern_author_appears_nowhere_outside_author_and_organisation(
        world, concerns, consultations):
    """A private concern (name shown to the organisation, and not) is searched for its author's
    name and email in every page, list, record, email and audit entry others can reach."""
    author = UserFactory(email=PRIVATE_EMAIL, profile__display_name=PRIVATE_NAME)
    private = [consult.concern_raise(actor=author, organisation=world.org_a,
                                     title=f"Private {n}", body_markdown="Worry",
                                     visibility="private", show_name=bool(n))
               for n in range(2)]
    for concern in private:
        consult.concern_reply(actor=world.actors["editor_a"], concern=concern,
                              body_markdown="We hear you")
        consult.concern_reply(actor=author, concern=concern, body_markdown="Follow-up")
    consult.concern_close(actor=author, concern=private[0])
    pages = [reverse("community:concern_list"),
             reverse("community:concern_list") + "?organisation=alpha",
             reverse("community:concern_list") + "?status=answered",
             reverse("members:organisation_detail", args=["alpha"]),
             reverse("community:consultation_list")]
    pages += [concern.get_absolute_url() for concern in private]
    found = []
    for actor in ACTORS:
        if actor in EDITS_A:
            continue
        client = client_for(world, actor)
        for page in pages:
            text = client.get(page).content.decode().lower()
            for needle in (PRIVATE_NAME.lower(), PRIVATE_EMAIL, "hiddenworth"):
                if needle in text:
                    found.append(f"{actor} {page}: {needle}")
    mails = [email for email in OutgoingEmail.objects.all() if PRIVATE_EMAIL not in email.to]
    assert mails  # the organisation's editors were told
    for email in mails:
        if "hiddenworth" in (email.subject + email.body + str(email.to)).lower():
            found.append(f"email to {email.to}")
    for event in AuditEvent.objects.filter(target_type="community.concern"):
        if event.actor_id == author.pk or "hiddenworth" in str(event.context).lower():
            found.append(f"audit {event.action}")
    assert found == []


def test_response_names_follow_show_name_for_everyone_the_organisation_included(
        world, consultations):
    """Whoever sees the consultation, its editors and staff included, sees an unnamed
    respondent's sector but never their name; a named respondent's name shows."""
    c = consultations["c_members"]
    q = c.questions.first()
    consult.response_save(actor=world.actors["member"], consultation=c,
                          answers={q.pk: "Named answer"}, show_name=True)
    consult.response_save(actor=world.actors["approver_a"], consultation=c,
                          answers={q.pk: "Unnamed answer"}, show_name=False)
    for actor in MEMBERS - {"approver_a"}:
        client = client_for(world, actor)
        page = client.get(c.get_absolute_url()).content.decode()
        assert "Named answer" in page and "Unnamed answer" in page
        assert "Plain Member" in page, actor
        assert "Approver A" not in page, actor
        if actor in EDITS_B | STAFF:
            csv = client.get(reverse("community:consultation_export", args=[c.slug]))
            body = csv.content.decode()
            assert "Plain Member" in body and "Approver A" not in body
            assert world.actors["approver_a"].email not in body
