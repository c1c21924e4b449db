"""Consultation services: opening, the checks on bad input (each losing nothing), one
response per member, closing by date, "you said, we did" and its mail."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from hub.community import consult
from hub.community.consult_forms import QuestionSpec
from hub.community.models import Consultation, ConsultationResponse
from hub.core.models import OutgoingEmail
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

LATER = timedelta(days=14)


@pytest.fixture
def org():
    return OrganisationFactory(name="Northgate Police", slug="northgate", is_partner=True)


@pytest.fixture
def editor(org):
    return MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user


def make(editor, org, **fields):
    data = dict(organisation=org, title="Stop and search monitoring",
                summary="Should residents scrutinise stops?", body_markdown="**Proposal**",
                audience="members", closes_at=timezone.now() + LATER,
                questions=[QuestionSpec("Would you trust it?", True),
                           QuestionSpec("Anything else?")], open_now=True) | fields
    return consult.consultation_create(actor=editor, **data)


def test_consultation_opens_with_questions_in_order_and_sanitised_body(editor, org):
    """Opening sets opened_at; questions keep their order and required flags."""
    c = make(editor, org, body_markdown="<script>x</script> **bold**")
    assert c.status == "open" and c.opened_at is not None
    assert [(q.position, q.required) for q in c.questions.all()] == [(1, True), (2, False)]
    assert "<script>" not in c.body_html and "<strong>bold</strong>" in c.body_html


def test_draft_then_open_keeps_the_first_opening_time(editor, org):
    c = make(editor, org, open_now=False)
    assert c.status == "draft" and c.opened_at is None
    c = consult.consultation_open(actor=editor, consultation=c)
    assert c.status == "open" and c.opened_at is not None


@pytest.mark.parametrize("fields, field", [
    ({"closes_at": timezone.now() - timedelta(days=1)}, "closes_at"),
    ({"questions": []}, "questions"),
    ({"questions": [QuestionSpec(f"Q{n}") for n in range(21)]}, "questions"),
    ({"questions": [QuestionSpec("x" * 501)]}, "questions"),
    ({"title": "Bad\x00title"}, "title"),
    ({"summary": "x" * 301}, "summary"),
    ({"audience": "organisations"}, "audience_organisations"),
])
def test_bad_consultation_input_is_refused_and_nothing_is_saved(editor, org, fields, field):
    with pytest.raises(ValidationError) as error:
        make(editor, org, **fields)
    assert field in error.value.message_dict
    assert not Consultation.objects.exists()


def test_only_editors_of_a_partner_open_consultations(org):
    member = MembershipFactory(organisation=org).user
    with pytest.raises(PermissionDenied):
        make(member, org)
    other = OrganisationFactory(is_partner=False)
    editor = MembershipFactory(organisation=other, role=Membership.Role.EDITOR).user
    with pytest.raises(PermissionDenied):
        make(editor, other)


def test_questions_are_fixed_once_open(editor, org):
    c = make(editor, org)
    with pytest.raises(ValidationError) as error:
        consult.consultation_update(actor=editor, consultation=c,
                                    questions=[QuestionSpec("New")])
    assert "questions" in error.value.message_dict
    assert c.questions.count() == 2


def test_one_response_per_member_replaced_when_changed(editor, org):
    c = make(editor, org)
    q1, q2 = c.questions.all()
    member = UserFactory(profile__sector="community")
    consult.response_save(actor=member, consultation=c, answers={q1.pk: "Yes", q2.pk: "More"})
    consult.response_save(actor=member, consultation=c, answers={q1.pk: "Changed"},
                          show_name=True)
    response = ConsultationResponse.objects.get()
    assert response.sector == "community" and response.show_name
    assert [a.text for a in response.answers.all()] == ["Changed"]


def test_missing_required_answer_is_refused_and_keeps_the_old_response(editor, org):
    c = make(editor, org)
    q1, q2 = c.questions.all()
    member = UserFactory()
    consult.response_save(actor=member, consultation=c, answers={q1.pk: "First"})
    with pytest.raises(ValidationError) as error:
        consult.response_save(actor=member, consultation=c, answers={q2.pk: "Only optional"})
    assert f"q{q1.pk}" in error.value.message_dict
    assert [a.text for a in ConsultationResponse.objects.get().answers.all()] == ["First"]


@pytest.mark.parametrize("text", ["bad\x00text", "x" * 6001])
def test_nul_and_too_long_answers_are_refused(editor, org, text):
    c = make(editor, org)
    q1 = c.questions.first()
    with pytest.raises(ValidationError):
        consult.response_save(actor=UserFactory(), consultation=c, answers={q1.pk: text})
    assert not ConsultationResponse.objects.exists()


def test_responding_after_the_closing_date_is_refused(editor, org):
    c = make(editor, org)
    Consultation.objects.filter(pk=c.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="not taking responses"):
        consult.response_save(actor=UserFactory(), consultation=c,
                              answers={c.questions.first().pk: "Late"})
    assert not ConsultationResponse.objects.exists()


def test_outcome_waits_for_the_closing_date_then_mails_respondents_once(editor, org):
    c = make(editor, org)
    people = [UserFactory() for _ in range(2)]
    for person in people:
        consult.response_save(actor=person, consultation=c,
                              answers={c.questions.first().pk: "View"})
    change = consult.ChangeSpec("Choose the clips", "The panel chooses", "Trust")
    with pytest.raises(ValidationError, match="once the consultation has closed"):
        consult.outcome_publish(actor=editor, consultation=c, summary="Done", changes=[change])
    Consultation.objects.filter(pk=c.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError):
        consult.outcome_publish(actor=editor, consultation=c, summary="", changes=[])
    with pytest.raises(ValidationError):
        consult.outcome_publish(actor=editor, consultation=c, summary="x",
                                changes=[consult.ChangeSpec("Said", "")])
    OutgoingEmail.objects.all().delete()
    c = consult.outcome_publish(actor=editor, consultation=c, summary="Done", changes=[change])
    assert c.outcome_published_at is not None and c.changes.count() == 1
    assert sorted(e.to[0] for e in OutgoingEmail.objects.all()) == sorted(
        p.email for p in people)
    consult.outcome_publish(actor=editor, consultation=c, summary="Corrected", changes=[change])
    assert OutgoingEmail.objects.count() == 2


def test_withdrawn_consultation_is_final(editor, org):
    c = make(editor, org)
    consult.consultation_withdraw(actor=editor, consultation=c)
    with pytest.raises(ValidationError):
        consult.consultation_withdraw(actor=editor, consultation=c)
    with pytest.raises(ValidationError):
        consult.consultation_update(actor=editor, consultation=c, title="Again")


def test_demo_consultations_and_concerns_load_once(db):
    """The demo has an open consultation with responses from several sectors, a closed one
    with "you said, we did", and public and private concerns, some answered; loading twice
    adds nothing."""
    from hub.community import consult_demo
    from hub.community.models import Concern
    from hub.members import demo as members_demo

    members_demo.load()
    consult_demo.load()
    counts = (Consultation.objects.count(), ConsultationResponse.objects.count(),
              Concern.objects.count())
    consult_demo.load()
    assert counts == (Consultation.objects.count(), ConsultationResponse.objects.count(),
                      Concern.objects.count())
    sectors = set(ConsultationResponse.objects.values_list("sector", flat=True))
    assert len(sectors) >= 2
    closed = Consultation.objects.exclude(outcome_published_at=None).get()
    assert closed.changes.count() >= 2 and closed.closes_at < timezone.now()
    assert {c.visibility for c in Concern.objects.all()} == {"public", "private"}
    assert Concern.objects.exclude(answered_at=None).exists()
    assert Concern.objects.filter(answered_at=None).exists()
