"""The library in a real browser: contribute, curate, publish, search, ask, decide, download."""

import pytest

from hub.library import services
from hub.library.models import AccessRequest, AccessRule, Resource
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, enrol_mfa
from hub.members.tests.test_services import run_worker
from tests.browser.conftest import assert_accessible
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def partners(db):
    alpha = OrganisationFactory(name="Alpha Forum", slug="alpha", is_partner=True)
    beta = OrganisationFactory(name="Beta Police Unit", slug="beta", is_partner=True)
    gamma = OrganisationFactory(name="Gamma Youth Network", slug="gamma", is_partner=True)
    people = {
        "contributor": MembershipFactory(organisation=alpha).user,
        "editor": MembershipFactory(organisation=alpha, role=Membership.Role.EDITOR).user,
        "requester": MembershipFactory(organisation=OrganisationFactory()).user,
        "other_requester": MembershipFactory(organisation=OrganisationFactory()).user,
    }
    secrets = {}
    for key, org in (("approver_alpha", alpha), ("approver_beta", beta),
                     ("approver_gamma", gamma)):
        people[key] = MembershipFactory(organisation=org, role=Membership.Role.APPROVER).user
        secrets[key] = enrol_mfa(people[key])
    return {"orgs": (alpha, beta, gamma), "people": people, "secrets": secrets}


def _contribute(page, tmp_path):
    page.goto("/library/")
    assert_accessible(page)
    page.get_by_role("link", name="Contribute a resource").click()
    assert_accessible(page)
    page.get_by_label("Title").fill("Listening circles after a critical incident")
    page.get_by_label("Abstract").fill(
        "How three neighbourhoods ran listening circles with officers and residents.")
    page.get_by_label("Type of resource").select_option("report")
    page.get_by_label("Year").fill("2025")
    page.get_by_label("Trust").check()
    page.get_by_label("Members of the hub").first.check()  # description tier
    page.locator("#id_file_tier").get_by_label("Restricted").check()
    upload = tmp_path / "circles.md"
    upload.write_text("# Findings\n\nResidents asked for regular lanterncircle sessions "
                      "where officers listened first.\n", encoding="utf-8")
    page.get_by_label("Files").set_input_files(str(upload))
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/edit/")
    assert_accessible(page)
    assert page.get_by_text("Waiting to be read").is_visible()
    run_worker()
    # The status table refreshes itself while extraction is pending.
    page.get_by_text("Text extracted").wait_for()
    page.get_by_role("button", name="Send for curation").click()
    page.get_by_text("Sent for curation").wait_for()
    assert_accessible(page)


def test_contribute_curate_publish_search_request_consult_and_download(
        new_page, partners, tmp_path):
    alpha, beta, gamma = partners["orgs"]
    people, secrets = partners["people"], partners["secrets"]

    contributor = new_page()
    sign_in(contributor, people["contributor"].email)
    _contribute(contributor, tmp_path)
    resource = Resource.objects.get(title__startswith="Listening circles")
    assert resource.status == Resource.Status.SUBMITTED

    editor = new_page()
    sign_in(editor, people["editor"].email)
    editor.goto("/library/curation/")
    assert_accessible(editor)
    editor.get_by_role("button", name="Publish Listening circles").click()
    editor.get_by_text("Published").first.wait_for()
    resource.refresh_from_db()
    assert resource.is_published

    # Alpha's approver asks two of three partners to decide.
    services.access_rule_set(resource=resource, actor=people["approver_alpha"],
                             mode=AccessRule.Mode.CONSULT, consulted=[alpha, beta, gamma],
                             approvals_needed=2)

    requester = new_page()
    sign_in(requester, people["requester"].email)
    requester.goto("/library/?q=listening+circles")
    assert_accessible(requester)
    requester.get_by_role("link", name="Listening circles after a critical incident").click()
    assert_accessible(requester)
    # The file's own words are not searchable by someone who cannot open it.
    requester.goto("/library/?q=lanterncircle")
    assert requester.get_by_role("heading", name="0 resources for “lanterncircle”").is_visible()
    requester.goto(f"/library/{resource.pk}/")
    requester.get_by_role("link", name="Ask for access").click()
    assert_accessible(requester)
    requester.get_by_label("Why you need it").fill(
        "I coordinate the city's listening programme and want to compare methods.")
    requester.get_by_role("button", name="Send request").click()
    requester.wait_for_url("**/requests/mine/")
    assert_accessible(requester)
    assert requester.get_by_text("Waiting for decisions").is_visible()

    for key in ("approver_beta", "approver_gamma"):
        approver = new_page()
        sign_in(approver, people[key].email, totp_secret=secrets[key])
        approver.goto("/library/requests/")
        assert_accessible(approver)
        approver.get_by_role("link", name="Decide on the request for Listening circles").click()
        assert_accessible(approver)
        approver.get_by_label("Approve").check()
        approver.get_by_role("button", name="Record the decision").click()
        approver.get_by_text("decision is recorded").wait_for()

    assert AccessRequest.objects.get().status == AccessRequest.Status.APPROVED
    requester.goto(f"/library/{resource.pk}/")
    with requester.expect_download() as download:
        requester.get_by_role("link", name="circles.md").click()
    assert download.value.suggested_filename == "circles.md"
    with open(download.value.path(), encoding="utf-8") as handle:
        assert "lanterncircle" in handle.read()
    requester.goto("/library/?q=lanterncircle")
    assert requester.get_by_role("heading", name="1 resource for “lanterncircle”").is_visible()
    assert_accessible(requester)

    owner = new_page()
    sign_in(owner, people["approver_alpha"].email, totp_secret=secrets["approver_alpha"])
    owner.goto("/library/log/")
    assert_accessible(owner)
    for action in ("Request", "Decide", "Grant", "Download"):
        assert owner.get_by_role("cell", name=action, exact=True).first.is_visible()


def test_a_refused_request_tells_the_requester_why(new_page, partners):
    alpha, beta, gamma = partners["orgs"]
    people, secrets = partners["people"], partners["secrets"]
    resource = Resource.objects.create(
        title="Debrief notes from the youth panel", abstract="Notes from a panel.",
        type=Resource.Type.REPORT, organisation=alpha, contributor=people["contributor"],
        metadata_tier="members", file_tier="restricted", status=Resource.Status.PUBLISHED,
        external_url="https://example.org/notes")
    AccessRule.objects.create(resource=resource)

    requester = new_page()
    sign_in(requester, people["other_requester"].email)
    requester.goto(f"/library/{resource.pk}/request/")
    requester.get_by_label("Why you need it").fill("Short.")
    requester.get_by_role("button", name="Send request").click()
    assert requester.get_by_text("Ensure this value has at least 10 characters").is_visible()
    assert_accessible(requester)
    requester.get_by_label("Why you need it").fill("Planning a similar panel in my borough.")
    requester.get_by_role("button", name="Send request").click()
    requester.wait_for_url("**/requests/mine/")

    approver = new_page()
    sign_in(approver, people["approver_alpha"].email, totp_secret=secrets["approver_alpha"])
    approver.goto("/library/requests/")
    approver.get_by_role("link", name="Decide on the request for Debrief notes").click()
    approver.get_by_label("Refuse").check()
    approver.get_by_role("button", name="Record the decision").click()
    assert approver.get_by_text("Give the reason for refusing").is_visible()
    assert_accessible(approver)
    approver.get_by_label("Refuse").check()
    approver.get_by_label("Reason").fill("The notes name panel members; we will share a "
                                         "summary instead.")
    approver.get_by_role("button", name="Record the decision").click()
    approver.get_by_text("decision is recorded").wait_for()

    requester.goto("/library/requests/mine/")
    assert requester.get_by_text("Refused", exact=True).is_visible()
    assert requester.get_by_text("we will share a summary instead").is_visible()
    assert_accessible(requester)
