"""A coded passage cited as evidence in an engagement assessment: shown only to those who may
read its study. The round's fixtures (org, facilitator, initiative, round_) are assessment's,
shared through this folder's conftest."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hub.assessment import selectors, services
from hub.assessment.models import Answer, Perspective
from hub.assessment.tests.test_flow import _answer_all, client_for, first_page
from hub.core.models import AuditEvent
from hub.members.tests.factories import MembershipFactory, UserFactory
from hub.research.models import Code, Coding, Source, Study, StudyMember

pytestmark = pytest.mark.django_db
PASSAGE = "We only trusted them once they came to the youth club every week."


@pytest.fixture
def coding():
    study = Study.objects.create(title="Youth and trust", slug="youth-trust")
    source = Source.objects.create(study=study, title="Interview 3",
                                   text=f"[P03]: {PASSAGE}\n")
    code = Code.objects.create(study=study, name="Trust built by contact")
    return Coding.objects.create(source=source, code=code, start=7, end=7 + len(PASSAGE))


def _join(coding, user, role="viewer"):
    StudyMember.objects.create(study=coding.source.study, user=user, role=role)


def test_a_team_member_cites_a_passage_and_only_the_team_sees_it(round_, facilitator, org,
                                                                  coding):
    community = [MembershipFactory(organisation=org).user for _ in range(3)]
    services.invite_members(facilitator, round_, [p.email for p in community])
    for person in community[1:]:
        _answer_all(round_, person, Perspective.COMMUNITY_MEMBER, 3)
    citing = community[0]
    _join(coding, citing, "coder")
    client = client_for(citing)
    client.post(reverse("assessment:respond", args=[round_.pk]),
                {"perspective": Perspective.COMMUNITY_MEMBER})
    key = first_page(round_)[0]
    page = reverse("assessment:answer", args=[round_.pk, 1])
    address = "https://hub.example.org" + coding.get_absolute_url()
    client.post(page, {f"{key}-value": "4", f"{key}-segment": address, "go": "stay"})
    assert Answer.objects.get(response__user=citing, indicator=key).coding == coding
    assert address.split("example.org")[1] in client.get(page).content.decode()
    _answer_all(round_, citing, Perspective.COMMUNITY_MEMBER, 4)
    services.save_answer(citing, round_.responses.get(user=citing), key, value=4,
                         coding=coding)

    def shown(user):
        report = selectors.initiative_report(user, round_.initiative)
        return [item.coding for item in report.evidence if item.coding]

    assert shown(facilitator) == []  # runs the initiative, but not on the study's team
    _join(coding, facilitator)
    assert shown(facilitator) == [coding]
    body = client_for(facilitator).get(
        reverse("assessment:report", args=[round_.initiative.pk])).content.decode()
    assert PASSAGE in body and "Youth and trust" in body
    StudyMember.objects.filter(user=facilitator).delete()
    body = client_for(facilitator).get(
        reverse("assessment:report", args=[round_.initiative.pk])).content.decode()
    assert PASSAGE not in body and "Youth and trust" not in body


def test_a_passage_from_someone_elses_study_cannot_be_cited(round_, facilitator, org, coding):
    person = MembershipFactory(organisation=org).user
    services.invite_members(facilitator, round_, [person.email])
    client = client_for(person)
    client.post(reverse("assessment:respond", args=[round_.pk]),
                {"perspective": Perspective.POLICE})
    key = first_page(round_)[0]
    page = reverse("assessment:answer", args=[round_.pk, 1])
    body = client.post(page, {f"{key}-value": "3", f"{key}-segment": coding.get_absolute_url(),
                              "go": "next"}).content.decode()
    assert "That coded passage cannot be found." in body
    answer = Answer.objects.get(response__user=person, indicator=key)
    assert answer.value == 3 and answer.coding is None  # the rest of the answer is kept
    body = client.post(page, {f"{key}-value": "3", f"{key}-segment": "page twelve",
                              "go": "next"}).content.decode()
    assert "Give the address of a coded passage" in body


def test_blind_coding_keeps_other_coders_passages_out_of_reach(round_, facilitator, org,
                                                                 coding):
    study = coding.source.study
    Study.objects.filter(pk=study.pk).update(blind=True)
    other, me = UserFactory(), MembershipFactory(organisation=org).user
    Coding.objects.filter(pk=coding.pk).update(coder=other)
    _join(coding, me, "coder")
    services.invite_members(facilitator, round_, [me.email])
    response = services.start_member_response(me, round_, Perspective.POLICE)
    coding = Coding.objects.select_related("source__study").get(pk=coding.pk)
    with pytest.raises(ValidationError, match="cannot be found"):
        services.save_answer(me, response, first_page(round_)[0], value=2, coding=coding)


def test_the_passage_page_is_for_the_team_and_is_logged(client, coding):
    member, outsider = UserFactory(), UserFactory()
    _join(coding, member)
    url = coding.get_absolute_url()
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(member)
    page = client.get(url)
    assert page.status_code == 200 and PASSAGE in page.content.decode()
    assert AuditEvent.objects.filter(action="research.segment.open", actor=member).exists()
    other_study = Study.objects.create(title="Other", slug="other")
    StudyMember.objects.create(study=other_study, user=member, role="lead")
    assert client.get(reverse("research:segment", args=["other", coding.pk])).status_code == 404
