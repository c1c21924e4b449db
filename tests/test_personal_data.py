"""A person's data: every model that points at a person is covered by export and erasure (or
exempt with a reason); an export holds all of it; erasure leaves nothing that leads back to
them, keeps what others rely on, and is reached only after the password is asked again."""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub.assessment import services as assessment_services
from hub.assessment.models import (
    Answer,
    ContextEvent,
    Initiative,
    Perspective,
    Programme,
    Response,
    ResponseLink,
    Round,
    RoundInvitation,
)
from hub.community import news
from hub.community.models import (
    CalendarFeed,
    Concern,
    ConcernReply,
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    Flag,
    FundingFollow,
    FundingOpportunity,
    Idea,
    IdeaComment,
    IdeaSupport,
    IdentityReveal,
    ModerationAction,
    Notification,
    Post,
    Registration,
    Space,
    SpaceInvitation,
    SpaceMembership,
    Story,
    Subscription,
    Thread,
)
from hub.community.tests.factories import EventFactory
from hub.core.models import AuditEvent, OutgoingEmail
from hub.core.services import audit_record, email_queue
from hub.library.models import AccessRequest, Decision, Grant
from hub.library.tests.factories import ResourceFactory
from hub.members import personal_data
from hub.members.models import Application, Invitation, Membership, Profile, User
from hub.members.personal_data import HOLDINGS, Fate
from hub.members.tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)
from hub.research.models import Code as ResearchCode
from hub.research.models import Coding, Memo, StudyMember
from hub.research.models import Source as ResearchSource
from hub.research.models import Study as ResearchStudy

pytestmark = pytest.mark.django_db

NAME = "Zelda Quillfeather"
EMAIL = "zelda.quillfeather@example.org"
DAY = timedelta(days=1)


# --- Coverage -------------------------------------------------------------------------------

def person_fields() -> set[tuple[str, str]]:
    """Every field, in every model the hub has, that points at a person or holds an email
    address (which is how the hub knows people without an account)."""
    user_model = get_user_model()
    found = set()
    for model in apps.get_models():
        if model is user_model:
            continue
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue  # the reverse side of a relation declared elsewhere
            if field.is_relation and field.related_model is user_model:
                found.add((model._meta.label, field.name))
            elif isinstance(field, models.EmailField):
                found.add((model._meta.label, field.name))
    return found


def test_every_field_that_points_at_a_person_is_covered_or_exempt():
    covered = {(h.model, h.field) for h in HOLDINGS} | set(personal_data.EXEMPT)
    missing = person_fields() - covered
    assert not missing, (
        "These fields point at a person but hub/members/personal_data.py does not say what "
        f"an export includes or what erasure does to them: {sorted(missing)}")
    for key, reason in personal_data.EXEMPT.items():
        assert len(reason) > 20, f"{key} is exempt without a reason"


def test_holdings_name_real_fields_and_say_why():
    for holding in HOLDINGS:
        model = holding.model_class
        model._meta.get_field(holding.field.split("__")[0])
        assert holding.why.endswith("."), holding
        for name in holding.scrub:
            assert isinstance(model._meta.get_field(name), models.TextField | models.CharField)
        for name in holding.export:
            assert "hash" not in name and name not in ("password", "data"), holding


# --- One person with something in every holding ---------------------------------------------

@pytest.fixture
def person():
    """Zelda, who has done at least one of every kind of thing the hub records about people."""
    org = OrganisationFactory(name="Riverside Youth Trust", is_partner=True)
    other_org = OrganisationFactory(name="Harbour Police")
    zelda = UserFactory(email=EMAIL, profile__display_name=NAME, is_staff=True)
    enrol_mfa(zelda)
    Membership.objects.create(user=zelda, organisation=org, role=Membership.Role.ADMIN)
    Application.objects.create(user=zelda, statement=f"I am {NAME} and I run a youth club.")
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    Application.objects.create(user=applicant, statement="Please let me in.",
                               status=Application.Status.APPROVED, decided_by=zelda,
                               decided_at=timezone.now())
    Invitation.objects.create(organisation=other_org, token_hash="a" * 64, used_by=zelda,
                              used_at=timezone.now(), expires_at=timezone.now() + DAY)
    Invitation.objects.create(organisation=org, token_hash="b" * 64, invited_by=zelda,
                              note="for the new caseworker", expires_at=timezone.now() + DAY)
    audit_record(actor=zelda, action="profile.visibility", target=zelda.profile)
    audit_record(actor=applicant, action="membership.role",
                 target=Membership.objects.get(user=zelda))
    LogEntry.objects.create(user=zelda, content_type=ContentType.objects.get_for_model(User),
                            object_id=str(applicant.pk), object_repr="Applicant",
                            action_flag=ADDITION)

    resource = ResourceFactory(contributor=zelda, organisation=org)
    restricted = ResourceFactory(organisation=other_org)
    request = AccessRequest.objects.create(resource=restricted, requester=zelda,
                                           reason=f"{NAME} needs it for the youth club.")
    Decision.objects.create(request=AccessRequest.objects.create(
        resource=resource, requester=applicant, reason="Study"), organisation=org,
        decided_by=zelda, outcome=Decision.Outcome.APPROVE)
    Grant.objects.create(resource=restricted, user=zelda, request=request)
    Grant.objects.create(resource=resource, user=applicant, granted_by=zelda,
                         revoked_by=zelda, revoked_at=timezone.now())

    instrument = assessment_services.current_instrument()
    instrument.published_by = zelda
    instrument.save(update_fields=["published_by"])
    initiative = Initiative.objects.create(
        name="Riverside mentoring", area="Riverside", country="GB", lead_organisation=org,
        kind=Initiative.Kind.CONTACT_UNIT, created_by=zelda)
    initiative.facilitators.add(zelda)
    Programme.objects.create(name="Riverside programme", organisation=org, created_by=zelda)
    ContextEvent.objects.create(initiative=initiative, happened_on=timezone.now().date(),
                                kind=ContextEvent.Kind.POLICY, title="New guidance",
                                added_by=zelda)
    now = timezone.now()
    round_ = Round.objects.create(initiative=initiative, instrument=instrument, title="Spring",
                                  opens_at=now - DAY, closes_at=now + DAY, created_by=zelda)
    other_round = Round.objects.create(initiative=initiative, instrument=instrument,
                                       title="Autumn", opens_at=now - DAY, closes_at=now + DAY)
    RoundInvitation.objects.create(round=round_, user=zelda)
    RoundInvitation.objects.create(round=round_, user=applicant, invited_by=zelda)
    ResponseLink.objects.create(round=round_, token_hash="c" * 64, created_by=zelda)
    sent = Response.objects.create(round=round_, user=zelda, perspective=Perspective.COMMUNITY_ORG,
                                   submitted_at=now)
    indicator = next(iter(instrument.indicators))
    Answer.objects.create(response=sent, indicator=indicator, value=4,
                          note="The youth club helped set the agenda.")
    draft = Response.objects.create(round=other_round, user=zelda,
                                    perspective=Perspective.COMMUNITY_ORG)
    Answer.objects.create(response=draft, indicator=indicator, value=2)
    email_queue(subject="Your round", body="Hello", to=[EMAIL])

    # Community: an event she organises, a full one she holds a place at with someone
    # waiting, her calendar address and her subscription to the weekly news.
    EventFactory(organisation=org, created_by=zelda).organisers.add(zelda)
    full = EventFactory(organisation=other_org, capacity=1)
    Registration.objects.create(event=full, user=zelda, status=Registration.Status.CONFIRMED,
                                accessibility_needs="Step-free access please")
    Registration.objects.create(event=full, user=applicant,
                                status=Registration.Status.WAITING)
    CalendarFeed.objects.create(user=zelda, token_hash="d" * 64)
    Subscription.objects.create(email=EMAIL, status=Subscription.Status.CONFIRMED,
                                asked_at=now, confirmed_at=now)

    # Discussion spaces: a pseudonymous space she made and moderates, with her thread, post,
    # flag, decision, reveal and notification, a member she invited and an invitation of hers
    # to another space, and her pseudonym revealed once by someone else.
    space = Space.objects.create(name="Riverside circle", slug="riverside-circle",
                                 ground_rules="Be kind.", pseudonymous=True, created_by=zelda)
    other_space = Space.objects.create(name="Harbour talks", slug="harbour-talks",
                                       ground_rules="Listen.")
    hers = SpaceMembership.objects.create(space=space, user=zelda, pseudonym="Amber Heron 11",
                                          role=SpaceMembership.Role.MODERATOR,
                                          accepted_rules_at=now)
    theirs = SpaceMembership.objects.create(space=space, user=applicant, invited_by=zelda,
                                            pseudonym="Quiet Wren 22", accepted_rules_at=now)
    SpaceInvitation.objects.create(space=other_space, user=zelda)
    SpaceInvitation.objects.create(space=other_space, user=applicant, invited_by=zelda)
    thread = Thread.objects.create(space=space, title="Evenings in the park", created_by=hers)
    post = Post.objects.create(thread=thread, author=hers, body_markdown="We need lights.",
                               body_html="<p>We need lights.</p>", approved_at=now)
    reply = Post.objects.create(thread=thread, author=theirs, body_markdown="Agreed.",
                                body_html="<p>Agreed.</p>", approved_at=now)
    Flag.objects.create(post=reply, flagger=hers, reason=Flag.Reason.OFF_TOPIC)
    ModerationAction.objects.create(space=space, moderator=zelda, action="hide", post=reply,
                                    role="space", reason="Off topic")
    IdentityReveal.objects.create(space=space, membership=theirs, post=reply,
                                  revealed_by=zelda, reason="A threat was made.")
    IdentityReveal.objects.create(space=space, membership=hers, post=post,
                                  revealed_by=applicant, reason="Needed for an inquiry.")
    Notification.objects.create(user=zelda, kind=Notification.Kind.REPLY, space=space,
                                thread=thread, post=reply)

    # News she wrote as staff, and a briefing she gave for her organisation.
    news.news_create(actor=zelda, title="The hub is open", summary="Welcome.",
                     body_markdown="Welcome to the hub.", status="published")
    news.briefing_create(actor=zelda, organisation=org, title="Riverside park lighting",
                         summary="What the council said.", body_markdown="The facts.",
                         audience="public", status="published")

    # An idea she put forward and set the status of, her support, comment and removal of
    # someone else's comment; a story; funding she listed and follows; a consultation she
    # opened and one she answered; a concern she raised and her answer to another.
    idea = Idea.objects.create(title="Lights in the park", body_markdown="Please.",
                               body_html="<p>Please.</p>", author=zelda,
                               status=Idea.Status.ADOPTED, status_changed_by=zelda,
                               status_changed_at=now)
    IdeaSupport.objects.create(idea=idea, user=zelda, sector="community")
    IdeaComment.objects.create(idea=idea, author=zelda, body_markdown="Yes.",
                               body_html="<p>Yes.</p>")
    IdeaComment.objects.create(idea=idea, author=applicant, body_markdown="Spam",
                               body_html="<p>Spam</p>", removed_by=zelda, removed_at=now,
                               removed_reason="Spam")
    Story.objects.create(title="Riverside lights", slug="riverside-lights", summary="Done.",
                         organisation=org, context="Dark.", what_was_done="Lights.",
                         outcome="Safer.", evidence="Survey.", author=zelda)
    funding = FundingOpportunity.objects.create(
        title="Small grants", slug="small-grants", funder="Riverside Trust", summary="Money.",
        eligibility="Youth groups.", deadline=now + DAY, link="https://example.org/apply",
        created_by=zelda)
    FundingFollow.objects.create(opportunity=funding, user=zelda)
    consultation = Consultation.objects.create(
        organisation=org, title="Stop and search", slug="stop-and-search", summary="Views.",
        body_markdown="Proposal.", body_html="<p>Proposal.</p>", closes_at=now + DAY,
        created_by=zelda)
    question = ConsultationQuestion.objects.create(consultation=consultation, text="Why?")
    response = ConsultationResponse.objects.create(consultation=consultation, respondent=zelda)
    ConsultationAnswer.objects.create(response=response, question=question, text="Because.")
    concern = Concern.objects.create(organisation=other_org, author=zelda, title="Noise",
                                     body_markdown="Loud.", body_html="<p>Loud.</p>")
    ConcernReply.objects.create(concern=concern, author=zelda, body_markdown="Still loud.",
                                body_html="<p>Still loud.</p>")

    # A study she started and codes in, with a source, a code, a coding and a memo, and a
    # coder she added.
    study = ResearchStudy.objects.create(title="Trust in Riverside", slug="trust-riverside",
                                         created_by=zelda)
    StudyMember.objects.create(study=study, user=zelda, role=StudyMember.Role.LEAD)
    StudyMember.objects.create(study=study, user=applicant, role=StudyMember.Role.CODER,
                               added_by=zelda)
    source = ResearchSource.objects.create(study=study, title="Interview 1",
                                           text="[Participant 1]: It was fine.",
                                           created_by=zelda)
    code = ResearchCode.objects.create(study=study, name="Trust", created_by=zelda)
    coding = Coding.objects.create(source=source, code=code, start=0, end=10, coder=zelda)
    Memo.objects.create(study=study, coding=coding, author=zelda, text="Hesitant.")
    return zelda


def every_stored_text() -> str:
    """All the hub's rows, as text, to search for what must not survive."""
    parts = []
    for model in apps.get_models():
        for row in model._default_manager.all().values():
            parts.append(json.dumps(row, default=str))
    return "\n".join(parts).lower()


def test_export_holds_something_from_every_holding(person):
    data = personal_data.export(person)
    json.dumps(data)  # plain data only
    assert data["person"]["email"] == EMAIL
    for holding in HOLDINGS:
        assert data["records"].get(holding.model, {}).get(holding.field), (
            f"the fixture holds nothing for {holding.model}.{holding.field}, so the test "
            "cannot show it is exported and erased: add one to the fixture")
    assert data["records"]["members.Profile"]["user"][0]["display_name"] == NAME
    assert any(event["action"] == "membership.role" for event in data["audit_events_about_you"])
    assert data["queued_mail_to_you"] == 1
    text = json.dumps(data).lower()
    for secret in ("password", "token_hash", '"data"', "resume_hash", person.password.lower()):
        assert secret not in text


def test_erasure_leaves_nothing_that_leads_back_and_keeps_what_others_rely_on(person):
    before = {(h.model, h.field): h.rows(person).count() for h in HOLDINGS}
    kept_resources = ResourceFactory._meta.model.objects.count()
    counts = personal_data.erase(person)
    person.refresh_from_db()

    stored = every_stored_text()
    for needle in (EMAIL, NAME, "quillfeather"):
        assert needle.lower() not in stored, f"{needle!r} survived erasure"
    for holding in HOLDINGS:
        left = holding.rows(person).count()
        if holding.fate in (Fate.DELETE, Fate.UNLINK):
            assert left == 0, holding
        elif holding.fate == Fate.KEEP:
            assert left == before[(holding.model, holding.field)], holding
        for name in holding.scrub:
            assert not holding.rows(person).exclude(**{name: ""}).exists(), holding
    assert counts["members.Profile.user"] == 1

    # Her place at the full event went to the person waiting.
    assert Registration.objects.get().status == Registration.Status.CONFIRMED

    # The sent response still counts, tied to nobody; the draft is gone.
    assert not Response.objects.filter(user=person).exists()
    assert Response.objects.filter(submitted_at__isnull=False).count() == 1
    assert Response.objects.filter(submitted_at__isnull=True).count() == 0
    assert ResourceFactory._meta.model.objects.count() == kept_resources
    # Mail queued to her is gone; the person promoted into her place is told.
    assert [e.to for e in OutgoingEmail.objects.all()] == [[Registration.objects.get().user.email]]
    assert not person.is_active and not person.is_staff and not person.has_usable_password()
    assert not Profile.objects.filter(user=person).exists()
    assert AuditEvent.objects.filter(actor=person).exists()  # the trail keeps its shape

    # Her post stays, written by nobody; her place in the space and her flag are gone.
    assert Post.objects.filter(body_markdown="We need lights.", author=None).exists()
    assert not SpaceMembership.objects.filter(user=person).exists()
    assert not Flag.objects.exists()
    assert ModerationAction.objects.filter(moderator=person).exists()

    # Erasing twice does no harm.
    personal_data.erase(person)


# --- Pages ----------------------------------------------------------------------------------

def reauthenticated(client: Client) -> None:
    """Answer allauth's request for the password, as a person would."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_the_page_needs_sign_in_and_serves_applicants_too(client):
    url = reverse("members:personal_data")
    assert client.get(url).status_code == 302
    applicant = UserFactory(standing=User.Standing.APPLICANT)
    client.force_login(applicant)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Download my data" in page.content


def test_export_asks_for_the_password_again_then_downloads(client, person):
    client.force_login(person)
    url = reverse("members:personal_data_export")
    first = client.post(url)
    assert first.status_code == 302 and "reauthenticate" in first["Location"]
    reauthenticated(client)
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response.content)["person"]["email"] == EMAIL
    assert AuditEvent.objects.filter(action="person.export", actor=person).exists()
    assert client.get(url).status_code == 302  # a GET leads back to the page


def test_erasure_without_confirming_says_so_and_erases_nothing(client, person):
    client.force_login(person)
    reauthenticated(client)
    response = client.post(reverse("members:personal_data_erase"), {})
    assert response.status_code == 400
    assert b"Tick the box to confirm" in response.content
    person.refresh_from_db()
    assert person.is_active and person.email == EMAIL


def test_only_admin_is_warned_before_erasing(client, person):
    client.force_login(person)
    page = client.get(reverse("members:personal_data")).content.decode()
    assert "You are the only administrator of" in page and "Riverside Youth Trust" in page


def test_erasure_closes_the_account_and_signs_out(client, person):
    client.force_login(person)
    url = reverse("members:personal_data_erase")
    assert "reauthenticate" in client.post(url, {"confirm": "on"})["Location"]
    person.refresh_from_db()
    assert person.is_active  # nothing happened before the password was given again
    reauthenticated(client)
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 200
    assert b"Your account is closed" in response.content
    assert client.get(reverse("members:me")).status_code == 302  # signed out
    assert not Client().login(email=EMAIL, password=PASSWORD)
    event = AuditEvent.objects.get(action="person.erase")
    assert event.actor is None and event.context == {"via": "page", "by_themselves": True}
    assert AuditEvent.objects.filter(action="membership.erased",
                                     organisation__name="Riverside Youth Trust").exists()


def test_other_open_sessions_end_with_erasure(person):
    elsewhere = Client()
    elsewhere.force_login(person)
    assert elsewhere.get(reverse("members:me")).status_code == 200
    personal_data.erase(person)
    assert elsewhere.get(reverse("members:me")).status_code == 302


def test_nobody_downloads_or_erases_another_person(client, person):
    from django.core.exceptions import PermissionDenied

    from hub.members import services

    other = MembershipFactory().user
    with pytest.raises(PermissionDenied):
        services.person_export(user=person, actor=other)
    with pytest.raises(PermissionDenied):
        services.person_erase(user=person, actor=other)
    # The pages only ever act on the person signed in.
    client.force_login(other)
    reauthenticated(client)
    response = client.post(reverse("members:personal_data_export"))
    assert json.loads(response.content)["person"]["email"] == other.email
    person.refresh_from_db()
    assert person.is_active


# --- The operator's command -----------------------------------------------------------------

def test_command_erases_only_when_told_to(person):
    call_command("erase_person", EMAIL)
    person.refresh_from_db()
    assert person.is_active
    call_command("erase_person", EMAIL.upper(), "--yes")
    person.refresh_from_db()
    assert not person.is_active and person.email.endswith("@erased.invalid")
    assert AuditEvent.objects.get(action="person.erase").context["via"] == "command"
    with pytest.raises(CommandError, match="No account"):
        call_command("erase_person", "nobody@example.org", "--yes")
