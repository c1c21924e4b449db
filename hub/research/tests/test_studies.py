"""Studies, their teams, participants and registered names, through their pages."""

import pytest
from django.urls import reverse

from hub.core.models import AuditEvent
from hub.library.models import Resource, Tier
from hub.library.tests.factories import ResourceFactory
from hub.members.tests.factories import OrganisationFactory, UserFactory
from hub.research import services
from hub.research.models import Participant, Study, StudyMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(db):
    return UserFactory(profile__display_name="Lead Person")


@pytest.fixture
def study(lead):
    return services.study_create(actor=lead, title="Trust in Riverside")


def test_study_create_makes_the_creator_lead(client, lead):
    """Any member starts a study from the form and becomes its lead; the study is unlisted."""
    client.force_login(lead)
    response = client.post(reverse("research:study_new"), {
        "title": "Youth voices", "description": "What young people say.",
        "research_questions": "How is trust built?\nWho bears the risk?"})
    study = Study.objects.get(title="Youth voices")
    assert response.status_code == 302 and response["Location"] == study.get_absolute_url()
    assert StudyMember.objects.get(study=study).user == lead
    assert StudyMember.objects.get(study=study).role == "lead"
    assert not study.listed
    page = client.get(study.get_absolute_url())
    assert b"Who bears the risk?" in page.content and b"Lead Person" in page.content


def test_study_form_bad_input_keeps_what_was_typed(client, lead):
    """A missing title or a NUL character gets a message; the rest stays on the page."""
    client.force_login(lead)
    response = client.post(reverse("research:study_new"), {
        "title": "", "description": "Kept description"})
    assert response.status_code == 400 and b"Kept description" in response.content
    response = client.post(reverse("research:study_new"), {"title": "A\x00B"})
    assert response.status_code == 400
    assert not Study.objects.exists()


def test_study_edit_and_outputs_filtered_by_library_policy(client, lead, study):
    """The lead links library outputs; the overview shows each reader only outputs they may
    see in the library."""
    public = ResourceFactory(title="Public report zq")
    restricted = ResourceFactory(title="Restricted brief zq", metadata_tier=Tier.RESTRICTED,
                                 file_tier=Tier.RESTRICTED, contributor=lead)
    client.force_login(lead)
    response = client.post(reverse("research:study_edit", args=[study.slug]), {
        "title": "Trust in Riverside", "listed": "on", "outputs": [public.pk, restricted.pk]})
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.listed and set(study.outputs.all()) == {public, restricted}
    outsider = UserFactory()
    client.force_login(outsider)
    page = client.get(study.get_absolute_url()).content.decode()
    assert "Public report zq" in page and "Restricted brief zq" not in page
    assert Resource.objects.count() == 2


def test_team_add_change_remove_and_keep_one_lead(client, lead, study):
    """The lead adds by email, changes roles and removes; the last lead cannot step down or
    leave, and an unknown address gets a clear message."""
    coder = UserFactory(email="coder@example.org")
    client.force_login(lead)
    url = reverse("research:team", args=[study.slug])
    assert client.post(url, {"email": "nobody@example.org", "role": "coder"}).status_code == 400
    client.post(url, {"email": "CODER@example.org", "role": "coder"})
    member = StudyMember.objects.get(study=study, user=coder)
    assert member.role == "coder"
    again = client.post(url, {"email": "coder@example.org", "role": "viewer"})
    assert again.status_code == 400 and b"already in the team" in again.content
    mine = StudyMember.objects.get(study=study, user=lead)
    response = client.post(reverse("research:team_change", args=[study.slug, mine.pk]),
                           {"role": "viewer"}, follow=True)
    assert b"at least one lead" in response.content
    assert StudyMember.objects.get(pk=mine.pk).role == "lead"
    client.post(reverse("research:team_remove", args=[study.slug, mine.pk]))
    assert StudyMember.objects.filter(pk=mine.pk).exists()
    client.post(reverse("research:team_change", args=[study.slug, member.pk]), {"role": "lead"})
    client.post(reverse("research:team_change", args=[study.slug, mine.pk]), {"role": "viewer"})
    assert StudyMember.objects.get(pk=mine.pk).role == "viewer"
    actions = set(AuditEvent.objects.filter(context__study=study.pk).values_list("action",
                                                                                  flat=True))
    assert {"research.team.add", "research.team.role"} <= actions


def test_archive_makes_the_study_read_only_until_reopened(client, lead, study):
    """An archived study keeps its pages for the team but takes no participant or import."""
    client.force_login(lead)
    client.post(reverse("research:study_archive", args=[study.slug]), {"archive": "1"})
    study.refresh_from_db()
    assert study.status == "archived"
    assert client.get(reverse("research:participant_new", args=[study.slug])).status_code == 404
    assert client.get(study.get_absolute_url()).status_code == 200
    client.post(reverse("research:study_archive", args=[study.slug]), {"archive": "0"})
    study.refresh_from_db()
    assert study.status == "active"


def participant_data(**changes):
    data = {"code": "P07", "group": "police", "location": "Northfield",
            "attributes": "age band: 35-44\nrole: neighbourhood officer",
            "consent_date": "2026-03-01", "consent_quotation": "on"}
    data.update(changes)
    return data


def test_participant_add_edit_remove(client, lead, study):
    """Code, group, location, attributes and consent are saved; edits and removal work."""
    partner = OrganisationFactory(name="Partner Org zq", is_partner=True)
    client.force_login(lead)
    new = reverse("research:participant_new", args=[study.slug])
    response = client.post(new, participant_data(consent_sharing="on",
                                                 sharing_partners=[partner.pk]))
    assert response.status_code == 302
    p = Participant.objects.get(study=study)
    assert p.attributes == {"age band": "35-44", "role": "neighbourhood officer"}
    assert p.consent_quotation and not p.consent_archiving and p.consent_sharing
    assert list(p.sharing_partners.all()) == [partner]
    listing = client.get(reverse("research:participant_list", args=[study.slug]))
    assert b"Partner Org zq" in listing.content and b"35-44" in listing.content
    client.post(reverse("research:participant_edit", args=[study.slug, p.pk]),
                participant_data(code="P08", group="young_person"))
    p.refresh_from_db()
    assert (p.code, p.group, p.consent_sharing) == ("P08", "young_person", False)
    client.post(reverse("research:participant_delete", args=[study.slug, p.pk]))
    assert not Participant.objects.exists()


@pytest.mark.parametrize("changes,message", [
    ({"code": "Amina"}, b"at least one digit"),
    ({"code": "Amina Yusuf"}, b"at least one digit"),
    ({"code": "P<1>"}, b"Use letters, digits"),
    ({"code": "P 1\x00"}, b"Null characters"),
    ({"attributes": "no colon here"}, b"needs a name, a colon"),
    ({"consent_sharing": "on"}, b"Name at least one partner"),
    ({"consent_date": "yesterday"}, b"Enter a valid date"),
])
def test_participant_bad_input_is_refused_clearly(client, lead, study, changes, message):
    """Names as codes, malformed attributes or consent get a message; nothing is saved."""
    client.force_login(lead)
    response = client.post(reverse("research:participant_new", args=[study.slug]),
                           participant_data(**changes))
    assert response.status_code == 400 and message in response.content
    assert not Participant.objects.exists()


def test_participant_duplicate_and_registered_codes_refused(client, lead, study):
    """A code already used, or one the registry knows as a name, is refused; the first
    participant stays as it was."""
    services.participant_create(actor=lead, study=study, code="P07", group="police")
    services.registry_add(actor=lead, study=study, kind="person", names=["K9 Rex"])
    client.force_login(lead)
    url = reverse("research:participant_new", args=[study.slug])
    duplicate = client.post(url, participant_data(code="p07"))
    assert duplicate.status_code == 400 and b"already has a participant" in duplicate.content
    registered = client.post(url, participant_data(code="K9 Rex"))
    assert registered.status_code == 400 and b"registered for the study" in registered.content
    assert list(Participant.objects.values_list("code", flat=True)) == ["P07"]


def test_registry_page_keeps_hashes_and_shows_no_names(client, lead, study):
    """Registered names are kept as keyed hashes only: the page shows labels and counts, the
    study row holds no name, and a participant's label is their code."""
    p = services.participant_create(actor=lead, study=study, code="P3", group="young_person")
    client.force_login(lead)
    url = reverse("research:registry", args=[study.slug])
    response = client.post(url, {"kind": "person", "participant": p.pk,
                                 "names": "Zainab Okonkwo\nZainab\nZee"})
    assert response.status_code == 302
    client.post(url, {"kind": "place", "names": "Thornbury Rise"})
    page = client.get(url).content.decode()
    assert "P3" in page and "[Place 1]" in page
    study.refresh_from_db()
    for name in ("Zainab", "Okonkwo", "Zee", "Thornbury"):
        assert name.lower() not in page.lower()
        assert name.lower() not in study.registry.lower()
    registry, tied = services.registry_load(study)
    assert tied[registry.lookup("zainab")[1]] == "[P3]"
    empty = client.post(url, {"kind": "person", "names": "   "})
    assert empty.status_code == 400


def test_demo_loads_once_with_team_participants_and_sources():
    """The demo study has a lead, a coder and a viewer, 8 participants and 4 sources whose
    turns are attributed; loading again changes nothing."""
    from hub.members import demo as members_demo
    from hub.research import demo

    members_demo.load()
    assert demo.load() == 4
    assert demo.load() == 0
    study = Study.objects.get(title=demo.DEMO_STUDY)
    assert sorted(study.members.values_list("role", flat=True)) == ["coder", "lead", "viewer"]
    assert study.participants.count() == 8
    assert study.sources.count() == 4
    from hub.research.models import SpeakerTurn

    attributed = SpeakerTurn.objects.filter(source__study=study, participant__isnull=False)
    assert set(attributed.values_list("participant__code", flat=True)) == {
        "P01", "C01", "S01", "Y01", "Y02", "Y03", "C02"}
    focus = study.sources.get(kind="focus_group")
    assert "[Person 1]" in focus.text
