"""The library's access rules as a full matrix, asked through every surface.

Nine actors × four tiers × six states of an access request, each resource carrying one secret
word in its description and another in its file. For every combination the expected answer is
written out below from the rules, not derived from the policy, and every surface is asked:
the list, the item page, the download, search results, snippets and facet counts, the feed,
citation export and OAI-PMH. A leak is any surface showing a secret word, an item or a file
to someone the table says may not have it.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub import policy
from hub.library import search, services
from hub.library.models import AccessRequest, AccessRule, Grant, Resource, Tier
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.models import Membership, User
from hub.members.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    enrol_mfa,
)

pytestmark = pytest.mark.django_db

ACTORS = ["visitor", "applicant", "member", "partner_member", "owner_member", "owner_editor",
          "approver_owner", "approver_other", "moderator", "staff", "deactivated"]
TIERS = [Tier.PUBLIC, Tier.MEMBERS, Tier.PARTNERS, Tier.RESTRICTED]
STATES = ["none", "pending", "approved", "refused", "expired", "revoked"]

OWNER_SIDE = {"owner_member", "owner_editor", "approver_owner"}
MEMBERS = {"member", "partner_member", "approver_other", "moderator", "staff"} | OWNER_SIDE
PARTNERS = {"partner_member", "approver_other", "staff"} | OWNER_SIDE


def sees_description(actor: str, tier: str, state: str) -> bool:
    """Written from the rules: who may know a published resource exists."""
    if actor in OWNER_SIDE or tier == Tier.PUBLIC:
        return True
    if tier == Tier.MEMBERS:
        return actor in MEMBERS
    if tier == Tier.PARTNERS:
        return actor in PARTNERS
    # Restricted: the owning organisation, hub staff (to curate) and people with a grant.
    return actor == "staff" or (actor in MEMBERS and state == "approved")


def opens_files(actor: str, tier: str, state: str) -> bool:
    if actor in OWNER_SIDE:
        return True
    if tier != Tier.RESTRICTED:
        return sees_description(actor, tier, state)
    # Staff do not open restricted files: the contributing partners decide who does.
    return actor in MEMBERS and state == "approved"


@dataclass
class Item:
    resource: Resource
    tier: str
    state: str
    split: bool  # public description, files on the tier

    @property
    def meta_word(self):
        return f"metaword{self.resource.pk}x"

    @property
    def body_word(self):
        return f"bodyword{self.resource.pk}x"

    def expect_description(self, actor):
        return True if self.split else sees_description(actor, self.tier, self.state)

    def expect_files(self, actor):
        return opens_files(actor, self.tier, self.state)


def build():
    owner = OrganisationFactory(name="Owner Forum", slug="owner", is_partner=True)
    other = OrganisationFactory(name="Other Partner", slug="other", is_partner=True)
    actors: dict[str, User | None] = {"visitor": None}
    actors["applicant"] = UserFactory(standing=User.Standing.APPLICANT)
    actors["member"] = UserFactory()
    actors["partner_member"] = MembershipFactory(organisation=other).user
    actors["owner_member"] = MembershipFactory(organisation=owner).user
    actors["owner_editor"] = MembershipFactory(organisation=owner,
                                               role=Membership.Role.EDITOR).user
    actors["approver_owner"] = MembershipFactory(organisation=owner,
                                                 role=Membership.Role.APPROVER).user
    actors["approver_other"] = MembershipFactory(organisation=other,
                                                 role=Membership.Role.APPROVER).user
    actors["moderator"] = UserFactory(is_moderator=True)
    actors["staff"] = UserFactory(is_staff=True)
    actors["deactivated"] = UserFactory()
    for key in ("approver_owner", "approver_other", "moderator", "staff"):
        enrol_mfa(actors[key])
    contributor = MembershipFactory(organisation=owner).user

    items = []
    for split in (False, True):
        for tier in TIERS:
            for state in STATES:
                if split and tier == Tier.PUBLIC:
                    continue
                resource = ResourceFactory(
                    organisation=owner, contributor=contributor,
                    metadata_tier=Tier.PUBLIC if split else tier, file_tier=tier)
                item = Item(resource, tier, state, split)
                Resource.objects.filter(pk=resource.pk).update(
                    title=f"Item {tier} {state} {'split' if split else 'whole'} "
                          f"{item.meta_word}",
                    abstract=f"About {item.meta_word} and trust.")
                resource.refresh_from_db()
                add_text_file(resource, f"The file says {item.body_word} and trust.",
                              name=f'file "{resource.pk}".txt')
                items.append(item)
                for user in actors.values():
                    if user is not None:
                        _give_state(resource, user, state)
    # Deactivate last, so the grants above were made while the account was active.
    User.objects.filter(pk=actors["deactivated"].pk).update(is_active=False)
    actors["deactivated"].refresh_from_db()
    return owner, other, actors, items


def _give_state(resource, user, state):
    if state == "none":
        return
    status = {"pending": AccessRequest.Status.PENDING,
              "refused": AccessRequest.Status.REFUSED}.get(state, AccessRequest.Status.APPROVED)
    request = AccessRequest.objects.create(resource=resource, requester=user,
                                           reason="For the matrix.", status=status)
    if state in ("approved", "expired", "revoked"):
        now = timezone.now()
        Grant.objects.create(
            resource=resource, user=user, request=request,
            expires_at=now - timedelta(days=1) if state == "expired" else now + timedelta(days=30),
            revoked_at=now if state == "revoked" else None)


@pytest.fixture
def matrix(db):
    return build()


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_predicates_and_querysets_agree_with_the_table(matrix):
    _, _, actors, items = matrix
    checked = 0
    for key, user in actors.items():
        if user is not None:
            policy.forget(user)
        visible = set(policy.visible_resources(user, Resource.objects.all())
                      .values_list("pk", flat=True))
        readable = set(policy.readable_resources(user, Resource.objects.all())
                       .values_list("pk", flat=True))
        for item in items:
            r = item.resource
            assert policy.can_view_resource(user, r) == item.expect_description(key), (key, item)
            assert (r.pk in visible) == item.expect_description(key), (key, item)
            assert policy.can_read_files(user, r) == item.expect_files(key), (key, item)
            assert (r.pk in readable) == item.expect_files(key), (key, item)
            checked += 4
    print(f"policy matrix: {checked} checks")


def _shape(response, path: str) -> tuple[int, str]:
    """A response with what legitimately differs between two requests taken out: the masked
    CSRF token and the address asked for."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = body.replace(path, "PATH").replace(path.replace("/", "%2F"), "PATH")
    return response.status_code, body


def _words(html: str) -> set[str]:
    return set(re.findall(r"(?:meta|body)word\d+x", html))


def test_every_surface_shows_each_actor_only_what_the_table_allows(matrix):
    owner, _, actors, items = matrix
    combos = leaks = 0
    for key, user in actors.items():
        client = client_for(user)
        missing_path = reverse("library:detail", args=[999999])
        missing_detail = _shape(client.get(missing_path), missing_path)
        missing_download = client.get(reverse("library:download", args=[999999, 1]))

        # The list: every page of the library, newest first, no query.
        listed = set()
        page = 1
        while True:
            response = client.get(reverse("library:home"), {"page": page, "sort": "title"})
            listed |= _words(response.content.decode())
            if 'rel="next"' not in response.content.decode():
                break
            page += 1

        # One search for a word every resource shares: results, facet counts and snippets.
        shared = client.get(reverse("library:home"), {"q": "trust", "organisation": "owner"})
        shared_html = shared.content.decode()
        service = search.search(user, search.Query(text="trust", per_page=100))
        service_ids = {hit.resource.pk for hit in service.hits}
        expected_ids = {i.resource.pk for i in items if i.expect_description(key)}
        assert service_ids == expected_ids, key
        assert service.total == len(expected_ids), key
        assert sum(c for _, _, c in service.facets["type"].values) == len(expected_ids), key
        assert f"{len(expected_ids):,} resource" in shared_html, key
        for hit in service.hits:
            item = next(i for i in items if i.resource.pk == hit.resource.pk)
            if not item.expect_files(key):
                assert item.body_word not in hit.snippet, (key, item)

        feed = client.get(reverse("library:feed")).content.decode()
        oai = client.get(reverse("library:oai"), {"verb": "ListRecords",
                                                  "metadataPrefix": "oai_dc"}).content.decode()
        export = client.get(reverse("library:export", args=["bib"]),
                            {"q": "trust"}).content.decode()

        for item in items:
            r = item.resource
            sees, opens = item.expect_description(key), item.expect_files(key)
            public = item.split or item.tier == Tier.PUBLIC
            file = r.files.first()
            outcomes = {
                "list": (item.meta_word in listed) == sees,
                "search_meta": _search_finds(client, item.meta_word, r) == sees,
                "search_body": _search_finds(client, item.body_word, r) == opens,
                "snippet": opens or item.body_word not in shared_html,
                "facet": _facet_count(user, item.body_word) == (1 if opens else 0),
                "feed": (item.meta_word in feed) == public,
                "oai": (item.meta_word in oai) == public,
                "export": (item.meta_word in export) == sees,
            }
            detail_path = reverse("library:detail", args=[r.pk])
            detail = client.get(detail_path)
            outcomes["detail"] = (detail.status_code == 200) == sees
            if not sees:
                outcomes["detail_like_missing"] = (
                    _shape(detail, detail_path) == missing_detail)
            else:
                outcomes["detail_no_body_word"] = (item.body_word not in detail.content.decode())
            download = client.get(reverse("library:download", args=[r.pk, file.pk]))
            outcomes["download"] = (download.status_code == 200) == opens
            if not opens:
                outcomes["download_like_missing"] = (
                    download.status_code == missing_download.status_code == 404)
            cite = client.get(reverse("library:cite", args=[r.pk, "ris"]))
            outcomes["cite"] = (cite.status_code == 200) == sees
            for surface, ok in outcomes.items():
                combos += 1
                if not ok:
                    leaks += 1
                    print("LEAK", key, item.tier, item.state, item.split, surface)
    print(f"access matrix: {combos} combinations, {leaks} deviations")
    assert leaks == 0


def _search_finds(client, word, resource) -> bool:
    html = client.get(reverse("library:home"), {"q": word}).content.decode()
    return reverse("library:detail", args=[resource.pk]) in html


def _facet_count(user, word) -> int:
    results = search.search(user, search.Query(text=word))
    return sum(count for _, _, count in results.facets["type"].values)


def test_downloads_of_files_that_are_not_public_carry_safe_headers_and_are_logged(matrix):
    _, _, actors, items = matrix
    client = client_for(actors["approver_owner"])
    for item in items:
        r, file = item.resource, item.resource.files.first()
        response = client.get(reverse("library:download", args=[r.pk, file.pk]))
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "\r" not in response["Content-Disposition"]
        assert "\n" not in response["Content-Disposition"]
        public = item.tier == Tier.PUBLIC
        if not public:
            directives = {d.strip() for d in response["Cache-Control"].split(",")}
            assert {"private", "no-store"} <= directives
            assert "public" not in directives
        logged = r.organisation.audit_events.filter(
            action="library.download", target_id=str(r.pk)).exists()
        assert logged == (not public)


def test_media_files_are_never_served_from_a_public_url(matrix, settings):
    _, _, actors, items = matrix
    stored = items[-1].resource.files.first().file.name
    response = Client().get(settings.MEDIA_URL + stored)
    assert response.status_code == 404


# --- Partner isolation and the life of a request -------------------------------------------

@pytest.fixture
def partners(db):
    a = OrganisationFactory(name="Alpha", slug="alpha", is_partner=True)
    b = OrganisationFactory(name="Beta", slug="beta", is_partner=True)
    c = OrganisationFactory(name="Gamma", slug="gamma", is_partner=True)
    people = {}
    for key, org in (("a", a), ("b", b), ("c", c)):
        people[key] = MembershipFactory(organisation=org, role=Membership.Role.APPROVER).user
        enrol_mfa(people[key])
    people["requester"] = UserFactory()
    people["staff"] = UserFactory(is_staff=True)
    enrol_mfa(people["staff"])
    resource = ResourceFactory(organisation=a, metadata_tier=Tier.PUBLIC,
                               file_tier=Tier.RESTRICTED, title="Consulted report")
    add_text_file(resource, "restricted body")
    return {"orgs": (a, b, c), "people": people, "resource": resource}


def test_one_organisations_inbox_and_log_are_invisible_to_anothers_approvers(partners):
    a, b, c = partners["orgs"]
    people, resource = partners["people"], partners["resource"]
    services.request_create(resource=resource, actor=people["requester"],
                            reason="I evaluate this programme for the council.")
    own = client_for(people["a"]).get(reverse("library:inbox")).content.decode()
    assert "Consulted report" in own
    for key in ("b", "c"):
        client = client_for(people[key])
        inbox = client.get(reverse("library:inbox")).content.decode()
        assert "Consulted report" not in inbox
        log = client.get(reverse("library:access_log")).content.decode()
        assert "Consulted report" not in log
        log = client.get(reverse("library:access_log"), {"organisation": "alpha"})
        assert "Consulted report" not in log.content.decode()
        assert client.get(reverse("library:access", args=[resource.pk])).status_code == 404
    ids = set(policy.visible_requests(people["b"], AccessRequest.objects.all())
              .values_list("pk", flat=True))
    assert ids == set()


def _download(user, resource):
    file = resource.files.first()
    return client_for(user).get(reverse("library:download", args=[resource.pk, file.pk]))


def test_request_lifecycle_under_the_organisations_own_approvers(partners, time_machine):
    a, b, c = partners["orgs"]
    people, resource = partners["people"], partners["resource"]
    requester = people["requester"]
    AccessRule.objects.filter(resource=resource).update(grant_days=30)
    access_request = services.request_create(resource=resource, actor=requester,
                                             reason="I evaluate this programme for the council.")
    assert _download(requester, resource).status_code == 404
    # Nobody outside the owning organisation decides, staff included; nobody decides alone
    # for themselves.
    for key in ("b", "c", "staff", "requester"):
        assert not policy.can_decide_request(people[key], access_request)
        response = client_for(people[key]).post(
            reverse("library:decide", args=[access_request.pk]), {"outcome": "approve"})
        assert response.status_code == 404
    client_for(people["a"]).post(reverse("library:decide", args=[access_request.pk]),
                                 {"outcome": "approve"})
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.APPROVED
    assert _download(requester, resource).status_code == 200
    grant = access_request.grant
    time_machine.move_to(timezone.now() + timedelta(days=31))
    assert _download(requester, resource).status_code == 404
    time_machine.move_to(timezone.now() - timedelta(days=31))
    assert _download(requester, resource).status_code == 200
    services.grant_revoke(grant=grant, actor=people["a"])
    assert _download(requester, resource).status_code == 404
    actions = list(resource.organisation.audit_events.filter(
        action__startswith="library.").values_list("action", flat=True))
    for action in ("library.request", "library.decide", "library.grant", "library.download",
                   "library.revoke"):
        assert action in actions


def test_consultation_two_of_three_approves_despite_one_refusal(partners, mailoutbox):
    a, b, c = partners["orgs"]
    people, resource = partners["people"], partners["resource"]
    services.access_rule_set(resource=resource, actor=people["a"], mode=AccessRule.Mode.CONSULT,
                             consulted=[a, b, c], approvals_needed=2)
    resource.refresh_from_db()
    access_request = services.request_create(resource=resource, actor=people["requester"],
                                             reason="Comparing approaches across cities.")
    client_for(people["b"]).post(reverse("library:decide", args=[access_request.pk]),
                                 {"outcome": "refuse", "reason": ""})
    assert not access_request.decisions.exists(), "a refusal without a reason is not recorded"
    client_for(people["b"]).post(reverse("library:decide", args=[access_request.pk]),
                                 {"outcome": "refuse", "reason": "Names officers in section 3."})
    client_for(people["a"]).post(reverse("library:decide", args=[access_request.pk]),
                                 {"outcome": "approve"})
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.PENDING
    assert _download(people["requester"], resource).status_code == 404
    # Organisation B has decided; it cannot decide again.
    assert not policy.can_decide_request(people["b"], access_request)
    client_for(people["c"]).post(reverse("library:decide", args=[access_request.pk]),
                                 {"outcome": "approve"})
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.APPROVED
    assert _download(people["requester"], resource).status_code == 200
    page = client_for(people["requester"]).get(reverse("library:my_requests")).content.decode()
    assert "Names officers in section 3." in page


def test_consultation_refuses_once_approvals_can_no_longer_be_reached(partners):
    a, b, c = partners["orgs"]
    people, resource = partners["people"], partners["resource"]
    services.access_rule_set(resource=resource, actor=people["a"], mode=AccessRule.Mode.CONSULT,
                             consulted=[a, b, c], approvals_needed=2)
    resource.refresh_from_db()
    access_request = services.request_create(resource=resource, actor=people["requester"],
                                             reason="Comparing approaches across cities.")
    for key in ("b", "c"):
        services.request_decide(access_request=access_request, actor=people[key],
                                outcome="refuse", reason=f"Refused by {key}.")
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.REFUSED
    assert not policy.can_decide_request(people["a"], access_request)
    assert _download(people["requester"], resource).status_code == 404
    assert resource.organisation.audit_events.filter(action="library.refuse").exists()


def test_an_approver_cannot_approve_their_own_request(partners):
    a, b, c = partners["orgs"]
    people, resource = partners["people"], partners["resource"]
    services.access_rule_set(resource=resource, actor=people["a"], mode=AccessRule.Mode.CONSULT,
                             consulted=[b, c], approvals_needed=1)
    resource.refresh_from_db()
    access_request = services.request_create(resource=resource, actor=people["b"],
                                             reason="Our own partnership review needs it.")
    assert not policy.can_decide_request(people["b"], access_request)
    response = client_for(people["b"]).post(
        reverse("library:decide", args=[access_request.pk]), {"outcome": "approve"})
    assert response.status_code == 404
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.PENDING


def test_oai_and_feed_xml_parse(matrix):
    client = Client()
    ET.fromstring(client.get(reverse("library:feed")).content)
    ET.fromstring(client.get(reverse("library:oai"), {"verb": "Identify"}).content)
