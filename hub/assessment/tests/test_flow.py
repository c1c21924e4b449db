"""Running a round from start to finish through the pages: facilitators, members and people
with private links, with bad input at each step getting a clear message and losing nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub.assessment import selectors, services
from hub.assessment.models import (
    Answer,
    Initiative,
    Instrument,
    Perspective,
    Response,
    ResponseLink,
    Round,
)
from hub.core.models import OutgoingEmail
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory

DAY = timezone.timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return OrganisationFactory(name="Northfield Police", slug="nfp", is_partner=True)


@pytest.fixture
def facilitator(org):
    return MembershipFactory(organisation=org, role=Membership.Role.MEMBER,
                             user__profile__display_name="Fran Facilitator").user


@pytest.fixture
def initiative(facilitator, org):
    return services.create_initiative(
        facilitator, name="Eastside contact scheme", area="Eastside", country="GB",
        lead_organisation=org, kind=Initiative.Kind.CONTACT_UNIT,
        description="Officers meet community groups monthly.")


@pytest.fixture
def round_(facilitator, initiative):
    now = timezone.now()
    return services.open_round(facilitator, initiative, title="Spring", opens_at=now - DAY,
                               closes_at=now + 7 * DAY)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def indicators(round_) -> list[str]:
    return list(round_.instrument.indicators)


def first_page(round_) -> list[str]:
    return [i["key"] for i in round_.instrument.dimensions[0]["indicators"]]


def test_the_repository_instrument_is_loaded_valid_and_complete(db):
    instrument = services.current_instrument()
    assert instrument.version == 1
    keys = [d["key"] for d in instrument.dimensions]
    assert keys == ["governance", "accountability", "relationships", "intelligence",
                    "partnership", "risk", "trust"]
    assert all(3 <= len(d["indicators"]) <= 6 for d in instrument.dimensions)
    assert instrument.dimensions[0]["defining"] is True
    assert len(instrument.data["scale"]) == 5


def test_a_new_version_is_checked_and_rounds_keep_theirs(round_, staff):
    source = services.current_instrument().source
    with pytest.raises(ValidationError) as error:
        services.publish_instrument(staff, source)  # same version number
    assert "version must be higher" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.publish_instrument(staff, "version: 2\ntitle: [unclosed")
    assert "not valid YAML" in str(error.value)
    broken = source.replace("version: 1", "version: 2").replace("key: trust", "key: hope")
    with pytest.raises(ValidationError) as error:
        services.publish_instrument(staff, broken)
    assert "dimensions[6].key" in str(error.value)
    v2 = services.publish_instrument(staff, source.replace("version: 1", "version: 2", 1))
    assert v2.version == 2
    round_.refresh_from_db()
    assert round_.instrument.version == 1
    later = services.open_round(staff, round_.initiative, title="Autumn",
                                opens_at=timezone.now(), closes_at=timezone.now() + DAY)
    assert later.instrument == v2


def test_publishing_page_shows_problems_and_keeps_the_text(client, staff):
    services.current_instrument()
    client.force_login(staff)
    url = reverse("assessment:instrument_publish")
    response = client.post(url, {"source": "version: 2\ntitle: x\n"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "is a required property" in body and "version: 2" in body
    assert Instrument.objects.count() == 1


def test_only_staff_publish(client, facilitator):
    client.force_login(facilitator)
    assert client.get(reverse("assessment:instrument_publish")).status_code == 404


def test_member_answers_leaves_comes_back_and_sends(round_, facilitator, org):
    respondent = MembershipFactory(organisation=org).user
    services.invite_members(facilitator, round_, [respondent.email.upper()])
    assert OutgoingEmail.objects.filter(to=[respondent.email]).exists()
    client = client_for(respondent)
    start = reverse("assessment:respond", args=[round_.pk])
    assert client.post(start, {"perspective": "nonsense"}).status_code == 200
    assert client.post(start, {"perspective": Perspective.POLICE}).status_code == 302
    page1 = reverse("assessment:answer", args=[round_.pk, 1])
    first, second = first_page(round_)[:2]
    # The page saves as answers are given (htmx), one change at a time.
    saved = client.post(page1, {f"{first}-value": "4"}, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Saved" in saved.content.decode()
    # A lost connection later loses nothing already saved: a fresh visit shows it.
    client = client_for(respondent)
    body = client.get(page1).content.decode()
    assert f'name="{first}-value" value="4" checked' in body
    client.post(page1, {f"{first}-value": "4", f"{second}-value": "dk", "go": "next"})
    review = reverse("assessment:answer", args=[round_.pk, len(round_.instrument.dimensions) + 1])
    client.post(review)
    response = Response.objects.get(round=round_, user=respondent)
    assert response.submitted_at is not None
    round_.refresh_from_db()
    assert round_.tally["police"]["n"] == 1
    assert round_.tally["police"]["items"][first] == [4, 1, 0]
    assert round_.tally["police"]["items"][second] == [0, 0, 1]


def test_a_note_with_contact_details_is_held_back_and_the_answer_kept(round_, facilitator, org):
    respondent = MembershipFactory(organisation=org).user
    services.invite_members(facilitator, round_, [respondent.email])
    client = client_for(respondent)
    client.post(reverse("assessment:respond", args=[round_.pk]),
                {"perspective": Perspective.COMMUNITY_MEMBER})
    first = first_page(round_)[0]
    page1 = reverse("assessment:answer", args=[round_.pk, 1])
    for note, kind in [("Ring me on 07700 900123 for more", "phone number"),
                       ("write to sam@example.org", "email address")]:
        response = client.post(page1, {f"{first}-value": "2", f"{first}-note": note,
                                       "go": "next"})
        body = response.content.decode()
        assert response.status_code == 400
        assert f"seems to hold {kind}" in body
        assert note.split()[-1] in body  # what was typed is still on the page
        answer = Answer.objects.get(response__user=respondent, indicator=first)
        assert answer.value == 2 and answer.note == ""
    client.post(page1, {f"{first}-value": "2", f"{first}-note": "Meetings moved online in 2024"})
    assert Answer.objects.get(response__user=respondent,
                              indicator=first).note == "Meetings moved online in 2024"


def test_bad_values_get_a_message_and_lose_nothing(round_, facilitator, org):
    respondent = MembershipFactory(organisation=org).user
    services.invite_members(facilitator, round_, [respondent.email])
    response = services.start_member_response(respondent, round_, Perspective.POLICE)
    first = first_page(round_)[0]
    services.save_answer(respondent, response, first, value=3)
    for value in ("9", "x"):
        with pytest.raises(ValidationError):
            services.save_answer(respondent, response, first, value=value)
    with pytest.raises(ValidationError):
        services.save_answer(respondent, response, "no-such-question", value=3)
    assert Answer.objects.get(response=response, indicator=first).value == 3
    client = client_for(respondent)
    page = client.post(reverse("assessment:answer", args=[round_.pk, 1]),
                       {f"{first}-value": "7", "go": "next"})
    assert page.status_code == 400 and "Choose a point on the scale" in page.content.decode()
    assert Answer.objects.get(response=response, indicator=first).value == 3
    silent = MembershipFactory(organisation=org).user
    services.invite_members(facilitator, round_, [silent.email])
    empty = services.start_member_response(silent, round_, Perspective.POLICE)
    with pytest.raises(ValidationError, match="at least one question"):
        services.submit_response(silent, empty)


def test_uninvited_members_cannot_answer(round_, org):
    outsider = MembershipFactory(organisation=org).user
    client = client_for(outsider)
    # Not being asked, they do not learn the round exists: it answers like a missing one.
    assert client.get(reverse("assessment:respond", args=[round_.pk])).status_code == 404
    assert client.get(reverse("assessment:answer", args=[round_.pk, 1])).status_code == 404


def test_a_private_link_works_once_and_its_response_is_not_tied_to_it(round_, facilitator):
    [token] = services.create_links(facilitator, round_, 1)
    assert not ResponseLink.objects.filter(token_hash=token).exists()  # only a hash is kept
    url = reverse("assessment:link", args=[token])
    visitor = Client()
    # Looking at the link (or a mail client previewing it) does not spend it.
    assert visitor.get(url).status_code == 200
    assert visitor.get(url).status_code == 200
    started = visitor.post(url, {"perspective": Perspective.YOUNG_PERSON})
    assert started.status_code == 302
    resume = started["Location"]
    assert "/assessment/a/" in resume
    link = ResponseLink.objects.get(round=round_)
    assert link.used
    response = Response.objects.get(round=round_)
    assert response.user is None and response.resume_hash
    assert {f.name for f in Response._meta.get_fields()}.isdisjoint({"link", "response_link"})
    # The same browser goes back to its answers; anyone else finds the link spent.
    assert visitor.get(url)["Location"] == resume
    other = Client()
    spent = other.get(url)
    assert spent.status_code == 410 and "has been used" in spent.content.decode()
    assert other.post(url, {"perspective": Perspective.POLICE}).status_code == 410
    assert Response.objects.filter(round=round_).count() == 1
    # The resume address works from another device, and nothing else does.
    first = first_page(round_)[0]
    assert other.post(resume, {f"{first}-value": "5", "go": "stay"}).status_code == 302
    assert Answer.objects.get(response=response).value == 5
    assert other.get("/assessment/a/not-a-key/1/").status_code == 404


def test_links_expire_with_the_round_and_can_be_withdrawn(round_, facilitator):
    tokens = services.create_links(facilitator, round_, 3)
    assert services.withdraw_unused_links(facilitator, round_) == 3
    assert Client().get(reverse("assessment:link", args=[tokens[0]])).status_code == 404
    [fresh] = services.create_links(facilitator, round_, 1)
    visitor = Client()
    resume = visitor.post(reverse("assessment:link", args=[fresh]),
                          {"perspective": Perspective.POLICE})["Location"]
    services.close_round(facilitator, round_)
    assert visitor.get(resume).status_code == 410
    with pytest.raises(ValidationError):
        services.create_links(facilitator, round_, 1)


def test_a_link_cannot_be_spent_twice_at_once(round_, facilitator):
    [token] = services.create_links(facilitator, round_, 1)
    services.start_link_response(token, Perspective.POLICE)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_link_response(token, Perspective.POLICE)


def test_facilitator_sees_counts_by_perspective_never_answers(round_, facilitator, org):
    people = [MembershipFactory(organisation=org).user for _ in range(2)]
    services.invite_members(facilitator, round_, [p.email for p in people])
    first = first_page(round_)[0]
    response = services.start_member_response(people[0], round_, Perspective.POLICE)
    services.save_answer(people[0], response, first, value=1, note="Very private remark")
    services.submit_response(people[0], response)
    [token] = services.create_links(facilitator, round_, 1)
    link_response, key = services.start_link_response(token, Perspective.YOUNG_PERSON)
    services.save_answer(None, link_response, first, value=5, resume_key=key)
    services.submit_response(None, link_response, key)
    page = client_for(facilitator).get(reverse("assessment:round", args=[round_.pk]))
    body = page.content.decode()
    assert "Police officer" in body and "Young person (16–25)" in body
    assert "Very private remark" not in body
    progress = selectors.progress(round_)
    assert [(label, s) for label, _, s in progress.by_perspective] == [
        ("Police officer", 1), ("Young person (16–25)", 1)]
    assert progress.links == {"unused": 0, "used": 1, "withdrawn": 0}
    # Two perspectives of one person each: too few to show, so results show no group at all.
    result = selectors.round_result(Round.objects.get(pk=round_.pk))
    assert result.groups == [] and result.left_out == 2


def test_reminders_go_to_those_who_have_not_sent_and_not_too_often(round_, facilitator, org):
    done, waiting = (MembershipFactory(organisation=org).user for _ in range(2))
    services.invite_members(facilitator, round_, [done.email, waiting.email])
    response = services.start_member_response(done, round_, Perspective.POLICE)
    services.save_answer(done, response, first_page(round_)[0], value=3)
    services.submit_response(done, response)
    OutgoingEmail.objects.all().delete()
    assert services.send_reminders(facilitator, round_) == 1
    assert list(OutgoingEmail.objects.values_list("to", flat=True)) == [[waiting.email]]
    with pytest.raises(ValidationError):
        services.send_reminders(facilitator, round_)


def test_inviting_reports_addresses_that_are_not_members(round_, facilitator):
    client = client_for(facilitator)
    url = reverse("assessment:round_invite", args=[round_.pk])
    bad = client.post(url, {"addresses": "not-an-address"})
    assert bad.status_code == 400 and "not email addresses" in bad.content.decode()
    page = client.post(url, {"addresses": "nobody@example.org"}, follow=True)
    assert "not members of the hub: nobody@example.org" in page.content.decode()


def test_opening_a_round_checks_its_window(initiative, facilitator):
    client = client_for(facilitator)
    url = reverse("assessment:round_new", args=[initiative.pk])
    response = client.post(url, {"title": "Bad", "opens_at": "2030-05-02T10:00",
                                 "closes_at": "2030-05-01T10:00", "min_group": 3,
                                 "divergence_threshold": 25})
    assert response.status_code == 200
    assert "must close after it opens" in response.content.decode()
    assert not Round.objects.exists()


def _answer_all(round_, person_or_key, perspective, value):
    if isinstance(person_or_key, str):
        response, key, actor = None, None, None
    else:
        response = services.start_member_response(person_or_key, round_, perspective)
        key, actor = None, person_or_key
    for indicator in indicators(round_):
        services.save_answer(actor, response, indicator, value=value, resume_key=key)
    services.submit_response(actor, response, key)


def test_report_shows_perspectives_side_by_side_and_exports(round_, facilitator, org):
    police = [MembershipFactory(organisation=org).user for _ in range(3)]
    community = [MembershipFactory(organisation=org).user for _ in range(3)]
    services.invite_members(facilitator, round_, [p.email for p in police + community])
    for person in police:
        _answer_all(round_, person, Perspective.POLICE, 5)
    for person in community:
        _answer_all(round_, person, Perspective.COMMUNITY_MEMBER, 2)
    response = services.start_member_response(community[0], round_,
                                               Perspective.COMMUNITY_MEMBER)
    services.save_answer(community[0], response, first_page(round_)[0], value=2,
                         note="Nobody asked us before it started")
    services.submit_response(community[0], response)
    client = client_for(facilitator)
    url = reverse("assessment:report", args=[round_.initiative.pk])
    body = client.get(url).content.decode()
    assert "guide for discussion, not a verdict" in body
    assert "Police officer" in body and "Community member" in body
    assert "Perspectives disagree" in body
    assert "Nobody asked us before it started" in body
    assert "<svg" in body and "<table" in body
    # Overall: (100 + 25) / 2 with equal weights
    assert "62 of 100" in body or "63 of 100" in body
    heavy = client.get(url, {"w-police": "3"}).content.decode()
    assert "with the weights you set below" in heavy
    csv = client.get(reverse("assessment:report_csv", args=[round_.initiative.pk]))
    assert csv.status_code == 200 and "Police officer" in csv.content.decode()
    compared = client.get(reverse("assessment:compare_csv"),
                          {"initiative": [round_.initiative.pk, 999]}).content.decode()
    assert "Eastside contact scheme" in compared and len(compared.strip().splitlines()) == 2
    pdf = client.get(reverse("assessment:report_pdf", args=[round_.initiative.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_results_reach_the_audience_only_when_the_round_closes(round_, facilitator, org):
    Initiative.objects.filter(pk=round_.initiative.pk).update(audience="members")
    people = [MembershipFactory(organisation=org).user for _ in range(3)]
    services.invite_members(facilitator, round_, [p.email for p in people])
    for person in people:
        _answer_all(round_, person, Perspective.POLICE, 4)
    reader = UserFactory()
    url = reverse("assessment:report", args=[round_.initiative.pk])
    assert "There are no results to show yet" in client_for(reader).get(url).content.decode()
    services.close_round(facilitator, round_)
    assert "75 of 100" in client_for(reader).get(url).content.decode()
